//! The old platform's import endpoint (seed tasks 4.2, 4.3): `POST /api/v1/imports` and its old
//! path `POST /v3/imports`. The tenant comes from the `X-Client-Account-Id` and `X-Engagement-Id`
//! headers (id or slug; still authenticated: a tenant the caller cannot reach is 404). The body is
//! multipart: a `metadata` part (JSON, old or new field names) and the `file` part, streamed to
//! disk like `…/imports`. Old names (`source_filename`, `file_size_bytes`, `file_type`) are
//! accepted; the same field under both names with different values is 422 naming both;
//! `is_mock`, `file_hash` and `import_config` are ignored. Either answers with a `Deprecation`
//! header; responses use only the new names.

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use modernize::discovery::pipeline::ImportOptions;
use modernize::repo::imports::DataImportInput;
use modernize::service::discovery;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::imports::{ImportStarted, flow_url, require_multipart};
use super::upload::{self, Receiving};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The old platform's tenant headers.
const ACCOUNT_HEADER: &str = "x-client-account-id";
const ENGAGEMENT_HEADER: &str = "x-engagement-id";

/// The `metadata` part: the import as the old or the new API names it (all optional; what is
/// left out comes from the file).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documentation only: the part is read as `DataImportInput`.
pub struct LegacyImportMetadata {
    filename: Option<String>,
    /// Old name of `filename`.
    #[schema(deprecated)]
    source_filename: Option<String>,
    /// Bytes; must be the uploaded file's size.
    file_size: Option<i64>,
    /// Old name of `file_size`.
    #[schema(deprecated)]
    file_size_bytes: Option<i64>,
    mime_type: Option<String>,
    /// Old name of `mime_type`.
    #[schema(deprecated)]
    file_type: Option<String>,
    /// A master flow of the engagement the new discovery belongs under (its parent).
    master_flow_id: Option<uuid::Uuid>,
    import_name: Option<String>,
    /// `cmdb` (default), …
    import_type: Option<String>,
    description: Option<String>,
    source_system: Option<String>,
    /// Ignored.
    #[schema(deprecated, value_type = Option<bool>)]
    is_mock: Option<serde_json::Value>,
    /// Ignored.
    #[schema(deprecated, value_type = Option<String>)]
    file_hash: Option<serde_json::Value>,
    /// Ignored.
    #[schema(deprecated, value_type = Option<Object>)]
    import_config: Option<serde_json::Value>,
}

/// The multipart form of the old endpoint (documentation only).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LegacyUploadForm {
    /// JSON.
    #[schema(content_media_type = "application/json")]
    metadata: Option<LegacyImportMetadata>,
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
    sheet: Option<String>,
    encoding: Option<String>,
    accept_above: Option<f64>,
}

fn tenant_header(headers: &HeaderMap, name: &str) -> Result<String, ApiError> {
    let value = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    value.map(str::to_owned).ok_or_else(|| ApiError::invalid(name, "this header names the tenant: an id or a slug"))
}

/// The metadata JSON, as `DataImportInput` (422 naming the field for a wrong shape).
fn parse_metadata(text: &str) -> Result<DataImportInput, ApiError> {
    serde_json::from_str(text).map_err(|error| {
        let message = error.to_string();
        let field = message.split("field `").nth(1).and_then(|r| r.split('`').next()).unwrap_or("metadata");
        ApiError::invalid(field.to_owned(), message.clone())
    })
}

/// 422 naming both names when one field is given under its new and old name with different values.
fn check_aliases(metadata: &DataImportInput) -> Result<(), ApiError> {
    let pairs = [
        ("filename", "source_filename", metadata.filename.as_deref() != metadata.source_filename.as_deref()),
        ("file_size", "file_size_bytes", metadata.file_size != metadata.file_size_bytes),
        ("mime_type", "file_type", metadata.mime_type.as_deref() != metadata.file_type.as_deref()),
    ];
    let given = [
        (metadata.filename.is_some(), metadata.source_filename.is_some()),
        (metadata.file_size.is_some(), metadata.file_size_bytes.is_some()),
        (metadata.mime_type.is_some(), metadata.file_type.is_some()),
    ];
    for ((new, old, differ), (has_new, has_old)) in pairs.into_iter().zip(given) {
        if has_new && has_old && differ {
            return Err(ApiError::Invalid {
                field: format!("{new},{old}"),
                message: format!("{new} and its old name {old} are both given, with different values: give one"),
            });
        }
    }
    Ok(())
}

async fn legacy_import(
    state: AppState,
    caller: Caller,
    request: Request,
    old_path: bool,
) -> Result<Response, ApiError> {
    let account = tenant_header(request.headers(), ACCOUNT_HEADER)?;
    let engagement = tenant_header(request.headers(), ENGAGEMENT_HEADER)?;
    require_multipart(request.headers())?;
    let actor = caller.actor();
    discovery::authorize_import(&state.pool, &actor, &account, &engagement).await?;
    let mut multipart = axum::extract::Multipart::from_request(request, &state)
        .await
        .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let config = &state.config;
    let idle = config.request_timeout;
    let mut options = ImportOptions::default();
    let mut metadata = DataImportInput::default();
    let mut received: Option<Receiving> = None;
    while let Some(field) = upload::next_field(&mut multipart, idle).await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if received.is_some() => return Err(ApiError::invalid("file", "given twice")),
            "file" => {
                received = Some(upload::receive_file(field, &config.uploads_dir, config.max_upload_bytes, idle).await?);
            }
            "metadata" => {
                metadata = parse_metadata(&upload::text_part(field, idle).await?)?;
                check_aliases(&metadata)?;
            }
            _ if upload::option_part(&name, field, &mut options, idle).await? => {}
            _ => {
                return Err(ApiError::invalid(
                    name.clone(),
                    format!("{name:?} is not a part of this form (metadata, file, sheet, encoding, accept_above)"),
                ));
            }
        }
    }
    let stored = received.and_then(Receiving::keep).ok_or_else(|| ApiError::invalid("file", "is required"))?;
    let started =
        discovery::start_uploaded_import(&state.pool, &actor, &account, &engagement, &stored, &options, metadata)
            .await?;
    let mut headers = HeaderMap::new();
    if old_path || !started.deprecations.is_empty() {
        headers.insert("deprecation", HeaderValue::from_static("true"));
        let notes: Vec<String> = started.deprecations.iter().map(|d| d.message.clone()).collect();
        if let (false, Ok(value)) = (notes.is_empty(), HeaderValue::from_str(&notes.join("; "))) {
            headers.insert("x-deprecated-fields", value);
        }
    }
    let url = flow_url(&account, &engagement, started.discovery_flow_id);
    Ok(ImportStarted::new(&started, url).accepted(headers))
}

/// Starts a discovery from an upload, the old platform's way (analyst): tenant in the
/// `X-Client-Account-Id` / `X-Engagement-Id` headers, multipart `metadata` (JSON, old or new
/// names) and `file`. Answers as `…/imports` (202, Location); a `Deprecation` header when old or
/// ignored fields were used.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "imports",
    params(
        ("x-client-account-id" = String, Header, description = "Client account id or slug"),
        ("x-engagement-id" = String, Header, description = "Engagement id or slug"),
    ),
    request_body(content = LegacyUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "The discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"),
                    ("deprecation" = String, description = "`true` when old or ignored fields were used"))),
        (status = 400, description = "Malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing tenant header, conflicting old and new names (both named), bad metadata or file", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_import_compat(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    legacy_import(state, caller, request, false).await
}

/// The old frontend's path for [`create_import_compat`]; always answers with `Deprecation: true`.
#[utoipa::path(
    post,
    path = "/v3/imports",
    tag = "imports",
    params(
        ("x-client-account-id" = String, Header, description = "Client account id or slug"),
        ("x-engagement-id" = String, Header, description = "Engagement id or slug"),
    ),
    request_body(content = LegacyUploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "The discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"),
                    ("deprecation" = String, description = "Always `true`: use /api/v1"))),
        (status = 400, description = "Malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing tenant header, conflicting old and new names (both named), bad metadata or file", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[deprecated = "the old platform's path; use POST /api/v1/imports"]
pub async fn create_import_v3(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    legacy_import(state, caller, request, true).await
}

#[allow(deprecated)]
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_import_compat).layer(DefaultBodyLimit::disable()))
        .routes(routes!(create_import_v3).layer(DefaultBodyLimit::disable()))
}
