//! An alert and why it was raised: the wire types the jobs page and REST carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a job needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// Its latest run failed.
    Failing,
    /// It has not succeeded within the stale factor times its schedule.
    Stale,
    /// Its last run succeeded but left chunks it should have compressed (TimescaleDB can count
    /// a compression run with failed chunks as a success: 2.27+ when any compressed).
    PartlyFailing,
}

impl AlertKind {
    /// Every kind, in the order pages and metrics list them.
    pub const ALL: [AlertKind; 3] = [
        AlertKind::Failing,
        AlertKind::Stale,
        AlertKind::PartlyFailing,
    ];

    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Failing => "failing",
            AlertKind::Stale => "stale",
            AlertKind::PartlyFailing => "partly_failing",
        }
    }

    /// The words people read: "failing", "stale", "partly failing".
    pub fn words(self) -> &'static str {
        match self {
            AlertKind::Failing => "failing",
            AlertKind::Stale => "stale",
            AlertKind::PartlyFailing => "partly failing",
        }
    }

    /// The stored word back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "failing" => Some(AlertKind::Failing),
            "stale" => Some(AlertKind::Stale),
            "partly_failing" => Some(AlertKind::PartlyFailing),
            _ => None,
        }
    }
}

/// One alert: raised when a condition starts, cleared when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// Its id.
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// Why.
    pub kind: AlertKind,
    /// What the job runs, e.g. `policy_compression`.
    pub job_kind: String,
    /// The job's hypertable or continuous aggregate, `schema.name`.
    pub hypertable: Option<String>,
    /// The latest description (the error, or how long since a success).
    pub message: String,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When the condition was last seen.
    pub last_seen_at: DateTime<Utc>,
    /// When someone acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it cleared (the job succeeded again, or is gone); none while open.
    pub cleared_at: Option<DateTime<Utc>>,
}

impl Alert {
    /// The job it is about: "job 1000 (policy_compression on factory_telemetry.metric_hist)".
    pub fn subject(&self) -> String {
        let on = self
            .hypertable
            .as_ref()
            .map(|h| format!(" on {h}"))
            .unwrap_or_default();
        format!("job {} ({}{on})", self.job_id, self.job_kind)
    }

    /// A one-line title: the subject and "is failing", "is stale" or "is partly failing".
    pub fn title(&self) -> String {
        format!("{} is {}", self.subject(), self.kind.words())
    }
}
