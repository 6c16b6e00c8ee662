//! What the VM sheets of an RVTools workbook write (`discovery::rvtools`; its vHost rows are
//! hosts, [`super::hosts`]): their rows are staged in a temporary table of the dependency phase's
//! transaction, a chunk at a time, then matched to the import's VMs and applied in set-based
//! statements, so that memory stays that of a chunk whatever the sheet's size and a re-run of the
//! phase writes the same.

use sqlx::types::Json;
use uuid::Uuid;

use super::RepoError;
use crate::discovery::rvtools::VmRow;
use crate::models::{Asset, TenantTable};
use crate::tenancy::TenantTx;

/// Creates the transaction's staging table of VM sheet rows (dropped at its end); vHost rows are
/// staged as hosts ([`super::hosts`]).
pub async fn create_staging(tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE rvtools_vm_rows (sheet text, file_row bigint, uuid_key text, vm text, vcenter text,
             vm_column text, fact jsonb, asset_id uuid) ON COMMIT DROP",
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Stages rows of VM sheet `sheet` (its name).
pub async fn stage_vm_rows(tx: &mut TenantTx<'_>, sheet: &str, rows: &[VmRow]) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO pg_temp.rvtools_vm_rows (sheet, file_row, uuid_key, vm, vcenter, vm_column, fact)
         SELECT $1, x.file_row, x.uuid_key, x.vm, x.vcenter, x.vm_column, x.fact
         FROM jsonb_to_recordset($2) AS x(file_row bigint, uuid_key text, vm text, vcenter text, vm_column text,
             fact jsonb)",
    )
    .bind(sheet)
    .bind(Json(rows))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What applying one VM sheet did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Rows staged.
    pub rows: i64,
    /// VMs given facts.
    pub vms: i64,
    /// Rows that matched no VM, each an issue of the import
    /// (`pg_temp.import_sheet_issues`, see [`super::imports::create_issue_staging`]).
    pub unmatched: i64,
}

/// Matches the staged rows of VM sheet `sheet` to the import's VMs and writes their facts as
/// `custom_attributes.vmware.<key>` (a JSON array in sheet row order, replacing what an earlier
/// run wrote).
///
/// A row belongs to the VM known by its `uuid:<vcenter>/<uuid>` key (the one vInfo gave it: its
/// `dedup_key`, or one of its `identity_keys` when the VM was matched to an asset of another
/// source), or, when the sheet names no vCenter, to the one VM of the import with its UUID under any
/// vCenter; a row naming no UUID, or a UUID no VM has, is matched by VM name and vCenter
/// (`vmware.vm_name`, `vmware.vcenter`) to the one VM of the import of that name whose identity
/// is no UUID (a VM known by its UUID is matched by it alone; a name two VMs share matches none).
///
/// Asset fields corrected where the sheets are more precise than vInfo:
/// - vDisk: `storage_gb` becomes the sum of the VM's disk capacities (vInfo's provisioned size
///   also counts swap, snapshots and logs; it stays as `vmware.provisioned_gb`);
/// - vNetwork: `ip_address` and `mac_address`, when vInfo gave none, become the first address
///   and the MAC of the VM's first connected adapter (in sheet order); vInfo's primary IP, what
///   VMware Tools reports, is kept when present.
pub async fn apply_vm_sheet(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    sheet: &str,
    key: &str,
) -> Result<Applied, RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let account = tx.client_account_id();
    sqlx::query(
        "UPDATE pg_temp.rvtools_vm_rows s SET asset_id = k.id
         FROM (SELECT a.id, key FROM migration.assets a, unnest(a.identity_keys::text[] || a.dedup_key::text) key
               WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.data_import_id = $3
                 AND key LIKE 'uuid:%') k
         WHERE s.sheet = $4 AND s.uuid_key IS NOT NULL AND s.uuid_key = k.key",
    )
    .bind(account)
    .bind(engagement)
    .bind(data_import_id)
    .bind(sheet)
    .execute(tx.conn())
    .await?;
    // A sheet naming no vCenter (cut from its export): its UUID alone, when one VM has it.
    sqlx::query(
        "UPDATE pg_temp.rvtools_vm_rows s SET asset_id = m.id
         FROM (SELECT 'uuid:' || split_part(key, '/', 2) AS key, (array_agg(DISTINCT a.id))[1] AS id
               FROM migration.assets a, unnest(a.identity_keys::text[] || a.dedup_key::text) key
               WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.data_import_id = $3
                 AND key LIKE 'uuid:%/%'
               GROUP BY 1 HAVING count(DISTINCT a.id) = 1) m
         WHERE s.sheet = $4 AND s.asset_id IS NULL AND s.uuid_key = m.key",
    )
    .bind(account)
    .bind(engagement)
    .bind(data_import_id)
    .bind(sheet)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE pg_temp.rvtools_vm_rows s SET asset_id = m.id
         FROM (SELECT lower(a.custom_attributes #>> '{vmware,vm_name}') AS vm,
                      lower(coalesce(a.custom_attributes #>> '{vmware,vcenter}', '')) AS vcenter,
                      (array_agg(a.id))[1] AS id
               FROM migration.assets a
               WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.data_import_id = $3
                 AND a.custom_attributes #>> '{vmware,vm_name}' IS NOT NULL
               GROUP BY 1, 2
               HAVING count(*) = 1
                  AND NOT bool_or(EXISTS (SELECT 1 FROM unnest(a.identity_keys::text[] || a.dedup_key::text) key
                                          WHERE key LIKE 'uuid:%'))) m
         WHERE s.sheet = $4 AND s.asset_id IS NULL AND m.vm = lower(s.vm) AND m.vcenter = s.vcenter",
    )
    .bind(account)
    .bind(engagement)
    .bind(data_import_id)
    .bind(sheet)
    .execute(tx.conn())
    .await?;
    let assets = sqlx::query(
        "UPDATE migration.assets a
         SET custom_attributes = a.custom_attributes || jsonb_build_object('vmware',
                 coalesce(a.custom_attributes -> 'vmware', '{}') || jsonb_build_object($3::text, g.facts)),
             storage_gb = CASE WHEN $2 = 'vDisk' AND g.capacity_gb IS NOT NULL THEN g.capacity_gb ELSE a.storage_gb END,
             ip_address = CASE WHEN $2 = 'vNetwork' THEN coalesce(a.ip_address, g.ip) ELSE a.ip_address END,
             mac_address = CASE WHEN $2 = 'vNetwork' THEN coalesce(a.mac_address, g.mac) ELSE a.mac_address END,
             updated_at = now()
         FROM (SELECT s.asset_id, jsonb_agg(s.fact ORDER BY s.file_row) AS facts,
                      round(sum((s.fact ->> 'capacity_gb')::numeric), 3)::double precision AS capacity_gb,
                      (array_agg(s.fact #>> '{ips,0}' ORDER BY s.file_row)
                          FILTER (WHERE s.fact ->> 'connected' = 'true' AND s.fact #>> '{ips,0}' IS NOT NULL))[1] AS ip,
                      (array_agg(s.fact ->> 'mac' ORDER BY s.file_row)
                          FILTER (WHERE s.fact ->> 'connected' = 'true' AND s.fact ->> 'mac' IS NOT NULL))[1] AS mac
               FROM pg_temp.rvtools_vm_rows s WHERE s.sheet = $2 AND s.asset_id IS NOT NULL
               GROUP BY s.asset_id) g
         WHERE a.client_account_id = $1 AND a.id = g.asset_id",
    )
    .bind(account)
    .bind(sheet)
    .bind(key)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let (rows, unmatched): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE asset_id IS NULL) FROM pg_temp.rvtools_vm_rows WHERE sheet = $1",
    )
    .bind(sheet)
    .fetch_one(tx.conn())
    .await?;
    // Every row that matched nothing, said on its row.
    sqlx::query(
        "INSERT INTO pg_temp.import_sheet_issues (sheet, file_row, \"column\", value, severity, kind, message)
         SELECT $1, file_row, vm_column, vm, 'warning', 'unmatched_vm',
                format('VM %s%s matches no VM of this import; not read', to_json(vm)::text,
                       CASE WHEN vcenter <> '' THEN format(' (vCenter %s)', vcenter) ELSE '' END)
         FROM pg_temp.rvtools_vm_rows WHERE sheet = $1 AND asset_id IS NULL ORDER BY file_row",
    )
    .bind(sheet)
    .execute(tx.conn())
    .await?;
    Ok(Applied { rows, vms: assets as i64, unmatched })
}
