//! One asset per identity whatever the concurrency (issue 11 item 1), against real PostgreSQL with
//! workers running in parallel on threads of their own (each with its runtime and connections,
//! as separate processes would):
//! - two imports of the same file into one engagement at once give one asset per identity;
//! - two workers on one flow with a lease shorter than its phases run each phase once: one job per
//!   phase, never run twice at once nor again, and the same assets.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use modernize::discovery::pipeline::{self, ImportOptions, Started, WorkerOptions};
use modernize::discovery::{ExactNameSuggester, MappingSuggestion, Suggester};
use modernize::fixtures::{ACME, demo_tenant};
use modernize::repo::mappings::LearnedMapping;
use modernize::tenancy::TenantCtx;
use serde_json::{Map, Value};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const HOSTS: usize = 4_000;

/// A CMDB export: HOSTS servers on 40 applications.
fn cmdb(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("cmdb.csv");
    let mut body = String::from("hostname,serial_number,memory_gb,application_name\n");
    for i in 0..HOSTS {
        body.push_str(&format!("host-{i:05},SN-{i:05},8,app-{}\n", i % 40));
    }
    std::fs::File::create(&path).and_then(|mut f| f.write_all(body.as_bytes())).expect("write file");
    path
}

/// The exact-name engine, taking `delay` to answer: a field-mapping phase longer than the lease.
struct SlowSuggester(Duration);

impl Suggester for SlowSuggester {
    fn suggest(
        &self,
        headers: &[String],
        samples: &[Map<String, Value>],
        learned: &[LearnedMapping],
    ) -> Vec<MappingSuggestion> {
        std::thread::sleep(self.0);
        ExactNameSuggester.suggest(headers, samples, learned)
    }
}

/// Runs a worker on a thread of its own, with its own runtime and pool: until no job is due, or
/// with `until_done`, until that flow is completed and none of its jobs is pending (a worker that
/// keeps polling, as `modernize worker` does).
fn worker_thread(
    connect: PgConnectOptions,
    options: WorkerOptions,
    suggester: impl Suggester + 'static,
    until_done: Option<uuid::Uuid>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        runtime.block_on(async move {
            let pool = PgPoolOptions::new().max_connections(4).connect_with(connect).await.expect("worker pool");
            let Some(flow_id) = until_done else {
                return pipeline::run_worker(&pool, common::operator(), &suggester, &options, true)
                    .await
                    .expect("worker");
            };
            let done = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let finished: bool = sqlx::query_scalar(
                        "SELECT f.status = 'completed' AND NOT EXISTS (
                                    SELECT 1 FROM modernize.jobs WHERE payload ->> 'discovery_flow_id' = f.id::text
                                    AND status IN ('queued', 'running'))
                         FROM migration.discovery_flows f WHERE f.id = $1",
                    )
                    .bind(flow_id)
                    .fetch_one(&pool)
                    .await
                    .expect("flow status");
                    if finished {
                        return;
                    }
                }
            };
            tokio::select! {
                result = pipeline::run_worker(&pool, common::operator(), &suggester, &options, false) => {
                    result.expect("worker")
                }
                () = done => 0,
            }
        })
    })
}

async fn start(pool: &PgPool, ctx: &TenantCtx, uploads: &tempfile::TempDir, file: &std::path::Path) -> Started {
    let mut conn = pool.acquire().await.expect("connection");
    let options = ImportOptions { accept_above: Some(0.9), ..Default::default() };
    pipeline::start(&mut conn, ctx, uploads.path(), file, &options).await.expect("start")
}

/// (servers, distinct hostnames among them, applications, distinct application names) the file
/// gave the engagement.
async fn inventory(pool: &PgPool, engagement_id: uuid::Uuid) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE asset_type <> 'application'),
                count(DISTINCT lower(hostname)) FILTER (WHERE asset_type <> 'application'),
                count(*) FILTER (WHERE asset_type = 'application'),
                count(DISTINCT lower(name)) FILTER (WHERE asset_type = 'application')
         FROM migration.assets WHERE engagement_id = $1 AND (hostname LIKE 'host-%' OR name LIKE 'app-%')",
    )
    .bind(engagement_id)
    .fetch_one(pool)
    .await
    .expect("inventory")
}

async fn flow_status(pool: &PgPool, flow: &Started) -> String {
    sqlx::query_scalar("SELECT status::text FROM migration.discovery_flows WHERE id = $1")
        .bind(flow.discovery_flow_id)
        .fetch_one(pool)
        .await
        .expect("flow status")
}

#[sqlx::test(migrations = false)]
async fn two_imports_of_one_file_at_once_give_one_asset_per_identity(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    drop(conn);
    let uploads = tempfile::tempdir().expect("uploads");
    let file = cmdb(&uploads);
    let first = start(&pool, &ctx, &uploads, &file).await;
    let second = start(&pool, &ctx, &uploads, &file).await;
    // Each import runs its own flow, as two `modernize import` in the foreground do.
    let workers: Vec<_> = [&first, &second]
        .into_iter()
        .map(|flow| {
            let options = WorkerOptions {
                name: format!("import-{}", flow.discovery_flow_id),
                chunk_rows: 500,
                only_flow: Some(flow.discovery_flow_id),
                ..Default::default()
            };
            worker_thread((*pool.connect_options()).clone(), options, ExactNameSuggester, None)
        })
        .collect();
    for worker in workers {
        assert_eq!(
            worker.join().expect("worker thread"),
            5,
            "six phases in five jobs (cleansing and inventory in one)"
        );
    }
    for flow in [&first, &second] {
        assert_eq!(flow_status(&pool, flow).await, "completed");
    }
    let (servers, identities, applications, names) = inventory(&pool, ids.engagement_id).await;
    assert_eq!((servers, identities), (HOSTS as i64, HOSTS as i64), "one asset per identity");
    assert_eq!((applications, names), (40, 40), "one application asset per application");
    // Each record of both imports points at its asset.
    let unlinked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.raw_import_records WHERE data_import_id = ANY ($1) AND asset_id IS NULL",
    )
    .bind([first.data_import_id, second.data_import_id])
    .fetch_one(&pool)
    .await
    .expect("records");
    assert_eq!(unlinked, 0);
}

#[sqlx::test(migrations = false)]
async fn two_workers_with_a_short_lease_run_each_phase_of_a_flow_once(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    drop(conn);
    let uploads = tempfile::tempdir().expect("uploads");
    let flow = start(&pool, &ctx, &uploads, &cmdb(&uploads)).await;
    // The field-mapping phase lasts 2.5 times the lease: without a heartbeat the other worker
    // would claim it and run it again meanwhile.
    let lease = Duration::from_secs(1);
    let workers: Vec<_> = ["worker-a", "worker-b"]
        .into_iter()
        .map(|name| {
            let options = WorkerOptions {
                name: name.into(),
                lease,
                chunk_rows: 500,
                poll: Duration::from_millis(50),
                ..Default::default()
            };
            worker_thread(
                (*pool.connect_options()).clone(),
                options,
                SlowSuggester(lease * 5 / 2),
                Some(flow.discovery_flow_id),
            )
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread");
    }
    assert_eq!(flow_status(&pool, &flow).await, "completed");

    let jobs: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT payload ->> 'phase', status, attempts, locked_by FROM modernize.jobs
         WHERE payload ->> 'discovery_flow_id' = $1::text ORDER BY id",
    )
    .bind(flow.discovery_flow_id)
    .fetch_all(&pool)
    .await
    .expect("jobs");
    let per_phase: BTreeMap<&str, usize> = jobs.iter().fold(BTreeMap::new(), |mut acc, (phase, ..)| {
        *acc.entry(phase.as_str()).or_default() += 1;
        acc
    });
    assert_eq!(per_phase.len(), 5, "cleansing and inventory are one job: {jobs:?}");
    assert!(per_phase.values().all(|n| *n == 1), "each phase enqueued once: {jobs:?}");
    for (phase, status, attempts, locked_by) in &jobs {
        assert_eq!((status.as_str(), *attempts), ("done", 1), "{phase} ran once: {jobs:?}");
        // A job handed back while it ran (its lease lost) would end with no worker named.
        assert!(locked_by.is_some(), "{phase}'s lease was kept while it ran: {jobs:?}");
    }
    let (servers, identities, applications, _) = inventory(&pool, ids.engagement_id).await;
    assert_eq!((servers, identities, applications), (HOSTS as i64, HOSTS as i64, 40));
    let recorded: i64 = sqlx::query_scalar(
        "SELECT (phases -> 'asset_inventory' -> 'metrics' ->> 'assets_created')::bigint
         FROM migration.discovery_flows WHERE id = $1",
    )
    .bind(flow.discovery_flow_id)
    .fetch_one(&pool)
    .await
    .expect("metrics");
    assert_eq!(recorded, HOSTS as i64, "the inventory ran once: a second run would have found them all");
}
