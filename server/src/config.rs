//! The console's configuration: defaults, then a TOML file, then environment variables.
//!
//! Every value is parsed by one function whatever its source, so an error names the
//! variable (or file key), the value and the accepted form the same way everywhere. All
//! errors are collected and reported together, and contradictions are refused.
//! The variable names of the MS5.0 backend (`TIMESCALEDB_*`) are kept so its env files work.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use tsdb::interval::PolicyInterval;

/// Where the console runs; decides defaults and what is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Real data: demo data is refused.
    Production,
    /// A rehearsal of production.
    Staging,
    /// A developer's machine: demo data on by default.
    Development,
}

impl Profile {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Profile::Production),
            "staging" => Ok(Profile::Staging),
            "development" | "dev" => Ok(Profile::Development),
            _ => Err("one of production, staging, development".into()),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Production => "production",
            Profile::Staging => "staging",
            Profile::Development => "development",
        })
    }
}

/// The policy settings that can be given as defaults and per hypertable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyOverride {
    /// Whether chunks are compressed.
    pub compression_enabled: Option<bool>,
    /// Age after which chunks are compressed.
    pub compression_after: Option<PolicyInterval>,
    /// Age after which chunks are dropped; `Some(None)` keeps data forever.
    pub retention: Option<Option<PolicyInterval>>,
    /// Time span of one chunk.
    pub chunk_time_interval: Option<PolicyInterval>,
    /// Compression segment-by columns.
    pub segment_by: Option<Vec<String>>,
    /// Compression order-by items (`ts DESC`).
    pub order_by: Option<Vec<String>>,
    /// How often the policy jobs run.
    pub schedule_interval: Option<PolicyInterval>,
}

/// Effective lifecycle policy for hypertables without an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDefaults {
    /// `TIMESCALEDB_COMPRESSION_ENABLED`.
    pub compression_enabled: bool,
    /// `TIMESCALEDB_COMPRESSION_AFTER`.
    pub compression_after: PolicyInterval,
    /// `TIMESCALEDB_RETENTION_POLICY`; `None` keeps data forever.
    pub retention: Option<PolicyInterval>,
    /// `TIMESCALEDB_CHUNK_TIME_INTERVAL`.
    pub chunk_time_interval: PolicyInterval,
    /// `TIMESCALEDB_COMPRESSION_SEGMENT_BY`; empty lets TimescaleDB choose.
    pub segment_by: Vec<String>,
    /// `TIMESCALEDB_COMPRESSION_ORDER_BY`; empty lets TimescaleDB choose.
    pub order_by: Vec<String>,
    /// `TIMESCALEDB_POLICY_SCHEDULE_INTERVAL`.
    pub schedule_interval: PolicyInterval,
    /// `TIMESCALEDB_APPLY_POLICIES_ON_STARTUP`.
    pub apply_on_startup: bool,
}

/// Demo data generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSettings {
    /// Load demo data into empty demo tables at start-up.
    pub enabled: bool,
    /// Days of history.
    pub days: u32,
    /// Machines.
    pub equipment: u32,
    /// Seconds between metric samples.
    pub sample_seconds: u32,
}

/// The whole effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `DATABASE_URL`; required to serve.
    pub database_url: Option<String>,
    /// `MS5_LISTEN_ADDR`.
    pub listen_addr: SocketAddr,
    /// `MS5_ENV`.
    pub profile: Profile,
    /// `MS5_LOG_LEVEL`.
    pub log_level: LogLevel,
    /// `MS5_DB_MAX_CONNECTIONS`: upper bound; a single-connection server gets one.
    pub db_max_connections: u32,
    /// `MS5_SITE_ROOT`: the built site (WASM, CSS, assets).
    pub site_root: PathBuf,
    /// Sign-out after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// Sign-out this many hours after signing in.
    pub session_absolute_hours: u32,
    /// Seconds between monitoring passes.
    pub monitor_interval_seconds: u32,
    /// Whether `/metrics` requires an API token (or session).
    pub metrics_token_required: bool,
    /// Demo data.
    pub demo: DemoSettings,
    /// Policy defaults.
    pub timescaledb: PolicyDefaults,
    /// Per-hypertable overrides, keyed `schema.table`.
    pub tables: BTreeMap<String, PolicyOverride>,
}

/// A log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Diagnostics.
    Debug,
    /// Normal operation.
    Info,
    /// Only problems.
    Warn,
    /// Only failures.
    Error,
}

impl LogLevel {
    fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "trace" => Ok(LogLevel::Trace),
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            _ => Err("one of trace, debug, info, warn, error".into()),
        }
    }

    /// The name `tracing` filters understand.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One refused value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable or file key the value came from.
    pub source: String,
    /// The value as given.
    pub value: String,
    /// What is accepted, or why the value contradicts another.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}: {}", self.source, self.value, self.problem)
    }
}

/// All refused values of one load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem(s)):", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

/// A setting known by an environment variable and a `[section] key` in the TOML file.
struct Key {
    env: &'static str,
    section: &'static str,
    name: &'static str,
}

const KEYS: &[Key] = &[
    Key {
        env: "DATABASE_URL",
        section: "console",
        name: "database_url",
    },
    Key {
        env: "MS5_LISTEN_ADDR",
        section: "console",
        name: "listen_addr",
    },
    Key {
        env: "MS5_ENV",
        section: "console",
        name: "env",
    },
    Key {
        env: "MS5_LOG_LEVEL",
        section: "console",
        name: "log_level",
    },
    Key {
        env: "MS5_DB_MAX_CONNECTIONS",
        section: "console",
        name: "db_max_connections",
    },
    Key {
        env: "MS5_SITE_ROOT",
        section: "console",
        name: "site_root",
    },
    Key {
        env: "MS5_SESSION_IDLE_MINUTES",
        section: "session",
        name: "idle_minutes",
    },
    Key {
        env: "MS5_SESSION_ABSOLUTE_HOURS",
        section: "session",
        name: "absolute_hours",
    },
    Key {
        env: "MS5_MONITOR_INTERVAL_SECONDS",
        section: "monitoring",
        name: "interval_seconds",
    },
    Key {
        env: "MS5_METRICS_TOKEN_REQUIRED",
        section: "monitoring",
        name: "metrics_token_required",
    },
    Key {
        env: "MS5_DEMO_DATA",
        section: "demo",
        name: "enabled",
    },
    Key {
        env: "MS5_DEMO_DAYS",
        section: "demo",
        name: "days",
    },
    Key {
        env: "MS5_DEMO_EQUIPMENT",
        section: "demo",
        name: "equipment",
    },
    Key {
        env: "MS5_DEMO_SAMPLE_SECONDS",
        section: "demo",
        name: "sample_seconds",
    },
    Key {
        env: "TIMESCALEDB_COMPRESSION_ENABLED",
        section: "timescaledb",
        name: "compression_enabled",
    },
    Key {
        env: "TIMESCALEDB_COMPRESSION_AFTER",
        section: "timescaledb",
        name: "compression_after",
    },
    Key {
        env: "TIMESCALEDB_RETENTION_POLICY",
        section: "timescaledb",
        name: "retention_policy",
    },
    Key {
        env: "TIMESCALEDB_CHUNK_TIME_INTERVAL",
        section: "timescaledb",
        name: "chunk_time_interval",
    },
    Key {
        env: "TIMESCALEDB_COMPRESSION_SEGMENT_BY",
        section: "timescaledb",
        name: "segment_by",
    },
    Key {
        env: "TIMESCALEDB_COMPRESSION_ORDER_BY",
        section: "timescaledb",
        name: "order_by",
    },
    Key {
        env: "TIMESCALEDB_POLICY_SCHEDULE_INTERVAL",
        section: "timescaledb",
        name: "schedule_interval",
    },
    Key {
        env: "TIMESCALEDB_APPLY_POLICIES_ON_STARTUP",
        section: "timescaledb",
        name: "apply_on_startup",
    },
];

/// The keys a `[timescaledb.tables."schema.table"]` section accepts.
const TABLE_KEYS: &[&str] = &[
    "compression_enabled",
    "compression_after",
    "retention_policy",
    "chunk_time_interval",
    "segment_by",
    "order_by",
    "schedule_interval",
];

/// The environment variable naming the TOML file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "MS5_CONFIG";

/// Settings while layers are applied: demo-on-by-default depends on the final profile.
struct Builder {
    settings: Settings,
    demo_enabled: Option<bool>,
    errors: Vec<ConfigError>,
}

impl Settings {
    /// Loads defaults, then `file` (if any), then the environment read through `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigErrors> {
        let mut builder = Builder::new();
        if let Some(path) = file {
            builder.apply_file(path);
        }
        for key in KEYS {
            if let Some(raw) = env(key.env) {
                builder.apply(key.env, key.env, &raw);
            }
        }
        builder.finish()
    }

    /// Loads from the process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Settings, ConfigErrors> {
        Settings::load(file, |name| std::env::var(name).ok())
    }

    /// The effective configuration as `name = value` lines, secrets redacted.
    pub fn describe(&self) -> Vec<(String, String)> {
        let list = |items: &[String]| {
            if items.is_empty() {
                "(TimescaleDB default)".to_string()
            } else {
                items.join(", ")
            }
        };
        let retention = |r: Option<PolicyInterval>| {
            r.map_or_else(|| "none (keep forever)".to_string(), |i| i.to_string())
        };
        let t = &self.timescaledb;
        let mut lines = vec![
            (
                "DATABASE_URL".into(),
                self.database_url
                    .as_deref()
                    .map_or_else(|| "(not set)".to_string(), redact_url),
            ),
            ("MS5_LISTEN_ADDR".into(), self.listen_addr.to_string()),
            ("MS5_ENV".into(), self.profile.to_string()),
            ("MS5_LOG_LEVEL".into(), self.log_level.as_str().into()),
            (
                "MS5_DB_MAX_CONNECTIONS".into(),
                self.db_max_connections.to_string(),
            ),
            ("MS5_SITE_ROOT".into(), self.site_root.display().to_string()),
            (
                "MS5_SESSION_IDLE_MINUTES".into(),
                self.session_idle_minutes.to_string(),
            ),
            (
                "MS5_SESSION_ABSOLUTE_HOURS".into(),
                self.session_absolute_hours.to_string(),
            ),
            (
                "MS5_MONITOR_INTERVAL_SECONDS".into(),
                self.monitor_interval_seconds.to_string(),
            ),
            (
                "MS5_METRICS_TOKEN_REQUIRED".into(),
                self.metrics_token_required.to_string(),
            ),
            ("MS5_DEMO_DATA".into(), self.demo.enabled.to_string()),
            ("MS5_DEMO_DAYS".into(), self.demo.days.to_string()),
            ("MS5_DEMO_EQUIPMENT".into(), self.demo.equipment.to_string()),
            (
                "MS5_DEMO_SAMPLE_SECONDS".into(),
                self.demo.sample_seconds.to_string(),
            ),
            (
                "TIMESCALEDB_COMPRESSION_ENABLED".into(),
                t.compression_enabled.to_string(),
            ),
            (
                "TIMESCALEDB_COMPRESSION_AFTER".into(),
                t.compression_after.to_string(),
            ),
            (
                "TIMESCALEDB_RETENTION_POLICY".into(),
                retention(t.retention),
            ),
            (
                "TIMESCALEDB_CHUNK_TIME_INTERVAL".into(),
                t.chunk_time_interval.to_string(),
            ),
            (
                "TIMESCALEDB_COMPRESSION_SEGMENT_BY".into(),
                list(&t.segment_by),
            ),
            ("TIMESCALEDB_COMPRESSION_ORDER_BY".into(), list(&t.order_by)),
            (
                "TIMESCALEDB_POLICY_SCHEDULE_INTERVAL".into(),
                t.schedule_interval.to_string(),
            ),
            (
                "TIMESCALEDB_APPLY_POLICIES_ON_STARTUP".into(),
                t.apply_on_startup.to_string(),
            ),
        ];
        for (table, o) in &self.tables {
            let prefix = format!("timescaledb.tables.\"{table}\"");
            if let Some(v) = o.compression_enabled {
                lines.push((format!("{prefix}.compression_enabled"), v.to_string()));
            }
            if let Some(v) = o.compression_after {
                lines.push((format!("{prefix}.compression_after"), v.to_string()));
            }
            if let Some(v) = o.retention {
                lines.push((format!("{prefix}.retention_policy"), retention(v)));
            }
            if let Some(v) = o.chunk_time_interval {
                lines.push((format!("{prefix}.chunk_time_interval"), v.to_string()));
            }
            if let Some(v) = &o.segment_by {
                lines.push((format!("{prefix}.segment_by"), list(v)));
            }
            if let Some(v) = &o.order_by {
                lines.push((format!("{prefix}.order_by"), list(v)));
            }
            if let Some(v) = o.schedule_interval {
                lines.push((format!("{prefix}.schedule_interval"), v.to_string()));
            }
        }
        lines
    }
}

impl Builder {
    fn new() -> Self {
        let interval = |text: &str| PolicyInterval::from_str(text).expect("built-in default");
        Self {
            settings: Settings {
                database_url: None,
                listen_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
                profile: Profile::Production,
                log_level: LogLevel::Info,
                db_max_connections: 10,
                site_root: PathBuf::from("target/site"),
                session_idle_minutes: 30,
                session_absolute_hours: 12,
                monitor_interval_seconds: 30,
                metrics_token_required: true,
                demo: DemoSettings {
                    enabled: false,
                    days: 120,
                    equipment: 12,
                    sample_seconds: 900,
                },
                timescaledb: PolicyDefaults {
                    compression_enabled: true,
                    compression_after: interval("7 days"),
                    retention: Some(interval("90 days")),
                    chunk_time_interval: interval("1 day"),
                    segment_by: Vec::new(),
                    order_by: Vec::new(),
                    schedule_interval: interval("12 hours"),
                    apply_on_startup: true,
                },
                tables: BTreeMap::new(),
            },
            demo_enabled: None,
            errors: Vec::new(),
        }
    }

    fn refuse(&mut self, source: &str, value: &str, problem: impl Into<String>) {
        self.errors.push(ConfigError {
            source: source.to_string(),
            value: value.to_string(),
            problem: problem.into(),
        });
    }

    /// Applies one raw value of the setting known as `env_name`; `source` names its origin.
    fn apply(&mut self, env_name: &str, source: &str, raw: &str) {
        if let Err(problem) = self.try_apply(env_name, raw) {
            self.refuse(source, raw, format!("expected {problem}"));
        }
    }

    fn try_apply(&mut self, env_name: &str, raw: &str) -> Result<(), String> {
        let s = &mut self.settings;
        let t = &mut s.timescaledb;
        match env_name {
            "DATABASE_URL" => s.database_url = Some(parse_database_url(raw)?),
            "MS5_LISTEN_ADDR" => {
                s.listen_addr = raw
                    .trim()
                    .parse()
                    .map_err(|_| "an address and port such as 127.0.0.1:3000 or [::1]:3000")?
            }
            "MS5_ENV" => s.profile = Profile::parse(raw)?,
            "MS5_LOG_LEVEL" => s.log_level = LogLevel::parse(raw)?,
            "MS5_DB_MAX_CONNECTIONS" => s.db_max_connections = parse_count(raw, 1, 1000)?,
            "MS5_SITE_ROOT" => {
                if raw.trim().is_empty() {
                    return Err("a directory path".into());
                }
                s.site_root = PathBuf::from(raw.trim());
            }
            "MS5_SESSION_IDLE_MINUTES" => s.session_idle_minutes = parse_count(raw, 1, 1440)?,
            "MS5_SESSION_ABSOLUTE_HOURS" => s.session_absolute_hours = parse_count(raw, 1, 720)?,
            "MS5_MONITOR_INTERVAL_SECONDS" => {
                s.monitor_interval_seconds = parse_count(raw, 5, 3600)?
            }
            "MS5_METRICS_TOKEN_REQUIRED" => s.metrics_token_required = parse_bool(raw)?,
            "MS5_DEMO_DATA" => self.demo_enabled = Some(parse_bool(raw)?),
            "MS5_DEMO_DAYS" => s.demo.days = parse_count(raw, 1, 3650)?,
            "MS5_DEMO_EQUIPMENT" => s.demo.equipment = parse_count(raw, 1, 1000)?,
            "MS5_DEMO_SAMPLE_SECONDS" => s.demo.sample_seconds = parse_count(raw, 10, 86_400)?,
            "TIMESCALEDB_COMPRESSION_ENABLED" => t.compression_enabled = parse_bool(raw)?,
            "TIMESCALEDB_COMPRESSION_AFTER" => t.compression_after = parse_interval(raw)?,
            "TIMESCALEDB_RETENTION_POLICY" => t.retention = parse_retention(raw)?,
            "TIMESCALEDB_CHUNK_TIME_INTERVAL" => t.chunk_time_interval = parse_interval(raw)?,
            "TIMESCALEDB_COMPRESSION_SEGMENT_BY" => t.segment_by = parse_columns(raw)?,
            "TIMESCALEDB_COMPRESSION_ORDER_BY" => t.order_by = parse_order_by(raw)?,
            "TIMESCALEDB_POLICY_SCHEDULE_INTERVAL" => t.schedule_interval = parse_interval(raw)?,
            "TIMESCALEDB_APPLY_POLICIES_ON_STARTUP" => t.apply_on_startup = parse_bool(raw)?,
            other => return Err(format!("a known setting, not {other}")),
        }
        Ok(())
    }

    fn apply_file(&mut self, path: &Path) {
        let source = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                self.refuse(
                    &source,
                    "",
                    format!("cannot read the configuration file: {error}"),
                );
                return;
            }
        };
        let document: toml::Table = match text.parse() {
            Ok(document) => document,
            Err(error) => {
                self.refuse(&source, "", format!("not valid TOML: {error}"));
                return;
            }
        };
        for (section, value) in document {
            let Some(table) = value.as_table() else {
                self.refuse(
                    &format!("{source}: {section}"),
                    &value.to_string(),
                    "expected a section: [console], [demo] or [timescaledb]",
                );
                continue;
            };
            for (name, value) in table {
                let at = format!("{source}: {section}.{name}");
                if section == "timescaledb" && name == "tables" {
                    self.apply_table_overrides(&at, value);
                    continue;
                }
                match KEYS.iter().find(|k| k.section == section && k.name == name) {
                    Some(key) => match toml_scalar(value) {
                        Some(raw) => self.apply(key.env, &at, &raw),
                        None => self.refuse(
                            &at,
                            &value.to_string(),
                            "expected a string, number or boolean",
                        ),
                    },
                    None => {
                        let known: Vec<String> = KEYS
                            .iter()
                            .map(|k| format!("{}.{}", k.section, k.name))
                            .collect();
                        self.refuse(
                            &at,
                            &value.to_string(),
                            format!(
                                "unknown setting; known settings: {}, timescaledb.tables",
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    fn apply_table_overrides(&mut self, at: &str, value: &toml::Value) {
        let Some(tables) = value.as_table() else {
            self.refuse(
                at,
                &value.to_string(),
                "expected sections such as [timescaledb.tables.\"factory_telemetry.metric_hist\"]",
            );
            return;
        };
        for (table_name, settings) in tables {
            let table_at = format!("{at}.\"{table_name}\"");
            if let Err(problem) = parse_table_name(table_name) {
                self.refuse(&table_at, table_name, format!("expected {problem}"));
                continue;
            }
            let Some(settings) = settings.as_table() else {
                self.refuse(
                    &table_at,
                    &settings.to_string(),
                    "expected a section of policy settings",
                );
                continue;
            };
            let mut over = PolicyOverride::default();
            for (name, value) in settings {
                let key_at = format!("{table_at}.{name}");
                let Some(raw) = toml_scalar(value) else {
                    self.refuse(
                        &key_at,
                        &value.to_string(),
                        "expected a string, number or boolean",
                    );
                    continue;
                };
                let parsed = match name.as_str() {
                    "compression_enabled" => {
                        parse_bool(&raw).map(|v| over.compression_enabled = Some(v))
                    }
                    "compression_after" => {
                        parse_interval(&raw).map(|v| over.compression_after = Some(v))
                    }
                    "retention_policy" => parse_retention(&raw).map(|v| over.retention = Some(v)),
                    "chunk_time_interval" => {
                        parse_interval(&raw).map(|v| over.chunk_time_interval = Some(v))
                    }
                    "segment_by" => parse_columns(&raw).map(|v| over.segment_by = Some(v)),
                    "order_by" => parse_order_by(&raw).map(|v| over.order_by = Some(v)),
                    "schedule_interval" => {
                        parse_interval(&raw).map(|v| over.schedule_interval = Some(v))
                    }
                    _ => Err(format!("one of {}", TABLE_KEYS.join(", "))),
                };
                if let Err(problem) = parsed {
                    self.refuse(&key_at, &raw, format!("expected {problem}"));
                }
            }
            self.settings.tables.insert(table_name.clone(), over);
        }
    }

    fn finish(mut self) -> Result<Settings, ConfigErrors> {
        let profile = self.settings.profile;
        self.settings.demo.enabled = self.demo_enabled.unwrap_or(profile == Profile::Development);
        if self.settings.demo.enabled && profile == Profile::Production {
            self.refuse(
                "MS5_DEMO_DATA",
                "true",
                "demo data is never loaded in the production profile (MS5_ENV=production); set MS5_ENV=development or staging",
            );
        }
        let defaults = self.settings.timescaledb.clone();
        self.check_retention(
            "TIMESCALEDB_RETENTION_POLICY",
            "TIMESCALEDB_COMPRESSION_AFTER",
            defaults.compression_enabled,
            defaults.retention,
            defaults.compression_after,
        );
        for (table, over) in self.settings.tables.clone() {
            self.check_retention(
                &format!("timescaledb.tables.\"{table}\".retention_policy"),
                &format!("timescaledb.tables.\"{table}\".compression_after"),
                over.compression_enabled
                    .unwrap_or(defaults.compression_enabled),
                over.retention.unwrap_or(defaults.retention),
                over.compression_after.unwrap_or(defaults.compression_after),
            );
        }
        if self.errors.is_empty() {
            Ok(self.settings)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    /// Data dropped before it is old enough to compress means compression never happens.
    fn check_retention(
        &mut self,
        retention_source: &str,
        compress_source: &str,
        compression_enabled: bool,
        retention: Option<PolicyInterval>,
        compress_after: PolicyInterval,
    ) {
        if let Some(retention) = retention {
            if compression_enabled && retention.approx_seconds() <= compress_after.approx_seconds()
            {
                self.refuse(
                    retention_source,
                    &retention.to_string(),
                    format!("retention must be longer than {compress_source}=\"{compress_after}\", or chunks are dropped before they are ever compressed"),
                );
            }
        }
    }
}

fn toml_scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(", ")),
        _ => None,
    }
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("true or false".into()),
    }
}

fn parse_count(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("a whole number from {min} to {max}"))
}

fn parse_interval(raw: &str) -> Result<PolicyInterval, String> {
    raw.parse::<PolicyInterval>()
        .map_err(|e| e.to_string().trim_start_matches("expected ").to_string())
}

fn parse_retention(raw: &str) -> Result<Option<PolicyInterval>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "none" | "off" => Ok(None),
        _ => parse_interval(raw)
            .map(Some)
            .map_err(|e| format!("{e}, or \"none\" to keep data forever")),
    }
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    let accepted = "a PostgreSQL URL such as postgres://user:password@host:5432/database";
    let trimmed = raw.trim();
    if !(trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://")) {
        return Err(accepted.into());
    }
    sqlx::postgres::PgConnectOptions::from_str(trimmed).map_err(|_| accepted.to_string())?;
    Ok(trimmed.to_string())
}

/// Column names are quoted when used, so any name is safe; refuse only the unusable.
fn parse_column(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.len() > 63 || name.chars().any(char::is_control) {
        return Err(
            "column names separated by commas, such as \"equipment_id, metric_name\"".into(),
        );
    }
    Ok(name.to_string())
}

fn parse_columns(raw: &str) -> Result<Vec<String>, String> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    raw.split(',').map(parse_column).collect()
}

fn parse_order_by(raw: &str) -> Result<Vec<String>, String> {
    let accepted = "items separated by commas, each a column with optional ASC/DESC and NULLS FIRST/LAST, such as \"ts DESC\"";
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    raw.split(',')
        .map(|item| {
            let words: Vec<&str> = item.split_whitespace().collect();
            let (column, modifiers) = words.split_first().ok_or(accepted)?;
            let column = parse_column(column).map_err(|_| accepted)?;
            let modifiers: Vec<String> = modifiers.iter().map(|w| w.to_ascii_uppercase()).collect();
            let valid = matches!(
                modifiers
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice(),
                [] | ["ASC"]
                    | ["DESC"]
                    | ["NULLS", "FIRST" | "LAST"]
                    | ["ASC" | "DESC", "NULLS", "FIRST" | "LAST"]
            );
            if !valid {
                return Err(accepted.to_string());
            }
            Ok(std::iter::once(column)
                .chain(modifiers)
                .collect::<Vec<_>>()
                .join(" "))
        })
        .collect()
}

fn parse_table_name(raw: &str) -> Result<(), String> {
    let accepted = "a schema-qualified hypertable name such as \"factory_telemetry.metric_hist\"";
    match raw.split_once('.') {
        Some((schema, table)) if !schema.is_empty() && !table.is_empty() => Ok(()),
        _ => Err(accepted.into()),
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let redacted = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{scheme}://{redacted}@{host}{tail}")
        }
        None => url.to_string(),
    }
    .split('&')
    .map(|part| match part.split_once("password=") {
        Some((before, _)) => format!("{before}password=***"),
        None => part.to_string(),
    })
    .collect::<Vec<_>>()
    .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_env(vars: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(None, |name| map.get(name).cloned())
    }

    fn load_file(text: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        let dir = std::env::temp_dir().join(format!(
            "ms5-config-test-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("console.toml");
        std::fs::write(&path, text).unwrap();
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let result = Settings::load(Some(&path), |name| map.get(name).cloned());
        std::fs::remove_dir_all(&dir).ok();
        result
    }

    #[test]
    fn defaults_are_the_seeds() {
        let s = load_env(&[]).unwrap();
        assert_eq!(s.profile, Profile::Production);
        assert!(!s.demo.enabled);
        assert!(s.timescaledb.compression_enabled);
        assert_eq!(s.timescaledb.compression_after.to_string(), "7 days");
        assert_eq!(s.timescaledb.retention.unwrap().to_string(), "90 days");
        assert_eq!(s.timescaledb.chunk_time_interval.to_string(), "1 day");
        assert_eq!(s.listen_addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn a_typo_names_the_variable_value_and_accepted_form() {
        let errors = load_env(&[("TIMESCALEDB_RETENTION_POLICY", "90 dayz")]).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let message = errors.0[0].to_string();
        assert!(message.starts_with("TIMESCALEDB_RETENTION_POLICY=\"90 dayz\": expected an interval such as \"90 days\" or \"12 hours\""), "{message}");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let errors = load_env(&[
            ("MS5_LISTEN_ADDR", "localhost"),
            ("MS5_DB_MAX_CONNECTIONS", "0"),
            ("TIMESCALEDB_COMPRESSION_ENABLED", "maybe"),
            ("DATABASE_URL", "mysql://x"),
        ])
        .unwrap_err();
        let sources: Vec<&str> = errors.0.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "DATABASE_URL",
                "MS5_LISTEN_ADDR",
                "MS5_DB_MAX_CONNECTIONS",
                "TIMESCALEDB_COMPRESSION_ENABLED"
            ]
        );
    }

    #[test]
    fn retention_shorter_than_compression_is_refused() {
        let errors = load_env(&[
            ("TIMESCALEDB_RETENTION_POLICY", "3 days"),
            ("TIMESCALEDB_COMPRESSION_AFTER", "7 days"),
        ])
        .unwrap_err();
        assert!(
            errors.0[0]
                .to_string()
                .contains("retention must be longer than TIMESCALEDB_COMPRESSION_AFTER=\"7 days\""),
            "{}",
            errors
        );
        // Without compression there is nothing to contradict.
        assert!(load_env(&[
            ("TIMESCALEDB_RETENTION_POLICY", "3 days"),
            ("TIMESCALEDB_COMPRESSION_ENABLED", "false"),
        ])
        .is_ok());
    }

    #[test]
    fn demo_data_follows_the_profile_and_is_refused_in_production() {
        assert!(
            load_env(&[("MS5_ENV", "development")])
                .unwrap()
                .demo
                .enabled
        );
        assert!(!load_env(&[("MS5_ENV", "staging")]).unwrap().demo.enabled);
        let errors = load_env(&[("MS5_DEMO_DATA", "true")]).unwrap_err();
        assert!(errors.to_string().contains("production profile"));
    }

    #[test]
    fn file_then_environment() {
        let s = load_file(
            r#"
            [console]
            listen_addr = "0.0.0.0:8080"
            env = "staging"

            [timescaledb]
            compression_after = "3 days"
            segment_by = ["equipment_id", "metric_name"]

            [timescaledb.tables."factory_telemetry.metric_hist"]
            retention_policy = "180 days"
            order_by = "ts desc"
            "#,
            &[("MS5_LISTEN_ADDR", "127.0.0.1:4000")],
        )
        .unwrap();
        assert_eq!(
            s.listen_addr.to_string(),
            "127.0.0.1:4000",
            "environment wins over file"
        );
        assert_eq!(s.profile, Profile::Staging);
        assert_eq!(s.timescaledb.compression_after.to_string(), "3 days");
        assert_eq!(s.timescaledb.segment_by, ["equipment_id", "metric_name"]);
        let table = &s.tables["factory_telemetry.metric_hist"];
        assert_eq!(table.retention.unwrap().unwrap().to_string(), "180 days");
        assert_eq!(table.order_by.as_deref().unwrap(), ["ts DESC"]);
    }

    #[test]
    fn file_errors_name_the_key() {
        let errors = load_file(
            r#"
            [timescaledb]
            retention = "90 days"

            [timescaledb.tables."metric_hist"]
            compression_after = "2 fortnights"

            [timescaledb.tables."a.b"]
            compression_after = "30 days"
            retention_policy = "10 days"
            "#,
            &[],
        )
        .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("timescaledb.retention=\"\\\"90 days\\\"\": unknown setting"),
            "{text}"
        );
        assert!(
            text.contains(
                "timescaledb.tables.\"metric_hist\"=\"metric_hist\": expected a schema-qualified"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "timescaledb.tables.\"a.b\".retention_policy=\"10 days\": retention must be longer"
            ),
            "{text}"
        );
    }

    #[test]
    fn order_by_and_segment_by_are_checked() {
        assert!(load_env(&[("TIMESCALEDB_COMPRESSION_ORDER_BY", "ts sideways")]).is_err());
        let s =
            load_env(&[("TIMESCALEDB_COMPRESSION_ORDER_BY", "ts DESC NULLS LAST, id")]).unwrap();
        assert_eq!(s.timescaledb.order_by, ["ts DESC NULLS LAST", "id"]);
        assert!(load_env(&[("TIMESCALEDB_COMPRESSION_SEGMENT_BY", "a,,b")]).is_err());
    }

    #[test]
    fn retention_none_keeps_data_forever() {
        let s = load_env(&[("TIMESCALEDB_RETENTION_POLICY", "none")]).unwrap();
        assert_eq!(s.timescaledb.retention, None);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=s"),
            "postgres://h/db?user=u&password=***"
        );
    }
}
