//! The rules of the consolidated schema checked on the legacy rows while planning, before any row
//! moves: each refusal names the legacy table, the column, the rule in words and the rows (key and
//! value) that break it, so that a person can act on it.
//!
//! - **exact conversion**: a legacy column whose type differs from its target's (schema drift) is
//!   converted by the insert; every value must come back unchanged when converted back (`text` into
//!   `varchar(255)` drops trailing spaces, `numeric` into `double precision` rounds). Timestamps
//!   without time zone are read as UTC (the migrate transaction's `TimeZone`).
//! - **enum word**: a legacy `varchar` that becomes an enum must hold one of the enum's words.

use serde::Serialize;
use sqlx::PgConnection;

use crate::plan::{Column, Resolved};

/// Rows listed per refusal.
const EXAMPLES: i64 = 20;

/// Legacy rows that break one rule of the consolidated schema.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub legacy_table: String,
    pub column: Option<String>,
    /// The rule, in words.
    pub rule: String,
    /// How many legacy rows break it.
    pub rows: i64,
    /// Up to 20 of them.
    pub examples: Vec<RefusedRow>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RefusedRow {
    /// The legacy row's primary key.
    pub key: serde_json::Value,
    /// The offending value, as text.
    pub value: Option<String>,
    /// What happens to it, or PostgreSQL's words for why it cannot be converted.
    pub note: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "legacy table {}", self.legacy_table)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {} row(s) break the rule \"{}\":", self.rows, self.rule)?;
        for row in &self.examples {
            write!(f, " {}", row.key)?;
            if let Some(value) = &row.value {
                write!(f, " value {value:?}")?;
            }
            if let Some(note) = &row.note {
                write!(f, " ({note})")?;
            }
            write!(f, ";")?;
        }
        if self.rows > self.examples.len() as i64 {
            write!(f, " …")?;
        }
        Ok(())
    }
}

/// Turns a conversion error into a note per row (only run once a set-based conversion failed).
const CAST_ERROR_FN: &str = "
CREATE OR REPLACE FUNCTION pg_temp.modernize_cast_error(value text, source_type text, target_type text)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT ($1::%s)::%s', source_type, target_type) USING value;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN SQLERRM;
END $$";

/// Every planning check on every bucket; empty when the legacy rows can all move exactly.
pub(crate) async fn planning(tx: &mut PgConnection, buckets: &[Resolved]) -> Result<Vec<Refusal>, sqlx::Error> {
    let mut refusals = Vec::new();
    for bucket in buckets.iter().filter(|b| b.target.is_some()) {
        let mut enums = Vec::new();
        for column in &bucket.columns {
            if let Some(source_type) = &column.source_type {
                refusals.extend(conversion(tx, bucket, column, source_type).await?);
            }
            if let Some(labels) = enum_labels(tx, column).await? {
                enums.push((column, labels));
            }
        }
        refusals.extend(enum_words(tx, bucket, &enums).await?);
    }
    Ok(refusals)
}

async fn conversion(
    tx: &mut PgConnection,
    b: &Resolved,
    c: &Column,
    source_type: &str,
) -> Result<Option<Refusal>, sqlx::Error> {
    let (source, target_type) = (&c.source, &c.type_name);
    let rule = format!("a {source_type} value must convert to {target_type} exactly");
    let changed = format!(
        "FROM {table} s WHERE ({source}) IS NOT NULL
           AND ((({source})::{target_type})::{source_type})::text IS DISTINCT FROM ({source})::text",
        table = b.source_table(),
    );
    let checked = sqlx::raw_sql("SAVEPOINT modernize_conversion").execute(&mut *tx).await;
    checked?;
    let found: Result<(i64, Vec<RefusedRow>), sqlx::Error> = async {
        let rows =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {changed}"))).fetch_one(&mut *tx).await?;
        let examples = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS key, ({source})::text AS value,
                    format('%s characters, kept as %L', length(({source})::text),
                           ((({source})::{target_type})::{source_type})::text) AS note
             {changed} ORDER BY 1 LIMIT {EXAMPLES}",
            key = b.source_key_json(),
        )))
        .fetch_all(&mut *tx)
        .await?;
        Ok((rows, examples))
    }
    .await;
    let (rows, examples) = match found {
        Ok(found) => {
            sqlx::raw_sql("RELEASE SAVEPOINT modernize_conversion").execute(&mut *tx).await?;
            found
        }
        Err(error) if error.as_database_error().is_some() => {
            // Some value does not convert at all: find which, row by row.
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT modernize_conversion").execute(&mut *tx).await?;
            sqlx::raw_sql(CAST_ERROR_FN).execute(&mut *tx).await?;
            let failing = format!(
                "FROM (SELECT {key} AS key, ({source})::text AS value,
                              pg_temp.modernize_cast_error(({source})::text, '{source_type}', '{target_type}') AS note
                       FROM {table} s WHERE ({source}) IS NOT NULL) f
                 WHERE note IS NOT NULL",
                key = b.source_key_json(),
                table = b.source_table(),
            );
            let rows = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {failing}")))
                .fetch_one(&mut *tx)
                .await?;
            let examples = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT key, value, note {failing} ORDER BY key::text LIMIT {EXAMPLES}"
            )))
            .fetch_all(&mut *tx)
            .await?;
            (rows, examples)
        }
        Err(error) => return Err(error),
    };
    Ok((rows > 0).then(|| Refusal {
        legacy_table: b.source.to_owned(),
        column: Some(c.name.clone()),
        rule,
        rows,
        examples,
    }))
}

/// The words of the enum a column (or the elements of an array column) is of; None for other types.
async fn enum_labels(tx: &mut PgConnection, c: &Column) -> Result<Option<Vec<String>>, sqlx::Error> {
    let labels: Vec<String> = sqlx::query_scalar(
        "SELECT e.enumlabel::text FROM pg_enum e
         WHERE e.enumtypid = (SELECT CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
                              FROM pg_type t WHERE t.oid = $1::regtype)
         ORDER BY e.enumsortorder",
    )
    .bind(&c.type_name)
    .fetch_all(&mut *tx)
    .await?;
    Ok((!labels.is_empty()).then_some(labels))
}

/// One scan of the legacy table for all its enum columns; the rows only for the failing ones.
async fn enum_words(
    tx: &mut PgConnection,
    b: &Resolved,
    enums: &[(&Column, Vec<String>)],
) -> Result<Vec<Refusal>, sqlx::Error> {
    // Arrays of phases come from the documented mapping's own expressions, never a legacy word.
    let enums: Vec<&(&Column, Vec<String>)> = enums.iter().filter(|(c, _)| !c.type_name.ends_with("[]")).collect();
    if enums.is_empty() {
        return Ok(Vec::new());
    }
    let wrong = |c: &Column, i: usize| format!("({0}) IS NOT NULL AND NOT (({0})::text = ANY (${1}))", c.source, i + 1);
    let counts: Vec<String> =
        enums.iter().enumerate().map(|(i, (c, _))| format!("count(*) FILTER (WHERE {})", wrong(c, i))).collect();
    let sql = format!("SELECT ARRAY[{}] FROM {} s", counts.join(", "), b.source_table());
    let mut query = sqlx::query_scalar::<_, Vec<i64>>(sqlx::AssertSqlSafe(sql));
    for (_, labels) in &enums {
        query = query.bind(labels);
    }
    let counts = query.fetch_one(&mut *tx).await?;
    let mut refusals = Vec::new();
    for ((c, labels), rows) in enums.iter().zip(counts) {
        if rows == 0 {
            continue;
        }
        let examples = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS key, ({source})::text AS value, NULL::text AS note FROM {table} s
             WHERE {wrong} ORDER BY 1 LIMIT {EXAMPLES}",
            key = b.source_key_json(),
            source = c.source,
            table = b.source_table(),
            wrong = wrong(c, 0),
        )))
        .bind(labels)
        .fetch_all(&mut *tx)
        .await?;
        refusals.push(Refusal {
            legacy_table: b.source.to_owned(),
            column: Some(c.name.clone()),
            rule: format!("a {} must be one of: {}", c.type_name, labels.join(", ")),
            rows,
            examples,
        });
    }
    Ok(refusals)
}
