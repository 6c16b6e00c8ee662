//! The server's frame: probes, request ids, problem+json for every error, body limits, the
//! OpenAPI document and the API reference.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Auth, app, app_with};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn health_and_ready_answer_without_credentials(pool: PgPool) {
    let app = app(&pool).await;
    let health = app.get("/health", &Auth::None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/ready", &Auth::None).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["schema_version"], modernize::db::migrate::latest_version());
}

#[sqlx::test(migrations = false)]
async fn ready_is_503_while_migrations_are_pending(pool: PgPool) {
    let app = app(&pool).await;
    let mut conn = pool.acquire().await.expect("connection");
    modernize::db::migrate::downgrade(&mut conn, 5).await.expect("downgrade");
    let ready = app.get("/ready", &Auth::None).await;
    ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body["detail"].as_str().is_some_and(|d| d.contains("modernize db upgrade")), "{:?}", ready.body);
}

#[sqlx::test(migrations = false)]
async fn every_answer_has_a_request_id_and_a_given_one_is_kept(pool: PgPool) {
    let app = app(&pool).await;
    let answer = app.get("/health", &Auth::None).await;
    let id = answer.headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("x-request-id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let request = Request::get("/api/v1/nowhere").header("x-request-id", "from-the-proxy-42").body(Body::empty());
    let answer = app.send(request.expect("request")).await;
    answer.assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(answer.body["request_id"], "from-the-proxy-42");
}

#[sqlx::test(migrations = false)]
async fn unknown_routes_and_methods_are_problems(pool: PgPool) {
    let app = app(&pool).await;
    app.get("/api/v1/no-such-thing", &Auth::None).await.assert_problem(StatusCode::NOT_FOUND);
    let answer = app.call(Method::DELETE, "/health", &Auth::None, None).await;
    answer.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert!(answer.headers.contains_key(header::ALLOW));
}

#[sqlx::test(migrations = false)]
async fn bad_bodies_are_415_422_and_413_naming_the_cause(pool: PgPool) {
    let app = app_with(&pool, |config| config.max_json_body_bytes = 1024).await;
    let login = |content_type: &str, body: Vec<u8>| {
        Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, content_type).body(Body::from(body))
    };
    let answer = app.send(login("text/plain", b"{}".to_vec()).expect("request")).await;
    answer.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let answer = app.send(login("application/json", br#"{"password": "x"}"#.to_vec()).expect("request")).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "email", "{:?}", answer.body);

    let answer = app
        .send(login("application/json", br#"{"email": "a@b.example", "password": 7}"#.to_vec()).expect("request"))
        .await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "password", "{:?}", answer.body);

    let answer = app.send(login("application/json", b"{not json".to_vec()).expect("request")).await;
    answer.assert_problem(StatusCode::BAD_REQUEST);

    let big =
        serde_json::to_vec(&serde_json::json!({"email": "a@b.example", "password": "x".repeat(4096)})).expect("json");
    let answer = app.send(login("application/json", big).expect("request")).await;
    answer.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test(migrations = false)]
async fn a_database_gone_away_is_a_503_that_says_nothing_internal(pool: PgPool) {
    let app = app(&pool).await;
    let ids = common::tenant(&pool, modernize::fixtures::ACME).await;
    let token = app.token(ids.analyst_user_id).await;
    // The database goes away under the server.
    pool.close().await;
    let answer = app.get("/api/v1/me", &token).await;
    answer.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    let body = answer.body.to_string().to_lowercase();
    for internal in ["pool", "sqlx", "postgres", "closed", "127.0.0.1"] {
        assert!(!body.contains(internal), "{internal} in {body}");
    }
}

#[sqlx::test(migrations = false)]
async fn the_committed_openapi_document_is_what_the_server_serves(pool: PgPool) {
    let app = app(&pool).await;
    let served = app.get(modernize_api::OPENAPI_PATH, &Auth::None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body["openapi"], "3.1.0");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed_path).expect("docs/openapi.json")).expect("json");
    assert!(
        committed == served.body,
        "docs/openapi.json is stale: regenerate it with `cargo run -p modernize-cli -- openapi > docs/openapi.json`"
    );
    assert_eq!(served.body, serde_json::to_value(modernize_api::openapi()).expect("json"));
}

#[sqlx::test(migrations = false)]
async fn the_api_reference_is_served_from_the_binary(pool: PgPool) {
    let app = app(&pool).await;
    let page = app.get(&format!("{}/", modernize_api::REFERENCE_PATH), &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "nothing fetched from the internet: {html}");
    let script = app.get(&format!("{}/swagger-ui-bundle.js", modernize_api::REFERENCE_PATH), &Auth::None).await;
    assert_eq!(script.status, StatusCode::OK);
}

/// Every operation of the document (every route, whoever added it) but the public ones refuses a
/// request without credentials: 401 problem+json.
#[sqlx::test(migrations = false)]
async fn no_operation_but_the_public_ones_answers_without_credentials(pool: PgPool) {
    let app = app(&pool).await;
    let document = serde_json::to_value(modernize_api::openapi()).expect("json");
    let public = ["post /api/v1/auth/login", "get /health", "get /ready"];
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let name = format!("{method} {path}");
            let declared_public = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
            assert_eq!(
                declared_public,
                public.contains(&name.as_str()),
                "{name}: security {:?}",
                operation["security"]
            );
            if declared_public {
                continue;
            }
            // Any id or slug will do (a random one each time): authentication comes before
            // everything else, the body's shape too.
            let uri = path
                .split('/')
                .map(|s| if s.starts_with('{') { uuid::Uuid::new_v4().to_string() } else { s.to_owned() })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = [Method::POST, Method::PUT, Method::PATCH].contains(&method).then(|| serde_json::json!({}));
            let answer = app.call(method, &uri, &Auth::None, body).await;
            answer.assert_problem(StatusCode::UNAUTHORIZED);
            checked += 1;
        }
    }
    assert!(checked >= 16, "{checked}");
}
