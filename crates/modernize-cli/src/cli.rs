//! The `modernize` command line: one binary, a subcommand per job.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use modernize::db::local::{ClusterError, LocalCluster};
use modernize::db::migrate::{self, MigrateError, Step};
use modernize::db::validate::{self, ValidationReport};
use modernize::db::{ConnectError, Database};
use modernize::fixtures;
use modernize::models::{Asset, DiscoveryFlow};
use modernize::repo::table;
use modernize::service::Actor;
use modernize::service::UserRef;
use modernize::service::engagements;
use modernize::tenancy::{OperatorToken, TenantCtx, TenantTx};
use modernize_api::telemetry;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Parser)]
#[command(name = "modernize", version, about = "Consolidate, discover and plan a client's IT estate for the cloud")]
pub struct Cli {
    /// PostgreSQL server and database to work on (created if missing). Without it, modernize
    /// runs a private PostgreSQL cluster under --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,

    /// Where the private cluster lives [default: /var/lib/modernize for root,
    /// ~/.local/share/modernize otherwise].
    #[arg(long, env = "MODERNIZE_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,

    /// Log format on stderr (json: one object per line, with the request, tenant, flow and job
    /// ids of its spans); the level comes from MODERNIZE_LOG (e.g. `info`, `modernize=debug`).
    #[arg(long, env = "MODERNIZE_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Schema migrations and validation.
    #[command(subcommand)]
    Db(DbCommand),
    /// The private PostgreSQL cluster used when no --database-url is given.
    #[command(subcommand)]
    Local(LocalCommand),
    /// Client accounts (tenants).
    #[command(subcommand)]
    Accounts(crate::tenancy_cmd::AccountsCommand),
    /// Engagements of a client account.
    #[command(subcommand)]
    Engagements(crate::tenancy_cmd::EngagementsCommand),
    /// Users, their memberships and roles.
    #[command(subcommand)]
    Users(crate::tenancy_cmd::UsersCommand),
    /// The legacy (pre-consolidation) database.
    #[command(subcommand)]
    Legacy(crate::consolidate_cmd::LegacyCommand),
    /// Consolidate a legacy database into the 43-table schema, proving zero data loss.
    Consolidate(crate::consolidate_cmd::ConsolidateArgs),
    /// Bring back the pre-consolidation database from a backup directory, verified.
    Restore(crate::consolidate_cmd::RestoreArgs),
    /// Import an inventory file through a discovery flow: mapping, cleansing, inventory,
    /// dependencies and 6R, then print a summary.
    Import(crate::discovery_cmd::ImportArgs),
    /// The field-mapping engine: suggest mappings for a file, list or forget learned ones.
    #[command(subcommand)]
    Map(crate::mapping_cmd::MapCommand),
    /// Run queued discovery jobs.
    Worker(crate::discovery_cmd::WorkerArgs),
    /// Discovery flows: list, show, review mappings, pause, resume, retry, cancel.
    #[command(subcommand)]
    Flows(crate::discovery_cmd::FlowsCommand),
    /// Serve the REST API (and run job workers in the same process).
    Serve(crate::serve_cmd::ServeArgs),
    /// The deployment's health: schema, tables, active flows, recent errors, job queue, last
    /// deployment, maintenance (exit 1 when not ready to serve).
    Status(crate::ops_cmd::StatusArgs),
    /// Maintenance mode: writes refused with 503 on every `serve`, workers idle; reads go on.
    #[command(subcommand)]
    Maintenance(crate::ops_cmd::MaintenanceCommand),
    /// Deploy this binary's schema: pre-flight, verified backup, maintenance only if a pending
    /// migration needs it, migrations, validate, smoke test, recorded in modernize.deployments.
    Deploy(crate::deploy_cmd::DeployArgs),
    /// Undo a deployment: lossless down-migrations, else its backup restored; then validate and
    /// smoke test. Destructive: asks for confirmation (or --yes).
    Rollback(crate::deploy_cmd::RollbackArgs),
    /// Print the REST API's OpenAPI 3.1 document (what `serve` answers at /api/v1/openapi.json).
    Openapi,
    /// The whole story on the local database: set up, migrate, validate, report.
    Demo,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Apply pending migrations.
    Upgrade {
        /// Stop at this version instead of the latest.
        #[arg(long)]
        to: Option<i64>,
    },
    /// Reverse migrations down to a version (0 removes the whole schema and its data).
    Downgrade {
        #[arg(long)]
        to: i64,
        /// Confirm: reversing migrations drops what they created, data included. Without it the
        /// command asks on a terminal and refuses elsewhere.
        #[arg(long)]
        yes: bool,
    },
    /// Show which migrations are applied.
    Status(JsonFlag),
    /// Check the database against the consolidated 43-table schema; exit 1 if any check fails.
    Validate(JsonFlag),
}

#[derive(Debug, Subcommand)]
enum LocalCommand {
    /// Initialise (first time) and start the private cluster.
    Start,
    /// Stop the private cluster; its data stays in the data directory.
    Stop,
    /// Where the private cluster lives and whether it runs.
    Status(JsonFlag),
}

#[derive(Debug, Args)]
struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    #[error("database error: {}", modernize::db::database_message(.0))]
    Database(#[from] sqlx::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Repo(#[from] modernize::repo::RepoError),
    #[error(transparent)]
    Consolidation(#[from] crate::consolidate_cmd::CommandError),
    #[error(transparent)]
    Discovery(#[from] modernize::discovery::DiscoveryError),
    #[error(transparent)]
    Service(#[from] modernize::service::ServiceError),
    #[error(transparent)]
    Prompt(#[from] crate::text::PromptError),
    #[error(transparent)]
    Ops(#[from] modernize::ops::OpsError),
    #[error(transparent)]
    Deploy(#[from] crate::deploy_cmd::DeployCommandError),
    #[error("{what}: {source}")]
    Serve {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub fn init_tracing(cli: &Cli) {
    // sqlx warns about every statement over a second: bulk phases are meant to take longer.
    let filter = EnvFilter::try_from_env("MODERNIZE_LOG").unwrap_or_else(|_| EnvFilter::new("warn,sqlx::query=error"));
    let format = match cli.log_format {
        LogFormat::Text => telemetry::LogFormat::Text,
        LogFormat::Json => telemetry::LogFormat::Json,
    };
    if let Err(error) = telemetry::log_subscriber(format, filter, std::io::stderr).try_init() {
        eprintln!("warning: logging is not set up: {error}");
    }
}

pub async fn run(cli: Cli, operator: &OperatorToken) -> Result<ExitCode, CliError> {
    let cluster = LocalCluster::new(cli.data_dir.clone().unwrap_or_else(LocalCluster::default_data_dir));
    let url = cli.database_url.as_deref();
    match cli.command {
        Command::Db(command) => {
            let database = Database::resolve(url, &cluster).await?;
            run_db(command, &database).await
        }
        Command::Local(command) => run_local(command, &cluster).await,
        Command::Legacy(command) => Ok(crate::consolidate_cmd::run_legacy(command, url, &cluster).await?),
        Command::Consolidate(args) => Ok(crate::consolidate_cmd::run_consolidate(args, url, &cluster).await?),
        Command::Restore(args) => Ok(crate::consolidate_cmd::run_restore(args, url, &cluster).await?),
        Command::Accounts(command) => {
            crate::tenancy_cmd::run_accounts(command, &Database::resolve(url, &cluster).await?, operator).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Engagements(command) => {
            crate::tenancy_cmd::run_engagements(command, &Database::resolve(url, &cluster).await?, operator).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Users(command) => {
            crate::tenancy_cmd::run_users(command, &Database::resolve(url, &cluster).await?, operator).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            crate::discovery_cmd::run_import(
                args,
                &Database::resolve(url, &cluster).await?,
                cluster.data_dir(),
                operator,
            )
            .await
        }
        Command::Map(command) => {
            crate::mapping_cmd::run_map(command, url, &cluster, operator).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker(args) => {
            crate::discovery_cmd::run_worker(
                args,
                &Database::resolve(url, &cluster).await?,
                operator,
                cluster.data_dir(),
            )
            .await
        }
        Command::Flows(command) => {
            crate::discovery_cmd::run_flows(command, &Database::resolve(url, &cluster).await?, operator).await
        }
        Command::Serve(args) => {
            crate::serve_cmd::run_serve(args, &Database::resolve(url, &cluster).await?, cluster.data_dir(), operator)
                .await
        }
        Command::Status(args) => crate::ops_cmd::run_status(args, &Database::resolve(url, &cluster).await?).await,
        Command::Maintenance(command) => {
            crate::ops_cmd::run_maintenance(command, &Database::resolve(url, &cluster).await?).await
        }
        Command::Deploy(args) => {
            let database = Database::resolve(url, &cluster).await?;
            Ok(crate::deploy_cmd::run_deploy(args, &database, url, cluster.data_dir(), operator).await?)
        }
        Command::Rollback(args) => {
            let database = Database::resolve(url, &cluster).await?;
            Ok(crate::deploy_cmd::run_rollback(args, &database, url, cluster.data_dir(), operator).await?)
        }
        Command::Openapi => crate::serve_cmd::run_openapi(),
        Command::Demo => demo(url, &cluster, operator).await,
    }
}

async fn run_db(command: DbCommand, database: &Database) -> Result<ExitCode, CliError> {
    let mut conn = database.connect().await?;
    match command {
        DbCommand::Upgrade { to } => {
            let steps = migrate::upgrade(&mut conn, to).await?;
            print_steps(&steps, "up to date");
        }
        DbCommand::Downgrade { to, yes } => {
            let status = migrate::status(&mut conn).await?;
            let reverted: Vec<String> = status
                .migrations
                .iter()
                .rev()
                .filter(|m| m.version > to && m.applied_at.is_some())
                .map(|m| format!("{:04} {}", m.version, m.name))
                .collect();
            if !reverted.is_empty() {
                let action = format!(
                    "db downgrade --to {to} reverts {} on {}, dropping what they created and the data in it",
                    reverted.join(", "),
                    database.description()
                );
                crate::text::confirm(&action, yes)?;
            }
            let steps = migrate::downgrade(&mut conn, to).await?;
            print_steps(&steps, "nothing to reverse");
        }
        DbCommand::Status(flags) => {
            let status = migrate::status(&mut conn).await?;
            if flags.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("database: {}", database.description());
                println!("version:  {} (latest {})", status.current_version, status.latest_version);
                for m in &status.migrations {
                    let state = m.applied_at.map_or_else(|| "pending".to_owned(), |at| format!("applied {at}"));
                    println!("  {:04} {:<24} {state}", m.version, m.name);
                }
                println!("{}", if status.is_current() { "schema is current" } else { "migrations pending" });
            }
        }
        DbCommand::Validate(flags) => {
            let report = validate::validate(&mut conn).await?;
            if flags.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            return Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_local(command: LocalCommand, cluster: &LocalCluster) -> Result<ExitCode, CliError> {
    match command {
        LocalCommand::Start => {
            // Started, and its database created, so that the URL below works at once.
            Database::resolve(None, cluster).await?;
            println!("private PostgreSQL running; data in {}", cluster.data_dir().display());
            println!("connect with: psql '{}'", cluster.database_url());
        }
        LocalCommand::Stop => {
            let was_running = cluster.stop().await?;
            println!("{}", if was_running { "stopped" } else { "was not running" });
        }
        LocalCommand::Status(flags) => {
            let status = cluster.status().await?;
            if flags.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("data directory: {}", status.data_dir.display());
                println!("initialised:    {}", status.initialised);
                println!("running:        {}", status.running);
                println!("server log:     {}", status.log_file.display());
                println!("database URL:   {}", status.database_url);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(url: Option<&str>, cluster: &LocalCluster, operator: &OperatorToken) -> Result<ExitCode, CliError> {
    let database = Database::resolve(url, cluster).await?;
    println!("== database: {}", database.description());
    let mut conn = database.connect().await?;
    println!("== migrating");
    let steps = migrate::upgrade(&mut conn, None).await?;
    print_steps(&steps, "already up to date");
    println!("== validating the consolidated schema");
    let report = validate::validate(&mut conn).await?;
    print_report(&report);
    println!(
        "\n== demo tenants (built once; their account and engagement ids are the same on every machine; they replace is_mock data)"
    );
    let mut importer = None;
    let mut earlier_flows = 0;
    for tenant in [fixtures::ACME, fixtures::GLOBEX] {
        let ids = fixtures::demo_tenant(&mut conn, operator, tenant).await?;
        importer.get_or_insert((ids.client_account_id, ids.engagement_id));
        let ctx = TenantCtx::for_operator(&mut conn, operator, ids.client_account_id, Some(ids.engagement_id)).await?;
        let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
        // The tenant's whole content, as its users will see it (earlier demo runs' imports included).
        let assets = table::count::<Asset>(&mut tx).await?;
        let flows = table::count::<DiscoveryFlow>(&mut tx).await?;
        tx.commit().await?;
        // The fixture makes one flow per tenant; more are imports of earlier demo runs.
        earlier_flows += flows.saturating_sub(1);
        println!(
            "{:<22} client account {}  engagement cloud-2027 ({})  master flow {}  {} discovery flow(s), {} assets",
            tenant.slug, ids.client_account_id, ids.engagement_id, ids.master_flow_id, flows, assets
        );
    }
    // The demo's analyst and viewer reach its engagements (admins reach every one), through the
    // service a consultant's admin would use; granting again changes nothing.
    let pool = database.pool(1).await?;
    let operator_actor = Actor::Operator(operator);
    for tenant in [fixtures::ACME, fixtures::GLOBEX] {
        for who in ["analyst", "viewer"] {
            let member = UserRef::Email(tenant.email(who));
            engagements::grant_access(&pool, &operator_actor, tenant.slug, "cloud-2027", &member, None).await?;
        }
    }
    pool.close().await;
    if earlier_flows > 0 {
        let fresh = if url.is_none() {
            format!(": for a fresh one, `modernize local stop` and remove {}", cluster.data_dir().display())
        } else {
            String::new()
        };
        println!(
            "(this database keeps {earlier_flows} discovery flow(s) of earlier demo runs: the imports below update \
             their assets rather than create them{fresh})"
        );
    }
    println!(
        "demo users: admin@, analyst@ and viewer@ {}, password {:?}",
        [fixtures::ACME, fixtures::GLOBEX].map(|t| format!("{}.example", t.slug)).join(" or "),
        fixtures::DEMO_PASSWORD
    );
    crate::consolidate_cmd::demo(&database, url).await?;
    if let Some((client_account_id, engagement_id)) = importer {
        let (account, engagement) = (client_account_id.to_string(), engagement_id.to_string());
        crate::discovery_cmd::demo(&database, &account, &engagement, cluster.data_dir(), operator).await?;
    }
    if url.is_none() {
        println!("\nThe private cluster keeps running; stop it with `modernize local stop`.");
    }
    Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn print_steps(steps: &[Step], when_empty: &str) {
    if steps.is_empty() {
        println!("{when_empty}");
    }
    for step in steps {
        let verb = match step.direction {
            migrate::Direction::Up => "applied",
            migrate::Direction::Down => "reverted",
        };
        println!("{verb} {:04} {} ({} ms)", step.version, step.name, step.execution_ms);
    }
}

fn print_report(report: &ValidationReport) {
    println!("{:<34} {:>7} {:>7} {:>12}", "table", "columns", "indexes", "foreign keys");
    for table in &report.tables {
        println!("{:<34} {:>7} {:>7} {:>12}", table.table, table.columns, table.indexes, table.foreign_keys);
    }
    println!("total tables: {}\n", report.total_tables);
    for check in &report.checks {
        println!("[{}] {}", if check.passed { "pass" } else { "FAIL" }, check.description);
        for failure in &check.failures {
            println!("       - {failure}");
        }
    }
    println!("\n{}", if report.passed { "schema valid" } else { "schema INVALID" });
}
