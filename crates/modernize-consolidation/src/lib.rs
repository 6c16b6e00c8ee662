//! Consolidation of a legacy Modernize database into the 43-table schema, with proof of zero data
//! loss (seed phase 1). docs/consolidation.md explains the phases and the policies.
//!
//! The phases: `analyze` (task 1.1), `backup` (1.2), `migrate` (1.3: one transaction that renames
//! the legacy schema, applies migration 0001 and moves every row), `verify` (row by row: each
//! source row is in its target table or in the archive, with equal content), `drop` (1.4), then the
//! remaining migrations. `consolidate` runs them, resuming wherever an earlier run stopped.

pub mod analyze;
pub mod backup;
pub mod checks;
pub mod dependents;
pub mod legacy;
pub mod migrate;
mod plan;
pub mod progress;
pub mod quarantine;
pub mod report;
pub mod verify;

use std::time::Instant;

use modernize::db::migrate::{self as schema_migrate, MigrateError};
use sqlx::{Connection, PgConnection};

pub use backup::{BackupError, PgTools};
pub use progress::Progress;
pub use report::Report;

/// Where the legacy tables live once migration 0001 has created the new `migration` schema; dropped
/// by the `drop` phase once `verify` has accounted for every row.
pub const LEGACY_SCHEMA: &str = "migration_legacy";

#[derive(Debug, thiserror::Error)]
pub enum ConsolidationError {
    #[error("database error: {}", describe(.0))]
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
    #[error("moving {source_table} into {target}: {}", describe(.error))]
    Move {
        source_table: String,
        target: String,
        #[source]
        error: sqlx::Error,
    },
    /// Objects outside the legacy tables depend on them; dropping them needs the caller's consent.
    #[error(
        "objects outside the legacy tables depend on them and would be dropped with them: {}; nothing was \
         changed. Move or drop them first, or pass --drop-dependent-objects to drop them with the legacy \
         tables (each is then named in the report)",
        .0.iter().map(|d| format!("{} (depends on {})", d.object, d.depends_on)).collect::<Vec<_>>().join(", ")
    )]
    DependentObjects(Vec<dependents::DependentObject>),
    /// Legacy rows break rules of the consolidated schema; found while planning, nothing moved.
    #[error(
        "the legacy rows cannot all move exactly; nothing was changed:\n{}",
        .0.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n")
    )]
    Refused(Vec<checks::Refusal>),
    /// The rows of a legacy table after quarantine plus those quarantined are not the rows it had.
    #[error(
        "legacy table {table} had {before} rows; {left} were verified and {moved} quarantined: the difference is \
         unaccounted for; the consolidation was rolled back and the database is as it was"
    )]
    QuarantineUnaccounted { table: String, before: i64, left: i64, moved: i64 },
    /// Verification found rows it cannot account for; the whole consolidation was rolled back.
    #[error(
        "verification failed: {} legacy rows are not accounted for ({}); the consolidation was rolled back \
         and the database is as it was",
        .0.unaccounted(), .0.summary()
    )]
    VerificationFailed(Box<verify::Verification>),
}

/// A database error as a person can act on it: PostgreSQL's message, its DETAIL (the failing key
/// and value) and HINT, and the table, column or constraint it names, but never the line of
/// PostgreSQL's C source that raised it (which sqlx's own Display appends as "at line NNNN").
pub fn describe(error: &sqlx::Error) -> String {
    let Some(db) = error.as_database_error() else {
        return error.to_string();
    };
    let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() else {
        return db.message().to_owned();
    };
    let mut text = pg.message().to_owned();
    if let Some(detail) = pg.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    if let Some(hint) = pg.hint() {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
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
    /// Run everything up to and including the drop in a transaction that is rolled back: the
    /// real run's counts and refusals, nothing changed.
    pub dry_run: bool,
    /// Take and verify a backup before migrating (required by the CLI, optional for tests).
    pub backup: Option<backup::BackupPlan>,
    /// Drop the objects outside the legacy tables that depend on them (views reading them…) with
    /// them, naming each in the report; without it such objects refuse the consolidation.
    pub drop_dependent_objects: bool,
    /// Move the legacy rows that break a rule of the consolidated schema, and the rows depending on
    /// them, into the archive (reason `quarantine`) and consolidate the rest, instead of refusing.
    pub quarantine: bool,
}

/// Rounds of quarantine: each moves the rows one refusal found (a row, then what depends on it…).
const QUARANTINE_ROUNDS: usize = 50;

/// Serialises consolidations of one database, from before the backup (its scratch database is
/// shared) to the end: held by the session, so a killed run releases it with its connection.
const CONSOLIDATION_LOCK_KEY: i64 = 0x636f_6e73_6f6c; // "consol"

/// Runs every phase still to do on this database and reports what each did.
///
/// migrate, verify, drop and the saving of the report happen in ONE transaction: a difference
/// found by verify, a refusal or a kill anywhere before its COMMIT leaves the legacy database
/// exactly as it was. Errors: [`ConsolidationError`]; `VerificationFailed` carries the keys.
pub async fn consolidate(
    conn: &mut PgConnection,
    options: &Options,
    progress: &Progress,
) -> Result<Report, ConsolidationError> {
    // Polled, not waited for inside a statement: a waiting statement holds a snapshot, which the
    // other run's CREATE INDEX CONCURRENTLY (the upgrade) would wait for in turn: a deadlock.
    let mut waiting = false;
    while !sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
        .bind(CONSOLIDATION_LOCK_KEY)
        .fetch_one(&mut *conn)
        .await?
    {
        if !waiting {
            tracing::info!("another consolidation of this database is running; waiting for it to finish");
            waiting = true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let result = locked(conn, options, progress).await;
    // A failed unlock only means the connection is gone, and the lock with it.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(CONSOLIDATION_LOCK_KEY).execute(&mut *conn).await;
    result
}

async fn locked(conn: &mut PgConnection, options: &Options, progress: &Progress) -> Result<Report, ConsolidationError> {
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
            if let Some(plan) = options.backup.as_ref().filter(|_| !options.dry_run) {
                let phase = Instant::now();
                report.backup = Some(backup::create_and_verify(plan, progress).await?);
                report.timing("backup", phase);
            }
            let mut tx = conn.begin().await?;
            let phase = Instant::now();
            let mut round = 0;
            let migration = loop {
                sqlx::raw_sql("SAVEPOINT modernize_attempt").execute(&mut *tx).await?;
                match migrate::run(&mut tx, progress, options.drop_dependent_objects).await {
                    Ok(migration) => break migration,
                    Err(ConsolidationError::Refused(refusals)) if options.quarantine && round < QUARANTINE_ROUNDS => {
                        round += 1;
                        sqlx::raw_sql("ROLLBACK TO SAVEPOINT modernize_attempt").execute(&mut *tx).await?;
                        report.quarantined.extend(quarantine::apply(&mut tx, &refusals).await?);
                    }
                    Err(error) => return Err(error),
                }
            };
            report.migration = Some(migration);
            report.timing(if options.dry_run { "migrate (rolled back)" } else { "migrate" }, phase);
            verify_drop_and_save(&mut tx, &mut report, options.dry_run, started, progress).await?;
            if options.dry_run {
                tx.rollback().await?;
                report.size_after_bytes = report.size_before_bytes;
                report.total_ms = report::elapsed_ms(started);
                return Ok(report);
            }
            tx.commit().await?;
            mark_committed(conn, &mut report).await?;
        }
        State::Migrated => {
            // Left so by an earlier version, which committed migrate before verifying.
            tracing::info!("resuming a consolidation: migrate is done, verify and drop are not");
            let mut tx = conn.begin().await?;
            verify_drop_and_save(&mut tx, &mut report, options.dry_run, started, progress).await?;
            if options.dry_run {
                tx.rollback().await?;
                report.total_ms = report::elapsed_ms(started);
                return Ok(report);
            }
            tx.commit().await?;
            mark_committed(conn, &mut report).await?;
        }
    }
    if options.dry_run {
        report.total_ms = report::elapsed_ms(started);
        return Ok(report);
    }
    let phase = Instant::now();
    report.upgraded = upgrade_compacting(conn, &mut report.compacted).await?;
    report.timing("upgrade", phase);
    if !report.upgraded.is_empty() && report.committed.is_some() {
        // The upgrade is part of this run: rows its migrations backfill (e.g. 0007's dedup keys)
        // are not data written since the consolidation, so the committed state moves past it.
        let tables = table_counts(conn).await?;
        report.committed = Some(report::Committed { xid: None, tables });
        mark_committed(conn, &mut report).await?;
    }
    report.size_after_bytes = database_size(conn).await?;
    report.total_ms = report::elapsed_ms(started);
    if let Some(run_id) = report.run_id {
        // The report saved with the drop is complete but for the upgrade and the final size.
        report.update(conn, run_id).await?;
    }
    Ok(report)
}

/// Applies the pending migrations one at a time. A migration that backfills a column rewrites every
/// row of its table (0007's dedup keys: every asset), and the table the migrate phase just filled
/// has no free space on its pages: each new row version goes to a new page, which leaves the
/// table twice its size with half of every page dead, and sequential scans read twice the pages
/// for the same rows. A table of `migration` that grew by half or more during one migration is
/// therefore rewritten compactly (`VACUUM FULL`, with fresh statistics) before the next one, while
/// it has the fewest indexes to rebuild. Only the consolidation does this: it has the database to
/// itself, a `deploy` to a live database does not. `compacted` gets the tables so rewritten.
async fn upgrade_compacting(
    conn: &mut PgConnection,
    compacted: &mut Vec<String>,
) -> Result<Vec<i64>, ConsolidationError> {
    let pending: Vec<i64> = schema_migrate::status(conn)
        .await?
        .migrations
        .iter()
        .filter(|m| m.applied_at.is_none())
        .map(|m| m.version)
        .collect();
    let mut upgraded = Vec::new();
    for version in pending {
        let before = table_sizes(conn).await?;
        upgraded.extend(schema_migrate::upgrade(conn, Some(version)).await?.into_iter().map(|s| s.version));
        for (table, size) in table_sizes(conn).await? {
            let grown = before.iter().find(|(t, _)| *t == table).is_some_and(|(_, was)| size >= was + was / 2);
            if grown && size >= COMPACT_FROM_BYTES {
                let vacuum = format!("VACUUM (FULL, ANALYZE) migration.{}", plan::quote(&table));
                sqlx::raw_sql(sqlx::AssertSqlSafe(vacuum)).execute(&mut *conn).await?;
                compacted.push(table);
            }
        }
    }
    Ok(upgraded)
}

/// Below this a grown table is left as it is: a few pages cost nothing to scan.
const COMPACT_FROM_BYTES: i64 = 1 << 20;

/// The size of every table of schema `migration` (heap only), by name.
async fn table_sizes(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.relname::text, pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND c.relkind = 'r'",
    )
    .fetch_all(conn)
    .await
}

/// Records, right after the COMMIT, the first transaction id not completed then: every row the
/// consolidation wrote (savepoints included) has an older `xmin`, a row written later this one or a
/// newer one (`restore` reads it to find newer data; without it, it compares every table instead).
async fn mark_committed(conn: &mut PgConnection, report: &mut Report) -> Result<(), ConsolidationError> {
    let xid: String =
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text").fetch_one(&mut *conn).await?;
    if let (Some(committed), Some(id)) = (report.committed.as_mut(), report.run_id) {
        committed.xid = Some(xid);
        report.update(conn, id).await?;
    }
    Ok(())
}

/// Row count of every table of schema `migration`, by name.
async fn table_counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.relname::text, (xpath('/row/n/text()',
                query_to_xml(format('SELECT count(*) AS n FROM migration.%I', c.relname), false, true, '')))[1]::text::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

/// verify, then (only if every row is accounted for) drop and save the report, all in `tx`.
async fn verify_drop_and_save(
    tx: &mut PgConnection,
    report: &mut Report,
    dry_run: bool,
    started: Instant,
    progress: &Progress,
) -> Result<(), ConsolidationError> {
    let phase = Instant::now();
    let verification = verify::run(tx, progress).await?;
    report.timing("verify", phase);
    if !verification.passed {
        return Err(ConsolidationError::VerificationFailed(Box::new(verification)));
    }
    // Quarantined rows left their legacy tables: they are accounted for by count, against the
    // exact counts analyze took before anything moved.
    for q in &report.quarantined {
        let table = q.legacy_table.as_str();
        let before = report.analysis.iter().flat_map(|a| &a.tables).find(|t| t.table == table).map_or(0, |t| t.rows);
        let moved: i64 = report.quarantined.iter().filter(|o| o.legacy_table == table).map(|o| o.rows).sum();
        let left = verification.buckets.iter().find(|b| b.source == table).map_or(0, |b| b.source_rows);
        if before != left + moved {
            return Err(ConsolidationError::QuarantineUnaccounted { table: table.to_owned(), before, left, moved });
        }
    }
    report.verification = Some(verification);
    let phase = Instant::now();
    report.dropped = drop_legacy(tx).await?;
    report.timing(if dry_run { "drop (rolled back)" } else { "drop" }, phase);
    let tables = table_counts(tx).await?;
    report.committed = Some(report::Committed { xid: None, tables });
    report.total_ms = report::elapsed_ms(started);
    report.run_id = Some(report.save(tx).await?);
    Ok(())
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
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL client_min_messages = warning; DROP SCHEMA {LEGACY_SCHEMA} CASCADE"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(dropped)
}

async fn database_size(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(conn).await
}
