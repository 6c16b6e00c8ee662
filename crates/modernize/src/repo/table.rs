//! Generic access to any tenant table: insert, get, list, count, update, delete — always within
//! the caller's tenant (and engagement, when the context names one).
//!
//! Inserts and patches travel as one JSON object expanded by `jsonb_populate_record`, so the
//! column list is exactly the fields that are set and every other column takes its default.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{Page, RepoError};
use crate::db::quote_identifier;
use crate::models::{EngagementScope, IdentifiedRow, TenantTable};
use crate::tenancy::{TenantCtx, TenantTx};

pub(crate) fn to_object<S: Serialize>(table: &'static str, value: &S) -> Result<Map<String, Value>, RepoError> {
    match serde_json::to_value(value).map_err(|source| RepoError::Encode { table, source })? {
        Value::Object(map) => Ok(map),
        _ => unreachable!("row structs serialise to JSON objects"),
    }
}

/// `INSERT … SELECT <the object's keys> FROM jsonb_populate_record(…) RETURNING *`.
pub(crate) fn insert_sql(table: &str, record: &Map<String, Value>) -> String {
    let columns: Vec<String> = record.keys().map(|c| quote_identifier(c)).collect();
    let columns = columns.join(", ");
    format!(
        "INSERT INTO migration.{table} ({columns}) SELECT {columns} \
         FROM jsonb_populate_record(NULL::migration.{table}, $1) RETURNING *"
    )
}

/// Adds `AND client_account_id = … [AND engagement_id = …]` for `T` under `ctx`.
fn push_scope<T: TenantTable>(query: &mut QueryBuilder<Postgres>, ctx: &TenantCtx) {
    query.push(" client_account_id = ").push_bind(ctx.client_account_id());
    match (T::ENGAGEMENT, ctx.engagement_id()) {
        (EngagementScope::Required, Some(engagement)) => {
            query.push(" AND engagement_id = ").push_bind(engagement);
        }
        (EngagementScope::Optional, Some(engagement)) => {
            query.push(" AND (engagement_id = ").push_bind(engagement).push(" OR engagement_id IS NULL)");
        }
        _ => {}
    }
}

pub async fn insert<T: TenantTable>(tx: &mut TenantTx<'_>, new: &T::New) -> Result<T, RepoError> {
    let ctx = tx.ctx();
    let mut record = to_object(T::TABLE, new)?;
    record.insert("client_account_id".into(), ctx.client_account_id().to_string().into());
    match T::ENGAGEMENT {
        EngagementScope::None => {}
        EngagementScope::Optional => {
            if let Some(engagement) = ctx.engagement_id() {
                record.insert("engagement_id".into(), engagement.to_string().into());
            }
        }
        EngagementScope::Required => {
            record.insert("engagement_id".into(), ctx.require_engagement(T::TABLE)?.to_string().into());
        }
    }
    let sql = insert_sql(T::TABLE, &record);
    let row = sqlx::query_as::<_, T>(AssertSqlSafe(sql)).bind(Json(record)).fetch_one(tx.conn()).await?;
    Ok(row)
}

pub async fn get<T: TenantTable + IdentifiedRow>(tx: &mut TenantTx<'_>, id: Uuid) -> Result<T, RepoError> {
    let mut query = QueryBuilder::new(format!("SELECT * FROM migration.{} WHERE", T::TABLE));
    push_scope::<T>(&mut query, tx.ctx());
    query.push(" AND id = ").push_bind(id);
    let row = query.build_query_as::<T>().fetch_optional(tx.conn()).await?;
    row.ok_or_else(|| RepoError::not_found(T::TABLE, id))
}

pub async fn list<T: TenantTable + IdentifiedRow>(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<T>, RepoError> {
    let mut query = QueryBuilder::new(format!("SELECT * FROM migration.{} WHERE", T::TABLE));
    push_scope::<T>(&mut query, tx.ctx());
    query.push(" ORDER BY id LIMIT ").push_bind(page.limit).push(" OFFSET ").push_bind(page.offset);
    let rows = query.build_query_as::<T>().fetch_all(tx.conn()).await?;
    Ok(rows)
}

pub async fn count<T: TenantTable>(tx: &mut TenantTx<'_>) -> Result<i64, RepoError> {
    let mut query = QueryBuilder::new(format!("SELECT count(*) FROM migration.{} WHERE", T::TABLE));
    push_scope::<T>(&mut query, tx.ctx());
    let count = query.build_query_scalar::<i64>().fetch_one(tx.conn()).await?;
    Ok(count)
}

/// Writes the fields set in `patch` (and `updated_at`, where the table has one).
pub async fn update<T: TenantTable + IdentifiedRow>(
    tx: &mut TenantTx<'_>,
    id: Uuid,
    patch: &T::Patch,
) -> Result<T, RepoError> {
    let record = to_object(T::TABLE, patch)?;
    if record.is_empty() {
        return get::<T>(tx, id).await;
    }
    let (targets, values) = patch_columns(&record, T::HAS_UPDATED_AT);
    let mut query = QueryBuilder::new(format!(
        "UPDATE migration.{table} SET ({targets}) = (SELECT {values} FROM jsonb_populate_record(NULL::migration.{table}, ",
        table = T::TABLE
    ));
    query.push_bind(Json(record)).push(")) WHERE");
    push_scope::<T>(&mut query, tx.ctx());
    query.push(" AND id = ").push_bind(id).push(" RETURNING *");
    let row = query.build_query_as::<T>().fetch_optional(tx.conn()).await?;
    row.ok_or_else(|| RepoError::not_found(T::TABLE, id))
}

/// The `SET (targets) = (SELECT values …)` lists of a patch, stamping `updated_at`.
pub(crate) fn patch_columns(record: &Map<String, Value>, has_updated_at: bool) -> (String, String) {
    let mut targets: Vec<String> = record.keys().map(|c| quote_identifier(c)).collect();
    let mut values = targets.clone();
    if has_updated_at {
        targets.push("updated_at".into());
        values.push("now()".into());
    }
    (targets.join(", "), values.join(", "))
}

pub async fn delete<T: TenantTable + IdentifiedRow>(tx: &mut TenantTx<'_>, id: Uuid) -> Result<(), RepoError> {
    let mut query = QueryBuilder::new(format!("DELETE FROM migration.{} WHERE", T::TABLE));
    push_scope::<T>(&mut query, tx.ctx());
    query.push(" AND id = ").push_bind(id);
    let deleted = query.build().execute(tx.conn()).await?.rows_affected();
    if deleted == 0 { Err(RepoError::not_found(T::TABLE, id)) } else { Ok(()) }
}
