//! The demo's storage history, reconstructed from today's chunks so the trends page means
//! something right after `make run`: at each past moment a hypertable held the chunks that
//! had started by then (the newest one partly filled), each raw until its compress-after
//! had passed and compressed (at its measured size) from then on. Continuous aggregates
//! grow with their source; the rest of the database stays as it is now. Chunks already
//! dropped by a retention policy are not in the catalog, so the history starts at the
//! oldest chunk still there. Every sample is marked `generated`.

use super::{RelationKind, StorageSample};
use crate::facts::{ChunkFacts, HypertableFacts, Snapshot};
use crate::interval::postgres_interval_seconds;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Samples every `step` from each table's oldest chunk up to (not including) the
/// snapshot's time.
pub fn reconstruct(snapshot: &Snapshot, step: Duration) -> Vec<StorageSample> {
    let now = snapshot.taken_at;
    if step <= Duration::zero() {
        return Vec::new();
    }
    let mut by_table: HashMap<String, Vec<&ChunkFacts>> = HashMap::new();
    for chunk in snapshot.chunks.iter().filter(|c| c.range_start.is_some()) {
        by_table.entry(chunk.hypertable()).or_default().push(chunk);
    }
    let Some(start) = by_table
        .values()
        .flatten()
        .filter_map(|c| c.range_start)
        .min()
    else {
        return Vec::new();
    };
    let tables: Vec<(&HypertableFacts, &[&ChunkFacts])> = snapshot
        .hypertables
        .iter()
        .filter_map(|h| Some((h, by_table.get(&h.qualified())?.as_slice())))
        .collect();
    let measured_now: i64 = snapshot
        .hypertables
        .iter()
        .map(|h| h.total_bytes)
        .sum::<i64>()
        + snapshot
            .continuous_aggregates
            .iter()
            .map(|c| c.materialized_bytes)
            .sum::<i64>();
    let rest_of_database = (snapshot.database.size_bytes - measured_now).max(0);
    let untracked: i64 = snapshot
        .hypertables
        .iter()
        .filter(|h| !by_table.contains_key(&h.qualified()))
        .map(|h| h.total_bytes)
        .sum();

    let mut samples = Vec::new();
    let mut at = start + step;
    while at < now {
        let mut database = rest_of_database + untracked;
        let mut share_by_source: HashMap<String, f64> = HashMap::new();
        for (table, chunks) in &tables {
            let sample = table_at(table, chunks, at, now);
            let raw_now: i64 = chunks.iter().map(|c| raw_bytes(c)).sum();
            if raw_now > 0 {
                share_by_source.insert(
                    table.qualified(),
                    sample.raw_equivalent_bytes() as f64 / raw_now as f64,
                );
            }
            database += sample.total_bytes;
            samples.push(sample);
        }
        for cagg in &snapshot.continuous_aggregates {
            let share = share_by_source.get(&cagg.source).copied().unwrap_or(1.0);
            let bytes = (cagg.materialized_bytes as f64 * share.min(1.0)).round() as i64;
            database += bytes;
            samples.push(StorageSample {
                sampled_at: at,
                kind: RelationKind::ContinuousAggregate,
                relation: crate::ident::display_name(&cagg.schema, &cagg.name),
                total_bytes: bytes,
                compressed_bytes: 0,
                uncompressed_bytes: bytes,
                before_compression_bytes: 0,
                chunk_count: 0,
                compressed_chunk_count: 0,
                approximate_rows: 0,
                generated: true,
            });
        }
        samples.push(StorageSample {
            sampled_at: at,
            kind: RelationKind::Database,
            relation: snapshot.database.name.clone(),
            total_bytes: database,
            compressed_bytes: 0,
            uncompressed_bytes: database,
            before_compression_bytes: 0,
            chunk_count: 0,
            compressed_chunk_count: 0,
            approximate_rows: 0,
            generated: true,
        });
        at += step;
    }
    samples
}

/// What a chunk held before compression (its size now when it is not compressed).
fn raw_bytes(chunk: &ChunkFacts) -> i64 {
    if chunk.is_compressed {
        chunk.before_compression_bytes.unwrap_or(chunk.total_bytes)
    } else {
        chunk.total_bytes
    }
}

/// One table's sample at `at`.
fn table_at(
    table: &HypertableFacts,
    chunks: &[&ChunkFacts],
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StorageSample {
    // The policy's compress-after; without one (not applied yet, or compressed by hand)
    // the youngest compressed chunk's age bounds it.
    let compress_after = table
        .compress_after
        .as_deref()
        .and_then(postgres_interval_seconds)
        .map(Duration::seconds)
        .or_else(|| {
            chunks
                .iter()
                .filter(|c| c.is_compressed)
                .filter_map(|c| c.range_end)
                .max()
                .map(|end| (now - end).max(Duration::zero()))
        })
        .unwrap_or_else(Duration::zero);
    let parent = (table.total_bytes - chunks.iter().map(|c| c.total_bytes).sum::<i64>()).max(0);
    let raw_total: i64 = chunks.iter().map(|c| raw_bytes(c)).sum();
    let mut sample = StorageSample {
        sampled_at: at,
        kind: RelationKind::Hypertable,
        relation: table.qualified(),
        total_bytes: 0,
        compressed_bytes: 0,
        uncompressed_bytes: parent,
        before_compression_bytes: 0,
        chunk_count: 0,
        compressed_chunk_count: 0,
        approximate_rows: 0,
        generated: true,
    };
    for chunk in chunks {
        let (Some(start), Some(end)) = (chunk.range_start, chunk.range_end) else {
            continue;
        };
        if start >= at {
            continue;
        }
        // Data arrives until the chunk's end or now, whichever is first.
        let data_end = end.min(now);
        let span = (data_end - start).num_seconds().max(1) as f64;
        let filled = ((at.min(data_end) - start).num_seconds() as f64 / span).clamp(0.0, 1.0);
        let raw = raw_bytes(chunk);
        sample.chunk_count += 1;
        if chunk.is_compressed && at >= end + compress_after {
            sample.compressed_chunk_count += 1;
            sample.compressed_bytes += chunk.total_bytes;
            sample.before_compression_bytes += raw;
        } else {
            sample.uncompressed_bytes += (raw as f64 * filled).round() as i64;
        }
    }
    sample.total_bytes = sample.compressed_bytes + sample.uncompressed_bytes;
    if raw_total > 0 {
        let held = (sample.raw_equivalent_bytes() - parent).max(0) as f64 / raw_total as f64;
        sample.approximate_rows = (table.approximate_rows as f64 * held).round() as i64;
    }
    sample
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::{chunk, snapshot, table};
    use chrono::TimeZone;

    #[test]
    fn chunks_fill_up_and_compress_once_their_compress_after_has_passed() {
        let day0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let now = day0 + Duration::hours(60);
        let mut snap = snapshot(now, 10_000);
        let mut metrics = table("metrics");
        metrics.compress_after = Some("1 day".into());
        snap.chunks = vec![
            chunk("metrics", day0, 1_000, Some(100)),
            chunk("metrics", day0 + Duration::days(1), 1_000, None),
            chunk("metrics", day0 + Duration::days(2), 500, None),
        ];
        metrics.total_bytes = 100 + 1_000 + 500 + 50;
        metrics.approximate_rows = 2_500;
        snap.hypertables = vec![metrics];
        let samples = reconstruct(&snap, Duration::hours(12));
        let of = |kind: RelationKind, hours: i64| {
            samples
                .iter()
                .find(|s| s.kind == kind && s.sampled_at == day0 + Duration::hours(hours))
                .unwrap_or_else(|| panic!("a {kind:?} sample at {hours} h"))
        };
        assert!(samples.iter().all(|s| s.generated && s.sampled_at < now));
        // Half a day into the first chunk: half of its raw bytes, plus the parent's 50.
        let half = of(RelationKind::Hypertable, 12);
        assert_eq!((half.uncompressed_bytes, half.compressed_bytes), (550, 0));
        // The first chunk ends at 24 h and compresses at 48 h (compress after 1 day).
        let before = of(RelationKind::Hypertable, 36);
        assert_eq!(before.compressed_chunk_count, 0);
        assert_eq!(before.total_bytes, 50 + 1_000 + 500);
        let after = of(RelationKind::Hypertable, 48);
        assert_eq!(after.compressed_chunk_count, 1);
        assert_eq!(after.compressed_bytes, 100);
        assert_eq!(after.before_compression_bytes, 1_000);
        assert_eq!(after.raw_equivalent_bytes(), 50 + 2_000);
        // The database is the table plus what is not in any table.
        let rest = 10_000 - snap.hypertables[0].total_bytes;
        assert_eq!(
            of(RelationKind::Database, 48).total_bytes,
            rest + after.total_bytes
        );
        // Raw-equivalent bytes never shrink: nothing was dropped.
        let raw: Vec<i64> = samples
            .iter()
            .filter(|s| s.kind == RelationKind::Hypertable)
            .map(StorageSample::raw_equivalent_bytes)
            .collect();
        assert!(raw.windows(2).all(|w| w[0] <= w[1]), "{raw:?}");
    }
}
