//! `…/flows` (discovery flows) and `…/master-flows`: list, read, summarise, pause, resume,
//! retry, cancel, and follow a flow's progress live (Server-Sent Events).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use modernize::discovery::summary::{FlowProgress, FlowSummary};
use modernize::models::FlowStatus;
use modernize::service::Actor;
use modernize::service::discovery::{self, FlowPage, FlowView, MasterFlowPage, MasterFlowView};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{PageQuery, TenantPath};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// The path of one flow.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FlowPath {
    /// Client account id or slug.
    pub account: String,
    /// Engagement id or slug.
    pub engagement: String,
    /// The discovery flow's id (or, under `master-flows`, the master flow's `flow_id`).
    pub flow_id: Uuid,
}

/// The engagement's discovery flows, newest first (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows",
    tag = "flows",
    params(TenantPath, PageQuery),
    responses(
        (status = 200, description = "One page of discovery flows", body = FlowPage),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_flows(
    State(state): State<AppState>,
    caller: Caller,
    Path(TenantPath { account, engagement }): Path<TenantPath>,
    Query(page): Query<PageQuery>,
) -> Result<Json<FlowPage>, ApiError> {
    let page = page.page()?;
    Ok(Json(discovery::list_flows(&state.pool, &caller.actor(), &account, Some(&engagement), page).await?))
}

/// One discovery flow (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "The flow", body = FlowView),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(FlowPath { account, engagement, flow_id }): Path<FlowPath>,
) -> Result<Json<FlowView>, ApiError> {
    Ok(Json(discovery::get_flow(&state.pool, &caller.actor(), &account, Some(&engagement), flow_id).await?))
}

/// What a discovery flow did: state, import counts and first bad rows, mappings, per-phase
/// figures and timings, and the inventory it produced (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/summary",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "The flow's summary", body = FlowSummary),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_flow_summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(FlowPath { account, engagement, flow_id }): Path<FlowPath>,
) -> Result<Json<FlowSummary>, ApiError> {
    Ok(Json(discovery::flow_summary(&state.pool, &caller.actor(), &account, Some(&engagement), flow_id).await?))
}

/// The flow after a lifecycle action.
async fn flow_after(state: &AppState, actor: &Actor<'_>, path: &FlowPath) -> Result<Json<FlowView>, ApiError> {
    Ok(Json(discovery::get_flow(&state.pool, actor, &path.account, Some(&path.engagement), path.flow_id).await?))
}

/// Pauses a running flow after the phase under way (analyst); 409 when it is not running.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/pause",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "Paused; the flow as it is now", body = FlowView),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flow is not running", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn pause_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
) -> Result<Json<FlowView>, ApiError> {
    let actor = caller.actor();
    discovery::pause_flow(&state.pool, &actor, &path.account, Some(&path.engagement), path.flow_id).await?;
    flow_after(&state, &actor, &path).await
}

/// How to resume a flow paused for the review of its mappings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResumeQuery {
    /// Decide the mappings still awaiting review: approved at or above this confidence (0..1),
    /// rejected below.
    pub accept_above: Option<f64>,
}

/// Resumes a paused flow at its first unfinished phase (analyst). A flow waiting for the review
/// of its mappings goes on once none awaits review; `accept_above` decides the rest. 409 when the
/// flow is not paused; 422 (field `accept_above`) while mappings still await review.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/resume",
    tag = "flows",
    params(FlowPath, ResumeQuery),
    responses(
        (status = 200, description = "Resumed; the flow as it is now", body = FlowView),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flow is not paused", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Mappings still await review, or a bad threshold", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn resume_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
    Query(query): Query<ResumeQuery>,
) -> Result<Json<FlowView>, ApiError> {
    let actor = caller.actor();
    let (account, engagement) = (&path.account, Some(path.engagement.as_str()));
    discovery::resume_flow(&state.pool, &actor, account, engagement, path.flow_id, query.accept_above).await?;
    flow_after(&state, &actor, &path).await
}

/// Runs a failed flow again from its failed phase (analyst); 409 when it has not failed.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/retry",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "Retrying; the flow as it is now", body = FlowView),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flow has not failed", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn retry_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
) -> Result<Json<FlowView>, ApiError> {
    let actor = caller.actor();
    discovery::retry_flow(&state.pool, &actor, &path.account, Some(&path.engagement), path.flow_id).await?;
    flow_after(&state, &actor, &path).await
}

/// Cancels a flow and its pending jobs (analyst); 409 when it already ended.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/cancel",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "Cancelled; the flow as it is now", body = FlowView),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flow already completed or was cancelled", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn cancel_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
) -> Result<Json<FlowView>, ApiError> {
    let actor = caller.actor();
    discovery::cancel_flow(&state.pool, &actor, &path.account, Some(&path.engagement), path.flow_id).await?;
    flow_after(&state, &actor, &path).await
}

/// How often a flow's event stream looks at the flow.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often a quiet event stream sends a comment, so proxies keep the connection open.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);

fn is_final(status: FlowStatus) -> bool {
    matches!(status, FlowStatus::Completed | FlowStatus::Failed | FlowStatus::Cancelled)
}

fn event(name: &str, progress: &FlowProgress) -> Event {
    Event::default().event(name).json_data(progress).unwrap_or_else(|_| Event::default().event(name))
}

/// Where the stream is: what it sent last, or done.
enum Watch {
    Polling { last: Option<FlowProgress> },
    Done,
}

/// The events of one look at the flow: `progress` when something changed, then `end` when the
/// flow is over (or `error` when the flow can no longer be read).
async fn look(pool: PgPool, actor: Actor<'static>, path: &FlowPath, watch: Watch) -> Option<(Vec<Event>, Watch)> {
    let Watch::Polling { last } = watch else { return None };
    if last.is_some() {
        tokio::time::sleep(POLL_EVERY).await;
    }
    let now = discovery::flow_progress(&pool, &actor, &path.account, Some(&path.engagement), path.flow_id).await;
    let now = match now {
        Ok(now) => now,
        Err(error) => {
            tracing::warn!(%error, flow_id = %path.flow_id, "flow events: the flow cannot be read");
            let ended = Event::default().event("error").data(error.to_string());
            return Some((vec![ended], Watch::Done));
        }
    };
    let mut events = Vec::new();
    if last.as_ref() != Some(&now) {
        events.push(event("progress", &now));
    }
    if is_final(now.status) {
        events.push(event("end", &now));
        return Some((events, Watch::Done));
    }
    Some((events, Watch::Polling { last: Some(now) }))
}

/// One event of a flow's stream (`text/event-stream`), as an EventSource reads it: the schema of
/// each event, for the OpenAPI document (the stream is written by axum's `Sse`).
#[derive(Debug, utoipa::ToSchema)]
pub struct FlowEvent {
    /// `progress`, or `end` for the last one.
    #[schema(example = "progress", pattern = "^(progress|end)$")]
    pub event: String,
    /// The flow's `FlowProgress`, as JSON.
    pub data: String,
}

/// Follows a discovery flow live (viewer): `text/event-stream` with a `progress` event (JSON
/// `FlowProgress`) whenever its status, phase or counts change, comments as keep-alives every
/// 15 s, and a last `end` event (the final `FlowProgress`) when the flow completes, fails or is
/// cancelled; then the stream closes. The first event describes the flow as it is.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/events",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "Server-Sent Events: `progress` (data: FlowProgress) and a last `end`",
            content_type = "text/event-stream", body = FlowEvent),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_flow_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let actor = caller.actor();
    // Refusals (404, 403) are answered as such, before the stream starts.
    discovery::flow_progress(&state.pool, &actor, &path.account, Some(&path.engagement), path.flow_id).await?;
    let pool = state.pool.clone();
    let events = stream::unfold((Watch::Polling { last: None }, path), move |(watch, path)| {
        let pool = pool.clone();
        async move {
            let (events, next) = look(pool, actor, &path, watch).await?;
            Some((events, (next, path)))
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(Ok)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY).text("keep-alive")))
}

/// The engagement's master flows, newest first, each naming its discovery flows (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/master-flows",
    tag = "flows",
    params(TenantPath, PageQuery),
    responses(
        (status = 200, description = "One page of master flows", body = MasterFlowPage),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_master_flows(
    State(state): State<AppState>,
    caller: Caller,
    Path(TenantPath { account, engagement }): Path<TenantPath>,
    Query(page): Query<PageQuery>,
) -> Result<Json<MasterFlowPage>, ApiError> {
    let page = page.page()?;
    Ok(Json(discovery::list_master_flows(&state.pool, &caller.actor(), &account, &engagement, page).await?))
}

/// One master flow, by its `flow_id`, with its transitions and phase timings (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/master-flows/{flow_id}",
    tag = "flows",
    params(FlowPath),
    responses(
        (status = 200, description = "The master flow", body = MasterFlowView),
        (status = 404, description = "No such master flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_master_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(FlowPath { account, engagement, flow_id }): Path<FlowPath>,
) -> Result<Json<MasterFlowView>, ApiError> {
    Ok(Json(discovery::get_master_flow(&state.pool, &caller.actor(), &account, &engagement, flow_id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows))
        .routes(routes!(get_flow))
        .routes(routes!(get_flow_summary))
        .routes(routes!(pause_flow))
        .routes(routes!(resume_flow))
        .routes(routes!(retry_flow))
        .routes(routes!(cancel_flow))
        .routes(routes!(get_flow_events))
        .routes(routes!(list_master_flows))
        .routes(routes!(get_master_flow))
}
