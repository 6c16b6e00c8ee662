//! The performance suite's data and queries (issue 16, seed task 5.3): a synthetic inventory of
//! many tenants loaded with COPY, and the tenant queries the suite measures and the plan tests
//! check. `examples/query_benchmark` measures them (`scripts/bench`); `tests/query_plans.rs` asserts
//! their plans. [`report`] is what every benchmark of `scripts/bench` shares to write its table.
//!
//! Seeding runs as the owner (a benchmark database, like a migration: it names every tenant it
//! writes); the queries run either as the owner or in a [`crate::tenancy::TenantTx`], under RLS.

use std::fmt::Write as _;

use sqlx::PgConnection;
use uuid::Uuid;

pub mod report;

/// One seeded tenant: a client account with one engagement, one master flow and one discovery
/// flow owning all its assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededTenant {
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
}

const ENVIRONMENTS: [&str; 4] = ["production", "development", "test", "staging"];
const TYPES: [&str; 4] = ["server", "database", "virtual_machine", "application"];
const STRATEGIES: [&str; 6] = ["rehost", "replatform", "refactor", "repurchase", "retire", "retain"];
const CRITICALITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const SYSTEMS: [&str; 4] =
    ["Windows Server 2019", "Red Hat Enterprise Linux 8", "Ubuntu 22.04", "Windows Server 2012 R2"];

/// Creates `tenants` client accounts (slugs `bench-<n>`, n from 1) and COPYs `assets_per_tenant`
/// assets into each, then ANALYZEs the tables. Values cycle through the enums so every filter
/// matches a fixed share (a quarter of the assets are `production`, a sixth `rehost`); one asset
/// in 50 has no hostname and two in three no migration wave (the lists' empty values).
/// `conn` must be the owner's, outside a transaction; the schema must be migrated.
pub async fn seed_assets(
    conn: &mut PgConnection,
    tenants: usize,
    assets_per_tenant: usize,
) -> Result<Vec<SeededTenant>, sqlx::Error> {
    let mut seeded = Vec::with_capacity(tenants);
    for t in 1..=tenants {
        let (client_account_id, engagement_id, master_flow_id, discovery_flow_id): (Uuid, Uuid, Uuid, Uuid) =
            sqlx::query_as(
                "WITH account AS (
                     INSERT INTO migration.client_accounts (name, slug) VALUES ('Bench tenant ' || $1, 'bench-' || $1)
                     RETURNING id),
                 engagement AS (
                     INSERT INTO migration.engagements (client_account_id, name, slug)
                     SELECT id, 'Benchmark', 'benchmark' FROM account RETURNING client_account_id, id),
                 master AS (
                     INSERT INTO migration.crewai_flow_state_extensions (client_account_id, engagement_id, flow_type)
                     SELECT client_account_id, id, 'discovery' FROM engagement RETURNING client_account_id, engagement_id, flow_id),
                 discovery AS (
                     INSERT INTO migration.discovery_flows (client_account_id, engagement_id, master_flow_id, status)
                     SELECT client_account_id, engagement_id, flow_id, 'completed' FROM master RETURNING id)
                 SELECT m.client_account_id, m.engagement_id, m.flow_id, d.id FROM master m, discovery d",
            )
            .bind(t.to_string())
            .fetch_one(&mut *conn)
            .await?;
        seeded.push(SeededTenant { client_account_id, engagement_id, master_flow_id, discovery_flow_id });
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id, name, hostname,
                 ip_address, asset_type, environment, operating_system, criticality, business_criticality,
                 six_r_strategy, status, migration_priority, migration_wave, cpu_cores, memory_gb, storage_gb,
                 dedup_key) FROM STDIN",
        )
        .await?;
    let mut chunk = String::with_capacity(1 << 20);
    for (t, tenant) in seeded.iter().enumerate() {
        for i in 0..assets_per_tenant {
            let n = t * assets_per_tenant + i;
            let hostname = seeded_hostname(t, assets_per_tenant, i).unwrap_or_else(|| "\\N".to_owned());
            let wave = if i % 3 == 0 { (i % 12 + 1).to_string() } else { "\\N".to_owned() };
            let _ = writeln!(
                chunk,
                "{}\t{}\t{}\t{}\tasset-{n:08}\t{hostname}\t10.{}.{}.{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{wave}\t{}\t{}\t{}\tname:asset-{n:08}",
                tenant.client_account_id,
                tenant.engagement_id,
                tenant.master_flow_id,
                tenant.discovery_flow_id,
                (n >> 16) & 255,
                (n >> 8) & 255,
                n & 255,
                TYPES[i % TYPES.len()],
                ENVIRONMENTS[i % ENVIRONMENTS.len()],
                SYSTEMS[i / 3 % SYSTEMS.len()],
                CRITICALITIES[i / 5 % CRITICALITIES.len()],
                CRITICALITIES[i / 7 % CRITICALITIES.len()],
                STRATEGIES[i % STRATEGIES.len()],
                if i % 2 == 0 { "discovered" } else { "assessed" },
                i % 10 + 1,
                2 << (i % 4),
                4 << (i % 5),
                100 + i % 900,
            );
            if chunk.len() > (1 << 20) - 1024 {
                copy.send(chunk.as_bytes()).await?;
                chunk.clear();
            }
        }
    }
    if !chunk.is_empty() {
        copy.send(chunk.as_bytes()).await?;
    }
    copy.finish().await?;
    sqlx::raw_sql("VACUUM ANALYZE migration.assets, migration.discovery_flows, migration.crewai_flow_state_extensions")
        .execute(&mut *conn)
        .await?;
    Ok(seeded)
}

/// The hostname [`seed_assets`] gives the `i`-th asset (from 0) of the `t`-th tenant (from 0) when
/// each tenant has `assets_per_tenant`: `srv-<n>`, n numbering the assets across tenants (8 digits),
/// or None (one asset in 50).
pub fn seeded_hostname(t: usize, assets_per_tenant: usize, i: usize) -> Option<String> {
    (i % 50 != 49).then(|| format!("srv-{:08}", t * assets_per_tenant + i))
}

/// A hostname of the `t`-th tenant's assets whatever the size (the tenant's 124th asset, or an
/// earlier one when it has fewer): what the benchmarks search for. Another tenant's hostname would
/// find nothing under row-level security.
pub fn searched_hostname(t: usize, assets_per_tenant: usize) -> String {
    let i = 123 % assets_per_tenant.max(1);
    // The asset before one without a hostname has one (i is then at least 49).
    seeded_hostname(t, assets_per_tenant, i)
        .or_else(|| seeded_hostname(t, assets_per_tenant, i.saturating_sub(1)))
        .unwrap_or_default()
}

/// A query of the suite: `$1` is the client account; `$2`, when `engagement` is set, the
/// engagement.
#[derive(Debug, Clone, Copy)]
pub struct SuiteQuery {
    pub name: &'static str,
    pub sql: &'static str,
    pub engagement: bool,
}

/// (a) Seed task 5.3's tenant + environment query, exactly as the seed writes it.
pub const TENANT_ENVIRONMENT: SuiteQuery = SuiteQuery {
    name: "(a) tenant + environment, LIMIT 100",
    sql: "SELECT * FROM migration.assets WHERE client_account_id = $1 AND environment = 'production' LIMIT 100",
    engagement: false,
};

/// (b) Seed task 5.3's master-flow join (with the tenant key in each join, as every foreign key
/// of the consolidated schema is).
pub const MASTER_FLOW_JOIN: SuiteQuery = SuiteQuery {
    name: "(b) master-flow join, LIMIT 100",
    sql: "SELECT a.*, df.status, cf.flow_type
            FROM migration.assets a
            JOIN migration.discovery_flows df
              ON df.client_account_id = a.client_account_id AND df.id = a.discovery_flow_id
            JOIN migration.crewai_flow_state_extensions cf
              ON cf.client_account_id = a.client_account_id AND cf.flow_id = a.master_flow_id
           WHERE a.client_account_id = $1 AND a.master_flow_id IS NOT NULL
           LIMIT 100",
    engagement: false,
};

/// (d) Counts per 6R strategy of an engagement.
pub const COUNTS_PER_STRATEGY: SuiteQuery = SuiteQuery {
    name: "(d) counts per 6R strategy",
    sql: "SELECT six_r_strategy, count(*) FROM migration.assets
           WHERE client_account_id = $1 AND engagement_id = $2 GROUP BY six_r_strategy",
    engagement: true,
};

/// (d) Counts per asset type of an engagement.
pub const COUNTS_PER_TYPE: SuiteQuery = SuiteQuery {
    name: "(d) counts per type",
    sql: "SELECT asset_type, count(*) FROM migration.assets
           WHERE client_account_id = $1 AND engagement_id = $2 GROUP BY asset_type",
    engagement: true,
};

impl SuiteQuery {
    /// Runs the query for `tenant` and returns how many rows it gave.
    pub async fn run(&self, conn: &mut PgConnection, tenant: &SeededTenant) -> Result<usize, sqlx::Error> {
        let mut query = sqlx::query(self.sql).bind(tenant.client_account_id);
        if self.engagement {
            query = query.bind(tenant.engagement_id);
        }
        Ok(query.fetch_all(conn).await?.len())
    }

    /// Its plan for `tenant`, executed (`EXPLAIN (ANALYZE, FORMAT JSON)`).
    pub async fn explain(
        &self,
        conn: &mut PgConnection,
        tenant: &SeededTenant,
    ) -> Result<serde_json::Value, sqlx::Error> {
        let sql = format!("EXPLAIN (ANALYZE, FORMAT JSON) {}", self.sql);
        let mut query = sqlx::query_scalar::<_, sqlx::types::Json<serde_json::Value>>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.client_account_id);
        if self.engagement {
            query = query.bind(tenant.engagement_id);
        }
        Ok(query.fetch_one(conn).await?.0)
    }
}

/// Every plan node of an `EXPLAIN (FORMAT JSON)` document, depth first, each with the node types
/// of its ancestors (nearest last).
pub fn plan_nodes(plan: &serde_json::Value) -> Vec<(Vec<String>, &serde_json::Value)> {
    fn walk<'a>(
        node: &'a serde_json::Value,
        ancestors: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, &'a serde_json::Value)>,
    ) {
        out.push((ancestors.clone(), node));
        let kind = node.get("Node Type").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
        ancestors.push(kind);
        for child in node.get("Plans").and_then(|p| p.as_array()).into_iter().flatten() {
            walk(child, ancestors, out);
        }
        ancestors.pop();
    }
    let mut out = Vec::new();
    let roots = plan.as_array().into_iter().flatten().filter_map(|entry| entry.get("Plan"));
    for root in roots {
        walk(root, &mut Vec::new(), &mut out);
    }
    out
}

/// What is wrong with an executed plan (`EXPLAIN (ANALYZE, FORMAT JSON)`) of a tenant query on
/// `assets`: a sequential scan of the table, or a sort that took in more than `sort_bound` rows
/// read from assets with no LIMIT between them (an index should give the order; sorting a handful
/// of rows, such as the few without a value, is the planner's cheaper choice). Counted rows, not
/// estimates: the plan tests must not pass on a misestimate. Empty when assets is read through
/// indexes.
pub fn plan_problems(plan: &serde_json::Value, sort_bound: f64) -> Vec<String> {
    /// The scans of assets under `node` that no Limit separates from it.
    fn unlimited_scans(node: &serde_json::Value) -> Vec<String> {
        let mut scans = Vec::new();
        for child in node.get("Plans").and_then(|p| p.as_array()).into_iter().flatten() {
            let kind = child.get("Node Type").and_then(|t| t.as_str()).unwrap_or_default();
            if kind == "Limit" {
                continue;
            }
            if child.get("Relation Name").and_then(|r| r.as_str()) == Some("assets") {
                scans.push(kind.to_owned());
            }
            scans.extend(unlimited_scans(child));
        }
        scans
    }
    let mut problems = Vec::new();
    for (_, node) in plan_nodes(plan) {
        let kind = node.get("Node Type").and_then(|t| t.as_str()).unwrap_or_default();
        if kind == "Seq Scan" && node.get("Relation Name").and_then(|r| r.as_str()) == Some("assets") {
            problems.push("sequential scan of assets".to_owned());
        }
        let input = node.get("Plans").and_then(|p| p.as_array()).and_then(|p| p.first());
        let count = |field: &str| input.and_then(|i| i.get(field)).and_then(|r| r.as_f64()).unwrap_or_default();
        let rows = count("Actual Rows") * count("Actual Loops");
        if (kind == "Sort" || kind == "Incremental Sort") && rows > sort_bound {
            for scan in unlimited_scans(node) {
                problems.push(format!("{kind} of {rows} rows of assets from a {scan}"));
            }
        }
    }
    problems
}

/// How many rows the scans of `assets` in an executed plan (`EXPLAIN (ANALYZE, FORMAT JSON)`) read
/// and then threw away by a Filter (counted, over all loops): the rows a qual that is no index
/// condition cost. A filter the index answers removes none.
pub fn assets_rows_filtered_out(plan: &serde_json::Value) -> f64 {
    plan_nodes(plan)
        .into_iter()
        .filter(|(_, node)| node.get("Relation Name").and_then(|r| r.as_str()) == Some("assets"))
        .map(|(_, node)| {
            let count = |field: &str| node.get(field).and_then(|r| r.as_f64()).unwrap_or_default();
            count("Rows Removed by Filter") * count("Actual Loops").max(1.0)
        })
        .sum()
}
