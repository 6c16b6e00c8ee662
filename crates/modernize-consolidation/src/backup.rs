//! The `backup` phase (seed task 1.2): a verified backup (`modernize::backup`) with a progress bar
//! and the timings the report shows. `restore` is the seed's rollback procedure.

use std::path::PathBuf;
use std::time::Instant;

pub use modernize::backup::*;
use serde::Serialize;

use crate::Progress;

/// What the backup phase did.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub dir: PathBuf,
    pub files: Vec<ManifestFile>,
    pub tables_verified: usize,
    pub rows_verified: i64,
    /// Dumps, fingerprints and manifest.
    pub dump_ms: i64,
    /// Restore into the scratch database and comparison.
    pub restore_check_ms: i64,
}

/// Dumps, writes the manifest, and proves the dump restores to the same content.
pub async fn create_and_verify(plan: &BackupPlan, progress: &Progress) -> Result<BackupSummary, BackupError> {
    let bar = progress.bar("backup", 3);
    bar.set_message("pg_dump");
    let started = Instant::now();
    let manifest = create(plan).await?;
    let dump_ms = crate::report::elapsed_ms(started);
    bar.inc(1);
    bar.set_message("restoring into a scratch database");
    let started = Instant::now();
    verify(&plan.tools, &plan.dir).await?;
    let restore_check_ms = crate::report::elapsed_ms(started);
    bar.inc(2);
    bar.finish_and_clear();
    Ok(BackupSummary {
        dir: plan.dir.clone(),
        tables_verified: manifest.tables.len(),
        rows_verified: manifest.tables.iter().map(|t| t.rows).sum(),
        files: manifest.files,
        dump_ms,
        restore_check_ms,
    })
}
