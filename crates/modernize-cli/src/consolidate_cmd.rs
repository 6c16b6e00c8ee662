//! `modernize legacy seed`, `modernize consolidate`, `modernize restore` and the consolidation part
//! of `modernize demo` (crate modernize-consolidation does the work).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use modernize::db::local::LocalCluster;
use modernize::db::{ConnectError, Database};
use modernize_consolidation::backup::{self, BackupPlan};
use modernize_consolidation::legacy::{self, SeedError, SeedOptions};
use modernize_consolidation::{BackupError, ConsolidationError, Options, PgTools, Progress};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tracing::log::LevelFilter;

#[derive(Debug, Subcommand)]
pub enum LegacyCommand {
    /// Build a legacy (pre-consolidation) database with deterministic multi-tenant data and every
    /// hard case the consolidation must handle.
    Seed(SeedArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Real client accounts (a mock one is added).
    #[arg(long, default_value_t = 3)]
    tenants: u32,
    /// Rows across the four v3 tables.
    #[arg(long, default_value_t = 10_000)]
    rows: u64,
    /// Same seed, same database.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Drop the schemas migration, migration_legacy and modernize first (destroys their data:
    /// needs --yes).
    #[arg(long)]
    replace: bool,
    /// Confirm --replace (it destroys those schemas' data); without it the command asks on a
    /// terminal and refuses elsewhere.
    #[arg(long)]
    yes: bool,
}

#[derive(Debug, Args)]
pub struct ConsolidateArgs {
    /// Print the plan and exact counts (migrate runs in a rolled-back transaction); change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Drop the objects outside the legacy tables that depend on them (views reading them, foreign
    /// keys of other schemas' tables…) with them; each is named in the report. Without it,
    /// consolidate lists them and refuses.
    #[arg(long)]
    drop_dependent_objects: bool,
    /// Move the legacy rows that break a rule of the consolidated schema (enum word, range, NOT
    /// NULL, duplicate key others depend on, dangling or cross-tenant reference), and the rows that
    /// depend on them, into the archive with the rule as the reason; consolidate the rest.
    #[arg(long)]
    quarantine: bool,
    /// Where the verified backup goes (a new directory, made 0700, files 0600) [default:
    /// <data-dir>/backups/<database>-<unix time>].
    #[arg(long)]
    backup_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup directory written by `modernize consolidate`.
    backup: PathBuf,
    /// Restore even a backup of another database, or over data newer than the backup (which is
    /// then lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Consolidation(#[from] ConsolidationError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Prompt(#[from] crate::text::PromptError),
}

/// A connection whose long statements are expected: sqlx's slow-statement warning would print
/// every bulk statement in full.
async fn connect(database: &Database) -> Result<PgConnection, CommandError> {
    let options = database.options().clone().log_slow_statements(LevelFilter::Off, Duration::ZERO);
    PgConnection::connect_with(&options)
        .await
        .map_err(|source| ConnectError::Connect { target: database.description().to_owned(), source }.into())
}

/// pg_dump and pg_restore need the password, which the connection options do not give back.
fn tools(database: &Database, url: Option<&str>) -> PgTools {
    PgTools::new(database.options().clone(), url.and_then(backup::url_password))
}

pub async fn run_legacy(
    command: LegacyCommand,
    url: Option<&str>,
    cluster: &LocalCluster,
) -> Result<ExitCode, CommandError> {
    let LegacyCommand::Seed(args) = command;
    let database = Database::resolve(url, cluster).await?;
    if args.replace {
        let action = format!(
            "legacy seed --replace drops the schemas migration, migration_legacy and modernize of {} with all their data",
            database.description()
        );
        crate::text::confirm(&action, args.yes)?;
    }
    let mut conn = connect(&database).await?;
    let options = SeedOptions { tenants: args.tenants, v3_rows: args.rows, seed: args.seed, replace: args.replace };
    let started = std::time::Instant::now();
    let summary = legacy::seed(&mut conn, options).await?;
    println!("seeded legacy database {} in {} ms", database.description(), started.elapsed().as_millis());
    for (table, rows) in summary.tables.iter().filter(|(_, rows)| *rows > 0) {
        println!("  {table:<32} {rows:>10}");
    }
    println!("  {:<32} {:>10}", "total", summary.total_rows);
    Ok(ExitCode::SUCCESS)
}

pub async fn run_consolidate(
    args: ConsolidateArgs,
    url: Option<&str>,
    cluster: &LocalCluster,
) -> Result<ExitCode, CommandError> {
    let database = Database::resolve(url, cluster).await?;
    let dir = match args.backup_dir {
        Some(dir) => dir,
        None => {
            // Client data stays in the private data directory, never in the current directory.
            let backups = cluster.data_dir().join("backups");
            backup::private_dir(&backups)?;
            backups.join(format!("{}-{}", database.name(), unix_time()))
        }
    };
    let options = Options {
        dry_run: args.dry_run,
        backup: (!args.dry_run).then(|| BackupPlan { tools: tools(&database, url), dir }),
        drop_dependent_objects: args.drop_dependent_objects,
        quarantine: args.quarantine,
    };
    let mut conn = connect(&database).await?;
    let progress = if args.json { Progress::hidden() } else { Progress::stderr() };
    let outcome = modernize_consolidation::consolidate(&mut conn, &options, &progress).await;
    match outcome {
        Ok(report) if args.json => println!("{}", serde_json::to_string_pretty(&report)?),
        Ok(report) => print!("{report}"),
        Err(ConsolidationError::VerificationFailed(verification)) => {
            eprintln!(
                "verification failed: {} legacy rows are not accounted for; the consolidation was rolled back \
                 and the database is as it was",
                verification.unaccounted()
            );
            for b in verification.buckets.iter().filter(|b| !b.differences.is_empty()) {
                eprintln!("  legacy table {} ({} unaccounted):", b.source, b.unaccounted + b.dropped_values_missing);
                for d in &b.differences {
                    eprintln!("    {}", d.describe());
                }
            }
            for t in verification.targets.iter().filter(|t| t.without_source > 0) {
                eprintln!("  table {}: {} rows without a legacy source", t.table, t.without_source);
            }
            if args.json {
                let failure = serde_json::json!({ "error": "verification_failed", "verification": verification });
                println!("{}", serde_json::to_string_pretty(&failure)?);
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e @ (ConsolidationError::Refused(_) | ConsolidationError::DependentObjects(_))) if args.json => {
            // The same as the message, for machines: every refusal by table, column, rule and key.
            let failure = match &e {
                ConsolidationError::Refused(refusals) => {
                    serde_json::json!({ "error": "refused", "refusals": refusals })
                }
                ConsolidationError::DependentObjects(objects) => {
                    serde_json::json!({ "error": "dependent_objects", "dependent_objects": objects })
                }
                _ => serde_json::Value::Null,
            };
            println!("{}", serde_json::to_string_pretty(&failure)?);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_restore(
    args: RestoreArgs,
    url: Option<&str>,
    cluster: &LocalCluster,
) -> Result<ExitCode, CommandError> {
    let database = Database::resolve(url, cluster).await?;
    let manifest = backup::restore(&tools(&database, url), &args.backup, args.force).await?;
    println!(
        "restored {} from {} (backup of {} taken {}); {} tables verified against the manifest",
        database.description(),
        args.backup.display(),
        manifest.database,
        manifest.created_at,
        manifest.tables.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Demo: seed a small legacy database next to the main one, consolidate it (with a verified
/// backup), print the report.
pub async fn demo(main: &Database, url: Option<&str>) -> Result<(), CommandError> {
    let database = Database::from_options(main.options().clone().database("modernize_legacy_demo"));
    database.create_if_missing().await?;
    println!("\n== consolidating a legacy database: {}", database.description());
    let mut conn = connect(&database).await?;
    let seeded = legacy::seed(&mut conn, SeedOptions { tenants: 3, v3_rows: 5_000, seed: 1, replace: true }).await?;
    println!("seeded {} legacy rows (v3, old-shape, deprecated, is_mock and every hard case)", seeded.total_rows);
    let dir = std::env::temp_dir().join(format!("modernize-legacy-demo-backup-{}", std::process::id()));
    let options =
        Options { backup: Some(BackupPlan { tools: tools(&database, url), dir: dir.clone() }), ..Options::default() };
    let report = modernize_consolidation::consolidate(&mut conn, &options, &Progress::stderr()).await;
    // The backup proved itself; the demo does not need to keep it.
    let _ = tokio::fs::remove_dir_all(&dir).await;
    print!("{}", report?);
    println!("(the demo's backup directory, verified above, is deleted: `modernize consolidate` keeps its own)");
    Ok(())
}

fn unix_time() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    now.to_string()
}
