//! The field-mapping phase: the engine's suggestions stored for review, or decided at once by a
//! confidence threshold.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Advance, PhaseJob, flow_upload, record_object};
use crate::discovery::ingest::InventoryFile;
use crate::discovery::{DiscoveryError, MappingSuggestion, Suggester};
use crate::models::MappingStatus;
use crate::repo::mappings::{self, learned_mappings};
use crate::repo::{RepoError, imports};
use crate::tenancy::{TenantCtx, TenantTx};

/// Rows of the file the mapping engine sees as samples.
const SAMPLE_ROWS: i64 = 200;

/// Suggestions from the mapping engine, stored as `suggested`; with `accept_above`, decided at once.
pub(super) async fn suggest_mappings(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    suggester: &dyn Suggester,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let (upload, options) = flow_upload(&mut tx, job).await?;
    let headers = InventoryFile::open(&upload, options.sheet.as_deref(), options.encoding)?.shape.headers;
    let samples = imports::sample_records(&mut tx, job.data_import_id, SAMPLE_ROWS).await?;
    let samples: Vec<Map<String, Value>> = samples.into_iter().map(record_object).collect::<Result<_, _>>()?;
    let learned = learned_mappings(&mut tx).await?;
    let suggestions: Vec<MappingSuggestion> = suggester.suggest(&headers, &samples, &learned);
    let scope = job.scope();
    for s in &suggestions {
        let sample_values: Vec<&Value> =
            samples.iter().filter_map(|row| row.get(&s.source_field)).filter(|v| !v.is_null()).take(5).collect();
        mappings::insert_suggestion(&mut tx, &scope, s, &json!(sample_values)).await?;
    }
    // With a threshold the suggestions are decided at once, by the same rule a reviewer's
    // resume with `accept_above` applies.
    let Some(threshold) = options.accept_above else {
        tx.commit().await?;
        return Ok(Advance::WaitForReview);
    };
    decide_pending_mappings(&mut tx, job.data_import_id, Some(threshold)).await?;
    tx.commit().await?;
    let mapped = suggestions.iter().filter(|s| s.target_field.is_some()).count();
    let mut metrics = Map::new();
    metrics.insert("columns".into(), json!(suggestions.len()));
    metrics.insert("suggested_targets".into(), json!(mapped));
    Ok(Advance::Next(metrics))
}

/// Decides the import's suggestions still pending by `accept_above`: approved at or above it,
/// rejected below, both recorded as the threshold's decisions (`decided_by = 'threshold'`), which
/// teach the mapping engine nothing ([`learned_mappings`] reads reviewers' decisions only).
/// Invalid (field `accept_above`) when suggestions remain pending.
pub(super) async fn decide_pending_mappings(
    tx: &mut TenantTx<'_>,
    data_import_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), DiscoveryError> {
    if let Some(threshold) = accept_above {
        mappings::decide_suggestions(tx, data_import_id, threshold).await?;
    }
    let pending = mappings::count_mappings(tx, data_import_id, Some(MappingStatus::Suggested)).await?;
    if pending > 0 {
        return Err(RepoError::Invalid {
            field: "accept_above".into(),
            message: format!(
                "{pending} field mappings still await review: approve or reject them, or give a confidence \
                 threshold to decide the rest"
            ),
        }
        .into());
    }
    Ok(())
}
