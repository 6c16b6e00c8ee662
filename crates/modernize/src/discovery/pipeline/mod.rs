//! The discovery flow as durable jobs: each phase is one job (`discovery.phase`), and each job
//! ends by recording its phase and enqueueing the next in one transaction. A job may run again
//! after a crash: every phase is idempotent (the import resumes after its last committed chunk,
//! mappings and assets are upserted).
//!
//! - [`start`]: a flow begins (the upload checked, the flows and the import registered, the first
//!   phase queued);
//! - [`control`]: resume, retry, pause and cancel (the legal transitions are [`super::lifecycle`]'s);
//! - [`worker`]: runs the queued phases, one flow at a time, and records how each ended;
//! - one module per phase: [`import`], [`mapping`], [`inventory`] (cleansing and inventory in one
//!   pass), [`dependencies`] (with [`rvtools`], an RVTools workbook's other sheets); the 6R phase
//!   is [`super::sixr`].

mod control;
mod dependencies;
mod import;
mod inventory;
mod mapping;
mod rvtools;
mod start;
mod worker;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use control::{cancel, pause, resume};
pub use start::{check_awaiting_upload, register_pending, start, start_pending, start_stored};
pub use worker::{WorkerOptions, enqueue_phase, run_flow, run_worker};

use super::DiscoveryError;
use super::ingest::Encoding;
use super::values::DecimalMark;
use crate::models::DiscoveryPhase;
use crate::repo::RepoError;
use crate::repo::flows::{PhaseScope, flow_configuration};
use crate::tenancy::TenantTx;

pub const PHASE_JOB: &str = "discovery.phase";
/// Rows per committed chunk of the import: a crash loses at most one chunk of work.
const DEFAULT_CHUNK_ROWS: usize = 5_000;

/// Options of a discovery run, kept in the master flow's configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportOptions {
    pub sheet: Option<String>,
    #[serde(default)]
    pub encoding: Encoding,
    /// Approve suggestions at or above this confidence and leave the rest unmapped; without it
    /// the flow waits for a reviewer after the field-mapping phase.
    pub accept_above: Option<f64>,
    /// Whether the file writes decimal commas (`99,5`, thousands `1.234`): overrides what the
    /// file's cells show ([`super::ingest::FileShape::decimal_mark`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_comma: Option<bool>,
}

impl ImportOptions {
    /// The decimal mark to read the file's numbers with: the one given, else the one detected.
    pub fn decimal_mark(&self, detected: Option<DecimalMark>) -> Option<DecimalMark> {
        match self.decimal_comma {
            Some(true) => Some(DecimalMark::Comma),
            Some(false) => Some(DecimalMark::Point),
            None => detected,
        }
    }
}

/// What a discovery job needs to find its flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseJob {
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
    pub phase: DiscoveryPhase,
}

impl PhaseJob {
    /// The flows and the import the phase works under.
    pub fn scope(&self) -> PhaseScope {
        PhaseScope {
            master_flow_id: self.master_flow_id,
            discovery_flow_id: self.discovery_flow_id,
            data_import_id: self.data_import_id,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
    pub deprecations: Vec<crate::repo::imports::Deprecation>,
}

/// What a phase says when it is done.
pub(crate) enum Advance {
    Next(Map<String, Value>),
    /// The job did the work of these phases, its own first, each with its figures (its
    /// `duration_ms` among them).
    NextAfter(Vec<(DiscoveryPhase, Map<String, Value>)>),
    WaitForReview,
}

/// Where the flow's upload is and the options it was started with (kept in the master flow's
/// configuration); a configuration that does not decode is an error, never a default.
async fn flow_upload(tx: &mut TenantTx<'_>, job: &PhaseJob) -> Result<(PathBuf, ImportOptions), DiscoveryError> {
    let configuration = flow_configuration(tx, job.master_flow_id).await?;
    let path = configuration["upload_path"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| DiscoveryError::Invalid("the master flow has no upload path".into()))?;
    let options = serde_json::from_value(configuration["options"].clone())
        .map_err(|source| RepoError::Decode { what: "import options of the master flow", source })?;
    Ok((path, options))
}

/// A stored record (`raw_data`) as the JSON object it was written as.
fn record_object(value: Value) -> Result<Map<String, Value>, DiscoveryError> {
    serde_json::from_value(value).map_err(|source| RepoError::Decode { what: "import record", source }.into())
}
