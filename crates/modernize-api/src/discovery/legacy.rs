//! The old platform's import endpoint (seed tasks 4.2, 4.3): `POST /api/v1/imports` and its old
//! path `POST /v3/imports`. The tenant comes from the `X-Client-Account-Id` and `X-Engagement-Id`
//! headers (id or slug; still authenticated: a tenant the caller cannot reach is 404). Two ways
//! to send an import:
//!
//! - **multipart**: a `metadata` part (JSON, old or new field names) and the `file` part,
//!   streamed to disk like `…/imports`; the discovery starts at once (202);
//! - **JSON** (what the old frontend sends): the metadata alone creates the import, `pending`
//!   (201, with the URL of its content), then `PUT …/imports/{id}/content` streams the file and
//!   starts the discovery (202).
//!
//! Old names (`source_filename`, `file_size_bytes`, `file_type`) are accepted; the same field
//! under both names with different values is 422 naming both; `is_mock`, `file_hash` and
//! `import_config` are ignored. Either answers with a `Deprecation` header; responses use only
//! the new names. The names are resolved once, by `modernize::repo::imports::DataImportInput`.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use modernize::discovery::ingest::Encoding;
use modernize::discovery::pipeline::ImportOptions;
use modernize::repo::imports::{DataImportInput, Deprecation};
use modernize::service::discovery::{self, ImportView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

use super::imports::{ImportStarted, flow_url};
use super::upload;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// The old platform's tenant headers.
const ACCOUNT_HEADER: &str = "x-client-account-id";
const ENGAGEMENT_HEADER: &str = "x-engagement-id";

/// The import as the old or the new API names it: the `metadata` part of a multipart request
/// (all optional; what is left out comes from the file), or the whole JSON request (`filename`
/// or `source_filename` required: the file comes later).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documentation only: the body is read as `DataImportInput`.
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

/// An import created by a JSON request, awaiting its file (201).
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingImport {
    #[serde(flatten)]
    pub import: ImportView,
    /// Where to `PUT` the file (with the same tenant headers); also the `Link` header
    /// (`rel="edit-media"`).
    pub upload_url: String,
}

/// The file of an import, as the body of `PUT …/content` (documentation only).
pub struct InventoryFileBody;

impl utoipa::PartialSchema for InventoryFileBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{KnownFormat, SchemaFormat};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The inventory file, as it is (CSV or a workbook)"))
            .into()
    }
}

impl ToSchema for InventoryFileBody {}

/// How to read the file sent by `PUT …/content`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// The workbook's sheet (default: the first).
    pub sheet: Option<String>,
    /// How a CSV's bytes are decoded: `auto` (default), `utf8` or `latin1`.
    #[param(value_type = Option<String>)]
    pub encoding: Option<Encoding>,
    /// Approve suggested field mappings at or above this confidence (0..1) and go on without a
    /// review.
    #[param(minimum = 0.0, maximum = 1.0)]
    pub accept_above: Option<f64>,
}

/// The import whose file is sent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ContentPath {
    /// The data import's id (from the 201 of the JSON request).
    pub import_id: Uuid,
}

fn tenant_header(headers: &HeaderMap, name: &str) -> Result<String, ApiError> {
    let value = headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    value.map(str::to_owned).ok_or_else(|| ApiError::invalid(name, "this header names the tenant: an id or a slug"))
}

fn tenant(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    Ok((tenant_header(headers, ACCOUNT_HEADER)?, tenant_header(headers, ENGAGEMENT_HEADER)?))
}

/// The import's JSON (the metadata part or the whole body) as `DataImportInput`: 400 for text
/// that is no JSON, 422 naming the field for a wrong shape.
fn parse_metadata(bytes: &[u8]) -> Result<DataImportInput, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("the import is not JSON: {inner}"));
        }
        let message = inner.to_string();
        let field = match path.as_str() {
            // Unknown and missing fields are named in the message, not the path.
            "." | "" => message.split("field `").nth(1).and_then(|r| r.split('`').next()).unwrap_or("body").to_owned(),
            path => path.to_owned(),
        };
        ApiError::Invalid { message: format!("invalid {field}: {message}"), field }
    })
}

/// `Deprecation: true` when old or ignored fields were used (listed in `X-Deprecated-Fields`),
/// and always on the old path.
fn deprecation_headers(old_path: bool, deprecations: &[Deprecation]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if old_path || !deprecations.is_empty() {
        headers.insert("deprecation", HeaderValue::from_static("true"));
        let notes: Vec<&str> = deprecations.iter().map(|d| d.message.as_str()).collect();
        if let (false, Ok(value)) = (notes.is_empty(), HeaderValue::from_str(&notes.join("; "))) {
            headers.insert("x-deprecated-fields", value);
        }
    }
    headers
}

fn media_type(headers: &HeaderMap) -> String {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

async fn legacy_import(
    state: AppState,
    caller: Caller,
    request: Request,
    old_path: bool,
) -> Result<Response, ApiError> {
    let (account, engagement) = tenant(request.headers())?;
    match media_type(request.headers()).as_str() {
        "multipart/form-data" => legacy_upload(state, caller, request, old_path, account, engagement).await,
        "application/json" => legacy_create(state, caller, request, old_path, account, engagement).await,
        _ => Err(ApiError::UnsupportedMediaType(
            "send the import as application/json (its file then by PUT to its upload_url) or as \
             multipart/form-data with a `file` part"
                .into(),
        )),
    }
}

/// The multipart request: metadata and file at once, the discovery starts (202).
async fn legacy_upload(
    state: AppState,
    caller: Caller,
    request: Request,
    old_path: bool,
    account: String,
    engagement: String,
) -> Result<Response, ApiError> {
    let tenant = (account.as_str(), engagement.as_str());
    let started = upload::start_form_import(&state, &caller.actor(), tenant, request, Some(parse_metadata)).await?;
    let url = flow_url(&account, &engagement, started.discovery_flow_id);
    Ok(ImportStarted::new(&started, url).accepted(deprecation_headers(old_path, &started.deprecations)))
}

/// The JSON request: the import alone, `pending` until its file is PUT (201).
async fn legacy_create(
    state: AppState,
    caller: Caller,
    request: Request,
    old_path: bool,
    account: String,
    engagement: String,
) -> Result<Response, ApiError> {
    let bytes =
        upload::read_body(request.into_body(), state.config.max_json_body_bytes, state.config.request_timeout).await?;
    let metadata = parse_metadata(&bytes)?;
    let (import, deprecations) =
        discovery::create_pending_import(&state.pool, &caller.actor(), &account, &engagement, metadata).await?;
    let prefix = if old_path { "/v3" } else { "/api/v1" };
    let upload_url = format!("{prefix}/imports/{}/content", import.id);
    let location = format!("/api/v1/client-accounts/{account}/engagements/{engagement}/imports/{}", import.id);
    let mut headers = deprecation_headers(old_path, &deprecations);
    for (name, value) in [(header::LOCATION, location), (header::LINK, format!("<{upload_url}>; rel=\"edit-media\""))] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok((StatusCode::CREATED, headers, Json(PendingImport { import, upload_url })).into_response())
}

/// Whether a `PUT …/content` body is the file itself (415 otherwise): any declared type but a form
/// or JSON, which would be taken for the file's bytes. A body without a `Content-Type` is refused
/// too: nothing says it is the file rather than a client's mistake.
fn require_file_body(headers: &HeaderMap) -> Result<(), ApiError> {
    let media_type = media_type(headers);
    if media_type.is_empty() {
        return Err(ApiError::UnsupportedMediaType(
            "the Content-Type header is missing: send the file itself as the body with its type \
             (application/octet-stream, text/csv, a workbook's type)"
                .into(),
        ));
    }
    if media_type.starts_with("multipart/")
        || media_type == "application/x-www-form-urlencoded"
        || media_type.ends_with("json")
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the file itself as the body (application/octet-stream, text/csv, a workbook's type), not {media_type}"
        )));
    }
    Ok(())
}

async fn put_content(
    state: AppState,
    caller: Caller,
    import_id: Uuid,
    query: ContentQuery,
    request: Request,
    old_path: bool,
) -> Result<Response, ApiError> {
    let (account, engagement) = tenant(request.headers())?;
    require_file_body(request.headers())?;
    let actor = caller.actor();
    let import = discovery::authorize_import_upload(&state.pool, &actor, &account, &engagement, import_id).await?;
    let config = &state.config;
    let received = upload::receive_body(
        request.into_body(),
        &config.uploads_dir,
        &import.filename,
        config.max_upload_bytes,
        config.request_timeout,
    )
    .await?;
    let stored = received.keep().ok_or_else(|| ApiError::Internal("the received upload vanished".into()))?;
    let options = ImportOptions {
        sheet: query.sheet.filter(|s| !s.is_empty()),
        encoding: query.encoding.unwrap_or_default(),
        accept_above: query.accept_above,
        ..Default::default()
    };
    let started =
        discovery::start_pending_import(&state.pool, &actor, &account, &engagement, import_id, &stored, &options)
            .await?;
    let url = flow_url(&account, &engagement, started.discovery_flow_id);
    Ok(ImportStarted::new(&started, url).accepted(deprecation_headers(old_path, &[])))
}

/// Creates an import, the old platform's way (analyst): tenant in the `X-Client-Account-Id` /
/// `X-Engagement-Id` headers, old or new field names.
///
/// - `multipart/form-data` (`metadata` JSON part, `file`, optional `sheet`, `encoding`,
///   `accept_above`): the file is streamed to disk and the discovery starts: 202 as
///   `…/imports`, `Location` = the flow.
/// - `application/json` (the metadata alone; `filename` or `source_filename` required): the
///   import is created `pending`: 201 with the import, `Location` = the import, and its
///   `upload_url` (also `Link: <…>; rel="edit-media"`), where `PUT` sends the file.
///
/// A `Deprecation` header when old or ignored fields were used.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "imports",
    params(
        ("x-client-account-id" = String, Header, description = "Client account id or slug"),
        ("x-engagement-id" = String, Header, description = "Engagement id or slug"),
    ),
    request_body(content(
        (LegacyUploadForm = "multipart/form-data"),
        (LegacyImportMetadata = "application/json"),
    )),
    responses(
        (status = 201, description = "A JSON request: the import, awaiting its file at `upload_url`", body = PendingImport,
            headers(("location" = String, description = "The import"),
                    ("link" = String, description = "`<upload_url>; rel=\"edit-media\"`"),
                    ("deprecation" = String, description = "`true` when old or ignored fields were used"))),
        (status = 202, description = "A multipart request: the discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"),
                    ("deprecation" = String, description = "`true` when old or ignored fields were used"))),
        (status = 400, description = "Malformed multipart or JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file (or the JSON) is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is neither multipart/form-data nor application/json", body = Problem, content_type = "application/problem+json"),
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
    request_body(content(
        (LegacyUploadForm = "multipart/form-data"),
        (LegacyImportMetadata = "application/json"),
    )),
    responses(
        (status = 201, description = "A JSON request: the import, awaiting its file at `upload_url`", body = PendingImport,
            headers(("location" = String, description = "The import"),
                    ("link" = String, description = "`<upload_url>; rel=\"edit-media\"`"),
                    ("deprecation" = String, description = "Always `true`: use /api/v1"))),
        (status = 202, description = "A multipart request: the discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"),
                    ("deprecation" = String, description = "Always `true`: use /api/v1"))),
        (status = 400, description = "Malformed multipart or JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file (or the JSON) is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is neither multipart/form-data nor application/json", body = Problem, content_type = "application/problem+json"),
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

/// Sends the file of an import created by a JSON request, and starts its discovery (analyst).
///
/// The body is the file itself (not a form), streamed to disk as a multipart upload is: over the
/// server's upload limit 413, nothing kept. Its size must be the `file_size` the import declared
/// (422 naming `file_size`, nothing kept: the import still awaits its file). The import's
/// `filename` tells its format. Then the discovery flow starts under the import's master flow:
/// 202 with the flow's URL in `Location`. An import that already has its file: 409.
#[utoipa::path(
    put,
    path = "/api/v1/imports/{import_id}/content",
    tag = "imports",
    params(
        ContentPath,
        ContentQuery,
        ("x-client-account-id" = String, Header, description = "Client account id or slug"),
        ("x-engagement-id" = String, Header, description = "Engagement id or slug"),
    ),
    request_body(content = InventoryFileBody, content_type = "application/octet-stream"),
    responses(
        (status = 202, description = "The discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"))),
        (status = 400, description = "A query parameter or the import id cannot be read, or the upload broke off", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such import in this engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The import already has its file", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "No Content-Type header, or the body is a form or JSON, not the file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing tenant header, a size that is not the declared file_size, a bad option, or a file that is no inventory", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn put_import_content(
    State(state): State<AppState>,
    caller: Caller,
    Path(ContentPath { import_id }): Path<ContentPath>,
    Query(query): Query<ContentQuery>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    put_content(state, caller, import_id, query, request, false).await
}

/// The old frontend's path for [`put_import_content`]; always answers with `Deprecation: true`.
#[utoipa::path(
    put,
    path = "/v3/imports/{import_id}/content",
    tag = "imports",
    params(
        ContentPath,
        ContentQuery,
        ("x-client-account-id" = String, Header, description = "Client account id or slug"),
        ("x-engagement-id" = String, Header, description = "Engagement id or slug"),
    ),
    request_body(content = InventoryFileBody, content_type = "application/octet-stream"),
    responses(
        (status = 202, description = "The discovery flow started", body = ImportStarted,
            headers(("location" = String, description = "The discovery flow"),
                    ("deprecation" = String, description = "Always `true`: use /api/v1"))),
        (status = 400, description = "A query parameter or the import id cannot be read, or the upload broke off", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role is weaker than analyst", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such import in this engagement (or not the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The import already has its file", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "No Content-Type header, or the body is a form or JSON, not the file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing tenant header, a size that is not the declared file_size, a bad option, or a file that is no inventory", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[deprecated = "the old platform's path; use PUT /api/v1/imports/{import_id}/content"]
pub async fn put_import_content_v3(
    State(state): State<AppState>,
    caller: Caller,
    Path(ContentPath { import_id }): Path<ContentPath>,
    Query(query): Query<ContentQuery>,
    request: Request<Body>,
) -> Result<Response, ApiError> {
    put_content(state, caller, import_id, query, request, true).await
}

#[allow(deprecated)]
pub fn routes() -> OpenApiRouter<AppState> {
    // Uploads are limited by the server's upload limit, counted while streaming; a JSON request
    // by the JSON limit, counted by `upload::read_body`.
    OpenApiRouter::new()
        .routes(routes!(create_import_compat).layer(DefaultBodyLimit::disable()))
        .routes(routes!(create_import_v3).layer(DefaultBodyLimit::disable()))
        .routes(routes!(put_import_content).layer(DefaultBodyLimit::disable()))
        .routes(routes!(put_import_content_v3).layer(DefaultBodyLimit::disable()))
}
