//! `modernize consolidate` killed with SIGKILL during each phase, then run again: the database is
//! left exactly as it was (the legacy database) until the one COMMIT, and the re-run completes with
//! every legacy row accounted for. A real process, killed as an operator's `kill -9` would.

use std::process::Stdio;
use std::time::Duration;

use modernize_consolidation::legacy::{self, SeedOptions};
use modernize_consolidation::{State, detect_state};
use sqlx::{ConnectOptions, PgConnection, PgPool};

/// A URL reaching the test's own database, for running the binary against it.
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let database = pool.connect_options().get_database().expect("test database name").to_owned();
    let (server, query) = base.split_once('?').map_or((base.as_str(), String::new()), |(s, q)| (s, format!("?{q}")));
    let server = server.rsplit_once('/').map_or(server, |(s, _)| s);
    format!("{server}/{database}{query}")
}

/// Every table outside the system schemas with its row count and content hash.
async fn snapshot(conn: &mut PgConnection) -> Vec<(String, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, '' ORDER BY t::text)), '') FROM {table} t"
        );
        found.push((table, sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await.expect("rows")));
    }
    found
}

/// Seeds a legacy database, starts `modernize consolidate`, SIGKILLs it as soon as one of its
/// sessions runs a statement matching `phase` (or `pg_dump` runs, for the backup), then checks the
/// database and runs the command again to completion.
async fn killed_during(pool: PgPool, phase: &str) {
    killed(pool, phase, State::Legacy).await;
}

/// `after_kill`: Legacy before the COMMIT; Consolidated after it (only migrations were pending).
async fn killed(pool: PgPool, phase: &str, after_kill: State) {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 3, v3_rows: 40_000, seed: 9, replace: false }).await.expect("seed");
    let before = snapshot(&mut conn).await;
    let url = database_url(&pool);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args(["consolidate", "--json", "--backup-dir"])
        .arg(dir.path().join("first"))
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run modernize consolidate");
    let mut caught = false;
    for _ in 0..6000 {
        let running: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
                              AND (query LIKE $1 OR application_name = $1))",
        )
        .bind(phase)
        .fetch_one(&mut conn)
        .await
        .expect("activity");
        if running {
            child.kill().await.expect("SIGKILL");
            caught = true;
            break;
        }
        if child.try_wait().expect("status").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(caught, "caught consolidate in phase {phase}");
    // The killed client's backend notices the lost connection and rolls back; wait for it to go.
    for _ in 0..3000 {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("activity");
        if others == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(detect_state(&mut conn).await.expect("state"), after_kill, "killed during {phase}");
    if after_kill == State::Legacy {
        assert_eq!(snapshot(&mut conn).await, before, "killed during {phase}: the legacy database is as it was");
    }

    let rerun = tokio::process::Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args(["consolidate", "--json", "--backup-dir"])
        .arg(dir.path().join("second"))
        .env("DATABASE_URL", &url)
        .output()
        .await
        .expect("re-run");
    assert!(rerun.status.success(), "re-run: {}", String::from_utf8_lossy(&rerun.stderr));
    let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).expect("JSON report");
    if after_kill == State::Legacy {
        assert_eq!(report["verification"]["passed"], true);
    }
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Consolidated);
    assert!(modernize::db::migrate::status(&mut conn).await.expect("status").is_current());
}

#[sqlx::test(migrations = false)]
async fn killed_during_the_upgrade_after_the_commit(pool: PgPool) {
    killed(pool, "CREATE INDEX CONCURRENTLY%", State::Consolidated).await;
}

#[sqlx::test(migrations = false)]
async fn killed_during_the_backup(pool: PgPool) {
    killed_during(pool, "pg_dump").await;
}

#[sqlx::test(migrations = false)]
async fn killed_during_migrate(pool: PgPool) {
    killed_during(pool, "INSERT INTO migration.%").await;
}

#[sqlx::test(migrations = false)]
async fn killed_during_verify(pool: PgPool) {
    killed_during(pool, "SELECT outcome, dropped_ok%").await;
}

#[sqlx::test(migrations = false)]
async fn killed_during_the_drop(pool: PgPool) {
    killed_during(pool, "%DROP SCHEMA migration_legacy CASCADE%").await;
}
