//! One error type for the HTTP layer and its one rendering: `application/problem+json`
//! (RFC 9457) for every non-2xx answer.
//!
//! Handlers return [`ApiError`]; it only records a [`Problem`] on the response. The
//! [`problem_responses`] middleware renders every error response — ours, axum's rejections
//! (400/413/415/422), tower-http's (408/413), unknown methods (405) — into one body shape with
//! the request id, so a client reads all errors the same way. A 5xx body says nothing internal:
//! the cause is logged under the request id instead.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use modernize::discovery::DiscoveryError;
use modernize::error::ErrorKind;
use modernize::repo::RepoError;
use modernize::service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of error bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error body (RFC 9457 problem details).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what kind of problem this is.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The status's reason phrase (e.g. `Not Found`).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for a human; never internal details on a 5xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The input field (JSON field, query parameter, header or form part) at fault, on 422 and
    /// on a 409 about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (also in the `x-request-id` header and the server's log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: Option<String>) -> Self {
        Self {
            problem_type: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            field: None,
            request_id: None,
        }
    }
}

/// What a handler can fail with; each variant is one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Also another tenant's row and a tenant the caller is no member of (404 before 403).
    #[error("{0}")]
    NotFound(String),
    #[error("sign in or send an API token")]
    Unauthenticated,
    /// Unknown address, wrong password and inactive user alike.
    #[error("wrong e-mail address or password")]
    WrongCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// A conflict on one input field (a slug or an e-mail address taken, a flow's status): the
    /// problem's `field` names it.
    #[error("{message}")]
    ConflictOn { field: String, message: String },
    /// The message names the field (`invalid email: …`).
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    /// A path parameter or query parameter that does not parse: 400 naming it.
    #[error("{message}")]
    Unreadable { field: String, message: String },
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A request (an upload's next chunk) that did not arrive in time.
    #[error("{0}")]
    Timeout(String),
    /// Its message is written for clients: it never carries an underlying error's text.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Maintenance mode: writes wait (`Retry-After`), reads go on.
    #[error("in maintenance{}: writes are refused for now, retry in {retry_after_secs} s", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Maintenance { reason: Option<String>, retry_after_secs: u64 },
    /// Logged with its cause; the client learns only that it failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self::Invalid { message: format!("invalid {field}: {}", message.into()), field }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthenticated | Self::WrongCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) | Self::ConflictOn { .. } => StatusCode::CONFLICT,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) | Self::Unreadable { .. } => StatusCode::BAD_REQUEST,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(_) | Self::Maintenance { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ServiceError> for ApiError {
    /// The one mapping from the core's error kinds to HTTP statuses.
    fn from(error: ServiceError) -> Self {
        let message = error.message().to_owned();
        match error.kind() {
            ErrorKind::NotFound => Self::NotFound(message),
            ErrorKind::Forbidden => Self::Forbidden(message),
            ErrorKind::Conflict => match error.field() {
                Some(field) => Self::ConflictOn { field: field.to_owned(), message },
                None => Self::Conflict(message),
            },
            ErrorKind::Invalid => Self::Invalid { field: error.field().unwrap_or("body").to_owned(), message },
            ErrorKind::Unavailable => {
                tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "unavailable");
                Self::Unavailable("the database is unreachable or busy; retry shortly".into())
            }
            ErrorKind::Internal => Self::Internal(format!("{message} ({:?})", std::error::Error::source(&error))),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> Self {
        ServiceError::from(error).into()
    }
}

impl From<DiscoveryError> for ApiError {
    fn from(error: DiscoveryError) -> Self {
        ServiceError::from(error).into()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ServiceError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut problem = Problem::new(status, None);
        if matches!(self, Self::Internal(_)) {
            // Runs inside the request's span, so the log line carries the request id.
            tracing::error!(error = %self, "request failed");
        } else {
            problem.detail = Some(self.to_string());
        }
        if let Self::Invalid { field, .. } | Self::ConflictOn { field, .. } | Self::Unreadable { field, .. } = &self {
            problem.field = Some(field.clone());
        }
        let mut response = status.into_response();
        if let Self::TooManyRequests { retry_after_secs } | Self::Maintenance { retry_after_secs, .. } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(problem);
        response
    }
}

/// A field named in a serde message: "missing field `limit`", "unknown field `colour`".
fn field_in_message(message: &str) -> Option<String> {
    message.split("field `").nth(1).and_then(|rest| rest.split('`').next()).map(str::to_owned)
}

/// axum's refusal of a path (`extract::Path`) as 400 naming the parameter: by its key, or by its
/// position among the route's parameters `names` (tuples and single values).
pub fn path_rejection(rejection: PathRejection, names: &[String]) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(error) = &rejection else {
        // No parameters at all: the route and the handler disagree, the server's fault.
        return ApiError::Internal(format!("path parameters: {}", rejection.body_text()));
    };
    let by_index = |index: usize| names.get(index).cloned();
    let field = match error.kind() {
        PathErrorKind::ParseErrorAtKey { key, .. }
        | PathErrorKind::DeserializeError { key, .. }
        | PathErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
        PathErrorKind::ParseErrorAtIndex { index, .. } => by_index(*index),
        PathErrorKind::ParseError { .. } if names.len() == 1 => by_index(0),
        _ => None,
    };
    let message = error.body_text();
    match field {
        Some(field) => ApiError::Unreadable { message: format!("invalid path parameter {field}: {message}"), field },
        None => ApiError::BadRequest(message),
    }
}

/// axum's refusal of a query string (`extract::Query`) as 400 naming the parameter: the path
/// serde_path_to_error recorded, else the field the message names.
pub fn query_rejection(rejection: QueryRejection) -> ApiError {
    let message = rejection.body_text();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
    let mut field = None;
    while let Some(error) = source {
        if let Some(error) = error.downcast_ref::<serde_path_to_error::Error<serde::de::value::Error>>() {
            let path = error.path().to_string();
            field =
                if path.is_empty() || path == "." { field_in_message(&error.inner().to_string()) } else { Some(path) };
            break;
        }
        source = error.source();
    }
    match field {
        Some(field) => ApiError::Unreadable { message: format!("invalid query parameter {field}: {message}"), field },
        None => ApiError::BadRequest(message),
    }
}

/// How much of a plain-text rejection body (axum's extractor messages) is kept as the detail.
const MAX_DETAIL_BYTES: usize = 4096;

/// Renders every error response as problem+json with the request id (see the module doc).
pub async fn problem_responses(request: Request, next: Next) -> Response {
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None => {
            // A rejection from axum or a layer: its text names the cause (e.g. the JSON field).
            let text =
                to_bytes(body, MAX_DETAIL_BYTES).await.ok().map(|b| String::from_utf8_lossy(&b).trim().to_owned());
            let detail = text.filter(|t| !t.is_empty() && !status.is_server_error()).or_else(|| default_detail(status));
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), "request failed");
            }
            let mut problem = Problem::new(status, detail);
            problem.field = problem.detail.as_deref().and_then(field_of_rejection);
            problem
        }
    };
    problem.request_id = request_id;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

fn default_detail(status: StatusCode) -> Option<String> {
    Some(
        match status {
            StatusCode::NOT_FOUND => "no such resource",
            StatusCode::METHOD_NOT_ALLOWED => "this resource does not accept this method",
            StatusCode::REQUEST_TIMEOUT => "the request took too long",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than allowed",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "send the body as application/json",
            s if s.is_server_error() => "the server failed to answer; quote the request id when reporting it",
            _ => return None,
        }
        .into(),
    )
}

/// The field a serde rejection names: "… missing field `email` …" or "…: email: invalid …".
fn field_of_rejection(detail: &str) -> Option<String> {
    if let Some(rest) = detail.split("field `").nth(1) {
        return rest.split('`').next().map(str::to_owned);
    }
    let body = detail.strip_prefix("Failed to deserialize the JSON body into the target type: ")?;
    let (path, _) = body.split_once(": ")?;
    (!path.contains(' ')).then(|| path.to_owned())
}

/// The answer for a path no route matches: the web UI's page or file for a UI path
/// (`modernize_web::respond`), else 404 (always for `/api/…`, `/v3/…`, `/health`, `/ready`).
pub async fn unknown_route(request: Request) -> Response {
    modernize_web::respond(request.method(), request.uri(), request.headers())
        .unwrap_or_else(|| ApiError::NotFound("no such resource".into()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_of_a_json_rejection_is_named() {
        assert_eq!(
            field_of_rejection(
                "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 2"
            )
            .as_deref(),
            Some("email")
        );
        assert_eq!(
            field_of_rejection(
                "Failed to deserialize the JSON body into the target type: password: invalid type: integer `1`, expected a string at line 1 column 14"
            )
            .as_deref(),
            Some("password")
        );
        assert_eq!(field_of_rejection("Expected request with `Content-Type: application/json`"), None);
    }
}
