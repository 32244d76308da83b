//! Background jobs beyond the snapshot: each job's run history (TimescaleDB's own records
//! merged with the runs the console started, which TimescaleDB's statistics leave out),
//! the actions taken on a job (run now, pause, resume, reschedule) and whether
//! TimescaleDB logs successful runs. The wire types compile for wasm32 too.

#[cfg(feature = "db")]
pub mod actions;
#[cfg(feature = "db")]
pub mod history;
#[cfg(feature = "db")]
pub mod logging;

use crate::alerts::alert::Alert;
use crate::facts::JobFacts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunSource {
    /// TimescaleDB's scheduler (or anything TimescaleDB itself recorded).
    Scheduler,
    /// An operator, through the console's "run now".
    Console,
}

impl RunSource {
    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            RunSource::Scheduler => "scheduler",
            RunSource::Console => "console",
        }
    }
}

/// One run of a job, from whichever record knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRun {
    /// The job.
    pub job_id: i64,
    /// Who started it.
    pub source: RunSource,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; none while running (or when it never reported its end).
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended; none while running or when unknown.
    pub succeeded: Option<bool>,
    /// The SQLSTATE of its error, e.g. `P0001`.
    pub sqlstate: Option<String>,
    /// Its error message.
    pub message: Option<String>,
    /// For console runs: who started it.
    pub started_by: Option<String>,
}

impl JobRun {
    /// Seconds from start to end, when it ended.
    pub fn duration_seconds(&self) -> Option<f64> {
        let finished = self.finished_at?;
        Some((finished - self.started_at).num_milliseconds() as f64 / 1000.0)
    }

    /// `succeeded`, `failed` or `unfinished`.
    pub fn outcome(&self) -> &'static str {
        match self.succeeded {
            Some(true) => "succeeded",
            Some(false) => "failed",
            None => "unfinished",
        }
    }
}

/// Whether TimescaleDB records every run or only failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionLogging {
    /// The version has `timescaledb_information.job_history` (2.15 on).
    pub history_available: bool,
    /// `timescaledb.enable_job_execution_logging` is on: successful runs are recorded.
    pub enabled: bool,
    /// The console's database role may turn it on (`ALTER SYSTEM`).
    pub can_enable: bool,
}

impl ExecutionLogging {
    /// What the history lacks, in a sentence; none when nothing is missing.
    pub fn missing(&self) -> Option<&'static str> {
        if !self.history_available {
            Some("This TimescaleDB (before 2.15) records failed runs only: successful scheduler runs are counted but not listed. Runs started from the console are always listed.")
        } else if !self.enabled {
            Some("Execution logging is off (timescaledb.enable_job_execution_logging): TimescaleDB lists failed runs only, so successful scheduler runs are missing from the history and the chart. Runs started from the console are always listed.")
        } else {
            None
        }
    }
}

/// What the jobs page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobsView {
    /// Every job.
    pub jobs: Vec<JobFacts>,
    /// Whether a scheduler runs jobs on their schedules (none on the embedded database).
    pub job_scheduler: bool,
    /// Whether successful runs are recorded; none when it could not be read.
    pub logging: Option<ExecutionLogging>,
    /// Open alerts (of every job).
    pub alerts: Vec<Alert>,
    /// The latest finished run the console started, per job that has one (TimescaleDB's
    /// statistics leave those out).
    pub console_runs: Vec<JobRun>,
}

/// What one job's page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    /// The job.
    pub job: JobFacts,
    /// Its runs, newest first, from TimescaleDB and the console.
    pub runs: Vec<JobRun>,
    /// Whether a scheduler runs jobs on their schedules.
    pub job_scheduler: bool,
    /// Whether successful runs are recorded.
    pub logging: Option<ExecutionLogging>,
    /// Its alerts, open and past, newest first.
    pub alerts: Vec<Alert>,
}

/// The longest job id TimescaleDB has (`integer`); refuses anything else with a message.
pub fn parse_job_id(raw: &str) -> Result<i32, String> {
    crate::types::parse_id("job id", raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_positive_integers() {
        assert_eq!(parse_job_id(" 1000 "), Ok(1000));
        for bad in ["0", "-3", "1.5", "x", "", "99999999999"] {
            let message = parse_job_id(bad).unwrap_err();
            assert!(message.starts_with("job id:"), "{message}");
        }
    }

    #[test]
    fn logging_says_what_is_missing() {
        let on = ExecutionLogging {
            history_available: true,
            enabled: true,
            can_enable: false,
        };
        assert_eq!(on.missing(), None);
        let off = ExecutionLogging {
            enabled: false,
            ..on
        };
        assert!(off.missing().unwrap().contains("failed runs only"));
        let old = ExecutionLogging {
            history_available: false,
            ..off
        };
        assert!(old.missing().unwrap().contains("before 2.15"));
    }
}
