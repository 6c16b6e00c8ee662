//! The dependency phase: applications and ESXi hosts named in the file become assets, linked to
//! the servers they run on; an RVTools workbook's vHost, vDisk, vPartition and vNetwork sheets
//! are read here.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use super::{Advance, PhaseJob};
use crate::discovery::{DiscoveryError, sixr};
use crate::repo::{assets, dependencies, hosts, imports};
use crate::tenancy::{TenantCtx, TenantTx};

/// Application ↔ server relations in the file: each distinct application named on a server
/// becomes an application asset (with its 6R strategy) that runs on that server; each ESXi host VMs run on, and each
/// host of a vHost sheet, becomes an asset or the existing asset it is (matched like imported
/// records: [`hosts::place_hosts`]), each VM `runs_on` its host. The extra sheets of an RVTools
/// workbook are read first ([`super::rvtools`]): hosts from vHost, and each VM's disks,
/// partitions and adapters. Every issue no record holds (rows of the other sheets, hosts) is
/// stored with the import (`data_imports.sheet_issues`).
///
/// Figures: `applications_created`, `dependencies_created`, `esxi_hosts_created` (new host
/// assets, of the vHost sheet and named only by VMs), `esxi_hosts_created_from_vms` (of those,
/// the hosts named only by VMs), `esxi_hosts_matched`, `esxi_hosts_ambiguous`,
/// `esxi_hosts_conflicting`, `placements_created`; for a workbook with other sheets `rvtools_sheets` (per sheet), and,
/// for it or when there are issues, `sheet_warnings` (the first [`imports::ISSUES_SHOWN`]) and
/// `sheet_warnings_total`.
pub(super) async fn find_dependencies(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
) -> Result<Advance, DiscoveryError> {
    let scope = job.scope();
    let mut tx = TenantTx::begin(conn, ctx).await?;
    assets::lock_engagement_assets(&mut tx).await?;
    imports::create_issue_staging(&mut tx).await?;
    hosts::create_staging(&mut tx).await?;
    let (mut sheets, host_sheet) = super::rvtools::read_extra_sheets(&mut tx, job).await?;
    let applications = dependencies::derive_applications(&mut tx, &scope, sixr::application_strategy()).await?;
    hosts::stage_vm_hosts(&mut tx, job.data_import_id).await?;
    let placed = hosts::place_hosts(&mut tx, &scope).await?;
    let placements = hosts::link_vms_to_hosts(&mut tx, job.data_import_id).await?;
    let dependencies = dependencies::link_applications_to_servers(&mut tx, job.data_import_id).await?;
    let (issues, shown) = imports::store_sheet_issues(&mut tx, job.data_import_id).await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    if let Some(name) = host_sheet {
        sheets.insert(name, hosts::sheet_figure(&placed));
    }
    let workbook = !sheets.is_empty();
    if workbook {
        metrics.insert("rvtools_sheets".into(), Value::Object(sheets));
    }
    if workbook || issues > 0 {
        metrics.insert("sheet_warnings_total".into(), json!(issues));
        metrics.insert("sheet_warnings".into(), json!(shown));
    }
    metrics.insert("applications_created".into(), json!(applications));
    metrics.insert("dependencies_created".into(), json!(dependencies));
    metrics.insert("esxi_hosts_created".into(), json!(placed.sheet_created + placed.vm_hosts_created));
    metrics.insert("esxi_hosts_created_from_vms".into(), json!(placed.vm_hosts_created));
    metrics.insert("esxi_hosts_matched".into(), json!(placed.matched));
    metrics.insert("esxi_hosts_ambiguous".into(), json!(placed.ambiguous));
    metrics.insert("esxi_hosts_conflicting".into(), json!(placed.conflicting));
    metrics.insert("placements_created".into(), json!(placements));
    Ok(Advance::Next(metrics))
}
