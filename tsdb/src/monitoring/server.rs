//! Facts about the server and the extension.

use super::sizes::PassCache;
use crate::facts::{DatabaseFacts, ExtensionFacts};
use crate::Result;
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// How long a database size is reused by incremental passes.
const DATABASE_SIZE_MAX_AGE: Duration = Duration::from_secs(300);

/// The database's name, version, size and connections; the size is re-read when `full`
/// or when the cached one is older than a few minutes. The embedded database (PGlite)
/// names itself `template1`, which reads like a mistake: it is called what it is.
pub async fn database(pool: &PgPool, cache: &mut PassCache, full: bool) -> Result<DatabaseFacts> {
    let (name, server_version, connections, max_connections): (String, String, i64, i64) =
        sqlx::query_as(
            "SELECT CASE WHEN version() ILIKE '%emscripten%' THEN 'devdb (embedded)'
                         ELSE current_database()::text END,
                    current_setting('server_version'),
                    (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),
                    current_setting('max_connections')::bigint",
        )
        .fetch_one(pool)
        .await?;
    let size_bytes = match cache.database_bytes {
        Some((bytes, at)) if !full && at.elapsed() < DATABASE_SIZE_MAX_AGE => bytes,
        _ => {
            let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await?;
            cache.database_bytes = Some((bytes, Instant::now()));
            bytes
        }
    };
    Ok(DatabaseFacts {
        name,
        server_version,
        size_bytes,
        connections,
        max_connections,
    })
}

/// The extension's version, licence and background workers.
pub async fn extension(pool: &PgPool) -> Result<ExtensionFacts> {
    // Workers show up in pg_stat_activity under their own backend types: the launcher,
    // one scheduler per database, and job workers named after their job ("… [1000]").
    let (version, license, max_workers, in_use): (String, Option<String>, Option<String>, i64) =
        sqlx::query_as(
            "SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),
                    current_setting('timescaledb.license', true),
                    current_setting('timescaledb.max_background_workers', true),
                    (SELECT count(*) FROM pg_stat_activity
                      WHERE backend_type LIKE 'TimescaleDB Background Worker%'
                         OR backend_type ~ ' \\[[0-9]+\\]$')",
        )
        .fetch_one(pool)
        .await?;
    Ok(ExtensionFacts {
        version,
        license,
        max_background_workers: max_workers.and_then(|v| v.parse().ok()),
        background_workers_in_use: in_use,
    })
}
