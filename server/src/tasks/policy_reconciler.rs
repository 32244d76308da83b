//! The start-up reconciler: once start-up is done (migrated, demo data loaded) and
//! TimescaleDB is usable, it plans the managed hypertables' policies and applies the plan
//! (`TIMESCALEDB_APPLY_POLICIES_ON_STARTUP`), in the background: the console serves all
//! along. Failed steps show in `/health` (degraded) and on the overview; the next apply
//! (an admin's, or the next start) retries them. Steps that would lose data (a retention
//! dropping chunks, an aggregate losing rows) are held for an admin to confirm on the
//! policies page. One instance applies at a time.

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
    // Steps that would lose data wait for an admin: the start-up apply never types a
    // table's name for anyone.
    let request = app::policies::service::ApplyRequest {
        actor: &Actor::System,
        client_addr: None,
        trigger: Trigger::Startup,
        expected: None,
        confirmations: Default::default(),
        hold_unconfirmed: true,
    };
    match app::policies::service::apply(&state, &request).await {
        Ok(app::policies::ApplyOutcome::Applied { report, held }) => {
            // The guard at work, not a fault: the policies page asks the admin (a first
            // start of the demo holds five such steps), so one line says it, not a warning each.
            if !held.is_empty() {
                let relations: std::collections::BTreeSet<String> =
                    held.iter().map(|h| h.relation.to_string()).collect();
                let relations: Vec<String> = relations.into_iter().collect();
                tracing::info!(
                    held = held.len(),
                    relations = %relations.join(", "),
                    "policy changes that would drop data wait for an admin's confirmation on the policies page"
                );
            }
            for hazard in &held {
                tracing::debug!(hazard = %hazard.describe(), "policy step held");
            }
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
        Ok(other) => tracing::warn!(outcome = ?other, "policies were not applied at start-up"),
        Err(error) => tracing::warn!(%error, "policies could not be applied at start-up"),
    }
    Ok(())
}
