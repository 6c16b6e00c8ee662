//! Telemetry of the server (issue 17): the log format, the request id, what each request's span
//! carries, and the Prometheus metrics served by `modernize serve --metrics-addr`.
//!
//! Metrics live in a registry of the server's own ([`Metrics`], held by [`AppState`]), not a
//! process-wide one: two servers in one process (the tests) count apart. HTTP figures are counted
//! as requests pass; the database's figures are read when scraped, in one query
//! ([`modernize::ops::metrics_figures`]), never per request. No label names a tenant: routes are
//! the matched templates (`/api/v1/client-accounts/{account}`), never the path with its ids.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use modernize::ops::{self, MetricsFigures};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use uuid::Uuid;

use crate::state::AppState;

/// The header carrying a request's id, taken from the client when usable, else made up.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest request id accepted from a client (a UUID is 36 characters).
pub const MAX_REQUEST_ID_LEN: usize = 128;
/// Where the metrics listener answers.
pub const METRICS_PATH: &str = "/metrics";
/// How long a scrape waits for the database's figures before answering without fresh ones.
const FIGURES_TIMEOUT: Duration = Duration::from_secs(5);

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields` (the event's, with
    /// `message`), `span` (the innermost span) and `spans` (every open span, outermost first, each
    /// with `name` and its fields: `request_id`, `client_account_id`, `flow_id`, `job_id`…).
    Json,
}

/// The subscriber every command logs through: events that pass `filter`, as `format`, to
/// `writer` (stderr for the binary; a buffer in tests).
pub fn log_subscriber<W>(format: LogFormat, filter: EnvFilter, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().with_current_span(true).with_span_list(true).finish()),
    }
}

/// The span of one request. The ids are filled in as they become known: the route and the flow
/// or import of the path here ([`observe`]), the user by the auth extractor, the client account
/// and engagement once the caller's access to them is checked (`modernize::service`).
pub fn request_span(request: &Request) -> tracing::Span {
    let request_id = request.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
        client_account_id = tracing::field::Empty,
        engagement_id = tracing::field::Empty,
        flow_id = tracing::field::Empty,
        import_id = tracing::field::Empty,
    )
}

/// Drops a client's `X-Request-Id` that is too long or has characters other than ASCII letters,
/// digits and `-_.:`, so that a fresh one is made: ids go into every log line of the request.
pub async fn screen_request_id(mut request: Request, next: Next) -> Response {
    let usable = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    if request.headers().get(REQUEST_ID_HEADER).is_some_and(|v| !usable(v)) {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(request).await
}

/// Counts and times each request by method, route template and status, and puts the route and
/// the path's flow or import id on the request's span.
pub async fn observe(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // A client may send any method name: only the standard ones become labels.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    // Not matched: the fallback (the web UI's files, unknown paths); never the raw path.
    let route = request.extensions().get::<MatchedPath>().map_or("fallback", MatchedPath::as_str).to_owned();
    let span = tracing::Span::current();
    span.record("route", route.as_str());
    let (mut parts, body) = request.into_parts();
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        for (name, value) in &params {
            let field = match name {
                "flow_id" => "flow_id",
                "import_id" => "import_id",
                _ => continue,
            };
            // Only ids: whatever else a client puts in the path stays out of the logs.
            if let Ok(id) = value.parse::<Uuid>() {
                span.record(field, tracing::field::display(id));
            }
        }
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    metrics.observe_request(method, &route, response.status(), started.elapsed());
    response
}

/// The server's Prometheus registry and the metrics in it (cheap to clone).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    /// Scrapes run one at a time: at most one figures query in the database at once.
    scrape: tokio::sync::Mutex<()>,
    pools: Mutex<Vec<(String, PgPool)>>,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGaugeVec,
    figures_ok: IntGauge,
    jobs: IntGaugeVec,
    oldest_queued_job_age: Gauge,
    flows: IntGaugeVec,
    imported_rows: IntGaugeVec,
    domain_tables: IntGauge,
    active_flows: IntGauge,
    recent_errors: IntGauge,
    maintenance: IntGauge,
    last_deployment: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

// The names, help texts and labels below are constants of this file: the `expect`s cannot fail
// at run time once a test has built a registry (every API test does).
impl Metrics {
    /// A registry with every metric of the server, all at zero.
    pub fn new() -> Self {
        let registry = Registry::new();
        fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
            registry.register(Box::new(metric.clone())).expect("each metric is registered once");
            metric
        }
        let int_gauge =
            |name: &str, help: &str| register(&registry, IntGauge::new(name, help).expect("a valid metric name"));
        let int_gauges = |name: &str, help: &str, labels: &[&str]| {
            register(&registry, IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric and label names"))
        };
        let http_labels = ["method", "route", "status"];
        Self(Arc::new(Inner {
            scrape: tokio::sync::Mutex::new(()),
            pools: Mutex::new(Vec::new()),
            http_requests: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "modernize_http_requests_total",
                        "HTTP requests answered, by method, route template and status.",
                    ),
                    &http_labels,
                )
                .expect("valid metric and label names"),
            ),
            http_duration: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "modernize_http_request_duration_seconds",
                        "Time from a request's arrival to its response's start, by method, route template and status.",
                    ),
                    &http_labels,
                )
                .expect("valid metric and label names"),
            ),
            pool_connections: int_gauges(
                "modernize_db_pool_connections",
                "Connections a pool holds to PostgreSQL, by pool (api, workers) and state (idle, in_use).",
                &["pool", "state"],
            ),
            pool_max: int_gauges(
                "modernize_db_pool_max_connections",
                "Most connections a pool may hold, by pool.",
                &["pool"],
            ),
            figures_ok: int_gauge(
                "modernize_database_figures_ok",
                "1 when the last scrape read the database's figures, 0 when it could not (they then keep their last values).",
            ),
            jobs: int_gauges(
                "modernize_jobs",
                "Jobs in the queue by status (queued is the queue's depth).",
                &["status"],
            ),
            oldest_queued_job_age: register(
                &registry,
                Gauge::new(
                    "modernize_oldest_queued_job_age_seconds",
                    "Seconds the oldest due queued job has waited (0 when none waits).",
                )
                .expect("a valid metric name"),
            ),
            flows: int_gauges("modernize_flows", "Flows by kind (master, discovery) and status.", &["kind", "status"]),
            imported_rows: int_gauges(
                "modernize_import_rows",
                "Rows of every import so far, by outcome (processed, failed).",
                &["outcome"],
            ),
            domain_tables: int_gauge("modernize_domain_tables", "Tables in the domain schema `migration`."),
            active_flows: int_gauge("modernize_active_flows", "Master flows initialized, running, paused or pending."),
            recent_errors: int_gauge(
                "modernize_recent_errors",
                "Master flows failed and jobs that recorded an error, in the last 24 hours.",
            ),
            maintenance: int_gauge(
                "modernize_maintenance",
                "1 while maintenance mode is on (writes refused, workers idle).",
            ),
            last_deployment: int_gauges(
                "modernize_last_deployment_timestamp_seconds",
                "When the last deployment or rollback finished (Unix time), by kind (deploy, rollback) and status (succeeded, failed); absent before the first.",
                &["kind", "status"],
            ),
            registry,
        }))
    }

    /// Also reports the connections of `pool` as `pool="name"` (the API's pool is always reported,
    /// as `api`).
    pub fn watch_pool(&self, name: &str, pool: PgPool) {
        self.0.pools.lock().unwrap_or_else(PoisonError::into_inner).push((name.to_owned(), pool));
    }

    fn observe_request(&self, method: &str, route: &str, status: StatusCode, elapsed: Duration) {
        let status = status.as_str();
        self.0.http_requests.with_label_values(&[method, route, status]).inc();
        self.0.http_duration.with_label_values(&[method, route, status]).observe(elapsed.as_secs_f64());
    }

    /// The metrics in the Prometheus text format (0.0.4), the database's figures read now from
    /// `pool` (one query, at most [`FIGURES_TIMEOUT`]).
    pub async fn render(&self, pool: &PgPool) -> String {
        let _one_at_a_time = self.0.scrape.lock().await;
        let read = async {
            let mut conn = pool.acquire().await?;
            ops::metrics_figures(&mut conn).await
        };
        match tokio::time::timeout(FIGURES_TIMEOUT, read).await {
            Ok(Ok(Some(figures))) => {
                self.set_figures(&figures);
                self.0.figures_ok.set(1);
            }
            Ok(Ok(None)) => {
                tracing::warn!("no figures for /metrics: the database predates migration 0011");
                self.0.figures_ok.set(0);
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot read the figures for /metrics");
                self.0.figures_ok.set(0);
            }
            Err(_) => {
                tracing::warn!(timeout = ?FIGURES_TIMEOUT, "the figures for /metrics took too long");
                self.0.figures_ok.set(0);
            }
        }
        self.set_pool("api", pool);
        let pools = self.0.pools.lock().unwrap_or_else(PoisonError::into_inner).clone();
        for (name, pool) in &pools {
            self.set_pool(name, pool);
        }
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.0.registry.gather(), &mut text) {
            tracing::error!(%error, "the metrics could not be encoded");
        }
        String::from_utf8_lossy(&text).into_owned()
    }

    fn set_pool(&self, name: &str, pool: &PgPool) {
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        let size = i64::from(pool.size());
        self.0.pool_connections.with_label_values(&[name, "idle"]).set(idle);
        self.0.pool_connections.with_label_values(&[name, "in_use"]).set(size.saturating_sub(idle).max(0));
        self.0.pool_max.with_label_values(&[name]).set(i64::from(pool.options().get_max_connections()));
    }

    fn set_figures(&self, figures: &MetricsFigures) {
        let inner = &self.0;
        for (status, count) in &figures.jobs {
            inner.jobs.with_label_values(&[status]).set(*count);
        }
        for (kind, by_status) in [("master", &figures.master_flows), ("discovery", &figures.discovery_flows)] {
            for (status, count) in by_status {
                inner.flows.with_label_values(&[kind, status]).set(*count);
            }
        }
        inner.imported_rows.with_label_values(&["processed"]).set(figures.rows_processed);
        inner.imported_rows.with_label_values(&["failed"]).set(figures.rows_failed);
        let health = &figures.health;
        inner.oldest_queued_job_age.set(health.oldest_queued_job_age_seconds.unwrap_or(0.0));
        inner.domain_tables.set(health.table_count);
        inner.active_flows.set(health.active_flows);
        inner.recent_errors.set(health.recent_errors);
        inner.maintenance.set(i64::from(health.maintenance));
        inner.last_deployment.reset();
        if let (Some(kind), Some(status), Some(at)) =
            (&health.last_deployment_kind, &health.last_deployment_status, health.last_deployment_at)
        {
            inner.last_deployment.with_label_values(&[kind, status]).set(at.timestamp());
        }
    }
}

/// `GET /metrics`: the Prometheus text format.
async fn get_metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state.pool).await;
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response()
}

/// The metrics listener's router: `GET /metrics` and nothing else. It has no authentication: bind
/// it to loopback or a monitoring network only (docs/operations.md).
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route(METRICS_PATH, get(get_metrics)).with_state(state)
}

/// Serves [`metrics_router`] on `listener` until `shutdown` completes.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(state)).with_graceful_shutdown(shutdown).await
}
