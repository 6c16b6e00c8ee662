//! The extra sheets of an RVTools workbook (vHost, vDisk, vPartition, vNetwork), read in the
//! dependency phase before its placements are linked: each sheet is streamed like the import's
//! sheet (a reading thread, [`CHUNK_ROWS`] rows per statement, memory that of a chunk) into
//! staging tables of the phase's transaction, then applied ([`crate::repo::rvtools`]). A re-run
//! of the phase writes the same.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{ImportOptions, PhaseJob, flow_upload};
use crate::discovery::DiscoveryError;
use crate::discovery::ingest::{Encoding, IngestError, InventoryFile};
use crate::discovery::rvtools::{self, HostRow, Sheet, SheetRow, VmRow};
use crate::repo::rvtools::{self as repo, WARNINGS_SHOWN};
use crate::tenancy::TenantTx;

/// Rows of a sheet staged by one statement.
const CHUNK_ROWS: usize = 2_000;

/// Rows read from a sheet for one statement, and the warnings of the rows not read.
#[derive(Default)]
struct Chunk {
    vms: Vec<VmRow>,
    hosts: Vec<HostRow>,
    warnings: Vec<String>,
}

/// The warnings of all sheets: the first [`WARNINGS_SHOWN`] kept, all counted.
#[derive(Default)]
struct Warnings {
    shown: Vec<String>,
    total: i64,
}

impl Warnings {
    fn add(&mut self, warnings: Vec<String>, total: i64) {
        self.total += total;
        let room = (WARNINGS_SHOWN as usize).saturating_sub(self.shown.len());
        self.shown.extend(warnings.into_iter().take(room));
    }
}

/// Reads the extra sheets of the flow's upload, when it is an RVTools workbook whose vInfo the
/// import read ([`rvtools::extra_sheets`]), and writes what they say. Returns the phase's figures:
/// `rvtools_sheets` (per sheet: `rows`, and `vms` given facts and `unmatched` rows, or
/// `hosts_created`, `hosts_updated` and `refused` rows), `sheet_warnings` (the first
/// [`WARNINGS_SHOWN`], each naming its sheet and row) and `sheet_warnings_total`; nothing for
/// another file. A sheet that cannot be opened (no header, past the limits) is a warning.
pub(super) async fn read_extra_sheets(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
) -> Result<Map<String, Value>, DiscoveryError> {
    let (upload, options) = flow_upload(tx, job).await?;
    let (path, imported) = (upload.clone(), options.sheet.clone());
    let sheets = tokio::task::spawn_blocking(move || rvtools::extra_sheets(&path, imported.as_deref()))
        .await
        .map_err(stopped)??;
    let mut metrics = Map::new();
    if sheets.is_empty() {
        return Ok(metrics);
    }
    repo::create_staging(tx).await?;
    let mut figures = Map::new();
    let mut warnings = Warnings::default();
    for (sheet, name) in sheets {
        if !stage_sheet(tx, &upload, sheet, &name, &options, &mut warnings).await? {
            continue;
        }
        let (applied, figure) = match sheet.facts_key() {
            None => {
                let applied = repo::apply_hosts(tx, &job.scope()).await?;
                let figure = json!({"rows": applied.rows, "hosts_created": applied.assets,
                    "hosts_updated": applied.hosts_updated, "refused": applied.unmatched});
                (applied, figure)
            }
            Some(key) => {
                let applied = repo::apply_vm_sheet(tx, job.data_import_id, sheet.name(), key).await?;
                let figure = json!({"rows": applied.rows, "vms": applied.assets, "unmatched": applied.unmatched});
                (applied, figure)
            }
        };
        warnings.add(applied.warnings, applied.unmatched);
        figures.insert(sheet.name().to_owned(), figure);
    }
    metrics.insert("rvtools_sheets".into(), Value::Object(figures));
    metrics.insert("sheet_warnings_total".into(), json!(warnings.total));
    metrics.insert("sheet_warnings".into(), json!(warnings.shown));
    Ok(metrics)
}

fn stopped(error: tokio::task::JoinError) -> DiscoveryError {
    DiscoveryError::Invalid(format!("the sheet reader stopped: {error}"))
}

/// Streams sheet `name` into the staging tables; false when it was not read (a warning says why).
async fn stage_sheet(
    tx: &mut TenantTx<'_>,
    upload: &Path,
    sheet: Sheet,
    name: &str,
    options: &ImportOptions,
    warnings: &mut Warnings,
) -> Result<bool, DiscoveryError> {
    let (sender, mut chunks) = tokio::sync::mpsc::channel(2);
    let (path, owned_name, owned_options) = (PathBuf::from(upload), name.to_owned(), options.clone());
    let reader = tokio::task::spawn_blocking(move || read_chunks(&path, sheet, &owned_name, &owned_options, &sender));
    let mut read = true;
    while let Some(chunk) = chunks.recv().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(Opened::Not(why)) => {
                warnings.add(vec![why], 1);
                read = false;
                continue;
            }
            Err(Opened::Failed(error)) => return Err(error.into()),
        };
        let count = chunk.warnings.len() as i64;
        warnings.add(chunk.warnings, count);
        if !chunk.vms.is_empty() {
            repo::stage_vm_rows(tx, sheet.name(), &chunk.vms).await?;
        }
        if !chunk.hosts.is_empty() {
            repo::stage_host_rows(tx, &chunk.hosts).await?;
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
                SheetRow::Skipped(why) => chunk.warnings.push(why),
            }
        }
        let rows = chunk.vms.len() + chunk.hosts.len() + chunk.warnings.len();
        if (rows >= CHUNK_ROWS || at_end) && rows > 0 && sender.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
            return;
        }
        if at_end {
            return;
        }
    }
}
