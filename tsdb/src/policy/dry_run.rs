//! What a policy change would do, before it is saved: the chunks a retention would drop
//! at its next run (as `show_chunks(older_than => …)` lists them), which of them the
//! current retention would drop anyway, and the continuous aggregates that would lose
//! rows (the rules are in [`super::guard`]); the chunks compression would take next and
//! the bytes it would save; the chunk size a new interval would give.

use super::guard::Hazard;
#[cfg(feature = "db")]
use super::live::LiveState;
#[cfg(feature = "db")]
use super::target::JobAge;
#[cfg(feature = "db")]
use super::{HypertableName, Policy, PolicyAge, TimeKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One chunk a retention would drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedChunk {
    /// The chunk, `schema.name` (parts quoted where they need it).
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
    /// Whether the current retention drops it at its next run anyway.
    #[serde(default)]
    pub dropped_anyway: bool,
}

/// The effect of a retention, beside what the current one does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionDryRun {
    /// The retention given, in words.
    pub drop_after: String,
    /// The current retention, in words (`None`: none).
    #[serde(default)]
    pub current: Option<String>,
    /// The chunks dropped at the next run, oldest first.
    pub chunks: Vec<DroppedChunk>,
    /// How many of them the current retention would keep: what the change itself drops.
    #[serde(default)]
    pub new_chunks: usize,
    /// Their bytes.
    pub total_bytes: i64,
    /// Their estimated rows.
    pub total_rows: i64,
    /// Continuous aggregates that would lose rows because of the change.
    #[serde(default)]
    pub hazards: Vec<Hazard>,
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
    use crate::capabilities::Capabilities;
    use crate::pg_time::PgTimestamp;
    use crate::Result;
    use sqlx::PgConnection;

    #[derive(sqlx::FromRow)]
    struct DroppedRow {
        chunk_schema: String,
        chunk_name: String,
        range_start: Option<PgTimestamp>,
        range_end: Option<PgTimestamp>,
        bytes: i64,
        rows: i64,
        compressed: bool,
    }

    /// The chunks `age` selects from `table` now, exactly as the retention job's own
    /// `show_chunks` call lists them, oldest first. Rows: the planner's estimate, or the
    /// count recorded at compression (TimescaleDB's catalog; its chunk relation column
    /// changed in 2.29).
    async fn selected(
        conn: &mut PgConnection,
        capabilities: &Capabilities,
        table: &HypertableName,
        age: JobAge,
    ) -> Result<Vec<DroppedChunk>> {
        let (choice, value) = match age {
            JobAge::After(PolicyAge::Interval(i)) => {
                ("older_than => $2::text::interval", Some(i.to_string()))
            }
            JobAge::After(PolicyAge::Integer(n)) => {
                ("older_than => $2::text::bigint", Some(n.to_string()))
            }
            JobAge::CreatedBefore(i) => {
                ("created_before => $2::text::interval", Some(i.to_string()))
            }
        };
        // Rows of a compressed chunk: counted at compression, in TimescaleDB's catalog
        // (its chunk relation column changed in 2.29); without it, the estimate.
        let compressed_rows = match capabilities.catalog_shape() {
            Some(shape) => format!(
                "COALESCE((SELECT m.numrows_pre_compression
                              FROM _timescaledb_catalog.compression_chunk_size m
                              JOIN _timescaledb_catalog.chunk k ON k.id = m.chunk_id
                             WHERE {}), 0)",
                if shape.chunk_relid {
                    "k.relid = d.c"
                } else {
                    "format('%I.%I', k.schema_name, k.table_name)::regclass = d.c"
                }
            ),
            None => "greatest(approximate_row_count(d.c), 0)".to_string(),
        };
        let sql = format!(
            "WITH dropped AS (SELECT show_chunks($1::regclass, {choice}) AS c)
             SELECT ch.chunk_schema::text AS chunk_schema, ch.chunk_name::text AS chunk_name,
                    ch.range_start, ch.range_end,
                    COALESCE(s.total_bytes, pg_total_relation_size(d.c)) AS bytes,
                    CASE WHEN ch.is_compressed
                         THEN {compressed_rows}
                         ELSE greatest((SELECT reltuples FROM pg_class WHERE oid = d.c), 0)::bigint END AS rows,
                    ch.is_compressed AS compressed
               FROM dropped d
               JOIN timescaledb_information.chunks ch
                 ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = d.c
               LEFT JOIN chunks_detailed_size($1::regclass) s
                 ON s.chunk_schema = ch.chunk_schema AND s.chunk_name = ch.chunk_name
              ORDER BY ch.range_start NULLS FIRST, ch.range_start_integer NULLS FIRST, 1, 2"
        );
        let rows: Vec<DroppedRow> = sqlx::query_as(&sql)
            .bind(table.quoted())
            .bind(value)
            .fetch_all(&mut *conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| DroppedChunk {
                chunk: crate::ident::display_name(&row.chunk_schema, &row.chunk_name),
                range_start: PgTimestamp::finite_or_none(row.range_start),
                range_end: PgTimestamp::finite_or_none(row.range_end),
                bytes: row.bytes,
                rows: row.rows,
                compressed: row.compressed,
                dropped_anyway: false,
            })
            .collect())
    }

    /// The hypertable whose chunks and sizes are `table`'s: itself, or an aggregate's
    /// materialized hypertable.
    fn sized(live: &LiveState, table: &HypertableName) -> HypertableName {
        live.cagg(table)
            .map(|c| c.materialization.clone())
            .unwrap_or_else(|| table.clone())
    }

    /// Each time-based aggregate's watermark, by view.
    async fn watermarks(
        conn: &mut PgConnection,
    ) -> Result<Vec<(HypertableName, Option<DateTime<Utc>>)>> {
        // A watermark at or before 4714 BC means "never refreshed".
        let rows: Vec<(String, String, Option<PgTimestamp>)> = sqlx::query_as(
            "SELECT ca.user_view_schema::text, ca.user_view_name::text,
                    CASE WHEN _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) > -210866803200000000
                         THEN _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(ca.mat_hypertable_id)) END
               FROM _timescaledb_catalog.continuous_agg ca
               JOIN timescaledb_information.dimensions d
                 ON d.hypertable_schema = ca.user_view_schema AND d.hypertable_name = ca.user_view_name
                 OR (d.hypertable_schema, d.hypertable_name) IN
                    (SELECT schema_name, table_name FROM _timescaledb_catalog.hypertable WHERE id = ca.mat_hypertable_id)
              WHERE d.dimension_number = 1 AND d.time_interval IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(schema, name, watermark)| {
                (
                    HypertableName::new(schema, name),
                    PgTimestamp::finite_or_none(watermark),
                )
            })
            .collect())
    }

    /// The chunks `age` would drop from `table` at the next run, those the current
    /// retention drops anyway, and the aggregates that would lose rows because of it.
    pub async fn retention(
        conn: &mut PgConnection,
        capabilities: &Capabilities,
        live: &LiveState,
        table: &HypertableName,
        age: JobAge,
    ) -> Result<RetentionDryRun> {
        // An aggregate's chunks belong to its materialized hypertable: the size functions
        // take that one (`drop_chunks` on the view drops exactly these).
        let subject = sized(live, table);
        let mut chunks = selected(&mut *conn, capabilities, &subject, age).await?;
        let current_job = live
            .relation(table)
            .and_then(|t| t.retention_policy.as_ref());
        let current_age = current_job.and_then(|job| {
            let kind = live.relation(table).map(|t| t.time_kind)?;
            match (&job.after, &job.created_before) {
                (Some(after), _) => after.to_policy_age(kind).map(JobAge::After),
                (None, Some(before)) => before.to_interval().map(JobAge::CreatedBefore),
                _ => None,
            }
        });
        if let Some(current_age) = current_age {
            let anyway = selected(&mut *conn, capabilities, &subject, current_age).await?;
            for chunk in &mut chunks {
                chunk.dropped_anyway = anyway.iter().any(|c| c.chunk == chunk.chunk);
            }
        }
        let new_chunks = chunks.iter().filter(|c| !c.dropped_anyway).count();
        // How old the data is that the change makes go: by age, or for a creation-time
        // retention the newest range it drops.
        let lost_age = match age {
            JobAge::After(after) => {
                let shorter = current_job
                    .and_then(|j| j.after.as_ref())
                    .and_then(|a| a.magnitude)
                    .is_none_or(|current| after.magnitude() < current);
                shorter.then_some(after)
            }
            JobAge::CreatedBefore(_) => chunks
                .iter()
                .filter(|c| !c.dropped_anyway)
                .filter_map(|c| c.range_end)
                .max()
                .map(|end| (Utc::now() - end).num_seconds().max(1))
                .and_then(|secs| u32::try_from(secs).ok())
                .and_then(|secs| {
                    crate::interval::PolicyInterval::new(
                        secs,
                        crate::interval::IntervalUnit::Second,
                    )
                })
                .map(PolicyAge::Interval),
        };
        let mut hazards = Vec::new();
        if let Some(lost) = lost_age {
            let marks = match lost {
                PolicyAge::Interval(_) => watermarks(&mut *conn).await?,
                PolicyAge::Integer(_) => Vec::new(),
            };
            let boundary = match lost {
                PolicyAge::Interval(i) => {
                    Some(Utc::now() - chrono::Duration::seconds(i.approx_seconds() as i64))
                }
                PolicyAge::Integer(_) => None,
            };
            // Rows never materialized are lost only where chunks go now; the refresh
            // windows' reach is a standing risk and checked whatever is dropped today.
            let dropping = new_chunks > 0;
            let behind = |cagg: &super::super::live::LiveCagg| -> Option<String> {
                let boundary = boundary.filter(|_| dropping)?;
                let (_, watermark) = marks.iter().find(|(name, _)| name == &cagg.name)?;
                match watermark {
                    None => Some("it was never refreshed: every chunk dropped is lost to it".into()),
                    Some(w) if *w < boundary => Some(format!(
                        "it is materialized only up to {}, but data up to {} would be dropped before it aggregates it",
                        w.format("%Y-%m-%d %H:%M UTC"),
                        boundary.format("%Y-%m-%d %H:%M UTC")
                    )),
                    Some(_) => None,
                }
            };
            hazards = super::super::guard::aggregate_losses(live, table, lost, &behind);
        }
        Ok(RetentionDryRun {
            drop_after: match age {
                JobAge::After(after) => after.to_string(),
                JobAge::CreatedBefore(before) => format!("created before {before}"),
            },
            current: current_job.map(|j| {
                j.after
                    .as_ref()
                    .map(|a| a.human())
                    .or_else(|| {
                        j.created_before
                            .as_ref()
                            .map(|c| format!("created before {}", c.human()))
                    })
                    .unwrap_or_default()
            }),
            total_bytes: chunks.iter().map(|c| c.bytes).sum(),
            total_rows: chunks.iter().map(|c| c.rows).sum(),
            new_chunks,
            chunks,
            hazards,
        })
    }

    /// What `policy` would do to `table`.
    pub async fn dry_run(
        conn: &mut PgConnection,
        capabilities: &Capabilities,
        live: &LiveState,
        table: &HypertableName,
        policy: &Policy,
    ) -> Result<DryRun> {
        let retention = match policy.retention {
            Some(age) => {
                Some(retention(&mut *conn, capabilities, live, table, JobAge::After(age)).await?)
            }
            None => None,
        };
        let subject = sized(live, table);
        let time = live
            .relation(table)
            .is_some_and(|t| t.time_kind == TimeKind::Time);
        let compress_after = policy
            .compression_after
            .filter(|_| policy.compression_enabled && time);
        let compression = if let Some(compress_after) = compress_after {
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
            .bind(subject.quoted())
            .bind(compress_after.to_string())
            .fetch_one(&mut *conn)
            .await?;
            let ratio =
                crate::facts::HypertableFacts::ratio_of(before.unwrap_or(0), after.unwrap_or(0));
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
        .bind(subject.quoted())
        .fetch_one(&mut *conn)
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
