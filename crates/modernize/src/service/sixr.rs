//! 6R per asset: what the discovery's 6R phase recommended and why, an analyst's override with a
//! reason, and the engagement's counts per strategy.
//!
//! Overrides are recorded in the tenant's audit trail (`access_audit_log`, action `six_r_override`:
//! who, when, the old and new strategy in `details`, the reason in `reason`). That table was
//! chosen over `sixr_iterations` (whose `change_reason` would fit) because iterations belong to an
//! analysis, which the 6R phase replaces when it runs again, so an override kept there would be
//! deleted with it; the audit trail is kept whatever the phase does.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::assets::{asset_of_engagement, audit};
use super::{Actor, ServiceError, connection, engagement_ctx, require};
use crate::models::{Asset, AssetPatch, MemberRole, SixrStrategy};
use crate::repo::{RepoError, audit as audit_repo, sixr as sixr_repo, table};
use crate::tenancy::TenantTx;

/// The audit trail's action for an override (the 6R phase reads it: it keeps overridden strategies).
pub use crate::discovery::sixr::OVERRIDE_ACTION;

/// What the 6R phase recommended for an asset.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecommendationView {
    pub strategy: SixrStrategy,
    /// 0 to 1.
    pub confidence: f64,
    /// The facts of the asset that led to it, one sentence each.
    pub rationale: Vec<String>,
    pub analysis_id: Uuid,
    pub analysis_name: String,
    pub recommended_at: chrono::DateTime<chrono::Utc>,
}

/// An analyst's override of the strategy.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OverrideView {
    /// The strategy in force before (null: none).
    pub previous: Option<SixrStrategy>,
    pub strategy: SixrStrategy,
    pub reason: String,
    /// Who overrode it (null once the user is deleted).
    pub user_id: Option<Uuid>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The 6R picture of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetSixrView {
    pub asset_id: Uuid,
    /// The strategy in force (the recommendation's unless overridden).
    pub strategy: Option<SixrStrategy>,
    /// The 6R phase's newest recommendation; null when none was made.
    pub recommendation: Option<RecommendationView>,
    /// Whether the strategy in force comes from an override rather than the recommendation.
    pub overridden: bool,
    /// Overrides, newest first.
    pub overrides: Vec<OverrideView>,
}

/// An override: the new strategy and why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    pub strategy: SixrStrategy,
    /// Why the recommendation does not hold (1 to 2,000 characters).
    pub reason: String,
}

async fn sixr_view(tx: &mut TenantTx<'_>, asset: &Asset) -> Result<AssetSixrView, ServiceError> {
    let recommendation = match sixr_repo::latest_recommendation(tx, asset.id).await? {
        Some(found) => {
            let r = found.recommendation;
            let rationale: Vec<String> = serde_json::from_value(r.rationale)
                .map_err(|source| RepoError::Decode { what: "sixr_recommendations.rationale", source })?;
            Some(RecommendationView {
                strategy: r.recommended_strategy,
                confidence: r.confidence_score,
                rationale,
                analysis_id: r.analysis_id,
                analysis_name: found.analysis_name,
                recommended_at: r.created_at,
            })
        }
        None => None,
    };
    let trail = audit_repo::audit_trail(tx, "asset", &asset.id.to_string(), OVERRIDE_ACTION).await?;
    let overrides = trail
        .into_iter()
        .map(|entry| {
            let decode = |key: &str| {
                serde_json::from_value::<Option<SixrStrategy>>(entry.details[key].clone())
                    .map_err(|source| RepoError::Decode { what: "access_audit_log.details", source })
            };
            let strategy = decode("new")?.ok_or_else(|| RepoError::Decode {
                what: "access_audit_log.details",
                source: serde::de::Error::custom("an override without its new strategy"),
            })?;
            Ok(OverrideView {
                previous: decode("old")?,
                strategy,
                reason: entry.reason.unwrap_or_default(),
                user_id: entry.user_id,
                at: entry.created_at,
            })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    let overridden = overrides.first().is_some_and(|latest| Some(latest.strategy) == asset.six_r_strategy)
        && recommendation.as_ref().is_none_or(|r| Some(r.strategy) != asset.six_r_strategy);
    Ok(AssetSixrView { asset_id: asset.id, strategy: asset.six_r_strategy, recommendation, overridden, overrides })
}

/// The 6R picture of an asset of the engagement (viewer).
pub async fn asset_sixr(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    asset_id: Uuid,
) -> Result<AssetSixrView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let asset = asset_of_engagement(&mut tx, asset_id).await?;
    let view = sixr_view(&mut tx, &asset).await?;
    tx.commit().await?;
    Ok(view)
}

/// The most characters an override's reason holds.
pub const MAX_REASON_CHARS: usize = 2000;

/// Overrides the strategy of an asset of the engagement (analyst) with a reason (Invalid
/// `reason` when blank or too long): the asset takes the strategy, and the audit trail records
/// who, when, the old and new strategy and the reason, in one transaction.
pub async fn override_strategy(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    asset_id: Uuid,
    input: &OverrideInput,
) -> Result<AssetSixrView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "overriding a 6R recommendation")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let before = asset_of_engagement(&mut tx, asset_id).await?;
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.contains('\0') {
        return Err(ServiceError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters, without a NUL character"),
        ));
    }
    let patch = AssetPatch {
        six_r_strategy: Some(Some(input.strategy)),
        updated_by: ctx.user_id().map(Some),
        ..Default::default()
    };
    let after = table::update::<Asset>(&mut tx, asset_id, &patch).await?;
    let details = json!({"old": before.six_r_strategy, "new": input.strategy});
    audit(&mut tx, OVERRIDE_ACTION, Some(asset_id), Some(reason), details).await?;
    let view = sixr_view(&mut tx, &after).await?;
    tx.commit().await?;
    Ok(view)
}

/// How many assets hold one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StrategyCount {
    pub strategy: SixrStrategy,
    pub count: i64,
}

/// The engagement's assets per strategy in force (the dashboard's chart).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SixrSummary {
    pub total_assets: i64,
    /// Assets without a strategy yet.
    pub unassessed: i64,
    /// Every strategy, in the 6R order, with 0 where none holds it.
    pub strategies: Vec<StrategyCount>,
}

/// Counts per strategy for the engagement (viewer).
pub async fn sixr_summary(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<SixrSummary, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let counts = sixr_repo::strategy_counts(&mut tx).await?;
    tx.commit().await?;
    let count_of = |strategy: Option<SixrStrategy>| counts.iter().find(|(s, _)| *s == strategy).map_or(0, |(_, n)| *n);
    Ok(SixrSummary {
        total_assets: counts.iter().map(|(_, n)| n).sum(),
        unassessed: count_of(None),
        strategies: SixrStrategy::ALL
            .into_iter()
            .map(|strategy| StrategyCount { strategy, count: count_of(Some(strategy)) })
            .collect(),
    })
}
