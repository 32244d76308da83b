//! The judgements: a snapshot and a few facts in, findings out. Thresholds are constants
//! with the reason beside them.

use super::{Check, Diagnosis, Finding, NotChecked, Severity};
use crate::facts::{CaggStanding, ChunkFacts, HypertableFacts, Snapshot};
use crate::interval::postgres_interval_seconds;
use crate::types::format_bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Growth above this per 30 days needs compression and retention (the seed's promise).
pub const FAST_GROWTH_PER_MONTH: f64 = 1024.0 * 1024.0 * 1024.0;
/// Fewer rows per compressed batch than this means the segment-by is too fine: each batch
/// carries per-column headers, so small batches compress badly and read slowly.
pub const MIN_BATCH_ROWS: f64 = 100.0;
/// ... when the latest chunks hold at least this many batches: a segment-by splits too
/// finely only where it makes many segments; a few small batches are a chunk that holds
/// little (a table's first, partial chunk), whatever the segment-by.
pub const MIN_BATCHES_TO_JUDGE: i64 = 20;
/// A hypertable with at least this many chunks ...
pub const MANY_CHUNKS: i64 = 100;
/// ... averaging less than this each has chunks too small: planning and locking cost grow
/// with the chunk count while each chunk holds little.
pub const SMALL_CHUNK_BYTES: f64 = 10.0 * 1024.0 * 1024.0;

/// What the server is configured with, as far as chunk sizing needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// `shared_buffers` in bytes.
    pub shared_buffers: Option<i64>,
    /// `effective_cache_size` in bytes.
    pub effective_cache_size: Option<i64>,
}

impl Memory {
    /// The server's memory as the settings suggest it: TimescaleDB's tuning guidance sets
    /// `shared_buffers` to a quarter of memory and `effective_cache_size` to three
    /// quarters, so the larger of 4 × the one and 4/3 × the other.
    pub fn estimate(&self) -> Option<f64> {
        let from_buffers = self.shared_buffers.map(|b| b as f64 * 4.0);
        let from_cache = self.effective_cache_size.map(|c| c as f64 * 4.0 / 3.0);
        match (from_buffers, from_cache) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Failed runs of one job in the last 7 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFailures {
    /// The job.
    pub job_id: i64,
    /// Failed runs (the scheduler's and the console's).
    pub failures: i64,
    /// The newest failure.
    pub last_at: Option<DateTime<Utc>>,
    /// Its message.
    pub last_message: Option<String>,
}

/// Rows per batch in a hypertable's most recently compressed chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batches {
    /// `schema.name`.
    pub relation: String,
    /// Batches read.
    pub batches: i64,
    /// Rows in them.
    pub rows: i64,
}

impl Batches {
    /// Average rows per batch.
    pub fn rows_per_batch(&self) -> Option<f64> {
        (self.batches > 0).then(|| self.rows as f64 / self.batches as f64)
    }
}

/// A continuous aggregate's refresh window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshWindow {
    /// The aggregate, `schema.name`.
    pub cagg: String,
    /// Its source hypertable, `schema.name`.
    pub source: String,
    /// The policy's `start_offset`; none refreshes from the beginning.
    pub start_offset: Option<String>,
}

/// Everything the rules look at besides the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Whether a scheduler runs jobs (TimescaleDB preloaded with workers).
    pub scheduler: bool,
    /// Memory settings.
    pub memory: Memory,
    /// The extension version the server would update to (`default_version`).
    pub available_version: Option<String>,
    /// Jobs that failed lately.
    pub failures: Vec<JobFailures>,
    /// Batch sizes per compressed hypertable; `None` where they cannot be read (the
    /// relation holding a chunk's batches is named only in the internal catalog).
    pub batches: Option<Vec<Batches>>,
    /// Continuous aggregates' refresh windows.
    pub refresh_windows: Vec<RefreshWindow>,
    /// Why only TimescaleDB's public API is read here, if it is: watermarks are then
    /// unknown.
    #[serde(default)]
    pub catalog_fallback: Option<String>,
    /// Measured growth per day by `schema.name` (from the storage history).
    pub growth_per_day: HashMap<String, f64>,
}

fn days(text: &str) -> Option<f64> {
    postgres_interval_seconds(text).map(|s| s as f64 / 86_400.0)
}

/// Judges everything.
pub fn diagnose(snapshot: &Snapshot, facts: &Facts) -> Diagnosis {
    let mut findings = Vec::new();
    scheduler(snapshot, facts, &mut findings);
    failing_jobs(facts, &mut findings);
    let chunks = snapshot.chunks_by_hypertable();
    for table in &snapshot.hypertables {
        growth(snapshot, facts, table, &mut findings);
        let mine = chunks
            .get(&(table.schema.as_str(), table.name.as_str()))
            .map_or(&[][..], Vec::as_slice);
        chunk_sizes(snapshot, facts, table, mine, &mut findings);
    }
    caggs(snapshot, facts, &mut findings);
    batches(facts, &mut findings);
    extension(snapshot, facts, &mut findings);
    findings.sort_by_key(|f| f.severity);
    let mut not_checked = Vec::new();
    if let Some(reason) = &facts.catalog_fallback {
        not_checked.push(NotChecked {
            check: Check::CaggLag,
            reason: format!(
                "an aggregate's watermark is not in TimescaleDB's public API, so only missing refresh policies are looked for ({reason})"
            ),
        });
    }
    if facts.batches.is_none() {
        not_checked.push(NotChecked {
            check: Check::TinyBatches,
            reason: format!(
                "which relation holds a chunk's batches is named only in TimescaleDB's internal catalog, which is not read here ({})",
                facts.catalog_fallback.as_deref().unwrap_or("not readable")
            ),
        });
    }
    Diagnosis {
        taken_at: snapshot.taken_at,
        findings,
        checks: Check::ALL.to_vec(),
        not_checked,
    }
}

fn scheduler(snapshot: &Snapshot, facts: &Facts, out: &mut Vec<Finding>) {
    let scheduled_jobs = snapshot.jobs.iter().filter(|j| j.scheduled).count();
    if !facts.scheduler && scheduled_jobs > 0 {
        out.push(Finding {
            check: Check::Scheduler,
            severity: Severity::Critical,
            subject: None,
            title: "No job scheduler runs the jobs".into(),
            explanation: format!(
                "{scheduled_jobs} job(s) are scheduled, but TimescaleDB's scheduler is not running here \
                 (the library is not preloaded or has no background workers, or this is the embedded \
                 database), so compression, retention and refreshes only happen when started by hand."
            ),
            fix: "Add timescaledb to shared_preload_libraries, set timescaledb.max_background_workers \
                  (at least the number of databases + 2) and restart PostgreSQL; until then use \
                  \"run now\" on the jobs page."
                .into(),
        });
    }
    if let Some(ext) = &snapshot.timescaledb {
        if let Some(max) = ext.max_background_workers {
            if max > 0 && ext.background_workers_in_use >= max {
                out.push(Finding {
                    check: Check::Workers,
                    severity: Severity::Critical,
                    subject: None,
                    title: "Every TimescaleDB background worker is taken".into(),
                    explanation: format!(
                        "{} of {max} workers are in use: jobs wait for a free worker and run late \
                         or not at all.",
                        ext.background_workers_in_use
                    ),
                    fix:
                        "Raise timescaledb.max_background_workers (and max_worker_processes, which \
                          must leave room for it and parallel workers), then restart PostgreSQL."
                            .into(),
                });
            }
        }
    }
}

fn failing_jobs(facts: &Facts, out: &mut Vec<Finding>) {
    for job in facts.failures.iter().filter(|j| j.failures > 0) {
        out.push(Finding {
            check: Check::FailingJobs,
            severity: Severity::Critical,
            subject: Some(format!("job {}", job.job_id)),
            title: format!(
                "Job {} failed {} time(s) in the last 7 days",
                job.job_id, job.failures
            ),
            explanation: match (&job.last_message, job.last_at) {
                (Some(message), Some(at)) => format!(
                    "The latest failure, at {}: {message}",
                    crate::types::format_time(&at)
                ),
                _ => "TimescaleDB recorded failures without a message.".into(),
            },
            fix: format!(
                "Open /jobs/{} for its run history and the known cause, fix it and use \"run now\" \
                 to confirm.",
                job.job_id
            ),
        });
    }
}

fn growth(snapshot: &Snapshot, facts: &Facts, table: &HypertableFacts, out: &mut Vec<Finding>) {
    let relation = table.qualified();
    let Some(per_day) = facts.growth_per_day.get(&relation) else {
        return;
    };
    let per_month = per_day * 30.0;
    if per_month < FAST_GROWTH_PER_MONTH {
        return;
    }
    let compression = table.compress_after.is_some();
    let retention = snapshot.retention_days(&relation).is_some();
    let missing = match (compression, retention) {
        (true, true) => return,
        (false, false) => "neither compression nor retention",
        (false, true) => "no compression policy",
        (true, false) => "no retention policy",
    };
    out.push(Finding {
        check: Check::UnmanagedGrowth,
        severity: Severity::Warning,
        subject: Some(relation.clone()),
        title: format!("{relation} grows fast with {missing}"),
        explanation: format!(
            "It grows {} a month ({} now); without {} every byte stays as written.",
            format_bytes(per_month as i64),
            format_bytes(table.total_bytes),
            if compression {
                "a retention policy"
            } else {
                "compression"
            }
        ),
        fix:
            "Give it a policy on the policies page (or manage it with TIMESCALEDB_MANAGED_TABLES); \
              the storage page prices the change."
                .into(),
    });
}

/// The chunk interval of `table` in seconds, when it is a time interval.
fn interval_seconds(table: &HypertableFacts) -> Option<f64> {
    let interval = table.dimensions.first()?.interval.as_deref()?;
    postgres_interval_seconds(interval).map(|s| s as f64)
}

/// A chunk interval in words, rounded to hours or days.
fn interval_text(seconds: f64) -> String {
    let hours = (seconds / 3600.0).round().max(1.0);
    let (amount, unit) = if hours >= 24.0 {
        ((hours / 24.0).round(), "day")
    } else {
        (hours, "hour")
    };
    if amount == 1.0 {
        format!("1 {unit}")
    } else {
        format!("{amount} {unit}s")
    }
}

/// Each time range is split into this many chunks by the space dimensions.
fn space_partitions(table: &HypertableFacts) -> i64 {
    table
        .dimensions
        .iter()
        .filter_map(|d| d.partitions)
        .filter(|p| *p > 1)
        .product::<i64>()
        .max(1)
}

/// Chunks that keep a retention window whole: fewer, and a chunk outlives the window by
/// most of its interval before it can be dropped.
const CHUNKS_PER_RETENTION: f64 = 4.0;

/// Advice for a table of many small chunks that fits the table: larger chunks, but not
/// beyond a quarter of its retention window; its space partitions named, since they
/// split every time range.
fn small_chunks(
    snapshot: &Snapshot,
    table: &HypertableFacts,
    interval: f64,
    average: f64,
) -> Finding {
    let relation = table.qualified();
    let partitions = space_partitions(table);
    let mut factor = (SMALL_CHUNK_BYTES * 2.5 / average).clamp(2.0, 30.0);
    let retention = snapshot.retention_days(&relation).map(|d| d * 86_400.0);
    let mut capped = false;
    if let Some(window) = retention {
        let ceiling = window / CHUNKS_PER_RETENTION / interval;
        if factor > ceiling {
            factor = ceiling;
            capped = true;
        }
    }
    let split = if partitions > 1 {
        format!(
            " Its {partitions} space partitions split every {} into {partitions} chunks.",
            interval_text(interval)
        )
    } else {
        String::new()
    };
    let explanation = format!(
        "Its chunks average {} over {} each: every query plans and locks each chunk it may \
         touch, so many small chunks cost more than their data.{split}",
        format_bytes(average as i64),
        interval_text(interval)
    );
    let drop_space = if partitions > 1 {
        format!(
            " Without the space partitioning (TimescaleDB advises it only for several disks) each \
             chunk would be {partitions} times larger at the same interval."
        )
    } else {
        String::new()
    };
    let fix = if factor < 1.5 {
        // The retention window leaves no room for longer chunks.
        format!(
            "Its retention ({}) leaves no room for a longer interval.{drop_space}",
            interval_text(retention.unwrap_or(interval))
        )
    } else {
        let new_interval = interval * factor;
        let within = retention.map_or(String::new(), |window| {
            format!(
                ", about {} chunks within its {} retention",
                ((window / new_interval).ceil() as i64) * partitions,
                interval_text(window)
            )
        });
        format!(
            "Set its chunk interval to about {} (about {} per chunk{within}){}; new chunks follow, \
             existing ones stay.{drop_space}",
            interval_text(new_interval),
            format_bytes((average * factor) as i64),
            if capped {
                ": longer would keep data well past the retention"
            } else {
                ""
            }
        )
    };
    Finding {
        check: Check::SmallChunks,
        severity: Severity::Warning,
        subject: Some(relation.clone()),
        title: format!("{relation} has {} small chunks", table.chunk_count),
        explanation,
        fix,
    }
}

/// `chunks`: the table's own.
fn chunk_sizes(
    snapshot: &Snapshot,
    facts: &Facts,
    table: &HypertableFacts,
    chunks: &[&ChunkFacts],
    out: &mut Vec<Finding>,
) {
    let relation = table.qualified();
    // Raw size of each chunk: what it held before compression when compressed.
    let mut chunks: Vec<(DateTime<Utc>, f64)> = chunks
        .iter()
        .filter_map(|c| {
            let raw = if c.is_compressed {
                c.before_compression_bytes.unwrap_or(c.total_bytes)
            } else {
                c.total_bytes
            };
            Some((c.range_start?, raw as f64))
        })
        .collect();
    chunks.sort_by_key(|c| c.0);
    // The newest chunk is still filling: judge the full ones.
    chunks.pop();
    let Some(interval) = interval_seconds(table) else {
        return;
    };
    if chunks.is_empty() {
        return;
    }
    let average = chunks.iter().map(|c| c.1).sum::<f64>() / chunks.len() as f64;
    if table.chunk_count >= MANY_CHUNKS && average < SMALL_CHUNK_BYTES && average > 0.0 {
        out.push(small_chunks(snapshot, table, interval, average));
    }
    let Some(memory) = facts.memory.estimate() else {
        return;
    };
    let quarter = memory / 4.0;
    // The newest full chunk, with its indexes, is what recent queries keep in memory.
    if let Some((_, newest)) = chunks.last() {
        if *newest > quarter {
            let factor = (quarter * 0.8 / newest).max(0.01);
            out.push(Finding {
                check: Check::LargeChunks,
                severity: Severity::Warning,
                subject: Some(relation.clone()),
                title: format!("{relation}'s chunks are larger than a quarter of memory"),
                explanation: format!(
                    "Its newest full chunk holds {} with indexes; the server's settings suggest \
                     about {} of memory, a quarter of which ({}) should hold the recent chunks of \
                     every busy hypertable, or inserts and recent queries read from disk.",
                    format_bytes(*newest as i64),
                    format_bytes(memory as i64),
                    format_bytes(quarter as i64)
                ),
                fix: format!(
                    "Set its chunk interval to about {} (from {}).",
                    interval_text(interval * factor),
                    interval_text(interval)
                ),
            });
        }
    }
}

fn caggs(snapshot: &Snapshot, facts: &Facts, out: &mut Vec<Finding>) {
    for cagg in &snapshot.continuous_aggregates {
        let name = crate::ident::display_name(&cagg.schema, &cagg.name);
        // Reading the public API only, a missing watermark is unknown, not "never".
        let source_has_data = facts.catalog_fallback.is_none()
            && cagg.source_has_data(&snapshot.hypertables, &snapshot.continuous_aggregates);
        match cagg.standing(source_has_data) {
            CaggStanding::NoRefreshPolicy => out.push(Finding {
                check: Check::CaggLag,
                severity: Severity::Info,
                subject: Some(name.clone()),
                title: format!("{name} has no refresh policy"),
                explanation: "Nothing refreshes it on a schedule: it shows what was materialized \
                              when it was last refreshed by hand (real-time aggregation, where on, \
                              fills in the rest at query cost)."
                    .into(),
                fix: "Add a refresh policy: add_continuous_aggregate_policy(...).".into(),
            }),
            CaggStanding::Behind {
                lag_seconds,
                schedule_seconds,
            } => out.push(Finding {
                check: Check::CaggLag,
                severity: Severity::Warning,
                subject: Some(name.clone()),
                title: format!("{name} lags its source"),
                explanation: format!(
                    "It is materialized up to {} ago while it should refresh every {}: its \
                     refresh job is failing, not scheduled, or slower than its schedule.",
                    crate::alerts::human_duration(chrono::Duration::seconds(lag_seconds as i64)),
                    crate::alerts::human_duration(chrono::Duration::seconds(schedule_seconds))
                ),
                fix: "Check its refresh job on the jobs page; run it now to catch up.".into(),
            }),
            CaggStanding::NeverRefreshed => out.push(Finding {
                check: Check::CaggLag,
                severity: Severity::Warning,
                subject: Some(name.clone()),
                title: format!("{name} has never been refreshed"),
                explanation:
                    "It has a refresh policy but nothing is materialized yet: its refresh \
                              job has not run (or never succeeded), so every query computes from \
                              the raw data."
                        .into(),
                fix: "Check its refresh job on the jobs page; run it now.".into(),
            }),
            CaggStanding::Current => {}
        }
    }
    for window in &facts.refresh_windows {
        let Some(retention) = snapshot.retention_days(&window.source) else {
            continue;
        };
        let start = window.start_offset.as_deref().and_then(days);
        if start.is_some_and(|s| s < retention) {
            continue;
        }
        out.push(Finding {
            check: Check::RetentionOutrunsCagg,
            severity: Severity::Warning,
            subject: Some(window.cagg.clone()),
            title: format!(
                "Retention on {} outruns {}'s refresh window",
                window.source, window.cagg
            ),
            explanation: format!(
                "{} drops data after {retention:.0} days while {} refreshes {}: a refresh over a \
                 dropped range recomputes the buckets from nothing and deletes their aggregates.",
                window.source,
                window.cagg,
                match start {
                    Some(s) => format!("back to {s:.0} days"),
                    None => "from the beginning (no start offset)".to_string(),
                }
            ),
            fix: "Give the refresh policy a start_offset shorter than the retention, or keep the \
                  raw data longer."
                .into(),
        });
    }
}

fn batches(facts: &Facts, out: &mut Vec<Finding>) {
    for stats in facts.batches.iter().flatten() {
        let Some(rows) = stats.rows_per_batch() else {
            continue;
        };
        if rows >= MIN_BATCH_ROWS || stats.batches < MIN_BATCHES_TO_JUDGE {
            continue;
        }
        out.push(Finding {
            check: Check::TinyBatches,
            severity: Severity::Warning,
            subject: Some(stats.relation.clone()),
            title: format!(
                "{} compresses into batches of {rows:.0} rows",
                stats.relation
            ),
            explanation: format!(
                "Its latest compressed chunks hold {} rows in {} batches (up to 1,000 rows each \
                 fit): the segment-by splits the data so finely that per-batch overhead eats the \
                 compression and queries unpack many small batches.",
                stats.rows, stats.batches
            ),
            fix: "Segment by fewer or coarser columns, or use longer chunks; the compression \
                  advisor on the hypertable's page suggests settings and can try them."
                .into(),
        });
    }
}

fn extension(snapshot: &Snapshot, facts: &Facts, out: &mut Vec<Finding>) {
    let Some(installed_text) = snapshot.timescaledb.as_ref().map(|e| e.version.clone()) else {
        return;
    };
    let Some(installed) = crate::releases::timescaledb_version(&installed_text) else {
        return;
    };
    if let Some(available) = facts.available_version.as_deref() {
        if crate::releases::timescaledb_version(available).is_some_and(|a| a > installed) {
            out.push(Finding {
                check: Check::ExtensionVersion,
                severity: Severity::Warning,
                subject: None,
                title: format!("TimescaleDB {available} is installed on the server but {installed_text} is in use"),
                explanation: "The server has the newer library; this database still runs the old \
                              extension scripts until it is updated."
                    .into(),
                fix: "Run ALTER EXTENSION timescaledb UPDATE; as the first command of a new session \
                      (psql -X), in every database that uses TimescaleDB."
                    .into(),
            });
            return;
        }
    }
    let Some(postgres) = crate::releases::postgres_version(&snapshot.database.server_version)
    else {
        return;
    };
    let pg = postgres.0;
    use crate::releases::{standing, text, Standing};
    let finding = |title: String, explanation: String, fix: String| Finding {
        check: Check::ExtensionVersion,
        severity: Severity::Info,
        subject: None,
        title,
        explanation,
        fix,
    };
    match standing(installed, postgres) {
        Standing::Current | Standing::Unknown => {}
        Standing::Behind {
            newest,
            postgres_first,
        } => out.push(finding(
            format!(
                "TimescaleDB {installed_text} is behind {}, the newest release for PostgreSQL {pg}",
                text(newest)
            ),
            "Newer releases fix bugs and speed up compression and jobs.".into(),
            match postgres_first {
                Some((major, minor)) => format!(
                    "Update PostgreSQL to {major}.{minor} or later first ({} needs it), then install the new TimescaleDB packages and run ALTER EXTENSION timescaledb UPDATE.",
                    text(newest)
                ),
                None => "Plan an upgrade: install the new packages, then ALTER EXTENSION timescaledb UPDATE."
                    .into(),
            },
        )),
        Standing::LastForPostgres { next, needs } => out.push(finding(
            format!("TimescaleDB {installed_text} is the last release for PostgreSQL {pg}"),
            format!(
                "TimescaleDB {} and later need PostgreSQL {needs}: this server gets bug fixes no longer.",
                text(next)
            ),
            format!(
                "Plan a PostgreSQL upgrade (pg_upgrade, or a dump and restore) to {needs}, then TimescaleDB {}.",
                text(next)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{CaggFacts, DimensionFacts, ExtensionFacts, JobFacts};
    use crate::storage::fixtures::{chunk, snapshot, table};
    use chrono::{Duration, TimeZone};

    const MIB: i64 = 1024 * 1024;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap()
    }

    /// A job of `kind` on `s.metrics` with `config`.
    fn job(id: i64, kind: &str, config: &str) -> JobFacts {
        JobFacts {
            id,
            kind: kind.into(),
            hypertable: Some("s.metrics".into()),
            schedule_interval: "1 day".into(),
            schedule_seconds: 86_400.0,
            scheduled: true,
            next_start: None,
            running: false,
            last_run_status: Some(crate::facts::RunStatus::Success),
            last_run_started_at: None,
            last_run_duration_seconds: None,
            last_successful_finish: None,
            total_runs: 1,
            total_failures: 0,
            consecutive_failures: None,
            last_error: None,
            last_error_code: None,
            known_cause: None,
            config: Some(config.into()),
            left_behind: None,
        }
    }

    /// The finding of `check` on `snap`, which must have one.
    fn only(snap: &Snapshot, facts: &Facts, check: Check) -> Finding {
        diagnose(snap, facts)
            .findings
            .into_iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("no {check:?} finding"))
    }

    /// A healthy database: a scheduler with spare workers, the newest TimescaleDB, one
    /// managed hypertable of 30 daily 200 MiB chunks, an aggregate refreshed an hour ago.
    fn healthy() -> (Snapshot, Facts) {
        let mut snap = snapshot(now(), 10 * 1024 * MIB);
        snap.database.server_version = "17.5".into();
        snap.timescaledb = Some(ExtensionFacts {
            version: "2.29.2".into(),
            license: Some("timescale".into()),
            max_background_workers: Some(16),
            background_workers_in_use: 3,
        });
        let mut metrics = table("metrics");
        metrics.dimensions = vec![DimensionFacts {
            column: "ts".into(),
            column_type: "timestamp with time zone".into(),
            kind: "time".into(),
            interval: Some("1 day".into()),
            partitions: None,
        }];
        metrics.compress_after = Some("7 days".into());
        metrics.chunk_count = 30;
        snap.chunks = (0..30)
            .map(|d| chunk("metrics", now() - Duration::days(30 - d), 200 * MIB, None))
            .collect();
        snap.hypertables = vec![metrics];
        snap.jobs = vec![
            job(
                1000,
                "policy_compression",
                r#"{"compress_after": "7 days"}"#,
            ),
            job(
                1001,
                "policy_retention",
                r#"{"drop_after": "90 days", "hypertable_id": 1}"#,
            ),
        ];
        snap.continuous_aggregates = vec![CaggFacts {
            schema: "s".into(),
            name: "hourly".into(),
            source: "s.metrics".into(),
            materialized_bytes: MIB,
            watermark: Some(now() - Duration::hours(1)),
            refresh_lag_seconds: Some(3600.0),
            refresh_schedule: Some("01:00:00".into()),
        }];
        let facts = Facts {
            scheduler: true,
            memory: Memory {
                shared_buffers: Some(4 * 1024 * MIB),
                effective_cache_size: Some(12 * 1024 * MIB),
            },
            available_version: Some("2.29.2".into()),
            failures: Vec::new(),
            batches: Some(vec![Batches {
                relation: "s.metrics".into(),
                batches: 100,
                rows: 90_000,
            }]),
            catalog_fallback: None,
            refresh_windows: vec![RefreshWindow {
                cagg: "s.hourly".into(),
                source: "s.metrics".into(),
                start_offset: Some("3 days".into()),
            }],
            growth_per_day: [("s.metrics".to_string(), 200.0 * MIB as f64)].into(),
        };
        (snap, facts)
    }

    fn checks(snap: &Snapshot, facts: &Facts) -> Vec<(Check, Severity)> {
        diagnose(snap, facts)
            .findings
            .iter()
            .map(|f| (f.check, f.severity))
            .collect()
    }

    #[test]
    fn a_healthy_database_is_quiet() {
        let (snap, facts) = healthy();
        assert_eq!(diagnose(&snap, &facts).findings, Vec::new());
    }

    #[test]
    fn no_scheduler_and_exhausted_workers_are_critical() {
        let (mut snap, mut facts) = healthy();
        facts.scheduler = false;
        if let Some(ext) = snap.timescaledb.as_mut() {
            ext.background_workers_in_use = 16;
        }
        assert_eq!(
            checks(&snap, &facts),
            [
                (Check::Scheduler, Severity::Critical),
                (Check::Workers, Severity::Critical)
            ]
        );
    }

    #[test]
    fn failing_jobs_are_named_with_their_latest_message() {
        let (snap, mut facts) = healthy();
        facts.failures = vec![JobFailures {
            job_id: 1000,
            failures: 4,
            last_at: Some(now()),
            last_message: Some("disk full".into()),
        }];
        let diagnosis = diagnose(&snap, &facts);
        let finding = &diagnosis.findings[0];
        assert_eq!(finding.check, Check::FailingJobs);
        assert!(finding.explanation.contains("disk full"));
        assert!(finding.fix.contains("/jobs/1000"));
    }

    #[test]
    fn fast_growth_without_retention_is_a_warning_and_slow_growth_is_not() {
        let (mut snap, mut facts) = healthy();
        snap.jobs.retain(|j| j.kind != "policy_retention");
        facts.refresh_windows.clear();
        let found = diagnose(&snap, &facts);
        assert_eq!(found.findings.len(), 1, "{:#?}", found.findings);
        assert!(found.findings[0].title.contains("no retention policy"));
        facts.growth_per_day.insert("s.metrics".into(), 1024.0);
        assert!(diagnose(&snap, &facts).findings.is_empty());
    }

    #[test]
    fn many_small_chunks_get_a_longer_interval() {
        let (mut snap, facts) = healthy();
        snap.hypertables[0].chunk_count = 300;
        snap.chunks = (0..300)
            .map(|h| chunk("metrics", now() - Duration::hours(300 - h), MIB, None))
            .collect();
        let finding = only(&snap, &facts, Check::SmallChunks);
        // 1 MiB per 1-day chunk wants 25× longer; its 90-day retention caps it at a quarter.
        assert!(
            finding.fix.contains("about 23 days")
                && finding
                    .fix
                    .contains("about 4 chunks within its 90 days retention")
                && finding
                    .fix
                    .contains("longer would keep data well past the retention"),
            "{}",
            finding.fix
        );
    }

    #[test]
    fn small_chunk_advice_counts_space_partitions_and_the_retention() {
        // plant.sensor_readings: 4 space partitions, daily chunks, a 35-day retention.
        let (mut snap, facts) = healthy();
        snap.hypertables[0].dimensions.push(DimensionFacts {
            column: "sensor".into(),
            column_type: "integer".into(),
            kind: "space".into(),
            interval: None,
            partitions: Some(4),
        });
        snap.hypertables[0].chunk_count = 144;
        snap.chunks = (0..36)
            .map(|d| chunk("metrics", now() - Duration::days(36 - d), MIB, None))
            .collect();
        snap.jobs[1].config = Some(r#"{"drop_after": "35 days", "hypertable_id": 1}"#.into());
        let finding = only(&snap, &facts, Check::SmallChunks);
        assert!(
            finding
                .explanation
                .contains("4 space partitions split every 1 day into 4 chunks"),
            "{}",
            finding.explanation
        );
        assert!(
            finding.fix.contains("about 9 days")
                && finding
                    .fix
                    .contains("about 16 chunks within its 35 days retention")
                && finding.fix.contains("4 times larger"),
            "{}",
            finding.fix
        );
        assert!(!finding.fix.contains("30 days"), "{}", finding.fix);
    }

    #[test]
    fn chunks_over_a_quarter_of_memory_get_a_shorter_interval() {
        let (snap, mut facts) = healthy();
        // 64 MiB of buffers suggest 256 MiB of memory: a quarter is 64 MiB, and 200 MiB
        // daily chunks want about 0.8 × 64 / 200 of a day.
        facts.memory = Memory {
            shared_buffers: Some(64 * MIB),
            effective_cache_size: None,
        };
        let finding = only(&snap, &facts, Check::LargeChunks);
        assert!(finding.fix.contains("6 hours"), "{}", finding.fix);
    }

    #[test]
    fn lagging_unrefreshed_and_outrun_aggregates_are_found() {
        let (mut snap, mut facts) = healthy();
        snap.continuous_aggregates[0].refresh_lag_seconds = Some(6.0 * 3600.0);
        facts.refresh_windows[0].start_offset = None;
        assert_eq!(
            checks(&snap, &facts),
            [
                (Check::CaggLag, Severity::Warning),
                (Check::RetentionOutrunsCagg, Severity::Warning)
            ]
        );
        snap.continuous_aggregates[0].watermark = None;
        snap.continuous_aggregates[0].refresh_lag_seconds = None;
        facts.refresh_windows.clear();
        let found = diagnose(&snap, &facts);
        assert!(found.findings[0].title.contains("never been refreshed"));
        assert!(found.not_checked.is_empty());

        // Reading only the public API, an unknown watermark is not "never refreshed",
        // and the page says what was not looked at.
        facts.catalog_fallback = Some("TimescaleDB 2.30.0 is newer".into());
        facts.batches = None;
        let found = diagnose(&snap, &facts);
        assert!(found.findings.is_empty(), "{:?}", found.findings);
        let skipped: Vec<Check> = found.not_checked.iter().map(|n| n.check).collect();
        assert_eq!(skipped, [Check::CaggLag, Check::TinyBatches]);
        assert!(found.not_checked[0].reason.contains("2.30.0"));
    }

    #[test]
    fn a_few_small_batches_are_a_small_chunk_not_a_fine_segment_by() {
        // The demo's partial first chunk: 398 rows in 4 batches.
        let (snap, mut facts) = healthy();
        facts.batches = Some(vec![Batches {
            relation: "s.metrics".into(),
            batches: 4,
            rows: 398,
        }]);
        assert!(diagnose(&snap, &facts).findings.is_empty());
    }

    #[test]
    fn tiny_batches_and_an_old_extension_are_found() {
        let (mut snap, mut facts) = healthy();
        facts.batches.as_mut().unwrap()[0].rows = 4_000;
        if let Some(ext) = snap.timescaledb.as_mut() {
            ext.version = "2.23.0-dev".into();
        }
        facts.available_version = Some("2.23.0-dev".into());
        assert_eq!(
            checks(&snap, &facts),
            [
                (Check::TinyBatches, Severity::Warning),
                (Check::ExtensionVersion, Severity::Info)
            ]
        );
        facts.available_version = Some("2.24.0".into());
        let found = diagnose(&snap, &facts);
        assert!(found.findings[1]
            .fix
            .contains("ALTER EXTENSION timescaledb UPDATE"));
    }

    #[test]
    fn up_to_date_is_judged_for_the_servers_postgresql() {
        let (mut snap, mut facts) = healthy();
        snap.database.server_version = "15.18 (Debian 15.18-0+deb12u1)".into();
        if let Some(ext) = snap.timescaledb.as_mut() {
            ext.version = "2.28.3".into();
        }
        facts.available_version = Some("2.28.3".into());
        let found = diagnose(&snap, &facts);
        assert_eq!(found.findings.len(), 1, "{:?}", found.findings);
        assert_eq!(
            found.findings[0].title,
            "TimescaleDB 2.28.3 is the last release for PostgreSQL 15"
        );
        assert!(found.findings[0]
            .explanation
            .contains("2.29.2 and later need PostgreSQL 16.6 or later, 17.2 or later, 18"));
        snap.database.server_version = "17.5".into();
        let found = diagnose(&snap, &facts);
        assert_eq!(
            found.findings[0].title,
            "TimescaleDB 2.28.3 is behind 2.29.2, the newest release for PostgreSQL 17"
        );
    }

    #[test]
    fn the_overview_and_diagnostics_agree_on_lagging_aggregates() {
        let (mut snap, facts) = healthy();
        let cagg = |name: &str, source: &str, lag_hours: Option<i64>, schedule: &str| CaggFacts {
            schema: "s".into(),
            name: name.into(),
            source: source.into(),
            materialized_bytes: if lag_hours.is_some() { MIB } else { 0 },
            watermark: lag_hours.map(|h| now() - Duration::hours(h)),
            refresh_lag_seconds: lag_hours.map(|h| (h * 3600) as f64),
            refresh_schedule: Some(schedule.into()),
        };
        snap.continuous_aggregates = vec![
            cagg("hourly", "s.metrics", Some(1), "01:00:00"),
            // On an aggregate: its source is not a hypertable, and has data.
            cagg("daily", "s.hourly", None, "1 day"),
            cagg("weekly", "s.hourly", Some(24 * 10), "1 day"),
            // 3 h behind an hourly schedule is within 3 schedules and an hour.
            cagg("late", "s.metrics", Some(3), "01:00:00"),
        ];
        let lists = crate::facts::Overview::lists(
            &snap.hypertables,
            &snap.jobs,
            &snap.continuous_aggregates,
            true,
        );
        let listed: Vec<String> = lists
            .lagging_aggregates
            .iter()
            .map(|c| crate::ident::display_name(&c.schema, &c.name))
            .collect();
        let warned: Vec<String> = diagnose(&snap, &facts)
            .findings
            .into_iter()
            .filter(|f| f.check == Check::CaggLag && f.severity == Severity::Warning)
            .filter_map(|f| f.subject)
            .collect();
        assert_eq!(listed, ["s.daily", "s.weekly"]);
        assert_eq!(warned, listed);
    }
}
