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
