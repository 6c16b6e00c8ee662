//! Data imports, accepting the legacy field names of the old API (seed tasks 3.2, 4.2, 4.3).

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::table::insert;
use super::{Page, RepoError};
use crate::discovery::rvtools::SheetIssue;
use crate::models::{DataImport, ImportStatus, ImportType, NewDataImport};
use crate::tenancy::{OperatorToken, TenantTx};

/// A field of the old API that is accepted, ignored and reported back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deprecation {
    pub field: &'static str,
    pub message: String,
}

impl Deprecation {
    pub fn ignored(field: &'static str) -> Self {
        Self { field, message: format!("{field} is deprecated and was ignored") }
    }

    fn renamed(old: &'static str, new: &'static str) -> Self {
        Self { field: old, message: format!("{old} is deprecated: use {new}") }
    }
}

/// A new import as callers send it: current names, or the legacy aliases `source_filename`,
/// `file_size_bytes` and `file_type`; deprecated fields are accepted and never stored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataImportInput {
    pub import_name: Option<String>,
    pub import_type: Option<ImportType>,
    pub description: Option<String>,
    pub filename: Option<String>,
    pub source_filename: Option<String>,
    pub file_size: Option<i64>,
    pub file_size_bytes: Option<i64>,
    pub mime_type: Option<String>,
    pub file_type: Option<String>,
    pub source_system: Option<String>,
    pub master_flow_id: Option<Uuid>,
    pub is_mock: Option<serde_json::Value>,
    pub file_hash: Option<serde_json::Value>,
    pub import_config: Option<serde_json::Value>,
}

/// Picks the value given under the current name or its legacy alias; both with different
/// values is Invalid with `field` naming both (`filename,source_filename`).
fn aliased<T: PartialEq + std::fmt::Debug>(
    current: (&'static str, Option<T>),
    legacy: (&'static str, Option<T>),
    deprecations: &mut Vec<Deprecation>,
) -> Result<Option<T>, RepoError> {
    if legacy.1.is_some() {
        deprecations.push(Deprecation::renamed(legacy.0, current.0));
    }
    match (current.1, legacy.1) {
        (Some(a), Some(b)) if a != b => Err(RepoError::Invalid {
            field: format!("{},{}", current.0, legacy.0),
            message: format!(
                "{} = {a:?} and its legacy alias {} = {b:?} disagree: give one of them",
                current.0, legacy.0
            ),
        }),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

impl DataImportInput {
    /// The row to insert, and what was deprecated in the input.
    pub fn resolve(self) -> Result<(NewDataImport, Vec<Deprecation>), RepoError> {
        let mut deprecations = Vec::new();
        let filename =
            aliased(("filename", self.filename), ("source_filename", self.source_filename), &mut deprecations)?
                .filter(|f| !f.trim().is_empty())
                .ok_or_else(|| RepoError::Invalid { field: "filename".into(), message: "is required".into() })?;
        let file_size =
            aliased(("file_size", self.file_size), ("file_size_bytes", self.file_size_bytes), &mut deprecations)?;
        if let Some(size) = file_size.filter(|s| *s < 0) {
            return Err(RepoError::Invalid { field: "file_size".into(), message: format!("{size} is negative") });
        }
        let mime_type = aliased(("mime_type", self.mime_type), ("file_type", self.file_type), &mut deprecations)?;
        for (field, value) in
            [("is_mock", &self.is_mock), ("file_hash", &self.file_hash), ("import_config", &self.import_config)]
        {
            if value.is_some() {
                deprecations.push(Deprecation::ignored(field));
            }
        }
        let import_name = self.import_name.unwrap_or_else(|| filename.clone());
        let new = NewDataImport {
            id: None,
            master_flow_id: self.master_flow_id,
            import_name,
            import_type: self.import_type,
            description: self.description,
            filename,
            file_size,
            mime_type,
            source_system: self.source_system,
            status: None,
            progress_percentage: None,
            total_records: None,
            processed_records: None,
            failed_records: None,
            error_message: None,
            error_details: None,
            imported_by: None,
            created_at: None,
            updated_at: None,
            started_at: None,
            completed_at: None,
            sheet_issues: None,
            raw_headers: None,
        };
        Ok((new, deprecations))
    }
}

pub async fn create_import(
    tx: &mut TenantTx<'_>,
    input: DataImportInput,
) -> Result<(DataImport, Vec<Deprecation>), RepoError> {
    let (new, deprecations) = input.resolve()?;
    Ok((insert_import(tx, new).await?, deprecations))
}

/// Inserts a resolved import ([`DataImportInput::resolve`]), imported by the transaction's user.
pub async fn insert_import(tx: &mut TenantTx<'_>, mut new: NewDataImport) -> Result<DataImport, RepoError> {
    new.imported_by = tx.user_id();
    insert::<DataImport>(tx, &new).await
}

/// The import `data_import_id` of the transaction's engagement, locked until the transaction
/// ends (so two uploads of its file cannot both start a flow); NotFound otherwise.
pub async fn lock_import(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<DataImport, RepoError> {
    let row: Option<DataImport> = sqlx::query_as(
        "SELECT * FROM migration.data_imports
         WHERE client_account_id = $1 AND ($2::uuid IS NULL OR engagement_id = $2) AND id = $3 FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(tx.ctx().engagement_id())
    .bind(data_import_id)
    .fetch_optional(tx.conn())
    .await?;
    row.ok_or_else(|| RepoError::not_found("data import", data_import_id))
}

/// Marks the import `data_import_id` of the transaction's engagement `cancelled`, with `reason` as
/// its error message, when it still awaits its file: locked first, so an upload of its file that
/// is under way either finishes before (then Conflict, field `status`) or finds it cancelled.
/// NotFound for an import of another engagement or account.
pub async fn cancel_pending_import(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    reason: &str,
) -> Result<DataImport, RepoError> {
    let import = lock_import(tx, data_import_id).await?;
    // A statement of its own after the lock: it sees a flow the upload created before committing.
    if import.status != ImportStatus::Pending || import_read_by_flow(tx, data_import_id).await? {
        return Err(RepoError::Conflict {
            field: "status".into(),
            message: format!("the import {data_import_id} no longer awaits its file (it is {})", import.status),
        });
    }
    let cancelled = sqlx::query_as(
        "UPDATE migration.data_imports SET status = 'cancelled', error_message = $3, updated_at = now()
         WHERE client_account_id = $1 AND id = $2 RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(reason)
    .fetch_one(tx.conn())
    .await?;
    Ok(cancelled)
}

/// An import awaiting its file since before a cut-off, and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct StalePendingImport {
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub data_import_id: Uuid,
}

/// The imports, across client accounts, still `pending` (no flow reads them) that were created
/// more than `max_age` ago, oldest first. An operator's housekeeping query, hence the
/// [`OperatorToken`] (see [`crate::discovery::expiry`]): it reads only ids, status and times.
pub async fn stale_pending_imports(
    conn: &mut PgConnection,
    _operator: &OperatorToken,
    max_age: std::time::Duration,
) -> Result<Vec<StalePendingImport>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT i.client_account_id, i.engagement_id, i.id AS data_import_id
         FROM migration.data_imports i
         WHERE i.status = 'pending' AND i.created_at < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM migration.discovery_flows f
                           WHERE f.client_account_id = i.client_account_id AND f.data_import_id = i.id)
         ORDER BY i.created_at",
    )
    .bind(max_age.as_secs_f64())
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// An import with the discovery flow that reads it (None for an import no flow reads yet).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportWithFlow {
    #[sqlx(flatten)]
    pub import: DataImport,
    pub discovery_flow_id: Option<Uuid>,
}

/// The imports of a client account (`$1`), of one engagement (`$2`) unless it is NULL, with the
/// first discovery flow reading each (a macro: sqlx takes static SQL, `concat!` needs literals).
macro_rules! imports_with_flow {
    ($rest:literal) => {
        concat!(
            "SELECT i.*, (SELECT f.id FROM migration.discovery_flows f
                          WHERE f.client_account_id = i.client_account_id AND f.data_import_id = i.id
                          ORDER BY f.created_at LIMIT 1) AS discovery_flow_id
             FROM migration.data_imports i
             WHERE i.client_account_id = $1 AND ($2::uuid IS NULL OR i.engagement_id = $2) ",
            $rest
        )
    };
}

/// The imports of the transaction's engagement (of the whole client account when the context
/// names none), newest first, one page.
pub async fn list_imports(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<ImportWithFlow>, RepoError> {
    let rows = sqlx::query_as(imports_with_flow!("ORDER BY i.created_at DESC, i.id LIMIT $3 OFFSET $4"))
        .bind(tx.client_account_id())
        .bind(tx.ctx().engagement_id())
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows)
}

/// One import, in the transaction's engagement when the context names one; NotFound otherwise.
pub async fn get_import(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<ImportWithFlow, RepoError> {
    let row: Option<ImportWithFlow> = sqlx::query_as(imports_with_flow!("AND i.id = $3"))
        .bind(tx.client_account_id())
        .bind(tx.ctx().engagement_id())
        .bind(data_import_id)
        .fetch_optional(tx.conn())
        .await?;
    row.ok_or_else(|| RepoError::not_found("data import", data_import_id))
}

/// One problem of an import: an invalid row's error or a warning (from reading the file, from
/// cleansing a value, from matching identities), of one of its records or of a row of another
/// sheet of its workbook (`sheet`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ImportIssue {
    /// The record (1 = the first data row after the header); 0 for an issue no record holds (a
    /// row of another sheet, an ESXi host: see `sheet`), listed first.
    pub row_number: i32,
    /// The issue's place among the record's issues (1-based; among the issues no record holds
    /// when `row_number` is 0); with `row_number`, the cursor.
    pub issue_index: i32,
    /// The row in the file as a person sees it (CSV line, sheet row); None only for records
    /// imported before migration 0014 that the reader flagged nothing on, and for an issue of a
    /// whole sheet.
    pub file_row: Option<i64>,
    /// The column (header) concerned, when the issue names one.
    pub column: Option<String>,
    /// The record's value in that column, as read from the file.
    pub value: Option<String>,
    /// `error` (the row is invalid and was not imported as an asset, or not read) or `warning`.
    pub severity: String,
    /// What kind of problem: `long_row`, `short_row`, `nul_byte`, `cell_too_large`,
    /// `formula_injection`, `encoding`, `cleansing`, `out_of_range`, `unit_mismatch`, `merged`,
    /// `matched`, `identity_ambiguous`; of other sheets also `sheet_not_read`, `no_vm`, `no_host`,
    /// `unmatched_vm`, `host_is_vm`, `identity_conflict`.
    pub kind: String,
    /// Why, for a person.
    pub reason: String,
    /// The workbook's sheet of the row (`vHost`, `vDisk`, …); None for the sheet (or CSV file)
    /// the import read.
    pub sheet: Option<String>,
}

/// The issues of an import after the issue `(row_number, issue_index)` (`(0, 0)`: from the
/// start), at most `limit`: first those no record holds (`data_imports.sheet_issues`, row number
/// 0, in their order), then every invalid record's errors and every warning in file order.
pub async fn import_issues(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    after: (i32, i32),
    limit: i64,
) -> Result<Vec<ImportIssue>, RepoError> {
    let rows = sqlx::query_as(
        "(SELECT 0 AS row_number, s.n::int AS issue_index,
                 CASE WHEN jsonb_typeof(s.issue -> 'row') = 'number' THEN (s.issue ->> 'row')::bigint END AS file_row,
                 s.issue ->> 'column' AS column, s.issue ->> 'value' AS value,
                 coalesce(s.issue ->> 'severity', 'warning') AS severity, coalesce(s.issue ->> 'kind', 'other') AS kind,
                 coalesce(s.issue ->> 'message', '') AS reason, s.issue ->> 'sheet' AS sheet
          FROM migration.data_imports d
          CROSS JOIN LATERAL jsonb_array_elements(d.sheet_issues) WITH ORDINALITY AS s(issue, n)
          WHERE d.client_account_id = $1 AND d.id = $2 AND $3 = 0 AND s.n > $4
          ORDER BY s.n LIMIT $5)
         UNION ALL
         (SELECT r.row_number, i.n::int AS issue_index,
                 coalesce(CASE WHEN jsonb_typeof(i.issue -> 'row') = 'number' THEN (i.issue ->> 'row')::bigint END,
                          r.file_row,
                          (SELECT max((e ->> 'row')::bigint) FROM jsonb_array_elements(r.validation_errors) e
                           WHERE jsonb_typeof(e -> 'row') = 'number')) AS file_row,
                 i.issue ->> 'column' AS column,
                 migration.record_data(r.raw_data, d.raw_headers, r.raw_values) ->> (i.issue ->> 'column') AS value,
                 coalesce(i.issue ->> 'severity', 'warning') AS severity,
                 coalesce(i.issue ->> 'kind', 'other') AS kind,
                 coalesce(i.issue ->> 'message', '') AS reason, NULL::text AS sheet
          FROM migration.raw_import_records r
          CROSS JOIN LATERAL jsonb_array_elements(
              r.validation_errors || coalesce(r.cleansed_data -> 'issues', '[]')) WITH ORDINALITY AS i(issue, n)
          LEFT JOIN migration.data_imports d ON d.client_account_id = $1 AND d.id = $2
          WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.row_number >= $3
            -- The predicate of ix_raw_import_records_with_issues (migration 0023), word for word:
            -- only the records with an issue are read, not every record after the cursor.
            AND (r.validation_errors <> '[]'::jsonb OR (r.cleansed_data -> 'issues') <> '[]'::jsonb)
            AND (r.row_number, i.n) > ($3, $4::bigint)
          ORDER BY r.row_number, i.n LIMIT $5)
         ORDER BY row_number, issue_index LIMIT $5",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Issues no record holds named in the dependency phase's figures; the rest are counted.
pub const ISSUES_SHOWN: i64 = 20;

/// Creates the transaction's staging table of the issues no record holds (dropped at its end),
/// which [`store_sheet_issues`] writes to the import.
pub async fn create_issue_staging(tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE import_sheet_issues (seq bigserial, sheet text, file_row bigint, \"column\" text,
             value text, severity text, kind text, message text) ON COMMIT DROP",
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Stages `issues` (in their order).
pub async fn stage_issues(tx: &mut TenantTx<'_>, issues: &[SheetIssue]) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO pg_temp.import_sheet_issues (sheet, file_row, \"column\", value, severity, kind, message)
         SELECT x.v ->> 'sheet', (x.v ->> 'row')::bigint, x.v ->> 'column', x.v ->> 'value', x.v ->> 'severity',
                x.v ->> 'kind', x.v ->> 'message'
         FROM jsonb_array_elements($1) WITH ORDINALITY AS x(v, n)
         ORDER BY x.n",
    )
    .bind(sqlx::types::Json(issues))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The staged issues written as the import's `sheet_issues` (replacing an earlier run's), in
/// order: sheet by sheet as they were first staged, row by row (a sheet's own issues first).
/// Returns how many, and the first [`ISSUES_SHOWN`] as the figures name them (`<sheet> row
/// <row>: <message>` for a row of a sheet, else the message).
pub async fn store_sheet_issues(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<(i64, Vec<String>), RepoError> {
    sqlx::query(
        "UPDATE migration.data_imports SET sheet_issues = coalesce((
             SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('sheet', i.sheet, 'row', i.file_row, 'column', i.\"column\",
                        'value', i.value, 'severity', i.severity, 'kind', i.kind, 'message', i.message))
                    ORDER BY i.first, i.file_row NULLS FIRST, i.seq)
             FROM (SELECT *, min(seq) OVER (PARTITION BY sheet) AS first FROM pg_temp.import_sheet_issues) i), '[]')
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .execute(tx.conn())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM pg_temp.import_sheet_issues").fetch_one(tx.conn()).await?;
    let shown = sqlx::query_scalar(
        "SELECT CASE WHEN i.sheet IS NOT NULL AND i.file_row IS NOT NULL
                     THEN format('%s row %s: %s', i.sheet, i.file_row, i.message) ELSE i.message END
         FROM (SELECT *, min(seq) OVER (PARTITION BY sheet) AS first FROM pg_temp.import_sheet_issues) i
         ORDER BY i.first, i.file_row NULLS FIRST, i.seq LIMIT $1",
    )
    .bind(ISSUES_SHOWN)
    .fetch_all(tx.conn())
    .await?;
    Ok((total, shown))
}

/// Fills what the stored upload tells about the import where the import left it out: its size
/// in bytes (`size` None: beyond a bigint) and its media type.
pub async fn set_upload_facts(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    size: Option<i64>,
    mime_type: &str,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.data_imports SET file_size = coalesce(file_size, $3),
                mime_type = coalesce(mime_type, $4), updated_at = now()
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(size)
    .bind(mime_type)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether a discovery flow reads the import (then it has had its file).
pub async fn import_read_by_flow(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<bool, RepoError> {
    let read = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM migration.discovery_flows WHERE client_account_id = $1 AND data_import_id = $2)",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(read)
}

/// The highest data row number stored for the import, 0 when none: where a resumed import goes on.
pub async fn last_imported_row(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<i64, RepoError> {
    let done = sqlx::query_scalar(
        "SELECT coalesce(max(row_number), 0)::bigint FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(done)
}

/// Marks the import `processing`; a resumed import keeps the start of its first attempt.
pub async fn mark_import_processing(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.data_imports SET status = 'processing', started_at = coalesce(started_at, now())
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Keeps the import's column names (its file's header, in order): what its records' cells
/// ([`copy_records`]' `raw_values`) are paired with.
pub async fn set_raw_headers(tx: &mut TenantTx<'_>, data_import_id: Uuid, headers: &[String]) -> Result<(), RepoError> {
    sqlx::query("UPDATE migration.data_imports SET raw_headers = $3 WHERE client_account_id = $1 AND id = $2")
        .bind(tx.client_account_id())
        .bind(data_import_id)
        .bind(headers)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Starts storing records of an import given as COPY text rows (tab-separated, escaped as COPY's
/// text format, one `\n`-terminated line per record) of the columns `client_account_id,
/// engagement_id, data_import_id, master_flow_id, row_number, file_row, raw_data, is_valid,
/// validation_errors, raw_values`, a record being either `raw_values` (its cells in the order of
/// the import's headers, [`set_raw_headers`]; `raw_data` NULL) or the object `raw_data`
/// (`raw_values` NULL), as `migration.record_data` (migration 0022) reads them. Send them with the
/// returned COPY's `send` (in as many pieces as suits the caller: each is one message, so memory
/// is that of a piece), `finish` it (or `abort` it), then [`store_copied_records`]. PostgreSQL
/// does not COPY into a table under row-level security, so the rows go to a temporary table of
/// this transaction (dropped at its end).
pub async fn copy_records<'t>(
    tx: &'t mut TenantTx<'_>,
) -> Result<sqlx::postgres::PgCopyIn<&'t mut PgConnection>, RepoError> {
    sqlx::query(
        "CREATE TEMPORARY TABLE import_chunk (client_account_id uuid, engagement_id uuid, data_import_id uuid,
             master_flow_id uuid, row_number integer, file_row bigint, raw_data jsonb, is_valid boolean,
             validation_errors jsonb, raw_values text[])
         ON COMMIT DROP",
    )
    .execute(tx.conn())
    .await?;
    let copy = tx
        .conn()
        .copy_in_raw(
            "COPY import_chunk (client_account_id, engagement_id, data_import_id, master_flow_id,
                 row_number, file_row, raw_data, is_valid, validation_errors, raw_values) FROM STDIN",
        )
        .await?;
    Ok(copy)
}

/// Moves the records [`copy_records`] copied into `raw_import_records`, with one INSERT that the
/// policies check: a row of another tenant is refused (a database error), the whole chunk with it.
pub async fn store_copied_records(tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO migration.raw_import_records (client_account_id, engagement_id, data_import_id, master_flow_id,
                row_number, file_row, raw_data, is_valid, validation_errors, raw_values)
         SELECT client_account_id, engagement_id, data_import_id, master_flow_id, row_number, file_row, raw_data,
                is_valid, validation_errors, raw_values
         FROM import_chunk",
    )
    .execute(tx.conn())
    .await?;
    sqlx::query("DROP TABLE import_chunk").execute(tx.conn()).await?;
    Ok(())
}

/// Adds a stored chunk to the import's counters (`rows` records, `invalid` of them invalid) and
/// sets its progress (percent, 0..100).
pub async fn add_import_progress(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    rows: i32,
    invalid: i32,
    progress: f64,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.data_imports SET processed_records = processed_records + $3,
                failed_records = failed_records + $4, progress_percentage = $5, updated_at = now()
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(rows)
    .bind(invalid)
    .bind(progress)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks the import completed (progress 100, its total the records processed). Returns (total
/// records, invalid records); NotFound for an import not of this tenant.
pub async fn complete_import(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<(i64, i64), RepoError> {
    let counts = sqlx::query_as(
        "UPDATE migration.data_imports SET status = 'completed', progress_percentage = 100, completed_at = now(),
                total_records = processed_records, updated_at = now()
         WHERE client_account_id = $1 AND id = $2 RETURNING total_records::bigint, failed_records::bigint",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_optional(tx.conn())
    .await?;
    counts.ok_or_else(|| RepoError::not_found("data import", data_import_id))
}

/// The first `limit` valid records of the import (each as `{header: cell}`, in file order): what
/// the mapping engine samples.
pub async fn sample_records(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    limit: i64,
) -> Result<Vec<serde_json::Value>, RepoError> {
    let rows = sqlx::query_scalar(
        "SELECT migration.record_data(raw_data, (SELECT raw_headers FROM migration.data_imports
                                                 WHERE client_account_id = $1 AND id = $2), raw_values)
         FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid ORDER BY row_number LIMIT $3",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// A valid record of an import not yet cleansed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordToCleanse {
    pub id: Uuid,
    pub row_number: i32,
    /// The record as `{header: cell}`.
    pub raw_data: serde_json::Value,
}

/// Up to `limit` valid records of the import not yet cleansed, after data row `after`, in file
/// order: a keyset page (the next starts after the last row number of this one).
pub async fn records_to_cleanse(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    after: i32,
    limit: i64,
) -> Result<Vec<RecordToCleanse>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT id, row_number,
                migration.record_data(raw_data, (SELECT raw_headers FROM migration.data_imports
                                                 WHERE client_account_id = $1 AND id = $2), raw_values) AS raw_data
         FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND row_number > $3
           AND is_valid AND cleansed_data IS NULL
         ORDER BY row_number LIMIT $4",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// A valid record of an import as the inventory's matching reads it: its raw values if it is
/// not cleansed yet, else the identity and the matching keys its cleansing stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordIdentity {
    pub row_number: i32,
    pub raw_data: Option<serde_json::Value>,
    pub dedup_key: Option<String>,
    pub keys: Vec<String>,
}

/// Up to `limit` valid records of the import after data row `after`, in file order, cleansed or
/// not: a keyset page.
pub async fn record_identities(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    after: i32,
    limit: i64,
) -> Result<Vec<RecordIdentity>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT row_number,
                CASE WHEN cleansed_data IS NULL
                     THEN migration.record_data(raw_data, (SELECT raw_headers FROM migration.data_imports
                                                           WHERE client_account_id = $1 AND id = $2), raw_values)
                END AS raw_data,
                cleansed_data ->> 'dedup_key' AS dedup_key,
                ARRAY(SELECT jsonb_array_elements_text(coalesce(cleansed_data -> 'keys', '[]'))) AS keys
         FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND row_number > $3 AND is_valid
         ORDER BY row_number LIMIT $4",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Writes what cleansing made of records (`ids`, `documents` and `asset_ids` of the same length),
/// once per record: its `cleansed_data` and the asset it went into (None: it has no identity,
/// and stays unprocessed).
pub async fn write_cleansed_records(
    tx: &mut TenantTx<'_>,
    ids: &[Uuid],
    documents: &[serde_json::Value],
    asset_ids: &[Option<Uuid>],
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.raw_import_records r SET cleansed_data = c.doc, asset_id = c.asset_id,
                is_processed = c.asset_id IS NOT NULL,
                processed_at = CASE WHEN c.asset_id IS NOT NULL THEN now() END
         FROM unnest($2::uuid[], $3::jsonb[], $4::uuid[]) AS c(id, doc, asset_id)
         WHERE r.client_account_id = $1 AND r.id = c.id",
    )
    .bind(tx.client_account_id())
    .bind(ids)
    .bind(documents)
    .bind(asset_ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Says a merge on each of its rows, naming the others: every valid record of the import whose
/// identity other records share gets a `merged` warning in `cleansed_data.issues`, once whatever
/// the re-runs. Only those rows are written. Returns how many were flagged.
pub async fn flag_merged_records(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<u64, RepoError> {
    let flagged = sqlx::query(
        "UPDATE migration.raw_import_records r SET cleansed_data = jsonb_set(r.cleansed_data, '{issues}',
                coalesce(r.cleansed_data -> 'issues', '[]') || jsonb_build_array(jsonb_build_object(
                    'kind', 'merged', 'severity', 'warning',
                    'message', m.rows || ' are one asset (' || m.dedup_key
                        || '): merged, the last row''s values kept where they differ')))
         FROM (SELECT cleansed_data ->> 'dedup_key' AS dedup_key,
                      -- The rows a person sees in the file; records imported before migration
                      -- 0014 kept no file row and are named as data rows.
                      CASE WHEN bool_and(file_row IS NOT NULL)
                           THEN 'rows ' || string_agg(file_row::text, ', ' ORDER BY row_number)
                           ELSE 'data rows ' || string_agg(row_number::text, ', ' ORDER BY row_number) END AS rows
               FROM migration.raw_import_records
               WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid
                 AND cleansed_data ->> 'dedup_key' IS NOT NULL
               GROUP BY 1 HAVING count(*) > 1) m
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND r.cleansed_data ->> 'dedup_key' = m.dedup_key
           AND NOT coalesce(r.cleansed_data -> 'issues', '[]') @> '[{\"kind\": \"merged\"}]'",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> DataImportInput {
        serde_json::from_value(json).expect("valid input")
    }

    #[test]
    fn legacy_names_are_aliases() {
        let (new, deprecations) =
            input(serde_json::json!({"source_filename": "cmdb.csv", "file_size_bytes": 1024, "file_type": "text/csv"}))
                .resolve()
                .expect("resolves");
        assert_eq!(new.filename, "cmdb.csv");
        assert_eq!(new.file_size, Some(1024));
        assert_eq!(new.mime_type.as_deref(), Some("text/csv"));
        assert_eq!(new.import_name, "cmdb.csv");
        let fields: Vec<_> = deprecations.iter().map(|d| d.field).collect();
        assert_eq!(fields, ["source_filename", "file_size_bytes", "file_type"]);
    }

    #[test]
    fn both_names_must_agree() {
        let same = input(serde_json::json!({"filename": "a.csv", "source_filename": "a.csv"})).resolve();
        assert!(same.is_ok());
        let error = input(serde_json::json!({"filename": "a.csv", "source_filename": "b.csv"}))
            .resolve()
            .expect_err("disagreement");
        assert_eq!(
            error.to_string(),
            "invalid filename,source_filename: filename = \"a.csv\" and its legacy alias source_filename = \"b.csv\" \
             disagree: give one of them"
        );
    }

    #[test]
    fn deprecated_fields_are_reported_not_kept() {
        let (new, deprecations) = input(
            serde_json::json!({"filename": "a.csv", "is_mock": true, "file_hash": "abc", "import_config": {"x": 1}}),
        )
        .resolve()
        .expect("resolves");
        let stored = serde_json::to_value(&new).expect("serialises");
        for field in ["is_mock", "file_hash", "import_config"] {
            assert!(stored.get(field).is_none(), "{field} is never stored");
        }
        assert_eq!(deprecations.len(), 3);
    }

    #[test]
    fn missing_filename_and_unknown_fields_are_clear_errors() {
        let error = input(serde_json::json!({"import_name": "x"})).resolve().expect_err("no filename");
        assert_eq!(error.to_string(), "invalid filename: is required");
        let unknown = serde_json::from_value::<DataImportInput>(serde_json::json!({"filenam": "a.csv"}));
        assert!(unknown.expect_err("unknown field").to_string().contains("unknown field `filenam`"));
    }
}
