//! Backups are trusted only once restored and compared; a corrupt one stops the consolidation.

use modernize_consolidation::backup::{self, BackupPlan};
use modernize_consolidation::legacy::{self, SeedOptions};
use modernize_consolidation::{
    BackupError, ConsolidationError, Options, PgTools, Progress, State, consolidate, detect_state,
};
use sqlx::{ConnectOptions, PgConnection, PgPool};

async fn seeded(pool: &PgPool) -> (PgConnection, PgTools) {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 2, v3_rows: 300, seed: 3, replace: false }).await.expect("seed");
    (conn, PgTools::new(pool.connect_options().as_ref().clone(), None))
}

#[sqlx::test(migrations = false)]
async fn a_backup_restores_to_the_same_content_and_restore_undoes_the_consolidation(pool: PgPool) {
    let (mut conn, tools) = seeded(&pool).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = BackupPlan { tools: tools.clone(), dir: dir.path().join("backup") };
    let options = Options { backup: Some(plan.clone()), ..Options::default() };
    let report = consolidate(&mut conn, &options, &Progress::hidden()).await.expect("consolidate");
    let summary = report.backup.expect("backup taken");
    assert!(summary.files.iter().any(|f| f.path == "tables/v3_field_mappings.dump"), "{:?}", summary.files);
    assert!(summary.rows_verified > 300);
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Consolidated);

    backup::restore(&tools, &plan.dir).await.expect("restore");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
    let v3: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.v3_raw_import_records")
        .fetch_one(&mut conn)
        .await
        .expect("legacy table is back");
    assert!(v3 > 200);
}

#[sqlx::test(migrations = false)]
async fn a_corrupt_backup_fails_verification(pool: PgPool) {
    let (_conn, tools) = seeded(&pool).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = BackupPlan { tools: tools.clone(), dir: dir.path().to_owned() };
    backup::create(&plan).await.expect("backup");
    backup::verify(&tools, dir.path()).await.expect("an intact backup verifies");

    // A flipped byte in the dump: its checksum no longer matches the manifest.
    let dump = dir.path().join("full.dump");
    let mut bytes = std::fs::read(&dump).expect("dump");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&dump, &bytes).expect("corrupt");
    let error = backup::verify(&tools, dir.path()).await.expect_err("corrupt dump");
    assert!(matches!(error, BackupError::Checksum { .. }), "{error}");

    // A dump that restores but to other content than the manifest recorded.
    bytes[middle] ^= 0xff;
    std::fs::write(&dump, &bytes).expect("repair");
    let manifest_path = dir.path().join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).expect("manifest");
    let mut json: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    json["tables"][0]["rows"] = serde_json::json!(999_999);
    std::fs::write(&manifest_path, json.to_string()).expect("tamper");
    let error = backup::verify(&tools, dir.path()).await.expect_err("restored content differs");
    assert!(matches!(error, BackupError::Mismatch(_)), "{error}");
}

#[sqlx::test(migrations = false)]
async fn a_failed_backup_stops_the_consolidation_before_anything_changes(pool: PgPool) {
    let (mut conn, tools) = seeded(&pool).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("old-backup.dump"), b"someone else's").expect("occupy the directory");
    let options = Options { backup: Some(BackupPlan { tools, dir: dir.path().to_owned() }), ..Options::default() };
    let error = consolidate(&mut conn, &options, &Progress::hidden()).await.expect_err("refused");
    assert!(matches!(error, ConsolidationError::Backup(BackupError::DirectoryNotEmpty(_))), "{error}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
}
