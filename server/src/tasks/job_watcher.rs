//! The job watcher: every `MS5_ALERT_CHECK_SECONDS` (or at once after a job action) it
//! judges every job (failing: the latest run, scheduler's or console's, failed; stale: no
//! success within the stale factor × schedule), raises and clears alerts and queues their
//! webhook messages, on one console instance at a time (`tsdb::locks`). Every instance
//! then publishes the open alerts for health, the banner and the metrics.

use super::TaskError;
use app::state::AppState;
use std::time::Duration;
use tsdb::alerts::store::Changes;
use tsdb::alerts::AlertRules;
use tsdb::locks::TaskLock;

/// What the watcher needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct WatchSettings {
    /// Time between looks.
    pub every: Duration,
    /// Stale after this many schedules.
    pub stale_factor: u32,
    /// Reminder interval of an open alert; none for no reminders.
    pub reminder: Option<Duration>,
    /// Whether webhook messages are queued.
    pub notify: bool,
}

/// Looks at the jobs until shutdown.
pub async fn run(
    state: AppState,
    settings: WatchSettings,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    loop {
        if let Some(pool) = super::timescaledb_pool(&state) {
            match look(&state, &pool, settings).await {
                Ok(Some(changes)) => report(&state, &changes, settings.notify),
                Ok(None) => tracing::debug!("another console instance watches the jobs"),
                Err(error) => tracing::warn!(%error, "the job watcher could not look at the jobs"),
            }
            match tsdb::alerts::store::open(&pool).await {
                Ok(open) => state.alerts.publish(open),
                Err(error) => tracing::warn!(%error, "cannot read the open alerts"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.every) => {}
            _ = state.alerts.watcher_nudged() => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// One look on the connection holding the watcher's lock; `None` when another instance
/// holds it.
async fn look(
    state: &AppState,
    pool: &sqlx::PgPool,
    settings: WatchSettings,
) -> tsdb::Result<Option<Changes>> {
    let Some(mut held) = tsdb::locks::try_lock(pool, TaskLock::JobWatcher).await? else {
        return Ok(None);
    };
    let rules = AlertRules {
        stale_factor: settings.stale_factor,
        scheduler: state.capabilities().is_some_and(|c| c.has_job_scheduler()),
    };
    let Some(capabilities) = state.capabilities() else {
        held.release().await?;
        return Ok(None);
    };
    let changes = async {
        let jobs: Vec<_> = tsdb::monitoring::jobs::jobs(&mut *held.conn(), &capabilities)
            .await?
            .into_iter()
            .map(|row| row.facts)
            .collect();
        let console = tsdb::jobs::history::latest_console_runs(held.conn()).await?;
        let conditions = tsdb::alerts::evaluate(&jobs, &console, rules, chrono::Utc::now());
        let undecided = tsdb::alerts::undecided(&jobs);
        tsdb::alerts::store::reconcile(
            held.conn(),
            &conditions,
            &undecided,
            settings.notify,
            settings.reminder,
        )
        .await
    }
    .await;
    held.release().await?;
    changes.map(Some)
}

/// Logs what changed and wakes the webhook sender when it has messages.
fn report(state: &AppState, changes: &Changes, notify: bool) {
    for alert in &changes.raised {
        tracing::warn!(
            alert = alert.id,
            job = alert.job_id,
            "alert raised: {}: {}",
            alert.title(),
            alert.message
        );
    }
    for alert in &changes.cleared {
        tracing::info!(
            alert = alert.id,
            job = alert.job_id,
            "alert cleared: {}",
            alert.title()
        );
    }
    if changes.queued_messages(notify) {
        state.alerts.wake_sender();
    }
}
