//! The discovery pipeline: an inventory file becomes a clean asset inventory with dependencies
//! and a 6R strategy per asset, as phases of a discovery flow owned by a master flow.

pub mod cleansing;
pub mod expiry;
pub mod identity;
pub mod ingest;
pub mod lifecycle;
pub mod pipeline;
pub mod rvtools;
pub mod sixr;
pub mod summary;
pub mod uploads;
pub mod values;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::models::FlowStatus;
use crate::models::asset_fields::target_fields;
use crate::repo::RepoError;
use crate::repo::mappings::LearnedMapping;

/// One column's suggested target, as the field-mapping engine gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingSuggestion {
    pub source_field: String,
    /// None: the column stays unmapped and is kept in custom_attributes.
    pub target_field: Option<String>,
    pub confidence: f64,
    pub match_type: String,
    pub explanation: String,
    pub alternatives: Value,
    /// Serialised [`cleansing::TransformationRules`].
    pub transformation_rules: Value,
}

/// The field-mapping engine as the pipeline uses it (implemented by the `modernize-mapping`
/// crate, wired in by the binary).
pub trait Suggester: Send + Sync {
    fn suggest(
        &self,
        headers: &[String],
        samples: &[Map<String, Value>],
        learned: &[LearnedMapping],
    ) -> Vec<MappingSuggestion>;

    /// The rules a column needs when a reviewer maps it to `target` (e.g. the unit its header
    /// names: `RAM (MB)` → memory_gb ×1/1024). None by default.
    fn rules_for(&self, _header: &str, _target: &str) -> cleansing::TransformationRules {
        cleansing::TransformationRules::default()
    }
}

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

/// The simplest honest suggester: a column whose normalised header is exactly an asset field
/// name maps to it with full confidence; learned approvals of the client account win, learned
/// rejections veto. The binary uses the full engine (`modernize-mapping`) instead.
pub struct ExactNameSuggester;

impl Suggester for ExactNameSuggester {
    fn suggest(
        &self,
        headers: &[String],
        _samples: &[Map<String, Value>],
        learned: &[LearnedMapping],
    ) -> Vec<MappingSuggestion> {
        headers
            .iter()
            .map(|header| {
                let normalised = header.trim().to_lowercase().replace([' ', '-', '.'], "_");
                let approved = learned.iter().find(|l| l.approved && l.source_field.eq_ignore_ascii_case(header));
                let rejected = |target: &str| {
                    learned.iter().any(|l| {
                        !l.approved
                            && l.source_field.eq_ignore_ascii_case(header)
                            && l.target_field.as_deref() == Some(target)
                    })
                };
                let (target, match_type, explanation) = match approved {
                    Some(l) => (l.target_field.clone(), "learned", "approved before in this client account".to_owned()),
                    None => match target_fields().find(|t| *t == normalised && !rejected(t)) {
                        Some(t) => (Some(t.to_owned()), "exact", format!("header is the field name {t}")),
                        None => (None, "unmapped", "no field of that name; kept in custom_attributes".to_owned()),
                    },
                };
                MappingSuggestion {
                    source_field: header.clone(),
                    confidence: if target.is_some() { 1.0 } else { 0.0 },
                    target_field: target,
                    match_type: match_type.to_owned(),
                    explanation,
                    alternatives: Value::Array(Vec::new()),
                    transformation_rules: Value::Object(Map::new()),
                }
            })
            .collect()
    }
}
