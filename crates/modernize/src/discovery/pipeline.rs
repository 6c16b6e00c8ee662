//! The discovery flow as durable jobs: each phase is one job (`discovery.phase`), and each job
//! ends by recording its phase and enqueueing the next in one transaction. A job may run again
//! after a crash: every phase is idempotent (the import resumes after its last committed chunk,
//! mappings and assets are upserted).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool};
use tracing::Instrument;
use uuid::Uuid;

use super::cleansing::{FieldMapping, TransformationRules, cleanse};
use super::ingest::{Encoding, InventoryFile};
use super::lifecycle::transition;
use super::sixr;
use super::values::DecimalMark;
use super::{DiscoveryError, MappingSuggestion, Suggester};
use crate::jobs::{self, Job};
use crate::models::{DataImport, DiscoveryPhase, FlowStatus, ImportStatus};
use crate::repo::RepoError;
use crate::repo::flows::{DiscoveryInput, complete_phase, create_discovery_flow, create_master_flow};
use crate::repo::imports::{DataImportInput, Deprecation, insert_import, lock_import};
use crate::repo::mappings::learned_mappings;
use crate::tenancy::{OperatorToken, TenantCtx, TenantTx};

pub const PHASE_JOB: &str = "discovery.phase";
/// Rows per committed chunk of the import: a crash loses at most one chunk of work.
const DEFAULT_CHUNK_ROWS: usize = 5_000;

/// Options of a discovery run, kept in the master flow's configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportOptions {
    pub sheet: Option<String>,
    #[serde(default)]
    pub encoding: Encoding,
    /// Approve suggestions at or above this confidence and leave the rest unmapped; without it
    /// the flow waits for a reviewer after the field-mapping phase.
    pub accept_above: Option<f64>,
    /// Whether the file writes decimal commas (`99,5`, thousands `1.234`): overrides what the
    /// file's cells show ([`super::ingest::FileShape::decimal_mark`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_comma: Option<bool>,
}

impl ImportOptions {
    /// The decimal mark to read the file's numbers with: the one given, else the one detected.
    pub fn decimal_mark(&self, detected: Option<DecimalMark>) -> Option<DecimalMark> {
        match self.decimal_comma {
            Some(true) => Some(DecimalMark::Comma),
            Some(false) => Some(DecimalMark::Point),
            None => detected,
        }
    }
}

/// What a discovery job needs to find its flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseJob {
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
    pub phase: DiscoveryPhase,
}

#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
    pub deprecations: Vec<crate::repo::imports::Deprecation>,
}

/// Starts a discovery of `file`: checks its structure first (a malformed file is refused before
/// anything is written), keeps a copy under `uploads_dir`, then in one transaction creates the
/// master flow, the discovery flow and the import, starts the flow and enqueues its first phase.
pub async fn start(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    uploads_dir: &Path,
    file: &Path,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    ctx.require_engagement("discovery_flows")?;
    InventoryFile::open(file, options.sheet.as_deref(), options.encoding)?;
    check_threshold(options)?;
    let filename = file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
    let upload = super::uploads::store(uploads_dir, file, &filename)?;
    start_stored(conn, ctx, &upload, options, DataImportInput::default()).await
}

fn check_threshold(options: &ImportOptions) -> Result<(), DiscoveryError> {
    match options.accept_above.filter(|t| !(0.0..=1.0).contains(t)) {
        Some(threshold) => Err(DiscoveryError::Repo(RepoError::Invalid {
            field: "accept_above".into(),
            message: format!("{threshold} is not a confidence in 0..1"),
        })),
        None => Ok(()),
    }
}

/// Starts a discovery of a file already stored under the uploads directory (an upload streamed
/// there by the API, or the copy [`start`] made): checks its structure, then registers the flows
/// and the import and enqueues the first phase in one transaction. On any error the upload is
/// deleted, so nothing is left that no flow refers to.
///
/// `metadata` describes the import as a client gave it (current or legacy field names, seed task
/// 4.2): what it leaves out comes from the file (name, size, type). A `file_size` that is not the
/// upload's size is Invalid; a `master_flow_id` must name a master flow of the engagement (Invalid
/// otherwise) and becomes the new master flow's parent.
pub async fn start_stored(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    upload: &super::uploads::Stored,
    options: &ImportOptions,
    metadata: DataImportInput,
) -> Result<Started, DiscoveryError> {
    let started = async {
        let engagement_id = ctx.require_engagement("discovery_flows")?;
        check_threshold(options)?;
        // The whole file within the limits before any flow exists: the import phase cannot stop
        // half-way at a far cell.
        InventoryFile::check_limits(&upload.file, options.sheet.as_deref())?;
        let shape = InventoryFile::open(&upload.file, options.sheet.as_deref(), options.encoding)?.shape;
        let filename = upload.file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
        let file = StoredFile { path: &upload.file, filename: &filename, size: upload.size, format: shape.format };
        register(conn, ctx, engagement_id, &file, options, metadata).await
    }
    .await;
    if started.is_err() {
        // Nothing refers to the copy: do not leave it behind.
        super::uploads::discard(upload);
    }
    started
}

/// A stored upload as [`register`] records it.
struct StoredFile<'a> {
    path: &'a Path,
    filename: &'a str,
    size: u64,
    format: &'a str,
}

impl StoredFile<'_> {
    /// The media type its format implies.
    fn mime_type(&self) -> &'static str {
        if self.format == "csv" {
            "text/csv"
        } else {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
    }
}

async fn register(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    engagement_id: Uuid,
    file: &StoredFile<'_>,
    options: &ImportOptions,
    mut metadata: DataImportInput,
) -> Result<Started, DiscoveryError> {
    if metadata.filename.is_none() && metadata.source_filename.is_none() {
        metadata.filename = Some(file.filename.to_owned());
    }
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (import, deprecations) = create_import_record(&mut tx, metadata).await?;
    let mut started = attach_upload(&mut tx, engagement_id, &import, file, options).await?;
    tx.commit().await?;
    started.deprecations = deprecations;
    Ok(started)
}

/// Seed task 4.1/4.2: the master flow of a new import first (its parent the `master_flow_id`
/// the client named, which must be a master flow of the engagement: Invalid otherwise), then
/// the import, `pending`, owned by it. Old and new field names as [`DataImportInput::resolve`].
async fn create_import_record(
    tx: &mut TenantTx<'_>,
    mut metadata: DataImportInput,
) -> Result<(DataImport, Vec<Deprecation>), DiscoveryError> {
    let parent = metadata.master_flow_id.take();
    let (mut new, deprecations) = metadata.resolve()?;
    if let Some(parent) = parent {
        crate::repo::flows::get_master_flow(tx, parent).await.map_err(|error| match error {
            RepoError::NotFound { .. } => RepoError::Invalid {
                field: "master_flow_id".into(),
                message: format!("no master flow {parent} in this engagement"),
            },
            other => other,
        })?;
    }
    let input = DiscoveryInput {
        flow_name: Some(format!("Discovery of {}", new.filename)),
        parent_flow_id: parent,
        ..Default::default()
    };
    let master = create_master_flow(tx, &input).await?;
    new.master_flow_id = Some(master.flow_id);
    Ok((insert_import(tx, new).await?, deprecations))
}

/// Gives a `pending` import its stored file and starts its discovery: the file's size must be
/// the one the import declared (Invalid, field `file_size`, otherwise); the size and type the
/// import leaves out come from the file; the master flow records where the file is; the
/// discovery flow is created under it, started, and its first phase queued. `deprecations` of
/// the answer is empty (the caller knows them).
async fn attach_upload(
    tx: &mut TenantTx<'_>,
    engagement_id: Uuid,
    import: &DataImport,
    file: &StoredFile<'_>,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    let size = i64::try_from(file.size).ok();
    if let Some(declared) = import.file_size.filter(|declared| Some(*declared) != size) {
        return Err(RepoError::Invalid {
            field: "file_size".into(),
            message: format!("{declared} bytes declared, the uploaded file has {}", file.size),
        }
        .into());
    }
    let master_flow_id = import.master_flow_id.ok_or_else(|| RepoError::Conflict {
        field: "master_flow_id".into(),
        message: "the import belongs to no master flow: start a new import".into(),
    })?;
    sqlx::query(
        "UPDATE migration.data_imports SET file_size = coalesce(file_size, $3),
                mime_type = coalesce(mime_type, $4), updated_at = now()
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(import.id)
    .bind(size)
    .bind(file.mime_type())
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE migration.crewai_flow_state_extensions SET flow_configuration = $3, updated_at = now()
         WHERE client_account_id = $1 AND flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .bind(json!({"upload_path": file.path, "options": options}))
    .execute(tx.conn())
    .await?;
    let input = DiscoveryInput {
        flow_name: Some(format!("Discovery of {}", import.filename)),
        data_import_id: Some(import.id),
        ..Default::default()
    };
    let discovery = create_discovery_flow(tx, master_flow_id, &input).await?;
    transition(tx, discovery.id, FlowStatus::Running, "discovery started").await?;
    let job = PhaseJob {
        client_account_id: tx.client_account_id(),
        engagement_id,
        master_flow_id,
        discovery_flow_id: discovery.id,
        data_import_id: import.id,
        phase: DiscoveryPhase::DataImport,
    };
    enqueue_phase(tx.conn(), &job).await?;
    Ok(Started { master_flow_id, discovery_flow_id: discovery.id, data_import_id: import.id, deprecations: Vec::new() })
}

/// Registers an import whose file comes later (the old platform's JSON request, seed task 4.2):
/// its master flow first, then the import, `pending` until [`start_pending`] gives it its file.
/// `filename` (or its old name) is required: it names the file to come and tells its format.
pub async fn register_pending(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    metadata: DataImportInput,
) -> Result<(DataImport, Vec<Deprecation>), DiscoveryError> {
    ctx.require_engagement("data_imports")?;
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let registered = create_import_record(&mut tx, metadata).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Whether an import awaits its file: Conflict (field `status`) once a file was given (the
/// import is no longer `pending`, or a flow reads it).
pub fn check_awaiting_upload(import: &DataImport, read_by_flow: bool) -> Result<(), DiscoveryError> {
    if import.status != ImportStatus::Pending || read_by_flow {
        return Err(RepoError::Conflict {
            field: "status".into(),
            message: format!("the import {} already has its file (it is {})", import.id, import.status),
        }
        .into());
    }
    Ok(())
}

/// Gives the `pending` import `data_import_id` its file, already stored under the uploads
/// directory, and starts its discovery as [`start_stored`] does: the file's structure is
/// checked, then, with the import locked, it must still await its file (Conflict otherwise: a
/// second upload) and have the declared size (Invalid, `file_size`). On any error the upload is
/// deleted and the import still awaits its file.
pub async fn start_pending(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    data_import_id: Uuid,
    upload: &super::uploads::Stored,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    let started = async {
        let engagement_id = ctx.require_engagement("discovery_flows")?;
        check_threshold(options)?;
        InventoryFile::check_limits(&upload.file, options.sheet.as_deref())?;
        let shape = InventoryFile::open(&upload.file, options.sheet.as_deref(), options.encoding)?.shape;
        let filename = upload.file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
        let file = StoredFile { path: &upload.file, filename: &filename, size: upload.size, format: shape.format };
        let mut tx = TenantTx::begin(conn, ctx).await?;
        let import = lock_import(&mut tx, data_import_id).await?;
        let read_by_flow: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM migration.discovery_flows WHERE client_account_id = $1 AND data_import_id = $2)",
        )
        .bind(tx.client_account_id())
        .bind(data_import_id)
        .fetch_one(tx.conn())
        .await?;
        check_awaiting_upload(&import, read_by_flow)?;
        let started = attach_upload(&mut tx, engagement_id, &import, &file, options).await?;
        tx.commit().await?;
        Ok(started)
    }
    .await;
    if started.is_err() {
        super::uploads::discard(upload);
    }
    started
}

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
        let heartbeat = Heartbeat::start(pool.clone(), job.id, options);
        let result = run_job(&mut conn, operator, &job, suggester, options).await;
        drop(heartbeat);
        match result {
            Ok(()) => jobs::complete(&mut conn, job.id).await?,
            Err(error) => {
                tracing::warn!(job = job.id, %error, "job failed");
                let retried = jobs::fail(&mut conn, &job, &error.to_string()).await?;
                if !retried {
                    record_failure(&mut conn, operator, &job, &error).await?;
                }
            }
        }
        lock.release().await?;
    }
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
    let ctx = TenantCtx::for_operator(conn, operator, phase.client_account_id, Some(phase.engagement_id)).await?;
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let status: FlowStatus =
        sqlx::query_scalar("SELECT status FROM migration.discovery_flows WHERE client_account_id = $1 AND id = $2")
            .bind(phase.client_account_id)
            .bind(phase.discovery_flow_id)
            .fetch_one(tx.conn())
            .await?;
    if status != FlowStatus::Running {
        // Cancelled or paused meanwhile: resuming enqueues the phase again.
        return Ok(());
    }
    mark_phase_started(&mut tx, &phase).await?;
    tx.commit().await?;
    let started = std::time::Instant::now();
    let span = tracing::info_span!("phase", client_account_id = %phase.client_account_id, phase = %phase.phase);
    let advance = async {
        match phase.phase {
            DiscoveryPhase::DataImport => import_records(conn, &ctx, &phase, options).await,
            DiscoveryPhase::FieldMapping => suggest_mappings(conn, &ctx, &phase, suggester).await,
            DiscoveryPhase::DataCleansing => cleanse_records(conn, &ctx, &phase, options).await,
            DiscoveryPhase::AssetInventory => build_inventory(conn, &ctx, &phase).await,
            DiscoveryPhase::DependencyAnalysis => find_dependencies(conn, &ctx, &phase).await,
            DiscoveryPhase::TechDebtAssessment => sixr::recommend(conn, &ctx, &phase).await,
        }
    }
    .instrument(span)
    .await?;
    match advance {
        Advance::Next(mut metrics) => {
            let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            metrics.insert("duration_ms".into(), json!(elapsed));
            let mut tx = TenantTx::begin(conn, &ctx).await?;
            finish_phase(&mut tx, &phase, metrics).await?;
            tx.commit().await?;
            Ok(())
        }
        Advance::WaitForReview => {
            let mut tx = TenantTx::begin(conn, &ctx).await?;
            transition(&mut tx, phase.discovery_flow_id, FlowStatus::Paused, "field mappings await review").await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// The phase shows as running from its first attempt on (a resumed phase keeps its start).
async fn mark_phase_started(tx: &mut TenantTx<'_>, job: &PhaseJob) -> Result<(), DiscoveryError> {
    sqlx::query(
        "UPDATE migration.discovery_flows SET phases = jsonb_set(phases, ARRAY[$3::text],
                coalesce(phases -> ($3::text), '{}') || jsonb_build_object('status', 'running',
                    'started_at', coalesce(phases -> ($3::text) -> 'started_at', to_jsonb(now()))))
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(job.discovery_flow_id)
    .bind(job.phase.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What a phase says when it is done.
pub(crate) enum Advance {
    Next(Map<String, Value>),
    WaitForReview,
}

/// Records the phase and its figures (also in the master flow's `phase_execution_times`), and
/// enqueues the next phase (or completes the flow), in one transaction. A flow paused or cancelled
/// while the phase ran keeps the phase's work but goes no further.
async fn finish_phase(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
    metrics: Map<String, Value>,
) -> Result<(), DiscoveryError> {
    let (status, completed): (FlowStatus, Vec<DiscoveryPhase>) = sqlx::query_as(
        "SELECT status, phases_completed FROM migration.discovery_flows
         WHERE client_account_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(job.discovery_flow_id)
    .fetch_one(tx.conn())
    .await?;
    if completed.contains(&job.phase) {
        // A run of this phase already finished (its worker died before marking the job done) and
        // enqueued what comes next: the phase is recorded and its successor enqueued once.
        return Ok(());
    }
    complete_phase(tx, job.discovery_flow_id, job.phase).await?;
    if let Some(ms) = metrics.get("duration_ms") {
        sqlx::query(
            "UPDATE migration.crewai_flow_state_extensions
             SET phase_execution_times = phase_execution_times || jsonb_build_object($3::text, $4::jsonb)
             WHERE client_account_id = $1 AND flow_id = $2",
        )
        .bind(tx.client_account_id())
        .bind(job.master_flow_id)
        .bind(job.phase.as_str())
        .bind(json!({ "duration_ms": ms }))
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE migration.discovery_flows SET phases = jsonb_set(phases, ARRAY[$3::text],
                phases -> ($3::text) || jsonb_build_object('metrics', $4::jsonb))
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(job.discovery_flow_id)
    .bind(job.phase.as_str())
    .bind(Value::Object(metrics))
    .execute(tx.conn())
    .await?;
    match next_phase(job.phase) {
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
    sqlx::query(
        "UPDATE migration.discovery_flows SET error_message = $3, error_phase = $4,
                error_details = jsonb_build_object('job_id', $5::bigint, 'attempts', $6::int)
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(phase.client_account_id)
    .bind(phase.discovery_flow_id)
    .bind(error.to_string())
    .bind(phase.phase)
    .bind(job.id)
    .bind(job.attempts)
    .execute(tx.conn())
    .await?;
    transition(&mut tx, phase.discovery_flow_id, FlowStatus::Failed, &error.to_string()).await?;
    tx.commit().await?;
    Ok(())
}

/// Streams the file into raw_import_records, a chunk per transaction together with the import's
/// progress. A re-run resumes after the last committed row: each row lands exactly once.
async fn import_records(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    options: &WorkerOptions,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let (upload, import_options) = flow_upload(&mut tx, job).await?;
    let done: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(row_number), 0)::bigint FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE migration.data_imports SET status = 'processing', started_at = coalesce(started_at, now())
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let file = InventoryFile::open(&upload, import_options.sheet.as_deref(), import_options.encoding)?;
    let shape = file.shape.clone();
    // A thread reads and encodes the next chunks while this task COPYs the current one.
    let keys = [ctx.client_account_id(), job.engagement_id, job.data_import_id, job.master_flow_id];
    let (sender, mut chunks) = tokio::sync::mpsc::channel(2);
    let chunk_rows = options.chunk_rows;
    let reader = tokio::task::spawn_blocking(move || encode_chunks(file, done, chunk_rows, keys, &sender));
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        // 100 is for when the import's counters are final.
        let progress = (chunk.fraction_read * 100.0).min(99.0);
        write_chunk(conn, ctx, job, &chunk, progress).await?;
    }
    reader.await.map_err(|e| DiscoveryError::Invalid(format!("the file reader stopped: {e}")))?;
    // Fresh statistics after a bulk load, or the next phases' joins are planned for an empty table.
    // ANALYZE is for the table's owner: an owner-run exception that reads no row into this process.
    sqlx::query("ANALYZE migration.raw_import_records").execute(&mut *conn).await?;
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (total, failed): (i64, i64) = sqlx::query_as(
        "UPDATE migration.data_imports SET status = 'completed', progress_percentage = 100, completed_at = now(),
                total_records = processed_records, updated_at = now()
         WHERE client_account_id = $1 AND id = $2 RETURNING total_records::bigint, failed_records::bigint",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("records".into(), json!(total));
    metrics.insert("invalid_records".into(), json!(failed));
    // What was detected, named in the summary.
    metrics.insert("format".into(), json!(shape.format));
    metrics.insert("encoding".into(), json!(shape.encoding));
    if let Some(delimiter) = shape.delimiter {
        metrics.insert("delimiter".into(), json!(delimiter.to_string()));
    }
    if let Some(sheet) = &shape.sheet {
        metrics.insert("sheet".into(), json!(sheet));
    }
    metrics.insert("header_row".into(), json!(shape.header_row));
    let mark = import_options.decimal_mark(shape.decimal_mark);
    let how = if import_options.decimal_comma.is_some() { "given" } else { "detected" };
    let mark = mark.map_or_else(|| "none in the cells".to_owned(), |m| format!("{:?} ({how})", m.symbol()));
    metrics.insert("decimal_mark".into(), json!(mark));
    Ok(Advance::Next(metrics))
}

/// Rows of the file encoded for COPY (text format), with what the import's counters need.
struct EncodedChunk {
    bytes: Vec<u8>,
    rows: i32,
    invalid: i32,
    last_row: i64,
    /// How much of the file was read when the chunk was complete.
    fraction_read: f64,
}

/// Reads the file after row `done` and sends it in chunks of `chunk_rows` encoded rows; stops
/// early when the receiver is gone (the import failed on the database side).
fn encode_chunks(
    mut file: InventoryFile,
    done: i64,
    chunk_rows: usize,
    keys: [Uuid; 4],
    sender: &tokio::sync::mpsc::Sender<Result<EncodedChunk, super::ingest::IngestError>>,
) {
    let prefix = keys.map(|k| k.to_string()).join("\t");
    let new_chunk = || EncodedChunk {
        bytes: Vec::with_capacity(chunk_rows * 512),
        rows: 0,
        invalid: 0,
        last_row: 0,
        fraction_read: 0.0,
    };
    let mut chunk = new_chunk();
    loop {
        let record = match file.next_record() {
            Some(Ok(record)) => Some(record),
            Some(Err(error)) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
            None => None,
        };
        let at_end = record.is_none();
        if let Some(record) = record.filter(|r| r.row_number > done) {
            chunk.rows += 1;
            chunk.invalid += i32::from(!record.is_valid);
            chunk.last_row = record.row_number;
            let out = &mut chunk.bytes;
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(format!("\t{}\t", record.row_number).as_bytes());
            push_copy_text(out, &Value::Object(record.data).to_string());
            out.extend_from_slice(if record.is_valid { b"\tt\t" } else { b"\tf\t" });
            push_copy_text(out, &Value::Array(record.issues).to_string());
            out.push(b'\n');
        }
        if (chunk.rows as usize >= chunk_rows || at_end) && chunk.rows > 0 {
            chunk.fraction_read = file.fraction_read();
            if sender.blocking_send(Ok(std::mem::replace(&mut chunk, new_chunk()))).is_err() {
                return;
            }
        }
        if at_end {
            return;
        }
    }
}

/// Escapes a value for COPY's text format: backslash and the three separators it interprets.
fn push_copy_text(out: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(byte),
        }
    }
}

/// One chunk and the import's counters, in one tenant transaction. PostgreSQL does not COPY into a
/// table under row-level security, so the rows are COPYed into a temporary table of this
/// transaction (no tenant data outside it) and moved with one INSERT that the policies check.
async fn write_chunk(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    chunk: &EncodedChunk,
    progress: f64,
) -> Result<(), DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    sqlx::query(
        "CREATE TEMPORARY TABLE import_chunk (client_account_id uuid, engagement_id uuid, data_import_id uuid,
             master_flow_id uuid, row_number integer, raw_data jsonb, is_valid boolean, validation_errors jsonb)
         ON COMMIT DROP",
    )
    .execute(tx.conn())
    .await?;
    let mut copy = tx
        .conn()
        .copy_in_raw(
            "COPY import_chunk (client_account_id, engagement_id, data_import_id, master_flow_id,
                 row_number, raw_data, is_valid, validation_errors) FROM STDIN",
        )
        .await?;
    copy.send(chunk.bytes.as_slice()).await?;
    copy.finish().await?;
    sqlx::query(
        "INSERT INTO migration.raw_import_records (client_account_id, engagement_id, data_import_id, master_flow_id,
                row_number, raw_data, is_valid, validation_errors)
         SELECT client_account_id, engagement_id, data_import_id, master_flow_id, row_number, raw_data, is_valid,
                validation_errors
         FROM import_chunk",
    )
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE migration.data_imports SET processed_records = processed_records + $3,
                failed_records = failed_records + $4, progress_percentage = $5, updated_at = now()
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(chunk.rows)
    .bind(chunk.invalid)
    .bind(progress)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where the flow's upload is and the options it was started with (kept in the master flow's
/// configuration); a configuration that does not decode is an error, never a default.
async fn flow_upload(tx: &mut TenantTx<'_>, job: &PhaseJob) -> Result<(PathBuf, ImportOptions), DiscoveryError> {
    let configuration: Value = sqlx::query_scalar(
        "SELECT flow_configuration FROM migration.crewai_flow_state_extensions WHERE client_account_id = $1 AND flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(job.master_flow_id)
    .fetch_one(tx.conn())
    .await?;
    let path = configuration["upload_path"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| DiscoveryError::Invalid("the master flow has no upload path".into()))?;
    let options = serde_json::from_value(configuration["options"].clone())
        .map_err(|source| RepoError::Decode { what: "import options of the master flow", source })?;
    Ok((path, options))
}

/// Suggestions from the mapping engine, stored as `suggested`; with `accept_above`, decided at once.
async fn suggest_mappings(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    suggester: &dyn Suggester,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (upload, options) = flow_upload(&mut tx, job).await?;
    let headers = InventoryFile::open(&upload, options.sheet.as_deref(), options.encoding)?.shape.headers;
    let samples: Vec<Value> = sqlx::query_scalar(
        "SELECT raw_data FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid ORDER BY row_number LIMIT 200",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .fetch_all(tx.conn())
    .await?;
    let samples: Vec<Map<String, Value>> = samples.into_iter().map(record_object).collect::<Result<_, _>>()?;
    let learned = learned_mappings(&mut tx).await?;
    let suggestions: Vec<MappingSuggestion> = suggester.suggest(&headers, &samples, &learned);
    for s in &suggestions {
        let sample_values: Vec<&Value> =
            samples.iter().filter_map(|row| row.get(&s.source_field)).filter(|v| !v.is_null()).take(5).collect();
        sqlx::query(
            "INSERT INTO migration.import_field_mappings
                 (client_account_id, engagement_id, data_import_id, master_flow_id, source_field, target_field,
                  match_type, confidence_score, status, suggested_by, transformation_rules, sample_values,
                  validation_errors)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'suggested', 'modernize-mapping', $9, $10, $11)
             ON CONFLICT (client_account_id, data_import_id, source_field) DO NOTHING",
        )
        .bind(ctx.client_account_id())
        .bind(job.engagement_id)
        .bind(job.data_import_id)
        .bind(job.master_flow_id)
        .bind(&s.source_field)
        .bind(&s.target_field)
        .bind(&s.match_type)
        .bind(s.confidence.clamp(0.0, 1.0))
        .bind(&s.transformation_rules)
        .bind(json!(sample_values))
        .bind(json!([{"explanation": s.explanation, "alternatives": s.alternatives}]))
        .execute(tx.conn())
        .await?;
    }
    // With a threshold the suggestions are decided at once, by the same rule a reviewer's
    // resume with `accept_above` applies.
    let Some(threshold) = options.accept_above else {
        tx.commit().await?;
        return Ok(Advance::WaitForReview);
    };
    decide_pending_mappings(&mut tx, job.data_import_id, Some(threshold)).await?;
    tx.commit().await?;
    let mapped = suggestions.iter().filter(|s| s.target_field.is_some()).count();
    let mut metrics = Map::new();
    metrics.insert("columns".into(), json!(suggestions.len()));
    metrics.insert("suggested_targets".into(), json!(mapped));
    Ok(Advance::Next(metrics))
}

/// A stored record (`raw_data`) as the JSON object it was written as.
fn record_object(value: Value) -> Result<Map<String, Value>, DiscoveryError> {
    serde_json::from_value(value).map_err(|source| RepoError::Decode { what: "import record", source }.into())
}

async fn approved_mappings(tx: &mut TenantTx<'_>, job: &PhaseJob) -> Result<Vec<FieldMapping>, DiscoveryError> {
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT source_field, target_field, transformation_rules FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 AND status = 'approved' AND target_field IS NOT NULL",
    )
    .bind(tx.client_account_id())
    .bind(job.data_import_id)
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|(source_field, target_field, rules)| {
            let rules = serde_json::from_value::<TransformationRules>(rules)
                .map_err(|source| RepoError::Decode { what: "transformation rules of a field mapping", source })?;
            Ok(FieldMapping { source_field, target_field, rules })
        })
        .collect()
}

/// Writes `cleansed_data` for every valid record still without it, a chunk per transaction.
async fn cleanse_records(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    options: &WorkerOptions,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let mappings = approved_mappings(&mut tx, job).await?;
    let (upload, import_options) = flow_upload(&mut tx, job).await?;
    tx.commit().await?;
    // The file's decimal mark, as the import phase found it (or as given).
    let detected = InventoryFile::open(&upload, import_options.sheet.as_deref(), import_options.encoding)?.shape;
    let mark = import_options.decimal_mark(detected.decimal_mark);
    let (mut cleansed, mut unidentified) = (0usize, 0usize);
    // Keyset pagination over row_number: each chunk starts where the last ended, so the phase
    // reads every record once (a re-run skips those already cleansed).
    let mut after = 0i32;
    loop {
        let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
        let rows: Vec<(Uuid, i32, Value)> = sqlx::query_as(
            "SELECT id, row_number, raw_data FROM migration.raw_import_records
             WHERE client_account_id = $1 AND data_import_id = $2 AND row_number > $4
               AND is_valid AND cleansed_data IS NULL
             ORDER BY row_number LIMIT $3",
        )
        .bind(ctx.client_account_id())
        .bind(job.data_import_id)
        .bind(i64::try_from(options.chunk_rows).unwrap_or(i64::MAX))
        .bind(after)
        .fetch_all(tx.conn())
        .await?;
        let Some(&(_, last, _)) = rows.last() else { break };
        after = last;
        let (mut ids, mut documents) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        for (id, _, raw) in rows {
            let result = cleanse(&record_object(raw)?, &mappings, mark);
            unidentified += usize::from(result.dedup_key.is_none());
            ids.push(id);
            documents.push(json!({"asset": result.asset, "dedup_key": result.dedup_key, "issues": result.issues}));
        }
        cleansed += ids.len();
        sqlx::query(
            "UPDATE migration.raw_import_records r SET cleansed_data = c.doc
             FROM unnest($2::uuid[], $3::jsonb[]) AS c(id, doc)
             WHERE r.client_account_id = $1 AND r.id = c.id",
        )
        .bind(ctx.client_account_id())
        .bind(&ids)
        .bind(&documents)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    let mut metrics = Map::new();
    metrics.insert("records_cleansed".into(), json!(cleansed));
    metrics.insert("records_without_identity".into(), json!(unidentified));
    metrics.insert("mapped_columns".into(), json!(mappings.len()));
    Ok(Advance::Next(metrics))
}

/// The asset columns an import can set.
const ASSET_COLUMNS: &str = "name, asset_name, hostname, fqdn, asset_type, description, ip_address, mac_address,
    environment, location, datacenter, rack_location, operating_system, os_version, cpu_cores, memory_gb,
    storage_gb, serial_number, manufacturer, model, virtualization_platform, database_type, business_owner,
    technical_owner, department, business_unit, application_name, technology_stack, criticality,
    business_criticality, migration_priority, migration_wave, cpu_utilization_percent,
    memory_utilization_percent, completeness_score, quality_score, custom_attributes";

/// Creates or updates one asset per identity within the engagement (`assets.dedup_key`, see
/// [`super::identity`]; records of one identity are merged, the last record of the file winning
/// where they differ, and flagged), linked to the master and discovery flow. Inventories of one
/// engagement run one at a time ([`lock_engagement_assets`]); the unique key is the backstop.
async fn build_inventory(conn: &mut PgConnection, ctx: &TenantCtx, job: &PhaseJob) -> Result<Advance, DiscoveryError> {
    // A new asset takes the column defaults where the file says nothing; an existing one keeps
    // what it had where this file says nothing.
    let columns: Vec<&str> = ASSET_COLUMNS.split(',').map(str::trim).collect();
    let inserted: String = columns
        .iter()
        .map(|c| match *c {
            "asset_type" => "coalesce(p.asset_type, 'server')".to_owned(),
            "technology_stack" => "coalesce(p.technology_stack, '[]')".to_owned(),
            "custom_attributes" => "coalesce(p.custom_attributes, '{}')".to_owned(),
            other => format!("p.{other}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let merged: String = columns
        .iter()
        .map(|c| match *c {
            "custom_attributes" => "a.custom_attributes || coalesce(p.custom_attributes, '{}')".to_owned(),
            other => format!("coalesce(p.{other}, a.{other})"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let source = "SELECT DISTINCT ON (r.cleansed_data ->> 'dedup_key') r.id AS record_id,
                         r.cleansed_data ->> 'dedup_key' AS dedup_key, r.cleansed_data -> 'asset' AS asset
                  FROM migration.raw_import_records r
                  WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
                    AND r.cleansed_data ->> 'dedup_key' IS NOT NULL
                  ORDER BY r.cleansed_data ->> 'dedup_key', r.row_number DESC";
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    lock_engagement_assets(&mut tx, job.engagement_id).await?;
    let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source})
         UPDATE migration.assets a SET ({ASSET_COLUMNS}, master_flow_id, discovery_flow_id, data_import_id,
                raw_import_record_id, updated_at)
             = (SELECT {merged}, $3, $4, $2, src.record_id, now()
                FROM jsonb_populate_record(NULL::migration.assets, src.asset) p)
         FROM src
         WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key"
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let created = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source})
         INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, raw_import_record_id, discovery_method, discovery_source, discovery_timestamp,
                dedup_key, {ASSET_COLUMNS})
         SELECT $1, $5, $3, $4, $2, src.record_id, 'import', 'discovery flow', now(), src.dedup_key, {inserted}
         FROM src, jsonb_populate_record(NULL::migration.assets, src.asset) p
         WHERE NOT EXISTS (SELECT 1 FROM migration.assets a
                           WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key)"
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.analyze_as_owner("assets").await?;
    // Every record points at its asset: both rows of a merge are kept against it.
    sqlx::query(
        "UPDATE migration.raw_import_records r SET asset_id = a.id, is_processed = true, processed_at = now()
         FROM migration.assets a
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND a.client_account_id = $1 AND a.engagement_id = $3 AND a.dedup_key = r.cleansed_data ->> 'dedup_key'",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?;
    // A merge is said on each of its rows, naming the others (once, whatever the re-runs).
    let merged = sqlx::query(
        "UPDATE migration.raw_import_records r SET cleansed_data = jsonb_set(r.cleansed_data, '{issues}',
                coalesce(r.cleansed_data -> 'issues', '[]') || jsonb_build_array(jsonb_build_object(
                    'kind', 'merged', 'severity', 'warning',
                    'message', 'data rows ' || array_to_string(m.rows, ', ') || ' are one asset ('
                        || m.dedup_key || '): merged, the last row''s values kept where they differ')))
         FROM (SELECT cleansed_data ->> 'dedup_key' AS dedup_key, array_agg(row_number ORDER BY row_number) AS rows
               FROM migration.raw_import_records
               WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid
                 AND cleansed_data ->> 'dedup_key' IS NOT NULL
               GROUP BY 1 HAVING count(*) > 1) m
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND r.cleansed_data ->> 'dedup_key' = m.dedup_key
           AND NOT coalesce(r.cleansed_data -> 'issues', '[]') @> '[{\"kind\": \"merged\"}]'",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("assets_created".into(), json!(created));
    metrics.insert("assets_updated".into(), json!(updated));
    metrics.insert("records_merged".into(), json!(merged));
    Ok(Advance::Next(metrics))
}

/// Serialises the phases that create assets in one engagement (inventories and the applications
/// derived from them, of concurrent imports) until the caller's transaction ends, so that each
/// sees the assets the other created; `assets.dedup_key`'s unique key refuses what would slip by.
async fn lock_engagement_assets(tx: &mut TenantTx<'_>, engagement_id: Uuid) -> Result<(), DiscoveryError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('modernize.engagement_assets:' || $1::text, 0))")
        .bind(engagement_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Application ↔ server relations in the file: each distinct application named on a server
/// becomes an application asset that runs on that server.
async fn find_dependencies(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    lock_engagement_assets(&mut tx, job.engagement_id).await?;
    let applications = sqlx::query(
        "INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, name, asset_type, application_name, discovery_method, dedup_key)
         SELECT DISTINCT ON (lower(btrim(s.application_name))) $1, $2, $3, $4, $5, s.application_name, 'application',
                s.application_name, 'derived', 'application:' || lower(btrim(s.application_name))
         FROM migration.assets s
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $5
           AND s.application_name IS NOT NULL AND s.asset_type <> 'application'
           AND NOT EXISTS (SELECT 1 FROM migration.assets a WHERE a.client_account_id = $1 AND a.engagement_id = $2
                           AND a.asset_type = 'application' AND lower(a.name) = lower(s.application_name))
         ORDER BY lower(btrim(s.application_name))
         ON CONFLICT (client_account_id, engagement_id, dedup_key) DO NOTHING",
    )
    .bind(ctx.client_account_id())
    .bind(job.engagement_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    // The ESXi hosts VMs run on (`custom_attributes.vmware.host`, from RVTools): placement facts as
    // assets of their own, keyed like any server (fqdn, else hostname), flagged as hypervisors
    // (left out of 6R), each VM `runs_on` its host.
    let host_key = "CASE WHEN btrim(HOST) LIKE '%.%' THEN 'fqdn:' ELSE 'host:' END || lower(btrim(HOST))";
    let vm_host = "s.custom_attributes #>> '{vmware,host}'";
    let hosts = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, name, hostname, fqdn, asset_type, virtualization_platform, discovery_method,
                dedup_key, custom_attributes)
         SELECT DISTINCT ON (key) $1, $2, $3, $4, $5, btrim({vm_host}), split_part(btrim({vm_host}), '.', 1),
                CASE WHEN btrim({vm_host}) LIKE '%.%' THEN btrim({vm_host}) END, 'server', 'VMware ESXi', 'derived',
                key, jsonb_build_object('vmware', jsonb_build_object('esxi_host', true,
                    'cluster', s.custom_attributes #>> '{{vmware,cluster}}'))
         FROM migration.assets s, LATERAL (SELECT {key} AS key) k
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $5
           AND nullif(btrim({vm_host}), '') IS NOT NULL
         ORDER BY key
         ON CONFLICT (client_account_id, engagement_id, dedup_key) DO NOTHING",
        key = host_key.replace("HOST", vm_host),
    )))
    .bind(ctx.client_account_id())
    .bind(job.engagement_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let placements = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO migration.asset_dependencies (client_account_id, engagement_id, asset_id, depends_on_asset_id,
                dependency_type, description, confidence_score, discovered_by)
         SELECT $1, $2, s.id, host.id, 'runs_on', 'VM placed on this ESXi host by vCenter', 0.95, 'import'
         FROM migration.assets s
         JOIN migration.assets host ON host.client_account_id = $1 AND host.engagement_id = $2
              AND host.dedup_key = {key}
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $3
           AND nullif(btrim({vm_host}), '') IS NOT NULL AND host.id <> s.id
         ON CONFLICT (client_account_id, asset_id, depends_on_asset_id, dependency_type) DO NOTHING",
        key = host_key.replace("HOST", vm_host),
    )))
    .bind(ctx.client_account_id())
    .bind(job.engagement_id)
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let dependencies = sqlx::query(
        "INSERT INTO migration.asset_dependencies (client_account_id, engagement_id, asset_id, depends_on_asset_id,
                dependency_type, description, confidence_score, discovered_by)
         SELECT $1, $2, app.id, s.id, 'runs_on', 'application named on the server in the import', 0.9, 'import'
         FROM migration.assets s
         JOIN migration.assets app ON app.client_account_id = $1 AND app.engagement_id = $2
              AND app.asset_type = 'application' AND lower(app.name) = lower(s.application_name)
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $3
           AND s.asset_type <> 'application'
         ON CONFLICT (client_account_id, asset_id, depends_on_asset_id, dependency_type) DO NOTHING",
    )
    .bind(ctx.client_account_id())
    .bind(job.engagement_id)
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("applications_created".into(), json!(applications));
    metrics.insert("dependencies_created".into(), json!(dependencies));
    metrics.insert("esxi_hosts_created".into(), json!(hosts));
    metrics.insert("placements_created".into(), json!(placements));
    Ok(Advance::Next(metrics))
}

/// Resumes a paused flow at its first unfinished phase, or retries a failed one from its failed
/// phase, in the caller's transaction. A flow paused for the review of its field mappings goes on
/// once none awaits review (`accept_above` decides the remaining suggestions: approved at or above
/// it, rejected below); Invalid (field `accept_above`) while some still await review.
pub async fn resume(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), DiscoveryError> {
    let flow = crate::repo::table::get::<crate::models::DiscoveryFlow>(tx, discovery_flow_id).await?;
    let (Some(master_flow_id), Some(data_import_id)) = (flow.master_flow_id, flow.data_import_id) else {
        return Err(DiscoveryError::Invalid("the flow has no import to resume".into()));
    };
    let unfinished = DiscoveryPhase::ALL.into_iter().find(|p| !flow.phases_completed.contains(p));
    let phase = match (flow.status, unfinished) {
        (FlowStatus::Failed, _) => flow.error_phase.or(unfinished).unwrap_or(DiscoveryPhase::DataImport),
        (FlowStatus::Paused, Some(phase)) => phase,
        (from, _) => return Err(DiscoveryError::IllegalTransition { from, to: FlowStatus::Running }),
    };
    let awaiting_review = phase == DiscoveryPhase::FieldMapping && flow.status == FlowStatus::Paused && {
        let suggested: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM migration.import_field_mappings WHERE client_account_id = $1 AND data_import_id = $2",
        )
        .bind(tx.client_account_id())
        .bind(data_import_id)
        .fetch_one(tx.conn())
        .await?;
        suggested > 0
    };
    if awaiting_review {
        decide_pending_mappings(tx, data_import_id, accept_above).await?;
    }
    transition(tx, discovery_flow_id, FlowStatus::Running, "resumed").await?;
    let job = PhaseJob {
        client_account_id: tx.client_account_id(),
        engagement_id: flow.engagement_id,
        master_flow_id,
        discovery_flow_id,
        data_import_id,
        phase,
    };
    if awaiting_review {
        // The reviewers finished the mapping phase: record it and go on with the next.
        return finish_phase(tx, &job, Map::new()).await;
    }
    enqueue_phase(tx.conn(), &job).await
}

/// Decides the import's suggestions still pending by `accept_above`: approved at or above it,
/// rejected below, both recorded as the threshold's decisions (`decided_by = 'threshold'`), which
/// teach the mapping engine nothing ([`learned_mappings`] reads reviewers' decisions only).
/// Invalid (field `accept_above`) when suggestions remain pending.
async fn decide_pending_mappings(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), DiscoveryError> {
    if let Some(threshold) = accept_above {
        sqlx::query(
            "UPDATE migration.import_field_mappings SET approved_at = now(), updated_at = now(),
                    decided_by = 'threshold',
                    status = CASE WHEN target_field IS NOT NULL AND confidence_score >= $3
                                  THEN 'approved' ELSE 'rejected' END::migration.mapping_status
             WHERE client_account_id = $1 AND data_import_id = $2 AND status = 'suggested'",
        )
        .bind(tx.client_account_id())
        .bind(data_import_id)
        .bind(threshold)
        .execute(tx.conn())
        .await?;
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 AND status = 'suggested'",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_one(tx.conn())
    .await?;
    if pending > 0 {
        return Err(RepoError::Invalid {
            field: "accept_above".into(),
            message: format!(
                "{pending} field mappings still await review: approve or reject them, or give a confidence \
                 threshold to decide the rest"
            ),
        }
        .into());
    }
    Ok(())
}

/// Pauses a running flow: the phase under way finishes its work, the next one waits for `resume`.
pub async fn pause(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<(), DiscoveryError> {
    transition(tx, discovery_flow_id, FlowStatus::Paused, "paused by a user").await?;
    Ok(())
}

/// Cancels the flow and its pending jobs.
pub async fn cancel(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<(), DiscoveryError> {
    transition(tx, discovery_flow_id, FlowStatus::Cancelled, "cancelled by a user").await?;
    jobs::cancel_for_flow(tx.conn(), discovery_flow_id).await?;
    Ok(())
}
