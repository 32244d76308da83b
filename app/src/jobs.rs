//! Server functions of the jobs pages: the list and one job with its run history (read
//! from the database, not the snapshot, so an action shows at once), and the actions:
//! run now and pause/resume (operators), reschedule and turn on execution logging
//! (admins). Each action asks the refresher for a fresh pass and the watcher for a look.

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::jobs::{JobDetail, JobRun, JobsView};

/// How many runs a job's page lists and charts.
pub const HISTORY: i64 = 200;

/// Job settings the server functions need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    /// The statement time-out of "run now".
    pub run_timeout: std::time::Duration,
    /// Where alerts are posted, redacted for display; none when nowhere.
    pub webhook: Option<String>,
}

impl Default for JobConfig {
    fn default() -> Self {
        Self {
            run_timeout: std::time::Duration::from_secs(900),
            webhook: None,
        }
    }
}

#[cfg(feature = "ssr")]
fn job_id(raw: &str) -> Result<i32, AppError> {
    tsdb::jobs::parse_job_id(raw).map_err(AppError::Invalid)
}

#[cfg(feature = "ssr")]
fn ready() -> Result<
    (
        crate::state::AppState,
        sqlx::PgPool,
        tsdb::capabilities::Capabilities,
    ),
    AppError,
> {
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let capabilities = state.capabilities().ok_or(AppError::DatabaseUnavailable)?;
    capabilities.require_timescaledb()?;
    Ok((state, pool, capabilities))
}

#[cfg(feature = "ssr")]
async fn facts(conn: &mut sqlx::PgConnection) -> Result<Vec<tsdb::facts::JobFacts>, AppError> {
    Ok(tsdb::monitoring::jobs::jobs(&mut *conn)
        .await?
        .into_iter()
        .map(|row| row.facts)
        .collect())
}

#[cfg(feature = "ssr")]
async fn logging(
    conn: &mut sqlx::PgConnection,
    capabilities: &tsdb::capabilities::Capabilities,
) -> Option<tsdb::jobs::ExecutionLogging> {
    match tsdb::jobs::logging::state(conn, capabilities).await {
        Ok(state) => Some(state),
        Err(error) => {
            tracing::warn!(%error, "cannot read the execution logging setting");
            None
        }
    }
}

/// Every job, whether a scheduler runs them, whether successes are logged, open alerts.
#[server(prefix = "/api/fn", endpoint = "jobs")]
pub async fn get_jobs() -> Result<JobsView, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let (state, pool, capabilities) = ready()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let jobs = facts(&mut conn).await?;
    let logging = logging(&mut conn, &capabilities).await;
    Ok(JobsView {
        jobs,
        job_scheduler: capabilities.has_job_scheduler(),
        logging,
        alerts: state.alerts.open(),
    })
}

/// One job with its runs (TimescaleDB's and the console's) and its alerts.
#[server(prefix = "/api/fn", endpoint = "job")]
pub async fn get_job(id: String) -> Result<JobDetail, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let id = job_id(&id)?;
    let (_, pool, capabilities) = ready()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let job = facts(&mut conn)
        .await?
        .into_iter()
        .find(|j| j.id == i64::from(id))
        .ok_or_else(|| AppError::NotFound(format!("no job with id {id}")))?;
    let runs = tsdb::jobs::history::runs(&mut conn, &capabilities, id, HISTORY).await?;
    let alerts = tsdb::alerts::store::recent(&mut *conn, Some(id), 20).await?;
    let logging = logging(&mut conn, &capabilities).await;
    Ok(JobDetail {
        job,
        runs,
        job_scheduler: capabilities.has_job_scheduler(),
        logging,
        alerts,
    })
}

#[cfg(feature = "ssr")]
fn after_action(state: &crate::state::AppState) {
    state.monitor.request_refresh();
    state.alerts.nudge_watcher();
}

/// Runs a job now and waits for it (operators). A failing job is a run with
/// `succeeded = false`, not an error.
#[server(prefix = "/api/fn", endpoint = "run-job")]
pub async fn run_job(id: String) -> Result<JobRun, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id = job_id(&id)?;
    let (state, pool, capabilities) = ready()?;
    let run = tsdb::jobs::actions::run_now(
        &pool,
        &capabilities,
        &principal.actor,
        auth.addr(),
        id,
        state.job_config.run_timeout,
    )
    .await?;
    after_action(&state);
    Ok(run)
}

/// Pauses (`scheduled = false`) or resumes a job (operators).
#[server(prefix = "/api/fn", endpoint = "set-job-scheduled")]
pub async fn set_job_scheduled(id: String, scheduled: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id = job_id(&id)?;
    let scheduled = tsdb::policy::parse_bool(&scheduled)
        .map_err(|accepted| AppError::Invalid(format!("scheduled: {accepted}")))?;
    let (state, pool, capabilities) = ready()?;
    tsdb::jobs::actions::set_scheduled(
        &pool,
        &capabilities,
        &principal.actor,
        auth.addr(),
        id,
        scheduled,
    )
    .await?;
    after_action(&state);
    Ok(())
}

/// Changes how often a job runs (admins).
#[server(prefix = "/api/fn", endpoint = "set-job-schedule")]
pub async fn set_job_schedule(id: String, schedule_interval: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let id = job_id(&id)?;
    let interval: tsdb::interval::PolicyInterval = schedule_interval
        .parse()
        .map_err(|e| AppError::Invalid(format!("schedule interval: {e}")))?;
    let (state, pool, capabilities) = ready()?;
    tsdb::jobs::actions::set_schedule(
        &pool,
        &capabilities,
        &principal.actor,
        auth.addr(),
        id,
        interval,
    )
    .await?;
    after_action(&state);
    Ok(())
}

/// Turns on TimescaleDB's execution logging for the server (admins; `ALTER SYSTEM`).
#[server(prefix = "/api/fn", endpoint = "enable-job-logging")]
pub async fn enable_job_logging() -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let (_, pool, capabilities) = ready()?;
    tsdb::jobs::logging::enable(&pool, &capabilities, &principal.actor, auth.addr()).await?;
    Ok(())
}
