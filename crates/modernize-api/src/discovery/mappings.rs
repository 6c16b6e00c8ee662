//! `…/flows/{flow_id}/mappings`: the field mappings a reviewer decides on, one at a time or in
//! bulk, over `service::discovery::review_mappings` (the CLI's `flows review`).

use axum::Json;
use axum::extract::State;
use modernize::models::asset_fields::target_fields;
use modernize::service::discovery::{self, MappingAction, MappingDecision, MappingView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::flows::FlowPath;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;
use crate::state::AppState;

/// The flow's field mappings, and the asset fields a reviewer can map a column to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MappingList {
    pub mappings: Vec<MappingView>,
    /// Every asset field a column can be mapped to (`target_field` of the action `map`;
    /// the mappable fields of `modernize::models::asset_fields::ASSET_FIELDS`, in that order). Any other is refused with 422.
    pub target_fields: Vec<&'static str>,
}

impl MappingList {
    fn new(mappings: Vec<MappingView>) -> Self {
        Self { mappings, target_fields: target_fields().collect() }
    }
}

/// What to do with a mapping.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Keep the suggested target.
    Approve,
    /// Refuse it: the column stays unmapped (in custom_attributes).
    Reject,
    /// Map to `target_field` instead (null: keep the column unmapped).
    Map,
}

/// One reviewer's decision on one mapping.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingChange {
    pub action: ReviewAction,
    /// With `map`: an asset field, or null to keep the column unmapped.
    #[serde(default)]
    pub target_field: Option<String>,
}

impl MappingChange {
    fn action(self) -> Result<MappingAction, ApiError> {
        match (self.action, self.target_field) {
            (ReviewAction::Approve, None) => Ok(MappingAction::Approve),
            (ReviewAction::Reject, None) => Ok(MappingAction::Reject),
            (ReviewAction::Map, target) => Ok(MappingAction::Map(target)),
            (_, Some(_)) => Err(ApiError::invalid("target_field", "is only for the action `map`")),
        }
    }
}

/// A decision in a bulk review: a mapping named by its `mapping_id` or its `source_field`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecision {
    pub mapping_id: Option<Uuid>,
    /// The file's column (header), instead of `mapping_id`.
    pub source_field: Option<String>,
    pub action: ReviewAction,
    #[serde(default)]
    pub target_field: Option<String>,
}

/// Decisions applied all or none, in order; then, with `accept_above`, every suggestion still
/// awaiting review whose confidence is at least that (0..1) is approved.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReview {
    #[serde(default)]
    pub decisions: Vec<BulkDecision>,
    pub accept_above: Option<f64>,
}

impl BulkReview {
    fn decisions(self) -> Result<Vec<MappingDecision>, ApiError> {
        let mut decisions = Vec::with_capacity(self.decisions.len() + 1);
        for d in self.decisions {
            let action = MappingChange { action: d.action, target_field: d.target_field }.action()?;
            decisions.push(match (d.mapping_id, d.source_field) {
                (Some(id), None) => MappingDecision::Mapping { id, action },
                (None, Some(column)) => match action {
                    MappingAction::Approve => MappingDecision::Approve { column },
                    MappingAction::Reject => MappingDecision::Reject { column },
                    MappingAction::Map(target) => MappingDecision::Map { column, target },
                },
                _ => return Err(ApiError::invalid("mapping_id", "give either mapping_id or source_field")),
            });
        }
        if let Some(confidence) = self.accept_above {
            decisions.push(MappingDecision::ApproveAbove { confidence });
        }
        Ok(decisions)
    }
}

/// The path of one mapping.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MappingPath {
    /// Client account id or slug.
    pub account: String,
    /// Engagement id or slug.
    pub engagement: String,
    /// The discovery flow's id.
    pub flow_id: Uuid,
    /// The field mapping's id.
    pub mapping_id: Uuid,
}

/// The flow's field mappings: suggested target, confidence, the engine's explanation, sample
/// values and the review's state (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings",
    tag = "mappings",
    params(FlowPath),
    responses(
        (status = 200, description = "The mappings", body = MappingList),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_mappings(
    State(state): State<AppState>,
    caller: Caller,
    Path(FlowPath { account, engagement, flow_id }): Path<FlowPath>,
) -> Result<Json<MappingList>, ApiError> {
    let mappings = discovery::list_mappings(&state.pool, &caller.actor(), &account, Some(&engagement), flow_id).await?;
    Ok(Json(MappingList::new(mappings)))
}

/// Approves, rejects or changes the target of one mapping (analyst). A changed target must be an
/// asset field (422, `field: "target_field"`) and takes the unit its header names.
#[utoipa::path(
    patch,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings/{mapping_id}",
    tag = "mappings",
    params(MappingPath),
    request_body = MappingChange,
    responses(
        (status = 200, description = "The mapping afterwards", body = MappingView),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such mapping of this flow", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an asset field, or target_field without `map`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path(MappingPath { account, engagement, flow_id, mapping_id }): Path<MappingPath>,
    Json(change): Json<MappingChange>,
) -> Result<Json<MappingView>, ApiError> {
    let decision = MappingDecision::Mapping { id: mapping_id, action: change.action()? };
    let (pool, suggester) = (&state.pool, state.suggester.as_ref());
    let after = discovery::review_mappings(
        pool,
        &caller.actor(),
        suggester,
        &account,
        Some(&engagement),
        flow_id,
        std::slice::from_ref(&decision),
    )
    .await?;
    let mapping = after.into_iter().find(|m| m.id == mapping_id);
    Ok(Json(mapping.ok_or_else(|| ApiError::NotFound(format!("field mapping {mapping_id} not found")))?))
}

/// Reviews many mappings at once, all or none (analyst): decisions by `mapping_id` or
/// `source_field`, and/or `accept_above` to approve every suggestion at or above a confidence.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings/review",
    tag = "mappings",
    params(FlowPath),
    request_body = BulkReview,
    responses(
        (status = 200, description = "The flow's mappings afterwards", body = MappingList),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flow in this engagement, or a mapping not of it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A column not in the file, not an asset field, or a bad confidence", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn review_mappings(
    State(state): State<AppState>,
    caller: Caller,
    Path(FlowPath { account, engagement, flow_id }): Path<FlowPath>,
    Json(review): Json<BulkReview>,
) -> Result<Json<MappingList>, ApiError> {
    let decisions = review.decisions()?;
    let (pool, suggester) = (&state.pool, state.suggester.as_ref());
    let mappings =
        discovery::review_mappings(pool, &caller.actor(), suggester, &account, Some(&engagement), flow_id, &decisions)
            .await?;
    Ok(Json(MappingList::new(mappings)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_mappings)).routes(routes!(update_mapping)).routes(routes!(review_mappings))
}
