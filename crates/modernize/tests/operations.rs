//! Operations (issue 17) on real PostgreSQL: the maintenance flag, workers idle during
//! maintenance, and the deployment_health view's figures.

mod common;

use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, WorkerOptions};
use modernize::{jobs, ops};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn workers_claim_nothing_during_maintenance(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let job = jobs::enqueue(&mut conn, "noop", None, &serde_json::json!({}), None).await.expect("enqueue");
    let job = job.expect("a new job");
    let on = ops::set_maintenance(&mut conn, true, Some("test"), 30).await.expect("on");
    assert!(on.active && on.started_at.is_some());
    let ran = pipeline::run_worker(&pool, common::operator(), &ExactNameSuggester, &WorkerOptions::default(), true)
        .await
        .expect("worker");
    assert_eq!(ran, 0);
    let status: String = sqlx::query_scalar("SELECT status FROM modernize.jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&mut *conn)
        .await
        .expect("job");
    assert_eq!(status, "queued", "the job waits for maintenance to end");

    let health = ops::health(&mut conn).await.expect("health").expect("the view exists");
    assert_eq!(health.table_count, 43);
    assert_eq!(health.jobs_queued, 1);
    assert_eq!(health.jobs_running, 0);
    assert!(health.oldest_queued_job_age_seconds.is_some_and(|age| age >= 0.0));
    assert!(health.maintenance);
    assert_eq!(health.maintenance_reason.as_deref(), Some("test"));
    assert_eq!(health.last_deployment_id, None);

    let off = ops::set_maintenance(&mut conn, false, None, 60).await.expect("off");
    assert!(!off.active && off.started_at.is_none() && off.reason.is_none());
    let claimed = jobs::claim(&mut conn, "w", std::time::Duration::from_secs(5), None).await.expect("claim");
    assert_eq!(claimed.map(|j| j.id), Some(job));
    assert!(!ops::health(&mut conn).await.expect("health").expect("view").maintenance);
}

#[sqlx::test(migrations = false)]
async fn a_database_before_the_flag_is_not_in_maintenance(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    modernize::db::migrate::downgrade(&mut conn, 10).await.expect("downgrade");
    assert_eq!(ops::maintenance(&mut conn).await.expect("read"), None);
    assert!(ops::health(&mut conn).await.expect("read").is_none());
    let refused = ops::set_maintenance(&mut conn, true, None, 60).await.expect_err("no flag");
    assert!(refused.to_string().contains("db upgrade"), "{refused}");
}

#[sqlx::test(migrations = false)]
async fn maintenance_keeps_the_window_start_and_checks_retry_after(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let first = ops::set_maintenance(&mut conn, true, Some("one"), 60).await.expect("on");
    let again = ops::set_maintenance(&mut conn, true, Some("two"), 60).await.expect("on again");
    assert_eq!(first.started_at, again.started_at);
    assert_eq!(again.reason.as_deref(), Some("two"));
    assert!(ops::set_maintenance(&mut conn, true, None, 0).await.is_err());
}
