//! Every live chunk of every hypertable, read in two parts. What a chunk is (its names,
//! relation, hypertable and range) never changes, so its [`Shape`] is read once, by name
//! joins and range look-ups, and kept in [`Shapes`]; each pass reads only what changes
//! (status, compressed relation, row estimate, tablespace, counters, compression sizes)
//! by relation oid. The one-query form spent 97 of an incremental pass's 121 ms at
//! 10,000 chunks on the name joins and range look-ups it repeated every pass.

use crate::contract::CatalogShape;
use crate::pg_time::PgTimestamp;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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

/// What stays true of a chunk (or of a compressed chunk's relation) for its whole life.
#[derive(Debug, Clone)]
struct Shape {
    hypertable_id: i32,
    /// Shared by every chunk of the schema (almost always `_timescaledb_internal`).
    schema: Arc<str>,
    name: Box<str>,
    oid: i64,
    /// The primary dimension's raw range start: chunks are listed in this order.
    order: Option<i64>,
    range_start: Option<DateTime<Utc>>,
    range_end: Option<DateTime<Utc>>,
    range_start_integer: Option<i64>,
    range_end_integer: Option<i64>,
}

/// Chunk shapes kept between passes, by catalog id; of compressed chunks only their
/// relation is needed. Kept compact: at 50,000 chunks a pass's memory is mostly these.
#[derive(Debug, Default)]
pub struct Shapes {
    known: HashMap<i32, Shape>,
    /// A compressed chunk's relation, by its catalog id.
    compressed: HashMap<i32, i64>,
    /// Schema names, one allocation each.
    schemas: HashSet<Arc<str>>,
    /// Catalog rows without a relation (before 2.26 the catalog kept dropped chunks'
    /// rows): not looked up again until a full pass.
    relationless: HashSet<i32>,
}

/// One row of the shapes query.
#[derive(sqlx::FromRow)]
struct ShapeRow {
    id: i32,
    hypertable_id: i32,
    schema: String,
    name: String,
    oid: i64,
    sort_key: Option<i64>,
    range_start: Option<PgTimestamp>,
    range_end: Option<PgTimestamp>,
    range_start_integer: Option<i64>,
    range_end_integer: Option<i64>,
}

/// Reads the shapes of `ids` into `shapes`; those in `compressed` are compressed chunks,
/// of which only the relation is kept.
async fn read_shapes(
    pool: &PgPool,
    catalog: CatalogShape,
    shapes: &mut Shapes,
    ids: &[i32],
    compressed: &HashSet<i32>,
) -> Result<()> {
    // The primary dimension is the one with the lowest id, as in
    // timescaledb_information.chunks; open-ended slices are -infinity / infinity. A
    // chunk's relation: by `relid` from 2.29, by name before; its slices: by
    // `dimension_slice.chunk_id` from 2.28, through `chunk_constraint` before.
    let relation = if catalog.chunk_relid {
        "JOIN pg_class c ON c.oid = ch.relid
           JOIN pg_namespace n ON n.oid = c.relnamespace"
    } else {
        "JOIN pg_namespace n ON n.nspname = ch.schema_name
           JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = ch.table_name"
    };
    let slices = if catalog.slice_chunk_id {
        "FROM _timescaledb_catalog.dimension_slice s
                 WHERE s.chunk_id = ch.id AND s.dimension_id = pd.id"
    } else {
        "FROM _timescaledb_catalog.chunk_constraint k
                  JOIN _timescaledb_catalog.dimension_slice s ON s.id = k.dimension_slice_id
                 WHERE k.chunk_id = ch.id AND s.dimension_id = pd.id"
    };
    let sql = format!(
        "WITH primary_dimension AS (
             SELECT DISTINCT ON (hypertable_id) id, hypertable_id,
                    column_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) AS is_time
               FROM _timescaledb_catalog.dimension
              ORDER BY hypertable_id, id)
         SELECT ch.id, ch.hypertable_id, n.nspname::text AS schema, c.relname::text AS name,
                c.oid::bigint AS oid, ds.range_start AS sort_key,
                CASE WHEN pd.is_time AND ds.range_start > -9223372036854775808
                     THEN _timescaledb_functions.to_timestamp(ds.range_start) END AS range_start,
                CASE WHEN pd.is_time AND ds.range_end < 9223372036854775807
                     THEN _timescaledb_functions.to_timestamp(ds.range_end) END AS range_end,
                CASE WHEN NOT pd.is_time THEN ds.range_start END AS range_start_integer,
                CASE WHEN NOT pd.is_time THEN ds.range_end END AS range_end_integer
           FROM _timescaledb_catalog.chunk ch
           {relation}
           LEFT JOIN primary_dimension pd ON pd.hypertable_id = ch.hypertable_id
           LEFT JOIN LATERAL (
                SELECT s.range_start, s.range_end
                  {slices}
                 LIMIT 1) ds ON true
          WHERE ch.id = ANY($1)"
    );
    let rows: Vec<ShapeRow> = sqlx::query_as(&sql).bind(ids).fetch_all(pool).await?;
    let found: HashSet<i32> = rows.iter().map(|r| r.id).collect();
    shapes
        .relationless
        .extend(ids.iter().filter(|id| !found.contains(id)));
    for row in rows {
        if compressed.contains(&row.id) {
            shapes.compressed.insert(row.id, row.oid);
            continue;
        }
        let schema = match shapes.schemas.get(row.schema.as_str()) {
            Some(schema) => Arc::clone(schema),
            None => {
                let schema: Arc<str> = row.schema.into();
                shapes.schemas.insert(Arc::clone(&schema));
                schema
            }
        };
        shapes.known.insert(
            row.id,
            Shape {
                hypertable_id: row.hypertable_id,
                schema,
                name: row.name.into_boxed_str(),
                oid: row.oid,
                order: row.sort_key,
                range_start: PgTimestamp::finite_or_none(row.range_start),
                range_end: PgTimestamp::finite_or_none(row.range_end),
                range_start_integer: row.range_start_integer,
                range_end_integer: row.range_end_integer,
            },
        );
    }
    Ok(())
}

/// What a pass reads of one relation.
#[derive(sqlx::FromRow)]
struct Live {
    oid: i64,
    reltuples: i64,
    tablespace: Option<String>,
    writes: i64,
    vacuums: i64,
    file: i64,
}

/// What compression recorded for a chunk.
#[derive(sqlx::FromRow)]
struct Recorded {
    chunk_id: i32,
    row_count: Option<i64>,
    before_bytes: i64,
    after_bytes: i64,
}

/// Every live chunk of every hypertable (internal compressed chunks and bench scratch
/// hypertables' excluded), by hypertable and range; shapes of new chunks are read and
/// kept, those of dropped ones forgotten.
pub async fn read(
    pool: &PgPool,
    catalog: CatalogShape,
    shapes: &mut Shapes,
) -> Result<Vec<ChunkRow>> {
    // Until 2.28 a compressed chunk's data sits in a chunk of its own (an internal
    // compressed hypertable's, left out of the list); from 2.29 in a relation that
    // compression_settings names. Either way its relation is what is sized.
    let sql = if catalog.chunk_relid {
        "SELECT ch.id, ch.status, NULL::int AS compressed_chunk_id,
                cs.compress_relid::oid::bigint AS compressed_oid
           FROM _timescaledb_catalog.chunk ch
           JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
                AND NOT starts_with(h.schema_name::text, $1)
           LEFT JOIN _timescaledb_catalog.compression_settings cs
                  ON cs.relid = ch.relid AND ch.status & 1 <> 0
          WHERE NOT ch.osm_chunk"
    } else {
        "SELECT ch.id, ch.status, ch.compressed_chunk_id, NULL::bigint AS compressed_oid
           FROM _timescaledb_catalog.chunk ch
           JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id AND h.compression_state <> 2
                AND NOT starts_with(h.schema_name::text, $1)
          WHERE NOT ch.osm_chunk"
    };
    let listed: Vec<(i32, i32, Option<i32>, Option<i64>)> = sqlx::query_as(sql)
        .bind(crate::bench::scratch::PREFIX)
        .fetch_all(pool)
        .await?;
    let chunk_ids: HashSet<i32> = listed.iter().map(|(id, _, _, _)| *id).collect();
    let compressed_ids: HashSet<i32> = listed.iter().filter_map(|(_, _, c, _)| *c).collect();
    shapes.known.retain(|id, _| chunk_ids.contains(id));
    shapes
        .compressed
        .retain(|id, _| compressed_ids.contains(id));
    shapes
        .relationless
        .retain(|id| chunk_ids.contains(id) || compressed_ids.contains(id));
    let unknown: Vec<i32> = chunk_ids
        .iter()
        .filter(|id| !shapes.known.contains_key(id))
        .chain(
            compressed_ids
                .iter()
                .filter(|id| !shapes.compressed.contains_key(id)),
        )
        .filter(|id| !shapes.relationless.contains(id))
        .copied()
        .collect();
    if !unknown.is_empty() {
        read_shapes(pool, catalog, shapes, &unknown, &compressed_ids).await?;
    }
    shapes
        .schemas
        .retain(|schema| Arc::strong_count(schema) > 1);

    let oids: Vec<i64> = shapes
        .known
        .values()
        .map(|s| s.oid)
        .chain(shapes.compressed.values().copied())
        .chain(listed.iter().filter_map(|(_, _, _, oid)| *oid))
        .collect();
    let live: Vec<Live> = sqlx::query_as(
        "SELECT c.oid::bigint AS oid, greatest(c.reltuples, 0)::bigint AS reltuples,
                t.spcname::text AS tablespace,
                pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
                    + pg_stat_get_tuples_deleted(c.oid) AS writes,
                pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid) AS vacuums,
                c.relfilenode::bigint AS file
           FROM pg_class c
           LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
          WHERE c.oid = ANY($1::bigint[]::oid[])",
    )
    .bind(&oids)
    .fetch_all(pool)
    .await?;
    // Sorted and searched rather than hashed: no second copy of 75,000 rows at 50,000
    // chunks.
    let mut live = live;
    live.sort_unstable_by_key(|l| l.oid);
    let live_of = |oid: i64| {
        live.binary_search_by_key(&oid, |l| l.oid)
            .ok()
            .map(|i| &live[i])
    };
    let recorded: Vec<Recorded> = sqlx::query_as(
        "SELECT chunk_id, numrows_pre_compression AS row_count,
                uncompressed_heap_size + uncompressed_toast_size + uncompressed_index_size
                    AS before_bytes,
                compressed_heap_size + compressed_toast_size + compressed_index_size AS after_bytes
           FROM _timescaledb_catalog.compression_chunk_size",
    )
    .fetch_all(pool)
    .await?;
    let recorded: HashMap<i32, Recorded> = recorded.into_iter().map(|r| (r.chunk_id, r)).collect();

    let mut rows = Vec::with_capacity(listed.len());
    for (id, status, compressed_id, compressed_oid) in listed {
        // A chunk dropped since the list was read has no relation left: it is not listed.
        let Some((shape, own)) = shapes
            .known
            .get(&id)
            .and_then(|shape| Some((shape, live_of(shape.oid)?)))
        else {
            continue;
        };
        let compressed = compressed_id
            .and_then(|cid| shapes.compressed.get(&cid).copied())
            .or(compressed_oid)
            .and_then(live_of);
        let is_compressed = status & 1 != 0;
        // As hypertable_compression_stats: only compressed chunks have them.
        let recorded = recorded.get(&id).filter(|_| is_compressed);
        // Rows counted at compression, plus the planner's estimate of rows written since
        // (partial) or of all rows (uncompressed).
        let counted = recorded.and_then(|r| r.row_count).unwrap_or(0);
        let approximate_rows = match (is_compressed, status & 8 != 0) {
            (false, _) => own.reltuples,
            (true, true) => counted + own.reltuples,
            (true, false) => counted,
        };
        rows.push((
            shape.order,
            ChunkRow {
                id,
                hypertable_id: shape.hypertable_id,
                schema: shape.schema.to_string(),
                name: shape.name.to_string(),
                oid: shape.oid,
                status,
                compressed_oid: compressed.map(|c| c.oid),
                range_start: shape.range_start,
                range_end: shape.range_end,
                range_start_integer: shape.range_start_integer,
                range_end_integer: shape.range_end_integer,
                tablespace: own.tablespace.clone(),
                approximate_rows,
                before_compression_bytes: recorded.map(|r| r.before_bytes),
                after_compression_bytes: recorded.map(|r| r.after_bytes),
                activity: Activity {
                    writes: own.writes + compressed.map_or(0, |c| c.writes),
                    vacuums: own.vacuums + compressed.map_or(0, |c| c.vacuums),
                    file: own.file,
                    compressed_file: compressed.map(|c| c.file),
                },
            },
        ));
    }
    // As the one-query form ordered them: by hypertable, range (open-ended last), id.
    rows.sort_by_key(|(order, row)| (row.hypertable_id, order.is_none(), *order, row.id));
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}
