//! The live policy state, as TimescaleDB reports it: per hypertable its time column and
//! chunk interval, compression settings, and its compression and retention policy jobs;
//! per continuous aggregate its refresh policies (several since 2.21) and its own
//! compression and retention. Read through the public `timescaledb_information` views
//! (stable from 2.13 to 2.29) and the compression settings the monitoring engine already
//! reads per version; jobs on an aggregate are found by its view's name (2.20 on) or its
//! materialized hypertable's (before).

use super::{HypertableName, PolicyAge, TimeKind};
use crate::interval::{postgres_interval_seconds, PolicyInterval};
use serde::{Deserialize, Serialize};

/// An age or interval as TimescaleDB stores it, with a magnitude to compare: seconds (for
/// intervals, months as 30 days) or the integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAge {
    /// As stored, e.g. `7 days`, `12:00:00` or `300000`.
    pub text: String,
    /// Comparable length; `None` when the stored text could not be read.
    pub magnitude: Option<i64>,
}

impl LiveAge {
    /// An interval as PostgreSQL prints it.
    pub fn interval(text: &str) -> Self {
        Self {
            text: text.to_string(),
            magnitude: postgres_interval_seconds(text),
        }
    }

    /// As people write it: `12 hours` rather than PostgreSQL's `12:00:00`; the stored text
    /// when it is not a clock time.
    pub fn human(&self) -> String {
        match self.magnitude {
            Some(seconds) if self.text.contains(':') && seconds > 0 => {
                let (amount, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
                    .into_iter()
                    .find(|(size, _)| seconds % size == 0)
                    .map(|(size, unit)| (seconds / size, unit))
                    .unwrap_or((seconds, "second"));
                format!("{amount} {unit}{}", if amount == 1 { "" } else { "s" })
            }
            _ => self.text.clone(),
        }
    }

    /// An integer age.
    pub fn integer(value: i64) -> Self {
        Self {
            text: value.to_string(),
            magnitude: Some(value),
        }
    }
}

impl LiveAge {
    /// The value as a policy value of `kind`, exactly, or `None` when it cannot be one
    /// (an interval mixing months and days, a fraction of a second, unreadable text).
    pub fn to_policy_age(&self, kind: TimeKind) -> Option<PolicyAge> {
        match kind {
            TimeKind::Time => PolicyInterval::from_postgres(&self.text).map(PolicyAge::Interval),
            TimeKind::Integer => self.magnitude.filter(|n| *n > 0).map(PolicyAge::Integer),
        }
    }

    /// The value as a schedule, exactly, or `None`.
    pub fn to_interval(&self) -> Option<PolicyInterval> {
        PolicyInterval::from_postgres(&self.text)
    }
}

/// A compression or retention policy job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveJob {
    /// The job's id.
    pub job_id: i32,
    /// `compress_after` / `drop_after`, when the policy is age-based.
    pub after: Option<LiveAge>,
    /// `compress_created_before` / `drop_created_before`, when creation-time based.
    pub created_before: Option<LiveAge>,
    /// How often it runs.
    pub schedule: LiveAge,
    /// Whether it is scheduled (an operator may have paused it).
    pub scheduled: bool,
}

/// One hypertable's live policy state (or a continuous aggregate's own compression and
/// retention, read from its materialized hypertable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTable {
    /// The hypertable (for an aggregate: its view).
    pub name: HypertableName,
    /// Its primary (time) dimension column.
    pub time_column: String,
    /// That column's type, e.g. `timestamp with time zone`.
    pub time_type: String,
    /// Whether policies are intervals or integers here.
    pub time_kind: TimeKind,
    /// The chunk interval.
    pub chunk_interval: Option<LiveAge>,
    /// Whether compression is enabled.
    pub compression_enabled: bool,
    /// Segment-by columns, unquoted.
    pub segment_by: Vec<String>,
    /// Order-by items, canonical (`ts DESC`).
    pub order_by: Vec<String>,
    /// Chunks compressed now.
    pub compressed_chunks: i64,
    /// The compression (columnstore) policy.
    pub compression_policy: Option<LiveJob>,
    /// The retention policy.
    pub retention_policy: Option<LiveJob>,
    /// The table's columns (for the segment-by / order-by choices).
    pub columns: Vec<String>,
}

#[cfg(test)]
impl LiveTable {
    /// A table partitioned by `ts` timestamps, without compression or policies (tests).
    pub(crate) fn bare(schema: &str, name: &str) -> LiveTable {
        LiveTable {
            name: HypertableName::new(schema, name),
            time_column: "ts".into(),
            time_type: "timestamp with time zone".into(),
            time_kind: TimeKind::Time,
            chunk_interval: None,
            compression_enabled: false,
            segment_by: vec![],
            order_by: vec![],
            compressed_chunks: 0,
            compression_policy: None,
            retention_policy: None,
            columns: vec![],
        }
    }
}

/// A continuous aggregate's refresh policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRefresh {
    /// The job's id.
    pub job_id: i32,
    /// How far back each refresh reaches; `None`: from the very beginning (`NULL`).
    pub start_offset: Option<LiveAge>,
    /// How close to now it stops; `None`: up to now (`NULL`).
    pub end_offset: Option<LiveAge>,
    /// How often it runs.
    pub schedule: LiveAge,
    /// Whether it is scheduled.
    pub scheduled: bool,
}

/// A continuous aggregate: its source, refresh policies and its own policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCagg {
    /// The aggregate's view.
    pub name: HypertableName,
    /// What it aggregates: a hypertable, or (hierarchical) another aggregate's view.
    pub source: HypertableName,
    /// Whether the source is another continuous aggregate.
    #[serde(default)]
    pub source_is_aggregate: bool,
    /// Its materialized hypertable (TimescaleDB before 2.20 names its jobs after it).
    pub materialization: HypertableName,
    /// Its refresh policies (several since TimescaleDB 2.21), by job id.
    pub refresh: Vec<LiveRefresh>,
    /// Its own compression and retention, with its time column and chunk interval.
    pub policies: LiveTable,
}

/// Everything live, at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    /// Every user hypertable, by name.
    pub tables: Vec<LiveTable>,
    /// Every continuous aggregate.
    pub caggs: Vec<LiveCagg>,
}

impl LiveState {
    /// One hypertable's state.
    pub fn table(&self, name: &HypertableName) -> Option<&LiveTable> {
        self.tables.iter().find(|t| &t.name == name)
    }

    /// One continuous aggregate.
    pub fn cagg(&self, name: &HypertableName) -> Option<&LiveCagg> {
        self.caggs.iter().find(|c| &c.name == name)
    }

    /// A hypertable's policies, or an aggregate's own.
    pub fn relation(&self, name: &HypertableName) -> Option<&LiveTable> {
        self.table(name)
            .or_else(|| self.cagg(name).map(|c| &c.policies))
    }

    /// The aggregates reading `source` directly.
    pub fn caggs_on<'a>(
        &'a self,
        source: &'a HypertableName,
    ) -> impl Iterator<Item = &'a LiveCagg> + 'a {
        self.caggs.iter().filter(move |c| &c.source == source)
    }
}

/// Splits TimescaleDB's comma-separated setting text into unquoted names.
#[cfg_attr(not(feature = "db"), allow(dead_code))] // read on the server only
fn names(text: Option<&str>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(unquote)
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

#[cfg_attr(not(feature = "db"), allow(dead_code))] // read on the server only
fn unquote(item: &str) -> String {
    let item = item.trim();
    match item.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => item.to_string(),
    }
}

/// An order-by item in canonical form: the column unquoted, `DESC` when descending, and
/// the nulls placement only when it is not the direction's default.
pub fn canonical_order_item(item: &str) -> String {
    let item = item.trim();
    // The column may be quoted and contain spaces: split it off first.
    let (column, rest) = if let Some(quoted) = item.strip_prefix('"') {
        let mut end = None;
        let bytes: Vec<char> = quoted.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == '"' {
                if bytes.get(i + 1) == Some(&'"') {
                    i += 2;
                    continue;
                }
                end = Some(i);
                break;
            }
            i += 1;
        }
        match end {
            Some(end) => {
                let inner: String = bytes[..end].iter().collect();
                let rest: String = bytes[end + 1..].iter().collect();
                (inner.replace("\"\"", "\""), rest)
            }
            None => (quoted.to_string(), String::new()),
        }
    } else {
        let mut words = item.splitn(2, char::is_whitespace);
        (
            words.next().unwrap_or_default().to_string(),
            words.next().unwrap_or_default().to_string(),
        )
    };
    let words: Vec<String> = rest
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let descending = words.iter().any(|w| w == "DESC");
    let nulls_first = match words.iter().position(|w| w == "NULLS") {
        Some(at) => words.get(at + 1).map(|w| w == "FIRST"),
        None => None,
    }
    .unwrap_or(descending);
    let mut canonical = column;
    if descending {
        canonical.push_str(" DESC");
    }
    if nulls_first != descending {
        canonical.push_str(if nulls_first {
            " NULLS FIRST"
        } else {
            " NULLS LAST"
        });
    }
    canonical
}

#[cfg(feature = "db")]
mod read {
    use super::*;
    use crate::capabilities::Capabilities;
    use crate::Result;
    use sqlx::PgConnection;
    use std::collections::HashMap;

    /// A hypertable, or an aggregate with its materialized hypertable.
    #[derive(sqlx::FromRow)]
    struct RelationRow {
        schema: String,
        name: String,
        ht_schema: String,
        ht_name: String,
        oid: i64,
        compression_enabled: bool,
        is_cagg: bool,
        time_column: Option<String>,
        time_type: Option<String>,
        time_interval: Option<String>,
        integer_interval: Option<i64>,
        columns: Vec<String>,
    }

    /// A row of the jobs query.
    #[derive(sqlx::FromRow)]
    struct JobRow {
        job_id: i32,
        proc_name: String,
        hypertable_schema: Option<String>,
        hypertable_name: Option<String>,
        schedule_interval: String,
        scheduled: bool,
        config: Option<String>,
    }

    impl JobRow {
        fn works_on(&self, schema: &str, name: &str) -> bool {
            self.hypertable_schema.as_deref() == Some(schema)
                && self.hypertable_name.as_deref() == Some(name)
        }
    }

    /// A job config value: a string interval or a JSON number.
    fn config_age(value: &serde_json::Value) -> Option<LiveAge> {
        match value {
            serde_json::Value::String(text) => Some(LiveAge::interval(text)),
            serde_json::Value::Number(n) => n.as_i64().map(LiveAge::integer),
            _ => None,
        }
    }

    fn config(job: &JobRow) -> serde_json::Value {
        job.config
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default()
    }

    fn live_job(job: &JobRow, after_key: &str, created_key: &str) -> LiveJob {
        let config = config(job);
        LiveJob {
            job_id: job.job_id,
            after: config.get(after_key).and_then(config_age),
            created_before: config.get(created_key).and_then(config_age),
            schedule: LiveAge::interval(&job.schedule_interval),
            scheduled: job.scheduled,
        }
    }

    #[derive(sqlx::FromRow)]
    struct CaggRow {
        view_schema: String,
        view_name: String,
        hypertable_schema: String,
        hypertable_name: String,
        mat_schema: String,
        mat_name: String,
    }

    /// Reads the live state of every hypertable and continuous aggregate, through
    /// TimescaleDB's public views only (their columns hold from 2.13 to 2.29).
    pub async fn read(conn: &mut PgConnection, capabilities: &Capabilities) -> Result<LiveState> {
        capabilities.require_timescaledb()?;
        let rows: Vec<RelationRow> = sqlx::query_as(
            "WITH rel AS (
                 SELECT h.hypertable_schema AS schema, h.hypertable_name AS name,
                        h.hypertable_schema AS ht_schema, h.hypertable_name AS ht_name,
                        h.compression_enabled, false AS is_cagg
                   FROM timescaledb_information.hypertables h
                 UNION ALL
                 SELECT c.view_schema, c.view_name,
                        c.materialization_hypertable_schema, c.materialization_hypertable_name,
                        c.compression_enabled, true
                   FROM timescaledb_information.continuous_aggregates c)
             SELECT rel.schema::text AS schema, rel.name::text AS name,
                    rel.ht_schema::text AS ht_schema, rel.ht_name::text AS ht_name,
                    format('%I.%I', rel.ht_schema, rel.ht_name)::regclass::oid::bigint AS oid,
                    rel.compression_enabled, rel.is_cagg,
                    d.column_name::text AS time_column, d.column_type::text AS time_type,
                    d.time_interval::text AS time_interval, d.integer_interval,
                    ARRAY(SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = format('%I.%I', rel.schema, rel.name)::regclass
                             AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum) AS columns
               FROM rel
               LEFT JOIN timescaledb_information.dimensions d
                      ON d.hypertable_schema = rel.ht_schema
                     AND d.hypertable_name = rel.ht_name
                     AND d.dimension_number = 1
              ORDER BY 1, 2",
        )
        .fetch_all(&mut *conn)
        .await?;
        let compressed: HashMap<(String, String), i64> =
            sqlx::query_as::<_, (String, String, i64)>(
                "SELECT hypertable_schema::text, hypertable_name::text, count(*)
                   FROM timescaledb_information.chunks
                  WHERE is_compressed
                  GROUP BY 1, 2",
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(schema, name, n)| ((schema, name), n))
            .collect();
        let settings: HashMap<i64, (Option<String>, Option<String>)> =
            sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(
                crate::monitoring::settings_query(capabilities),
            )
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(oid, segment_by, order_by)| (oid, (segment_by, order_by)))
            .collect();
        let jobs: Vec<JobRow> = sqlx::query_as(
            "SELECT job_id, proc_name::text AS proc_name,
                    hypertable_schema::text AS hypertable_schema,
                    hypertable_name::text AS hypertable_name,
                    schedule_interval::text AS schedule_interval, scheduled,
                    config::text AS config
               FROM timescaledb_information.jobs
              WHERE proc_name IN ('policy_compression', 'policy_retention',
                                  'policy_refresh_continuous_aggregate')
              ORDER BY job_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        // Before 2.20 a job on an aggregate names its materialized hypertable; after,
        // the view: a job belongs to a relation by either name.
        let job_for = |row: &RelationRow, proc: &str| {
            jobs.iter().find(|j| {
                j.proc_name == proc
                    && (j.works_on(&row.schema, &row.name)
                        || j.works_on(&row.ht_schema, &row.ht_name))
            })
        };
        let mut tables = Vec::new();
        let mut own: HashMap<HypertableName, LiveTable> = HashMap::new();
        for row in &rows {
            let (segment_by, order_by) = settings.get(&row.oid).cloned().unwrap_or_default();
            let time_kind = if row.time_interval.is_some() || row.integer_interval.is_none() {
                TimeKind::Time
            } else {
                TimeKind::Integer
            };
            let table = LiveTable {
                name: HypertableName::new(row.schema.clone(), row.name.clone()),
                time_column: row.time_column.clone().unwrap_or_default(),
                time_type: row.time_type.clone().unwrap_or_default(),
                time_kind,
                chunk_interval: match (&row.time_interval, row.integer_interval) {
                    (Some(text), _) => Some(LiveAge::interval(text)),
                    (None, Some(n)) => Some(LiveAge::integer(n)),
                    (None, None) => None,
                },
                compression_enabled: row.compression_enabled,
                segment_by: names(segment_by.as_deref()),
                order_by: order_by
                    .as_deref()
                    .map(|t| {
                        split_order_by(t)
                            .iter()
                            .map(|i| canonical_order_item(i))
                            .collect()
                    })
                    .unwrap_or_default(),
                compressed_chunks: compressed
                    .get(&(row.ht_schema.clone(), row.ht_name.clone()))
                    .copied()
                    .unwrap_or(0),
                compression_policy: job_for(row, "policy_compression")
                    .map(|j| live_job(j, "compress_after", "compress_created_before")),
                retention_policy: job_for(row, "policy_retention")
                    .map(|j| live_job(j, "drop_after", "drop_created_before")),
                columns: row.columns.clone(),
            };
            if row.is_cagg {
                own.insert(table.name.clone(), table);
            } else {
                tables.push(table);
            }
        }
        let cagg_rows: Vec<CaggRow> = sqlx::query_as(
            "SELECT view_schema::text AS view_schema, view_name::text AS view_name,
                    hypertable_schema::text AS hypertable_schema,
                    hypertable_name::text AS hypertable_name,
                    materialization_hypertable_schema::text AS mat_schema,
                    materialization_hypertable_name::text AS mat_name
               FROM timescaledb_information.continuous_aggregates
              ORDER BY 1, 2",
        )
        .fetch_all(&mut *conn)
        .await?;
        let caggs = cagg_rows
            .iter()
            .filter_map(|row| {
                let name = HypertableName::new(row.view_schema.clone(), row.view_name.clone());
                let policies = own.remove(&name)?;
                // An aggregate on an aggregate reads the lower one's materialized hypertable.
                let parent = cagg_rows.iter().find(|p| {
                    p.mat_schema == row.hypertable_schema && p.mat_name == row.hypertable_name
                });
                let source = match parent {
                    Some(p) => HypertableName::new(p.view_schema.clone(), p.view_name.clone()),
                    None => HypertableName::new(
                        row.hypertable_schema.clone(),
                        row.hypertable_name.clone(),
                    ),
                };
                let refresh = jobs
                    .iter()
                    .filter(|j| {
                        j.proc_name == "policy_refresh_continuous_aggregate"
                            && (j.works_on(&row.view_schema, &row.view_name)
                                || j.works_on(&row.mat_schema, &row.mat_name))
                    })
                    .map(|job| {
                        let config = config(job);
                        LiveRefresh {
                            job_id: job.job_id,
                            start_offset: config.get("start_offset").and_then(config_age),
                            end_offset: config.get("end_offset").and_then(config_age),
                            schedule: LiveAge::interval(&job.schedule_interval),
                            scheduled: job.scheduled,
                        }
                    })
                    .collect();
                Some(LiveCagg {
                    name,
                    source,
                    source_is_aggregate: parent.is_some(),
                    materialization: HypertableName::new(
                        row.mat_schema.clone(),
                        row.mat_name.clone(),
                    ),
                    refresh,
                    policies,
                })
            })
            .collect();
        Ok(LiveState { tables, caggs })
    }
}

#[cfg(feature = "db")]
pub use read::read;

/// Splits order-by text at the commas that are not inside quotes.
#[cfg_attr(not(feature = "db"), allow(dead_code))] // read on the server only
fn split_order_by(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        items.push(current);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_items_compare_in_one_form() {
        assert_eq!(canonical_order_item("ts DESC"), "ts DESC");
        assert_eq!(canonical_order_item("ts desc nulls first"), "ts DESC");
        assert_eq!(canonical_order_item("ts ASC NULLS LAST"), "ts");
        assert_eq!(canonical_order_item("ts NULLS FIRST"), "ts NULLS FIRST");
        assert_eq!(canonical_order_item("\"Time\" DESC"), "Time DESC");
        assert_eq!(
            canonical_order_item("\"odd \"\"col\"\"\" DESC NULLS LAST"),
            "odd \"col\" DESC NULLS LAST"
        );
        assert_eq!(
            split_order_by("\"a,b\" DESC, c"),
            vec!["\"a,b\" DESC".to_string(), " c".to_string()]
        );
    }

    #[test]
    fn clock_times_read_as_people_write_them() {
        assert_eq!(LiveAge::interval("12:00:00").human(), "12 hours");
        assert_eq!(LiveAge::interval("1 day").human(), "1 day");
        assert_eq!(LiveAge::interval("00:30:00").human(), "30 minutes");
        assert_eq!(LiveAge::integer(300_000).human(), "300000");
    }

    #[test]
    fn setting_names_are_unquoted() {
        assert_eq!(
            names(Some("equipment_id, \"Metric Name\"")),
            ["equipment_id", "Metric Name"]
        );
        assert!(names(None).is_empty());
    }
}
