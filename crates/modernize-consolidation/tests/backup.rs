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

    backup::restore(&tools, &plan.dir, false).await.expect("restore");
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

/// Rows per table outside the system schemas, and the consolidation state: what "unchanged" means.
async fn state_of(conn: &mut PgConnection) -> (State, Vec<(String, i64)>) {
    let state = detect_state(conn).await.expect("state");
    let counts = sqlx::query_as(
        "SELECT format('%I.%I', n.nspname, c.relname), (xpath('/row/n/text()',
                query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .expect("counts");
    (state, counts)
}

async fn consolidated_with_backup(pool: &PgPool, rows: u64) -> (PgConnection, PgTools, tempfile::TempDir) {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 2, v3_rows: rows, seed: 3, replace: false }).await.expect("seed");
    let tools = PgTools::new(pool.connect_options().as_ref().clone(), None);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = BackupPlan { tools: tools.clone(), dir: dir.path().join("backup") };
    consolidate(&mut conn, &Options { backup: Some(plan), ..Options::default() }, &Progress::hidden())
        .await
        .expect("consolidate");
    (conn, tools, dir)
}

#[sqlx::test(migrations = false)]
async fn restore_refuses_over_newer_data_listing_it_unless_forced(pool: PgPool) {
    let (mut conn, tools, dir) = consolidated_with_backup(&pool, 300).await;
    sqlx::raw_sql(
        "INSERT INTO migration.client_accounts (id, name, slug) VALUES (gen_random_uuid(), 'Signed up later', 'later')",
    )
    .execute(&mut conn)
    .await
    .expect("new data");
    let before = state_of(&mut conn).await;
    let error = backup::restore(&tools, &dir.path().join("backup"), false).await.expect_err("refused");
    assert!(
        matches!(&error, BackupError::NewerData { lost, .. } if lost.iter().any(|l| l.contains("migration.client_accounts: 1 rows written"))),
        "{error}"
    );
    assert_eq!(state_of(&mut conn).await, before, "unchanged");
    backup::restore(&tools, &dir.path().join("backup"), true).await.expect("forced");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
}

#[sqlx::test(migrations = false)]
async fn restore_refuses_another_databases_backup(pool: PgPool) {
    let (mut conn, tools, dir) = consolidated_with_backup(&pool, 300).await;
    let manifest_path = dir.path().join("backup").join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    json["database"] = serde_json::json!("another_estate");
    std::fs::write(&manifest_path, json.to_string()).expect("another database's backup");
    let before = state_of(&mut conn).await;
    let error = backup::restore(&tools, &dir.path().join("backup"), false).await.expect_err("refused");
    assert!(matches!(&error, BackupError::OtherDatabase { backup_of, .. } if backup_of == "another_estate"), "{error}");
    assert_eq!(state_of(&mut conn).await, before, "unchanged");
}

#[sqlx::test(migrations = false)]
async fn a_restore_failing_on_a_conflicting_object_changes_nothing(pool: PgPool) {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 2, v3_rows: 300, seed: 3, replace: false }).await.expect("seed");
    // A table outside the consolidated schemas: in the backup, and still there when restoring.
    sqlx::raw_sql(
        "CREATE TABLE public.notes (id int PRIMARY KEY, body text); INSERT INTO public.notes VALUES (1, 'x')",
    )
    .execute(&mut conn)
    .await
    .expect("notes");
    let tools = PgTools::new(pool.connect_options().as_ref().clone(), None);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = BackupPlan { tools: tools.clone(), dir: dir.path().join("backup") };
    let options = Options { backup: Some(plan), drop_dependent_objects: false, ..Options::default() };
    consolidate(&mut conn, &options, &Progress::hidden()).await.expect("consolidate");
    let before = state_of(&mut conn).await;
    let error = backup::restore(&tools, &dir.path().join("backup"), false).await.expect_err("conflict");
    assert!(error.to_string().contains("notes"), "{error}");
    assert_eq!(state_of(&mut conn).await, before, "unchanged");
}

#[sqlx::test(migrations = false)]
async fn a_restore_killed_midway_changes_nothing(pool: PgPool) {
    let (mut conn, tools, dir) = consolidated_with_backup(&pool, 40_000).await;
    let before = state_of(&mut conn).await;
    let restoring = tokio::spawn({
        let (tools, path) = (tools.clone(), dir.path().join("backup"));
        async move { backup::restore(&tools, &path, false).await }
    });
    let mut killed = false;
    for _ in 0..2000 {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'psql'
               AND query LIKE 'COPY%' LIMIT 1",
        )
        .fetch_optional(&mut conn)
        .await
        .expect("activity");
        if let Some(pid) = pid {
            killed = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&mut conn)
                .await
                .expect("kill");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(killed, "caught the restore copying rows");
    assert!(restoring.await.expect("task").is_err(), "the killed restore fails");
    assert_eq!(state_of(&mut conn).await, before, "unchanged");
}

#[sqlx::test(migrations = false)]
async fn two_consolidations_at_once_are_serialised_before_the_backup(pool: PgPool) {
    let mut first = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut first, SeedOptions { tenants: 2, v3_rows: 2_000, seed: 3, replace: false }).await.expect("seed");
    let mut second = pool.connect_options().connect().await.expect("connection");
    let tools = PgTools::new(pool.connect_options().as_ref().clone(), None);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = |name: &str| Options {
        backup: Some(BackupPlan { tools: tools.clone(), dir: dir.path().join(name) }),
        ..Options::default()
    };
    let (a, b) = (plan("a"), plan("b"));
    // Both would take a backup and restore it into the same scratch database; the lock is taken
    // before, so the second waits, then finds the database consolidated and has nothing to do.
    let hidden = Progress::hidden();
    let (ra, rb) = tokio::join!(consolidate(&mut first, &a, &hidden), consolidate(&mut second, &b, &hidden));
    let reports = [ra.expect("first"), rb.expect("second")];
    let migrated = reports.iter().filter(|r| r.initial_state == State::Legacy).count();
    let idle = reports.iter().filter(|r| r.initial_state == State::Consolidated && r.backup.is_none()).count();
    assert_eq!((migrated, idle), (1, 1));
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM modernize.consolidation_runs")
        .fetch_one(&mut first)
        .await
        .expect("runs");
    assert_eq!(runs, 1);
}
