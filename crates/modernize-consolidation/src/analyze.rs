//! The `analyze` phase: seed task 1.1's current-state report (tables, column counts, sizes,
//! comments, exact row counts, the v3 tables first among equals).

use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TableState {
    pub table: String,
    pub columns: i64,
    pub size_bytes: i64,
    pub comment: Option<String>,
    pub rows: i64,
    /// v3, deprecated, merged (into a twin) or original.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub schema: String,
    pub tables: Vec<TableState>,
    pub total_size_bytes: i64,
    pub v3_rows: i64,
}

pub async fn analyze(conn: &mut PgConnection, schema: &str) -> Result<Analysis, sqlx::Error> {
    // Exact counts through query_to_xml: one statement, no SQL assembled here.
    let tables: Vec<TableState> = sqlx::query_as(
        "SELECT c.relname::text AS table,
                (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                    AS columns,
                pg_total_relation_size(c.oid) AS size_bytes,
                obj_description(c.oid, 'pg_class') AS comment,
                (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                                                     false, true, '')))[1]::text::bigint AS rows,
                CASE WHEN c.relname LIKE 'v3\\_%' THEN 'v3'
                     WHEN c.relname = ANY ($2) THEN 'deprecated'
                     WHEN c.relname = ANY ($3) THEN 'merged'
                     ELSE 'original' END AS kind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind = 'r'
         ORDER BY c.relname",
    )
    .bind(schema)
    .bind(&modernize::schema::REMOVED_TABLES[..6])
    .bind(&modernize::schema::REMOVED_TABLES[6..])
    .fetch_all(conn)
    .await?;
    let total_size_bytes = tables.iter().map(|t| t.size_bytes).sum();
    let v3_rows = tables.iter().filter(|t| t.kind == "v3").map(|t| t.rows).sum();
    Ok(Analysis { schema: schema.to_owned(), tables, total_size_bytes, v3_rows })
}
