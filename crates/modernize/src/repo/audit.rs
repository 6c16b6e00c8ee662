//! The tenant's audit trail (`access_audit_log`): what a user did to which resource, when, and
//! why. Entries are written with the generic `table::insert`; this module reads them back.

use super::RepoError;
use crate::models::AccessAuditLogEntry;
use crate::tenancy::TenantTx;

/// The entries of `action_type` on one resource (`resource_type`, `resource_id`) in the
/// transaction's client account, newest first.
pub async fn audit_trail(
    tx: &mut TenantTx<'_>,
    resource_type: &str,
    resource_id: &str,
    action_type: &str,
) -> Result<Vec<AccessAuditLogEntry>, RepoError> {
    let entries = sqlx::query_as(
        "SELECT * FROM migration.access_audit_log
         WHERE client_account_id = $1 AND resource_type = $2 AND resource_id = $3 AND action_type = $4
         ORDER BY created_at DESC, id DESC",
    )
    .bind(tx.client_account_id())
    .bind(resource_type)
    .bind(resource_id)
    .bind(action_type)
    .fetch_all(tx.conn())
    .await?;
    Ok(entries)
}

/// Which of the resources `ids` (of `resource_type`) have at least one entry of `action_type` in
/// the transaction's client account.
pub async fn resources_with_action(
    tx: &mut TenantTx<'_>,
    resource_type: &str,
    ids: &[uuid::Uuid],
    action_type: &str,
) -> Result<Vec<uuid::Uuid>, RepoError> {
    let found = sqlx::query_scalar(
        "SELECT DISTINCT r.id FROM unnest($3::uuid[]) AS r(id)
         JOIN migration.access_audit_log l ON l.client_account_id = $1 AND l.resource_type = $2
              AND l.resource_id = r.id::text AND l.action_type = $4",
    )
    .bind(tx.client_account_id())
    .bind(resource_type)
    .bind(ids)
    .bind(action_type)
    .fetch_all(tx.conn())
    .await?;
    Ok(found)
}
