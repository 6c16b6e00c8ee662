//! The data model: one Rust type per table of schema `migration` (rows, inserts, patches, in
//! `tables.rs`, generated from the schema), Rust enums for its enum types, and typed JSONB state.

pub mod asset_fields;
mod openapi;
pub mod state;
pub mod table;
mod tables;

pub use state::{FlowState, PhaseState, PhaseStates, PhaseStatus};
pub use table::{EngagementScope, GlobalTable, IdentifiedRow, TenantTable};
pub use tables::*;

/// A string that names no variant of one of the schema's enum types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {}", expected.join(", "))]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
    pub expected: Vec<&'static str>,
}
