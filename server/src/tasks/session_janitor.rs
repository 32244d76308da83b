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
        let timeouts = state.auth.timeouts;
        let purged = tsdb::locks::with_lock(&pool, TaskLock::SessionJanitor, async |conn| {
            tsdb::sessions::purge_expired(conn, timeouts).await
        })
        .await;
        match purged {
            Ok(None) => tracing::debug!("another console instance is deleting expired sessions"),
            Ok(Some(0)) => {}
            Ok(Some(purged)) => tracing::debug!(purged, "expired sessions deleted"),
            Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
        }
    }
}
