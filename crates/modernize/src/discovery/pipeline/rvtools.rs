//! The extra sheets of an RVTools workbook (vHost, vDisk, vPartition, vNetwork), read in the
//! dependency phase before its placements are linked: each sheet is streamed like the import's
//! sheet (a reading thread, [`CHUNK_ROWS`] rows per statement, memory that of a chunk) into
//! staging tables of the phase's transaction, then applied ([`crate::repo::rvtools`], and
//! [`crate::repo::hosts`] for vHost). A re-run of the phase writes the same.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{ImportOptions, PhaseJob, flow_upload};
use crate::discovery::DiscoveryError;
use crate::discovery::ingest::{Encoding, IngestError, InventoryFile};
use crate::discovery::rvtools::{self, HostRow, Sheet, SheetIssue, SheetRow, VmRow};
use crate::repo::rvtools as repo;
use crate::repo::{hosts, imports};
use crate::tenancy::TenantTx;

/// Rows of a sheet staged by one statement.
const CHUNK_ROWS: usize = 2_000;

/// Rows read from a sheet for one statement, and the issues of the rows not read.
#[derive(Default)]
struct Chunk {
    vms: Vec<VmRow>,
    hosts: Vec<HostRow>,
    issues: Vec<SheetIssue>,
}

/// Reads the extra sheets of the flow's upload, when it is an RVTools workbook whose vInfo the
/// import read ([`rvtools::extra_sheets`]), and writes what the VM sheets say; vHost rows are
/// staged as hosts ([`hosts::stage_sheet_rows`], placed by the caller). Every row not read or
/// matched is an issue of the import (staged, [`imports::create_issue_staging`]), and so is a
/// sheet that cannot be opened (no header, past the limits). Returns the VM sheets' figures (per
/// sheet: `rows`, `vms` given facts and `unmatched` rows; empty for another file) and the name
/// of the vHost sheet read, if any.
pub(super) async fn read_extra_sheets(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
) -> Result<(Map<String, Value>, Option<String>), DiscoveryError> {
    let (upload, options) = flow_upload(tx, job).await?;
    let (path, imported) = (upload.clone(), options.sheet.clone());
    let sheets = tokio::task::spawn_blocking(move || rvtools::extra_sheets(&path, imported.as_deref()))
        .await
        .map_err(stopped)??;
    let mut figures = Map::new();
    let mut host_sheet = None;
    if sheets.is_empty() {
        return Ok((figures, host_sheet));
    }
    repo::create_staging(tx).await?;
    for (sheet, name) in sheets {
        if !stage_sheet(tx, &upload, sheet, &name, &options).await? {
            continue;
        }
        match sheet.facts_key() {
            None => host_sheet = Some(sheet.name().to_owned()),
            Some(key) => {
                let applied = repo::apply_vm_sheet(tx, job.data_import_id, sheet.name(), key).await?;
                let figure = json!({"rows": applied.rows, "vms": applied.vms, "unmatched": applied.unmatched});
                figures.insert(sheet.name().to_owned(), figure);
            }
        }
    }
    Ok((figures, host_sheet))
}

fn stopped(error: tokio::task::JoinError) -> DiscoveryError {
    DiscoveryError::Invalid(format!("the sheet reader stopped: {error}"))
}

/// Streams sheet `name` into the staging tables; false when it was not read (an issue says why).
async fn stage_sheet(
    tx: &mut TenantTx<'_>,
    upload: &Path,
    sheet: Sheet,
    name: &str,
    options: &ImportOptions,
) -> Result<bool, DiscoveryError> {
    let (sender, mut chunks) = tokio::sync::mpsc::channel(2);
    let (path, owned_name, owned_options) = (PathBuf::from(upload), name.to_owned(), options.clone());
    let reader = tokio::task::spawn_blocking(move || read_chunks(&path, sheet, &owned_name, &owned_options, &sender));
    let mut read = true;
    while let Some(chunk) = chunks.recv().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(Opened::Not(why)) => {
                imports::stage_issues(tx, &[SheetIssue::sheet_not_read(sheet.name(), why)]).await?;
                read = false;
                continue;
            }
            Err(Opened::Failed(error)) => return Err(error.into()),
        };
        if !chunk.issues.is_empty() {
            imports::stage_issues(tx, &chunk.issues).await?;
        }
        if !chunk.vms.is_empty() {
            repo::stage_vm_rows(tx, sheet.name(), &chunk.vms).await?;
        }
        if !chunk.hosts.is_empty() {
            hosts::stage_sheet_rows(tx, sheet.name(), &chunk.hosts).await?;
        }
    }
    reader.await.map_err(stopped)?;
    Ok(read)
}

/// Why a sheet's reading stopped: it was not opened (a warning), or failed half-way (an error:
/// what was staged would be part of the sheet).
enum Opened {
    Not(String),
    Failed(IngestError),
}

/// The reading thread: opens sheet `name` (its limits checked first), reads its rows and sends
/// them in chunks; stops when the receiver is gone.
fn read_chunks(
    path: &Path,
    sheet: Sheet,
    name: &str,
    options: &ImportOptions,
    sender: &tokio::sync::mpsc::Sender<Result<Chunk, Opened>>,
) {
    let opened = InventoryFile::check_limits(path, Some(name))
        .and_then(|()| InventoryFile::open(path, Some(name), Encoding::Auto))
        .map_err(|e| format!("{name}: not read: {e}"))
        .and_then(|file| rvtools::missing_column(sheet, &file.shape.headers).map_or(Ok(file), Err));
    let mut file = match opened {
        Ok(file) => file,
        Err(why) => {
            let _ = sender.blocking_send(Err(Opened::Not(why)));
            return;
        }
    };
    let mark = options.decimal_mark(file.shape.decimal_mark);
    let mut chunk = Chunk::default();
    loop {
        let record = match file.next_record() {
            Some(Ok(record)) => Some(record),
            Some(Err(error)) => {
                let _ = sender.blocking_send(Err(Opened::Failed(error)));
                return;
            }
            None => None,
        };
        let at_end = record.is_none();
        if let Some(record) = record {
            match rvtools::read_row(sheet, &record, mark) {
                SheetRow::Vm(row) => chunk.vms.push(row),
                SheetRow::Host(row) => chunk.hosts.push(row),
                SheetRow::Skipped(issues) => chunk.issues.extend(issues),
            }
        }
        let rows = chunk.vms.len() + chunk.hosts.len() + chunk.issues.len();
        if (rows >= CHUNK_ROWS || at_end) && rows > 0 && sender.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
            return;
        }
        if at_end {
            return;
        }
    }
}
