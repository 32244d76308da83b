//! Background jobs with their statistics and last error.
//!
//! Job definitions come from the public `timescaledb_information.jobs` view: the table
//! behind it moved from `_timescaledb_config` to `_timescaledb_catalog` in 2.25. The
//! statistics table is joined by hand so that jobs that never ran appear on every
//! version; errors come from `timescaledb_information.job_errors` (2.13 on).

use crate::facts::{ChunksLeftBehind, JobFacts};
use crate::pg_time::PgTimestamp;
use crate::Result;
use sqlx::PgExecutor;

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

/// One row of the jobs query, by name.
#[derive(sqlx::FromRow)]
struct Row {
    id: i32,
    kind: String,
    hypertable_id: Option<i32>,
    hypertable_schema: Option<String>,
    hypertable_name: Option<String>,
    schedule_interval: String,
    schedule_seconds: f64,
    scheduled: bool,
    config: Option<String>,
    next_start: Option<PgTimestamp>,
    running: bool,
    last_run_status: Option<String>,
    last_run_started_at: Option<PgTimestamp>,
    last_run_duration_seconds: Option<f64>,
    last_successful_finish: Option<PgTimestamp>,
    total_runs: Option<i64>,
    total_failures: Option<i64>,
    consecutive_failures: Option<i64>,
    last_error: Option<String>,
    last_error_code: Option<String>,
    compress_after_micros: Option<i64>,
    left_behind_count: Option<i64>,
    left_behind_schemas: Option<Vec<String>>,
    left_behind_names: Option<Vec<String>>,
}

/// A jobs query from `base` (one row per job, `e` the job's newest error, the column
/// `{compress_after_micros}` in its list), with the chunks each successful compression
/// job left behind.
///
/// Only what a run was certain to compress counts: a chunk created before the run started
/// whose range ended compress-after before that start (the policy's own cut-off is a
/// little later). Runs limited by `maxchunks_to_compress`, integer-time tables and
/// `compress_created_before` policies are left out: their cut-off is not known here.
/// The public `chunks` view serves both catalog shapes.
fn jobs_sql(base: &str) -> String {
    let base = base.replace(
        "{compress_after_micros}",
        "CASE WHEN j.proc_name = 'policy_compression'
                      AND jsonb_typeof(j.config -> 'compress_after') = 'string'
                     THEN (extract(epoch FROM (j.config ->> 'compress_after')::interval) * 1000000)::bigint
                END AS compress_after_micros",
    );
    format!(
        "WITH last_error AS (
             SELECT DISTINCT ON (job_id) job_id, err_message, sqlerrcode
               FROM timescaledb_information.job_errors
              ORDER BY job_id, start_time DESC NULLS LAST),
         base AS ({base})
         SELECT b.*, lb.left_behind_count, lb.left_behind_schemas, lb.left_behind_names
           FROM base b
           LEFT JOIN LATERAL (
                SELECT count(*)::bigint AS left_behind_count,
                       (array_agg(c.chunk_schema::text ORDER BY c.range_end, c.chunk_name))[1:20]
                           AS left_behind_schemas,
                       (array_agg(c.chunk_name::text ORDER BY c.range_end, c.chunk_name))[1:20]
                           AS left_behind_names
                  FROM timescaledb_information.chunks c
                 WHERE b.kind = 'policy_compression'
                   AND b.last_run_status = 'Success' AND NOT b.running
                   AND b.compress_after_micros IS NOT NULL
                   AND COALESCE(b.config::jsonb ->> 'maxchunks_to_compress', '0') = '0'
                   AND (c.hypertable_schema, c.hypertable_name) IN (
                        SELECT b.hypertable_schema, b.hypertable_name
                         UNION ALL
                        SELECT a.materialization_hypertable_schema, a.materialization_hypertable_name
                          FROM timescaledb_information.continuous_aggregates a
                         WHERE a.view_schema = b.hypertable_schema
                           AND a.view_name = b.hypertable_name)
                   AND NOT c.is_compressed
                   AND c.chunk_creation_time < b.last_run_started_at
                   AND c.range_end <= b.last_run_started_at
                                      - (b.config::jsonb ->> 'compress_after')::interval
                HAVING count(*) > 0) lb ON true
          ORDER BY b.id"
    )
}

/// Every job, read as `capabilities` allow: the internal statistics where the catalog
/// contract holds, the public views only where it does not.
pub async fn jobs(
    executor: impl PgExecutor<'_>,
    capabilities: &crate::capabilities::Capabilities,
) -> Result<Vec<JobRow>> {
    match capabilities.catalog_shape() {
        Some(_) => jobs_internal(executor).await,
        None => jobs_public(executor).await,
    }
}

/// Every job, with the internal statistics (consecutive failures included).
pub(super) async fn jobs_internal(executor: impl PgExecutor<'_>) -> Result<Vec<JobRow>> {
    // For continuous aggregates the view names the aggregate's view; the engine keys
    // jobs by the materialization hypertable, as the catalog's own job rows do.
    // A job is running while a backend carries its application name (as the job_stats
    // view decides); `next_start` then reads -infinity. From the start of a run to its end
    // the engine keeps `last_finish` at -infinity and `last_run_success` false, so the
    // status is that of the last finished run, read from `consecutive_failures` (reset by
    // a success, counted by a failure, untouched by a start): reading "no status" there
    // cleared a failing job's alert at each retry and raised it again when it failed.
    // bgw_job_stat is read directly (no view has these columns); TimescaleDB's update
    // scripts leave its columns unchanged from 2.9 through 2.28.3 (only the separate
    // bgw_job_stat_history changed), so no version gate; run on devdb 2.23 and 2.28.3.
    let rows: Vec<Row> = sqlx::query_as(&jobs_sql(
        "SELECT j.job_id AS id, j.proc_name::text AS kind,
                COALESCE(ca.mat_hypertable_id, h.id) AS hypertable_id,
                COALESCE(ca.user_view_schema, j.hypertable_schema)::text AS hypertable_schema,
                COALESCE(ca.user_view_name, j.hypertable_name)::text AS hypertable_name,
                j.schedule_interval::text AS schedule_interval,
                extract(epoch FROM j.schedule_interval)::float8 AS schedule_seconds, j.scheduled,
                j.config::text AS config,
                CASE WHEN j.scheduled THEN s.next_start END AS next_start,
                EXISTS (SELECT 1 FROM pg_stat_activity a
                         WHERE a.datname = current_database()
                           AND a.application_name = j.application_name
                           AND a.state = 'active') AS running,
                CASE WHEN s.last_finish IS NULL THEN NULL
                     WHEN s.last_finish = '-infinity' THEN
                          CASE WHEN s.total_runs <= 1 THEN NULL
                               WHEN s.consecutive_failures > 0 THEN 'Failed' ELSE 'Success' END
                     WHEN s.last_run_success THEN 'Success' ELSE 'Failed' END AS last_run_status,
                s.last_start AS last_run_started_at,
                CASE WHEN s.last_finish > s.last_start AND s.last_finish < 'infinity'
                     THEN extract(epoch FROM s.last_finish - s.last_start)::float8 END
                    AS last_run_duration_seconds,
                s.last_successful_finish,
                s.total_runs, s.total_failures, s.consecutive_failures::bigint AS consecutive_failures,
                e.err_message AS last_error, e.sqlerrcode AS last_error_code,
                {compress_after_micros}
           FROM timescaledb_information.jobs j
           LEFT JOIN _timescaledb_internal.bgw_job_stat s ON s.job_id = j.job_id
           LEFT JOIN _timescaledb_catalog.hypertable h
                  ON h.schema_name = j.hypertable_schema AND h.table_name = j.hypertable_name
           -- Before 2.20 a job on an aggregate names its materialized hypertable: both
           -- are mapped back to the view.
           LEFT JOIN _timescaledb_catalog.continuous_agg ca
                  ON (ca.user_view_schema = j.hypertable_schema AND ca.user_view_name = j.hypertable_name)
                  OR ca.mat_hypertable_id = h.id
           LEFT JOIN last_error e ON e.job_id = j.job_id",
    ))
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(JobRow::from).collect())
}

/// Every job, through TimescaleDB's public views only (where the internal catalog is not
/// read): `job_stats` instead of the statistics table; the consecutive failures are not
/// known there, and a job on a continuous aggregate is mapped to its view by name. Its
/// `hypertable_id` is left for the caller to fill.
pub(super) async fn jobs_public(executor: impl PgExecutor<'_>) -> Result<Vec<JobRow>> {
    let rows: Vec<Row> = sqlx::query_as(&jobs_sql(
        "SELECT j.job_id AS id, j.proc_name::text AS kind, NULL::int AS hypertable_id,
                COALESCE(ca.view_schema, j.hypertable_schema)::text AS hypertable_schema,
                COALESCE(ca.view_name, j.hypertable_name)::text AS hypertable_name,
                j.schedule_interval::text AS schedule_interval,
                extract(epoch FROM j.schedule_interval)::float8 AS schedule_seconds, j.scheduled,
                j.config::text AS config,
                s.next_start, COALESCE(s.job_status = 'Running', false) AS running,
                s.last_run_status::text AS last_run_status,
                s.last_run_started_at,
                extract(epoch FROM s.last_run_duration)::float8 AS last_run_duration_seconds,
                s.last_successful_finish,
                s.total_runs, s.total_failures, NULL::bigint AS consecutive_failures,
                e.err_message AS last_error, e.sqlerrcode AS last_error_code,
                {compress_after_micros}
           FROM timescaledb_information.jobs j
           LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
           LEFT JOIN timescaledb_information.continuous_aggregates ca
                  ON ca.materialization_hypertable_schema = j.hypertable_schema
                 AND ca.materialization_hypertable_name = j.hypertable_name
           LEFT JOIN last_error e ON e.job_id = j.job_id",
    ))
    .fetch_all(executor)
    .await?;
    Ok(rows.into_iter().map(JobRow::from).collect())
}

impl From<Row> for JobRow {
    fn from(row: Row) -> Self {
        let compress_after = row.compress_after_micros.and_then(|micros| {
            let text = row
                .config
                .as_deref()
                .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
                .and_then(|v| v.get("compress_after")?.as_str().map(str::to_string))?;
            Some((text, micros))
        });
        JobRow {
            hypertable_id: row.hypertable_id,
            compress_after,
            facts: JobFacts {
                id: i64::from(row.id),
                kind: row.kind,
                hypertable: row
                    .hypertable_schema
                    .as_deref()
                    .zip(row.hypertable_name.as_deref())
                    .map(|(schema, name)| crate::ident::display_name(schema, name)),
                schedule_interval: row.schedule_interval,
                schedule_seconds: row.schedule_seconds,
                scheduled: row.scheduled,
                next_start: PgTimestamp::finite_or_none(row.next_start),
                running: row.running,
                last_run_status: row
                    .last_run_status
                    .as_deref()
                    .and_then(crate::facts::RunStatus::from_catalog),
                last_run_started_at: PgTimestamp::finite_or_none(row.last_run_started_at),
                last_run_duration_seconds: row.last_run_duration_seconds,
                last_successful_finish: PgTimestamp::finite_or_none(row.last_successful_finish),
                total_runs: row.total_runs.unwrap_or(0),
                total_failures: row.total_failures.unwrap_or(0),
                consecutive_failures: row.consecutive_failures,
                known_cause: row
                    .last_error
                    .as_deref()
                    .and_then(super::known_failures::explain)
                    .map(str::to_string),
                last_error: row.last_error.as_deref().map(crate::secrets::mask),
                last_error_code: row.last_error_code,
                config: row.config.as_deref().map(crate::secrets::mask_config),
                left_behind: row.left_behind_count.map(|count| ChunksLeftBehind {
                    count,
                    chunks: row
                        .left_behind_schemas
                        .unwrap_or_default()
                        .iter()
                        .zip(row.left_behind_names.unwrap_or_default().iter())
                        .map(|(schema, name)| crate::ident::display_name(schema, name))
                        .collect(),
                }),
            },
        }
    }
}
