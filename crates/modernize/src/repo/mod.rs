//! Repositories: all SQL touching the domain tables. Every function on tenant data takes a
//! [`TenantTx`](crate::tenancy::TenantTx): the transaction that already runs as `modernize_app`
//! for one client account, so the database refuses other tenants' rows even if a query forgot its
//! `WHERE`. Global tables have their own explicitly named functions on a plain connection.
//! Repositories never commit: the caller (a service) commits its transaction once.

pub mod assets;
pub mod audit;
pub mod dependencies;
pub mod flows;
pub mod global;
pub mod hosts;
pub mod imports;
pub mod mappings;
pub mod rvtools;
pub mod sixr;
pub mod table;
pub mod tenancy;
pub mod uploads;
pub mod users;

use crate::error::ErrorKind;
use crate::schema::TABLES;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// Also the answer for another tenant's row: its existence is not revealed.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
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
    /// Stored JSON that does not have the shape the code expects: never read as a default.
    #[error("stored {what} cannot be read: {source}")]
    Decode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("a tenant transaction cannot be opened inside another transaction")]
    NestedTenantTx,
    /// Work handed to a blocking thread (argon2) panicked or was cancelled.
    #[error("blocking work failed: {0}")]
    Blocking(#[source] tokio::task::JoinError),
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[source] sqlx::Error),
}

impl RepoError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }

    /// What kind of failure this is, for callers that map kinds (e.g. to HTTP statuses).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::Invalid { .. } | Self::EngagementRequired { .. } => ErrorKind::Invalid,
            Self::Encode { .. } | Self::Decode { .. } | Self::NestedTenantTx | Self::Blocking(_) => ErrorKind::Internal,
            Self::Database(error) => database_error_kind(error),
        }
    }

    /// The field an Invalid or Conflict error concerns.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Conflict { field, .. } | Self::Invalid { field, .. } => Some(field),
            Self::EngagementRequired { .. } => Some("engagement_id"),
            _ => None,
        }
    }
}

/// Database failures that are not about the input: the server unreachable, overloaded or
/// shutting down is Unavailable (worth retrying); anything else is Internal.
fn database_error_kind(error: &sqlx::Error) -> ErrorKind {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            ErrorKind::Unavailable
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // too_many_connections, admin_shutdown, crash_shutdown, cannot_connect_now,
            // serialization_failure, deadlock_detected, lock_not_available
            Some("53300" | "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03") => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        },
        _ => ErrorKind::Internal,
    }
}

/// Constraints whose name does not end in the field they guard. Every other constraint is named
/// `<table>_[client_account_id_][<columns>_]<column>_{key,fkey,check}` and names its field last.
const CONSTRAINT_FIELDS: &[(&str, &str)] = &[
    ("client_accounts_quotas_check", "max_users"),
    ("user_profiles_counters_check", "login_count"),
    ("engagements_dates_check", "target_completion_date"),
    ("client_access_expiry_check", "expires_at"),
    ("engagement_access_expiry_check", "expires_at"),
    ("user_roles_scope_check", "scope_type"),
    ("role_change_approvals_review_check", "reviewed_at"),
    ("crewai_flow_state_extensions_completed_check", "completed_at"),
    ("data_imports_records_check", "processed_records"),
    ("discovery_flows_error_check", "error_message"),
    ("raw_import_records_data_import_id_row_number_key", "row_number"),
    ("import_field_mappings_data_import_id_source_field_key", "source_field"),
    ("migration_waves_counts_check", "completed_assets"),
    ("migration_waves_dates_check", "planned_end_date"),
    ("assets_sizes_check", "cpu_cores"),
    ("asset_dependencies_edge_key", "depends_on_asset_id"),
    ("asset_dependencies_not_self_check", "depends_on_asset_id"),
    ("asset_embeddings_dimensions_check", "embedding"),
    ("wave_plans_period_check", "planned_end_at"),
    ("sixr_parameters_range_check", "default_value"),
    ("sixr_analysis_parameters_scores_check", "business_value"),
    ("sixr_question_responses_answer_key", "question_id"),
    ("cmdb_sixr_analyses_counts_check", "total_assets"),
    ("feedback_summaries_period_check", "period_end"),
    ("llm_usage_logs_tokens_check", "input_tokens"),
    ("llm_usage_summary_counts_check", "total_requests"),
    ("llm_usage_summary_period_check", "period_end"),
    ("llm_usage_summary_period_model_key", "model_name"),
    ("soft_deleted_items_purge_check", "purge_after"),
    ("jobs_dedupe_key_key", "dedupe_key"),
    ("api_tokens_expiry_check", "expires_at"),
    ("api_tokens_name_check", "name"),
    ("api_tokens_prefix_key", "prefix"),
];

/// The field a constraint guards: from [`CONSTRAINT_FIELDS`], else the constraint's name without
/// its table, tenant column and suffix (`engagements_client_account_id_slug_key` → `slug`).
pub fn constraint_field(constraint: &str) -> String {
    if let Some((_, field)) = CONSTRAINT_FIELDS.iter().find(|(name, _)| *name == constraint) {
        return (*field).to_owned();
    }
    let mut rest = constraint;
    for suffix in ["_fkey", "_key", "_check"] {
        if let Some(stripped) = rest.strip_suffix(suffix) {
            rest = stripped;
            break;
        }
    }
    let table = TABLES.iter().map(|t| t.name).filter(|t| rest.starts_with(&format!("{t}_"))).max_by_key(|t| t.len());
    if let Some(table) = table {
        rest = &rest[table.len() + 1..];
    }
    rest.strip_prefix("client_account_id_").unwrap_or(rest).to_owned()
}

impl From<sqlx::Error> for RepoError {
    /// Turns the database's refusals into errors that name the field concerned.
    fn from(error: sqlx::Error) -> Self {
        let Some(db) = error.as_database_error() else { return Self::Database(error) };
        let column = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().and_then(|e| e.column());
        let field = || db.constraint().map(constraint_field).or_else(|| column.map(str::to_owned));
        match db.code().as_deref() {
            Some("23505") => Self::Conflict {
                field: field().unwrap_or_else(|| "value".into()),
                message: "already exists (it must be unique)".into(),
            },
            Some("23503") => Self::Invalid {
                field: field().unwrap_or_else(|| "reference".into()),
                message: "refers to a row that does not exist in this client account".into(),
            },
            // 22021/22P05: text PostgreSQL cannot store (a NUL character): the caller's input.
            Some("23514" | "23502" | "22P02" | "22007" | "22008" | "22003" | "22001" | "22021" | "22P05") => {
                Self::Invalid { field: field().unwrap_or_else(|| "value".into()), message: db.message().to_owned() }
            }
            _ => Self::Database(error),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::constraint_field;

    #[test]
    fn constraints_name_their_fields() {
        assert_eq!(constraint_field("engagements_client_account_id_slug_key"), "slug");
        assert_eq!(constraint_field("client_accounts_slug_key"), "slug");
        assert_eq!(constraint_field("users_email_key"), "email");
        assert_eq!(constraint_field("data_imports_client_account_id_master_flow_id_fkey"), "master_flow_id");
        assert_eq!(constraint_field("assets_cpu_utilization_percent_check"), "cpu_utilization_percent");
        assert_eq!(constraint_field("engagements_dates_check"), "target_completion_date");
        assert_eq!(constraint_field("user_account_associations_user_id_fkey"), "user_id");
    }
}
