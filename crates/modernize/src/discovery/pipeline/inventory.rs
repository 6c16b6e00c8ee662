//! The inventory phase: one asset per identity within the engagement, created or updated.

use serde_json::{Map, json};
use sqlx::PgConnection;

use super::{Advance, PhaseJob};
use crate::discovery::DiscoveryError;
use crate::models::asset_fields::{ASSET_FIELDS, FieldKind};
use crate::repo::assets;
use crate::tenancy::{TenantCtx, TenantTx};

/// Creates or updates one asset per identity within the engagement (`assets.dedup_key`, see
/// [`super::identity`]; records of one identity are merged, the last record of the file winning
/// where they differ, and flagged), linked to the master and discovery flow. Inventories of one
/// engagement run one at a time ([`assets::lock_engagement_assets`]); the unique key is the backstop.
pub(super) async fn build_inventory(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
) -> Result<Advance, DiscoveryError> {
    // A new asset takes the column defaults where the file says nothing; an existing one keeps
    // what it had where this file says nothing.
    let columns = ASSET_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
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
    let merged: String = ASSET_FIELDS
        .iter()
        .map(|f| match f.kind {
            FieldKind::Attributes => format!("a.{0} || coalesce(p.{0}, '{{}}')", f.name),
            _ => format!("coalesce(p.{0}, a.{0})", f.name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let source = "SELECT DISTINCT ON (r.cleansed_data ->> 'dedup_key') r.id AS record_id,
                         r.cleansed_data ->> 'dedup_key' AS dedup_key, r.cleansed_data -> 'asset' AS asset
                  FROM migration.raw_import_records r
                  WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
                    AND r.cleansed_data ->> 'dedup_key' IS NOT NULL
                  ORDER BY r.cleansed_data ->> 'dedup_key', r.row_number DESC";
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    assets::lock_engagement_assets(&mut tx).await?;
    let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source})
         UPDATE migration.assets a SET ({columns}, master_flow_id, discovery_flow_id, data_import_id,
                raw_import_record_id, updated_at)
             = (SELECT {merged}, $3, $4, $2, src.record_id, now()
                FROM jsonb_populate_record(NULL::migration.assets, src.asset) p)
         FROM src
         WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key"
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let created = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source})
         INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, raw_import_record_id, discovery_method, discovery_source, discovery_timestamp,
                dedup_key, {columns})
         SELECT $1, $5, $3, $4, $2, src.record_id, 'import', 'discovery flow', now(), src.dedup_key, {inserted}
         FROM src, jsonb_populate_record(NULL::migration.assets, src.asset) p
         WHERE NOT EXISTS (SELECT 1 FROM migration.assets a
                           WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key)"
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.analyze_as_owner("assets").await?;
    // Every record points at its asset: both rows of a merge are kept against it.
    sqlx::query(
        "UPDATE migration.raw_import_records r SET asset_id = a.id, is_processed = true, processed_at = now()
         FROM migration.assets a
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND a.client_account_id = $1 AND a.engagement_id = $3 AND a.dedup_key = r.cleansed_data ->> 'dedup_key'",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?;
    // A merge is said on each of its rows, naming the others (once, whatever the re-runs).
    let merged = sqlx::query(
        "UPDATE migration.raw_import_records r SET cleansed_data = jsonb_set(r.cleansed_data, '{issues}',
                coalesce(r.cleansed_data -> 'issues', '[]') || jsonb_build_array(jsonb_build_object(
                    'kind', 'merged', 'severity', 'warning',
                    'message', m.rows || ' are one asset (' || m.dedup_key
                        || '): merged, the last row''s values kept where they differ')))
         FROM (SELECT cleansed_data ->> 'dedup_key' AS dedup_key,
                      -- The rows a person sees in the file; records imported before migration
                      -- 0014 kept no file row and are named as data rows.
                      CASE WHEN bool_and(file_row IS NOT NULL)
                           THEN 'rows ' || string_agg(file_row::text, ', ' ORDER BY row_number)
                           ELSE 'data rows ' || string_agg(row_number::text, ', ' ORDER BY row_number) END AS rows
               FROM migration.raw_import_records
               WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid
                 AND cleansed_data ->> 'dedup_key' IS NOT NULL
               GROUP BY 1 HAVING count(*) > 1) m
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND r.cleansed_data ->> 'dedup_key' = m.dedup_key
           AND NOT coalesce(r.cleansed_data -> 'issues', '[]') @> '[{\"kind\": \"merged\"}]'",
    )
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("assets_created".into(), json!(created));
    metrics.insert("assets_updated".into(), json!(updated));
    metrics.insert("records_merged".into(), json!(merged));
    Ok(Advance::Next(metrics))
}
