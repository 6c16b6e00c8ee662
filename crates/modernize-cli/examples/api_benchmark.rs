//! The REST API benchmark of docs/benchmarks.md (issue 16 item 1(e)): the asset list over HTTP
//! under 16 concurrent clients, against `/health` in the same run as the baseline.
//!
//! ```sh
//! cargo build --release -p modernize-cli --bin modernize --example api_benchmark
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/api_bench \
//!     ./target/release/examples/api_benchmark [--write docs/benchmarks.md] [--duration 20s] 100000
//! ```
//! Drops and re-creates the database named in DATABASE_URL, seeds that many assets across 100
//! tenants (`perf::seed_assets`), creates an admin of the first tenant and an API token with the
//! `modernize` binary next to this example's directory (`target/release/modernize`), starts
//! `modernize serve` on a free loopback port and runs `oha` (on PATH or in ~/.cargo/bin) for the
//! duration on each URL with 16 connections, then stops the server. With `--write`, the table
//! between the `api-benchmark` markers of that file is replaced by this run's.
//!
//! Besides latency it reports the CPU time each request cost the server process and the
//! database's backends (from /proc, so PostgreSQL must run on this machine): on a machine other
//! work shares, latency follows the load, CPU time per request much less.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use modernize::db::{Database, migrate};
use modernize::perf;
use modernize::perf::report::{self, load_average};

mod common;

use common::{Error, Server};

const TENANTS: usize = 100;
const CLIENTS: usize = 16;

/// What is measured: a label and the path (under the engagement's assets for the lists), for
/// tenants of `per_tenant` assets (the search names one of the first tenant's hostnames).
fn targets(per_tenant: usize) -> [(&'static str, String); 5] {
    [
        ("`GET /health` (baseline: no database, no authentication)", "/health".into()),
        ("asset list, first page of 100 by name", "/assets?limit=100".into()),
        (
            "asset list by hostname desc, 6R = rehost",
            "/assets?limit=100&sort=hostname&order=desc&six_r_strategy=rehost".into(),
        ),
        ("asset list, environment = Production (any case)", "/assets?limit=100&environment=Production".into()),
        (
            "asset list, search for one hostname",
            format!("/assets?limit=100&search={}", perf::searched_hostname(0, per_tenant)),
        ),
    ]
}

struct Measured {
    label: &'static str,
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// CPU milliseconds per answered request: the server process, the database's backends.
    server_cpu_ms: f64,
    database_cpu_ms: f64,
    /// `baseline ` for the `--baseline` binary's rows, empty for this build's.
    build: String,
}

/// CPU seconds (user and system) a process has used so far, from /proc/<pid>/stat (clock ticks of
/// 1/100 s, Linux's USER_HZ); None when it cannot be read.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command in parentheses: utime and stime are the 12th and 13th fields.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds used so far by each backend of the database (other than `conn`'s own).
async fn backend_cpu(conn: &mut sqlx::PgConnection) -> Result<HashMap<u32, f64>, Error> {
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(conn)
    .await?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| u32::try_from(pid).ok())
        .filter_map(|pid| Some((pid, cpu_seconds(pid)?)))
        .collect())
}

/// CPU seconds the backends used between two [`backend_cpu`] readings (a backend opened in between
/// counts from zero).
fn cpu_between(before: &HashMap<u32, f64>, after: &HashMap<u32, f64>) -> f64 {
    after.iter().map(|(pid, seconds)| seconds - before.get(pid).copied().unwrap_or(0.0)).sum()
}

/// One `oha` run: 16 connections for `duration`, JSON summary.
fn oha(url: &str, token: &str, duration: &str, label: &'static str) -> Result<Measured, Error> {
    let output = Command::new(common::oha_binary())
        .args(["--no-tui", "--output-format", "json", "-c", &CLIENTS.to_string(), "-z", duration])
        .args(["-H", &format!("Authorization: Bearer {token}"), url])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("oha: {e} (cargo install oha)"))?;
    if !output.status.success() {
        return Err(format!("oha failed on {url}").into());
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let seconds = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) * 1000.0;
    let statuses = report["statusCodeDistribution"].as_object().cloned().unwrap_or_default();
    let count = |ok: bool| -> u64 {
        statuses.iter().filter(|(code, _)| (code.as_str() == "200") == ok).filter_map(|(_, n)| n.as_u64()).sum()
    };
    // The requests in flight when the duration ends are cut off ("aborted due to deadline"): one
    // per connection, not failures.
    let failed: u64 = report["errorDistribution"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(error, _)| !error.contains("deadline"))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    Ok(Measured {
        label,
        requests: count(true),
        per_second: report["summary"]["requestsPerSec"].as_f64().unwrap_or(f64::NAN),
        p50_ms: seconds(&report["latencyPercentiles"]["p50"]),
        p99_ms: seconds(&report["latencyPercentiles"]["p99"]),
        errors: count(false) + failed,
        server_cpu_ms: f64::NAN,
        database_cpu_ms: f64::NAN,
        build: String::new(),
    })
}

/// Serves `path` under load from `server` for the duration, with the CPU time it cost.
async fn measure(
    server: &Server,
    conn: &mut sqlx::PgConnection,
    token: &str,
    duration: &str,
    (build, label): (&str, &'static str),
    path: &str,
) -> Result<Measured, Error> {
    let base = &server.base;
    let url = if path == "/health" {
        format!("{base}{path}")
    } else {
        format!("{base}/api/v1/client-accounts/bench-1/engagements/benchmark{path}")
    };
    let (server_before, backends_before) = (cpu_seconds(server.child.id()), backend_cpu(conn).await?);
    let mut measured = oha(&url, token, duration, label)?;
    let (server_after, backends_after) = (cpu_seconds(server.child.id()), backend_cpu(conn).await?);
    let per_request = |seconds: f64| seconds * 1000.0 / measured.requests.max(1) as f64;
    measured.server_cpu_ms = per_request(server_after.zip(server_before).map_or(f64::NAN, |(a, b)| a - b));
    measured.database_cpu_ms = per_request(cpu_between(&backends_before, &backends_after));
    measured.build = build.to_owned();
    eprintln!(
        "{build}{label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors, CPU per request: server {:.3} ms, \
         PostgreSQL {:.3} ms (load {})",
        measured.per_second,
        measured.p50_ms,
        measured.p99_ms,
        measured.errors,
        measured.server_cpu_ms,
        measured.database_cpu_ms,
        load_average()
    );
    if measured.requests == 0 || measured.errors > 0 {
        return Err(format!("{label}: {} answered 200, {} did not", measured.requests, measured.errors).into());
    }
    Ok(measured)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("api_benchmark {}", args.join(" "));
    let mut option = |name: &str| report::take_option(&mut args, name);
    let write = option("--write")?;
    let duration = option("--duration")?.unwrap_or_else(|| "20s".into());
    let baseline = option("--baseline")?;
    let rounds: usize = option("--rounds")?.map_or(Ok(1), |n| n.parse())?;
    let size: usize = match args.as_slice() {
        [] => 100_000,
        [n] => n.parse()?,
        _ => {
            return Err(
                "usage: api_benchmark [--write FILE] [--duration 20s] [--baseline MODERNIZE] [--rounds 1] [ASSETS]"
                    .into(),
            );
        }
    };
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let binary = common::modernize_binary()?;
    common::require_oha()?;

    let database = Database::from_url(&url)?;
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    migrate::upgrade(&mut conn, None).await?;
    let started = Instant::now();
    perf::seed_assets(&mut conn, TENANTS, size / TENANTS).await?;
    eprintln!("{size} assets seeded in {:.1} s", started.elapsed().as_secs_f64());

    let token = common::admin_token(&binary, &url)?;
    // With a baseline binary, each round serves every target with it, then with this build.
    let mut builds = vec![("", binary.clone())];
    if let Some(baseline) = &baseline {
        builds.insert(0, ("baseline ", std::path::PathBuf::from(baseline)));
    }
    let load_before = load_average();
    let mut rows = Vec::new();
    for _ in 0..rounds {
        for (build, binary) in &builds {
            let server = Server::start(binary, &url)?;
            for (label, path) in targets(size / TENANTS) {
                rows.push(measure(&server, &mut conn, &token, &duration, (build, label), &path).await?);
            }
        }
    }
    let load_after = load_average();

    let mut table = format!(
        "Run of {} (UTC), {size} assets over {TENANTS} tenants (the first tenant's engagement: {} \
         assets), {CLIENTS} connections for {duration} per line, loopback, API token; load average (1, 5, 15 min) \
         {load_before} before, {load_after} after. `{command}`\n\n\
         | request | requests | req/s | p50 ms | p99 ms | p99 / `/health` p99 | CPU ms per request: server | CPU ms per request: PostgreSQL |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        size / TENANTS,
    );
    let health_p99 = rows[0].p99_ms;
    for r in &rows {
        table.push_str(&format!(
            "| {}{} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.3} | {:.3} |\n",
            r.build,
            r.label,
            r.requests,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.p99_ms / health_p99,
            r.server_cpu_ms,
            r.database_cpu_ms
        ));
    }
    println!("{table}");
    if let Some(path) = write {
        report::replace_table(std::path::Path::new(&path), "api", &table)?;
    }
    Ok(())
}
