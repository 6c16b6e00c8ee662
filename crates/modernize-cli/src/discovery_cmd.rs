//! `modernize import`, `modernize worker` and `modernize flows`: discovery flows from the command
//! line. `import` starts a flow and, unless detached, runs its jobs in-process until none is due.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use modernize::db::Database;
use modernize::db::epoch::SchemaEpoch;
use modernize::discovery::ingest::Encoding;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::summary::{FlowSummary, RowIssues};
use modernize::discovery::{DiscoveryError, Suggester, expiry, uploads};
use modernize::jobs;
use modernize::models::{DiscoveryPhase, FlowStatus};
use modernize::repo::Page;
use modernize::service::discovery::{self, MappingDecision};
use modernize::service::{self, Actor};
use modernize::tenancy::{OperatorToken, TenantCtx};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::cli::CliError;
use crate::text::Inline;

/// Connections a worker holds: one for the job, one holding its flow's lock, one for the lease's
/// heartbeat (`pipeline::run_worker`).
const WORKER_CONNECTIONS: u32 = 3;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The inventory export: CSV (any delimiter, UTF-8 or Latin-1) or XLSX.
    file: PathBuf,
    #[command(flatten)]
    tenant: EngagementArgs,
    /// The sheet of an XLSX workbook [default: the first].
    #[arg(long)]
    sheet: Option<String>,
    /// Text encoding of a CSV file.
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    encoding: EncodingArg,
    /// The file writes decimal commas (`99,5`; `1.234` is a thousand) [default: detected from
    /// the cells, named in the summary].
    #[arg(long, conflicts_with = "decimal_point")]
    decimal_comma: bool,
    /// The file writes decimal points (`99.5`; `1,234` is a thousand).
    #[arg(long)]
    decimal_point: bool,
    /// Approve suggested mappings at or above this confidence (0–1) and go on without review;
    /// without it the flow pauses after the field-mapping phase for a reviewer.
    #[arg(long, value_name = "CONFIDENCE")]
    accept_above: Option<f64>,
    /// Only start the flow; `modernize worker` runs it.
    #[arg(long)]
    detach: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    retention: RetentionArgs,
}

/// How long client files stay under `<data-dir>/uploads` once their flow is over.
#[derive(Debug, Args)]
struct RetentionArgs {
    /// Hours an uploaded file is kept after its flow completed or was cancelled; then `import`,
    /// `worker` and `serve` (with workers) delete it (0: at once).
    #[arg(
        long = "upload-retention-hours",
        env = "MODERNIZE_UPLOAD_RETENTION_HOURS",
        value_name = "HOURS",
        default_value_t = 168
    )]
    hours: u64,
}

impl RetentionArgs {
    fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.hours.saturating_mul(3600))
    }
}

/// Deletes the uploads whose flows are over and past retention. Housekeeping: a failure is a
/// warning, never the command's failure.
async fn purge_uploads(conn: &mut PgConnection, operator: &OperatorToken, data_dir: &Path, retention: &RetentionArgs) {
    if let Err(error) = uploads::purge(conn, operator, &uploads_dir(data_dir), retention.duration()).await {
        eprintln!("warning: finished uploads not deleted: {error}");
    }
}

/// What workers tidy up: finished uploads past retention, and imports whose file never came.
#[derive(Debug, Args)]
pub(crate) struct HousekeepingArgs {
    #[command(flatten)]
    retention: RetentionArgs,
    /// Hours an import created without its file (`POST /api/v1/imports` as JSON) waits for it;
    /// then workers cancel it and its master flow.
    #[arg(
        long = "pending-import-expiry-hours",
        env = "MODERNIZE_PENDING_IMPORT_EXPIRY_HOURS",
        value_name = "HOURS",
        default_value_t = expiry::DEFAULT_PENDING_IMPORT_EXPIRY.as_secs() / 3600,
        value_parser = clap::value_parser!(u64).range(1..=8760)
    )]
    pending_import_expiry_hours: u64,
}

impl HousekeepingArgs {
    /// One round on `conn`. A failure is a warning, never the command's failure.
    async fn run_once(&self, conn: &mut PgConnection, operator: &OperatorToken, data_dir: &Path) {
        purge_uploads(conn, operator, data_dir, &self.retention).await;
        let max_age = std::time::Duration::from_secs(self.pending_import_expiry_hours.saturating_mul(3600));
        if let Err(error) = expiry::expire_pending_imports(conn, operator, max_age).await {
            eprintln!("warning: imports awaiting their file past expiry not cancelled: {error}");
        }
    }

    /// A round at once and then hourly, on a connection of its own each time; never returns.
    pub(crate) async fn run_hourly(&self, database: &Database, operator: &OperatorToken, data_dir: &Path) {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match database.connect().await {
                Ok(mut conn) => self.run_once(&mut conn, operator, data_dir).await,
                Err(error) => eprintln!("warning: housekeeping skipped: {error}"),
            }
        }
    }
}

#[derive(Debug, Args)]
struct EngagementArgs {
    /// Client account id or slug.
    #[arg(long)]
    client_account: String,
    /// Engagement id or slug, within the client account.
    #[arg(long)]
    engagement: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum EncodingArg {
    /// UTF-8 when the file is valid UTF-8, else Latin-1 (Windows-1252).
    Auto,
    Utf8,
    Latin1,
}

impl From<EncodingArg> for Encoding {
    fn from(value: EncodingArg) -> Self {
        match value {
            EncodingArg::Auto => Encoding::Auto,
            EncodingArg::Utf8 => Encoding::Utf8,
            EncodingArg::Latin1 => Encoding::Latin1,
        }
    }
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Run the jobs that are due, then exit (default: run until interrupted).
    #[arg(long)]
    once: bool,
    /// How long a claimed job stays this worker's without news from it; after a crash, another
    /// worker takes the job up once this has passed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    lease: u64,
    #[command(flatten)]
    housekeeping: HousekeepingArgs,
}

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// List the discovery flows of a client account (or of one engagement).
    List {
        /// Client account id or slug.
        #[arg(long)]
        client_account: String,
        /// Engagement id or slug.
        #[arg(long)]
        engagement: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A flow's state, import counts and bad rows, mappings, phase timings and inventory.
    Show(FlowArgs),
    /// Approve, reject or change suggested field mappings of a flow paused for review.
    Review(ReviewArgs),
    /// Pause a running flow after the phase under way.
    Pause(FlowArgs),
    /// Resume a paused flow (after review) and run it.
    Resume(ResumeArgs),
    /// Run a failed flow again from its failed phase.
    Retry(ResumeArgs),
    /// Cancel a flow and its pending jobs (for good: a cancelled flow cannot be resumed).
    Cancel(CancelArgs),
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    /// Discovery flow id.
    flow: Uuid,
    /// Client account id or slug.
    #[arg(long)]
    client_account: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// Confirm: a cancelled flow cannot be resumed or retried. Without it the command asks on a
    /// terminal and refuses elsewhere.
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// Decide the mappings still awaiting review: approve those at or above this confidence,
    /// reject the rest.
    #[arg(long, value_name = "CONFIDENCE")]
    accept_above: Option<f64>,
    /// Only resume; `modernize worker` runs it.
    #[arg(long)]
    detach: bool,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    flow: FlowArgs,
    /// Approve the suggestion for this source column; repeatable.
    #[arg(long, value_name = "COLUMN")]
    approve: Vec<String>,
    /// Reject the suggestion for this source column (it stays in custom_attributes); repeatable.
    #[arg(long, value_name = "COLUMN")]
    reject: Vec<String>,
    /// Map a source column to another asset field; repeatable.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    changes: Vec<String>,
}

/// The engine the pipeline suggests mappings with.
pub(crate) fn suggester() -> impl Suggester {
    modernize_mapping::Engine::new()
}

pub(crate) fn uploads_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads")
}

pub(crate) async fn account_ctx(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    client_account: &str,
) -> Result<TenantCtx, CliError> {
    Ok(service::account_ctx(conn, &Actor::Operator(operator), client_account).await?)
}

/// A pool of one connection for the use cases a command calls one after the other.
async fn service_pool(database: &Database) -> Result<PgPool, CliError> {
    Ok(database.pool(1).await?)
}

pub async fn run_import(
    args: ImportArgs,
    database: &Database,
    data_dir: &Path,
    operator: &OperatorToken,
) -> Result<ExitCode, CliError> {
    let pool = service_pool(database).await?;
    let actor = Actor::Operator(operator);
    let decimal_comma = match (args.decimal_comma, args.decimal_point) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let options = ImportOptions {
        sheet: args.sheet,
        encoding: args.encoding.into(),
        accept_above: args.accept_above,
        decimal_comma,
    };
    let started = discovery::start_import(
        &pool,
        &actor,
        &args.tenant.client_account,
        &args.tenant.engagement,
        &uploads_dir(data_dir),
        &args.file,
        &options,
    )
    .await?;
    for deprecation in &started.deprecations {
        eprintln!("warning: {}", deprecation.message);
    }
    if args.detach {
        println!("started discovery flow {} (master flow {})", started.discovery_flow_id, started.master_flow_id);
        println!("run it with `modernize worker`; follow it with `modernize flows show {}`", started.discovery_flow_id);
        return Ok(ExitCode::SUCCESS);
    }
    let account = args.tenant.client_account.as_str();
    run_showing_progress(database, &pool, operator, account, started.discovery_flow_id).await?;
    // In the foreground the flow has run as far as it can: anything but completed, or paused
    // for review, is a failure (a phase failed and waits for its retry).
    let finished = |status: FlowStatus| matches!(status, FlowStatus::Completed | FlowStatus::Paused);
    let code = report_as(&pool, &actor, account, started.discovery_flow_id, args.json, finished).await?;
    let mut conn = database.connect().await?;
    purge_uploads(&mut conn, operator, data_dir, &args.retention).await;
    Ok(code)
}

/// Runs the jobs in this process with the flow's progress on stderr (drawn only on a terminal).
async fn run_showing_progress(
    database: &Database,
    pool: &PgPool,
    operator: &OperatorToken,
    account: &str,
    flow_id: Uuid,
) -> Result<(), CliError> {
    let actor = &Actor::Operator(operator);
    let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
    // The template is a constant, so it parses; fall back to the default style all the same.
    let style = ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos:>3}% {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let watch = watch_progress(pool, actor, account, flow_id, &bar);
    let worker = run_to_the_end(database, operator, flow_id);
    tokio::pin!(worker);
    // The bar is a courtesy: if watching fails, the flow still runs to its end.
    let ran = tokio::select! {
        ran = &mut worker => ran,
        _ = watch => worker.await,
    };
    bar.finish_and_clear();
    ran.map(|_| ())
}

/// Polls the flow's progress into `bar` until dropped.
async fn watch_progress(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
    bar: &ProgressBar,
) -> Result<(), CliError> {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let now = discovery::flow_progress(pool, actor, account, None, flow_id).await?;
        bar.set_position(now.progress_percentage.clamp(0.0, 100.0) as u64);
        bar.set_message(match now.running_phase {
            Some(DiscoveryPhase::DataImport) => {
                format!("data_import: {} rows ({:.0}%)", now.import_processed_records, now.import_progress_percentage)
            }
            Some(phase) => phase.as_str().to_owned(),
            None => now.status.to_string(),
        });
    }
}

/// The inventory export the demo imports: a CMDB export with the usual mess (units in headers,
/// environment spellings, a bad IP address, a formula-like cell, a host listed twice).
const DEMO_INVENTORY: &str = include_str!("../../../examples/inventory.csv");
/// Every suggestion the engine makes for the sample is right; its lowest confidence is 0.70
/// (`Class` → asset_type, a synonym without value evidence).
const DEMO_ACCEPT_ABOVE: f64 = 0.7;

/// RVTools' headers are the engine's own profile: what it maps, it maps at 0.93 or above.
const RVTOOLS_ACCEPT_ABOVE: f64 = 0.9;

/// The demo's discovery: the sample inventory through a whole flow, suggestions at or above
/// [`DEMO_ACCEPT_ABOVE`] accepted, then the summary; then an RVTools workbook
/// ([`modernize::examples::write_rvtools_workbook`]) likewise, whose summary shows templates and
/// placeholders excluded, powered-off VMs as retire candidates, hosts and placements, and the
/// figures of its other sheets.
pub async fn demo(
    database: &Database,
    account: &str,
    engagement: &str,
    data_dir: &Path,
    operator: &OperatorToken,
) -> Result<(), CliError> {
    let file = data_dir.join("demo").join("inventory.csv");
    let write = |file: &Path| {
        std::fs::create_dir_all(data_dir.join("demo"))?;
        std::fs::write(file, DEMO_INVENTORY)
    };
    write(&file).map_err(|source| DiscoveryError::Upload { path: file.clone(), source })?;
    println!(
        "\n== discovery: importing examples/inventory.csv into the demo engagement \
         (mappings at or above {DEMO_ACCEPT_ABOVE} accepted)"
    );
    let pool = service_pool(database).await?;
    let actor = Actor::Operator(operator);
    let options = ImportOptions { accept_above: Some(DEMO_ACCEPT_ABOVE), ..Default::default() };
    let started =
        discovery::start_import(&pool, &actor, account, engagement, &uploads_dir(data_dir), &file, &options).await?;
    run_to_the_end(database, operator, started.discovery_flow_id).await?;
    print_summary(&discovery::flow_summary(&pool, &actor, account, None, started.discovery_flow_id).await?);

    let workbook = data_dir.join("demo").join("RVTools_export_all.xlsx");
    modernize::examples::write_rvtools_workbook(&workbook)
        .map_err(|source| DiscoveryError::Upload { path: workbook.clone(), source })?;
    println!(
        "\n== discovery: an RVTools export (vInfo with vHost, vDisk, vPartition and vNetwork; \
         modernize::examples) into the same engagement (mappings at or above {RVTOOLS_ACCEPT_ABOVE} accepted)"
    );
    let options = ImportOptions { accept_above: Some(RVTOOLS_ACCEPT_ABOVE), ..Default::default() };
    let started =
        discovery::start_import(&pool, &actor, account, engagement, &uploads_dir(data_dir), &workbook, &options)
            .await?;
    run_to_the_end(database, operator, started.discovery_flow_id).await?;
    print_summary(&discovery::flow_summary(&pool, &actor, account, None, started.discovery_flow_id).await?);
    Ok(())
}

pub async fn run_worker(
    args: WorkerArgs,
    database: &Database,
    operator: &OperatorToken,
    data_dir: &Path,
) -> Result<ExitCode, CliError> {
    let epoch = SchemaEpoch::new();
    let pool = database.pool_following(WORKER_CONNECTIONS, &epoch).await?;
    let options = WorkerOptions { lease: std::time::Duration::from_secs(args.lease), ..WorkerOptions::default() };
    let engine = suggester();
    if args.once {
        let ran = pipeline::run_worker(&pool, operator, &engine, &options, true).await?;
        args.housekeeping.run_once(&mut *pool.acquire().await?, operator, data_dir).await;
        println!("ran {ran} job(s); none is due");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{} running; Ctrl-C or SIGTERM stops it (a job cut short is queued again at once)", options.name);
    let housekeeping = args.housekeeping.run_hourly(database, operator, data_dir);
    let epoch_watch = epoch.watch(pool.clone(), crate::serve_cmd::SCHEMA_POLL);
    let released = tokio::select! {
        released = work_until(&pool, operator, &options, crate::serve_cmd::shutdown_signal()) => released?,
        () = housekeeping => 0,
    };
    epoch_watch.abort();
    eprintln!("stopped; {released} job(s) handed back to the queue");
    Ok(ExitCode::SUCCESS)
}

/// Runs jobs until `stop` resolves, then hands back the jobs this worker holds
/// ([`jobs::release_leases`]): the job cut short (its chunks committed so far stay; phases are
/// idempotent) is queued again at once for the next worker instead of when its lease runs out.
/// Returns how many jobs were handed back.
pub async fn work_until(
    pool: &PgPool,
    operator: &OperatorToken,
    options: &WorkerOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<u64, CliError> {
    let engine = suggester();
    tokio::select! {
        result = pipeline::run_worker(pool, operator, &engine, options, false) => { result?; }
        () = stop => {}
    }
    Ok(jobs::release_leases(&mut *pool.acquire().await?, &options.name).await?)
}

/// Runs the flow's jobs in this process until the flow is over, waiting for those another worker
/// holds (never another flow's).
async fn run_to_the_end(database: &Database, operator: &OperatorToken, flow_id: Uuid) -> Result<u64, CliError> {
    let pool = database.pool(WORKER_CONNECTIONS).await?;
    let ran = pipeline::run_flow(&pool, operator, &suggester(), &WorkerOptions::default(), flow_id).await?;
    pool.close().await;
    Ok(ran)
}

pub async fn run_flows(
    command: FlowsCommand,
    database: &Database,
    operator: &OperatorToken,
) -> Result<ExitCode, CliError> {
    let pool = service_pool(database).await?;
    let actor = Actor::Operator(operator);
    match command {
        FlowsCommand::List { client_account, engagement, json } => {
            let page = discovery::list_flows(&pool, &actor, &client_account, engagement.as_deref(), Page::ALL).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page.flows)?);
            } else {
                println!(
                    "{:<36}  {:<10} {:>5}  {:<20}  {:<25}  name",
                    "discovery flow", "status", "%", "phase", "created"
                );
                for f in &page.flows {
                    let phase = f.current_phase.map_or("-", |p| p.as_str());
                    println!(
                        "{:<36}  {:<10} {:>5.0}  {:<20}  {:<25}  {}",
                        f.id,
                        f.status.to_string(),
                        f.progress_percentage,
                        phase,
                        f.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        Inline(f.flow_name.as_deref().unwrap_or(""))
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Show(flow) => report(&pool, &actor, &flow.client_account, flow.flow, flow.json).await,
        FlowsCommand::Review(review) => {
            let mut decisions = Vec::new();
            decisions.extend(review.approve.iter().map(|c| MappingDecision::Approve { column: c.clone() }));
            decisions.extend(review.reject.iter().map(|c| MappingDecision::Reject { column: c.clone() }));
            for change in &review.changes {
                decisions.push(MappingDecision::parse_map(change)?);
            }
            let account = review.flow.client_account.as_str();
            discovery::review_mappings(&pool, &actor, &suggester(), account, None, review.flow.flow, &decisions)
                .await?;
            report(&pool, &actor, account, review.flow.flow, review.flow.json).await
        }
        FlowsCommand::Pause(flow) => {
            discovery::pause_flow(&pool, &actor, &flow.client_account, None, flow.flow).await?;
            println!("paused; `modernize flows resume {}` goes on", flow.flow);
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Resume(args) => {
            let account = args.flow.client_account.as_str();
            discovery::resume_flow(&pool, &actor, account, None, args.flow.flow, args.accept_above).await?;
            go_on(database, &pool, operator, &args).await
        }
        FlowsCommand::Retry(args) => {
            discovery::retry_flow(&pool, &actor, &args.flow.client_account, None, args.flow.flow).await?;
            go_on(database, &pool, operator, &args).await
        }
        FlowsCommand::Cancel(CancelArgs { flow, yes }) => {
            // An unknown flow (or one of another tenant) is reported before anything is asked.
            let view = discovery::get_flow(&pool, &actor, &flow.client_account, None, flow.flow).await?;
            let over = matches!(view.status, FlowStatus::Completed | FlowStatus::Cancelled);
            let action = format!(
                "flows cancel stops discovery flow {} ({}, {:.0}% done) for good: its pending jobs are dropped \
                 and it cannot be resumed or retried",
                view.id, view.status, view.progress_percentage
            );
            // A flow already over has nothing to lose; cancelling it is refused below as before.
            if !over {
                crate::text::confirm(&action, yes)?;
            }
            discovery::cancel_flow(&pool, &actor, &flow.client_account, None, flow.flow).await?;
            println!("cancelled");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// After a resume or retry: run the flow here unless detached, then report.
async fn go_on(
    database: &Database,
    pool: &PgPool,
    operator: &OperatorToken,
    args: &ResumeArgs,
) -> Result<ExitCode, CliError> {
    if args.detach {
        println!("resumed; `modernize worker` runs it");
        return Ok(ExitCode::SUCCESS);
    }
    run_to_the_end(database, operator, args.flow.flow).await?;
    report(pool, &Actor::Operator(operator), &args.flow.client_account, args.flow.flow, args.flow.json).await
}

/// Prints the flow's summary; the exit code says whether it failed.
async fn report(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
    json: bool,
) -> Result<ExitCode, CliError> {
    report_as(pool, actor, account, flow_id, json, |status| status != FlowStatus::Failed).await
}

/// Prints the flow's summary; the exit code is success when `succeeded` says so of its status.
async fn report_as(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
    json: bool,
    succeeded: impl Fn(FlowStatus) -> bool,
) -> Result<ExitCode, CliError> {
    let summary = discovery::flow_summary(pool, actor, account, None, flow_id).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(if succeeded(summary.status) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_rows(rows: &[RowIssues], total: i64) {
    for row in rows {
        let messages: Vec<String> = row
            .issues
            .as_array()
            .into_iter()
            .flatten()
            .map(|issue| {
                let message = issue.get("message").and_then(|m| m.as_str()).unwrap_or("invalid");
                match issue.get("column").and_then(|c| c.as_str()) {
                    Some(column) => format!("{column}: {message}"),
                    None => message.to_owned(),
                }
            })
            .collect();
        // The row a person finds in the file, as the messages and the API name it.
        let row_label = row.file_row.map_or_else(|| format!("data row {}", row.row_number), |r| format!("row {r}"));
        println!("    {row_label}: {}", messages.join("; "));
    }
    let hidden = total - rows.len() as i64;
    if hidden > 0 {
        println!("    … and {hidden} more (`flows show --json` lists the first {})", rows.len());
    }
}

fn print_summary(s: &FlowSummary) {
    let master = s.master_flow_id.map_or_else(|| "-".to_owned(), |id| id.to_string());
    println!("discovery flow {} (master flow {master})", s.discovery_flow_id);
    println!("  status: {}, {:.0}% done", s.status, s.progress_percentage);
    if let Some(message) = &s.error_message {
        let phase = s.error_phase.map_or("-", |p| p.as_str());
        println!("  error in {phase}: {message}");
    }
    if let Some(import) = &s.import {
        println!(
            "  import {}: {} rows, {} valid, {} invalid ({})",
            import.filename, import.total_records, import.valid_records, import.invalid_records, import.status
        );
        print_rows(&import.invalid_rows, i64::from(import.invalid_records));
        if import.rows_with_warnings > 0 {
            println!("  {} valid rows with warnings:", import.rows_with_warnings);
            print_rows(&import.warning_rows, import.rows_with_warnings);
        }
    }
    if !s.mappings.is_empty() {
        println!("  field mappings:");
        for m in &s.mappings {
            let confidence = m.confidence.map_or_else(|| "-".to_owned(), |c| format!("{c:.2}"));
            println!(
                "    {:<32} → {:<26} {:>5}  {:<10} {}",
                Inline(&m.source_field),
                m.target_field.as_deref().unwrap_or("(custom_attributes)"),
                confidence,
                m.match_type,
                m.status
            );
        }
    }
    println!("  phases:");
    for p in &s.phases {
        let duration = p.duration_ms.map_or_else(String::new, |ms| format!("{:.2} s", ms as f64 / 1000.0));
        let figures: Vec<String> =
            p.metrics.iter().filter(|(k, _)| *k != "duration_ms").map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "    {:<22} {:<10} {:>9}  {}",
            p.phase.as_str(),
            format!("{:?}", p.status).to_lowercase(),
            duration,
            figures.join(" ")
        );
    }
    let inv = &s.inventory;
    let join = |m: &std::collections::BTreeMap<String, i64>| {
        m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    };
    println!("  inventory: {} assets ({}); {} dependencies", inv.assets, join(&inv.by_type), inv.dependencies);
    if inv.assets > 0 {
        println!("  6R: {}", join(&inv.by_six_r_strategy));
        for example in &inv.six_r_examples {
            let reasons: Vec<&str> =
                example.rationale.as_array().into_iter().flatten().filter_map(|r| r.as_str()).collect();
            println!("    e.g. {} → {}: {}", Inline(&example.asset), example.strategy, reasons.join("; "));
        }
        let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}"));
        println!(
            "  average completeness {}, quality {} (of 100)",
            pct(inv.average_completeness),
            pct(inv.average_quality)
        );
    }
    if s.status == FlowStatus::Paused {
        println!(
            "  next: review with `modernize flows review {id} --client-account …`, then `modernize flows resume {id} …`",
            id = s.discovery_flow_id
        );
    }
}
