//! The discovery pipeline: an inventory file becomes a clean asset inventory with dependencies
//! and a 6R strategy per asset, as phases of a discovery flow owned by a master flow.

pub mod cleansing;
pub mod ingest;
pub mod lifecycle;

use crate::models::FlowStatus;
use crate::repo::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("a flow cannot go from {from} to {to}")]
    IllegalTransition { from: FlowStatus, to: FlowStatus },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot store the upload {path}: {source}")]
    Upload {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<sqlx::Error> for DiscoveryError {
    fn from(error: sqlx::Error) -> Self {
        Self::Repo(error.into())
    }
}
