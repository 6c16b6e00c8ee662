//! JSON log lines (issue 17): a request's line carries its request id, route, user, tenant and
//! flow; a worker's line its job, tenant, flows, import and phase.
//!
//! Alone in its test binary: the log subscriber is set for this test's thread only, and tracing
//! caches per call site whether anyone listens; another test's thread meeting a call site first
//! can race with that cache and lose this test's lines.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Auth, app, inventory_upload, operator, tenant};
use modernize::discovery::pipeline::{self, WorkerOptions};
use modernize::fixtures::ACME;
use modernize_api::telemetry::{self, LogFormat};
use serde_json::Value as Json;
use sqlx::PgPool;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Log lines written to memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Captured {
    type Writer = Self;

    fn make_writer(&'w self) -> Self {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<Json> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        String::from_utf8(bytes)
            .expect("UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .collect()
    }
}

/// The fields of the span `name` of a JSON log line.
fn span<'a>(line: &'a Json, name: &str) -> Option<&'a Json> {
    line["spans"].as_array()?.iter().find(|s| s["name"] == name)
}

#[sqlx::test(migrations = false)]
async fn json_log_lines_carry_the_request_tenant_flow_and_job_ids(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let admin = app.token(acme.admin_user_id).await;
    let captured = Captured::default();
    // This test's runtime has one thread: the request's tasks and the worker log through this.
    let _logging = tracing::subscriber::set_default(telemetry::log_subscriber(
        LogFormat::Json,
        EnvFilter::new("info"),
        captured.clone(),
    ));

    let answer = app.send(inventory_upload(&acme, &admin, "json-log-1")).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let id = |key: &str| answer.body[key].as_str().expect("an id").to_owned();
    let (flow_id, import_id, master_id) = (id("discovery_flow_id"), id("data_import_id"), id("master_flow_id"));
    let flow = format!(
        "/api/v1/client-accounts/{}/engagements/{}/flows/{flow_id}",
        acme.client_account_id, acme.engagement_id
    );
    let request = Request::get(&flow)
        .header(header::AUTHORIZATION, format!("Bearer {}", bearer(&admin)))
        .header(telemetry::REQUEST_ID_HEADER, "json-log-2")
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send(request).await.status, StatusCode::OK);
    let options = WorkerOptions {
        only_flow: flow_id.parse().ok(),
        poll: Duration::from_millis(10),
        name: "telemetry-test".into(),
        ..Default::default()
    };
    pipeline::run_worker(&pool, operator(), &modernize_mapping::Engine::new(), &options, true).await.expect("worker");

    let lines = captured.lines();
    let response_of = |request_id: &str| {
        lines
            .iter()
            .find(|line| {
                line["fields"]["message"] == "finished processing request"
                    && span(line, "request").is_some_and(|s| s["request_id"] == request_id)
            })
            .unwrap_or_else(|| panic!("no response line for {request_id}: {lines:#?}"))
    };
    let read = span(response_of("json-log-2"), "request").expect("request span").clone();
    assert_eq!(read["route"], "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}");
    assert_eq!(read["method"], "GET");
    assert_eq!(read["client_account_id"], acme.client_account_id.to_string());
    assert_eq!(read["engagement_id"], acme.engagement_id.to_string());
    assert_eq!(read["user_id"], acme.admin_user_id.to_string());
    assert_eq!(read["flow_id"], flow_id);
    let upload = response_of("json-log-1");
    assert_eq!(upload["fields"]["status"], 202);
    assert_eq!(span(upload, "request").expect("request span")["client_account_id"], acme.client_account_id.to_string());

    let jobs: Vec<_> = lines.iter().filter(|line| line["fields"]["message"] == "job done").collect();
    assert!(!jobs.is_empty(), "{lines:#?}");
    for line in jobs {
        let job = span(line, "job").unwrap_or_else(|| panic!("no job span: {line}"));
        assert!(job["job_id"].as_i64().is_some(), "{line}");
        assert_eq!(job["worker"], "telemetry-test");
        assert_eq!(job["client_account_id"], acme.client_account_id.to_string());
        assert_eq!(job["flow_id"], flow_id);
        assert_eq!(job["master_flow_id"], master_id);
        assert_eq!(job["import_id"], import_id);
        assert!(job["phase"].as_str().is_some(), "{line}");
    }
}

fn bearer(auth: &Auth) -> &str {
    match auth {
        Auth::Bearer(token) => token,
        _ => panic!("a token"),
    }
}
