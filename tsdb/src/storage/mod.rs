//! Storage over time: samples of what each hypertable, continuous aggregate and the
//! database hold (`history`, written by the sampler), the trends read from them, the
//! policy-aware forecast and what a policy change would buy (`outlook`), and the demo's
//! reconstruction of past samples from today's chunks (`backfill`). Everything but
//! `history` is pure and compiles for wasm32.

pub mod backfill;
pub mod forecast;
#[cfg(feature = "db")]
pub mod history;
pub mod outlook;
mod size;
pub mod trends;

pub use size::{parse_size, SizeError};

use crate::facts::Snapshot;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a sample measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RelationKind {
    /// A hypertable (its chunks, indexes and TOAST).
    Hypertable,
    /// A continuous aggregate's materialization.
    ContinuousAggregate,
    /// The whole database (`pg_database_size`).
    Database,
}

impl RelationKind {
    /// The name stored in the history table.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Hypertable => "hypertable",
            RelationKind::ContinuousAggregate => "continuous_aggregate",
            RelationKind::Database => "database",
        }
    }

    /// The kind a stored name stands for.
    pub fn from_stored(name: &str) -> Option<Self> {
        match name {
            "hypertable" => Some(RelationKind::Hypertable),
            "continuous_aggregate" => Some(RelationKind::ContinuousAggregate),
            "database" => Some(RelationKind::Database),
            _ => None,
        }
    }
}

/// One relation's storage at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageSample {
    /// When (every relation of one pass shares the pass's time).
    pub sampled_at: DateTime<Utc>,
    /// What was measured.
    pub kind: RelationKind,
    /// `schema.name`, or the database's name.
    pub relation: String,
    /// Everything on disk.
    pub total_bytes: i64,
    /// Compressed chunks, as compressed.
    pub compressed_bytes: i64,
    /// Everything else (uncompressed chunks, the parent, indexes of those).
    pub uncompressed_bytes: i64,
    /// What the compressed chunks held before compression.
    pub before_compression_bytes: i64,
    /// Chunks.
    pub chunk_count: i64,
    /// Compressed chunks.
    pub compressed_chunk_count: i64,
    /// Estimated rows.
    pub approximate_rows: i64,
    /// Reconstructed (the demo's back-fill), not measured.
    pub generated: bool,
}

impl StorageSample {
    /// The bytes the relation would take with nothing compressed: what was ingested and
    /// is still kept.
    pub fn raw_equivalent_bytes(&self) -> i64 {
        self.uncompressed_bytes + self.before_compression_bytes
    }
}

/// The samples one monitoring snapshot gives: every hypertable, every continuous
/// aggregate and the database, all at the snapshot's time.
pub fn samples_of(snapshot: &Snapshot) -> Vec<StorageSample> {
    let at = snapshot.taken_at;
    let mut samples: Vec<StorageSample> = snapshot
        .hypertables
        .iter()
        .map(|h| StorageSample {
            sampled_at: at,
            kind: RelationKind::Hypertable,
            relation: h.qualified(),
            total_bytes: h.total_bytes,
            compressed_bytes: h.after_compression_bytes,
            uncompressed_bytes: (h.total_bytes - h.after_compression_bytes).max(0),
            before_compression_bytes: h.before_compression_bytes,
            chunk_count: h.chunk_count,
            compressed_chunk_count: h.compressed_chunk_count,
            approximate_rows: h.approximate_rows,
            generated: false,
        })
        .collect();
    samples.extend(
        snapshot
            .continuous_aggregates
            .iter()
            .map(|c| StorageSample {
                sampled_at: at,
                kind: RelationKind::ContinuousAggregate,
                relation: crate::ident::display_name(&c.schema, &c.name),
                total_bytes: c.materialized_bytes,
                compressed_bytes: 0,
                uncompressed_bytes: c.materialized_bytes,
                before_compression_bytes: 0,
                chunk_count: 0,
                compressed_chunk_count: 0,
                approximate_rows: 0,
                generated: false,
            }),
    );
    samples.push(StorageSample {
        sampled_at: at,
        kind: RelationKind::Database,
        relation: snapshot.database.name.clone(),
        total_bytes: snapshot.database.size_bytes,
        compressed_bytes: 0,
        uncompressed_bytes: snapshot.database.size_bytes,
        before_compression_bytes: 0,
        chunk_count: 0,
        compressed_chunk_count: 0,
        approximate_rows: 0,
        generated: false,
    });
    samples
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Snapshots built by hand for the storage tests.
    use crate::facts::*;
    use chrono::{DateTime, Duration, Utc};

    /// A snapshot at `now` of a database of `size` bytes.
    pub fn snapshot(now: DateTime<Utc>, size: i64) -> Snapshot {
        let database = DatabaseFacts {
            name: "ms5".into(),
            server_version: "17".into(),
            size_bytes: size,
            connections: 1,
            max_connections: 100,
        };
        Snapshot {
            taken_at: now,
            ..Snapshot::without_timescaledb(database, 0.1)
        }
    }

    /// A hypertable `s.name` with nothing in it.
    pub fn table(name: &str) -> HypertableFacts {
        HypertableFacts {
            schema: "s".into(),
            name: name.into(),
            dimensions: Vec::new(),
            table_bytes: 0,
            index_bytes: 0,
            toast_bytes: 0,
            total_bytes: 0,
            chunk_count: 0,
            compressed_chunk_count: 0,
            before_compression_bytes: 0,
            after_compression_bytes: 0,
            compression_ratio: None,
            approximate_rows: 0,
            compression_enabled: false,
            segment_by: Vec::new(),
            order_by: Vec::new(),
            compress_after: None,
            backlog_chunks: 0,
            backlog_bytes: 0,
        }
    }

    /// A one-day chunk of `s.table` starting `start`, of `bytes` (compressed to `after`).
    pub fn chunk(table: &str, start: DateTime<Utc>, bytes: i64, after: Option<i64>) -> ChunkFacts {
        ChunkFacts {
            hypertable_schema: "s".into(),
            hypertable_name: table.into(),
            schema: "_timescaledb_internal".into(),
            name: format!("_hyper_{}", start.timestamp()),
            range_start: Some(start),
            range_end: Some(start + Duration::days(1)),
            range_start_integer: None,
            range_end_integer: None,
            total_bytes: after.unwrap_or(bytes),
            is_compressed: after.is_some(),
            before_compression_bytes: after.map(|_| bytes),
            after_compression_bytes: after,
            tablespace: None,
            in_backlog: false,
        }
    }
}
