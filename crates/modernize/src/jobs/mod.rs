//! A small durable job queue in PostgreSQL (`modernize.jobs`, migration 0004).
//!
//! Written here rather than taken from a crate: the Rust queues on crates.io either keep their
//! tables in `public` or need their own migration runner, and ours must live in the bookkeeping
//! schema and be enqueued inside the caller's transaction. It is kept to the essentials, after
//! crates.io's worker: claim with `FOR UPDATE SKIP LOCKED`, a lease instead of a long row lock,
//! exponential backoff, idempotent jobs.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub client_account_id: Option<Uuid>,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Enqueues a job in the caller's transaction. With a `dedupe_key`, enqueueing twice is a no-op
/// (returns None the second time); so is enqueueing a discovery phase that already has a queued or
/// running job (unique index `jobs_pending_phase_key`, migration 0007).
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    client_account_id: Option<Uuid>,
    payload: &Value,
    dedupe_key: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO modernize.jobs (kind, client_account_id, payload, dedupe_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(client_account_id)
    .bind(payload)
    .bind(dedupe_key)
    .fetch_optional(conn)
    .await
}

/// Claims the next due job (queued, or running with an expired lease: its worker died) for
/// `lease`; with `only_flow`, only a job of that discovery flow. The row lock lasts only this
/// statement.
pub async fn claim(
    conn: &mut PgConnection,
    worker: &str,
    lease: Duration,
    only_flow: Option<Uuid>,
) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE modernize.jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
                locked_until = now() + make_interval(secs => $2), updated_at = now()
         WHERE id = (
             SELECT id FROM modernize.jobs
             WHERE run_at <= now()
               AND (status = 'queued' OR (status = 'running' AND locked_until < now()))
               AND ($3::uuid IS NULL OR payload ->> 'discovery_flow_id' = $3::text)
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, client_account_id, payload, attempts, max_attempts",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(only_flow)
    .fetch_optional(conn)
    .await
}

/// Keeps the lease `worker` holds on a job alive. Returns false when the worker no longer holds
/// it (it ran out and another worker claimed the job, or the job ended).
pub async fn extend_lease(
    conn: &mut PgConnection,
    job_id: i64,
    worker: &str,
    lease: Duration,
) -> Result<bool, sqlx::Error> {
    let extended = sqlx::query(
        "UPDATE modernize.jobs SET locked_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .bind(lease.as_secs_f64())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(extended > 0)
}

/// Whether `worker` still holds the job it claimed (running, leased to it).
pub async fn is_held(conn: &mut PgConnection, job_id: i64, worker: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM modernize.jobs WHERE id = $1 AND locked_by = $2 AND status = 'running')",
    )
    .bind(job_id)
    .bind(worker)
    .fetch_one(conn)
    .await
}

/// Hands back a job `worker` claimed but may not run now (another worker is running its flow):
/// queued again at once, the attempt not counted, for whichever worker gets to it once the flow
/// is free. A no-op when the job is no longer leased to `worker` (the other worker completed it
/// meanwhile).
pub async fn defer(conn: &mut PgConnection, job_id: i64, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE modernize.jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL,
                locked_until = NULL, updated_at = now()
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn complete(conn: &mut PgConnection, job_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE modernize.jobs SET status = 'done', locked_until = NULL, updated_at = now() WHERE id = $1")
        .bind(job_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failure: retried after 2^attempts seconds (capped at 10 minutes), or failed for good
/// after max_attempts. Returns whether it will be retried.
pub async fn fail(conn: &mut PgConnection, job: &Job, error: &str) -> Result<bool, sqlx::Error> {
    let retry = job.attempts < job.max_attempts;
    let backoff = 2f64.powi(job.attempts.clamp(0, 10)).min(600.0);
    sqlx::query(
        "UPDATE modernize.jobs SET status = CASE WHEN $2 THEN 'queued' ELSE 'failed' END, last_error = $3,
                run_at = now() + make_interval(secs => $4), locked_until = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(job.id)
    .bind(retry)
    .bind(error)
    .bind(backoff)
    .execute(conn)
    .await?;
    Ok(retry)
}

/// Cancels the pending jobs whose payload names `flow_id`.
pub async fn cancel_for_flow(conn: &mut PgConnection, flow_id: Uuid) -> Result<u64, sqlx::Error> {
    let cancelled = sqlx::query(
        "UPDATE modernize.jobs SET status = 'cancelled', updated_at = now()
         WHERE status IN ('queued', 'running') AND payload ->> 'discovery_flow_id' = $1::text",
    )
    .bind(flow_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(cancelled)
}

/// Whether a job of the discovery flow is still to run or running (whoever holds it; a failed
/// one waiting for its retry included).
pub async fn pending_for_flow(conn: &mut PgConnection, flow_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM modernize.jobs
                        WHERE status IN ('queued', 'running') AND payload ->> 'discovery_flow_id' = $1::text)",
    )
    .bind(flow_id)
    .fetch_one(conn)
    .await
}

/// Hands back the jobs `worker` holds (a worker shutting down): queued again at once for the
/// next worker instead of waiting for their leases to run out. The attempt is not counted.
pub async fn release_leases(conn: &mut PgConnection, worker: &str) -> Result<u64, sqlx::Error> {
    let released = sqlx::query(
        "UPDATE modernize.jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL,
                locked_until = NULL, run_at = now(), updated_at = now()
         WHERE status = 'running' AND locked_by = $1",
    )
    .bind(worker)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(released)
}
