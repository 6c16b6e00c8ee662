//! The REST API of Modernize (`modernize serve`): the router, the auth extractors, the error
//! mapping to `application/problem+json` and the OpenAPI 3.1 document built from the handlers.
//!
//! Handlers hold no logic: they extract (caller, tenant, input), call the core's services or
//! repositories, and respond. Every route lives under `/api/v1`, apart from the probes
//! (`/health`, `/ready`); `/` is left for the web UI.

pub mod assets;
pub mod auth;
pub mod dependencies;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod health;
pub mod maintenance;
pub mod sixr;
pub mod state;
pub mod telemetry;
pub mod tenancy;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Instrument;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, Problem};
pub use state::{AppState, Config};

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Where the interactive API reference (Swagger UI, bundled in the binary) is served.
pub const REFERENCE_PATH: &str = "/api/v1/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Modernize API",
        description = "Discover, map and plan a client's IT estate for the cloud. Every error is \
            `application/problem+json`. Sign in with `POST /api/v1/auth/login` (session cookie) or \
            send an API token as `Authorization: Bearer mdz_…`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("api_token" = [])),
    tags(
        (name = "health", description = "Probes"),
        (name = "auth", description = "Signing in and out, the caller and their API tokens"),
        (name = "tenancy", description = "Client accounts, their engagements and members"),
        (name = "assets", description = "The asset inventory of an engagement"),
        (name = "imports", description = "Inventory uploads; each starts a discovery flow"),
        (name = "flows", description = "Master and discovery flows: state, summary, lifecycle, live progress"),
        (name = "dependencies", description = "Dependencies between assets, and their graph"),
        (name = "six-r", description = "6R recommendations, overrides and counts"),
        (name = "mappings", description = "Field mappings of a flow's file and their review"),
        (name = "issues", description = "Invalid rows and warnings of a flow's import"),
    ),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::SESSION_COOKIE,
                "Set by POST /api/v1/auth/login (HttpOnly, Secure, SameSite=Strict).",
            ))),
        );
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mdz_<prefix>_<secret>")
                    .description(Some("An API token (`modernize users token create`)."))
                    .build(),
            ),
        );
    }
}

/// The routes and their OpenAPI description, before state and layers.
fn api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes())
        .merge(tokens::routes())
        .merge(tenancy::routes())
        .merge(assets::routes())
        .merge(discovery::routes())
        .merge(dependencies::routes())
        .merge(sixr::routes())
        .split_for_parts();
    document_common_answers(&mut openapi);
    (routes, openapi)
}

/// The OpenAPI 3.1 document of the API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// Adds to every operation the error answers the server's frame gives, whatever the handler:
/// 401 without credentials (unless the operation is public); for a body, 400 (not JSON), 413 (over
/// the limit), 415 (not `application/json`) and 422 (not the shape); 400 for a path id that is not
/// a UUID or a query parameter that cannot be read; 503 for a write in maintenance. A handler's own description of a status is kept. So the document describes every
/// answer a client can get (schemathesis checks it: scripts/api-fuzz).
fn document_common_answers(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{Content, Ref, Response};
    let problem = |description: &str| {
        Response::builder()
            .description(description)
            .content(error::PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
            .build()
    };
    let public = |operation: &Operation| {
        operation.security.as_ref().is_some_and(|requirements| {
            requirements.iter().any(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
        })
    };
    // Parameters axum parses (and refuses with 400): a UUID in the path, any query parameter.
    let parsed_parameter = |operation: &Operation| {
        operation.parameters.iter().flatten().any(|p| match p.parameter_in {
            ParameterIn::Path => serde_json::to_value(&p.schema).is_ok_and(|schema| schema["format"] == "uuid"),
            ParameterIn::Query => true,
            _ => false,
        })
    };
    for item in openapi.paths.paths.values_mut() {
        // (operation, whether it is a write, which maintenance mode refuses)
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.options, false),
            (&mut item.head, false),
            (&mut item.patch, true),
            (&mut item.trace, true),
        ];
        for (operation, write) in operations.into_iter().filter_map(|(o, write)| Some((o.as_mut()?, write))) {
            let mut answers = Vec::new();
            if write {
                answers.push(("503", "In maintenance: writes are refused for now (`Retry-After` says when to retry)"));
            }
            if !public(operation) {
                answers.push(("401", "No or wrong credentials"));
            }
            if operation.request_body.is_some() {
                answers.extend([
                    ("400", "The body is not JSON"),
                    ("413", "The body is larger than allowed"),
                    ("415", "The body is not `application/json`"),
                    ("422", "The body does not have the expected shape (`field` names the culprit)"),
                ]);
            } else if parsed_parameter(operation) {
                answers.push(("400", "A path id that is not a UUID, or a query parameter that cannot be read"));
            }
            for (status, description) in answers {
                operation.responses.responses.entry(status.into()).or_insert_with(|| problem(description).into());
            }
        }
    }
}

/// The whole application: routes, the API reference, and the layers every request goes through
/// (request id, trace span, metrics, timeout, body limit, problem+json errors, maintenance mode).
/// `router(state).layer(…)` applies to each route once matched, so the layers see the route's
/// template (`MatchedPath`) and path parameters. `/metrics` is not here: see
/// [`telemetry::metrics_router`].
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api();
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    routes
        .merge(SwaggerUi::new(REFERENCE_PATH).url(OPENAPI_PATH, openapi))
        .fallback(error::unknown_route)
        .layer(middleware::from_fn_with_state(state.clone(), maintenance::refuse_writes))
        .with_state(state)
        .layer(middleware::from_fn(run_to_completion))
        .layer(DefaultBodyLimit::max(config.max_json_body_bytes))
        .layer(middleware::from_fn_with_state(config.request_timeout, deadline))
        .layer(middleware::from_fn(error::problem_responses))
        .layer(middleware::from_fn_with_state(metrics, telemetry::observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(telemetry::screen_request_id))
}

/// The request timeout: a response must start within `timeout` (408 otherwise). Uploads
/// (multipart, and the `PUT` of an import's content) are exempt, since a large file takes longer
/// than any fixed deadline; they time out instead when no data arrives for `timeout` (see
/// `discovery::upload`).
async fn deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let content = request.method() == axum::http::Method::PUT && request.uri().path().ends_with("/content");
    if multipart || content {
        return next.run(request).await;
    }
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Runs the handler in a task of its own, so that it finishes even when the client goes away or
/// the timeout answers first. A handler dropped at an `await` can leave its database connection
/// inside a transaction that sqlx no longer knows of (when dropped during `BEGIN`); back in the
/// pool, that connection keeps its locks until it is next used, which may be never: the caller's
/// session row among them, so every later request of that browser waits on it. Browsers cancel
/// requests whenever the user navigates away, so this is ordinary, not rare. The response of a
/// request whose client left is dropped.
async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request).instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "the request's task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Serves [`router`] on `listener` until `shutdown` completes; requests under way then finish
/// before this returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
