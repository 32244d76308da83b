//! The few facts the diagnostic rules need beyond the snapshot: memory settings, the
//! version the server would update to, recent job failures, rows per compressed batch,
//! and continuous aggregates' refresh windows. Each query is short; a fact that cannot be
//! read is left out (and logged), so one failing probe does not hide the other findings.

use super::rules::{Batches, Facts, JobFailures, Memory, RefreshWindow};
use crate::capabilities::Capabilities;
use crate::ident::quote_ident;
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
        batches: batches(conn, None).await?,
        refresh_windows: refresh_windows(conn).await?,
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
    relation: String,
    schema: String,
    name: String,
}

/// Rows per batch in each compressed hypertable's (or only `relation`'s) latest compressed
/// chunks, read from the compressed relations' `_ts_meta_count` (rows per batch, as
/// TimescaleDB records it).
pub async fn batches(conn: &mut PgConnection, relation: Option<&str>) -> Result<Vec<Batches>> {
    let chunks: Vec<CompressedRow> = sqlx::query_as(
        "SELECT relation, schema, name FROM (
            SELECT format('%s.%s', h.schema_name, h.table_name) AS relation,
                   comp.schema_name::text AS schema, comp.table_name::text AS name,
                   row_number() OVER (PARTITION BY h.id ORDER BY ch.id DESC) AS newest
              FROM _timescaledb_catalog.chunk ch
              JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
              JOIN _timescaledb_catalog.chunk comp ON comp.id = ch.compressed_chunk_id
              -- A live relation: before 2.26 the catalog kept dropped chunks' rows
              -- (`dropped`, a column 2.26 removed).
              JOIN pg_class c ON c.relname = comp.table_name
              JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = comp.schema_name) latest
          WHERE newest <= $1 AND ($2::text IS NULL OR relation = $2)
          ORDER BY relation",
    )
    .bind(BATCH_CHUNKS)
    .bind(relation)
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
        match out.iter_mut().find(|b| b.relation == chunk.relation) {
            Some(total) => {
                total.batches += batches;
                total.rows += rows;
            }
            None => out.push(Batches {
                relation: chunk.relation,
                batches,
                rows,
            }),
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct WindowRow {
    cagg: String,
    source: String,
    start_offset: Option<String>,
}

/// Each continuous aggregate with a refresh policy, its source and the policy's
/// `start_offset`.
async fn refresh_windows(conn: &mut PgConnection) -> Result<Vec<RefreshWindow>> {
    let rows: Vec<WindowRow> = sqlx::query_as(
        "SELECT format('%s.%s', ca.user_view_schema, ca.user_view_name) AS cagg,
                format('%s.%s', raw.schema_name, raw.table_name) AS source,
                j.config ->> 'start_offset' AS start_offset
           FROM _timescaledb_catalog.continuous_agg ca
           JOIN _timescaledb_catalog.hypertable raw ON raw.id = ca.raw_hypertable_id
           -- The job catalog itself: the information view names the aggregate differently
           -- across versions (its materialization or its view).
           JOIN _timescaledb_config.bgw_job j
             ON j.hypertable_id = ca.mat_hypertable_id
            AND j.proc_name = 'policy_refresh_continuous_aggregate'
          ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RefreshWindow {
            cagg: r.cagg,
            source: r.source,
            start_offset: r.start_offset,
        })
        .collect())
}
