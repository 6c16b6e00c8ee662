//! The `verify` phase: proves zero loss, row by row and set-based.
//!
//! For every legacy row of every bucket, exactly one of these must hold, re-derived from the
//! legacy table and the documented mapping (not from migrate's counters):
//! - its target row (same key) has equal content (every mapped column equal, typed);
//! - it was moved out by the is_mock policy: the archived consolidated row has equal content (md5
//!   of the mapped columns as JSON on both sides, the archive holding JSON);
//! - it is a conflict, archived verbatim (the archived JSON equals the legacy row's);
//! - (deprecated tables) it is archived verbatim.
//!
//! and its dropped values, if any, are archived. The other way round, every target row must come
//! from some legacy row. A bucket with unaccounted rows lists their keys (the key-level diff).

use serde::Serialize;
use sqlx::{Connection, PgConnection};

use crate::plan::{self, Resolved};
use crate::{ConsolidationError, Progress};

/// Keys listed per failing bucket.
const DIFF_LIMIT: i64 = 20;

#[derive(Debug, Clone, Default, Serialize)]
pub struct BucketCheck {
    pub source: String,
    pub target: Option<String>,
    pub source_rows: i64,
    pub in_target: i64,
    pub archived_mock: i64,
    pub archived_conflict: i64,
    pub archived_deprecated: i64,
    /// Rows found neither in the target with equal content nor in the archive.
    pub unaccounted: i64,
    /// Rows whose dropped values are missing from the archive.
    pub dropped_values_missing: i64,
    /// Up to 20 keys of unaccounted rows, with what is wrong.
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub key: serde_json::Value,
    /// `absent` (no target row), `differs` (the target row has other content) or
    /// `dropped_values_missing`.
    pub problem: String,
    /// For `differs`: each column whose value differs, with the legacy value (after the
    /// documented mapping) and the target's, as the text of their exact values.
    pub columns: Vec<ColumnDifference>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ColumnDifference {
    pub column: String,
    pub legacy: Option<String>,
    pub target: Option<String>,
}

impl Difference {
    /// `differs {"id": …} (import_name: legacy "…", target "…")`.
    pub fn describe(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let show = |v: &Option<String>| v.as_ref().map_or("NULL".to_owned(), |v| format!("{v:?}"));
                format!("{}: legacy {}, target {}", c.column, show(&c.legacy), show(&c.target))
            })
            .collect();
        if columns.is_empty() {
            format!("{} {}", self.problem, self.key)
        } else {
            format!("{} {} ({})", self.problem, self.key, columns.join("; "))
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub table: String,
    pub rows: i64,
    /// Rows no legacy row accounts for.
    pub without_source: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub buckets: Vec<BucketCheck>,
    pub targets: Vec<TargetCheck>,
    pub passed: bool,
}

impl Verification {
    /// The legacy tables with unaccounted rows and their keys, on one line: `table: problem key, …`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for b in self.buckets.iter().filter(|b| b.unaccounted + b.dropped_values_missing > 0) {
            let keys: Vec<String> = b.differences.iter().map(Difference::describe).collect();
            parts.push(format!("legacy table {}: {}", b.source, keys.join(", ")));
        }
        for t in self.targets.iter().filter(|t| t.without_source > 0) {
            parts.push(format!("table {}: {} rows without a legacy source", t.table, t.without_source));
        }
        parts.join("; ")
    }

    pub fn unaccounted(&self) -> u64 {
        let rows = self.buckets.iter().map(|b| b.unaccounted + b.dropped_values_missing);
        let extra = self.targets.iter().map(|t| t.without_source);
        rows.chain(extra).map(|n| u64::try_from(n).unwrap_or(0)).sum()
    }
}

/// Memory for the hash joins of legacy and target rows (a million rows fit), for this transaction.
const TRANSACTION_SETTINGS: &str = "SET LOCAL work_mem = '64MB'";

/// verify on its own, on a database left [`crate::State::Migrated`]: read-only.
pub async fn verify(conn: &mut PgConnection, progress: &Progress) -> Result<Verification, ConsolidationError> {
    // Read-only work: the transaction only scopes the settings.
    let mut tx = conn.begin().await?;
    let verification = run(&mut tx, progress).await?;
    tx.commit().await?;
    Ok(verification)
}

/// verify inside the caller's transaction (the migrate transaction, before its COMMIT).
pub(crate) async fn run(conn: &mut PgConnection, progress: &Progress) -> Result<Verification, ConsolidationError> {
    sqlx::raw_sql(TRANSACTION_SETTINGS).execute(&mut *conn).await?;
    let buckets = plan::resolve_all(conn).await?;
    let mut targets: Vec<&'static str> = Vec::new();
    for target in buckets.iter().filter_map(|b| b.target) {
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    let bar = progress.bar("verify", (buckets.len() + targets.len()) as u64);
    let mut checks = Vec::with_capacity(buckets.len());
    for bucket in &buckets {
        bar.set_message(bucket.source);
        checks.push(match bucket.target {
            Some(_) => check_bucket(conn, bucket).await?,
            None => check_deprecated(conn, bucket).await?,
        });
        bar.inc(1);
    }
    let mut target_checks = Vec::with_capacity(targets.len());
    for target in targets {
        bar.set_message(target);
        let sources: Vec<&Resolved> = buckets.iter().filter(|b| b.target == Some(target)).collect();
        target_checks.push(check_target(conn, target, &sources).await?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut verification = Verification { buckets: checks, targets: target_checks, passed: false };
    verification.passed = verification.unaccounted() == 0;
    Ok(verification)
}

/// Classifies every legacy row of a bucket; `outcome` is target, mock, conflict, absent or differs.
/// The target row is compared column by column (`Resolved::matches`); the JSON hash of the legacy
/// row is only computed for the few rows that are not in the target, to find them in the archive.
fn classification(b: &Resolved) -> String {
    let dropped = b.dropped_values().unwrap_or_else(|| "NULL::jsonb".to_owned());
    let first_key = plan::quote(&b.target_key.first().map(|(k, _)| k.clone()).unwrap_or_default());
    format!(
        "SELECT {source_key} AS row_key,
                CASE WHEN t.{first_key} IS NOT NULL AND {matches} THEN 'target'
                     WHEN EXISTS (SELECT 1 FROM modernize.consolidation_archive a
                                  WHERE a.target_table = '{target}' AND a.reason IN ('is_mock', 'mock_dependent')
                                    AND a.row_key = {target_key} AND {archived_hash} = {source_hash}) THEN 'mock'
                     WHEN EXISTS (SELECT 1 FROM modernize.consolidation_archive a
                                  WHERE a.source_table = '{source}' AND a.reason = 'conflict'
                                    AND a.row_key = {source_key} AND a.row_data = to_jsonb(s)) THEN 'conflict'
                     WHEN t.{first_key} IS NULL THEN 'absent'
                     ELSE 'differs' END AS outcome,
                {differing} AS differing,
                {dropped} IS NULL OR EXISTS (SELECT 1 FROM modernize.consolidation_archive a
                                             WHERE a.source_table = '{source}' AND a.reason = 'dropped_values'
                                               AND a.row_key = {source_key} AND a.row_data = {dropped}) AS dropped_ok
         FROM {source_table} s
         LEFT JOIN {target_table} t ON {join}",
        source = b.source,
        target = b.target.unwrap_or_default(),
        source_table = b.source_table(),
        target_table = b.target_table().unwrap_or_default(),
        source_key = b.source_key_json(),
        target_key = b.target_key_json(),
        source_hash = b.source_hash(),
        matches = b.matches("t"),
        archived_hash = b.archived_hash("a.row_data"),
        join = b.key_join("t"),
        differing = b.differing_columns("t"),
    )
}

async fn check_bucket(conn: &mut PgConnection, b: &Resolved) -> Result<BucketCheck, sqlx::Error> {
    let classified = classification(b);
    let rows: Vec<(String, bool, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT outcome, dropped_ok, count(*) FROM ({classified}) c GROUP BY 1, 2"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut check =
        BucketCheck { source: b.source.to_owned(), target: b.target.map(str::to_owned), ..Default::default() };
    for (outcome, dropped_ok, count) in rows {
        check.source_rows += count;
        match outcome.as_str() {
            "target" => check.in_target += count,
            "mock" => check.archived_mock += count,
            "conflict" => check.archived_conflict += count,
            _ => check.unaccounted += count,
        }
        if !dropped_ok {
            check.dropped_values_missing += count;
        }
    }
    if check.unaccounted + check.dropped_values_missing > 0 {
        let differences: Vec<(serde_json::Value, String, serde_json::Value)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT row_key,
                        CASE WHEN outcome IN ('absent', 'differs') THEN outcome ELSE 'dropped_values_missing' END,
                        CASE WHEN outcome = 'differs' THEN differing ELSE '[]' END
                 FROM ({classified}) c WHERE outcome IN ('absent', 'differs') OR NOT dropped_ok
                 ORDER BY row_key::text LIMIT {DIFF_LIMIT}"
            )))
            .fetch_all(&mut *conn)
            .await?;
        check.differences = differences
            .into_iter()
            .map(|(key, problem, columns)| Difference {
                key,
                problem,
                columns: serde_json::from_value(columns).unwrap_or_default(),
            })
            .collect();
    }
    Ok(check)
}

async fn check_deprecated(conn: &mut PgConnection, b: &Resolved) -> Result<BucketCheck, sqlx::Error> {
    let (source_rows, archived): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM modernize.consolidation_archive a
                    WHERE a.source_table = '{source}' AND a.reason = 'deprecated'
                      AND a.row_key = {source_key} AND a.row_data = to_jsonb(s)))
         FROM {source_table} s",
        source = b.source,
        source_key = b.source_key_json(),
        source_table = b.source_table(),
    )))
    .fetch_one(&mut *conn)
    .await?;
    let mut check = BucketCheck {
        source: b.source.to_owned(),
        source_rows,
        archived_deprecated: archived,
        unaccounted: source_rows - archived,
        ..Default::default()
    };
    if check.unaccounted > 0 {
        let keys: Vec<serde_json::Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {source_key} FROM {source_table} s WHERE NOT EXISTS (
                 SELECT 1 FROM modernize.consolidation_archive a
                 WHERE a.source_table = '{source}' AND a.reason = 'deprecated'
                   AND a.row_key = {source_key} AND a.row_data = to_jsonb(s))
             LIMIT {DIFF_LIMIT}",
            source = b.source,
            source_key = b.source_key_json(),
            source_table = b.source_table(),
        )))
        .fetch_all(&mut *conn)
        .await?;
        check.differences =
            keys.into_iter().map(|key| Difference { key, problem: "absent".into(), columns: Vec::new() }).collect();
    }
    Ok(check)
}

/// Target rows that no legacy row of the buckets feeding the table accounts for.
async fn check_target(
    conn: &mut PgConnection,
    target: &str,
    sources: &[&Resolved],
) -> Result<TargetCheck, sqlx::Error> {
    let no_source: Vec<String> = sources
        .iter()
        .map(|b| format!("NOT EXISTS (SELECT 1 FROM {} s WHERE {})", b.source_table(), b.key_join("t")))
        .collect();
    // In WHERE rather than in a FILTER: the planner turns each NOT EXISTS into an anti-join.
    let (rows, without_source): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM {table} t WHERE {no_source})",
        table = format_args!("migration.{}", plan::quote(target)),
        no_source = no_source.join(" AND "),
    )))
    .fetch_one(&mut *conn)
    .await?;
    Ok(TargetCheck { table: target.to_owned(), rows, without_source })
}
