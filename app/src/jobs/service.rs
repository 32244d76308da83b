//! What the jobs server functions and the REST handlers share once they have authorized
//! the caller and validated the input: read the jobs (from the database, not the
//! snapshot, so an action shows at once), act on one, and then ask the refresher for a
//! fresh pass and the watcher for a look.

use super::HISTORY;
use crate::error::AppError;
use crate::state::AppState;
use crate::visibility;
use sqlx::PgConnection;
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::facts::JobFacts;
use tsdb::jobs::{ExecutionLogging, JobDetail, JobRun, JobsView};
use tsdb::types::Role;

async fn facts(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
) -> Result<Vec<JobFacts>, AppError> {
    Ok(tsdb::monitoring::jobs::jobs(&mut *conn, capabilities)
        .await?
        .into_iter()
        .map(|row| row.facts)
        .collect())
}

/// The logging state, or none (logged) when it cannot be read: the page still shows.
async fn logging(conn: &mut PgConnection, capabilities: &Capabilities) -> Option<ExecutionLogging> {
    match tsdb::jobs::logging::state(conn, capabilities).await {
        Ok(state) => Some(state),
        Err(error) => {
            tracing::warn!(%error, "cannot read the execution logging setting");
            None
        }
    }
}

/// Every job, whether a scheduler runs them, whether successes are logged, open alerts,
/// as `role` may read them.
pub async fn list(state: &AppState, role: Role) -> Result<JobsView, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let mut console_runs: Vec<JobRun> = tsdb::jobs::history::latest_console_runs(&mut conn)
        .await?
        .into_values()
        .collect();
    console_runs.sort_by_key(|run| run.job_id);
    let mut view = JobsView {
        jobs: facts(&mut conn, &capabilities).await?,
        job_scheduler: capabilities.has_job_scheduler(),
        logging: logging(&mut conn, &capabilities).await,
        alerts: state.alerts.open(),
        console_runs,
    };
    visibility::jobs(role, &mut view.jobs);
    visibility::runs(role, &mut view.console_runs);
    visibility::alerts(role, &mut view.alerts);
    Ok(view)
}

/// One job with its runs and its alerts, as `role` may read them.
pub async fn detail(state: &AppState, role: Role, id: i32) -> Result<JobDetail, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let job = facts(&mut conn, &capabilities)
        .await?
        .into_iter()
        .find(|j| j.id == i64::from(id))
        .ok_or_else(|| AppError::NotFound(format!("no job with id {id}")))?;
    let mut detail = JobDetail {
        job,
        runs: tsdb::jobs::history::runs(&mut conn, &capabilities, id, HISTORY).await?,
        alerts: tsdb::alerts::store::recent(&mut *conn, Some(id), 20).await?,
        job_scheduler: capabilities.has_job_scheduler(),
        logging: logging(&mut conn, &capabilities).await,
    };
    visibility::job(role, &mut detail.job);
    visibility::runs(role, &mut detail.runs);
    visibility::alerts(role, &mut detail.alerts);
    Ok(detail)
}

fn after_action(state: &AppState) {
    state.monitor.request_refresh();
    state.alerts.nudge_watcher();
}

/// Runs a job now and waits for it.
pub async fn run(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i32,
) -> Result<JobRun, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let _place = state.lane(crate::lanes::Lane::RunNow)?;
    let run = tsdb::jobs::actions::run_now(
        &pool,
        &capabilities,
        actor,
        client_addr,
        id,
        state.job_config.run_timeout,
    )
    .await?;
    after_action(state);
    Ok(run)
}

/// Whether `role` may pause, resume or reschedule job `id`: nobody TimescaleDB's own
/// jobs (ids below 1000: telemetry, job-history retention), only admins the console's own
/// (its storage history's policies).
async fn may_control(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    role: Role,
    id: i32,
) -> Result<(), AppError> {
    if id < 1000 {
        return Err(AppError::Forbidden);
    }
    let own = facts(conn, capabilities).await?.into_iter().any(|j| {
        j.id == i64::from(id) && j.hypertable.as_deref() == Some(tsdb::storage::history::TABLE)
    });
    if own && !role.includes(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Pauses or resumes a job.
pub async fn set_scheduled(
    state: &AppState,
    role: Role,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i32,
    scheduled: bool,
) -> Result<(), AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    may_control(
        &mut *pool.acquire().await.map_err(tsdb::Error::from)?,
        &capabilities,
        role,
        id,
    )
    .await?;
    tsdb::jobs::actions::set_scheduled(&pool, &capabilities, actor, client_addr, id, scheduled)
        .await?;
    after_action(state);
    Ok(())
}

/// Changes a job's schedule.
pub async fn set_schedule(
    state: &AppState,
    role: Role,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i32,
    interval: tsdb::interval::PolicyInterval,
) -> Result<(), AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    may_control(
        &mut *pool.acquire().await.map_err(tsdb::Error::from)?,
        &capabilities,
        role,
        id,
    )
    .await?;
    tsdb::jobs::actions::set_schedule(&pool, &capabilities, actor, client_addr, id, interval)
        .await?;
    after_action(state);
    Ok(())
}

/// Turns on TimescaleDB's execution logging.
pub async fn enable_logging(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
) -> Result<(), AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    tsdb::jobs::logging::enable(&pool, &capabilities, actor, client_addr).await?;
    Ok(())
}
