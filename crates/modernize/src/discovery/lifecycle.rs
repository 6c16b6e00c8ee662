//! The lifecycle of a master flow and its discovery flow: legal transitions only, both rows
//! changed together, every transition kept in an audit trail on the master flow.

use serde_json::json;
use uuid::Uuid;

use super::DiscoveryError;
use crate::models::FlowStatus;
use crate::tenancy::TenantTx;

/// Whether a flow may go from `from` to `to`.
pub fn is_legal(from: FlowStatus, to: FlowStatus) -> bool {
    use FlowStatus::*;
    matches!(
        (from, to),
        (Initialized | Pending, Running | Cancelled)
            | (Running, Paused | Completed | Failed | Cancelled)
            | (Paused, Running | Cancelled)
            | (Failed, Running | Cancelled)
    )
}

/// Moves the discovery flow `discovery_flow_id` and its master flow to `to`, recording why.
/// Returns the status it left.
pub async fn transition(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    to: FlowStatus,
    reason: &str,
) -> Result<FlowStatus, DiscoveryError> {
    let current: Option<(FlowStatus, Option<Uuid>)> = sqlx::query_as(
        "SELECT status, master_flow_id FROM migration.discovery_flows
         WHERE client_account_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((from, master_flow_id)) = current else {
        return Err(crate::repo::RepoError::not_found("discovery flow", discovery_flow_id).into());
    };
    if from == to {
        return Ok(from);
    }
    if !is_legal(from, to) {
        return Err(DiscoveryError::IllegalTransition { from, to });
    }
    sqlx::query(
        "UPDATE migration.discovery_flows SET status = $3, updated_at = now(),
                started_at = CASE WHEN $3 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                completed_at = CASE WHEN $3 IN ('completed', 'cancelled') THEN now() ELSE completed_at END,
                error_message = CASE WHEN $3 = 'running' THEN NULL ELSE error_message END,
                error_phase = CASE WHEN $3 = 'running' THEN NULL ELSE error_phase END
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .bind(to)
    .execute(tx.conn())
    .await?;
    if let Some(master_flow_id) = master_flow_id {
        move_master_flow(tx, master_flow_id, from, to, reason).await?;
    }
    Ok(from)
}

/// Cancels the master flow `master_flow_id` of a discovery that never got its discovery flow (an
/// import whose file did not come), recording why; NotFound for a flow of another account,
/// IllegalTransition when it has already ended. Returns the status it left.
pub async fn cancel_master_flow(
    tx: &mut TenantTx<'_>,
    master_flow_id: Uuid,
    reason: &str,
) -> Result<FlowStatus, DiscoveryError> {
    let from: Option<FlowStatus> = sqlx::query_scalar(
        "SELECT flow_status FROM migration.crewai_flow_state_extensions
         WHERE client_account_id = $1 AND flow_id = $2 FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(from) = from else {
        return Err(crate::repo::RepoError::not_found("master flow", master_flow_id).into());
    };
    if from == FlowStatus::Cancelled {
        return Ok(from);
    }
    if !is_legal(from, FlowStatus::Cancelled) {
        return Err(DiscoveryError::IllegalTransition { from, to: FlowStatus::Cancelled });
    }
    move_master_flow(tx, master_flow_id, from, FlowStatus::Cancelled, reason).await?;
    Ok(from)
}

/// Sets the master flow's status, with the transition's entry (`from`, `to`, `reason`, `at`,
/// `user_id`) appended to its audit trail.
async fn move_master_flow(
    tx: &mut TenantTx<'_>,
    master_flow_id: Uuid,
    from: FlowStatus,
    to: FlowStatus,
    reason: &str,
) -> Result<(), DiscoveryError> {
    let entry = json!({"from": from, "to": to, "reason": reason, "at": chrono::Utc::now(), "user_id": tx.user_id()});
    sqlx::query(
        "UPDATE migration.crewai_flow_state_extensions SET flow_status = $3, updated_at = now(),
                started_at = CASE WHEN $3 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                completed_at = CASE WHEN $3 IN ('completed', 'cancelled') THEN now() ELSE completed_at END,
                flow_persistence_data = jsonb_set(flow_persistence_data, '{transitions}',
                    coalesce(flow_persistence_data -> 'transitions', '[]') || jsonb_build_array($4::jsonb))
         WHERE client_account_id = $1 AND flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .bind(to)
    .bind(entry)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_legal_transitions() {
        use FlowStatus::*;
        assert!(is_legal(Initialized, Running));
        assert!(is_legal(Running, Paused) && is_legal(Paused, Running));
        assert!(is_legal(Failed, Running), "retry");
        for terminal in [Completed, Cancelled] {
            for to in FlowStatus::ALL {
                assert!(!is_legal(terminal, to), "{terminal} -> {to}");
            }
        }
        assert!(!is_legal(Initialized, Completed));
        assert!(!is_legal(Paused, Completed));
    }
}
