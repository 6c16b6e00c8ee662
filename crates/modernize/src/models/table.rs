//! What the generic repository needs to know about a table, implemented for every table in
//! `tables.rs`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// How a tenant table relates to engagements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngagementScope {
    /// No engagement_id column: the row belongs to the client account as a whole.
    None,
    /// engagement_id may be NULL (an account-wide row) or name one engagement.
    Optional,
    /// Every row belongs to one engagement.
    Required,
}

/// A table whose rows belong to one client account (`client_account_id NOT NULL`).
pub trait TenantTable: for<'r> FromRow<'r, PgRow> + Serialize + Send + Unpin + 'static {
    const TABLE: &'static str;
    const ENGAGEMENT: EngagementScope;
    /// Whether the table has an `updated_at` column, which updates stamp.
    const HAS_UPDATED_AT: bool;
    /// The fields of a new row, without the tenant keys (they come from the TenantCtx).
    type New: Serialize + DeserializeOwned + Send + Sync;
    /// Changes to a row; only the fields that are set are written.
    type Patch: Serialize + DeserializeOwned + Default + Send + Sync;
}

/// A table shared by all tenants (users, client accounts, price lists...).
pub trait GlobalTable: for<'r> FromRow<'r, PgRow> + Serialize + Send + Unpin + 'static {
    const TABLE: &'static str;
    const HAS_UPDATED_AT: bool;
    type New: Serialize + DeserializeOwned + Send + Sync;
    type Patch: Serialize + DeserializeOwned + Default + Send + Sync;
}

/// A row with a single `id` (every table but asset_tags).
pub trait IdentifiedRow {
    fn id(&self) -> Uuid;
}
