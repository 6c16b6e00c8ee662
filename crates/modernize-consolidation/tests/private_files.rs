//! Backups hold every tenant's data and the password hashes: directories 0700 and files 0600
//! whatever the umask (a binary of its own: the umask is the whole process's).

use std::os::unix::fs::PermissionsExt;

use modernize_consolidation::PgTools;
use modernize_consolidation::backup::{self, BackupPlan};
use modernize_consolidation::legacy::{self, SeedOptions};
use sqlx::{ConnectOptions, PgPool};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[sqlx::test(migrations = false)]
async fn backups_are_private_under_umask_000(pool: PgPool) {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 2, v3_rows: 200, seed: 5, replace: false }).await.expect("seed");
    let previous = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("backups").join("estate");
    let plan = BackupPlan { tools: PgTools::new(pool.connect_options().as_ref().clone(), None), dir: dir.clone() };
    let created = backup::create(&plan).await;
    nix::sys::stat::umask(previous);
    created.expect("backup");
    let mut checked = 0;
    let mut pending = vec![dir];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
            pending.extend(std::fs::read_dir(&path).expect("list").map(|e| e.expect("entry").path()));
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 5, "{checked} paths");
}
