//! Cleansing and inventory in one pass: each valid record's values through its approved
//! mappings, with its identity, written into the engagement's inventory (one asset per identity,
//! its 6R strategy decided there) and the record written once with what it became.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::worker::WorkerOptions;
use super::{PhaseJob, flow_upload, record_object};
use crate::discovery::DiscoveryError;
use crate::discovery::cleansing::{FieldMapping, cleanse};
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
/// holds the identity already; records of one identity merged, the later record's values
/// winning where both have one) with the 6R strategy the rules give the merged facts (a person's
/// override kept), and writes each record once: its `cleansed_data` and its asset. A re-run
/// skips the records already written. Then the records of a merge are flagged, naming each
/// other. Inventories of one engagement run one page at a time
/// ([`assets::lock_engagement_assets`]); the unique key on `dedup_key` is the backstop.
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
    let mut totals = Totals::default();
    let mut after = 0i32;
    loop {
        let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
        let records = imports::records_to_cleanse(&mut tx, job.data_import_id, after, limit).await?;
        let Some(last) = records.last() else { break };
        after = last.row_number;
        let page = Page::cleanse(records, &mappings, mark)?;
        assets::lock_engagement_assets(&mut tx).await?;
        let (written, created, updated) = write_assets(&mut tx, job, &page).await?;
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
    /// Per identity of the page, in first-seen order: the merged values and the last record.
    assets: Vec<(String, Map<String, Value>, Uuid)>,
}

impl Page {
    fn cleanse(
        records: Vec<imports::RecordToCleanse>,
        mappings: &[FieldMapping],
        mark: Option<DecimalMark>,
    ) -> Result<Self, DiscoveryError> {
        let mut page = Page {
            ids: Vec::with_capacity(records.len()),
            documents: Vec::with_capacity(records.len()),
            keys: Vec::with_capacity(records.len()),
            assets: Vec::new(),
        };
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for record in records {
            let result = cleanse(&record_object(record.raw_data)?, mappings, mark);
            if let Some(key) = &result.dedup_key {
                match by_key.get(key) {
                    // The later record's values win where both have one, as across pages.
                    Some(&i) => {
                        let (_, merged, last) = &mut page.assets[i];
                        merge_into(merged, &result.asset);
                        *last = record.id;
                    }
                    None => {
                        by_key.insert(key.clone(), page.assets.len());
                        page.assets.push((key.clone(), result.asset.clone(), record.id));
                    }
                }
            }
            page.ids.push(record.id);
            page.documents.push(json!({"asset": result.asset, "dedup_key": result.dedup_key, "issues": result.issues}));
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
/// ESXi hosts keep theirs (none for a new one). Returns each identity's asset, how many were
/// created and how many of those updated came from another import (an earlier page of this one
/// does not count).
async fn write_assets(
    tx: &mut TenantTx<'_>,
    job: &PhaseJob,
    page: &Page,
) -> Result<(HashMap<String, Uuid>, u64, u64), DiscoveryError> {
    if page.assets.is_empty() {
        return Ok((HashMap::new(), 0, 0));
    }
    let keys: Vec<String> = page.assets.iter().map(|(key, ..)| key.clone()).collect();
    let values: Vec<Value> = page.assets.iter().map(|(_, asset, _)| Value::Object(asset.clone())).collect();
    let facts = assets::merged_facts(tx, &keys, &values).await?;
    let existing: Vec<Uuid> = facts.iter().filter_map(|f| f.existing_id).collect();
    let overridden = audit::resources_with_action(tx, "asset", &existing, OVERRIDE_ACTION).await?;
    let facts: HashMap<&str, &assets::MergedFacts> = facts.iter().map(|f| (f.dedup_key.as_str(), f)).collect();
    let mut rows = ImportedAssets::default();
    let mut updated = 0;
    for ((key, _, record_id), value) in page.assets.iter().zip(values) {
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
        rows.record_ids.push(*record_id);
        rows.assets.push(value);
        rows.strategies.push(strategy);
        rows.assessed.push(!merged.excluded);
    }
    let (written, created) = assets::write_imported_assets(tx, &job.scope(), &rows).await?;
    Ok((written.into_iter().map(|(id, key)| (key, id)).collect(), created, updated))
}
