//! The few facts the diagnostic rules need beyond the snapshot: memory settings, the
//! version the server would update to, recent job failures, rows per compressed batch,
//! and continuous aggregates' refresh windows. Each query is short; a fact that cannot be
//! read is left out (and logged), so one failing probe does not hide the other findings.

use super::rules::{Batches, Facts, JobFailures, Memory, RefreshWindow};
use crate::capabilities::Capabilities;
use crate::ident::{display_name, quote_ident};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// How many of a hypertable's most recently compressed chunks are read for batch sizes.
const BATCH_CHUNKS: i64 = 3;

/// Reads every fact; `growth_per_day` comes from the storage history, by the caller.
pub async fn facts(conn: &mut PgConnection, capabilities: &Capabilities) -> Result<Facts> {
    Ok(Facts {
        scheduler: capabilities.has_job_scheduler(),
        memory: memory(conn).await?,
        available_version: sqlx::query_scalar(
            "SELECT default_version::text FROM pg_available_extensions WHERE name = 'timescaledb'",
        )
        .fetch_optional(&mut *conn)
        .await?
        .flatten(),
        failures: failures(conn, capabilities).await?,
        batches: batches(conn, capabilities, None).await?,
        refresh_windows: refresh_windows(conn).await?,
        catalog_fallback: capabilities.catalog.fallback_reason().map(str::to_string),
        growth_per_day: Default::default(),
    })
}

async fn memory(conn: &mut PgConnection) -> Result<Memory> {
    let (shared_buffers, effective_cache_size): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT pg_size_bytes(current_setting('shared_buffers')),
                pg_size_bytes(current_setting('effective_cache_size'))",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Memory {
        shared_buffers,
        effective_cache_size,
    })
}

#[derive(sqlx::FromRow)]
struct FailureRow {
    job_id: i32,
    failures: i64,
    last_at: Option<DateTime<Utc>>,
    last_message: Option<String>,
}

/// Failed runs per job in the last 7 days: TimescaleDB's records and the console's own.
async fn failures(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
) -> Result<Vec<JobFailures>> {
    let engine = if capabilities.has_job_history() {
        "SELECT job_id, start_time, err_message FROM timescaledb_information.job_history
          WHERE NOT succeeded AND start_time > now() - interval '7 days'"
    } else {
        "SELECT job_id, start_time, err_message FROM timescaledb_information.job_errors
          WHERE start_time > now() - interval '7 days'"
    };
    let sql = format!(
        "SELECT job_id, count(*) AS failures, max(start_time) AS last_at,
                (array_agg(err_message ORDER BY start_time DESC))[1] AS last_message
           FROM ({engine}
                 UNION ALL
                 SELECT job_id, started_at, message FROM console.job_runs
                  WHERE succeeded = false AND started_at > now() - interval '7 days') failed
          GROUP BY job_id ORDER BY job_id"
    );
    let rows: Vec<FailureRow> = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| JobFailures {
            job_id: i64::from(r.job_id),
            failures: r.failures,
            last_at: r.last_at,
            last_message: r.last_message,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct CompressedRow {
    hypertable_schema: String,
    hypertable_name: String,
    schema: String,
    name: String,
}

/// Rows per batch in each compressed hypertable's (or only `relation`'s) latest compressed
/// chunks (`relation` as schema and name), read from the compressed relations' `_ts_meta_count` (rows per batch, as
/// TimescaleDB records it). Which relation holds a chunk's batches is in the internal
/// catalog only: `None` where it is not read.
pub async fn batches(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    relation: Option<(&str, &str)>,
) -> Result<Option<Vec<Batches>>> {
    let Some(shape) = capabilities.catalog_shape() else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT hypertable_schema, hypertable_name, schema, name FROM (
            SELECT r.*, row_number() OVER (PARTITION BY hypertable_schema, hypertable_name
                                           ORDER BY chunk_id DESC) AS newest
              FROM ({}) r
             WHERE $2::text IS NULL OR (hypertable_schema, hypertable_name) = ($2, $3)) latest
          WHERE newest <= $1
          ORDER BY hypertable_schema, hypertable_name",
        shape.compressed_relations_sql()
    );
    let chunks: Vec<CompressedRow> = sqlx::query_as(&sql)
        .bind(BATCH_CHUNKS)
        .bind(relation.map(|(schema, _)| schema))
        .bind(relation.map(|(_, name)| name))
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<Batches> = Vec::new();
    for chunk in chunks {
        let sql = format!(
            "SELECT count(*)::bigint, coalesce(sum(_ts_meta_count), 0)::bigint FROM {}.{}",
            quote_ident(&chunk.schema),
            quote_ident(&chunk.name)
        );
        let (batches, rows): (i64, i64) = sqlx::query_as(&sql).fetch_one(&mut *conn).await?;
        let relation = display_name(&chunk.hypertable_schema, &chunk.hypertable_name);
        match out.iter_mut().find(|b| b.relation == relation) {
            Some(total) => {
                total.batches += batches;
                total.rows += rows;
            }
            None => out.push(Batches {
                relation,
                batches,
                rows,
            }),
        }
    }
    Ok(Some(out))
}

#[derive(sqlx::FromRow)]
struct WindowRow {
    view_schema: String,
    view_name: String,
    source_schema: String,
    source_name: String,
    start_offset: Option<String>,
}

/// Each refresh policy of each continuous aggregate: the aggregate, its source (a
/// hypertable, or the lower aggregate's view) and the policy's `start_offset`. Read from
/// the public views: the jobs view names the aggregate by its view from 2.20, by its
/// materialized hypertable before, so both are matched.
async fn refresh_windows(conn: &mut PgConnection) -> Result<Vec<RefreshWindow>> {
    let rows: Vec<WindowRow> = sqlx::query_as(
        "SELECT ca.view_schema::text, ca.view_name::text,
                COALESCE(parent.view_schema, ca.hypertable_schema)::text AS source_schema,
                COALESCE(parent.view_name, ca.hypertable_name)::text AS source_name,
                j.config ->> 'start_offset' AS start_offset
           FROM timescaledb_information.continuous_aggregates ca
           LEFT JOIN timescaledb_information.continuous_aggregates parent
                  ON (parent.materialization_hypertable_schema, parent.materialization_hypertable_name)
                   = (ca.hypertable_schema, ca.hypertable_name)
           JOIN timescaledb_information.jobs j
             ON j.proc_name = 'policy_refresh_continuous_aggregate'
            AND ((j.hypertable_schema, j.hypertable_name) = (ca.view_schema, ca.view_name)
              OR (j.hypertable_schema, j.hypertable_name)
                 = (ca.materialization_hypertable_schema, ca.materialization_hypertable_name))
          ORDER BY 1, 2, j.job_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RefreshWindow {
            cagg: display_name(&r.view_schema, &r.view_name),
            source: display_name(&r.source_schema, &r.source_name),
            start_offset: r.start_offset,
        })
        .collect())
}
