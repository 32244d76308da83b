//! The monitoring REST contract under `/api/v1/monitoring` (besides the public health):
//! every answer comes from the published snapshot, with its age, so endpoints answer in
//! milliseconds at any chunk count and never load the database.

use super::error::ApiError;
use super::params::{invalid, ApiQuery, RelationParam};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::monitoring::feed::PassOutcome;
use app::monitoring::ChunkParams;
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tsdb::chunk_query::{ChunkPage, ChunkQuery};
use tsdb::facts::{HypertableFacts, JobFacts, Snapshot};
use tsdb::types::{BackgroundTask, HealthStatus, Role};
use utoipa::IntoParams;
use utoipa_axum::routes;

/// The monitoring contract: details for admins, basic status and the live stream for any
/// role, Prometheus for any token (public when configured so; see `api::access`).
pub fn routes() -> Routes {
    let admin = Access::Role(Role::Admin);
    let anyone_signed_in = Access::Role(Role::Viewer);
    Routes::new()
        .route(admin, routes!(database))
        .route(admin, routes!(timescaledb))
        .route(admin, routes!(hypertables))
        .route(admin, routes!(compression))
        .route(admin, routes!(chunks))
        .route(anyone_signed_in, routes!(status))
        .route(admin, routes!(configuration))
        .route(admin, routes!(refresh))
        .route(anyone_signed_in, routes!(events))
        .route(anyone_signed_in, routes!(prometheus))
}

/// The snapshot, or 503: `snapshot_pending` while the first pass runs,
/// `catalog_pass_failing` when every pass so far has failed.
fn snapshot(state: &AppState) -> Result<Arc<Snapshot>, ApiError> {
    Ok(state.monitor.current()?)
}

/// Where figures come from: the snapshot's time and age.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Freshness {
    /// When the catalog pass finished.
    pub snapshot_taken_at: DateTime<Utc>,
    /// Its age when this answer was made.
    pub snapshot_age_seconds: f64,
    /// How long the pass took.
    pub pass_seconds: f64,
}

/// The pages' header under REST's names.
fn freshness(state: &AppState, snapshot: &Snapshot) -> Freshness {
    let header = app::monitoring::header(state, snapshot);
    Freshness {
        snapshot_taken_at: header.taken_at,
        snapshot_age_seconds: header.age_seconds,
        pass_seconds: header.pass_seconds,
    }
}

/// Pool statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Idle connections.
    pub idle: u32,
    /// Upper bound.
    pub max: u32,
}

/// `/health/database`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatabaseHealth {
    /// Overall status.
    pub status: HealthStatus,
    /// Whether the database answered the latest catalog pass.
    pub reachable: bool,
    /// The latest pass's error, if it failed.
    pub last_error: Option<String>,
    /// PostgreSQL version.
    pub server_version: Option<String>,
    /// Database name.
    pub database: Option<String>,
    /// Database size.
    pub size_bytes: Option<i64>,
    /// Connected backends.
    pub connections: Option<i64>,
    /// `max_connections`.
    pub max_connections: Option<i64>,
    /// The console's pool.
    pub pool: Option<PoolStats>,
    /// Seconds since the last snapshot.
    pub snapshot_age_seconds: Option<f64>,
    /// The console's background tasks (refresher, start-up, janitor): a failing one is
    /// restarted with back-off and shows its last error here.
    pub background_tasks: Vec<BackgroundTask>,
}

/// Reachability, size, connections and pool, from the last known state.
#[utoipa::path(get, path = "/api/v1/monitoring/health/database", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = DatabaseHealth), (status = 401), (status = 403)))]
pub async fn database(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<DatabaseHealth>, ApiError> {
    auth.require(Role::Admin)?;
    let snapshot = state.monitor.snapshot();
    let reachable = !state.database_down();
    let last_error =
        state
            .link
            .outage()
            .map(|o| o.reason)
            .or_else(|| match state.monitor.outcome() {
                PassOutcome::Failed { reason, .. } => Some(reason),
                PassOutcome::Succeeded(_) | PassOutcome::Pending => None,
            });
    let db = snapshot.as_ref().map(|s| s.database.clone());
    Ok(Json(DatabaseHealth {
        status: app::monitoring::health::assess(&state),
        reachable,
        last_error,
        server_version: db.as_ref().map(|d| d.server_version.clone()),
        database: db.as_ref().map(|d| d.name.clone()),
        size_bytes: db.as_ref().map(|d| d.size_bytes),
        connections: db.as_ref().map(|d| d.connections),
        max_connections: db.as_ref().map(|d| d.max_connections),
        pool: state.pool().ok().map(|p| PoolStats {
            size: p.size(),
            idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
            max: p.options().get_max_connections(),
        }),
        snapshot_age_seconds: state.monitor.age_seconds(),
        background_tasks: state.tasks.list(),
    }))
}

/// `/health/timescaledb`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimescaleHealth {
    /// Overall status.
    pub status: HealthStatus,
    /// Whether the extension is installed.
    pub installed: bool,
    /// Its version.
    pub version: Option<String>,
    /// Whether the console fully supports the installed release: 2.13 or later, and
    /// its internal catalog as the console knows it (else only the public API is read).
    pub supported: bool,
    /// How the catalog is read: `internal` (fast), `public` (TimescaleDB's public views
    /// and size functions only: slower, and watermarks and batch sizes unknown) or
    /// `none` (TimescaleDB not usable).
    pub catalog_reads: String,
    /// What is wrong, in words, when something is.
    pub message: Option<String>,
    /// `timescaledb.license`.
    pub license: Option<String>,
    /// `timescaledb.max_background_workers`.
    pub max_background_workers: Option<i64>,
    /// Workers running now.
    pub background_workers_in_use: Option<i64>,
    /// Whether TimescaleDB's scheduler runs jobs on their schedules here; without it
    /// (the embedded development database, or no background workers) jobs run only
    /// when started by hand.
    pub job_scheduler: bool,
    /// Jobs whose last run failed.
    pub failing_jobs: Vec<JobFacts>,
    /// Seconds since the last snapshot.
    pub snapshot_age_seconds: Option<f64>,
}

/// Extension, version, licence, workers and failing jobs.
#[utoipa::path(get, path = "/api/v1/monitoring/health/timescaledb", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = TimescaleHealth), (status = 401), (status = 403)))]
pub async fn timescaledb(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<TimescaleHealth>, ApiError> {
    auth.require(Role::Admin)?;
    let capabilities = state.capabilities();
    let check = capabilities.as_ref().map(|c| c.require_timescaledb());
    let fallback = capabilities
        .as_ref()
        .and_then(|c| c.catalog.fallback_reason().map(str::to_string));
    let snapshot = state.monitor.snapshot();
    let extension = snapshot.as_ref().and_then(|s| s.timescaledb.clone());
    Ok(Json(TimescaleHealth {
        status: app::monitoring::health::assess(&state),
        installed: capabilities
            .as_ref()
            .is_some_and(|c| c.timescaledb_reported.is_some()),
        version: capabilities
            .as_ref()
            .and_then(|c| c.timescaledb_reported.clone()),
        supported: matches!(check, Some(Ok(_))) && fallback.is_none(),
        catalog_reads: match (&check, &fallback) {
            (Some(Ok(_)), None) => "internal",
            (Some(Ok(_)), Some(_)) => "public",
            _ => "none",
        }
        .into(),
        message: match check {
            Some(Err(error)) => Some(app::error::AppError::from(error).to_string()),
            None => Some("the database has not been reached yet".into()),
            Some(Ok(_)) => fallback,
        },
        license: extension.as_ref().and_then(|e| e.license.clone()),
        max_background_workers: extension.as_ref().and_then(|e| e.max_background_workers),
        background_workers_in_use: extension.as_ref().map(|e| e.background_workers_in_use),
        job_scheduler: capabilities
            .as_ref()
            .is_some_and(|c| c.has_job_scheduler() && c.require_timescaledb().is_ok()),
        failing_jobs: snapshot
            .map(|s| {
                s.jobs
                    .iter()
                    .filter(|j| j.last_run_status == Some(tsdb::facts::RunStatus::Failed))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        snapshot_age_seconds: state.monitor.age_seconds(),
    }))
}

/// `/metrics/hypertables`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HypertableMetrics {
    /// Where the figures come from.
    #[serde(flatten)]
    pub freshness: Freshness,
    /// Every hypertable, biggest first.
    pub hypertables: Vec<HypertableFacts>,
}

/// Per hypertable: sizes, chunks, compression state, row estimate, dimensions.
#[utoipa::path(get, path = "/api/v1/monitoring/metrics/hypertables", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = HypertableMetrics), (status = 401), (status = 403), (status = 503)))]
pub async fn hypertables(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<HypertableMetrics>, ApiError> {
    auth.require(Role::Admin)?;
    let snapshot = snapshot(&state)?;
    Ok(Json(HypertableMetrics {
        freshness: freshness(&state, &snapshot),
        hypertables: snapshot.hypertables.clone(),
    }))
}

/// Compression figures of one hypertable.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompressionFacts {
    /// `schema.name`.
    pub hypertable: String,
    /// Whether compression is enabled.
    pub compression_enabled: bool,
    /// Chunks.
    pub chunk_count: i64,
    /// Compressed chunks.
    pub compressed_chunk_count: i64,
    /// Size of the compressed chunks before compression.
    pub before_compression_bytes: i64,
    /// Their size after compression.
    pub after_compression_bytes: i64,
    /// Before / after.
    pub compression_ratio: Option<f64>,
    /// Segment-by columns.
    pub segment_by: Vec<String>,
    /// Order-by items.
    pub order_by: Vec<String>,
    /// The policy's compress-after.
    pub compress_after: Option<String>,
    /// Uncompressed chunks past compress-after.
    pub backlog_chunks: i64,
    /// Their bytes.
    pub backlog_bytes: i64,
}

/// `/metrics/compression`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompressionMetrics {
    /// Where the figures come from.
    #[serde(flatten)]
    pub freshness: Freshness,
    /// Per hypertable.
    pub hypertables: Vec<CompressionFacts>,
}

/// Per hypertable: bytes before and after compression, ratio, compressed chunks, backlog.
#[utoipa::path(get, path = "/api/v1/monitoring/metrics/compression", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = CompressionMetrics), (status = 401), (status = 403), (status = 503)))]
pub async fn compression(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<CompressionMetrics>, ApiError> {
    auth.require(Role::Admin)?;
    let snapshot = snapshot(&state)?;
    Ok(Json(CompressionMetrics {
        freshness: freshness(&state, &snapshot),
        hypertables: snapshot
            .hypertables
            .iter()
            .map(|h| CompressionFacts {
                hypertable: h.qualified(),
                compression_enabled: h.compression_enabled,
                chunk_count: h.chunk_count,
                compressed_chunk_count: h.compressed_chunk_count,
                before_compression_bytes: h.before_compression_bytes,
                after_compression_bytes: h.after_compression_bytes,
                compression_ratio: h.compression_ratio,
                segment_by: h.segment_by.clone(),
                order_by: h.order_by.clone(),
                compress_after: h.compress_after.clone(),
                backlog_chunks: h.backlog_chunks,
                backlog_bytes: h.backlog_bytes,
            })
            .collect(),
    }))
}

/// `/metrics/chunks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChunkMetrics {
    /// Where the figures come from.
    #[serde(flatten)]
    pub freshness: Freshness,
    /// The page.
    #[serde(flatten)]
    pub page: ChunkPage,
}

/// The chunk list's filters, sort and page, each optional; read as text so each refusal
/// names its parameter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChunkFilters {
    /// One hypertable, `schema.name`.
    #[param(inline)]
    pub hypertable: Option<RelationParam>,
    /// RFC 3339: chunks whose range ends after this.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339: chunks whose range starts before this.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// true or false.
    #[param(value_type = Option<bool>)]
    pub compressed: Option<String>,
    /// range_start (default), -range_start, total_bytes, -total_bytes.
    #[param(pattern = r"^-?(range_start|total_bytes)$")]
    pub sort: Option<String>,
    /// 1 to 1000, default 100.
    #[param(value_type = Option<usize>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Chunks to skip.
    #[param(value_type = Option<usize>)]
    pub offset: Option<String>,
}

impl From<ChunkFilters> for ChunkParams {
    /// The chunks page's own filters: one parser reads both.
    fn from(filters: ChunkFilters) -> Self {
        ChunkParams {
            hypertable: filters.hypertable.map(|h| h.0),
            from: filters.from,
            to: filters.to,
            compressed: filters.compressed,
            sort: filters.sort,
            limit: filters.limit,
            offset: filters.offset,
        }
    }
}

/// Chunks with ranges, sizes and compression; filters, sort and paging.
#[utoipa::path(get, path = "/api/v1/monitoring/metrics/chunks", tag = "monitoring",
    security(("bearer" = [])),
    params(ChunkFilters),
    responses((status = 200, body = ChunkMetrics), (status = 400), (status = 401), (status = 403), (status = 503)))]
pub async fn chunks(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(filters): ApiQuery<ChunkFilters>,
) -> Result<Json<ChunkMetrics>, ApiError> {
    auth.require(Role::Admin)?;
    let filters = ChunkParams::from(filters);
    let query = ChunkQuery::parse(|name| filters.get(name)).map_err(invalid)?;
    let snapshot = snapshot(&state)?;
    Ok(Json(ChunkMetrics {
        freshness: freshness(&state, &snapshot),
        page: query.apply(&snapshot.chunks),
    }))
}

/// `/status/timescaledb`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BasicStatus {
    /// Overall status.
    pub status: HealthStatus,
    /// Extension version, if installed.
    pub timescaledb_version: Option<String>,
    /// Hypertables (from the snapshot).
    pub hypertable_count: Option<usize>,
}

/// Basic status for any signed-in user or token.
#[utoipa::path(get, path = "/api/v1/monitoring/status/timescaledb", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = BasicStatus), (status = 401)))]
pub async fn status(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<BasicStatus>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(BasicStatus {
        status: app::monitoring::health::assess(&state),
        timescaledb_version: state
            .capabilities()
            .and_then(|c| c.timescaledb_reported.clone()),
        hypertable_count: state.monitor.snapshot().map(|s| s.hypertables.len()),
    }))
}

/// `/configuration`: the effective configuration, secrets redacted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Configuration {
    /// Setting name (environment variable or per-table key) to effective value.
    pub settings: std::collections::BTreeMap<String, String>,
    /// Per hypertable: whether (and why) it is managed, its desired policy (defaults, then
    /// the file, then console edits), the live one and the drift; absent while the
    /// database cannot be read.
    #[schema(value_type = Option<Vec<Object>>)]
    pub policies: Option<Vec<tsdb::policy::plan::TablePlan>>,
}

/// The effective configuration (defaults, file, environment), passwords redacted.
#[utoipa::path(get, path = "/api/v1/monitoring/configuration", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = Configuration), (status = 401), (status = 403)))]
pub async fn configuration(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<Configuration>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    let policies = app::policies::service::overview(&state, principal)
        .await
        .ok()
        .map(|view| view.plan.tables);
    Ok(Json(Configuration {
        settings: state.configuration.iter().cloned().collect(),
        policies,
    }))
}

/// Asks the refresher for a full pass now (admins; answers at once).
#[utoipa::path(post, path = "/api/v1/monitoring/refresh", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 202), (status = 401), (status = 403)))]
pub async fn refresh(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<StatusCode, ApiError> {
    auth.require(Role::Admin)?;
    state.monitor.request_refresh();
    Ok(StatusCode::ACCEPTED)
}

/// Prometheus text exposition of the snapshot.
#[utoipa::path(get, path = "/metrics", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/plain; version=0.0.4", body = String), (status = 401)))]
pub async fn prometheus(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), ApiError> {
    if !state.auth.metrics_public {
        auth.require(Role::Viewer)?;
    }
    let started = std::time::Instant::now();
    let snapshot = state.monitor.snapshot();
    let up = !state.database_down();
    let facts = snapshot.as_ref().map(|shared| {
        state
            .monitor
            .rendered_once(shared, || super::prometheus::facts(shared))
    });
    let mut text = super::prometheus::render(
        snapshot.as_deref(),
        state.monitor.age_seconds(),
        up,
        &state.alerts.open(),
        started,
        facts.as_deref(),
    );
    super::prometheus::render_credentials(&mut text, state.credentials.counts());
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// One server-sent event of `/events`.
#[derive(Debug, utoipa::ToSchema)]
pub struct SnapshotEvent {
    /// Always `snapshot`.
    pub event: String,
    /// The snapshot's time, RFC 3339.
    pub data: String,
}

/// Server-sent events: one `snapshot` event (data: its RFC 3339 time) whenever the
/// refresher publishes, so open pages refresh without polling the database.
#[utoipa::path(get, path = "/api/v1/monitoring/events", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = SnapshotEvent,
        description = "one event per published snapshot"),
        (status = 401), (status = 403), (status = 503)))]
pub async fn events(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    auth.require(Role::Viewer)?;
    let updates = state.monitor.subscribe();
    let monitor = state.monitor.clone();
    let stream =
        futures_util::stream::unfold((updates, monitor), |(mut updates, monitor)| async move {
            tokio::select! {
                changed = updates.changed() => changed.ok()?,
                _ = monitor.closed() => return None,
            }
            let taken_at = updates
                .borrow_and_update()
                .as_ref()
                .map(|s| s.taken_at.to_rfc3339())
                .unwrap_or_default();
            Some((
                Ok(Event::default().event("snapshot").data(taken_at)),
                (updates, monitor),
            ))
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
