//! The ESXi hosts of an import as assets of the engagement (issue 14 items 3-4): those of a
//! workbook's vHost sheet and those the import's VMs run on (`custom_attributes.vmware.host`),
//! matched to the engagement's assets the way imported records are
//! ([`crate::discovery::identity`]), then each VM `runs_on` its host.
//!
//! A host is known by its name (its identity, `dedup_key`: the FQDN, else the hostname, as
//! [`HOST_KEY`] gives it) and by the keys of its serial number (vHost's `Serial number`), FQDN and
//! hostname (`migration.asset_identity_keys`). A host that no asset has the identity of becomes
//! the asset it shares its strongest key with (a CMDB server listed by serial or FQDN, a server
//! known by its hostname), unless a stronger key of both contradicts (flagged
//! `identity_conflict`) or the match is not unique (`identity_ambiguous`); those become hosts of
//! their own. A VM is never a host. One import may name a host by its FQDN in one place and by
//! its short name in another (vHost by FQDN, the VMs' Host column by hostname): a short name
//! that is the first label of exactly one FQDN the import names in the same vCenter is that host
//! ([`alias_of`]).
//! The staged hosts are kept in temporary tables of the dependency phase's transaction: a re-run
//! of the phase (or a re-import) writes the same.

use serde_json::json;
use uuid::Uuid;

use super::RepoError;
use super::flows::PhaseScope;
use crate::discovery::cleansing::VM_HOST_HEADERS;
use crate::discovery::identity::{self, Candidate, MATCHING_KINDS};
use crate::discovery::rvtools::HostRow;
use crate::discovery::sixr::OVERRIDE_ACTION;
use crate::models::{Asset, TenantTable};
use crate::tenancy::TenantTx;

/// The identity (`dedup_key`) of the ESXi host a VM runs on, as any server's: its fqdn, else its
/// hostname, lower-case (`HOST` stands for the SQL expression of the host's name).
const HOST_KEY: &str = "CASE WHEN btrim(HOST) LIKE '%.%' THEN 'fqdn:' ELSE 'host:' END || lower(btrim(HOST))";

/// The join condition that finds, in `pg_temp.esxi_host_aliases` as `alias`, the FQDN the host
/// named by the SQL expression `name` in the vCenter `vcenter` (an SQL expression too) stands for:
/// a short name the import also names by one FQDN of that vCenter (the aliases [`place_hosts`]
/// finds first). Equalities only, so that a hash join serves a million VMs.
fn alias_of(alias: &str, name: &str, vcenter: &str) -> String {
    format!(
        "{alias}.alias = {key} AND coalesce({alias}.vcenter, '') = coalesce({vc}, '')",
        key = HOST_KEY.replace("HOST", name),
        vc = vcenter_of(vcenter)
    )
}

/// The identity of the host named by the SQL expression `name`, its alias (joined by
/// [`alias_of`] as `alias`) found or not.
fn aliased_key(alias: &str, name: &str) -> String {
    format!("coalesce({alias}.key, {key})", key = HOST_KEY.replace("HOST", name))
}

/// A vCenter's name as the aliases compare it (lower-case; None when not given).
fn vcenter_of(vcenter: &str) -> String {
    format!("nullif(lower(btrim({vcenter})), '')")
}
/// Where RVTools puts a VM's ESXi host.
const VM_HOST: &str = "s.custom_attributes #>> '{vmware,host}'";
/// A VM export's facts: an asset with them is a VM, never a host (`A`: the asset's alias).
const IS_VM: &str = "coalesce(A.custom_attributes -> 'vmware' ?| array['power_state', 'template', 'srm_placeholder', 'tools_os'], false)";

fn is_vm(alias: &str) -> String {
    IS_VM.replace("A.", &format!("{alias}."))
}

/// Creates the transaction's staging table of host rows (dropped at its end).
pub async fn create_staging(tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE esxi_host_rows (name text, sheet text, file_row bigint, from_sheet boolean,
             serial_number text, os_version text, cpu_cores integer, memory_gb double precision, manufacturer text,
             model text, datacenter text, vmware jsonb, host_column text, vcenter text) ON COMMIT DROP",
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Stages the rows of vHost sheet `sheet` (its name as the workbook spells it).
pub async fn stage_sheet_rows(tx: &mut TenantTx<'_>, sheet: &str, rows: &[HostRow]) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO pg_temp.esxi_host_rows
         SELECT btrim(x.host), $1, x.file_row, true, nullif(btrim(x.serial_number), ''), x.os_version, x.cpu_cores,
                x.memory_gb, x.manufacturer, x.model, x.datacenter, x.vmware, NULL, x.vmware ->> 'vcenter'
         FROM jsonb_to_recordset($2) AS x(file_row bigint, host text, serial_number text, os_version text,
             cpu_cores integer, memory_gb double precision, manufacturer text, model text, datacenter text, vmware jsonb)
         WHERE btrim(x.host) <> ''",
    )
    .bind(sheet)
    .bind(sqlx::types::Json(rows))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Stages the hosts the import's VMs run on, each with the file row of its first VM, the VM's
/// cluster and the import's column that names VMs' hosts (what an issue about the host points
/// at; none for records kept as JSON objects, which have no header list).
pub async fn stage_vm_hosts(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<(), RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let headers: Option<Vec<String>> =
        sqlx::query_scalar("SELECT raw_headers FROM migration.data_imports WHERE client_account_id = $1 AND id = $2")
            .bind(tx.client_account_id())
            .bind(data_import_id)
            .fetch_optional(tx.conn())
            .await?
            .flatten();
    // The header the cleansing read each VM's host from (`vmware_facts`), by the same rule.
    let host_column = headers.and_then(|headers| {
        VM_HOST_HEADERS.iter().find_map(|wanted| headers.iter().find(|h| identity::squashed(h) == *wanted).cloned())
    });
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO pg_temp.esxi_host_rows (name, file_row, from_sheet, vmware, vcenter, host_column)
         SELECT btrim({VM_HOST}), r.file_row, false,
                jsonb_strip_nulls(jsonb_build_object('esxi_host', true, 'cluster', s.custom_attributes #>> '{{vmware,cluster}}')),
                s.custom_attributes #>> '{{vmware,vcenter}}', $4
         FROM migration.assets s
         LEFT JOIN migration.raw_import_records r ON r.client_account_id = $1 AND r.id = s.raw_import_record_id
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $3
           AND nullif(btrim({VM_HOST}), '') IS NOT NULL"
    )))
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(data_import_id)
    .bind(host_column)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What [`place_hosts`] did, per source of the hosts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placed {
    /// vHost rows staged, hosts of the sheet created and updated (their identity's asset, or the
    /// asset they matched), and rows refused (the identity of a VM).
    pub sheet_rows: i64,
    pub sheet_created: i64,
    pub sheet_updated: i64,
    pub sheet_refused: i64,
    /// Hosts named only by the VMs created.
    pub vm_hosts_created: i64,
    /// Hosts that became an asset of another identity, and hosts whose match was refused
    /// (ambiguous, or contradicted by a stronger key).
    pub matched: i64,
    pub ambiguous: i64,
    pub conflicting: i64,
}

/// Makes each staged host an asset of the engagement, or updates the asset it is (its identity,
/// or the asset it matched: see the module doc). A host of the vHost sheet (its last row, when
/// named twice) gives a server running VMware ESXi its cores, memory, version, serial number,
/// vendor, model and datacenter (the row's values win where they differ; its name and an
/// existing serial are kept), `vmware.esxi_host` (out of 6R) and the row's cluster and CPU facts;
/// a host named only by VMs is flagged `vmware.esxi_host` with their cluster. The issues (a host
/// refused as a VM's identity, matched, ambiguous or contradicted) go to
/// `pg_temp.import_sheet_issues` ([`super::imports::create_issue_staging`]).
///
/// A host is out of 6R from then on, and its strategy is the one its last 6R analysis recorded
/// (none, and `discovered` again, when no analysis assessed it), or a person's override: the
/// inventory decides an asset's strategy when it writes it, before the dependency phase, so an
/// asset that this import (or another one under way) assessed and that turns out to be a host
/// before its flow's 6R phase drops that strategy, as if the 6R phase had found it a host.
pub async fn place_hosts(tx: &mut TenantTx<'_>, scope: &PhaseScope) -> Result<Placed, RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let account = tx.client_account_id();
    // A short name (no dot, not a number) that is the first label of exactly one FQDN of the
    // staged hosts names that host (`key`, `fqdn`); of two FQDNs with that label, neither (kept
    // apart, `fqdns` says which). Only within one vCenter (when both sides say theirs): a host
    // that one vCenter registered by short name is not taken for another vCenter's.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TEMPORARY TABLE esxi_host_aliases ON COMMIT DROP AS
         WITH names AS (
             SELECT DISTINCT lower(name) AS name, {vcenter} AS vcenter
             FROM pg_temp.esxi_host_rows WHERE name NOT LIKE '%:%')
         SELECT 'host:' || s.name AS alias, s.vcenter,
                CASE WHEN count(DISTINCT f.name) = 1 THEN 'fqdn:' || min(f.name) END AS key,
                CASE WHEN count(DISTINCT f.name) = 1 THEN min(f.name) END AS fqdn,
                array_agg(DISTINCT f.name ORDER BY f.name) AS fqdns
         FROM names s
         JOIN names f ON f.name LIKE '%.%' AND f.name !~ '^[0-9.]+$' AND split_part(f.name, '.', 1) = s.name
                     AND (s.vcenter IS NULL OR f.vcenter IS NULL OR s.vcenter = f.vcenter)
         WHERE s.name NOT LIKE '%.%' AND s.name !~ '^[0-9]+$'
         GROUP BY s.name, s.vcenter",
        vcenter = vcenter_of("vcenter"),
    )))
    .execute(tx.conn())
    .await?;
    // One host per identity: its last vHost row, else its first VM's row; of those, one that
    // names it by its FQDN first.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE TEMPORARY TABLE esxi_hosts ON COMMIT DROP AS
         SELECT DISTINCT ON (k.key) k.key, h.*, n.fqdn, n.hostname,
                migration.asset_identity_keys('{{}}', NULL, h.serial_number, n.fqdn, n.hostname)::text[] AS keys,
                NULL::uuid AS asset_id, NULL::text AS outcome, NULL::text AS message
         FROM pg_temp.esxi_host_rows h
         LEFT JOIN pg_temp.esxi_host_aliases al ON {alias},
              -- A host named by its IP address has no hostname: '10' is nobody's.
              LATERAL (SELECT h.name ~ '^[0-9.]+$' OR h.name LIKE '%:%' AS is_ip) i,
              LATERAL (SELECT {key} AS key) k,
              LATERAL (SELECT coalesce(CASE WHEN h.name LIKE '%.%' AND NOT i.is_ip THEN h.name END, al.fqdn) AS fqdn,
                              CASE WHEN NOT i.is_ip THEN split_part(h.name, '.', 1) END AS hostname) n
         ORDER BY k.key, h.from_sheet DESC, h.name LIKE '%.%' DESC,
                  CASE WHEN h.from_sheet THEN -h.file_row ELSE h.file_row END NULLS LAST",
        alias = alias_of("al", "h.name", "h.vcenter"),
        key = aliased_key("al", "h.name"),
    )))
    .execute(tx.conn())
    .await?;
    // The asset of the host's identity, unless it is a VM.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE pg_temp.esxi_hosts h SET asset_id = CASE WHEN {vm} THEN NULL ELSE a.id END,
                outcome = CASE WHEN {vm} THEN 'host_is_vm' ELSE 'identity' END,
                message = CASE WHEN {vm} THEN format('host %s has the identity of a VM (%s); not made a host',
                                                     to_json(h.name)::text, h.key) END
         FROM migration.assets a
         WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.dedup_key = h.key",
        vm = is_vm("a"),
    )))
    .bind(account)
    .bind(engagement)
    .execute(tx.conn())
    .await?;
    let candidates = candidates(tx, engagement).await?;
    let (open, contradicted): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|(_, contradicted)| !contradicted);
    let resolution = identity::resolve(open.into_iter().map(|(c, _)| c).collect());
    let mut keys = Vec::new();
    let mut assets = Vec::new();
    let mut outcomes = Vec::new();
    let mut messages = Vec::new();
    for (key, c) in &resolution.matches {
        keys.push(key.clone());
        assets.push(Some(c.asset_id));
        outcomes.push("matched");
        messages.push(format!(
            "one asset with {:?} ({}, no stronger key differs): the host's facts added to it",
            c.asset_name, c.key
        ));
    }
    for (key, message) in &resolution.ambiguous {
        keys.push(key.clone());
        assets.push(None);
        outcomes.push("identity_ambiguous");
        messages.push(message.clone());
    }
    for (c, _) in contradicted {
        if resolution.matches.contains_key(&c.dedup_key)
            || resolution.ambiguous.contains_key(&c.dedup_key)
            || keys.contains(&c.dedup_key)
        {
            continue;
        }
        keys.push(c.dedup_key.clone());
        assets.push(None);
        outcomes.push("identity_conflict");
        messages.push(format!(
            "{} is a key of the asset {:?}, but a stronger key of theirs differs: another machine, kept as a host of \
             its own",
            c.key, c.asset_name
        ));
    }
    sqlx::query(
        "UPDATE pg_temp.esxi_hosts h SET asset_id = o.asset_id, outcome = o.outcome, message = o.message
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) o(key, asset_id, outcome, message)
         WHERE h.key = o.key",
    )
    .bind(&keys)
    .bind(&assets)
    .bind(&outcomes)
    .bind(&messages)
    .execute(tx.conn())
    .await?;

    // The hosts that are assets already: a vHost row's facts, or a VM's flag and cluster; and the
    // 6R strategy of their last analysis, as if no import had assessed them since (see the doc).
    let updated: Vec<bool> = sqlx::query_scalar(
        "UPDATE migration.assets a SET
             master_flow_id = CASE WHEN h.from_sheet THEN $3 ELSE a.master_flow_id END,
             discovery_flow_id = CASE WHEN h.from_sheet THEN $4 ELSE a.discovery_flow_id END,
             data_import_id = CASE WHEN h.from_sheet THEN $5 ELSE a.data_import_id END,
             virtualization_platform = 'VMware ESXi',
             operating_system = CASE WHEN h.from_sheet THEN 'VMware ESXi' ELSE a.operating_system END,
             os_version = coalesce(h.os_version, a.os_version),
             serial_number = coalesce(a.serial_number, h.serial_number),
             cpu_cores = coalesce(h.cpu_cores, a.cpu_cores), memory_gb = coalesce(h.memory_gb, a.memory_gb),
             manufacturer = coalesce(h.manufacturer, a.manufacturer), model = coalesce(h.model, a.model),
             datacenter = coalesce(h.datacenter, a.datacenter),
             custom_attributes = a.custom_attributes || jsonb_build_object('vmware',
                 CASE WHEN h.from_sheet THEN coalesce(a.custom_attributes -> 'vmware', '{}') || h.vmware
                      ELSE h.vmware || coalesce(a.custom_attributes -> 'vmware', '{}') END),
             identity_keys = migration.asset_identity_keys(a.identity_keys || h.keys::varchar(1024)[], a.dedup_key,
                                                           a.serial_number, a.fqdn, a.hostname),
             six_r_strategy = CASE WHEN o.overridden THEN a.six_r_strategy ELSE r.strategy END,
             -- 'discovered': the column's default, what an asset no analysis assessed has.
             status = CASE WHEN NOT o.overridden AND r.strategy IS NULL AND a.six_r_strategy IS NOT NULL
                                AND a.status = 'assessed' THEN 'discovered' ELSE a.status END,
             updated_at = now()
         FROM pg_temp.esxi_hosts h
         LEFT JOIN LATERAL (
             SELECT r.recommended_strategy AS strategy FROM migration.sixr_recommendations r
             WHERE r.client_account_id = $1 AND r.asset_id = h.asset_id
             ORDER BY r.created_at DESC, r.iteration_number DESC, r.id LIMIT 1) r ON true
         CROSS JOIN LATERAL (
             SELECT EXISTS (SELECT 1 FROM migration.access_audit_log l
                            WHERE l.client_account_id = $1 AND l.resource_type = 'asset'
                              AND l.resource_id = h.asset_id::text AND l.action_type = $6) AS overridden) o
         WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.id = h.asset_id
         RETURNING h.from_sheet",
    )
    .bind(account)
    .bind(engagement)
    .bind(scope.master_flow_id)
    .bind(scope.discovery_flow_id)
    .bind(scope.data_import_id)
    .bind(OVERRIDE_ACTION)
    .fetch_all(tx.conn())
    .await?;
    // The others become hosts of their own (an ambiguous or contradicted match included).
    let created: Vec<bool> = sqlx::query_scalar(
        "WITH created AS (
             INSERT INTO migration.assets AS a (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                    data_import_id, name, hostname, fqdn, asset_type, virtualization_platform, operating_system,
                    os_version, serial_number, cpu_cores, memory_gb, manufacturer, model, datacenter, discovery_method,
                    dedup_key, identity_keys, custom_attributes)
             SELECT $1, $2, $3, $4, $5, h.name, h.hostname, h.fqdn, 'server', 'VMware ESXi',
                    CASE WHEN h.from_sheet THEN 'VMware ESXi' END, h.os_version, h.serial_number, h.cpu_cores,
                    h.memory_gb, h.manufacturer, h.model, h.datacenter,
                    CASE WHEN h.from_sheet THEN 'import' ELSE 'derived' END, h.key,
                    migration.asset_identity_keys(h.keys, NULL, NULL, NULL, NULL), jsonb_build_object('vmware', h.vmware)
             FROM pg_temp.esxi_hosts h
             WHERE h.asset_id IS NULL AND h.outcome IS DISTINCT FROM 'host_is_vm'
             ON CONFLICT (client_account_id, engagement_id, dedup_key) DO NOTHING
             RETURNING a.id, a.dedup_key)
         UPDATE pg_temp.esxi_hosts h SET asset_id = c.id FROM created c WHERE h.key = c.dedup_key
         RETURNING h.from_sheet",
    )
    .bind(account)
    .bind(engagement)
    .bind(scope.master_flow_id)
    .bind(scope.discovery_flow_id)
    .bind(scope.data_import_id)
    .fetch_all(tx.conn())
    .await?;
    // Each refused, matched, ambiguous or contradicted host said on its row.
    sqlx::query(
        "INSERT INTO pg_temp.import_sheet_issues (sheet, file_row, \"column\", value, severity, kind, message)
         SELECT h.sheet, h.file_row, CASE WHEN h.from_sheet THEN 'Host' ELSE h.host_column END, h.name, 'warning',
                h.outcome,
                CASE WHEN h.outcome = 'host_is_vm' THEN h.message
                     WHEN h.from_sheet THEN format('host %s: %s', to_json(h.name)::text, h.message)
                     ELSE format('ESXi host %s (of the VM of row %s): %s', to_json(h.name)::text, h.file_row, h.message)
                END
         FROM pg_temp.esxi_hosts h WHERE h.message IS NOT NULL
         ORDER BY h.from_sheet DESC, h.file_row",
    )
    .execute(tx.conn())
    .await?;
    // A short name taken as an FQDN, or not for being the start of several, said once (on its
    // vHost row, else its first VM's).
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO pg_temp.import_sheet_issues (sheet, file_row, \"column\", value, severity, kind, message)
         SELECT sheet, file_row, \"column\", value, 'warning', kind, message FROM (
             SELECT DISTINCT ON (al.alias, al.vcenter) r.sheet, r.file_row, r.from_sheet,
                    CASE WHEN r.from_sheet THEN 'Host' ELSE r.host_column END AS \"column\", r.name AS value,
                    CASE WHEN al.key IS NULL THEN 'identity_ambiguous' ELSE 'matched' END AS kind,
                    CASE WHEN r.from_sheet THEN format('host %s: %s', to_json(r.name)::text, m.message)
                         ELSE format('ESXi host %s (of the VM of row %s): %s', to_json(r.name)::text, r.file_row,
                                     m.message)
                    END AS message
             FROM pg_temp.esxi_host_rows r
             JOIN pg_temp.esxi_host_aliases al ON {alias},
                  LATERAL (SELECT CASE WHEN al.key IS NULL
                       THEN format('the import names %s hosts whose name starts with it (%s); kept as a host of its own',
                                   cardinality(al.fqdns), array_to_string(al.fqdns, ', '))
                       ELSE format('taken as the host %s, the only host of the import whose name starts with it',
                                   to_json(al.fqdn)::text) END AS message) m
             ORDER BY al.alias, al.vcenter, r.from_sheet DESC, r.file_row) a
         ORDER BY from_sheet DESC, file_row",
        alias = alias_of("al", "r.name", "r.vcenter"),
    )))
    .execute(tx.conn())
    .await?;
    let (sheet_rows, sheet_refused): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT (SELECT count(*) FROM pg_temp.esxi_host_rows WHERE from_sheet),
                (SELECT count(*) FROM pg_temp.esxi_host_rows r
                 LEFT JOIN pg_temp.esxi_host_aliases al ON {alias}
                 JOIN pg_temp.esxi_hosts h ON h.key = {key}
                 WHERE r.from_sheet AND h.outcome = 'host_is_vm')",
        alias = alias_of("al", "r.name", "r.vcenter"),
        key = aliased_key("al", "r.name"),
    )))
    .fetch_one(tx.conn())
    .await?;
    let count = |written: &[bool], from_sheet: bool| written.iter().filter(|s| **s == from_sheet).count() as i64;
    let outcome = |kind: &str| outcomes.iter().filter(|o| **o == kind).count() as i64;
    Ok(Placed {
        sheet_rows,
        sheet_created: count(&created, true),
        sheet_updated: count(&updated, true),
        sheet_refused,
        vm_hosts_created: count(&created, false),
        matched: outcome("matched"),
        ambiguous: outcome("identity_ambiguous"),
        conflicting: outcome("identity_conflict"),
    })
}

/// The assets each staged host without an asset shares a key with (its strongest shared key),
/// each flagged when a stronger kind of key that both have has no key in common; VMs and the
/// assets of the staged identities are no candidates.
async fn candidates(tx: &mut TenantTx<'_>, engagement: Uuid) -> Result<Vec<(Candidate, bool)>, RepoError> {
    // Kinds as bits of a mask (rank r: 1 << r), so that "a stronger kind both have" is one AND.
    let rows: Vec<(String, Uuid, String, String, i32, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH open_keys AS (
             SELECT h.key AS identity, k.key, array_position($3::text[], split_part(k.key, ':', 1)) - 1 AS strength
             FROM pg_temp.esxi_hosts h, unnest(h.keys) k(key) WHERE h.outcome IS NULL),
         asset_keys AS (
             SELECT a.id, k.key, array_position($3::text[], split_part(k.key, ':', 1)) - 1 AS strength
             FROM migration.assets a,
                  unnest(migration.asset_identity_keys(a.identity_keys, a.dedup_key, a.serial_number, a.fqdn,
                                                       a.hostname)) k(key)
             WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND NOT ({vm})
               AND NOT EXISTS (SELECT 1 FROM pg_temp.esxi_hosts h WHERE h.key = a.dedup_key)),
         shared AS (
             SELECT o.identity, k.id AS asset_id, min(o.strength) AS strength,
                    (array_agg(o.key ORDER BY o.strength))[1] AS key
             FROM open_keys o JOIN asset_keys k ON k.key = o.key
             GROUP BY 1, 2),
         open_kinds AS (SELECT identity, bit_or(1 << strength) AS kinds FROM open_keys GROUP BY 1),
         asset_kinds AS (
             SELECT k.id, bit_or(1 << k.strength) AS kinds FROM asset_keys k
             WHERE k.id IN (SELECT asset_id FROM shared) GROUP BY 1)
         -- A stronger kind both have shares no key (the strongest shared key would be of it).
         SELECT sh.identity, sh.asset_id, a.name, sh.key::text, sh.strength,
                (ok.kinds & ak.kinds & ((1 << sh.strength) - 1)) <> 0 AS contradicted
         FROM shared sh
         JOIN open_kinds ok ON ok.identity = sh.identity
         JOIN asset_kinds ak ON ak.id = sh.asset_id
         JOIN migration.assets a ON a.client_account_id = $1 AND a.id = sh.asset_id
         ORDER BY 1, 2",
        vm = is_vm("a"),
    )))
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(MATCHING_KINDS)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(identity, asset_id, asset_name, key, strength, contradicted)| {
            (Candidate { dedup_key: identity, asset_id, asset_name, key, strength }, contradicted)
        })
        .collect())
}

/// Each VM of the import `runs_on` the asset of its ESXi host ([`place_hosts`]). Returns how
/// many placements were created (an existing one is kept).
pub async fn link_vms_to_hosts(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<u64, RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    let created = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO migration.asset_dependencies (client_account_id, engagement_id, asset_id, depends_on_asset_id,
                dependency_type, description, confidence_score, discovered_by)
         SELECT $1, $2, s.id, h.asset_id, 'runs_on', 'VM placed on this ESXi host by vCenter', 0.95, 'import'
         FROM migration.assets s
         LEFT JOIN pg_temp.esxi_host_aliases al ON {alias}
         JOIN pg_temp.esxi_hosts h ON h.key = {key} AND h.asset_id IS NOT NULL
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $3
           AND nullif(btrim({VM_HOST}), '') IS NOT NULL AND h.asset_id <> s.id
         ON CONFLICT (client_account_id, asset_id, depends_on_asset_id, dependency_type) DO NOTHING",
        alias = alias_of("al", VM_HOST, "s.custom_attributes #>> '{vmware,vcenter}'"),
        key = aliased_key("al", VM_HOST),
    )))
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(created)
}

/// The figures of [`Placed`] for the phase's metrics.
pub fn sheet_figure(placed: &Placed) -> serde_json::Value {
    json!({"rows": placed.sheet_rows, "hosts_created": placed.sheet_created,
           "hosts_updated": placed.sheet_updated, "refused": placed.sheet_refused})
}
