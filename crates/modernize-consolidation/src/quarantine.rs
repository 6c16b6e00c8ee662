//! `--quarantine`: a way forward for legacy rows that break a rule of the consolidated schema
//! (an enum word, a range check, a NOT NULL, a duplicate key others depend on, a dangling or
//! cross-tenant reference). Each refused row, and each row refused because it depends on one, is
//! moved verbatim from its legacy table into the archive (reason `quarantine`, the rule in `rule`)
//! by one `DELETE … RETURNING` statement, and the consolidation is tried again without them, in
//! the same transaction. The backup still holds them: `restore` brings everything back.

use serde::Serialize;
use sqlx::PgConnection;

use crate::checks::Refusal;
use crate::plan::{self, quote};
use crate::{ConsolidationError, migrate};

/// Rows quarantined from one legacy table for one rule.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantined {
    pub legacy_table: String,
    pub column: Option<String>,
    pub rule: String,
    pub rows: i64,
    /// Up to 20 of their keys.
    pub keys: Vec<serde_json::Value>,
}

/// Moves the rows of `refusals` out of their legacy tables (still in schema `migration`: the
/// attempt that found them was rolled back) into the archive.
pub(crate) async fn apply(tx: &mut PgConnection, refusals: &[Refusal]) -> Result<Vec<Quarantined>, ConsolidationError> {
    sqlx::raw_sql(migrate::BOOKKEEPING_SQL).execute(&mut *tx).await?;
    let mut done = Vec::new();
    for refusal in refusals {
        let table = &refusal.legacy_table;
        // A legacy key acting on delete would change rows behind the archive's back.
        let acting: Option<String> = sqlx::query_scalar(
            "SELECT conname::text FROM pg_constraint
             WHERE confrelid = to_regclass(format('migration.%I', $1::text)) AND contype = 'f'
               AND confdeltype IN ('c', 'n', 'd') LIMIT 1",
        )
        .bind(table)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(key) = acting {
            return Err(ConsolidationError::UnsupportedLegacyTable {
                table: table.clone(),
                reason: format!("its rows cannot be quarantined: the legacy foreign key {key} acts on delete"),
            });
        }
        let key = plan::primary_key_types(tx, "migration", table).await?;
        let typed: Vec<String> = key.iter().map(|(k, t)| format!("(k ->> '{k}')::{t}")).collect();
        let columns: Vec<String> = key.iter().map(|(k, _)| format!("s.{}", quote(k))).collect();
        let key_json: Vec<String> = key.iter().map(|(k, _)| format!("'{k}', m.{}", quote(k))).collect();
        let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH moved AS (
                 DELETE FROM migration.{quoted} s WHERE ({columns}) IN (SELECT {typed} FROM unnest($1::jsonb[]) k)
                 RETURNING s.*
             )
             INSERT INTO modernize.consolidation_archive (reason, source_table, row_key, row_data, sql_null_columns, rule)
             SELECT 'quarantine', $2, jsonb_build_object({key_json}), to_jsonb(m), {nulls}, $3 FROM moved m",
            quoted = quote(table),
            columns = columns.join(", "),
            typed = typed.join(", "),
            key_json = key_json.join(", "),
            nulls = migrate::sql_null_columns(tx, "migration", table, "m").await?,
        )))
        .bind(&refusal.keys)
        .bind(table)
        .bind(&refusal.rule)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        done.push(Quarantined {
            legacy_table: table.clone(),
            column: refusal.column.clone(),
            rule: refusal.rule.clone(),
            rows: i64::try_from(moved).unwrap_or(i64::MAX),
            keys: refusal.keys.iter().take(20).cloned().collect(),
        });
    }
    Ok(done)
}
