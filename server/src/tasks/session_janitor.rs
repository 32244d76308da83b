//! The session janitor: deletes timed-out sessions every few minutes, on one console
//! instance at a time (`tsdb::locks`).

use super::TaskError;
use app::state::AppState;
use std::time::Duration;
use tsdb::locks::TaskLock;

/// How often timed-out sessions and expired session records are deleted.
const JANITOR_PERIOD: Duration = Duration::from_secs(600);

/// Deletes timed-out sessions every few minutes until shutdown.
pub async fn run(
    state: AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(JANITOR_PERIOD) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        let Ok(pool) = state.pool() else { continue };
        match purge(&pool, state.auth.timeouts).await {
            Ok(None) => tracing::debug!("another console instance is deleting expired sessions"),
            Ok(Some(0)) => {}
            Ok(Some(purged)) => tracing::debug!(purged, "expired sessions deleted"),
            Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
        }
    }
}

/// Deletes the expired sessions on the connection holding the janitor's lock; `None`
/// when another console instance holds it.
async fn purge(
    pool: &sqlx::PgPool,
    timeouts: tsdb::sessions::Timeouts,
) -> tsdb::Result<Option<u64>> {
    let Some(mut held) = tsdb::locks::try_lock(pool, TaskLock::SessionJanitor).await? else {
        return Ok(None);
    };
    let purged = tsdb::sessions::purge_expired(held.conn(), timeouts).await;
    held.release().await?;
    purged.map(Some)
}
