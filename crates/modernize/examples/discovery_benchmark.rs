//! The discovery benchmark of docs/benchmarks.md: ingest of a large CSV (rows/s, against `psql
//! \copy` of the same file into a plain table in the same run), then a whole flow on a smaller
//! file, time per phase.
//!
//! ```sh
//! cargo build --release -p modernize --example discovery_benchmark
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/discovery_bench \
//!     ./target/release/examples/discovery_benchmark [INGEST_ROWS] [FLOW_ROWS]
//! ```
//! The database named in DATABASE_URL is dropped and re-created.

use std::path::Path;
use std::time::Instant;

use modernize::db::{Database, migrate};
use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::summary;
use modernize::fixtures;
use modernize::models::asset_fields::target_fields;
use modernize::tenancy::{OperatorToken, TenantCtx, TenantTx};

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

type Error = Box<dyn std::error::Error>;

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
    let setup = format!("DROP TABLE IF EXISTS bench_plain; CREATE TABLE bench_plain ({})", columns.join(", "));
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

/// The same records COPYed by psql into a copy of raw_import_records with its indexes (no foreign
/// keys): what the table's shape costs (jsonb parsing, seven indexes) without any of our work.
fn table_floor(url: &str, dir: &Path, data_import_id: uuid::Uuid) -> Result<f64, Error> {
    let dump = dir.join("records.copy");
    let psql = |command: &str| -> Result<(), Error> {
        let status =
            std::process::Command::new("psql").args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", command]).status()?;
        if status.success() { Ok(()) } else { Err(format!("psql failed: {command}").into()) }
    };
    psql(&format!(
        "\\copy (SELECT * FROM migration.raw_import_records WHERE data_import_id = '{data_import_id}') TO '{}'",
        dump.display()
    ))?;
    psql(
        "DROP TABLE IF EXISTS bench_records; CREATE TABLE bench_records (LIKE migration.raw_import_records INCLUDING ALL)",
    )?;
    let started = Instant::now();
    psql(&format!("\\copy bench_records FROM '{}'", dump.display()))?;
    Ok(started.elapsed().as_secs_f64())
}

async fn run_flow(
    database: &Database,
    operator: &OperatorToken,
    ctx: &TenantCtx,
    dir: &Path,
    file: &Path,
    accept_above: Option<f64>,
) -> Result<summary::FlowSummary, Error> {
    let mut conn = database.connect().await?;
    let options = ImportOptions { accept_above, ..Default::default() };
    let started = pipeline::start(&mut conn, ctx, &dir.join("uploads"), file, &options).await?;
    let pool = database.pool(2).await?;
    pipeline::run_worker(&pool, operator, &ExactNameSuggester, &WorkerOptions::default(), true).await?;
    let mut tx = TenantTx::begin(&mut conn, ctx).await?;
    let summary = summary::summarise(&mut tx, started.discovery_flow_id).await?;
    tx.commit().await?;
    Ok(summary)
}

fn phase_seconds(summary: &summary::FlowSummary, phase: &str) -> f64 {
    summary.phases.iter().find(|p| p.phase.as_str() == phase).and_then(|p| p.duration_ms).unwrap_or(0) as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let ingest_rows: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let flow_rows: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let database = Database::from_url(&url)?;
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    migrate::upgrade(&mut conn, None).await?;
    let operator = OperatorToken::bootstrap().ok_or("the operator capability is already taken")?;
    let ids = fixtures::demo_tenant(&mut conn, &operator, fixtures::ACME).await?;
    let ctx = TenantCtx::for_operator(&mut conn, &operator, ids.client_account_id, Some(ids.engagement_id)).await?;
    let dir = tempfile::tempdir()?;

    let big = dir.path().join("inventory-big.csv");
    write_csv(&big, ingest_rows)?;
    let size_mb = std::fs::metadata(&big)?.len() as f64 / 1e6;
    println!("ingest: {ingest_rows} rows × 40 columns, {size_mb:.0} MB");
    let copy_seconds = psql_copy(&url, &big)?;
    // Without a threshold the flow pauses after suggesting mappings: only the import is timed.
    let paused = run_flow(&database, &operator, &ctx, dir.path(), &big, None).await?;
    let import_seconds = phase_seconds(&paused, "data_import");
    let rows = ingest_rows as f64;
    println!("  psql \\copy into a plain table: {copy_seconds:.1} s, {:.0} rows/s", rows / copy_seconds);
    println!("  modernize data_import:          {import_seconds:.1} s, {:.0} rows/s", rows / import_seconds);
    println!("  ratio (modernize rows/s ÷ psql rows/s): {:.2}", copy_seconds / import_seconds);
    let data_import_id = paused.import.as_ref().map(|i| i.data_import_id).ok_or("the flow has no import")?;
    let floor_seconds = table_floor(&url, dir.path(), data_import_id)?;
    println!(
        "  psql \\copy of the same records into a copy of raw_import_records (indexes, no FKs): {floor_seconds:.1} s, \
         {:.0} rows/s; modernize ÷ that = {:.2}",
        rows / floor_seconds,
        floor_seconds / import_seconds
    );

    let small = dir.path().join("inventory-flow.csv");
    write_csv(&small, flow_rows)?;
    let started = Instant::now();
    let done = run_flow(&database, &operator, &ctx, dir.path(), &small, Some(0.9)).await?;
    let total = started.elapsed().as_secs_f64();
    println!("full flow: {flow_rows} rows, status {}, {:.1} s end to end", done.status, total);
    for phase in &done.phases {
        println!("  {:<22} {:>7.2} s", phase.phase.as_str(), phase.duration_ms.unwrap_or(0) as f64 / 1000.0);
    }
    println!("  assets {}, dependencies {}", done.inventory.assets, done.inventory.dependencies);
    Ok(())
}
