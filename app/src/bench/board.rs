//! The server's side of a run started from the page: at most one per console, on a pool
//! of its own (so the console's requests keep theirs), its progress and notices kept for
//! the page, stoppable.

use super::view::{RunStatus, RunningView};
use crate::auth::Principal;
use crate::error::AppError;
use sqlx::ConnectOptions;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tsdb::audit::{self, Entry, Outcome as AuditOutcome};
use tsdb::bench::report::Progress;
use tsdb::bench::run::{self, Outcome};
use tsdb::bench::suite::BenchOptions;

/// Connections of a run: the scratch one and ten for the concurrency tests.
const RUN_CONNECTIONS: u32 = 11;

/// The run going on and what the last one left to say.
#[derive(Clone, Default)]
pub struct BenchBoard {
    inner: Arc<Mutex<Board>>,
    /// Whether the console runs in the production profile.
    production: bool,
}

#[derive(Default)]
struct Board {
    running: Option<RunningView>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    last_problem: Option<String>,
    notices: Vec<String>,
}

impl BenchBoard {
    /// A board for a console in (or not in) the production profile.
    pub fn new(production: bool) -> BenchBoard {
        BenchBoard {
            inner: Arc::default(),
            production,
        }
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        // A panic while holding the lock leaves plain data behind: still readable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The run going on and what the last one said.
    /// `blocked`: why this console cannot start a run at all, if it cannot.
    pub fn status(&self, blocked: Option<String>) -> RunStatus {
        let board = self.board();
        RunStatus {
            running: board.running.clone(),
            last_problem: board.last_problem.clone(),
            notices: board.notices.clone(),
            blocked,
            production: self.production,
        }
    }

    /// Starts a run in the background on `database` (or its refusal: not connected, or a
    /// server that serves one connection at a time); refused while one runs, and in
    /// production without `accept_production`, before anything else.
    pub async fn start(
        &self,
        database: Result<(sqlx::PgPool, tsdb::capabilities::Capabilities), AppError>,
        principal: &Principal,
        client_addr: Option<&str>,
        runs: u32,
        rows: u64,
        accept_production: bool,
    ) -> Result<(), AppError> {
        if self.production && !accept_production {
            return Err(AppError::Invalid(
                "This console runs in the production profile: tick \u{201c}Run against this production database\u{201d} to accept the load (over REST: accept_production=true)".into(),
            ));
        }
        let (pool, capabilities) = database?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        {
            let mut board = self.board();
            if let Some(running) = &board.running {
                return Err(AppError::Conflict(format!(
                    "A bench run started by {} at {} is still going; wait for it or stop it.",
                    running.started_by,
                    running.started_at.format("%H:%M:%S UTC")
                )));
            }
            board.running = Some(RunningView {
                started_by: principal.name().to_string(),
                started_at: chrono::Utc::now(),
                progress: Progress {
                    done: 0,
                    total: 1,
                    current: "starting".into(),
                },
            });
            board.stop = Some(stop);
            board.last_problem = None;
            board.notices.clear();
        }
        let detail = format!("{runs} run(s), {rows} rows for the ingest rate");
        if let Err(error) = audit::record(
            &pool,
            &Entry {
                actor: &principal.actor,
                client_addr,
                action: "bench.start",
                object_type: Some("bench"),
                object_id: None,
                before: None,
                after: Some(serde_json::json!({ "runs": runs, "rows": rows })),
                outcome: AuditOutcome::Success,
                detail: Some(&detail),
            },
        )
        .await
        {
            self.board().running = None;
            return Err(error.into());
        }
        let board = self.clone();
        let started_by = principal.name().to_string();
        tokio::spawn(async move {
            let outcome = board
                .execute(pool, capabilities, started_by, runs, rows, stopped)
                .await;
            let mut state = board.board();
            state.running = None;
            state.stop = None;
            if outcome.is_ok() {
                // Said while the run went on; the schema is gone now.
                state.notices.retain(|n| !n.starts_with("scratch schema"));
            }
            state.last_problem = outcome.err();
        });
        Ok(())
    }

    /// Asks the run going on to stop.
    pub fn stop(&self) -> Result<(), AppError> {
        let mut board = self.board();
        match board.stop.take() {
            Some(stop) => {
                let _ = stop.send(());
                if let Some(running) = &mut board.running {
                    running.progress.current = "stopping: removing the scratch schema".into();
                }
                Ok(())
            }
            None => Err(AppError::Conflict("No bench run is going on.".into())),
        }
    }

    /// Stops the run going on, if any, and waits (at most `bound`) until its scratch
    /// schema is removed: the console is going away, and a schema left behind would wait
    /// for the next run's sweep. Whether no run is left going.
    pub async fn stop_for_shutdown(&self, bound: Duration) -> bool {
        if self.stop().is_err() {
            return self.board().running.is_none();
        }
        let waited = tokio::time::timeout(bound, async {
            while self.board().running.is_some() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        waited.is_ok()
    }

    /// The run itself; `Err` is what the page says about a run that did not finish.
    async fn execute(
        &self,
        console_pool: sqlx::PgPool,
        capabilities: tsdb::capabilities::Capabilities,
        started_by: String,
        runs: u32,
        rows: u64,
        stopped: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), String> {
        let options = (*console_pool.connect_options())
            .clone()
            .application_name("ms5-console bench");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(RUN_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _meta| Box::pin(tsdb::connection::prepare(conn)))
            .connect_lazy_with(options.clone());
        let psql = match run::psql_on_path(options.to_url_lossy().as_str()).await {
            Ok(psql) => Some(psql),
            Err(reason) => {
                self.board()
                    .notices
                    .push(format!("{reason}: the figures have no psql anchors"));
                None
            }
        };
        let options = BenchOptions { runs, rows, psql };
        let progress = |progress: Progress| {
            if let Some(running) = &mut self.board().running {
                running.progress = progress;
            }
        };
        let notice = |text: String| self.board().notices.push(text);
        let stop = async {
            // A dropped sender (the console going away) is not a request to stop.
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let outcome = run::run(
            &pool,
            &capabilities,
            &options,
            &started_by,
            &progress,
            &notice,
            stop,
        )
        .await;
        pool.close().await;
        match outcome {
            Ok(Outcome::Finished {
                recorded: Ok(_), ..
            }) => Ok(()),
            Ok(Outcome::Finished {
                recorded: Err(error),
                ..
            }) => Err(format!(
                "The run finished but could not be recorded: {error}"
            )),
            Ok(Outcome::Stopped) => Err(format!(
                "The run was stopped at {}; its scratch schema was removed.",
                chrono::Utc::now().format("%H:%M:%S UTC")
            )),
            Err(error) => {
                tracing::warn!(%error, "bench run failed");
                Err(format!(
                    "The run failed at {}: {error}. Its scratch schema was removed.",
                    chrono::Utc::now().format("%H:%M:%S UTC")
                ))
            }
        }
    }
}
