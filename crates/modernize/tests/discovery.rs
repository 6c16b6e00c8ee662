//! The discovery workflow end to end against real PostgreSQL (seed tasks 5.1, 5.2): a realistic
//! inventory file becomes assets linked to their master flow, with dependencies and 6R; bad input
//! is refused or recorded; a worker killed mid-import is resumed with every row imported once.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::summary;
use modernize::discovery::{DiscoveryError, ExactNameSuggester};
use modernize::fixtures::{ACME, DemoIds, GLOBEX, demo_tenant};
use modernize::models::{DataImport, DiscoveryFlow, DiscoveryPhase, FlowStatus, MasterFlow};
use modernize::repo::{RepoError, assets, imports, table};
use modernize::tenancy::{TenantCtx, TenantTx};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};

struct Setup {
    ctx: TenantCtx,
    ids: DemoIds,
    uploads: tempfile::TempDir,
}

async fn setup(conn: &mut PgConnection) -> Setup {
    let ids = demo_tenant(conn, common::operator(), ACME).await.expect("tenant");
    let ctx = TenantCtx::for_operator(conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    Setup { ctx, ids, uploads: tempfile::tempdir().expect("uploads dir") }
}

fn inventory(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path).and_then(|mut f| f.write_all(body.as_bytes())).expect("write file");
    path
}

/// A realistic CMDB extract: duplicates, a bad IP, a formula cell, a ragged row, apps on servers.
fn cmdb_csv() -> String {
    let mut csv = String::from(
        "hostname,ip_address,operating_system,memory_gb,cpu_cores,environment,application_name,cpu_utilization_percent,Cost Center\n",
    );
    for i in 1..=40 {
        let os = if i % 4 == 0 { "Windows Server 2012 R2" } else { "Ubuntu 22.04" };
        let env = if i % 5 == 0 { "DEV" } else { "prod" };
        let app = if i % 2 == 0 { "Webshop" } else { "Payroll" };
        csv.push_str(&format!("srv-{i:02},10.0.0.{i},{os},16,4,{env},{app},{}.5,CC-{i}\n", 10 + i));
    }
    csv.push_str("SRV-01,10.0.0.1,Ubuntu 24.04,32,8,prod,Webshop,20,CC-1\n"); // same host again: an update
    csv.push_str("srv-99,10.0.0.999,Ubuntu 22.04,8,2,test,,1,CC-99\n"); // bad IP: an issue, not a failure
    csv.push_str("=cmd|' /C calc'!A0,10.0.1.1,Ubuntu 22.04,8,2,prod,,,CC-X\n"); // kept as text, flagged
    csv.push_str("srv-short,10.0.1.2\n"); // short: padded with empty cells, a warning
    csv
}

fn accept(threshold: f64) -> ImportOptions {
    ImportOptions { accept_above: Some(threshold), ..Default::default() }
}

async fn run_until_idle(pool: &PgPool) {
    pipeline::run_worker(pool, common::operator(), &ExactNameSuggester, &WorkerOptions::default(), true)
        .await
        .expect("worker");
}

#[sqlx::test(migrations = false)]
async fn a_cmdb_file_becomes_an_assessed_inventory_linked_to_its_master_flow(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "cmdb.csv", &cmdb_csv());
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;

    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed, "{:?}", flow.error_message);
    assert_eq!(flow.phases_completed, DiscoveryPhase::ALL.to_vec());
    assert_eq!(flow.master_flow_id, Some(started.master_flow_id));
    let masters =
        as_tenant!(conn, &s.ctx, |tx| table::list::<MasterFlow>(&mut tx, Default::default())).expect("masters");
    let master = masters.iter().find(|m| m.flow_id == started.master_flow_id).expect("master flow");
    assert_eq!(master.flow_status, FlowStatus::Completed);
    let transitions = master.flow_persistence_data["transitions"].as_array().expect("audit trail");
    assert_eq!(transitions.len(), 2, "initialized → running → completed: {transitions:?}");

    let import =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DataImport>(&mut tx, started.data_import_id)).expect("import");
    assert_eq!((import.total_records, import.failed_records, import.progress_percentage), (44, 0, 100.0));

    let inventory =
        as_tenant!(conn, &s.ctx, |tx| assets::assets_of_master_flow(&mut tx, started.master_flow_id)).expect("assets");
    let servers: Vec<_> =
        inventory.iter().filter(|a| a.asset_type != modernize::models::AssetType::Application).collect();
    let applications = inventory.len() - servers.len();
    assert_eq!(servers.len(), 43, "40 hosts, srv-99, srv-short, the formula-named one; SRV-01 updated, not duplicated");
    assert_eq!(applications, 2, "Webshop and Payroll");
    assert!(inventory.iter().all(|a| a.master_flow_id == Some(started.master_flow_id)));
    assert!(inventory.iter().all(|a| a.discovery_flow_id == Some(started.discovery_flow_id)));
    let srv01 = servers
        .iter()
        .find(|a| a.hostname.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("srv-01")))
        .expect("srv-01");
    assert_eq!((srv01.memory_gb, srv01.os_version.as_deref()), (Some(32.0), Some("24.04")), "the later row wins");
    assert_eq!(srv01.environment.as_deref(), Some("production"));
    assert_eq!(srv01.custom_attributes["Cost Center"], "CC-1", "unmapped columns are kept");
    let srv99 = servers.iter().find(|a| a.hostname.as_deref() == Some("srv-99")).expect("srv-99");
    assert_eq!(srv99.ip_address, None, "an invalid IP is dropped, with an issue");
    assert!(srv99.quality_score.is_some_and(|q| q < 100.0));
    let eol = servers.iter().find(|a| a.hostname.as_deref() == Some("srv-04")).expect("srv-04");
    assert_eq!(eol.six_r_strategy, Some(modernize::models::SixrStrategy::Replatform));
    assert!(servers.iter().all(|a| a.six_r_strategy.is_some()), "every asset has a 6R strategy");

    let dependencies: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.asset_dependencies WHERE client_account_id = $1 AND dependency_type = 'runs_on'")
        .bind(s.ids.client_account_id)
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(dependencies, 40, "each server's application runs on it");
    let recommendations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.sixr_recommendations r JOIN migration.sixr_analyses a
           ON a.client_account_id = r.client_account_id AND a.id = r.analysis_id WHERE a.master_flow_id = $1",
    )
    .bind(started.master_flow_id)
    .fetch_one(&mut *conn)
    .await
    .expect("count");
    assert_eq!(recommendations, inventory.len() as i64);
    // Every row the flow wrote in bulk has a time-ordered id (UUID version 7, migration 0019).
    let random_ids: Vec<(String, i64)> = sqlx::query_as(
        "SELECT t, count(*) FILTER (WHERE substr(id::text, 15, 1) <> '7') FROM (
             SELECT 'assets' AS t, id FROM migration.assets WHERE master_flow_id = $1
             UNION ALL SELECT 'raw_import_records', id FROM migration.raw_import_records WHERE master_flow_id = $1
             UNION ALL SELECT 'asset_dependencies', d.id FROM migration.asset_dependencies d
                 JOIN migration.assets a ON a.client_account_id = d.client_account_id AND a.id = d.asset_id
                 WHERE a.master_flow_id = $1
             UNION ALL SELECT 'sixr_recommendations', r.id FROM migration.sixr_recommendations r
                 JOIN migration.sixr_analyses a ON a.client_account_id = r.client_account_id AND a.id = r.analysis_id
                 WHERE a.master_flow_id = $1
         ) rows GROUP BY t ORDER BY t",
    )
    .bind(started.master_flow_id)
    .fetch_all(&mut *conn)
    .await
    .expect("ids");
    assert_eq!(
        random_ids,
        [("asset_dependencies", 0), ("assets", 0), ("raw_import_records", 0), ("sixr_recommendations", 0)]
            .map(|(t, n)| (t.to_owned(), n))
    );
    let flagged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.raw_import_records WHERE data_import_id = $1
           AND validation_errors @> '[{\"kind\": \"formula_injection\"}]'",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("count");
    assert_eq!(flagged, 1);

    // Another tenant sees none of it.
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    let b_ctx = TenantCtx::for_operator(&mut conn, common::operator(), b.client_account_id, Some(b.engagement_id))
        .await
        .expect("ctx");
    let result = as_tenant!(conn, &b_ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id));
    assert!(matches!(result, Err(RepoError::NotFound { .. })));
    assert!(
        as_tenant!(conn, &b_ctx, |tx| assets::assets_of_master_flow(&mut tx, started.master_flow_id))
            .expect("assets")
            .is_empty()
    );
    // Nor can it read, pause, resume or cancel the flow: not found, as if it did not exist.
    let not_found = |r: Result<(), DiscoveryError>| matches!(r, Err(DiscoveryError::Repo(RepoError::NotFound { .. })));
    let flow_id = started.discovery_flow_id;
    assert!(not_found(as_tenant!(conn, &b_ctx, |tx| summary::summarise(&mut tx, flow_id)).map(|_| ())));
    assert!(
        as_tenant!(conn, &b_ctx, |tx| summary::list_flows(&mut tx, modernize::repo::Page::ALL))
            .expect("list")
            .iter()
            .all(|f| f.id != flow_id)
    );
    assert!(not_found(as_tenant!(conn, &b_ctx, |tx| pipeline::pause(&mut tx, flow_id))));
    assert!(not_found(as_tenant!(conn, &b_ctx, |tx| pipeline::resume(&mut tx, flow_id, Some(0.5)))));
    assert!(not_found(as_tenant!(conn, &b_ctx, |tx| pipeline::cancel(&mut tx, flow_id))));
    let flow = as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, flow_id)).expect("A's flow");
    assert_eq!(flow.status, FlowStatus::Completed, "untouched by B");
}

#[sqlx::test(migrations = false)]
async fn without_a_threshold_the_flow_waits_for_review(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "cmdb.csv", &cmdb_csv());
    let started =
        pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &ImportOptions::default()).await.expect("start");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Paused);
    assert_eq!(flow.phases_completed, [DiscoveryPhase::DataImport]);
    let suggested: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.import_field_mappings WHERE data_import_id = $1 AND status = 'suggested'",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("count");
    assert_eq!(suggested, 9, "one suggestion per column");

    let error = as_tenant!(conn, &s.ctx, |tx| pipeline::resume(&mut tx, started.discovery_flow_id, None))
        .expect_err("still pending");
    assert!(error.to_string().contains("9 field mappings still await review"), "{error}");
    as_tenant!(conn, &s.ctx, |tx| pipeline::resume(&mut tx, started.discovery_flow_id, Some(0.9))).expect("resume");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed);
}

#[sqlx::test(migrations = false)]
async fn a_worker_killed_mid_import_is_resumed_with_every_row_once(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let mut body = String::from("hostname,ip_address,memory_gb\n");
    for i in 0..30_000 {
        body.push_str(&format!("host-{i:05},10.{}.{}.{},8\n", i / 65536, (i / 256) % 256, i % 256));
    }
    let file = inventory(&s.uploads, "big.csv", &body);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");

    // Chunks of 1,200 rows: each is sent to the COPY in three batches (500, 500, 200).
    let options = WorkerOptions { chunk_rows: 1_200, lease: Duration::from_secs(1), ..Default::default() };
    // The doomed worker has connections of its own, which the "kill" terminates server-side, as
    // the death of its process would.
    let worker_pool = PgPoolOptions::new()
        .connect_with((*pool.connect_options()).clone().application_name("doomed-worker"))
        .await
        .expect("worker pool");
    let worker_options = options.clone();
    let worker = tokio::spawn(async move {
        pipeline::run_worker(&worker_pool, common::operator(), &ExactNameSuggester, &worker_options, true).await
    });
    // Kill it once some chunks, but not all, are committed.
    let mut imported = 0i64;
    for _ in 0..600 {
        imported = sqlx::query_scalar("SELECT processed_records::bigint FROM migration.data_imports WHERE id = $1")
            .bind(started.data_import_id)
            .fetch_one(&mut *conn)
            .await
            .expect("progress");
        if imported >= 2_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.abort();
    let _ = worker.await;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'doomed-worker'")
        .execute(&mut *conn)
        .await
        .expect("kill its connections");
    assert!(imported > 0 && imported < 30_000, "killed mid-import at {imported} rows");

    tokio::time::sleep(Duration::from_millis(1_200)).await; // the dead worker's lease runs out
    pipeline::run_worker(&pool, common::operator(), &ExactNameSuggester, &options, true).await.expect("second worker");

    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT row_number) FROM migration.raw_import_records WHERE data_import_id = $1",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("counts");
    assert_eq!((rows, distinct), (30_000, 30_000), "every row exactly once");
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed, "{:?}", flow.error_message);
    let count = as_tenant!(conn, &s.ctx, |tx| assets::assets_of_master_flow(&mut tx, started.master_flow_id))
        .expect("assets")
        .len();
    assert_eq!(count, 30_000);
}

#[sqlx::test(migrations = false)]
async fn malformed_files_are_refused_before_anything_is_written(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let cases = [
        ("empty.csv", "", "is empty"),
        ("dupes.csv", "hostname,OS,os\na,b,c\n", "duplicate column headers"),
        ("blank.csv", "hostname,,os\n", "row 1: header of column 2 is empty"),
        (
            "title.csv",
            "Inventory\n\n1,2,3\n4,5,6\n",
            "no header row in its first 3 non-blank rows (row 1 looks like data",
        ),
        ("notes.pdf", "%PDF", "unsupported file type"),
    ];
    let before = as_tenant!(conn, &s.ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count");
    for (name, body, expected) in cases {
        let file = inventory(&s.uploads, name, body);
        let uploads = s.uploads.path().join("uploads");
        let error = pipeline::start(&mut conn, &s.ctx, &uploads, &file, &accept(0.9)).await.expect_err(name);
        assert!(matches!(error, DiscoveryError::Ingest(_)), "{name}: {error}");
        assert!(error.to_string().contains(expected), "{name}: {error}");
        assert!(!uploads.exists(), "{name}: no copy kept");
    }
    assert_eq!(
        as_tenant!(conn, &s.ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count"),
        before,
        "nothing written"
    );
    let bad_threshold = pipeline::start(
        &mut conn,
        &s.ctx,
        s.uploads.path(),
        &inventory(&s.uploads, "ok.csv", "hostname\na\n"),
        &accept(1.5),
    )
    .await;
    let error = bad_threshold.expect_err("a threshold above 1");
    assert!(
        matches!(&error, DiscoveryError::Repo(RepoError::Invalid { field, .. }) if field == "accept_above"),
        "{error}"
    );
    assert!(!error.to_string().contains("--"), "core messages name fields, not CLI flags: {error}");
}

#[sqlx::test(migrations = false)]
async fn a_cancelled_flow_runs_no_more_phases(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "cmdb.csv", &cmdb_csv());
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    as_tenant!(conn, &s.ctx, |tx| pipeline::cancel(&mut tx, started.discovery_flow_id)).expect("cancel");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Cancelled);
    assert!(flow.phases_completed.is_empty());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.raw_import_records WHERE data_import_id = $1")
        .bind(started.data_import_id)
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    let again = as_tenant!(conn, &s.ctx, |tx| pipeline::cancel(&mut tx, started.discovery_flow_id));
    assert!(again.is_ok(), "cancelling a cancelled flow is a no-op");
    let resume = as_tenant!(conn, &s.ctx, |tx| pipeline::resume(&mut tx, started.discovery_flow_id, Some(0.5)));
    assert!(matches!(resume, Err(DiscoveryError::IllegalTransition { .. })), "{resume:?}");
}

#[sqlx::test(migrations = false)]
async fn every_cell_arrives_byte_for_byte(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    // Characters COPY's text format would interpret, JSON escapes, non-ASCII, an empty cell.
    let body = "hostname,notes,path\nsrv-1,\"tab\there, newline\nthere\",C:\\Program Files\\\\N\nsrv-2,\"quote \"\"q\"\" and \\N\",Zürich ☁\nsrv-3,,\r\n";
    let file = inventory(&s.uploads, "tricky.csv", body);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;
    let rows: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT migration.record_data(r.raw_data, i.raw_headers, r.raw_values)
         FROM migration.raw_import_records r JOIN migration.data_imports i ON i.id = r.data_import_id
         WHERE r.data_import_id = $1 ORDER BY r.row_number",
    )
    .bind(started.data_import_id)
    .fetch_all(&pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["notes"], "tab\there, newline\nthere");
    assert_eq!(rows[0]["path"], "C:\\Program Files\\\\N");
    assert_eq!(rows[1]["notes"], "quote \"q\" and \\N");
    assert_eq!(rows[1]["path"], "Zürich ☁");
    assert_eq!(rows[2]["notes"], serde_json::Value::Null, "an empty cell is stored as null");
}

/// An RVTools-like workbook: the VMs on sheet vInfo, the hypervisors on vHost.
fn rvtools_workbook(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("rvtools.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheets: [(&str, &[&str], usize); 2] = [
        (
            "vInfo",
            &["VM", "Powerstate", "CPUs", "Memory", "Primary IP Address", "OS according to the VMware Tools"],
            25,
        ),
        ("vHost", &["Host", "Datacenter", "Cluster", "# CPU", "# Memory"], 3),
    ];
    for (name, headers, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name).expect("sheet name");
        for (column, header) in (0u16..).zip(headers) {
            sheet.write(0, column, *header).expect("header");
        }
        for row in 1..=u32::try_from(rows).expect("rows") {
            sheet.write(row, 0, format!("{name}-{row:03}")).expect("name cell");
            sheet.write(row, 2, f64::from(row % 8 + 1)).expect("number cell");
        }
    }
    workbook.save(&path).expect("save workbook");
    path
}

#[sqlx::test(migrations = false)]
async fn an_xlsx_workbook_is_imported_from_the_chosen_sheet(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let workbook = rvtools_workbook(&s.uploads);
    let options = ImportOptions { sheet: Some("vHost".into()), accept_above: Some(0.9), ..Default::default() };
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &workbook, &options).await.expect("start");
    run_until_idle(&pool).await;
    let import =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DataImport>(&mut tx, started.data_import_id)).expect("import");
    assert_eq!(import.total_records, 3, "the vHost sheet, not the first one");
    assert_eq!(import.mime_type.as_deref(), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    let first: serde_json::Value = sqlx::query_scalar(
        "SELECT migration.record_data(r.raw_data, i.raw_headers, r.raw_values)
         FROM migration.raw_import_records r JOIN migration.data_imports i ON i.id = r.data_import_id
         WHERE r.data_import_id = $1 AND r.row_number = 1",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("first row");
    assert_eq!(first["Host"], "vHost-001");
    assert_eq!(first["Cluster"], "2", "numbers arrive as their text");
    assert_eq!(first["# CPU"], serde_json::Value::Null, "an empty cell is null");

    let missing = ImportOptions { sheet: Some("vDisk".into()), ..Default::default() };
    let error = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &workbook, &missing).await.expect_err("no sheet");
    assert!(error.to_string().contains("no sheet named \"vDisk\"; the workbook has: vInfo, vHost"), "{error}");
}

#[sqlx::test(migrations = false)]
async fn oversized_cells_and_forced_utf8_on_latin1_are_reported_not_half_written(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    // A 10 MB cell: that row is invalid with its reason, the others are imported.
    let mut body = String::from("hostname,notes\nsrv-1,fine\nsrv-2,");
    body.push_str(&"x".repeat(10 * 1024 * 1024));
    body.push_str("\nsrv-3,fine\n");
    let file = inventory(&s.uploads, "huge.csv", &body);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;
    let import =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DataImport>(&mut tx, started.data_import_id)).expect("import");
    assert_eq!((import.total_records, import.failed_records), (3, 1));
    let reasons: serde_json::Value = sqlx::query_scalar(
        "SELECT validation_errors FROM migration.raw_import_records WHERE data_import_id = $1 AND NOT is_valid",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("invalid row");
    assert!(reasons.to_string().contains("notes"), "the reason names the column: {reasons}");

    // Latin-1 bytes with UTF-8 forced: refused before anything is written; detected, they import.
    let path = s.uploads.path().join("latin1.csv");
    std::fs::write(&path, b"hostname,location\nsrv-1,Z\xfcrich\n").expect("write");
    let before = as_tenant!(conn, &s.ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count");
    let forced = ImportOptions { encoding: modernize::discovery::ingest::Encoding::Utf8, ..Default::default() };
    let error = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &path, &forced).await.expect_err("not UTF-8");
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    assert_eq!(as_tenant!(conn, &s.ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count"), before);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &path, &accept(0.9)).await.expect("auto");
    run_until_idle(&pool).await;
    let location: Option<String> = sqlx::query_scalar(
        "SELECT migration.record_data(r.raw_data, i.raw_headers, r.raw_values) ->> 'location'
         FROM migration.raw_import_records r JOIN migration.data_imports i ON i.id = r.data_import_id
         WHERE r.data_import_id = $1",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("row");
    assert_eq!(location.as_deref(), Some("Zürich"));
}

/// The master flow by its `flow_id`, the key the discovery flow refers to.
async fn master_flow(conn: &mut PgConnection, ctx: &TenantCtx, flow_id: uuid::Uuid) -> MasterFlow {
    let masters = as_tenant!(conn, ctx, |tx| table::list::<MasterFlow>(&mut tx, Default::default())).expect("masters");
    masters.into_iter().find(|m| m.flow_id == flow_id).expect("master flow")
}

async fn upload_path(conn: &mut PgConnection, master_flow_id: uuid::Uuid) -> PathBuf {
    let path: String = sqlx::query_scalar(
        "SELECT flow_configuration ->> 'upload_path' FROM migration.crewai_flow_state_extensions WHERE flow_id = $1",
    )
    .bind(master_flow_id)
    .fetch_one(conn)
    .await
    .expect("upload path");
    PathBuf::from(path)
}

#[sqlx::test(migrations = false)]
async fn a_failed_phase_fails_the_flow_with_its_reason_and_retry_completes_it(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "cmdb.csv", &cmdb_csv());
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    // The stored upload disappears (a lost volume); one attempt only, so the test need not wait
    // for the backoff.
    let upload = upload_path(&mut conn, started.master_flow_id).await;
    let kept = s.uploads.path().join("kept.csv");
    std::fs::rename(&upload, &kept).expect("move the upload away");
    sqlx::query("UPDATE modernize.jobs SET max_attempts = 1").execute(&mut *conn).await.expect("one attempt");
    run_until_idle(&pool).await;

    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Failed);
    assert_eq!(flow.error_phase, Some(DiscoveryPhase::DataImport));
    assert!(flow.error_message.as_deref().unwrap_or("").contains("cannot read"), "{:?}", flow.error_message);
    let master = master_flow(&mut conn, &s.ctx, started.master_flow_id).await;
    assert_eq!(master.flow_status, FlowStatus::Failed);

    // The file is back: retry runs the failed phase and the rest.
    std::fs::rename(&kept, &upload).expect("restore the upload");
    as_tenant!(conn, &s.ctx, |tx| pipeline::resume(&mut tx, started.discovery_flow_id, None)).expect("retry");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed);
    assert_eq!(flow.error_phase, None, "a running flow carries no stale error");
    let master = master_flow(&mut conn, &s.ctx, started.master_flow_id).await;
    let transitions: Vec<(String, String)> = master.flow_persistence_data["transitions"]
        .as_array()
        .expect("audit trail")
        .iter()
        .map(|t| (t["from"].as_str().unwrap_or("").to_owned(), t["to"].as_str().unwrap_or("").to_owned()))
        .collect();
    let expected = [("initialized", "running"), ("running", "failed"), ("failed", "running"), ("running", "completed")];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(transitions, expected);
}

#[sqlx::test(migrations = false)]
async fn a_paused_flow_waits_and_resumes_where_it_stopped(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "cmdb.csv", &cmdb_csv());
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    as_tenant!(conn, &s.ctx, |tx| pipeline::pause(&mut tx, started.discovery_flow_id)).expect("pause");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Paused);
    assert!(flow.phases_completed.is_empty(), "nothing ran while paused");

    as_tenant!(conn, &s.ctx, |tx| pipeline::resume(&mut tx, started.discovery_flow_id, None)).expect("resume");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed);
    assert_eq!(flow.phases_completed, DiscoveryPhase::ALL.to_vec());
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT row_number) FROM migration.raw_import_records WHERE data_import_id = $1",
    )
    .bind(started.data_import_id)
    .fetch_one(&mut *conn)
    .await
    .expect("rows");
    assert_eq!((rows, distinct), (44, 44), "every row once");
    let master = master_flow(&mut conn, &s.ctx, started.master_flow_id).await;
    for phase in DiscoveryPhase::ALL {
        assert!(master.phase_execution_times[phase.as_str()]["duration_ms"].is_u64(), "{phase} is timed");
    }
}

#[sqlx::test(migrations = false)]
async fn an_rvtools_export_without_an_environment_column_takes_it_from_folder_and_pool(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let body = "hostname,Powerstate,Folder,Resource pool,Cluster\n\
        vm-prod,poweredOn,/DC1/vm/Prod/Web,Resources,CL-01\n\
        vm-product,poweredOn,/DC1/vm/Product Catalog,Resources,CL-01\n\
        vm-devops,poweredOn,/DC1/vm/DevOps,Resources,CL-01\n\
        vm-split,poweredOn,/DC1/vm/Prod,Dev-Pool,CL-01\n\
        vm-cluster,poweredOff,/DC1/vm/Web,Resources,CL-UAT-02\n";
    let file = inventory(&s.uploads, "vinfo.csv", body);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;

    let inventory =
        as_tenant!(conn, &s.ctx, |tx| assets::assets_of_master_flow(&mut tx, started.master_flow_id)).expect("assets");
    let asset = |name: &str| inventory.iter().find(|a| a.hostname.as_deref() == Some(name)).expect(name);
    assert_eq!(asset("vm-prod").environment.as_deref(), Some("production"));
    assert_eq!(
        asset("vm-prod").custom_attributes["vmware"]["environment_evidence"],
        serde_json::json!([{"field": "folder", "value": "/DC1/vm/Prod/Web", "word": "prod", "environment": "production"}])
    );
    assert_eq!(asset("vm-product").environment, None, "product is not prod");
    assert_eq!(asset("vm-devops").environment, None, "devops is not dev");
    assert_eq!(asset("vm-split").environment, None, "folder and pool disagree: no guess");
    assert_eq!(asset("vm-split").custom_attributes["vmware"]["environment_evidence"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        asset("vm-cluster").environment.as_deref(),
        Some("test"),
        "the cluster, when folder and pool are silent"
    );

    let warnings: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT issue FROM migration.raw_import_records, jsonb_array_elements(cleansed_data -> 'issues') issue
          WHERE data_import_id = $1 AND issue ->> 'column' = 'environment'",
    )
    .bind(started.data_import_id)
    .fetch_all(&mut *conn)
    .await
    .expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let message = warnings[0]["message"].as_str().expect("message");
    assert!(message.contains("development and production") && message.contains("\"/DC1/vm/Prod\""), "{message}");
}

/// An import's status, error message and master flow's status, with the reason of the master
/// flow's last transition.
async fn pending_state(pool: &PgPool, id: uuid::Uuid) -> (String, Option<String>, String, Option<String>) {
    sqlx::query_as(
        "SELECT i.status::text, i.error_message, m.flow_status::text,
                m.flow_persistence_data -> 'transitions' -> -1 ->> 'reason'
         FROM migration.data_imports i
         JOIN migration.crewai_flow_state_extensions m ON m.flow_id = i.master_flow_id WHERE i.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("import")
}

#[sqlx::test(migrations = false)]
async fn imports_whose_file_never_comes_are_cancelled_past_their_expiry(pool: PgPool) {
    use modernize::discovery::{expiry, uploads};
    use modernize::repo::imports::DataImportInput;
    use modernize::service::{Actor, discovery as service};

    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let other = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    let other_ctx =
        TenantCtx::for_operator(&mut conn, common::operator(), other.client_account_id, Some(other.engagement_id))
            .await
            .expect("ctx");
    let pending = |name: &str| DataImportInput { filename: Some(name.into()), ..Default::default() };
    let register = async |conn: &mut PgConnection, ctx: &TenantCtx, name: &str| {
        pipeline::register_pending(conn, ctx, pending(name)).await.expect("pending import").0.id
    };
    let old = register(&mut conn, &s.ctx, "old.csv").await;
    let fresh = register(&mut conn, &s.ctx, "fresh.csv").await;
    let other_old = register(&mut conn, &other_ctx, "globex.csv").await;
    let delivered = register(&mut conn, &s.ctx, "delivered.csv").await;
    let file = inventory(&s.uploads, "delivered.csv", &cmdb_csv());
    let stored = uploads::store(&s.uploads.path().join("uploads"), &file, "delivered.csv").expect("stored");
    pipeline::start_pending(&mut conn, &s.ctx, delivered, &stored, &accept(0.9)).await.expect("its file");
    // 25 hours old, but for `fresh` (the file of `delivered` came in time).
    sqlx::query("UPDATE migration.data_imports SET created_at = now() - interval '25 hours' WHERE id = ANY($1)")
        .bind(vec![old, other_old, delivered])
        .execute(&mut *conn)
        .await
        .expect("aged");

    let day = expiry::DEFAULT_PENDING_IMPORT_EXPIRY;
    let cancelled = expiry::expire_pending_imports(&mut conn, common::operator(), day).await.expect("expiry");
    let mut ids: Vec<uuid::Uuid> = cancelled.iter().map(|c| c.data_import_id).collect();
    ids.sort();
    let mut expected = vec![old, other_old];
    expected.sort();
    assert_eq!(ids, expected, "the stale ones of every account, no other");
    let reason = "no file arrived within 24 h of the import's creation";
    for id in [old, other_old] {
        assert_eq!(
            pending_state(&pool, id).await,
            ("cancelled".into(), Some(reason.into()), "cancelled".into(), Some(reason.into()))
        );
    }
    assert_eq!(pending_state(&pool, fresh).await.0, "pending", "within its day it waits");
    let (status, error, ..) = pending_state(&pool, delivered).await;
    assert_eq!((status.as_str(), error), ("pending", None), "its file came (a flow reads it): left alone");
    let again = expiry::expire_pending_imports(&mut conn, common::operator(), day).await.expect("expiry");
    assert!(again.is_empty(), "nothing twice: {again:?}");

    // Its file, late: 409 naming why.
    let account = s.ids.client_account_id.to_string();
    let engagement = s.ids.engagement_id.to_string();
    let actor = Actor::Operator(common::operator());
    let refused =
        service::authorize_import_upload(&pool, &actor, &account, &engagement, old).await.expect_err("cancelled");
    assert_eq!(refused.kind(), modernize::error::ErrorKind::Conflict);
    assert_eq!(refused.field(), Some("status"));
    assert!(refused.to_string().contains(reason), "{refused}");
}

/// An inventory whose 6R analysis uses every kind of rule: end of life, no cloud target, idle,
/// database, powered off, a template left out, a duplicate merged, applications derived.
fn mixed_csv() -> String {
    let mut csv = String::from(
        "hostname,operating_system,environment,application_name,cpu_utilization_percent,database_type,Powerstate,Template\n",
    );
    let os = ["Ubuntu 22.04", "Windows Server 2012 R2", "AIX 7.2", "Red Hat Enterprise Linux 6", "Windows Server 2019"];
    for i in 1..=15 {
        let (env, app) = if i % 3 == 0 { ("test", "Payroll") } else { ("prod", "Webshop") };
        let database = if i % 7 == 0 { "Oracle" } else { "" };
        let power = if i % 11 == 0 { "poweredOff" } else { "poweredOn" };
        let template = if i == 13 { "True" } else { "False" };
        csv.push_str(&format!("srv-{i:02},{},{env},{app},{},{database},{power},{template}\n", os[i % 5], i * 7 % 60));
    }
    csv.push_str("SRV-01,Ubuntu 24.04,prod,Webshop,2,,poweredOn,False\n");
    csv
}

/// What a discovery flow produced, without ids or times: each phase's figures, the cleansed
/// records, the engagement's assets, and the flow's 6R analysis with its recommendations (assets
/// named).
async fn flow_outcome(conn: &mut PgConnection, ctx: &TenantCtx, started: &pipeline::Started) -> serde_json::Value {
    let flow_id = started.discovery_flow_id;
    let summary = as_tenant!(conn, ctx, |tx| summary::summarise(&mut tx, flow_id)).expect("summary");
    assert_eq!(summary.status, FlowStatus::Completed, "{:?}", summary.error_message);
    let phases: Vec<_> = summary
        .phases
        .into_iter()
        .map(|mut p| {
            p.metrics.remove("duration_ms");
            (p.phase, p.metrics)
        })
        .collect();
    let volatile = "ARRAY['id', 'client_account_id', 'engagement_id', 'master_flow_id', 'discovery_flow_id',
        'data_import_id', 'raw_import_record_id', 'discovery_timestamp', 'created_at', 'updated_at']";
    let stored: serde_json::Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT jsonb_build_object(
           'records', (SELECT jsonb_agg(cleansed_data ORDER BY row_number) FROM migration.raw_import_records
                       WHERE data_import_id = $2),
           'assets', (SELECT jsonb_agg(to_jsonb(a) - {volatile}::text[] ORDER BY a.name) FROM migration.assets a
                      WHERE a.engagement_id = $3),
           'analysis', (SELECT to_jsonb(s) - {volatile}::text[] - 'application_ids' - 'completed_at'
                          || jsonb_build_object('assets', (SELECT jsonb_agg(a.name ORDER BY o.n)
                             FROM unnest(s.application_ids) WITH ORDINALITY o(id, n)
                             JOIN migration.assets a ON a.id = o.id))
                        FROM migration.sixr_analyses s WHERE s.master_flow_id = $1),
           'recommendations', (SELECT jsonb_agg(jsonb_build_object('asset', a.name, 'strategy', r.recommended_strategy,
                                  'confidence', r.confidence_score, 'rationale', r.rationale) ORDER BY a.name)
                               FROM migration.sixr_recommendations r
                               JOIN migration.sixr_analyses s ON s.id = r.analysis_id
                               JOIN migration.assets a ON a.id = r.asset_id WHERE s.master_flow_id = $1))"
    )))
    .bind(started.master_flow_id)
    .bind(started.data_import_id)
    .bind(ctx.engagement_id())
    .fetch_one(&mut *conn)
    .await
    .expect("outcome");
    serde_json::json!({"phases": phases, "stored": stored})
}

/// A person's override of `hostname`'s strategy, as the service records it (asset and audit trail).
async fn override_strategy(tx: &mut modernize::tenancy::TenantTx<'_>, hostname: &str) -> Result<(), RepoError> {
    let asset_id: uuid::Uuid = sqlx::query_scalar(
        "UPDATE migration.assets SET six_r_strategy = 'retain' WHERE client_account_id = $1 AND engagement_id = $2
           AND hostname = $3 RETURNING id",
    )
    .bind(tx.client_account_id())
    .bind(tx.ctx().engagement_id())
    .bind(hostname)
    .fetch_one(tx.conn())
    .await?;
    let entry: modernize::models::NewAccessAuditLogEntry = serde_json::from_value(serde_json::json!({
        "action_type": modernize::discovery::sixr::OVERRIDE_ACTION, "resource_type": "asset",
        "resource_id": asset_id.to_string(), "result": "success", "reason": "the owner keeps it"
    }))
    .expect("audit entry");
    table::insert::<modernize::models::AccessAuditLogEntry>(tx, &entry).await?;
    Ok(())
}

/// The phases that work in chunks or pages (import, cleansing, 6R) give the same result whatever
/// their size: the same file is discovered twice in each of four engagements (a person's override
/// between the two), with chunks of 5,000, 1, 2 and 3 rows.
#[sqlx::test(migrations = false)]
async fn results_do_not_depend_on_the_chunk_size(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let file = inventory(&s.uploads, "mixed.csv", &mixed_csv());
    let account = TenantCtx::for_operator(&mut conn, common::operator(), s.ids.client_account_id, None)
        .await
        .expect("account ctx");
    let mut outcomes = Vec::new();
    for chunk_rows in [5_000, 1, 2, 3] {
        let new: modernize::models::NewEngagement =
            serde_json::from_value(serde_json::json!({"name": format!("Chunks of {chunk_rows}"),
                                                      "slug": format!("chunks-{chunk_rows}")}))
            .expect("engagement");
        let engagement = as_tenant!(conn, &account, |tx| modernize::repo::tenancy::create_engagement(&mut tx, &new))
            .expect("engagement");
        let ctx = TenantCtx::for_operator(&mut conn, common::operator(), s.ids.client_account_id, Some(engagement.id))
            .await
            .expect("ctx");
        let options = WorkerOptions { chunk_rows, ..Default::default() };
        let mut outcome = Vec::new();
        for run in 0..2 {
            if run == 1 {
                as_tenant!(conn, &ctx, |tx| override_strategy(&mut tx, "srv-04")).expect("override");
            }
            let started = pipeline::start(&mut conn, &ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
            pipeline::run_worker(&pool, common::operator(), &ExactNameSuggester, &options, true).await.expect("worker");
            outcome.push(flow_outcome(&mut conn, &ctx, &started).await);
        }
        outcomes.push((chunk_rows, outcome));
    }
    let (_, reference) = &outcomes[0];
    let sixr = &reference[1]["phases"][5][1];
    assert_eq!(
        (&sixr["assets_assessed"], &sixr["templates_and_placeholders_excluded"], &sixr["overrides_kept"]),
        (&serde_json::json!(14), &serde_json::json!(1), &serde_json::json!(1)),
        "{sixr}"
    );
    let srv04 = reference[1]["stored"]["assets"].as_array().and_then(|a| a.iter().find(|a| a["name"] == "srv-04"));
    assert_eq!(srv04.map(|a| &a["six_r_strategy"]), Some(&serde_json::json!("retain")), "the override is kept");
    let strategies = sixr["strategies"].as_object().expect("strategies");
    assert_eq!(strategies.values().filter(|n| n.as_u64() > Some(0)).count(), 4, "{strategies:?}");
    for (chunk_rows, outcome) in &outcomes[1..] {
        assert_eq!(outcome, reference, "chunks of {chunk_rows} rows against 5,000");
    }
}

/// Issue 16 item 4: the inventory decides an asset's 6R strategy when it writes it, before the
/// dependency phase. A server found to be an ESXi host before its flow's 6R phase ends as it did
/// when the 6R phase ran after the dependencies and wrote the strategies: out of 6R, with the
/// strategy of its last analysis (none, and `discovered`, if none assessed it) or a person's,
/// not the one the import decided. Two imports at once: one worker runs the due phases in turn,
/// so the VM export's dependency phase, which finds the hosts, runs between the CMDB export's
/// inventory and its 6R phase (the CMDB flow's analysis recommending for none of them says so).
#[sqlx::test(migrations = false)]
async fn a_server_found_to_be_an_esxi_host_before_its_6r_phase_keeps_the_strategy_of_its_last_analysis(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let header = "hostname,fqdn,serial_number,operating_system\n";
    let earlier = inventory(
        &s.uploads,
        "earlier.csv",
        &format!(
            "{header}esx-02,esx-02.corp.example,SN-ESX2,Ubuntu 22.04\nesx-03,esx-03.corp.example,SN-ESX3,Ubuntu 22.04\n"
        ),
    );
    pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &earlier, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;
    as_tenant!(conn, &s.ctx, |tx| override_strategy(&mut tx, "esx-03")).expect("override");

    // esx-02 is now out of support (replatform by the rules), esx-01 and app-01 are new.
    let cmdb = inventory(
        &s.uploads,
        "cmdb.csv",
        &format!(
            "{header}esx-01,esx-01.corp.example,SN-ESX1,Ubuntu 22.04\nesx-02,esx-02.corp.example,SN-ESX2,Windows Server \
             2008 R2\nesx-03,esx-03.corp.example,SN-ESX3,Ubuntu 22.04\napp-01,app-01.corp.example,SN-APP1,Ubuntu 22.04\n"
        ),
    );
    let vms = inventory(
        &s.uploads,
        "vinfo.csv",
        "hostname,Powerstate,Host\nvm-a,poweredOn,esx-01.corp.example\nvm-b,poweredOn,esx-02.corp.example\n\
         vm-c,poweredOn,esx-03.corp.example\n",
    );
    let cmdb_flow = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &cmdb, &accept(0.9)).await.expect("start");
    let vm_flow = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &vms, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;
    for started in [&cmdb_flow, &vm_flow] {
        let flow = as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id))
            .expect("flow");
        assert_eq!(flow.status, FlowStatus::Completed, "{:?}", flow.error_message);
    }

    // Per server: a host?, its strategy and status, the CMDB flow's recommendation, the latest.
    type Row = (String, bool, Option<String>, String, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.name, coalesce((a.custom_attributes #>> '{vmware,esxi_host}')::boolean, false),
                a.six_r_strategy::text, a.status::text,
                (SELECT r.recommended_strategy::text FROM migration.sixr_recommendations r
                 JOIN migration.sixr_analyses s ON s.id = r.analysis_id
                 WHERE r.asset_id = a.id AND s.master_flow_id = $2),
                (SELECT r.recommended_strategy::text FROM migration.sixr_recommendations r
                 WHERE r.asset_id = a.id ORDER BY r.created_at DESC LIMIT 1)
         FROM migration.assets a WHERE a.engagement_id = $1 AND (a.name LIKE 'esx-%' OR a.name = 'app-01')
         ORDER BY a.name",
    )
    .bind(s.ctx.engagement_id())
    .bind(cmdb_flow.master_flow_id)
    .fetch_all(&mut *conn)
    .await
    .expect("servers");
    let row =
        |name: &str, host: bool, strategy: Option<&str>, status: &str, of_cmdb: Option<&str>, latest: Option<&str>| {
            let text = |v: Option<&str>| v.map(str::to_owned);
            (name.to_owned(), host, text(strategy), status.to_owned(), text(of_cmdb), text(latest))
        };
    assert_eq!(
        rows,
        [
            row("app-01", false, Some("rehost"), "assessed", Some("rehost"), Some("rehost")),
            // Never assessed: no strategy, as a host the VMs name.
            row("esx-01", true, None, "discovered", None, None),
            // The earlier analysis's, not the replatform the CMDB import decided.
            row("esx-02", true, Some("rehost"), "assessed", None, Some("rehost")),
            // A person's.
            row("esx-03", true, Some("retain"), "assessed", None, Some("rehost")),
        ]
    );
}

/// Issue 16: an import's issues page and the summary's rows with warnings read the records that
/// have an issue (the partial index of migration 0023), not every record of the import, and still
/// list each of them in file order. Counted by PostgreSQL: the tuples the transaction read from
/// `raw_import_records` and its indexes.
#[sqlx::test(migrations = false)]
async fn issue_pages_read_only_the_records_with_issues(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let s = setup(&mut conn).await;
    let mut csv = String::from("hostname,ip_address,operating_system,cpu_cores\n");
    let mut warned = Vec::new();
    for i in 0..2_000 {
        let line = if i % 200 == 7 {
            warned.push(i + 2); // the file's line: the header is line 1
            format!("srv-{i:04},10.0.0.999,Ubuntu 22.04,4\n")
        } else if i == 1_500 {
            format!("srv-{i:04},10.0.9.1,Ubuntu 22.04,4,a cell too many\n")
        } else {
            format!("srv-{i:04},10.0.{}.{},Ubuntu 22.04,4\n", i / 256, i % 256)
        };
        csv.push_str(&line);
    }
    let file = inventory(&s.uploads, "estate.csv", &csv);
    let started = pipeline::start(&mut conn, &s.ctx, s.uploads.path(), &file, &accept(0.9)).await.expect("start");
    run_until_idle(&pool).await;
    let flow =
        as_tenant!(conn, &s.ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, started.discovery_flow_id)).expect("flow");
    assert_eq!(flow.status, FlowStatus::Completed, "{:?}", flow.error_message);
    let import_id = flow.data_import_id.expect("the flow's import");

    let mut tx = TenantTx::begin(&mut conn, &s.ctx).await.expect("tenant transaction");
    let mut rows = Vec::new();
    let mut after = (0, 0);
    loop {
        let page = imports::import_issues(&mut tx, import_id, after, 4).await.expect("issues page");
        let Some(last) = page.last() else { break };
        after = (last.row_number, last.issue_index);
        rows.extend(page.iter().filter_map(|issue| issue.file_row));
    }
    let summary = summary::summarise(&mut tx, started.discovery_flow_id).await.expect("summary");
    let read: i64 = sqlx::query_scalar(
        "SELECT pg_stat_get_xact_tuples_returned('migration.raw_import_records'::regclass)
                + (SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid))::bigint FROM pg_index
                   WHERE indrelid = 'migration.raw_import_records'::regclass)",
    )
    .fetch_one(tx.conn())
    .await
    .expect("tuples read");
    drop(tx);

    rows.dedup();
    let mut expected = warned.clone();
    expected.push(1_502);
    expected.sort_unstable();
    assert_eq!(rows, expected, "every row with an issue, once, in file order");
    let import = summary.import.expect("the import's summary");
    assert_eq!(import.rows_with_warnings, warned.len() as i64);
    assert_eq!(
        import.invalid_rows.iter().map(|r| (r.row_number, r.file_row)).collect::<Vec<_>>(),
        [(1_501, Some(1_502))]
    );
    let first_warned = import.warning_rows.first().map(|r| (r.row_number, r.file_row));
    // The data row 8 is the file's row 9 (after the header).
    assert_eq!(first_warned, Some((8, Some(9))), "the file's row beside the record's");
    // 11 records with an issue, each read once or twice by the pages and once by the summary;
    // walking the import in row order reads thousands.
    assert!(read < 100, "{read} tuples of raw_import_records read for 11 records with issues");
}
