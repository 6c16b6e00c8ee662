//! The dependency phase: applications and ESXi hosts named in the file become assets, linked to
//! the servers they run on; an RVTools workbook's vHost, vDisk, vPartition and vNetwork sheets
//! are read here.

use serde_json::json;
use sqlx::PgConnection;

use super::{Advance, PhaseJob};
use crate::discovery::DiscoveryError;
use crate::repo::{assets, dependencies};
use crate::tenancy::{TenantCtx, TenantTx};

/// Application ↔ server relations in the file: each distinct application named on a server
/// becomes an application asset that runs on that server; each ESXi host VMs run on becomes an
/// asset, each VM `runs_on` its host. The extra sheets of an RVTools workbook are read first
/// ([`super::rvtools`]): hosts from vHost, and each VM's disks, partitions and adapters.
pub(super) async fn find_dependencies(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
) -> Result<Advance, DiscoveryError> {
    let scope = job.scope();
    let mut tx = TenantTx::begin(conn, ctx).await?;
    assets::lock_engagement_assets(&mut tx).await?;
    // First: the hosts of a vHost sheet are the ones the placements below point at.
    let mut metrics = super::rvtools::read_extra_sheets(&mut tx, job).await?;
    let applications = dependencies::derive_applications(&mut tx, &scope).await?;
    let hosts = dependencies::derive_esxi_hosts(&mut tx, &scope).await?;
    let placements = dependencies::link_vms_to_hosts(&mut tx, job.data_import_id).await?;
    let dependencies = dependencies::link_applications_to_servers(&mut tx, job.data_import_id).await?;
    tx.commit().await?;
    metrics.insert("applications_created".into(), json!(applications));
    metrics.insert("dependencies_created".into(), json!(dependencies));
    metrics.insert("esxi_hosts_created".into(), json!(hosts));
    metrics.insert("placements_created".into(), json!(placements));
    Ok(Advance::Next(metrics))
}
