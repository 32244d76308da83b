//! The console's configuration: defaults, then a TOML file, then environment variables.
//!
//! Every setting is one entry of a table (`setting::Setting`), split by concern into
//! `console`, `sessions`, `monitoring`, `demo`, `policies`, `jobs` and `storage`: its variable, file key,
//! default, parser, display and description. Every value is parsed by that one entry
//! whatever its source, so an error names the variable (or file key), the value and the
//! accepted form the same way everywhere. All errors are collected and reported together,
//! and contradictions are refused. The variable names of the MS5.0 backend
//! (`TIMESCALEDB_*`) are kept so its env files work.

mod console;
mod demo;
pub mod http;
pub mod jobs;
mod monitoring;
mod policies;
mod sessions;
pub mod setting;
pub mod storage;

use setting::Setting;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tsdb::policy::{HypertableName, Policy, PolicyOverride, PolicyProblem};

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

impl Settings {
    /// Where desired policies come from: the defaults, the file's per-table sections and
    /// the managed-table patterns.
    pub fn policy_source(&self) -> tsdb::policy::desired::PolicySource {
        tsdb::policy::desired::PolicySource {
            defaults: self.timescaledb.clone(),
            tables: self.tables.clone(),
            managed_patterns: self.managed_tables.clone(),
            builtin: [(
                tsdb::storage::history::TABLE.to_string(),
                tsdb::storage::history::own_policy(self.storage.history_retention),
            )]
            .into(),
        }
    }

    /// The compress-after the demo loader mirrors: the default policy's when it is an
    /// interval (the demo tables are partitioned by timestamps), else the seed's 7 days.
    pub fn demo_compress_after(&self) -> tsdb::interval::PolicyInterval {
        match self.timescaledb.compression_after {
            Some(tsdb::policy::PolicyAge::Interval(interval)) => interval,
            _ => "7 days".parse().expect("a valid interval"),
        }
    }
}

impl DemoSettings {
    /// How much demo data to generate.
    pub fn volume(&self) -> tsdb::demo::DemoVolume {
        tsdb::demo::DemoVolume {
            days: self.days,
            equipment: self.equipment,
            sample_seconds: self.sample_seconds,
        }
    }
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
    /// `MS5_SITE_ROOT`: the built site (WASM, CSS, assets); `None`: the binary's own
    /// (release builds carry it) or `target/site` ([`crate::site::Site::locate`]).
    pub site_root: Option<PathBuf>,
    /// Sign-out after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// Sign-out this many hours after signing in.
    pub session_absolute_hours: u32,
    /// Seconds between monitoring passes.
    pub monitor_interval_seconds: u32,
    /// `MS5_CATALOG_READS`: the internal catalog where its contract holds, or never.
    pub catalog_reads: tsdb::contract::CatalogReads,
    /// Whether `/metrics` requires an API token (or session).
    pub metrics_token_required: bool,
    /// Demo data.
    pub demo: DemoSettings,
    /// Jobs and their alerts.
    pub jobs: jobs::JobSettings,
    /// Storage history and forecast.
    pub storage: storage::StorageSettings,
    /// Slow-client and size limits of the HTTP server.
    pub http: http::HttpSettings,
    /// The default lifecycle policy (`TIMESCALEDB_*`).
    pub timescaledb: Policy,
    /// `TIMESCALEDB_APPLY_POLICIES_ON_STARTUP`.
    pub apply_policies_on_startup: bool,
    /// `TIMESCALEDB_MANAGED_TABLES`: hypertables managed by pattern.
    pub managed_tables: Vec<tsdb::policy::desired::TablePattern>,
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

/// Every setting, in the order values are applied and errors reported.
pub fn settings_table() -> impl Iterator<Item = &'static Setting> {
    console::SETTINGS
        .iter()
        .chain(sessions::SETTINGS)
        .chain(monitoring::SETTINGS)
        .chain(demo::SETTINGS)
        .chain(policies::SETTINGS)
        .chain(jobs::SETTINGS)
        .chain(storage::SETTINGS)
        .chain(http::SETTINGS)
}

/// The environment variable naming the TOML file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "MS5_CONFIG";

/// Settings while layers are applied: demo-on-by-default depends on the final profile.
pub struct Draft {
    settings: Settings,
    demo_enabled: Option<bool>,
    managed_tables: Option<Vec<tsdb::policy::desired::TablePattern>>,
    errors: Vec<ConfigError>,
}

impl Settings {
    /// Loads defaults, then `file` (if any), then the environment read through `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigErrors> {
        let mut draft = Draft::new();
        if let Some(path) = file {
            draft.apply_file(path);
        }
        for setting in settings_table() {
            if let Some(raw) = env(setting.env) {
                draft.apply(setting, setting.env, &raw);
            }
        }
        draft.finish()
    }

    /// Loads from the process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Settings, ConfigErrors> {
        Settings::load(file, |name| std::env::var(name).ok())
    }

    /// The effective configuration as `name = value` lines, secrets redacted.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut lines: Vec<(String, String)> = settings_table()
            .map(|setting| (setting.env.to_string(), (setting.show)(self)))
            .collect();
        for (table, over) in &self.tables {
            for (key, value) in over.describe() {
                lines.push((format!("timescaledb.tables.\"{table}\".{key}"), value));
            }
        }
        lines
    }
}

impl Draft {
    /// The built-in defaults, each parsed by its own setting's parser.
    fn new() -> Self {
        let placeholder: tsdb::interval::PolicyInterval =
            "1 day".parse().expect("a valid interval");
        let age = tsdb::policy::PolicyAge::Interval(placeholder);
        let mut draft = Self {
            // Every field is overwritten by its setting's default below (the defaults
            // test proves none is left): the values here are never seen.
            settings: Settings {
                database_url: None,
                listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                profile: Profile::Production,
                log_level: LogLevel::Info,
                db_max_connections: 0,
                site_root: None,
                session_idle_minutes: 0,
                session_absolute_hours: 0,
                monitor_interval_seconds: 0,
                catalog_reads: Default::default(),
                metrics_token_required: true,
                demo: DemoSettings {
                    enabled: false,
                    days: 0,
                    equipment: 0,
                    sample_seconds: 0,
                },
                jobs: jobs::JobSettings {
                    run_timeout_seconds: 0,
                    alert_check_seconds: 0,
                    stale_factor: 0,
                    reminder_minutes: 0,
                    webhook_url: None,
                    webhook_secret: None,
                },
                storage: storage::StorageSettings {
                    sample_seconds: 0,
                    history_retention: None,
                    budget_bytes: None,
                    volume_free_bytes: None,
                    horizon_days: 0,
                },
                http: http::HttpSettings {
                    header_timeout_seconds: 0,
                    body_timeout_seconds: 0,
                    max_body_kib: 0,
                    max_connections: 0,
                    max_in_flight: 0,
                    shutdown_seconds: 0,
                    trusted_proxies: Default::default(),
                },
                timescaledb: Policy {
                    compression_enabled: true,
                    compression_after: Some(age),
                    retention: None,
                    chunk_time_interval: age,
                    segment_by: Vec::new(),
                    order_by: Vec::new(),
                    schedule_interval: placeholder,
                    compression_schedule: None,
                    retention_schedule: None,
                    refresh: None,
                },
                apply_policies_on_startup: true,
                managed_tables: Vec::new(),
                tables: BTreeMap::new(),
            },
            demo_enabled: None,
            managed_tables: None,
            errors: Vec::new(),
        };
        for setting in settings_table() {
            if let Some(default) = setting.default {
                draft.apply(setting, "built-in default", default);
            }
        }
        assert!(
            draft.errors.is_empty(),
            "a built-in default is refused by its own parser: {:?}",
            draft.errors
        );
        draft
    }

    fn refuse(&mut self, source: &str, value: &str, problem: impl Into<String>) {
        self.errors.push(ConfigError {
            source: source.to_string(),
            value: value.to_string(),
            problem: problem.into(),
        });
    }

    /// Applies one raw value of `setting`; `source` names its origin.
    fn apply(&mut self, setting: &Setting, source: &str, raw: &str) {
        if let Err(problem) = (setting.apply)(self, raw) {
            self.refuse(source, raw, format!("expected {problem}"));
        }
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
                    "expected a section: [console], [session], [monitoring], [demo] or [timescaledb]",
                );
                continue;
            };
            for (name, value) in table {
                let at = format!("{source}: {section}.{name}");
                if section == "timescaledb" && name == "tables" {
                    self.apply_table_overrides(&at, value);
                    continue;
                }
                match settings_table().find(|s| s.section == section && s.key == name) {
                    Some(setting) => match toml_scalar(value) {
                        Some(raw) => self.apply(setting, &at, &raw),
                        None => self.refuse(
                            &at,
                            &value.to_string(),
                            "expected a string, number or boolean",
                        ),
                    },
                    None => {
                        let known: Vec<String> = settings_table()
                            .map(|s| format!("{}.{}", s.section, s.key))
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
            if let Err(problem) = table_name.parse::<HypertableName>() {
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
                if let Err(problem) = over.set(name, &raw) {
                    self.refuse(&key_at, &raw, format!("expected {problem}"));
                }
            }
            self.settings.tables.insert(table_name.clone(), over);
        }
    }

    fn finish(mut self) -> Result<Settings, ConfigErrors> {
        let profile = self.settings.profile;
        self.settings.demo.enabled = self.demo_enabled.unwrap_or(profile == Profile::Development);
        // The demo's tables are managed when the demo is on and nothing else was said.
        self.settings.managed_tables = match self.managed_tables.take() {
            Some(patterns) => patterns,
            None if self.settings.demo.enabled => {
                vec!["factory_telemetry.*".parse().expect("a valid pattern")]
            }
            None => Vec::new(),
        };
        if self.settings.demo.enabled && profile == Profile::Production {
            self.refuse(
                "MS5_DEMO_DATA",
                "true",
                "demo data is never loaded in the production profile (MS5_ENV=production); set MS5_ENV=development or staging",
            );
        }
        let defaults = self.settings.timescaledb.clone();
        self.check_policy(
            "TIMESCALEDB_RETENTION_POLICY",
            "TIMESCALEDB_COMPRESSION_AFTER",
            &defaults,
        );
        for (table, over) in self.settings.tables.clone() {
            self.check_policy(
                &format!("timescaledb.tables.\"{table}\".retention_policy"),
                &format!("timescaledb.tables.\"{table}\".compression_after"),
                &over.over(&defaults),
            );
        }
        if self.errors.is_empty() {
            Ok(self.settings)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    /// Refuses a policy that contradicts itself, naming the settings involved.
    fn check_policy(&mut self, retention_source: &str, compress_source: &str, policy: &Policy) {
        for problem in policy.problems() {
            match problem {
                PolicyProblem::MixedTimeKinds => self.refuse(
                    retention_source,
                    &policy.chunk_time_interval.to_string(),
                    "intervals and whole numbers mixed in one policy: a hypertable's time column is either a timestamp (intervals) or an integer (whole numbers)",
                ),
                PolicyProblem::RetentionNotAfterCompression => {
                    let retention = policy.retention.map(|r| r.to_string()).unwrap_or_default();
                    self.refuse(
                        retention_source,
                        &retention,
                        format!(
                            "retention must be longer than {compress_source}=\"{}\", or chunks are dropped before they are ever compressed",
                            tsdb::policy::CompressAfter(policy.compression_after)
                        ),
                    );
                }
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
        assert_eq!(
            tsdb::policy::CompressAfter(s.timescaledb.compression_after).to_string(),
            "7 days"
        );
        assert_eq!(s.timescaledb.retention.unwrap().to_string(), "90 days");
        assert_eq!(s.timescaledb.chunk_time_interval.to_string(), "1 day");
        assert_eq!(s.listen_addr.to_string(), "127.0.0.1:3000");
    }

    #[test]
    fn the_default_policy_is_the_one_the_engine_calls_the_seed() {
        assert_eq!(load_env(&[]).unwrap().timescaledb, Policy::seed());
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
        assert_eq!(
            tsdb::policy::CompressAfter(s.timescaledb.compression_after).to_string(),
            "3 days"
        );
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
    fn every_setting_is_declared_once_and_documented() {
        let mut envs: Vec<&str> = settings_table().map(|s| s.env).collect();
        let mut keys: Vec<String> = settings_table()
            .map(|s| format!("{}.{}", s.section, s.key))
            .collect();
        let count = envs.len();
        envs.sort_unstable();
        envs.dedup();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!((envs.len(), keys.len()), (count, count));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for document in ["README.md", "env.example"] {
            let text = std::fs::read_to_string(root.join(document)).unwrap();
            for setting in settings_table() {
                assert!(
                    text.contains(setting.env),
                    "{document} does not mention {}",
                    setting.env
                );
            }
        }
        // config check shows one line per setting.
        assert_eq!(load_env(&[]).unwrap().describe().len(), count);
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
