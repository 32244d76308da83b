//! The desired policy of a hypertable: the configured defaults, overridden by the
//! configuration file's section for the table, overridden by what admins saved in the
//! console. And whether the console manages the table at all: only when someone said so
//! (a console mark, a configured table, or a configured pattern); the console never puts
//! a retention on a table nobody asked it to manage.
//!
//! A continuous aggregate is managed only when an admin marks it (or the file names it):
//! patterns and defaults are for hypertables, and an aggregate's history is often kept
//! longer than its source's. Taking a relation under management in the console adopts
//! what is live ([`adopt`]), so nothing changes until the admin changes something.

use super::live::{LiveRefresh, LiveState, LiveTable};
use super::target::{JobAge, Target};
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

/// What a policy is set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A hypertable.
    #[default]
    Hypertable,
    /// A continuous aggregate (its view).
    Aggregate,
}

impl ObjectKind {
    /// In words.
    pub fn word(self) -> &'static str {
        match self {
            ObjectKind::Hypertable => "hypertable",
            ObjectKind::Aggregate => "continuous aggregate",
        }
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
    /// The hypertable (or aggregate).
    pub name: HypertableName,
    /// Which of the two it is.
    #[serde(default)]
    pub kind: ObjectKind,
    /// Whether (and why) the console manages it.
    pub managed: Managed,
    /// Defaults, then the file's section, then the console's edits.
    pub policy: Policy,
    /// The console's saved edit, if any.
    pub stored: Option<StoredPolicy>,
}

impl PolicySource {
    /// The desired policy of hypertable `name`, with what the console stored for it.
    pub fn desired(&self, name: &HypertableName, stored: &[StoredPolicy]) -> Desired {
        self.desired_of(name, ObjectKind::Hypertable, stored)
    }

    /// The policy an edit of `name` overrides: the defaults, the console's own tables'
    /// policy and the file's section; for an aggregate, nothing but what the file names
    /// (no compression or retention policy of its own, its refresh as it is).
    pub fn base(&self, name: &HypertableName, kind: ObjectKind) -> Policy {
        let key = name.to_string();
        let mut policy = match kind {
            ObjectKind::Hypertable => self.defaults.clone(),
            ObjectKind::Aggregate => Policy {
                compression_enabled: false,
                compression_after: None,
                retention: None,
                ..self.defaults.clone()
            },
        };
        if kind == ObjectKind::Hypertable {
            if let Some(builtin) = self.builtin.get(&key) {
                policy = builtin.over(&policy);
            }
        }
        if let Some(config) = self.tables.get(&key) {
            policy = config.over(&policy);
        }
        policy
    }

    /// The desired policy of `name`, a relation of `kind`, with what the console stored.
    pub fn desired_of(
        &self,
        name: &HypertableName,
        kind: ObjectKind,
        stored: &[StoredPolicy],
    ) -> Desired {
        let key = name.to_string();
        let config = self.tables.get(&key);
        let builtin = self
            .builtin
            .get(&key)
            .filter(|_| kind == ObjectKind::Hypertable);
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
            _ if kind == ObjectKind::Aggregate => Managed::No,
            _ => match self.managed_patterns.iter().find(|p| p.matches(name)) {
                Some(pattern) => Managed::Pattern {
                    pattern: pattern.to_string(),
                },
                None => Managed::No,
            },
        };
        let mut policy = self.base(name, kind);
        if let Some(stored) = &stored {
            policy = stored.overrides.over(&policy);
        }
        Desired {
            name: name.clone(),
            kind,
            managed,
            policy,
            stored,
        }
    }

    /// Every relation of `live` with its desired policy. An unmanaged one shows what
    /// taking it under management would keep: its live state.
    pub fn desired_all(&self, live: &LiveState, stored: &[StoredPolicy]) -> Vec<Desired> {
        let tables = live
            .tables
            .iter()
            .map(|t| (t, ObjectKind::Hypertable, None));
        let caggs = live.caggs.iter().map(|c| {
            (
                &c.policies,
                ObjectKind::Aggregate,
                Some(c.refresh.as_slice()),
            )
        });
        tables
            .chain(caggs)
            .map(|(table, kind, refresh)| {
                let mut desired = self.desired_of(&table.name, kind, stored);
                if !desired.managed.is_managed() {
                    let base = self.base(&table.name, kind);
                    let mut adopted = adopt(table, refresh).overrides;
                    if let Some(stored) = &desired.stored {
                        adopted = merge(&stored.overrides, &adopted);
                    }
                    desired.policy = adopted.over(&base);
                }
                desired
            })
            .collect()
    }
}

/// What taking a relation under management keeps: every live value that a policy can
/// hold, exactly, as an override; and a note for each value it cannot (a creation-time
/// retention, an interval mixing months and days), which the plan would then change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    /// The live values as overrides.
    pub overrides: PolicyOverride,
    /// What could not be kept, in words.
    pub notes: Vec<String>,
}

/// The live state of `table` (and an aggregate's refresh policies) as overrides.
pub fn adopt(table: &LiveTable, refresh: Option<&[LiveRefresh]>) -> Adopted {
    let (target, notes) = Target::from_live(table, refresh);
    let mut notes: Vec<String> = notes
        .into_iter()
        .map(|n| format!("{n}: the configured value applies once it is managed"))
        .collect();
    let mut overrides = PolicyOverride {
        compression_enabled: Some(target.compression_enabled),
        chunk_time_interval: target.chunk_interval,
        segment_by: target.segment_by.clone(),
        order_by: target.order_by.clone(),
        refresh: target.refresh.clone(),
        ..PolicyOverride::default()
    };
    let mut job = |label: &str, wanted: Option<Option<super::target::JobTarget>>| match wanted {
        None => (None, None),
        Some(None) => (Some(None), None),
        Some(Some(job)) => match job.age {
            JobAge::After(after) => (Some(Some(after)), Some(job.schedule)),
            JobAge::CreatedBefore(before) => {
                notes.push(format!(
                    "the {label} job acts on chunks created before {before}; the console's policies use the data's age, so saving this table's {label} replaces that job"
                ));
                (None, Some(job.schedule))
            }
        },
    };
    let (compression_after, compression_schedule) = job("compression", target.compression_policy);
    let (retention, retention_schedule) = job("retention", target.retention_policy);
    overrides.compression_after = compression_after;
    overrides.retention = retention;
    overrides.compression_schedule = compression_schedule;
    overrides.retention_schedule = retention_schedule;
    Adopted { overrides, notes }
}

/// `over` with every key `base` sets and `over` does not.
pub fn merge(over: &PolicyOverride, base: &PolicyOverride) -> PolicyOverride {
    PolicyOverride {
        compression_enabled: over.compression_enabled.or(base.compression_enabled),
        compression_after: over.compression_after.or(base.compression_after),
        retention: over.retention.or(base.retention),
        chunk_time_interval: over.chunk_time_interval.or(base.chunk_time_interval),
        segment_by: over.segment_by.clone().or_else(|| base.segment_by.clone()),
        order_by: over.order_by.clone().or_else(|| base.order_by.clone()),
        schedule_interval: over.schedule_interval.or(base.schedule_interval),
        compression_schedule: over.compression_schedule.or(base.compression_schedule),
        retention_schedule: over.retention_schedule.or(base.retention_schedule),
        refresh: over.refresh.clone().or_else(|| base.refresh.clone()),
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
