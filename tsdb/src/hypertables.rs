//! Hypertable listings with their sizes and compression state.

use crate::types::HypertableSummary;
use crate::Result;
use sqlx::PgExecutor;

/// Lists every hypertable, biggest first.
///
/// Sizes come from TimescaleDB's own `hypertable_size`, one call per hypertable: fine for
/// a handful of tables; large installations are served from a background snapshot instead.
pub async fn list(executor: impl PgExecutor<'_>) -> Result<Vec<HypertableSummary>> {
    let rows = sqlx::query_as::<_, (String, String, i64, i64, i64, bool)>(
        "SELECT h.hypertable_schema::text,
                h.hypertable_name::text,
                COALESCE(hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass), 0)::bigint,
                COALESCE(h.num_chunks, 0)::bigint,
                (SELECT count(*) FROM timescaledb_information.chunks c
                  WHERE c.hypertable_schema = h.hypertable_schema
                    AND c.hypertable_name = h.hypertable_name
                    AND c.is_compressed)::bigint,
                COALESCE(h.compression_enabled, false)
           FROM timescaledb_information.hypertables h
          ORDER BY 3 DESC, 1, 2",
    )
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                schema,
                name,
                total_bytes,
                chunk_count,
                compressed_chunk_count,
                compression_enabled,
            )| {
                HypertableSummary {
                    schema,
                    name,
                    total_bytes,
                    chunk_count,
                    compressed_chunk_count,
                    compression_enabled,
                }
            },
        )
        .collect())
}
