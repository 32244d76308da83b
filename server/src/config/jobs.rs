//! Jobs and their failure escalation: how long "run now" may take, how often the watcher
//! looks, when a job counts as stale, when a reminder goes out, and where alerts are
//! posted.

use super::setting::{parse_count, Setting};

/// Job and alert settings.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "MS5_JOB_RUN_TIMEOUT_SECONDS",
        section: "jobs",
        key: "run_timeout_seconds",
        default: Some("900"),
        description: "statement time-out of a job started with \"run now\"",
        apply: |d, raw| {
            d.settings.jobs.run_timeout_seconds = parse_count(raw, 1, 86_400)?;
            Ok(())
        },
        show: |s| s.jobs.run_timeout_seconds.to_string(),
    },
    Setting {
        env: "MS5_ALERT_CHECK_SECONDS",
        section: "jobs",
        key: "alert_check_seconds",
        default: Some("10"),
        description: "seconds between the job watcher's looks at the jobs",
        apply: |d, raw| {
            d.settings.jobs.alert_check_seconds = parse_count(raw, 1, 3600)?;
            Ok(())
        },
        show: |s| s.jobs.alert_check_seconds.to_string(),
    },
    Setting {
        env: "MS5_ALERT_STALE_FACTOR",
        section: "jobs",
        key: "stale_factor",
        default: Some("3"),
        description: "a scheduled job with no success within this many schedules (at least 5 minutes) is stale",
        apply: |d, raw| {
            d.settings.jobs.stale_factor = parse_count(raw, 1, 1000)?;
            Ok(())
        },
        show: |s| s.jobs.stale_factor.to_string(),
    },
    Setting {
        env: "MS5_ALERT_REMINDER_MINUTES",
        section: "jobs",
        key: "reminder_minutes",
        default: Some("60"),
        description: "minutes between webhook reminders of an open, unacknowledged alert (0: none)",
        apply: |d, raw| {
            d.settings.jobs.reminder_minutes = parse_count(raw, 0, 10_080)?;
            Ok(())
        },
        show: |s| s.jobs.reminder_minutes.to_string(),
    },
    Setting {
        env: "MS5_ALERT_WEBHOOK_URL",
        section: "jobs",
        key: "webhook_url",
        default: Some(""),
        description: "where alerts are posted as JSON (empty: nowhere; the path is not shown, it often holds a secret)",
        apply: |d, raw| {
            d.settings.jobs.webhook_url = parse_webhook_url(raw)?;
            Ok(())
        },
        show: |s| {
            s.jobs
                .webhook_url
                .as_deref()
                .map_or_else(|| "(none)".to_string(), redact_webhook)
        },
    },
    Setting {
        env: "MS5_ALERT_WEBHOOK_SECRET",
        section: "jobs",
        key: "webhook_secret",
        default: Some(""),
        description: "signs every webhook body: header X-MS5-Signature: sha256=<hex HMAC-SHA256> (empty: unsigned)",
        apply: |d, raw| {
            d.settings.jobs.webhook_secret = parse_secret(raw)?;
            Ok(())
        },
        show: |s| {
            if s.jobs.webhook_secret.is_some() {
                "(set)".to_string()
            } else {
                "(none)".to_string()
            }
        },
    },
];

/// Job and alert settings, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// `MS5_JOB_RUN_TIMEOUT_SECONDS`.
    pub run_timeout_seconds: u32,
    /// `MS5_ALERT_CHECK_SECONDS`.
    pub alert_check_seconds: u32,
    /// `MS5_ALERT_STALE_FACTOR`.
    pub stale_factor: u32,
    /// `MS5_ALERT_REMINDER_MINUTES`; 0 sends none.
    pub reminder_minutes: u32,
    /// `MS5_ALERT_WEBHOOK_URL`.
    pub webhook_url: Option<String>,
    /// `MS5_ALERT_WEBHOOK_SECRET`: the HMAC key of the signature header.
    pub webhook_secret: Option<String>,
}

/// A signing secret of at least 16 characters, or empty for none.
pub fn parse_secret(raw: &str) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    match trimmed.chars().count() {
        0 => Ok(None),
        16.. => Ok(Some(trimmed.to_string())),
        _ => Err("a secret of at least 16 characters, or empty for unsigned webhooks".into()),
    }
}

/// An `http` or `https` URL with a host, or empty for none.
pub fn parse_webhook_url(raw: &str) -> Result<Option<String>, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let accepted = "an http:// or https:// URL with a host, such as https://hooks.example.com/services/T000/B000, or empty for none";
    let url = reqwest::Url::parse(trimmed).map_err(|_| accepted.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(accepted.into());
    }
    Ok(Some(url.to_string()))
}

/// `https://hooks.example.com/services/T0/B0/secret` → `https://hooks.example.com/…`.
pub fn redact_webhook(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}/…",
                parsed.scheme(),
                parsed.host_str().unwrap_or_default()
            )
        }
        Err(_) => "(set)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_secrets_are_long_enough_or_absent() {
        assert_eq!(parse_secret(" "), Ok(None));
        assert_eq!(
            parse_secret("0123456789abcdef").unwrap().as_deref(),
            Some("0123456789abcdef")
        );
        assert!(parse_secret("short").unwrap_err().contains("at least 16"));
    }

    #[test]
    fn webhook_urls_are_http_with_a_host_and_shown_without_their_path() {
        assert_eq!(parse_webhook_url("  "), Ok(None));
        assert_eq!(
            parse_webhook_url("http://127.0.0.1:9000/hook")
                .unwrap()
                .as_deref(),
            Some("http://127.0.0.1:9000/hook")
        );
        for bad in [
            "ftp://x/y",
            "hooks.example.com",
            "https://",
            "http://",
            "mailto:a@b",
        ] {
            let message = parse_webhook_url(bad).unwrap_err();
            assert!(message.contains("http:// or https://"), "{bad}: {message}");
        }
        assert_eq!(
            redact_webhook("https://user:pw@hooks.example.com/services/T0/B0/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            redact_webhook("http://127.0.0.1:9000/x"),
            "http://127.0.0.1:9000/…"
        );
    }
}
