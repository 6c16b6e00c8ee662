//! The asset inventory: list with filters and keyset pagination, get one, edit one. Reading needs
//! the viewer role in the asset's engagement, editing the analyst role.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Actor, ServiceError, account_ctx, connection, engagement_ctx, require};
use crate::models::{Asset, AssetPatch, AssetStatus, AssetType, CriticalityLevel, MemberRole, SixrStrategy};
use crate::repo::assets::{self as assets_repo, AssetFilter};
use crate::repo::{RepoError, table};
use crate::tenancy::{TenantCtx, TenantTx};

/// The fields a user may edit on an asset; the rest come from discovery.
pub const EDITABLE_FIELDS: [&str; 14] = [
    "name",
    "description",
    "environment",
    "location",
    "business_owner",
    "technical_owner",
    "department",
    "business_unit",
    "application_name",
    "criticality",
    "business_criticality",
    "six_r_strategy",
    "migration_priority",
    "migration_wave",
];

/// An asset as shown to users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetView {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    pub discovery_flow_id: Option<Uuid>,
    pub name: String,
    pub asset_type: AssetType,
    pub hostname: Option<String>,
    pub fqdn: Option<String>,
    pub ip_address: Option<String>,
    pub description: Option<String>,
    pub environment: Option<String>,
    pub location: Option<String>,
    pub operating_system: Option<String>,
    pub os_version: Option<String>,
    pub cpu_cores: Option<i32>,
    pub memory_gb: Option<f64>,
    pub storage_gb: Option<f64>,
    pub business_owner: Option<String>,
    pub technical_owner: Option<String>,
    pub department: Option<String>,
    pub business_unit: Option<String>,
    pub application_name: Option<String>,
    pub criticality: Option<CriticalityLevel>,
    pub business_criticality: Option<CriticalityLevel>,
    pub status: AssetStatus,
    pub six_r_strategy: Option<SixrStrategy>,
    pub migration_priority: Option<i32>,
    pub migration_wave: Option<i32>,
    pub completeness_score: Option<f64>,
    pub quality_score: Option<f64>,
    pub custom_attributes: Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Asset> for AssetView {
    fn from(a: Asset) -> Self {
        Self {
            id: a.id,
            engagement_id: a.engagement_id,
            master_flow_id: a.master_flow_id,
            discovery_flow_id: a.discovery_flow_id,
            name: a.name,
            asset_type: a.asset_type,
            hostname: a.hostname,
            fqdn: a.fqdn,
            ip_address: a.ip_address,
            description: a.description,
            environment: a.environment,
            location: a.location,
            operating_system: a.operating_system,
            os_version: a.os_version,
            cpu_cores: a.cpu_cores,
            memory_gb: a.memory_gb,
            storage_gb: a.storage_gb,
            business_owner: a.business_owner,
            technical_owner: a.technical_owner,
            department: a.department,
            business_unit: a.business_unit,
            application_name: a.application_name,
            criticality: a.criticality,
            business_criticality: a.business_criticality,
            status: a.status,
            six_r_strategy: a.six_r_strategy,
            migration_priority: a.migration_priority,
            migration_wave: a.migration_wave,
            completeness_score: a.completeness_score,
            quality_score: a.quality_score,
            custom_attributes: a.custom_attributes,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// One page of assets.
#[derive(Debug, Clone, Serialize)]
pub struct AssetPage {
    pub assets: Vec<AssetView>,
    /// Pass as `after` for the next page; None on the last one.
    pub next_after: Option<Uuid>,
}

/// The largest page a listing gives.
pub const MAX_PAGE: i64 = 1000;

/// Assets of an engagement (viewer) matching `filter`, in (name, id) order: `limit` (1 to
/// [`MAX_PAGE`]) after the asset `after`.
pub async fn list_assets(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    filter: &AssetFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<AssetPage, ServiceError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("must be 1 to {MAX_PAGE}")));
    }
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut assets = assets_repo::list_assets(&mut tx, filter, after, limit + 1).await?;
    tx.commit().await?;
    let more = assets.len() as i64 > limit;
    assets.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = if more { assets.last().map(|a| a.id) } else { None };
    Ok(AssetPage { assets: assets.into_iter().map(AssetView::from).collect(), next_after })
}

/// The context for one asset: its engagement and the actor's role there.
async fn asset_ctx(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    asset_id: Uuid,
) -> Result<(TenantCtx, Asset), ServiceError> {
    let account_ctx = account_ctx(conn, actor, account).await?;
    let mut tx = TenantTx::begin(conn, &account_ctx).await?;
    let asset = table::get::<Asset>(&mut tx, asset_id).await;
    tx.commit().await?;
    let not_found = || ServiceError::not_found("asset", asset_id);
    let asset = asset.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    let ctx = account_ctx.in_engagement(conn, asset.engagement_id).await.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    Ok((ctx, asset))
}

/// One asset (viewer in its engagement).
pub async fn get_asset(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    asset_id: Uuid,
) -> Result<AssetView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (_, asset) = asset_ctx(&mut conn, actor, account, asset_id).await?;
    Ok(asset.into())
}

/// Edits an asset (analyst in its engagement): `changes` maps fields of [`EDITABLE_FIELDS`] to
/// their new values (null clears an optional one). Invalid names the field that is not editable
/// or whose value does not fit it.
pub async fn edit_asset(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    asset_id: Uuid,
    changes: &Map<String, Value>,
) -> Result<AssetView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = asset_ctx(&mut conn, actor, account, asset_id).await?;
    require(&ctx, MemberRole::Analyst, "editing an asset")?;
    for (field, value) in changes {
        if !EDITABLE_FIELDS.contains(&field.as_str()) {
            return Err(ServiceError::invalid(
                field,
                format!("is not editable (editable: {})", EDITABLE_FIELDS.join(", ")),
            ));
        }
        let single = Map::from_iter([(field.clone(), value.clone())]);
        serde_json::from_value::<AssetPatch>(Value::Object(single))
            .map_err(|e| ServiceError::invalid(field, e.to_string()))?;
    }
    let patch: AssetPatch = serde_json::from_value(Value::Object(changes.clone()))
        .map_err(|e| ServiceError::invalid("asset", e.to_string()))?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let asset = table::update::<Asset>(&mut tx, asset_id, &patch).await?;
    tx.commit().await?;
    Ok(asset.into())
}
