//! A job's runs: TimescaleDB's records (`job_history` from 2.15, which lists successful
//! runs only while execution logging is on; `job_errors` before) merged with the runs the
//! console started, newest first.

use super::{JobRun, RunSource};
use crate::capabilities::Capabilities;
use crate::pg_time::PgTimestamp;
use crate::Result;
use sqlx::PgConnection;
use std::collections::HashMap;

/// One row of either record, by name.
#[derive(sqlx::FromRow)]
struct Row {
    job_id: i32,
    started_at: PgTimestamp,
    finished_at: Option<PgTimestamp>,
    succeeded: Option<bool>,
    sqlstate: Option<String>,
    message: Option<String>,
    started_by: Option<String>,
}

impl Row {
    fn into_run(self, source: RunSource) -> Option<JobRun> {
        Some(JobRun {
            job_id: i64::from(self.job_id),
            source,
            started_at: self.started_at.finite()?,
            finished_at: PgTimestamp::finite_or_none(self.finished_at),
            succeeded: self.succeeded,
            sqlstate: self.sqlstate,
            message: self.message.as_deref().map(crate::secrets::mask),
            started_by: self.started_by,
        })
    }
}

/// The `limit` newest runs of `job_id` from both records.
pub async fn runs(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    job_id: i32,
    limit: i64,
) -> Result<Vec<JobRun>> {
    let engine_sql = if capabilities.has_job_history() {
        "SELECT job_id, start_time AS started_at, finish_time AS finished_at, succeeded,
                sqlerrcode AS sqlstate, err_message AS message, NULL::text AS started_by
           FROM timescaledb_information.job_history
          WHERE job_id = $1 ORDER BY start_time DESC LIMIT $2"
    } else {
        "SELECT job_id, start_time AS started_at, finish_time AS finished_at, false AS succeeded,
                sqlerrcode AS sqlstate, err_message AS message, NULL::text AS started_by
           FROM timescaledb_information.job_errors
          WHERE job_id = $1 ORDER BY start_time DESC LIMIT $2"
    };
    let engine: Vec<Row> = sqlx::query_as(engine_sql)
        .bind(job_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let console: Vec<Row> = sqlx::query_as(
        "SELECT job_id, started_at, finished_at, succeeded, sqlstate, message,
                actor_name AS started_by
           FROM console.job_runs
          WHERE job_id = $1 ORDER BY started_at DESC LIMIT $2",
    )
    .bind(job_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(merge(
        engine
            .into_iter()
            .filter_map(|r| r.into_run(RunSource::Scheduler)),
        console
            .into_iter()
            .filter_map(|r| r.into_run(RunSource::Console)),
        limit,
    ))
}

/// Both lists in one, newest first, at most `limit`.
fn merge(
    engine: impl Iterator<Item = JobRun>,
    console: impl Iterator<Item = JobRun>,
    limit: i64,
) -> Vec<JobRun> {
    let mut runs: Vec<JobRun> = engine.chain(console).collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.started_at));
    runs.truncate(usize::try_from(limit).unwrap_or(0));
    runs
}

/// The latest finished console run of every job (the watcher weighs them against the
/// scheduler's statistics).
pub async fn latest_console_runs(conn: &mut PgConnection) -> Result<HashMap<i64, JobRun>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT DISTINCT ON (job_id) job_id, started_at, finished_at, succeeded, sqlstate,
                message, actor_name AS started_by
           FROM console.job_runs
          WHERE finished_at IS NOT NULL
          ORDER BY job_id, finished_at DESC",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_run(RunSource::Console))
        .map(|run| (run.job_id, run))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn run(source: RunSource, minute: u32) -> JobRun {
        JobRun {
            job_id: 1,
            source,
            started_at: Utc.with_ymd_and_hms(2026, 11, 26, 12, minute, 0).unwrap(),
            finished_at: None,
            succeeded: Some(true),
            sqlstate: None,
            message: None,
            started_by: None,
        }
    }

    #[test]
    fn merged_runs_are_newest_first_and_limited() {
        let merged = merge(
            [run(RunSource::Scheduler, 1), run(RunSource::Scheduler, 5)].into_iter(),
            [run(RunSource::Console, 3), run(RunSource::Console, 7)].into_iter(),
            3,
        );
        let order: Vec<_> = merged
            .iter()
            .map(|r| (r.source, r.started_at.format("%M").to_string()))
            .collect();
        assert_eq!(
            order,
            [
                (RunSource::Console, "07".to_string()),
                (RunSource::Scheduler, "05".to_string()),
                (RunSource::Console, "03".to_string())
            ]
        );
    }
}
