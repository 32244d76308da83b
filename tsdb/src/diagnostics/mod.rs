//! Diagnostics in the spirit of TimescaleDB's own diagnostic scripts: each finding with a
//! severity, what it means and the fix. `rules` judges (pure: the snapshot plus a few
//! facts `probe` reads), so every finding is tested on hand-made inputs as well as on a
//! database built to trigger it.

#[cfg(feature = "db")]
pub mod probe;
pub mod rules;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Data or jobs are at risk now.
    Critical,
    /// Storage or speed suffer; fix soon.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// The word the page shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A job scheduler runs the jobs.
    Scheduler,
    /// Background workers are not all taken.
    Workers,
    /// No job failed in the last 7 days.
    FailingJobs,
    /// Fast-growing hypertables have compression and retention.
    UnmanagedGrowth,
    /// Chunks are not so small that there are too many.
    SmallChunks,
    /// Recent chunks with their indexes fit a quarter of memory.
    LargeChunks,
    /// Continuous aggregates keep up with their source.
    CaggLag,
    /// Retention does not drop data a continuous aggregate still refreshes.
    RetentionOutrunsCagg,
    /// Compressed batches hold enough rows.
    TinyBatches,
    /// The extension is current.
    ExtensionVersion,
}

impl Check {
    /// Every check, in the order the page lists them.
    pub const ALL: [Check; 10] = [
        Check::Scheduler,
        Check::Workers,
        Check::FailingJobs,
        Check::UnmanagedGrowth,
        Check::SmallChunks,
        Check::LargeChunks,
        Check::CaggLag,
        Check::RetentionOutrunsCagg,
        Check::TinyBatches,
        Check::ExtensionVersion,
    ];

    /// What the check looks at, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Check::Scheduler => "a job scheduler runs the policies",
            Check::Workers => "background workers are not exhausted",
            Check::FailingJobs => "no job failed in the last 7 days",
            Check::UnmanagedGrowth => "fast-growing hypertables have compression and retention",
            Check::SmallChunks => "chunks are not too small (too many chunks)",
            Check::LargeChunks => "recent chunks with indexes fit in a quarter of memory",
            Check::CaggLag => "continuous aggregates keep up with their source",
            Check::RetentionOutrunsCagg => {
                "retention does not outrun a continuous aggregate's refresh window"
            }
            Check::TinyBatches => "compressed batches hold at least 100 rows",
            Check::ExtensionVersion => "TimescaleDB is up to date",
        }
    }
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The check that found it.
    pub check: Check,
    /// How urgent.
    pub severity: Severity,
    /// The table, aggregate or job concerned, if one.
    pub subject: Option<String>,
    /// What is wrong, in one line.
    pub title: String,
    /// Why it matters, with the figures.
    pub explanation: String,
    /// What to do.
    pub fix: String,
}

/// Every finding of one look, most urgent first, and what was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnosis {
    /// The catalog pass the look is based on.
    pub taken_at: DateTime<Utc>,
    /// What was found.
    pub findings: Vec<Finding>,
    /// Every check that ran.
    pub checks: Vec<Check>,
    /// Checks that could not look at everything on this server, and why.
    #[serde(default)]
    pub not_checked: Vec<NotChecked>,
}

/// A check that ran only in part (or not at all) here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotChecked {
    /// The check.
    pub check: Check,
    /// What it could not look at, and why.
    pub reason: String,
}
