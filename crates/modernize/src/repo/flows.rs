//! Master flows (`crewai_flow_state_extensions`) and the discovery flows they own.

use serde::Deserialize;
use uuid::Uuid;

use super::table::insert;
use super::{Page, RepoError};
use crate::models::{DiscoveryFlow, DiscoveryPhase, FlowStatus, MasterFlow, NewMasterFlow};
use crate::repo::imports::Deprecation;
use crate::tenancy::TenantTx;

/// What a caller gives to start a discovery; `is_mock` and `assessment_package` are deprecated
/// fields of the old API, accepted and reported back, never stored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryInput {
    pub flow_name: Option<String>,
    pub data_import_id: Option<Uuid>,
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
    #[serde(default)]
    pub is_mock: Option<serde_json::Value>,
    #[serde(default)]
    pub assessment_package: Option<serde_json::Value>,
    /// A master flow of the tenant the new master flow belongs under (its `parent_flow_id`).
    #[serde(default)]
    pub parent_flow_id: Option<Uuid>,
}

/// Seed task 4.1: the master flow is created first, then the discovery flow linked to it by
/// `master_flow_id`, in one transaction.
pub async fn start_discovery(
    tx: &mut TenantTx<'_>,
    input: &DiscoveryInput,
) -> Result<(MasterFlow, DiscoveryFlow, Vec<Deprecation>), RepoError> {
    let mut deprecations = Vec::new();
    for (field, value) in [("is_mock", &input.is_mock), ("assessment_package", &input.assessment_package)] {
        if value.is_some() {
            deprecations.push(Deprecation::ignored(field));
        }
    }
    let master = create_master_flow(tx, input).await?;
    let discovery = create_discovery_flow(tx, master.flow_id, input).await?;
    Ok((master, discovery, deprecations))
}

/// The master flow of a discovery (`flow_type` `discovery`), alone: [`start_discovery`] adds its
/// child at once; an import awaiting its file gets the child when the file arrives.
pub async fn create_master_flow(tx: &mut TenantTx<'_>, input: &DiscoveryInput) -> Result<MasterFlow, RepoError> {
    tx.ctx().require_engagement("discovery_flows")?;
    insert::<MasterFlow>(
        tx,
        &NewMasterFlow {
            id: None,
            flow_id: None,
            user_id: tx.user_id(),
            flow_type: "discovery".into(),
            flow_name: input.flow_name.clone(),
            flow_status: None,
            flow_configuration: input.configuration.clone(),
            flow_persistence_data: None,
            agent_collaboration_log: None,
            memory_usage_metrics: None,
            phase_execution_times: None,
            learning_patterns: None,
            user_feedback_history: None,
            error_message: None,
            error_details: None,
            parent_flow_id: input.parent_flow_id,
            created_at: None,
            updated_at: None,
            started_at: None,
            completed_at: None,
        },
    )
    .await
}

/// A discovery flow owned by the master flow `master_flow_id` (`input`: its name and import).
pub async fn create_discovery_flow(
    tx: &mut TenantTx<'_>,
    master_flow_id: Uuid,
    input: &DiscoveryInput,
) -> Result<DiscoveryFlow, RepoError> {
    let engagement_id = tx.ctx().require_engagement("discovery_flows")?;
    let discovery = sqlx::query_as(
        "INSERT INTO migration.discovery_flows
             (client_account_id, engagement_id, master_flow_id, data_import_id, user_id, flow_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(master_flow_id)
    .bind(input.data_import_id)
    .bind(tx.user_id())
    .bind(&input.flow_name)
    .fetch_one(tx.conn())
    .await?;
    Ok(discovery)
}

/// Seed task 3.2: marks `phase` completed in one statement — its boolean flag (kept for
/// compatibility), `current_phase`, `phases_completed` (appended once: calling again changes
/// nothing there), the JSON `flow_state` and `phases`, and the progress.
pub async fn complete_phase(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    phase: DiscoveryPhase,
) -> Result<DiscoveryFlow, RepoError> {
    let flow: Option<DiscoveryFlow> = sqlx::query_as(
        "WITH next AS (
             SELECT id, CASE WHEN $3 = ANY (phases_completed) THEN phases_completed
                             ELSE array_append(phases_completed, $3) END AS done
             FROM migration.discovery_flows WHERE client_account_id = $1 AND id = $2
         )
         UPDATE migration.discovery_flows f SET
             data_import_completed = data_import_completed OR $3 = 'data_import',
             field_mapping_completed = field_mapping_completed OR $3 = 'field_mapping',
             data_cleansing_completed = data_cleansing_completed OR $3 = 'data_cleansing',
             asset_inventory_completed = asset_inventory_completed OR $3 = 'asset_inventory',
             dependency_analysis_completed = dependency_analysis_completed OR $3 = 'dependency_analysis',
             tech_debt_assessment_completed = tech_debt_assessment_completed OR $3 = 'tech_debt_assessment',
             current_phase = $3,
             phases_completed = next.done,
             progress_percentage = round(100.0 * cardinality(next.done) / 6, 2),
             flow_state = f.flow_state || jsonb_build_object(
                 'current_phase', $3, 'phases_completed', to_jsonb(next.done), 'last_updated_at', now()),
             phases = jsonb_set(f.phases, ARRAY[$3::text],
                 coalesce(f.phases -> ($3::text), '{}') || jsonb_build_object('status', 'completed', 'completed_at', now())),
             updated_at = now()
         FROM next WHERE f.client_account_id = $1 AND f.id = next.id
         RETURNING f.*",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .bind(phase)
    .fetch_optional(tx.conn())
    .await?;
    flow.ok_or_else(|| RepoError::not_found("discovery flow", discovery_flow_id))
}

/// The discovery flows a master flow owns.
pub async fn discovery_flows_of(tx: &mut TenantTx<'_>, master_flow_id: Uuid) -> Result<Vec<DiscoveryFlow>, RepoError> {
    let flows = sqlx::query_as(
        "SELECT * FROM migration.discovery_flows
         WHERE client_account_id = $1 AND master_flow_id = $2 ORDER BY created_at",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .fetch_all(tx.conn())
    .await?;
    Ok(flows)
}

/// The discovery flows of the transaction's engagement (of the whole client account when the
/// context names none), newest first, one page.
pub async fn list_discovery_flows(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<DiscoveryFlow>, RepoError> {
    let flows = sqlx::query_as(
        "SELECT * FROM migration.discovery_flows
         WHERE client_account_id = $1 AND ($2::uuid IS NULL OR engagement_id = $2)
         ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
    )
    .bind(tx.client_account_id())
    .bind(tx.ctx().engagement_id())
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(tx.conn())
    .await?;
    Ok(flows)
}

/// The master flows of the transaction's engagement (of the whole client account when the
/// context names none), newest first, one page.
pub async fn list_master_flows(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<MasterFlow>, RepoError> {
    let flows = sqlx::query_as(
        "SELECT * FROM migration.crewai_flow_state_extensions
         WHERE client_account_id = $1 AND ($2::uuid IS NULL OR engagement_id = $2)
         ORDER BY created_at DESC, flow_id LIMIT $3 OFFSET $4",
    )
    .bind(tx.client_account_id())
    .bind(tx.ctx().engagement_id())
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(tx.conn())
    .await?;
    Ok(flows)
}

/// The master flow whose `flow_id` (the id its child flows refer to) is given, in the
/// transaction's engagement when the context names one; NotFound otherwise.
pub async fn get_master_flow(tx: &mut TenantTx<'_>, flow_id: Uuid) -> Result<MasterFlow, RepoError> {
    let flow: Option<MasterFlow> = sqlx::query_as(
        "SELECT * FROM migration.crewai_flow_state_extensions
         WHERE client_account_id = $1 AND flow_id = $2 AND ($3::uuid IS NULL OR engagement_id = $3)",
    )
    .bind(tx.client_account_id())
    .bind(flow_id)
    .bind(tx.ctx().engagement_id())
    .fetch_optional(tx.conn())
    .await?;
    flow.ok_or_else(|| RepoError::not_found("master flow", flow_id))
}

/// The rows a phase of a discovery flow works under: its master flow, the flow and its import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseScope {
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub data_import_id: Uuid,
}

/// Replaces the master flow's `flow_configuration` (where its upload is, the options it runs with).
pub async fn set_flow_configuration(
    tx: &mut TenantTx<'_>,
    master_flow_id: Uuid,
    configuration: &serde_json::Value,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.crewai_flow_state_extensions SET flow_configuration = $3, updated_at = now()
         WHERE client_account_id = $1 AND flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .bind(configuration)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The master flow's `flow_configuration`; NotFound for a flow not of this tenant.
pub async fn flow_configuration(tx: &mut TenantTx<'_>, master_flow_id: Uuid) -> Result<serde_json::Value, RepoError> {
    let configuration = sqlx::query_scalar(
        "SELECT flow_configuration FROM migration.crewai_flow_state_extensions WHERE client_account_id = $1 AND flow_id = $2",
    )
    .bind(tx.client_account_id())
    .bind(master_flow_id)
    .fetch_optional(tx.conn())
    .await?;
    configuration.ok_or_else(|| RepoError::not_found("master flow", master_flow_id))
}

/// The discovery flow's status; NotFound for a flow not of this tenant.
pub async fn discovery_flow_status(tx: &mut TenantTx<'_>, discovery_flow_id: Uuid) -> Result<FlowStatus, RepoError> {
    let status =
        sqlx::query_scalar("SELECT status FROM migration.discovery_flows WHERE client_account_id = $1 AND id = $2")
            .bind(tx.client_account_id())
            .bind(discovery_flow_id)
            .fetch_optional(tx.conn())
            .await?;
    status.ok_or_else(|| RepoError::not_found("discovery flow", discovery_flow_id))
}

/// Shows `phase` as running in the flow's `phases` from its first attempt on (a resumed phase
/// keeps its `started_at`).
pub async fn mark_phase_started(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    phase: DiscoveryPhase,
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.discovery_flows SET phases = jsonb_set(phases, ARRAY[$3::text],
                coalesce(phases -> ($3::text), '{}') || jsonb_build_object('status', 'running',
                    'started_at', coalesce(phases -> ($3::text) -> 'started_at', to_jsonb(now()))))
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .bind(phase.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Locks the discovery flow until the transaction ends and answers its status and completed
/// phases; NotFound for a flow not of this tenant.
pub async fn lock_flow_progress(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
) -> Result<(FlowStatus, Vec<DiscoveryPhase>), RepoError> {
    let progress = sqlx::query_as(
        "SELECT status, phases_completed FROM migration.discovery_flows
         WHERE client_account_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .fetch_optional(tx.conn())
    .await?;
    progress.ok_or_else(|| RepoError::not_found("discovery flow", discovery_flow_id))
}

/// Records a finished phase's figures: `metrics` (a JSON object) under the phase in the discovery
/// flow's `phases`, and its duration (`metrics.duration_ms`, when given) in the master flow's
/// `phase_execution_times`.
pub async fn record_phase_metrics(
    tx: &mut TenantTx<'_>,
    scope: &PhaseScope,
    phase: DiscoveryPhase,
    metrics: &serde_json::Value,
) -> Result<(), RepoError> {
    if let Some(ms) = metrics.get("duration_ms") {
        sqlx::query(
            "UPDATE migration.crewai_flow_state_extensions
             SET phase_execution_times = phase_execution_times || jsonb_build_object($3::text, $4::jsonb)
             WHERE client_account_id = $1 AND flow_id = $2",
        )
        .bind(tx.client_account_id())
        .bind(scope.master_flow_id)
        .bind(phase.as_str())
        .bind(serde_json::json!({ "duration_ms": ms }))
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE migration.discovery_flows SET phases = jsonb_set(phases, ARRAY[$3::text],
                phases -> ($3::text) || jsonb_build_object('metrics', $4::jsonb))
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(scope.discovery_flow_id)
    .bind(phase.as_str())
    .bind(metrics)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records why the flow failed: the message, the phase, and the job that ran it (id, attempts).
pub async fn record_flow_error(
    tx: &mut TenantTx<'_>,
    discovery_flow_id: Uuid,
    message: &str,
    phase: DiscoveryPhase,
    job: (i64, i32),
) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE migration.discovery_flows SET error_message = $3, error_phase = $4,
                error_details = jsonb_build_object('job_id', $5::bigint, 'attempts', $6::int)
         WHERE client_account_id = $1 AND id = $2",
    )
    .bind(tx.client_account_id())
    .bind(discovery_flow_id)
    .bind(message)
    .bind(phase)
    .bind(job.0)
    .bind(job.1)
    .execute(tx.conn())
    .await?;
    Ok(())
}
