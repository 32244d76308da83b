//! Relation sizes, the expensive part of a pass: each is a file-system look-up. Computed
//! as TimescaleDB's `relation_size` does (heap = every fork of the main relation, index
//! = all indexes, toast = the TOAST table with its index), in batches, and cached for
//! compressed chunks whose status has not changed since they were sized.

use super::catalog::{ChunkRow, TableRow};
use crate::Result;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Oids per size statement: short statements let other work use the connection between.
const BATCH: usize = 500;

/// Cached sizes older than this are re-read anyway (autovacuum adds free-space and
/// visibility maps to freshly compressed chunks), a slice per pass.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// Bytes of one relation or of a chunk with its compressed relation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bytes {
    /// Heap (all forks).
    pub table: i64,
    /// Indexes.
    pub index: i64,
    /// TOAST.
    pub toast: i64,
    /// Total.
    pub total: i64,
}

impl std::ops::Add for Bytes {
    type Output = Bytes;
    fn add(self, other: Bytes) -> Bytes {
        Bytes {
            table: self.table + other.table,
            index: self.index + other.index,
            toast: self.toast + other.toast,
            total: self.total + other.total,
        }
    }
}

#[derive(Debug, Clone)]
struct Cached {
    status: i32,
    compressed_oid: Option<i64>,
    bytes: Bytes,
    sized_at: Instant,
}

/// Sizes kept between passes.
#[derive(Debug, Default)]
pub struct SizeCache {
    chunks: HashMap<i32, Cached>,
    parents: HashMap<i32, Bytes>,
    /// `pg_database_size` reads every file of the database: taken on full passes and
    /// at most every few minutes otherwise.
    pub(super) database_bytes: Option<(i64, Instant)>,
}

impl SizeCache {
    /// A chunk's bytes (with its compressed relation), as of the last pass.
    pub fn chunk(&self, id: i32) -> Bytes {
        self.chunks.get(&id).map(|c| c.bytes).unwrap_or_default()
    }

    /// A hypertable's parent relation's bytes.
    pub fn parent(&self, id: i32) -> Bytes {
        self.parents.get(&id).copied().unwrap_or_default()
    }

    /// How many chunks have cached sizes.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// A fully compressed chunk that is neither partial nor unordered: its relations only
/// change when its status does.
fn settled(status: i32) -> bool {
    status & 1 != 0 && status & (2 | 8) == 0
}

async fn sizes_of(pool: &PgPool, oids: &[i64]) -> Result<HashMap<i64, Bytes>> {
    let mut found = HashMap::with_capacity(oids.len());
    for batch in oids.chunks(BATCH) {
        // pg_total_relation_size = pg_table_size + pg_indexes_size, so reading those two
        // (and the TOAST table once) gives relation_size's four figures without reading
        // any file twice but the TOAST table's.
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT c.oid::bigint,
                    pg_table_size(c.oid),
                    pg_indexes_size(c.oid),
                    COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
               FROM pg_class c
              WHERE c.oid = ANY($1::bigint[]::oid[])",
        )
        .bind(batch)
        .fetch_all(pool)
        .await?;
        for (oid, table_with_toast, index, toast) in rows {
            found.insert(
                oid,
                Bytes {
                    table: table_with_toast - toast,
                    index,
                    toast,
                    total: table_with_toast + index,
                },
            );
        }
    }
    Ok(found)
}

/// Brings the cache up to date for `tables` and `chunks`; returns how many relations were
/// read from disk. `full` re-reads everything.
pub async fn refresh(
    pool: &PgPool,
    cache: &mut SizeCache,
    tables: &HashMap<i32, TableRow>,
    chunks: &[ChunkRow],
    full: bool,
) -> Result<i64> {
    let now = Instant::now();
    let mut stale_budget = chunks.len() / 10 + 1;
    let mut wanted: Vec<i64> = tables.values().map(|t| t.oid).collect();
    let mut resize: Vec<&ChunkRow> = Vec::new();
    for chunk in chunks {
        let reuse = !full
            && settled(chunk.status)
            && cache.chunks.get(&chunk.id).is_some_and(|c| {
                c.status == chunk.status
                    && c.compressed_oid == chunk.compressed_oid
                    && (now.duration_since(c.sized_at) < MAX_AGE || {
                        // Old entries are refreshed a slice at a time.
                        let keep = stale_budget == 0;
                        stale_budget = stale_budget.saturating_sub(1);
                        keep
                    })
            });
        if !reuse {
            wanted.push(chunk.oid);
            wanted.extend(chunk.compressed_oid);
            resize.push(chunk);
        }
    }
    let sizes = sizes_of(pool, &wanted).await?;
    cache.parents = tables
        .iter()
        .map(|(id, t)| (*id, sizes.get(&t.oid).copied().unwrap_or_default()))
        .collect();
    for chunk in resize {
        let own = sizes.get(&chunk.oid).copied().unwrap_or_default();
        let compressed = chunk
            .compressed_oid
            .and_then(|oid| sizes.get(&oid).copied())
            .unwrap_or_default();
        cache.chunks.insert(
            chunk.id,
            Cached {
                status: chunk.status,
                compressed_oid: chunk.compressed_oid,
                bytes: own + compressed,
                sized_at: now,
            },
        );
    }
    // Dropped chunks leave the cache.
    let live: std::collections::HashSet<i32> = chunks.iter().map(|c| c.id).collect();
    cache.chunks.retain(|id, _| live.contains(id));
    Ok(wanted.len() as i64)
}
