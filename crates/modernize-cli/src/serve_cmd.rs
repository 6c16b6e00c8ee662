//! `modernize serve`: the REST API, with the job workers in the same process; and
//! `modernize openapi`: the API's OpenAPI document.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use modernize::db::Database;
use modernize::db::epoch::SchemaEpoch;
use modernize::discovery::pipeline::WorkerOptions;
use modernize::tenancy::OperatorToken;
use modernize_api::{AppState, Config, telemetry};
use tokio::sync::watch;

use crate::cli::CliError;
use crate::discovery_cmd::HousekeepingArgs;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "MODERNIZE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Job workers run in this process (0: none; run `modernize worker` separately).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    workers: u16,
    /// Largest inventory upload accepted, in bytes (larger ones are refused with 413).
    #[arg(long, value_name = "BYTES", default_value_t = Config::DEFAULT_MAX_UPLOAD_BYTES)]
    max_upload_bytes: u64,
    /// Longest a request may take before its response starts, in seconds (408 after).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Connections to PostgreSQL the API may hold (the workers hold their own).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    max_connections: u32,
    /// With in-process workers, the housekeeping `modernize worker` does, at start and hourly.
    #[command(flatten)]
    housekeeping: HousekeepingArgs,
    /// Also serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464). That listener
    /// has no authentication: bind it to loopback or a monitoring network only. Off without it.
    #[arg(long, env = "MODERNIZE_METRICS_ADDR", value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
}

/// How often `serve` and `worker` look for a schema change under them (two catalog lookups).
pub const SCHEMA_POLL: Duration = Duration::from_secs(2);

/// Connections a worker holds: one for the job, one holding its flow's lock, one for the lease's
/// heartbeat (`pipeline::run_worker`).
const WORKER_CONNECTIONS: u32 = 3;

pub async fn run_serve(
    args: ServeArgs,
    database: &Database,
    data_dir: &Path,
    operator: &OperatorToken,
) -> Result<ExitCode, CliError> {
    // Both pools replace their connections after a deploy, rollback or restore changes the schema.
    let epoch = SchemaEpoch::new();
    let pool = database.pool_following(args.max_connections, &epoch).await?;
    let epoch_watch = epoch.watch(pool.clone(), SCHEMA_POLL);
    let mut config = Config::new(crate::discovery_cmd::uploads_dir(data_dir));
    config.max_upload_bytes = args.max_upload_bytes;
    config.request_timeout = Duration::from_secs(args.request_timeout);
    let state = AppState::new(pool, config).with_suggester(std::sync::Arc::new(crate::discovery_cmd::suggester()));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::Serve { what: format!("cannot listen on {}", args.listen), source })?;
    let metrics_listener = match args.metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| CliError::Serve { what: format!("cannot listen on {addr} for metrics"), source })?,
        ),
        None => None,
    };
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests under way, handing back job leases");
        let _ = stop.send(true);
    });
    // The workers act as the operator (jobs name their tenant); the API's state never holds the
    // capability, so no request can act as one.
    let mut workers = Vec::new();
    if args.workers > 0 {
        let worker_pool = database.pool_following(u32::from(args.workers) * WORKER_CONNECTIONS, &epoch).await?;
        state.metrics.watch_pool("workers", worker_pool.clone());
        for n in 0..args.workers {
            workers.push(run_worker(worker_pool.clone(), operator, n, stopped.clone()));
        }
    }
    eprintln!(
        "serving the API on http://{} (reference at {}), {} in-process worker(s); Ctrl-C or SIGTERM stops",
        args.listen,
        modernize_api::REFERENCE_PATH,
        args.workers
    );
    if let Some(addr) = args.metrics_addr {
        eprintln!("serving Prometheus metrics on http://{addr}{}", telemetry::METRICS_PATH);
    }
    let until = |mut stopped: watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let metrics = async {
        match metrics_listener {
            Some(listener) => telemetry::serve_metrics(listener, state.clone(), until(stopped.clone())).await,
            None => Ok(()),
        }
    };
    let server = modernize_api::serve(listener, state.clone(), until(stopped.clone()));
    let housekeeping = async {
        if args.workers > 0 {
            tokio::select! {
                () = args.housekeeping.run_hourly(database, operator, data_dir) => {}
                () = until(stopped.clone()) => {}
            }
        }
    };
    let (served, metrics_served, worked, ()) =
        tokio::join!(server, metrics, futures_util::future::join_all(workers), housekeeping);
    epoch_watch.abort();
    for error in worked.into_iter().filter_map(Result::err) {
        tracing::error!(%error, "worker failed");
    }
    served.map_err(|source| CliError::Serve { what: "the server stopped".into(), source })?;
    metrics_served.map_err(|source| CliError::Serve { what: "the metrics listener stopped".into(), source })?;
    Ok(ExitCode::SUCCESS)
}

/// One in-process worker until the stop signal (see [`crate::discovery_cmd::work_until`]).
async fn run_worker(
    pool: sqlx::PgPool,
    operator: &OperatorToken,
    n: u16,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), CliError> {
    let options = WorkerOptions { name: format!("serve-{}-{n}", std::process::id()), ..WorkerOptions::default() };
    let stop = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let released = crate::discovery_cmd::work_until(&pool, operator, &options, stop).await?;
    if released > 0 {
        tracing::info!(worker = %options.name, released, "job leases handed back");
    }
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd, container engines and `kill` send).
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            // Without a SIGTERM handler, Ctrl-C still stops the server.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// Prints the OpenAPI document the server serves (docs/openapi.json is this output).
pub fn run_openapi() -> Result<ExitCode, CliError> {
    println!("{}", modernize_api::openapi().to_pretty_json()?);
    Ok(ExitCode::SUCCESS)
}
