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

use std::process::{Command, Stdio};
use std::time::Instant;

use modernize::db::{Database, migrate};
use modernize::perf;

mod common;

use common::{Error, Server, load_average};

const TENANTS: usize = 100;
const CLIENTS: usize = 16;
const BEGIN: &str = "<!-- api-benchmark:begin -->";
const END: &str = "<!-- api-benchmark:end -->";

/// What is measured: a label and the path (under the engagement's assets for the lists).
const TARGETS: [(&str, &str); 5] = [
    ("`GET /health` (baseline: no database, no authentication)", "/health"),
    ("asset list, first page of 100 by name", "/assets?limit=100"),
    ("asset list by hostname desc, 6R = rehost", "/assets?limit=100&sort=hostname&order=desc&six_r_strategy=rehost"),
    ("asset list, environment = Production (any case)", "/assets?limit=100&environment=Production"),
    ("asset list, search for one hostname", "/assets?limit=100&search=srv-00000123"),
];

struct Measured {
    label: &'static str,
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
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
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut option = |name: &str| common::take_option(&mut args, name);
    let write = option("--write")?;
    let duration = option("--duration")?.unwrap_or_else(|| "20s".into());
    let size: usize = match args.as_slice() {
        [] => 100_000,
        [n] => n.parse()?,
        _ => return Err("usage: api_benchmark [--write FILE] [--duration 20s] [ASSETS]".into()),
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
    drop(conn);

    let token = common::admin_token(&binary, &url)?;
    let server = Server::start(&binary, &url)?;
    let base = server.base.clone();
    let assets = format!("{base}/api/v1/client-accounts/bench-1/engagements/benchmark");

    let load_before = load_average();
    let mut rows = Vec::new();
    for (label, path) in TARGETS {
        let url = if path == "/health" { format!("{base}{path}") } else { format!("{assets}{path}") };
        let measured = oha(&url, &token, &duration, label)?;
        eprintln!(
            "{label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors (load {})",
            measured.per_second,
            measured.p50_ms,
            measured.p99_ms,
            measured.errors,
            load_average()
        );
        if measured.requests == 0 || measured.errors > 0 {
            return Err(format!("{label}: {} answered 200, {} did not", measured.requests, measured.errors).into());
        }
        rows.push(measured);
    }
    let load_after = load_average();
    drop(server);

    let mut table = format!(
        "{BEGIN}\n\nRun of {} (UTC), {size} assets over {TENANTS} tenants (the first tenant's engagement: {} \
         assets), {CLIENTS} connections for {duration} per line, loopback, API token; load average (1, 5, 15 min) \
         {load_before} before, {load_after} after. `api_benchmark {size}`\n\n\
         | request | requests | req/s | p50 ms | p99 ms | p99 / baseline p99 |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        size / TENANTS,
    );
    let baseline = rows[0].p99_ms;
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.1} |\n",
            r.label,
            r.requests,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.p99_ms / baseline
        ));
    }
    table.push_str(&format!("\n{END}"));
    println!("{table}");
    if let Some(path) = write {
        common::replace_between_markers(&path, BEGIN, END, &table)?;
    }
    Ok(())
}
