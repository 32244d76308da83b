//! The published monitoring snapshot: one background refresher writes it, every page,
//! REST handler, Prometheus scrape and live stream reads it. Reading never touches the
//! database, so a hundred viewers cost one query loop.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{watch, Notify};
use tsdb::facts::Snapshot;

/// The outcome of the refresher's latest attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum PassOutcome {
    /// No pass has finished yet.
    Pending,
    /// The latest pass succeeded at this time.
    Succeeded(DateTime<Utc>),
    /// The latest pass failed at this time, for this reason (already logged).
    Failed {
        /// When the passes began failing (the first of this run of failures).
        since: DateTime<Utc>,
        /// When the latest failed.
        at: DateTime<Utc>,
        /// Why, as the database said it (for the log and the admins' health details).
        reason: String,
        /// What it means, in words safe to show on every page.
        message: String,
    },
}

/// The snapshot and the refresher's state, shared by clones.
#[derive(Clone)]
pub struct Monitor {
    snapshot: watch::Sender<Option<Arc<Snapshot>>>,
    closing: watch::Sender<bool>,
    outcome: Arc<RwLock<PassOutcome>>,
    wake: Arc<Notify>,
    rendered: Arc<Mutex<Rendering>>,
}

/// The latest text rendered from a snapshot, with the snapshot it was rendered from.
type Rendering = Option<(Arc<Snapshot>, Arc<str>)>;

impl Default for Monitor {
    fn default() -> Self {
        Self {
            snapshot: watch::Sender::new(None),
            closing: watch::Sender::new(false),
            outcome: Arc::new(RwLock::new(PassOutcome::Pending)),
            wake: Arc::new(Notify::new()),
            rendered: Arc::default(),
        }
    }
}

impl Monitor {
    /// The latest snapshot, if any pass has succeeded.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.borrow().clone()
    }

    /// The latest snapshot, or why there is none: the first pass is still running
    /// (`snapshot_pending`), or every pass so far has failed (`catalog_pass_failing`,
    /// with since when and why): failing is never reported as pending.
    #[cfg(feature = "ssr")]
    pub fn current(&self) -> Result<Arc<Snapshot>, crate::error::AppError> {
        use crate::error::AppError;
        if let Some(snapshot) = self.snapshot() {
            return Ok(snapshot);
        }
        Err(match self.outcome() {
            PassOutcome::Failed { since, message, .. } => AppError::PassFailing {
                since: since.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                message,
            },
            PassOutcome::Pending | PassOutcome::Succeeded(_) => AppError::SnapshotPending,
        })
    }

    /// The latest snapshot and the hypertable `schema.name` in it; [`Monitor::current`]'s
    /// error without a snapshot, not found when the catalog has no such hypertable.
    #[cfg(feature = "ssr")]
    pub fn hypertable(
        &self,
        schema: &str,
        name: &str,
    ) -> Result<(Arc<Snapshot>, tsdb::facts::HypertableFacts), crate::error::AppError> {
        use crate::error::AppError;
        let snapshot = self.current()?;
        let table = snapshot
            .hypertables
            .iter()
            .find(|h| h.schema == schema && h.name == name)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("no hypertable {schema}.{name}")))?;
        Ok((snapshot, table))
    }

    /// Seconds since the latest snapshot was taken.
    pub fn age_seconds(&self) -> Option<f64> {
        self.snapshot()
            .map(|s| ((Utc::now() - s.taken_at).num_milliseconds() as f64 / 1000.0).max(0.0))
    }

    /// Text derived from `snapshot` alone (the Prometheus exposition of its facts),
    /// rendered by the first caller after each pass and shared by the rest: at 500
    /// hypertables it takes tens of milliseconds, and scrapes can come often.
    pub fn rendered_once(
        &self,
        snapshot: &Arc<Snapshot>,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        let memo = || {
            self.rendered
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some((of, text)) = &*memo() {
            if Arc::ptr_eq(of, snapshot) {
                return text.clone();
            }
        }
        // Rendered without the lock: callers racing on a new snapshot each render once.
        let text: Arc<str> = render().into();
        *memo() = Some((snapshot.clone(), text.clone()));
        text
    }

    /// Publishes a new snapshot and wakes every subscriber.
    pub fn publish(&self, snapshot: Snapshot) {
        // The outcome first: whoever wakes for the new snapshot must not still read the
        // previous pass's failure.
        self.set_outcome(PassOutcome::Succeeded(snapshot.taken_at));
        self.snapshot.send_replace(Some(Arc::new(snapshot)));
    }

    /// Records a failed pass; the previous snapshot stays readable.
    pub fn fail(&self, reason: String, message: String) {
        let now = Utc::now();
        let since = match self.outcome() {
            PassOutcome::Failed { since, .. } => since,
            _ => now,
        };
        self.set_outcome(PassOutcome::Failed {
            since,
            at: now,
            reason,
            message,
        });
    }

    fn set_outcome(&self, outcome: PassOutcome) {
        if let Ok(mut current) = self.outcome.write() {
            *current = outcome;
        }
    }

    /// The latest pass's failure, for the pages: when, and what it means.
    pub fn failure(&self) -> Option<(DateTime<Utc>, String)> {
        match self.outcome() {
            PassOutcome::Failed { at, message, .. } => Some((at, message)),
            _ => None,
        }
    }

    /// The latest attempt's outcome.
    pub fn outcome(&self) -> PassOutcome {
        self.outcome
            .read()
            .map(|o| o.clone())
            .unwrap_or(PassOutcome::Pending)
    }

    /// A receiver that sees every new snapshot (for live pages).
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.snapshot.subscribe()
    }

    /// Ends every live stream (at shutdown, so open browsers do not hold it up).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Monitor::close`] has been called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closed| *closed).await;
    }

    /// Asks the refresher for a pass now.
    pub fn request_refresh(&self) {
        self.wake.notify_one();
    }

    /// Waits until a refresh is asked for.
    pub async fn refresh_requested(&self) {
        self.wake.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use tsdb::facts::DatabaseFacts;

    fn snapshot() -> Snapshot {
        let database = DatabaseFacts {
            name: "ms5".into(),
            server_version: "17".into(),
            size_bytes: 1,
            connections: 1,
            max_connections: 100,
        };
        Snapshot::without_timescaledb(database, 0.1)
    }

    #[test]
    fn a_rendering_is_made_once_per_snapshot() {
        let monitor = Monitor::default();
        let renders = Cell::new(0);
        let render = || {
            renders.set(renders.get() + 1);
            format!("render {}", renders.get())
        };
        monitor.publish(snapshot());
        let first = monitor.snapshot().unwrap();
        assert_eq!(&*monitor.rendered_once(&first, render), "render 1");
        assert_eq!(&*monitor.rendered_once(&first, render), "render 1");
        monitor.publish(snapshot());
        let second = monitor.snapshot().unwrap();
        assert_eq!(&*monitor.rendered_once(&second, render), "render 2");
        // A caller still holding the old snapshot never gets the new one's text.
        assert_eq!(&*monitor.rendered_once(&first, render), "render 3");
        assert_eq!(renders.get(), 3);
    }
}
