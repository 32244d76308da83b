//! Failure escalation: which jobs need a person (failing: the latest run failed; stale:
//! no success within N × the schedule; partly failing: a compression run that succeeded
//! but left chunks uncompressed), the alerts that record it (raised, acknowledged,
//! cleared), and the webhook messages that announce it. Judging is a pure function of the
//! jobs' facts, so it is tested without a database; storing and sending are under `db`.

pub mod alert;
#[cfg(feature = "db")]
pub mod notifications;
#[cfg(feature = "db")]
pub mod store;

pub use alert::{Alert, AlertKind};

use crate::facts::{JobFacts, RunStatus};
use crate::jobs::JobRun;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How jobs are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertRules {
    /// A scheduled job with no success within this many schedules is stale.
    pub stale_factor: u32,
    /// Whether a scheduler runs jobs at all: without one nothing is ever stale.
    pub scheduler: bool,
}

/// A job that needs attention now.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The job.
    pub job_id: i64,
    /// Why.
    pub kind: AlertKind,
    /// What the job runs.
    pub job_kind: String,
    /// Its hypertable.
    pub hypertable: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// The jobs that need attention: `jobs` from the catalog, `console_runs` the latest
/// finished run the console started per job (TimescaleDB's statistics leave those out).
pub fn evaluate(
    jobs: &[JobFacts],
    console_runs: &HashMap<i64, JobRun>,
    rules: AlertRules,
    now: DateTime<Utc>,
) -> Vec<Condition> {
    let mut conditions = Vec::new();
    for job in jobs {
        let console = console_runs.get(&job.id);
        let condition = |kind, message: String| Condition {
            job_id: job.id,
            kind,
            job_kind: job.kind.clone(),
            hypertable: job.hypertable.clone(),
            message,
        };
        if let Some(message) = latest_failure(job, console) {
            conditions.push(condition(AlertKind::Failing, message));
            continue;
        }
        if let Some(message) = staleness(job, console, rules, now) {
            conditions.push(condition(AlertKind::Stale, message));
        }
        if let Some(message) = left_behind(job) {
            conditions.push(condition(AlertKind::PartlyFailing, message));
        }
    }
    conditions
}

/// The alerts whose condition cannot be judged now, so an open one stays as it is and
/// none is raised: a compression job's left-behind chunks are not known while it runs
/// (the run in progress is compressing them), and clearing its alert at each run only to
/// raise it again at the end would page people twice a schedule.
pub fn undecided(jobs: &[JobFacts]) -> Vec<(i64, AlertKind)> {
    jobs.iter()
        .filter(|job| job.running && job.kind == "policy_compression")
        .map(|job| (job.id, AlertKind::PartlyFailing))
        .collect()
}

/// Why a successful compression run was not enough, when it was not.
fn left_behind(job: &JobFacts) -> Option<String> {
    let left = job.left_behind.as_ref().filter(|left| left.count > 0)?;
    let named = left.chunks.iter().take(3).cloned().collect::<Vec<_>>();
    let more = left.count - named.len() as i64;
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let chunks = if left.count == 1 { "chunk" } else { "chunks" };
    Some(format!(
        "its last run succeeded but left {} {chunks} past compress-after uncompressed ({}{more}); \
         TimescaleDB can record a run with failed chunks as a success (2.27 and later when \
         any chunk compressed, 2.13 always) and logs each chunk's error as a warning in the \
         PostgreSQL log (often a lock timeout behind a long query)",
        left.count,
        named.join(", "),
    ))
}

/// The error of the job's latest run, when that run failed.
fn latest_failure(job: &JobFacts, console: Option<&JobRun>) -> Option<String> {
    let scheduler_end = job.last_run_started_at.map(|start| {
        start
            + Duration::milliseconds((job.last_run_duration_seconds.unwrap_or(0.0) * 1000.0) as i64)
    });
    let console_end = console.and_then(|run| run.finished_at);
    let console_is_latest = match (console_end, scheduler_end) {
        (Some(c), Some(s)) => c >= s,
        (Some(_), None) => true,
        _ => false,
    };
    if console_is_latest {
        let run = console?;
        if run.succeeded == Some(false) {
            return Some(describe_error(
                "run from the console",
                run.message.as_deref(),
                run.sqlstate.as_deref(),
            ));
        }
        return None;
    }
    if job.last_run_status == Some(RunStatus::Failed) {
        // A run that lost a deadlock to another job on the same table is retried by
        // TimescaleDB: only a job that keeps losing is failing.
        if job.last_error_code.as_deref() == Some(DEADLOCK)
            && job.consecutive_failures.unwrap_or(1) < DEADLOCKS_BEFORE_ALERT
        {
            return None;
        }
        let mut message = describe_error(
            "last scheduled run",
            job.last_error.as_deref(),
            job.last_error_code.as_deref(),
        );
        if let Some(cause) = &job.known_cause {
            message.push_str(" — ");
            message.push_str(cause);
        }
        return Some(message);
    }
    None
}

/// PostgreSQL's SQLSTATE for a deadlock.
const DEADLOCK: &str = "40P01";

/// Deadlocks in a row after which a job is failing rather than retrying.
const DEADLOCKS_BEFORE_ALERT: i64 = 3;

fn describe_error(what: &str, message: Option<&str>, code: Option<&str>) -> String {
    let code = code.map(|c| format!(" [{c}]")).unwrap_or_default();
    match message {
        Some(message) => format!("{what} failed{code}: {message}"),
        None => format!("{what} failed{code} (TimescaleDB recorded no message)"),
    }
}

/// The least a job may be overdue before it is stale, however short its schedule: a job
/// every few seconds is not an emergency when the scheduler is a minute late.
const STALE_MIN_GRACE_SECONDS: f64 = 300.0;

/// Why the job is stale, when it is: scheduled, a scheduler runs jobs, and no success
/// (or, for a job that never succeeded, no start) within the stale factor × schedule
/// (at least five minutes).
fn staleness(
    job: &JobFacts,
    console: Option<&JobRun>,
    rules: AlertRules,
    now: DateTime<Utc>,
) -> Option<String> {
    if !rules.scheduler || !job.scheduled || job.running || job.schedule_seconds <= 0.0 {
        return None;
    }
    let allowed_seconds =
        (job.schedule_seconds * f64::from(rules.stale_factor.max(1))).max(STALE_MIN_GRACE_SECONDS);
    let allowed = Duration::milliseconds((allowed_seconds * 1000.0) as i64);
    let console_success = console
        .filter(|run| run.succeeded == Some(true))
        .and_then(|run| run.finished_at);
    let last_success = job.last_successful_finish.max(console_success);
    match last_success {
        Some(success) if now - success > allowed => Some(format!(
            "no successful run for {} (scheduled every {}, alert after {} schedules)",
            human_duration(now - success),
            schedule_text(job),
            rules.stale_factor
        )),
        Some(_) => None,
        // Never succeeded: stale once its start is overdue by the same margin.
        None => job
            .next_start
            .filter(|next| now - *next > allowed)
            .map(|next| {
                format!(
                    "never ran successfully and its start is {} overdue (scheduled every {})",
                    human_duration(now - next),
                    schedule_text(job)
                )
            }),
    }
}

/// "3 h 12 min", "2 days 4 h", "12 h", "45 s": the two largest units, zeros left out.
pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    let (days, hours, minutes, rest) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let unit = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let pair = |big: String, small: i64, one: &str, many: &str| {
        if small == 0 {
            big
        } else {
            format!("{big} {}", unit(small, one, many))
        }
    };
    if days > 0 {
        pair(unit(days, "day", "days"), hours, "h", "h")
    } else if hours > 0 {
        pair(format!("{hours} h"), minutes, "min", "min")
    } else if minutes > 0 {
        pair(format!("{minutes} min"), rest, "s", "s")
    } else {
        format!("{seconds} s")
    }
}

/// A job's schedule as people say it ("12 h", "1 min"); TimescaleDB's text when odd.
pub fn schedule_text(job: &JobFacts) -> String {
    if job.schedule_seconds >= 1.0 && job.schedule_seconds.fract() == 0.0 {
        human_duration(Duration::seconds(job.schedule_seconds as i64))
    } else {
        job.schedule_interval.clone()
    }
}

/// What a webhook message announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertEvent {
    /// The alert was raised.
    Raised,
    /// Still open after the reminder interval.
    Reminder,
    /// The job recovered (or is gone): the alert cleared.
    Resolved,
}

impl AlertEvent {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::Raised => "raised",
            AlertEvent::Reminder => "reminder",
            AlertEvent::Resolved => "resolved",
        }
    }
}

/// How the webhook fares, for the alerts page.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxStatus {
    /// Messages waiting (or being retried).
    pub pending: i64,
    /// Messages given up on.
    pub abandoned: i64,
    /// The last delivery.
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// The error of the latest failed attempt still pending or abandoned.
    pub last_error: Option<String>,
}

#[cfg(feature = "db")]
/// The JSON a webhook receives. `text` makes it readable as is by chat tools that take
/// a `text` field (Slack, Mattermost, Rocket.Chat incoming webhooks).
pub fn webhook_payload(
    event: AlertEvent,
    alert: &Alert,
    sent_at: DateTime<Utc>,
) -> serde_json::Value {
    let text = match event {
        AlertEvent::Raised => format!("ALERT: {}: {}", alert.title(), alert.message),
        AlertEvent::Reminder => format!(
            "STILL OPEN since {}: {}: {}",
            alert.raised_at.format("%Y-%m-%d %H:%M UTC"),
            alert.title(),
            alert.message
        ),
        AlertEvent::Resolved => format!(
            "RESOLVED: {} is no longer {}",
            alert.subject(),
            alert.kind.as_str()
        ),
    };
    serde_json::json!({
        "event": event.as_str(),
        "text": text,
        "alert": alert,
        "sent_at": sent_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn job(id: i64) -> JobFacts {
        JobFacts::example(id, now())
    }

    fn console_run(job_id: i64, minutes_ago: i64, succeeded: bool) -> JobRun {
        JobRun {
            job_id,
            source: crate::jobs::RunSource::Console,
            started_at: now() - Duration::minutes(minutes_ago),
            finished_at: Some(now() - Duration::minutes(minutes_ago) + Duration::seconds(1)),
            succeeded: Some(succeeded),
            sqlstate: (!succeeded).then(|| "P0001".into()),
            message: (!succeeded).then(|| "sensor table missing".into()),
            started_by: Some("olga".into()),
        }
    }

    const RULES: AlertRules = AlertRules {
        stale_factor: 3,
        scheduler: true,
    };

    #[test]
    fn a_successful_compression_run_that_left_chunks_is_partly_failing() {
        let mut partial = JobFacts {
            kind: "policy_compression".into(),
            last_run_status: Some(RunStatus::Success),
            left_behind: Some(crate::facts::ChunksLeftBehind {
                count: 5,
                chunks: (1..=5)
                    .map(|n| format!("_timescaledb_internal._hyper_1_{n}_chunk"))
                    .collect(),
            }),
            ..job(1)
        };
        let conditions = evaluate(&[partial.clone()], &HashMap::new(), RULES, now());
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].kind, AlertKind::PartlyFailing);
        assert!(
            conditions[0].message.contains("left 5 chunks")
                && conditions[0]
                    .message
                    .contains("_hyper_1_3_chunk and 2 more"),
            "{}",
            conditions[0].message
        );
        assert!(undecided(&[partial.clone()]).is_empty());
        partial.running = true;
        assert_eq!(undecided(&[partial]), [(1, AlertKind::PartlyFailing)]);
        assert_eq!(
            AlertKind::parse("partly_failing"),
            Some(AlertKind::PartlyFailing)
        );
    }

    #[test]
    fn a_healthy_job_raises_nothing() {
        assert!(evaluate(&[job(1)], &HashMap::new(), RULES, now()).is_empty());
    }

    #[test]
    fn a_failed_scheduled_run_is_failing_with_its_code_and_cause() {
        let mut failing = job(1);
        failing.last_run_status = Some(RunStatus::Failed);
        failing.last_error = Some("boom".into());
        failing.last_error_code = Some("P0001".into());
        failing.known_cause = Some("a known cause".into());
        let conditions = evaluate(&[failing], &HashMap::new(), RULES, now());
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].kind, AlertKind::Failing);
        assert_eq!(
            conditions[0].message,
            "last scheduled run failed [P0001]: boom — a known cause"
        );
    }

    #[test]
    fn a_lost_deadlock_is_retried_not_failing_until_it_repeats() {
        let mut deadlocked = job(1);
        deadlocked.kind = "policy_retention".into();
        deadlocked.last_run_status = Some(RunStatus::Failed);
        deadlocked.last_error = Some("deadlock detected".into());
        deadlocked.last_error_code = Some("40P01".into());
        deadlocked.consecutive_failures = Some(1);
        assert!(evaluate(&[deadlocked.clone()], &HashMap::new(), RULES, now()).is_empty());
        deadlocked.consecutive_failures = Some(3);
        let conditions = evaluate(&[deadlocked], &HashMap::new(), RULES, now());
        assert_eq!(conditions[0].kind, AlertKind::Failing);
    }

    #[test]
    fn the_latest_run_decides_whoever_started_it() {
        // A console run that failed after the scheduler's success: failing.
        let runs = HashMap::from([(1, console_run(1, 5, false))]);
        let conditions = evaluate(&[job(1)], &runs, RULES, now());
        assert_eq!(conditions[0].kind, AlertKind::Failing);
        assert!(conditions[0].message.contains("sensor table missing"));
        // A console success after a scheduler failure: recovered.
        let mut failing = job(1);
        failing.last_run_status = Some(RunStatus::Failed);
        let runs = HashMap::from([(1, console_run(1, 5, true))]);
        assert!(evaluate(&[failing.clone()], &runs, RULES, now()).is_empty());
        // A console failure older than the scheduler's failure: the scheduler's message.
        let runs = HashMap::from([(1, console_run(1, 60, false))]);
        let conditions = evaluate(&[failing], &runs, RULES, now());
        assert!(conditions[0].message.starts_with("last scheduled run"));
    }

    #[test]
    fn stale_after_the_factor_times_the_schedule_only_with_a_scheduler() {
        let mut old = job(1);
        old.last_successful_finish = Some(now() - Duration::minutes(181));
        old.last_run_started_at = old.last_successful_finish;
        let conditions = evaluate(&[old.clone()], &HashMap::new(), RULES, now());
        assert_eq!(conditions[0].kind, AlertKind::Stale);
        assert!(
            conditions[0].message.contains("3 h 1 min"),
            "{}",
            conditions[0].message
        );
        let mut recent = old.clone();
        recent.last_successful_finish = Some(now() - Duration::minutes(179));
        assert!(evaluate(&[recent], &HashMap::new(), RULES, now()).is_empty());
        let no_scheduler = AlertRules {
            scheduler: false,
            ..RULES
        };
        assert!(evaluate(&[old.clone()], &HashMap::new(), no_scheduler, now()).is_empty());
        let mut paused = old.clone();
        paused.scheduled = false;
        assert!(evaluate(&[paused], &HashMap::new(), RULES, now()).is_empty());
        // A console success counts as a success.
        let runs = HashMap::from([(1, console_run(1, 10, true))]);
        assert!(evaluate(&[old], &runs, RULES, now()).is_empty());
    }

    #[test]
    fn a_job_that_never_ran_is_stale_once_overdue() {
        let mut every_second = job(2);
        every_second.schedule_seconds = 1.0;
        every_second.last_successful_finish = Some(now() - Duration::seconds(200));
        assert!(evaluate(&[every_second], &HashMap::new(), RULES, now()).is_empty());
        let mut never = job(1);
        never.last_run_status = None;
        never.last_run_started_at = None;
        never.last_successful_finish = None;
        never.next_start = Some(now() - Duration::hours(2));
        assert!(evaluate(&[never.clone()], &HashMap::new(), RULES, now()).is_empty());
        never.next_start = Some(now() - Duration::hours(4));
        let conditions = evaluate(&[never], &HashMap::new(), RULES, now());
        assert!(conditions[0].message.starts_with("never ran successfully"));
    }

    #[cfg(feature = "db")]
    #[test]
    fn payloads_carry_the_event_and_readable_text() {
        let alert = Alert {
            id: 7,
            job_id: 1000,
            kind: AlertKind::Failing,
            job_kind: "check_sensors".into(),
            hypertable: None,
            message: "run failed".into(),
            raised_at: now(),
            last_seen_at: now(),
            acknowledged_at: None,
            acknowledged_by: None,
            cleared_at: None,
        };
        let raised = webhook_payload(AlertEvent::Raised, &alert, now());
        assert_eq!(raised["event"], "raised");
        assert_eq!(
            raised["text"],
            "ALERT: job 1000 (check_sensors) is failing: run failed"
        );
        assert_eq!(raised["alert"]["job_id"], 1000);
        let resolved = webhook_payload(AlertEvent::Resolved, &alert, now());
        assert_eq!(
            resolved["text"],
            "RESOLVED: job 1000 (check_sensors) is no longer failing"
        );
        assert!(webhook_payload(AlertEvent::Reminder, &alert, now())["text"]
            .as_str()
            .unwrap()
            .starts_with("STILL OPEN since 2026-11-26 12:00 UTC"));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(Duration::seconds(45)), "45 s");
        assert_eq!(human_duration(Duration::minutes(61)), "1 h 1 min");
        assert_eq!(human_duration(Duration::hours(52)), "2 days 4 h");
        assert_eq!(human_duration(Duration::hours(12)), "12 h");
        assert_eq!(human_duration(Duration::hours(24)), "1 day");
        assert_eq!(human_duration(Duration::seconds(90)), "1 min 30 s");
        let mut every = JobFacts {
            schedule_seconds: 43_200.0,
            ..job(1)
        };
        assert_eq!(schedule_text(&every), "12 h");
        every.schedule_seconds = 0.5;
        assert_eq!(schedule_text(&every), "01:00:00");
    }
}
