//! What the 6R phase recorded: the latest recommendation for an asset, and the strategies in
//! force across an engagement.

use uuid::Uuid;

use super::RepoError;
use crate::models::{Asset, SixrRecommendation, SixrStrategy, TenantTable};
use crate::tenancy::TenantTx;

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
    pub facts: crate::discovery::sixr::AssetFacts,
}

/// Condition on `assets` of the assets 6R leaves out: VM templates, SRM placeholders, ESXi hosts.
const EXCLUDED: &str = "(coalesce((custom_attributes #>> '{vmware,template}')::boolean, false)
    OR coalesce((custom_attributes #>> '{vmware,srm_placeholder}')::boolean, false)
    OR coalesce((custom_attributes #>> '{vmware,esxi_host}')::boolean, false))";

/// Up to `limit` assets of the discovery flow that 6R assesses, by id after `after` (a keyset
/// page: the next starts after the last id of this one).
pub async fn assessable_assets(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<AssessableAsset>, RepoError> {
    let assets = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, asset_type, operating_system, os_version, environment, cpu_utilization_percent,
                business_criticality, database_type, virtualization_platform, completeness_score,
                custom_attributes #>> '{{vmware,power_state}}' AS power_state
         FROM migration.assets WHERE client_account_id = $1 AND discovery_flow_id = $2
           AND ($3::uuid IS NULL OR id > $3) AND NOT {EXCLUDED}
         ORDER BY id LIMIT $4"
    )))
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(assets)
}

/// How many assets of the discovery flow are VM templates or SRM placeholders (out of 6R).
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

/// Starts the rules' 6R analysis of a master flow, replacing a previous one of that flow (with
/// its recommendations): an empty, completed analysis that [`add_recommendations`] fills and
/// [`finish_analysis`] sums up. Returns its id.
pub async fn start_analysis(tx: &mut TenantTx<'_>, master_flow_id: Uuid) -> Result<Uuid, RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    sqlx::query("DELETE FROM migration.sixr_analyses WHERE client_account_id = $1 AND master_flow_id = $2")
        .bind(tx.client_account_id())
        .bind(master_flow_id)
        .execute(tx.conn())
        .await?;
    let id = sqlx::query_scalar(
        "INSERT INTO migration.sixr_analyses (client_account_id, engagement_id, master_flow_id, name, status,
                application_ids, progress_percentage, completed_at, analysis_config)
         VALUES ($1, $2, $3, 'Discovery 6R (rules)', 'completed', '{}', 100, now(), '{\"engine\": \"rules\"}')
         RETURNING id",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(master_flow_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

/// Records recommendations of the analysis: for each asset (`asset_ids`, with `strategies`,
/// `confidences` in 0..1 and `rationales`, JSON arrays of sentences, of the same length) its
/// strategy, with the rationale as its key factors.
pub async fn add_recommendations(
    tx: &mut TenantTx<'_>,
    analysis_id: Uuid,
    asset_ids: &[Uuid],
    strategies: &[SixrStrategy],
    confidences: &[f64],
    rationales: &[serde_json::Value],
) -> Result<(), RepoError> {
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
    .bind(strategies)
    .bind(confidences)
    .bind(rationales)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Sums up the analysis: the assets it recommended for (from its recommendations, in the
/// database), the dominant strategy, the mean confidence (0..1) and the counts per strategy
/// (`strategy_counts`, a JSON object kept in its configuration).
pub async fn finish_analysis(
    tx: &mut TenantTx<'_>,
    analysis_id: Uuid,
    dominant: Option<SixrStrategy>,
    confidence: Option<f64>,
    strategy_counts: &serde_json::Value,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.sixr_analyses SET final_recommendation = $3, confidence_score = $4,
                analysis_config = analysis_config || jsonb_build_object('strategy_counts', $5::jsonb),
                application_ids = coalesce((SELECT array_agg(asset_id ORDER BY asset_id)
                                            FROM migration.sixr_recommendations
                                            WHERE client_account_id = $1 AND analysis_id = $2), '{}')
         WHERE client_account_id = $1 AND id = $2",
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
