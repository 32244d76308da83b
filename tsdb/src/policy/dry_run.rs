//! What a policy change would do, before it is saved: the chunks a retention would drop
//! now (as `show_chunks(older_than => …)` lists them) and the continuous aggregates that
//! would lose raw data they never aggregated; the chunks compression would take next and
//! the bytes it would save; the chunk size a new interval would give.

#[cfg(feature = "db")]
use super::live::LiveState;
#[cfg(feature = "db")]
use super::{HypertableName, Policy, PolicyAge, TimeKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One chunk a retention would drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedChunk {
    /// `schema.name` of the chunk.
    pub chunk: String,
    /// Start of its range (time dimensions).
    pub range_start: Option<DateTime<Utc>>,
    /// End of its range.
    pub range_end: Option<DateTime<Utc>>,
    /// Bytes on disk (with its compressed data).
    pub bytes: i64,
    /// Estimated rows.
    pub rows: i64,
    /// Whether it is compressed.
    pub compressed: bool,
}

/// A continuous aggregate the retention would damage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaggRisk {
    /// The aggregate's view, `schema.name`.
    pub cagg: String,
    /// What would be lost, in words.
    pub reason: String,
}

/// The effect of a retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionDryRun {
    /// The age given.
    pub drop_after: String,
    /// The chunks dropped at the next run, oldest first.
    pub chunks: Vec<DroppedChunk>,
    /// Their bytes.
    pub total_bytes: i64,
    /// Their estimated rows.
    pub total_rows: i64,
    /// Aggregates that would lose data they have not materialized.
    pub cagg_risks: Vec<CaggRisk>,
}

/// The effect of compress-after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressionDryRun {
    /// Uncompressed chunks old enough to be compressed at the next run.
    pub chunks: i64,
    /// Their bytes.
    pub bytes: i64,
    /// The table's measured ratio (before / after), if anything is compressed yet.
    pub ratio: Option<f64>,
    /// Bytes expected to be saved at that ratio.
    pub expected_saving_bytes: Option<i64>,
}

/// The effect of a chunk interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkIntervalDryRun {
    /// Bytes per second written, from the recent uncompressed chunks (`None`: no data).
    pub ingest_bytes_per_second: Option<f64>,
    /// The chunk size the interval gives at that rate.
    pub expected_chunk_bytes: Option<i64>,
    /// A quarter of `shared_buffers`: what a chunk being written, with its indexes,
    /// should fit in.
    pub guidance_bytes: i64,
    /// Chunks created per 30 days (time-partitioned tables).
    pub chunks_per_month: Option<f64>,
}

/// Everything a proposed policy would do to one hypertable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRun {
    /// The retention's effect (`None`: data kept forever).
    pub retention: Option<RetentionDryRun>,
    /// The compression's effect (`None`: compression off).
    pub compression: Option<CompressionDryRun>,
    /// The chunk interval's effect.
    pub chunk_interval: ChunkIntervalDryRun,
}

#[cfg(feature = "db")]
pub use read::{dry_run, retention};

#[cfg(feature = "db")]
mod read {
    use super::*;
    use crate::pg_time::PgTimestamp;
    use crate::Result;
    use sqlx::PgPool;

    fn age_bind(age: PolicyAge) -> (&'static str, String, i64) {
        match age {
            PolicyAge::Interval(interval) => ("interval", interval.to_string(), 0),
            PolicyAge::Integer(n) => ("bigint", String::new(), n),
        }
    }

    #[derive(sqlx::FromRow)]
    struct DroppedRow {
        chunk: String,
        range_start: Option<PgTimestamp>,
        range_end: Option<PgTimestamp>,
        bytes: i64,
        rows: i64,
        compressed: bool,
    }

    /// The chunks `drop_after` would drop from `table` now, and the aggregates at risk.
    pub async fn retention(
        pool: &PgPool,
        live: &LiveState,
        table: &HypertableName,
        drop_after: PolicyAge,
    ) -> Result<RetentionDryRun> {
        let (cast, text, number) = age_bind(drop_after);
        // The same function the retention policy runs, so the list is exactly what it drops.
        // Rows: the planner's estimate, or the count recorded at compression.
        let sql = if cast == "interval" {
            "WITH dropped AS (SELECT show_chunks($1::regclass, older_than => $2::interval) AS c)
         SELECT d.c::text AS chunk, ch.range_start, ch.range_end,
                COALESCE(s.total_bytes, pg_total_relation_size(d.c)) AS bytes,
                CASE WHEN ch.is_compressed
                     THEN COALESCE((SELECT m.numrows_pre_compression
                                      FROM _timescaledb_catalog.compression_chunk_size m
                                      JOIN _timescaledb_catalog.chunk k ON k.id = m.chunk_id
                                     WHERE format('%I.%I', k.schema_name, k.table_name)::regclass = d.c), 0)
                     ELSE greatest((SELECT reltuples FROM pg_class WHERE oid = d.c), 0)::bigint END AS rows,
                ch.is_compressed AS compressed
           FROM dropped d
           JOIN timescaledb_information.chunks ch
             ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = d.c
           LEFT JOIN chunks_detailed_size($1::regclass) s
             ON format('%I.%I', s.chunk_schema, s.chunk_name)::regclass = d.c
          ORDER BY ch.range_start NULLS FIRST, 1"
        } else {
            "WITH dropped AS (SELECT show_chunks($1::regclass, older_than => $3::bigint) AS c)
         SELECT d.c::text AS chunk, ch.range_start, ch.range_end,
                COALESCE(s.total_bytes, pg_total_relation_size(d.c)) AS bytes,
                greatest((SELECT reltuples FROM pg_class WHERE oid = d.c), 0)::bigint AS rows,
                ch.is_compressed AS compressed
           FROM dropped d
           JOIN timescaledb_information.chunks ch
             ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = d.c
           LEFT JOIN chunks_detailed_size($1::regclass) s
             ON format('%I.%I', s.chunk_schema, s.chunk_name)::regclass = d.c
          ORDER BY ch.range_start_integer NULLS FIRST, 1"
        };
        let mut query = sqlx::query_as::<_, DroppedRow>(sql).bind(table.quoted());
        query = if cast == "interval" {
            query.bind(text)
        } else {
            query.bind(String::new()).bind(number)
        };
        let rows = query.fetch_all(pool).await?;
        let chunks: Vec<DroppedChunk> = rows
            .into_iter()
            .map(|row| DroppedChunk {
                chunk: row.chunk,
                range_start: PgTimestamp::finite_or_none(row.range_start),
                range_end: PgTimestamp::finite_or_none(row.range_end),
                bytes: row.bytes,
                rows: row.rows,
                compressed: row.compressed,
            })
            .collect();
        let mut cagg_risks = Vec::new();
        for cagg in live.caggs.iter().filter(|c| &c.source == table) {
            let reaches = cagg
                .refresh
                .as_ref()
                .and_then(|r| r.start_offset.as_ref())
                .filter(|start| start.magnitude.is_some_and(|m| m > drop_after.magnitude()));
            if let Some(start) = reaches {
                cagg_risks.push(CaggRisk {
                cagg: cagg.name.to_string(),
                reason: format!(
                    "its refresh reaches back {} (start_offset), beyond the retention of {drop_after}: each refresh would rewrite the dropped range from no raw data, emptying those aggregates",
                    start.text
                ),
            });
            }
            if let PolicyAge::Interval(_) = drop_after {
                let behind: Option<(Option<PgTimestamp>, Option<PgTimestamp>)> = sqlx::query_as(
                "SELECT CASE WHEN _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) > -210866803200000000
                             THEN _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(ca.mat_hypertable_id)) END,
                        now() - $3::interval
                   FROM _timescaledb_catalog.continuous_agg ca
                  WHERE ca.user_view_schema = $1 AND ca.user_view_name = $2",
            )
            .bind(&cagg.name.schema)
            .bind(&cagg.name.table)
            .bind(drop_after.to_string())
            .fetch_optional(pool)
            .await?;
                if let Some((watermark, boundary)) = behind {
                    let watermark = PgTimestamp::finite_or_none(watermark);
                    let boundary = PgTimestamp::finite_or_none(boundary);
                    if let Some(boundary) = boundary {
                        if watermark.is_none_or(|w| w < boundary) {
                            cagg_risks.push(CaggRisk {
                            cagg: cagg.name.to_string(),
                            reason: match watermark {
                                Some(w) => format!(
                                    "it is materialized only up to {}, but chunks up to {} would be dropped before it aggregates them",
                                    w.format("%Y-%m-%d %H:%M UTC"),
                                    boundary.format("%Y-%m-%d %H:%M UTC")
                                ),
                                None => "it was never refreshed: every dropped chunk would be lost to it".to_string(),
                            },
                        });
                        }
                    }
                }
            }
        }
        Ok(RetentionDryRun {
            drop_after: drop_after.to_string(),
            total_bytes: chunks.iter().map(|c| c.bytes).sum(),
            total_rows: chunks.iter().map(|c| c.rows).sum(),
            chunks,
            cagg_risks,
        })
    }

    /// What `policy` would do to `table`.
    pub async fn dry_run(
        pool: &PgPool,
        live: &LiveState,
        table: &HypertableName,
        policy: &Policy,
    ) -> Result<DryRun> {
        let retention = match policy.retention {
            Some(age) => Some(retention(pool, live, table, age).await?),
            None => None,
        };
        let time = live
            .table(table)
            .is_some_and(|t| t.time_kind == TimeKind::Time);
        let compression = if policy.compression_enabled && time {
            let (chunks, bytes, before, after): (i64, i64, Option<i64>, Option<i64>) =
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE NOT c.is_compressed AND c.range_end < now() - $2::interval),
                        COALESCE(sum(s.total_bytes) FILTER (WHERE NOT c.is_compressed AND c.range_end < now() - $2::interval), 0)::bigint,
                        (SELECT before_compression_total_bytes FROM hypertable_compression_stats($1::regclass)),
                        (SELECT after_compression_total_bytes FROM hypertable_compression_stats($1::regclass))
                   FROM timescaledb_information.chunks c
                   JOIN chunks_detailed_size($1::regclass) s
                     ON s.chunk_schema = c.chunk_schema AND s.chunk_name = c.chunk_name
                  WHERE format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = $1::regclass",
            )
            .bind(table.quoted())
            .bind(policy.compression_after.to_string())
            .fetch_one(pool)
            .await?;
            let ratio = match (before, after) {
                (Some(b), Some(a)) if a > 0 => Some(b as f64 / a as f64),
                _ => None,
            };
            Some(CompressionDryRun {
                chunks,
                bytes,
                ratio,
                expected_saving_bytes: ratio.map(|r| (bytes as f64 * (1.0 - 1.0 / r)) as i64),
            })
        } else {
            None
        };
        // Ingest rate from the three newest complete, uncompressed chunks.
        let (rate, guidance): (Option<f64>, i64) = sqlx::query_as(
            "WITH recent AS (
             SELECT s.total_bytes::float8 / extract(epoch FROM c.range_end - c.range_start) AS rate
               FROM timescaledb_information.chunks c
               JOIN chunks_detailed_size($1::regclass) s
                 ON s.chunk_schema = c.chunk_schema AND s.chunk_name = c.chunk_name
              WHERE format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass = $1::regclass
                AND NOT c.is_compressed AND c.range_end < now() AND c.range_end > c.range_start
              ORDER BY c.range_end DESC LIMIT 3)
         SELECT (SELECT avg(rate) FROM recent),
                pg_size_bytes(current_setting('shared_buffers')) / 4",
        )
        .bind(table.quoted())
        .fetch_one(pool)
        .await?;
        let seconds = match policy.chunk_time_interval {
            PolicyAge::Interval(interval) => Some(interval.approx_seconds() as f64),
            PolicyAge::Integer(_) => None,
        };
        Ok(DryRun {
            retention,
            compression,
            chunk_interval: ChunkIntervalDryRun {
                ingest_bytes_per_second: rate,
                expected_chunk_bytes: rate.zip(seconds).map(|(r, s)| (r * s) as i64),
                guidance_bytes: guidance,
                chunks_per_month: seconds.map(|s| 30.0 * 86_400.0 / s),
            },
        })
    }
}
