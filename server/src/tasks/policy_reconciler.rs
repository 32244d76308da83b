//! The start-up reconciler: once start-up is done (migrated, demo data loaded) and
//! TimescaleDB is usable, it plans the managed hypertables' policies and applies the plan
//! (`TIMESCALEDB_APPLY_POLICIES_ON_STARTUP`), in the background: the console serves all
//! along. Failed steps show in `/health` (degraded) and on the overview; the next apply
//! (an admin's, or the next start) retries them. One instance applies at a time.

use super::TaskError;
use app::state::{AppState, StartupPhase};
use std::time::Duration;
use tsdb::audit::Actor;
use tsdb::policy::report::Trigger;

/// How often it looks whether start-up is done.
const WAIT: Duration = Duration::from_secs(1);

/// Waits for start-up, then applies once (or only loads the latest apply when applying at
/// start-up is off).
pub async fn run(
    state: AppState,
    apply_on_startup: bool,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    loop {
        let ready = state.phase() == StartupPhase::Ready
            && state
                .capabilities()
                .is_some_and(|c| c.require_timescaledb().is_ok());
        if ready {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(WAIT) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
    if let Err(error) = app::policies::service::load_last_run(&state).await {
        tracing::warn!(%error, "cannot read the latest policy apply");
    }
    if !apply_on_startup {
        tracing::info!(
            "policies are not applied at start-up (TIMESCALEDB_APPLY_POLICIES_ON_STARTUP=false)"
        );
        return Ok(());
    }
    match app::policies::service::apply(&state, &Actor::System, None, Trigger::Startup).await {
        Ok(report) => {
            let failed = report.failed();
            if failed == 0 {
                tracing::info!(steps = report.results.len(), "policies applied at start-up");
            } else {
                for result in report
                    .results
                    .iter()
                    .filter(|r| !matches!(r.outcome, tsdb::policy::report::StepOutcome::Applied))
                {
                    tracing::warn!(table = %result.table, step = %result.summary, outcome = ?result.outcome, "policy step did not apply");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "policies could not be applied at start-up"),
    }
    Ok(())
}
