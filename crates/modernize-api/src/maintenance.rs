//! Maintenance mode in the server (issue 17): while the database's maintenance flag is on,
//! writes answer 503 with `Retry-After` and problem+json; reads go on.
//!
//! The flag is read from the database at most once per `Config::maintenance_poll` (2 s by
//! default) and only when requests arrive: every `serve` sees a change within that time, and an
//! idle server does not query at all. One primary-key read per poll.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use modernize::ops::{self, Maintenance};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::error::ApiError;
use crate::state::AppState;

/// The last flag read, and when.
#[derive(Debug)]
pub struct MaintenanceWatch {
    poll: Duration,
    last: Mutex<Option<(Instant, Option<Maintenance>)>>,
}

impl MaintenanceWatch {
    pub fn new(poll: Duration) -> Self {
        Self { poll, last: Mutex::new(None) }
    }

    /// The flag as of at most `poll` ago (`None`: off, or a database without the flag). When the
    /// database cannot be read, the last value read is kept (and the failure logged): a database
    /// outage is /ready's business, not a reason to refuse or allow writes.
    pub async fn current(&self, pool: &PgPool) -> Option<Maintenance> {
        let mut last = self.last.lock().await;
        if let Some((at, value)) = last.as_ref()
            && at.elapsed() < self.poll
        {
            return value.clone();
        }
        let read = match pool.acquire().await {
            Ok(mut conn) => ops::maintenance(&mut conn).await,
            Err(error) => Err(error),
        };
        let value = match read {
            Ok(value) => value.filter(|m| m.active),
            Err(error) => {
                tracing::warn!(%error, "cannot read the maintenance flag; keeping the last one read");
                last.as_ref().and_then(|(_, value)| value.clone())
            }
        };
        *last = Some((Instant::now(), value.clone()));
        value
    }
}

/// The 503 a write gets during maintenance.
pub fn refusal(maintenance: &Maintenance) -> ApiError {
    ApiError::Maintenance {
        reason: maintenance.reason.clone(),
        retry_after_secs: u64::try_from(maintenance.retry_after_seconds).unwrap_or(60),
    }
}

/// Refuses writes (any method but GET, HEAD and OPTIONS) while maintenance is on.
pub async fn refuse_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match state.maintenance.current(&state.pool).await {
        Some(maintenance) => refusal(&maintenance).into_response(),
        None => next.run(request).await,
    }
}
