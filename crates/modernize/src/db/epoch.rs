//! Replacing a running process's pooled connections after the schema changed under it.
//!
//! A connection caches prepared statements and the ids of custom types. A rollback that restores
//! a backup re-creates the schema's tables and enum types with new ids, and every statement a
//! pooled connection prepared before then fails with "cached plan must not change result type":
//! measured on a `serve` left running through such a rollback, 68 % of reads failed until it
//! was restarted (docs/benchmarks.md, "Deploy and rollback under load"). A [`SchemaEpoch`]
//! watches the schema's signature and makes its pools drop connections opened before a change.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// What identifies the schema a connection was opened against: the newest migration applied
/// (a deploy or a rollback changes it) and the id of schema `migration` (a restore re-creates
/// it, even at the same version). `None` parts: no migration yet, or no schema (mid-restore).
type Signature = (Option<i64>, Option<i64>);

/// When the schema last changed, as seen by [`SchemaEpoch::check`]; shared by the pools of one
/// process ([`super::Database::pool_following`]).
#[derive(Debug)]
pub struct SchemaEpoch {
    started: Instant,
    /// Milliseconds after `started` at which a change was last seen; 0 before any change.
    changed_at_ms: AtomicU64,
    seen: Mutex<Option<Signature>>,
}

impl SchemaEpoch {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { started: Instant::now(), changed_at_ms: AtomicU64::new(0), seen: Mutex::new(None) })
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a connection opened `age` ago was opened after the last change seen.
    pub(crate) fn admits(&self, age: Duration) -> bool {
        let changed = self.changed_at_ms.load(Ordering::Acquire);
        let opened = self.elapsed_ms().saturating_sub(u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
        changed == 0 || opened > changed
    }

    /// Reads the schema's signature (two catalog lookups) and returns whether it changed since the
    /// last check (false on the first): from then on the pools following this epoch replace every
    /// connection opened before now as it is next acquired.
    ///
    /// # Errors
    /// The database's error when the signature cannot be read (nothing is changed then).
    pub async fn check(&self, pool: &PgPool) -> Result<bool, sqlx::Error> {
        let signature: Signature = sqlx::query_as(
            "SELECT (SELECT max(version) FROM modernize.schema_migrations), to_regnamespace('migration')::oid::bigint",
        )
        .fetch_one(pool)
        .await
        .or_else(|error| match error.as_database_error().and_then(|e| e.code()).as_deref() {
            // No bookkeeping table: a database never migrated, or one mid-restore.
            Some("42P01") => Ok((None, None)),
            _ => Err(error),
        })?;
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = seen.is_some_and(|before| before != signature);
        *seen = Some(signature);
        if changed {
            self.changed_at_ms.store(self.elapsed_ms().max(1), Ordering::Release);
        }
        Ok(changed)
    }

    /// Checks every `every` for as long as the returned task runs (abort it to stop), logging a
    /// change and, at debug level, a failed check.
    pub fn watch(self: &Arc<Self>, pool: PgPool, every: Duration) -> tokio::task::JoinHandle<()> {
        let epoch = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match epoch.check(&pool).await {
                    Ok(true) => tracing::info!("the database schema changed: pooled connections are being replaced"),
                    Ok(false) => {}
                    Err(error) => tracing::debug!(%error, "cannot read the schema's signature"),
                }
            }
        })
    }
}
