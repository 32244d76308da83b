//! The console's overall health, judged from the last known state (never by asking the
//! database, so a hung database cannot hang the health check).

use super::feed::PassOutcome;
use crate::state::{AppState, StartupPhase};
use chrono::Utc;
use tsdb::types::{HealthReason, HealthStatus};

/// The overall status from the last known state, without asking the database: down when
/// it is not connected or stopped answering, degraded (with every reason) when start-up
/// failed, TimescaleDB is missing or unsupported, only its public API is read, the latest
/// pass failed or the snapshot is stale, a background task is failing (or failed in the
/// last few minutes), steps of the latest policy apply failed, a job alert is open
/// (acknowledged or not), or the server refuses new connections; ok otherwise.
pub fn assess(state: &AppState) -> HealthStatus {
    assessment(state).0
}

/// [`assess`], with why.
pub fn assessment(state: &AppState) -> (HealthStatus, Vec<HealthReason>) {
    // The database watch alone judges reachability: a failed pass (a cancelled
    // statement, a connection ended by a DBA) leaves the database answering.
    if state.database_down() {
        return (HealthStatus::Down, vec![HealthReason::DatabaseDown]);
    }
    let capabilities = state.capabilities();
    let timescaledb_ok = capabilities
        .as_ref()
        .is_some_and(|c| c.require_timescaledb().is_ok());
    let public_only = timescaledb_ok
        && capabilities
            .as_ref()
            .is_some_and(|c| c.catalog_shape().is_none());
    // A snapshot older than three intervals (plus a slow pass) means the refresher is stuck.
    let stale_after = f64::from(state.monitor_interval_seconds) * 3.0 + 120.0;
    let stale = state
        .monitor
        .age_seconds()
        .is_some_and(|age| age > stale_after);
    let reasons: Vec<HealthReason> = [
        (
            matches!(state.phase(), StartupPhase::Failed(_)),
            HealthReason::StartupFailed,
        ),
        (!timescaledb_ok, HealthReason::TimescaledbUnusable),
        (public_only, HealthReason::CatalogPublicApiOnly),
        (
            matches!(state.monitor.outcome(), PassOutcome::Failed { .. }),
            HealthReason::CatalogPassFailing,
        ),
        (stale, HealthReason::SnapshotStale),
        (
            !state.tasks.troubled(Utc::now()).is_empty(),
            HealthReason::BackgroundTaskFailing,
        ),
        (
            state.policies.last().is_some_and(|run| run.failed > 0),
            HealthReason::PolicyApplyFailed,
        ),
        (!state.alerts.open().is_empty(), HealthReason::JobAlertOpen),
        (
            state.link.crowded_since().is_some(),
            HealthReason::ConnectionsExhausted,
        ),
    ]
    .into_iter()
    .filter_map(|(holds, reason)| holds.then_some(reason))
    .collect();
    let status = if reasons.is_empty() {
        HealthStatus::Ok
    } else {
        HealthStatus::Degraded
    };
    (status, reasons)
}
