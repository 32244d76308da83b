//! The console's background tasks and their supervisor.
//!
//! Each task is `async fn run(state, shutdown) -> Result<(), TaskError>` in a module of
//! its own. [`spawn`] runs one under supervision: a task that fails or panics is logged
//! with its cause, shown on the task board (health, overview, `/health/database`) and
//! started again with back-off; a loop that returns by itself counts as a failure, a
//! one-off task that returns `Ok` is finished. Every task stops on the shutdown signal.
//!
//! A new task: a module here with its `run`, one `spawn` line in `serve::run`, and an
//! advisory lock from `tsdb::locks` first if it writes (several console instances may
//! run; exactly one of them should write).

pub mod database_watch;
pub mod job_watcher;
pub mod policy_reconciler;
pub mod refresher;
pub mod session_janitor;
pub mod startup;
pub mod storage_sampler;
pub mod webhook_sender;

use app::state::AppState;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tsdb::types::TaskState;

/// The pool, once migrations ran and TimescaleDB is usable (demo data may still load).
pub fn timescaledb_pool(state: &AppState) -> Option<sqlx::PgPool> {
    let usable = matches!(
        state.phase(),
        app::state::StartupPhase::Ready | app::state::StartupPhase::LoadingDemoData
    ) && state
        .capabilities()
        .is_some_and(|c| c.require_timescaledb().is_ok());
    usable.then(|| state.pool().ok()).flatten()
}

/// Why a task stopped working.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// An engine call failed in a way the task cannot carry on from.
    #[error(transparent)]
    Engine(#[from] tsdb::Error),
    /// The task cannot be set up (a client it needs cannot be built).
    #[error("{0}")]
    Setup(String),
}

/// Whether a task is meant to run until shutdown or to complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Runs until shutdown: returning earlier is a failure.
    UntilShutdown,
    /// Completes its work once.
    OneOff,
}

/// The first pause before a restart; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_secs(1);
/// The longest pause between restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run that lasted this long resets the back-off: the task had recovered.
const HEALTHY_RUN: Duration = Duration::from_secs(300);

/// Aborts the supervised task when the supervisor itself is dropped (JoinSet shutdown).
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), TaskError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The text of a panic's payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => format!("panicked: {text}"),
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => format!("panicked: {text}"),
            Err(_) => "panicked".to_string(),
        },
    }
}

/// Runs `task` under supervision in `set` until shutdown (or completion for a one-off).
pub fn spawn<F, Fut>(
    set: &mut JoinSet<()>,
    name: &'static str,
    lifetime: Lifetime,
    state: &AppState,
    shutdown: &watch::Receiver<bool>,
    task: F,
) where
    F: Fn(AppState, watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
{
    set.spawn(supervise(
        name,
        lifetime,
        state.clone(),
        shutdown.clone(),
        task,
    ));
}

/// The supervision loop of one task.
pub async fn supervise<F, Fut>(
    name: &'static str,
    lifetime: Lifetime,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
    task: F,
) where
    F: Fn(AppState, watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
{
    let board = state.tasks.clone();
    let mut backoff = MIN_BACKOFF;
    loop {
        board.running(name);
        let started = Instant::now();
        let mut running = AbortOnDrop(tokio::spawn(task(state.clone(), shutdown.clone())));
        let outcome = (&mut running.0).await;
        if *shutdown.borrow() {
            board.ended(name, TaskState::Stopped);
            return;
        }
        let cause = match outcome {
            Ok(Ok(())) if lifetime == Lifetime::OneOff => {
                board.ended(name, TaskState::Finished);
                return;
            }
            Ok(Ok(())) => "stopped by itself".to_string(),
            Ok(Err(error)) => error.to_string(),
            Err(join) if join.is_panic() => panic_message(join.into_panic()),
            Err(join) => join.to_string(),
        };
        if started.elapsed() >= HEALTHY_RUN {
            backoff = MIN_BACKOFF;
        }
        tracing::error!(task = name, %cause, retry_in = ?backoff, "background task failed; starting it again");
        board.failed(name, cause, backoff);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => {
                board.ended(name, TaskState::Stopped);
                return;
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn state() -> AppState {
        AppState::new(app::state::StateConfig::defaults(
            leptos::prelude::LeptosOptions::builder()
                .output_name("t")
                .build(),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_started_again_with_back_off_and_its_cause_is_shown() {
        let state = state();
        let (stop, stopped) = crate::shutdown::channel();
        let starts = Arc::new(AtomicU32::new(0));
        let counter = starts.clone();
        let supervisor = tokio::spawn(supervise(
            "flaky",
            Lifetime::UntilShutdown,
            state.clone(),
            stopped,
            move |_, mut shutdown| {
                let run = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if run < 2 {
                        panic!("overflow in run {run}");
                    }
                    let _ = shutdown.changed().await;
                    Ok(())
                }
            },
        ));
        // 1 s, then 2 s of back-off: the third start is the good one.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let [task] = state.tasks.list().try_into().unwrap();
        assert_eq!(task.state, TaskState::Restarting);
        assert_eq!(
            task.last_error.as_deref(),
            Some("panicked: overflow in run 0")
        );
        tokio::time::sleep(Duration::from_secs(4)).await;
        let [task] = state.tasks.list().try_into().unwrap();
        assert_eq!((task.state, task.restarts), (TaskState::Running, 2));
        assert_eq!(
            task.last_error.as_deref(),
            Some("panicked: overflow in run 1")
        );
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        stop.send(true).unwrap();
        supervisor.await.unwrap();
        let [task] = state.tasks.list().try_into().unwrap();
        assert_eq!(task.state, TaskState::Stopped);
    }

    #[tokio::test(start_paused = true)]
    async fn a_one_off_task_finishes_and_a_loop_that_returns_is_a_failure() {
        let state = state();
        let (_stop, stopped) = crate::shutdown::channel();
        supervise(
            "once",
            Lifetime::OneOff,
            state.clone(),
            stopped.clone(),
            |_, _| async { Ok(()) },
        )
        .await;
        let looping = tokio::spawn(supervise(
            "loop",
            Lifetime::UntilShutdown,
            state.clone(),
            stopped,
            |_, _| async { Ok(()) },
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let tasks = state.tasks.list();
        assert_eq!(tasks[0].name, "loop");
        assert_eq!(tasks[0].state, TaskState::Restarting);
        assert_eq!(tasks[0].last_error.as_deref(), Some("stopped by itself"));
        assert_eq!(
            (tasks[1].name.as_str(), tasks[1].state),
            ("once", TaskState::Finished)
        );
        looping.abort();
    }
}
