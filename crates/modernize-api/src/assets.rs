//! The asset inventory of an engagement: list (filters, sort, keyset pages, total), get, edit one,
//! edit a filtered set, export a filtered set as CSV (streamed) or XLSX. Thin handlers over `modernize::service::assets`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use modernize::models::CriticalityLevel;
use modernize::repo::assets::{AssetFilter, AssetSort, SortOrder};
use modernize::service::assets::{self, AssetPage, AssetQuery, AssetView, BulkEditResult};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// The tenant of a route: a client account and one of its engagements, each by id or slug.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EngagementPath {
    /// The client account's id or slug.
    pub account: String,
    /// The engagement's id or slug.
    pub engagement: String,
}

/// One asset of an engagement.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssetPath {
    /// The client account's id or slug.
    pub account: String,
    /// The engagement's id or slug.
    pub engagement: String,
    /// The asset's id.
    pub asset: Uuid,
}

/// Sort and page of an asset listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The column to sort by (default `name`); ties go by id.
    #[param(inline)]
    pub sort: Option<AssetSort>,
    /// `asc` (default) or `desc`; empty values come last either way.
    #[param(inline)]
    pub order: Option<SortOrder>,
    /// The `next_cursor` of the previous page (same filters and sort).
    pub cursor: Option<String>,
    /// Assets per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl ListParams {
    fn query(&self, filter: AssetFilter) -> AssetQuery {
        AssetQuery { filter, sort: self.sort.unwrap_or_default(), order: self.order.unwrap_or_default() }
    }
}

/// The fields of an asset a user may change (send only those to change; null clears one).
/// The 6R strategy changes through `…/six-r/override`, which records a reason. (The handler reads
/// the body as a JSON object, to tell an absent field from null.)
#[derive(Debug, ToSchema)]
pub struct AssetChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub environment: Option<String>,
    pub location: Option<String>,
    pub business_owner: Option<String>,
    pub technical_owner: Option<String>,
    pub department: Option<String>,
    pub business_unit: Option<String>,
    pub application_name: Option<String>,
    pub criticality: Option<CriticalityLevel>,
    pub business_criticality: Option<CriticalityLevel>,
    /// 1 (first) to 10.
    #[schema(minimum = 1, maximum = 10)]
    pub migration_priority: Option<i32>,
    pub migration_wave: Option<i32>,
}

/// A bulk edit: which assets (the listing's filters; none = every asset of the engagement) and
/// what to change on all of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkEditRequest {
    #[serde(default)]
    #[schema(value_type = AssetFilter)]
    pub filter: Map<String, Value>,
    #[schema(value_type = AssetChanges)]
    pub changes: Map<String, Value>,
}

/// Assets of the engagement matching the filters, one keyset page at a time, with the total.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets",
    tag = "assets",
    params(EngagementPath, AssetFilter, ListParams),
    responses(
        (status = 200, description = "A page of assets", body = AssetPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad filter, sort, cursor or limit (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_assets(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
    Query(filter): Query<AssetFilter>,
    Query(params): Query<ListParams>,
) -> Result<Json<AssetPage>, ApiError> {
    let query = params.query(filter);
    let limit = params.limit.unwrap_or(100);
    let page = assets::list_assets(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        &query,
        params.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page))
}

/// One asset.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}",
    tag = "assets",
    params(AssetPath),
    responses(
        (status = 200, description = "The asset", body = AssetView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset in this engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssetPath>,
) -> Result<Json<AssetView>, ApiError> {
    let asset = assets::get_asset(&state.pool, &caller.actor(), &path.account, &path.engagement, path.asset).await?;
    Ok(Json(asset))
}

/// Edits an asset (analyst): the fields sent, and only those. Recorded in the audit trail with
/// the old and new values.
#[utoipa::path(
    patch,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}",
    tag = "assets",
    params(AssetPath),
    request_body = AssetChanges,
    responses(
        (status = 200, description = "The asset as edited", body = AssetView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset in this engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field that is not editable or a bad value (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn patch_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AssetPath>,
    Json(changes): Json<Map<String, Value>>,
) -> Result<Json<AssetView>, ApiError> {
    let asset =
        assets::edit_asset(&state.pool, &caller.actor(), &path.account, &path.engagement, path.asset, &changes).await?;
    Ok(Json(asset))
}

/// Edits every asset matching a filter (analyst), in one transaction: all or nothing. Answers how
/// many matched and how many changed.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/bulk-update",
    tag = "assets",
    params(EngagementPath),
    request_body = BulkEditRequest,
    responses(
        (status = 200, description = "Done", body = BulkEditResult),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A viewer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown filter, a field that is not editable or a bad value (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn bulk_update_assets(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
    Json(request): Json<BulkEditRequest>,
) -> Result<Json<BulkEditResult>, ApiError> {
    let result = assets::bulk_edit_assets(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        &request.filter,
        &request.changes,
    )
    .await?;
    Ok(Json(result))
}

/// Sort of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The column to sort by (default `name`); ties go by id.
    #[param(inline)]
    pub sort: Option<AssetSort>,
    /// `asc` (default) or `desc`.
    #[param(inline)]
    pub order: Option<SortOrder>,
}

impl ExportParams {
    fn query(&self, filter: AssetFilter) -> AssetQuery {
        AssetQuery { filter, sort: self.sort.unwrap_or_default(), order: self.order.unwrap_or_default() }
    }
}

fn attachment(content_type: &'static str, filename: &'static str) -> [(HeaderName, HeaderValue); 2] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_DISPOSITION, HeaderValue::from_static(filename)),
    ]
}

/// The assets matching the filters as CSV (UTF-8, header line, one line per asset), streamed:
/// read and sent a page at a time, never held whole. Text that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) is prefixed with `'`. A failure after the first byte cuts
/// the download short (the log has the cause).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/export.csv",
    tag = "assets",
    params(EngagementPath, AssetFilter, ExportParams),
    responses(
        (status = 200, description = "The CSV file", content_type = "text/csv", body = String),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn export_assets_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
    Query(filter): Query<AssetFilter>,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let export = assets::export_assets(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        params.query(filter),
        state.config.export_page_rows,
    )
    .await?;
    let chunks = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_csv_chunk().await {
            Ok(Some(bytes)) => Some((Ok(bytes), export)),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(%error, "the CSV export failed after its start");
                Some((Err(std::io::Error::other("the export failed")), export))
            }
        }
    });
    let headers = attachment("text/csv; charset=utf-8", "attachment; filename=\"assets.csv\"");
    Ok((headers, Body::from_stream(chunks)).into_response())
}

/// The assets matching the filters as an XLSX workbook (sheet `Assets`, header row frozen, with
/// an autofilter). Built in memory, so limited to 100,000 assets (422 `format` above: export CSV).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/export.xlsx",
    tag = "assets",
    params(EngagementPath, AssetFilter, ExportParams),
    responses(
        (status = 200, description = "The workbook", body = XlsxWorkbook,
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many assets for a workbook", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn export_assets_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<EngagementPath>,
    Query(filter): Query<AssetFilter>,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let workbook = assets::export_assets_xlsx(
        &state.pool,
        &caller.actor(),
        &path.account,
        &path.engagement,
        params.query(filter),
        state.config.export_page_rows,
    )
    .await?;
    let headers = attachment(XLSX, "attachment; filename=\"assets.xlsx\"");
    Ok((headers, workbook).into_response())
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An XLSX workbook: the response body's schema (binary, not the array of bytes `Vec<u8>` would
/// document).
pub struct XlsxWorkbook;

impl utoipa::PartialSchema for XlsxWorkbook {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{KnownFormat, SchemaFormat};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("An XLSX workbook"))
            .into()
    }
}

impl ToSchema for XlsxWorkbook {}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assets))
        .routes(routes!(export_assets_csv))
        .routes(routes!(export_assets_xlsx))
        .routes(routes!(get_asset, patch_asset))
        .routes(routes!(bulk_update_assets))
}
