//! Operations (issue 17): the maintenance flag and the deployment health figures, both in the
//! bookkeeping schema (migration 0011). Read with the tool's own connection (not a `TenantTx`):
//! they are about the whole deployment, every tenant included, and never show a tenant's rows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;

/// PostgreSQL's `undefined_table`: the database predates migration 0011.
const UNDEFINED_TABLE: &str = "42P01";

/// The maintenance flag: while `active`, `serve` answers writes with 503 (`Retry-After:
/// retry_after_seconds`) and workers claim no new job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Maintenance {
    pub active: bool,
    /// What the operator said it is for (shown in the 503's detail and by `status`).
    pub reason: Option<String>,
    /// Seconds a client should wait before retrying a refused write (1 to 3600).
    pub retry_after_seconds: i32,
    /// When it was switched on (None while off).
    pub started_at: Option<DateTime<Utc>>,
}

fn is_undefined_table(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).as_deref() == Some(UNDEFINED_TABLE)
}

/// The maintenance flag; `None` when the database predates it (migration 0011 not applied),
/// which counts as not in maintenance. One primary-key read: cheap enough to poll every second.
pub async fn maintenance(conn: &mut PgConnection) -> Result<Option<Maintenance>, sqlx::Error> {
    let row = sqlx::query_as::<_, Maintenance>(
        "SELECT active, reason, retry_after_seconds, started_at FROM modernize.maintenance WHERE singleton",
    )
    .fetch_optional(conn)
    .await;
    match row {
        Err(error) if is_undefined_table(&error) => Ok(None),
        other => other,
    }
}

/// Whether the database is in maintenance (false when it predates the flag).
pub async fn in_maintenance(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    Ok(maintenance(conn).await?.is_some_and(|m| m.active))
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("the database has no maintenance flag yet: run `modernize db upgrade` (migration 0011) first")]
    NoMaintenanceFlag,
    #[error("invalid retry_after_seconds: {0} is outside 1 to 3600")]
    RetryAfter(i32),
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[from] sqlx::Error),
}

/// Switches maintenance on (with why, and how long clients should wait) or off. Switching on
/// while on keeps `started_at` (the window's start) and updates the reason.
pub async fn set_maintenance(
    conn: &mut PgConnection,
    active: bool,
    reason: Option<&str>,
    retry_after_seconds: i32,
) -> Result<Maintenance, OpsError> {
    if !(1..=3600).contains(&retry_after_seconds) {
        return Err(OpsError::RetryAfter(retry_after_seconds));
    }
    let row = sqlx::query_as::<_, Maintenance>(
        "UPDATE modernize.maintenance SET active = $1, reason = CASE WHEN $1 THEN $2 END,
                retry_after_seconds = $3,
                started_at = CASE WHEN NOT $1 THEN NULL WHEN active THEN started_at ELSE now() END,
                updated_at = now()
         WHERE singleton
         RETURNING active, reason, retry_after_seconds, started_at",
    )
    .bind(active)
    .bind(reason)
    .bind(retry_after_seconds)
    .fetch_optional(conn)
    .await;
    match row {
        Err(error) if is_undefined_table(&error) => Err(OpsError::NoMaintenanceFlag),
        Err(error) => Err(error.into()),
        Ok(None) => Err(OpsError::NoMaintenanceFlag),
        Ok(Some(row)) => Ok(row),
    }
}

/// A row of `modernize.deployment_health` (seed task 6.3 and the operator's figures). Counts are
/// over every tenant; "recent" is the last 24 hours.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeploymentHealth {
    /// Tables in the domain schema `migration` (43 when consolidated).
    pub table_count: i64,
    /// Master flows initialized, running, paused or pending.
    pub active_flows: i64,
    /// Master flows failed and jobs that recorded an error in the last 24 hours.
    pub recent_errors: i64,
    pub jobs_queued: i64,
    pub jobs_running: i64,
    pub jobs_failed: i64,
    /// Seconds since the oldest due queued job became due (None when none waits).
    pub oldest_queued_job_age_seconds: Option<f64>,
    pub last_deployment_id: Option<i64>,
    /// `deploy` or `rollback`.
    pub last_deployment_kind: Option<String>,
    /// `succeeded` or `failed`.
    pub last_deployment_status: Option<String>,
    /// Schema version the last deployment left.
    pub last_deployment_schema: Option<i64>,
    pub last_deployment_at: Option<DateTime<Utc>>,
    pub maintenance: bool,
    pub maintenance_reason: Option<String>,
    pub maintenance_since: Option<DateTime<Utc>>,
}

/// The deployment's health; `None` when the database predates the view (migration 0011).
pub async fn health(conn: &mut PgConnection) -> Result<Option<DeploymentHealth>, sqlx::Error> {
    let row = sqlx::query_as::<_, DeploymentHealth>("SELECT * FROM modernize.deployment_health").fetch_one(conn).await;
    match row {
        Err(error) if is_undefined_table(&error) => Ok(None),
        other => other.map(Some),
    }
}

/// What `/metrics` exports from the database: the deployment's health and counts by status, over
/// every tenant and naming none. Status maps hold every status, with 0 where nothing has it.
#[derive(Debug, Clone)]
pub struct MetricsFigures {
    pub health: DeploymentHealth,
    /// Jobs by status (`queued`, `running`, `done`, `failed`, `cancelled`).
    pub jobs: BTreeMap<String, i64>,
    /// Master flows by `flow_status`.
    pub master_flows: BTreeMap<String, i64>,
    /// Discovery flows by `status`.
    pub discovery_flows: BTreeMap<String, i64>,
    /// Rows of every import so far: processed (imported) and failed (refused).
    pub rows_processed: i64,
    pub rows_failed: i64,
}

#[derive(sqlx::FromRow)]
struct MetricsRow {
    #[sqlx(flatten)]
    health: DeploymentHealth,
    jobs: Json<BTreeMap<String, i64>>,
    master_flows: Json<BTreeMap<String, i64>>,
    discovery_flows: Json<BTreeMap<String, i64>>,
    rows_processed: i64,
    rows_failed: i64,
}

/// The figures `/metrics` exports, in one query (a scrape's whole cost in the database: the
/// view's counts plus a scan of the flow and import tables, one row per flow or import);
/// `None` when the database predates the view (migration 0011).
pub async fn metrics_figures(conn: &mut PgConnection) -> Result<Option<MetricsFigures>, sqlx::Error> {
    let row = sqlx::query_as::<_, MetricsRow>(
        "SELECT h.*,
            (SELECT jsonb_object_agg(s.status, coalesce(c.n, 0))
               FROM unnest(ARRAY['queued', 'running', 'done', 'failed', 'cancelled']) s(status)
               LEFT JOIN (SELECT status, count(*) AS n FROM modernize.jobs GROUP BY status) c USING (status)
            ) AS jobs,
            (SELECT jsonb_object_agg(s.status, coalesce(c.n, 0))
               FROM unnest(enum_range(NULL::migration.flow_status)) s(status)
               LEFT JOIN (SELECT flow_status AS status, count(*) AS n
                            FROM migration.crewai_flow_state_extensions GROUP BY flow_status) c USING (status)
            ) AS master_flows,
            (SELECT jsonb_object_agg(s.status, coalesce(c.n, 0))
               FROM unnest(enum_range(NULL::migration.flow_status)) s(status)
               LEFT JOIN (SELECT status, count(*) AS n FROM migration.discovery_flows GROUP BY status) c USING (status)
            ) AS discovery_flows,
            i.rows_processed, i.rows_failed
         FROM modernize.deployment_health h,
              LATERAL (SELECT coalesce(sum(processed_records), 0)::bigint AS rows_processed,
                              coalesce(sum(failed_records), 0)::bigint AS rows_failed
                         FROM migration.data_imports) i",
    )
    .fetch_one(conn)
    .await;
    match row {
        Err(error) if is_undefined_table(&error) => Ok(None),
        Err(error) => Err(error),
        Ok(row) => Ok(Some(MetricsFigures {
            health: row.health,
            jobs: row.jobs.0,
            master_flows: row.master_flows.0,
            discovery_flows: row.discovery_flows.0,
            rows_processed: row.rows_processed,
            rows_failed: row.rows_failed,
        })),
    }
}
