//! The seed's "< 5% degradation" check of docs/benchmarks.md (issue 16 item 1(g)): the same
//! queries, same data, same run, on the legacy schema and on the consolidated one.
//!
//! ```sh
//! cargo build --release -p modernize-consolidation --example degradation
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/degradation_bench \
//!     ./target/release/examples/degradation [--write docs/benchmarks.md] 100000
//! ```
//! Builds two databases named after the one in DATABASE_URL (`<name>_legacy`, `<name>_consolidated`;
//! both dropped first): each gets the same `legacy seed` (10 tenants, 10,000 v3 rows, seed 1) plus
//! the same N assets in the legacy shape, spread over the seeded discovery flows; the second is then
//! consolidated (`consolidate`, no backup). The queries run in rotation on the legacy database, on
//! the consolidated one as its owner and under row-level security (as `modernize_app` with the
//! tenant set, as the application runs them), for the tenant with the most assets; each side on
//! its own connection, so that its prepared statements keep their plans (PostgreSQL re-plans a
//! cached statement whenever the role it runs under changes, which the application never does).
//! With `--write`, the table between the `degradation-benchmark` markers of that file is replaced.

use std::time::{Duration, Instant};

use modernize::db::Database;
use modernize::perf::report::{self, load_average};
use modernize_consolidation::legacy::{self, SeedOptions};
use modernize_consolidation::{Options, Progress, consolidate};
use sqlx::types::Uuid;
use sqlx::{Connection, PgConnection};

type Error = Box<dyn std::error::Error>;

const RUNS: usize = 300;

/// The queries, the same text on both schemas: `$1` the client account, `$2` (where used) its
/// engagement.
const QUERIES: [(&str, &str); 5] = [
    (
        "(a) tenant + environment, LIMIT 100 (the seed's)",
        "SELECT * FROM migration.assets WHERE client_account_id = $1 AND environment = 'production' LIMIT 100",
    ),
    (
        "(b) master-flow join, LIMIT 100 (the seed's)",
        "SELECT a.*, df.status, cf.flow_type
           FROM migration.assets a
           JOIN migration.discovery_flows df ON a.discovery_flow_id = df.id
           JOIN migration.crewai_flow_state_extensions cf ON a.master_flow_id = cf.flow_id
          WHERE a.client_account_id = $1 AND a.master_flow_id IS NOT NULL
          LIMIT 100",
    ),
    (
        "(c) engagement's assets by name, first page of 100",
        "SELECT * FROM migration.assets WHERE client_account_id = $1 AND engagement_id = $2 ORDER BY name, id LIMIT 100",
    ),
    (
        "(d) counts per 6R strategy",
        "SELECT six_r_strategy, count(*) FROM migration.assets WHERE client_account_id = $1 AND engagement_id = $2 GROUP BY 1",
    ),
    (
        "(d) counts per type",
        "SELECT asset_type, count(*) FROM migration.assets WHERE client_account_id = $1 AND engagement_id = $2 GROUP BY 1",
    ),
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// A fresh database with the legacy seed and `assets` more assets.
async fn legacy_database(base: &Database, suffix: &str, assets: i64) -> Result<(Database, PgConnection), Error> {
    let database = Database::from_options(base.options().clone().database(&format!("{}_{suffix}", base.name())));
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    legacy::seed(&mut conn, SeedOptions { tenants: 10, v3_rows: 10_000, seed: 1, replace: false }).await?;
    legacy::add_assets(&mut conn, assets).await?;
    Ok((database, conn))
}

/// How the run reads: the legacy database, the consolidated one as owner or under RLS.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Legacy,
    Owner,
    Rls,
}

async fn run(conn: &mut PgConnection, side: Side, sql: &str, tenant: (Uuid, Uuid)) -> Result<Duration, Error> {
    let mut tx = conn.begin().await?;
    if side == Side::Rls {
        sqlx::query("SELECT set_config('modernize.client_account_id', $1::text, true)")
            .bind(tenant.0)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql("SET LOCAL ROLE modernize_app").execute(&mut *tx).await?;
    }
    let started = Instant::now();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.0);
    if sql.contains("$2") {
        query = query.bind(tenant.1);
    }
    let rows = query.fetch_all(&mut *tx).await?;
    let elapsed = started.elapsed();
    if rows.is_empty() {
        return Err(format!("nothing found: {sql}").into());
    }
    drop(tx);
    Ok(elapsed)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write = report::take_option(&mut args, "--write")?;
    let assets: i64 = args.first().map(|a| a.parse()).transpose()?.unwrap_or(100_000);
    let base = Database::from_url(&std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?)?;

    let started = Instant::now();
    let (_, mut legacy) = legacy_database(&base, "legacy", assets).await?;
    let (consolidated_db, mut consolidated) = legacy_database(&base, "consolidated", assets).await?;
    eprintln!("two legacy databases seeded in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let report = consolidate(&mut consolidated, &Options::default(), &Progress::hidden()).await?;
    if !report.verification.as_ref().is_some_and(|v| v.passed) {
        return Err("the consolidation's verification failed".into());
    }
    let phases: Vec<String> =
        report.phases.iter().map(|p| format!("{} {:.1} s", p.phase, p.ms as f64 / 1000.0)).collect();
    let consolidated_in = format!("{:.1} s ({})", started.elapsed().as_secs_f64(), phases.join(", "));
    eprintln!("consolidated in {consolidated_in}");
    let mut under_rls = consolidated_db.connect().await?;
    for conn in [&mut legacy, &mut consolidated] {
        sqlx::raw_sql("VACUUM ANALYZE").execute(&mut *conn).await?;
    }
    let tenant: (Uuid, Uuid) = sqlx::query_as(
        "SELECT client_account_id, engagement_id FROM migration.assets GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1",
    )
    .fetch_one(&mut legacy)
    .await?;
    let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.assets WHERE client_account_id = $1")
        .bind(tenant.0)
        .fetch_one(&mut consolidated)
        .await?;

    let load_before = load_average();
    let mut table = String::new();
    for (name, sql) in QUERIES {
        let mut times: [Vec<Duration>; 3] = Default::default();
        for i in 0..RUNS {
            // Rotate which side goes first, so none always finds the caches warmed by another.
            for k in 0..3 {
                let side = [Side::Legacy, Side::Owner, Side::Rls][(i + k) % 3];
                let conn = match side {
                    Side::Legacy => &mut legacy,
                    Side::Owner => &mut consolidated,
                    Side::Rls => &mut under_rls,
                };
                times[side as usize].push(run(conn, side, sql, tenant).await?);
            }
        }
        let [l, o, r] = times.map(|mut t| {
            t.sort();
            (percentile(&t, 0.5), percentile(&t, 0.99))
        });
        eprintln!("{name}: legacy {l:.2?}, consolidated owner {o:.2?}, RLS {r:.2?} (p50, p99 ms)");
        table.push_str(&format!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            l.0,
            l.1,
            o.0,
            o.1,
            r.0,
            r.1,
            r.0 / l.0,
            r.1 / l.1
        ));
    }
    let table = format!(
        "Run of {} (UTC), {assets} assets added to `legacy seed --tenants 10 --rows 10000` (the tenant \
         measured has {counted}), consolidated in {consolidated_in}; load average (1, 5, 15 min) {load_before} → {}, \
         {RUNS} runs of each query per side in rotation, each side on its own connection; times in ms as the \
         client sees them (loopback). `degradation {assets}`\n\n\
         | query | legacy p50 | legacy p99 | consolidated owner p50 | owner p99 | consolidated RLS p50 | RLS p99 | \
         RLS/legacy p50 | RLS/legacy p99 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n{table}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
        load_average(),
    );
    println!("{table}");
    if let Some(path) = write {
        report::replace_table(std::path::Path::new(&path), "degradation", &table)?;
    }
    Ok(())
}
