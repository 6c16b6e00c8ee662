//! The worker: claims queued phases, runs each under its flow's lock with its lease kept alive,
//! and records how the phase ended (the next phase queued, the flow paused for review, or failed).

use std::time::Duration;

use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool};
use tracing::Instrument;
use uuid::Uuid;

use super::{Advance, DEFAULT_CHUNK_ROWS, PHASE_JOB, PhaseJob};
use crate::discovery::lifecycle::transition;
use crate::discovery::{DiscoveryError, Suggester, sixr};
use crate::jobs::{self, Job};
use crate::models::{DiscoveryPhase, FlowStatus};
use crate::repo::flows;
use crate::tenancy::{OperatorToken, TenantCtx, TenantTx};

/// Enqueues a phase once per flow and attempt number (retries of a failed phase get a new key).
pub async fn enqueue_phase(conn: &mut PgConnection, job: &PhaseJob) -> Result<(), DiscoveryError> {
    let attempts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM modernize.jobs WHERE kind = $1 AND payload ->> 'discovery_flow_id' = $2::text
           AND payload ->> 'phase' = $3",
    )
    .bind(PHASE_JOB)
    .bind(job.discovery_flow_id)
    .bind(job.phase.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let key = format!("discovery:{}:{}:{}", job.discovery_flow_id, job.phase, attempts);
    let payload = serde_json::to_value(job).map_err(|e| DiscoveryError::Invalid(e.to_string()))?;
    jobs::enqueue(conn, PHASE_JOB, Some(job.client_account_id), &payload, Some(&key)).await?;
    Ok(())
}

fn next_phase(phase: DiscoveryPhase) -> Option<DiscoveryPhase> {
    let all = DiscoveryPhase::ALL;
    all.iter().position(|p| *p == phase).and_then(|i| all.get(i + 1)).copied()
}

/// Tuning of a worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub name: String,
    pub lease: Duration,
    /// Rows per chunk of the phases that read or write the import's rows in chunks: committed
    /// one at a time by the import and the cleansing, read one page at a time by the 6R phase.
    pub chunk_rows: usize,
    pub poll: Duration,
    /// Run only this discovery flow's jobs (a foreground `import` runs its own flow, never
    /// another tenant's queued work).
    pub only_flow: Option<Uuid>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            name: format!("worker-{}", std::process::id()),
            lease: Duration::from_secs(60),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            poll: Duration::from_millis(500),
            only_flow: None,
        }
    }
}

/// Runs jobs until none is due (when `until_idle`) or forever. Returns how many ran. While the
/// database is in maintenance ([`crate::ops::maintenance`]) no job is claimed (with `until_idle`,
/// it returns at once).
///
/// A job runs only under its flow's lock ([`FlowLock`]): a job whose flow another worker is
/// running is handed back ([`jobs::defer`]), so a flow's phases never run twice at once, whatever
/// the leases. While a job runs, its lease is kept alive ([`Heartbeat`]) whatever the phase.
pub async fn run_worker(
    pool: &PgPool,
    operator: &OperatorToken,
    suggester: &dyn Suggester,
    options: &WorkerOptions,
    until_idle: bool,
) -> Result<u64, DiscoveryError> {
    let mut ran = 0;
    loop {
        let mut conn = pool.acquire().await?;
        // Maintenance (issue 17): no new job is claimed; the one under way has finished.
        if crate::ops::in_maintenance(&mut conn).await? {
            if until_idle {
                return Ok(ran);
            }
            drop(conn);
            tokio::time::sleep(options.poll).await;
            continue;
        }
        let Some(job) = jobs::claim(&mut conn, &options.name, options.lease, options.only_flow).await? else {
            if until_idle {
                return Ok(ran);
            }
            drop(conn);
            tokio::time::sleep(options.poll).await;
            continue;
        };
        let Some(lock) = FlowLock::try_acquire(pool, &job).await? else {
            tracing::debug!(job = job.id, "its flow is being run by another worker; handed back");
            jobs::defer(&mut conn, job.id, &options.name).await?;
            drop(conn);
            tokio::time::sleep(options.poll).await;
            continue;
        };
        // The lease may have run out, and the job been claimed and finished by another worker,
        // between the claim and the lock.
        if !jobs::is_held(&mut conn, job.id, &options.name).await? {
            lock.release().await?;
            continue;
        }
        ran += 1;
        let span = job_span(&job, options);
        let heartbeat = Heartbeat::start(pool.clone(), job.id, options);
        let started = std::time::Instant::now();
        let result = run_job(&mut conn, operator, &job, suggester, options).instrument(span.clone()).await;
        drop(heartbeat);
        match result {
            Ok(()) => {
                jobs::complete(&mut conn, job.id).await?;
                let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                span.in_scope(|| tracing::info!(elapsed_ms, "job done"));
            }
            Err(error) => {
                span.in_scope(|| tracing::warn!(%error, "job failed"));
                let retried = jobs::fail(&mut conn, &job, &error.to_string()).await?;
                if !retried {
                    record_failure(&mut conn, operator, &job, &error).await?;
                }
            }
        }
        lock.release().await?;
    }
}

/// The span of one job, so that every line its run logs names the job, its tenant and (once its
/// payload is read, in [`run_job`]) its flows, import and phase.
fn job_span(job: &Job, options: &WorkerOptions) -> tracing::Span {
    let span = tracing::info_span!(
        "job",
        job_id = job.id,
        kind = %job.kind,
        attempt = job.attempts,
        worker = %options.name,
        client_account_id = tracing::field::Empty,
        engagement_id = tracing::field::Empty,
        master_flow_id = tracing::field::Empty,
        flow_id = tracing::field::Empty,
        import_id = tracing::field::Empty,
        phase = tracing::field::Empty,
    );
    if let Some(account) = job.client_account_id {
        span.record("client_account_id", tracing::field::display(account));
    }
    span
}

/// Runs one flow's jobs in this process until the flow has none left (a foreground `import`,
/// `flows resume` or `flows retry`): while another worker holds one of its jobs, or a failed
/// phase waits for its retry, it waits (polling every `options.poll`) and runs what becomes due,
/// so it returns only once the flow is over: completed, paused, failed or cancelled. Never runs
/// another flow's jobs. Returns how many jobs it ran.
pub async fn run_flow(
    pool: &PgPool,
    operator: &OperatorToken,
    suggester: &dyn Suggester,
    options: &WorkerOptions,
    discovery_flow_id: Uuid,
) -> Result<u64, DiscoveryError> {
    let options = WorkerOptions { only_flow: Some(discovery_flow_id), ..options.clone() };
    let mut ran = 0;
    loop {
        ran += run_worker(pool, operator, suggester, &options, true).await?;
        if !jobs::pending_for_flow(&mut *pool.acquire().await?, discovery_flow_id).await? {
            return Ok(ran);
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// The lock of the flow a job belongs to: a transaction-level advisory lock held by an open
/// transaction on a connection of its own, so that it ends with the job, with the worker's
/// process, and with this value if the worker's future is dropped (the transaction rolls back).
struct FlowLock(sqlx::Transaction<'static, sqlx::Postgres>);

impl FlowLock {
    /// The lock of the job's discovery flow (of the job itself for a job of no flow), or None when
    /// another worker holds it.
    async fn try_acquire(pool: &PgPool, job: &Job) -> Result<Option<Self>, DiscoveryError> {
        let key = job
            .payload
            .get("discovery_flow_id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("job:{}", job.id), |flow| format!("discovery_flow:{flow}"));
        let mut tx = pool.begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("modernize.{key}"))
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some(Self(tx)))
    }

    async fn release(self) -> Result<(), DiscoveryError> {
        self.0.rollback().await?;
        Ok(())
    }
}

/// Extends a job's lease every third of the lease while the job runs, on a connection of its own,
/// so that no phase, however long, outlives its lease while its worker is alive. Stopped when
/// dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(pool: PgPool, job_id: i64, options: &WorkerOptions) -> Self {
        let (worker, lease) = (options.name.clone(), options.lease);
        Self(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(lease / 3);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let extended = match pool.acquire().await {
                    Ok(mut conn) => jobs::extend_lease(&mut conn, job_id, &worker, lease).await,
                    Err(error) => Err(error),
                };
                match extended {
                    Ok(true) => {}
                    // Another worker claimed it: the flow lock keeps it from running the phase
                    // while this one does.
                    Ok(false) => return,
                    Err(error) => tracing::warn!(job = job_id, %error, "the job's lease could not be extended"),
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_job(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    job: &Job,
    suggester: &dyn Suggester,
    options: &WorkerOptions,
) -> Result<(), DiscoveryError> {
    if job.kind != PHASE_JOB {
        return Err(DiscoveryError::Invalid(format!("unknown job kind {}", job.kind)));
    }
    let phase: PhaseJob =
        serde_json::from_value(job.payload.clone()).map_err(|e| DiscoveryError::Invalid(e.to_string()))?;
    let span = tracing::Span::current();
    span.record("client_account_id", tracing::field::display(phase.client_account_id));
    span.record("engagement_id", tracing::field::display(phase.engagement_id));
    span.record("master_flow_id", tracing::field::display(phase.master_flow_id));
    span.record("flow_id", tracing::field::display(phase.discovery_flow_id));
    span.record("import_id", tracing::field::display(phase.data_import_id));
    span.record("phase", tracing::field::display(phase.phase));
    let ctx = TenantCtx::for_operator(conn, operator, phase.client_account_id, Some(phase.engagement_id)).await?;
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let status = flows::discovery_flow_status(&mut tx, phase.discovery_flow_id).await?;
    if status != FlowStatus::Running {
        // Cancelled or paused meanwhile: resuming enqueues the phase again.
        return Ok(());
    }
    flows::mark_phase_started(&mut tx, phase.discovery_flow_id, phase.phase).await?;
    tx.commit().await?;
    let started = std::time::Instant::now();
    let advance = async {
        match phase.phase {
            DiscoveryPhase::DataImport => super::import::import_records(conn, &ctx, &phase, options).await,
            DiscoveryPhase::FieldMapping => super::mapping::suggest_mappings(conn, &ctx, &phase, suggester).await,
            // One pass does both (each record written once); an inventory job queued by an older
            // release, or a retry of it, runs the same pass.
            DiscoveryPhase::DataCleansing | DiscoveryPhase::AssetInventory => {
                super::inventory::cleanse_into_inventory(conn, &ctx, &phase, options).await.map(Advance::NextAfter)
            }
            DiscoveryPhase::DependencyAnalysis => super::dependencies::find_dependencies(conn, &ctx, &phase).await,
            DiscoveryPhase::TechDebtAssessment => sixr::recommend(conn, &ctx, &phase, options.chunk_rows).await,
        }
    }
    .await?;
    let done = match advance {
        Advance::Next(mut metrics) => {
            let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            metrics.insert("duration_ms".into(), json!(elapsed));
            vec![(phase.phase, metrics)]
        }
        Advance::NextAfter(done) => done,
        Advance::WaitForReview => {
            let mut tx = TenantTx::begin(conn, &ctx).await?;
            transition(&mut tx, phase.discovery_flow_id, FlowStatus::Paused, "field mappings await review").await?;
            tx.commit().await?;
            return Ok(());
        }
    };
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    finish_phases(&mut tx, &phase, done).await?;
    tx.commit().await?;
    Ok(())
}

/// Records the phases a job did (its own first) and their figures (also in the master flow's
/// `phase_execution_times`), and enqueues the phase after the last (or completes the flow), in
/// one transaction. A flow paused or cancelled while the job ran keeps its work but goes no
/// further.
pub(super) async fn finish_phases(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
    done: Vec<(DiscoveryPhase, Map<String, Value>)>,
) -> Result<(), DiscoveryError> {
    let (status, completed) = flows::lock_flow_progress(tx, job.discovery_flow_id).await?;
    let Some(&(last, _)) = done.last() else { return Ok(()) };
    if completed.contains(&last) {
        // A run of this job already finished (its worker died before marking the job done) and
        // enqueued what comes next: the phases are recorded and the successor enqueued once.
        return Ok(());
    }
    for (phase, metrics) in done {
        flows::complete_phase(tx, job.discovery_flow_id, phase).await?;
        flows::record_phase_metrics(tx, &job.scope(), phase, &Value::Object(metrics)).await?;
    }
    match next_phase(last) {
        _ if status != FlowStatus::Running => {}
        Some(next) => enqueue_phase(tx.conn(), &PhaseJob { phase: next, ..job.clone() }).await?,
        None => {
            transition(tx, job.discovery_flow_id, FlowStatus::Completed, "all phases completed").await?;
        }
    }
    Ok(())
}

/// A phase failed for good: the flow is failed with the phase and the error recorded.
async fn record_failure(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    job: &Job,
    error: &DiscoveryError,
) -> Result<(), DiscoveryError> {
    let Ok(phase) = serde_json::from_value::<PhaseJob>(job.payload.clone()) else { return Ok(()) };
    let ctx = TenantCtx::for_operator(conn, operator, phase.client_account_id, Some(phase.engagement_id)).await?;
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let message = error.to_string();
    flows::record_flow_error(&mut tx, phase.discovery_flow_id, &message, phase.phase, (job.id, job.attempts)).await?;
    transition(&mut tx, phase.discovery_flow_id, FlowStatus::Failed, &message).await?;
    tx.commit().await?;
    Ok(())
}
