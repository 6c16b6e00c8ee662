//! The tenant-query benchmark of docs/benchmarks.md (issue 16 item 1, seed task 5.3): for each
//! size, a fresh database with that many assets across 100 tenants (COPY, `perf::seed_assets`),
//! then p50/p99 of each query of the suite as the table owner and under row-level security (as
//! `modernize_app` with the tenant set), in the same transaction, alternating, with the ratio.
//!
//! ```sh
//! cargo build --release -p modernize --example query_benchmark
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/query_bench \
//!     ./target/release/examples/query_benchmark [--write docs/benchmarks.md] 10000 100000 1000000
//! ```
//! The database named in DATABASE_URL is dropped and re-created for each size. With `--write`, the
//! table between the `query-benchmark` markers of that file is replaced by this run's.

use std::time::{Duration, Instant};

use modernize::db::{Database, migrate};
use modernize::perf::report::{self, load_average};
use modernize::perf::{self, SeededTenant, SuiteQuery};
use modernize::repo::assets::{self, AssetFilter, AssetKey, AssetSort, SortOrder};
use modernize::tenancy::{OperatorToken, TenantCtx, TenantTx};

type Error = Box<dyn std::error::Error>;

const TENANTS: usize = 100;
/// Runs of each query per role and size (over the tenants in turn).
const RUNS: usize = 300;

/// The queries: the suite's fixed SQL, or the API's asset list (`repo::assets::list_assets`).
#[derive(Clone, Copy)]
enum Measured {
    Sql(SuiteQuery),
    /// `filter` gets the tenant's number (from 0) and how many assets each tenant has.
    List {
        name: &'static str,
        filter: fn(usize, usize) -> AssetFilter,
        sort: AssetSort,
        order: SortOrder,
        middle: bool,
    },
}

impl Measured {
    fn name(&self) -> &'static str {
        match self {
            Self::Sql(q) => q.name,
            Self::List { name, .. } => name,
        }
    }

    /// `t` is the tenant's number (from 0) in `perf::seed_assets`' order, of `per_tenant` assets.
    async fn run(
        &self,
        tx: &mut TenantTx<'_>,
        tenant: &SeededTenant,
        (t, per_tenant): (usize, usize),
        key: Option<&AssetKey>,
    ) -> Result<usize, Error> {
        Ok(match self {
            Self::Sql(q) => q.run(tx.conn(), tenant).await?,
            Self::List { filter, sort, order, middle, .. } => {
                let after = if *middle { key } else { None };
                assets::list_assets(tx, &filter(t, per_tenant), *sort, *order, after, 100).await?.len()
            }
        })
    }
}

fn queries() -> Vec<Measured> {
    vec![
        Measured::Sql(perf::TENANT_ENVIRONMENT),
        Measured::Sql(perf::MASTER_FLOW_JOIN),
        Measured::List {
            name: "(c) list by hostname, first page of 100",
            filter: |_, _| AssetFilter::default(),
            sort: AssetSort::Hostname,
            order: SortOrder::Asc,
            middle: false,
        },
        Measured::List {
            name: "(c) list by hostname desc, page after the middle",
            filter: |_, _| AssetFilter::default(),
            sort: AssetSort::Hostname,
            order: SortOrder::Desc,
            middle: true,
        },
        Measured::List {
            name: "(c) list by name, environment = Production, first page",
            filter: |_, _| AssetFilter { environment: Some("Production".into()), ..Default::default() },
            sort: AssetSort::Name,
            order: SortOrder::Asc,
            middle: false,
        },
        Measured::List {
            name: "(c) list by name desc, 6R = rehost, first page",
            filter: |_, _| AssetFilter {
                six_r_strategy: Some(modernize::models::SixrStrategy::Rehost),
                ..Default::default()
            },
            sort: AssetSort::Name,
            order: SortOrder::Desc,
            middle: false,
        },
        Measured::List {
            name: "(c) list by name, search for one hostname",
            // A hostname of this tenant's (another's would find nothing under RLS), at any size.
            filter: |t, per_tenant| AssetFilter {
                search: Some(perf::searched_hostname(t, per_tenant)),
                ..Default::default()
            },
            sort: AssetSort::Name,
            order: SortOrder::Asc,
            middle: false,
        },
        Measured::Sql(perf::COUNTS_PER_STRATEGY),
        Measured::Sql(perf::COUNTS_PER_TYPE),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

struct Row {
    size: usize,
    query: &'static str,
    owner: (f64, f64),
    rls: (f64, f64),
}

async fn measure_size(database: &Database, operator: &OperatorToken, size: usize) -> Result<Vec<Row>, Error> {
    database.drop_if_exists().await?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    migrate::upgrade(&mut conn, None).await?;
    let started = Instant::now();
    let tenants = perf::seed_assets(&mut conn, TENANTS, size / TENANTS).await?;
    eprintln!("{size} assets seeded in {:.1} s", started.elapsed().as_secs_f64());
    let mut contexts = Vec::new();
    for tenant in &tenants {
        contexts.push(
            TenantCtx::for_operator(&mut conn, operator, tenant.client_account_id, Some(tenant.engagement_id)).await?,
        );
    }
    let mut rows = Vec::new();
    for query in queries() {
        let (mut owner, mut rls) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
        for run in 0..RUNS {
            let t = run % TENANTS;
            let mut tx = TenantTx::begin(&mut conn, &contexts[t]).await?;
            // The middle of the tenant's list, as a cursor (read once, not timed).
            let middle = (size / TENANTS / 2) as i64;
            let half = assets::list_assets(
                &mut tx,
                &AssetFilter::default(),
                AssetSort::Hostname,
                SortOrder::Asc,
                None,
                middle,
            )
            .await?
            .pop()
            .map(|a| AssetKey { value: a.sort_value, id: a.asset.id });
            // Alternate which role goes first, so neither always finds the cache warmed by the other.
            for as_owner in if run % 2 == 0 { [true, false] } else { [false, true] } {
                let role = if as_owner { "RESET ROLE" } else { "SET LOCAL ROLE modernize_app" };
                sqlx::raw_sql(role).execute(tx.conn()).await?;
                let begun = Instant::now();
                let found = query.run(&mut tx, &tenants[t], (t, size / TENANTS), half.as_ref()).await?;
                let elapsed = begun.elapsed();
                if found == 0 {
                    return Err(format!("{} found nothing for tenant {t}", query.name()).into());
                }
                if as_owner { owner.push(elapsed) } else { rls.push(elapsed) }
            }
            drop(tx);
        }
        owner.sort();
        rls.sort();
        let row = Row {
            size,
            query: query.name(),
            owner: (percentile(&owner, 0.5), percentile(&owner, 0.99)),
            rls: (percentile(&rls, 0.5), percentile(&rls, 0.99)),
        };
        eprintln!(
            "{size:>9} {:<50} owner p50 {:.2} p99 {:.2} ms, RLS p50 {:.2} p99 {:.2} ms",
            row.query, row.owner.0, row.owner.1, row.rls.0, row.rls.1
        );
        rows.push(row);
    }
    Ok(rows)
}

fn table(rows: &[Row], load: &str, command: &str) -> String {
    let mut out = format!(
        "Run of {} (UTC), load average (1, 5, 15 min) {load}, {RUNS} runs of each query per role over the 100 \
         tenants in turn, owner and RLS alternating in one transaction; times in ms, as the client sees them \
         (loopback). `{command}`\n\n\
         | assets | query | owner p50 | owner p99 | RLS p50 | RLS p99 | RLS/owner p50 | RLS/owner p99 |\n\
         | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M"),
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            r.size,
            r.query,
            r.owner.0,
            r.owner.1,
            r.rls.0,
            r.rls.1,
            r.rls.0 / r.owner.0,
            r.rls.1 / r.owner.1
        ));
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write = report::take_option(&mut args, "--write")?;
    let sizes: Vec<usize> = if args.is_empty() {
        vec![10_000, 100_000]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let database = Database::from_url(&url)?;
    let operator = OperatorToken::bootstrap().ok_or("the operator capability is already taken")?;
    let load_before = load_average();
    let mut rows = Vec::new();
    for size in &sizes {
        rows.extend(measure_size(&database, &operator, *size).await?);
    }
    let load = format!("{load_before} → {}", load_average());
    let command = format!("query_benchmark {}", sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
    let table = table(&rows, &load, &command);
    println!("{table}");
    if let Some(path) = write {
        report::replace_table(std::path::Path::new(&path), "query", &table)?;
    }
    Ok(())
}
