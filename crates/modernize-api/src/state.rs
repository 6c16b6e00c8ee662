//! What every handler shares: the connection pool, the settings, the login rate limiter, the
//! maintenance flag and the metrics.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use modernize::discovery::{ExactNameSuggester, Suggester};
use sqlx::PgPool;

use crate::maintenance::MaintenanceWatch;
use crate::telemetry::Metrics;

/// Settings of the API server (from `modernize serve`'s flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// Longest time a request may take before its response starts (408).
    pub request_timeout: Duration,
    /// Largest JSON body accepted (413 above).
    pub max_json_body_bytes: usize,
    /// Largest uploaded inventory file accepted (413 above, nothing kept).
    pub max_upload_bytes: u64,
    /// Where uploaded files are kept for the import's worker to read.
    pub uploads_dir: PathBuf,
    /// How long a web session lasts after signing in.
    pub session_lifetime: Duration,
    /// Sign-in attempts allowed per e-mail address: a burst, then one more each period
    /// (default 5 per minute: 5 at once, then one every 12 s).
    pub login_quota: Quota,
    /// Assets read per query (and sent per piece) by an export.
    pub export_page_rows: i64,
    /// How often the maintenance flag is read from the database (at most; only while requests
    /// arrive). A change reaches every server within this time.
    pub maintenance_poll: Duration,
}

impl Config {
    pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;

    /// Defaults for everything but where uploads go.
    pub fn new(uploads_dir: PathBuf) -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_json_body_bytes: 1 << 20,
            max_upload_bytes: Self::DEFAULT_MAX_UPLOAD_BYTES,
            uploads_dir,
            session_lifetime: Duration::from_secs(12 * 3600),
            login_quota: Quota::per_minute(NonZeroU32::MIN.saturating_add(4)),
            export_page_rows: 500,
            maintenance_poll: Duration::from_secs(2),
        }
    }
}

/// The handlers' shared state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// Sign-in attempts per e-mail address: guessing one account's password is refused with 429
    /// after a burst, whichever addresses the attempts come from.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// The field-mapping engine, for the unit rules a reviewer's changed target needs. The binary
    /// sets the real engine (`modernize-mapping`) with [`AppState::with_suggester`]; the default
    /// maps exact field names only.
    pub suggester: Arc<dyn Suggester>,
    /// The maintenance flag as last read (see [`crate::maintenance`]).
    pub maintenance: Arc<MaintenanceWatch>,
    /// The server's metrics (served by [`crate::telemetry::metrics_router`]).
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> Self {
        let limiter = RateLimiter::keyed(config.login_quota);
        let maintenance = Arc::new(MaintenanceWatch::new(config.maintenance_poll));
        Self {
            maintenance,
            metrics: Metrics::new(),
            pool,
            config: Arc::new(config),
            login_limiter: Arc::new(limiter),
            suggester: Arc::new(ExactNameSuggester),
        }
    }

    /// The same state with `suggester` as the mapping engine.
    pub fn with_suggester(mut self, suggester: Arc<dyn Suggester>) -> Self {
        self.suggester = suggester;
        self
    }
}
