//! The 6R phase's reads and writes (the assets of a flow a page at a time, the analysis and its
//! recommendations), and what it recorded: the latest recommendation for an asset, and the
//! strategies in force across an engagement.

use serde_json::{Value, json};
use uuid::Uuid;

use super::RepoError;
use crate::discovery::sixr::{AssetFacts, Recommendation};
use crate::models::{Asset, SixrAnalysis, SixrRecommendation, SixrStrategy, TenantTable};
use crate::tenancy::TenantTx;

/// The cursor [`open_assessed_assets`] declares; it ends with its transaction.
const ASSESSED_CURSOR: &str = "sixr_assessed_assets";

/// Opens, in the transaction, a cursor over the assets of `discovery_flow_id` the 6R analysis
/// covers (VM templates, SRM placeholders and derived ESXi hosts left out), in name order, for
/// [`fetch_assessed_assets`]. The rows are not locked: the phase writes no asset. One cursor per
/// transaction.
pub async fn open_assessed_assets(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<(), RepoError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DECLARE {ASSESSED_CURSOR} NO SCROLL CURSOR FOR
         SELECT id, name, asset_type, operating_system, os_version, environment, cpu_utilization_percent,
                business_criticality, database_type, virtualization_platform, completeness_score,
                custom_attributes #>> '{{vmware,power_state}}' AS power_state
         FROM migration.assets WHERE client_account_id = $1 AND discovery_flow_id = $2
           AND NOT coalesce((custom_attributes #>> '{{vmware,template}}')::boolean, false)
           AND NOT coalesce((custom_attributes #>> '{{vmware,srm_placeholder}}')::boolean, false)
           AND NOT coalesce((custom_attributes #>> '{{vmware,esxi_host}}')::boolean, false)
         ORDER BY name, id"
    )))
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The next `rows` (at least 1) assets of the cursor [`open_assessed_assets`] opened; empty at its end.
pub async fn fetch_assessed_assets(tx: &mut TenantTx<'_>, rows: usize) -> Result<Vec<AssessableAsset>, RepoError> {
    let assets = sqlx::query_as(sqlx::AssertSqlSafe(format!("FETCH FORWARD {} FROM {ASSESSED_CURSOR}", rows.max(1))))
        .fetch_all(tx.conn())
        .await?;
    Ok(assets)
}

/// How many assets of `discovery_flow_id` are VM templates or SRM placeholders (left out of 6R).
pub async fn count_templates_and_placeholders(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
) -> Result<i64, RepoError> {
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM migration.assets WHERE client_account_id = $1 AND discovery_flow_id = $2
           AND (coalesce((custom_attributes #>> '{vmware,template}')::boolean, false)
                OR coalesce((custom_attributes #>> '{vmware,srm_placeholder}')::boolean, false))",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(count)
}

/// Replaces the rules analysis of `master_flow_id` (its recommendations go with it) by a new,
/// empty one (`in_progress`) of the transaction's engagement; returns its id. The transaction
/// fills it ([`insert_recommendations`]) and completes it ([`complete_analysis`]).
pub async fn replace_flow_analysis(tx: &mut TenantTx<'_>, master_flow_id: Uuid) -> Result<Uuid, RepoError> {
    let engagement = tx.ctx().require_engagement(SixrAnalysis::TABLE)?;
    sqlx::query("DELETE FROM migration.sixr_analyses WHERE client_account_id = $1 AND master_flow_id = $2")
        .bind(tx.client_account_id())
        .bind(master_flow_id)
        .execute(tx.conn())
        .await?;
    let id = sqlx::query_scalar(
        "INSERT INTO migration.sixr_analyses (client_account_id, engagement_id, master_flow_id, name, status)
         VALUES ($1, $2, $3, 'Discovery 6R (rules)', 'in_progress') RETURNING id",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(master_flow_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

/// Records `recommendations[i]` for asset `asset_ids[i]` in analysis `analysis_id` (the slices
/// are of equal length).
pub async fn insert_recommendations(
    tx: &mut TenantTx<'_>,
    analysis_id: Uuid,
    asset_ids: &[Uuid],
    recommendations: &[Recommendation],
) -> Result<(), RepoError> {
    let strategies: Vec<SixrStrategy> = recommendations.iter().map(|r| r.strategy).collect();
    let confidences: Vec<f64> = recommendations.iter().map(|r| r.confidence).collect();
    let rationales: Vec<Value> = recommendations.iter().map(|r| json!(r.rationale)).collect();
    sqlx::query(
        "INSERT INTO migration.sixr_recommendations (client_account_id, analysis_id, asset_id,
                recommended_strategy, confidence_score, rationale, key_factors)
         SELECT $1, $2, r.asset_id, r.strategy, r.confidence, r.rationale, r.rationale
         FROM unnest($3::uuid[], $4::migration.sixr_strategy[], $5::float8[], $6::jsonb[])
              AS r(asset_id, strategy, confidence, rationale)",
    )
    .bind(tx.client_account_id())
    .bind(analysis_id)
    .bind(asset_ids)
    .bind(&strategies)
    .bind(&confidences)
    .bind(&rationales)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Completes analysis `analysis_id` with its figures: the dominant strategy, the mean confidence
/// (0 to 1) and the count of each strategy (`analysis_config.strategy_counts`); its
/// `application_ids` are the assets it recommended for, in name order, gathered by the database.
pub async fn complete_analysis(
    tx: &mut TenantTx<'_>,
    analysis_id: Uuid,
    dominant: Option<SixrStrategy>,
    confidence: Option<f64>,
    strategy_counts: &Value,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.sixr_analyses s
            SET status = 'completed', final_recommendation = $3, confidence_score = $4, progress_percentage = 100,
                completed_at = now(), analysis_config = jsonb_build_object('engine', 'rules', 'strategy_counts', $5::jsonb),
                application_ids = coalesce((
                    SELECT array_agg(r.asset_id ORDER BY a.name, a.id) FROM migration.sixr_recommendations r
                    JOIN migration.assets a ON a.client_account_id = r.client_account_id AND a.id = r.asset_id
                    WHERE r.client_account_id = $1 AND r.analysis_id = $2), '{}')
         WHERE s.client_account_id = $1 AND s.id = $2",
    )
    .bind(tx.client_account_id())
    .bind(analysis_id)
    .bind(dominant)
    .bind(confidence)
    .bind(strategy_counts)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A recommendation with the analysis that made it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecommendationOfAnalysis {
    #[sqlx(flatten)]
    pub recommendation: SixrRecommendation,
    pub analysis_name: String,
}

/// The newest recommendation for `asset_id` made by an analysis of the transaction's engagement.
pub async fn latest_recommendation(
    tx: &mut TenantTx<'_>,
    asset_id: Uuid,
) -> Result<Option<RecommendationOfAnalysis>, RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let found = sqlx::query_as(
        "SELECT r.*, a.name AS analysis_name FROM migration.sixr_recommendations r
         JOIN migration.sixr_analyses a ON a.client_account_id = r.client_account_id AND a.id = r.analysis_id
         WHERE r.client_account_id = $1 AND a.engagement_id = $2 AND r.asset_id = $3
         ORDER BY r.created_at DESC, r.iteration_number DESC, r.id LIMIT 1",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(asset_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(found)
}

/// How many assets of the transaction's engagement hold each strategy (None: no strategy yet).
pub async fn strategy_counts(tx: &mut TenantTx<'_>) -> Result<Vec<(Option<SixrStrategy>, i64)>, RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let counts = sqlx::query_as(
        "SELECT six_r_strategy, count(*) FROM migration.assets
         WHERE client_account_id = $1 AND engagement_id = $2 GROUP BY six_r_strategy ORDER BY six_r_strategy",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .fetch_all(tx.conn())
    .await?;
    Ok(counts)
}

/// An asset the 6R rules assess, with the facts they read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssessableAsset {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub facts: AssetFacts,
}
