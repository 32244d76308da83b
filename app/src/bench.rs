//! The bench from the admin page: start a run on the server (one at a time per console),
//! follow its progress, stop it, and read the history of every run (the command line's
//! too). Admins only: a run loads the database.

#[cfg(feature = "ssr")]
mod board;
#[cfg(feature = "ssr")]
pub use board::BenchBoard;

use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsdb::bench::report::{BenchReport, Progress};

/// Runs the page accepts (the command line's bounds).
pub const RUNS: std::ops::RangeInclusive<u32> = 1..=20;
/// Rows of the ingest-rate test the page accepts.
pub const ROWS: std::ops::RangeInclusive<u64> = 1_000..=5_000_000;
/// How many past runs the page lists and charts.
pub const HISTORY: i64 = 30;

/// A run going on now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningView {
    /// The account that started it.
    pub started_by: String,
    /// When.
    pub started_at: DateTime<Utc>,
    /// Where it is.
    pub progress: Progress,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its number (`?run=` selects it).
    pub id: i64,
    /// "command line", or the account that started it here.
    pub started_by: String,
    /// Its figures.
    pub report: BenchReport,
}

/// What the page shows about running: cheap (no database), so it can be asked every
/// second while a run goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// The run going on, if any.
    pub running: Option<RunningView>,
    /// How the last run started here ended when it did not finish (failed or stopped).
    pub last_problem: Option<String>,
    /// What the last run started here said besides its progress (schemas swept …).
    pub notices: Vec<String>,
    /// Why a run cannot be started from the page, if it cannot.
    pub blocked: Option<String>,
    /// Whether the console runs in the production profile (a run must be confirmed).
    pub production: bool,
}

/// Everything the bench page shows: the status and the past runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchFacts {
    /// The run going on and what the last one said.
    #[serde(flatten)]
    pub status: RunStatus,
    /// Past runs, newest first.
    pub history: Vec<HistoryEntry>,
}

/// The run going on, without the history (what the page polls while a run goes on).
#[server(prefix = "/api/fn", endpoint = "bench-status")]
pub async fn bench_status() -> Result<RunStatus, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    Ok(state.bench.status(&state))
}

/// The page's facts.
#[server(prefix = "/api/fn", endpoint = "bench")]
pub async fn bench_overview() -> Result<BenchFacts, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let history = tsdb::bench::history::recent(&pool, HISTORY)
        .await?
        .into_iter()
        .map(|run| HistoryEntry {
            id: run.id,
            started_by: run.started_by,
            report: run.report,
        })
        .collect();
    Ok(BenchFacts {
        status: state.bench.status(&state),
        history,
    })
}

/// Starts a run with `runs` repetitions and `rows` rows for the ingest-rate test;
/// `accept_production` must be set in the production profile.
#[server(prefix = "/api/fn", endpoint = "start-bench")]
pub async fn start_bench(
    runs: u32,
    rows: u64,
    accept_production: Option<String>,
) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    check(runs, rows)?;
    // Only an explicit yes counts: "false" or "0" used to start a production run too.
    let accept_production = match accept_production.as_deref() {
        None | Some("") => false,
        Some(raw) => tsdb::policy::parse_bool(raw).map_err(|_| {
            AppError::Invalid(format!(
                "run on a production database {raw:?}: expected yes or no"
            ))
        })?,
    };
    let state = crate::state::app_state()?;
    state
        .bench
        .start(
            &state,
            &principal,
            auth.addr(),
            runs,
            rows,
            accept_production,
        )
        .await
}

/// Stops the run going on; its scratch schema is removed.
#[server(prefix = "/api/fn", endpoint = "stop-bench")]
pub async fn stop_bench() -> Result<(), AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    state.bench.stop()
}

/// Refuses runs and rows outside the accepted ranges; the message names the field.
pub fn check(runs: u32, rows: u64) -> Result<(), AppError> {
    if !RUNS.contains(&runs) {
        return Err(AppError::Invalid(format!(
            "runs: a whole number from {} to {}, not {runs}",
            RUNS.start(),
            RUNS.end()
        )));
    }
    if !ROWS.contains(&rows) {
        return Err(AppError::Invalid(format!(
            "rows: a whole number from {} to {}, not {rows}",
            ROWS.start(),
            ROWS.end()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_rows_outside_their_ranges_are_refused_by_name() {
        assert!(check(3, 100_000).is_ok());
        assert!(check(0, 100_000)
            .unwrap_err()
            .to_string()
            .starts_with("runs:"));
        assert!(check(21, 100_000)
            .unwrap_err()
            .to_string()
            .starts_with("runs:"));
        assert!(check(1, 999).unwrap_err().to_string().starts_with("rows:"));
        assert!(check(1, 5_000_001)
            .unwrap_err()
            .to_string()
            .starts_with("rows:"));
    }
}
