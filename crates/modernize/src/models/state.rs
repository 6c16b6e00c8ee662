//! Typed shapes of the JSONB state the flows keep.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DiscoveryPhase;

/// `discovery_flows.flow_state`: where the flow is and what it carries between phases. Unknown
/// keys written by other versions are kept, never dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_phase: Option<DiscoveryPhase>,
    #[serde(default)]
    pub phases_completed: Vec<DiscoveryPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `discovery_flows.phases`: the state of each phase, keyed by phase.
pub type PhaseStates = BTreeMap<DiscoveryPhase, PhaseState>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseState {
    pub status: PhaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Counts and figures the phase reports (rows imported, assets created...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metrics: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Skipped,
}
