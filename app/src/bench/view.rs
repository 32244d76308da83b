//! What the bench page shows: the run going on, past runs, and what stops a run from
//! starting here. Wire types, the browser's too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tsdb::bench::report::{BenchReport, Progress};

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
