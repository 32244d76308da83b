//! The board of the console's background tasks: the supervisor in `server::tasks` writes
//! each task's state here; health, the overview and REST read it.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tsdb::types::{BackgroundTask, TaskState};

/// Every task's latest state, shared by clones.
#[derive(Clone, Default)]
pub struct TaskBoard {
    tasks: Arc<RwLock<BTreeMap<String, BackgroundTask>>>,
}

impl TaskBoard {
    fn update(&self, name: &str, change: impl FnOnce(&mut BackgroundTask)) {
        if let Ok(mut tasks) = self.tasks.write() {
            let task = tasks
                .entry(name.to_string())
                .or_insert_with(|| BackgroundTask {
                    name: name.to_string(),
                    state: TaskState::Running,
                    restarts: 0,
                    last_error: None,
                    last_failed_at: None,
                    restart_at: None,
                });
            change(task);
        }
    }

    /// The task (re)started.
    pub fn running(&self, name: &str) {
        self.update(name, |task| {
            if task.state == TaskState::Restarting {
                task.restarts += 1;
            }
            task.state = TaskState::Running;
            task.restart_at = None;
        });
    }

    /// The task failed for `cause`; it starts again after `pause`.
    pub fn failed(&self, name: &str, cause: String, pause: Duration) {
        let now = Utc::now();
        self.update(name, |task| {
            task.state = TaskState::Restarting;
            task.last_error = Some(cause);
            task.last_failed_at = Some(now);
            task.restart_at = chrono::Duration::from_std(pause)
                .ok()
                .map(|pause| now + pause);
        });
    }

    /// The task ended as it should (`Finished`) or for shutdown (`Stopped`).
    pub fn ended(&self, name: &str, state: TaskState) {
        self.update(name, |task| {
            task.state = state;
            task.restart_at = None;
        });
    }

    /// Every task, by name.
    pub fn list(&self) -> Vec<BackgroundTask> {
        self.tasks
            .read()
            .map(|tasks| tasks.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The tasks failing now or lately.
    pub fn troubled(&self, now: DateTime<Utc>) -> Vec<BackgroundTask> {
        self.list()
            .into_iter()
            .filter(|task| task.is_troubled(now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_counted_when_the_task_starts_again_and_stays_visible_for_a_while() {
        let board = TaskBoard::default();
        board.running("refresher");
        assert!(board.troubled(Utc::now()).is_empty());
        board.failed("refresher", "boom".into(), Duration::from_secs(2));
        let [task] = board.troubled(Utc::now()).try_into().unwrap();
        assert_eq!(
            (task.state, task.restarts, task.last_error.as_deref()),
            (TaskState::Restarting, 0, Some("boom"))
        );
        assert!(task.restart_at.is_some());
        board.running("refresher");
        let [task] = board.list().try_into().unwrap();
        assert_eq!((task.state, task.restarts), (TaskState::Running, 1));
        // Recovered, but failed a moment ago: still troubled for a few minutes.
        assert_eq!(board.troubled(Utc::now()).len(), 1);
        assert!(board
            .troubled(Utc::now() + chrono::Duration::minutes(6))
            .is_empty());
    }
}
