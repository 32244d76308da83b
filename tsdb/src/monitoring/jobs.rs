//! Background jobs with their statistics and last error.

use crate::facts::JobFacts;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A job and what the engine needs beyond its facts.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// The facts shown.
    pub facts: JobFacts,
    /// The hypertable it works on (the materialization for continuous aggregates).
    pub hypertable_id: Option<i32>,
    /// A compression policy's `compress_after`: its text and length in microseconds.
    pub compress_after: Option<(String, i64)>,
}

type JobTuple = (
    i32,
    String,
    Option<i32>,
    Option<String>,
    String,
    bool,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<f64>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

/// Every job. Statistics come from the catalog joined by hand so jobs that never ran
/// appear on every version; errors from `timescaledb_information.job_errors`, which
/// exists (with the same columns) from 2.13 on.
pub async fn jobs(pool: &PgPool) -> Result<Vec<JobRow>> {
    let rows: Vec<JobTuple> = sqlx::query_as(
        "WITH last_error AS (
             SELECT DISTINCT ON (job_id) job_id, err_message
               FROM timescaledb_information.job_errors
              ORDER BY job_id, start_time DESC NULLS LAST)
         SELECT j.id, j.proc_name::text, j.hypertable_id,
                CASE WHEN ca.mat_hypertable_id IS NOT NULL
                     THEN format('%s.%s', ca.user_view_schema, ca.user_view_name)
                     WHEN h.id IS NOT NULL THEN format('%s.%s', h.schema_name, h.table_name) END,
                j.schedule_interval::text, j.scheduled, j.config::text,
                CASE WHEN j.scheduled THEN s.next_start END,
                CASE WHEN s.last_finish IS NULL OR s.last_finish = '-infinity' THEN NULL
                     WHEN s.last_run_success THEN 'Success' ELSE 'Failed' END,
                CASE WHEN s.last_start > '-infinity' THEN s.last_start END,
                CASE WHEN s.last_finish > s.last_start
                     THEN extract(epoch FROM s.last_finish - s.last_start)::float8 END,
                CASE WHEN s.last_successful_finish > '-infinity' THEN s.last_successful_finish END,
                s.total_runs, s.total_failures,
                e.err_message,
                CASE WHEN j.proc_name = 'policy_compression'
                      AND jsonb_typeof(j.config -> 'compress_after') = 'string'
                     THEN (extract(epoch FROM (j.config ->> 'compress_after')::interval) * 1000000)::bigint END
           FROM _timescaledb_config.bgw_job j
           LEFT JOIN _timescaledb_internal.bgw_job_stat s ON s.job_id = j.id
           LEFT JOIN _timescaledb_catalog.hypertable h ON h.id = j.hypertable_id
           LEFT JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = j.hypertable_id
           LEFT JOIN last_error e ON e.job_id = j.id
          ORDER BY j.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                kind,
                hypertable_id,
                hypertable,
                schedule_interval,
                scheduled,
                config,
                next_start,
                last_run_status,
                last_run_started_at,
                last_run_duration_seconds,
                last_successful_finish,
                total_runs,
                total_failures,
                last_error,
                compress_after_micros,
            )| {
                let compress_after = compress_after_micros.and_then(|micros| {
                    let text = config
                        .as_deref()
                        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
                        .and_then(|v| v.get("compress_after")?.as_str().map(str::to_string))?;
                    Some((text, micros))
                });
                JobRow {
                    hypertable_id,
                    compress_after,
                    facts: JobFacts {
                        id: i64::from(id),
                        kind,
                        hypertable,
                        schedule_interval,
                        scheduled,
                        next_start,
                        last_run_status,
                        last_run_started_at,
                        last_run_duration_seconds,
                        last_successful_finish,
                        total_runs: total_runs.unwrap_or(0),
                        total_failures: total_failures.unwrap_or(0),
                        last_error,
                        config,
                    },
                }
            },
        )
        .collect())
}
