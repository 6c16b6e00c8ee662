//! The `migrate` phase (seed task 1.3 done losslessly), in ONE transaction:
//!
//! 1. `ALTER SCHEMA migration RENAME TO migration_legacy`, then migration 0001 creates the new
//!    schema, so the result is a freshly migrated catalog by construction;
//! 2. every bucket of `plan::BUCKETS`, in foreign-key order: rows whose key is already in the
//!    target are compared (identical: already present; different: a conflict, archived verbatim),
//!    the others inserted; a row refused by another unique key is archived as a conflict too;
//!    dropped values are archived; deprecated tables are archived whole;
//! 3. the is_mock policy: flagged rows and every tenant row that references them are moved from
//!    the target into the archive;
//! 4. migration 0001 is recorded as applied.
//!
//! A kill at any point before COMMIT leaves the legacy database untouched; after it, `verify`
//! and `drop` are what remains, and `consolidate` resumes there.

use serde::Serialize;
use sqlx::{Connection, PgConnection};

use modernize::db::migrate::{self as schema_migrate, MIGRATIONS};

use crate::plan::{self, Resolved, quote};
use crate::{ConsolidationError, LEGACY_SCHEMA, Progress, State};

/// Serialises consolidations of one database.
const CONSOLIDATION_LOCK_KEY: i64 = 0x636f_6e73_6f6c; // "consol"

/// The archive and run history, in the tool's bookkeeping schema (never in `migration`).
const BOOKKEEPING_SQL: &str = "
SET LOCAL client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS modernize;
CREATE TABLE IF NOT EXISTS modernize.consolidation_archive (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reason text NOT NULL
        CHECK (reason IN ('conflict', 'is_mock', 'mock_dependent', 'dropped_values', 'deprecated')),
    source_table text,
    target_table text,
    row_key jsonb NOT NULL,
    row_data jsonb NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE modernize.consolidation_archive IS
    'Every legacy row (or value) the consolidation did not put into the domain schema, and why: nothing is deleted silently.';
COMMENT ON COLUMN modernize.consolidation_archive.source_table IS
    'Legacy table the row was read from; NULL for a row moved out of target_table by the is_mock policy.';
COMMENT ON COLUMN modernize.consolidation_archive.row_data IS
    'The legacy row (conflict, deprecated), the consolidated row (is_mock, mock_dependent) or the dropped columns.';
CREATE INDEX IF NOT EXISTS ix_consolidation_archive_source ON modernize.consolidation_archive (source_table, row_key);
CREATE INDEX IF NOT EXISTS ix_consolidation_archive_target ON modernize.consolidation_archive (target_table, row_key);
CREATE TABLE IF NOT EXISTS modernize.consolidation_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finished_at timestamptz NOT NULL DEFAULT now(),
    report jsonb NOT NULL
);
COMMENT ON TABLE modernize.consolidation_runs IS 'The report of each consolidation run (modernize consolidate --json).';
";

/// What migrate did with one legacy table.
#[derive(Debug, Clone, Serialize)]
pub struct BucketMoves {
    pub source: String,
    pub target: Option<String>,
    pub source_rows: i64,
    pub inserted: i64,
    pub already_present: i64,
    pub conflicts: i64,
    pub deprecated_archived: i64,
    pub dropped_values_archived: i64,
}

/// Rows the is_mock policy moved out of one consolidated table.
#[derive(Debug, Clone, Serialize)]
pub struct MockMoves {
    pub table: String,
    pub flagged: i64,
    pub dependents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationSummary {
    pub buckets: Vec<BucketMoves>,
    pub mock: Vec<MockMoves>,
    pub archived_rows: i64,
}

pub async fn migrate(conn: &mut PgConnection, progress: &Progress) -> Result<MigrationSummary, ConsolidationError> {
    let mut tx = conn.begin().await?;
    let summary = run(&mut tx, progress).await?;
    tx.commit().await?;
    Ok(summary)
}

/// The same work, rolled back: exact counts, nothing changed.
pub async fn dry_run(conn: &mut PgConnection, progress: &Progress) -> Result<MigrationSummary, ConsolidationError> {
    let mut tx = conn.begin().await?;
    let summary = run(&mut tx, progress).await?;
    tx.rollback().await?;
    Ok(summary)
}

async fn run(tx: &mut PgConnection, progress: &Progress) -> Result<MigrationSummary, ConsolidationError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CONSOLIDATION_LOCK_KEY).execute(&mut *tx).await?;
    // Another run may have finished while we waited for the lock.
    let state = crate::detect_state(tx).await?;
    if state != State::Legacy {
        return Err(ConsolidationError::NotLegacy(state));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER SCHEMA migration RENAME TO {LEGACY_SCHEMA}")))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(MIGRATIONS[0].up_sql()).execute(&mut *tx).await?;
    sqlx::raw_sql(BOOKKEEPING_SQL).execute(&mut *tx).await?;
    sqlx::raw_sql(
        "CREATE TEMP TABLE mock_rows (table_name text, row_key jsonb, depth int, PRIMARY KEY (table_name, row_key))
         ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;

    let buckets = plan::resolve_all(tx).await?;
    let bar = progress.bar("migrate", buckets.len() as u64);
    let mut moves = Vec::with_capacity(buckets.len());
    for bucket in &buckets {
        bar.set_message(bucket.source);
        let moved = match bucket.target {
            Some(_) => move_bucket(tx, bucket).await,
            None => archive_deprecated(tx, bucket).await,
        };
        moves.push(moved.map_err(|error| ConsolidationError::Move {
            source_table: bucket.source.to_owned(),
            target: bucket.target.unwrap_or("archive").to_owned(),
            error,
        })?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    for bucket in buckets.iter().filter(|b| b.columns.iter().any(|c| c.deferred)) {
        fill_deferred(tx, bucket).await?;
    }
    let mock = apply_mock_policy(tx).await?;
    for target in moves.iter().filter(|m| m.inserted > 0).filter_map(|m| m.target.as_deref()) {
        // Fresh statistics for verify's plans; cheap next to the inserts.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE migration.{}", quote(target)))).execute(&mut *tx).await?;
    }
    schema_migrate::record_applied(tx, MIGRATIONS[0].version).await?;
    let archived_rows =
        sqlx::query_scalar("SELECT count(*) FROM modernize.consolidation_archive").fetch_one(&mut *tx).await?;
    Ok(MigrationSummary { buckets: moves, mock, archived_rows })
}

async fn move_bucket(tx: &mut PgConnection, b: &Resolved) -> Result<BucketMoves, sqlx::Error> {
    let (source, target) = (b.source_table(), b.target_table().unwrap_or_default());
    let (source_name, target_name) = (b.source, b.target.unwrap_or_default());
    let source_rows: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {source}"))).fetch_one(&mut *tx).await?;

    // Rows whose key is taken: identical content is already there, anything else is a conflict.
    let (already_present, mut conflicts): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH matched AS (
             SELECT {source_key} AS row_key, to_jsonb(s) AS row_data, {source_hash} = {target_hash} AS same
             FROM {source} s JOIN {target} t ON {join}
         ), archived AS (
             INSERT INTO modernize.consolidation_archive (reason, source_table, target_table, row_key, row_data)
             SELECT 'conflict', '{source_name}', '{target_name}', row_key, row_data FROM matched WHERE NOT same
             RETURNING 1
         )
         SELECT (SELECT count(*) FROM matched WHERE same), (SELECT count(*) FROM archived)",
        source_key = b.source_key_json(),
        source_hash = b.live_source_hash(),
        target_hash = b.live_target_hash("t"),
        join = b.key_join("t"),
    )))
    .fetch_one(&mut *tx)
    .await?;

    let (columns, values) = b.insert_columns();
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {target} ({columns})
         SELECT {values} FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})
         ON CONFLICT DO NOTHING",
        join = b.key_join("t"),
    )))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let inserted = i64::try_from(inserted).unwrap_or(i64::MAX);

    // ON CONFLICT skipped rows that collide on another unique key: archive them as conflicts.
    if inserted + already_present + conflicts < source_rows {
        let refused = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive (reason, source_table, target_table, row_key, row_data)
             SELECT 'conflict', '{source_name}', '{target_name}', {source_key}, to_jsonb(s)
             FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})",
            source_key = b.source_key_json(),
            join = b.key_join("t"),
        )))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        conflicts += i64::try_from(refused).unwrap_or(i64::MAX);
    }

    let mut dropped_values_archived = 0;
    if let Some(dropped) = b.dropped_values() {
        let archived = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive (reason, source_table, target_table, row_key, row_data)
             SELECT 'dropped_values', '{source_name}', '{target_name}', row_key, dropped
             FROM (SELECT {source_key} AS row_key, {dropped} AS dropped FROM {source} s) d
             WHERE dropped IS NOT NULL",
            source_key = b.source_key_json(),
        )))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        dropped_values_archived = i64::try_from(archived).unwrap_or(i64::MAX);
    }

    if b.has_mock_flag {
        // Only flagged rows that landed: a flagged conflict is already archived verbatim.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO pg_temp.mock_rows (table_name, row_key, depth)
             SELECT '{target_name}', {target_key}, 0 FROM {source} s
             WHERE s.is_mock AND EXISTS (SELECT 1 FROM {target} t WHERE {join} AND {source_hash} = {target_hash})
             ON CONFLICT DO NOTHING",
            target_key = b.target_key_json(),
            join = b.key_join("t"),
            source_hash = b.live_source_hash(),
            target_hash = b.live_target_hash("t"),
        )))
        .execute(&mut *tx)
        .await?;
    }

    Ok(BucketMoves {
        source: source_name.to_owned(),
        target: Some(target_name.to_owned()),
        source_rows,
        inserted,
        already_present,
        conflicts,
        deprecated_archived: 0,
        dropped_values_archived,
    })
}

async fn archive_deprecated(tx: &mut PgConnection, b: &Resolved) -> Result<BucketMoves, sqlx::Error> {
    let archived = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO modernize.consolidation_archive (reason, source_table, row_key, row_data)
         SELECT 'deprecated', '{name}', {source_key}, to_jsonb(s) FROM {source} s",
        name = b.source,
        source_key = b.source_key_json(),
        source = b.source_table(),
    )))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let archived = i64::try_from(archived).unwrap_or(i64::MAX);
    Ok(BucketMoves {
        source: b.source.to_owned(),
        target: None,
        source_rows: archived,
        inserted: 0,
        already_present: 0,
        conflicts: 0,
        deprecated_archived: archived,
        dropped_values_archived: 0,
    })
}

/// Writes the columns that had to wait for the rows they reference, on the rows this bucket put
/// into the target (a conflicting row belongs to another source and is left alone).
async fn fill_deferred(tx: &mut PgConnection, b: &Resolved) -> Result<(), ConsolidationError> {
    let deferred: Vec<_> = b.columns.iter().filter(|c| c.deferred).collect();
    let assignments: Vec<String> = deferred.iter().map(|c| format!("{} = {}", quote(&c.name), c.insert)).collect();
    let values: Vec<&str> = deferred.iter().map(|c| c.source.as_str()).collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {target} t SET {assignments} FROM {source} s
         WHERE {join} AND num_nonnulls({values}) > 0 AND {source_hash} = {target_hash}",
        target = b.target_table().unwrap_or_default(),
        assignments = assignments.join(", "),
        source = b.source_table(),
        join = b.key_join("t"),
        values = values.join(", "),
        source_hash = b.live_source_hash(),
        target_hash = b.live_target_hash("t"),
    )))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A foreign key between two consolidated tables, by column names.
#[derive(sqlx::FromRow)]
struct ForeignKey {
    child: String,
    parent: String,
    child_columns: Vec<String>,
    parent_columns: Vec<String>,
}

/// The is_mock policy: a flagged row leaves the domain tables for the archive (reason `is_mock`),
/// and so does every tenant row that references an archived row, transitively (`mock_dependent`),
/// so that no foreign key is left dangling and no mock data hides in a real tenant's tables.
async fn apply_mock_policy(tx: &mut PgConnection) -> Result<Vec<MockMoves>, ConsolidationError> {
    let foreign_keys: Vec<ForeignKey> = sqlx::query_as(
        "SELECT c.relname::text AS child, p.relname::text AS parent,
                array(SELECT attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS child_columns,
                array(SELECT attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS parent_columns
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND k.contype = 'f'
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'client_account_id')",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut depth = 0;
    loop {
        let marked: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT table_name FROM pg_temp.mock_rows WHERE depth = $1")
                .bind(depth)
                .fetch_all(&mut *tx)
                .await?;
        if marked.is_empty() {
            break;
        }
        for fk in foreign_keys.iter().filter(|fk| marked.contains(&fk.parent)) {
            let join: Vec<String> = fk
                .child_columns
                .iter()
                .zip(&fk.parent_columns)
                .map(|(c, p)| format!("c.{} = p.{}", quote(c), quote(p)))
                .collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO pg_temp.mock_rows (table_name, row_key, depth)
                 SELECT DISTINCT '{child}', {child_key}, $1 + 1
                 FROM migration.{child_table} c JOIN migration.{parent_table} p ON {join}
                 JOIN pg_temp.mock_rows m ON m.table_name = '{parent}' AND m.depth = $1 AND m.row_key = {parent_key}
                 ON CONFLICT DO NOTHING",
                child = fk.child,
                parent = fk.parent,
                child_table = quote(&fk.child),
                parent_table = quote(&fk.parent),
                child_key = key_json(tx, &fk.child, "c").await?,
                parent_key = key_json(tx, &fk.parent, "p").await?,
                join = join.join(" AND "),
            )))
            .bind(depth)
            .execute(&mut *tx)
            .await?;
        }
        depth += 1;
    }

    let counts: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT table_name, count(*) FILTER (WHERE depth = 0), count(*) FILTER (WHERE depth > 0)
         FROM pg_temp.mock_rows GROUP BY table_name ORDER BY table_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Archive everything first, then delete: cascades and SET NULLs then only touch rows already archived.
    for (table, _, _) in &counts {
        let key = key_json(tx, table, "t").await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive (reason, target_table, row_key, row_data)
             SELECT CASE WHEN m.depth = 0 THEN 'is_mock' ELSE 'mock_dependent' END, '{table}', m.row_key, to_jsonb(t)
             FROM migration.{quoted} t JOIN pg_temp.mock_rows m ON m.table_name = '{table}' AND m.row_key = {key}",
            quoted = quote(table),
        )))
        .execute(&mut *tx)
        .await?;
    }
    for (table, _, _) in &counts {
        let key = key_json(tx, table, "t").await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM migration.{quoted} t USING pg_temp.mock_rows m
             WHERE m.table_name = '{table}' AND m.row_key = {key}",
            quoted = quote(table),
        )))
        .execute(&mut *tx)
        .await?;
    }
    Ok(counts.into_iter().map(|(table, flagged, dependents)| MockMoves { table, flagged, dependents }).collect())
}

/// JSON of a consolidated table's primary key over `alias`, as `Resolved::target_key_json` builds it.
async fn key_json(tx: &mut PgConnection, table: &str, alias: &str) -> Result<String, sqlx::Error> {
    let key = plan::primary_key(tx, "migration", table).await?;
    let pairs: Vec<String> = key.iter().map(|k| format!("'{k}', {alias}.{}", quote(k))).collect();
    Ok(format!("jsonb_build_object({})", pairs.join(", ")))
}
