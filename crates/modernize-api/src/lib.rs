//! The REST API of Modernize (`modernize serve`): the router, the auth extractors, the error
//! mapping to `application/problem+json` and the OpenAPI 3.1 document built from the handlers.
//!
//! Handlers hold no logic: they extract (caller, tenant, input), call the core's services or
//! repositories, and respond. Every route lives under `/api/v1`, apart from the probes
//! (`/health`, `/ready`); `/` is left for the web UI.

pub mod assets;
pub mod auth;
pub mod error;
pub mod health;
pub mod state;
pub mod tenancy;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
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
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes())
        .merge(tokens::routes())
        .merge(tenancy::routes())
        .merge(assets::routes())
}

/// The OpenAPI 3.1 document of the API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The whole application: routes, the API reference, and the layers every request goes through
/// (request id, trace span, timeout, body limit, problem+json errors).
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api().split_for_parts();
    let config = state.config.clone();
    routes
        .merge(SwaggerUi::new(REFERENCE_PATH).url(OPENAPI_PATH, openapi))
        .fallback(error::unknown_route)
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.max_json_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(middleware::from_fn(error::problem_responses))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
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
