//! The storage history table (`console.storage_samples`): writing a pass's samples in one
//! statement, reading them back thinned to a number of points, and the console's own
//! policy for the table.

use super::{RelationKind, StorageSample};
use crate::policy::{PolicyAge, PolicyOverride};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// The history table, `schema.name` (the policies page and the policy source use it).
pub const TABLE: &str = "console.storage_samples";

/// The policy the console gives its own history table unless the configuration file has
/// a section for it: monthly chunks compressed after a week, kept for `retention`.
pub fn own_policy(retention: Option<PolicyAge>) -> PolicyOverride {
    let interval = |text: &str| {
        text.parse()
            .map(PolicyAge::Interval)
            .expect("a valid interval")
    };
    PolicyOverride {
        compression_enabled: Some(true),
        compression_after: Some(Some(interval("7 days"))),
        retention: Some(retention),
        chunk_time_interval: Some(interval("30 days")),
        segment_by: Some(vec!["relation".into()]),
        order_by: Some(vec!["sampled_at DESC".into()]),
        ..PolicyOverride::default()
    }
}

/// Writes samples in one statement (arrays bound as parameters: no `COPY`, which devdb
/// cannot take, and no statement built from the values).
pub async fn record(executor: impl PgExecutor<'_>, samples: &[StorageSample]) -> Result<u64> {
    if samples.is_empty() {
        return Ok(0);
    }
    let column = |f: fn(&StorageSample) -> i64| samples.iter().map(f).collect::<Vec<i64>>();
    let result = sqlx::query(
        "INSERT INTO console.storage_samples
                (sampled_at, kind, relation, total_bytes, compressed_bytes, uncompressed_bytes,
                 before_compression_bytes, chunk_count, compressed_chunk_count,
                 approximate_rows, generated)
         SELECT * FROM UNNEST($1::timestamptz[], $2::text[], $3::text[], $4::bigint[],
                              $5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::int[],
                              $10::bigint[], $11::boolean[])",
    )
    .bind(samples.iter().map(|s| s.sampled_at).collect::<Vec<_>>())
    .bind(samples.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>())
    .bind(
        samples
            .iter()
            .map(|s| s.relation.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(column(|s| s.total_bytes))
    .bind(column(|s| s.compressed_bytes))
    .bind(column(|s| s.uncompressed_bytes))
    .bind(column(|s| s.before_compression_bytes))
    .bind(
        samples
            .iter()
            .map(|s| i32::try_from(s.chunk_count).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(
        samples
            .iter()
            .map(|s| i32::try_from(s.compressed_chunk_count).unwrap_or(i32::MAX))
            .collect::<Vec<_>>(),
    )
    .bind(column(|s| s.approximate_rows))
    .bind(samples.iter().map(|s| s.generated).collect::<Vec<_>>())
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}

/// The time of the newest sample, if there is one.
pub async fn latest(executor: impl PgExecutor<'_>) -> Result<Option<DateTime<Utc>>> {
    Ok(
        sqlx::query_scalar("SELECT max(sampled_at) FROM console.storage_samples")
            .fetch_one(executor)
            .await?,
    )
}

/// One stored sample.
#[derive(sqlx::FromRow)]
struct Row {
    sampled_at: DateTime<Utc>,
    kind: String,
    relation: String,
    total_bytes: i64,
    compressed_bytes: i64,
    uncompressed_bytes: i64,
    before_compression_bytes: i64,
    chunk_count: i32,
    compressed_chunk_count: i32,
    approximate_rows: i64,
    generated: bool,
}

/// The samples since `since` (all without), thinned so that each relation has at most
/// one sample per `bucket_seconds` (the newest in each bucket), oldest first.
pub async fn read(
    executor: impl PgExecutor<'_>,
    since: Option<DateTime<Utc>>,
    bucket_seconds: i64,
) -> Result<Vec<StorageSample>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT * FROM (
            SELECT DISTINCT ON (relation, kind, floor(extract(epoch FROM sampled_at) / $2))
                   sampled_at, kind, relation, total_bytes, compressed_bytes, uncompressed_bytes,
                   before_compression_bytes, chunk_count, compressed_chunk_count,
                   approximate_rows, generated
              FROM console.storage_samples
             WHERE $1::timestamptz IS NULL OR sampled_at >= $1
             ORDER BY relation, kind, floor(extract(epoch FROM sampled_at) / $2), sampled_at DESC
         ) thinned
         ORDER BY sampled_at, relation",
    )
    .bind(since)
    .bind(bucket_seconds.max(1) as f64)
    .fetch_all(executor)
    .await?;
    rows.into_iter()
        .map(|row| {
            let kind = RelationKind::from_stored(&row.kind)
                .ok_or_else(|| Error::Unexpected(format!("storage sample kind {:?}", row.kind)))?;
            Ok(StorageSample {
                sampled_at: row.sampled_at,
                kind,
                relation: row.relation,
                total_bytes: row.total_bytes,
                compressed_bytes: row.compressed_bytes,
                uncompressed_bytes: row.uncompressed_bytes,
                before_compression_bytes: row.before_compression_bytes,
                chunk_count: i64::from(row.chunk_count),
                compressed_chunk_count: i64::from(row.compressed_chunk_count),
                approximate_rows: row.approximate_rows,
                generated: row.generated,
            })
        })
        .collect()
}
