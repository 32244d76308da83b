//! What applying a plan did, as the overview, REST and the command line show it: wire
//! types, compiled for the browser too.

use serde::{Deserialize, Serialize};

/// Who or what asked for the apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The start-up reconciler.
    Startup,
    /// An admin in the console.
    Console,
    /// A REST client.
    Api,
    /// `ms5-console policies apply`.
    Cli,
    /// Reverting an audit entry.
    Revert,
}

impl Trigger {
    /// As stored in `console.policy_runs.trigger`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Console => "console",
            Trigger::Api => "api",
            Trigger::Cli => "cli",
            Trigger::Revert => "revert",
        }
    }
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum StepOutcome {
    /// Done.
    Applied,
    /// Refused by the server; the error text says why (a lock time-out, a version limit).
    Failed {
        /// PostgreSQL's message.
        error: String,
    },
    /// Not tried: a step it depends on failed.
    Skipped {
        /// Which step.
        reason: String,
    },
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Its position in the plan.
    pub ordinal: usize,
    /// The hypertable, `schema.table`.
    pub table: String,
    /// In words.
    pub summary: String,
    /// The SQL it ran, values in place.
    pub statement: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: StepOutcome,
    /// How long it took.
    pub duration_ms: f64,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// `console.policy_runs.id`.
    pub run_id: i64,
    /// Every step, in order.
    pub results: Vec<StepResult>,
}

impl ApplyReport {
    /// How many steps failed.
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, StepOutcome::Failed { .. }))
            .count()
    }
}

/// The latest apply, for health and the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    /// `console.policy_runs.id`.
    pub run_id: i64,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Who or what asked.
    pub trigger: String,
    /// Steps run.
    pub steps: i32,
    /// Steps that did not apply.
    pub failed: i32,
    /// The failed steps, in words with their errors.
    pub failures: Vec<String>,
    /// What it held back until an admin confirms (it would lose data), in words; known
    /// to the instance that applied.
    #[serde(default)]
    pub held: Vec<String>,
}
