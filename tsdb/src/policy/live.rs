//! The live policy state, as TimescaleDB reports it: per hypertable its time column and
//! chunk interval, compression settings, and its compression and retention policy jobs;
//! per continuous aggregate its refresh policy. Read through the public
//! `timescaledb_information` views (stable from 2.13 to 2.29) and the compression settings
//! the monitoring engine already reads per version.

use super::{HypertableName, TimeKind};
use crate::interval::postgres_interval_seconds;
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

/// One hypertable's live policy state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTable {
    /// The hypertable.
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

/// A continuous aggregate's refresh policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRefresh {
    /// The job's id.
    pub job_id: i32,
    /// How far back each refresh reaches.
    pub start_offset: Option<LiveAge>,
    /// How close to now it stops.
    pub end_offset: Option<LiveAge>,
    /// How often it runs.
    pub schedule: LiveAge,
    /// Whether it is scheduled.
    pub scheduled: bool,
}

/// A continuous aggregate with its source and refresh policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCagg {
    /// The aggregate's view.
    pub name: HypertableName,
    /// The hypertable it aggregates.
    pub source: HypertableName,
    /// Its refresh policy, if any.
    pub refresh: Option<LiveRefresh>,
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
    use sqlx::PgPool;
    use std::collections::HashMap;

    #[derive(sqlx::FromRow)]
    struct TableRow {
        schema: String,
        name: String,
        oid: i64,
        compression_enabled: bool,
        time_column: Option<String>,
        time_type: Option<String>,
        time_interval: Option<String>,
        integer_interval: Option<i64>,
        compressed_chunks: i64,
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
    }

    /// Reads the live state of every hypertable and continuous aggregate.
    pub async fn read(pool: &PgPool, capabilities: &Capabilities) -> Result<LiveState> {
        capabilities.require_timescaledb()?;
        // Compressed chunks counted from the catalog's status bit (the chunks view sizes
        // every chunk); a dropped chunk's row (kept before 2.26) has no relation.
        let rows: Vec<TableRow> = sqlx::query_as(
            "SELECT h.hypertable_schema::text AS schema, h.hypertable_name::text AS name,
                    format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass::oid::bigint AS oid,
                    h.compression_enabled,
                    d.column_name::text AS time_column, d.column_type::text AS time_type,
                    d.time_interval::text AS time_interval, d.integer_interval,
                    (SELECT count(*) FROM _timescaledb_catalog.chunk ch
                       JOIN _timescaledb_catalog.hypertable ht ON ht.id = ch.hypertable_id
                      WHERE ht.schema_name = h.hypertable_schema AND ht.table_name = h.hypertable_name
                        AND ch.status & 1 <> 0
                        AND to_regclass(format('%I.%I', ch.schema_name, ch.table_name)) IS NOT NULL)
                        AS compressed_chunks,
                    ARRAY(SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass
                             AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum) AS columns
               FROM timescaledb_information.hypertables h
               LEFT JOIN timescaledb_information.dimensions d
                      ON d.hypertable_schema = h.hypertable_schema
                     AND d.hypertable_name = h.hypertable_name
                     AND d.dimension_number = 1
              ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await?;
        let settings: HashMap<i64, (Option<String>, Option<String>)> =
            sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(
                crate::monitoring::settings_query(capabilities),
            )
            .fetch_all(pool)
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
        .fetch_all(pool)
        .await?;
        let job_for = |schema: &str, name: &str, proc: &str| {
            jobs.iter().find(|j| {
                j.proc_name == proc
                    && j.hypertable_schema.as_deref() == Some(schema)
                    && j.hypertable_name.as_deref() == Some(name)
            })
        };
        let tables = rows
            .iter()
            .map(|row| {
                let (segment_by, order_by) = settings.get(&row.oid).cloned().unwrap_or_default();
                let time_kind = if row.time_interval.is_some() || row.integer_interval.is_none() {
                    TimeKind::Time
                } else {
                    TimeKind::Integer
                };
                LiveTable {
                    name: HypertableName {
                        schema: row.schema.clone(),
                        table: row.name.clone(),
                    },
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
                    compressed_chunks: row.compressed_chunks,
                    compression_policy: job_for(&row.schema, &row.name, "policy_compression")
                        .map(|j| live_job(j, "compress_after", "compress_created_before")),
                    retention_policy: job_for(&row.schema, &row.name, "policy_retention")
                        .map(|j| live_job(j, "drop_after", "drop_created_before")),
                    columns: row.columns.clone(),
                }
            })
            .collect();
        let caggs: Vec<CaggRow> = sqlx::query_as(
            "SELECT view_schema::text AS view_schema, view_name::text AS view_name,
                    hypertable_schema::text AS hypertable_schema,
                    hypertable_name::text AS hypertable_name
               FROM timescaledb_information.continuous_aggregates
              ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await?;
        let caggs = caggs
            .into_iter()
            .map(|row| {
                let refresh = job_for(
                    &row.view_schema,
                    &row.view_name,
                    "policy_refresh_continuous_aggregate",
                )
                .map(|job| {
                    let config = config(job);
                    LiveRefresh {
                        job_id: job.job_id,
                        start_offset: config.get("start_offset").and_then(config_age),
                        end_offset: config.get("end_offset").and_then(config_age),
                        schedule: LiveAge::interval(&job.schedule_interval),
                        scheduled: job.scheduled,
                    }
                });
                LiveCagg {
                    name: HypertableName {
                        schema: row.view_schema,
                        table: row.view_name,
                    },
                    source: HypertableName {
                        schema: row.hypertable_schema,
                        table: row.hypertable_name,
                    },
                    refresh,
                }
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
