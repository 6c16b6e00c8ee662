//! Master flows (`crewai_flow_state_extensions`) and the discovery flows they own.

use serde::Deserialize;
use uuid::Uuid;

use super::table::insert;
use super::{Page, RepoError};
use crate::models::{DiscoveryFlow, DiscoveryPhase, MasterFlow, NewMasterFlow};
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
