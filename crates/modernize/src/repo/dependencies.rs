//! Dependencies between the assets of an engagement: a keyset-paged listing, and what a
//! breadth-first walk of the dependency graph needs (the edges touching a set of assets, and those
//! assets as graph nodes).

use uuid::Uuid;

use super::RepoError;
use super::flows::PhaseScope;
use crate::models::{Asset, AssetDependency, AssetType, CriticalityLevel, DependencyType, SixrStrategy, TenantTable};
use crate::tenancy::TenantTx;

/// A dependency with the names of both ends.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NamedDependency {
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
    pub confidence_score: Option<f64>,
    pub discovered_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Dependencies of the transaction's engagement (those with `asset` at either end, when given),
/// in id order, `limit` of them after the dependency `after`.
pub async fn list_dependencies(
    tx: &mut TenantTx<'_>,
    asset: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<NamedDependency>, RepoError> {
    let engagement = tx.ctx().require_engagement(AssetDependency::TABLE)?;
    let rows = sqlx::query_as(
        "SELECT d.id, d.asset_id, a.name AS asset_name, d.depends_on_asset_id, t.name AS depends_on_asset_name,
                d.dependency_type, d.description, d.port, d.protocol, d.criticality, d.confidence_score,
                d.discovered_by, d.created_at
         FROM migration.asset_dependencies d
         JOIN migration.assets a ON a.client_account_id = d.client_account_id AND a.id = d.asset_id
         JOIN migration.assets t ON t.client_account_id = d.client_account_id AND t.id = d.depends_on_asset_id
         WHERE d.client_account_id = $1 AND d.engagement_id = $2
           AND ($3::uuid IS NULL OR d.asset_id = $3 OR d.depends_on_asset_id = $3)
           AND ($4::uuid IS NULL OR d.id > $4)
         ORDER BY d.id LIMIT $5",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(asset)
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// How many dependencies [`list_dependencies`] pages through.
pub async fn count_dependencies(tx: &mut TenantTx<'_>, asset: Option<Uuid>) -> Result<i64, RepoError> {
    let engagement = tx.ctx().require_engagement(AssetDependency::TABLE)?;
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM migration.asset_dependencies d
         WHERE d.client_account_id = $1 AND d.engagement_id = $2
           AND ($3::uuid IS NULL OR d.asset_id = $3 OR d.depends_on_asset_id = $3)",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(asset)
    .fetch_one(tx.conn())
    .await?;
    Ok(count)
}

/// The engagement's dependencies with at least one end in `assets` (`both_ends`: with both), in
/// id order.
pub async fn edges_touching(
    tx: &mut TenantTx<'_>,
    assets: &[Uuid],
    both_ends: bool,
) -> Result<Vec<AssetDependency>, RepoError> {
    let engagement = tx.ctx().require_engagement(AssetDependency::TABLE)?;
    let edges = sqlx::query_as(
        "SELECT * FROM migration.asset_dependencies d
         WHERE d.client_account_id = $1 AND d.engagement_id = $2
           AND CASE WHEN $4 THEN d.asset_id = ANY($3) AND d.depends_on_asset_id = ANY($3)
                    ELSE d.asset_id = ANY($3) OR d.depends_on_asset_id = ANY($3) END
         ORDER BY d.id",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(assets)
    .bind(both_ends)
    .fetch_all(tx.conn())
    .await?;
    Ok(edges)
}

/// An asset as a node of the dependency graph.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NodeAsset {
    pub id: Uuid,
    pub name: String,
    pub asset_type: AssetType,
    pub hostname: Option<String>,
    pub environment: Option<String>,
    pub six_r_strategy: Option<SixrStrategy>,
}

/// The assets `ids` of the transaction's engagement, as graph nodes, in name order.
pub async fn node_assets(tx: &mut TenantTx<'_>, ids: &[Uuid]) -> Result<Vec<NodeAsset>, RepoError> {
    let engagement = tx.ctx().require_engagement(Asset::TABLE)?;
    let nodes = sqlx::query_as(
        "SELECT id, name, asset_type, hostname, environment, six_r_strategy FROM migration.assets
         WHERE client_account_id = $1 AND engagement_id = $2 AND id = ANY($3) ORDER BY name, id",
    )
    .bind(tx.client_account_id())
    .bind(engagement)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(nodes)
}

/// Makes each distinct application named on a server of the import (`application_name`) an
/// application asset of the engagement, unless one of that name exists, with the 6R `strategy`
/// the rules give an application (then `assessed`). Returns how many were created.
pub async fn derive_applications(
    tx: &mut TenantTx<'_>,
    scope: &PhaseScope,
    strategy: SixrStrategy,
) -> Result<u64, RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    nested_loops(tx, false).await?;
    let created = sqlx::query(
        "INSERT INTO migration.assets (client_account_id, engagement_id, master_flow_id, discovery_flow_id,
                data_import_id, name, asset_type, application_name, discovery_method, dedup_key, six_r_strategy, status)
         SELECT DISTINCT ON (lower(btrim(s.application_name))) $1, $2, $3, $4, $5, s.application_name, 'application',
                s.application_name, 'derived', 'application:' || lower(btrim(s.application_name)), $6, 'assessed'
         FROM migration.assets s
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $5
           AND s.application_name IS NOT NULL AND s.asset_type <> 'application'
           AND NOT EXISTS (SELECT 1 FROM migration.assets a WHERE a.client_account_id = $1 AND a.engagement_id = $2
                           AND a.asset_type = 'application' AND lower(a.name) = lower(s.application_name))
         ORDER BY lower(btrim(s.application_name))
         ON CONFLICT (client_account_id, engagement_id, dedup_key) DO NOTHING",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(scope.master_flow_id)
    .bind(scope.discovery_flow_id)
    .bind(scope.data_import_id)
    .bind(strategy)
    .execute(tx.conn())
    .await?
    .rows_affected();
    nested_loops(tx, true).await?;
    Ok(created)
}

/// Each application named on a server of the import `runs_on` that server. Returns how many
/// dependencies were created (an existing one is kept).
pub async fn link_applications_to_servers(tx: &mut TenantTx<'_>, data_import_id: Uuid) -> Result<u64, RepoError> {
    let engagement_id = tx.ctx().require_engagement(Asset::TABLE)?;
    nested_loops(tx, false).await?;
    let created = sqlx::query(
        "INSERT INTO migration.asset_dependencies (client_account_id, engagement_id, asset_id, depends_on_asset_id,
                dependency_type, description, confidence_score, discovered_by)
         SELECT $1, $2, app.id, s.id, 'runs_on', 'application named on the server in the import', 0.9, 'import'
         FROM migration.assets s
         JOIN migration.assets app ON app.client_account_id = $1 AND app.engagement_id = $2
              AND app.asset_type = 'application' AND lower(app.name) = lower(s.application_name)
         WHERE s.client_account_id = $1 AND s.engagement_id = $2 AND s.data_import_id = $3
           AND s.asset_type <> 'application'
         ON CONFLICT (client_account_id, asset_id, depends_on_asset_id, dependency_type) DO NOTHING",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(data_import_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    nested_loops(tx, true).await?;
    Ok(created)
}

/// Allows or forbids nested-loop joins for the rest of the transaction. The two statements that
/// join the import's servers to applications by name forbid them: under row-level security the
/// planner estimates the import's servers at one row, and an `INSERT … SELECT` gets no parallel
/// plan, so it picked a nested loop scanning `assets` once per server (1M servers: still running
/// after 15 minutes, where the hash join takes under 2 s; docs/benchmarks.md, discovery at 1M).
async fn nested_loops(tx: &mut TenantTx<'_>, allowed: bool) -> Result<(), RepoError> {
    sqlx::query("SELECT set_config('enable_nestloop', $1, true)")
        .bind(if allowed { "on" } else { "off" })
        .execute(tx.conn())
        .await?;
    Ok(())
}
