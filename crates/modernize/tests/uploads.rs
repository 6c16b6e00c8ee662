//! Client files kept by discovery (issue 11, item 6): private whatever the umask, and deleted
//! once their flow is over and the retention time has passed — not before, and not while the
//! flow may still need them.
//!
//! Its own test binary: the umask is per process.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::uploads;
use modernize::fixtures::{ACME, demo_tenant};
use modernize::tenancy::{TenantCtx, TenantTx};
use nix::sys::stat::{Mode, umask};
use sqlx::PgPool;

const HOUR: Duration = Duration::from_secs(3600);

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// The upload directory of a flow, as `start` recorded it.
async fn upload_dir(pool: &PgPool, flow: uuid::Uuid) -> PathBuf {
    let path: String = sqlx::query_scalar(
        "SELECT m.flow_configuration ->> 'upload_path' FROM migration.discovery_flows f
         JOIN migration.crewai_flow_state_extensions m ON m.flow_id = f.master_flow_id WHERE f.id = $1",
    )
    .bind(flow)
    .fetch_one(pool)
    .await
    .expect("upload path");
    PathBuf::from(path).parent().expect("its directory").to_owned()
}

#[sqlx::test(migrations = false)]
async fn uploads_are_private_and_deleted_after_their_flow_and_retention(pool: PgPool) {
    umask(Mode::empty());
    let mut conn = common::migrated(&pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("tenant");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    let dir = tempfile::tempdir().expect("dir");
    let source = dir.path().join("cmdb.csv");
    std::fs::write(&source, "hostname,ip_address\nsrv-01,10.0.0.1\nsrv-02,10.0.0.2\n").expect("file");
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let uploads_dir = dir.path().join("data/uploads");
    let accept = ImportOptions { accept_above: Some(0.9), ..Default::default() };

    // Under umask 000, from a 0644 source: directories 0700, the copy 0600.
    let completed = pipeline::start(&mut conn, &ctx, &uploads_dir, &source, &accept).await.expect("start");
    let completed_dir = upload_dir(&pool, completed.discovery_flow_id).await;
    assert_eq!(mode(&uploads_dir), 0o700);
    assert_eq!(mode(&completed_dir), 0o700);
    assert_eq!(mode(&completed_dir.join("cmdb.csv")), 0o600);
    pipeline::run_worker(&pool, common::operator(), &ExactNameSuggester, &WorkerOptions::default(), true)
        .await
        .expect("worker");

    // A flow paused for review, and one cancelled.
    let paused =
        pipeline::start(&mut conn, &ctx, &uploads_dir, &source, &ImportOptions::default()).await.expect("start");
    pipeline::run_worker(&pool, common::operator(), &ExactNameSuggester, &WorkerOptions::default(), true)
        .await
        .expect("worker");
    let paused_dir = upload_dir(&pool, paused.discovery_flow_id).await;
    let cancelled =
        pipeline::start(&mut conn, &ctx, &uploads_dir, &source, &ImportOptions::default()).await.expect("start");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    pipeline::cancel(&mut tx, cancelled.discovery_flow_id).await.expect("cancel");
    tx.commit().await.expect("commit");
    let cancelled_dir = upload_dir(&pool, cancelled.discovery_flow_id).await;
    // A copy no flow refers to (a start that failed half-way), made just now.
    let fresh_orphan = uploads_dir.join(uuid::Uuid::new_v4().to_string());
    std::fs::create_dir(&fresh_orphan).expect("orphan");

    // Within retention: everything stays.
    let removed = uploads::purge(&mut conn, common::operator(), &uploads_dir, HOUR).await.expect("purge");
    assert!(removed.is_empty(), "{removed:?}");
    for kept in [&completed_dir, &paused_dir, &cancelled_dir, &fresh_orphan] {
        assert!(kept.exists(), "{}", kept.display());
    }

    // Past retention: the completed and the cancelled flows' uploads go; the paused flow still
    // needs its file, and a fresh copy may belong to a start under way.
    let mut removed = uploads::purge(&mut conn, common::operator(), &uploads_dir, Duration::ZERO).await.expect("purge");
    removed.sort();
    let mut expected = vec![completed_dir.clone(), cancelled_dir.clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(!completed_dir.exists() && !cancelled_dir.exists());
    assert!(paused_dir.join("cmdb.csv").exists() && fresh_orphan.exists());
}
