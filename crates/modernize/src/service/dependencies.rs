//! Dependencies between an engagement's assets (viewer): a paged listing, and the graph around
//! one asset or application for the web UI's graph view.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::assets::asset_of_engagement;
use super::{Actor, ServiceError, connection, engagement_ctx};
use crate::models::{AssetType, CriticalityLevel, DependencyType, SixrStrategy};
use crate::repo::dependencies::{self as dependencies_repo, NamedDependency};
use crate::tenancy::TenantTx;

/// A dependency: `asset_id` depends on `depends_on_asset_id` (an application runs on a server).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DependencyView {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub asset_name: String,
    pub depends_on_asset_id: Uuid,
    pub depends_on_asset_name: String,
    pub dependency_type: DependencyType,
    pub description: Option<String>,
    pub port: Option<i32>,
    pub protocol: Option<String>,
    pub criticality: Option<CriticalityLevel>,
    /// 0 to 1.
    pub confidence_score: Option<f64>,
    /// What found it (`import`, an agent, a user).
    pub discovered_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<NamedDependency> for DependencyView {
    fn from(d: NamedDependency) -> Self {
        Self {
            id: d.id,
            asset_id: d.asset_id,
            asset_name: d.asset_name,
            depends_on_asset_id: d.depends_on_asset_id,
            depends_on_asset_name: d.depends_on_asset_name,
            dependency_type: d.dependency_type,
            description: d.description,
            port: d.port,
            protocol: d.protocol,
            criticality: d.criticality,
            confidence_score: d.confidence_score,
            discovered_by: d.discovered_by,
            created_at: d.created_at,
        }
    }
}

/// One page of dependencies.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DependencyPage {
    pub dependencies: Vec<DependencyView>,
    /// How many dependencies the listing has (all pages).
    pub total: i64,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<Uuid>,
}

/// The largest page of dependencies.
pub const MAX_PAGE: i64 = 1000;

/// Dependencies of the engagement (viewer), those of `asset` (either end) when given, in a stable
/// order: `limit` (1 to [`MAX_PAGE`]) after `cursor`.
pub async fn list_dependencies(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    asset: Option<Uuid>,
    cursor: Option<Uuid>,
    limit: i64,
) -> Result<DependencyPage, ServiceError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::invalid("limit", format!("must be 1 to {MAX_PAGE}")));
    }
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    if let Some(asset) = asset {
        asset_of_engagement(&mut tx, asset).await?;
    }
    let mut rows = dependencies_repo::list_dependencies(&mut tx, asset, cursor, limit + 1).await?;
    let total = dependencies_repo::count_dependencies(&mut tx, asset).await?;
    tx.commit().await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more { rows.last().map(|d| d.id) } else { None };
    Ok(DependencyPage { dependencies: rows.into_iter().map(DependencyView::from).collect(), total, next_cursor })
}

/// An asset in the graph, with its distance from the root (0 for the root).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GraphNode {
    pub id: Uuid,
    pub name: String,
    pub asset_type: AssetType,
    pub hostname: Option<String>,
    pub environment: Option<String>,
    pub six_r_strategy: Option<SixrStrategy>,
    /// Edges between the root and this asset, in either direction.
    pub distance: i32,
}

/// A dependency in the graph: `source` depends on `target`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GraphEdge {
    pub id: Uuid,
    pub source: Uuid,
    pub target: Uuid,
    pub dependency_type: DependencyType,
    pub confidence_score: Option<f64>,
}

/// The assets within `depth` dependencies of a root asset (either direction), and every
/// dependency between them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DependencyGraph {
    pub root: Uuid,
    pub depth: i32,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// True when the walk stopped at [`MAX_GRAPH_NODES`] before reaching `depth`.
    pub truncated: bool,
}

/// The deepest walk a graph takes.
pub const MAX_DEPTH: i32 = 5;
/// The most nodes a graph holds (a view beyond that is unreadable anyway).
pub const MAX_GRAPH_NODES: usize = 500;

/// The dependency graph around the asset `root` of the engagement (viewer; an application is
/// an asset too): breadth first, up to `depth` (1 to [`MAX_DEPTH`]) dependencies away in either
/// direction, at most [`MAX_GRAPH_NODES`] nodes (nearest first).
pub async fn dependency_graph(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    root: Uuid,
    depth: i32,
) -> Result<DependencyGraph, ServiceError> {
    if !(1..=MAX_DEPTH).contains(&depth) {
        return Err(ServiceError::invalid("depth", format!("must be 1 to {MAX_DEPTH}")));
    }
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    asset_of_engagement(&mut tx, root).await?;
    let mut distance = BTreeMap::from([(root, 0)]);
    let mut frontier = vec![root];
    let mut truncated = false;
    'walk: for level in 1..=depth {
        let edges = dependencies_repo::edges_touching(&mut tx, &frontier, false).await?;
        let mut next = BTreeSet::new();
        for edge in &edges {
            for end in [edge.asset_id, edge.depends_on_asset_id] {
                if distance.contains_key(&end) || next.contains(&end) {
                    continue;
                }
                if distance.len() + next.len() >= MAX_GRAPH_NODES {
                    truncated = true;
                    distance.extend(next.iter().map(|id| (*id, level)));
                    break 'walk;
                }
                next.insert(end);
            }
        }
        distance.extend(next.iter().map(|id| (*id, level)));
        frontier = next.into_iter().collect();
        if frontier.is_empty() {
            break;
        }
    }
    let ids: Vec<Uuid> = distance.keys().copied().collect();
    let edges = dependencies_repo::edges_touching(&mut tx, &ids, true).await?;
    let nodes = dependencies_repo::node_assets(&mut tx, &ids).await?;
    tx.commit().await?;
    let mut nodes: Vec<GraphNode> = nodes
        .into_iter()
        .map(|n| GraphNode {
            distance: distance.get(&n.id).copied().unwrap_or_default(),
            id: n.id,
            name: n.name,
            asset_type: n.asset_type,
            hostname: n.hostname,
            environment: n.environment,
            six_r_strategy: n.six_r_strategy,
        })
        .collect();
    nodes.sort_by(|a, b| (a.distance, &a.name, a.id).cmp(&(b.distance, &b.name, b.id)));
    let edges = edges
        .into_iter()
        .map(|e| GraphEdge {
            id: e.id,
            source: e.asset_id,
            target: e.depends_on_asset_id,
            dependency_type: e.dependency_type,
            confidence_score: e.confidence_score,
        })
        .collect();
    Ok(DependencyGraph { root, depth, nodes, edges, truncated })
}
