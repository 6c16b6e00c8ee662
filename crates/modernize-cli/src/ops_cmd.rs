//! Operations (issue 17): `modernize status` (the deployment's health) and `modernize
//! maintenance on|off|status`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use modernize::db::Database;
use modernize::db::migrate;
use modernize::ops::{self, DeploymentHealth, Maintenance};
use serde::Serialize;

use crate::cli::CliError;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Refuse writes (503 with Retry-After) on every `serve` and stop workers claiming jobs,
    /// within seconds. Reads go on.
    On {
        /// Why, shown to clients in the 503's detail and by `status`.
        #[arg(long)]
        reason: Option<String>,
        /// Seconds clients are told to wait before retrying a write.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i32).range(1..=3600))]
        retry_after: i32,
    },
    /// Accept writes again; workers resume.
    Off,
    /// Whether maintenance is on.
    Status(StatusArgs),
}

/// What `status --json` prints.
#[derive(Debug, Serialize)]
struct StatusView {
    database: String,
    schema_version: i64,
    latest_schema_version: i64,
    schema_current: bool,
    /// None when the database predates the view (migration 0011 pending).
    health: Option<DeploymentHealth>,
}

/// Prints the deployment's health; exits 1 when the schema is not current or maintenance is on
/// (what `/ready` would refuse), so scripts can test it.
pub async fn run_status(args: StatusArgs, database: &Database) -> Result<ExitCode, CliError> {
    let mut conn = database.connect().await?;
    let schema = migrate::status(&mut conn).await?;
    let health = ops::health(&mut conn).await?;
    let ready = schema.is_current() && !health.as_ref().is_some_and(|h| h.maintenance);
    let view = StatusView {
        database: database.description().to_owned(),
        schema_version: schema.current_version,
        latest_schema_version: schema.latest_version,
        schema_current: schema.is_current(),
        health,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print_status(&view);
    }
    Ok(if ready { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_status(view: &StatusView) {
    println!("database:        {}", view.database);
    let pending = if view.schema_current {
        "current".to_owned()
    } else {
        format!("latest {}: migrations pending", view.latest_schema_version)
    };
    println!("schema:          version {} ({pending})", view.schema_version);
    let Some(h) = &view.health else {
        println!("health:          not available before migration 0011 (run `modernize db upgrade`)");
        return;
    };
    println!("domain tables:   {}", h.table_count);
    println!("active flows:    {}", h.active_flows);
    println!("recent errors:   {} (failed flows and job errors, last 24 h)", h.recent_errors);
    let oldest = h.oldest_queued_job_age_seconds.map_or_else(String::new, |s| format!(", oldest waiting {s:.0} s"));
    println!("jobs:            {} queued, {} running, {} failed{oldest}", h.jobs_queued, h.jobs_running, h.jobs_failed);
    match (&h.last_deployment_id, &h.last_deployment_kind, &h.last_deployment_status, &h.last_deployment_at) {
        (Some(id), Some(kind), Some(status), Some(at)) => println!(
            "last deployment: #{id} {kind} {status} at {at} (schema {})",
            h.last_deployment_schema.unwrap_or_default()
        ),
        _ => println!("last deployment: none recorded"),
    }
    println!(
        "maintenance:     {}",
        describe_maintenance(h.maintenance, h.maintenance_reason.as_deref(), h.maintenance_since)
    );
}

fn describe_maintenance(active: bool, reason: Option<&str>, since: Option<chrono::DateTime<chrono::Utc>>) -> String {
    if !active {
        return "off".into();
    }
    let reason = reason.map(|r| format!(": {r}")).unwrap_or_default();
    let since = since.map(|s| format!(" since {s}")).unwrap_or_default();
    format!("ON{since}{reason}")
}

pub async fn run_maintenance(command: MaintenanceCommand, database: &Database) -> Result<ExitCode, CliError> {
    let mut conn = database.connect().await?;
    let shown = |m: &Maintenance| describe_maintenance(m.active, m.reason.as_deref(), m.started_at);
    match command {
        MaintenanceCommand::On { reason, retry_after } => {
            let m = ops::set_maintenance(&mut conn, true, reason.as_deref(), retry_after).await?;
            println!("maintenance {} (servers refuse writes and workers stop claiming jobs within seconds)", shown(&m));
        }
        MaintenanceCommand::Off => {
            let m = ops::set_maintenance(&mut conn, false, None, 60).await?;
            println!("maintenance {}", shown(&m));
        }
        MaintenanceCommand::Status(args) => {
            let m = ops::maintenance(&mut conn).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                match &m {
                    Some(m) => println!("maintenance {}", shown(m)),
                    None => println!("maintenance off (the database predates the flag: migration 0011 pending)"),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
