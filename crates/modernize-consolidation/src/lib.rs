//! Consolidation of a legacy Modernize database into the 43-table schema, with proof of zero data
//! loss (seed phase 1). docs/consolidation.md explains the phases and the policies.
//!
//! The phases: `analyze` (task 1.1), `backup` (1.2), `migrate` (1.3: one transaction that renames
//! the legacy schema, applies migration 0001 and moves every row), `verify` (row by row: each
//! source row is in its target table or in the archive, with equal content), `drop` (1.4), then the
//! remaining migrations. `consolidate` runs them, resuming wherever an earlier run stopped.

pub mod analyze;
pub mod backup;
pub mod legacy;
pub mod migrate;
mod plan;
pub mod progress;
pub mod report;
pub mod verify;

use std::time::Instant;

use modernize::db::migrate::{self as schema_migrate, MigrateError};
use sqlx::PgConnection;

pub use backup::{BackupError, PgTools};
pub use progress::Progress;
pub use report::Report;

/// Where the legacy tables live once migration 0001 has created the new `migration` schema; dropped
/// by the `drop` phase once `verify` has accounted for every row.
pub const LEGACY_SCHEMA: &str = "migration_legacy";

#[derive(Debug, thiserror::Error)]
pub enum ConsolidationError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("another consolidation got there first: the database is now {0:?}")]
    NotLegacy(State),
    #[error("nothing to consolidate: the database has no schema `migration`")]
    NothingToConsolidate,
    #[error(
        "schema {LEGACY_SCHEMA} exists but migration 0001 is not recorded: the database was changed by hand; \
         restore it from the backup"
    )]
    Inconsistent,
    #[error("legacy table migration.{table} cannot be moved: {reason}")]
    UnsupportedLegacyTable { table: String, reason: String },
    #[error("moving {source_table} into {target}: {error}")]
    Move {
        source_table: String,
        target: String,
        #[source]
        error: sqlx::Error,
    },
    #[error("verification failed: {0} source rows are not accounted for; the legacy schema is kept (see the report)")]
    VerificationFailed(u64),
}

/// Where a database stands in the consolidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No `migration` schema at all.
    Empty,
    /// Legacy tables in `migration`, migration 0001 not recorded: `migrate` comes next.
    Legacy,
    /// Migrated, legacy schema still there: `verify` and `drop` come next.
    Migrated,
    /// Nothing left to consolidate (pending migrations, if any, are applied by `upgrade`).
    Consolidated,
}

pub async fn detect_state(conn: &mut PgConnection) -> Result<State, ConsolidationError> {
    let (has_domain, has_legacy, has_history): (bool, bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'migration'),
                EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
                to_regclass('modernize.schema_migrations') IS NOT NULL",
    )
    .bind(LEGACY_SCHEMA)
    .fetch_one(&mut *conn)
    .await?;
    let has_v1 = has_history
        && sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM modernize.schema_migrations WHERE version = 1)")
            .fetch_one(&mut *conn)
            .await?;
    Ok(match (has_v1, has_legacy, has_domain) {
        (true, true, _) => State::Migrated,
        (true, false, _) => State::Consolidated,
        (false, true, _) => return Err(ConsolidationError::Inconsistent),
        (false, false, true) => State::Legacy,
        (false, false, false) => State::Empty,
    })
}

/// What `consolidate` should do besides the phases that always run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run `migrate` in a transaction that is rolled back: exact counts, nothing changed.
    pub dry_run: bool,
    /// Take and verify a backup before migrating (required by the CLI, optional for tests).
    pub backup: Option<backup::BackupPlan>,
}

/// Runs every phase still to do on this database and reports what each did.
pub async fn consolidate(
    conn: &mut PgConnection,
    options: &Options,
    progress: &Progress,
) -> Result<Report, ConsolidationError> {
    let started = Instant::now();
    let state = detect_state(conn).await?;
    let mut report = Report::new(state, options.dry_run);
    report.size_before_bytes = database_size(conn).await?;
    match state {
        State::Empty => return Err(ConsolidationError::NothingToConsolidate),
        State::Consolidated => {}
        State::Legacy => {
            let phase = Instant::now();
            report.analysis = Some(analyze::analyze(conn, "migration").await?);
            report.timing("analyze", phase);
            if options.dry_run {
                let phase = Instant::now();
                report.migration = Some(migrate::dry_run(conn, progress).await?);
                report.timing("migrate (rolled back)", phase);
                report.size_after_bytes = report.size_before_bytes;
                report.total_ms = report::elapsed_ms(started);
                return Ok(report);
            }
            if let Some(plan) = &options.backup {
                let phase = Instant::now();
                report.backup = Some(backup::create_and_verify(plan, progress).await?);
                report.timing("backup", phase);
            }
            let phase = Instant::now();
            report.migration = Some(migrate::migrate(conn, progress).await?);
            report.timing("migrate", phase);
        }
        State::Migrated => {
            tracing::info!("resuming a consolidation: migrate is done, verify and drop are not");
        }
    }
    if options.dry_run {
        report.total_ms = report::elapsed_ms(started);
        return Ok(report);
    }
    if state != State::Consolidated {
        let phase = Instant::now();
        let verification = verify::verify(conn, progress).await?;
        report.timing("verify", phase);
        let unaccounted = verification.unaccounted();
        report.verification = Some(verification);
        if unaccounted > 0 {
            report.total_ms = report::elapsed_ms(started);
            report.save(conn).await?;
            return Err(ConsolidationError::VerificationFailed(unaccounted));
        }
        let phase = Instant::now();
        report.dropped = drop_legacy(conn).await?;
        report.timing("drop", phase);
    }
    let phase = Instant::now();
    report.upgraded = schema_migrate::upgrade(conn, None).await?.into_iter().map(|s| s.version).collect();
    report.timing("upgrade", phase);
    report.size_after_bytes = database_size(conn).await?;
    report.total_ms = report::elapsed_ms(started);
    if state != State::Consolidated {
        report.save(conn).await?;
    }
    Ok(report)
}

/// Task 1.4: the legacy schema holds the old-shape, v3 and deprecated tables and their sequences.
async fn drop_legacy(conn: &mut PgConnection) -> Result<Vec<String>, ConsolidationError> {
    let dropped: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname || CASE c.relkind WHEN 'S' THEN ' (sequence)' ELSE '' END
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'S') ORDER BY c.relkind, c.relname",
    )
    .bind(LEGACY_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {LEGACY_SCHEMA} CASCADE"))).execute(&mut *conn).await?;
    Ok(dropped)
}

async fn database_size(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(conn).await
}
