//! Relation sizes, the expensive part of a pass: each is a file-system look-up. Computed
//! as TimescaleDB's `relation_size` does (heap = every fork of the main relation, index
//! = all indexes, toast = the TOAST table with its index), in batches, and cached between
//! passes so that an incremental pass reads what may have changed, not every chunk:
//!
//! - a compressed chunk (neither partial nor unordered) until its status changes;
//! - any other chunk, and a hypertable's parent relation, until PostgreSQL's write or
//!   vacuum counters or its file number change ([`Activity`]), except the chunk whose time
//!   range holds the present, which takes the live writes and is read every pass (its
//!   counters may not be published yet);
//! - and every cached size is read again after a while anyway ([`MAX_AGE`],
//!   [`UNSETTLED_MAX_AGE`]), a slice per pass, for changes no counter shows (a new index)
//!   and for PGlite, whose counters never move.
//!
//! So a size can lag a write by the counters' publication delay (about 10 s on
//! PostgreSQL 15+) plus one pass, or by [`UNCOUNTED_MAX_AGE`] where nothing counts writes.
//! A full pass reads everything.

use super::catalog::TableRow;
use super::chunks::{Activity, ChunkRow, Shapes};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Oids per size statement: short statements let other work use the connection between.
const BATCH: usize = 500;

/// Cached sizes of compressed chunks older than this are re-read anyway (autovacuum adds
/// free-space and visibility maps to freshly compressed chunks), a slice per pass.
pub const MAX_AGE: Duration = Duration::from_secs(3600);

/// Cached sizes of other chunks older than this are re-read anyway, a slice per pass: a
/// safety net for what no counter shows, so long enough that at the default 30-second
/// interval it costs a twentieth of the uncompressed chunks per pass.
pub const UNSETTLED_MAX_AGE: Duration = Duration::from_secs(600);

/// The same where nothing counts writes (PGlite): the periodic re-read is then what shows
/// a backfill into an old chunk, so it comes round within about a minute.
pub const UNCOUNTED_MAX_AGE: Duration = Duration::from_secs(60);

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
    activity: Activity,
    bytes: Bytes,
    sized_at: Instant,
}

/// A hypertable's parent relation's size, as last read.
#[derive(Debug, Clone)]
struct CachedParent {
    oid: i64,
    activity: Activity,
    bytes: Bytes,
    sized_at: Instant,
}

/// What an incremental pass does with a chunk's cached size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Still good.
    Reuse,
    /// May have changed: read it.
    Read,
    /// Nothing says it changed, but it is old: read it if this pass's slice has room.
    Aged,
}

/// Whether `chunk`'s cached size (taken `age` ago) is still good at `now`.
fn verdict(
    cached: Option<&Cached>,
    chunk: &ChunkRow,
    age: Duration,
    now: DateTime<Utc>,
    unsettled_max_age: Duration,
) -> Verdict {
    let Some(cached) = cached else {
        return Verdict::Read;
    };
    if cached.status != chunk.status || cached.compressed_oid != chunk.compressed_oid {
        return Verdict::Read;
    }
    let max_age = if settled(chunk.status) {
        MAX_AGE
    } else {
        let current = matches!((chunk.range_start, chunk.range_end),
            (Some(start), Some(end)) if start <= now && now < end);
        if current || cached.activity != chunk.activity {
            return Verdict::Read;
        }
        unsettled_max_age
    };
    by_age(age, max_age)
}

fn by_age(age: Duration, max_age: Duration) -> Verdict {
    if age < max_age {
        Verdict::Reuse
    } else {
        Verdict::Aged
    }
}

/// Whether a parent relation's cached size (taken `age` ago) is still good: parents are
/// written only by rows inserted with `ONLY`, so the counters decide as for a chunk.
fn parent_verdict(
    cached: Option<&CachedParent>,
    table: &TableRow,
    age: Duration,
    max_age: Duration,
) -> Verdict {
    match cached {
        Some(c) if c.oid == table.oid && c.activity == table.activity => by_age(age, max_age),
        _ => Verdict::Read,
    }
}

/// How many sizes an incremental pass re-reads only because they are old: a tenth of the
/// chunks, so that a cache that aged all at once is refreshed over ten passes.
struct Slice(usize);

impl Slice {
    /// Whether to read a size with this verdict.
    fn read(&mut self, verdict: Verdict) -> bool {
        match verdict {
            Verdict::Reuse => false,
            Verdict::Read => true,
            Verdict::Aged => {
                let room = self.0 > 0;
                self.0 = self.0.saturating_sub(1);
                room
            }
        }
    }
}

/// What one pass keeps for the next: relation sizes, chunk shapes, the database size.
#[derive(Debug, Default)]
pub struct PassCache {
    chunks: HashMap<i32, Cached>,
    /// What each chunk is (names, relation, range), read once per chunk.
    pub(super) shapes: Shapes,
    parents: HashMap<i32, CachedParent>,
    /// `pg_database_size` reads every file of the database: taken on full passes and
    /// at most every few minutes otherwise.
    pub(super) database_bytes: Option<(i64, Instant)>,
}

impl PassCache {
    /// A chunk's bytes (with its compressed relation), as of the last pass.
    pub fn chunk(&self, id: i32) -> Bytes {
        self.chunks.get(&id).map(|c| c.bytes).unwrap_or_default()
    }

    /// A hypertable's parent relation's bytes.
    pub fn parent(&self, id: i32) -> Bytes {
        self.parents.get(&id).map(|p| p.bytes).unwrap_or_default()
    }

    /// How many chunks have cached sizes.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Makes every cached size `by` older, so that a benchmark can measure the pass that
    /// finds old sizes due for their periodic re-read.
    #[cfg(feature = "test-support")]
    pub fn backdate(&mut self, by: Duration) {
        let older = |at: Instant| at.checked_sub(by).unwrap_or(at);
        for cached in self.chunks.values_mut() {
            cached.sized_at = older(cached.sized_at);
        }
        for cached in self.parents.values_mut() {
            cached.sized_at = older(cached.sized_at);
        }
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
/// read from disk. `full` re-reads everything; `counted`: the server publishes write
/// counters (otherwise unwritten-looking sizes are re-read sooner).
pub async fn refresh(
    pool: &PgPool,
    cache: &mut PassCache,
    tables: &HashMap<i32, TableRow>,
    chunks: &[ChunkRow],
    full: bool,
    counted: bool,
) -> Result<i64> {
    let unsettled_max_age = if counted {
        UNSETTLED_MAX_AGE
    } else {
        UNCOUNTED_MAX_AGE
    };
    let now = Instant::now();
    let wall = Utc::now();
    let age = |at: Instant| now.duration_since(at);
    let mut slice = Slice(chunks.len() / 10 + 1);
    let mut wanted: Vec<i64> = Vec::new();
    let mut reparent: Vec<(i32, &TableRow)> = Vec::new();
    for (id, table) in tables {
        let cached = cache.parents.get(id);
        let verdict = parent_verdict(
            cached,
            table,
            cached.map_or(Duration::MAX, |c| age(c.sized_at)),
            unsettled_max_age,
        );
        if full || slice.read(verdict) {
            wanted.push(table.oid);
            reparent.push((*id, table));
        }
    }
    let mut resize: Vec<&ChunkRow> = Vec::new();
    for chunk in chunks {
        let cached = cache.chunks.get(&chunk.id);
        let verdict = verdict(
            cached,
            chunk,
            cached.map_or(Duration::MAX, |c| age(c.sized_at)),
            wall,
            unsettled_max_age,
        );
        if full || slice.read(verdict) {
            wanted.push(chunk.oid);
            wanted.extend(chunk.compressed_oid);
            resize.push(chunk);
        }
    }
    let sizes = sizes_of(pool, &wanted).await?;
    for (id, table) in reparent {
        cache.parents.insert(
            id,
            CachedParent {
                oid: table.oid,
                activity: table.activity,
                bytes: sizes.get(&table.oid).copied().unwrap_or_default(),
                sized_at: now,
            },
        );
    }
    cache.parents.retain(|id, _| tables.contains_key(id));
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
                activity: chunk.activity,
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, hour, 0, 0).unwrap()
    }

    /// An uncompressed one-hour chunk from `hour`, written `writes` times.
    fn chunk(hour: u32, status: i32, writes: i64) -> ChunkRow {
        ChunkRow {
            id: 1,
            hypertable_id: 1,
            schema: "_timescaledb_internal".into(),
            name: "_hyper_1_1_chunk".into(),
            oid: 100,
            status,
            compressed_oid: (status & 1 != 0).then_some(200),
            range_start: Some(at(hour)),
            range_end: Some(at(hour + 1)),
            range_start_integer: None,
            range_end_integer: None,
            tablespace: None,
            approximate_rows: 0,
            before_compression_bytes: None,
            after_compression_bytes: None,
            activity: Activity {
                writes,
                vacuums: 0,
                file: 300,
                compressed_file: None,
            },
        }
    }

    fn cached(of: &ChunkRow) -> Cached {
        Cached {
            status: of.status,
            compressed_oid: of.compressed_oid,
            activity: of.activity,
            bytes: Bytes::default(),
            sized_at: Instant::now(),
        }
    }

    const FRESH: Duration = Duration::from_secs(5);

    #[test]
    fn an_unwritten_old_chunk_is_reused_until_it_ages() {
        let old = chunk(3, 0, 40);
        let entry = cached(&old);
        assert_eq!(
            verdict(Some(&entry), &old, FRESH, at(12), UNSETTLED_MAX_AGE),
            Verdict::Reuse
        );
        assert_eq!(
            verdict(
                Some(&entry),
                &old,
                UNSETTLED_MAX_AGE,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Aged
        );
        assert_eq!(
            verdict(None, &old, FRESH, at(12), UNSETTLED_MAX_AGE),
            Verdict::Read
        );
        // Where nothing counts writes, a minute is old.
        assert_eq!(
            verdict(
                Some(&entry),
                &old,
                UNCOUNTED_MAX_AGE,
                at(12),
                UNCOUNTED_MAX_AGE
            ),
            Verdict::Aged
        );
    }

    #[test]
    fn counters_file_numbers_and_status_each_force_a_read() {
        let before = chunk(3, 0, 40);
        let entry = cached(&before);
        assert_eq!(
            verdict(
                Some(&entry),
                &chunk(3, 0, 41),
                FRESH,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Read
        );
        let mut vacuumed = before.clone();
        vacuumed.activity.vacuums += 1;
        assert_eq!(
            verdict(Some(&entry), &vacuumed, FRESH, at(12), UNSETTLED_MAX_AGE),
            Verdict::Read
        );
        let mut truncated = before.clone();
        truncated.activity.file = 301;
        assert_eq!(
            verdict(Some(&entry), &truncated, FRESH, at(12), UNSETTLED_MAX_AGE),
            Verdict::Read
        );
        assert_eq!(
            verdict(
                Some(&entry),
                &chunk(3, 1, 40),
                FRESH,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Read
        );
    }

    #[test]
    fn the_chunk_holding_the_present_is_read_every_pass() {
        let current = chunk(12, 0, 40);
        let entry = cached(&current);
        assert_eq!(
            verdict(
                Some(&entry),
                &current,
                Duration::ZERO,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Read
        );
        // An hour later it is an ordinary old chunk.
        assert_eq!(
            verdict(Some(&entry), &current, FRESH, at(13), UNSETTLED_MAX_AGE),
            Verdict::Reuse
        );
    }

    #[test]
    fn a_parent_is_read_again_when_written_replaced_or_old() {
        let table = TableRow {
            schema: "s".into(),
            name: "t".into(),
            oid: 50,
            activity: Activity::default(),
            compression_enabled: false,
            is_materialization: false,
            dimensions: Vec::new(),
            segment_by: Vec::new(),
            order_by: Vec::new(),
        };
        let entry = CachedParent {
            oid: 50,
            activity: Activity::default(),
            bytes: Bytes::default(),
            sized_at: Instant::now(),
        };
        assert_eq!(
            parent_verdict(Some(&entry), &table, FRESH, UNSETTLED_MAX_AGE),
            Verdict::Reuse
        );
        assert_eq!(
            parent_verdict(Some(&entry), &table, UNSETTLED_MAX_AGE, UNSETTLED_MAX_AGE),
            Verdict::Aged
        );
        let mut written = table.clone();
        written.activity.writes = 1;
        assert_eq!(
            parent_verdict(Some(&entry), &written, FRESH, UNSETTLED_MAX_AGE),
            Verdict::Read
        );
        let mut recreated = table.clone();
        recreated.oid = 51;
        assert_eq!(
            parent_verdict(Some(&entry), &recreated, FRESH, UNSETTLED_MAX_AGE),
            Verdict::Read
        );
        assert_eq!(
            parent_verdict(None, &table, FRESH, UNSETTLED_MAX_AGE),
            Verdict::Read
        );
    }

    #[test]
    fn old_sizes_are_read_a_slice_at_a_time() {
        let mut slice = Slice(2);
        let aged: Vec<bool> = (0..4).map(|_| slice.read(Verdict::Aged)).collect();
        assert_eq!(aged, [true, true, false, false]);
        // What may have changed is read whatever the slice has left.
        assert!(slice.read(Verdict::Read));
        assert!(!slice.read(Verdict::Reuse));
    }

    #[test]
    fn a_settled_compressed_chunk_ignores_counters_and_lasts_an_hour() {
        let compressed = chunk(12, 1, 40);
        let entry = cached(&compressed);
        assert_eq!(
            verdict(
                Some(&entry),
                &chunk(12, 1, 99),
                UNSETTLED_MAX_AGE,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Reuse
        );
        assert_eq!(
            verdict(
                Some(&entry),
                &compressed,
                MAX_AGE,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Aged
        );
        // Partial (1 | 8): written after compression, so judged like an uncompressed one.
        let partial = chunk(3, 9, 40);
        let entry = cached(&partial);
        assert_eq!(
            verdict(
                Some(&entry),
                &chunk(3, 9, 41),
                FRESH,
                at(12),
                UNSETTLED_MAX_AGE
            ),
            Verdict::Read
        );
    }
}
