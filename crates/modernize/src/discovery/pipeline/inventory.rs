//! The inventory phase: one asset per identity within the engagement, created or updated.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Advance, PhaseJob};
use crate::discovery::DiscoveryError;
use crate::discovery::identity::{self, Candidate, MATCHING_KINDS};
use crate::models::asset_fields::{ASSET_FIELDS, FieldKind};
use crate::repo::assets;
use crate::tenancy::{TenantCtx, TenantTx};

/// Creates or updates one asset per identity within the engagement, linked to the master and
/// discovery flow (see [`crate::discovery::identity`]): records of one identity (`dedup_key`) are
/// one asset, the last record of the file winning where they differ, and flagged; an identity
/// that no asset has becomes the existing asset it matches on a weaker key (`identity_keys`, no
/// stronger key contradicting), flagged `matched` on its records, or, when that match is not
/// unique, an asset of its own, flagged `identity_ambiguous`. Every asset keeps the keys of the
/// records it was made from. Inventories of one engagement run one at a time
/// ([`assets::lock_engagement_assets`]); the unique key is the backstop.
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
    // The last record of each identity, with its keys (records cleansed before migration 0015
    // have none but their identity).
    let source = "SELECT DISTINCT ON (r.cleansed_data ->> 'dedup_key') r.id AS record_id,
                         r.cleansed_data ->> 'dedup_key' AS dedup_key, r.cleansed_data -> 'asset' AS asset,
                         ARRAY(SELECT jsonb_array_elements_text(coalesce(r.cleansed_data -> 'keys', '[]')))
                             ::varchar(1024)[] AS keys
                  FROM migration.raw_import_records r
                  WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
                    AND r.cleansed_data ->> 'dedup_key' IS NOT NULL
                  ORDER BY r.cleansed_data ->> 'dedup_key', r.row_number DESC";
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    assets::lock_engagement_assets(&mut tx).await?;
    let candidates = match_candidates(&mut tx, source, job).await?;
    let resolution = identity::resolve(candidates);
    let (matched_identities, matched_assets): (Vec<&str>, Vec<Uuid>) =
        resolution.matches.iter().map(|(identity, c)| (identity.as_str(), c.asset_id)).unzip();
    let update = |target: &str| {
        format!(
            "WITH src AS ({source})
             UPDATE migration.assets a SET ({columns}, master_flow_id, discovery_flow_id, data_import_id,
                    raw_import_record_id, identity_keys, updated_at)
                 = (SELECT {merged}, $3, $4, $2, src.record_id,
                        migration.asset_identity_keys(a.identity_keys || src.keys, a.dedup_key, a.serial_number,
                                                      a.fqdn, a.hostname),
                        now()
                    FROM jsonb_populate_record(NULL::migration.assets, src.asset) p)
             {target}"
        )
    };
    // The assets of the identities, then those the other identities matched.
    let mut updated = sqlx::query(sqlx::AssertSqlSafe(update(
        "FROM src WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key",
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if !matched_assets.is_empty() {
        updated += sqlx::query(sqlx::AssertSqlSafe(update(
            "FROM src JOIN unnest($6::text[], $7::uuid[]) m(dedup_key, asset_id) ON m.dedup_key = src.dedup_key
             WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.id = m.asset_id",
        )))
        .bind(ctx.client_account_id())
        .bind(job.data_import_id)
        .bind(job.master_flow_id)
        .bind(job.discovery_flow_id)
        .bind(job.engagement_id)
        .bind(&matched_identities)
        .bind(&matched_assets)
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    let created = sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source})
         INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, raw_import_record_id, discovery_method, discovery_source, discovery_timestamp,
                dedup_key, identity_keys, {columns})
         SELECT $1, $5, $3, $4, $2, src.record_id, 'import', 'discovery flow', now(), src.dedup_key,
                migration.asset_identity_keys(src.keys, NULL, NULL, NULL, NULL),
                {inserted}
         FROM src, jsonb_populate_record(NULL::migration.assets, src.asset) p
         WHERE src.dedup_key <> ALL($6::text[])
           AND NOT EXISTS (SELECT 1 FROM migration.assets a
                           WHERE a.client_account_id = $1 AND a.engagement_id = $5 AND a.dedup_key = src.dedup_key)"
    )))
    .bind(ctx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.master_flow_id)
    .bind(job.discovery_flow_id)
    .bind(job.engagement_id)
    .bind(&matched_identities)
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
    if !matched_assets.is_empty() {
        sqlx::query(
            "UPDATE migration.raw_import_records r SET asset_id = m.asset_id, is_processed = true, processed_at = now()
         FROM unnest($3::text[], $4::uuid[]) m(dedup_key, asset_id)
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND r.cleansed_data ->> 'dedup_key' = m.dedup_key",
        )
        .bind(ctx.client_account_id())
        .bind(job.data_import_id)
        .bind(&matched_identities)
        .bind(&matched_assets)
        .execute(tx.conn())
        .await?;
    }
    // A new match (not an asset that already has the identity among its keys) or a refused one is
    // said on each record of the identity (once, whatever the re-runs).
    let merges: Vec<(&String, &Candidate)> =
        resolution.matches.iter().filter(|(identity, c)| c.key != **identity).collect();
    let (said_identities, said): (Vec<&str>, Vec<Value>) = merges
        .iter()
        .map(|(identity, c)| (identity.as_str(), matched_issue(c)))
        .chain(resolution.ambiguous.iter().map(|(identity, message)| {
            let issue = json!({"kind": "identity_ambiguous", "severity": "warning", "message": message});
            (identity.as_str(), issue)
        }))
        .unzip();
    if !said.is_empty() {
        sqlx::query(
            "UPDATE migration.raw_import_records r SET cleansed_data = jsonb_set(r.cleansed_data, '{issues}',
                coalesce(r.cleansed_data -> 'issues', '[]') || jsonb_build_array(i.issue))
         FROM unnest($3::text[], $4::jsonb[]) i(dedup_key, issue)
         WHERE r.client_account_id = $1 AND r.data_import_id = $2 AND r.is_valid
           AND r.cleansed_data ->> 'dedup_key' = i.dedup_key
           AND NOT coalesce(r.cleansed_data -> 'issues', '[]')
                   @> jsonb_build_array(jsonb_build_object('kind', i.issue ->> 'kind'))",
        )
        .bind(ctx.client_account_id())
        .bind(job.data_import_id)
        .bind(&said_identities)
        .bind(&said)
        .execute(tx.conn())
        .await?;
    }
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
    metrics.insert("identities_matched".into(), json!(merges.len()));
    metrics.insert("identities_ambiguous".into(), json!(resolution.ambiguous.len()));
    Ok(Advance::Next(metrics))
}

/// The existing assets each identity of the import that no asset has shares a key with (its
/// strongest shared key, no stronger kind of key that both have and none in common), leaving out
/// the assets the import's identities themselves are. `source`: the import's identities.
async fn match_candidates(
    tx: &mut TenantTx<'_>,
    source: &str,
    job: &PhaseJob,
) -> Result<Vec<Candidate>, DiscoveryError> {
    // Kinds as bits of a mask (rank r: 1 << r), so that "a stronger kind both have" is one AND.
    let candidates = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH src AS ({source}),
         open_keys AS (
             SELECT s.dedup_key, k.key, array_position($4::text[], split_part(k.key, ':', 1)) - 1 AS strength
             FROM src s, unnest(s.keys) k(key)
             WHERE NOT EXISTS (SELECT 1 FROM migration.assets a
                               WHERE a.client_account_id = $1 AND a.engagement_id = $3 AND a.dedup_key = s.dedup_key)),
         asset_keys AS (
             SELECT a.id, k.key, array_position($4::text[], split_part(k.key, ':', 1)) - 1 AS strength
             FROM migration.assets a,
                  unnest(migration.asset_identity_keys(a.identity_keys, a.dedup_key, a.serial_number, a.fqdn,
                                                       a.hostname)) k(key)
             WHERE a.client_account_id = $1 AND a.engagement_id = $3
               AND NOT EXISTS (SELECT 1 FROM src s WHERE s.dedup_key = a.dedup_key)),
         shared AS (
             SELECT o.dedup_key, k.id AS asset_id, min(o.strength) AS strength,
                    (array_agg(o.key ORDER BY o.strength))[1] AS key
             FROM open_keys o JOIN asset_keys k ON k.key = o.key
             GROUP BY 1, 2),
         open_kinds AS (SELECT dedup_key, bit_or(1 << strength) AS kinds FROM open_keys GROUP BY 1),
         asset_kinds AS (SELECT id, bit_or(1 << strength) AS kinds FROM asset_keys GROUP BY 1)
         SELECT sh.dedup_key, sh.asset_id, a.name AS asset_name, sh.key::text, sh.strength
         FROM shared sh
         JOIN open_kinds ok ON ok.dedup_key = sh.dedup_key
         JOIN asset_kinds ak ON ak.id = sh.asset_id
         JOIN migration.assets a ON a.client_account_id = $1 AND a.id = sh.asset_id
         WHERE ok.kinds & ak.kinds & ((1 << sh.strength) - 1) = 0"
    )))
    .bind(tx.client_account_id())
    .bind(job.data_import_id)
    .bind(job.engagement_id)
    .bind(MATCHING_KINDS)
    .fetch_all(tx.conn())
    .await?;
    Ok(candidates)
}

/// The issue on the records of an identity that became an existing asset.
fn matched_issue(c: &Candidate) -> Value {
    json!({"kind": "matched", "severity": "warning", "asset_id": c.asset_id, "key": c.key,
           "message": format!("one asset with {:?} of an earlier import ({}, no stronger key differs): \
                               this row's values kept where they differ", c.asset_name, c.key)})
}
