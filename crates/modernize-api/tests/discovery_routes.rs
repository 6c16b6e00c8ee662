//! Discovery over HTTP: a real upload of examples/inventory.csv run to completion by the job
//! workers in-process; the upload limit (413, nothing left), 415; flows, their lifecycle and
//! their live events; and the cross-tenant and role matrices over every discovery route.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Auth, TestApp, app, app_with, operator, tenant};
use http_body_util::BodyExt;
use modernize::discovery::pipeline::{self, WorkerOptions};
use modernize::fixtures::{ACME, DemoIds, GLOBEX};
use modernize::models::MemberRole;
use modernize::repo::tenancy;
use modernize::tenancy::{TenantCtx, TenantTx};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

const INVENTORY: &[u8] = include_bytes!("../../../examples/inventory.csv");
const BOUNDARY: &str = "modernize-test-boundary-7MA4YWxkTrZu0gW";

/// One part of a multipart form: name, file name (for a file), content.
struct Part<'a>(&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for Part(name, filename, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes())
            }
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn with_auth(request: axum::http::request::Builder, auth: &Auth) -> axum::http::request::Builder {
    match auth {
        Auth::None => request,
        Auth::Bearer(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        Auth::Cookie(cookie) => request.header(header::COOKIE, cookie),
    }
}

async fn upload(app: &TestApp, uri: &str, auth: &Auth, parts: &[Part<'_>]) -> common::Answer {
    let request = with_auth(Request::post(uri), auth)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(multipart(parts)))
        .expect("request");
    app.send(request).await
}

fn base(ids: &DemoIds) -> String {
    format!("/api/v1/client-accounts/{}/engagements/{}", ACME.slug, ids.engagement_id)
}

/// Runs the queued jobs of one flow to the end (a pause for review included), in this process.
async fn run_jobs(pool: &PgPool, flow_id: Uuid) {
    let options = WorkerOptions { only_flow: Some(flow_id), poll: Duration::from_millis(10), ..Default::default() };
    pipeline::run_worker(pool, operator(), &modernize_mapping::Engine::new(), &options, true).await.expect("worker");
}

/// Gives the demo viewer access to the demo engagement (fixtures grant only the analyst).
async fn grant_viewer(pool: &PgPool, ids: &DemoIds) {
    let mut conn = pool.acquire().await.expect("connection");
    let ctx = TenantCtx::for_operator(&mut conn, operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    tenancy::grant_engagement_access(&mut tx, ids.viewer_user_id, MemberRole::Viewer).await.expect("grant");
    tx.commit().await.expect("commit");
}

fn upload_entries(app: &TestApp) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(&app.state.config.uploads_dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    }
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM migration.{table}")))
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrations = false)]
async fn an_uploaded_inventory_becomes_a_flow_that_runs_to_completion(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    let answer = upload(
        &app,
        &format!("{base}/imports"),
        &analyst,
        &[Part("file", Some("inventory.csv"), INVENTORY), Part("accept_above", None, b"0.8")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("flow id");
    let location = answer.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("location");
    assert_eq!(location, format!("{base}/flows/{flow_id}"));
    assert_eq!(answer.body["flow_url"], location);
    let import_id = answer.body["data_import_id"].as_str().expect("import id").to_owned();
    let master_id = answer.body["master_flow_id"].as_str().expect("master id").to_owned();

    // The upload is kept privately for the workers.
    let entries = upload_entries(&app);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let file = entries[0].join("inventory.csv");
    assert_eq!(std::fs::read(&file).expect("stored"), INVENTORY);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o600);

    // Master flow first, then its child (seed task 4.1).
    let (master_at, child_at): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT m.created_at, f.created_at FROM migration.discovery_flows f
         JOIN migration.crewai_flow_state_extensions m ON m.flow_id = f.master_flow_id WHERE f.id = $1",
    )
    .bind(flow_id)
    .fetch_one(&pool)
    .await
    .expect("flows");
    assert!(master_at <= child_at);

    let flow = app.get(location, &analyst).await;
    assert_eq!(flow.status, StatusCode::OK, "{:?}", flow.body);
    assert_eq!(flow.body["status"], "running");
    assert_eq!(flow.body["master_flow_id"], master_id);

    run_jobs(&pool, flow_id).await;

    let summary = app.get(&format!("{location}/summary"), &analyst).await;
    assert_eq!(summary.status, StatusCode::OK, "{:?}", summary.body);
    assert_eq!(summary.body["status"], "completed", "{:?}", summary.body);
    assert_eq!(summary.body["progress_percentage"], 100.0);
    assert_eq!(summary.body["import"]["total_records"], 54);
    assert!(summary.body["inventory"]["assets"].as_i64().expect("assets") > 40, "{:?}", summary.body["inventory"]);
    assert_eq!(summary.body["phases"].as_array().map(Vec::len), Some(6));

    let imports = app.get(&format!("{base}/imports"), &analyst).await;
    assert_eq!(imports.status, StatusCode::OK, "{:?}", imports.body);
    assert_eq!(imports.body["imports"][0]["id"], import_id);
    assert_eq!(imports.body["imports"][0]["discovery_flow_id"], flow_id.to_string());
    assert_eq!(imports.body["imports"][0]["filename"], "inventory.csv");
    assert_eq!(imports.body["imports"][0]["file_size"], INVENTORY.len());
    assert_eq!(imports.body["imports"][0]["status"], "completed");
    let import = app.get(&format!("{base}/imports/{import_id}"), &analyst).await;
    assert_eq!(import.status, StatusCode::OK, "{:?}", import.body);
    assert_eq!(import.body["master_flow_id"], master_id);

    let flows = app.get(&format!("{base}/flows?limit=1"), &analyst).await;
    assert_eq!(flows.status, StatusCode::OK, "{:?}", flows.body);
    assert_eq!(flows.body["flows"].as_array().map(Vec::len), Some(1));
    assert_eq!(flows.body["flows"][0]["id"], flow_id.to_string(), "newest first");
    assert_eq!(flows.body["next_offset"], 1, "the fixtures' flow is on the next page");
    let masters = app.get(&format!("{base}/master-flows"), &analyst).await;
    assert_eq!(masters.status, StatusCode::OK, "{:?}", masters.body);
    assert_eq!(masters.body["master_flows"][0]["flow_id"], master_id);
    assert_eq!(masters.body["master_flows"][0]["discovery_flow_ids"][0], flow_id.to_string());
    let master = app.get(&format!("{base}/master-flows/{master_id}"), &analyst).await;
    assert_eq!(master.status, StatusCode::OK, "{:?}", master.body);
    assert_eq!(master.body["flow_status"], "completed");
    assert!(master.body.get("flow_configuration").is_none(), "the server's upload path is not shown");
    let transitions: Vec<&str> =
        master.body["transitions"].as_array().expect("transitions").iter().filter_map(|t| t["to"].as_str()).collect();
    assert_eq!(transitions, ["running", "completed"]);

    // A completed flow cannot be paused, resumed, retried or cancelled: 409, unchanged.
    for action in ["pause", "resume", "retry", "cancel"] {
        let answer = app.call(Method::POST, &format!("{location}/{action}"), &analyst, None).await;
        answer.assert_problem(StatusCode::CONFLICT);
    }
    assert_eq!(app.get(location, &analyst).await.body["status"], "completed");
}

#[sqlx::test(migrations = false)]
async fn a_flow_paused_for_review_is_resumed_over_http(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    let answer =
        upload(&app, &format!("{base}/imports"), &analyst, &[Part("file", Some("inventory.csv"), INVENTORY)]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let location = answer.headers[header::LOCATION].to_str().expect("location").to_owned();
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    run_jobs(&pool, flow_id).await;
    let flow = app.get(&location, &analyst).await;
    assert_eq!(flow.body["status"], "paused", "waits for a review: {:?}", flow.body);
    // Mappings still await review: 422 naming accept_above.
    let refused = app.call(Method::POST, &format!("{location}/resume"), &analyst, None).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "accept_above");
    let bad = app.call(Method::POST, &format!("{location}/resume?accept_above=7"), &analyst, None).await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let resumed = app.call(Method::POST, &format!("{location}/resume?accept_above=0.8"), &analyst, None).await;
    assert_eq!(resumed.status, StatusCode::OK, "{:?}", resumed.body);
    assert_eq!(resumed.body["status"], "running");
    let paused = app.call(Method::POST, &format!("{location}/pause"), &analyst, None).await;
    assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
    assert_eq!(paused.body["status"], "paused");
    let resumed = app.call(Method::POST, &format!("{location}/resume"), &analyst, None).await;
    assert_eq!(resumed.status, StatusCode::OK, "{:?}", resumed.body);
    run_jobs(&pool, flow_id).await;
    assert_eq!(app.get(&location, &analyst).await.body["status"], "completed");
}

#[sqlx::test(migrations = false)]
async fn an_upload_over_the_limit_is_413_and_leaves_no_flow_and_no_file(pool: PgPool) {
    let app = app_with(&pool, |config| config.max_upload_bytes = 1000).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let (flows, imports, masters) = (
        count(&pool, "discovery_flows").await,
        count(&pool, "data_imports").await,
        count(&pool, "crewai_flow_state_extensions").await,
    );
    assert!(INVENTORY.len() > 1000);
    let answer =
        upload(&app, &format!("{}/imports", base(&ids)), &analyst, &[Part("file", Some("inventory.csv"), INVENTORY)])
            .await;
    answer.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.body["detail"].as_str().is_some_and(|d| d.contains("1000 bytes")), "{:?}", answer.body);
    assert_eq!(upload_entries(&app), Vec::<std::path::PathBuf>::new(), "the partial file is deleted");
    assert_eq!(
        (
            count(&pool, "discovery_flows").await,
            count(&pool, "data_imports").await,
            count(&pool, "crewai_flow_state_extensions").await
        ),
        (flows, imports, masters)
    );
    // The same limit for the file of a JSON request, sent by PUT: 413, no file, no flow, and
    // the import still awaits its file.
    let engagement = ids.engagement_id.to_string();
    let acme = (ACME.slug, engagement.as_str());
    let created =
        legacy_json(&app, "/api/v1/imports", &analyst, acme, serde_json::json!({"filename": "inventory.csv"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let upload_url = created.body["upload_url"].as_str().expect("upload url").to_owned();
    let flows_before = count(&pool, "discovery_flows").await;
    put_file(&app, &upload_url, &analyst, acme, INVENTORY).await.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(upload_entries(&app), Vec::<std::path::PathBuf>::new(), "the partial file is deleted");
    assert_eq!(count(&pool, "discovery_flows").await, flows_before);
    let import =
        app.get(&format!("{}/imports/{}", base(&ids), created.body["id"].as_str().expect("id")), &analyst).await;
    assert_eq!(import.body["status"], "pending");

    // A file within the limit goes through on the same server.
    let small = b"hostname,operating_system\nsrv-1,Ubuntu 22.04\n";
    let answer =
        upload(&app, &format!("{}/imports", base(&ids)), &analyst, &[Part("file", Some("small.csv"), small)]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
}

#[sqlx::test(migrations = false)]
async fn uploads_that_are_no_form_or_no_inventory_are_refused_and_leave_nothing(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let uri = format!("{}/imports", base(&ids));
    let before = count(&pool, "discovery_flows").await;

    let answer = app.call(Method::POST, &uri, &analyst, Some(serde_json::json!({"filename": "a.csv"}))).await;
    answer.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let raw = with_auth(Request::post(&uri), &analyst)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(INVENTORY))
        .expect("request");
    app.send(raw).await.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let answer = upload(&app, &uri, &analyst, &[Part("sheet", None, b"Servers")]).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "file");
    let answer =
        upload(&app, &uri, &analyst, &[Part("file", Some("a.csv"), INVENTORY), Part("colour", None, b"red")]).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "colour");
    let answer =
        upload(&app, &uri, &analyst, &[Part("file", Some("a.csv"), INVENTORY), Part("encoding", None, b"ebcdic")])
            .await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "encoding");
    let answer =
        upload(&app, &uri, &analyst, &[Part("file", Some("a.csv"), INVENTORY), Part("accept_above", None, b"2")]).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "accept_above");
    let answer = upload(&app, &uri, &analyst, &[Part("file", Some("notes.pdf"), b"%PDF-1.7")]).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "file");
    let answer = upload(&app, &uri, &analyst, &[Part("file", Some("empty.csv"), b"")]).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "file");

    assert_eq!(count(&pool, "discovery_flows").await, before);
    assert_eq!(upload_entries(&app), Vec::<std::path::PathBuf>::new());
}

/// Reads an SSE response until it ends (at most 30 s), as (event, data) pairs.
async fn read_events(app: &TestApp, uri: &str, auth: &Auth) -> (StatusCode, String, Vec<(String, Value)>) {
    let request = with_auth(Request::get(uri), auth).body(Body::empty()).expect("request");
    let response = app.router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = tokio::time::timeout(Duration::from_secs(30), response.into_body().collect())
        .await
        .expect("the stream ends")
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    let events = text
        .split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("event:") {
                    name = Some(rest.trim().to_owned());
                } else if let Some(rest) = line.strip_prefix("data:") {
                    data.push_str(rest.trim());
                }
            }
            Some((name?, serde_json::from_str(&data).unwrap_or(Value::String(data))))
        })
        .collect();
    (status, content_type, events)
}

#[sqlx::test(migrations = false)]
async fn a_flows_events_report_progress_then_end(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let answer = upload(
        &app,
        &format!("{}/imports", base(&ids)),
        &analyst,
        &[Part("file", Some("inventory.csv"), INVENTORY), Part("accept_above", None, b"0.8")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let location = answer.headers[header::LOCATION].to_str().expect("location").to_owned();
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    // The workers run while the stream is followed.
    let worker_pool = pool.clone();
    let worker = tokio::spawn(async move { run_jobs(&worker_pool, flow_id).await });
    let (status, content_type, events) = read_events(&app, &format!("{location}/events"), &analyst).await;
    worker.await.expect("worker");
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert!(names.len() >= 2 && names[0] == "progress", "{names:?}");
    assert_eq!(names.last(), Some(&"end"), "{names:?}");
    assert!(names[..names.len() - 1].iter().all(|n| *n == "progress"), "{names:?}");
    let (_, last) = events.last().expect("end");
    assert_eq!(last["status"], "completed");
    assert_eq!(last["progress_percentage"], 100.0);
    // The first event is the flow as it was when the stream started (the worker may be done by then).
    assert!(["running", "completed"].contains(&events[0].1["status"].as_str().unwrap_or("")), "{events:?}");

    // A finished flow's stream is one progress event and the end.
    let (_, _, again) = read_events(&app, &format!("{location}/events"), &analyst).await;
    let names: Vec<&str> = again.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["progress", "end"]);
}

/// Every discovery route with tenant A's ids: (method, path, body).
fn routes_of(
    ids: &DemoIds,
    flow_id: Uuid,
    master_id: Uuid,
    import_id: Uuid,
    mapping_id: Uuid,
) -> Vec<(Method, String)> {
    let base = base(ids);
    let flow = format!("{base}/flows/{flow_id}");
    vec![
        (Method::GET, format!("{flow}/mappings")),
        (Method::GET, format!("{flow}/issues")),
        (Method::GET, format!("{flow}/issues.csv")),
        (Method::PATCH, format!("{flow}/mappings/{mapping_id}")),
        (Method::POST, format!("{flow}/mappings/review")),
        (Method::GET, format!("{base}/imports")),
        (Method::GET, format!("{base}/imports/{import_id}")),
        (Method::GET, format!("{base}/flows")),
        (Method::GET, flow.clone()),
        (Method::GET, format!("{flow}/summary")),
        (Method::GET, format!("{flow}/events")),
        (Method::GET, format!("{base}/master-flows")),
        (Method::GET, format!("{base}/master-flows/{master_id}")),
        (Method::POST, format!("{flow}/pause")),
        (Method::POST, format!("{flow}/resume")),
        (Method::POST, format!("{flow}/retry")),
        (Method::POST, format!("{flow}/cancel")),
        (Method::POST, format!("{base}/imports")),
    ]
}

/// What a refused call could have changed.
async fn fingerprint(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ',
            (SELECT string_agg(status || updated_at::text, ',' ORDER BY id) FROM migration.discovery_flows),
            (SELECT string_agg(flow_status || updated_at::text, ',' ORDER BY flow_id) FROM migration.crewai_flow_state_extensions),
            (SELECT string_agg(status || coalesce(updated_at::text, ''), ',' ORDER BY id) FROM migration.import_field_mappings),
            (SELECT count(*) FROM migration.data_imports), (SELECT count(*) FROM modernize.jobs))",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint")
}

async fn send_route(app: &TestApp, method: &Method, uri: &str, auth: &Auth) -> common::Answer {
    if uri.ends_with("/events") {
        // The events of a paused flow never end: the status and headers are the answer.
        let request = with_auth(Request::get(uri), auth).body(Body::empty()).expect("request");
        let response = app.router.clone().oneshot(request).await.expect("infallible");
        let (status, headers) = (response.status(), response.headers().clone());
        if status == StatusCode::OK {
            return common::Answer { status, headers, body: Value::Null };
        }
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).expect("a problem");
        return common::Answer { status, headers, body };
    }
    if uri.ends_with("/imports") && method == Method::POST {
        return upload(app, uri, auth, &[Part("file", Some("inventory.csv"), INVENTORY)]).await;
    }
    let body = if method == Method::PATCH {
        Some(serde_json::json!({"action": "reject"}))
    } else if uri.ends_with("/mappings/review") {
        Some(serde_json::json!({"accept_above": 0.5}))
    } else {
        None
    };
    app.call(method.clone(), uri, auth, body).await
}

#[sqlx::test(migrations = false)]
async fn another_tenant_gets_404_and_a_viewer_403_on_every_discovery_route(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let other = tenant(&pool, GLOBEX).await;
    grant_viewer(&pool, &ids).await;
    let analyst = app.token(ids.analyst_user_id).await;
    // A flow paused for review, so every lifecycle action could apply.
    let answer =
        upload(&app, &format!("{}/imports", base(&ids)), &analyst, &[Part("file", Some("inventory.csv"), INVENTORY)])
            .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let id = |key: &str| answer.body[key].as_str().and_then(|s| s.parse::<Uuid>().ok()).expect("id");
    let (flow_id, master_id, import_id) = (id("discovery_flow_id"), id("master_flow_id"), id("data_import_id"));
    run_jobs(&pool, flow_id).await;
    let files = upload_entries(&app);
    let mapping_id: Uuid =
        sqlx::query_scalar("SELECT id FROM migration.import_field_mappings WHERE data_import_id = $1 LIMIT 1")
            .bind(import_id)
            .fetch_one(&pool)
            .await
            .expect("a mapping");

    let strangers = [app.token(other.admin_user_id).await, app.token(other.analyst_user_id).await];
    for stranger in &strangers {
        for (method, uri) in routes_of(&ids, flow_id, master_id, import_id, mapping_id) {
            let before = fingerprint(&pool).await;
            let answer = send_route(&app, &method, &uri, stranger).await;
            answer.assert_problem(StatusCode::NOT_FOUND);
            assert_eq!(fingerprint(&pool).await, before, "{method} {uri}: refused, yet changed");
        }
        // Tenant B's own engagement with A's flow, import and master flow ids: still 404.
        let b_base = format!("/api/v1/client-accounts/{}/engagements/{}", GLOBEX.slug, other.engagement_id);
        for uri in [
            format!("{b_base}/flows/{flow_id}"),
            format!("{b_base}/flows/{flow_id}/summary"),
            format!("{b_base}/imports/{import_id}"),
            format!("{b_base}/master-flows/{master_id}"),
            format!("{b_base}/flows/{flow_id}/mappings"),
            format!("{b_base}/flows/{flow_id}/issues"),
        ] {
            app.get(&uri, stranger).await.assert_problem(StatusCode::NOT_FOUND);
        }
        let before = fingerprint(&pool).await;
        let answer = app.call(Method::POST, &format!("{b_base}/flows/{flow_id}/cancel"), stranger, None).await;
        answer.assert_problem(StatusCode::NOT_FOUND);
        assert_eq!(fingerprint(&pool).await, before);
    }

    let viewer = app.token(ids.viewer_user_id).await;
    for (method, uri) in routes_of(&ids, flow_id, master_id, import_id, mapping_id) {
        let before = fingerprint(&pool).await;
        let answer = send_route(&app, &method, &uri, &viewer).await;
        if method == Method::GET {
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {:?}", answer.body);
        } else {
            answer.assert_problem(StatusCode::FORBIDDEN);
            assert_eq!(fingerprint(&pool).await, before, "{method} {uri}: refused, yet changed");
        }
    }
    assert_eq!(upload_entries(&app), files, "no refused upload left a file");
}

/// A file with a bad row, a formula-like cell and a value cleansing cannot use.
const TROUBLED: &[u8] = b"hostname,ip_address,operating_system,memory_gb\n\
srv-1,10.0.0.1,Ubuntu 22.04,16\n\
srv-2,10.0.0.2,Ubuntu 22.04,32,surplus\n\
srv-3,not-an-ip,=cmd|' /C calc'!A0,8\n\
srv-4,10.0.0.4,AIX 7.2,lots\n";

#[sqlx::test(migrations = false)]
async fn mappings_are_reviewed_and_issues_listed_and_downloaded(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    let answer =
        upload(&app, &format!("{base}/imports"), &analyst, &[Part("file", Some("inventory.csv"), INVENTORY)]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let flow = answer.headers[header::LOCATION].to_str().expect("location").to_owned();
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    run_jobs(&pool, flow_id).await;

    let listed = app.get(&format!("{flow}/mappings"), &analyst).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let mappings = listed.body["mappings"].as_array().expect("mappings").clone();
    assert_eq!(mappings.len(), 23, "one per column of the file");
    let target_fields: Vec<&str> =
        listed.body["target_fields"].as_array().expect("target_fields").iter().filter_map(|f| f.as_str()).collect();
    let expected: Vec<&str> = modernize::models::asset_fields::target_fields().collect();
    assert_eq!(target_fields, expected, "the fields a reviewer may pick");
    let by_column = |column: &str| mappings.iter().find(|m| m["source_field"] == column).expect(column).clone();
    let name = by_column("Name");
    assert_eq!(name["status"], "suggested");
    assert!(name["confidence"].as_f64().is_some_and(|c| c > 0.5), "{name:?}");
    assert!(name["explanation"].as_str().is_some_and(|e| !e.is_empty()), "{name:?}");
    assert_eq!(name["sample_values"][0], "Payroll");
    let ram = by_column("RAM (MB)");

    // One mapping: a changed target takes the unit its header names (MB → GB).
    let uri = format!("{flow}/mappings/{}", ram["id"].as_str().expect("id"));
    let changed = app
        .call(Method::PATCH, &uri, &analyst, Some(serde_json::json!({"action": "map", "target_field": "memory_gb"})))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(
        (changed.body["target_field"].as_str(), changed.body["status"].as_str()),
        (Some("memory_gb"), Some("approved"))
    );
    assert_eq!(changed.body["match_type"], "user");
    assert!(changed.body["transformation_rules"].as_object().is_some_and(|r| !r.is_empty()), "{:?}", changed.body);
    let refused = app
        .call(Method::PATCH, &uri, &analyst, Some(serde_json::json!({"action": "map", "target_field": "colour"})))
        .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "target_field");
    let refused = app
        .call(Method::PATCH, &uri, &analyst, Some(serde_json::json!({"action": "approve", "target_field": "name"})))
        .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .call(
            Method::PATCH,
            &format!("{flow}/mappings/{}", Uuid::new_v4()),
            &analyst,
            Some(serde_json::json!({"action": "approve"})),
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);

    // In bulk, all or none: a column not in the file refuses the whole review.
    let review = format!("{flow}/mappings/review");
    let bad = serde_json::json!({"decisions": [
        {"source_field": "Comments", "action": "reject"},
        {"source_field": "Colour", "action": "approve"}]});
    let refused = app.call(Method::POST, &review, &analyst, Some(bad)).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["field"], "source_field");
    let after = app.get(&format!("{flow}/mappings"), &analyst).await;
    assert_eq!(
        after.body["mappings"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["source_field"] == "Comments"))
            .map(|m| m["status"].clone()),
        Some(Value::from("suggested"))
    );
    let good = serde_json::json!({"decisions": [
        {"source_field": "Comments", "action": "reject"},
        {"mapping_id": name["id"], "action": "approve"}], "accept_above": 0.8});
    let reviewed = app.call(Method::POST, &review, &analyst, Some(good)).await;
    assert_eq!(reviewed.status, StatusCode::OK, "{:?}", reviewed.body);
    let status_of = |column: &str| {
        reviewed.body["mappings"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["source_field"] == column))
            .map(|m| m["status"].clone())
    };
    assert_eq!(status_of("Comments"), Some(Value::from("rejected")));
    assert_eq!(status_of("Name"), Some(Value::from("approved")));
    assert_eq!(status_of("RAM (MB)"), Some(Value::from("approved")));
    for m in reviewed.body["mappings"].as_array().expect("mappings") {
        if m["status"] == "suggested" && m["target_field"].is_string() {
            assert!(m["confidence"].as_f64().is_some_and(|c| c < 0.8), "accept_above approved the rest: {m:?}");
        }
    }
    // The review is what the CLI's `flows review` does: resume decides the rest and goes on.
    let resumed = app.call(Method::POST, &format!("{flow}/resume?accept_above=0.99"), &analyst, None).await;
    assert_eq!(resumed.status, StatusCode::OK, "{:?}", resumed.body);
    run_jobs(&pool, flow_id).await;
    let summary = app.get(&format!("{flow}/summary"), &analyst).await;
    assert_eq!(summary.body["status"], "completed");

    // Issues of a troubled file: JSON pages, then the same as CSV.
    let answer = upload(
        &app,
        &format!("{base}/imports"),
        &analyst,
        &[Part("file", Some("troubled.csv"), TROUBLED), Part("accept_above", None, b"0.5")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let flow = answer.headers[header::LOCATION].to_str().expect("location").to_owned();
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    run_jobs(&pool, flow_id).await;
    let all = app.get(&format!("{flow}/issues?limit=1000"), &analyst).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    let issues = all.body["issues"].as_array().expect("issues").clone();
    assert!(all.body.get("next_after").is_none_or(Value::is_null));
    let long = issues.iter().find(|i| i["kind"] == "long_row").expect("the long row");
    assert_eq!(
        (long["row_number"].as_i64(), long["file_row"].as_i64(), long["severity"].as_str()),
        (Some(2), Some(3), Some("error"))
    );
    let formula = issues.iter().find(|i| i["kind"] == "formula_injection").expect("the formula");
    assert_eq!(formula["column"], "operating_system");
    assert_eq!(formula["value"], "=cmd|' /C calc'!A0");
    assert_eq!(formula["file_row"], 4);
    let ip = issues.iter().find(|i| i["column"] == "ip_address" && i["kind"] == "cleansing").expect("the bad IP");
    assert_eq!(ip["value"], "not-an-ip");
    assert!(ip["reason"].as_str().is_some_and(|r| r.contains("not an IP address")), "{ip:?}");
    assert_eq!(ip["file_row"], 4, "the record's file row, from the reader's note on the same record");
    // Paging one at a time walks the same list.
    let mut walked = Vec::new();
    let mut uri = format!("{flow}/issues?limit=1");
    loop {
        let page = app.get(&uri, &analyst).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        walked.extend(page.body["issues"].as_array().expect("issues").clone());
        match page.body["next_after"].as_str() {
            Some(after) => uri = format!("{flow}/issues?limit=1&after={after}"),
            None => break,
        }
    }
    assert_eq!(walked, issues);
    app.get(&format!("{flow}/issues?after=x"), &analyst).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let csv = app.get(&format!("{flow}/issues.csv"), &analyst).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
    let text = csv.body.as_str().expect("text").to_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        ["row_number", "file_row", "column", "value", "severity", "kind", "reason", "issue_index", "sheet"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
    assert_eq!(rows.len(), issues.len());
    assert!(rows.iter().any(|r| &r[3] == "=cmd|' /C calc'!A0" && &r[5] == "formula_injection"));
    let request = with_auth(Request::get(format!("{flow}/issues")), &analyst)
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .expect("request");
    let negotiated = app.send(request).await;
    assert!(negotiated.content_type().starts_with("text/csv"));
    assert_eq!(negotiated.body.as_str(), Some(text.as_str()));
}

async fn legacy_upload(
    app: &TestApp,
    path: &str,
    auth: &Auth,
    tenant: (&str, &str),
    metadata: Option<Value>,
) -> common::Answer {
    let metadata = metadata.map(|m| serde_json::to_vec(&m).expect("json")).unwrap_or_default();
    let mut parts = vec![Part("file", Some("inventory.csv"), INVENTORY)];
    if !metadata.is_empty() {
        parts.insert(0, Part("metadata", None, &metadata));
    }
    let request = with_auth(Request::post(path), auth)
        .header("x-client-account-id", tenant.0)
        .header("x-engagement-id", tenant.1)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(multipart(&parts)))
        .expect("request");
    app.send(request).await
}

#[sqlx::test(migrations = false)]
async fn the_legacy_import_endpoint_takes_old_and_new_names(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let other = tenant(&pool, GLOBEX).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let engagement = ids.engagement_id.to_string();
    let acme = (ACME.slug, engagement.as_str());
    let size = INVENTORY.len();

    // Old names, on the old path: stored under the new names, answered with Deprecation.
    let old = serde_json::json!({"source_filename": "cmdb-export.csv", "file_size_bytes": size,
                                  "file_type": "text/csv", "master_flow_id": ids.master_flow_id});
    let answer = legacy_upload(&app, "/v3/imports", &analyst, acme, Some(old)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    assert_eq!(answer.headers["deprecation"], "true");
    assert!(answer.headers["x-deprecated-fields"].to_str().expect("text").contains("source_filename"));
    let text = answer.body.to_string();
    for old_name in ["source_filename", "file_size_bytes", "file_type"] {
        assert!(!text.contains(old_name), "responses use only the new names: {text}");
    }
    let import_id = answer.body["data_import_id"].as_str().expect("id").to_owned();
    let import = app.get(&format!("{}/imports/{import_id}", base(&ids)), &analyst).await;
    assert_eq!(import.body["filename"], "cmdb-export.csv");
    assert_eq!(import.body["file_size"], size);
    assert_eq!(import.body["mime_type"], "text/csv");
    let parent: Option<Uuid> = sqlx::query_scalar(
        "SELECT parent_flow_id FROM migration.crewai_flow_state_extensions WHERE flow_id = $1::uuid",
    )
    .bind(answer.body["master_flow_id"].as_str().expect("master"))
    .fetch_one(&pool)
    .await
    .expect("master flow");
    assert_eq!(parent, Some(ids.master_flow_id), "master_flow_id: the new master flow's parent");
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    run_jobs(&pool, flow_id).await;
    let summary = app.get(&format!("{}/flows/{flow_id}/summary", base(&ids)), &analyst).await;
    assert_eq!(summary.body["import"]["total_records"], 54, "the file was really imported");

    // New names on /api/v1/imports: no Deprecation.
    let new = serde_json::json!({"filename": "cmdb.csv", "file_size": size, "mime_type": "text/csv"});
    let answer = legacy_upload(&app, "/api/v1/imports", &analyst, acme, Some(new)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    assert!(answer.headers.get("deprecation").is_none());
    // No metadata at all: the file says it.
    let answer = legacy_upload(&app, "/api/v1/imports", &analyst, acme, None).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);

    // Deprecated fields are ignored, and said so.
    let deprecated = serde_json::json!({"filename": "x.csv", "is_mock": true, "file_hash": "abc", "import_config": {}});
    let answer = legacy_upload(&app, "/api/v1/imports", &analyst, acme, Some(deprecated)).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    assert_eq!(answer.headers["deprecation"], "true");
    let fields = answer.headers["x-deprecated-fields"].to_str().expect("text").to_owned();
    for field in ["is_mock", "file_hash", "import_config"] {
        assert!(fields.contains(field), "{fields}");
    }
    let before = (count(&pool, "discovery_flows").await, upload_entries(&app).len());

    // Both names with different values: 422 naming both; nothing kept.
    let conflict = serde_json::json!({"filename": "a.csv", "source_filename": "b.csv"});
    let answer = legacy_upload(&app, "/api/v1/imports", &analyst, acme, Some(conflict)).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "filename,source_filename");
    let detail = answer.body["detail"].as_str().expect("detail");
    assert!(detail.contains("filename") && detail.contains("source_filename"), "{detail}");
    let conflict = serde_json::json!({"file_size": 1, "file_size_bytes": 2});
    let answer = legacy_upload(&app, "/v3/imports", &analyst, acme, Some(conflict)).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "file_size,file_size_bytes");
    // Same values under both names are one value.
    let same = serde_json::json!({"filename": "a.csv", "source_filename": "a.csv", "file_size": size});
    let agreed = legacy_upload(&app, "/api/v1/imports", &analyst, acme, Some(same)).await;
    assert_eq!(agreed.status, StatusCode::ACCEPTED, "{:?}", agreed.body);
    let before = (before.0 + 1, before.1 + 1);
    // A size that is not the file's, an unknown field, another tenant's master flow: 422.
    for (metadata, field) in [
        (serde_json::json!({"file_size": 7}), "file_size"),
        (serde_json::json!({"filenam": "a.csv"}), "filenam"),
        (serde_json::json!({"master_flow_id": other.master_flow_id}), "master_flow_id"),
    ] {
        let answer = legacy_upload(&app, "/api/v1/imports", &analyst, acme, Some(metadata)).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], field, "{:?}", answer.body);
    }
    // The tenant headers: missing is 422, another tenant's is 404, a viewer's write 403.
    let request = with_auth(Request::post("/api/v1/imports"), &analyst)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(multipart(&[Part("file", Some("a.csv"), INVENTORY)])))
        .expect("request");
    let answer = app.send(request).await;
    answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "x-client-account-id");
    let stranger = app.token(other.admin_user_id).await;
    legacy_upload(&app, "/v3/imports", &stranger, acme, None).await.assert_problem(StatusCode::NOT_FOUND);
    let other_engagement = other.engagement_id.to_string();
    legacy_upload(&app, "/api/v1/imports", &analyst, (GLOBEX.slug, &other_engagement), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    legacy_upload(&app, "/api/v1/imports", &analyst, (ACME.slug, &other_engagement), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    grant_viewer(&pool, &ids).await;
    let viewer = app.token(ids.viewer_user_id).await;
    legacy_upload(&app, "/v3/imports", &viewer, acme, None).await.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!((count(&pool, "discovery_flows").await, upload_entries(&app).len()), before, "refusals kept nothing");
    app.call(Method::POST, "/v3/imports", &Auth::None, None).await.assert_problem(StatusCode::UNAUTHORIZED);
}

/// A request to the old endpoint with the tenant headers and a body of `content_type`.
async fn legacy_send(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: &Auth,
    tenant: (&str, &str),
    content_type: &str,
    body: Vec<u8>,
) -> common::Answer {
    let request = with_auth(Request::builder().method(method).uri(path), auth)
        .header("x-client-account-id", tenant.0)
        .header("x-engagement-id", tenant.1)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    app.send(request).await
}

/// The old frontend's JSON request: the import alone.
async fn legacy_json(app: &TestApp, path: &str, auth: &Auth, tenant: (&str, &str), body: Value) -> common::Answer {
    let bytes = serde_json::to_vec(&body).expect("json");
    legacy_send(app, Method::POST, path, auth, tenant, "application/json", bytes).await
}

/// The `PUT` of an import's file.
async fn put_file(app: &TestApp, uri: &str, auth: &Auth, tenant: (&str, &str), file: &[u8]) -> common::Answer {
    legacy_send(app, Method::PUT, uri, auth, tenant, "text/csv", file.to_vec()).await
}

#[sqlx::test(migrations = false)]
async fn the_legacy_json_request_creates_an_import_whose_file_is_put_later(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let engagement = ids.engagement_id.to_string();
    let acme = (ACME.slug, engagement.as_str());
    let size = INVENTORY.len();

    // Old names on the old path: 201, the import awaiting its file, only new names.
    let old = serde_json::json!({"source_filename": "cmdb-export.csv", "file_size_bytes": size,
                                  "file_type": "text/csv", "master_flow_id": ids.master_flow_id,
                                  "source_system": "ServiceNow", "is_mock": false});
    let created = legacy_json(&app, "/v3/imports", &analyst, acme, old).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.headers["deprecation"], "true");
    let deprecated = created.headers["x-deprecated-fields"].to_str().expect("text").to_owned();
    for field in ["source_filename", "file_size_bytes", "file_type", "is_mock"] {
        assert!(deprecated.contains(field), "{deprecated}");
    }
    let text = created.body.to_string();
    for old_name in ["source_filename", "file_size_bytes", "file_type", "is_mock"] {
        assert!(!text.contains(old_name), "responses use only the new names: {text}");
    }
    let import_id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.body["filename"], "cmdb-export.csv");
    assert_eq!(created.body["file_size"], size);
    assert_eq!(created.body["mime_type"], "text/csv");
    assert_eq!(created.body["source_system"], "ServiceNow");
    assert_eq!(created.body["status"], "pending");
    assert!(created.body["discovery_flow_id"].is_null(), "no flow before the file: {:?}", created.body);
    let upload_url = created.body["upload_url"].as_str().expect("upload url").to_owned();
    assert_eq!(upload_url, format!("/v3/imports/{import_id}/content"));
    assert_eq!(created.headers[header::LINK], format!("<{upload_url}>; rel=\"edit-media\""));
    let location = created.headers[header::LOCATION].to_str().expect("location").to_owned();
    let import = app.get(&location, &analyst).await;
    assert_eq!(import.status, StatusCode::OK, "{:?}", import.body);
    assert_eq!(import.body["status"], "pending");
    let master_id = created.body["master_flow_id"].as_str().expect("its master flow").to_owned();
    let parent: Option<Uuid> = sqlx::query_scalar(
        "SELECT parent_flow_id FROM migration.crewai_flow_state_extensions WHERE flow_id = $1::uuid",
    )
    .bind(&master_id)
    .fetch_one(&pool)
    .await
    .expect("master flow");
    assert_eq!(parent, Some(ids.master_flow_id), "master_flow_id: the new master flow's parent");
    assert_eq!(upload_entries(&app), Vec::<std::path::PathBuf>::new(), "no file yet");

    // A stranger cannot send the file, nor can a viewer; nothing changes.
    let other = tenant(&pool, GLOBEX).await;
    let stranger = app.token(other.admin_user_id).await;
    let other_engagement = other.engagement_id.to_string();
    let before = fingerprint(&pool).await;
    put_file(&app, &upload_url, &stranger, acme, INVENTORY).await.assert_problem(StatusCode::NOT_FOUND);
    let own = (GLOBEX.slug, other_engagement.as_str());
    put_file(&app, &upload_url, &stranger, own, INVENTORY).await.assert_problem(StatusCode::NOT_FOUND);
    let in_own = format!("/api/v1/imports/{import_id}/content");
    put_file(&app, &in_own, &stranger, own, INVENTORY).await.assert_problem(StatusCode::NOT_FOUND);
    grant_viewer(&pool, &ids).await;
    let viewer = app.token(ids.viewer_user_id).await;
    put_file(&app, &upload_url, &viewer, acme, INVENTORY).await.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(fingerprint(&pool).await, before, "refusals changed nothing");
    assert_eq!(upload_entries(&app), Vec::<std::path::PathBuf>::new(), "refusals kept no file");

    // The file: 202, the flow starts under the import's master flow and runs.
    let started = put_file(&app, &upload_url, &analyst, acme, INVENTORY).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
    assert_eq!(started.headers["deprecation"], "true", "the old path");
    assert_eq!(started.body["data_import_id"], import_id.as_str());
    assert_eq!(started.body["master_flow_id"], master_id.as_str());
    let flow_location = started.headers[header::LOCATION].to_str().expect("location").to_owned();
    assert_eq!(started.body["flow_url"], flow_location.as_str());
    let flow_id: Uuid = started.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("flow id");
    let (master_at, child_at): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT m.created_at, f.created_at FROM migration.discovery_flows f
         JOIN migration.crewai_flow_state_extensions m ON m.flow_id = f.master_flow_id WHERE f.id = $1",
    )
    .bind(flow_id)
    .fetch_one(&pool)
    .await
    .expect("flows");
    assert!(master_at <= child_at, "the master flow first (seed task 4.1)");
    let stored = upload_entries(&app);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(std::fs::read(stored[0].join("cmdb-export.csv")).expect("stored"), INVENTORY);
    run_jobs(&pool, flow_id).await;
    let summary = app.get(&format!("{flow_location}/summary"), &analyst).await;
    assert_eq!(summary.body["import"]["total_records"], 54, "the file was really imported: {:?}", summary.body);
    let import = app.get(&location, &analyst).await;
    assert_eq!(import.body["discovery_flow_id"], flow_id.to_string());

    // The file twice: 409, nothing more kept.
    let before = (fingerprint(&pool).await, upload_entries(&app));
    let again = put_file(&app, &upload_url, &analyst, acme, INVENTORY).await;
    again.assert_problem(StatusCode::CONFLICT);
    assert_eq!(again.body["field"], "status");
    assert_eq!((fingerprint(&pool).await, upload_entries(&app)), before);

    // New names on /api/v1/imports: no Deprecation, neither on its PUT.
    let new = serde_json::json!({"filename": "cmdb.csv", "file_size": size, "mime_type": "text/csv"});
    let created = legacy_json(&app, "/api/v1/imports", &analyst, acme, new).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(created.headers.get("deprecation").is_none());
    let upload_url = created.body["upload_url"].as_str().expect("upload url").to_owned();
    assert!(upload_url.starts_with("/api/v1/imports/"), "{upload_url}");
    let started = put_file(&app, &upload_url, &analyst, acme, INVENTORY).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
    assert!(started.headers.get("deprecation").is_none());

    // Refused JSON requests create nothing.
    let imports_before = count(&pool, "data_imports").await;
    let masters_before = count(&pool, "crewai_flow_state_extensions").await;
    for (body, field) in [
        (serde_json::json!({"filename": "a.csv", "source_filename": "b.csv"}), "filename,source_filename"),
        (serde_json::json!({"filename": "a.csv", "file_size": 1, "file_size_bytes": 2}), "file_size,file_size_bytes"),
        (
            serde_json::json!({"filename": "a.csv", "mime_type": "text/csv", "file_type": "text/plain"}),
            "mime_type,file_type",
        ),
        (serde_json::json!({"file_size": 10}), "filename"),
        (serde_json::json!({"filename": "a.csv", "file_size": "ten"}), "file_size"),
        (serde_json::json!({"filenam": "a.csv"}), "filenam"),
        (serde_json::json!({"filename": "a.csv", "master_flow_id": other.master_flow_id}), "master_flow_id"),
    ] {
        let answer = legacy_json(&app, "/api/v1/imports", &analyst, acme, body).await;
        answer.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.body["field"], field, "{:?}", answer.body);
    }
    let conflict = serde_json::json!({"filename": "a.csv", "source_filename": "b.csv"});
    let answer = legacy_json(&app, "/v3/imports", &analyst, acme, conflict).await;
    let detail = answer.body["detail"].as_str().expect("detail");
    assert!(detail.contains("filename") && detail.contains("source_filename"), "{detail}");
    let malformed = legacy_send(
        &app,
        Method::POST,
        "/api/v1/imports",
        &analyst,
        acme,
        "application/json",
        b"{\"filename\":".to_vec(),
    )
    .await;
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    let plain = legacy_send(&app, Method::POST, "/v3/imports", &analyst, acme, "text/plain", b"a.csv".to_vec()).await;
    plain.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json = serde_json::json!({"filename": "a.csv"});
    legacy_json(&app, "/v3/imports", &viewer, acme, json.clone()).await.assert_problem(StatusCode::FORBIDDEN);
    legacy_json(&app, "/v3/imports", &stranger, acme, json.clone()).await.assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(count(&pool, "data_imports").await, imports_before, "refusals created no import");
    assert_eq!(count(&pool, "crewai_flow_state_extensions").await, masters_before, "nor a master flow");

    // A file whose size is not the declared one: 422 naming file_size, nothing kept, and the
    // import still awaits its file; a body that is a form or JSON, or has no Content-Type, is no
    // file (415); options that do not parse are 400 naming them.
    let declared = serde_json::json!({"filename": "small.csv", "file_size": 7});
    let created = legacy_json(&app, "/api/v1/imports", &analyst, acme, declared).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let upload_url = created.body["upload_url"].as_str().expect("upload url").to_owned();
    let before = (fingerprint(&pool).await, upload_entries(&app));
    let wrong = put_file(&app, &upload_url, &analyst, acme, INVENTORY).await;
    wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["field"], "file_size");
    let as_json = legacy_send(&app, Method::PUT, &upload_url, &analyst, acme, "application/json", b"{}".to_vec()).await;
    as_json.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let untyped = with_auth(Request::builder().method(Method::PUT).uri(&upload_url), &analyst)
        .header("x-client-account-id", acme.0)
        .header("x-engagement-id", acme.1)
        .body(Body::from(b"a,b\n1,2".to_vec()))
        .expect("request");
    let untyped = app.send(untyped).await;
    untyped.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let detail = untyped.body["detail"].as_str().expect("detail");
    assert!(detail.contains("Content-Type"), "names the header: {detail}");
    let option = put_file(&app, &format!("{upload_url}?accept_above=most"), &analyst, acme, INVENTORY).await;
    option.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(option.body["field"], "accept_above");
    let option = put_file(&app, &format!("{upload_url}?encoding=ebcdic"), &analyst, acme, INVENTORY).await;
    option.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(option.body["field"], "encoding");
    let id = put_file(&app, "/api/v1/imports/not-a-uuid/content", &analyst, acme, INVENTORY).await;
    id.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(id.body["field"], "import_id");
    assert_eq!((fingerprint(&pool).await, upload_entries(&app)), before, "refusals kept nothing");
    let seven = put_file(&app, &upload_url, &analyst, acme, b"a,b\n1,2").await;
    assert_eq!(seven.status, StatusCode::ACCEPTED, "the right size goes through: {:?}", seven.body);
}

#[sqlx::test(migrations = false)]
async fn path_ids_and_query_parameters_that_do_not_parse_are_400_naming_them(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    for (uri, field) in [
        (format!("{base}/imports?limit=many"), "limit"),
        (format!("{base}/flows?offset=-"), "offset"),
        (format!("{base}/flows/not-a-uuid"), "flow_id"),
        (format!("{base}/imports/42"), "import_id"),
        (format!("{base}/flows/{}/issues?after=x", ids.discovery_flow_id), "after"),
        (format!("{base}/assets?six_r_strategy=teleport"), "six_r_strategy"),
        (format!("{base}/assets?limit=1e9x"), "limit"),
        // A tuple of path parameters: the one at fault is named by its place in the route.
        (format!("/api/v1/client-accounts/{}/members/nobody", ACME.slug), "user"),
        ("/api/v1/me/tokens/7".to_owned(), "id"),
    ] {
        let answer = app.get(&uri, &analyst).await;
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY].contains(&answer.status),
            "{uri}: {:?}",
            answer.body
        );
        answer.assert_problem(answer.status);
        assert_eq!(answer.body["field"], field, "{uri}: {:?}", answer.body);
    }
}

/// Uploads examples/inventory.csv with accept_above 0.8 (no pause for review); the flow's id.
async fn start_accepting(app: &TestApp, base: &str, auth: &Auth) -> Uuid {
    let parts = [Part("file", Some("inventory.csv"), INVENTORY), Part("accept_above", None, b"0.8")];
    let answer = upload(app, &format!("{base}/imports"), auth, &parts).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()).expect("flow id")
}

#[sqlx::test(migrations = false)]
async fn a_new_import_of_the_same_assets_keeps_a_six_r_override_and_refreshes_the_recommendation(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    let first = start_accepting(&app, &base, &analyst).await;
    run_jobs(&pool, first).await;
    let page = app.get(&format!("{base}/assets?discovery_flow_id={first}&asset_type=server&limit=2"), &analyst).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    let [kept, other] = [0, 1].map(|i| page.body["assets"][i]["id"].as_str().expect("an asset").to_owned());
    let before = app.get(&format!("{base}/assets/{kept}/six-r"), &analyst).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    let recommended = before.body["recommendation"]["strategy"].as_str().expect("recommended").to_owned();
    let first_analysis = before.body["recommendation"]["analysis_id"].clone();
    let chosen = if recommended == "retain" { "retire" } else { "retain" };
    let body = serde_json::json!({"strategy": chosen, "reason": "the client keeps it on premises until 2030"});
    let overridden =
        app.call(Method::POST, &format!("{base}/assets/{kept}/six-r/override"), &analyst, Some(body)).await;
    assert_eq!(overridden.status, StatusCode::OK, "{:?}", overridden.body);
    let other_before = app.get(&format!("{base}/assets/{other}/six-r"), &analyst).await;

    // The same file again: the same assets (by identity) go through the 6R phase once more.
    let second = start_accepting(&app, &base, &analyst).await;
    run_jobs(&pool, second).await;
    let summary = app.get(&format!("{base}/flows/{second}/summary"), &analyst).await;
    assert_eq!(summary.body["status"], "completed", "{:?}", summary.body);
    let after = app.get(&format!("{base}/assets/{kept}/six-r"), &analyst).await;
    assert_eq!(after.status, StatusCode::OK, "{:?}", after.body);
    assert_eq!(after.body["strategy"], chosen, "the person's decision stands: {:?}", after.body);
    assert_eq!(after.body["overridden"], true);
    assert_eq!(after.body["overrides"].as_array().map(Vec::len), Some(1));
    assert_eq!(after.body["recommendation"]["strategy"], recommended.as_str(), "the engine's view beside it");
    assert_ne!(after.body["recommendation"]["analysis_id"], first_analysis, "a new recommendation was made");
    let asset = app.get(&format!("{base}/assets/{kept}"), &analyst).await;
    assert_eq!(asset.body["six_r_strategy"], chosen);
    assert_eq!(asset.body["discovery_flow_id"], second.to_string(), "assessed again by the second flow");
    // An asset nobody overrode takes the new recommendation.
    let other_after = app.get(&format!("{base}/assets/{other}/six-r"), &analyst).await;
    assert_eq!(other_after.body["strategy"], other_after.body["recommendation"]["strategy"]);
    assert_eq!(other_after.body["overridden"], false);
    assert_ne!(other_after.body["recommendation"]["analysis_id"], other_before.body["recommendation"]["analysis_id"]);
    let phases = summary.body["phases"].as_array().expect("phases");
    let six_r = phases.iter().find(|p| p["phase"] == "tech_debt_assessment").expect("the 6R phase");
    assert_eq!(six_r["metrics"]["overrides_kept"], 1, "{six_r:?}");
}

/// An RVTools workbook whose vDisk sheet names 25 VMs the import does not have (and one row
/// naming none): a vInfo of one VM.
fn workbook_with_unmatched_disks() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let info = book.add_worksheet().set_name("vInfo").expect("vInfo");
    for (c, header) in ["VM", "Powerstate", "CPUs", "Memory", "VM UUID", "VI SDK Server"].iter().enumerate() {
        info.write_string(0, c as u16, *header).expect("header");
    }
    for (c, cell) in
        ["app-01", "poweredOn", "2", "4096", "4210aa01-0000-4e00-8000-000000000001", "vc.example"].iter().enumerate()
    {
        info.write_string(1, c as u16, *cell).expect("cell");
    }
    let disks = book.add_worksheet().set_name("vDisk").expect("vDisk");
    for (c, header) in ["VM", "Disk", "Capacity MiB", "VI SDK Server"].iter().enumerate() {
        disks.write_string(0, c as u16, *header).expect("header");
    }
    for r in 1..=25u32 {
        disks.write_string(r, 0, format!("ghost-{r:02}")).expect("vm");
        disks.write_string(r, 1, "Hard disk 1").expect("disk");
        disks.write_number(r, 2, 10240.0).expect("capacity");
        disks.write_string(r, 3, "vc.example").expect("vcenter");
    }
    disks.write_string(26, 1, "Hard disk 9").expect("a row of no VM");
    book.save_to_buffer().expect("workbook")
}

/// Issue 14 item 6: every issue of another sheet of the workbook (not the first 20 of the
/// phase's figures) is listed and downloaded with the records' issues, naming its sheet.
#[sqlx::test(migrations = false)]
async fn every_row_of_another_sheet_that_matched_nothing_is_in_the_issues_csv(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let analyst = app.token(ids.analyst_user_id).await;
    let base = base(&ids);
    let workbook = workbook_with_unmatched_disks();
    let answer = upload(
        &app,
        &format!("{base}/imports"),
        &analyst,
        &[Part("file", Some("RVTools_export_all.xlsx"), &workbook), Part("accept_above", None, b"0.9")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{:?}", answer.body);
    let flow = answer.headers[header::LOCATION].to_str().expect("location").to_owned();
    let flow_id: Uuid = answer.body["discovery_flow_id"].as_str().and_then(|s| s.parse().ok()).expect("id");
    run_jobs(&pool, flow_id).await;
    let summary = app.get(&format!("{flow}/summary"), &analyst).await;
    assert_eq!(summary.body["status"], "completed", "{:?}", summary.body);

    let csv = app.get(&format!("{flow}/issues.csv"), &analyst).await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.body.as_str().expect("text").to_owned();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        ["row_number", "file_row", "column", "value", "severity", "kind", "reason", "issue_index", "sheet"],
        "the sheet comes last: the earlier columns keep their places"
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
    let vdisk: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[8] == "vDisk").collect();
    assert_eq!(vdisk.len(), 26, "every row, not the first 20:\n{text}");
    let unmatched: Vec<(String, String, String)> = vdisk
        .iter()
        .filter(|r| &r[5] == "unmatched_vm")
        .map(|r| (r[1].to_owned(), r[2].to_owned(), r[3].to_owned()))
        .collect();
    let expected: Vec<(String, String, String)> =
        (1..=25).map(|r| ((r + 1).to_string(), "VM".to_owned(), format!("ghost-{r:02}"))).collect();
    assert_eq!(unmatched, expected, "file row, column and value of each");
    let first = vdisk[0];
    assert_eq!((&first[0], &first[4], &first[7]), ("0", "warning", "1"), "no record holds it: row number 0");
    assert_eq!(&first[6], "VM \"ghost-01\" (vCenter vc.example) matches no VM of this import; not read");
    let none = vdisk.iter().find(|r| &r[5] == "no_vm").expect("the row of no VM");
    assert_eq!((&none[1], &none[2], &none[4]), ("27", "VM", "error"));

    // The JSON pages walk the same list, the sheet named.
    let mut walked = Vec::new();
    let mut uri = format!("{flow}/issues?limit=7");
    loop {
        let page = app.get(&uri, &analyst).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        walked.extend(page.body["issues"].as_array().expect("issues").clone());
        match page.body["next_after"].as_str() {
            Some(after) => uri = format!("{flow}/issues?limit=7&after={after}"),
            None => break,
        }
    }
    assert_eq!(walked.len(), rows.len());
    assert_eq!(walked.iter().filter(|i| i["sheet"] == "vDisk").count(), 26);
    assert_eq!(walked[0]["kind"], "unmatched_vm");
    assert!(walked.iter().filter(|i| i["row_number"] != 0).all(|i| i["sheet"].is_null()));
}
