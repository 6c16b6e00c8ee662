//! `deploy` and `rollback` (issue 17) on real PostgreSQL, each test on a fresh database: a fresh
//! database and one with data are deployed and rolled back to exactly the data they had (row
//! count and content hash of every table), a failing migration leaves the database as it was,
//! and a dry run changes nothing.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use modernize::backup::{Manifest, PgTools};
use modernize::db::Database;
use modernize::db::epoch::SchemaEpoch;
use modernize::db::migrate::{self, MIGRATIONS, Migration};
use modernize::deploy::{self, DeployError, Method, Settings};
use modernize::fixtures::{ACME, demo_tenant};
use sqlx::{PgConnection, PgPool};

/// The version a test migration takes: the next after this binary's.
fn next() -> i64 {
    migrate::latest_version() + 1
}

/// Online-safe (a concurrent index build) and reversible without loss.
fn lossless() -> Migration {
    Migration::new(
        next(),
        "deploy_test_index",
        "-- modernize:no-transaction\nCREATE INDEX CONCURRENTLY ix_assets_deploy_test ON migration.assets (name);\n",
        "-- modernize:no-transaction\n-- modernize:lossless\nDROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_deploy_test;\n",
    )
}

/// Needs maintenance (no online-safe marker) and fails half-way, after changing a table.
fn failing() -> Migration {
    Migration::new(
        next(),
        "deploy_test_fails",
        "ALTER TABLE migration.assets ADD COLUMN deploy_test integer;\nSELECT 1 / 0;\n",
        "ALTER TABLE migration.assets DROP COLUMN deploy_test;\n",
    )
}

fn with(extra: Migration) -> Vec<Migration> {
    MIGRATIONS.iter().copied().chain([extra]).collect()
}

fn database(pool: &PgPool) -> Database {
    Database::from_options(pool.connect_options().as_ref().clone())
}

fn settings<'a>(pool: &PgPool, root: &Path, migrations: &'a [Migration]) -> Settings<'a> {
    Settings {
        tools: PgTools::new(pool.connect_options().as_ref().clone(), None),
        backup_root: root.to_owned(),
        keep_backups: 2,
        migrations,
    }
}

/// Row count and an order-independent content hash of every table but `except`.
async fn fingerprints(conn: &mut PgConnection, except: &[&str]) -> BTreeMap<String, (i64, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("tables");
    let mut found = BTreeMap::new();
    for table in tables.into_iter().filter(|t| !except.contains(&t.as_str())) {
        let row: (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text
             FROM {table} t"
        )))
        .fetch_one(&mut *conn)
        .await
        .expect("fingerprint");
        found.insert(table, row);
    }
    found
}

/// The bookkeeping a deploy itself writes: its record and the maintenance flag's timestamps.
const RUN_BOOKKEEPING: [&str; 2] = ["modernize.deployments", "modernize.maintenance"];

/// A database at schema `version` holding a demo tenant and 300 assets. The fixtures write
/// through today's models, so the data goes in at the latest schema, which is then taken down to
/// `version` (an older schema lacks columns the models read back).
async fn with_data(pool: &PgPool, version: i64) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, None).await.expect("migrate");
    demo_tenant(&mut conn, common::operator(), ACME).await.expect("demo tenant");
    modernize::perf::seed_assets(&mut conn, 1, 300).await.expect("assets");
    migrate::downgrade(&mut conn, version).await.expect("down to the version");
    conn
}

fn assert_private(dir: &Path) {
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            assert_private(&path);
        } else {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[sqlx::test(migrations = false)]
async fn a_fresh_database_is_deployed_and_rolled_back_to_empty(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let before = fingerprints(&mut conn, &[]).await;
    let root = tempfile::tempdir().expect("temp dir");
    let settings = settings(&pool, &root.path().join("backups"), &MIGRATIONS);
    let db = database(&pool);

    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    assert_eq!((plan.schema_from, plan.schema_to), (0, migrate::latest_version()));
    assert_eq!(plan.pending.len(), MIGRATIONS.len());
    assert!(plan.maintenance_needed && !plan.maintenance_available, "0001 needs a window; the flag comes with 0011");
    let outcome = deploy::deploy(&db, common::operator(), &settings, &plan).await.expect("deploy");
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(outcome.deployment_id, Some(1));
    assert_eq!(outcome.schema_to, migrate::latest_version());
    let steps: Vec<&str> = outcome.steps.iter().map(|s| s.name).collect();
    assert_eq!(steps, ["preflight", "backup", "migrate", "validate", "smoke_test"]);

    let backup = outcome.backup_dir.clone().expect("backup");
    assert!(backup.starts_with(root.path().join("backups")));
    assert_private(&root.path().join("backups"));
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest")).expect("JSON");
    assert_eq!(manifest.schema_version, None);
    assert!(manifest.how_to_restore.is_some_and(|h| h.contains("modernize restore")));

    let (status, steps, migrations): (String, serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT status, steps, migrations FROM modernize.deployments WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .expect("recorded");
    assert_eq!(status, "succeeded");
    assert_eq!(steps.as_array().map(Vec::len), Some(5));
    assert!(steps[1]["ms"].as_i64().is_some());
    assert_eq!(migrations.as_array().map(Vec::len), Some(MIGRATIONS.len()));

    let plan = deploy::plan_rollback(&db, &settings, None).await.expect("rollback plan");
    assert_eq!((plan.deployment_id, plan.method, plan.schema_to), (1, Method::BackupRestore, 0));
    let outcome = deploy::rollback(&db, common::operator(), &settings, &plan).await.expect("rollback");
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(outcome.deployment_id, None, "schema 0 has no deployment record");
    assert_eq!(fingerprints(&mut conn, &[]).await, before);
}

#[sqlx::test(migrations = false)]
async fn a_database_with_data_is_rolled_back_to_exactly_its_data(pool: PgPool) {
    let mut conn = with_data(&pool, 10).await;
    let before = fingerprints(&mut conn, &[]).await;
    assert!(before.get("migration.assets").is_some_and(|(rows, _)| *rows >= 300));
    let root = tempfile::tempdir().expect("temp dir");
    let set = with(lossless());
    let settings = settings(&pool, root.path(), &set);
    let db = database(&pool);

    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    let pending: Vec<(i64, bool)> = plan.pending.iter().map(|m| (m.version, m.online_safe)).collect();
    assert_eq!(pending, (11..=next()).map(|v| (v, true)).collect::<Vec<_>>(), "all online-safe");
    assert!(!plan.maintenance_needed);
    let outcome = deploy::deploy(&db, common::operator(), &settings, &plan).await.expect("deploy");
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!((outcome.schema_from, outcome.schema_to, outcome.maintenance_ms), (10, next(), 0));
    // Written after the deploy: the restore takes it away with the rest.
    sqlx::query("UPDATE migration.assets SET name = name || '-changed' WHERE ctid IN (SELECT ctid FROM migration.assets LIMIT 5)")
        .execute(&mut *conn)
        .await
        .expect("write");

    let plan = deploy::plan_rollback(&db, &settings, outcome.deployment_id).await.expect("rollback plan");
    assert_eq!(plan.method, Method::BackupRestore, "0011 has no lossless down");
    let reverted: Vec<i64> = plan.revert.iter().map(|m| m.version).collect();
    assert_eq!(reverted, (11..=next()).rev().collect::<Vec<_>>());
    let rolled = deploy::rollback(&db, common::operator(), &settings, &plan).await.expect("rollback");
    assert!(rolled.succeeded, "{rolled:?}");
    assert_eq!(rolled.schema_to, 10);
    let smoke = rolled.steps.iter().find(|s| s.name == "smoke_test").expect("smoke test step");
    assert!(smoke.detail.starts_with("skipped: schema 10 is older"), "{smoke:?}");
    assert_eq!(fingerprints(&mut conn, &[]).await, before);
}

#[sqlx::test(migrations = false)]
async fn lossless_migrations_roll_back_with_their_down_files_and_both_runs_are_recorded(pool: PgPool) {
    let mut conn = with_data(&pool, migrate::latest_version()).await;
    let before = fingerprints(&mut conn, &RUN_BOOKKEEPING).await;
    let root = tempfile::tempdir().expect("temp dir");
    let set = with(lossless());
    let settings = settings(&pool, root.path(), &set);
    let db = database(&pool);

    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    let outcome = deploy::deploy(&db, common::operator(), &settings, &plan).await.expect("deploy");
    assert!(outcome.succeeded, "{outcome:?}");
    let deployed = outcome.deployment_id.expect("recorded");

    let plan = deploy::plan_rollback(&db, &settings, None).await.expect("rollback plan");
    assert_eq!((plan.deployment_id, plan.method), (deployed, Method::DownMigrations));
    // The down file drops an index concurrently: writes go on while it runs.
    assert!(plan.revert.iter().all(|m| m.online_safe_down) && !plan.maintenance_needed, "{plan:?}");
    let rolled = deploy::rollback(&db, common::operator(), &settings, &plan).await.expect("rollback");
    assert!(rolled.succeeded, "{rolled:?}");
    assert_eq!(rolled.maintenance_ms, 0);
    assert!(rolled.steps.iter().all(|s| !s.name.starts_with("maintenance")), "{:?}", rolled.steps);
    assert_eq!((rolled.rollback_of, rolled.schema_to), (Some(deployed), migrate::latest_version()));
    assert_eq!(fingerprints(&mut conn, &RUN_BOOKKEEPING).await, before);
    let index: bool = sqlx::query_scalar("SELECT to_regclass('migration.ix_assets_deploy_test') IS NULL")
        .fetch_one(&mut *conn)
        .await
        .expect("index");
    assert!(index, "the down file ran");

    let health = modernize::ops::health(&mut conn).await.expect("health").expect("view");
    assert_eq!(health.last_deployment_kind.as_deref(), Some("rollback"));
    assert_eq!(health.last_deployment_status.as_deref(), Some("succeeded"));
    assert!(!health.maintenance);
    let again = deploy::plan_rollback(&db, &settings, None).await.expect_err("nothing left to roll back");
    assert!(matches!(again, DeployError::NothingDeployed), "{again}");
}

#[sqlx::test(migrations = false)]
async fn a_failing_migration_stops_the_deploy_with_the_database_as_before(pool: PgPool) {
    let mut conn = with_data(&pool, migrate::latest_version()).await;
    let before = fingerprints(&mut conn, &RUN_BOOKKEEPING).await;
    let root = tempfile::tempdir().expect("temp dir");
    let set = with(failing());
    let settings = settings(&pool, root.path(), &set);
    let db = database(&pool);

    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    assert!(plan.maintenance_needed && plan.maintenance_available);
    let outcome = deploy::deploy(&db, common::operator(), &settings, &plan).await.expect("a recorded failure");
    assert!(!outcome.succeeded);
    assert_eq!(outcome.failed_step, Some("migrate"));
    assert!(outcome.error.as_deref().is_some_and(|e| e.contains("division by zero")), "{outcome:?}");
    assert!(!outcome.maintenance_left_on, "nothing was applied: writes are accepted again");
    assert!(outcome.maintenance_ms > 0);
    assert!(outcome.next.as_deref().is_some_and(|n| n.contains("as before")), "{:?}", outcome.next);
    let steps: Vec<&str> = outcome.steps.iter().map(|s| s.name).collect();
    assert_eq!(steps, ["preflight", "backup", "maintenance_on", "migrate", "maintenance_off"]);

    assert_eq!(fingerprints(&mut conn, &RUN_BOOKKEEPING).await, before);
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, error FROM modernize.deployments ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut *conn)
            .await
            .expect("recorded");
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|e| e.contains("deploy_test_fails")));
    assert!(!modernize::ops::in_maintenance(&mut conn).await.expect("flag"));
    assert_eq!(migrate::status(&mut conn).await.expect("status").current_version, migrate::latest_version());
}

#[sqlx::test(migrations = false)]
async fn a_dry_run_changes_nothing(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let root = tempfile::tempdir().expect("temp dir");
    let backups = root.path().join("backups");
    let settings = settings(&pool, &backups, &MIGRATIONS);
    let db = database(&pool);
    deploy::plan_deploy(&db, &settings).await.expect("plan on an empty database");
    let schemas: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname IN ('modernize', 'migration')")
            .fetch_one(&mut *conn)
            .await
            .expect("schemas");
    assert_eq!(schemas, 0, "not even the migration history table is created");

    drop(conn);
    let mut conn = with_data(&pool, 10).await;
    let before = fingerprints(&mut conn, &[]).await;
    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    assert_eq!(plan.pending.first().map(|m| m.version), Some(11));
    assert!(plan.steps.iter().any(|s| s.contains("apply migration 0011 operations (online-safe)")), "{:?}", plan.steps);
    assert_eq!(fingerprints(&mut conn, &[]).await, before);
    assert!(!backups.exists(), "no backup directory");
}

#[sqlx::test(migrations = false)]
async fn a_database_migrated_by_a_newer_binary_is_refused(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade_with(&mut conn, &with(lossless()), None).await.expect("newer schema");
    let root = tempfile::tempdir().expect("temp dir");
    let error =
        deploy::plan_deploy(&database(&pool), &settings(&pool, root.path(), &MIGRATIONS)).await.expect_err("refused");
    assert!(matches!(error, DeployError::NewerDatabase { version, .. } if version == next()), "{error}");
}

#[test]
fn retention_keeps_the_newest_deploy_backups_only() {
    let root = tempfile::tempdir().expect("temp dir");
    let make = |name: &str| {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).expect("dir");
        std::fs::write(dir.join("manifest.json"), "{}").expect("manifest");
    };
    for name in
        ["deploy-db-20260101T000000Z", "deploy-db-20260102T000000Z", "deploy-db-20260103T000000Z", "db-1700000000"]
    {
        make(name);
    }
    let pruned = deploy::prune_backups(root.path(), 2).expect("prune");
    assert_eq!(pruned, [root.path().join("deploy-db-20260101T000000Z")]);
    assert!(root.path().join("db-1700000000").exists(), "a consolidation backup is never pruned");
    assert!(root.path().join("deploy-db-20260103T000000Z").exists());
}

/// A `serve` left running through a rollback that restores the backup: its pooled connections
/// prepared statements against the schema the restore replaced. A pool following a
/// [`SchemaEpoch`] replaces them once the change is seen; a plain pool keeps failing.
#[sqlx::test(migrations = false)]
async fn pooled_connections_are_replaced_after_a_restore(pool: PgPool) {
    let _conn = with_data(&pool, 10).await;
    let root = tempfile::tempdir().expect("temp dir");
    let set = with(lossless());
    let settings = settings(&pool, root.path(), &set);
    let db = database(&pool);
    let plan = deploy::plan_deploy(&db, &settings).await.expect("plan");
    let outcome = deploy::deploy(&db, common::operator(), &settings, &plan).await.expect("deploy");
    assert!(outcome.succeeded, "{outcome:?}");

    let epoch = SchemaEpoch::new();
    let following = db.pool_following(1, &epoch).await.expect("pool");
    let plain = db.pool(1).await.expect("pool");
    assert!(!epoch.check(&following).await.expect("first look"), "the first look sets the baseline");
    // An enum column: a restore re-creates its type with a new id.
    let read = "SELECT asset_type, status FROM migration.assets ORDER BY id LIMIT 3";
    for pool in [&following, &plain] {
        assert_eq!(sqlx::query(read).fetch_all(pool).await.expect("read before").len(), 3);
    }

    let plan = deploy::plan_rollback(&db, &settings, outcome.deployment_id).await.expect("rollback plan");
    assert_eq!(plan.method, Method::BackupRestore);
    let rolled = deploy::rollback(&db, common::operator(), &settings, &plan).await.expect("rollback");
    assert!(rolled.succeeded, "{rolled:?}");

    let stale = sqlx::query(read).fetch_all(&plain).await.expect_err("a connection of before the restore");
    assert!(stale.to_string().contains("cached plan must not change result type"), "{stale}");
    assert!(epoch.check(&following).await.expect("second look"), "the restore is seen");
    assert_eq!(sqlx::query(read).fetch_all(&following).await.expect("read after").len(), 3);
    assert!(!epoch.check(&following).await.expect("third look"), "seen once");
}
