//! The upload directories discovery keeps, as the database knows them: which flows recorded an
//! upload in them (the master flow's `flow_configuration.upload_path`), and whether their
//! discovery flows are finished.

use sqlx::PgConnection;

use super::RepoError;
use crate::tenancy::OperatorToken;

/// For each upload directory in `dirs` (same order): `None` when no discovery flow recorded an
/// upload in it, else whether every such flow completed or was cancelled more than `retention`
/// ago. An operator's housekeeping query across client accounts, hence the [`OperatorToken`] (see
/// [`crate::discovery::uploads::purge`]), reading only status, time and path.
pub async fn finished_uploads(
    conn: &mut PgConnection,
    _operator: &OperatorToken,
    dirs: &[String],
    retention: std::time::Duration,
) -> Result<Vec<Option<bool>>, RepoError> {
    let rows: Vec<(Option<bool>,)> = sqlx::query_as(
        "SELECT bool_and(f.status IN ('completed', 'cancelled')
                         AND coalesce(f.completed_at, f.updated_at) < now() - make_interval(secs => $2))
         FROM unnest($1::text[]) WITH ORDINALITY AS d(dir, n)
         LEFT JOIN (migration.crewai_flow_state_extensions m
                    JOIN migration.discovery_flows f
                      ON f.client_account_id = m.client_account_id AND f.master_flow_id = m.flow_id)
                ON starts_with(m.flow_configuration ->> 'upload_path', d.dir || '/')
         GROUP BY d.n ORDER BY d.n",
    )
    .bind(dirs)
    .bind(retention.as_secs_f64())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(finished,)| finished).collect())
}
