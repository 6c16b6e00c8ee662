//! A person's hand on a running flow: resume (or retry a failed phase), pause, cancel.

use serde_json::Map;
use uuid::Uuid;

use super::PhaseJob;
use super::mapping::decide_pending_mappings;
use super::worker::{enqueue_phase, finish_phases};
use crate::discovery::DiscoveryError;
use crate::discovery::lifecycle::transition;
use crate::jobs;
use crate::models::{DiscoveryPhase, FlowStatus};
use crate::repo::mappings;
use crate::tenancy::TenantTx;

/// Resumes a paused flow at its first unfinished phase, or retries a failed one from its failed
/// phase, in the caller's transaction. A flow paused for the review of its field mappings goes on
/// once none awaits review (`accept_above` decides the remaining suggestions: approved at or above
/// it, rejected below); Invalid (field `accept_above`) while some still await review.
pub async fn resume(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), DiscoveryError> {
    let flow = crate::repo::table::get::<crate::models::DiscoveryFlow>(tx, discovery_flow_id).await?;
    let (Some(master_flow_id), Some(data_import_id)) = (flow.master_flow_id, flow.data_import_id) else {
        return Err(DiscoveryError::Invalid("the flow has no import to resume".into()));
    };
    let unfinished = DiscoveryPhase::ALL.into_iter().find(|p| !flow.phases_completed.contains(p));
    let phase = match (flow.status, unfinished) {
        (FlowStatus::Failed, _) => flow.error_phase.or(unfinished).unwrap_or(DiscoveryPhase::DataImport),
        (FlowStatus::Paused, Some(phase)) => phase,
        (from, _) => return Err(DiscoveryError::IllegalTransition { from, to: FlowStatus::Running }),
    };
    let awaiting_review = phase == DiscoveryPhase::FieldMapping
        && flow.status == FlowStatus::Paused
        && mappings::count_mappings(tx, data_import_id, None).await? > 0;
    if awaiting_review {
        decide_pending_mappings(tx, data_import_id, accept_above).await?;
    }
    transition(tx, discovery_flow_id, FlowStatus::Running, "resumed").await?;
    let job = PhaseJob {
        client_account_id: tx.client_account_id(),
        engagement_id: flow.engagement_id,
        master_flow_id,
        discovery_flow_id,
        data_import_id,
        phase,
    };
    if awaiting_review {
        // The reviewers finished the mapping phase: record it and go on with the next.
        return finish_phases(tx, &job, vec![(phase, Map::new())]).await;
    }
    enqueue_phase(tx.conn(), &job).await
}

/// Pauses a running flow: the phase under way finishes its work, the next one waits for `resume`.
pub async fn pause(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<(), DiscoveryError> {
    transition(tx, discovery_flow_id, FlowStatus::Paused, "paused by a user").await?;
    Ok(())
}

/// Cancels the flow and its pending jobs.
pub async fn cancel(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<(), DiscoveryError> {
    transition(tx, discovery_flow_id, FlowStatus::Cancelled, "cancelled by a user").await?;
    jobs::cancel_for_flow(tx.conn(), discovery_flow_id).await?;
    Ok(())
}
