//! The session janitor: deletes timed-out sessions every few minutes. Idempotent and
//! harmless when several console instances run it at once.

use super::TaskError;
use app::state::AppState;
use std::time::Duration;

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
        match tsdb::sessions::purge_expired(&pool, state.auth.timeouts).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired sessions deleted"),
            Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
        }
    }
}
