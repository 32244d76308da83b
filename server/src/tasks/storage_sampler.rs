//! The storage sampler: every `MS5_STORAGE_SAMPLE_SECONDS` it writes the latest monitoring
//! snapshot's sizes (every hypertable, continuous aggregate and the database) into the
//! storage history, on one console instance at a time (`tsdb::locks`); the time of the
//! newest stored sample, not a local timer, decides whether a sample is due, so several
//! instances still write one sample per interval. It reads no catalog itself: the
//! refresher's pass already measured everything.
//!
//! With demo data, an empty history is first back-filled from the demo's chunks (samples
//! marked generated), so the trends page has a history right after `make run`.

use super::TaskError;
use app::state::{AppState, StartupPhase};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tsdb::facts::Snapshot;
use tsdb::locks::TaskLock;
use tsdb::storage::{backfill, history};

/// What the sampler needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct SamplerSettings {
    /// Time between samples.
    pub every: Duration,
    /// Whether an empty history is back-filled (demo data only).
    pub backfill: bool,
}

/// The spacing of back-filled samples.
const BACKFILL_STEP_HOURS: i64 = 6;
/// The longest wait between looks (a due sample is written at most this late).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Samples until shutdown.
pub async fn run(
    state: AppState,
    settings: SamplerSettings,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    let mut snapshots = state.monitor.subscribe();
    // A snapshot from before start-up finished may not hold the demo data yet.
    let mut ready_since: Option<DateTime<Utc>> = None;
    loop {
        if state.phase() == StartupPhase::Ready {
            let since = *ready_since.get_or_insert_with(|| {
                state.monitor.request_refresh();
                Utc::now()
            });
            let snapshot = state.monitor.snapshot().filter(|s| s.taken_at > since);
            if let (Some(pool), Some(snapshot)) = (super::timescaledb_pool(&state), snapshot) {
                match sample(&pool, &snapshot, settings).await {
                    Ok(Some(written)) if written > 0 => {
                        tracing::debug!(written, "storage samples recorded")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot record storage samples"),
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.every.min(MAX_WAIT)) => {}
            _ = snapshots.changed() => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// Writes what is due on the connection holding the sampler's lock; `None` when another
/// instance holds it.
pub async fn sample(
    pool: &sqlx::PgPool,
    snapshot: &Snapshot,
    settings: SamplerSettings,
) -> tsdb::Result<Option<u64>> {
    let Some(mut held) = tsdb::locks::try_lock(pool, TaskLock::StorageSampler).await? else {
        return Ok(None);
    };
    let written = async {
        let latest = history::latest(held.conn()).await?;
        let mut written = 0;
        if latest.is_none() && settings.backfill {
            let past =
                backfill::reconstruct(snapshot, chrono::Duration::hours(BACKFILL_STEP_HOURS));
            written += history::record(held.conn(), &past).await?;
            tracing::info!(
                samples = past.len(),
                "storage history back-filled from the demo's chunks"
            );
        }
        let every = chrono::Duration::from_std(settings.every).unwrap_or(chrono::Duration::MAX);
        let due = latest.is_none_or(|l| snapshot.taken_at >= l + every);
        if due {
            written += history::record(held.conn(), &tsdb::storage::samples_of(snapshot)).await?;
        }
        Ok::<_, tsdb::Error>(written)
    }
    .await;
    held.release().await?;
    written.map(Some)
}
