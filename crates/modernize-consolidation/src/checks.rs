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

use crate::plan::{Column, Resolved, quote};

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
    /// The keys of every row breaking it (what `--quarantine` moves to the archive).
    #[serde(skip)]
    pub keys: Vec<serde_json::Value>,
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
        write!(f, ": {} row(s) break the rule: {}. Rows:", self.rows, self.rule)?;
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
    let found: Result<Vec<RefusedRow>, sqlx::Error> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {key} AS key, ({source})::text AS value,
                format('%s characters, kept as %L', length(({source})::text),
                       ((({source})::{target_type})::{source_type})::text) AS note
         {changed} ORDER BY 1",
        key = b.source_key_json(),
    )))
    .fetch_all(&mut *tx)
    .await;
    let rows = match found {
        Ok(rows) => {
            sqlx::raw_sql("RELEASE SAVEPOINT modernize_conversion").execute(&mut *tx).await?;
            rows
        }
        Err(error) if error.as_database_error().is_some() => {
            // Some value does not convert at all: find which, row by row.
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT modernize_conversion").execute(&mut *tx).await?;
            sqlx::raw_sql(CAST_ERROR_FN).execute(&mut *tx).await?;
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT key, value, note
                 FROM (SELECT {key} AS key, ({source})::text AS value,
                              pg_temp.modernize_cast_error(({source})::text, '{source_type}', '{target_type}') AS note
                       FROM {table} s WHERE ({source}) IS NOT NULL) f
                 WHERE note IS NOT NULL ORDER BY 1",
                key = b.source_key_json(),
                table = b.source_table(),
            )))
            .fetch_all(&mut *tx)
            .await?
        }
        Err(error) => return Err(error),
    };
    Ok(refusal(b.source, Some(c.name.clone()), rule, rows))
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
    for ((c, labels), count) in enums.iter().zip(counts) {
        if count == 0 {
            continue;
        }
        let rows: Vec<RefusedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS key, ({source})::text AS value, NULL::text AS note FROM {table} s
             WHERE {wrong} ORDER BY 1",
            key = b.source_key_json(),
            source = c.source,
            table = b.source_table(),
            wrong = wrong(c, 0),
        )))
        .bind(labels)
        .fetch_all(&mut *tx)
        .await?;
        let rule = format!("a {} must be one of: {}", c.type_name, labels.join(", "));
        refusals.extend(refusal(b.source, Some(c.name.clone()), rule, rows));
    }
    Ok(refusals)
}

/// A foreign key of a consolidated table, with the legacy expressions of a bucket filling it.
#[derive(sqlx::FromRow)]
struct Reference {
    name: String,
    columns: Vec<String>,
    parent: String,
    parent_columns: Vec<String>,
}

/// SQLSTATEs of a row breaking a rule of the target: not null, foreign key, check.
pub(crate) fn breaks_a_rule(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| matches!(&*code, "23502" | "23503" | "23514"))
}

/// After a bucket's rows were refused by the target (NOT NULL, CHECK, FOREIGN KEY), finds which
/// legacy rows break which rule, by key, and for a reference to a row that was itself refused as a
/// conflict on another unique key, names that cause (the duplicate slug, not the engagement).
pub(crate) async fn diagnose(tx: &mut PgConnection, b: &Resolved) -> Result<Vec<Refusal>, sqlx::Error> {
    let Some(target) = b.target else { return Ok(Vec::new()) };
    let mut refusals = Vec::new();
    let live: Vec<&Column> = b.columns.iter().filter(|c| !c.deferred).collect();
    let candidate = format!(
        "SELECT {key} AS row_key, {columns} FROM {table} s",
        key = b.source_key_json(),
        columns = live.iter().map(|c| format!("({}) AS {}", c.insert, quote(&c.name))).collect::<Vec<_>>().join(", "),
        table = b.source_table(),
    );
    // NOT NULL.
    let not_null: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = to_regclass(format('migration.%I', $1::text)) AND a.attnum > 0 AND a.attnotnull",
    )
    .bind(target)
    .fetch_all(&mut *tx)
    .await?;
    for c in live.iter().filter(|c| not_null.contains(&c.name)) {
        let rule = format!("{target}.{} must not be NULL", c.name);
        let condition = format!("{} IS NULL", quote(&c.name));
        refusals.extend(rows_breaking(tx, b, &candidate, &condition, Some(&c.name), rule).await?);
    }
    // CHECK constraints, evaluated on the rows as they would be inserted.
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_expr(conbin, conrelid) FROM pg_constraint
         WHERE conrelid = to_regclass(format('migration.%I', $1::text)) AND contype = 'c'",
    )
    .bind(target)
    .fetch_all(&mut *tx)
    .await?;
    for (name, expression) in checks {
        let rule = format!("check {name} of {target}: {expression}");
        let condition = format!("NOT coalesce(({expression}), true)");
        refusals.extend(rows_breaking(tx, b, &candidate, &condition, None, rule).await?);
    }
    // FOREIGN KEYs to other tables (a row referencing its own table may point at a later row).
    let references: Vec<Reference> = sqlx::query_as(
        "SELECT k.conname::text AS name,
                array(SELECT attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS columns,
                p.relname::text AS parent,
                array(SELECT attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS parent_columns
         FROM pg_constraint k JOIN pg_class p ON p.oid = k.confrelid
         WHERE k.conrelid = to_regclass(format('migration.%I', $1::text)) AND k.contype = 'f' AND k.confrelid <> k.conrelid",
    )
    .bind(target)
    .fetch_all(&mut *tx)
    .await?;
    for r in references.iter().filter(|r| r.columns.iter().all(|c| live.iter().any(|l| l.name == *c))) {
        refusals.extend(dangling(tx, b, &candidate, r).await?);
    }
    Ok(refusals)
}

async fn rows_breaking(
    tx: &mut PgConnection,
    b: &Resolved,
    candidate: &str,
    condition: &str,
    column: Option<&str>,
    rule: String,
) -> Result<Option<Refusal>, sqlx::Error> {
    let value = column.map_or("NULL::text".to_owned(), |c| format!("{}::text", quote(c)));
    let rows: Vec<RefusedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT row_key AS key, {value} AS value, NULL::text AS note FROM ({candidate}) x WHERE {condition} ORDER BY 1"
    )))
    .fetch_all(&mut *tx)
    .await?;
    Ok(refusal(b.source, column.map(str::to_owned), rule, rows))
}

fn refusal(table: &str, column: Option<String>, rule: String, rows: Vec<RefusedRow>) -> Option<Refusal> {
    if rows.is_empty() {
        return None;
    }
    let keys: Vec<serde_json::Value> = rows.iter().map(|r| r.key.clone()).collect();
    let examples = rows.into_iter().take(EXAMPLES as usize).collect::<Vec<_>>();
    Some(Refusal {
        legacy_table: table.to_owned(),
        column,
        rule,
        rows: i64::try_from(keys.len()).unwrap_or(i64::MAX),
        examples,
        keys,
    })
}

/// Legacy rows whose reference finds no row in the parent table. When the parent row was refused as
/// a conflict on another unique key, the refusal names that parent row, the key and its holder.
async fn dangling(
    tx: &mut PgConnection,
    b: &Resolved,
    candidate: &str,
    r: &Reference,
) -> Result<Vec<Refusal>, sqlx::Error> {
    let parent_key: Vec<String> =
        r.parent_columns.iter().zip(&r.columns).map(|(p, c)| format!("'{p}', x.{}", quote(c))).collect();
    let matches: Vec<String> =
        r.parent_columns.iter().zip(&r.columns).map(|(p, c)| format!("p.{} = x.{}", quote(p), quote(c))).collect();
    let not_null: Vec<String> = r.columns.iter().map(|c| format!("x.{} IS NOT NULL", quote(c))).collect();
    let rows: Vec<(serde_json::Value, serde_json::Value)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT x.row_key, jsonb_build_object({parent_key}) FROM ({candidate}) x
         WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM migration.{parent} p WHERE {matches})
         ORDER BY 1",
        parent_key = parent_key.join(", "),
        not_null = not_null.join(" AND "),
        parent = quote(&r.parent),
        matches = matches.join(" AND "),
    )))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut refusals = Vec::new();
    let mut plain = Vec::new();
    // Parents refused as conflicts: (their legacy table, key, what refused them, dependents).
    let mut causes: Vec<(String, serde_json::Value, String, Vec<serde_json::Value>)> = Vec::new();
    for (key, parent) in rows {
        let cause: Option<(String, serde_json::Value, serde_json::Value)> = sqlx::query_as(
            "SELECT source_table, row_key, row_data FROM modernize.consolidation_archive
             WHERE reason = 'conflict' AND target_table = $1 AND row_data @> $2 LIMIT 1",
        )
        .bind(&r.parent)
        .bind(&parent)
        .fetch_optional(&mut *tx)
        .await?;
        match cause {
            Some((source, parent_key, data)) => match causes.iter_mut().find(|c| c.1 == parent_key) {
                Some(c) => c.3.push(key),
                None => {
                    let why = conflict_cause(tx, &r.parent, &data).await?;
                    causes.push((source, parent_key, why, vec![key]));
                }
            },
            None => plain.push(RefusedRow {
                key,
                value: Some(parent.to_string()),
                note: Some(format!("no {} row has this key", r.parent)),
            }),
        }
    }
    let columns = r.columns.join(", ");
    refusals.extend(refusal(
        b.source,
        Some(columns.clone()),
        format!("a reference ({}) must point at an existing row of {} of the same client account", r.name, r.parent),
        plain,
    ));
    for (source, parent_key, why, dependents) in causes {
        let listed: Vec<String> = dependents.iter().take(EXAMPLES as usize).map(|k| k.to_string()).collect();
        refusals.extend(refusal(
            &source,
            None,
            format!("{why}; {} row(s) of {} depend on it: {}", dependents.len(), b.source, listed.join(", ")),
            vec![RefusedRow { key: parent_key.clone(), value: None, note: None }],
        ));
        refusals.extend(refusal(
            b.source,
            Some(columns.clone()),
            format!("references {} {parent_key}, which is refused ({why})", r.parent),
            dependents.into_iter().map(|key| RefusedRow { key, value: None, note: None }).collect(),
        ));
    }
    Ok(refusals)
}

/// Why a legacy row archived as a conflict did not land: the unique key of `table` whose values
/// another row already holds, with that row's key.
async fn conflict_cause(tx: &mut PgConnection, table: &str, data: &serde_json::Value) -> Result<String, sqlx::Error> {
    let keys: Vec<(String, Vec<String>, bool)> = sqlx::query_as(
        "SELECT c.relname::text,
                ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(n, o)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o),
                i.indisprimary
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = to_regclass(format('migration.%I', $1::text)) AND i.indisunique AND i.indexprs IS NULL
         ORDER BY i.indisprimary DESC, 1",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    let primary: Vec<String> = keys.iter().find(|k| k.2).map(|k| k.1.clone()).unwrap_or_default();
    let holder_key: Vec<String> = primary.iter().map(|k| format!("'{k}', t.{}", quote(k))).collect();
    for (index, columns, is_primary) in &keys {
        if columns.iter().any(|c| data.get(c).is_none_or(serde_json::Value::is_null)) {
            continue;
        }
        let same: Vec<String> = columns.iter().map(|c| format!("t.{}::text = $1 ->> '{c}'", quote(c))).collect();
        let holder: Option<serde_json::Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT jsonb_build_object({holder_key}) FROM migration.{table} t WHERE {same} LIMIT 1",
            holder_key = holder_key.join(", "),
            table = quote(table),
            same = same.join(" AND "),
        )))
        .bind(data)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(holder) = holder {
            let values: Vec<String> = columns
                .iter()
                .map(|c| format!("{c} {}", data.get(c).map(|v| v.to_string()).unwrap_or_default()))
                .collect();
            let what = if *is_primary { "its key" } else { "unique key" };
            return Ok(format!("{what} {index}: {} is already held by {table} {holder}", values.join(", ")));
        }
    }
    Ok(format!("archived as a conflict on {table}"))
}
