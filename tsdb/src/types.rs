//! Data that crosses the wire between server and browser, defined once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Overall status reported by the public health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Database reachable, TimescaleDB present and supported, start-up work succeeded.
    Ok,
    /// Serving, but something needs attention (extension missing, start-up task failed).
    Degraded,
    /// The database cannot be reached.
    Down,
}

/// Why the health is not `ok`: stable codes, safe to publish (no versions, hosts or
/// error texts), so an uptime check can say more than "degraded".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthReason {
    /// The database does not answer.
    DatabaseDown,
    /// The console's start-up work failed.
    StartupFailed,
    /// TimescaleDB is missing, not preloaded or older than supported.
    TimescaledbUnusable,
    /// The console reads only TimescaleDB's public API here (a release newer than it
    /// knows, or an internal catalog unlike the one expected): slower, some facts unknown.
    CatalogPublicApiOnly,
    /// The latest catalog pass failed.
    CatalogPassFailing,
    /// No catalog pass has succeeded for three intervals.
    SnapshotStale,
    /// A background task of the console is failing (or failed lately).
    BackgroundTaskFailing,
    /// Steps of the latest policy apply failed.
    PolicyApplyFailed,
    /// A job alert is open.
    JobAlertOpen,
    /// The server refuses new connections (`max_connections`).
    ConnectionsExhausted,
}

/// Where the console's start-up work stands, as pages show it (no internals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartupStatus {
    /// Waiting for the database to answer.
    Connecting,
    /// Applying schema migrations.
    Migrating,
    /// Generating demo data; figures are still growing.
    LoadingDemoData,
    /// Start-up finished.
    Ready,
    /// A start-up step failed; the reason is in the server log.
    Failed,
}

/// Where one of the console's background tasks stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Working (or waiting for its next round).
    Running,
    /// It failed or panicked and waits to be started again.
    Restarting,
    /// A one-off task that completed.
    Finished,
    /// Stopped by shutdown.
    Stopped,
}

/// One background task (monitoring refresher, start-up, session janitor, …) as health
/// and the overview show it: a task that fails is restarted with back-off, and says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackgroundTask {
    /// Stable name, e.g. `monitoring-refresher`.
    pub name: String,
    /// Where it stands.
    pub state: TaskState,
    /// How many times it has been started again after failing.
    pub restarts: u32,
    /// Why it last failed (an error or panic message), if it ever did.
    pub last_error: Option<String>,
    /// When it last failed.
    pub last_failed_at: Option<DateTime<Utc>>,
    /// When it is started again, while restarting.
    pub restart_at: Option<DateTime<Utc>>,
}

impl BackgroundTask {
    /// Failing now or within the last few minutes: enough for health to say degraded.
    pub fn is_troubled(&self, now: DateTime<Utc>) -> bool {
        self.state == TaskState::Restarting
            || self
                .last_failed_at
                .is_some_and(|at| now - at < chrono::Duration::minutes(5))
    }
}

/// What a person or token may do (see the role matrix in the design).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads dashboards, storage trends, statistics and job history.
    Viewer,
    /// A viewer who also runs, pauses and resumes jobs and compresses single chunks.
    Operator,
    /// An operator who also edits policies, users, tokens and sees the configuration.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The lowercase name used in the database, URLs and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes everything `required` may do.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            _ => Err("expected one of viewer, operator, admin".into()),
        }
    }
}

/// Roles are stored as their lowercase names; a row with any other text is refused when
/// read, naming it, instead of being guessed at.
#[cfg(feature = "db")]
impl sqlx::Type<sqlx::Postgres> for Role {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

#[cfg(feature = "db")]
impl<'r> sqlx::Decode<'r, sqlx::Postgres> for Role {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        text.parse::<Role>()
            .map_err(|_| format!("unknown role {text:?} stored").into())
    }
}

/// Formats a byte count for people: `1.5 MiB`.
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a time for people, in UTC to the second: `2026-11-25 10:04:05 UTC`.
pub fn format_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An id typed by a person or sent in a request (job, alert, audit entry): a positive
/// whole number, or a message naming `field` and the accepted form. The one id parser.
pub fn parse_id<T>(field: &str, raw: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    raw.trim()
        .parse::<T>()
        .ok()
        .filter(|id| *id > T::from(0))
        .ok_or_else(|| format!("{field}: expected a positive whole number, got {raw:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_whole_numbers_named_in_errors() {
        assert_eq!(parse_id::<i32>("job id", " 1000 "), Ok(1000));
        assert_eq!(
            parse_id::<i64>("audit_id", "9007199254740993"),
            Ok(9_007_199_254_740_993)
        );
        for bad in ["0", "-3", "1.5", "", "2147483648", "1e3", "12\u{0}"] {
            let error = parse_id::<i32>("job id", bad).unwrap_err();
            assert!(
                error.starts_with("job id: expected a positive whole number"),
                "{error}"
            );
        }
    }

    #[test]
    fn bytes_are_formatted_with_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Admin.includes(Role::Operator));
        assert!(Role::Operator.includes(Role::Viewer));
        assert!(!Role::Viewer.includes(Role::Operator));
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn health_status_serializes_lowercase() {
        assert_eq!(
            serde_json::to_string(&HealthStatus::Degraded).unwrap(),
            "\"degraded\""
        );
    }
}
