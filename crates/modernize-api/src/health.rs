//! Probes for load balancers and orchestrators: no authentication, no tenant data.

use axum::Json;
use axum::extract::State;
use modernize::db::migrate;
use modernize::ops;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `ok`.
    pub status: String,
}

/// Readiness: the database answers and its schema is at the version this binary expects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyView {
    /// `ready`.
    pub status: String,
    /// The schema version the database is at.
    pub schema_version: i64,
}

/// The process is alive (it answers; nothing else is checked).
#[utoipa::path(get, path = "/health", tag = "health", security(()),
    responses((status = 200, description = "Alive", body = HealthView)))]
pub async fn get_health() -> Json<HealthView> {
    Json(HealthView { status: "ok".into() })
}

/// The server can serve: the database is reachable, every migration is applied and maintenance
/// is off (during maintenance a load balancer should prefer another deployment; reads still work).
#[utoipa::path(get, path = "/ready", tag = "health", security(()),
    responses(
        (status = 200, description = "Ready", body = ReadyView),
        (status = 503, description = "Database unreachable, migrations pending, or in maintenance", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_ready(State(state): State<AppState>) -> Result<Json<ReadyView>, ApiError> {
    let unavailable = |what: &str, error: &dyn std::fmt::Display| {
        tracing::warn!(%error, "not ready: {what}");
        ApiError::Unavailable(what.into())
    };
    let mut conn = state.pool.acquire().await.map_err(|e| unavailable("database unreachable", &e))?;
    let status = migrate::status(&mut conn).await.map_err(|e| unavailable("cannot read the schema version", &e))?;
    if !status.is_current() {
        return Err(ApiError::Unavailable(format!(
            "schema at version {}, this server needs {}: run `modernize db upgrade`",
            status.current_version, status.latest_version
        )));
    }
    let maintenance =
        ops::maintenance(&mut conn).await.map_err(|e| unavailable("cannot read the maintenance flag", &e))?;
    if let Some(maintenance) = maintenance.filter(|m| m.active) {
        return Err(crate::maintenance::refusal(&maintenance));
    }
    Ok(Json(ReadyView { status: "ready".into(), schema_version: status.current_version }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_health)).routes(routes!(get_ready))
}
