//! The asset inventory: queries by master flow, tagging, and the filtered, sorted, keyset-paged
//! listing (with its count and bulk edit) behind the API's asset routes.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::RepoError;
use crate::db::quote_identifier;
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
    /// The column and the SQL type a cursor's value is cast back to.
    fn column(self) -> (&'static str, &'static str) {
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

/// An asset of a listing, with its sort value as text (what the next page's [`AssetKey`] holds).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedAsset {
    #[sqlx(flatten)]
    pub asset: Asset,
    pub sort_value: Option<String>,
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
    if let Some(asset_type) = filter.asset_type {
        query.push(" AND a.asset_type = ").push_bind(asset_type);
    }
    if let Some(environment) = non_blank(&filter.environment) {
        // Case-insensitive by collation, not lower(): an index condition under RLS (migration 0013).
        query
            .push(" AND a.environment = ")
            .push_bind(environment.to_owned())
            .push(" COLLATE migration.case_insensitive");
    }
    if let Some(strategy) = filter.six_r_strategy {
        query.push(" AND a.six_r_strategy = ").push_bind(strategy);
    }
    if let Some(criticality) = filter.criticality {
        query.push(" AND a.criticality = ").push_bind(criticality);
    }
    if let Some(criticality) = filter.business_criticality {
        query.push(" AND a.business_criticality = ").push_bind(criticality);
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
    let resolved = resolve(tx, filter).await?;
    let mut query = list_query("", tx, &resolved, sort, order, after, limit)?;
    let assets = query.build_query_as::<ListedAsset>().fetch_all(tx.conn()).await?;
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
    let mut query = list_query("EXPLAIN (ANALYZE, FORMAT JSON) ", tx, &resolved, sort, order, after, limit)?;
    let plan = query.build_query_scalar::<Json<serde_json::Value>>().fetch_one(tx.conn()).await?;
    Ok(plan.0)
}

/// The keyset page as two index ranges of `(client_account_id, engagement_id, <column>, id)`
/// (migration 0010): the assets with a value, then those without, each read in the index's own
/// order (forwards for ascending, backwards for descending) and cut at `limit`. One query ordered
/// `NULLS LAST` both ways would need a second index per column for descending pages, or sort the
/// engagement's rows; here only the at most 2 × `limit` rows of the two ranges are sorted.
fn list_query(
    prefix: &str,
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
    let select =
        format!("SELECT a.*, ({column})::text AS sort_value, {{part}} AS list_part FROM migration.assets a WHERE");
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
