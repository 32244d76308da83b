//! The catalog contract: every internal relation, column and function of TimescaleDB the
//! console reads (the fast catalog pass, a dry-run's row counts, a chunk's status, a
//! continuous aggregate's watermark), in one list per catalog shape. TimescaleDB changes
//! its internal catalog between releases (2.26 dropped `chunk.dropped`; 2.28 made
//! `chunk_constraint` a view and gave `dimension_slice` a `chunk_id`; 2.29 replaced a
//! chunk's `schema_name` and `table_name` by `relid` and stopped tracking compressed
//! relations as chunks): the shape is chosen by the probed version, and the contract of
//! that shape is checked against the server at connect time and after every re-probe.
//! Where it does not hold, or the release is newer than this console knows, the console
//! reads only TimescaleDB's public API, slower but correct, and says so.

use crate::releases::TimescaleVersion;
use serde::{Deserialize, Serialize};

/// The newest TimescaleDB minor release this console's internal reads are written for.
pub const NEWEST_KNOWN: TimescaleVersion = TimescaleVersion {
    major: 2,
    minor: 29,
    patch: u32::MAX,
};

/// How a release lays out the internal catalog the console reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogShape {
    /// 2.29 on: a chunk names its relation by `relid`; before, by `schema_name` and
    /// `table_name`, and a compressed chunk's relation is a chunk of its own
    /// (`compressed_chunk_id`).
    pub chunk_relid: bool,
    /// 2.28 on: `dimension_slice.chunk_id`; before, `chunk_constraint` joins them.
    pub slice_chunk_id: bool,
    /// 2.29 on: compression is enabled when `hypertable.status & 4`; before, when
    /// `compression_state = 1` (2 marked the internal compressed hypertables).
    pub compression_in_status: bool,
}

const fn at_least(version: TimescaleVersion, minor: u32) -> bool {
    version.major > 2 || (version.major == 2 && version.minor >= minor)
}

impl CatalogShape {
    /// The shape of `version`'s catalog.
    pub const fn of(version: TimescaleVersion) -> CatalogShape {
        CatalogShape {
            chunk_relid: at_least(version, 29),
            slice_chunk_id: at_least(version, 28),
            compression_in_status: at_least(version, 29),
        }
    }

    /// Every internal column and function this shape's reads use, as
    /// (`schema.relation`, column) pairs and function signatures.
    pub fn requirements(&self) -> (Vec<(&'static str, &'static str)>, Vec<&'static str>) {
        let mut columns = vec![
            ("_timescaledb_catalog.hypertable", "id"),
            ("_timescaledb_catalog.hypertable", "schema_name"),
            ("_timescaledb_catalog.hypertable", "table_name"),
            ("_timescaledb_catalog.chunk", "id"),
            ("_timescaledb_catalog.chunk", "hypertable_id"),
            ("_timescaledb_catalog.chunk", "status"),
            ("_timescaledb_catalog.chunk", "osm_chunk"),
            ("_timescaledb_catalog.dimension", "id"),
            ("_timescaledb_catalog.dimension", "hypertable_id"),
            ("_timescaledb_catalog.dimension", "column_name"),
            ("_timescaledb_catalog.dimension", "column_type"),
            ("_timescaledb_catalog.dimension", "num_slices"),
            ("_timescaledb_catalog.dimension", "interval_length"),
            ("_timescaledb_catalog.dimension_slice", "id"),
            ("_timescaledb_catalog.dimension_slice", "dimension_id"),
            ("_timescaledb_catalog.dimension_slice", "range_start"),
            ("_timescaledb_catalog.dimension_slice", "range_end"),
            ("_timescaledb_catalog.compression_chunk_size", "chunk_id"),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "numrows_pre_compression",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "uncompressed_heap_size",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "uncompressed_toast_size",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "uncompressed_index_size",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "compressed_heap_size",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "compressed_toast_size",
            ),
            (
                "_timescaledb_catalog.compression_chunk_size",
                "compressed_index_size",
            ),
            ("_timescaledb_catalog.continuous_agg", "mat_hypertable_id"),
            ("_timescaledb_catalog.continuous_agg", "raw_hypertable_id"),
            ("_timescaledb_catalog.continuous_agg", "user_view_schema"),
            ("_timescaledb_catalog.continuous_agg", "user_view_name"),
            ("_timescaledb_internal.bgw_job_stat", "job_id"),
            ("_timescaledb_internal.bgw_job_stat", "last_start"),
            ("_timescaledb_internal.bgw_job_stat", "last_finish"),
            ("_timescaledb_internal.bgw_job_stat", "next_start"),
            (
                "_timescaledb_internal.bgw_job_stat",
                "last_successful_finish",
            ),
            ("_timescaledb_internal.bgw_job_stat", "last_run_success"),
            ("_timescaledb_internal.bgw_job_stat", "total_runs"),
            ("_timescaledb_internal.bgw_job_stat", "total_failures"),
            ("_timescaledb_internal.bgw_job_stat", "consecutive_failures"),
        ];
        if self.chunk_relid {
            columns.push(("_timescaledb_catalog.chunk", "relid"));
            columns.push(("_timescaledb_catalog.compression_settings", "relid"));
            columns.push((
                "_timescaledb_catalog.compression_settings",
                "compress_relid",
            ));
        } else {
            columns.push(("_timescaledb_catalog.chunk", "schema_name"));
            columns.push(("_timescaledb_catalog.chunk", "table_name"));
            columns.push(("_timescaledb_catalog.chunk", "compressed_chunk_id"));
        }
        if self.slice_chunk_id {
            columns.push(("_timescaledb_catalog.dimension_slice", "chunk_id"));
        } else {
            columns.push(("_timescaledb_catalog.chunk_constraint", "chunk_id"));
            columns.push((
                "_timescaledb_catalog.chunk_constraint",
                "dimension_slice_id",
            ));
        }
        if self.compression_in_status {
            columns.push(("_timescaledb_catalog.hypertable", "status"));
        } else {
            columns.push(("_timescaledb_catalog.hypertable", "compression_state"));
        }
        let functions = vec![
            "_timescaledb_functions.to_timestamp(bigint)",
            "_timescaledb_functions.cagg_watermark(integer)",
        ];
        (columns, functions)
    }
}

impl CatalogShape {
    /// A query of every compressed chunk's compressed relation, by hypertable:
    /// `hypertable_schema`, `hypertable_name`, `schema`, `name` (the relation holding the
    /// batches) and `chunk_id` (larger is newer). Until 2.28 that relation is a chunk of
    /// its own (`compressed_chunk_id`); from 2.29 `compression_settings` names it.
    pub fn compressed_relations_sql(&self) -> &'static str {
        if self.chunk_relid {
            "SELECT h.schema_name::text AS hypertable_schema, h.table_name::text AS hypertable_name,
                    n.nspname::text AS schema, c.relname::text AS name, ch.id AS chunk_id
               FROM _timescaledb_catalog.chunk ch
               JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
               JOIN _timescaledb_catalog.compression_settings cs ON cs.relid = ch.relid
               JOIN pg_class c ON c.oid = cs.compress_relid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE ch.status & 1 <> 0"
        } else {
            // A live relation only: before 2.26 the catalog kept dropped chunks' rows.
            "SELECT h.schema_name::text AS hypertable_schema, h.table_name::text AS hypertable_name,
                    comp.schema_name::text AS schema, comp.table_name::text AS name, ch.id AS chunk_id
               FROM _timescaledb_catalog.chunk ch
               JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
               JOIN _timescaledb_catalog.chunk comp ON comp.id = ch.compressed_chunk_id
               JOIN pg_namespace n ON n.nspname = comp.schema_name
               JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = comp.table_name"
        }
    }
}

/// How the console reads TimescaleDB's catalog on this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reads", rename_all = "snake_case")]
pub enum CatalogAccess {
    /// The internal catalog, in this shape (its contract holds): fast.
    Internal {
        /// The shape read.
        shape: CatalogShape,
    },
    /// Only the public API (`timescaledb_information` views and size functions): slower,
    /// and some facts are unknown (a continuous aggregate's watermark). Why, in words.
    Public {
        /// Why the internal catalog is not read.
        reason: String,
    },
}

impl CatalogAccess {
    /// The shape read, when the internal catalog is.
    pub fn shape(&self) -> Option<CatalogShape> {
        match self {
            CatalogAccess::Internal { shape } => Some(*shape),
            CatalogAccess::Public { .. } => None,
        }
    }

    /// Why only the public API is read, if it is.
    pub fn fallback_reason(&self) -> Option<&str> {
        match self {
            CatalogAccess::Internal { .. } => None,
            CatalogAccess::Public { reason } => Some(reason),
        }
    }
}

/// Which catalog reads an operator allows (`MS5_CATALOG_READS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogReads {
    /// The internal catalog where its contract holds, else the public API.
    #[default]
    Auto,
    /// The public API only, whatever the release: for a release whose internal catalog
    /// misleads the console in a way the check does not catch, until it is fixed.
    Public,
}

impl CatalogReads {
    /// Parses `auto` or `public`, naming the accepted words when it is neither.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(CatalogReads::Auto),
            "public" => Ok(CatalogReads::Public),
            _ => Err("auto or public".into()),
        }
    }

    /// The word parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogReads::Auto => "auto",
            CatalogReads::Public => "public",
        }
    }
}

/// What reading `version`'s catalog requires; `None` when the release is newer than the
/// console knows (then only the public API is read).
pub fn expected(version: TimescaleVersion) -> Option<CatalogShape> {
    (version <= NEWEST_KNOWN).then(|| CatalogShape::of(version))
}

pub use check::check;

mod check {
    use super::*;
    use crate::Result;
    use sqlx::PgExecutor;

    /// How the console can read the catalog of the server `version` runs on: checks the
    /// contract of its shape (one query) and names what is missing.
    pub async fn check(
        executor: impl PgExecutor<'_>,
        version: TimescaleVersion,
    ) -> Result<CatalogAccess> {
        let Some(shape) = expected(version) else {
            return Ok(CatalogAccess::Public {
                reason: format!(
                    "TimescaleDB {version} is newer than this console knows ({}.{} at most): figures come from TimescaleDB's public views",
                    NEWEST_KNOWN.major, NEWEST_KNOWN.minor
                ),
            });
        };
        let (columns, functions) = shape.requirements();
        let (relations, names): (Vec<&str>, Vec<&str>) = columns.into_iter().unzip();
        let missing: Vec<String> = sqlx::query_scalar(
            "SELECT r.rel || '.' || r.col
               FROM unnest($1::text[], $2::text[]) AS r(rel, col)
              WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                 WHERE a.attrelid = to_regclass(r.rel)
                                   AND a.attname = r.col AND NOT a.attisdropped)
             UNION ALL
             SELECT f FROM unnest($3::text[]) AS f WHERE to_regprocedure(f) IS NULL",
        )
        .bind(&relations)
        .bind(&names)
        .bind(&functions)
        .fetch_all(executor)
        .await?;
        Ok(if missing.is_empty() {
            CatalogAccess::Internal { shape }
        } else {
            CatalogAccess::Public {
                reason: format!(
                    "TimescaleDB {version}'s internal catalog lacks what this console reads ({}): figures come from TimescaleDB's public views",
                    missing.join(", ")
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(minor: u32, patch: u32) -> TimescaleVersion {
        TimescaleVersion {
            major: 2,
            minor,
            patch,
        }
    }

    #[test]
    fn each_release_reads_its_own_shape() {
        let old = CatalogShape::of(v(13, 1));
        assert!(!old.chunk_relid && !old.slice_chunk_id && !old.compression_in_status);
        let sliced = CatalogShape::of(v(28, 3));
        assert!(!sliced.chunk_relid && sliced.slice_chunk_id);
        let relid = CatalogShape::of(v(29, 2));
        assert!(relid.chunk_relid && relid.slice_chunk_id && relid.compression_in_status);
        let (columns, _) = relid.requirements();
        assert!(columns.contains(&("_timescaledb_catalog.chunk", "relid")));
        assert!(!columns.iter().any(|(_, c)| *c == "compressed_chunk_id"));
        let (columns, _) = old.requirements();
        assert!(columns.contains(&(
            "_timescaledb_catalog.chunk_constraint",
            "dimension_slice_id"
        )));
        assert_eq!(expected(v(30, 0)), None, "newer than known: public views");
        assert!(expected(v(29, 9)).is_some());
    }
}
