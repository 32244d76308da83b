//! Server functions of the jobs pages: the list and one job with its run history, and the
//! actions: run now and pause/resume (operators), reschedule and turn on execution
//! logging (admins). Each authorizes, validates, and calls [`service`], which REST shares.

pub mod config;
#[cfg(feature = "ssr")]
pub mod service;

pub use config::JobConfig;

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::jobs::{JobDetail, JobRun, JobsView};

/// How many runs a job's page lists and charts.
pub const HISTORY: i64 = 200;

/// A job id from a form or query, or a message naming the field.
#[cfg(feature = "ssr")]
pub fn job_id(raw: &str) -> Result<i32, AppError> {
    tsdb::jobs::parse_job_id(raw).map_err(AppError::Invalid)
}

/// Every job, whether a scheduler runs them, whether successes are logged, open alerts.
#[server(prefix = "/api/fn", endpoint = "jobs")]
pub async fn get_jobs() -> Result<JobsView, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    service::list(&crate::state::app_state()?, principal.role).await
}

/// One job with its runs (TimescaleDB's and the console's) and its alerts.
#[server(prefix = "/api/fn", endpoint = "job")]
pub async fn get_job(id: String) -> Result<JobDetail, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let id = job_id(&id)?;
    service::detail(&crate::state::app_state()?, principal.role, id).await
}

/// Runs a job now and waits for it (operators). A failing job is a run with
/// `succeeded = false`, not an error.
#[server(prefix = "/api/fn", endpoint = "run-job")]
pub async fn run_job(id: String) -> Result<JobRun, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id = job_id(&id)?;
    service::run(
        &crate::state::app_state()?,
        &principal.actor,
        auth.addr(),
        id,
    )
    .await
}

/// Pauses (`scheduled = false`) or resumes a job (operators).
#[server(prefix = "/api/fn", endpoint = "set-job-scheduled")]
pub async fn set_job_scheduled(id: String, scheduled: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id = job_id(&id)?;
    let scheduled = tsdb::policy::parse_bool(&scheduled)
        .map_err(|accepted| AppError::Invalid(format!("scheduled: {accepted}")))?;
    let state = crate::state::app_state()?;
    service::set_scheduled(
        &state,
        principal.role,
        &principal.actor,
        auth.addr(),
        id,
        scheduled,
    )
    .await
}

/// Changes how often a job runs (admins).
#[server(prefix = "/api/fn", endpoint = "set-job-schedule")]
pub async fn set_job_schedule(id: String, schedule_interval: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let id = job_id(&id)?;
    let interval: tsdb::interval::PolicyInterval = schedule_interval
        .parse()
        .map_err(|e| AppError::Invalid(format!("schedule interval: {e}")))?;
    let state = crate::state::app_state()?;
    service::set_schedule(
        &state,
        principal.role,
        &principal.actor,
        auth.addr(),
        id,
        interval,
    )
    .await
}

/// Turns on TimescaleDB's execution logging for the server (admins; `ALTER SYSTEM`).
#[server(prefix = "/api/fn", endpoint = "enable-job-logging")]
pub async fn enable_job_logging() -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::enable_logging(&state, &principal.actor, auth.addr()).await
}
