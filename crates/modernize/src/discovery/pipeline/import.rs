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
    // A thread reads and encodes the next chunks while this task COPYs the current one.
    let keys = [ctx.client_account_id(), job.engagement_id, job.data_import_id, job.master_flow_id];
    let (sender, mut chunks) = tokio::sync::mpsc::channel(2);
    let chunk_rows = options.chunk_rows;
    let reader = tokio::task::spawn_blocking(move || encode_chunks(file, done, chunk_rows, keys, &sender));
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        // 100 is for when the import's counters are final.
        let progress = (chunk.fraction_read * 100.0).min(99.0);
        write_chunk(conn, ctx, job, &chunk, progress).await?;
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

/// Rows of the file encoded for COPY (text format), with what the import's counters need.
struct EncodedChunk {
    bytes: Vec<u8>,
    rows: i32,
    invalid: i32,
    last_row: i64,
    /// How much of the file was read when the chunk was complete.
    fraction_read: f64,
}

/// Reads the file after row `done` and sends it in chunks of `chunk_rows` encoded rows; stops
/// early when the receiver is gone (the import failed on the database side).
fn encode_chunks(
    mut file: InventoryFile,
    done: i64,
    chunk_rows: usize,
    keys: [Uuid; 4],
    sender: &tokio::sync::mpsc::Sender<Result<EncodedChunk, IngestError>>,
) {
    let prefix = keys.map(|k| k.to_string()).join("\t");
    let new_chunk = || EncodedChunk {
        bytes: Vec::with_capacity(chunk_rows * 512),
        rows: 0,
        invalid: 0,
        last_row: 0,
        fraction_read: 0.0,
    };
    let mut chunk = new_chunk();
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
            chunk.rows += 1;
            chunk.invalid += i32::from(!record.is_valid);
            chunk.last_row = record.row_number;
            let out = &mut chunk.bytes;
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(format!("\t{}\t{}\t", record.row_number, record.file_row).as_bytes());
            push_copy_text(out, &Value::Object(record.data).to_string());
            out.extend_from_slice(if record.is_valid { b"\tt\t" } else { b"\tf\t" });
            push_copy_text(out, &Value::Array(record.issues).to_string());
            out.push(b'\n');
        }
        if (chunk.rows as usize >= chunk_rows || at_end) && chunk.rows > 0 {
            chunk.fraction_read = file.fraction_read();
            if sender.blocking_send(Ok(std::mem::replace(&mut chunk, new_chunk()))).is_err() {
                return;
            }
        }
        if at_end {
            return;
        }
    }
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

/// One chunk and the import's counters, in one tenant transaction.
async fn write_chunk(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    chunk: &EncodedChunk,
    progress: f64,
) -> Result<(), DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    imports::insert_record_rows(&mut tx, &chunk.bytes).await?;
    imports::add_import_progress(&mut tx, job.data_import_id, chunk.rows, chunk.invalid, progress).await?;
    tx.commit().await?;
    Ok(())
}
