//! The discovery benchmark of docs/benchmarks.md (issue 16 item 1(f)): ingest against `psql
//! \copy`, and the whole flow against another build, both by the `modernize` binary as a user runs
//! it (`modernize import`).
//!
//! 1. **Ingest**: a CSV of INGEST_ROWS rows × 40 columns (25 named like asset fields, 15
//!    `u_custom_*`) is `psql \copy`ed into a plain table of text columns (the baseline the issue
//!    names), then imported without a threshold, so that the flow pauses after the field mapping
//!    and only `data_import` counts (its `duration_ms`, as the flow records it); then the same
//!    records are `\copy`ed by psql from a dump into a copy of `raw_import_records` with its
//!    indexes (`LIKE … INCLUDING ALL`, no foreign keys): what the table's own shape costs. The
//!    first flow's file is imported the same way, for the peak memory of an import at two sizes.
//! 2. **Whole flow**: for each FLOW_ROWS, `modernize import --accept-above 0.9` of a file of that
//!    many rows through every phase, `--rounds` times. With `--baseline`, each round runs it with
//!    that binary (another commit's) and with this build's, in alternating order (ABBA), each on a
//!    database created and migrated by the binary that imports into it (a newer binary may have
//!    newer migrations) and dropped after the run. Per phase: the durations the flow recorded, from
//!    the import's `--json` summary; end to end: the process's wall time; its peak resident memory
//!    and CPU time from `getrusage` (see [`measure_child`]).
//!
//! ```sh
//! cargo build --release -p modernize-cli --bin modernize --example discovery_benchmark
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/discovery_bench \
//!     ./target/release/examples/discovery_benchmark [--write docs/benchmarks.md] \
//!     [--baseline OTHER/modernize] [--rounds 1] [INGEST_ROWS [FLOW_ROWS…]]
//! ```
//! Defaults: 1,000,000 rows ingested, one flow of 100,000. The database named in DATABASE_URL is
//! dropped and re-created for the ingest, `<name>_flow` for each flow; `psql` must be on PATH. This
//! build's binary is the `modernize` next to this example's directory (`target/release/modernize`).
//! With `--write`, the table between the `discovery-benchmark` markers of that file is replaced.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use modernize::db::Database;
use modernize::models::asset_fields::target_fields;
use modernize::perf::report::{self, Run, thousands};
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;
use serde_json::Value;

mod common;

use common::Error;

/// The first argument that makes this example the parent of one measured command.
const MEASURE: &str = "--measure-child";
const ACCOUNT: &str = "bench";
const ENGAGEMENT: &str = "discovery";
/// The issue's sizes: a run below them is labelled as such in its table.
const ISSUE_INGEST_ROWS: usize = 1_000_000;
const ISSUE_FLOW_ROWS: usize = 100_000;

/// The value of asset field `field` in row `i`, for the 25 fields the file carries (the suggester
/// maps them by name); None for the other asset fields.
fn value(field: &str, i: usize) -> Option<String> {
    let host = format!("srv-{i:07}");
    Some(match field {
        "hostname" => host,
        "fqdn" => format!("{host}.corp.example.com"),
        "asset_type" => "server".to_owned(),
        "description" => format!("Server {i} of the estate"),
        "ip_address" => format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
        "mac_address" => {
            format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)
        }
        "environment" => ["production", "development", "test", "staging"][i % 4].to_owned(),
        "location" => "Frankfurt".to_owned(),
        "datacenter" => format!("DC{}", i % 3 + 1),
        "rack_location" => format!("R{:02}-U{:02}", i % 40, i % 42),
        "operating_system" => {
            ["Windows Server 2012 R2", "Red Hat Enterprise Linux 7.9", "Ubuntu 22.04", "Windows Server 2019"][i % 4]
                .to_owned()
        }
        "os_version" => String::new(),
        "cpu_cores" => (2 << (i % 4)).to_string(),
        "memory_gb" => (4 << (i % 5)).to_string(),
        "storage_gb" => (100 + i % 900).to_string(),
        "serial_number" => format!("SN{i:09}"),
        "manufacturer" => "Dell Inc.".to_owned(),
        "model" => "PowerEdge R740".to_owned(),
        "virtualization_platform" => if i.is_multiple_of(3) { "physical" } else { "vmware" }.to_owned(),
        "business_owner" => "Anna Schmidt".to_owned(),
        "technical_owner" => "Linux Ops".to_owned(),
        "department" => "Finance".to_owned(),
        "application_name" => format!("App {}", i % 500),
        "business_criticality" => ["low", "medium", "high", "critical"][i % 4].to_owned(),
        "cpu_utilization_percent" => format!("{:.1}", (i % 1000) as f64 / 10.0),
        _ => return None,
    })
}

/// The asset fields the file carries: those `value` knows.
fn mapped() -> Vec<&'static str> {
    target_fields().filter(|field| value(field, 0).is_some()).collect()
}

const CUSTOM: usize = 15;

fn write_csv(path: &Path, rows: usize) -> Result<(), Error> {
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
    let fields = mapped();
    let mut header: Vec<String> = fields.iter().map(|h| (*h).to_owned()).collect();
    header.extend((1..=CUSTOM).map(|i| format!("u_custom_{i}")));
    out.write_record(&header)?;
    for i in 0..rows {
        let mut record: Vec<String> = fields.iter().filter_map(|field| value(field, i)).collect();
        record.extend((1..=CUSTOM).map(|c| format!("value {c}/{i}")));
        out.write_record(&record)?;
    }
    out.flush()?;
    Ok(())
}

/// `psql \copy` of the file into a plain table of text columns: the floor for ingest.
fn psql_copy(url: &str, path: &Path) -> Result<f64, Error> {
    let mut columns: Vec<String> = mapped().iter().map(|c| format!("{c} text")).collect();
    columns.extend((1..=CUSTOM).map(|i| format!("u_custom_{i} text")));
    let setup = format!(
        "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_plain; CREATE TABLE bench_plain ({})",
        columns.join(", ")
    );
    let status =
        std::process::Command::new("psql").args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", &setup]).status()?;
    if !status.success() {
        return Err("psql could not create the baseline table".into());
    }
    let copy = format!("\\copy bench_plain FROM '{}' WITH (FORMAT csv, HEADER true)", path.display());
    let started = Instant::now();
    let status = std::process::Command::new("psql").args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", &copy]).status()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err("psql \\copy failed".into());
    }
    Ok(seconds)
}

/// The same records COPYed by psql (a) into a copy of raw_import_records with its indexes (no
/// foreign keys): what the table's shape costs (its indexes, the cells' arrays) without any of our
/// work; (b) into `raw_import_records` itself, as records of a copy of the import, foreign keys
/// checked: the floor of any writer of the table. As the table's owner: PostgreSQL refuses COPY
/// into a table under row-level security (our path COPYs into a temporary table, then INSERTs).
/// Returns the seconds of (a) and (b).
fn table_floors(url: &str, dir: &Path, data_import_id: uuid::Uuid) -> Result<(f64, f64), Error> {
    let dump = dir.join("records.copy");
    let psql = |command: &str| -> Result<(), Error> {
        let status =
            std::process::Command::new("psql").args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", command]).status()?;
        if status.success() { Ok(()) } else { Err(format!("psql failed: {command}").into()) }
    };
    let columns = "client_account_id, engagement_id, data_import_id, master_flow_id, row_number, file_row, raw_data, \
                   is_valid, validation_errors, raw_values";
    // One dump serves both: the records as of a copy of the import (its id in `data_import_id`),
    // which the copy of the table (no foreign keys) takes as well.
    let copy_id = uuid::Uuid::new_v4();
    psql(&format!(
        "INSERT INTO migration.data_imports SELECT (jsonb_populate_record(d, jsonb_build_object('id', '{copy_id}'))).* \
         FROM migration.data_imports d WHERE id = '{data_import_id}'"
    ))?;
    let dumped = columns.replacen("data_import_id", &format!("'{copy_id}'::uuid"), 1);
    psql(&format!(
        "\\copy (SELECT {dumped} FROM migration.raw_import_records WHERE data_import_id = '{data_import_id}') TO '{}'",
        dump.display()
    ))?;
    psql(
        "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_records; CREATE TABLE bench_records (LIKE migration.raw_import_records INCLUDING ALL)",
    )?;
    // Each COPY starts from a checkpoint, so neither pays the other's full-page writes.
    psql("CHECKPOINT")?;
    let started = Instant::now();
    psql(&format!("\\copy bench_records ({columns}) FROM '{}'", dump.display()))?;
    let copy_of_table = started.elapsed().as_secs_f64();
    psql("CHECKPOINT")?;
    let started = Instant::now();
    psql(&format!("\\copy migration.raw_import_records ({columns}) FROM '{}'", dump.display()))?;
    Ok((copy_of_table, started.elapsed().as_secs_f64()))
}

/// Runs `PROGRAM ARGS…`, writes its peak resident memory (kB) and CPU seconds to USAGE_FILE and
/// exits with its exit code. `getrusage(RUSAGE_CHILDREN)` gives the largest peak among all of a
/// process's waited-for children, so each measured command gets a parent of its own, of which it
/// is the only child (std has no `wait4`, and the workspace forbids unsafe code).
fn measure_child(args: &[String]) -> Result<(), Error> {
    let [usage_file, program, rest @ ..] = args else {
        return Err(format!("usage: {MEASURE} USAGE_FILE PROGRAM [ARGS…]").into());
    };
    let status = Command::new(program).args(rest).status()?;
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    let seconds = |t: TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    let cpu = seconds(usage.user_time()) + seconds(usage.system_time());
    std::fs::write(usage_file, format!("{} {cpu}", usage.max_rss()))?;
    std::process::exit(status.code().unwrap_or(1));
}

/// What one measured command printed and cost.
struct Measured {
    stdout: String,
    seconds: f64,
    peak_rss_mib: f64,
    cpu_seconds: f64,
}

/// Runs `binary args…` against `url` with its data directory (uploads) at `data_dir`, as the only
/// child of [`measure_child`].
fn measured(binary: &Path, url: &str, data_dir: &Path, args: &[&str]) -> Result<Measured, Error> {
    let usage = tempfile::NamedTempFile::new()?;
    let started = Instant::now();
    let output = Command::new(std::env::current_exe()?)
        .arg(MEASURE)
        .arg(usage.path())
        .arg(binary)
        .args(args)
        .env("DATABASE_URL", url)
        .env("MODERNIZE_DATA_DIR", data_dir)
        .stderr(Stdio::inherit())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!("{} {} failed ({})", binary.display(), args.join(" "), output.status).into());
    }
    let usage = std::fs::read_to_string(usage.path())?;
    let (rss_kb, cpu) = usage.split_once(' ').ok_or("the measured command's usage was not written")?;
    Ok(Measured {
        stdout: String::from_utf8(output.stdout)?,
        seconds,
        peak_rss_mib: rss_kb.parse::<f64>()? / 1024.0,
        cpu_seconds: cpu.parse()?,
    })
}

/// `url` naming the database `name` instead of its own.
fn url_of(url: &str, name: &str) -> Result<String, Error> {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let (server, _) = base.rsplit_once('/').ok_or("DATABASE_URL names no database")?;
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

/// Drops and re-creates the database of `url`, migrates it with `binary` (to that binary's
/// migrations) and creates the benchmark's client account and engagement with it.
async fn fresh_database(binary: &Path, url: &str) -> Result<(), Error> {
    let database = Database::from_url(url)?;
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    common::cli(binary, url, &["db", "upgrade"])?;
    common::cli(binary, url, &["accounts", "create", "--name", "Benchmark", "--slug", ACCOUNT])?;
    let engagement = ["--client-account", ACCOUNT, "--name", "Discovery benchmark", "--slug", ENGAGEMENT];
    common::cli(binary, url, &[["engagements", "create"].as_slice(), &engagement].concat())?;
    Ok(())
}

/// `modernize import FILE --json` into the benchmark's engagement (with `--accept-above` when
/// given: through every phase; without: paused after the field mapping), in a fresh data
/// directory; its summary and what it cost.
fn import(binary: &Path, url: &str, file: &Path, accept_above: Option<&str>) -> Result<(Value, Measured), Error> {
    let data_dir = tempfile::tempdir()?;
    let file = file.to_str().ok_or("the file's path is not UTF-8")?;
    let mut args = vec!["import", file, "--client-account", ACCOUNT, "--engagement", ENGAGEMENT, "--json"];
    args.extend(accept_above.map(|threshold| ["--accept-above", threshold]).into_iter().flatten());
    let measured = measured(binary, url, data_dir.path(), &args)?;
    let summary: Value = serde_json::from_str(&measured.stdout)?;
    let expected = if accept_above.is_some() { "completed" } else { "paused" };
    if summary["status"] != expected {
        return Err(format!("the flow is {} ({}), not {expected}", summary["status"], summary["error_message"]).into());
    }
    Ok((summary, measured))
}

/// A phase's duration as the flow recorded it, in seconds.
fn phase_seconds(summary: &Value, phase: &str) -> Option<f64> {
    summary["phases"].as_array()?.iter().find(|p| p["phase"] == phase)?["duration_ms"].as_f64().map(|ms| ms / 1000.0)
}

/// One whole flow of one build.
struct FlowRun {
    baseline: bool,
    round: usize,
    /// The 1-minute load average before and after.
    load: (String, String),
    summary: Value,
    measured: Measured,
}

fn one_minute_load() -> String {
    report::load_average().split_whitespace().next().unwrap_or("?").to_owned()
}

async fn flow_run(binary: &Path, url: &str, file: &Path, (baseline, round): (bool, usize)) -> Result<FlowRun, Error> {
    fresh_database(binary, url).await?;
    let before = one_minute_load();
    let (summary, measured) = import(binary, url, file, Some("0.9"))?;
    let load = (before, one_minute_load());
    Database::from_url(url)?.drop_if_exists().await?;
    let build = if baseline { "baseline" } else { "this build" };
    eprintln!(
        "  {build}, round {round}: {:.1} s end to end, peak {:.0} MiB, load {} → {}",
        measured.seconds, measured.peak_rss_mib, load.0, load.1
    );
    Ok(FlowRun { baseline, round, load, summary, measured })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if !n.is_multiple_of(2) => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

/// The ingest: `psql \copy` (the baseline), the import, the table's floor, and the peak memory of
/// an import of the big file and of the small one.
async fn ingest(binary: &Path, url: &str, dir: &Path, rows: usize, small: (&Path, usize)) -> Result<String, Error> {
    fresh_database(binary, url).await?;
    let big = dir.join("inventory-ingest.csv");
    write_csv(&big, rows)?;
    let size_mb = std::fs::metadata(&big)?.len() as f64 / 1e6;
    let small_mb = std::fs::metadata(small.0)?.len() as f64 / 1e6;
    eprintln!("ingest: {rows} rows × 40 columns, {size_mb:.0} MB");
    let copy = psql_copy(url, &big)?;
    let (summary, measured_big) = import(binary, url, &big, None)?;
    let import_seconds = phase_seconds(&summary, "data_import").ok_or("no data_import duration in the summary")?;
    let data_import_id = summary["import"]["data_import_id"].as_str().ok_or("the flow has no import")?;
    let (floor, table) = table_floors(url, dir, data_import_id.parse()?)?;
    let (_, measured_small) = import(binary, url, small.0, None)?;
    let ratio = copy / import_seconds;
    // Rounded first, so that a change under half a MiB prints as +0, not -0.
    let rss_change = (measured_big.peak_rss_mib - measured_small.peak_rss_mib).round() + 0.0;
    let per_second = |seconds: f64| thousands(rows as f64 / seconds);
    Ok(format!(
        "| ingest, {} rows × 40 columns ({size_mb:.0} MB) | time | rows/s | ÷ `psql \\copy` (rows/s) |\n\
         | --- | ---: | ---: | ---: |\n\
         | `psql \\copy` into a plain table of 40 text columns (baseline) | {copy:.1} s | {} | 1.00 |\n\
         | `modernize import`: `data_import` (read, validate, COPY into `raw_import_records`) | {import_seconds:.1} s | \
         {} | {ratio:.2} |\n\
         | `psql \\copy` of the same records into a copy of `raw_import_records` (indexes, no foreign keys) | \
         {floor:.1} s | {} | {:.2} |\n\
         | `psql \\copy` of the same records into `raw_import_records` itself (foreign keys checked; as the owner: \
         no COPY under row-level security) | {table:.1} s | {} | {:.2} |\n\n\
         - modernize ÷ `psql \\copy` = **{ratio:.2}** (aim ≥ 0.5): {}.\n\
         - `modernize import` takes {:.2}× the time of psql's COPY into `raw_import_records` itself: what our path adds \
         to the table's own cost (validation, the temporary table and the INSERT under the policies).\n\
         - Peak resident memory of `modernize import` (paused after the mapping): {:.0} MiB for this file, {:.0} MiB \
         for {} rows ({small_mb:.0} MB): {rss_change:+.0} MiB (aim: flat in the file's size, within ±50 MiB): {}.\n",
        thousands(rows as f64),
        per_second(copy),
        per_second(import_seconds),
        per_second(floor),
        copy / floor,
        per_second(table),
        copy / table,
        verdict(ratio >= 0.5),
        import_seconds / table,
        measured_big.peak_rss_mib,
        measured_small.peak_rss_mib,
        thousands(small.1 as f64),
        verdict(rss_change.abs() <= 50.0),
    ))
}

/// The whole-flow table of one size: a column per run, then the medians and their ratio.
fn flow_table(rows: usize, runs: &[FlowRun], with_baseline: bool) -> String {
    let build = |r: &FlowRun| {
        if !with_baseline {
            ""
        } else if r.baseline {
            "baseline, "
        } else {
            "this build, "
        }
    };
    let mut out = format!("| whole flow, {} rows |", thousands(rows as f64));
    for r in runs {
        out.push_str(&format!(" {}round {} |", build(r), r.round));
    }
    let medians: &[(&str, Option<bool>)] = if with_baseline {
        &[("baseline, median", Some(true)), ("this build, median", Some(false)), ("this build ÷ baseline", None)]
    } else {
        &[("median", Some(false))]
    };
    for (label, _) in medians {
        out.push_str(&format!(" {label} |"));
    }
    out.push_str(&format!("\n| --- |{}\n", " ---: |".repeat(runs.len() + medians.len())));

    out.push_str("| load average (1 min) before → after |");
    for r in runs {
        out.push_str(&format!(" {} → {} |", r.load.0, r.load.1));
    }
    out.push_str(&" |".repeat(medians.len()));
    out.push('\n');

    // The phases in the order the runs recorded them (two builds may not have the same ones), then
    // the process's own figures.
    let mut phases: Vec<String> = Vec::new();
    for phase in runs.iter().filter_map(|r| r.summary["phases"].as_array()).flatten() {
        if let Some(name) = phase["phase"].as_str().filter(|name| !phases.iter().any(|p| p == name)) {
            phases.push(name.to_owned());
        }
    }
    type Figure<'a> = (String, Box<dyn Fn(&FlowRun) -> Option<f64> + 'a>, &'a str);
    let mut figures: Vec<Figure> = phases
        .iter()
        .map(|phase| -> Figure { (phase.clone(), Box::new(move |r: &FlowRun| phase_seconds(&r.summary, phase)), "s") })
        .collect();
    figures.push((
        "**end to end** (the `modernize import` process)".into(),
        Box::new(|r| Some(r.measured.seconds)),
        "s",
    ));
    figures.push(("peak resident memory of the process".into(), Box::new(|r| Some(r.measured.peak_rss_mib)), "MiB"));
    figures.push(("CPU time of the process (user + system)".into(), Box::new(|r| Some(r.measured.cpu_seconds)), "s"));
    for (label, figure, unit) in &figures {
        let show = |v: f64| if *unit == "MiB" { format!("{v:.0} {unit}") } else { format!("{v:.2} {unit}") };
        out.push_str(&format!("| {label} |"));
        for r in runs {
            out.push_str(&figure(r).map_or_else(|| " – |".to_owned(), |v| format!(" {} |", show(v))));
        }
        let median_of = |baseline: bool| {
            median(&mut runs.iter().filter(|r| r.baseline == baseline).filter_map(figure).collect::<Vec<_>>())
        };
        for (_, side) in medians {
            out.push_str(&match side {
                Some(baseline) => format!(" {} |", show(median_of(*baseline))),
                None => format!(" {:.2} |", median_of(false) / median_of(true)),
            });
        }
        out.push('\n');
    }

    let first = runs.iter().find(|r| !r.baseline);
    let assets = first.and_then(|r| r.summary["inventory"]["assets"].as_i64()).unwrap_or(0);
    let mapped = first
        .and_then(|r| r.summary["mappings"].as_array())
        .map_or(0, |m| m.iter().filter(|m| m["status"] == "approved").count());
    out.push_str(&format!(
        "\n- This build: {mapped} of 40 columns mapped at ≥ 0.9, {} assets.\n",
        thousands(assets as f64)
    ));
    if with_baseline {
        let end_to_end = |baseline: bool| {
            median(&mut runs.iter().filter(|r| r.baseline == baseline).map(|r| r.measured.seconds).collect::<Vec<_>>())
        };
        let speedup = end_to_end(true) / end_to_end(false);
        out.push_str(&format!(
            "- End to end, medians: this build is **{speedup:.2}×** as fast as the baseline{}.\n",
            if rows == ISSUE_FLOW_ROWS {
                format!(
                    " (issue 16's aim, with main before the change as the baseline: ≥ 3×): {}",
                    verdict(speedup >= 3.0)
                )
            } else {
                String::new()
            }
        ));
    } else {
        out.push_str(
            "- No baseline binary (`--baseline`; `BENCH_BASELINE` in scripts/bench): no comparison with another build \
             in this run, so the aim of a flow ≥ 3× faster than main is not assessed here.\n",
        );
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE) {
        return measure_child(&args[1..]);
    }
    let command = format!("discovery_benchmark {}", args.join(" "));
    let mut option = |name: &str| report::take_option(&mut args, name);
    let write = option("--write")?;
    let baseline = option("--baseline")?.map(std::path::PathBuf::from);
    let rounds: usize = option("--rounds")?.map_or(Ok(1), |n| n.parse())?;
    let sizes = args.iter().map(|a| a.parse::<usize>()).collect::<Result<Vec<_>, _>>().map_err(
        |_| "usage: discovery_benchmark [--write FILE] [--baseline MODERNIZE] [--rounds 1] [INGEST_ROWS [FLOW_ROWS…]]",
    )?;
    let ingest_rows = sizes.first().copied().unwrap_or(ISSUE_INGEST_ROWS);
    let flow_sizes = if sizes.len() > 1 { sizes[1..].to_vec() } else { vec![ISSUE_FLOW_ROWS] };
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let flow_url = url_of(&url, &format!("{}_flow", Database::from_url(&url)?.name()))?;
    let binary = common::modernize_binary()?;
    if let Some(baseline) = &baseline {
        common::cli(baseline, &url, &["--version"]).map_err(|e| format!("the baseline binary does not run: {e}"))?;
    }
    let run = Run::start(command);
    let dir = tempfile::tempdir()?;

    let flow_files: Vec<_> =
        flow_sizes.iter().map(|rows| dir.path().join(format!("inventory-flow-{rows}.csv"))).collect();
    for (file, rows) in flow_files.iter().zip(&flow_sizes) {
        write_csv(file, *rows)?;
    }
    let ingest = ingest(&binary, &url, dir.path(), ingest_rows, (&flow_files[0], flow_sizes[0])).await?;
    eprintln!("{ingest}");

    let mut flows = String::new();
    for (file, rows) in flow_files.iter().zip(&flow_sizes) {
        eprintln!("whole flow, {rows} rows:");
        let mut runs = Vec::new();
        for round in 1..=rounds {
            // ABBA: the baseline first in odd rounds, this build first in even ones.
            let mut order = vec![false];
            if baseline.is_some() {
                order.insert(usize::from(round % 2 == 0), true);
            }
            for is_baseline in order {
                let binary = if is_baseline { baseline.as_deref().unwrap_or(&binary) } else { &binary };
                runs.push(flow_run(binary, &flow_url, file, (is_baseline, round)).await?);
            }
        }
        flows.push_str(&format!("\n{}", flow_table(*rows, &runs, baseline.is_some())));
    }

    let smaller = ingest_rows < ISSUE_INGEST_ROWS || flow_sizes.iter().any(|rows| *rows < ISSUE_FLOW_ROWS);
    let table = format!(
        "{}{}.\n\n{ingest}{flows}",
        run.describe(),
        if smaller {
            format!(
                "; **smaller than the issue's sizes** ({} rows ingested, a flow of {}): not the aims' measurements",
                thousands(ISSUE_INGEST_ROWS as f64),
                thousands(ISSUE_FLOW_ROWS as f64)
            )
        } else {
            String::new()
        }
    );
    println!("{table}");
    if let Some(path) = write {
        report::replace_table(Path::new(&path), "discovery", &table)?;
    }
    Ok(())
}
