//! `…/imports`: upload an inventory file (multipart, streamed to disk), which starts a discovery
//! flow; list and read imports.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use modernize::discovery::pipeline::Started;
use modernize::service::discovery::{self, ImportPage, ImportView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

use super::upload;
use super::{PageQuery, TenantPath};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// The flow an upload started (202 Accepted: the phases run in the background).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportStarted {
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
    /// The discovery flow's URL (also the `Location` header): its state, summary and events.
    pub flow_url: String,
}

impl ImportStarted {
    pub(crate) fn new(started: &Started, flow_url: String) -> Self {
        Self {
            master_flow_id: started.master_flow_id,
            discovery_flow_id: started.discovery_flow_id,
            data_import_id: started.data_import_id,
            flow_url,
        }
    }

    /// 202 with `Location` and this body, plus any extra headers.
    pub(crate) fn accepted(self, mut headers: HeaderMap) -> Response {
        if let Ok(location) = HeaderValue::from_str(&self.flow_url) {
            headers.insert(header::LOCATION, location);
        }
        (StatusCode::ACCEPTED, headers, Json(self)).into_response()
    }
}

/// The URL of a discovery flow.
pub(crate) fn flow_url(account: &str, engagement: &str, flow_id: Uuid) -> String {
    format!("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}")
}

/// The multipart form of an upload (documentation only: the body is read as a stream).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The inventory file: CSV (`.csv`, `.txt`, `.tsv`) or a workbook (`.xlsx`, `.xlsm`, `.xls`,
    /// `.xlsb`, `.ods`); its file name's extension tells which.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    /// The workbook's sheet (default: the first).
    sheet: Option<String>,
    /// How a CSV's bytes are decoded: `auto` (default), `utf8` or `latin1`.
    encoding: Option<String>,
    /// Approve suggested field mappings at or above this confidence (0..1) and go on without a
    /// review; without it the flow pauses for a reviewer after suggesting mappings.
    accept_above: Option<f64>,
}

/// Whether the request's body is multipart/form-data (415 otherwise).
pub(crate) fn require_multipart(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("send the upload as multipart/form-data with a `file` part".into()))
    }
}

/// Uploads an inventory file and starts its discovery flow (analyst).
///
/// The body is `multipart/form-data` with a `file` part and optional `sheet`, `encoding` and
/// `accept_above` parts. The file is streamed to disk (private, 0600) and never held in memory;
/// over the server's upload limit (default 1 GiB) the answer is 413 and nothing is kept. The
/// file's structure is checked before the flow starts (422, field `file`). Then the master flow,
/// its discovery flow and the import are created and the first phase is queued: 202 with the
/// flow's URL in `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/imports",
    tag = "imports",
    params(TenantPath),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "The discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"))),
        (status = 400, description = "Malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file, an unknown part, a bad option, or a file that is no inventory", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    Path(TenantPath { account, engagement }): Path<TenantPath>,
    request: Request,
) -> Result<Response, ApiError> {
    require_multipart(request.headers())?;
    let tenant = (account.as_str(), engagement.as_str());
    let started = upload::start_form_import(&state, &caller.actor(), tenant, request, None).await?;
    let url = flow_url(&account, &engagement, started.discovery_flow_id);
    Ok(ImportStarted::new(&started, url).accepted(HeaderMap::new()))
}

/// The engagement's imports, newest first (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/imports",
    tag = "imports",
    params(TenantPath, PageQuery),
    responses(
        (status = 200, description = "One page of imports", body = ImportPage),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
    Path(TenantPath { account, engagement }): Path<TenantPath>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ImportPage>, ApiError> {
    let page = page.page()?;
    Ok(Json(discovery::list_imports(&state.pool, &caller.actor(), &account, &engagement, page).await?))
}

/// The path of one import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImportPath {
    /// Client account id or slug.
    pub account: String,
    /// Engagement id or slug.
    pub engagement: String,
    /// The data import's id.
    pub import_id: Uuid,
}

/// One import of the engagement (viewer).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/imports/{import_id}",
    tag = "imports",
    params(ImportPath),
    responses(
        (status = 200, description = "The import", body = ImportView),
        (status = 404, description = "No such import in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    Path(ImportPath { account, engagement, import_id }): Path<ImportPath>,
) -> Result<Json<ImportView>, ApiError> {
    Ok(Json(discovery::get_import(&state.pool, &caller.actor(), &account, &engagement, import_id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Uploads are limited by the server's upload limit, counted while streaming, not by the
        // JSON body limit.
        .routes(routes!(create_import, list_imports).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_import))
}
