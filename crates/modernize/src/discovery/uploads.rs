//! The client files discovery keeps for its workers: `<uploads>/<random uuid>/<file name>`, each
//! directory 0700 and each file 0600 whatever the umask (a copy of a client's inventory is
//! readable by the account running modernize only), deleted once every flow that reads it has
//! completed or been cancelled and the retention time has passed (issue 11, item 6).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sqlx::PgConnection;
use uuid::Uuid;

use super::DiscoveryError;
use crate::repo::uploads::finished_uploads;
use crate::tenancy::OperatorToken;

/// How long an upload is kept after its flow completed or was cancelled, unless told otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// A directory no flow refers to is removed only after this long at least: `start` copies the
/// file before its transaction registers the flow, and that copy must not be taken for debris.
const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// A copy of a client file, and the directory holding it (one per upload).
#[derive(Debug, Clone)]
pub struct Stored {
    pub dir: PathBuf,
    pub file: PathBuf,
    pub size: u64,
}

fn private_dir(dir: &Path, recursive: bool) -> std::io::Result<()> {
    match DirBuilder::new().recursive(recursive).mode(0o700).create(dir) {
        Err(e) if !(recursive && e.kind() == ErrorKind::AlreadyExists) => return Err(e),
        _ => {}
    }
    // mode() is filtered by the umask and leaves existing directories as they were.
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
}

/// A new, empty upload `<uploads_dir>/<uuid>/<filename>` opened for writing: directories 0700,
/// the file 0600 whatever the umask. The caller fills it and records its size in
/// [`Stored::size`]; [`discard`] removes it. Errors name the path that failed.
pub fn create(uploads_dir: &Path, filename: &str) -> Result<(Stored, File), DiscoveryError> {
    let dir = uploads_dir.join(Uuid::new_v4().to_string());
    let target = dir.join(safe_filename(filename));
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| DiscoveryError::Upload { path, source }
    };
    private_dir(uploads_dir, true).map_err(failed(uploads_dir))?;
    private_dir(&dir, false).map_err(failed(&dir))?;
    let output = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target).map_err(failed(&target));
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(error);
        }
    };
    let stored = Stored { dir, file: target, size: 0 };
    if let Err(source) = output.set_permissions(Permissions::from_mode(0o600)) {
        discard(&stored);
        return Err(DiscoveryError::Upload { path: stored.file, source });
    }
    Ok((stored, output))
}

/// Copies `file` to `<uploads_dir>/<uuid>/<filename>`: directories 0700, the file 0600 (not the
/// source's mode, which `std::fs::copy` would keep). Errors name the path that failed.
pub fn store(uploads_dir: &Path, file: &Path, filename: &str) -> Result<Stored, DiscoveryError> {
    let (mut stored, mut output) = create(uploads_dir, filename)?;
    let copied = File::open(file).map_err(|source| DiscoveryError::Upload { path: file.to_owned(), source }).and_then(
        |mut input| {
            std::io::copy(&mut input, &mut output)
                .map_err(|source| DiscoveryError::Upload { path: stored.file.clone(), source })
        },
    );
    match copied {
        Ok(size) => {
            stored.size = size;
            Ok(stored)
        }
        Err(error) => {
            discard(&stored);
            Err(error)
        }
    }
}

/// Deletes an upload's directory and what it holds (an upload refused or no longer needed);
/// one already gone is no error.
pub fn discard(stored: &Stored) {
    if let Err(error) = std::fs::remove_dir_all(&stored.dir)
        && error.kind() != ErrorKind::NotFound
    {
        tracing::warn!(dir = %stored.dir.display(), %error, "could not delete an upload");
    }
}

/// A client-given file name made safe to store: its last path component (`/` or `\\`), without
/// control characters, at most 200 bytes, never `.`, `..` or empty (`upload` then). The
/// extension is kept: it tells the reader the file's format.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    let mut cut = cleaned.len().min(200);
    while !cleaned.is_char_boundary(cut) {
        cut -= 1;
    }
    // Keep the extension when the name is cut.
    let extension = Path::new(cleaned).extension().and_then(|e| e.to_str()).filter(|e| e.len() <= 10);
    let mut safe = cleaned[..cut].to_owned();
    if let Some(extension) = extension.filter(|_| cut < cleaned.len()) {
        let mut keep = cut.saturating_sub(extension.len() + 1);
        while !safe.is_char_boundary(keep) {
            keep -= 1;
        }
        safe.truncate(keep);
        safe.push('.');
        safe.push_str(extension);
    }
    match safe.as_str() {
        "" | "." | ".." => "upload".to_owned(),
        _ => safe,
    }
}

/// Removes the upload directories under `uploads_dir` whose flows have all completed or been
/// cancelled more than `retention` ago, and those no flow refers to that are older than both
/// `retention` and an hour (debris of a start that failed half-way). Uploads of running,
/// paused or failed flows (which may be retried) are kept. Returns the directories removed.
///
/// Runs across client accounts, as workers do: it is the operator's housekeeping, and reads
/// nothing of the flows but their status and the path they recorded.
pub async fn purge(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    uploads_dir: &Path,
    retention: Duration,
) -> Result<Vec<PathBuf>, DiscoveryError> {
    let entries = match std::fs::read_dir(uploads_dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        entries => entries.map_err(|source| DiscoveryError::Upload { path: uploads_dir.to_owned(), source })?,
    };
    let candidates: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_dir() && path.file_name().and_then(|n| n.to_str()).is_some_and(|n| Uuid::try_parse(n).is_ok())
        })
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let dirs: Vec<String> = candidates.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let finished = finished_uploads(conn, operator, &dirs, retention).await?;
    let orphan_age = retention.max(ORPHAN_GRACE);
    let mut removed = Vec::new();
    for (dir, status) in candidates.into_iter().zip(finished) {
        let expired = match status {
            Some(finished) => finished,
            None => std::fs::metadata(&dir)
                .and_then(|m| m.modified())
                .is_ok_and(|at| SystemTime::now().duration_since(at).is_ok_and(|age| age > orphan_age)),
        };
        if !expired {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => removed.push(dir),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err(DiscoveryError::Upload { path: dir, source }),
        }
    }
    if !removed.is_empty() {
        tracing::info!(count = removed.len(), "removed the uploads of finished discovery flows");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_file_names_cannot_leave_the_upload_directory() {
        assert_eq!(safe_filename("inventory.csv"), "inventory.csv");
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\me\\cmdb.xlsx"), "cmdb.xlsx");
        assert_eq!(safe_filename(".."), "upload");
        assert_eq!(safe_filename("dir/"), "upload");
        assert_eq!(safe_filename("a\u{1b}[31mb.csv"), "a[31mb.csv");
        let long = format!("{}.csv", "x".repeat(300));
        let safe = safe_filename(&long);
        assert!(safe.len() <= 200 && safe.ends_with(".csv"), "{safe}");
    }

    #[test]
    fn a_created_upload_is_private_and_discarded_whole() {
        let root = tempfile::tempdir().expect("dir");
        let (stored, _file) = create(&root.path().join("uploads"), "../x.csv").expect("created");
        assert_eq!(stored.file.parent(), Some(stored.dir.as_path()));
        assert_eq!(std::fs::metadata(&stored.file).expect("file").permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&stored.dir).expect("dir").permissions().mode() & 0o777, 0o700);
        discard(&stored);
        assert!(!stored.dir.exists());
    }
}
