//! Telemetry through the real router (issue 17): `/metrics` parses as Prometheus text and moves
//! with requests and with the database, without naming a tenant; the request id round-trips.
//! (JSON log lines: tests/json_logs.rs.)

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Answer, Auth, TestApp, app, inventory_upload, operator, tenant};
use http_body_util::BodyExt;
use modernize::discovery::pipeline::{self, WorkerOptions};
use modernize::fixtures::ACME;
use modernize::ops;
use modernize_api::telemetry;
use prom_text_format_parser::{Scrape, Type, ValueType};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// Scrapes the app's metrics listener and parses the answer as Prometheus text (a strict parser:
/// any line it cannot read fails the test).
async fn scrape(app: &TestApp) -> Scrape {
    let request = Request::get(telemetry::METRICS_PATH).body(Body::empty()).expect("request");
    let response = telemetry::metrics_router(app.state.clone()).oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(content_type, "text/plain; version=0.0.4");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let scrape = Scrape::parse(&text).unwrap_or_else(|e| panic!("not Prometheus text ({e:?}):\n{text}"));
    for metric in &scrape.metrics {
        assert!(metric.help_desc.is_some(), "{} has no HELP", metric.name);
        assert_ne!(metric.kind, Type::Untyped, "{} has no TYPE", metric.name);
    }
    scrape
}

/// The samples of `metric` of this kind whose labels include `labels`.
fn samples<'a>(
    scrape: &'a Scrape,
    metric: &str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a prom_text_format_parser::Sample> {
    let has = |sample: &prom_text_format_parser::Sample, key: &str, value: &str| {
        sample.labels.iter().any(|label| label.key == key && label.value == value)
    };
    scrape
        .metrics
        .iter()
        .filter(move |m| m.name == metric)
        .flat_map(|m| m.samples.iter())
        .filter(move |sample| labels.iter().all(|(key, value)| has(sample, key, value)))
}

/// The value of the gauge or counter `metric` with these labels (among others).
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(scrape, metric, labels).find(|s| s.value.value_type == ValueType::Sample).map(|s| s.value.value.as_f64())
}

/// How many observations the histogram `metric` with these labels holds (its `_count`).
fn observations(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(scrape, metric, labels).find(|s| s.value.value_type == ValueType::Count).map(|s| s.value.value.as_f64())
}

fn requests(scrape: &Scrape, route: &str, status: &str) -> f64 {
    value(scrape, "modernize_http_requests_total", &[("method", "GET"), ("route", route), ("status", status)])
        .unwrap_or(0.0)
}

#[sqlx::test(migrations = false)]
async fn metrics_parse_and_move_with_requests_and_the_database(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let admin = app.token(acme.admin_user_id).await;
    let account = format!("/api/v1/client-accounts/{}", acme.client_account_id);
    for _ in 0..3 {
        assert_eq!(app.get("/health", &Auth::None).await.status, StatusCode::OK);
    }
    assert_eq!(app.get(&account, &admin).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/no-such-thing", &admin).await.status, StatusCode::NOT_FOUND);

    let before = scrape(&app).await;
    assert_eq!(requests(&before, "/health", "200"), 3.0);
    assert_eq!(requests(&before, "/api/v1/client-accounts/{account}", "200"), 1.0);
    assert_eq!(requests(&before, "fallback", "404"), 1.0);
    let health = [("method", "GET"), ("route", "/health"), ("status", "200")];
    assert_eq!(observations(&before, "modernize_http_request_duration_seconds", &health), Some(3.0));
    // Counts over every tenant, none named: no label holds an id, a slug or a raw path.
    let tenant_marks = [acme.client_account_id.to_string(), ACME.slug.to_owned(), acme.engagement_id.to_string()];
    for sample in before.metrics.iter().flat_map(|m| m.samples.iter()) {
        for label in sample.labels.iter() {
            assert!(!tenant_marks.iter().any(|mark| label.value.contains(mark.as_str())), "{sample:?}");
        }
    }
    assert_eq!(value(&before, "modernize_database_figures_ok", &[]), Some(1.0));
    assert_eq!(value(&before, "modernize_domain_tables", &[]), Some(43.0));
    // The demo tenant comes with flows and an import of its own: the database's figures are
    // compared with the database, then followed as they move.
    let figures = |scrape: &Scrape| {
        let get = |metric: &str, labels: &[(&str, &str)]| value(scrape, metric, labels).expect(metric);
        (
            get("modernize_jobs", &[("status", "queued")]),
            get("modernize_flows", &[("kind", "discovery"), ("status", "running")]),
            get("modernize_flows", &[("kind", "discovery"), ("status", "completed")]),
            get("modernize_import_rows", &[("outcome", "processed")]),
        )
    };
    let (queued, running, completed, rows) = figures(&before);
    let in_database: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM modernize.jobs WHERE status = 'queued'),
                (SELECT coalesce(sum(processed_records), 0)::bigint FROM migration.data_imports)",
    )
    .fetch_one(&pool)
    .await
    .expect("figures");
    assert_eq!((queued, rows), (in_database.0 as f64, in_database.1 as f64));
    assert_eq!(value(&before, "modernize_maintenance", &[]), Some(0.0));
    let max = value(&before, "modernize_db_pool_max_connections", &[("pool", "api")]).expect("pool size");
    assert!(max >= 1.0, "{max}");
    assert!(value(&before, "modernize_db_pool_connections", &[("pool", "api"), ("state", "idle")]).is_some());

    // A request more counts once more; an upload queues a job and starts a flow; maintenance shows.
    assert_eq!(app.get("/health", &Auth::None).await.status, StatusCode::OK);
    let answer = app.send(inventory_upload(&acme, &admin, "metrics-upload")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let mut conn = pool.acquire().await.expect("connection");
    ops::set_maintenance(&mut conn, true, Some("metrics test"), 30).await.expect("maintenance on");
    let after = scrape(&app).await;
    assert_eq!(requests(&after, "/health", "200"), 4.0);
    let imports = [
        ("method", "POST"),
        ("route", "/api/v1/client-accounts/{account}/engagements/{engagement}/imports"),
        ("status", "202"),
    ];
    assert_eq!(value(&after, "modernize_http_requests_total", &imports), Some(1.0));
    let (queued_after, running_after, _, _) = figures(&after);
    assert_eq!((queued_after, running_after), (queued + 1.0, running + 1.0));
    assert_eq!(value(&after, "modernize_maintenance", &[]), Some(1.0));
    ops::set_maintenance(&mut conn, false, None, 60).await.expect("maintenance off");

    // The worker imports the rows: the figures follow.
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("flow id");
    let options = WorkerOptions { only_flow: Some(flow_id), poll: Duration::from_millis(10), ..Default::default() };
    pipeline::run_worker(&pool, operator(), &modernize_mapping::Engine::new(), &options, true).await.expect("worker");
    let done = scrape(&app).await;
    let (queued_done, running_done, completed_done, rows_done) = figures(&done);
    let imported: i64 =
        sqlx::query_scalar("SELECT processed_records::bigint FROM migration.data_imports WHERE id = $1")
            .bind(answer.body["data_import_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()).expect("import id"))
            .fetch_one(&pool)
            .await
            .expect("rows");
    assert!(imported > 0);
    assert_eq!(rows_done, rows + imported as f64);
    assert_eq!((queued_done, running_done, completed_done), (queued, running, completed + 1.0));
}

#[sqlx::test(migrations = false)]
async fn the_request_id_round_trips_and_is_made_when_absent_or_unusable(pool: PgPool) {
    let app = app(&pool).await;
    let send = |id: Option<&str>| {
        let mut request = Request::get("/api/v1/no-such-thing");
        if let Some(id) = id {
            request = request.header(telemetry::REQUEST_ID_HEADER, id);
        }
        app.send(request.body(Body::empty()).expect("request"))
    };
    let id_of = |answer: &Answer| {
        answer.headers.get(telemetry::REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).expect("x-request-id").to_owned()
    };

    let given = send(Some("lb-7f3a:2026.12.01_x")).await;
    given.assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(id_of(&given), "lb-7f3a:2026.12.01_x");

    let made = send(None).await;
    made.assert_problem(StatusCode::NOT_FOUND);
    assert!(id_of(&made).parse::<Uuid>().is_ok(), "{}", id_of(&made));

    let too_long = "a".repeat(telemetry::MAX_REQUEST_ID_LEN + 1);
    for unusable in [too_long.as_str(), "has space", "quote\"d", "{json}"] {
        let answer = send(Some(unusable)).await;
        answer.assert_problem(StatusCode::NOT_FOUND);
        assert!(id_of(&answer).parse::<Uuid>().is_ok(), "{unusable:?} gave {}", id_of(&answer));
    }
}
