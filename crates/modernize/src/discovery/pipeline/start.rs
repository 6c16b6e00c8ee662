//! How a discovery flow begins: the upload checked before anything is written, then the master
//! flow, the import and the discovery flow registered and the first phase queued, in one
//! transaction.

use std::path::Path;

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::worker::enqueue_phase;
use super::{ImportOptions, PhaseJob, Started};
use crate::discovery::DiscoveryError;
use crate::discovery::ingest::InventoryFile;
use crate::discovery::lifecycle::transition;
use crate::discovery::uploads;
use crate::models::{DataImport, DiscoveryPhase, FlowStatus, ImportStatus};
use crate::repo::RepoError;
use crate::repo::flows::{DiscoveryInput, create_discovery_flow, create_master_flow, set_flow_configuration};
use crate::repo::imports::{self, DataImportInput, Deprecation, insert_import, lock_import};
use crate::tenancy::{TenantCtx, TenantTx};

/// Starts a discovery of `file`: checks its structure first (a malformed file is refused before
/// anything is written), keeps a copy under `uploads_dir`, then in one transaction creates the
/// master flow, the discovery flow and the import, starts the flow and enqueues its first phase.
pub async fn start(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    uploads_dir: &Path,
    file: &Path,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    ctx.require_engagement("discovery_flows")?;
    InventoryFile::open(file, options.sheet.as_deref(), options.encoding)?;
    check_threshold(options)?;
    let filename = file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
    let upload = uploads::store(uploads_dir, file, &filename)?;
    start_stored(conn, ctx, &upload, options, DataImportInput::default()).await
}

fn check_threshold(options: &ImportOptions) -> Result<(), DiscoveryError> {
    match options.accept_above.filter(|t| !(0.0..=1.0).contains(t)) {
        Some(threshold) => Err(DiscoveryError::Repo(RepoError::Invalid {
            field: "accept_above".into(),
            message: format!("{threshold} is not a confidence in 0..1"),
        })),
        None => Ok(()),
    }
}

/// Starts a discovery of a file already stored under the uploads directory (an upload streamed
/// there by the API, or the copy [`start`] made): checks its structure, then registers the flows
/// and the import and enqueues the first phase in one transaction. On any error the upload is
/// deleted, so nothing is left that no flow refers to.
///
/// `metadata` describes the import as a client gave it (current or legacy field names, seed task
/// 4.2): what it leaves out comes from the file (name, size, type). A `file_size` that is not the
/// upload's size is Invalid; a `master_flow_id` must name a master flow of the engagement (Invalid
/// otherwise) and becomes the new master flow's parent.
pub async fn start_stored(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    upload: &uploads::Stored,
    options: &ImportOptions,
    metadata: DataImportInput,
) -> Result<Started, DiscoveryError> {
    let started = async {
        let engagement_id = ctx.require_engagement("discovery_flows")?;
        check_threshold(options)?;
        // The whole file within the limits before any flow exists: the import phase cannot stop
        // half-way at a far cell.
        InventoryFile::check_limits(&upload.file, options.sheet.as_deref())?;
        let shape = InventoryFile::open(&upload.file, options.sheet.as_deref(), options.encoding)?.shape;
        let filename = upload.file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
        let file = StoredFile { path: &upload.file, filename: &filename, size: upload.size, format: shape.format };
        register(conn, ctx, engagement_id, &file, options, metadata).await
    }
    .await;
    if started.is_err() {
        // Nothing refers to the copy: do not leave it behind.
        uploads::discard(upload);
    }
    started
}

/// A stored upload as [`register`] records it.
struct StoredFile<'a> {
    path: &'a Path,
    filename: &'a str,
    size: u64,
    format: &'a str,
}

impl StoredFile<'_> {
    /// The media type its format implies.
    fn mime_type(&self) -> &'static str {
        if self.format == "csv" {
            "text/csv"
        } else {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
    }
}

async fn register(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    engagement_id: Uuid,
    file: &StoredFile<'_>,
    options: &ImportOptions,
    mut metadata: DataImportInput,
) -> Result<Started, DiscoveryError> {
    if metadata.filename.is_none() && metadata.source_filename.is_none() {
        metadata.filename = Some(file.filename.to_owned());
    }
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (import, deprecations) = create_import_record(&mut tx, metadata).await?;
    let mut started = attach_upload(&mut tx, engagement_id, &import, file, options).await?;
    tx.commit().await?;
    started.deprecations = deprecations;
    Ok(started)
}

/// Seed task 4.1/4.2: the master flow of a new import first (its parent the `master_flow_id`
/// the client named, which must be a master flow of the engagement: Invalid otherwise), then
/// the import, `pending`, owned by it. Old and new field names as [`DataImportInput::resolve`].
async fn create_import_record(
    tx: &mut TenantTx<'_>,
    mut metadata: DataImportInput,
) -> Result<(DataImport, Vec<Deprecation>), DiscoveryError> {
    let parent = metadata.master_flow_id.take();
    let (mut new, deprecations) = metadata.resolve()?;
    if let Some(parent) = parent {
        crate::repo::flows::get_master_flow(tx, parent).await.map_err(|error| match error {
            RepoError::NotFound { .. } => RepoError::Invalid {
                field: "master_flow_id".into(),
                message: format!("no master flow {parent} in this engagement"),
            },
            other => other,
        })?;
    }
    let input = DiscoveryInput {
        flow_name: Some(format!("Discovery of {}", new.filename)),
        parent_flow_id: parent,
        ..Default::default()
    };
    let master = create_master_flow(tx, &input).await?;
    new.master_flow_id = Some(master.flow_id);
    Ok((insert_import(tx, new).await?, deprecations))
}

/// Gives a `pending` import its stored file and starts its discovery: the file's size must be
/// the one the import declared (Invalid, field `file_size`, otherwise); the size and type the
/// import leaves out come from the file; the master flow records where the file is; the
/// discovery flow is created under it, started, and its first phase queued. `deprecations` of
/// the answer is empty (the caller knows them).
async fn attach_upload(
    tx: &mut TenantTx<'_>,
    engagement_id: Uuid,
    import: &DataImport,
    file: &StoredFile<'_>,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    let size = i64::try_from(file.size).ok();
    if let Some(declared) = import.file_size.filter(|declared| Some(*declared) != size) {
        return Err(RepoError::Invalid {
            field: "file_size".into(),
            message: format!("{declared} bytes declared, the uploaded file has {}", file.size),
        }
        .into());
    }
    let master_flow_id = import.master_flow_id.ok_or_else(|| RepoError::Conflict {
        field: "master_flow_id".into(),
        message: "the import belongs to no master flow: start a new import".into(),
    })?;
    imports::set_upload_facts(tx, import.id, size, file.mime_type()).await?;
    let configuration = json!({"upload_path": file.path, "options": options});
    set_flow_configuration(tx, master_flow_id, &configuration).await?;
    let input = DiscoveryInput {
        flow_name: Some(format!("Discovery of {}", import.filename)),
        data_import_id: Some(import.id),
        ..Default::default()
    };
    let discovery = create_discovery_flow(tx, master_flow_id, &input).await?;
    transition(tx, discovery.id, FlowStatus::Running, "discovery started").await?;
    let job = PhaseJob {
        client_account_id: tx.client_account_id(),
        engagement_id,
        master_flow_id,
        discovery_flow_id: discovery.id,
        data_import_id: import.id,
        phase: DiscoveryPhase::DataImport,
    };
    enqueue_phase(tx.conn(), &job).await?;
    Ok(Started { master_flow_id, discovery_flow_id: discovery.id, data_import_id: import.id, deprecations: Vec::new() })
}

/// Registers an import whose file comes later (the old platform's JSON request, seed task 4.2):
/// its master flow first, then the import, `pending` until [`start_pending`] gives it its file.
/// `filename` (or its old name) is required: it names the file to come and tells its format.
pub async fn register_pending(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    metadata: DataImportInput,
) -> Result<(DataImport, Vec<Deprecation>), DiscoveryError> {
    ctx.require_engagement("data_imports")?;
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let registered = create_import_record(&mut tx, metadata).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Whether an import awaits its file: Conflict (field `status`) once a file was given (the
/// import is no longer `pending`, or a flow reads it).
pub fn check_awaiting_upload(import: &DataImport, read_by_flow: bool) -> Result<(), DiscoveryError> {
    if import.status != ImportStatus::Pending || read_by_flow {
        return Err(RepoError::Conflict {
            field: "status".into(),
            message: format!("the import {} already has its file (it is {})", import.id, import.status),
        }
        .into());
    }
    Ok(())
}

/// Gives the `pending` import `data_import_id` its file, already stored under the uploads
/// directory, and starts its discovery as [`start_stored`] does: the file's structure is
/// checked, then, with the import locked, it must still await its file (Conflict otherwise: a
/// second upload) and have the declared size (Invalid, `file_size`). On any error the upload is
/// deleted and the import still awaits its file.
pub async fn start_pending(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    data_import_id: Uuid,
    upload: &uploads::Stored,
    options: &ImportOptions,
) -> Result<Started, DiscoveryError> {
    let started = async {
        let engagement_id = ctx.require_engagement("discovery_flows")?;
        check_threshold(options)?;
        InventoryFile::check_limits(&upload.file, options.sheet.as_deref())?;
        let shape = InventoryFile::open(&upload.file, options.sheet.as_deref(), options.encoding)?.shape;
        let filename = upload.file.file_name().and_then(|n| n.to_str()).unwrap_or("upload").to_owned();
        let file = StoredFile { path: &upload.file, filename: &filename, size: upload.size, format: shape.format };
        let mut tx = TenantTx::begin(conn, ctx).await?;
        let import = lock_import(&mut tx, data_import_id).await?;
        let read_by_flow = imports::import_read_by_flow(&mut tx, data_import_id).await?;
        check_awaiting_upload(&import, read_by_flow)?;
        let started = attach_upload(&mut tx, engagement_id, &import, &file, options).await?;
        tx.commit().await?;
        Ok(started)
    }
    .await;
    if started.is_err() {
        uploads::discard(upload);
    }
    started
}
