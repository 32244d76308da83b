//! What each role reads of jobs and alerts. Everyone sees a job's status, schedule,
//! SQLSTATE, known cause and configuration keys; operators and admins, who act on jobs,
//! also see error texts and the values of user-defined jobs' configurations. (Anything
//! that looks like a secret is masked for every role where it is read:
//! `tsdb::secrets`.) Applied by the services behind pages and REST alike.

use tsdb::alerts::{Alert, AlertKind};
use tsdb::facts::JobFacts;
use tsdb::jobs::JobRun;
use tsdb::types::Role;

/// What replaces an error text a viewer may not read.
pub const ERROR_HIDDEN: &str = "(the error text is shown to operators and admins)";

/// What replaces a user-defined job's configuration value for a viewer.
const VALUE_HIDDEN: &str = "(shown to operators and admins)";

fn sees_details(role: Role) -> bool {
    role.includes(Role::Operator)
}

/// TimescaleDB's own policy jobs: their configuration is the policy every page shows.
fn is_policy(kind: &str) -> bool {
    kind.starts_with("policy_")
}

/// `job` as `role` may read it.
pub fn job(role: Role, job: &mut JobFacts) {
    if sees_details(role) {
        return;
    }
    if job.last_error.is_some() {
        job.last_error = Some(ERROR_HIDDEN.into());
    }
    if !is_policy(&job.kind) {
        job.config = job.config.as_deref().map(|config| {
            match serde_json::from_str::<serde_json::Value>(config) {
                Ok(serde_json::Value::Object(map)) => serde_json::Value::Object(
                    map.into_iter()
                        .map(|(key, _)| (key, serde_json::Value::String(VALUE_HIDDEN.into())))
                        .collect(),
                )
                .to_string(),
                _ => VALUE_HIDDEN.into(),
            }
        });
    }
}

/// `jobs` as `role` may read them.
pub fn jobs(role: Role, jobs: &mut [JobFacts]) {
    jobs.iter_mut().for_each(|j| job(role, j));
}

/// `runs` as `role` may read them.
pub fn runs(role: Role, runs: &mut [JobRun]) {
    if sees_details(role) {
        return;
    }
    for run in runs {
        if run.message.is_some() {
            run.message = Some(ERROR_HIDDEN.into());
        }
    }
}

/// `alerts` as `role` may read them: a failing job's alert carries its error text.
pub fn alerts(role: Role, alerts: &mut [Alert]) {
    if sees_details(role) {
        return;
    }
    for alert in alerts {
        if alert.kind == AlertKind::Failing {
            // "last scheduled run failed [40P01]: …" keeps what precedes the text.
            let head = alert
                .message
                .split_once(": ")
                .map_or(alert.message.as_str(), |(head, _)| head)
                .to_string();
            alert.message = format!("{head} {ERROR_HIDDEN}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing() -> JobFacts {
        JobFacts {
            id: 1005,
            kind: "nightly_export".into(),
            hypertable: None,
            schedule_interval: "1 day".into(),
            schedule_seconds: 86_400.0,
            scheduled: true,
            next_start: None,
            running: false,
            last_run_status: Some(tsdb::facts::RunStatus::Failed),
            last_run_started_at: None,
            last_run_duration_seconds: None,
            last_successful_finish: None,
            total_runs: 3,
            total_failures: 3,
            consecutive_failures: None,
            last_error: Some("could not connect to postgres://u:•••@x/db".into()),
            last_error_code: Some("08001".into()),
            known_cause: None,
            config: Some(r#"{"api_key":"•••","target":"s3://bucket"}"#.into()),
            left_behind: None,
        }
    }

    #[test]
    fn viewers_read_keys_and_codes_operators_read_texts() {
        let mut seen = failing();
        job(Role::Viewer, &mut seen);
        assert_eq!(seen.last_error.as_deref(), Some(ERROR_HIDDEN));
        assert_eq!(seen.last_error_code.as_deref(), Some("08001"));
        let config: serde_json::Value =
            serde_json::from_str(seen.config.as_deref().unwrap()).unwrap();
        assert_eq!(config["target"], VALUE_HIDDEN);
        assert!(config.get("api_key").is_some(), "keys stay");
        let mut operator = failing();
        job(Role::Operator, &mut operator);
        assert_eq!(operator, failing());
        // A policy job's configuration is the policy itself: every role reads it.
        let mut policy = failing();
        policy.kind = "policy_retention".into();
        policy.config = Some(r#"{"drop_after":"90 days"}"#.into());
        job(Role::Viewer, &mut policy);
        assert_eq!(
            policy.config.as_deref(),
            Some(r#"{"drop_after":"90 days"}"#)
        );
    }
}
