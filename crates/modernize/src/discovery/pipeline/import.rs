//! The import phase: the file streamed into `raw_import_records` by COPY, a chunk per transaction.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::worker::WorkerOptions;
use super::{Advance, PhaseJob, flow_upload};
use crate::discovery::DiscoveryError;
use crate::discovery::ingest::{IngestError, InventoryFile};
use crate::repo::imports;
use crate::tenancy::{TenantCtx, TenantTx};

/// Streams the file into raw_import_records, a chunk per transaction together with the import's
/// progress. A re-run resumes after the last committed row: each row lands exactly once.
pub(super) async fn import_records(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    options: &WorkerOptions,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let (upload, import_options) = flow_upload(&mut tx, job).await?;
    let done = imports::last_imported_row(&mut tx, job.data_import_id).await?;
    imports::mark_import_processing(&mut tx, job.data_import_id).await?;
    tx.commit().await?;
    let file = InventoryFile::open(&upload, import_options.sheet.as_deref(), import_options.encoding)?;
    let shape = file.shape.clone();
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    imports::set_raw_headers(&mut tx, job.data_import_id, &shape.headers).await?;
    tx.commit().await?;
    // A thread reads and encodes the next batches while this task COPYs the current one.
    let keys = [ctx.client_account_id(), job.engagement_id, job.data_import_id, job.master_flow_id];
    let (sender, mut batches) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let chunk_rows = options.chunk_rows.max(1);
    let reader = tokio::task::spawn_blocking(move || encode_batches(file, done, chunk_rows, keys, &sender));
    while let Some(first) = batches.recv().await {
        write_chunk(conn, ctx, job, first?, &mut batches).await?;
    }
    reader.await.map_err(|e| DiscoveryError::Invalid(format!("the file reader stopped: {e}")))?;
    // Fresh statistics after a bulk load, or the next phases' joins are planned for an empty table.
    // ANALYZE is for the table's owner: an owner-run exception that reads no row into this process.
    sqlx::query("ANALYZE migration.raw_import_records").execute(&mut *conn).await?;
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (total, failed) = imports::complete_import(&mut tx, job.data_import_id).await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("records".into(), json!(total));
    metrics.insert("invalid_records".into(), json!(failed));
    // What was detected, named in the summary.
    metrics.insert("format".into(), json!(shape.format));
    metrics.insert("encoding".into(), json!(shape.encoding));
    if let Some(delimiter) = shape.delimiter {
        metrics.insert("delimiter".into(), json!(delimiter.to_string()));
    }
    if let Some(sheet) = &shape.sheet {
        metrics.insert("sheet".into(), json!(sheet));
    }
    metrics.insert("header_row".into(), json!(shape.header_row));
    let mark = import_options.decimal_mark(shape.decimal_mark);
    let how = if import_options.decimal_comma.is_some() { "given" } else { "detected" };
    let mark = mark.map_or_else(|| "none in the cells".to_owned(), |m| format!("{:?} ({how})", m.symbol()));
    metrics.insert("decimal_mark".into(), json!(mark));
    Ok(Advance::Next(metrics))
}

/// Rows per batch the reader hands the writer: a few hundred KB of COPY text, so that what is in
/// flight between them (at most [`BATCHES_AHEAD`] batches, one being encoded, one being sent) is
/// the same whatever the chunk or the file.
const BATCH_ROWS: usize = 500;
/// Batches the reader may encode ahead of the writer.
const BATCHES_AHEAD: usize = 2;

/// Rows of the file encoded for COPY (text format), with what the import's counters need; a
/// chunk (committed as one) is a run of batches, the last one ending it.
struct EncodedBatch {
    bytes: Vec<u8>,
    rows: i32,
    invalid: i32,
    /// The chunk is complete with this batch (its `chunk_rows` rows, or the end of the file).
    ends_chunk: bool,
    /// How much of the file was read when the batch was complete.
    fraction_read: f64,
}

/// Reads the file after row `done` and sends it in batches of at most [`BATCH_ROWS`] encoded
/// rows, a chunk ending every `chunk_rows` rows and at the end of the file; stops early when the
/// receiver is gone (the import failed on the database side).
fn encode_batches(
    mut file: InventoryFile,
    done: i64,
    chunk_rows: usize,
    keys: [Uuid; 4],
    sender: &tokio::sync::mpsc::Sender<Result<EncodedBatch, IngestError>>,
) {
    let prefix = keys.map(|k| k.to_string()).join("\t");
    let headers = file.shape.headers.clone();
    let batch_rows = chunk_rows.min(BATCH_ROWS);
    let new_batch = || EncodedBatch {
        bytes: Vec::with_capacity(batch_rows * 512),
        rows: 0,
        invalid: 0,
        ends_chunk: false,
        fraction_read: 0.0,
    };
    let mut batch = new_batch();
    // Rows of the current chunk, this batch's included.
    let mut in_chunk = 0usize;
    loop {
        let record = match file.next_record() {
            Some(Ok(record)) => Some(record),
            Some(Err(error)) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
            None => None,
        };
        let at_end = record.is_none();
        if let Some(record) = record.filter(|r| r.row_number > done) {
            batch.rows += 1;
            batch.invalid += i32::from(!record.is_valid);
            in_chunk += 1;
            let out = &mut batch.bytes;
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(format!("\t{}\t{}\t", record.row_number, record.file_row).as_bytes());
            // The cells as an array when the header names them all, else the object (raw_data).
            let cells = cells_in_header_order(&headers, &record.data).map(|cells| array_literal(&cells));
            match &cells {
                Some(_) => out.extend_from_slice(b"\\N"),
                None => push_copy_text(out, &Value::Object(record.data).to_string()),
            }
            out.extend_from_slice(if record.is_valid { b"\tt\t" } else { b"\tf\t" });
            push_copy_text(out, &Value::Array(record.issues).to_string());
            out.push(b'\t');
            match &cells {
                Some(literal) => push_copy_text(out, literal),
                None => out.extend_from_slice(b"\\N"),
            }
            out.push(b'\n');
        }
        batch.ends_chunk = in_chunk >= chunk_rows || at_end;
        // At the end, a chunk begun in earlier batches is ended by this one, even empty.
        if (batch.rows as usize >= batch_rows || batch.ends_chunk) && in_chunk > 0 {
            batch.fraction_read = file.fraction_read();
            if batch.ends_chunk {
                in_chunk = 0;
            }
            if sender.blocking_send(Ok(std::mem::replace(&mut batch, new_batch()))).is_err() {
                return;
            }
        }
        if at_end {
            return;
        }
    }
}

/// A record's cells in the order of `headers` (None: an empty cell), when its object has exactly
/// those columns: every record but a row longer than the header, whose extra cells no header names
/// (`_extra_1`, ...). Its object is then `{headers[i]: cells[i]}`, what `migration.record_data`
/// builds back.
fn cells_in_header_order<'r>(headers: &[String], data: &'r Map<String, Value>) -> Option<Vec<Option<&'r str>>> {
    if data.len() != headers.len() {
        return None;
    }
    headers
        .iter()
        .map(|header| match data.get(header)? {
            Value::String(cell) => Some(Some(cell.as_str())),
            Value::Null => Some(None),
            _ => None,
        })
        .collect()
}

/// Cells as a PostgreSQL text array literal (`{"a","b",NULL}`: each cell quoted, `"` and `\`
/// escaped with a backslash); [`push_copy_text`] then escapes it for COPY like any other value.
fn array_literal(cells: &[Option<&str>]) -> String {
    let mut out = String::with_capacity(cells.iter().map(|c| c.map_or(4, |c| c.len() + 3)).sum::<usize>() + 2);
    out.push('{');
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let Some(cell) = cell else {
            out.push_str("NULL");
            continue;
        };
        out.push('"');
        for c in cell.chars() {
            if matches!(c, '\\' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Escapes a value for COPY's text format: backslash and the three separators it interprets.
fn push_copy_text(out: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(byte),
        }
    }
}

/// One chunk (`first` and the batches after it, up to the one that ends it) and the import's
/// counters, in one tenant transaction: each batch is sent to the COPY as it comes.
async fn write_chunk(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    first: EncodedBatch,
    batches: &mut tokio::sync::mpsc::Receiver<Result<EncodedBatch, IngestError>>,
) -> Result<(), DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (mut rows, mut invalid) = (0, 0);
    let mut copy = imports::copy_records(&mut tx).await?;
    let mut batch = first;
    let fraction_read = loop {
        copy.send(std::mem::take(&mut batch.bytes)).await?;
        rows += batch.rows;
        invalid += batch.invalid;
        if batch.ends_chunk {
            break batch.fraction_read;
        }
        batch = match batches.recv().await {
            Some(Ok(next)) => next,
            Some(Err(error)) => {
                copy.abort("the file could not be read").await?;
                return Err(error.into());
            }
            // The reader stopped without ending the chunk: its error is in its join.
            None => break batch.fraction_read,
        };
    };
    copy.finish().await?;
    imports::store_copied_records(&mut tx).await?;
    // 100 is for when the import's counters are final.
    let progress = (fraction_read * 100.0).min(99.0);
    imports::add_import_progress(&mut tx, job.data_import_id, rows, invalid, progress).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_the_header_and_a_longer_row_keeps_its_object() {
        let headers = vec!["b".to_owned(), "a".to_owned()];
        let data = json!({"a": "1", "b": null}).as_object().cloned().unwrap_or_default();
        assert_eq!(cells_in_header_order(&headers, &data), Some(vec![None, Some("1")]));
        let longer = json!({"a": "1", "b": "2", "_extra_1": "3"}).as_object().cloned().unwrap_or_default();
        assert_eq!(cells_in_header_order(&headers, &longer), None);
    }

    #[test]
    fn an_array_is_escaped_for_the_array_and_for_copy() {
        let cells = [Some("tab\there"), None, Some("q\"\\N"), Some("NULL"), Some("line\nbreak\r")];
        let mut copied = Vec::new();
        push_copy_text(&mut copied, &array_literal(&cells));
        assert_eq!(
            String::from_utf8(copied).expect("UTF-8"),
            r#"{"tab\there",NULL,"q\\"\\\\N","NULL","line\nbreak\r"}"#
        );
    }
}
