//! Field mappings of imports, and what a client account's reviews teach the mapping engine.

use serde::Serialize;
use uuid::Uuid;

use super::RepoError;
use crate::discovery::MappingSuggestion;
use crate::discovery::cleansing::{FieldMapping, TransformationRules};
use crate::models::{ImportFieldMapping, MappingStatus, TenantTable};
use crate::tenancy::TenantTx;

/// A reviewer's decision on a suggested mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    Approve,
    Reject,
    /// Approve with another target field (None: keep the column unmapped) and the rules that
    /// target needs (the mapping engine derives them, e.g. a unit conversion).
    Change {
        target: Option<String>,
        rules: TransformationRules,
    },
}

pub async fn review_mapping(
    tx: &mut TenantTx<'_>,
    mapping_id: Uuid,
    review: &Review,
) -> Result<ImportFieldMapping, RepoError> {
    let (status, target, rules) = match review {
        Review::Approve => (MappingStatus::Approved, None, None),
        Review::Reject => (MappingStatus::Rejected, None, None),
        Review::Change { target, rules } => (MappingStatus::Approved, target.clone(), Some(rules)),
    };
    let changed = rules.is_some();
    let row: Option<ImportFieldMapping> = sqlx::query_as(
        "UPDATE migration.import_field_mappings SET
             status = $3,
             target_field = CASE WHEN $5 THEN $4 ELSE target_field END,
             match_type = CASE WHEN $5 THEN 'user' ELSE match_type END,
             confidence_score = CASE WHEN $5 THEN 1.0 ELSE confidence_score END,
             transformation_rules = CASE WHEN $5 THEN $7 ELSE transformation_rules END,
             decided_by = 'reviewer', approved_by = $6, approved_at = now(), updated_at = now()
         WHERE client_account_id = $1 AND id = $2 RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(mapping_id)
    .bind(status)
    .bind(target)
    .bind(changed)
    .bind(tx.user_id())
    .bind(rules.map(sqlx::types::Json))
    .fetch_optional(tx.conn())
    .await?;
    row.ok_or_else(|| RepoError::not_found("field mapping", mapping_id))
}

/// One thing the client account's reviewers decided about a source column header.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LearnedMapping {
    pub source_field: String,
    pub target_field: Option<String>,
    pub approved: bool,
    pub decisions: i64,
    pub last_decided_at: chrono::DateTime<chrono::Utc>,
}

/// The latest decision of a reviewer per (header, target) of this client account: approvals to
/// prefer, rejections to avoid. What a confidence threshold decided (`decided_by = 'threshold'`,
/// migration 0008) teaches nothing: nobody looked at it. Nothing from other client accounts is
/// ever included.
pub async fn learned_mappings(tx: &mut TenantTx<'_>) -> Result<Vec<LearnedMapping>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT DISTINCT ON (lower(source_field), target_field)
                source_field, target_field, status = 'approved' AS approved,
                count(*) OVER (PARTITION BY lower(source_field), target_field) AS decisions,
                coalesce(approved_at, updated_at) AS last_decided_at
         FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND status <> 'suggested' AND decided_by = 'reviewer'
         ORDER BY lower(source_field), target_field, coalesce(approved_at, updated_at) DESC",
    )
    .bind(tx.client_account_id())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Forgets what was learned about a header: its reviewers' decisions count as suggestions again
/// (what a threshold decided was never learned and stays). Returns how many decisions were
/// forgotten.
pub async fn forget_learned_mapping(tx: &mut TenantTx<'_>, source_field: &str) -> Result<u64, RepoError> {
    let forgotten = sqlx::query(
        "UPDATE migration.import_field_mappings
         SET status = 'suggested', decided_by = NULL, approved_by = NULL, approved_at = NULL, updated_at = now()
         WHERE client_account_id = $1 AND lower(source_field) = lower($2) AND status <> 'suggested'
           AND decided_by = 'reviewer'",
    )
    .bind(tx.client_account_id())
    .bind(source_field)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(forgotten)
}

/// The field mappings of one import, in the order the file's columns were suggested.
pub async fn mappings_of_import(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
) -> Result<Vec<ImportFieldMapping>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT * FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 ORDER BY created_at, source_field",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Stores the engine's suggestion for one column of the import as `suggested` (a column already
/// suggested is left as it is: a re-run keeps reviewers' decisions), with up to five
/// `sample_values` (a JSON array) of the column.
pub async fn insert_suggestion(
    tx: &mut TenantTx<'_>,
    scope: &super::flows::PhaseScope,
    suggestion: &MappingSuggestion,
    sample_values: &serde_json::Value,
) -> Result<(), RepoError> {
    let engagement_id = tx.ctx().require_engagement(ImportFieldMapping::TABLE)?;
    sqlx::query(
        "INSERT INTO migration.import_field_mappings
             (client_account_id, engagement_id, data_import_id, master_flow_id, source_field, target_field,
              match_type, confidence_score, status, suggested_by, transformation_rules, sample_values,
              validation_errors)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'suggested', 'modernize-mapping', $9, $10, $11)
         ON CONFLICT (client_account_id, data_import_id, source_field) DO NOTHING",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(scope.data_import_id)
    .bind(scope.master_flow_id)
    .bind(&suggestion.source_field)
    .bind(&suggestion.target_field)
    .bind(&suggestion.match_type)
    .bind(suggestion.confidence.clamp(0.0, 1.0))
    .bind(&suggestion.transformation_rules)
    .bind(sample_values)
    .bind(serde_json::json!([{"explanation": suggestion.explanation, "alternatives": suggestion.alternatives}]))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Decides the import's suggestions still `suggested` by a confidence `threshold` (0..1):
/// approved when they have a target at or above it, rejected otherwise, `decided_by =
/// 'threshold'`. Returns how many were decided.
pub async fn decide_suggestions(tx: &mut TenantTx<'_>, data_import_id: Uuid, threshold: f64) -> Result<u64, RepoError> {
    let decided = sqlx::query(
        "UPDATE migration.import_field_mappings SET approved_at = now(), updated_at = now(),
                decided_by = 'threshold',
                status = CASE WHEN target_field IS NOT NULL AND confidence_score >= $3
                              THEN 'approved' ELSE 'rejected' END::migration.mapping_status
         WHERE client_account_id = $1 AND data_import_id = $2 AND status = 'suggested'",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(threshold)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(decided)
}

/// How many field mappings the import has: all of them, or those in `status`.
pub async fn count_mappings(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    status: Option<MappingStatus>,
) -> Result<i64, RepoError> {
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 AND ($3::migration.mapping_status IS NULL OR status = $3)",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(status)
    .fetch_one(tx.conn())
    .await?;
    Ok(count)
}

/// The import's approved mappings that have a target, with their rules: what cleansing applies.
/// Rules that do not decode are an error (Decode), never a default.
pub async fn approved_mappings(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<Vec<FieldMapping>, RepoError> {
    let rows: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT source_field, target_field, transformation_rules FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 AND status = 'approved' AND target_field IS NOT NULL",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|(source_field, target_field, rules)| {
            let rules = serde_json::from_value::<TransformationRules>(rules)
                .map_err(|source| RepoError::Decode { what: "transformation rules of a field mapping", source })?;
            Ok(FieldMapping { source_field, target_field, rules })
        })
        .collect()
}
