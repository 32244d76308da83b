//! The latest policy apply, kept in memory so health and the overview read it without a
//! query; whoever applies (the start-up reconciler, an admin, the API) publishes here.

use std::sync::{Arc, RwLock};
use tsdb::policy::report::LastRun;

/// The latest apply, shared by clones.
#[derive(Clone, Default)]
pub struct PolicyStatus {
    last: Arc<RwLock<Option<LastRun>>>,
}

impl PolicyStatus {
    /// Publishes the latest apply.
    pub fn publish(&self, run: Option<LastRun>) {
        if let Ok(mut last) = self.last.write() {
            *last = run;
        }
    }

    /// The latest apply, if any.
    pub fn last(&self) -> Option<LastRun> {
        self.last.read().ok().and_then(|last| last.clone())
    }
}
