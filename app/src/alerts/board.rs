//! The open alerts, kept in memory by the job watcher so health, the banner on every page
//! and the metrics read them without a query; and the bell the watcher rings when it has
//! queued webhook messages (the sender wakes at once instead of at its next tick), or that
//! an action rings to have the watcher look again now.

use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
use tsdb::alerts::Alert;

/// Open alerts and two wake-up bells, shared by clones.
#[derive(Clone, Default)]
pub struct AlertBoard {
    open: Arc<RwLock<Option<Vec<Alert>>>>,
    watcher: Arc<Notify>,
    sender: Arc<Notify>,
}

impl AlertBoard {
    /// Publishes the open alerts.
    pub fn publish(&self, alerts: Vec<Alert>) {
        if let Ok(mut open) = self.open.write() {
            *open = Some(alerts);
        }
    }

    /// The open alerts; empty until the watcher's first look.
    pub fn open(&self) -> Vec<Alert> {
        self.open
            .read()
            .ok()
            .and_then(|open| open.clone())
            .unwrap_or_default()
    }

    /// Asks the watcher to look now (after a job action).
    pub fn nudge_watcher(&self) {
        self.watcher.notify_one();
    }

    /// Waits until someone asks the watcher to look.
    pub async fn watcher_nudged(&self) {
        self.watcher.notified().await;
    }

    /// Tells the webhook sender there is something to send.
    pub fn wake_sender(&self) {
        self.sender.notify_one();
    }

    /// Waits until there may be something to send.
    pub async fn sender_woken(&self) {
        self.sender.notified().await;
    }
}
