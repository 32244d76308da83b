//! The monitoring engine: one pass over TimescaleDB's catalog that produces a
//! [`Snapshot`]. Sizes are the expensive part (one file look-up per relation), so a
//! [`PassCache`] keeps them between passes and an incremental pass re-reads only what may
//! have changed: a compressed chunk when its status changes, another chunk when
//! PostgreSQL's write counters say so, the chunk holding the present every time (see
//! `sizes`). A full pass reads every relation and returns exactly what
//! `hypertable_detailed_size`, `chunks_detailed_size` and `hypertable_compression_stats`
//! would.

mod catalog;
mod chunks;
pub mod jobs;
mod known_failures;
mod public;
mod server;
mod sizes;

pub use sizes::{PassCache, MAX_AGE, UNCOUNTED_MAX_AGE, UNSETTLED_MAX_AGE};

pub(crate) use catalog::settings_query;

use crate::capabilities::Capabilities;
use crate::facts::{ChunkFacts, HypertableFacts, Snapshot};
use crate::Result;
use chrono::Utc;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Instant;

/// What kind of pass to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Read every relation's size from disk.
    Full,
    /// Reuse cached sizes of chunks nothing says have changed (a backfill shows once
    /// PostgreSQL publishes its counters, within about 10 s on 15+; where nothing counts
    /// writes, as on devdb, within about a minute).
    Incremental,
}

/// Gathers a snapshot. Each statement is short so that other users of a small pool get
/// their turn between them; sizes are read in batches.
pub async fn gather(
    pool: &PgPool,
    capabilities: &Capabilities,
    cache: &mut PassCache,
    pass: Pass,
) -> Result<Snapshot> {
    let started = Instant::now();
    let database = server::database(pool, cache, pass == Pass::Full).await?;
    let installed = capabilities.require_timescaledb().is_ok();
    if !installed {
        return Ok(Snapshot::without_timescaledb(
            database,
            started.elapsed().as_secs_f64(),
        ));
    }
    let extension = server::extension(pool).await?;
    let Some(shape) = capabilities.catalog_shape() else {
        return public::gather(pool, capabilities, database, extension, started).await;
    };
    let tables = catalog::hypertables(pool, capabilities).await?;
    if pass == Pass::Full {
        // A full pass trusts nothing kept: shapes are read again too (a chunk renamed
        // behind TimescaleDB's back, or one whose relation was missing, is put right).
        cache.shapes = Default::default();
    }
    let chunk_rows = chunks::read(pool, shape, &mut cache.shapes).await?;
    let jobs = jobs::jobs_internal(pool).await?;
    let sized = sizes::refresh(
        pool,
        cache,
        &tables,
        &chunk_rows,
        pass == Pass::Full,
        capabilities.publishes_table_counters(),
    )
    .await?;

    let assembled = assemble(
        &tables,
        &chunk_rows,
        &jobs,
        |id| cache.parent(id),
        |id| cache.chunk(id),
    );
    let totals = assembled.totals;
    let hypertables = assembled.hypertables;
    let chunks = assembled.chunks;
    let continuous_aggregates = catalog::continuous_aggregates(pool, &totals, &jobs).await?;
    Ok(Snapshot {
        taken_at: Utc::now(),
        pass_seconds: started.elapsed().as_secs_f64(),
        sized_relations: sized,
        database,
        timescaledb: Some(extension),
        hypertables,
        chunks,
        jobs: jobs.into_iter().map(|j| j.facts).collect(),
        continuous_aggregates,
        catalog_fallback: None,
    })
}

/// What a pass assembles from the catalog's tables, chunks, jobs and sizes.
struct Assembled {
    /// User hypertables, biggest first.
    hypertables: Vec<HypertableFacts>,
    /// Every chunk.
    chunks: Vec<ChunkFacts>,
    /// Total bytes by hypertable id, materializations included.
    totals: HashMap<i32, i64>,
}

/// Sums chunks into their hypertables, marks the compression backlog, and orders the
/// hypertables: shared by the internal catalog's pass and the public API's.
fn assemble(
    tables: &HashMap<i32, catalog::TableRow>,
    chunk_rows: &[chunks::ChunkRow],
    jobs: &[jobs::JobRow],
    parent: impl Fn(i32) -> sizes::Bytes,
    chunk: impl Fn(i32) -> sizes::Bytes,
) -> Assembled {
    // Compress-after per hypertable id, from the compression policies.
    let compress_after: HashMap<i32, (String, i64)> = jobs
        .iter()
        .filter_map(|job| Some((job.hypertable_id?, job.compress_after.clone()?)))
        .collect();
    let now = Utc::now();
    let mut facts: HashMap<i32, HypertableFacts> = tables
        .iter()
        .map(|(id, table)| {
            let parent = parent(*id);
            let facts = HypertableFacts {
                schema: table.schema.clone(),
                name: table.name.clone(),
                dimensions: table.dimensions.clone(),
                table_bytes: parent.table,
                index_bytes: parent.index,
                toast_bytes: parent.toast,
                total_bytes: parent.total,
                chunk_count: 0,
                compressed_chunk_count: 0,
                before_compression_bytes: 0,
                after_compression_bytes: 0,
                compression_ratio: None,
                approximate_rows: 0,
                compression_enabled: table.compression_enabled,
                segment_by: table.segment_by.clone(),
                order_by: table.order_by.clone(),
                compress_after: compress_after.get(id).map(|(text, _)| text.clone()),
                backlog_chunks: 0,
                backlog_bytes: 0,
            };
            (*id, facts)
        })
        .collect();
    let mut chunks = Vec::with_capacity(chunk_rows.len());
    for row in chunk_rows {
        let (Some(table), Some(summary)) = (
            tables.get(&row.hypertable_id),
            facts.get_mut(&row.hypertable_id),
        ) else {
            continue;
        };
        let bytes = chunk(row.id);
        let in_backlog = !row.is_compressed()
            && table.compression_enabled
            && match (compress_after.get(&row.hypertable_id), row.range_end) {
                (Some((_, micros)), Some(end)) => {
                    end < now - chrono::Duration::microseconds(*micros)
                }
                _ => false,
            };
        summary.table_bytes += bytes.table;
        summary.index_bytes += bytes.index;
        summary.toast_bytes += bytes.toast;
        summary.total_bytes += bytes.total;
        summary.chunk_count += 1;
        summary.approximate_rows += row.approximate_rows;
        if row.is_compressed() {
            summary.compressed_chunk_count += 1;
        }
        summary.before_compression_bytes += row.before_compression_bytes.unwrap_or(0);
        summary.after_compression_bytes += row.after_compression_bytes.unwrap_or(0);
        if in_backlog {
            summary.backlog_chunks += 1;
            summary.backlog_bytes += bytes.total;
        }
        chunks.push(ChunkFacts {
            hypertable_schema: table.schema.clone(),
            hypertable_name: table.name.clone(),
            schema: row.schema.clone(),
            name: row.name.clone(),
            range_start: row.range_start,
            range_end: row.range_end,
            range_start_integer: row.range_start_integer,
            range_end_integer: row.range_end_integer,
            total_bytes: bytes.total,
            is_compressed: row.is_compressed(),
            before_compression_bytes: row.before_compression_bytes,
            after_compression_bytes: row.after_compression_bytes,
            tablespace: row.tablespace.clone(),
            in_backlog,
        });
    }
    let totals: HashMap<i32, i64> = facts.iter().map(|(id, f)| (*id, f.total_bytes)).collect();
    let mut hypertables: Vec<HypertableFacts> = facts
        .into_iter()
        .filter(|(id, _)| tables.get(id).is_some_and(|t| !t.is_materialization))
        .map(|(_, mut f)| {
            f.compression_ratio =
                HypertableFacts::ratio_of(f.before_compression_bytes, f.after_compression_bytes);
            f
        })
        .collect();
    hypertables.sort_by(|a, b| {
        b.total_bytes
            .cmp(&a.total_bytes)
            .then_with(|| a.qualified().cmp(&b.qualified()))
    });
    Assembled {
        hypertables,
        chunks,
        totals,
    }
}
