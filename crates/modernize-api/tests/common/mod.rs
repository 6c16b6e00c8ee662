//! Shared by the API tests: the real router in-process, over a fresh database built by the real
//! migrations (`#[sqlx::test(migrations = false)]`), with the demo tenants as data.

#![allow(dead_code)] // Each test binary uses its own part of this harness.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use modernize::db::migrate;
use modernize::fixtures::{self, ACME, DemoIds, DemoTenant};
use modernize_api::{AppState, Config};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

pub const INVENTORY: &[u8] = include_bytes!("../../../../examples/inventory.csv");
const BOUNDARY: &str = "modernize-common-boundary-3vQx";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub uploads: tempfile::TempDir,
}

pub async fn migrated(pool: &PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, None).await.expect("migrations apply");
}

/// The app over a migrated database, with `config` changed by `tune`.
pub async fn app_with(pool: &PgPool, tune: impl FnOnce(&mut Config)) -> TestApp {
    migrated(pool).await;
    let uploads = tempfile::tempdir().expect("uploads dir");
    let mut config = Config::new(uploads.path().join("uploads"));
    tune(&mut config);
    let state =
        AppState::new(pool.clone(), config).with_suggester(std::sync::Arc::new(modernize_mapping::Engine::new()));
    TestApp { router: modernize_api::router(state.clone()), state, uploads }
}

pub async fn app(pool: &PgPool) -> TestApp {
    app_with(pool, |_| {}).await
}

/// The test process's operator capability (taken once, shared by the tests of this binary): the
/// fixtures build tenants as the CLI would; the API itself never holds one.
pub fn operator() -> &'static modernize::tenancy::OperatorToken {
    static OPERATOR: std::sync::OnceLock<modernize::tenancy::OperatorToken> = std::sync::OnceLock::new();
    OPERATOR.get_or_init(|| modernize::tenancy::OperatorToken::bootstrap().expect("the first in this test process"))
}

pub async fn tenant(pool: &PgPool, tenant: DemoTenant) -> DemoIds {
    let mut conn = pool.acquire().await.expect("connection");
    fixtures::demo_tenant(&mut conn, operator(), tenant).await.expect("demo tenant")
}

/// An answer, its body parsed as JSON when it is JSON (else a string).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Checks that this is a problem+json error with `status` and the request id of the response.
    pub fn assert_problem(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.content_type(), "application/problem+json", "{:?}", self.body);
        assert_eq!(self.body["status"], status.as_u16());
        let request_id = self.headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("x-request-id");
        assert_eq!(self.body["request_id"], request_id);
    }
}

impl TestApp {
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Answer { status, headers, body }
    }

    pub async fn call(&self, method: Method, uri: &str, auth: &Auth, body: Option<Value>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::Cookie(cookie) => request.header(header::COOKIE, cookie),
        };
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(&body).expect("json"))),
            None => request.body(Body::empty()),
        };
        self.send(request.expect("request")).await
    }

    pub async fn get(&self, uri: &str, auth: &Auth) -> Answer {
        self.call(Method::GET, uri, auth, None).await
    }

    /// Signs in; the session cookie (`name=value`) to send back.
    pub async fn login(&self, email: &str, password: &str) -> Auth {
        let answer = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                &Auth::None,
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        let cookie = answer.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("set-cookie");
        Auth::Cookie(cookie.split(';').next().expect("name=value").to_owned())
    }

    /// An API token of `user_id`.
    pub async fn token(&self, user_id: uuid::Uuid) -> Auth {
        let mut conn = self.state.pool.acquire().await.expect("connection");
        let (_, secret) =
            modernize::repo::users::create_api_token(&mut conn, user_id, "tests", None).await.expect("token");
        Auth::Bearer(secret.expose().to_owned())
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    Cookie(String),
}

/// A multipart upload of examples/inventory.csv to the demo engagement (`accept_above` 0.8), sent
/// with `auth` (a token) and `request_id` as `X-Request-Id`.
pub fn inventory_upload(ids: &DemoIds, auth: &Auth, request_id: &str) -> Request<Body> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"inventory.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(INVENTORY);
    body.extend_from_slice(
        format!(
            "\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"accept_above\"\r\n\r\n0.8\r\n--{BOUNDARY}--\r\n"
        )
        .as_bytes(),
    );
    let Auth::Bearer(token) = auth else { panic!("a token") };
    Request::post(format!("/api/v1/client-accounts/{}/engagements/{}/imports", ACME.slug, ids.engagement_id))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(modernize_api::telemetry::REQUEST_ID_HEADER, request_id)
        .body(Body::from(body))
        .expect("request")
}
