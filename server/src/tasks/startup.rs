//! The start-up work that runs beside the HTTP server and never blocks it: connect,
//! probe, migrate, then load demo data. Each step's outcome is published in the state
//! so health and pages tell the truth while it runs.

use super::TaskError;
use crate::config::{Profile, Settings};
use crate::database::{self, RetryPolicy};
use app::state::{AppState, StartupPhase};
use std::time::Duration;

/// Runs start-up to completion or until `shutdown` resolves. A step that fails is
/// published as the phase and logged; it does not fail the task (start-up is not
/// retried blindly: a failed migration needs a person).
pub async fn run(
    state: AppState,
    settings: Settings,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    tokio::select! {
        _ = steps(&state, &settings) => {}
        _ = shutdown.changed() => tracing::info!("start-up interrupted by shutdown"),
    }
    Ok(())
}

async fn steps(state: &AppState, settings: &Settings) {
    let Some(url) = settings.database_url.as_deref() else {
        state.set_phase(StartupPhase::Failed("DATABASE_URL is not set".into()));
        return;
    };
    state.set_phase(StartupPhase::Connecting);
    let retry = RetryPolicy {
        max_attempts: None,
        max_backoff: Duration::from_secs(30),
    };
    let connected = match database::connect(url, settings.db_max_connections, retry).await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::error!(%error, "cannot connect to the database");
            state.set_phase(StartupPhase::Failed(format!("cannot connect: {error}")));
            return;
        }
    };
    let caps = &connected.capabilities;
    tracing::info!(
        postgres = %caps.server_version,
        timescaledb = caps.timescaledb_reported.as_deref().unwrap_or("not installed"),
        pool_size = connected.pool.options().get_max_connections(),
        single_connection = connected.single_connection,
        "connected"
    );
    let pool = connected.pool.clone();
    let mut recovered = false;
    loop {
        match prepare(state, settings, &pool).await {
            Prepared::Done | Prepared::Failed => break,
            Prepared::WaitingForPreload => {
                state.set_phase(StartupPhase::Ready);
                wait_for_preload(&pool).await;
                tracing::info!("TimescaleDB's library is loaded now: finishing the set-up");
                recovered = true;
            }
        }
    }
    if recovered {
        // Pages should not show "not preloaded" for a whole monitoring interval more.
        state.monitor.request_refresh();
    }
}

/// How a round of set-up on a connected pool ended.
enum Prepared {
    /// Migrated, probed, demo data loaded where asked.
    Done,
    /// A step failed; the phase says which.
    Failed,
    /// TimescaleDB's migrations wait for the server to preload the library.
    WaitingForPreload,
}

/// How often a server that offers TimescaleDB without preloading it is asked again.
const PRELOAD_POLL: Duration = Duration::from_secs(5);

/// Returns once the server has TimescaleDB's library loaded (an admin added it to
/// `shared_preload_libraries` and restarted PostgreSQL); the pool reconnects by itself.
async fn wait_for_preload(pool: &sqlx::PgPool) {
    loop {
        tokio::time::sleep(PRELOAD_POLL).await;
        match tsdb::capabilities::Capabilities::probe(pool).await {
            Ok(capabilities) if !capabilities.needs_preload() => return,
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "probing for the preload failed; retrying"),
        }
    }
}

/// Migrates, probes, publishes the pool and capabilities, then loads demo data.
async fn prepare(state: &AppState, settings: &Settings, pool: &sqlx::PgPool) -> Prepared {
    state.set_phase(StartupPhase::Migrating);
    let deferred = match tsdb::migrations::run(pool).await {
        Ok(report) if !report.deferred.is_empty() => {
            tracing::warn!(
                deferred = ?report.deferred,
                "{}; TimescaleDB's migrations run as soon as it is",
                tsdb::Error::NotPreloaded
            );
            true
        }
        Ok(_) => false,
        Err(error) => {
            tracing::error!(%error, "migrations failed");
            state.set_phase(StartupPhase::Failed(format!("migrations failed: {error}")));
            return Prepared::Failed;
        }
    };
    // Probe again: the first migration may just have installed the extension.
    let capabilities = match tsdb::capabilities::Capabilities::probe(pool).await {
        Ok(capabilities) => capabilities,
        Err(error) => {
            tracing::error!(%error, "probing the database failed");
            state.set_phase(StartupPhase::Failed(format!("probe failed: {error}")));
            return Prepared::Failed;
        }
    };
    if let Err(error) = capabilities.require_timescaledb() {
        tracing::warn!(%error, "TimescaleDB features are unavailable");
    }
    let timescaledb_ready = capabilities.require_timescaledb().is_ok();
    state.set_connection(pool.clone(), capabilities);
    if settings.demo.enabled && settings.profile != Profile::Production {
        match crate::demo_accounts::ensure(pool).await {
            Ok(created) => crate::demo_accounts::print(&created),
            Err(error) => tracing::error!(%error, "cannot create the demo accounts"),
        }
    }
    if deferred {
        return Prepared::WaitingForPreload;
    }
    if settings.demo.enabled && timescaledb_ready {
        state.set_phase(StartupPhase::LoadingDemoData);
        let volume = settings.demo.volume();
        match tsdb::demo::load(pool, volume, settings.demo_compress_after()).await {
            Ok(report) => tracing::info!(
                loaded = ?report.loaded,
                skipped = ?report.skipped,
                compressed_chunks = report.compressed_chunks,
                elapsed = ?report.elapsed,
                "demo data ready"
            ),
            Err(error) => {
                tracing::error!(%error, "loading demo data failed");
                state.set_phase(StartupPhase::Failed(format!("demo data failed: {error}")));
                return Prepared::Failed;
            }
        }
    }
    state.set_phase(StartupPhase::Ready);
    Prepared::Done
}
