//! Imports whose file never came: the old frontend's JSON request creates an import `pending`
//! (with its master flow) and sends the file later by `PUT`; if it never does, the import would
//! wait for ever. Past an age they are cancelled by the workers' housekeeping.

use std::time::Duration;

use sqlx::PgConnection;

use super::{DiscoveryError, lifecycle};
use crate::repo::RepoError;
use crate::repo::imports::{self, StalePendingImport};
use crate::tenancy::{OperatorToken, TenantCtx, TenantTx};

/// How long an import created without its file waits for it by default: 24 hours.
pub const DEFAULT_PENDING_IMPORT_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// Cancels every import, across client accounts, still awaiting its file more than `max_age`
/// after it was created: the import becomes `cancelled` with the reason as its `error_message`,
/// and its master flow `cancelled` with the reason in its audit trail, in one transaction per
/// import (as the operator, under the import's tenant). An import whose file arrives meanwhile is
/// left alone. Returns the imports cancelled.
///
/// The operator's housekeeping, as [`super::uploads::purge`] is: workers call it periodically.
pub async fn expire_pending_imports(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    max_age: Duration,
) -> Result<Vec<StalePendingImport>, DiscoveryError> {
    let stale = imports::stale_pending_imports(conn, operator, max_age).await?;
    let reason = format!("no file arrived within {} of the import's creation", describe(max_age));
    let mut cancelled = Vec::new();
    for import in stale {
        if cancel(conn, operator, import, &reason).await? {
            cancelled.push(import);
        }
    }
    if !cancelled.is_empty() {
        tracing::info!(count = cancelled.len(), %reason, "imports awaiting their file cancelled");
    }
    Ok(cancelled)
}

/// Cancels one stale import and its master flow; false when its file arrived meanwhile (or it is
/// gone).
async fn cancel(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    import: StalePendingImport,
    reason: &str,
) -> Result<bool, DiscoveryError> {
    let ctx = match TenantCtx::for_operator(conn, operator, import.client_account_id, Some(import.engagement_id)).await
    {
        Ok(ctx) => ctx,
        Err(RepoError::NotFound { .. }) => return Ok(false),
        Err(error) => return Err(error.into()),
    };
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let cancelled = match imports::cancel_pending_import(&mut tx, import.data_import_id, reason).await {
        Ok(cancelled) => cancelled,
        // Its file arrived meanwhile, or it is gone: nothing to cancel (the rollback is the drop).
        Err(RepoError::NotFound { .. } | RepoError::Conflict { .. }) => return Ok(false),
        Err(error) => return Err(error.into()),
    };
    if let Some(master_flow_id) = cancelled.master_flow_id {
        lifecycle::cancel_master_flow(&mut tx, master_flow_id, reason).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// `24 h`, `90 min`, `45 s`: the age as the reason names it.
fn describe(age: Duration) -> String {
    let secs = age.as_secs();
    if secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_age_in_its_unit() {
        assert_eq!(describe(DEFAULT_PENDING_IMPORT_EXPIRY), "24 h");
        assert_eq!(describe(Duration::from_secs(5400)), "90 min");
        assert_eq!(describe(Duration::from_secs(45)), "45 s");
    }
}
