//! `…/flows/{flow_id}/issues`: every invalid row and warning of a flow's import, paginated as
//! JSON, or the whole list as CSV (`Accept: text/csv`, or `…/issues.csv`), streamed page by page.

use std::convert::Infallible;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use modernize::repo::imports::ImportIssue;
use modernize::service::Actor;
use modernize::service::discovery::{self, IssueCursor, IssuePage};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::flows::FlowPath;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::state::AppState;

/// Paging of a flow's issues.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueQuery {
    /// Issues per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Start after this issue (`ROW.INDEX`, a page's `next_after`); from the start without it.
    pub after: Option<String>,
}

/// Issues per query while a CSV is streamed.
const CSV_PAGE: i64 = 2_000;
/// `sheet` last: the columns before it keep the places they had before it was added.
const CSV_HEADER: [&str; 9] =
    ["row_number", "file_row", "column", "value", "severity", "kind", "reason", "issue_index", "sheet"];

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"))
}

/// The flow's import issues (viewer): first those no record holds (rows of the workbook's other
/// sheets, ESXi hosts: `row_number` 0, `sheet` named), then the records' in file order; each with
/// the file row (when known), the column, the cell's value and the reason. JSON pages by default;
/// with `Accept: text/csv` the whole list as CSV (as `…/issues.csv`).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/issues",
    tag = "issues",
    params(FlowPath, IssueQuery),
    responses(
        (status = 200, description = "One page of issues (or, with Accept: text/csv, all as CSV)", body = IssuePage),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad paging", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_issues(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path): Path<FlowPath>,
    Query(query): Query<IssueQuery>,
) -> Result<Response, ApiError> {
    if wants_csv(&headers) {
        return issues_csv(state, caller, path).await;
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("{limit} is not in 1..=1000")));
    }
    let after = query.after.as_deref().map(IssueCursor::parse).transpose()?.unwrap_or_default();
    let FlowPath { account, engagement, flow_id } = path;
    let page = discovery::list_issues(&state.pool, &caller.actor(), &account, Some(&engagement), flow_id, after, limit)
        .await?;
    Ok(Json(page).into_response())
}

/// Every import issue of the flow as CSV (viewer), streamed: header `row_number, file_row,
/// column, value, severity, kind, reason, issue_index, sheet`, one line per issue in the
/// listing's order.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/issues.csv",
    tag = "issues",
    params(FlowPath),
    responses(
        (status = 200, description = "All issues as CSV", content_type = "text/csv", body = String),
        (status = 404, description = "No such flow in this engagement", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn download_issues(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<FlowPath>,
) -> Result<Response, ApiError> {
    issues_csv(state, caller, path).await
}

fn csv_lines(issues: &[ImportIssue], header: bool) -> Result<Bytes, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if header {
        writer.write_record(CSV_HEADER)?;
    }
    for i in issues {
        let file_row = i.file_row.map(|r| r.to_string()).unwrap_or_default();
        writer.write_record([
            i.row_number.to_string().as_str(),
            &file_row,
            i.column.as_deref().unwrap_or(""),
            i.value.as_deref().unwrap_or(""),
            &i.severity,
            &i.kind,
            &i.reason,
            &i.issue_index.to_string(),
            i.sheet.as_deref().unwrap_or(""),
        ])?;
    }
    writer.into_inner().map(Bytes::from).map_err(|e| e.into_error().into())
}

/// Where a CSV download is.
enum Download {
    Next(IssueCursor),
    Done,
}

async fn issues_csv(state: AppState, caller: Caller, path: FlowPath) -> Result<Response, ApiError> {
    let actor = caller.actor();
    // The first page is read before answering: refusals (404, 403) are answered as such.
    let first = page(&state.pool, actor, &path, IssueCursor::default()).await?;
    let head = csv_lines(&first.issues, true).map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    let start = match first.next_after.as_deref().map(IssueCursor::parse) {
        Some(Ok(cursor)) => Download::Next(cursor),
        _ => Download::Done,
    };
    let flow_id = path.flow_id;
    let pool = state.pool.clone();
    let rest = stream::unfold((start, path), move |(at, path)| {
        let pool = pool.clone();
        async move {
            let Download::Next(cursor) = at else { return None };
            let page = match page(&pool, actor, &path, cursor).await {
                Ok(page) => page,
                Err(error) => {
                    // Headers are sent: the body ends short, and the log says why.
                    tracing::error!(%error, "issues CSV: a page could not be read");
                    return None;
                }
            };
            let next = match page.next_after.as_deref().map(IssueCursor::parse) {
                Some(Ok(cursor)) => Download::Next(cursor),
                _ => Download::Done,
            };
            let bytes = csv_lines(&page.issues, false).ok()?;
            Some((Ok::<_, Infallible>(bytes), (next, path)))
        }
    });
    let body = stream::iter([Ok::<_, Infallible>(head)]).chain(rest);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"issues-{}.csv\"", flow_id);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, Body::from_stream(body)).into_response())
}

async fn page(
    pool: &PgPool,
    actor: Actor<'static>,
    path: &FlowPath,
    after: IssueCursor,
) -> Result<IssuePage, ApiError> {
    let (account, engagement) = (&path.account, Some(path.engagement.as_str()));
    Ok(discovery::list_issues(pool, &actor, account, engagement, path.flow_id, after, CSV_PAGE).await?)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_issues)).routes(routes!(download_issues))
}
