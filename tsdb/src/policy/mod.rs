//! Data-lifecycle policies as the console means them: compression on or off, compress
//! after, retention, chunk interval, segment-by / order-by and the jobs' schedule.
//!
//! Compiled for wasm32 as well: the configuration, the policy forms in the browser and
//! the reconciler read and validate a policy through these types and parsers, so a value
//! is refused with the same words wherever it is typed.

mod age;
#[cfg(feature = "db")]
pub mod apply;
pub mod desired;
pub mod dry_run;
pub mod guard;
#[cfg(feature = "db")]
pub mod hazards;
pub mod live;
mod parse;
pub mod plan;
pub mod report;
pub mod statement;
#[cfg(feature = "db")]
pub mod store;
pub mod target;
pub mod validate;

pub use age::{PolicyAge, TimeKind, AGE_FORM};
pub use parse::{
    parse_bool, parse_columns, parse_compress_after, parse_order_by, parse_refresh,
    parse_retention, HypertableName,
};

use crate::interval::PolicyInterval;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Reads the live state and the console's stored edits and plans every hypertable and
/// continuous aggregate.
#[cfg(feature = "db")]
pub async fn plan_now(
    pool: &sqlx::PgPool,
    capabilities: &crate::capabilities::Capabilities,
    source: &desired::PolicySource,
) -> crate::Result<(live::LiveState, plan::Plan)> {
    let mut conn = pool.acquire().await?;
    apply::plan_intent(
        &mut conn,
        capabilities,
        &apply::Intent::Reconcile { source, only: None },
    )
    .await
}

/// A whole lifecycle policy: what one hypertable should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Whether chunks are compressed.
    pub compression_enabled: bool,
    /// Age after which the compression policy compresses chunks; `None`: no compression
    /// policy (compression stays possible by hand).
    pub compression_after: Option<PolicyAge>,
    /// Age after which chunks are dropped; `None` keeps data forever.
    pub retention: Option<PolicyAge>,
    /// Time span of one chunk.
    pub chunk_time_interval: PolicyAge,
    /// Compression segment-by columns; empty lets TimescaleDB choose.
    pub segment_by: Vec<String>,
    /// Compression order-by items (`ts DESC`); empty lets TimescaleDB choose.
    pub order_by: Vec<String>,
    /// How often the policy jobs run, unless one has its own schedule below.
    pub schedule_interval: PolicyInterval,
    /// How often the compression job runs; `None` follows `schedule_interval`.
    #[serde(default)]
    pub compression_schedule: Option<PolicyInterval>,
    /// How often the retention job runs; `None` follows `schedule_interval`.
    #[serde(default)]
    pub retention_schedule: Option<PolicyInterval>,
    /// A continuous aggregate's refresh policies; `None` leaves them as they are (and
    /// is all a hypertable ever has).
    #[serde(default)]
    pub refresh: Option<Vec<target::RefreshTarget>>,
}

impl Policy {
    /// The seed's policy (the MS5.0 backend's TimescaleDB settings): compression after
    /// 7 days, retention 90 days, 1-day chunks, jobs every 12 hours.
    pub fn seed() -> Policy {
        let interval = |text: &str| text.parse::<PolicyInterval>().expect("a valid interval");
        Policy {
            compression_enabled: true,
            compression_after: Some(PolicyAge::Interval(interval("7 days"))),
            retention: Some(PolicyAge::Interval(interval("90 days"))),
            chunk_time_interval: PolicyAge::Interval(interval("1 day")),
            segment_by: Vec::new(),
            order_by: Vec::new(),
            schedule_interval: interval("12 hours"),
            compression_schedule: None,
            retention_schedule: None,
            refresh: None,
        }
    }

    /// How often the compression job runs.
    pub fn compression_every(&self) -> PolicyInterval {
        self.compression_schedule.unwrap_or(self.schedule_interval)
    }

    /// How often the retention job runs.
    pub fn retention_every(&self) -> PolicyInterval {
        self.retention_schedule.unwrap_or(self.schedule_interval)
    }
}

/// Why a policy contradicts itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyProblem {
    /// Chunks would be dropped before they are old enough to compress.
    RetentionNotAfterCompression,
    /// Intervals and integers mixed: a hypertable's time column is one kind or the other.
    MixedTimeKinds,
}

impl Policy {
    /// The contradictions in this policy, if any.
    pub fn problems(&self) -> Vec<PolicyProblem> {
        let mut problems = Vec::new();
        let kind = self.chunk_time_interval.kind();
        let ages = [self.compression_after, self.retention];
        if ages.iter().flatten().any(|age| age.kind() != kind) {
            problems.push(PolicyProblem::MixedTimeKinds);
            return problems;
        }
        if let (Some(retention), Some(after)) = (self.retention, self.compression_after) {
            if self.compression_enabled && retention.magnitude() <= after.magnitude() {
                problems.push(PolicyProblem::RetentionNotAfterCompression);
            }
        }
        problems
    }

    /// The time-column kind the policy's values fit.
    pub fn time_kind(&self) -> TimeKind {
        self.chunk_time_interval.kind()
    }
}

/// The settings a per-hypertable override may give; the rest come from the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PolicyOverride {
    /// Whether chunks are compressed.
    pub compression_enabled: Option<bool>,
    /// Age after which chunks are compressed; `Some(None)`: no compression policy. Stored
    /// as `"none"` (`null` meant "not set" before that choice existed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "none_as_text"
    )]
    pub compression_after: Option<Option<PolicyAge>>,
    /// Age after which chunks are dropped; `Some(None)` keeps data forever.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "set_or_none")]
    pub retention: Option<Option<PolicyAge>>,
    /// Time span of one chunk.
    pub chunk_time_interval: Option<PolicyAge>,
    /// Compression segment-by columns.
    pub segment_by: Option<Vec<String>>,
    /// Compression order-by items (`ts DESC`).
    pub order_by: Option<Vec<String>>,
    /// How often the policy jobs run.
    pub schedule_interval: Option<PolicyInterval>,
    /// How often the compression job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_schedule: Option<PolicyInterval>,
    /// How often the retention job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_schedule: Option<PolicyInterval>,
    /// A continuous aggregate's refresh policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Vec<target::RefreshTarget>>,
}

/// JSON for a setting that may be unset (key absent), set to "none" (`null`) or set to a
/// value: serde's default would read `null` back as unset, losing "keep forever".
mod set_or_none {
    use super::PolicyAge;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Option<PolicyAge>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<PolicyAge>>, D::Error> {
        Option::<PolicyAge>::deserialize(deserializer).map(Some)
    }
}

/// JSON for a setting that may be unset (absent or `null`), set to none (`"none"`) or to
/// a value; for keys whose `null` already meant "unset" in stored rows.
mod none_as_text {
    use super::PolicyAge;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Option<PolicyAge>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(Some(age)) => serializer.serialize_str(&age.to_string()),
            Some(None) => serializer.serialize_str("none"),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<PolicyAge>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) if text == "none" => Ok(Some(None)),
            Some(text) => text
                .parse()
                .map(|age| Some(Some(age)))
                .map_err(serde::de::Error::custom),
        }
    }
}

/// What an admin saves for one hypertable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEdit {
    /// Managed or not; `None` follows the configuration.
    pub managed: Option<bool>,
    /// The keys set; the rest follow the configuration.
    pub overrides: PolicyOverride,
}

/// The keys of an override, as configuration files and forms name them.
pub const OVERRIDE_KEYS: &[&str] = &[
    "compression_enabled",
    "compression_after",
    "retention_policy",
    "chunk_time_interval",
    "segment_by",
    "order_by",
    "schedule_interval",
    "compression_schedule",
    "retention_schedule",
    "refresh",
];

impl PolicyOverride {
    /// Sets `key` from its text; the error is the accepted form ("expected …" follows).
    pub fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
        match key {
            "compression_enabled" => self.compression_enabled = Some(parse_bool(raw)?),
            "compression_after" => self.compression_after = Some(parse_compress_after(raw)?),
            "retention_policy" => self.retention = Some(parse_retention(raw)?),
            "chunk_time_interval" => self.chunk_time_interval = Some(raw.parse()?),
            "segment_by" => self.segment_by = Some(parse_columns(raw)?),
            "order_by" => self.order_by = Some(parse_order_by(raw)?),
            "schedule_interval" => self.schedule_interval = Some(parse_interval(raw)?),
            "compression_schedule" => self.compression_schedule = Some(parse_interval(raw)?),
            "retention_schedule" => self.retention_schedule = Some(parse_interval(raw)?),
            "refresh" => self.refresh = Some(parse_refresh(raw)?),
            _ => return Err(format!("one of {}", OVERRIDE_KEYS.join(", "))),
        }
        Ok(())
    }

    /// The policy `base` becomes with this override on top.
    pub fn over(&self, base: &Policy) -> Policy {
        Policy {
            compression_enabled: self.compression_enabled.unwrap_or(base.compression_enabled),
            compression_after: self.compression_after.unwrap_or(base.compression_after),
            retention: self.retention.unwrap_or(base.retention),
            chunk_time_interval: self.chunk_time_interval.unwrap_or(base.chunk_time_interval),
            segment_by: self
                .segment_by
                .clone()
                .unwrap_or_else(|| base.segment_by.clone()),
            order_by: self
                .order_by
                .clone()
                .unwrap_or_else(|| base.order_by.clone()),
            schedule_interval: self.schedule_interval.unwrap_or(base.schedule_interval),
            compression_schedule: self.compression_schedule.or(base.compression_schedule),
            retention_schedule: self.retention_schedule.or(base.retention_schedule),
            refresh: self.refresh.clone().or_else(|| base.refresh.clone()),
        }
    }

    /// The keys this override sets, with their values as text.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let mut set = Vec::new();
        if let Some(v) = self.compression_enabled {
            set.push(("compression_enabled", v.to_string()));
        }
        if let Some(v) = self.compression_after {
            set.push(("compression_after", CompressAfter(v).to_string()));
        }
        if let Some(v) = self.retention {
            set.push(("retention_policy", Retention(v).to_string()));
        }
        if let Some(v) = self.chunk_time_interval {
            set.push(("chunk_time_interval", v.to_string()));
        }
        if let Some(v) = &self.segment_by {
            set.push(("segment_by", Columns(v).to_string()));
        }
        if let Some(v) = &self.order_by {
            set.push(("order_by", Columns(v).to_string()));
        }
        if let Some(v) = self.schedule_interval {
            set.push(("schedule_interval", v.to_string()));
        }
        if let Some(v) = self.compression_schedule {
            set.push(("compression_schedule", v.to_string()));
        }
        if let Some(v) = self.retention_schedule {
            set.push(("retention_schedule", v.to_string()));
        }
        if let Some(v) = &self.refresh {
            set.push(("refresh", RefreshList(v).to_string()));
        }
        set
    }
}

/// An interval such as `12 hours` (job schedules are always intervals).
pub fn parse_interval(raw: &str) -> Result<PolicyInterval, String> {
    raw.parse::<PolicyInterval>()
        .map_err(|e| e.to_string().trim_start_matches("expected ").to_string())
}

/// A retention as people read it: the interval, or that data is kept forever.
#[derive(Debug, Clone, Copy)]
pub struct Retention(pub Option<PolicyAge>);

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(interval) => interval.fmt(f),
            None => f.write_str("none (keep forever)"),
        }
    }
}

/// Refresh policies as people write them: `30 days to 1 hour every 1 hour`, separated by
/// `;`; `none` for an end of the window means the beginning (start) or now (end).
#[derive(Debug, Clone, Copy)]
pub struct RefreshList<'a>(pub &'a [target::RefreshTarget]);

impl fmt::Display for RefreshList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let offset = |o: Option<PolicyAge>| o.map_or_else(|| "none".to_string(), |o| o.to_string());
        let items: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                format!(
                    "{} to {} every {}",
                    offset(r.start_offset),
                    offset(r.end_offset),
                    r.schedule
                )
            })
            .collect();
        f.write_str(&items.join("; "))
    }
}

/// A compress-after as people read it: the age, or that no policy compresses.
#[derive(Debug, Clone, Copy)]
pub struct CompressAfter(pub Option<PolicyAge>);

impl fmt::Display for CompressAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(age) => age.fmt(f),
            None => f.write_str("none (no compression policy)"),
        }
    }
}

/// Segment-by or order-by items as people read them; empty means TimescaleDB chooses.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a>(pub &'a [String]);

impl fmt::Display for Columns<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(TimescaleDB default)")
        } else {
            f.write_str(&self.0.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Policy {
        Policy::seed()
    }

    #[test]
    fn an_override_replaces_only_what_it_sets() {
        let mut over = PolicyOverride::default();
        over.set("retention_policy", "none").unwrap();
        over.set("order_by", "ts desc").unwrap();
        let policy = over.over(&seed());
        assert_eq!(policy.retention, None);
        assert_eq!(policy.order_by, ["ts DESC"]);
        assert_eq!(
            CompressAfter(policy.compression_after).to_string(),
            "7 days"
        );
        assert_eq!(
            over.describe(),
            [
                ("retention_policy", "none (keep forever)".to_string()),
                ("order_by", "ts DESC".to_string())
            ]
        );
        let refused = over.set("retention", "90 days").unwrap_err();
        assert!(
            refused.starts_with("one of compression_enabled"),
            "{refused}"
        );
    }

    #[test]
    fn keep_forever_survives_storage() {
        let mut over = PolicyOverride::default();
        over.set("retention_policy", "none").unwrap();
        let json = serde_json::to_string(&over).unwrap();
        assert_eq!(serde_json::from_str::<PolicyOverride>(&json).unwrap(), over);
        let unset = serde_json::to_string(&PolicyOverride::default()).unwrap();
        assert_eq!(
            unset,
            r#"{"compression_enabled":null,"chunk_time_interval":null,"segment_by":null,"order_by":null,"schedule_interval":null}"#
        );
        assert_eq!(
            serde_json::from_str::<PolicyOverride>(&unset)
                .unwrap()
                .retention,
            None
        );
        // Rows stored before "no compression policy" existed wrote `null` for "not set".
        let old = r#"{"compression_enabled":null,"compression_after":null,"chunk_time_interval":null,"segment_by":null,"order_by":null,"schedule_interval":null}"#;
        assert_eq!(
            serde_json::from_str::<PolicyOverride>(old).unwrap(),
            PolicyOverride::default()
        );
        let mut manual = PolicyOverride::default();
        manual.set("compression_after", "none").unwrap();
        let json = serde_json::to_string(&manual).unwrap();
        assert!(json.contains(r#""compression_after":"none""#), "{json}");
        assert_eq!(
            serde_json::from_str::<PolicyOverride>(&json).unwrap(),
            manual
        );
    }

    #[test]
    fn retention_must_outlast_compression() {
        let mut policy = seed();
        assert!(policy.problems().is_empty());
        policy.retention = Some("7 days".parse().unwrap());
        assert_eq!(
            policy.problems(),
            [PolicyProblem::RetentionNotAfterCompression]
        );
        policy.compression_enabled = false;
        assert!(policy.problems().is_empty());
        policy.retention = Some(PolicyAge::Integer(1000));
        assert_eq!(policy.problems(), [PolicyProblem::MixedTimeKinds]);
    }
}
