//! The console's schema migrations (embedded from `migrations/` at compile time).
//!
//! Migrations that touch TimescaleDB all check `pg_extension` for the literal
//! `'timescaledb'` before they use it, so they also run on a server without the extension
//! (plain tables). One case they cannot survive: a server that offers TimescaleDB but has
//! not preloaded it, where `CREATE EXTENSION timescaledb` (or any use of an installed
//! one) ends the connection. There those migrations are deferred, not recorded: the
//! console's own tables are still created, and the deferred ones run at the first start
//! after the library is preloaded.

use crate::capabilities::Capabilities;
use crate::Result;
use sqlx::migrate::{Migration, Migrator};
use sqlx::PgPool;
use std::borrow::Cow;

/// Every migration, in order.
static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions left for a later start because TimescaleDB's library is not loaded.
    pub deferred: Vec<i64>,
}

/// Whether a migration uses TimescaleDB (it names the extension as a SQL literal).
fn uses_timescaledb(migration: &Migration) -> bool {
    migration.sql.contains("'timescaledb'")
}

/// Applies every pending migration (deferring TimescaleDB's where the server cannot load
/// it). The console's schema is created first because the migrator keeps its own
/// bookkeeping table there, never in `public`.
pub async fn run(pool: &PgPool) -> Result<MigrationReport> {
    let mut conn = pool.acquire().await?;
    let capabilities = Capabilities::probe_on(&mut conn).await?;
    let deferring;
    let (migrator, report) = if capabilities.needs_preload() {
        let (deferred, kept): (Vec<Migration>, Vec<Migration>) =
            MIGRATOR.iter().cloned().partition(uses_timescaledb);
        let report = MigrationReport {
            deferred: deferred.iter().map(|m| m.version).collect(),
        };
        tracing::warn!(
            deferred = ?report.deferred,
            "TimescaleDB is offered but not preloaded: its migrations wait until it is"
        );
        deferring = Migrator {
            migrations: Cow::Owned(kept),
            // Deferred ones may have been applied on an earlier start (before the
            // preload was lost): they are absent from this list on purpose.
            ignore_missing: true,
            locking: MIGRATOR.locking,
            no_tx: MIGRATOR.no_tx,
        };
        (&deferring, report)
    } else {
        (&MIGRATOR, MigrationReport::default())
    };
    if capabilities.timescaledb_available
        && capabilities.timescaledb_loaded
        && capabilities.timescaledb_reported.is_none()
    {
        // Before the search path below puts `console` first: an extension lands in the
        // first schema of the path, and TimescaleDB belongs where the database's users
        // look for it (normally `public`), as if an admin had created it by hand.
        sqlx::query("CREATE EXTENSION IF NOT EXISTS timescaledb")
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("CREATE SCHEMA IF NOT EXISTS console")
        .execute(&mut *conn)
        .await?;
    let previous: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("SELECT set_config('search_path', 'console, ' || $1, false)")
        .bind(&previous)
        .execute(&mut *conn)
        .await?;
    // `run_direct` on the connection: `run` over `&mut PgConnection` is not provably
    // `Send` inside a spawned task (sqlx's higher-ranked `Acquire` bound).
    let result = migrator.run_direct(&mut *conn).await;
    // The connection goes back to the pool: restore the path it had, either way.
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(&previous)
        .execute(&mut *conn)
        .await?;
    result?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_timescaledb_migrations_wait_for_a_preload() {
        let deferred: Vec<&str> = MIGRATOR
            .iter()
            .filter(|m| uses_timescaledb(m))
            .map(|m| m.description.as_ref())
            .collect();
        assert_eq!(
            deferred,
            [
                "timescaledb extension",
                "factory telemetry",
                "metric hist hourly",
                "storage samples"
            ]
        );
    }
}
