//! `db validate`: checks a database against the consolidated schema (seed task 2.3 and more)
//! and produces the validation report.

use serde::Serialize;
use sqlx::PgConnection;

use crate::schema::{DOMAIN_SCHEMA, MASTER_FLOW_TABLES, Ownership, REMOVED_TABLES, REQUIRED_TABLES, TABLES};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub description: &'static str,
    pub passed: bool,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TableReport {
    pub table: String,
    pub columns: i64,
    pub indexes: i64,
    pub foreign_keys: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub passed: bool,
    pub total_tables: usize,
    pub checks: Vec<Check>,
    pub tables: Vec<TableReport>,
}

impl ValidationReport {
    pub fn failures(&self) -> impl Iterator<Item = &String> {
        self.checks.iter().flat_map(|c| &c.failures)
    }
}

fn check(name: &'static str, description: &'static str, failures: Vec<String>) -> Check {
    Check { name, description, passed: failures.is_empty(), failures }
}

pub async fn validate(conn: &mut PgConnection) -> Result<ValidationReport, sqlx::Error> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let has = |name: &str| tables.iter().any(|t| t == name);

    let v3_tables: Vec<String> = sqlx::query_scalar(
        r"SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm') AND c.relname LIKE 'v3\_%'
            AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;

    let required = REQUIRED_TABLES
        .iter()
        .filter(|t| !has(t))
        .map(|t| format!("required table missing: {DOMAIN_SCHEMA}.{t}"))
        .collect();
    let removed = REMOVED_TABLES
        .iter()
        .filter(|t| has(t))
        .map(|t| format!("deprecated table still present: {DOMAIN_SCHEMA}.{t}"))
        .collect();

    let mut checks = vec![
        check(
            "no_v3_tables",
            "no v3_* table remains in any schema",
            v3_tables.into_iter().map(|t| format!("v3 table still present: {t}")).collect(),
        ),
        check("required_tables_present", "the tables seed task 2.3 requires exist", required),
        check("removed_tables_absent", "deprecated and merged tables are gone", removed),
        master_flow_check(conn, &tables).await?,
        no_is_mock_check(conn).await?,
        exact_table_set_check(&tables),
        tenant_key_check(conn, &tables).await?,
        tenant_index_check(conn, &tables).await?,
        foreign_key_index_check(conn).await?,
    ];
    checks.shrink_to_fit();

    let table_reports: Vec<TableReport> = sqlx::query_as(
        "SELECT c.relname::text AS table,
                (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
                (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
                (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f') AS foreign_keys
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;

    Ok(ValidationReport {
        passed: checks.iter().all(|c| c.passed),
        total_tables: tables.len(),
        checks,
        tables: table_reports,
    })
}

async fn master_flow_check(conn: &mut PgConnection, tables: &[String]) -> Result<Check, sqlx::Error> {
    // Tables whose master_flow_id column is covered by a foreign key to the master flow table.
    let referencing: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.relname::text FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class r ON r.oid = k.confrelid AND r.relnamespace = n.oid
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
         WHERE k.contype = 'f' AND n.nspname = $1 AND a.attname = 'master_flow_id'
           AND r.relname = 'crewai_flow_state_extensions'",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let with_column: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns
         WHERE table_schema = $1 AND column_name = 'master_flow_id'",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let mut failures = Vec::new();
    for table in MASTER_FLOW_TABLES.iter().filter(|t| tables.iter().any(|x| x == *t)) {
        if !with_column.iter().any(|t| t == table) {
            failures.push(format!("master_flow_id column missing from {DOMAIN_SCHEMA}.{table}"));
        } else if !referencing.iter().any(|t| t == table) {
            failures.push(format!(
                "{DOMAIN_SCHEMA}.{table}.master_flow_id does not reference crewai_flow_state_extensions"
            ));
        }
    }
    Ok(check(
        "master_flow_id_columns",
        "discovery_flows, assets, data_imports, raw_import_records and import_field_mappings reference their master flow",
        failures,
    ))
}

async fn no_is_mock_check(conn: &mut PgConnection) -> Result<Check, sqlx::Error> {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I.is_mock', table_schema, table_name) FROM information_schema.columns
         WHERE column_name = 'is_mock' AND table_schema NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(check(
        "no_is_mock_columns",
        "no is_mock column anywhere (demo data lives in its own client accounts)",
        columns.into_iter().map(|c| format!("is_mock column still present: {c}")).collect(),
    ))
}

fn exact_table_set_check(tables: &[String]) -> Check {
    let mut failures = Vec::new();
    if tables.len() != TABLES.len() {
        failures.push(format!(
            "expected exactly {} tables in schema {DOMAIN_SCHEMA}, found {}",
            TABLES.len(),
            tables.len()
        ));
    }
    for spec in TABLES.iter().filter(|spec| !tables.iter().any(|t| t == spec.name)) {
        failures.push(format!("missing table: {DOMAIN_SCHEMA}.{}", spec.name));
    }
    for table in tables.iter().filter(|t| crate::schema::table(t).is_none()) {
        failures.push(format!("unexpected table: {DOMAIN_SCHEMA}.{table}"));
    }
    check("exact_table_set", "schema migration holds exactly the 43 consolidated tables", failures)
}

fn present_tenant_tables(tables: &[String]) -> impl Iterator<Item = &'static str> {
    TABLES
        .iter()
        .filter(|spec| spec.ownership == Ownership::Tenant && tables.iter().any(|t| t == spec.name))
        .map(|spec| spec.name)
}

async fn tenant_key_check(conn: &mut PgConnection, tables: &[String]) -> Result<Check, sqlx::Error> {
    let keys: Vec<(String, bool)> = sqlx::query_as(
        "SELECT table_name::text, is_nullable = 'NO' FROM information_schema.columns
         WHERE table_schema = $1 AND column_name = 'client_account_id'",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let failures = present_tenant_tables(tables)
        .filter_map(|table| match keys.iter().find(|(t, _)| t == table) {
            None => Some(format!("{DOMAIN_SCHEMA}.{table} has no client_account_id column")),
            Some((_, false)) => Some(format!("{DOMAIN_SCHEMA}.{table}.client_account_id is nullable")),
            Some((_, true)) => None,
        })
        .collect();
    Ok(check("tenant_key_not_null", "every tenant table has client_account_id NOT NULL", failures))
}

async fn tenant_index_check(conn: &mut PgConnection, tables: &[String]) -> Result<Check, sqlx::Error> {
    let indexed: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.relname::text FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
         WHERE n.nspname = $1 AND a.attname = 'client_account_id' AND i.indpred IS NULL",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let failures = present_tenant_tables(tables)
        .filter(|table| !indexed.iter().any(|t| t == table))
        .map(|table| format!("{DOMAIN_SCHEMA}.{table} has no index leading with client_account_id"))
        .collect();
    Ok(check("tenant_key_indexed", "every tenant table has an index leading with client_account_id", failures))
}

async fn foreign_key_index_check(conn: &mut PgConnection) -> Result<Check, sqlx::Error> {
    // A foreign key is backed when some index starts with exactly its columns (in any order): then
    // deletes on the referenced table and joins on the key do not scan the table. The index may be
    // partial on one of those columns being NOT NULL: a NULL references nothing and equals nothing.
    let unbacked: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, k.conname::text,
                (SELECT string_agg(a.attname, ', ' ORDER BY array_position(k.conkey, a.attnum))
                 FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey))
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE k.contype = 'f' AND n.nspname = $1
           AND NOT EXISTS (
               SELECT 1 FROM pg_index i
               WHERE i.indrelid = k.conrelid
                 AND (i.indpred IS NULL
                      OR pg_get_expr(i.indpred, i.indrelid) IN (
                          SELECT '(' || quote_ident(a.attname) || ' IS NOT NULL)' FROM pg_attribute a
                          WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)))
                 AND (SELECT array_agg(x ORDER BY x)
                      FROM unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(k.conkey)]) x)
                     = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) x))
         ORDER BY 1, 2",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    let failures = unbacked
        .into_iter()
        .map(|(table, constraint, columns)| {
            format!("foreign key {constraint} on {DOMAIN_SCHEMA}.{table} ({columns}) is not backed by an index")
        })
        .collect();
    Ok(check("foreign_keys_indexed", "every foreign key is backed by an index", failures))
}
