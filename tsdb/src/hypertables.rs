//! Hypertable listings with their sizes and compression state.

use crate::types::HypertableSummary;
use crate::Result;
use sqlx::PgExecutor;

/// Lists every hypertable, biggest first.
///
/// Sizes come from TimescaleDB's own `hypertable_size`, one call per hypertable: fine for
/// a handful of tables; large installations are served from a background snapshot instead.
pub async fn list(executor: impl PgExecutor<'_>) -> Result<Vec<HypertableSummary>> {
    let rows = sqlx::query_as::<_, HypertableSummary>(
        "SELECT h.hypertable_schema::text AS schema,
                h.hypertable_name::text AS name,
                COALESCE(hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass), 0)::bigint
                    AS total_bytes,
                COALESCE(h.num_chunks, 0)::bigint AS chunk_count,
                (SELECT count(*) FROM timescaledb_information.chunks c
                  WHERE c.hypertable_schema = h.hypertable_schema
                    AND c.hypertable_name = h.hypertable_name
                    AND c.is_compressed)::bigint AS compressed_chunk_count,
                COALESCE(h.compression_enabled, false) AS compression_enabled
           FROM timescaledb_information.hypertables h
          ORDER BY total_bytes DESC, schema, name",
    )
    .fetch_all(executor)
    .await?;
    Ok(rows)
}
