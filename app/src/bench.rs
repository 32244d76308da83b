//! The bench from the admin page: start a run on the server (one at a time per console),
//! follow its progress, stop it, and read the history of every run (the command line's
//! too). Admins only: a run loads the database.

#[cfg(feature = "ssr")]
pub mod board;
pub mod view;

#[cfg(feature = "ssr")]
pub use board::BenchBoard;
pub use view::{BenchFacts, HistoryEntry, RunStatus, RunningView};

use crate::error::AppError;
use leptos::prelude::*;

/// Runs the page accepts (the command line's bounds).
pub const RUNS: std::ops::RangeInclusive<u32> = 1..=20;
/// Rows of the ingest-rate test the page accepts.
pub const ROWS: std::ops::RangeInclusive<u64> = 1_000..=5_000_000;
/// How many past runs the page lists and charts.
pub const HISTORY: i64 = 30;

/// The run going on, without the history (what the page polls while a run goes on).
#[server(prefix = "/api/fn", endpoint = "bench-status")]
pub async fn bench_status() -> Result<RunStatus, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    Ok(state.bench.status(blocked(&state)))
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
        status: state.bench.status(blocked(&state)),
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
            match blocked(&state) {
                Some(reason) => Err(AppError::Conflict(reason)),
                None => state.timescaledb(),
            },
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

/// Why the page cannot start a run here, if it cannot.
#[cfg(feature = "ssr")]
fn blocked(state: &crate::state::AppState) -> Option<String> {
    let pool = state.connected_pool()?;
    (pool.options().get_max_connections() <= 1).then(|| {
        "This database serves one connection at a time and the console holds it, so a run cannot start from here. Stop the console and run ms5-console bench in a terminal: its runs are listed here.".to_string()
    })
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
