//! What one relation's policies should be, exactly: the plan's one input. A desired
//! policy becomes a target; so does a live state recorded in the audit trail, which is how
//! a revert plans the way back to what was there, job schedules, segment-by and chunk
//! interval included.

use super::live::{LiveAge, LiveJob, LiveRefresh, LiveTable};
use super::{Policy, PolicyAge, TimeKind};
use crate::interval::PolicyInterval;
use serde::{Deserialize, Serialize};

/// How a compression or retention job picks its chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum JobAge {
    /// Chunks whose data is older than this (`compress_after` / `drop_after`).
    After(PolicyAge),
    /// Chunks created longer ago than this (`compress_created_before` /
    /// `drop_created_before`; TimescaleDB 2.15 on).
    CreatedBefore(PolicyInterval),
}

/// A compression or retention job as it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTarget {
    /// Which chunks it acts on.
    pub age: JobAge,
    /// How often it runs.
    pub schedule: PolicyInterval,
}

/// One refresh policy of a continuous aggregate as it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTarget {
    /// How far back each refresh reaches; `None`: from the very beginning.
    pub start_offset: Option<PolicyAge>,
    /// How close to now it stops; `None`: up to now.
    pub end_offset: Option<PolicyAge>,
    /// How often it runs.
    pub schedule: PolicyInterval,
}

/// Everything the plan makes live equal to. `None` in an optional part leaves that part
/// as it is; for the jobs, `Some(None)` means "no such job".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The chunk interval.
    pub chunk_interval: Option<PolicyAge>,
    /// Whether compression is enabled.
    pub compression_enabled: bool,
    /// Segment-by columns, exactly (an empty list: none).
    pub segment_by: Option<Vec<String>>,
    /// Order-by items, exactly.
    pub order_by: Option<Vec<String>>,
    /// The compression job; `Some(None)`: no compression policy.
    pub compression_policy: Option<Option<JobTarget>>,
    /// The retention job; `Some(None)`: no retention policy.
    pub retention_policy: Option<Option<JobTarget>>,
    /// A continuous aggregate's refresh policies, in job order.
    pub refresh: Option<Vec<RefreshTarget>>,
}

impl Target {
    /// What a desired policy asks for. Empty segment-by or order-by lists leave the live
    /// ones alone (TimescaleDB chooses).
    pub fn from_policy(policy: &Policy) -> Target {
        let compression_policy = match (policy.compression_enabled, policy.compression_after) {
            (true, Some(after)) => Some(JobTarget {
                age: JobAge::After(after),
                schedule: policy.compression_every(),
            }),
            _ => None,
        };
        Target {
            chunk_interval: Some(policy.chunk_time_interval),
            compression_enabled: policy.compression_enabled,
            segment_by: (!policy.segment_by.is_empty()).then(|| policy.segment_by.clone()),
            order_by: (!policy.order_by.is_empty()).then(|| policy.order_by.clone()),
            compression_policy: Some(compression_policy),
            retention_policy: Some(policy.retention.map(|after| JobTarget {
                age: JobAge::After(after),
                schedule: policy.retention_every(),
            })),
            refresh: policy.refresh.clone(),
        }
    }

    /// What `live` is, as exactly as a target can say it, with a note for each value that
    /// cannot be written exactly (an interval mixing months and days): those parts are
    /// left out of the target (left as they are) rather than rounded.
    pub fn from_live(live: &LiveTable, refresh: Option<&[LiveRefresh]>) -> (Target, Vec<String>) {
        let mut notes = Vec::new();
        let kind = live.time_kind;
        let mut inexact = |what: String, text: &str| {
            notes.push(format!("{what} {text} cannot be written as one unit"));
        };
        let chunk_interval = live.chunk_interval.as_ref().and_then(|c| {
            let age = c.to_policy_age(kind);
            if age.is_none() {
                inexact("the chunk interval".into(), &c.text);
            }
            age
        });
        let mut job = |label: &str, job: Option<&LiveJob>| -> Option<Option<JobTarget>> {
            let Some(job) = job else {
                return Some(None);
            };
            let Some(schedule) = job.schedule.to_interval() else {
                inexact(format!("the {label} job's schedule"), &job.schedule.text);
                return None;
            };
            let age = match (&job.after, &job.created_before) {
                (Some(after), _) => after.to_policy_age(kind).map(JobAge::After).or_else(|| {
                    inexact(format!("the {label} job's age"), &after.text);
                    None
                }),
                (None, Some(created)) => {
                    created
                        .to_interval()
                        .map(JobAge::CreatedBefore)
                        .or_else(|| {
                            inexact(format!("the {label} job's created-before"), &created.text);
                            None
                        })
                }
                (None, None) => None,
            };
            age.map(|age| Some(JobTarget { age, schedule }))
        };
        let compression_policy = job("compression", live.compression_policy.as_ref());
        let retention_policy = job("retention", live.retention_policy.as_ref());
        let refresh = refresh.and_then(|policies| {
            let offset = |o: &Option<LiveAge>| match o {
                None => Some(None),
                Some(age) => age.to_policy_age(kind).map(Some),
            };
            let targets: Option<Vec<RefreshTarget>> = policies
                .iter()
                .map(|r| {
                    Some(RefreshTarget {
                        start_offset: offset(&r.start_offset)?,
                        end_offset: offset(&r.end_offset)?,
                        schedule: r.schedule.to_interval()?,
                    })
                })
                .collect();
            if targets.is_none() {
                notes.push(
                    "a refresh policy's offsets or schedule cannot be written as one unit each"
                        .to_string(),
                );
            }
            targets
        });
        let target = Target {
            chunk_interval,
            compression_enabled: live.compression_enabled,
            segment_by: live.compression_enabled.then(|| live.segment_by.clone()),
            order_by: live.compression_enabled.then(|| live.order_by.clone()),
            compression_policy,
            retention_policy,
            refresh,
        };
        (target, notes)
    }

    /// The time kind the target's ages are of, when it names any.
    pub fn time_kind(&self) -> Option<TimeKind> {
        let job_kind = |job: &Option<Option<JobTarget>>| match job {
            Some(Some(JobTarget {
                age: JobAge::After(age),
                ..
            })) => Some(age.kind()),
            _ => None,
        };
        self.chunk_interval
            .map(PolicyAge::kind)
            .or_else(|| job_kind(&self.compression_policy))
            .or_else(|| job_kind(&self.retention_policy))
    }
}
