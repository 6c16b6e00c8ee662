//! The deploy benchmark of docs/benchmarks.md (issue 17, "Measured"): `modernize deploy` applying
//! the newest migration, then `modernize rollback` of that deployment, while a bounded read/write
//! load runs against `modernize serve` on loopback.
//!
//! ```sh
//! cargo build --release -p modernize-cli --bin modernize --example deploy_benchmark
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/deploy_bench \
//!     ./target/release/examples/deploy_benchmark [--write docs/benchmarks.md] [--from N] 1000000
//! ```
//! Drops and re-creates the database named in DATABASE_URL, migrates it to `--from` (default: one
//! migration behind this binary), seeds that many assets across 100 tenants (`perf::seed_assets`),
//! creates an admin of the first tenant with an API token, starts `modernize serve`, then runs two
//! `oha` processes for the whole run: reads (asset list GETs, four list queries at random; two
//! before migration 0012, which the environment and search filters need) and
//! writes (asset PATCHes of the first tenant's assets at random), each at a fixed rate. With the
//! load running: a quiet window (the baseline), `modernize deploy` (its backup under a temporary
//! directory), a quiet window on the new schema, `modernize rollback --yes` of that deployment,
//! a last quiet window. Every request is attributed to the window it started in; a write is
//! "unavailable" from the end of the last write that succeeded to the end of the next one. With
//! `--write`, the table between the `deploy-benchmark` markers of that file is replaced by this
//! run's.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modernize::db::{Database, migrate};
use modernize::perf;
use modernize::perf::report::{self, load_average};

mod common;

use common::{Error, Server};

const TENANTS: usize = 100;
/// The quiet windows around the deploy and the rollback.
const QUIET: Duration = Duration::from_secs(30);

/// The reads: the asset list of the first tenant's engagement, as the UI asks for it.
const READS: [&str; 4] = [
    "/assets?limit=100",
    "/assets?limit=100&sort=hostname&order=desc&six_r_strategy=rehost",
    "/assets?limit=100&environment=Production",
    "/assets?limit=100&search=srv-00000123",
];

/// One request as `oha --output-format csv` reports it: start (s after oha's start), duration (s),
/// HTTP status.
struct Request {
    start: f64,
    duration: f64,
    status: u16,
}

/// A load generator running for the whole benchmark; SIGINT makes oha print every request
/// answered so far (CSV) and exit.
struct Load {
    child: Child,
    started: Instant,
}

impl Load {
    fn start(urls: &Path, token: &str, connections: u32, rate: u32, write: bool) -> Result<Self, Error> {
        let mut command = Command::new(common::oha_binary());
        command
            .args(["--no-tui", "--output-format", "csv", "-z", "24h", "--urls-from-file"])
            .args(["-c", &connections.to_string(), "-q", &rate.to_string()])
            .args(["-H", &format!("Authorization: Bearer {token}")]);
        if write {
            command.args(["-m", "PATCH", "-T", "application/json", "-d", r#"{"description":"deploy benchmark"}"#]);
        }
        let child = command.arg(urls).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
        Ok(Self { child, started: Instant::now() })
    }

    /// Stops oha and parses what it answered.
    fn stop(self) -> Result<Vec<Request>, Error> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT)?;
        let output = self.child.wait_with_output()?;
        let text = String::from_utf8(output.stdout)?;
        let mut requests = Vec::new();
        for line in text.lines().skip_while(|l| !l.starts_with("request-start")).skip(1) {
            // request-start,DNS,DNS+dialup,Response-delay,request-duration,bytes,status
            let fields: Vec<&str> = line.split(',').collect();
            let [start, _, _, _, duration, _, status] = fields.as_slice() else {
                return Err(format!("oha: unexpected CSV line {line:?}").into());
            };
            requests.push(Request { start: start.parse()?, duration: duration.parse()?, status: status.parse()? });
        }
        Ok(requests)
    }
}

/// A phase of the run, in seconds since the load started.
struct Window {
    name: &'static str,
    from: f64,
    to: f64,
}

/// What the reads and writes of one window got.
struct Figures {
    reads: usize,
    read_errors: usize,
    read_p50_ms: f64,
    read_p99_ms: f64,
    writes: usize,
    writes_refused: usize,
    write_errors: usize,
    write_p99_ms: f64,
    /// Longest time without a successful write ending, over the window (s).
    write_gap_s: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn figures(window: &Window, reads: &[Request], writes: &[Request], reads_offset: f64, writes_offset: f64) -> Figures {
    let inside = |r: &&Request, offset: f64| r.start + offset >= window.from && r.start + offset < window.to;
    let reads: Vec<&Request> = reads.iter().filter(|r| inside(r, reads_offset)).collect();
    let writes_in: Vec<&Request> = writes.iter().filter(|r| inside(r, writes_offset)).collect();
    let mut read_ms: Vec<f64> = reads.iter().map(|r| r.duration * 1000.0).collect();
    read_ms.sort_by(f64::total_cmp);
    let mut write_ms: Vec<f64> = writes_in.iter().map(|r| r.duration * 1000.0).collect();
    write_ms.sort_by(f64::total_cmp);
    // Successful writes' end times over the whole run: the gap that covers part of the window
    // counts, even when it began before it.
    let mut ends: Vec<f64> = writes
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| r.start + r.duration + writes_offset)
        .collect();
    ends.sort_by(f64::total_cmp);
    let write_gap_s = ends
        .windows(2)
        .filter(|pair| pair[1] > window.from && pair[0] < window.to)
        .map(|pair| pair[1] - pair[0])
        .fold(0.0, f64::max);
    Figures {
        reads: reads.len(),
        read_errors: reads.iter().filter(|r| r.status != 200).count(),
        read_p50_ms: percentile(&read_ms, 0.50),
        read_p99_ms: percentile(&read_ms, 0.99),
        writes: writes_in.len(),
        writes_refused: writes_in.iter().filter(|r| r.status == 503).count(),
        write_errors: writes_in.iter().filter(|r| !(200..300).contains(&r.status) && r.status != 503).count(),
        write_p99_ms: percentile(&write_ms, 0.99),
        write_gap_s,
    }
}

/// Runs `modernize <args> --json` and returns its outcome (`{plan, dry_run, outcome}`).
fn run_json(binary: &Path, url: &str, args: &[&str]) -> Result<serde_json::Value, Error> {
    let output = Command::new(binary).env("DATABASE_URL", url).args(args).arg("--json").output()?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("modernize {}: {e}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)))?;
    if !output.status.success() || report["outcome"]["succeeded"] != true {
        return Err(format!("modernize {} failed: {report}", args.join(" ")).into());
    }
    Ok(report)
}

/// "name 12.3 s, …" of an outcome's steps.
fn steps(report: &serde_json::Value) -> String {
    report["outcome"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!("{} {:.1} s", s["name"].as_str().unwrap_or("?"), s["ms"].as_f64().unwrap_or(f64::NAN) / 1000.0)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut option = |name: &str| report::take_option(&mut args, name);
    let write = option("--write")?;
    let from: i64 = option("--from")?.map(|v| v.parse()).transpose()?.unwrap_or(migrate::latest_version() - 1);
    let read_rate: u32 = option("--read-rate")?.map(|v| v.parse()).transpose()?.unwrap_or(20);
    let write_rate: u32 = option("--write-rate")?.map(|v| v.parse()).transpose()?.unwrap_or(5);
    let size: usize = match args.as_slice() {
        [] => 100_000,
        [n] => n.parse()?,
        _ => {
            return Err(
                "usage: deploy_benchmark [--write FILE] [--from N] [--read-rate 20] [--write-rate 5] [ASSETS]".into()
            );
        }
    };
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let binary = common::modernize_binary()?;
    common::require_oha()?;
    let scratch = tempfile::tempdir()?;

    let database = Database::from_url(&url)?;
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    migrate::upgrade(&mut conn, Some(from)).await?;
    let started = Instant::now();
    perf::seed_assets(&mut conn, TENANTS, size / TENANTS).await?;
    eprintln!("{size} assets seeded at schema {from} in {:.1} s", started.elapsed().as_secs_f64());
    let targets: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT a.id FROM migration.assets a JOIN migration.client_accounts c ON c.id = a.client_account_id
         WHERE c.slug = 'bench-1' ORDER BY a.name LIMIT 500",
    )
    .fetch_all(&mut conn)
    .await?;
    drop(conn);

    let token = common::admin_token(&binary, &url)?;
    let server = Server::start(&binary, &url)?;
    let assets = format!("{}/api/v1/client-accounts/bench-1/engagements/benchmark/assets", server.base);
    let read_urls = scratch.path().join("reads.txt");
    // The environment and search filters need migration 0012 (collation, search function).
    let read_paths: &[&str] = if from >= 12 { &READS } else { &READS[..2] };
    std::fs::write(
        &read_urls,
        read_paths.iter().map(|path| format!("{assets}{}\n", &path["/assets".len()..])).collect::<String>(),
    )?;
    let write_urls = scratch.path().join("writes.txt");
    std::fs::write(&write_urls, targets.iter().map(|id| format!("{assets}/{id}\n")).collect::<String>())?;

    let load_before = load_average();
    let reads = Load::start(&read_urls, &token, 4, read_rate, false)?;
    let writes = Load::start(&write_urls, &token, 2, write_rate, true)?;
    let t0 = Instant::now();
    let at = |instant: Instant| instant.duration_since(t0).as_secs_f64();
    let mut windows = Vec::new();

    std::thread::sleep(QUIET);
    windows.push(Window { name: "before (baseline)", from: 0.0, to: at(Instant::now()) });
    let deploy_started = Instant::now();
    let backups = scratch.path().join("backups");
    let deployed = run_json(&binary, &url, &["deploy", "--backup-dir", backups.to_str().ok_or("temp path")?])?;
    let deploy_s = deploy_started.elapsed().as_secs_f64();
    windows.push(Window { name: "`deploy`", from: at(deploy_started), to: at(Instant::now()) });
    let load_deploy = load_average();
    eprintln!("deploy: {deploy_s:.1} s ({}), load {load_deploy}", steps(&deployed));

    let quiet_started = Instant::now();
    std::thread::sleep(QUIET);
    windows.push(Window { name: "after deploy", from: at(quiet_started), to: at(Instant::now()) });
    let rollback_started = Instant::now();
    let id = deployed["outcome"]["deployment_id"].as_i64().ok_or("the deploy was not recorded")?;
    let rolled_back = run_json(&binary, &url, &["rollback", "--to", &id.to_string(), "--yes"])?;
    let rollback_s = rollback_started.elapsed().as_secs_f64();
    windows.push(Window { name: "`rollback`", from: at(rollback_started), to: at(Instant::now()) });
    let load_rollback = load_average();
    eprintln!("rollback: {rollback_s:.1} s ({}), load {load_rollback}", steps(&rolled_back));

    let quiet_started = Instant::now();
    std::thread::sleep(QUIET);
    windows.push(Window { name: "after rollback", from: at(quiet_started), to: at(Instant::now()) });
    let load_after = load_average();
    // Both generators started a moment before t0: their clocks are shifted by as much.
    let reads_offset = -t0.duration_since(reads.started).as_secs_f64();
    let writes_offset = -t0.duration_since(writes.started).as_secs_f64();
    let (reads, writes) = (reads.stop()?, writes.stop()?);
    drop(server);

    let plan = &deployed["plan"];
    let pending: Vec<String> = plan["pending"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let safe = if m["online_safe"] == true { "online-safe" } else { "needs maintenance" };
            format!("{:04} {} ({safe})", m["version"].as_i64().unwrap_or(0), m["name"].as_str().unwrap_or("?"))
        })
        .collect();
    let mut table = format!(
        "Run of {} (UTC), {size} assets over {TENANTS} tenants, schema {from} -> {} ({}); load: {read_rate} \
         reads/s (4 connections: the asset list, {} queries at random) and {write_rate} writes/s (2 connections: \
         PATCH of one of {} assets) on loopback, API token; database {:.0} MB. Load average (1, 5, 15 min): {load_before} \
         at the start, {load_deploy} after the deploy, {load_rollback} after the rollback, {load_after} at the end. \
         `deploy_benchmark --from {from} {size}`\n\n\
         | | wall time | writes refused (recorded) | reads | read errors | read p50 ms | read p99 ms | writes | writes \
         503 | other write errors | write p99 ms | longest time without a successful write |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        plan["schema_to"],
        pending.join(", "),
        read_paths.len(),
        targets.len(),
        plan["database_bytes"].as_f64().unwrap_or(f64::NAN) / 1e6,
    );
    for window in &windows {
        let f = figures(window, &reads, &writes, reads_offset, writes_offset);
        let recorded = match window.name {
            "`deploy`" => {
                format!("{:.1} s", deployed["outcome"]["maintenance_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0)
            }
            "`rollback`" => {
                format!("{:.1} s", rolled_back["outcome"]["maintenance_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0)
            }
            _ => String::new(),
        };
        let error_rate = if f.reads > 0 { 100.0 * f.read_errors as f64 / f.reads as f64 } else { f64::NAN };
        table.push_str(&format!(
            "| {} | {:.1} s | {recorded} | {} | {} ({error_rate:.2} %) | {:.1} | {:.1} | {} | {} | {} | {:.1} | {:.1} s |\n",
            window.name,
            window.to - window.from,
            f.reads,
            f.read_errors,
            f.read_p50_ms,
            f.read_p99_ms,
            f.writes,
            f.writes_refused,
            f.write_errors,
            f.write_p99_ms,
            f.write_gap_s,
        ));
    }
    table.push_str(&format!(
        "\nSteps (from `--json`): deploy: {}. Rollback ({}): {}.",
        steps(&deployed),
        rolled_back["outcome"]["method"].as_str().unwrap_or("?"),
        steps(&rolled_back),
    ));
    println!("{table}");
    if let Some(path) = write {
        report::replace_table(Path::new(&path), "deploy", &table)?;
    }
    Ok(())
}
