//! Generic access to the global tables (shared by all tenants). Named apart from the tenant
//! functions on purpose: reaching a global table is a deliberate act, never a forgotten filter.

use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use super::table::{insert_sql, patch_columns, to_object};
use super::{Page, RepoError};
use crate::models::{GlobalTable, IdentifiedRow};

pub async fn insert_global<T: GlobalTable>(conn: &mut PgConnection, new: &T::New) -> Result<T, RepoError> {
    let record = to_object(T::TABLE, new)?;
    let row =
        sqlx::query_as::<_, T>(AssertSqlSafe(insert_sql(T::TABLE, &record))).bind(Json(record)).fetch_one(conn).await?;
    Ok(row)
}

pub async fn get_global<T: GlobalTable + IdentifiedRow>(conn: &mut PgConnection, id: Uuid) -> Result<T, RepoError> {
    sqlx::query_as::<_, T>(AssertSqlSafe(format!("SELECT * FROM migration.{} WHERE id = $1", T::TABLE)))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| RepoError::not_found(T::TABLE, id))
}

pub async fn list_global<T: GlobalTable>(conn: &mut PgConnection, page: Page) -> Result<Vec<T>, RepoError> {
    let rows = sqlx::query_as::<_, T>(AssertSqlSafe(format!(
        "SELECT * FROM migration.{} ORDER BY created_at LIMIT $1 OFFSET $2",
        T::TABLE
    )))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

pub async fn update_global<T: GlobalTable + IdentifiedRow>(
    conn: &mut PgConnection,
    id: Uuid,
    patch: &T::Patch,
) -> Result<T, RepoError> {
    let record = to_object(T::TABLE, patch)?;
    if record.is_empty() {
        return get_global::<T>(conn, id).await;
    }
    let (targets, values) = patch_columns(&record, T::HAS_UPDATED_AT);
    sqlx::query_as::<_, T>(AssertSqlSafe(format!(
        "UPDATE migration.{table} SET ({targets}) = (SELECT {values} FROM jsonb_populate_record(NULL::migration.{table}, $1)) \
         WHERE id = $2 RETURNING *",
        table = T::TABLE
    )))
    .bind(Json(record))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| RepoError::not_found(T::TABLE, id))
}

pub async fn delete_global<T: GlobalTable + IdentifiedRow>(conn: &mut PgConnection, id: Uuid) -> Result<(), RepoError> {
    let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM migration.{} WHERE id = $1", T::TABLE)))
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    if deleted == 0 { Err(RepoError::not_found(T::TABLE, id)) } else { Ok(()) }
}
