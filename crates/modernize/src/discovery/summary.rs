//! What a discovery flow did, in one read: its state, the import's counts and bad rows, the
//! mappings, each phase's figures and timing, and the inventory it produced.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::DiscoveryError;
use crate::models::state::{PhaseStates, PhaseStatus};
use crate::models::{DataImport, DiscoveryFlow, DiscoveryPhase, FlowStatus, ImportFieldMapping};
use crate::repo::{Page, table};
use crate::tenancy::TenantTx;

/// Rows listed (bad ones, and ones with warnings) in a summary; the rest are counted.
const ROWS_SHOWN: i64 = 20;

/// What a flow did (see the module doc).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlowSummary {
    pub discovery_flow_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    pub flow_name: Option<String>,
    #[schema(value_type = String, example = "completed")]
    pub status: FlowStatus,
    pub progress_percentage: f64,
    #[schema(value_type = Vec<String>)]
    pub phases_completed: Vec<DiscoveryPhase>,
    #[schema(value_type = Option<String>)]
    pub error_phase: Option<DiscoveryPhase>,
    pub error_message: Option<String>,
    pub import: Option<ImportSummary>,
    pub mappings: Vec<MappingLine>,
    pub phases: Vec<PhaseLine>,
    pub inventory: InventorySummary,
}

/// The import's counts and its first bad rows and rows with warnings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub data_import_id: Uuid,
    pub filename: String,
    pub status: String,
    pub total_records: i32,
    pub valid_records: i32,
    pub invalid_records: i32,
    /// The first bad rows, each with its reasons.
    pub invalid_rows: Vec<RowIssues>,
    /// Valid rows with warnings (a formula-like cell, a value cleansing could not use).
    pub rows_with_warnings: i64,
    pub warning_rows: Vec<RowIssues>,
}

/// A record (1 = the first after the header) and its issues (`{kind, severity, message, row?, column?}`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RowIssues {
    pub row_number: i32,
    /// The row in the file as a person sees it (CSV line, sheet row: the header is row 1 of a
    /// plain CSV); None for records imported before migration 0014, which kept no file row.
    pub file_row: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    pub issues: Value,
}

/// A source column's mapping, in short.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MappingLine {
    pub id: Uuid,
    pub source_field: String,
    pub target_field: Option<String>,
    pub confidence: Option<f64>,
    pub match_type: String,
    pub status: String,
}

/// One phase: its state, duration and figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhaseLine {
    #[schema(value_type = String, example = "data_import")]
    pub phase: DiscoveryPhase,
    /// `pending`, `running`, `completed` or `failed`.
    #[schema(value_type = String, example = "completed")]
    pub status: PhaseStatus,
    pub duration_ms: Option<u64>,
    #[schema(value_type = Object)]
    pub metrics: Map<String, Value>,
}

/// The assets the flow produced, by type and 6R strategy.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct InventorySummary {
    pub assets: i64,
    pub by_type: BTreeMap<String, i64>,
    pub by_six_r_strategy: BTreeMap<String, i64>,
    pub dependencies: i64,
    pub average_completeness: Option<f64>,
    pub average_quality: Option<f64>,
    /// One asset per recommended strategy, with the rule's rationale.
    pub six_r_examples: Vec<SixrExample>,
}

/// One asset per recommended 6R strategy.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SixrExample {
    pub asset: String,
    pub strategy: String,
    pub confidence: Option<f64>,
    /// The rule's reasons: a JSON array of strings as the 6R phase writes them; a row consolidated
    /// from the legacy platform may hold another JSON value.
    pub rationale: Value,
}

/// Where a running flow is, cheaply enough to poll.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FlowProgress {
    #[schema(value_type = String, example = "running")]
    pub status: FlowStatus,
    pub progress_percentage: f64,
    #[schema(value_type = Option<String>, example = "data_import")]
    pub running_phase: Option<DiscoveryPhase>,
    pub import_processed_records: i32,
    pub import_progress_percentage: f64,
}

pub async fn progress(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<FlowProgress, DiscoveryError> {
    let flow = table::get::<DiscoveryFlow>(tx, discovery_flow_id).await?;
    let running_phase = DiscoveryPhase::ALL
        .into_iter()
        .find(|p| flow.phases.0.get(p).is_some_and(|s| s.status == PhaseStatus::Running));
    let (import_processed_records, import_progress_percentage) = match flow.data_import_id {
        Some(id) => {
            let import = table::get::<DataImport>(tx, id).await?;
            (import.processed_records, import.progress_percentage)
        }
        None => (0, 0.0),
    };
    Ok(FlowProgress {
        status: flow.status,
        progress_percentage: flow.progress_percentage,
        running_phase,
        import_processed_records,
        import_progress_percentage,
    })
}

/// The discovery flows of the context (its engagement, if it has one), newest first.
pub async fn list_flows(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<DiscoveryFlow>, DiscoveryError> {
    Ok(crate::repo::flows::list_discovery_flows(tx, page).await?)
}

pub async fn summarise(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<FlowSummary, DiscoveryError> {
    let flow = table::get::<DiscoveryFlow>(tx, discovery_flow_id).await?;
    let import = match flow.data_import_id {
        Some(id) => {
            let import = table::get::<DataImport>(tx, id).await?;
            Some(import_summary(tx, &import).await?)
        }
        None => None,
    };
    let mappings = match flow.data_import_id {
        Some(id) => mappings_of(tx, id).await?,
        None => Vec::new(),
    };
    let inventory = inventory_of(tx, discovery_flow_id).await?;
    Ok(FlowSummary {
        discovery_flow_id: flow.id,
        master_flow_id: flow.master_flow_id,
        flow_name: flow.flow_name.clone(),
        status: flow.status,
        progress_percentage: flow.progress_percentage,
        phases: phase_lines(&flow.phases.0),
        phases_completed: flow.phases_completed,
        error_phase: flow.error_phase,
        error_message: flow.error_message,
        import,
        mappings,
        inventory,
    })
}

fn phase_lines(phases: &PhaseStates) -> Vec<PhaseLine> {
    DiscoveryPhase::ALL
        .into_iter()
        .map(|phase| {
            let state = phases.get(&phase);
            let metrics = state.map(|s| s.metrics.clone()).unwrap_or_default();
            PhaseLine {
                phase,
                status: state.map_or(PhaseStatus::Pending, |s| s.status),
                duration_ms: metrics.get("duration_ms").and_then(Value::as_u64),
                metrics,
            }
        })
        .collect()
}

async fn import_summary(tx: &mut TenantTx<'_>, import: &DataImport) -> Result<ImportSummary, DiscoveryError> {
    let invalid_rows = sqlx::query_as(
        "SELECT row_number, file_row, validation_errors AS issues FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND NOT is_valid ORDER BY row_number LIMIT $3",
    )
    .bind(tx.client_account_id())
    .bind(import.id)
    .bind(ROWS_SHOWN)
    .fetch_all(tx.conn())
    .await?;
    // The first rows with warnings, and (windowed) how many there are: read through the index of
    // the records with an issue (migration 0023, its predicate word for word), not every record.
    let warnings: Vec<(i32, Option<i64>, Value, i64)> = sqlx::query_as(
        "SELECT row_number, file_row, validation_errors || coalesce(cleansed_data -> 'issues', '[]') AS issues,
                count(*) OVER ()
         FROM migration.raw_import_records
         WHERE client_account_id = $1 AND data_import_id = $2 AND is_valid
           AND (validation_errors <> '[]'::jsonb OR (cleansed_data -> 'issues') <> '[]'::jsonb)
         ORDER BY row_number LIMIT $3",
    )
    .bind(tx.client_account_id())
    .bind(import.id)
    .bind(ROWS_SHOWN)
    .fetch_all(tx.conn())
    .await?;
    let rows_with_warnings = warnings.first().map_or(0, |(.., total)| *total);
    let warning_rows = warnings
        .into_iter()
        .map(|(row_number, file_row, issues, _)| RowIssues { row_number, file_row, issues })
        .collect();
    Ok(ImportSummary {
        data_import_id: import.id,
        filename: import.filename.clone(),
        status: import.status.to_string(),
        total_records: import.total_records,
        valid_records: import.processed_records - import.failed_records,
        invalid_records: import.failed_records,
        invalid_rows,
        rows_with_warnings,
        warning_rows,
    })
}

/// The field mappings of the flow's import (what a reviewer decides on).
pub async fn mappings_of_flow(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
) -> Result<Vec<MappingLine>, DiscoveryError> {
    match table::get::<DiscoveryFlow>(tx, discovery_flow_id).await?.data_import_id {
        Some(id) => mappings_of(tx, id).await,
        None => Ok(Vec::new()),
    }
}

async fn mappings_of(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<Vec<MappingLine>, DiscoveryError> {
    let rows: Vec<ImportFieldMapping> = sqlx::query_as(
        "SELECT * FROM migration.import_field_mappings
         WHERE client_account_id = $1 AND data_import_id = $2 ORDER BY created_at, source_field",
    )
    .bind(tx.client_account_id())
    .bind(data_import_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|m| MappingLine {
            id: m.id,
            source_field: m.source_field,
            target_field: m.target_field,
            confidence: m.confidence_score,
            match_type: m.match_type,
            status: m.status.to_string(),
        })
        .collect())
}

async fn inventory_of(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<InventorySummary, DiscoveryError> {
    let counts: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT asset_type::text, coalesce(six_r_strategy::text, 'none'), count(*) FROM migration.assets
         WHERE client_account_id = $1 AND discovery_flow_id = $2 GROUP BY 1, 2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_all(tx.conn())
    .await?;
    let (average_completeness, average_quality): (Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT avg(completeness_score), avg(quality_score) FROM migration.assets
         WHERE client_account_id = $1 AND discovery_flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_one(tx.conn())
    .await?;
    let dependencies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.asset_dependencies d
         JOIN migration.assets a ON a.client_account_id = d.client_account_id AND a.id = d.asset_id
         WHERE d.client_account_id = $1 AND a.discovery_flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_one(tx.conn())
    .await?;
    let six_r_examples = sqlx::query_as(
        "SELECT DISTINCT ON (r.recommended_strategy) a.name AS asset, r.recommended_strategy::text AS strategy,
                r.confidence_score AS confidence, r.rationale
         FROM migration.sixr_recommendations r
         JOIN migration.assets a ON a.client_account_id = r.client_account_id AND a.id = r.asset_id
         WHERE r.client_account_id = $1 AND a.discovery_flow_id = $2
         ORDER BY r.recommended_strategy, a.name",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_all(tx.conn())
    .await?;
    let mut summary =
        InventorySummary { dependencies, average_completeness, average_quality, six_r_examples, ..Default::default() };
    for (asset_type, strategy, count) in counts {
        summary.assets += count;
        *summary.by_type.entry(asset_type).or_default() += count;
        *summary.by_six_r_strategy.entry(strategy).or_default() += count;
    }
    Ok(summary)
}
