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
