//! Discovery use cases: start an import, follow and summarise flows, review field mappings,
//! pause, resume, retry and cancel. Reading needs the viewer role in the flow's engagement; the
//! rest the analyst role. A flow of an engagement the actor cannot reach is NotFound.

use std::path::Path;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Actor, ServiceError, account_ctx, connection, engagement_ctx, require};
use crate::discovery::pipeline::{self, ImportOptions, Started};
use crate::discovery::summary::{self, FlowProgress, FlowSummary, MappingLine};
use crate::discovery::{Suggester, TARGET_FIELDS};
use crate::models::{DiscoveryFlow, DiscoveryPhase, FlowStatus, MemberRole};
use crate::repo::mappings::{Review, review_mapping};
use crate::repo::{Page, RepoError, table};
use crate::tenancy::{TenantCtx, TenantTx};

/// The context for one flow of the account: the flow's engagement and the actor's role there.
async fn flow_ctx(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
) -> Result<(TenantCtx, DiscoveryFlow), ServiceError> {
    let account_ctx = account_ctx(conn, actor, account).await?;
    let mut tx = TenantTx::begin(conn, &account_ctx).await?;
    let flow = table::get::<DiscoveryFlow>(&mut tx, flow_id).await;
    tx.commit().await?;
    let not_found = || ServiceError::not_found("discovery flow", flow_id);
    let flow = flow.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
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

/// One page of discovery flows, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct FlowPage {
    pub flows: Vec<FlowView>,
    /// Where the next page starts (`page.offset` to pass), when there may be more.
    pub next_offset: Option<i64>,
}

/// A discovery flow as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowView {
    pub id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Option<Uuid>,
    pub data_import_id: Option<Uuid>,
    pub flow_name: Option<String>,
    pub status: FlowStatus,
    pub current_phase: Option<DiscoveryPhase>,
    pub phases_completed: Vec<DiscoveryPhase>,
    pub progress_percentage: f64,
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
    if page.limit < 1 || page.offset < 0 {
        return Err(ServiceError::invalid("page", "limit must be at least 1 and offset at least 0"));
    }
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
    // One more than asked: whether there is a next page.
    let probe = Page { limit: page.limit.saturating_add(1), offset: page.offset };
    let mut flows = summary::list_flows(&mut tx, probe).await?;
    tx.commit().await?;
    let more = flows.len() as i64 > page.limit;
    flows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok(FlowPage {
        next_offset: more.then(|| page.offset + page.limit),
        flows: flows.into_iter().map(FlowView::from).collect(),
    })
}

/// A flow's state, import counts and bad rows, mappings, phase figures and inventory (viewer).
pub async fn flow_summary(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
) -> Result<FlowSummary, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, flow_id).await?;
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
    flow_id: Uuid,
) -> Result<FlowProgress, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, flow_id).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let progress = summary::progress(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(progress)
}

/// A reviewer's decision on one source column of the flow's file.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl MappingDecision {
    fn column(&self) -> &str {
        match self {
            Self::Approve { column } | Self::Reject { column } | Self::Map { column, .. } => column,
        }
    }

    /// Parses `COLUMN=FIELD` (an empty field: keep the column unmapped).
    pub fn parse_map(value: &str) -> Result<Self, ServiceError> {
        let (column, field) = value
            .split_once('=')
            .ok_or_else(|| ServiceError::invalid("map", format!("{value:?} is not COLUMN=FIELD")))?;
        let field = field.trim();
        Ok(Self::Map { column: column.to_owned(), target: (!field.is_empty()).then(|| field.to_owned()) })
    }
}

/// Applies reviewers' decisions to the flow's suggested mappings, all or none (analyst). A
/// changed target must be an asset field (Invalid, field `target_field`, listing them) and takes
/// the unit rules its header names from `suggester`; a column not in the file is Invalid (field
/// `source_field`). Returns the flow's mappings afterwards.
pub async fn review_mappings(
    pool: &PgPool,
    actor: &Actor<'_>,
    suggester: &dyn Suggester,
    account: &str,
    flow_id: Uuid,
    decisions: &[MappingDecision],
) -> Result<Vec<MappingLine>, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "reviewing field mappings")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mappings = summary::mappings_of_flow(&mut tx, flow_id).await?;
    for decision in decisions {
        let column = decision.column();
        let mapping = mappings.iter().find(|m| m.source_field == column).ok_or_else(|| {
            ServiceError::invalid("source_field", format!("the flow's file has no column {column:?}"))
        })?;
        let review = match decision {
            MappingDecision::Approve { .. } => Review::Approve,
            MappingDecision::Reject { .. } => Review::Reject,
            MappingDecision::Map { target: Some(target), .. } if !TARGET_FIELDS.contains(&target.as_str()) => {
                return Err(ServiceError::invalid(
                    "target_field",
                    format!("{target:?} is not an asset field (one of: {})", TARGET_FIELDS.join(", ")),
                ));
            }
            MappingDecision::Map { target, .. } => Review::Change {
                rules: target.as_deref().map(|t| suggester.rules_for(column, t)).unwrap_or_default(),
                target: target.clone(),
            },
        };
        review_mapping(&mut tx, mapping.id, &review).await?;
    }
    let after = summary::mappings_of_flow(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(after)
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
    flow_id: Uuid,
    accept_above: Option<f64>,
) -> Result<(), ServiceError> {
    restart(pool, actor, account, flow_id, accept_above, FlowStatus::Paused).await
}

/// Runs a failed flow again from its failed phase (analyst); Conflict (field `status`) when the
/// flow has not failed.
pub async fn retry_flow(pool: &PgPool, actor: &Actor<'_>, account: &str, flow_id: Uuid) -> Result<(), ServiceError> {
    restart(pool, actor, account, flow_id, None, FlowStatus::Failed).await
}

async fn restart(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    flow_id: Uuid,
    accept_above: Option<f64>,
    from: FlowStatus,
) -> Result<(), ServiceError> {
    check_threshold(accept_above)?;
    let mut conn = connection(pool).await?;
    let (ctx, flow) = flow_ctx(&mut conn, actor, account, flow_id).await?;
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
pub async fn pause_flow(pool: &PgPool, actor: &Actor<'_>, account: &str, flow_id: Uuid) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "pausing a flow")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    pipeline::pause(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Cancels a flow and its pending jobs (analyst); Conflict when it already ended.
pub async fn cancel_flow(pool: &PgPool, actor: &Actor<'_>, account: &str, flow_id: Uuid) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = flow_ctx(&mut conn, actor, account, flow_id).await?;
    require(&ctx, MemberRole::Analyst, "cancelling a flow")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    pipeline::cancel(&mut tx, flow_id).await?;
    tx.commit().await?;
    Ok(())
}
