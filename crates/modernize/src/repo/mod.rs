//! Repositories: all SQL touching the domain tables. Every function on tenant data takes a
//! [`TenantCtx`]; global tables have their own explicitly named functions.
//!
//! Callers pass a connection or an open transaction, as they choose: each function runs inside a
//! transaction of its own (a savepoint when the caller's transaction is open) in which it
//! switches to the `modernize_app` role and sets the tenant for row-level security, so the
//! database refuses other tenants' rows even if a query forgot its `WHERE`. Repositories never
//! commit the caller's transaction.

pub mod assets;
pub mod flows;
pub mod global;
pub mod imports;
pub mod mappings;
pub mod table;
pub mod tenancy;
pub mod users;

use sqlx::{Connection, PgConnection, Postgres, Transaction};

use crate::tenancy::TenantCtx;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// Also the answer for another tenant's row: its existence is not revealed.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("conflict: {message}")]
    Conflict { constraint: String, message: String },
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{table} rows belong to an engagement: choose one")]
    EngagementRequired { table: &'static str },
    #[error("cannot encode a row for {table}: {source}")]
    Encode {
        table: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl RepoError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }
}

impl From<sqlx::Error> for RepoError {
    /// Turns the database's refusals into errors that say what is wrong with the input.
    fn from(error: sqlx::Error) -> Self {
        let Some(db) = error.as_database_error() else { return Self::Database(error) };
        let constraint = db.constraint().unwrap_or_default().to_owned();
        match db.code().as_deref() {
            Some("23505") => Self::Conflict { message: format!("{} ({constraint})", db.message()), constraint },
            Some("23503") => Self::Invalid {
                field: constraint.clone(),
                message: "refers to a row that does not exist in this client account".into(),
            },
            Some("23514") | Some("23502") | Some("22P02") | Some("22007") | Some("22008") | Some("22003") => {
                Self::Invalid { field: constraint, message: db.message().to_owned() }
            }
            _ => Self::Database(error),
        }
    }
}

/// Opens the transaction (or savepoint) a repository function works in, acting for `ctx`.
pub(crate) async fn scoped<'c>(
    conn: &'c mut PgConnection,
    ctx: &TenantCtx,
) -> Result<Transaction<'c, Postgres>, RepoError> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "SELECT set_config('role', 'modernize_app', true),
                set_config('modernize.client_account_id', $1, true),
                set_config('modernize.user_id', $2, true)",
    )
    .bind(ctx.client_account_id().to_string())
    .bind(ctx.user_id().map(|u| u.to_string()).unwrap_or_default())
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}

/// Pagination of list functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: 100, offset: 0 }
    }
}

impl Page {
    pub const ALL: Page = Page { limit: i64::MAX, offset: 0 };
}
