//! The asset inventory: queries by master flow, and tagging.

use uuid::Uuid;

use super::RepoError;
use crate::models::{Asset, AssetTag, Tag};
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

/// Which assets a listing shows; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetFilter {
    pub asset_type: Option<crate::models::AssetType>,
    pub environment: Option<String>,
    pub six_r_strategy: Option<crate::models::SixrStrategy>,
    pub discovery_flow_id: Option<Uuid>,
    /// A part of the name or hostname, any case.
    pub search: Option<String>,
}

/// Assets of the transaction's engagement in (name, id) order, `limit` of them after the asset
/// `after` (keyset pagination: stable while assets are added or edited).
pub async fn list_assets(
    tx: &mut TenantTx<'_>,
    filter: &AssetFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Asset>, RepoError> {
    let search = filter
        .search
        .as_deref()
        .map(|s| format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let assets = sqlx::query_as(
        "SELECT a.* FROM migration.assets a
         WHERE a.client_account_id = $1 AND ($2::uuid IS NULL OR a.engagement_id = $2)
           AND ($3::migration.asset_type IS NULL OR a.asset_type = $3)
           AND ($4::text IS NULL OR a.environment = $4)
           AND ($5::migration.sixr_strategy IS NULL OR a.six_r_strategy = $5)
           AND ($6::uuid IS NULL OR a.discovery_flow_id = $6)
           AND ($7::text IS NULL OR a.name ILIKE $7 OR a.hostname ILIKE $7)
           AND ($8::uuid IS NULL OR (a.name, a.id) > (SELECT c.name, c.id FROM migration.assets c
                                                       WHERE c.client_account_id = $1 AND c.id = $8))
         ORDER BY a.name, a.id LIMIT $9",
    )
    .bind(tx.client_account_id())
    .bind(tx.ctx().engagement_id())
    .bind(filter.asset_type)
    .bind(&filter.environment)
    .bind(filter.six_r_strategy)
    .bind(filter.discovery_flow_id)
    .bind(search)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(assets)
}
