//! Maintenance mode through the real router (issue 17): writes 503 with Retry-After and
//! problem+json, reads 200, /ready 503; and back.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use common::{Auth, app_with, tenant};
use modernize::fixtures::ACME;
use modernize::ops;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn maintenance_refuses_writes_keeps_reads_and_ends(pool: PgPool) {
    // Polled on every request here; `serve` polls every 2 s.
    let app = app_with(&pool, |config| config.maintenance_poll = Duration::ZERO).await;
    let acme = tenant(&pool, ACME).await;
    let admin = app.token(acme.admin_user_id).await;
    let engagements = "/api/v1/client-accounts/acme-retail/engagements";
    let new = |name: &str| serde_json::json!({"name": name});

    let mut conn = pool.acquire().await.expect("connection");
    ops::set_maintenance(&mut conn, true, Some("deploying 0012"), 42).await.expect("maintenance on");

    let refused = app.call(Method::POST, engagements, &admin, Some(new("During maintenance"))).await;
    refused.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("42"));
    assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("deploying 0012")), "{:?}", refused.body);
    let read = app.get(engagements, &admin).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    let names: Vec<_> = read.body.as_array().into_iter().flatten().filter_map(|e| e["name"].as_str()).collect();
    assert!(!names.contains(&"During maintenance"), "nothing was written: {names:?}");
    assert_eq!(app.get("/health", &Auth::None).await.status, StatusCode::OK);
    let ready = app.get("/ready", &Auth::None).await;
    ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.headers.contains_key(header::RETRY_AFTER));

    ops::set_maintenance(&mut conn, false, None, 60).await.expect("maintenance off");
    let created = app.call(Method::POST, engagements, &admin, Some(new("After maintenance"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(app.get("/ready", &Auth::None).await.status, StatusCode::OK);
}

#[sqlx::test(migrations = false)]
async fn a_change_of_the_flag_is_seen_after_the_poll_interval(pool: PgPool) {
    let app = app_with(&pool, |config| config.maintenance_poll = Duration::from_millis(300)).await;
    let acme = tenant(&pool, ACME).await;
    let admin = app.token(acme.admin_user_id).await;
    let engagements = "/api/v1/client-accounts/acme-retail/engagements";
    // A write reads the flag (off) and caches it.
    let first = app.call(Method::POST, engagements, &admin, Some(serde_json::json!({"name": "One"}))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let mut conn = pool.acquire().await.expect("connection");
    ops::set_maintenance(&mut conn, true, None, 60).await.expect("maintenance on");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let refused = app.call(Method::POST, engagements, &admin, Some(serde_json::json!({"name": "Two"}))).await;
    refused.assert_problem(StatusCode::SERVICE_UNAVAILABLE);
}
