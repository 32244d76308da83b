//! The catalog pass through TimescaleDB's public API only, for a server whose internal
//! catalog the console cannot read (a release newer than it knows, or a contract that
//! does not hold): `timescaledb_information` views, `hypertable_detailed_size`,
//! `chunks_detailed_size`, `chunk_compression_stats` and `job_stats`. Every pass reads
//! every size (nothing is cached), so it is slower than the internal pass, but its figures
//! are TimescaleDB's own. What the public API does not say (a continuous aggregate's
//! watermark, a job's consecutive failures) is left unknown, never guessed. A compressed
//! chunk's rows are `approximate_row_count`'s estimate, not the count recorded at
//! compression (internal only): the one figure that may differ from the internal pass.

use super::catalog::{settings_query, TableRow};
use super::chunks::{Activity, ChunkRow};
use super::sizes::Bytes;
use super::{assemble, jobs};
use crate::capabilities::Capabilities;
use crate::facts::{CaggFacts, DatabaseFacts, DimensionFacts, ExtensionFacts, Snapshot};
use crate::ident::display_name;
use crate::pg_time::PgTimestamp;
use crate::Result;
use chrono::Utc;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Instant;

/// Each statement's limit: a pass must end even where a size function is slow.
const STATEMENT_TIMEOUT: &str = "SET LOCAL statement_timeout = '60s'";

/// The size functions' plans are simple: compiling them costs more than it saves.
const NO_JIT: &str = "SET LOCAL jit = off";

#[derive(sqlx::FromRow)]
struct TableQueryRow {
    schema: String,
    name: String,
    oid: i64,
    compression_enabled: bool,
    is_materialization: bool,
    view_schema: Option<String>,
    view_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DimensionQueryRow {
    schema: String,
    name: String,
    column_name: String,
    column_type: String,
    time: bool,
    interval: Option<String>,
    partitions: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ChunkQueryRow {
    hypertable_schema: String,
    hypertable_name: String,
    chunk_schema: String,
    chunk_name: String,
    oid: i64,
    range_start: Option<PgTimestamp>,
    range_end: Option<PgTimestamp>,
    range_start_integer: Option<i64>,
    range_end_integer: Option<i64>,
    is_compressed: bool,
    tablespace: Option<String>,
    reltuples: i64,
}

#[derive(sqlx::FromRow)]
struct SizeRow {
    schema: String,
    name: String,
    table_bytes: i64,
    index_bytes: i64,
    toast_bytes: i64,
    total_bytes: i64,
    before_bytes: Option<i64>,
    after_bytes: Option<i64>,
    rows: Option<i64>,
}

/// Gathers a snapshot from the public API.
pub async fn gather(
    pool: &PgPool,
    capabilities: &Capabilities,
    database: DatabaseFacts,
    extension: ExtensionFacts,
    started: Instant,
) -> Result<Snapshot> {
    let mut tx = pool.begin().await?;
    sqlx::query(STATEMENT_TIMEOUT).execute(&mut *tx).await?;
    sqlx::query(NO_JIT).execute(&mut *tx).await?;
    // User hypertables and the aggregates' materialized ones (aggregates are sized
    // through them); ids are this pass's own.
    let rows: Vec<TableQueryRow> = sqlx::query_as(
        "SELECT h.hypertable_schema::text AS schema, h.hypertable_name::text AS name,
                format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass::oid::bigint AS oid,
                h.compression_enabled, false AS is_materialization,
                NULL::text AS view_schema, NULL::text AS view_name
           FROM timescaledb_information.hypertables h
          WHERE NOT starts_with(h.hypertable_schema::text, $1)
         UNION ALL
         SELECT c.materialization_hypertable_schema::text, c.materialization_hypertable_name::text,
                format('%I.%I', c.materialization_hypertable_schema, c.materialization_hypertable_name)::regclass::oid::bigint,
                c.compression_enabled, true, c.view_schema::text, c.view_name::text
           FROM timescaledb_information.continuous_aggregates c
          ORDER BY 1, 2",
    )
    .bind(crate::bench::scratch::PREFIX)
    .fetch_all(&mut *tx)
    .await?;
    let ids: HashMap<(String, String), i32> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.schema.clone(), r.name.clone()), i as i32 + 1))
        .collect();
    let settings: HashMap<i64, (Option<String>, Option<String>)> =
        sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(settings_query(capabilities))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(oid, seg, ord)| (oid, (seg, ord)))
            .collect();
    let dimensions: Vec<DimensionQueryRow> = sqlx::query_as(
        "SELECT hypertable_schema::text AS schema, hypertable_name::text AS name,
                column_name::text, column_type::regtype::text AS column_type,
                dimension_type = 'Time' AS time,
                COALESCE(justify_interval(time_interval)::text, integer_interval::text) AS interval,
                num_partitions::bigint AS partitions
           FROM timescaledb_information.dimensions
          ORDER BY hypertable_schema, hypertable_name, dimension_number",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut tables: HashMap<i32, TableRow> = HashMap::new();
    for row in &rows {
        let id = ids[&(row.schema.clone(), row.name.clone())];
        let (segment_by, order_by) = settings.get(&row.oid).cloned().unwrap_or_default();
        tables.insert(
            id,
            TableRow {
                schema: row.schema.clone(),
                name: row.name.clone(),
                oid: row.oid,
                activity: Activity::default(),
                compression_enabled: row.compression_enabled,
                is_materialization: row.is_materialization,
                dimensions: dimensions
                    .iter()
                    .filter(|d| d.schema == row.schema && d.name == row.name)
                    .map(|d| DimensionFacts {
                        column: d.column_name.clone(),
                        column_type: d.column_type.clone(),
                        kind: if d.time { "time" } else { "space" }.into(),
                        interval: d.interval.clone().filter(|_| d.time),
                        partitions: d.partitions,
                    })
                    .collect(),
                segment_by: super::catalog::split_list(segment_by),
                order_by: super::catalog::split_list(order_by),
            },
        );
    }
    let chunk_rows: Vec<ChunkQueryRow> = sqlx::query_as(
        "SELECT ch.hypertable_schema::text, ch.hypertable_name::text,
                ch.chunk_schema::text, ch.chunk_name::text,
                c.oid::bigint AS oid, ch.range_start, ch.range_end,
                ch.range_start_integer, ch.range_end_integer, ch.is_compressed,
                ch.chunk_tablespace::text AS tablespace,
                greatest(c.reltuples, 0)::bigint AS reltuples
           FROM timescaledb_information.chunks ch
           JOIN pg_namespace n ON n.nspname = ch.chunk_schema
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = ch.chunk_name
          ORDER BY 1, 2, ch.range_start NULLS LAST, ch.range_start_integer NULLS LAST, 3, 4",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Sizes, compression figures and rows of each hypertable's chunks, and its totals:
    // one call of each function per hypertable.
    let mut chunk_sizes: HashMap<(String, String), SizeRow> = HashMap::new();
    let mut parents: HashMap<i32, Bytes> = HashMap::new();
    for row in &rows {
        let id = ids[&(row.schema.clone(), row.name.clone())];
        let relation = crate::ident::QualifiedName::new(&row.schema, &row.name).to_string();
        let sizes: Vec<SizeRow> = sqlx::query_as(
            "SELECT s.chunk_schema::text AS schema, s.chunk_name::text AS name,
                    s.table_bytes, s.index_bytes, s.toast_bytes, s.total_bytes,
                    c.before_compression_total_bytes AS before_bytes,
                    c.after_compression_total_bytes AS after_bytes,
                    CASE WHEN c.compression_status = 'Compressed'
                         THEN approximate_row_count(format('%I.%I', s.chunk_schema, s.chunk_name)::regclass)
                    END AS rows
               FROM chunks_detailed_size($1::regclass) s
               LEFT JOIN chunk_compression_stats($1::regclass) c
                      ON c.chunk_schema = s.chunk_schema AND c.chunk_name = s.chunk_name",
        )
        .bind(&relation)
        .fetch_all(&mut *tx)
        .await?;
        let total: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT table_bytes, index_bytes, toast_bytes, total_bytes
               FROM hypertable_detailed_size($1::regclass)",
        )
        .bind(&relation)
        .fetch_one(&mut *tx)
        .await?;
        // The parent relation's own bytes: the hypertable's, less its chunks'.
        let chunks = sizes.iter().fold(Bytes::default(), |sum, s| {
            sum + Bytes {
                table: s.table_bytes,
                index: s.index_bytes,
                toast: s.toast_bytes,
                total: s.total_bytes,
            }
        });
        parents.insert(
            id,
            Bytes {
                table: total.0 - chunks.table,
                index: total.1 - chunks.index,
                toast: total.2 - chunks.toast,
                total: total.3 - chunks.total,
            },
        );
        for size in sizes {
            chunk_sizes.insert((size.schema.clone(), size.name.clone()), size);
        }
    }
    let mut jobs = jobs::jobs_public(&mut *tx).await?;
    tx.commit().await?;
    // A job names its hypertable, or (on an aggregate) the aggregate's view: both are
    // mapped to this pass's ids.
    let by_view: HashMap<String, i32> = rows
        .iter()
        .filter_map(|r| {
            Some((
                display_name(r.view_schema.as_deref()?, r.view_name.as_deref()?),
                ids[&(r.schema.clone(), r.name.clone())],
            ))
        })
        .collect();
    let by_name: HashMap<String, i32> = rows
        .iter()
        .map(|r| {
            (
                display_name(&r.schema, &r.name),
                ids[&(r.schema.clone(), r.name.clone())],
            )
        })
        .collect();
    for job in &mut jobs {
        job.hypertable_id = job
            .facts
            .hypertable
            .as_ref()
            .and_then(|h| by_view.get(h).or_else(|| by_name.get(h)).copied());
    }
    let mut chunk_bytes: HashMap<i32, Bytes> = HashMap::new();
    let chunks: Vec<ChunkRow> = chunk_rows
        .into_iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let id = i as i32 + 1;
            let hypertable_id =
                *ids.get(&(row.hypertable_schema.clone(), row.hypertable_name.clone()))?;
            let size = chunk_sizes.get(&(row.chunk_schema.clone(), row.chunk_name.clone()));
            chunk_bytes.insert(
                id,
                size.map(|s| Bytes {
                    table: s.table_bytes,
                    index: s.index_bytes,
                    toast: s.toast_bytes,
                    total: s.total_bytes,
                })
                .unwrap_or_default(),
            );
            let compressed = size.filter(|_| row.is_compressed);
            Some(ChunkRow {
                id,
                hypertable_id,
                schema: row.chunk_schema,
                name: row.chunk_name,
                oid: row.oid,
                status: i32::from(row.is_compressed),
                compressed_oid: None,
                range_start: PgTimestamp::finite_or_none(row.range_start),
                range_end: PgTimestamp::finite_or_none(row.range_end),
                range_start_integer: row.range_start_integer,
                range_end_integer: row.range_end_integer,
                tablespace: row.tablespace,
                approximate_rows: compressed.and_then(|s| s.rows).unwrap_or(row.reltuples),
                before_compression_bytes: compressed.and_then(|s| s.before_bytes),
                after_compression_bytes: compressed.and_then(|s| s.after_bytes),
                activity: Activity::default(),
            })
        })
        .collect();
    let assembled = assemble(
        &tables,
        &chunks,
        &jobs,
        |id| parents.get(&id).copied().unwrap_or_default(),
        |id| chunk_bytes.get(&id).copied().unwrap_or_default(),
    );
    let continuous_aggregates = rows
        .iter()
        .filter_map(|r| {
            let id = ids[&(r.schema.clone(), r.name.clone())];
            let (view_schema, view_name) = (r.view_schema.clone()?, r.view_name.clone()?);
            let view = display_name(&view_schema, &view_name);
            Some(CaggFacts {
                source: String::new(),
                materialized_bytes: assembled.totals.get(&id).copied().unwrap_or(0),
                // Not in the public API: unknown, not "never refreshed".
                watermark: None,
                refresh_lag_seconds: None,
                refresh_schedule: jobs
                    .iter()
                    .find(|j| {
                        j.facts.hypertable.as_deref() == Some(view.as_str())
                            && j.facts.kind == "policy_refresh_continuous_aggregate"
                    })
                    .map(|j| j.facts.schedule_interval.clone()),
                schema: view_schema,
                name: view_name,
            })
        })
        .collect::<Vec<_>>();
    let continuous_aggregates = with_sources(pool, continuous_aggregates).await?;
    Ok(Snapshot {
        taken_at: Utc::now(),
        pass_seconds: started.elapsed().as_secs_f64(),
        sized_relations: (chunk_bytes.len() + parents.len()) as i64,
        database,
        timescaledb: Some(extension),
        hypertables: assembled.hypertables,
        chunks: assembled.chunks,
        jobs: jobs.into_iter().map(|j| j.facts).collect(),
        continuous_aggregates,
        catalog_fallback: capabilities.catalog.fallback_reason().map(str::to_string),
    })
}

/// Fills each aggregate's source from the public view: a hypertable, or (an aggregate
/// on an aggregate) the lower aggregate's view, found by its materialized hypertable.
async fn with_sources(pool: &PgPool, mut caggs: Vec<CaggFacts>) -> Result<Vec<CaggFacts>> {
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT view_schema::text, view_name::text, hypertable_schema::text, hypertable_name::text,
                materialization_hypertable_schema::text, materialization_hypertable_name::text
           FROM timescaledb_information.continuous_aggregates",
    )
    .fetch_all(pool)
    .await?;
    for cagg in &mut caggs {
        if let Some((_, _, source_schema, source_name, _, _)) = rows
            .iter()
            .find(|(schema, name, ..)| *schema == cagg.schema && *name == cagg.name)
        {
            let parent = rows.iter().find(|(.., mat_schema, mat_name)| {
                mat_schema == source_schema && mat_name == source_name
            });
            cagg.source = match parent {
                Some((schema, name, ..)) => display_name(schema, name),
                None => display_name(source_schema, source_name),
            };
        }
    }
    Ok(caggs)
}
