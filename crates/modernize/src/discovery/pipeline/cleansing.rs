//! The cleansing phase: each valid record's values through its approved mappings, with its identity.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::worker::WorkerOptions;
use super::{Advance, PhaseJob, flow_upload, record_object};
use crate::discovery::DiscoveryError;
use crate::discovery::cleansing::cleanse;
use crate::discovery::ingest::InventoryFile;
use crate::repo::mappings;
use crate::tenancy::{TenantCtx, TenantTx};

/// Writes `cleansed_data` for every valid record still without it, a chunk per transaction.
pub(super) async fn cleanse_records(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    options: &WorkerOptions,
) -> Result<Advance, DiscoveryError> {
    let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
    let mappings = mappings::approved_mappings(&mut tx, job.data_import_id).await?;
    let (upload, import_options) = flow_upload(&mut tx, job).await?;
    tx.commit().await?;
    // The file's decimal mark, as the import phase found it (or as given).
    let detected = InventoryFile::open(&upload, import_options.sheet.as_deref(), import_options.encoding)?.shape;
    let mark = import_options.decimal_mark(detected.decimal_mark);
    let (mut cleansed, mut unidentified) = (0usize, 0usize);
    // Keyset pagination over row_number: each chunk starts where the last ended, so the phase
    // reads every record once (a re-run skips those already cleansed).
    let mut after = 0i32;
    loop {
        let mut tx = TenantTx::begin(&mut *conn, ctx).await?;
        let rows: Vec<(Uuid, i32, Value)> = sqlx::query_as(
            "SELECT id, row_number, raw_data FROM migration.raw_import_records
             WHERE client_account_id = $1 AND data_import_id = $2 AND row_number > $4
               AND is_valid AND cleansed_data IS NULL
             ORDER BY row_number LIMIT $3",
        )
        .bind(ctx.client_account_id())
        .bind(job.data_import_id)
        .bind(i64::try_from(options.chunk_rows).unwrap_or(i64::MAX))
        .bind(after)
        .fetch_all(tx.conn())
        .await?;
        let Some(&(_, last, _)) = rows.last() else { break };
        after = last;
        let (mut ids, mut documents) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        for (id, _, raw) in rows {
            let result = cleanse(&record_object(raw)?, &mappings, mark);
            unidentified += usize::from(result.dedup_key.is_none());
            ids.push(id);
            documents.push(json!({"asset": result.asset, "dedup_key": result.dedup_key, "keys": result.keys,
                                 "issues": result.issues}));
        }
        cleansed += ids.len();
        sqlx::query(
            "UPDATE migration.raw_import_records r SET cleansed_data = c.doc
             FROM unnest($2::uuid[], $3::jsonb[]) AS c(id, doc)
             WHERE r.client_account_id = $1 AND r.id = c.id",
        )
        .bind(ctx.client_account_id())
        .bind(&ids)
        .bind(&documents)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    let mut metrics = Map::new();
    metrics.insert("records_cleansed".into(), json!(cleansed));
    metrics.insert("records_without_identity".into(), json!(unidentified));
    metrics.insert("mapped_columns".into(), json!(mappings.len()));
    Ok(Advance::Next(metrics))
}
