//! What operators and admins do to a job, each audited: run it now (on a connection of its
//! own with a statement time-out, recorded in `console.job_runs` because TimescaleDB's
//! statistics leave manual runs out), pause and resume it, change its schedule.

use super::{JobRun, RunSource};
use crate::audit::{self, Actor, Entry, Outcome};
use crate::capabilities::Capabilities;
use crate::interval::PolicyInterval;
use crate::pg_time::PgTimestamp;
use crate::{Error, Result};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// The first key of the per-job advisory lock "run now" holds ("JOBS"): one console run of
/// a job at a time, across console instances.
const RUN_LOCK_NAMESPACE: i32 = 0x4a4f_4253;

/// What TimescaleDB says of a job before an action.
#[derive(sqlx::FromRow)]
struct Current {
    kind: String,
    scheduled: bool,
    schedule_interval: String,
    application_name: String,
}

async fn current(conn: &mut PgConnection, job_id: i32) -> Result<Current> {
    sqlx::query_as(
        "SELECT proc_name::text AS kind, scheduled, schedule_interval::text AS schedule_interval,
                application_name::text AS application_name
           FROM timescaledb_information.jobs WHERE job_id = $1",
    )
    .bind(job_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound(format!("no job with id {job_id}")))
}

/// Runs `job_id` now and waits for it (at most `timeout`). A job that fails is an outcome,
/// not an error: the run is returned with `succeeded = false` and its SQLSTATE. Refused
/// while the console already runs it or the scheduler is running it.
pub async fn run_now(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    job_id: i32,
    timeout: Duration,
) -> Result<JobRun> {
    capabilities.require_timescaledb()?;
    let mut conn = pool.acquire().await?;
    let job = current(&mut conn, job_id).await?;
    let busy: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = $1
                           AND state = 'active' AND pid <> pg_backend_pid())",
    )
    .bind(&job.application_name)
    .fetch_one(&mut *conn)
    .await?;
    if busy {
        return Err(Error::Conflict(format!(
            "job {job_id} is running right now (started by TimescaleDB's scheduler); wait for it to finish"
        )));
    }
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(RUN_LOCK_NAMESPACE)
        .bind(job_id)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Err(Error::Conflict(format!(
            "job {job_id} is already being run from the console; wait for that run to finish"
        )));
    }
    let outcome = run_locked(&mut conn, actor, client_addr, job_id, &job.kind, timeout).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(RUN_LOCK_NAMESPACE)
        .bind(job_id)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // A connection that cannot unlock is broken: closing it ends its session and lock.
        conn.detach();
    }
    outcome
}

async fn run_locked(
    conn: &mut PgConnection,
    actor: &Actor,
    client_addr: Option<&str>,
    job_id: i32,
    kind: &str,
    timeout: Duration,
) -> Result<JobRun> {
    // Recorded before it runs (and committed), so a run that never comes back still shows.
    let (run_id, started_at): (i64, PgTimestamp) = sqlx::query_as(
        "INSERT INTO console.job_runs (job_id, actor_name) VALUES ($1, $2)
         RETURNING id, started_at",
    )
    .bind(job_id)
    .bind(actor.name())
    .fetch_one(&mut *conn)
    .await?;
    let millis = timeout.as_millis().clamp(1, i32::MAX as u128).to_string();
    sqlx::query("SELECT set_config('statement_timeout', $1, false)")
        .bind(&millis)
        .execute(&mut *conn)
        .await?;
    let result = sqlx::query("CALL run_job($1)")
        .bind(job_id)
        .execute(&mut *conn)
        .await;
    sqlx::query("RESET statement_timeout")
        .execute(&mut *conn)
        .await?;
    let (succeeded, sqlstate, message) = match result {
        Ok(_) => (true, None, None),
        Err(sqlx::Error::Database(error)) => {
            use crate::error::sqlstate::{DEADLOCK_DETECTED, QUERY_CANCELED};
            let message = match error.code().as_deref() {
                Some(QUERY_CANCELED) => format!(
                    "stopped after the run time-out of {} s (MS5_JOB_RUN_TIMEOUT_SECONDS): {}",
                    timeout.as_secs(),
                    error.message()
                ),
                // The busy check above leaves the moment between it and CALL: a scheduler
                // run started in it works on the same chunks, and PostgreSQL breaks the tie.
                Some(DEADLOCK_DETECTED) => format!(
                    "{}: TimescaleDB's scheduler most likely started this job at the same \
                     moment; check the job's last run and run it again if it is still needed",
                    error.message()
                ),
                _ => error.message().to_string(),
            };
            (false, error.code().map(|c| c.to_string()), Some(message))
        }
        Err(other) => return Err(other.into()),
    };
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let finished_at: PgTimestamp = sqlx::query_scalar(
        "UPDATE console.job_runs
            SET finished_at = clock_timestamp(), succeeded = $2, sqlstate = $3, message = $4
          WHERE id = $1 RETURNING finished_at",
    )
    .bind(run_id)
    .bind(succeeded)
    .bind(&sqlstate)
    .bind(&message)
    .fetch_one(&mut *tx)
    .await?;
    let run = JobRun {
        job_id: i64::from(job_id),
        source: RunSource::Console,
        started_at: started_at
            .finite()
            .ok_or_else(|| Error::Unexpected("a run started at an infinite time".into()))?,
        finished_at: finished_at.finite(),
        succeeded: Some(succeeded),
        sqlstate,
        message,
        started_by: Some(actor.name().to_string()),
    };
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action: "job.run",
            object_type: Some("job"),
            object_id: Some(&job_id.to_string()),
            before: None,
            after: Some(json!({
                "kind": kind,
                "succeeded": succeeded,
                "duration_seconds": run.duration_seconds(),
                "sqlstate": run.sqlstate,
            })),
            outcome: if succeeded {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            detail: run.message.as_deref(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(run)
}

/// A change to a job's definition.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Pause (`false`) or resume (`true`).
    Scheduled(bool),
    /// Run at this interval.
    Schedule(PolicyInterval),
}

/// Pauses (`scheduled = false`) or resumes a job.
pub async fn set_scheduled(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    job_id: i32,
    scheduled: bool,
) -> Result<()> {
    alter(
        pool,
        capabilities,
        actor,
        client_addr,
        job_id,
        Change::Scheduled(scheduled),
    )
    .await
}

/// Changes how often a job runs.
pub async fn set_schedule(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    job_id: i32,
    interval: PolicyInterval,
) -> Result<()> {
    alter(
        pool,
        capabilities,
        actor,
        client_addr,
        job_id,
        Change::Schedule(interval),
    )
    .await
}

/// Applies `change` with `alter_job` and audits it with before and after, in one
/// transaction.
async fn alter(
    pool: &PgPool,
    capabilities: &Capabilities,
    actor: &Actor,
    client_addr: Option<&str>,
    job_id: i32,
    change: Change,
) -> Result<()> {
    capabilities.require_timescaledb()?;
    let mut tx = pool.begin().await?;
    let job = current(&mut tx, job_id).await?;
    let (action, before, after) = match change {
        Change::Scheduled(scheduled) => {
            sqlx::query("SELECT alter_job($1, scheduled => $2)")
                .bind(job_id)
                .bind(scheduled)
                .execute(&mut *tx)
                .await?;
            (
                if scheduled { "job.resume" } else { "job.pause" },
                json!({"kind": job.kind, "scheduled": job.scheduled}),
                json!({"kind": job.kind, "scheduled": scheduled}),
            )
        }
        Change::Schedule(interval) => {
            let now: String = sqlx::query_scalar(
                "SELECT (alter_job($1, schedule_interval => $2::interval)).schedule_interval::text",
            )
            .bind(job_id)
            .bind(interval.to_string())
            .fetch_one(&mut *tx)
            .await?;
            (
                "job.schedule",
                json!({"kind": job.kind, "schedule_interval": job.schedule_interval}),
                json!({"kind": job.kind, "schedule_interval": now}),
            )
        }
    };
    audit::record(
        &mut *tx,
        &Entry {
            actor,
            client_addr,
            action,
            object_type: Some("job"),
            object_id: Some(&job_id.to_string()),
            before: Some(before),
            after: Some(after),
            outcome: Outcome::Success,
            detail: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
