//! Learning only from people (issue 14 item 5): what an import's confidence threshold decided is
//! stored as the threshold's decision and teaches the mapping engine nothing; what a reviewer
//! decided is what the client account learns (and forgets).

mod common;

use std::io::Write;

use modernize::discovery::pipeline::{self, ImportOptions, Started, WorkerOptions};
use modernize::discovery::{MappingSuggestion, Suggester};
use modernize::fixtures::{ACME, demo_tenant};
use modernize::models::{DiscoveryFlow, FlowStatus};
use modernize::repo::mappings::{self, LearnedMapping, Review};
use modernize::tenancy::TenantCtx;
use serde_json::{Map, Value, json};
use sqlx::PgPool;

/// A sure suggestion for `hostname` and a hunch (0.6) that `Srv Env` is the environment.
struct Hunches;

impl Suggester for Hunches {
    fn suggest(&self, headers: &[String], _: &[Map<String, Value>], _: &[LearnedMapping]) -> Vec<MappingSuggestion> {
        headers
            .iter()
            .map(|header| {
                let (target, confidence) = match header.as_str() {
                    "hostname" => (Some("hostname"), 1.0),
                    _ => (Some("environment"), 0.6),
                };
                MappingSuggestion {
                    source_field: header.clone(),
                    target_field: target.map(str::to_owned),
                    confidence,
                    match_type: "test".into(),
                    explanation: "test".into(),
                    alternatives: json!([]),
                    transformation_rules: json!({}),
                }
            })
            .collect()
    }
}

async fn import(pool: &PgPool, ctx: &TenantCtx, dir: &tempfile::TempDir, accept_above: Option<f64>) -> Started {
    let path = dir.path().join("servers.csv");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(b"hostname,Srv Env\nweb-01,prod\nweb-02,dev\n"))
        .expect("write file");
    let mut conn = pool.acquire().await.expect("connection");
    let options = ImportOptions { accept_above, ..Default::default() };
    let started = pipeline::start(&mut conn, ctx, dir.path(), &path, &options).await.expect("start");
    pipeline::run_worker(pool, common::operator(), &Hunches, &WorkerOptions::default(), true).await.expect("worker");
    started
}

/// (source field, status, decided_by) of the import's mappings.
async fn decisions(pool: &PgPool, started: &Started) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT source_field, status::text, decided_by FROM migration.import_field_mappings
         WHERE data_import_id = $1 ORDER BY source_field",
    )
    .bind(started.data_import_id)
    .fetch_all(pool)
    .await
    .expect("mappings")
}

async fn learned(pool: &PgPool, ctx: &TenantCtx) -> Vec<(String, Option<String>, bool)> {
    let mut conn = pool.acquire().await.expect("connection");
    let learned = as_tenant!(conn, ctx, |tx| mappings::learned_mappings(&mut tx)).expect("learned");
    learned.into_iter().map(|l| (l.source_field, l.target_field, l.approved)).collect()
}

fn owned(rows: &[(&str, &str, Option<&str>)]) -> Vec<(String, String, Option<String>)> {
    rows.iter().map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), c.map(str::to_owned))).collect()
}

#[sqlx::test(migrations = false)]
async fn a_threshold_teaches_nothing_and_a_reviewer_does(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    let dir = tempfile::tempdir().expect("uploads");
    // What the demo tenant's reviewers decided before.
    let before = learned(&pool, &ctx).await;
    assert!(before.iter().any(|(source, ..)| source == "Name"), "{before:?}");

    // --accept-above 0.9: the hunch is cut, the sure one approved, both by the threshold.
    let by_threshold = import(&pool, &ctx, &dir, Some(0.9)).await;
    assert_eq!(
        decisions(&pool, &by_threshold).await,
        owned(&[("Srv Env", "rejected", Some("threshold")), ("hostname", "approved", Some("threshold"))])
    );
    assert_eq!(learned(&pool, &ctx).await, before, "nobody decided anything: nothing learned");

    // Without a threshold a reviewer rejects the hunch; resuming with a threshold decides the rest.
    let reviewed = import(&pool, &ctx, &dir, None).await;
    let flow =
        as_tenant!(conn, &ctx, |tx| modernize::repo::table::get::<DiscoveryFlow>(&mut tx, reviewed.discovery_flow_id))
            .expect("flow");
    assert_eq!(flow.status, FlowStatus::Paused);
    let hunch: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM migration.import_field_mappings WHERE data_import_id = $1 AND source_field = 'Srv Env'",
    )
    .bind(reviewed.data_import_id)
    .fetch_one(&pool)
    .await
    .expect("mapping");
    as_tenant!(conn, &ctx, |tx| mappings::review_mapping(&mut tx, hunch, &Review::Reject)).expect("review");
    as_tenant!(conn, &ctx, |tx| pipeline::resume(&mut tx, reviewed.discovery_flow_id, Some(0.9))).expect("resume");
    assert_eq!(
        decisions(&pool, &reviewed).await,
        owned(&[("Srv Env", "rejected", Some("reviewer")), ("hostname", "approved", Some("threshold"))])
    );
    let mut expected = before.clone();
    expected.push(("Srv Env".to_owned(), Some("environment".to_owned()), false));
    expected.sort_by_key(|(source, target, _)| (source.to_lowercase(), target.clone()));
    assert_eq!(learned(&pool, &ctx).await, expected, "the reviewer's rejection, and only it, is learned");

    // Forgetting the header forgets the reviewer's decision; the threshold's stays as it was.
    let forgotten = as_tenant!(conn, &ctx, |tx| mappings::forget_learned_mapping(&mut tx, "Srv Env")).expect("forget");
    assert_eq!(forgotten, 1);
    assert_eq!(learned(&pool, &ctx).await, before);
    assert_eq!(decisions(&pool, &by_threshold).await[0], owned(&[("Srv Env", "rejected", Some("threshold"))])[0]);
}
