//! The console's overall health, judged from the last known state (never by asking the
//! database, so a hung database cannot hang the health check).

use super::feed::PassOutcome;
use crate::state::{AppState, StartupPhase};
use chrono::Utc;
use tsdb::types::HealthStatus;

/// The overall status from the last known state, without asking the database: down when
/// it is not connected or stopped answering, degraded when start-up failed, TimescaleDB
/// is missing or unsupported, the snapshot is stale, a background task is failing (or
/// failed in the last few minutes), steps of the latest policy apply failed, a job
/// alert is open (acknowledged or not), or the server refuses new connections
/// (`max_connections`); ok otherwise.
pub fn assess(state: &AppState) -> HealthStatus {
    // The database watch alone judges reachability: a failed pass (a cancelled
    // statement, a connection ended by a DBA) leaves the database answering.
    if state.database_down() {
        return HealthStatus::Down;
    }
    let timescaledb_ok = state
        .capabilities()
        .is_some_and(|c| c.require_timescaledb().is_ok());
    // A snapshot older than three intervals (plus a slow pass) means the refresher is stuck.
    let stale_after = f64::from(state.monitor_interval_seconds) * 3.0 + 120.0;
    let stale = state
        .monitor
        .age_seconds()
        .is_some_and(|age| age > stale_after);
    let failed_pass = matches!(state.monitor.outcome(), PassOutcome::Failed { .. });
    let troubled_task = !state.tasks.troubled(Utc::now()).is_empty();
    let failing_policy = state.policies.last().is_some_and(|run| run.failed > 0);
    let open_alert = !state.alerts.open().is_empty();
    let crowded = state.link.crowded_since().is_some();
    match state.phase() {
        StartupPhase::Failed(_) => HealthStatus::Degraded,
        _ if !timescaledb_ok
            || stale
            || failed_pass
            || troubled_task
            || failing_policy
            || open_alert
            || crowded =>
        {
            HealthStatus::Degraded
        }
        _ => HealthStatus::Ok,
    }
}
