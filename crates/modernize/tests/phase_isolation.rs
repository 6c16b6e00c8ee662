//! Every discovery phase runs under row-level security, not around it:
//! - with FORCE ROW LEVEL SECURITY on every tenant table and a migration owner that is not a
//!   superuser (so nothing bypasses the policies), a whole flow completes with the same results;
//! - two tenants with identical data importing at the same time end with rows that are, tenant
//!   keys and generated ids aside, exactly what a lone import gives.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::summary;
use modernize::fixtures::{ACME, DemoIds, GLOBEX, demo_tenant};
use modernize::models::FlowStatus;
use modernize::schema::{Ownership, TABLES};
use modernize::tenancy::{TenantCtx, TenantTx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

fn inventory(dir: &Path) -> PathBuf {
    let mut csv =
        String::from("hostname,ip_address,operating_system,memory_gb,cpu_cores,environment,application_name\n");
    for i in 1..=300 {
        let os = if i % 4 == 0 { "Windows Server 2012 R2" } else { "Ubuntu 22.04" };
        let app = if i % 2 == 0 { "Webshop" } else { "Payroll" };
        csv.push_str(&format!("srv-{i:03},10.0.{}.{},{os},16,4,prod,{app}\n", i / 200, i % 200));
    }
    csv.push_str("SRV-001,10.0.0.1,Ubuntu 24.04,32,8,prod,Webshop\n");
    csv.push_str("srv-bad,10.0.0.999,Ubuntu 22.04,8,2,test,\n");
    csv.push_str("srv-ragged,10.0.1.2\n");
    let path = dir.join("cmdb.csv");
    std::fs::File::create(&path).and_then(|mut f| f.write_all(csv.as_bytes())).expect("write file");
    path
}

/// Runs one whole flow for `ids` and returns its summary as JSON without ids and timings.
async fn whole_flow(pool: &PgPool, ids: &DemoIds, uploads: &Path, file: &Path) -> serde_json::Value {
    let mut conn = pool.acquire().await.expect("conn");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    let options = ImportOptions { accept_above: Some(0.9), ..Default::default() };
    let started = pipeline::start(&mut conn, &ctx, uploads, file, &options).await.expect("start");
    let small_chunks =
        WorkerOptions { chunk_rows: 50, only_flow: Some(started.discovery_flow_id), ..WorkerOptions::default() };
    pipeline::run_worker(pool, common::operator(), &ExactNameSuggester, &small_chunks, true).await.expect("worker");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    let summary = summary::summarise(&mut tx, started.discovery_flow_id).await.expect("summary");
    tx.commit().await.expect("commit");
    let errors: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, last_error FROM modernize.jobs WHERE last_error IS NOT NULL")
            .fetch_all(&mut *conn)
            .await
            .expect("jobs");
    assert_eq!(summary.status, FlowStatus::Completed, "{:?} {errors:?}", summary.error_message);
    let mut value = serde_json::to_value(&summary).expect("json");
    strip_volatile(&mut value);
    value
}

/// Removes ids, timestamps and durations: what differs between two runs of the same import.
fn strip_volatile(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| {
                let volatile = ["id", "at", "duration_ms", "upload_path", "discovery_timestamp"].contains(&k.as_str());
                !(volatile || k.ends_with("_id") || k.ends_with("_ids") || k.ends_with("_at"))
            });
            map.values_mut().for_each(strip_volatile);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

#[sqlx::test(migrations = false)]
async fn with_forced_rls_and_a_non_superuser_owner_a_whole_flow_completes(pool: PgPool) {
    // The reference: a flow on the ordinary setup (the owner is a superuser).
    let uploads = tempfile::tempdir().expect("dir");
    let file = inventory(uploads.path());
    let reference = {
        let mut conn = common::migrated(&pool).await;
        let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant");
        drop(conn);
        whole_flow(&pool, &ids, uploads.path(), &file).await
    };

    // A second database owned by a role that is not a superuser and cannot bypass RLS.
    let mut admin = pool.acquire().await.expect("conn");
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (owner, database) = (format!("mdz_owner_{suffix}"), format!("mdz_forced_{suffix}"));
    for statement in [
        "DO $$ BEGIN CREATE ROLE modernize_app NOLOGIN NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$".to_owned(),
        format!("CREATE ROLE {owner} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE"),
        format!("GRANT modernize_app TO {owner}"),
        format!("CREATE DATABASE {database} OWNER {owner}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *admin).await.expect("set up the owner");
    }
    let options: PgConnectOptions = pool.connect_options().as_ref().clone().username(&owner).database(&database);
    let forced = PgPoolOptions::new().max_connections(3).connect_with(options.clone()).await.expect("owner pool");
    let mut conn = PgConnection::connect_with(&options).await.expect("owner connection");
    let is_superuser: bool =
        sqlx::query_scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .expect("role");
    assert!(!is_superuser, "the owner must be subject to row-level security");
    modernize::db::migrate::upgrade(&mut conn, None).await.expect("migrations as a non-superuser");
    for table in TABLES.iter().filter(|t| t.ownership == Ownership::Tenant) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER TABLE migration.{} FORCE ROW LEVEL SECURITY", table.name)))
            .execute(&mut conn)
            .await
            .expect("force RLS");
    }
    // Even the owner now sees no tenant row without a tenant transaction.
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant under forced RLS");
    let visible: i64 =
        sqlx::query_scalar("SELECT count(*) FROM migration.engagements").fetch_one(&mut conn).await.expect("count");
    assert_eq!(visible, 0, "FORCE ROW LEVEL SECURITY applies to the owner");
    conn.close().await.expect("close");

    let result = whole_flow(&forced, &ids, uploads.path(), &file).await;
    pretty_assertions::assert_eq!(result, reference);
    forced.close().await;
    for statement in [format!("DROP DATABASE {database} WITH (FORCE)"), format!("DROP ROLE {owner}")] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *admin).await.expect("clean up");
    }
}

/// Every tenant row of a client account, tenant keys and generated values aside, in a stable order.
async fn tenant_rows(pool: &PgPool, ids: &DemoIds) -> Vec<(String, Vec<String>)> {
    let mut conn = pool.acquire().await.expect("conn");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, None).await.expect("ctx");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    let mut all = Vec::new();
    for table in TABLES.iter().filter(|t| t.ownership == Ownership::Tenant) {
        let rows: Vec<serde_json::Value> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT to_jsonb(t) FROM migration.{} t", table.name)))
                .fetch_all(tx.conn())
                .await
                .expect("rows");
        let mut rows: Vec<String> = rows
            .into_iter()
            .map(|mut row| {
                strip_volatile(&mut row);
                row.to_string()
            })
            .collect();
        rows.sort();
        all.push((table.name.to_owned(), rows));
    }
    tx.commit().await.expect("commit");
    all
}

#[sqlx::test(migrations = false)]
async fn two_tenants_importing_at_once_get_what_a_lone_import_gives(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    let c = demo_tenant(
        &mut conn,
        common::operator(),
        modernize::fixtures::DemoTenant { slug: "initech", name: "Initech", industry: "Software" },
    )
    .await
    .expect("C");
    drop(conn);
    let uploads = tempfile::tempdir().expect("dir");
    let file = inventory(uploads.path());

    // C imports alone: the reference for what B must hold.
    let before = tenant_rows(&pool, &c).await;
    whole_flow(&pool, &c, uploads.path(), &file).await;
    let lone = added(&before, &tenant_rows(&pool, &c).await);
    // A and B import the same file at the same time, each with its own workers.
    let before = tenant_rows(&pool, &b).await;
    let (ra, rb) =
        tokio::join!(whole_flow(&pool, &a, uploads.path(), &file), whole_flow(&pool, &b, uploads.path(), &file));
    assert_eq!(ra, rb, "identical data, identical results");
    let together = added(&before, &tenant_rows(&pool, &b).await);
    assert!(lone.iter().map(|(_, rows)| rows.len()).sum::<usize>() > 600, "the import wrote rows");
    pretty_assertions::assert_eq!(together, lone);
}

/// The rows of `after` that are not in `before`, per table (a multiset difference).
fn added(before: &[(String, Vec<String>)], after: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    after
        .iter()
        .map(|(table, rows)| {
            let mut old = before.iter().find(|(t, _)| t == table).map(|(_, r)| r.clone()).unwrap_or_default();
            let new = rows
                .iter()
                .filter(|row| match old.iter().position(|o| o == *row) {
                    Some(i) => {
                        old.swap_remove(i);
                        false
                    }
                    None => true,
                })
                .cloned()
                .collect();
            (table.clone(), new)
        })
        .collect()
}
