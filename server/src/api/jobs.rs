//! Jobs over REST (API tokens work): every job with its run counts and latest error, one
//! job's run history, and run now / pause / resume for operators. The same service the
//! jobs pages use. A job is addressed in the path (`/api/v1/jobs/{id}/run`); the first
//! forms with `?job_id=` stay as aliases for the scripts that call them.

use super::error::ApiError;
use super::params::{ApiPath, ApiQuery, JobPath, JobQuery};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use tsdb::alerts::Alert;
use tsdb::facts::JobFacts;
use tsdb::jobs::{ExecutionLogging, JobRun};
use tsdb::types::Role;
use utoipa_axum::routes;

/// Viewers read; operators act.
pub fn routes() -> Routes {
    let viewer = Access::Role(Role::Viewer);
    let operator = Access::Role(Role::Operator);
    Routes::new()
        .route(viewer, routes!(jobs))
        .route(viewer, routes!(job))
        .route(operator, routes!(run_job))
        .route(operator, routes!(pause_job))
        .route(operator, routes!(resume_job))
        .route(viewer, routes!(runs))
        .route(operator, routes!(run))
        .route(operator, routes!(pause))
        .route(operator, routes!(resume))
}

/// Every job and what the console knows of the scheduler.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobsDocument {
    /// Every job with its schedule, last run, counts and latest error.
    pub jobs: Vec<JobFacts>,
    /// Whether a scheduler runs jobs on their schedules (none on the embedded database).
    pub job_scheduler: bool,
    /// Whether TimescaleDB records successful runs; null when it could not be read.
    pub execution_logging: Option<ExecutionLogging>,
    /// Open alerts.
    pub open_alerts: Vec<Alert>,
}

/// Every background job.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs",
    security(("bearer" = [])),
    responses((status = 200, body = JobsDocument), (status = 401), (status = 403), (status = 503)))]
pub async fn jobs(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<JobsDocument>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    let view = app::jobs::service::list(&state, principal.role).await?;
    Ok(Json(JobsDocument {
        jobs: view.jobs,
        job_scheduler: view.job_scheduler,
        execution_logging: view.logging,
        open_alerts: view.alerts,
    }))
}

/// One job and its runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunsDocument {
    /// The job.
    pub job: JobFacts,
    /// Its runs, newest first (at most 200): TimescaleDB's records (`source: scheduler`)
    /// and the console's (`source: console`).
    pub runs: Vec<JobRun>,
    /// Its alerts, newest first.
    pub alerts: Vec<Alert>,
    /// Whether TimescaleDB records successful runs (when off, only failures are listed).
    pub execution_logging: Option<ExecutionLogging>,
}

/// One job: its facts, its runs and its alerts.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    security(("bearer" = [])),
    params(JobPath),
    responses((status = 200, body = RunsDocument), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn job(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiPath(path): ApiPath<JobPath>,
) -> Result<Json<RunsDocument>, ApiError> {
    detail(&state, &auth, path.id()).await
}

/// The same as `GET /api/v1/jobs/{id}`, the job given as `?job_id=` (the first form).
#[utoipa::path(get, path = "/api/v1/jobs/runs", tag = "jobs",
    security(("bearer" = [])),
    params(JobQuery),
    responses((status = 200, body = RunsDocument), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn runs(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<RunsDocument>, ApiError> {
    detail(&state, &auth, query.id()).await
}

async fn detail(
    state: &AppState,
    auth: &RequestAuth,
    id: Result<i32, ApiError>,
) -> Result<Json<RunsDocument>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    let detail = app::jobs::service::detail(state, principal.role, id?).await?;
    Ok(Json(RunsDocument {
        job: detail.job,
        runs: detail.runs,
        alerts: detail.alerts,
        execution_logging: detail.logging,
    }))
}

/// Runs a job now and answers when it ends: 200 with `succeeded: false` and the error
/// when the job fails; 409 while it already runs.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/run", tag = "jobs",
    security(("bearer" = [])),
    params(JobPath),
    responses((status = 200, body = JobRun), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn run_job(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiPath(path): ApiPath<JobPath>,
) -> Result<Json<JobRun>, ApiError> {
    run_now(&state, &auth, path.id()).await
}

/// The same as `POST /api/v1/jobs/{id}/run`, the job given as `?job_id=`.
#[utoipa::path(post, path = "/api/v1/jobs/run", tag = "jobs",
    security(("bearer" = [])),
    params(JobQuery),
    responses((status = 200, body = JobRun), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn run(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<JobRun>, ApiError> {
    run_now(&state, &auth, query.id()).await
}

async fn run_now(
    state: &AppState,
    auth: &RequestAuth,
    id: Result<i32, ApiError>,
) -> Result<Json<JobRun>, ApiError> {
    let principal = auth.require(Role::Operator)?;
    Ok(Json(
        app::jobs::service::run(state, &principal.actor, auth.addr(), id?).await?,
    ))
}

/// Pauses a job (`scheduled = false`).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/pause", tag = "jobs",
    security(("bearer" = [])),
    params(JobPath),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn pause_job(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiPath(path): ApiPath<JobPath>,
) -> Result<StatusCode, ApiError> {
    set_scheduled(&state, &auth, path.id(), false).await
}

/// Resumes a paused job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/resume", tag = "jobs",
    security(("bearer" = [])),
    params(JobPath),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn resume_job(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiPath(path): ApiPath<JobPath>,
) -> Result<StatusCode, ApiError> {
    set_scheduled(&state, &auth, path.id(), true).await
}

/// The same as `POST /api/v1/jobs/{id}/pause`, the job given as `?job_id=`.
#[utoipa::path(post, path = "/api/v1/jobs/pause", tag = "jobs",
    security(("bearer" = [])),
    params(JobQuery),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn pause(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<StatusCode, ApiError> {
    set_scheduled(&state, &auth, query.id(), false).await
}

/// The same as `POST /api/v1/jobs/{id}/resume`, the job given as `?job_id=`.
#[utoipa::path(post, path = "/api/v1/jobs/resume", tag = "jobs",
    security(("bearer" = [])),
    params(JobQuery),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<StatusCode, ApiError> {
    set_scheduled(&state, &auth, query.id(), true).await
}

async fn set_scheduled(
    state: &AppState,
    auth: &RequestAuth,
    id: Result<i32, ApiError>,
    scheduled: bool,
) -> Result<StatusCode, ApiError> {
    let principal = auth.require(Role::Operator)?;
    app::jobs::service::set_scheduled(
        state,
        principal.role,
        &principal.actor,
        auth.addr(),
        id?,
        scheduled,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
