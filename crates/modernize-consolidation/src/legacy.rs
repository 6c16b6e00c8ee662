//! The legacy database: its schema (`legacy/schema.sql`, documented in docs/legacy-schema.md) and
//! `legacy seed`, which fills it with deterministic multi-tenant data and every hard case.

use serde::Serialize;
use sqlx::PgConnection;

/// The pre-consolidation schema: every table in schema `migration`, in its old shape.
pub const SCHEMA_SQL: &str = include_str!("../legacy/schema.sql");
const SEED_SQL: &str = include_str!("../legacy/seed.sql");

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already has a schema `migration`; seed an empty database (or pass --replace)")]
    NotEmpty,
    #[error("--tenants must be at least 2 and --rows at least 100")]
    TooSmall,
    #[error("database error while seeding: {}", crate::describe(.0))]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub tenants: u32,
    /// Rows across the four v3 tables (about 97% of them in v3_raw_import_records).
    pub v3_rows: u64,
    pub seed: u64,
    /// Drop the schemas a previous seed or consolidation left first.
    pub replace: bool,
}

/// Row counts of the seeded tables, largest first.
#[derive(Debug, Clone, Serialize)]
pub struct SeedSummary {
    pub tables: Vec<(String, i64)>,
    pub total_rows: i64,
}

pub async fn seed(conn: &mut PgConnection, options: SeedOptions) -> Result<SeedSummary, SeedError> {
    if options.tenants < 2 || options.v3_rows < 100 {
        return Err(SeedError::TooSmall);
    }
    if options.replace {
        sqlx::raw_sql(
            "SET client_min_messages = warning;
             DROP SCHEMA IF EXISTS migration CASCADE;
             DROP SCHEMA IF EXISTS migration_legacy CASCADE;
             DROP SCHEMA IF EXISTS modernize CASCADE;
             RESET client_min_messages;",
        )
        .execute(&mut *conn)
        .await?;
    }
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'migration')")
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        return Err(SeedError::NotEmpty);
    }
    // v3 imports scale with the rows (a thousand raw records each); ten v3 rows per import are
    // flows and mappings, the rest raw records.
    let v3_imports = (options.v3_rows / 1000).max(4);
    let legacy_imports = (v3_imports / 2).max(4);
    let v3_raw_rows = options.v3_rows.saturating_sub(10 * v3_imports).max(10);
    // Numbers only (no user text), so formatting them into the SQL is safe. One transaction: a seed
    // exists completely or not at all.
    let sql = format!(
        "BEGIN;\n\
         CREATE TEMP TABLE seed_params ON COMMIT DROP AS SELECT '{}'::text AS seed, {}::int AS tenants, \
         {v3_imports}::bigint AS v3_imports, {legacy_imports}::bigint AS legacy_imports, \
         {v3_raw_rows}::bigint AS v3_raw_rows;\n{SCHEMA_SQL}{SEED_SQL}COMMIT;\n",
        options.seed, options.tenants
    );
    if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await {
        // Leave the connection usable for the caller.
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
        return Err(error.into());
    }
    summary(conn).await
}

/// `n` more assets in the legacy shape (varchar vocabularies, memory in MB) on a seeded database,
/// cycling over the discovery flows the seed's assets belong to; all derived from `n`, so two
/// databases given the same seed and `n` get the same rows (the degradation benchmark compares
/// two such). Errors: [`SeedError::Database`].
pub async fn add_assets(conn: &mut PgConnection, n: i64) -> Result<(), SeedError> {
    sqlx::query(ASSETS_SQL).bind(n).execute(conn).await?;
    Ok(())
}

const ASSETS_SQL: &str = "
    WITH flows AS (
        SELECT row_number() OVER (ORDER BY client_account_id, engagement_id, master_flow_id, discovery_flow_id) - 1 AS k,
               client_account_id, engagement_id, master_flow_id, discovery_flow_id
          FROM (SELECT DISTINCT a.client_account_id, a.engagement_id, a.master_flow_id, a.discovery_flow_id
                  FROM migration.assets a
                  JOIN migration.discovery_flows df ON df.id = a.discovery_flow_id
                  JOIN migration.crewai_flow_state_extensions cf ON cf.flow_id = a.master_flow_id) d),
    counted AS (SELECT count(*) AS flows FROM flows)
    INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id, name, hostname,
        ip_address, asset_type, environment, operating_system, cpu_cores, memory_mb, storage_mb, criticality,
        business_criticality, status, six_r_strategy, created_at, updated_at)
    SELECT f.client_account_id, f.engagement_id, f.master_flow_id, f.discovery_flow_id,
           'bench-' || lpad(n::text, 8, '0'), 'bench-' || lpad(n::text, 8, '0') || '.corp.example',
           '10.' || (n >> 16) % 256 || '.' || (n >> 8) % 256 || '.' || n % 256,
           (ARRAY['server', 'database', 'virtual_machine', 'application'])[n % 4 + 1],
           (ARRAY['production', 'development', 'test', 'staging'])[n / 4 % 4 + 1],
           (ARRAY['Windows Server 2019', 'Red Hat Enterprise Linux 8', 'Ubuntu 22.04'])[n / 3 % 3 + 1],
           2 << (n % 4), 1024 * (4 << (n % 5)), 1024 * (100 + n % 900),
           (ARRAY['low', 'medium', 'high', 'critical'])[n / 5 % 4 + 1],
           (ARRAY['low', 'medium', 'high', 'critical'])[n / 7 % 4 + 1],
           (ARRAY['discovered', 'assessed'])[n % 2 + 1],
           (ARRAY['rehost', 'replatform', 'refactor', 'repurchase', 'retire', 'retain'])[n % 6 + 1],
           timestamptz '2024-03-01 00:00:00+00', timestamptz '2024-03-01 00:00:00+00'
      FROM counted, generate_series(0, $1::int - 1) n JOIN flows f ON f.k = n % (SELECT flows FROM counted)";

async fn summary(conn: &mut PgConnection) -> Result<SeedSummary, SeedError> {
    let tables: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, (xpath('/row/n/text()',
                query_to_xml(format('SELECT count(*) AS n FROM migration.%I', c.relname), false, true, '')))[1]::text::bigint
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND c.relkind = 'r' ORDER BY 2 DESC, 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let total_rows = tables.iter().map(|(_, n)| n).sum();
    Ok(SeedSummary { tables, total_rows })
}
