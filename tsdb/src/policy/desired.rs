//! The desired policy of a hypertable: the configured defaults, overridden by the
//! configuration file's section for the table, overridden by what admins saved in the
//! console. And whether the console manages the table at all: only when someone said so
//! (a console mark, a configured table, or a configured pattern); the console never puts
//! a retention on a table nobody asked it to manage.

use super::{HypertableName, Policy, PolicyOverride};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A `schema.table` pattern; `*` in either part matches any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePattern {
    schema: String,
    table: String,
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

impl TablePattern {
    /// Whether `name` matches.
    pub fn matches(&self, name: &HypertableName) -> bool {
        glob(&self.schema, &name.schema) && glob(&self.table, &name.table)
    }
}

impl FromStr for TablePattern {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let accepted = "schema.table patterns separated by commas, `*` matching anything, such as \"factory_telemetry.*\"";
        match raw.trim().split_once('.') {
            Some((schema, table)) if !schema.is_empty() && !table.is_empty() => Ok(Self {
                schema: schema.to_string(),
                table: table.to_string(),
            }),
            _ => Err(accepted.into()),
        }
    }
}

impl fmt::Display for TablePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// Comma-separated patterns; `none` or nothing for none.
pub fn parse_patterns(raw: &str) -> Result<Vec<TablePattern>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "none" => Ok(Vec::new()),
        _ => raw.split(',').map(str::parse).collect(),
    }
}

/// What an admin saved in the console for one hypertable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// The hypertable.
    pub name: HypertableName,
    /// Managed or not, when an admin said so; `None` follows the configuration.
    pub managed: Option<bool>,
    /// The keys the admin set.
    pub overrides: PolicyOverride,
    /// When it was saved.
    pub updated_at: DateTime<Utc>,
    /// Who saved it.
    pub updated_by: String,
}

/// Where the configured part of desired policies comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySource {
    /// The defaults (`TIMESCALEDB_*`).
    pub defaults: Policy,
    /// The configuration file's per-table sections, keyed `schema.table`.
    pub tables: BTreeMap<String, PolicyOverride>,
    /// Tables managed by pattern (`TIMESCALEDB_MANAGED_TABLES`).
    pub managed_patterns: Vec<TablePattern>,
    /// The console's own hypertables and their policies (the storage history), managed
    /// unless the file or an admin says otherwise.
    #[serde(default)]
    pub builtin: BTreeMap<String, PolicyOverride>,
}

/// Why a table is managed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Managed {
    /// An admin marked it in the console.
    Console {
        /// Managed or not.
        managed: bool,
    },
    /// The configuration file has a section for it.
    ConfigTable,
    /// One of the console's own tables.
    Builtin,
    /// It matches a configured pattern.
    Pattern {
        /// The pattern.
        pattern: String,
    },
    /// Nobody asked: the console leaves it alone.
    No,
}

impl Managed {
    /// Whether the console makes its live policies match.
    pub fn is_managed(&self) -> bool {
        match self {
            Managed::Console { managed } => *managed,
            Managed::ConfigTable | Managed::Builtin | Managed::Pattern { .. } => true,
            Managed::No => false,
        }
    }

    /// In words, for the policies page.
    pub fn describe(&self) -> String {
        match self {
            Managed::Console { managed: true } => "managed (set in the console)".into(),
            Managed::Console { managed: false } => "unmanaged (set in the console)".into(),
            Managed::ConfigTable => "managed (configuration file)".into(),
            Managed::Builtin => "managed (the console's own table)".into(),
            Managed::Pattern { pattern } => format!("managed (matches {pattern})"),
            Managed::No => "unmanaged".into(),
        }
    }
}

/// A hypertable's desired policy and whether it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    /// The hypertable.
    pub name: HypertableName,
    /// Whether (and why) the console manages it.
    pub managed: Managed,
    /// Defaults, then the file's section, then the console's edits.
    pub policy: Policy,
    /// The console's saved edit, if any.
    pub stored: Option<StoredPolicy>,
}

impl PolicySource {
    /// The desired policy of `name`, with what the console stored for it.
    pub fn desired(&self, name: &HypertableName, stored: &[StoredPolicy]) -> Desired {
        let config = self.tables.get(&name.to_string());
        let builtin = self.builtin.get(&name.to_string());
        let stored = stored.iter().find(|s| &s.name == name).cloned();
        let managed = match (&stored, config) {
            (
                Some(StoredPolicy {
                    managed: Some(managed),
                    ..
                }),
                _,
            ) => Managed::Console { managed: *managed },
            (_, Some(_)) => Managed::ConfigTable,
            _ if builtin.is_some() => Managed::Builtin,
            _ => match self.managed_patterns.iter().find(|p| p.matches(name)) {
                Some(pattern) => Managed::Pattern {
                    pattern: pattern.to_string(),
                },
                None => Managed::No,
            },
        };
        let mut policy = self.defaults.clone();
        if let Some(builtin) = builtin {
            policy = builtin.over(&policy);
        }
        if let Some(config) = config {
            policy = config.over(&policy);
        }
        if let Some(stored) = &stored {
            policy = stored.overrides.over(&policy);
        }
        Desired {
            name: name.clone(),
            managed,
            policy,
            stored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyAge;

    fn source() -> PolicySource {
        let mut tables = BTreeMap::new();
        let mut over = PolicyOverride::default();
        over.set("retention_policy", "180 days").unwrap();
        tables.insert("factory_telemetry.metric_hist".to_string(), over);
        PolicySource {
            defaults: Policy::seed(),
            tables,
            managed_patterns: parse_patterns("factory_*.energy*").unwrap(),
            builtin: Default::default(),
        }
    }

    #[test]
    fn only_tables_someone_asked_for_are_managed() {
        let source = source();
        let metric = HypertableName::new("factory_telemetry", "metric_hist");
        let energy = HypertableName::new("factory_telemetry", "energy_consumption");
        let other = HypertableName::new("public", "readings");
        assert_eq!(source.desired(&metric, &[]).managed, Managed::ConfigTable);
        assert!(source.desired(&energy, &[]).managed.is_managed());
        assert_eq!(source.desired(&other, &[]).managed, Managed::No);
        let stored = StoredPolicy {
            name: other.clone(),
            managed: Some(true),
            overrides: PolicyOverride {
                retention: Some(None),
                ..Default::default()
            },
            updated_at: Utc::now(),
            updated_by: "ada".into(),
        };
        let desired = source.desired(&other, &[stored]);
        assert_eq!(desired.managed, Managed::Console { managed: true });
        assert_eq!(desired.policy.retention, None);
    }

    #[test]
    fn the_console_overrides_the_file_which_overrides_the_defaults() {
        let source = source();
        let metric = HypertableName::new("factory_telemetry", "metric_hist");
        assert_eq!(
            source.desired(&metric, &[]).policy.retention,
            Some("180 days".parse::<PolicyAge>().unwrap())
        );
        let mut overrides = PolicyOverride::default();
        overrides.set("retention_policy", "30 days").unwrap();
        let stored = StoredPolicy {
            name: metric.clone(),
            managed: None,
            overrides,
            updated_at: Utc::now(),
            updated_by: "ada".into(),
        };
        let desired = source.desired(&metric, &[stored]);
        assert_eq!(desired.policy.retention.unwrap().to_string(), "30 days");
        assert_eq!(desired.managed, Managed::ConfigTable);
    }

    #[test]
    fn patterns_glob_each_part() {
        let pattern: TablePattern = "factory_*.*_hist".parse().unwrap();
        assert!(pattern.matches(&HypertableName::new("factory_telemetry", "metric_hist")));
        assert!(!pattern.matches(&HypertableName::new("factory_telemetry", "metric_hourly")));
        assert!(parse_patterns("none").unwrap().is_empty());
        assert!(parse_patterns("metric_hist").is_err());
    }
}
