//! Dependencies between an engagement's assets: a paged listing and the graph around an asset
//! or application. Thin handlers over `modernize::service::dependencies`.

use axum::Json;
use axum::extract::State;
use modernize::service::dependencies::{self, DependencyGraph, DependencyPage};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::assets::{AssetPath, EngagementPath};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// Which dependencies, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DependencyParams {
    /// Only the dependencies of this asset (at either end).
    pub asset: Option<Uuid>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
    /// Dependencies per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// How far the graph reaches.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GraphParams {
    /// Dependencies away from the asset, either direction: 1 to 5 (default 2).
    #[param(minimum = 1, maximum = 5)]
    pub depth: Option<i32>,
}

/// Dependencies of the engagement (or of one asset), one page at a time, with the total.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/dependencies",
    tag = "dependencies",
    params(EngagementPath, DependencyParams),
    responses(
        (status = 200, description = "A page of dependencies", body = DependencyPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, engagement or asset (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad limit", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_dependencies(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
    Query(params): Query<DependencyParams>,
) -> Result<Json<DependencyPage>, ApiError> {
    let page = dependencies::list_dependencies(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        params.asset,
        params.cursor,
        params.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(page))
}

/// The assets within `depth` dependencies of an asset or application, and the dependencies
/// between them (nodes and edges for a graph view; at most 500 nodes, nearest first).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/dependency-graph",
    tag = "dependencies",
    params(AssetPath, GraphParams),
    responses(
        (status = 200, description = "The graph", body = DependencyGraph),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset in this engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A depth out of range", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_dependency_graph(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssetPath>,
    Query(params): Query<GraphParams>,
) -> Result<Json<DependencyGraph>, ApiError> {
    let graph = dependencies::dependency_graph(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        path.asset,
        params.depth.unwrap_or(2),
    )
    .await?;
    Ok(Json(graph))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_dependencies)).routes(routes!(get_dependency_graph))
}
