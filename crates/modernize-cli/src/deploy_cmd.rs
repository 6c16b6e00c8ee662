//! `modernize deploy` and `modernize rollback` (issue 17): thin over `modernize::deploy`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use modernize::backup::{self, PgTools};
use modernize::db::Database;
use modernize::db::migrate::MIGRATIONS;
use modernize::deploy::{self, DeployError, DeployPlan, Outcome, RollbackPlan, Settings};
use modernize::tenancy::OperatorToken;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where deploy backups go, one directory per deployment (private: 0700, files 0600)
    /// [default: <data-dir>/backups].
    #[arg(long, env = "MODERNIZE_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
    /// How many deploy backups to keep: older ones are deleted once a new one is verified.
    #[arg(long, env = "MODERNIZE_KEEP_BACKUPS", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    keep_backups: u16,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Print what deploy would do (pre-flight included) and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    backups: BackupArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The deployment (id in `modernize status` / modernize.deployments) to undo, with every
    /// later one [default: the newest deployment not rolled back].
    #[arg(long, value_name = "DEPLOYMENT")]
    to: Option<i64>,
    /// Confirm: a rollback reverts migrations or restores a backup (losing writes since it).
    /// Without it the command asks on a terminal and refuses elsewhere.
    #[arg(long)]
    yes: bool,
    /// Print what rollback would do and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DeployCommandError {
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error(transparent)]
    Prompt(#[from] crate::text::PromptError),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn settings(database: &Database, url: Option<&str>, backup_root: PathBuf, keep_backups: usize) -> Settings<'static> {
    Settings {
        // pg_dump and pg_restore need the password, which the connection options do not give back.
        tools: PgTools::new(database.options().clone(), url.and_then(backup::url_password)),
        backup_root,
        keep_backups,
        migrations: &MIGRATIONS,
    }
}

#[derive(Serialize)]
struct Report<'a, P: Serialize> {
    plan: &'a P,
    dry_run: bool,
    outcome: Option<&'a Outcome>,
}

pub async fn run_deploy(
    args: DeployArgs,
    database: &Database,
    url: Option<&str>,
    data_dir: &std::path::Path,
    operator: &OperatorToken,
) -> Result<ExitCode, DeployCommandError> {
    // Client data stays in the private data directory, never in the current directory.
    let root = args.backups.backup_dir.unwrap_or_else(|| data_dir.join("backups"));
    let settings = settings(database, url, root, usize::from(args.backups.keep_backups));
    let plan = deploy::plan_deploy(database, &settings).await?;
    if !args.json {
        print_deploy_plan(&plan, args.dry_run);
    }
    let outcome = if args.dry_run { None } else { Some(deploy::deploy(database, operator, &settings, &plan).await?) };
    finish(args.json, &plan, outcome.as_ref())
}

pub async fn run_rollback(
    args: RollbackArgs,
    database: &Database,
    url: Option<&str>,
    data_dir: &std::path::Path,
    operator: &OperatorToken,
) -> Result<ExitCode, DeployCommandError> {
    // Rollback writes no backup: the root only matters for the settings' shape.
    let settings = settings(database, url, data_dir.join("backups"), 1);
    let plan = deploy::plan_rollback(database, &settings, args.to).await?;
    if !args.json {
        print_rollback_plan(&plan, args.dry_run);
    }
    if args.dry_run {
        return finish(args.json, &plan, None);
    }
    crate::text::confirm(&plan.summary, args.yes)?;
    let outcome = deploy::rollback(database, operator, &settings, &plan).await?;
    finish(args.json, &plan, Some(&outcome))
}

fn finish<P: Serialize>(json: bool, plan: &P, outcome: Option<&Outcome>) -> Result<ExitCode, DeployCommandError> {
    if json {
        let report = Report { plan, dry_run: outcome.is_none(), outcome };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(outcome) = outcome {
        print_outcome(outcome);
    }
    Ok(if outcome.is_none_or(|o| o.succeeded) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_deploy_plan(plan: &DeployPlan, dry_run: bool) {
    println!(
        "deploy of modernize {} to {}: schema {} -> {}",
        plan.tool_version, plan.database, plan.schema_from, plan.schema_to
    );
    println!(
        "pre-flight: database reachable, {} bytes; {} bytes free for the backup; {} migrations pending",
        plan.database_bytes,
        plan.free_bytes,
        plan.pending.len()
    );
    for (n, step) in plan.steps.iter().enumerate() {
        println!("  {}. {step}", n + 1);
    }
    if dry_run {
        println!("dry run: nothing was changed");
    }
}

fn print_rollback_plan(plan: &RollbackPlan, dry_run: bool) {
    println!("{}", plan.summary);
    for m in &plan.revert {
        let loss = if m.lossless_down { "lossless down" } else { "down loses data" };
        let window = if m.online_safe_down { "online-safe" } else { "needs maintenance" };
        println!("  {:04} {} ({loss}, {window})", m.version, m.name);
    }
    if plan.maintenance_needed {
        println!("maintenance ON while it runs: writes answer 503, workers stop claiming jobs");
        println!("then: db validate, smoke test, maintenance off, recorded as a rollback");
    } else {
        println!("no maintenance window: every down file to run is online-safe");
        println!("then: db validate, smoke test, recorded as a rollback");
    }
    if dry_run {
        println!("dry run: nothing was changed");
    }
}

fn print_outcome(outcome: &Outcome) {
    let what = match outcome.kind {
        deploy::Kind::Deploy => "deployment",
        deploy::Kind::Rollback => "rollback",
    };
    let id = outcome
        .deployment_id
        .map_or_else(|| "(not recorded: no modernize.deployments)".to_owned(), |id| format!("#{id}"));
    let result = if outcome.succeeded { "succeeded" } else { "FAILED" };
    println!("{what} {id} {result}: schema {} -> {}", outcome.schema_from, outcome.schema_to);
    for step in &outcome.steps {
        println!("  {:<16} {:>8} ms  {}", step.name, step.ms, step.detail);
    }
    let window = if outcome.maintenance_ms > 0 {
        format!("writes refused for {} ms", outcome.maintenance_ms)
    } else {
        "no maintenance window".to_owned()
    };
    let left = if outcome.maintenance_left_on { "; maintenance is still ON" } else { "" };
    println!("{window}{left}");
    if let Some(dir) = &outcome.backup_dir {
        println!("backup: {}", dir.display());
    }
    if let (Some(step), Some(error)) = (outcome.failed_step, &outcome.error) {
        println!("failed at {step}: {error}");
    }
    if let Some(next) = &outcome.next {
        println!("next: {next}");
    }
}
