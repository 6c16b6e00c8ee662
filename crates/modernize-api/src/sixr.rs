//! 6R: an asset's recommendation with its rationale, an analyst's override with a reason
//! (audited), and the engagement's counts per strategy. Thin handlers over
//! `modernize::service::sixr`.

use axum::Json;
use axum::extract::State;
use modernize::service::sixr::{self, AssetSixrView, OverrideInput, SixrSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::assets::{AssetPath, EngagementPath};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;
use crate::state::AppState;

/// An asset's strategy in force, the 6R phase's recommendation with its rationale, and the
/// overrides (newest first).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/six-r",
    tag = "six-r",
    params(AssetPath),
    responses(
        (status = 200, description = "The asset's 6R picture", body = AssetSixrView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset in this engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_asset_six_r(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssetPath>,
) -> Result<Json<AssetSixrView>, ApiError> {
    let view = sixr::asset_sixr(&state.pool, &caller.actor(), &path.account, &path.engagement, path.asset).await?;
    Ok(Json(view))
}

/// Overrides an asset's strategy with a reason (analyst). Recorded in the audit trail: who, when,
/// the old and new strategy, the reason.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/six-r/override",
    tag = "six-r",
    params(AssetPath),
    request_body = OverrideInput,
    responses(
        (status = 200, description = "The asset's 6R picture after the override", body = AssetSixrView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset in this engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or an unknown strategy (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn override_six_r(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssetPath>,
    Json(input): Json<OverrideInput>,
) -> Result<Json<AssetSixrView>, ApiError> {
    let view =
        sixr::override_strategy(&state.pool, &caller.actor(), &path.account, &path.engagement, path.asset, &input)
            .await?;
    Ok(Json(view))
}

/// How many of the engagement's assets hold each strategy (every strategy listed, 0 included),
/// and how many have none yet.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/six-r/summary",
    tag = "six-r",
    params(EngagementPath),
    responses(
        (status = 200, description = "Counts per strategy", body = SixrSummary),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_six_r_summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
) -> Result<Json<SixrSummary>, ApiError> {
    let summary = sixr::sixr_summary(&state.pool, &caller.actor(), &path.account, &path.engagement).await?;
    Ok(Json(summary))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_asset_six_r))
        .routes(routes!(override_six_r))
        .routes(routes!(get_six_r_summary))
}
