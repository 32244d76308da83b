//! Jobs over REST (API tokens work): every job with its run counts and latest error, one
//! job's run history, and run now / pause / resume for operators. The same service the
//! jobs pages use.

use super::error::ApiError;
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Serialize;
use std::collections::HashMap;
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

/// The required `job_id` query parameter.
fn job_id(params: &HashMap<String, String>) -> Result<i32, ApiError> {
    let raw = params.get("job_id").ok_or_else(|| {
        ApiError::from(app::error::AppError::Invalid(
            "job_id: required, a positive whole number".into(),
        ))
    })?;
    Ok(app::jobs::job_id(raw)?)
}

/// A job's run history.
#[utoipa::path(get, path = "/api/v1/jobs/runs", tag = "jobs",
    security(("bearer" = [])),
    params(("job_id" = i32, Query, minimum = 1, description = "the job's id")),
    responses((status = 200, body = RunsDocument), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn runs(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<RunsDocument>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    let id = job_id(&params)?;
    let detail = app::jobs::service::detail(&state, principal.role, id).await?;
    Ok(Json(RunsDocument {
        job: detail.job,
        runs: detail.runs,
        alerts: detail.alerts,
        execution_logging: detail.logging,
    }))
}

/// Runs a job now and answers when it ends: 200 with `succeeded: false` and the error
/// when the job fails; 409 while it already runs.
#[utoipa::path(post, path = "/api/v1/jobs/run", tag = "jobs",
    security(("bearer" = [])),
    params(("job_id" = i32, Query, minimum = 1, description = "the job's id")),
    responses((status = 200, body = JobRun), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn run(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<JobRun>, ApiError> {
    let principal = auth.require(Role::Operator)?;
    let id = job_id(&params)?;
    Ok(Json(
        app::jobs::service::run(&state, &principal.actor, auth.addr(), id).await?,
    ))
}

/// Pauses a job (`scheduled = false`).
#[utoipa::path(post, path = "/api/v1/jobs/pause", tag = "jobs",
    security(("bearer" = [])),
    params(("job_id" = i32, Query, minimum = 1, description = "the job's id")),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn pause(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::http::StatusCode, ApiError> {
    set_scheduled(state, auth, params, false).await
}

/// Resumes a paused job.
#[utoipa::path(post, path = "/api/v1/jobs/resume", tag = "jobs",
    security(("bearer" = [])),
    params(("job_id" = i32, Query, minimum = 1, description = "the job's id")),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::http::StatusCode, ApiError> {
    set_scheduled(state, auth, params, true).await
}

async fn set_scheduled(
    state: AppState,
    auth: RequestAuth,
    params: HashMap<String, String>,
    scheduled: bool,
) -> Result<axum::http::StatusCode, ApiError> {
    let principal = auth.require(Role::Operator)?;
    let id = job_id(&params)?;
    app::jobs::service::set_scheduled(
        &state,
        principal.role,
        &principal.actor,
        auth.addr(),
        id,
        scheduled,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
