//! Discovery use cases: start an import, follow and summarise flows, review field mappings,
//! pause, resume, retry and cancel. Reading needs the viewer role in the flow's engagement; the
//! rest the analyst role. A flow of an engagement the actor cannot reach is NotFound.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use uuid::Uuid;

use super::{Actor, ServiceError, account_ctx, connection, engagement_ctx, require};
use crate::discovery::Suggester;
use crate::discovery::pipeline::{self, ImportOptions, Started};
use crate::discovery::summary::{self, FlowProgress, FlowSummary};
use crate::discovery::uploads::{self, Stored};
use crate::models::asset_fields::{is_target_field, target_fields};
use crate::models::{
    DiscoveryFlow, DiscoveryPhase, FlowStatus, ImportFieldMapping, ImportStatus, ImportType, MasterFlow, MemberRole,
};
use crate::repo::imports::{self, DataImportInput, ImportIssue, ImportWithFlow};
use crate::repo::mappings::{self, Review, review_mapping};
use crate::repo::{Page, RepoError, flows, table};
use crate::tenancy::{TenantCtx, TenantTx};

/// The context for one flow of the account: the flow's engagement and the actor's role there.
/// With `engagement` (id or slug) the flow must belong to it: a flow of another engagement is
/// NotFound, as one of another account.
async fn flow_ctx(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<(TenantCtx, DiscoveryFlow), ServiceError> {
    let not_found = || ServiceError::not_found("discovery flow", flow_id);
    let (account_ctx, in_engagement) = match engagement {
        Some(engagement) => {
            let (ctx, found) = engagement_ctx(conn, actor, account, engagement).await?;
            (ctx, Some(found.id))
        }
        None => (account_ctx(conn, actor, account).await?, None),
    };
    let mut tx = TenantTx::begin(conn, &account_ctx).await?;
    let flow = table::get::<DiscoveryFlow>(&mut tx, flow_id).await;
    tx.commit().await?;
    let flow = flow.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    if in_engagement.is_some_and(|id| id != flow.engagement_id) {
        return Err(not_found());
    }
    if in_engagement.is_some() {
        return Ok((account_ctx, flow));
    }
    let ctx = account_ctx.in_engagement(conn, flow.engagement_id).await.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    Ok((ctx, flow))
}

/// Starts the discovery of `file` in an engagement (analyst): the file's structure is checked
/// first (Invalid, field `file`, before anything is written), a copy is kept under
/// `uploads_dir`, and the flow's first phase is queued. `options.accept_above` must be a
/// confidence in 0..1 (Invalid, field `accept_above`).
pub async fn start_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    uploads_dir: &Path,
    file: &Path,
    options: &ImportOptions,
) -> Result<Started, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "importing a file")?;
    Ok(pipeline::start(&mut conn, &ctx, uploads_dir, file, options).await?)
}

/// Whether the actor may import into the engagement (analyst): checked before an upload is
/// received, so a refused caller's file is never written. NotFound or Forbidden as
/// [`start_import`].
pub async fn authorize_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "importing a file")
}

/// Starts the discovery of a file already received under the uploads directory
/// ([`crate::discovery::uploads::create`]), as [`start_import`] does for a file elsewhere. The
/// upload is deleted when the import is refused (NotFound, Forbidden, Invalid), so a refused
/// upload leaves no file and no flow behind. `metadata` is the import as the client described it
/// (current or legacy names, see [`pipeline::start_stored`]); `Started::deprecations` lists the
/// legacy and ignored fields it used.
pub async fn start_uploaded_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    upload: &Stored,
    options: &ImportOptions,
    metadata: DataImportInput,
) -> Result<Started, ServiceError> {
    let (mut conn, ctx) = ctx_for_upload(pool, actor, account, engagement, upload, "importing a file").await?;
    Ok(pipeline::start_stored(&mut conn, &ctx, upload, options, metadata).await?)
}

/// Registers an import whose file is sent later (analyst; the old platform's JSON request, seed
/// task 4.2): its master flow first, then the import, `pending`. `metadata` as in
/// [`start_uploaded_import`], `filename` (or `source_filename`) required since no file names it
/// yet. Returns the import and the legacy and ignored fields used.
pub async fn create_pending_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    metadata: DataImportInput,
) -> Result<(ImportView, Vec<imports::Deprecation>), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Analyst, "importing a file")?;
    let (import, deprecations) = pipeline::register_pending(&mut conn, &ctx, metadata).await?;
    Ok((ImportWithFlow { import, discovery_flow_id: None }.into(), deprecations))
}

/// The `pending` import whose file the actor is about to send (analyst): checked before any byte
/// is received. NotFound for an import of another engagement or account, then Forbidden, then
/// Conflict (field `status`) when the import already has its file or was cancelled (its file
/// never came: [`crate::discovery::expiry`]).
pub async fn authorize_import_upload(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    data_import_id: Uuid,
) -> Result<ImportView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let row = imports::get_import(&mut tx, data_import_id).await;
    tx.commit().await?;
    let row = row?;
    require(&ctx, MemberRole::Analyst, "uploading an import's file")?;
    if row.import.status == ImportStatus::Cancelled {
        let why = row.import.error_message.as_deref().unwrap_or("cancelled");
        return Err(ServiceError::conflict(
            Some("status"),
            format!("the import {data_import_id} was cancelled ({why}): create a new one"),
        ));
    }
    pipeline::check_awaiting_upload(&row.import, row.discovery_flow_id.is_some())?;
    Ok(row.into())
}

/// Gives a `pending` import ([`create_pending_import`]) its file, received under the uploads
/// directory, and starts its discovery (analyst): see [`pipeline::start_pending`]. The upload is
/// deleted whenever this fails.
pub async fn start_pending_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    data_import_id: Uuid,
    upload: &Stored,
    options: &ImportOptions,
) -> Result<Started, ServiceError> {
    let action = "uploading an import's file";
    let (mut conn, ctx) = ctx_for_upload(pool, actor, account, engagement, upload, action).await?;
    Ok(pipeline::start_pending(&mut conn, &ctx, data_import_id, upload, options).await?)
}

/// The engagement's context for an analyst's use case (`action`, for the Forbidden message) about
/// a received upload, with its connection; the upload is deleted when the actor may not.
async fn ctx_for_upload(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    upload: &Stored,
    action: &str,
) -> Result<(PoolConnection<Postgres>, TenantCtx), ServiceError> {
    let checked = async {
        let mut conn = connection(pool).await?;
        let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
        require(&ctx, MemberRole::Analyst, action)?;
        Ok((conn, ctx))
    }
    .await;
    if checked.is_err() {
        uploads::discard(upload);
    }
    checked
}

/// A data import as the API and `--json` show it: the file, its counters and the flow reading it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportView {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    /// The discovery flow that reads this import (None until one does).
    pub discovery_flow_id: Option<Uuid>,
    pub import_name: String,
    #[schema(value_type = String, example = "cmdb")]
    pub import_type: ImportType,
    pub filename: String,
    /// Bytes.
    pub file_size: Option<i64>,
    pub mime_type: Option<String>,
    pub source_system: Option<String>,
    /// `pending`, `processing`, `completed` or `failed`.
    #[schema(value_type = String, example = "completed")]
    pub status: ImportStatus,
    /// 0 to 100.
    pub progress_percentage: f64,
    pub total_records: i32,
    pub processed_records: i32,
    pub failed_records: i32,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<ImportWithFlow> for ImportView {
    fn from(row: ImportWithFlow) -> Self {
        let i = row.import;
        Self {
            id: i.id,
            engagement_id: i.engagement_id,
            master_flow_id: i.master_flow_id,
            discovery_flow_id: row.discovery_flow_id,
            import_name: i.import_name,
            import_type: i.import_type,
            filename: i.filename,
            file_size: i.file_size,
            mime_type: i.mime_type,
            source_system: i.source_system,
            status: i.status,
            progress_percentage: i.progress_percentage,
            total_records: i.total_records,
            processed_records: i.processed_records,
            failed_records: i.failed_records,
            error_message: i.error_message,
            created_at: i.created_at,
            started_at: i.started_at,
            completed_at: i.completed_at,
        }
    }
}

/// One page of imports, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportPage {
    pub imports: Vec<ImportView>,
    /// The `offset` of the next page, when there may be more.
    pub next_offset: Option<i64>,
}

fn check_page(page: Page) -> Result<(), ServiceError> {
    if page.limit < 1 || page.offset < 0 {
        return Err(ServiceError::invalid("page", "limit must be at least 1 and offset at least 0"));
    }
    Ok(())
}

/// One more than asked, to tell whether there is a next page.
fn probe(page: Page) -> Page {
    Page { limit: page.limit.saturating_add(1), offset: page.offset }
}

/// Cuts a probed page to its size; the next page's offset when there was one more.
fn cut<T>(rows: &mut Vec<T>, page: Page) -> Option<i64> {
    let more = rows.len() as i64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    more.then(|| page.offset + page.limit)
}

/// The imports of an engagement, newest first (viewer).
pub async fn list_imports(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    page: Page,
) -> Result<ImportPage, ServiceError> {
    check_page(page)?;
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut rows = imports::list_imports(&mut tx, probe(page)).await?;
    tx.commit().await?;
    let next_offset = cut(&mut rows, page);
    Ok(ImportPage { imports: rows.into_iter().map(ImportView::from).collect(), next_offset })
}

/// One import of an engagement (viewer); NotFound for one of another engagement or account.
pub async fn get_import(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    data_import_id: Uuid,
) -> Result<ImportView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let row = imports::get_import(&mut tx, data_import_id).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// A master flow (`crewai_flow_state_extensions`): the lifecycle every child flow reports to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MasterFlowView {
    pub flow_id: Uuid,
    pub engagement_id: Uuid,
    /// `discovery` for the flows discovery starts.
    pub flow_type: String,
    pub flow_name: Option<String>,
    #[schema(value_type = String, example = "running")]
    pub flow_status: FlowStatus,
    /// Per phase: `{"duration_ms": …}`.
    #[schema(value_type = Object)]
    pub phase_execution_times: serde_json::Value,
    /// The audit trail of the flow's transitions: `{from, to, reason, at, user_id}`, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub transitions: serde_json::Value,
    pub error_message: Option<String>,
    /// The discovery flows this master flow owns.
    pub discovery_flow_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl MasterFlowView {
    fn new(m: MasterFlow, children: Vec<Uuid>) -> Self {
        let transitions = m.flow_persistence_data.get("transitions").cloned().unwrap_or_else(|| json!([]));
        Self {
            flow_id: m.flow_id,
            engagement_id: m.engagement_id,
            flow_type: m.flow_type,
            flow_name: m.flow_name,
            flow_status: m.flow_status,
            phase_execution_times: m.phase_execution_times,
            transitions,
            error_message: m.error_message,
            discovery_flow_ids: children,
            created_at: m.created_at,
            updated_at: m.updated_at,
            started_at: m.started_at,
            completed_at: m.completed_at,
        }
    }
}

/// One page of master flows, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MasterFlowPage {
    pub master_flows: Vec<MasterFlowView>,
    /// The `offset` of the next page, when there may be more.
    pub next_offset: Option<i64>,
}

/// The master flows of an engagement, newest first, each with its discovery flows (viewer).
pub async fn list_master_flows(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    page: Page,
) -> Result<MasterFlowPage, ServiceError> {
    check_page(page)?;
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut rows = flows::list_master_flows(&mut tx, probe(page)).await?;
    let next_offset = cut(&mut rows, page);
    let mut master_flows = Vec::with_capacity(rows.len());
    for row in rows {
        let children = flows::discovery_flows_of(&mut tx, row.flow_id).await?.into_iter().map(|f| f.id).collect();
        master_flows.push(MasterFlowView::new(row, children));
    }
    tx.commit().await?;
    Ok(MasterFlowPage { master_flows, next_offset })
}

/// One master flow of an engagement, by its `flow_id` (viewer).
pub async fn get_master_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    flow_id: Uuid,
) -> Result<MasterFlowView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let row = flows::get_master_flow(&mut tx, flow_id).await?;
    let children = flows::discovery_flows_of(&mut tx, row.flow_id).await?.into_iter().map(|f| f.id).collect();
    tx.commit().await?;
    Ok(MasterFlowView::new(row, children))
}

/// One page of discovery flows, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlowPage {
    pub flows: Vec<FlowView>,
    /// Where the next page starts (`page.offset` to pass), when there may be more.
    pub next_offset: Option<i64>,
}

/// A discovery flow as listed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FlowView {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    pub data_import_id: Option<Uuid>,
    pub flow_name: Option<String>,
    /// `initialized`, `running`, `paused`, `completed`, `failed` or `cancelled`.
    #[schema(value_type = String, example = "running")]
    pub status: FlowStatus,
    /// The last phase completed.
    #[schema(value_type = Option<String>, example = "field_mapping")]
    pub current_phase: Option<DiscoveryPhase>,
    #[schema(value_type = Vec<String>)]
    pub phases_completed: Vec<DiscoveryPhase>,
    /// 0 to 100: the share of the six phases completed.
    pub progress_percentage: f64,
    #[schema(value_type = Option<String>)]
    pub error_phase: Option<DiscoveryPhase>,
    pub error_message: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<DiscoveryFlow> for FlowView {
    fn from(f: DiscoveryFlow) -> Self {
        Self {
            id: f.id,
            engagement_id: f.engagement_id,
            master_flow_id: f.master_flow_id,
            data_import_id: f.data_import_id,
            flow_name: f.flow_name,
            status: f.status,
            current_phase: f.current_phase,
            phases_completed: f.phases_completed,
            progress_percentage: f.progress_percentage,
            error_phase: f.error_phase,
            error_message: f.error_message,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// The discovery flows of an engagement (viewer), or of the whole account when `engagement` is
/// None (account admins: a weaker role reaches flows through its engagements), newest first.
pub async fn list_flows(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    page: Page,
) -> Result<FlowPage, ServiceError> {
    check_page(page)?;
    let mut conn = connection(pool).await?;
    let ctx = match engagement {
        Some(engagement) => engagement_ctx(&mut conn, actor, account, engagement).await?.0,
        None => {
            let ctx = account_ctx(&mut conn, actor, account).await?;
            require(&ctx, MemberRole::Admin, "listing the flows of every engagement")?;
            ctx
        }
    };
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut flows = summary::list_flows(&mut tx, probe(page)).await?;
    tx.commit().await?;
    let next_offset = cut(&mut flows, page);
    Ok(FlowPage { next_offset, flows: flows.into_iter().map(FlowView::from).collect() })
}

/// One discovery flow (viewer); with `engagement`, NotFound unless the flow belongs to it.
pub async fn get_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<FlowView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (_, flow) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    Ok(flow.into())
}

/// A flow's state, import counts and bad rows, mappings, phase figures and inventory (viewer).
pub async fn flow_summary(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<FlowSummary, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let summary = summary::summarise(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Where a running flow is, cheap enough to poll (viewer).
pub async fn flow_progress(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<FlowProgress, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let progress = summary::progress(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(progress)
}

/// A reviewer's decision on one source column of the flow's file.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingDecision {
    Approve {
        column: String,
    },
    Reject {
        column: String,
    },
    /// Map the column to another asset field (`None`: keep it unmapped, in custom_attributes).
    Map {
        column: String,
        target: Option<String>,
    },
    /// The same decisions on a mapping named by its id (a mapping of another flow: NotFound).
    Mapping {
        id: Uuid,
        action: MappingAction,
    },
    /// Approve every suggestion still awaiting review whose target is set and whose confidence
    /// is at least `confidence` (0..1); the others are left as they are.
    ApproveAbove {
        confidence: f64,
    },
}

/// What a reviewer does with one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingAction {
    Approve,
    Reject,
    /// Map to another asset field (`None`: keep the column unmapped).
    Map(Option<String>),
}

impl MappingDecision {
    /// Parses `COLUMN=FIELD` (an empty field: keep the column unmapped).
    pub fn parse_map(value: &str) -> Result<Self, ServiceError> {
        let (column, field) = value
            .split_once('=')
            .ok_or_else(|| ServiceError::invalid("map", format!("{value:?} is not COLUMN=FIELD")))?;
        let field = field.trim();
        Ok(Self::Map { column: column.to_owned(), target: (!field.is_empty()).then(|| field.to_owned()) })
    }
}

/// A field mapping as a reviewer sees it: the engine's suggestion with its confidence and
/// explanation, sample values of the column, and the review's state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MappingView {
    pub id: Uuid,
    /// The file's column (header).
    pub source_field: String,
    /// The asset field it maps to (None: kept unmapped, in custom_attributes).
    pub target_field: Option<String>,
    /// 0..1.
    pub confidence: Option<f64>,
    /// How the engine matched: `exact`, `synonym`, `fuzzy`, `profile`, `learned`, `user`, `unmapped`…
    pub match_type: String,
    /// `suggested`, `approved` or `rejected`.
    pub status: String,
    /// Who decided an approved or rejected mapping: `reviewer` (a person; what the client
    /// account's mapping engine learns from) or `threshold` (`accept_above` cut the suggestion;
    /// teaches nothing). None while suggested. A suggestion the engine drew from earlier
    /// reviewers' decisions has `match_type` `learned`.
    pub decided_by: Option<String>,
    /// Why the engine suggested this target.
    pub explanation: Option<String>,
    /// Other targets the engine considered.
    pub alternatives: serde_json::Value,
    /// Up to five values of the column from the file's first valid rows.
    pub sample_values: serde_json::Value,
    /// What cleansing applies (e.g. a unit conversion `{"scale": 0.0009765625}`).
    #[schema(value_type = Object)]
    pub transformation_rules: serde_json::Value,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
}

impl From<ImportFieldMapping> for MappingView {
    fn from(m: ImportFieldMapping) -> Self {
        // The engine's explanation is kept as the mapping's first validation note.
        let note = m.validation_errors.get(0).cloned().unwrap_or_default();
        Self {
            id: m.id,
            source_field: m.source_field,
            target_field: m.target_field,
            confidence: m.confidence_score,
            match_type: m.match_type,
            status: m.status.to_string(),
            decided_by: m.decided_by,
            explanation: note.get("explanation").and_then(|e| e.as_str()).map(str::to_owned),
            alternatives: note.get("alternatives").cloned().unwrap_or_else(|| json!([])),
            sample_values: m.sample_values,
            transformation_rules: m.transformation_rules,
            approved_by: m.approved_by,
            approved_at: m.approved_at,
        }
    }
}

async fn mapping_views(tx: &mut TenantTx<'_>, flow: &DiscoveryFlow) -> Result<Vec<MappingView>, ServiceError> {
    Ok(match flow.data_import_id {
        Some(id) => mappings::mappings_of_import(tx, id).await?.into_iter().map(MappingView::from).collect(),
        None => Vec::new(),
    })
}

/// The flow's field mappings with confidence, explanation and sample values (viewer).
pub async fn list_mappings(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<Vec<MappingView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, flow) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let views = mapping_views(&mut tx, &flow).await?;
    tx.commit().await?;
    Ok(views)
}

/// Applies reviewers' decisions to the flow's suggested mappings, all or none (analyst). A
/// changed target must be an asset field (Invalid, field `target_field`, listing them) and takes
/// the unit rules its header names from `suggester`; a column not in the file is Invalid (field
/// `source_field`), a mapping id not of this flow NotFound, a confidence outside 0..1 Invalid
/// (field `confidence`). Returns the flow's mappings afterwards.
pub async fn review_mappings(
    pool: &PgPool,
    actor: &Actor<'_>,
    suggester: &dyn Suggester,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
    decisions: &[MappingDecision],
) -> Result<Vec<MappingView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, flow) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "reviewing field mappings")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut current = mapping_views(&mut tx, &flow).await?;
    for (n, decision) in decisions.iter().enumerate() {
        if n > 0 && matches!(decision, MappingDecision::ApproveAbove { .. }) {
            // Decided by the states the earlier decisions left.
            current = mapping_views(&mut tx, &flow).await?;
        }
        for (mapping, review) in reviews_of(decision, &current, suggester)? {
            review_mapping(&mut tx, mapping, &review).await?;
        }
    }
    let after = mapping_views(&mut tx, &flow).await?;
    tx.commit().await?;
    Ok(after)
}

/// The reviews one decision makes, by mapping id (target validation and unit rules here).
fn reviews_of(
    decision: &MappingDecision,
    mappings: &[MappingView],
    suggester: &dyn Suggester,
) -> Result<Vec<(Uuid, Review)>, ServiceError> {
    let by_column = |column: &str| {
        mappings
            .iter()
            .find(|m| m.source_field == column)
            .ok_or_else(|| ServiceError::invalid("source_field", format!("the flow's file has no column {column:?}")))
    };
    let (mapping, action) = match decision {
        MappingDecision::ApproveAbove { confidence } => {
            if !(0.0..=1.0).contains(confidence) {
                return Err(ServiceError::invalid("confidence", format!("{confidence} is not a confidence in 0..1")));
            }
            return Ok(mappings
                .iter()
                .filter(|m| m.status == "suggested" && m.target_field.is_some())
                .filter(|m| m.confidence.is_some_and(|c| c >= *confidence))
                .map(|m| (m.id, Review::Approve))
                .collect());
        }
        MappingDecision::Approve { column } => (by_column(column)?, MappingAction::Approve),
        MappingDecision::Reject { column } => (by_column(column)?, MappingAction::Reject),
        MappingDecision::Map { column, target } => (by_column(column)?, MappingAction::Map(target.clone())),
        MappingDecision::Mapping { id, action } => (
            mappings.iter().find(|m| m.id == *id).ok_or_else(|| ServiceError::not_found("field mapping", id))?,
            action.clone(),
        ),
    };
    let review = match action {
        MappingAction::Approve => Review::Approve,
        MappingAction::Reject => Review::Reject,
        MappingAction::Map(Some(target)) if !is_target_field(&target) => {
            return Err(ServiceError::invalid(
                "target_field",
                format!(
                    "{target:?} is not an asset field (one of: {})",
                    target_fields().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        MappingAction::Map(target) => Review::Change {
            rules: target.as_deref().map(|t| suggester.rules_for(&mapping.source_field, t)).unwrap_or_default(),
            target,
        },
    };
    Ok(vec![(mapping.id, review)])
}

/// A cursor in a flow's import issues: after issue `issue_index` of record `row_number`
/// (written `ROW.INDEX`, e.g. `12.2`; `0.0` is the start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IssueCursor {
    pub row_number: i32,
    pub issue_index: i32,
}

impl IssueCursor {
    /// Parses `ROW.INDEX` (Invalid, field `after`, otherwise).
    pub fn parse(value: &str) -> Result<Self, ServiceError> {
        let bad = || ServiceError::invalid("after", format!("{value:?} is not ROW.INDEX (e.g. 12.2)"));
        let (row, index) = value.split_once('.').ok_or_else(bad)?;
        let row_number = row.parse::<i32>().ok().filter(|r| *r >= 0).ok_or_else(bad)?;
        let issue_index = index.parse::<i32>().ok().filter(|i| *i >= 0).ok_or_else(bad)?;
        Ok(Self { row_number, issue_index })
    }
}

impl std::fmt::Display for IssueCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.row_number, self.issue_index)
    }
}

/// One page of a flow's import issues, in file order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuePage {
    pub issues: Vec<ImportIssue>,
    /// The cursor of the next page (`after`), when there may be more.
    pub next_after: Option<String>,
}

/// The flow's import issues after `after`, at most `limit` (1 to 10,000; Invalid, field
/// `limit`, otherwise): every invalid row's errors and every warning (viewer).
pub async fn list_issues(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
    after: IssueCursor,
    limit: i64,
) -> Result<IssuePage, ServiceError> {
    if !(1..=10_000).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("{limit} is not in 1..=10000")));
    }
    let mut conn = connection(pool).await?;
    let (ctx, flow) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    let Some(data_import_id) = flow.data_import_id else {
        return Ok(IssuePage { issues: Vec::new(), next_after: None });
    };
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut issues =
        imports::import_issues(&mut tx, data_import_id, (after.row_number, after.issue_index), limit + 1).await?;
    tx.commit().await?;
    let more = issues.len() as i64 > limit;
    issues.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_after = issues
        .last()
        .filter(|_| more)
        .map(|i| IssueCursor { row_number: i.row_number, issue_index: i.issue_index }.to_string());
    Ok(IssuePage { issues, next_after })
}

fn check_threshold(accept_above: Option<f64>) -> Result<(), ServiceError> {
    match accept_above {
        Some(t) if !(0.0..=1.0).contains(&t) => {
            Err(ServiceError::invalid("accept_above", format!("{t} is not a confidence in 0..1")))
        }
        _ => Ok(()),
    }
}

/// Resumes a paused flow (analyst) at its first unfinished phase. A flow waiting for the review
/// of its mappings goes on once none awaits review; `accept_above` decides the remaining ones
/// (approved at or above it, rejected below). Conflict (field `status`) when the flow is not
/// paused; Invalid (field `accept_above`) while mappings still await review.
pub async fn resume_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), ServiceError> {
    restart(pool, actor, account, engagement, flow_id, accept_above, FlowStatus::Paused).await
}

/// Runs a failed flow again from its failed phase (analyst); Conflict (field `status`) when the
/// flow has not failed.
pub async fn retry_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<(), ServiceError> {
    restart(pool, actor, account, engagement, flow_id, None, FlowStatus::Failed).await
}

async fn restart(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
    accept_above: Option<f64>,
    from: FlowStatus,
) -> Result<(), ServiceError> {
    check_threshold(accept_above)?;
    let mut conn = connection(pool).await?;
    let (ctx, flow) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    let action = if from == FlowStatus::Failed { "retrying a flow" } else { "resuming a flow" };
    require(&ctx, MemberRole::Analyst, action)?;
    if flow.status != from {
        return Err(ServiceError::conflict(
            Some("status"),
            format!("the flow is {}, not {from}: {action} does not apply", flow.status),
        ));
    }
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    pipeline::resume(&mut tx, flow_id, accept_above).await?;
    tx.commit().await?;
    Ok(())
}

/// Pauses a running flow after the phase under way (analyst); Conflict when it is not running.
pub async fn pause_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "pausing a flow")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    pipeline::pause(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a flow and its pending jobs (analyst); Conflict when it already ended.
pub async fn cancel_flow(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: Option<&str>,
    flow_id: Uuid,
) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, engagement, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "cancelling a flow")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    pipeline::cancel(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(())
}
