//! Cleansing and inventory in one pass: each valid record's values through its approved
//! mappings, with its identity, written into the engagement's inventory (one asset per identity,
//! its 6R strategy decided there) and the record written once with what it became.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::worker::WorkerOptions;
use super::{PhaseJob, flow_upload, record_object};
use crate::discovery::DiscoveryError;
use crate::discovery::cleansing::{FieldMapping, cleanse};
use crate::discovery::identity::{self, Candidate, MATCHING_KINDS, Resolution};
use crate::discovery::ingest::InventoryFile;
use crate::discovery::sixr::{OVERRIDE_ACTION, recommend_for};
use crate::discovery::values::DecimalMark;
use crate::models::DiscoveryPhase;
use crate::repo::assets::{self, ImportedAssets};
use crate::repo::{audit, imports, mappings};
use crate::tenancy::{TenantCtx, TenantTx};

/// The data-cleansing and asset-inventory phases, done by one job in one pass over the records:
/// keyset pages of `chunk_rows` records in file order, each page in one transaction that
/// cleanses its records in memory, writes their assets (created, or updated where the engagement
/// holds the identity already or an earlier import's asset matches it, see [`match_identities`];
/// records of one identity merged, the later record's values winning where both have one, the
/// asset keeping the keys of all of them) with the 6R strategy the rules give the merged facts
/// (a person's override kept), and writes each record once: its `cleansed_data` (with its
/// `matched` or `identity_ambiguous` warning) and its asset. A re-run skips the records already
/// written. Then the records of a merge are flagged, naming each other. Inventories of one
/// engagement run one page at a time ([`assets::lock_engagement_assets`]); the unique key on
/// `dedup_key` is the backstop.
///
/// Returns the figures of both phases, cleansing first.
pub(super) async fn cleanse_into_inventory(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    options: &WorkerOptions,
) -> Result<Vec<(DiscoveryPhase, Map<String, Value>)>, DiscoveryError> {
    let started = Instant::now();
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let mappings = mappings::approved_mappings(&mut tx, job.data_import_id).await?;
    let (upload, import_options) = flow_upload(&mut tx, job).await?;
    tx.commit().await?;
    // The file's decimal mark, as the import phase found it (or as given).
    let detected = InventoryFile::open(&upload, import_options.sheet.as_deref(), import_options.encoding)?.shape;
    let mark = import_options.decimal_mark(detected.decimal_mark);
    let limit = i64::try_from(options.chunk_rows).unwrap_or(i64::MAX);
    let resolution = match_identities(conn, ctx, job, &mappings, mark, limit).await?;
    let mut totals = Totals::default();
    let mut after = 0i32;
    let mut analyzed = false;
    loop {
        let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
        let records = imports::records_to_cleanse(&mut tx, job.data_import_id, after, limit).await?;
        let Some(last) = records.last() else { break };
        after = last.row_number;
        let mut page = Page::cleanse(records, &mappings, mark, &resolution)?;
        assets::lock_engagement_assets(&mut tx).await?;
        let (written, created, updated) =
            write_assets(&mut tx, job, std::mem::take(&mut page.assets), &resolution).await?;
        if created > 0 && !analyzed {
            // Each record written next is checked against its asset (a foreign key), by a plan
            // made on the statistics of `assets`. Until they count this tenant's new rows the
            // planner may take the table for empty (a never-analyzed `assets` is estimated at
            // zero rows per page, its column types adding up to more than a page) and check each
            // record by walking all the tenant's assets on a smaller index: quadratic, 10× the
            // whole pass at 100k rows. Once is enough: the estimates then grow with the table.
            tx.analyze_as_owner("assets").await?;
            analyzed = true;
        }
        let asset_ids: Vec<Option<Uuid>> =
            page.keys.iter().map(|key| key.as_ref().and_then(|k| written.get(k).copied())).collect();
        imports::write_cleansed_records(&mut tx, &page.ids, &page.documents, &asset_ids).await?;
        tx.commit().await?;
        totals.cleansed += page.ids.len();
        totals.unidentified += page.keys.iter().filter(|k| k.is_none()).count();
        totals.created += created;
        totals.updated += updated;
    }
    let cleansing_ms = elapsed_ms(started);
    let started = Instant::now();
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let merged = imports::flag_merged_records(&mut tx, job.data_import_id).await?;
    tx.analyze_as_owner("assets").await?;
    tx.commit().await?;
    let mut cleansing = Map::new();
    cleansing.insert("records_cleansed".into(), json!(totals.cleansed));
    cleansing.insert("records_without_identity".into(), json!(totals.unidentified));
    cleansing.insert("mapped_columns".into(), json!(mappings.len()));
    cleansing.insert("duration_ms".into(), json!(cleansing_ms));
    let mut inventory = Map::new();
    inventory.insert("assets_created".into(), json!(totals.created));
    inventory.insert("assets_updated".into(), json!(totals.updated));
    inventory.insert("records_merged".into(), json!(merged));
    let matched = resolution.matches.iter().filter(|(identity, c)| c.key != **identity).count();
    inventory.insert("identities_matched".into(), json!(matched));
    inventory.insert("identities_ambiguous".into(), json!(resolution.ambiguous.len()));
    // The assets were written in the cleansing pass (its duration): this is what came after.
    inventory.insert("written_with".into(), json!(DiscoveryPhase::DataCleansing.as_str()));
    inventory.insert("duration_ms".into(), json!(elapsed_ms(started)));
    Ok(vec![(DiscoveryPhase::DataCleansing, cleansing), (DiscoveryPhase::AssetInventory, inventory)])
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[derive(Default)]
struct Totals {
    cleansed: usize,
    unidentified: usize,
    created: u64,
    updated: u64,
}

/// One page of records cleansed in memory, and the assets they make.
struct Page {
    /// Per record, in file order: its id, its `cleansed_data`, its identity.
    ids: Vec<Uuid>,
    documents: Vec<Value>,
    keys: Vec<Option<String>>,
    /// Per identity of the page, in first-seen order.
    assets: Vec<PageAsset>,
}

/// The records of one identity of a page, merged.
struct PageAsset {
    dedup_key: String,
    /// The later record's values over the earlier's where it has one.
    values: Map<String, Value>,
    /// The matching keys of all of them (issue 14: not only the last record's).
    keys: BTreeSet<String>,
    /// The last record.
    record_id: Uuid,
}

impl Page {
    fn cleanse(
        records: Vec<imports::RecordToCleanse>,
        mappings: &[FieldMapping],
        mark: Option<DecimalMark>,
        resolution: &Resolution,
    ) -> Result<Self, DiscoveryError> {
        let mut page = Page {
            ids: Vec::with_capacity(records.len()),
            documents: Vec::with_capacity(records.len()),
            keys: Vec::with_capacity(records.len()),
            assets: Vec::new(),
        };
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for record in records {
            let mut result = cleanse(&record_object(record.raw_data)?, mappings, mark);
            if let Some(key) = &result.dedup_key {
                // A new match (not an asset that has the identity among its keys already) or a
                // refused one is said on each record of the identity.
                if let Some(c) = resolution.matches.get(key) {
                    if c.key != *key {
                        result.issues.push(matched_issue(c));
                    }
                } else if let Some(message) = resolution.ambiguous.get(key) {
                    result
                        .issues
                        .push(json!({"kind": "identity_ambiguous", "severity": "warning", "message": message}));
                }
                match by_key.get(key) {
                    // The later record's values win where both have one, as across pages.
                    Some(&i) => {
                        let merged = &mut page.assets[i];
                        merge_into(&mut merged.values, &result.asset);
                        merged.keys.extend(result.keys.iter().cloned());
                        merged.record_id = record.id;
                    }
                    None => {
                        by_key.insert(key.clone(), page.assets.len());
                        page.assets.push(PageAsset {
                            dedup_key: key.clone(),
                            values: result.asset.clone(),
                            keys: result.keys.iter().cloned().collect(),
                            record_id: record.id,
                        });
                    }
                }
            }
            page.ids.push(record.id);
            page.documents.push(json!({"asset": result.asset, "dedup_key": result.dedup_key, "keys": result.keys,
                                      "issues": result.issues}));
            page.keys.push(result.dedup_key);
        }
        Ok(page)
    }
}

/// `later`'s values over `merged`'s where it has one; `custom_attributes` merged key by key.
fn merge_into(merged: &mut Map<String, Value>, later: &Map<String, Value>) {
    for (field, value) in later {
        match (field.as_str(), merged.get_mut(field), value) {
            (_, _, Value::Null) => {}
            ("custom_attributes", Some(Value::Object(earlier)), Value::Object(attributes)) => {
                earlier.extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                merged.insert(field.clone(), value.clone());
            }
        }
    }
}

/// Writes the page's assets with their 6R strategy: the rules on the facts merged with what the
/// engagement holds; an asset a person overrode keeps its strategy; templates, placeholders and
/// ESXi hosts keep theirs (none for a new one). An identity `resolution` matched writes the
/// asset it matched. Returns each identity's asset, how many were created and how many of those
/// updated came from another import (an earlier page of this one does not count).
async fn write_assets(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
    page_assets: Vec<PageAsset>,
    resolution: &Resolution,
) -> Result<(HashMap<String, Uuid>, u64, u64), DiscoveryError> {
    if page_assets.is_empty() {
        return Ok((HashMap::new(), 0, 0));
    }
    let (mut keys, mut values, mut record_ids, mut matched) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for mut asset in page_assets {
        matched.push(resolution.matches.get(&asset.dedup_key).map(|c| c.asset_id));
        asset.values.insert("identity_keys".into(), json!(asset.keys));
        keys.push(asset.dedup_key);
        values.push(Value::Object(asset.values));
        record_ids.push(asset.record_id);
    }
    let facts = assets::merged_facts(tx, &keys, &values, &matched).await?;
    let existing: Vec<Uuid> = facts.iter().filter_map(|f| f.existing_id).collect();
    let overridden = audit::resources_with_action(tx, "asset", &existing, OVERRIDE_ACTION).await?;
    let facts: HashMap<&str, &assets::MergedFacts> = facts.iter().map(|f| (f.dedup_key.as_str(), f)).collect();
    let mut rows = ImportedAssets::default();
    let mut updated = 0;
    for ((key, record_id), value) in keys.iter().zip(record_ids).zip(values) {
        let merged = facts
            .get(key.as_str())
            .ok_or_else(|| DiscoveryError::Invalid(format!("no facts for the identity {key}")))?;
        let kept = merged.existing_id.is_some_and(|id| overridden.contains(&id));
        let strategy = if merged.excluded || kept {
            merged.existing_strategy
        } else {
            Some(recommend_for(&merged.facts).strategy)
        };
        updated += u64::from(merged.existing_id.is_some() && merged.existing_import != Some(job.data_import_id));
        rows.dedup_keys.push(key.clone());
        rows.existing_ids.push(merged.existing_id);
        rows.record_ids.push(record_id);
        rows.assets.push(value);
        rows.strategies.push(strategy);
        rows.assessed.push(!merged.excluded);
    }
    let (written, created) = assets::write_imported_assets(tx, &job.scope(), rows).await?;
    Ok((written.into_iter().map(|(id, key)| (key, id)).collect(), created, updated))
}

/// Which identities of the import become assets that earlier imports made, and which would but
/// are refused ([`identity::resolve`]), decided for the whole import before its first page is
/// written, so that two identities claiming one asset are seen whichever pages they are on. An
/// identity's keys are those of all its records. Reads the import's records once more for it
/// (cleansing in memory those not cleansed yet), unless the engagement holds no asset to match.
async fn match_identities(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    mappings: &[FieldMapping],
    mark: Option<DecimalMark>,
    limit: i64,
) -> Result<Resolution, DiscoveryError> {
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let holds_assets: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM migration.assets WHERE client_account_id = $1 AND engagement_id = $2)",
    )
    .bind(ctx.client_account_id())
    .bind(job.engagement_id)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    if !holds_assets {
        return Ok(Resolution::default());
    }
    let mut identities: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut after = 0i32;
    loop {
        let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
        let records = imports::record_identities(&mut tx, job.data_import_id, after, limit).await?;
        tx.commit().await?;
        let Some(last) = records.last() else { break };
        after = last.row_number;
        for record in records {
            let (dedup_key, keys) = match record.raw_data {
                Some(raw) => {
                    let result = cleanse(&record_object(raw)?, mappings, mark);
                    (result.dedup_key, result.keys)
                }
                None => (record.dedup_key, record.keys),
            };
            if let Some(dedup_key) = dedup_key {
                identities.entry(dedup_key).or_default().extend(keys);
            }
        }
    }
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    assets::lock_engagement_assets(&mut tx).await?;
    let candidates = match_candidates(&mut tx, job, &identities).await?;
    tx.commit().await?;
    Ok(identity::resolve(candidates))
}

/// The existing assets each identity of the import that no asset has shares a key with (its
/// strongest shared key, no stronger kind of key that both have and none in common), leaving out
/// the assets the import's identities themselves are. `identities`: the import's, with their keys.
async fn match_candidates(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
    identities: &HashMap<String, BTreeSet<String>>,
) -> Result<Vec<Candidate>, DiscoveryError> {
    let names: Vec<&str> = identities.keys().map(String::as_str).collect();
    let (pair_identities, pair_keys): (Vec<&str>, Vec<&str>) = identities
        .iter()
        .flat_map(|(identity, keys)| keys.iter().map(move |key| (identity.as_str(), key.as_str())))
        .unzip();
    // Kinds as bits of a mask (rank r: 1 << r), so that "a stronger kind both have" is one AND.
    let candidates = sqlx::query_as(
        "WITH ids AS (SELECT DISTINCT i.dedup_key FROM unnest($4::text[]) i(dedup_key)),
         open_keys AS (
             SELECT s.dedup_key, s.key, array_position($3::text[], split_part(s.key, ':', 1)) - 1 AS strength
             FROM unnest($5::text[], $6::text[]) s(dedup_key, key)
             WHERE NOT EXISTS (SELECT 1 FROM migration.assets a
                               WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.dedup_key = s.dedup_key)),
         asset_keys AS (
             SELECT a.id, k.key, array_position($3::text[], split_part(k.key, ':', 1)) - 1 AS strength
             FROM migration.assets a,
                  unnest(migration.asset_identity_keys(a.identity_keys, a.dedup_key, a.serial_number, a.fqdn,
                                                       a.hostname)) k(key)
             WHERE a.client_account_id = $1 AND a.engagement_id = $2
               AND NOT EXISTS (SELECT 1 FROM ids WHERE ids.dedup_key = a.dedup_key)),
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
         WHERE ok.kinds & ak.kinds & ((1 << sh.strength) - 1) = 0",
    )
    .bind(tx.client_account_id())
    .bind(job.engagement_id)
    .bind(MATCHING_KINDS)
    .bind(&names)
    .bind(&pair_identities)
    .bind(&pair_keys)
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
