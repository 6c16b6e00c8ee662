//! The `migrate` phase (seed task 1.3 done losslessly), in ONE transaction:
//!
//! 1. `ALTER SCHEMA migration RENAME TO migration_legacy`, then migration 0001 creates the new
//!    schema, so the result is a freshly migrated catalog by construction;
//! 2. every bucket of `plan::BUCKETS`, in foreign-key order: rows whose key is already in the
//!    target are compared (identical: already present; different: a conflict, archived verbatim),
//!    the others inserted; a row refused by another unique key is archived as a conflict too;
//!    dropped values are archived; deprecated tables are archived whole. A table receiving many
//!    rows is bulk-loaded: its indexes and keys are set aside meanwhile and re-created after;
//! 3. the is_mock policy: flagged rows and every tenant row that references them are moved from
//!    the target into the archive;
//! 4. migration 0001 is recorded as applied.
//!
//! A kill at any point before COMMIT leaves the legacy database untouched; after it, `verify`
//! and `drop` are what remains, and `consolidate` resumes there.

use serde::Serialize;
use sqlx::{Connection, PgConnection};

use modernize::db::migrate::{self as schema_migrate, MIGRATIONS};

use crate::checks;
use crate::plan::{self, Resolved, quote};
use crate::{ConsolidationError, LEGACY_SCHEMA, Progress, State};

/// Settings of the migrate transaction only (`SET LOCAL`), all of them settable by any session:
/// memory for the hash joins that match legacy rows with target rows, and for the sorts that
/// re-create the indexes set aside during bulk loads. `synchronous_commit` only spares the one
/// commit's flush wait: a crash just after it leaves the legacy database, as a crash before it would.
/// `TimeZone`: a legacy `timestamp without time zone` becoming a `timestamptz` is read as UTC,
/// whatever the server's or the client's time zone (and converts back exactly: UTC has no DST).
const TRANSACTION_SETTINGS: &str = "
SET LOCAL work_mem = '64MB';
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL synchronous_commit = off;
SET LOCAL TimeZone = 'UTC';
";

/// A consolidated table receiving at least this many legacy rows is bulk-loaded: its plain indexes
/// and its foreign keys are set aside while the rows go in, then re-created from their exact
/// definitions (one sort per index and one set-based validation per key, instead of an index
/// insertion and a trigger per row and key). Low enough that the tests take this path too.
const BULK_LOAD_ROWS: i64 = 1_000;

/// The archive and run history, in the tool's bookkeeping schema (never in `migration`).
pub(crate) const BOOKKEEPING_SQL: &str = "
SET LOCAL client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS modernize;
CREATE TABLE IF NOT EXISTS modernize.consolidation_archive (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reason text NOT NULL,
    source_table text,
    target_table text,
    row_key jsonb NOT NULL,
    row_data jsonb NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE modernize.consolidation_archive
    ADD COLUMN IF NOT EXISTS sql_null_columns text[],
    ADD COLUMN IF NOT EXISTS rule text,
    DROP CONSTRAINT IF EXISTS consolidation_archive_reason_check,
    ADD CONSTRAINT consolidation_archive_reason_check CHECK (reason IN (
        'conflict', 'is_mock', 'mock_dependent', 'dropped_values', 'deprecated', 'side_effect', 'quarantine'));
COMMENT ON COLUMN modernize.consolidation_archive.sql_null_columns IS
    'The json and jsonb columns of row_data that held SQL NULL (row_data shows SQL NULL and a JSON null alike there).';
COMMENT ON COLUMN modernize.consolidation_archive.rule IS
    'For reason quarantine: the rule of the consolidated schema the legacy row broke, in words.';
COMMENT ON TABLE modernize.consolidation_archive IS
    'Every legacy row (or value) the consolidation did not put into the domain schema, and why: nothing is deleted silently.';
COMMENT ON COLUMN modernize.consolidation_archive.source_table IS
    'Legacy table the row was read from (for a consolidated row moved out by the is_mock policy: the legacy table it came from).';
COMMENT ON COLUMN modernize.consolidation_archive.row_data IS
    'The legacy row (conflict, deprecated, quarantine), the consolidated row (is_mock, mock_dependent), the dropped columns (dropped_values) or the old values a foreign-key action changed (side_effect).';
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

/// A consolidated row that one legacy table flags `is_mock` and its twin does not. The rule: a row
/// is archived as mock only if no legacy row that maps onto it says otherwise, so it is kept.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contradiction {
    pub table: String,
    pub key: serde_json::Value,
    pub flagged_in: String,
    pub not_flagged_in: String,
}

/// Rows of `table` whose `columns` an `ON DELETE SET NULL` / `SET DEFAULT` changed when the rows
/// they referenced left for the archive; the old values are archived (reason `side_effect`).
#[derive(Debug, Clone, Serialize)]
pub struct SideEffect {
    pub table: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub rows: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationSummary {
    pub buckets: Vec<BucketMoves>,
    pub mock: Vec<MockMoves>,
    /// Rows flagged is_mock in one legacy table and not in its twin: kept, by the documented rule.
    pub contradictions: Vec<Contradiction>,
    /// Rows outside the is_mock closure that a foreign-key action changed (old values archived).
    pub side_effects: Vec<SideEffect>,
    pub archived_rows: i64,
    /// Objects outside the legacy tables that depend on them, dropped with them as told.
    pub dependent_objects: Vec<crate::dependents::DependentObject>,
}

/// migrate alone, committed without verification: what versions before verify-inside-the-transaction
/// did, leaving a database [`State::Migrated`]. `consolidate` never does this (it verifies and drops
/// before the same COMMIT); kept to reproduce such databases, which `consolidate` still finishes.
pub async fn migrate(conn: &mut PgConnection, progress: &Progress) -> Result<MigrationSummary, ConsolidationError> {
    let mut tx = conn.begin().await?;
    let summary = run(&mut tx, progress, false).await?;
    tx.commit().await?;
    Ok(summary)
}

/// The migrate phase inside the caller's transaction `tx`.
/// `drop_dependent_objects`: go on when objects outside the legacy tables depend on them (they are
/// listed in the summary and dropped with the legacy schema); otherwise refuse.
pub(crate) async fn run(
    tx: &mut PgConnection,
    progress: &Progress,
    drop_dependent_objects: bool,
) -> Result<MigrationSummary, ConsolidationError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(crate::CONSOLIDATION_LOCK_KEY).execute(&mut *tx).await?;
    // Another run may have finished while we waited for the lock.
    let state = crate::detect_state(tx).await?;
    if state != State::Legacy {
        return Err(ConsolidationError::NotLegacy(state));
    }
    sqlx::raw_sql(TRANSACTION_SETTINGS).execute(&mut *tx).await?;
    let dependent_objects = crate::dependents::list(tx, "migration").await?;
    if !dependent_objects.is_empty() && !drop_dependent_objects {
        return Err(ConsolidationError::DependentObjects(dependent_objects));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER SCHEMA migration RENAME TO {LEGACY_SCHEMA}")))
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(MIGRATIONS[0].up_sql()).execute(&mut *tx).await?;
    sqlx::raw_sql(BOOKKEEPING_SQL).execute(&mut *tx).await?;
    sqlx::raw_sql(
        "CREATE TEMP TABLE mock_rows (table_name text, row_key jsonb, depth int, source_table text,
                                      PRIMARY KEY (table_name, row_key))
         ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;

    let buckets = plan::resolve_all(tx).await?;
    let refusals = checks::planning(tx, &buckets).await?;
    if !refusals.is_empty() {
        return Err(ConsolidationError::Refused(refusals));
    }
    let mut source_rows = Vec::with_capacity(buckets.len());
    for bucket in &buckets {
        let sql = format!("SELECT count(*) FROM {}", bucket.source_table());
        source_rows.push(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *tx).await?);
    }
    let mut set_aside: Vec<SetAside> = Vec::new();
    let mut unique_keys: Vec<(&str, Vec<UniqueKey>)> = Vec::new();
    for target in bulk_targets(&buckets, &source_rows) {
        let keys = settable_unique_keys(tx, target)
            .await?
            .filter(|keys| buckets.iter().filter(|b| b.target == Some(target)).all(|b| fills_keys(b, keys)));
        for item in indexes_and_keys(tx, target, keys.is_some()).await? {
            if !set_aside.iter().any(|s| s.drop_sql == item.drop_sql) {
                set_aside.push(item);
            }
        }
        unique_keys.extend(keys.map(|keys| (target, keys)));
    }
    // Foreign keys first (they depend on the unique indexes they reference), unique ones last.
    set_aside.sort_by_key(|item| std::cmp::Reverse(item.rank));
    for item in &set_aside {
        sqlx::raw_sql(sqlx::AssertSqlSafe(item.drop_sql.clone())).execute(&mut *tx).await?;
    }
    set_aside.reverse();

    let bar = progress.bar("migrate", buckets.len() as u64);
    let mut moves = Vec::with_capacity(buckets.len());
    for (bucket, &rows) in buckets.iter().zip(&source_rows) {
        bar.set_message(bucket.source);
        // A row the target refuses is then found by key, the bucket's work undone to this point.
        sqlx::raw_sql("SAVEPOINT modernize_bucket").execute(&mut *tx).await?;
        let moved = match bucket.target {
            Some(target) => {
                let keys = unique_keys.iter().find(|(t, _)| *t == target).map(|(_, keys)| keys.as_slice());
                move_bucket(tx, bucket, rows, keys).await
            }
            None => archive_deprecated(tx, bucket).await,
        };
        match moved {
            Ok(moved) => {
                sqlx::raw_sql("RELEASE SAVEPOINT modernize_bucket").execute(&mut *tx).await?;
                moves.push(moved);
            }
            Err(error) => {
                if checks::breaks_a_rule(&error) {
                    sqlx::raw_sql("ROLLBACK TO SAVEPOINT modernize_bucket").execute(&mut *tx).await?;
                    let refusals = checks::diagnose(tx, bucket).await?;
                    if !refusals.is_empty() {
                        return Err(ConsolidationError::Refused(refusals));
                    }
                }
                return Err(ConsolidationError::Move {
                    source_table: bucket.source.to_owned(),
                    target: bucket.target.unwrap_or("archive").to_owned(),
                    error,
                });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    for bucket in buckets.iter().filter(|b| b.columns.iter().any(|c| c.deferred)) {
        fill_deferred(tx, bucket).await?;
    }
    // Before the is_mock policy: its deletes cascade along these keys, and its joins use the indexes.
    restore_indexes_and_keys(tx, &buckets, &set_aside).await?;
    let contradictions = resolve_contradicting_flags(tx, &buckets).await?;
    let (mock, side_effects) = apply_mock_policy(tx, &buckets).await?;
    let mut analyzed: Vec<&str> = Vec::new();
    for target in moves.iter().filter(|m| m.inserted > 0).filter_map(|m| m.target.as_deref()) {
        if analyzed.contains(&target) {
            continue;
        }
        // Fresh statistics for verify's plans; cheap next to the inserts.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE migration.{}", quote(target)))).execute(&mut *tx).await?;
        analyzed.push(target);
    }
    schema_migrate::record_applied(tx, MIGRATIONS[0].version).await?;
    let archived_rows =
        sqlx::query_scalar("SELECT count(*) FROM modernize.consolidation_archive").fetch_one(&mut *tx).await?;
    Ok(MigrationSummary { buckets: moves, mock, contradictions, side_effects, archived_rows, dependent_objects })
}

/// `unique_keys`: the target's unique keys, when their indexes are set aside for a bulk load.
async fn move_bucket(
    tx: &mut PgConnection,
    b: &Resolved,
    source_rows: i64,
    unique_keys: Option<&[UniqueKey]>,
) -> Result<BucketMoves, sqlx::Error> {
    let (source, target) = (b.source_table(), b.target_table().unwrap_or_default());
    let (source_name, target_name) = (b.source, b.target.unwrap_or_default());
    let nulls = sql_null_columns(tx, LEGACY_SCHEMA, source_name, "s").await?;

    // Rows whose key is taken: identical content is already there, anything else is a conflict.
    let (already_present, mut conflicts): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH matched AS (
             SELECT {source_key} AS row_key, to_jsonb(s) AS row_data, {nulls} AS nulls, {same} AS same
             FROM {source} s JOIN {target} t ON {join}
         ), archived AS (
             INSERT INTO modernize.consolidation_archive
                 (reason, source_table, target_table, row_key, row_data, sql_null_columns)
             SELECT 'conflict', '{source_name}', '{target_name}', row_key, row_data, nulls FROM matched WHERE NOT same
             RETURNING 1
         )
         SELECT (SELECT count(*) FROM matched WHERE same), (SELECT count(*) FROM archived)",
        source_key = b.source_key_json(),
        same = b.live_matches("t"),
        join = b.key_join("t"),
        nulls = nulls,
    )))
    .fetch_one(&mut *tx)
    .await?;

    let (columns, values) = b.insert_columns();
    let join = b.key_join("t");
    let mut refused_table = false;
    let insert = match unique_keys {
        None => format!(
            "INSERT INTO {target} ({columns})
             SELECT {values} FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})
             ON CONFLICT DO NOTHING"
        ),
        Some(keys) => match refused_keys(b, keys) {
            None => format!(
                "INSERT INTO {target} ({columns})
                 SELECT {values} FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})"
            ),
            Some((refused, not_refused)) => {
                // Materialised and analysed, so that the insert's plan knows how few they are.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE TEMP TABLE refused_keys ON COMMIT DROP AS {refused}; ANALYZE pg_temp.refused_keys"
                )))
                .execute(&mut *tx)
                .await?;
                refused_table = true;
                format!(
                    "INSERT INTO {target} ({columns})
                     SELECT {values} FROM {source} s
                     WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})
                       AND NOT EXISTS (SELECT 1 FROM pg_temp.refused_keys r WHERE {not_refused})"
                )
            }
        },
    };
    let inserted = sqlx::query(sqlx::AssertSqlSafe(insert)).execute(&mut *tx).await?.rows_affected();
    let inserted = i64::try_from(inserted).unwrap_or(i64::MAX);
    if refused_table {
        sqlx::raw_sql("DROP TABLE pg_temp.refused_keys").execute(&mut *tx).await?;
    }

    // Rows refused because another row holds one of their unique keys: archive them as conflicts.
    if inserted + already_present + conflicts < source_rows {
        let refused = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive
                 (reason, source_table, target_table, row_key, row_data, sql_null_columns)
             SELECT 'conflict', '{source_name}', '{target_name}', {source_key}, to_jsonb(s), {nulls}
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
            "INSERT INTO pg_temp.mock_rows (table_name, row_key, depth, source_table)
             SELECT '{target_name}', {target_key}, 0, '{source_name}' FROM {source} s
             WHERE s.is_mock AND EXISTS (SELECT 1 FROM {target} t WHERE {join} AND {same})
             ON CONFLICT DO NOTHING",
            target_key = b.target_key_json(),
            join = b.key_join("t"),
            same = b.live_matches("t"),
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

/// The targets that receive at least `BULK_LOAD_ROWS` legacy rows, each once.
fn bulk_targets<'a>(buckets: &'a [Resolved], source_rows: &[i64]) -> Vec<&'a str> {
    let mut targets: Vec<(&str, i64)> = Vec::new();
    for (target, rows) in buckets.iter().zip(source_rows).filter_map(|(b, rows)| Some((b.target?, *rows))) {
        match targets.iter_mut().find(|(t, _)| *t == target) {
            Some((_, total)) => *total += rows,
            None => targets.push((target, rows)),
        }
    }
    targets.into_iter().filter(|(_, rows)| *rows >= BULK_LOAD_ROWS).map(|(t, _)| t).collect()
}

/// A unique key of a consolidated table: its columns, and whether it is the primary key.
#[derive(sqlx::FromRow)]
struct UniqueKey {
    columns: Vec<String>,
    primary: bool,
}

/// The unique keys of `target` if their indexes can be set aside for a bulk load: plain btree
/// columns, NULLs distinct, not deferrable, no exclusion constraint. Then the rows that would
/// violate them are found set-based (`bulk_insert`); otherwise they stay and ON CONFLICT decides.
async fn settable_unique_keys(tx: &mut PgConnection, target: &str) -> Result<Option<Vec<UniqueKey>>, sqlx::Error> {
    let keys: Vec<(Vec<String>, bool, bool)> = sqlx::query_as(
        "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(n, o)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n
                      WHERE u.o <= i.indnkeyatts ORDER BY u.o),
                i.indisprimary,
                i.indisunique AND i.indisvalid AND NOT i.indisexclusion AND i.indexprs IS NULL AND i.indpred IS NULL
                AND m.amname = 'btree' AND NOT coalesce(k.condeferrable, false)
                AND NOT coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am m ON m.oid = c.relam
         LEFT JOIN pg_constraint k ON k.conrelid = i.indrelid AND k.conindid = i.indexrelid
         WHERE i.indrelid = to_regclass(format('migration.%I', $1::text)) AND (i.indisunique OR i.indisexclusion)",
    )
    .bind(target)
    .fetch_all(&mut *tx)
    .await?;
    if keys.iter().any(|(_, _, simple)| !simple) {
        return Ok(None);
    }
    Ok(Some(keys.into_iter().map(|(columns, primary, _)| UniqueKey { columns, primary }).collect()))
}

/// The bucket writes every column of every unique key as the rows go in (a key column left to its
/// default, or written later, could not be checked before the insert).
fn fills_keys(b: &Resolved, keys: &[UniqueKey]) -> bool {
    keys.iter().flat_map(|k| &k.columns).all(|name| b.columns.iter().any(|c| c.name == *name && !c.deferred))
}

/// An index or constraint set aside for a bulk load, with the statements that drop it and that
/// re-create it exactly as migration 0001 made it (definitions read back from the catalog).
#[derive(sqlx::FromRow)]
struct SetAside {
    /// The bulk-loaded table it was set aside for.
    target: String,
    /// 0 unique index or constraint, 1 plain index, 2 foreign key: re-created in that order.
    rank: i32,
    drop_sql: String,
    create_sql: String,
    /// Its comments, if it has any.
    comment_sql: Option<String>,
}

/// The plain indexes and the foreign keys of `target`; with `unique`, also its primary key, unique
/// constraints and indexes, and the foreign keys of other tables that reference them. Foreign keys
/// pointing at `target` otherwise stay: inserting rows never fires them.
async fn indexes_and_keys(tx: &mut PgConnection, target: &str, unique: bool) -> Result<Vec<SetAside>, sqlx::Error> {
    sqlx::query_as(
        "SELECT $1::text AS target, CASE WHEN i.indisunique THEN 0 ELSE 1 END AS rank,
                CASE WHEN k.oid IS NULL THEN format('DROP INDEX %I.%I', n.nspname, c.relname)
                     ELSE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, t.relname, k.conname) END
                    AS drop_sql,
                CASE WHEN k.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
                     ELSE format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, t.relname, k.conname,
                                 pg_get_constraintdef(k.oid)) END AS create_sql,
                nullif(concat_ws('; ',
                    CASE WHEN obj_description(k.oid, 'pg_constraint') IS NOT NULL
                         THEN format('COMMENT ON CONSTRAINT %I ON %I.%I IS %L', k.conname, n.nspname, t.relname,
                                     obj_description(k.oid, 'pg_constraint')) END,
                    CASE WHEN obj_description(c.oid, 'pg_class') IS NOT NULL
                         THEN format('COMMENT ON INDEX %I.%I IS %L', n.nspname, c.relname,
                                     obj_description(c.oid, 'pg_class')) END
                ), '') AS comment_sql
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_constraint k ON k.conrelid = i.indrelid AND k.conindid = i.indexrelid
         WHERE i.indrelid = to_regclass(format('migration.%I', $1::text)) AND i.indisvalid AND NOT i.indisexclusion
           AND (NOT i.indisunique OR $2)
         UNION ALL
         SELECT $1::text, 2,
                format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, t.relname, k.conname),
                format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, t.relname, k.conname,
                       pg_get_constraintdef(k.oid)),
                CASE WHEN obj_description(k.oid, 'pg_constraint') IS NOT NULL
                     THEN format('COMMENT ON CONSTRAINT %I ON %I.%I IS %L', k.conname, n.nspname, t.relname,
                                 obj_description(k.oid, 'pg_constraint')) END
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE k.contype = 'f' AND (k.conrelid = to_regclass(format('migration.%I', $1::text))
                                    OR ($2 AND k.confrelid = to_regclass(format('migration.%I', $1::text))))
         ORDER BY 2, 4",
    )
    .bind(target)
    .bind(unique)
    .fetch_all(&mut *tx)
    .await
}

/// For a bucket going into a target whose unique indexes are set aside: a query giving the legacy
/// keys (`sk_0`, …) of the rows to refuse because another row holds one of their unique keys (a
/// row already in the target or, within this bucket, the row with the smallest legacy key), and
/// the condition matching them with the legacy row `s`. `move_bucket` inserts the other rows and
/// archives the refused ones as conflicts, as ON CONFLICT DO NOTHING would have refused them.
/// None when no row can be refused.
fn refused_keys(b: &Resolved, keys: &[UniqueKey]) -> Option<(String, String)> {
    let (target, source) = (b.target_table().unwrap_or_default(), b.source_table());
    let join = b.key_join("t");
    let source_keys: Vec<String> = b.source_key.iter().map(|k| format!("s.{}", quote(k))).collect();
    let sk: Vec<String> = (0..source_keys.len()).map(|i| format!("sk_{i}")).collect();
    let mut candidate = source_keys.iter().zip(&sk).map(|(e, a)| format!("{e} AS {a}")).collect::<Vec<_>>();
    let mut checks = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mapped: Vec<&plan::Column> =
            key.columns.iter().filter_map(|name| b.columns.iter().find(|c| c.name == *name)).collect();
        // Held twice within the bucket: impossible when the legacy table's own key is part of it.
        let implied = source_keys.iter().all(|e| mapped.iter().any(|c| c.source == *e));
        if key.primary && implied {
            continue;
        }
        let u: Vec<String> = (0..mapped.len()).map(|j| format!("u{i}_{j}")).collect();
        candidate.extend(mapped.iter().zip(&u).map(|(c, a)| format!("({})::{} AS {a}", c.insert, c.type_name)));
        if !key.primary {
            // Held by a row already in the target (the primary key is the join just above).
            let taken: Vec<String> =
                mapped.iter().zip(&u).map(|(c, a)| format!("t.{} = c.{a}", quote(&c.name))).collect();
            checks.push(format!(
                "SELECT {sk} FROM candidate c WHERE EXISTS (SELECT 1 FROM {target} t WHERE {taken})",
                sk = sk.join(", "),
                taken = taken.join(" AND "),
            ));
        }
        if !implied {
            checks.push(format!(
                "SELECT {sk} FROM (SELECT {sk}, row_number() OVER (PARTITION BY {u} ORDER BY {sk}) AS n
                                   FROM candidate WHERE {not_null}) d
                 WHERE n > 1",
                sk = sk.join(", "),
                u = u.join(", "),
                not_null = u.iter().map(|a| format!("{a} IS NOT NULL")).collect::<Vec<_>>().join(" AND "),
            ));
        }
    }
    if checks.is_empty() {
        return None;
    }
    let not_refused: Vec<String> = sk.iter().zip(&source_keys).map(|(a, e)| format!("r.{a} = {e}")).collect();
    let refused = format!(
        "WITH candidate AS (
             SELECT {candidate} FROM {source} s WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {join})
         )
         {checks}",
        candidate = candidate.join(", "),
        checks = checks.join("\n         UNION\n         "),
    );
    Some((refused, not_refused.join(" AND ")))
}

/// Re-creates what was set aside, in `rank` order: the indexes are built by one sort each (a
/// duplicate key would fail the migration), the foreign keys validated by one join each (a row
/// referencing nothing fails the migration, naming the legacy tables that fed the target).
async fn restore_indexes_and_keys(
    tx: &mut PgConnection,
    buckets: &[Resolved],
    set_aside: &[SetAside],
) -> Result<(), ConsolidationError> {
    for item in set_aside {
        sqlx::raw_sql("SAVEPOINT modernize_key").execute(&mut *tx).await?;
        let statements = std::iter::once(&item.create_sql).chain(&item.comment_sql);
        for statement in statements {
            let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await else {
                continue;
            };
            let feeding: Vec<&Resolved> = buckets.iter().filter(|b| b.target == Some(item.target.as_str())).collect();
            if checks::breaks_a_rule(&error) {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT modernize_key").execute(&mut *tx).await?;
                if item.rank == 2 {
                    // Back in the catalog, unchecked, for the diagnosis to see it (the run fails anyway).
                    let unchecked = format!("{} NOT VALID", item.create_sql);
                    sqlx::raw_sql(sqlx::AssertSqlSafe(unchecked)).execute(&mut *tx).await?;
                }
                let mut refusals = Vec::new();
                for bucket in &feeding {
                    refusals.extend(checks::diagnose(tx, bucket).await?);
                }
                if !refusals.is_empty() {
                    return Err(ConsolidationError::Refused(refusals));
                }
            }
            let sources: Vec<&str> = feeding.iter().map(|b| b.source).collect();
            return Err(ConsolidationError::Move {
                source_table: sources.join(", "),
                target: item.target.clone(),
                error,
            });
        }
        sqlx::raw_sql("RELEASE SAVEPOINT modernize_key").execute(&mut *tx).await?;
    }
    Ok(())
}

async fn archive_deprecated(tx: &mut PgConnection, b: &Resolved) -> Result<BucketMoves, sqlx::Error> {
    let archived = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO modernize.consolidation_archive (reason, source_table, row_key, row_data, sql_null_columns)
         SELECT 'deprecated', '{name}', {source_key}, to_jsonb(s), {nulls} FROM {source} s",
        name = b.source,
        nulls = sql_null_columns(tx, LEGACY_SCHEMA, b.source, "s").await?,
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
         WHERE {join} AND num_nonnulls({values}) > 0 AND {same}",
        target = b.target_table().unwrap_or_default(),
        assignments = assignments.join(", "),
        source = b.source_table(),
        join = b.key_join("t"),
        values = values.join(", "),
        same = b.live_matches("t"),
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
    /// The child columns its ON DELETE action writes: all of them for SET NULL / SET DEFAULT
    /// (or those listed), none for CASCADE, RESTRICT and NO ACTION.
    set_columns: Vec<String>,
    /// The closure follows it: the child is a tenant table, or the key cascades.
    follows: bool,
}

/// The documented rule for twins that disagree: a flagged row is archived as mock only if no other
/// legacy row that maps onto it says `is_mock = false` (or NULL). Such rows stay, and are reported.
async fn resolve_contradicting_flags(
    tx: &mut PgConnection,
    buckets: &[Resolved],
) -> Result<Vec<Contradiction>, ConsolidationError> {
    let mut contradictions = Vec::new();
    for b in buckets.iter().filter(|b| b.has_mock_flag) {
        let Some(target) = b.target else { continue };
        let found: Vec<Contradiction> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "DELETE FROM pg_temp.mock_rows m USING migration.{quoted} t, {source} s
             WHERE m.table_name = '{target}' AND m.depth = 0 AND {key} AND {join} AND s.is_mock IS NOT TRUE
             RETURNING m.table_name AS table, m.row_key AS key, m.source_table AS flagged_in,
                       '{name}'::text AS not_flagged_in",
            quoted = quote(target),
            source = b.source_table(),
            key = key_of(tx, target, "t", "m.row_key").await?,
            join = b.key_join("t"),
            name = b.source,
        )))
        .fetch_all(&mut *tx)
        .await?;
        contradictions.extend(found);
    }
    Ok(contradictions)
}

/// The is_mock policy: a flagged row leaves the domain tables for the archive (reason `is_mock`),
/// and so does every tenant row that references an archived row, transitively (`mock_dependent`),
/// and every row a cascading key would delete, so that no foreign key is left dangling and no mock
/// data hides in a real tenant's tables. Other rows that an `ON DELETE SET NULL` changes (a real
/// user whose default account was mock) keep their place; their old values are archived first
/// (`side_effect`) and counted, so verify accounts for the change.
async fn apply_mock_policy(
    tx: &mut PgConnection,
    buckets: &[Resolved],
) -> Result<(Vec<MockMoves>, Vec<SideEffect>), ConsolidationError> {
    let foreign_keys: Vec<ForeignKey> = sqlx::query_as(
        "SELECT c.relname::text AS child, p.relname::text AS parent,
                array(SELECT attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS child_columns,
                array(SELECT attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS parent_columns,
                CASE WHEN k.confdeltype IN ('n', 'd') THEN
                    array(SELECT attname::text FROM unnest(coalesce(k.confdelsetcols, k.conkey)) WITH ORDINALITY u(n, i)
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)
                ELSE '{}' END AS set_columns,
                k.confdeltype = 'c' OR EXISTS (SELECT 1 FROM pg_attribute a
                                                WHERE a.attrelid = c.oid AND a.attname = 'client_account_id') AS follows
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND k.contype = 'f'",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Keys are kept as JSON (what the archive stores) but every join extracts them typed: the big
    // tables are then matched by their primary key and foreign-key indexes, never by building a
    // JSON key for each of their rows.
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
        sqlx::raw_sql("ANALYZE pg_temp.mock_rows").execute(&mut *tx).await?;
        for fk in foreign_keys.iter().filter(|fk| fk.follows && marked.contains(&fk.parent)) {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO pg_temp.mock_rows (table_name, row_key, depth)
                 SELECT DISTINCT '{child}', {child_key}, $1 + 1
                 FROM pg_temp.mock_rows m JOIN migration.{parent_table} p ON {parent_key}
                 JOIN migration.{child_table} c ON {join}
                 WHERE m.table_name = '{parent}' AND m.depth = $1
                 ON CONFLICT DO NOTHING",
                child = fk.child,
                parent = fk.parent,
                child_table = quote(&fk.child),
                parent_table = quote(&fk.parent),
                child_key = key_json(tx, &fk.child, "c").await?,
                parent_key = key_of(tx, &fk.parent, "p", "m.row_key").await?,
                join = fk_join(fk),
            )))
            .bind(depth)
            .execute(&mut *tx)
            .await?;
        }
        depth += 1;
    }
    sqlx::raw_sql("ANALYZE pg_temp.mock_rows").execute(&mut *tx).await?;

    let counts: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT table_name, count(*) FILTER (WHERE depth = 0), count(*) FILTER (WHERE depth > 0)
         FROM pg_temp.mock_rows GROUP BY table_name ORDER BY table_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Archive everything first, then delete: cascades then only touch rows already archived, and
    // the SET NULLs only rows whose old values are archived.
    for (table, _, _) in &counts {
        let key = key_of(tx, table, "t", "m.row_key").await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive
                 (reason, source_table, target_table, row_key, row_data, sql_null_columns)
             SELECT CASE WHEN m.depth = 0 THEN 'is_mock' ELSE 'mock_dependent' END,
                    coalesce(m.source_table, {origin}), '{table}', m.row_key, to_jsonb(t), {nulls}
             FROM pg_temp.mock_rows m JOIN migration.{quoted} t ON {key}
             WHERE m.table_name = '{table}'",
            quoted = quote(table),
            origin = origin(buckets, table, "t"),
            nulls = sql_null_columns(tx, "migration", table, "t").await?,
        )))
        .execute(&mut *tx)
        .await?;
    }
    let mut side_effects = Vec::new();
    for fk in
        foreign_keys.iter().filter(|fk| !fk.set_columns.is_empty() && counts.iter().any(|(t, ..)| *t == fk.parent))
    {
        let old_values: Vec<String> = fk.set_columns.iter().map(|c| format!("'{c}', c.{}", quote(c))).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO modernize.consolidation_archive (reason, source_table, target_table, row_key, row_data)
             SELECT DISTINCT 'side_effect', {origin}, '{child}', {child_key}, jsonb_build_object({old_values})
             FROM pg_temp.mock_rows m JOIN migration.{parent_table} p ON {parent_key}
             JOIN migration.{child_table} c ON {join}
             WHERE m.table_name = '{parent}'
               AND NOT EXISTS (SELECT 1 FROM pg_temp.mock_rows o WHERE o.table_name = '{child}' AND o.row_key = {child_key})",
            origin = origin(buckets, &fk.child, "c"),
            child = fk.child,
            parent = fk.parent,
            child_table = quote(&fk.child),
            parent_table = quote(&fk.parent),
            child_key = key_json(tx, &fk.child, "c").await?,
            parent_key = key_of(tx, &fk.parent, "p", "m.row_key").await?,
            join = fk_join(fk),
            old_values = old_values.join(", "),
        )))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if rows > 0 {
            side_effects.push(SideEffect {
                table: fk.child.clone(),
                columns: fk.set_columns.clone(),
                referenced_table: fk.parent.clone(),
                rows: i64::try_from(rows).unwrap_or(i64::MAX),
            });
        }
    }
    for (table, _, _) in &counts {
        let key = key_of(tx, table, "t", "m.row_key").await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM migration.{quoted} t USING pg_temp.mock_rows m
             WHERE m.table_name = '{table}' AND {key}",
            quoted = quote(table),
        )))
        .execute(&mut *tx)
        .await?;
    }
    let moves = counts.into_iter().map(|(table, flagged, dependents)| MockMoves { table, flagged, dependents });
    Ok((moves.collect(), side_effects))
}

fn fk_join(fk: &ForeignKey) -> String {
    let join: Vec<String> = fk
        .child_columns
        .iter()
        .zip(&fk.parent_columns)
        .map(|(c, p)| format!("c.{} = p.{}", quote(c), quote(p)))
        .collect();
    join.join(" AND ")
}

/// SQL naming the legacy table the consolidated row `alias` of `table` came from: the first bucket
/// feeding `table` that holds its key.
fn origin(buckets: &[Resolved], table: &str, alias: &str) -> String {
    let cases: Vec<String> = buckets
        .iter()
        .filter(|b| b.target == Some(table))
        .map(|b| {
            format!(
                "WHEN EXISTS (SELECT 1 FROM {} s WHERE {}) THEN '{}'",
                b.source_table(),
                b.key_join(alias),
                b.source
            )
        })
        .collect();
    if cases.is_empty() { "NULL::text".to_owned() } else { format!("CASE {} END", cases.join(" ")) }
}

/// SQL giving the json and jsonb columns of `schema.table` that are SQL NULL in the row `alias`.
pub(crate) async fn sql_null_columns(
    tx: &mut PgConnection,
    schema: &str,
    table: &str,
    alias: &str,
) -> Result<String, sqlx::Error> {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid IN ('json'::regtype, 'jsonb'::regtype)
         ORDER BY a.attnum",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    if columns.is_empty() {
        return Ok("NULL::text[]".to_owned());
    }
    let items: Vec<String> =
        columns.iter().map(|c| format!("CASE WHEN {alias}.{} IS NULL THEN '{c}' END", quote(c))).collect();
    Ok(format!("nullif(array_remove(ARRAY[{}]::text[], NULL), '{{}}')", items.join(", ")))
}

/// `alias` is the row of consolidated `table` whose primary key the JSON `json` holds (as
/// `key_json` builds it): the key columns compared typed, so the table's primary key index serves.
async fn key_of(tx: &mut PgConnection, table: &str, alias: &str, json: &str) -> Result<String, sqlx::Error> {
    let key = plan::primary_key_types(tx, "migration", table).await?;
    let conditions: Vec<String> =
        key.iter().map(|(k, type_name)| format!("{alias}.{} = ({json} ->> '{k}')::{type_name}", quote(k))).collect();
    Ok(conditions.join(" AND "))
}

/// JSON of a consolidated table's primary key over `alias`, as `Resolved::target_key_json` builds it.
async fn key_json(tx: &mut PgConnection, table: &str, alias: &str) -> Result<String, sqlx::Error> {
    let key = plan::primary_key(tx, "migration", table).await?;
    let pairs: Vec<String> = key.iter().map(|k| format!("'{k}', {alias}.{}", quote(k))).collect();
    Ok(format!("jsonb_build_object({})", pairs.join(", ")))
}
