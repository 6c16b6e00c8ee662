//! The asset inventory: queries by master flow, tagging, and the filtered, sorted, keyset-paged
//! listing (with its count and bulk edit) behind the API's asset routes.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::RepoError;
use crate::db::quote_identifier;
use crate::models::asset_fields::{ASSET_FIELDS, FieldKind};
use crate::models::{Asset, AssetPatch, AssetTag, AssetType, CriticalityLevel, SixrStrategy, Tag, TenantTable};
use crate::tenancy::TenantTx;

/// Every asset discovered under one master flow (seed task 5.2).
pub async fn assets_of_master_flow(tx: &mut TenantTx<'_>, master_flow_id: Uuid) -> Result<Vec<Asset>, RepoError> {
    let assets = sqlx::query_as(
        "SELECT * FROM migration.assets WHERE client_account_id = $1 AND master_flow_id = $2 ORDER BY name, id",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(assets)
}

/// Attaches a tag to an asset (a no-op when already attached).
pub async fn tag_asset(
    tx: &mut TenantTx<'_>,
    asset_id: Uuid,
    tag_id: Uuid,
    assigned_by: &str,
) -> Result<AssetTag, RepoError> {
    let row = sqlx::query_as(
        "INSERT INTO migration.asset_tags (client_account_id, asset_id, tag_id, assigned_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_account_id, asset_id, tag_id) DO UPDATE SET assigned_by = asset_tags.assigned_by
         RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(asset_id)
    .bind(tag_id)
    .bind(assigned_by)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

pub async fn untag_asset(tx: &mut TenantTx<'_>, asset_id: Uuid, tag_id: Uuid) -> Result<(), RepoError> {
    let removed =
        sqlx::query("DELETE FROM migration.asset_tags WHERE client_account_id = $1 AND asset_id = $2 AND tag_id = $3")
            .bind(tx.client_account_id())
            .bind(asset_id)
            .bind(tag_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if removed == 0 { Err(RepoError::not_found("asset tag", format!("{asset_id}/{tag_id}"))) } else { Ok(()) }
}

pub async fn tags_of_asset(tx: &mut TenantTx<'_>, asset_id: Uuid) -> Result<Vec<Tag>, RepoError> {
    let tags = sqlx::query_as(
        "SELECT t.* FROM migration.tags t
         JOIN migration.asset_tags at ON at.client_account_id = t.client_account_id AND at.tag_id = t.id
         WHERE t.client_account_id = $1 AND at.asset_id = $2 ORDER BY t.name",
    )
    .bind(tx.client_account_id())
    .bind(asset_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(tags)
}

/// Which assets a listing, a count, a bulk edit or an export covers, within the transaction's
/// engagement: every filter given must match. Unknown fields are ignored when deserialising (a
/// query string carries other parameters too); [`AssetFilter::strict`] refuses them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    #[param(inline)]
    pub asset_type: Option<AssetType>,
    /// The environment, any case (`production`).
    pub environment: Option<String>,
    #[param(inline)]
    pub six_r_strategy: Option<SixrStrategy>,
    #[param(inline)]
    pub criticality: Option<CriticalityLevel>,
    #[param(inline)]
    pub business_criticality: Option<CriticalityLevel>,
    /// A part of the operating system's name, any case (`windows`).
    pub operating_system: Option<String>,
    /// Only the assets this discovery flow found.
    pub discovery_flow_id: Option<Uuid>,
    /// A part of the name, hostname, IP address or FQDN, any case; `%`, `_` and `\` match
    /// themselves.
    pub search: Option<String>,
}

impl AssetFilter {
    /// A filter from a JSON object, refusing a field that is no filter (a typo must not widen a
    /// bulk edit to every asset): Invalid names the field (`filter.<name>`).
    pub fn strict(object: &serde_json::Map<String, serde_json::Value>) -> Result<Self, RepoError> {
        let invalid = |field: &str, message: String| RepoError::Invalid { field: format!("filter.{field}"), message };
        let known = serde_json::to_value(Self::default()).unwrap_or_default();
        if let Some(unknown) = object.keys().find(|key| known.get(key.as_str()).is_none()) {
            return Err(invalid(unknown, "is not a filter of assets".into()));
        }
        for (field, value) in object {
            let single = serde_json::Map::from_iter([(field.clone(), value.clone())]);
            serde_json::from_value::<Self>(serde_json::Value::Object(single))
                .map_err(|e| invalid(field, e.to_string()))?;
        }
        serde_json::from_value(serde_json::Value::Object(object.clone())).map_err(|e| invalid("", e.to_string()))
    }
}

/// The columns a listing or an export may be sorted by (a whitelist: the name is never SQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetSort {
    #[default]
    Name,
    Hostname,
    IpAddress,
    AssetType,
    Environment,
    OperatingSystem,
    Criticality,
    BusinessCriticality,
    SixRStrategy,
    Status,
    MigrationPriority,
    MigrationWave,
    CpuCores,
    MemoryGb,
    StorageGb,
    CreatedAt,
    UpdatedAt,
}

impl AssetSort {
    /// Every sort.
    pub const ALL: [Self; 17] = [
        Self::Name,
        Self::Hostname,
        Self::IpAddress,
        Self::AssetType,
        Self::Environment,
        Self::OperatingSystem,
        Self::Criticality,
        Self::BusinessCriticality,
        Self::SixRStrategy,
        Self::Status,
        Self::MigrationPriority,
        Self::MigrationWave,
        Self::CpuCores,
        Self::MemoryGb,
        Self::StorageGb,
        Self::CreatedAt,
        Self::UpdatedAt,
    ];

    /// The column and the SQL type a cursor's value is cast back to.
    pub(crate) fn column(self) -> (&'static str, &'static str) {
        match self {
            Self::Name => ("a.name", "text"),
            Self::Hostname => ("a.hostname", "text"),
            Self::IpAddress => ("a.ip_address", "text"),
            Self::AssetType => ("a.asset_type", "migration.asset_type"),
            Self::Environment => ("a.environment", "text"),
            Self::OperatingSystem => ("a.operating_system", "text"),
            Self::Criticality => ("a.criticality", "migration.criticality_level"),
            Self::BusinessCriticality => ("a.business_criticality", "migration.criticality_level"),
            Self::SixRStrategy => ("a.six_r_strategy", "migration.sixr_strategy"),
            Self::Status => ("a.status", "migration.asset_status"),
            Self::MigrationPriority => ("a.migration_priority", "integer"),
            Self::MigrationWave => ("a.migration_wave", "integer"),
            Self::CpuCores => ("a.cpu_cores", "integer"),
            Self::MemoryGb => ("a.memory_gb", "double precision"),
            Self::StorageGb => ("a.storage_gb", "double precision"),
            Self::CreatedAt => ("a.created_at", "timestamptz"),
            Self::UpdatedAt => ("a.updated_at", "timestamptz"),
        }
    }
}

/// Ascending or descending; empty values come last either way, ties go by id in the same
/// direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

/// Where a keyset page starts: after the asset with this sort value (as PostgreSQL prints it;
/// None for an empty value) and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetKey {
    pub value: Option<String>,
    pub id: Uuid,
}

/// What a listing reads of each asset: a row type and the select list over `migration.assets a`
/// that fills it. Reading only the columns a caller shows matters: decoding a column costs the
/// server more than PostgreSQL spends finding the row.
pub trait ListRow: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {
    /// The select list (`a.*`, or `a.<column>, …` naming each field; it must include every sort
    /// column, which the page's final ORDER BY reads).
    const COLUMNS: &'static str;
}

impl ListRow for Asset {
    const COLUMNS: &'static str = "a.*";
}

/// An asset of a listing, with its sort value as text (what the next page's [`AssetKey`] holds).
#[derive(Debug, Clone)]
pub struct ListedAsset<T = Asset> {
    pub asset: T,
    pub sort_value: Option<String>,
}

impl<'r, T: sqlx::FromRow<'r, PgRow>> sqlx::FromRow<'r, PgRow> for ListedAsset<T> {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self { asset: T::from_row(row)?, sort_value: row.try_get("sort_value")? })
    }
}

/// A filter with what it needs read before its query is built: the engagement's operating systems
/// its `operating_system` part matches (None without that part).
struct Resolved<'f> {
    filter: &'f AssetFilter,
    operating_systems: Option<Vec<String>>,
}

/// Reads what `filter` needs ([`Resolved`]). The operating system filter (a part of the name, any
/// case) becomes equality with the engagement's distinct values that contain it, found by walking
/// the `(client_account_id, engagement_id, operating_system, id)` index once per distinct value
/// (migration 0010; a recursive skip scan): ILIKE is not leakproof, so under row-level security it
/// could only filter the rows of the sort's index walk (the whole engagement for a rare system),
/// where text equality is an index condition (migration 0013 explains leakproofness). Exact: an
/// asset's system contains the text if and only if its value is one of those.
async fn resolve<'f>(tx: &mut TenantTx<'_>, filter: &'f AssetFilter) -> Result<Resolved<'f>, RepoError> {
    let Some(os) = non_blank(&filter.operating_system) else {
        return Ok(Resolved { filter, operating_systems: None });
    };
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let systems: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE systems(value) AS (
             (SELECT a.operating_system FROM migration.assets a
               WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.operating_system IS NOT NULL
               ORDER BY a.operating_system LIMIT 1)
             UNION ALL
             SELECT (SELECT a.operating_system FROM migration.assets a
                      WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.operating_system > s.value
                      ORDER BY a.operating_system LIMIT 1)
               FROM systems s WHERE s.value IS NOT NULL)
         SELECT value FROM systems WHERE value ILIKE $3",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(contains_pattern(os))
    .fetch_all(tx.conn())
    .await?;
    Ok(Resolved { filter, operating_systems: Some(systems) })
}

/// `a.client_account_id = … AND a.engagement_id = … AND <the filters>`.
fn push_filter(
    query: &mut QueryBuilder<Postgres>,
    tx: &TenantTx<'_>,
    resolved: &Resolved<'_>,
) -> Result<(), RepoError> {
    let filter = resolved.filter;
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    query.push(" a.client_account_id = ").push_bind(tx.client_account_id());
    query.push(" AND a.engagement_id = ").push_bind(engagement);
    // Enum values are written into the statement, not bound: under RLS only the value's partial
    // index answers them (migrations 0013, 0020), and a plan can use it only if it sees the value,
    // so with a parameter PostgreSQL planned every execution again instead of reusing a generic
    // plan. They are the enums' own labels, never text from a request.
    if let Some(asset_type) = filter.asset_type {
        query.push(format!(" AND a.asset_type = '{}'::migration.asset_type", asset_type.as_str()));
    }
    if let Some(environment) = non_blank(&filter.environment) {
        // Case-insensitive by collation, not lower(): an index condition under RLS (migration 0013).
        query
            .push(" AND a.environment = ")
            .push_bind(environment.to_owned())
            .push(" COLLATE migration.case_insensitive");
    }
    if let Some(strategy) = filter.six_r_strategy {
        query.push(format!(" AND a.six_r_strategy = '{}'::migration.sixr_strategy", strategy.as_str()));
    }
    if let Some(criticality) = filter.criticality {
        query.push(format!(" AND a.criticality = '{}'::migration.criticality_level", criticality.as_str()));
    }
    if let Some(criticality) = filter.business_criticality {
        query.push(format!(" AND a.business_criticality = '{}'::migration.criticality_level", criticality.as_str()));
    }
    if let Some(systems) = &resolved.operating_systems {
        query.push(" AND a.operating_system = ANY(").push_bind(systems.clone()).push(")");
    }
    if let Some(flow) = filter.discovery_flow_id {
        query.push(" AND a.discovery_flow_id = ").push_bind(flow);
    }
    if let Some(search) = non_blank(&filter.search) {
        // The ids from the engagement's search keys (ILIKE cannot be an index condition under RLS:
        // migrations 0013 and 0017), then each column's own match.
        let pattern = contains_pattern(search);
        query.push(" AND a.id = ANY(migration.asset_ids_searching(").push_bind(engagement);
        query.push(", ").push_bind(search.to_owned()).push("))");
        query.push(" AND (a.name ILIKE ").push_bind(pattern.clone());
        query.push(" OR a.hostname ILIKE ").push_bind(pattern.clone());
        query.push(" OR a.ip_address ILIKE ").push_bind(pattern.clone());
        query.push(" OR a.fqdn ILIKE ").push_bind(pattern).push(")");
    }
    Ok(())
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An ILIKE pattern matching `text` anywhere, its wildcards escaped (`\` is LIKE's escape).
fn contains_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// Assets of the transaction's engagement matching `filter`, sorted by `sort` then id (empty
/// values last), `limit` of them after `after` (keyset pagination: stable while assets are added
/// or edited, whatever the depth).
pub async fn list_assets(
    tx: &mut TenantTx<'_>,
    filter: &AssetFilter,
    sort: AssetSort,
    order: SortOrder,
    after: Option<&AssetKey>,
    limit: i64,
) -> Result<Vec<ListedAsset>, RepoError> {
    list_asset_rows(tx, filter, sort, order, after, limit).await
}

/// [`list_assets`], reading only the columns of `T`.
pub async fn list_asset_rows<T: ListRow>(
    tx: &mut TenantTx<'_>,
    filter: &AssetFilter,
    sort: AssetSort,
    order: SortOrder,
    after: Option<&AssetKey>,
    limit: i64,
) -> Result<Vec<ListedAsset<T>>, RepoError> {
    let resolved = resolve(tx, filter).await?;
    let mut query = list_query(("", T::COLUMNS), tx, &resolved, sort, order, after, limit)?;
    let assets = query.build_query_as::<ListedAsset<T>>().fetch_all(tx.conn()).await?;
    Ok(assets)
}

/// The plan PostgreSQL chooses for [`list_assets`] with these arguments, executed (`EXPLAIN
/// (ANALYZE, FORMAT JSON)`: estimates and counted rows): what the plan tests check.
pub async fn explain_list_assets(
    tx: &mut TenantTx<'_>,
    filter: &AssetFilter,
    sort: AssetSort,
    order: SortOrder,
    after: Option<&AssetKey>,
    limit: i64,
) -> Result<serde_json::Value, RepoError> {
    let resolved = resolve(tx, filter).await?;
    let prefix = "EXPLAIN (ANALYZE, FORMAT JSON) ";
    let mut query = list_query((prefix, Asset::COLUMNS), tx, &resolved, sort, order, after, limit)?;
    let plan = query.build_query_scalar::<Json<serde_json::Value>>().fetch_one(tx.conn()).await?;
    Ok(plan.0)
}

/// The keyset page as two index ranges of `(client_account_id, engagement_id, <column>, id)`
/// (migration 0010): the assets with a value, then those without, each read in the index's own
/// order (forwards for ascending, backwards for descending) and cut at `limit`. One query ordered
/// `NULLS LAST` both ways would need a second index per column for descending pages, or sort the
/// engagement's rows; here only the at most 2 × `limit` rows of the two ranges are sorted.
/// `(prefix, columns)`: what precedes the statement (`EXPLAIN …`, or nothing) and the select list.
fn list_query(
    (prefix, columns): (&str, &str),
    tx: &TenantTx<'_>,
    resolved: &Resolved<'_>,
    sort: AssetSort,
    order: SortOrder,
    after: Option<&AssetKey>,
    limit: i64,
) -> Result<QueryBuilder<Postgres>, RepoError> {
    let (column, cast) = sort.column();
    let bare = column.trim_start_matches("a.");
    // The index's order for the direction: backwards, an ascending B-tree gives NULLS FIRST.
    let (cmp, direction, index_order) = match order {
        SortOrder::Asc => (">", "ASC", "ASC NULLS LAST"),
        SortOrder::Desc => ("<", "DESC", "DESC NULLS FIRST"),
    };
    let select = format!(
        "SELECT {columns}, ({column})::text AS sort_value, {{part}} AS list_part FROM migration.assets a WHERE"
    );
    let mut query = QueryBuilder::new(format!("{prefix}SELECT * FROM ("));
    let with_values = !matches!(after, Some(AssetKey { value: None, .. }));
    if with_values {
        query.push("(").push(select.replace("{part}", "0"));
        push_filter(&mut query, tx, resolved)?;
        query.push(format!(" AND {column} IS NOT NULL"));
        if let Some(AssetKey { value: Some(value), id }) = after {
            query.push(format!(" AND ({column}, a.id) {cmp} (")).push_bind(value.clone());
            query.push(format!("::{cast}, ")).push_bind(*id).push(")");
        }
        query.push(format!(" ORDER BY {column} {index_order}, a.id {direction} LIMIT ")).push_bind(limit);
        query.push(") UNION ALL ");
    }
    query.push("(").push(select.replace("{part}", "1"));
    push_filter(&mut query, tx, resolved)?;
    query.push(format!(" AND {column} IS NULL"));
    if let Some(AssetKey { value: None, id }) = after {
        query.push(format!(" AND a.id {cmp} ")).push_bind(*id);
    }
    // Ordered by the column too (all NULL here) so that the index's order is the one asked for.
    query.push(format!(" ORDER BY {column} {index_order}, a.id {direction} LIMIT ")).push_bind(limit);
    query.push(format!(")) page ORDER BY page.list_part, page.{bare} {direction}, page.id {direction} LIMIT "));
    query.push_bind(limit);
    Ok(query)
}

/// How many assets of the transaction's engagement match `filter`.
pub async fn count_assets(tx: &mut TenantTx<'_>, filter: &AssetFilter) -> Result<i64, RepoError> {
    let resolved = resolve(tx, filter).await?;
    let mut query = QueryBuilder::new("SELECT count(*) FROM migration.assets a WHERE");
    push_filter(&mut query, tx, &resolved)?;
    let count = query.build_query_scalar::<i64>().fetch_one(tx.conn()).await?;
    Ok(count)
}

/// Writes the fields set in `patch` on every asset of the engagement matching `filter` whose
/// values differ, in one statement; returns how many changed (`updated_at` and `updated_by`, the
/// transaction's user, are stamped on those only).
pub async fn update_assets(tx: &mut TenantTx<'_>, filter: &AssetFilter, patch: &AssetPatch) -> Result<u64, RepoError> {
    let record = super::table::to_object(Asset::TABLE, patch)?;
    if record.is_empty() {
        return Ok(0);
    }
    let resolved = resolve(tx, filter).await?;
    let columns: Vec<String> = record.keys().map(|c| quote_identifier(c)).collect();
    let list = |prefix: &str| columns.iter().map(|c| format!("{prefix}.{c}")).collect::<Vec<_>>().join(", ");
    let mut query = QueryBuilder::new(format!(
        "UPDATE migration.assets a SET ({targets}, updated_at, updated_by) = ({values}, now(), ",
        targets = columns.join(", "),
        values = list("p"),
    ));
    query
        .push("coalesce(")
        .push_bind(tx.user_id())
        .push("::uuid, a.updated_by)) FROM jsonb_populate_record(NULL::migration.assets, ");
    query.push_bind(Json(record)).push(") p WHERE");
    push_filter(&mut query, tx, &resolved)?;
    query.push(format!(" AND ({}) IS DISTINCT FROM ({})", list("a"), list("p")));
    Ok(query.build().execute(tx.conn()).await?.rows_affected())
}

/// Serialises the work that creates assets in the transaction's engagement (inventories and the
/// assets derived from them, of concurrent imports) until the transaction ends, so that each sees
/// the assets the other created; `assets.dedup_key`'s unique key refuses what would slip by.
pub async fn lock_engagement_assets(tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('modernize.engagement_assets:' || $1::text, 0))")
        .bind(engagement_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// What an import would make of one identity: the asset that holds it already, if any, and the
/// facts the 6R rules read as they will be once the import's values are merged in (the import's
/// value where it has one, else the asset's; `custom_attributes` merged key by key).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MergedFacts {
    pub dedup_key: String,
    pub existing_id: Option<Uuid>,
    pub existing_strategy: Option<SixrStrategy>,
    /// The import that last wrote the existing asset.
    pub existing_import: Option<Uuid>,
    /// A VM template, an SRM placeholder or an ESXi host: kept in the inventory, out of 6R.
    pub excluded: bool,
    #[sqlx(flatten)]
    pub facts: crate::discovery::sixr::AssetFacts,
}

/// Locks the engagement's assets the identities `dedup_keys` become until the transaction ends (a
/// person's edit of one waits, and one committed before is seen by what follows), and answers,
/// for each identity with its cleansed values `assets` (JSON objects of asset columns) and the
/// asset an earlier import made that it was `matched` to, if any (the same order), the
/// [`MergedFacts`]. An identity's asset is its matched asset, else the one holding it as
/// `dedup_key`; a matched asset that is gone makes the identity an asset of its own again.
pub async fn merged_facts(
    tx: &mut TenantTx<'_>,
    dedup_keys: &[String],
    assets: &[serde_json::Value],
    matched: &[Option<Uuid>],
) -> Result<Vec<MergedFacts>, RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    let matched_ids: Vec<Uuid> = matched.iter().flatten().copied().collect();
    let locked: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT id, dedup_key FROM migration.assets
         WHERE client_account_id = $1 AND engagement_id = $2 AND (dedup_key = ANY ($3) OR id = ANY ($4))
         FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(dedup_keys)
    .bind(&matched_ids)
    .fetch_all(tx.conn())
    .await?;
    let ids: HashSet<Uuid> = locked.iter().map(|(id, _)| *id).collect();
    let by_key: HashMap<&str, Uuid> = locked.iter().filter_map(|(id, key)| Some((key.as_deref()?, *id))).collect();
    let existing: Vec<Option<Uuid>> = dedup_keys
        .iter()
        .zip(matched)
        .map(|(key, matched)| matched.filter(|id| ids.contains(id)).or_else(|| by_key.get(key.as_str()).copied()))
        .collect();
    // Only what the rules read goes to the database: the whole asset would be parsed from JSON
    // once more per page (about a third of the statement's time at 5,000 assets).
    let assets: Vec<serde_json::Value> = assets.iter().map(fact_fields).collect();
    let merged = sqlx::query_as(
        "SELECT s.dedup_key, e.id AS existing_id, e.six_r_strategy AS existing_strategy,
                e.data_import_id AS existing_import,
                coalesce((m.ca #>> '{vmware,template}')::boolean, false)
                    OR coalesce((m.ca #>> '{vmware,srm_placeholder}')::boolean, false)
                    OR coalesce((m.ca #>> '{vmware,esxi_host}')::boolean, false) AS excluded,
                coalesce(p.asset_type, e.asset_type, 'server') AS asset_type,
                coalesce(p.operating_system, e.operating_system) AS operating_system,
                coalesce(p.os_version, e.os_version) AS os_version,
                coalesce(p.environment, e.environment) AS environment,
                coalesce(p.cpu_utilization_percent, e.cpu_utilization_percent) AS cpu_utilization_percent,
                coalesce(p.business_criticality, e.business_criticality) AS business_criticality,
                coalesce(p.database_type, e.database_type) AS database_type,
                coalesce(p.virtualization_platform, e.virtualization_platform) AS virtualization_platform,
                coalesce(p.completeness_score, e.completeness_score) AS completeness_score,
                m.ca #>> '{vmware,power_state}' AS power_state
         FROM unnest($3::text[], $4::jsonb[], $5::uuid[]) AS s(dedup_key, asset, asset_id)
         CROSS JOIN LATERAL jsonb_populate_record(NULL::migration.assets, s.asset) p
         LEFT JOIN migration.assets e ON e.client_account_id = $1 AND e.engagement_id = $2 AND e.id = s.asset_id
         CROSS JOIN LATERAL (SELECT coalesce(e.custom_attributes, '{}') || coalesce(p.custom_attributes, '{}') AS ca) m",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(dedup_keys)
    .bind(&assets)
    .bind(&existing)
    .fetch_all(tx.conn())
    .await?;
    Ok(merged)
}

/// The columns [`merged_facts`] reads of an import's values.
const FACT_COLUMNS: [&str; 9] = [
    "asset_type",
    "operating_system",
    "os_version",
    "environment",
    "cpu_utilization_percent",
    "business_criticality",
    "database_type",
    "virtualization_platform",
    "completeness_score",
];

/// Of an asset's values (a JSON object of asset columns), the [`FACT_COLUMNS`] and the `vmware`
/// object of `custom_attributes` (whole: it replaces the asset's own when merged).
fn fact_fields(asset: &serde_json::Value) -> serde_json::Value {
    let mut facts: serde_json::Map<String, serde_json::Value> =
        FACT_COLUMNS.iter().filter_map(|&c| asset.get(c).map(|v| (c.to_owned(), v.clone()))).collect();
    if let Some(vmware) = asset.get("custom_attributes").and_then(|ca| ca.get("vmware")) {
        facts.insert("custom_attributes".into(), serde_json::json!({ "vmware": vmware }));
    }
    serde_json::Value::Object(facts)
}

/// Assets an import writes, one per identity, in columns (the same length each): the identity,
/// the asset it becomes (None: a new asset), the record whose values it last took, its cleansed
/// values (a JSON object of asset columns; `identity_keys`: the matching keys of its records,
/// added to the asset's), the 6R strategy it holds after the import, and whether the 6R rules
/// assessed it (its status becomes `assessed`).
#[derive(Debug, Clone, Default)]
pub struct ImportedAssets {
    pub dedup_keys: Vec<String>,
    pub existing_ids: Vec<Option<Uuid>>,
    pub record_ids: Vec<Uuid>,
    pub assets: Vec<serde_json::Value>,
    pub strategies: Vec<Option<SixrStrategy>>,
    pub assessed: Vec<bool>,
}

impl ImportedAssets {
    /// The rows of existing assets, then those of new ones.
    fn split_existing(self) -> (ImportedAssets, ImportedAssets) {
        let (mut existing, mut new) = (ImportedAssets::default(), ImportedAssets::default());
        let rows = self.dedup_keys.into_iter().zip(self.existing_ids).zip(self.record_ids).zip(self.assets);
        for ((((key, id), record_id), asset), (strategy, assessed)) in
            rows.zip(self.strategies.into_iter().zip(self.assessed))
        {
            let part = if id.is_some() { &mut existing } else { &mut new };
            part.dedup_keys.push(key);
            part.existing_ids.push(id);
            part.record_ids.push(record_id);
            part.assets.push(asset);
            part.strategies.push(strategy);
            part.assessed.push(assessed);
        }
        (existing, new)
    }
}

/// Writes an import's assets of the transaction's engagement, each once: an existing one takes
/// the import's values where the import has one and keeps its own elsewhere (`custom_attributes`
/// merged key by key; `identity_keys` gain the import's and the keys of the columns' old values,
/// as `migration.asset_identity_keys` makes them); a new one takes the column defaults where the
/// import says nothing. Both are linked to the flows and import of `scope`. Returns the (asset
/// id, identity of the import) of each and how many were created. Callers hold
/// [`lock_engagement_assets`].
pub async fn write_imported_assets(
    tx: &mut TenantTx<'_>,
    scope: &super::flows::PhaseScope,
    rows: ImportedAssets,
) -> Result<(Vec<(Uuid, String)>, u64), RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    let columns = ASSET_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
    let merged: String = ASSET_FIELDS
        .iter()
        .map(|f| match f.kind {
            FieldKind::Attributes => format!("a.{0} || coalesce(p.{0}, '{{}}')", f.name),
            _ => format!("coalesce(p.{0}, a.{0})", f.name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let inserted: String = ASSET_FIELDS
        .iter()
        .map(|f| match f.kind {
            FieldKind::AssetType => format!("coalesce(p.{}, 'server')", f.name),
            FieldKind::TextList => format!("coalesce(p.{}, '[]')", f.name),
            FieldKind::Attributes => format!("coalesce(p.{}, '{{}}')", f.name),
            _ => format!("p.{}", f.name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let source = "SELECT * FROM unnest($5::text[], $6::uuid[], $7::uuid[], $8::jsonb[], $9::migration.sixr_strategy[],
                                      $10::boolean[]) AS s(dedup_key, asset_id, record_id, asset, strategy, assessed)";
    // Each statement gets only its rows, and one with none is not sent: PostgreSQL parses every
    // bound JSON value, used or not.
    let (existing, new) = rows.split_existing();
    let mut written: Vec<(Uuid, String)> = Vec::new();
    if !existing.dedup_keys.is_empty() {
        written = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "WITH src AS ({source} WHERE s.asset_id IS NOT NULL)
         UPDATE migration.assets a SET ({columns}, master_flow_id, discovery_flow_id, data_import_id,
                raw_import_record_id, six_r_strategy, status, identity_keys, updated_at)
             = (SELECT {merged}, $2, $3, $4, src.record_id, src.strategy,
                       CASE WHEN src.assessed THEN 'assessed' ELSE a.status END,
                       migration.asset_identity_keys(a.identity_keys || coalesce(p.identity_keys, '{{}}'), a.dedup_key,
                                                     a.serial_number, a.fqdn, a.hostname),
                       now()
                FROM jsonb_populate_record(NULL::migration.assets, src.asset) p)
         FROM src
         WHERE a.client_account_id = $1 AND a.id = src.asset_id
         RETURNING a.id, src.dedup_key"
        )))
        .bind(tx.client_account_id())
        .bind(scope.master_flow_id)
        .bind(scope.discovery_flow_id)
        .bind(scope.data_import_id)
        .bind(&existing.dedup_keys)
        .bind(&existing.existing_ids)
        .bind(&existing.record_ids)
        .bind(&existing.assets)
        .bind(&existing.strategies)
        .bind(&existing.assessed)
        .fetch_all(tx.conn())
        .await?;
    }
    if new.dedup_keys.is_empty() {
        return Ok((written, 0));
    }
    // A new asset's status: `assessed` once the rules gave it a strategy, else the column's default.
    let created: Vec<(Uuid, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source} WHERE s.asset_id IS NULL)
         INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, raw_import_record_id, discovery_method, discovery_source, discovery_timestamp,
                dedup_key, six_r_strategy, status, identity_keys, {columns})
         SELECT $1, $11, $2, $3, $4, src.record_id, 'import', 'discovery flow', now(), src.dedup_key, src.strategy,
                CASE WHEN src.assessed THEN 'assessed' ELSE 'discovered' END::migration.asset_status,
                migration.asset_identity_keys(coalesce(p.identity_keys, '{{}}'), NULL, NULL, NULL, NULL), {inserted}
         FROM src, jsonb_populate_record(NULL::migration.assets, src.asset) p
         RETURNING id, dedup_key"
    )))
    .bind(tx.client_account_id())
    .bind(scope.master_flow_id)
    .bind(scope.discovery_flow_id)
    .bind(scope.data_import_id)
    .bind(&new.dedup_keys)
    .bind(&new.existing_ids)
    .bind(&new.record_ids)
    .bind(&new.assets)
    .bind(&new.strategies)
    .bind(&new.assessed)
    .bind(engagement_id)
    .fetch_all(tx.conn())
    .await?;
    let count = created.len() as u64;
    written.extend(created);
    Ok((written, count))
}
