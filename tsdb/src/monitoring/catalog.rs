//! Catalog reads without sizes: hypertables, dimensions, compression settings, chunks and
//! continuous aggregates. Internal compressed hypertables are left out; materialization
//! hypertables are kept (flagged) because continuous aggregates are sized through them.

use super::jobs::JobRow;
use crate::capabilities::{Capabilities, TimescaleVersion};
use crate::facts::{CaggFacts, DimensionFacts};
use crate::pg_time::PgTimestamp;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::HashMap;

/// A hypertable as the catalog describes it.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The parent relation.
    pub oid: i64,
    /// PostgreSQL's counters for the parent relation (rows written to it directly).
    pub activity: Activity,
    /// Compression is enabled.
    pub compression_enabled: bool,
    /// It materializes a continuous aggregate.
    pub is_materialization: bool,
    /// Dimensions, in catalog order (the open time dimension first).
    pub dimensions: Vec<DimensionFacts>,
    /// Segment-by columns.
    pub segment_by: Vec<String>,
    /// Order-by items.
    pub order_by: Vec<String>,
}

/// A chunk as the catalog describes it.
#[derive(Debug, Clone)]
pub struct ChunkRow {
    /// Catalog id.
    pub id: i32,
    /// Its hypertable.
    pub hypertable_id: i32,
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The chunk relation.
    pub oid: i64,
    /// Status bits (1 compressed, 2 unordered, 4 frozen, 8 partial).
    pub status: i32,
    /// The compressed chunk relation, when compressed.
    pub compressed_oid: Option<i64>,
    /// Primary dimension range on a time column.
    pub range_start: Option<DateTime<Utc>>,
    /// See `range_start`.
    pub range_end: Option<DateTime<Utc>>,
    /// Primary dimension range on an integer column.
    pub range_start_integer: Option<i64>,
    /// See `range_start_integer`.
    pub range_end_integer: Option<i64>,
    /// Non-default tablespace.
    pub tablespace: Option<String>,
    /// Planner estimate, or rows counted at compression.
    pub approximate_rows: i64,
    /// Recorded at compression.
    pub before_compression_bytes: Option<i64>,
    /// Recorded at compression.
    pub after_compression_bytes: Option<i64>,
    /// What PostgreSQL has counted of writes to the chunk's relations, read without
    /// touching a file: a change means its size may have changed.
    pub activity: Activity,
}

/// PostgreSQL's counters and file numbers for a chunk and its compressed relation. Rows
/// written, updated or deleted and vacuums (which add free-space and visibility maps)
/// move the counters; TRUNCATE, CLUSTER and VACUUM FULL give the relation a new file. The
/// counters arrive late: a backend publishes them when it goes idle, at most about 10 s
/// after its writes (PostgreSQL 15 and later), and PGlite's single process never does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// Tuples inserted + updated + deleted, both relations.
    pub writes: i64,
    /// Vacuums and autovacuums, both relations.
    pub vacuums: i64,
    /// The chunk relation's file number.
    pub file: i64,
    /// The compressed relation's file number.
    pub compressed_file: Option<i64>,
}

impl ChunkRow {
    /// Compressed, fully or partly (as `timescaledb_information.chunks` counts it).
    pub fn is_compressed(&self) -> bool {
        self.status & 1 != 0
    }
}

fn split_list(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(|part| part.trim().to_string())
            .filter(|part| !part.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// Which view holds compression settings on this version: rows of (relation oid,
/// segment-by text, order-by text).
pub(crate) fn settings_query(capabilities: &Capabilities) -> &'static str {
    const V2_14_1: TimescaleVersion = TimescaleVersion {
        major: 2,
        minor: 14,
        patch: 1,
    };
    if capabilities.uses_columnstore_names() {
        "SELECT hypertable::oid::bigint, segmentby, orderby
           FROM timescaledb_information.hypertable_columnstore_settings"
    } else if capabilities.timescaledb.is_some_and(|v| v >= V2_14_1) {
        "SELECT hypertable::oid::bigint, segmentby, orderby
           FROM timescaledb_information.hypertable_compression_settings"
    } else {
        "SELECT format('%I.%I', hypertable_schema, hypertable_name)::regclass::oid::bigint,
                string_agg(quote_ident(attname::text), ', ' ORDER BY segmentby_column_index)
                    FILTER (WHERE segmentby_column_index IS NOT NULL),
                string_agg(quote_ident(attname::text)
                           || CASE WHEN orderby_asc THEN '' ELSE ' DESC' END
                           || CASE WHEN orderby_nullsfirst <> NOT orderby_asc
                                   THEN CASE WHEN orderby_nullsfirst THEN ' NULLS FIRST'
                                             ELSE ' NULLS LAST' END
                                   ELSE '' END,
                           ', ' ORDER BY orderby_column_index)
                    FILTER (WHERE orderby_column_index IS NOT NULL)
           FROM timescaledb_information.compression_settings
          GROUP BY 1"
    }
}

/// One row of the hypertables query.
#[derive(sqlx::FromRow)]
struct HypertableQueryRow {
    id: i32,
    schema: String,
    name: String,
    oid: i64,
    compression_enabled: bool,
    is_materialization: bool,
    writes: i64,
    vacuums: i64,
    file: i64,
}

/// One row of the dimensions query.
#[derive(sqlx::FromRow)]
struct DimensionQueryRow {
    hypertable_id: i32,
    column_name: String,
    column_type: String,
    open: bool,
    interval: Option<String>,
    partitions: Option<i16>,
}

/// Every hypertable by catalog id, but internal compressed ones and those of a bench
/// run's scratch schema (there for a minute, never the user's).
pub async fn hypertables(
    pool: &PgPool,
    capabilities: &Capabilities,
) -> Result<HashMap<i32, TableRow>> {
    let rows: Vec<HypertableQueryRow> = sqlx::query_as(
        "SELECT h.id, h.schema_name::text AS schema, h.table_name::text AS name,
                c.oid::bigint AS oid,
                h.compression_state = 1 AS compression_enabled,
                EXISTS (SELECT 1 FROM _timescaledb_catalog.continuous_agg ca
                         WHERE ca.mat_hypertable_id = h.id) AS is_materialization,
                pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
                    + pg_stat_get_tuples_deleted(c.oid) AS writes,
                pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid) AS vacuums,
                c.relfilenode::bigint AS file
           FROM _timescaledb_catalog.hypertable h
           JOIN pg_namespace n ON n.nspname = h.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = h.table_name
          WHERE h.compression_state <> 2 AND NOT starts_with(h.schema_name::text, $1)",
    )
    .bind(crate::bench::scratch::PREFIX)
    .fetch_all(pool)
    .await?;
    let dimensions: Vec<DimensionQueryRow> = sqlx::query_as(
        "SELECT d.hypertable_id, d.column_name::text AS column_name,
                d.column_type::regtype::text AS column_type,
                d.num_slices IS NULL AS open,
                CASE WHEN d.num_slices IS NOT NULL THEN NULL
                     WHEN d.column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                     THEN justify_interval(d.interval_length * interval '1 microsecond')::text
                     ELSE d.interval_length::text END AS interval,
                d.num_slices AS partitions
           FROM _timescaledb_catalog.dimension d
          ORDER BY d.hypertable_id, d.id",
    )
    .fetch_all(pool)
    .await?;
    let settings: Vec<(i64, Option<String>, Option<String>)> =
        sqlx::query_as(settings_query(capabilities))
            .fetch_all(pool)
            .await?;
    let settings: HashMap<i64, (Option<String>, Option<String>)> = settings
        .into_iter()
        .map(|(oid, seg, ord)| (oid, (seg, ord)))
        .collect();
    let mut tables: HashMap<i32, TableRow> = rows
        .into_iter()
        .map(|row| {
            let (segment_by, order_by) = settings.get(&row.oid).cloned().unwrap_or_default();
            (
                row.id,
                TableRow {
                    schema: row.schema,
                    name: row.name,
                    oid: row.oid,
                    activity: Activity {
                        writes: row.writes,
                        vacuums: row.vacuums,
                        file: row.file,
                        compressed_file: None,
                    },
                    compression_enabled: row.compression_enabled,
                    is_materialization: row.is_materialization,
                    dimensions: Vec::new(),
                    segment_by: split_list(segment_by),
                    order_by: split_list(order_by),
                },
            )
        })
        .collect();
    for dimension in dimensions {
        if let Some(table) = tables.get_mut(&dimension.hypertable_id) {
            table.dimensions.push(DimensionFacts {
                column: dimension.column_name,
                column_type: dimension.column_type,
                kind: if dimension.open { "time" } else { "space" }.into(),
                interval: dimension.interval,
                partitions: dimension.partitions.map(i64::from),
            });
        }
    }
    Ok(tables)
}

/// One row of the chunks query, by name.
#[derive(sqlx::FromRow)]
struct ChunkQueryRow {
    id: i32,
    hypertable_id: i32,
    schema: String,
    name: String,
    oid: i64,
    status: i32,
    compressed_oid: Option<i64>,
    range_start: Option<PgTimestamp>,
    range_end: Option<PgTimestamp>,
    range_start_integer: Option<i64>,
    range_end_integer: Option<i64>,
    tablespace: Option<String>,
    approximate_rows: i64,
    before_compression_bytes: Option<i64>,
    after_compression_bytes: Option<i64>,
    writes: i64,
    vacuums: i64,
    file: i64,
    compressed_file: Option<i64>,
}

impl From<ChunkQueryRow> for ChunkRow {
    fn from(row: ChunkQueryRow) -> Self {
        let compressed = row.status & 1 != 0;
        ChunkRow {
            id: row.id,
            hypertable_id: row.hypertable_id,
            schema: row.schema,
            name: row.name,
            oid: row.oid,
            status: row.status,
            compressed_oid: row.compressed_oid,
            range_start: PgTimestamp::finite_or_none(row.range_start),
            range_end: PgTimestamp::finite_or_none(row.range_end),
            range_start_integer: row.range_start_integer,
            range_end_integer: row.range_end_integer,
            tablespace: row.tablespace,
            approximate_rows: row.approximate_rows,
            // As hypertable_compression_stats: only compressed chunks have them.
            before_compression_bytes: row.before_compression_bytes.filter(|_| compressed),
            after_compression_bytes: row.after_compression_bytes.filter(|_| compressed),
            activity: Activity {
                writes: row.writes,
                vacuums: row.vacuums,
                file: row.file,
                compressed_file: row.compressed_file,
            },
        }
    }
}

/// Every live chunk of every hypertable (internal compressed chunks and bench scratch
/// hypertables' excluded), by hypertable and range.
pub async fn chunks(pool: &PgPool) -> Result<Vec<ChunkRow>> {
    // The primary dimension is the one with the lowest id, as in
    // timescaledb_information.chunks; open-ended slices are -infinity / infinity.
    // Before 2.26 the catalog kept rows of dropped chunks (`dropped`, a column 2.26
    // removed); such a chunk has no relation, so the join with pg_class leaves it out
    // on every version.
    let rows: Vec<ChunkQueryRow> = sqlx::query_as(
        "WITH primary_dimension AS (
             SELECT DISTINCT ON (hypertable_id) id, hypertable_id,
                    column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) AS is_time
               FROM _timescaledb_catalog.dimension
              ORDER BY hypertable_id, id)
         SELECT ch.id, ch.hypertable_id, ch.schema_name::text AS schema, ch.table_name::text AS name,
                c.oid::bigint AS oid, ch.status,
                cc.oid::bigint AS compressed_oid,
                CASE WHEN pd.is_time AND ds.range_start > -9223372036854775808
                     THEN _timescaledb_functions.to_timestamp(ds.range_start) END AS range_start,
                CASE WHEN pd.is_time AND ds.range_end < 9223372036854775807
                     THEN _timescaledb_functions.to_timestamp(ds.range_end) END AS range_end,
                CASE WHEN NOT pd.is_time THEN ds.range_start END AS range_start_integer,
                CASE WHEN NOT pd.is_time THEN ds.range_end END AS range_end_integer,
                t.spcname::text AS tablespace,
                CASE WHEN ch.status & 1 <> 0
                     THEN COALESCE(m.numrows_pre_compression, 0)
                          + CASE WHEN ch.status & 8 <> 0 THEN greatest(c.reltuples, 0)::bigint ELSE 0 END
                     ELSE greatest(c.reltuples, 0)::bigint END AS approximate_rows,
                m.uncompressed_heap_size + m.uncompressed_toast_size + m.uncompressed_index_size
                    AS before_compression_bytes,
                m.compressed_heap_size + m.compressed_toast_size + m.compressed_index_size
                    AS after_compression_bytes,
                pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
                    + pg_stat_get_tuples_deleted(c.oid)
                    + COALESCE(pg_stat_get_tuples_inserted(cc.oid) + pg_stat_get_tuples_updated(cc.oid)
                               + pg_stat_get_tuples_deleted(cc.oid), 0) AS writes,
                pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid)
                    + COALESCE(pg_stat_get_vacuum_count(cc.oid) + pg_stat_get_autovacuum_count(cc.oid), 0)
                    AS vacuums,
                c.relfilenode::bigint AS file,
                cc.relfilenode::bigint AS compressed_file
           FROM _timescaledb_catalog.chunk ch
           JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id AND h.compression_state <> 2
                AND NOT starts_with(h.schema_name::text, $1)
           JOIN pg_namespace n ON n.nspname = ch.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = ch.table_name
           LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
           LEFT JOIN primary_dimension pd ON pd.hypertable_id = ch.hypertable_id
           LEFT JOIN LATERAL (
                SELECT s.range_start, s.range_end
                  FROM _timescaledb_catalog.chunk_constraint k
                  JOIN _timescaledb_catalog.dimension_slice s ON s.id = k.dimension_slice_id
                 WHERE k.chunk_id = ch.id AND s.dimension_id = pd.id
                 LIMIT 1) ds ON true
           LEFT JOIN _timescaledb_catalog.chunk comp ON comp.id = ch.compressed_chunk_id
           LEFT JOIN pg_namespace cn ON cn.nspname = comp.schema_name
           LEFT JOIN pg_class cc ON cc.relnamespace = cn.oid AND cc.relname = comp.table_name
           LEFT JOIN _timescaledb_catalog.compression_chunk_size m ON m.chunk_id = ch.id
          WHERE NOT ch.osm_chunk
          ORDER BY ch.hypertable_id, ds.range_start, ch.id",
    )
    .bind(crate::bench::scratch::PREFIX)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ChunkRow::from).collect())
}

/// One row of the continuous aggregates query.
#[derive(sqlx::FromRow)]
struct CaggQueryRow {
    schema: String,
    name: String,
    source: String,
    mat_hypertable_id: i32,
    watermark: Option<PgTimestamp>,
}

/// Continuous aggregates with their source, materialized bytes and watermark.
pub async fn continuous_aggregates(
    pool: &PgPool,
    totals: &HashMap<i32, i64>,
    jobs: &[JobRow],
) -> Result<Vec<CaggFacts>> {
    // A watermark at or before 4714 BC means "never refreshed".
    let rows: Vec<CaggQueryRow> = sqlx::query_as(
        "SELECT ca.user_view_schema::text AS schema, ca.user_view_name::text AS name,
                format('%s.%s', raw.schema_name, raw.table_name) AS source,
                ca.mat_hypertable_id,
                CASE WHEN d.column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                      AND _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) > -210866803200000000
                     THEN _timescaledb_functions.to_timestamp(
                              _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id)) END AS watermark
           FROM _timescaledb_catalog.continuous_agg ca
           JOIN _timescaledb_catalog.hypertable raw ON raw.id = ca.raw_hypertable_id
           LEFT JOIN LATERAL (
                SELECT column_type FROM _timescaledb_catalog.dimension
                 WHERE hypertable_id = ca.mat_hypertable_id ORDER BY id LIMIT 1) d ON true
          ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let watermark = PgTimestamp::finite_or_none(row.watermark);
            let mat_id = row.mat_hypertable_id;
            CaggFacts {
                schema: row.schema,
                name: row.name,
                source: row.source,
                materialized_bytes: totals.get(&mat_id).copied().unwrap_or(0),
                refresh_lag_seconds: watermark
                    .map(|w| ((now - w).num_milliseconds() as f64 / 1000.0).max(0.0)),
                watermark,
                refresh_schedule: jobs
                    .iter()
                    .find(|j| {
                        j.hypertable_id == Some(mat_id)
                            && j.facts.kind == "policy_refresh_continuous_aggregate"
                    })
                    .map(|j| j.facts.schedule_interval.clone()),
            }
        })
        .collect())
}
