//! Wire types of the monitoring snapshot: what the refresher gathers from the catalog and
//! what pages, REST, Prometheus and the live stream all read. Units are in field names
//! (`*_bytes`, `*_seconds`); times are UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything known about the database at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    /// When the pass that produced it finished.
    pub taken_at: DateTime<Utc>,
    /// How long the pass took.
    pub pass_seconds: f64,
    /// How many relations' sizes were read from disk in this pass (the rest were reused).
    pub sized_relations: i64,
    /// The server.
    pub database: DatabaseFacts,
    /// The extension; `None` when TimescaleDB is not installed.
    pub timescaledb: Option<ExtensionFacts>,
    /// Every hypertable, biggest first.
    pub hypertables: Vec<HypertableFacts>,
    /// Every chunk, by hypertable then range.
    pub chunks: Vec<ChunkFacts>,
    /// Background jobs.
    pub jobs: Vec<JobFacts>,
    /// Continuous aggregates.
    pub continuous_aggregates: Vec<CaggFacts>,
    /// Why this pass read only TimescaleDB's public API, if it did: aggregates'
    /// watermarks are then unknown (`None` means unknown, not "never refreshed").
    #[serde(default)]
    pub catalog_fallback: Option<String>,
}

impl Snapshot {
    /// Each hypertable's chunks, grouped in one pass over them: what a rule or forecast
    /// that visits every table reads (filtering all chunks per table cost hypertables ×
    /// chunks).
    pub fn chunks_by_hypertable(
        &self,
    ) -> std::collections::HashMap<(&str, &str), Vec<&ChunkFacts>> {
        let mut grouped: std::collections::HashMap<(&str, &str), Vec<&ChunkFacts>> =
            std::collections::HashMap::new();
        for chunk in &self.chunks {
            grouped
                .entry((
                    chunk.hypertable_schema.as_str(),
                    chunk.hypertable_name.as_str(),
                ))
                .or_default()
                .push(chunk);
        }
        grouped
    }

    /// One hypertable's chunks.
    pub fn chunks_of<'a>(
        &'a self,
        schema: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ChunkFacts> {
        self.chunks
            .iter()
            .filter(move |c| c.hypertable_schema == schema && c.hypertable_name == name)
    }

    /// What a pass learns of a database without TimescaleDB: the server, nothing else.
    pub fn without_timescaledb(database: DatabaseFacts, pass_seconds: f64) -> Snapshot {
        Snapshot {
            taken_at: chrono::Utc::now(),
            pass_seconds,
            sized_relations: 0,
            database,
            timescaledb: None,
            hypertables: Vec::new(),
            chunks: Vec::new(),
            jobs: Vec::new(),
            continuous_aggregates: Vec::new(),
            catalog_fallback: None,
        }
    }

    /// The retention of `relation` (`schema.name`) in days, from its retention job's
    /// `drop_after`; none without one or on integer time.
    pub fn retention_days(&self, relation: &str) -> Option<f64> {
        self.jobs
            .iter()
            .filter(|j| j.kind == "policy_retention" && j.hypertable.as_deref() == Some(relation))
            .find_map(|j| {
                crate::interval::postgres_interval_seconds(&j.config_value("drop_after")?)
            })
            .map(|seconds| seconds as f64 / 86_400.0)
    }
}

/// The PostgreSQL server and database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseFacts {
    /// Database name.
    pub name: String,
    /// `server_version`.
    pub server_version: String,
    /// `pg_database_size`.
    pub size_bytes: i64,
    /// Backends connected to this database.
    pub connections: i64,
    /// `max_connections`.
    pub max_connections: i64,
}

/// The TimescaleDB extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtensionFacts {
    /// Installed version as reported.
    pub version: String,
    /// `timescaledb.license` (`timescale` or `apache`).
    pub license: Option<String>,
    /// `timescaledb.max_background_workers` (absent when the extension is not preloaded).
    pub max_background_workers: Option<i64>,
    /// TimescaleDB background workers running now.
    pub background_workers_in_use: i64,
}

/// One partitioning dimension of a hypertable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DimensionFacts {
    /// Column.
    pub column: String,
    /// Column type.
    pub column_type: String,
    /// `time` (ranges) or `space` (hash partitions).
    pub kind: String,
    /// Chunk interval of a time dimension, e.g. `1 day`.
    pub interval: Option<String>,
    /// Number of partitions of a space dimension.
    pub partitions: Option<i64>,
}

/// One hypertable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HypertableFacts {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Dimensions, time first.
    pub dimensions: Vec<DimensionFacts>,
    /// Heap bytes (main fork, free space map, visibility map) of the hypertable and all chunks.
    pub table_bytes: i64,
    /// Index bytes.
    pub index_bytes: i64,
    /// TOAST bytes.
    pub toast_bytes: i64,
    /// Everything.
    pub total_bytes: i64,
    /// Chunks.
    pub chunk_count: i64,
    /// Compressed chunks.
    pub compressed_chunk_count: i64,
    /// Compressed chunks' total size before compression (as recorded at compression).
    pub before_compression_bytes: i64,
    /// Compressed chunks' total size after compression.
    pub after_compression_bytes: i64,
    /// `before / after`, when anything is compressed.
    pub compression_ratio: Option<f64>,
    /// Estimated rows (planner statistics; compressed rows as counted at compression).
    pub approximate_rows: i64,
    /// Whether compression is enabled.
    pub compression_enabled: bool,
    /// Compression segment-by columns.
    pub segment_by: Vec<String>,
    /// Compression order-by items, e.g. `ts DESC`.
    pub order_by: Vec<String>,
    /// The compression policy's `compress_after`, if there is a policy.
    pub compress_after: Option<String>,
    /// Chunks older than `compress_after` that are still not compressed.
    pub backlog_chunks: i64,
    /// Their bytes.
    pub backlog_bytes: i64,
}

impl HypertableFacts {
    /// `schema.name`, parts quoted where they need it ([`crate::ident::display_name`]).
    pub fn qualified(&self) -> String {
        crate::ident::display_name(&self.schema, &self.name)
    }

    /// Bytes before compression over bytes after, `None` while nothing is compressed: the
    /// one formula behind every ratio the console shows (pages, dry-runs, metrics).
    pub fn ratio_of(before_bytes: i64, after_bytes: i64) -> Option<f64> {
        (after_bytes > 0).then(|| before_bytes as f64 / after_bytes as f64)
    }
}

/// One chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChunkFacts {
    /// The hypertable's schema.
    pub hypertable_schema: String,
    /// The hypertable's name.
    pub hypertable_name: String,
    /// Chunk schema.
    pub schema: String,
    /// Chunk name.
    pub name: String,
    /// Start of the time range (time dimensions on timestamps).
    pub range_start: Option<DateTime<Utc>>,
    /// End of the time range (exclusive).
    pub range_end: Option<DateTime<Utc>>,
    /// Start of an integer range.
    pub range_start_integer: Option<i64>,
    /// End of an integer range.
    pub range_end_integer: Option<i64>,
    /// Bytes on disk now (the chunk and, when compressed, its compressed relation).
    pub total_bytes: i64,
    /// Whether the chunk is compressed.
    pub is_compressed: bool,
    /// Size before compression, when compressed.
    pub before_compression_bytes: Option<i64>,
    /// Size after compression, when compressed.
    pub after_compression_bytes: Option<i64>,
    /// Tablespace, when not the default.
    pub tablespace: Option<String>,
    /// Older than the hypertable's `compress_after` and still uncompressed.
    pub in_backlog: bool,
}

impl ChunkFacts {
    /// `schema.name` of the hypertable, parts quoted where they need it.
    pub fn hypertable(&self) -> String {
        crate::ident::display_name(&self.hypertable_schema, &self.hypertable_name)
    }
}

/// How a job's last finished run ended, in TimescaleDB's words (`job_stats.last_run_status`):
/// the one reading of that column, so no crate compares the text itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunStatus {
    /// It finished without an error.
    Success,
    /// It raised an error.
    Failed,
}

impl RunStatus {
    /// TimescaleDB's text back (`Success`, `Failed`); anything else is not a known outcome.
    pub fn from_catalog(text: &str) -> Option<Self> {
        match text {
            "Success" => Some(RunStatus::Success),
            "Failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }

    /// The word pages show and the REST answer carries: `Success` or `Failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Success => "Success",
            RunStatus::Failed => "Failed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One background job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobFacts {
    /// Job id.
    pub id: i64,
    /// What it runs, e.g. `policy_compression`.
    pub kind: String,
    /// The hypertable it works on, `schema.name`.
    pub hypertable: Option<String>,
    /// Interval between runs, e.g. `12:00:00`.
    pub schedule_interval: String,
    /// The same interval in seconds (staleness is judged against it).
    #[serde(default)]
    pub schedule_seconds: f64,
    /// Whether it is scheduled.
    pub scheduled: bool,
    /// Next planned start (none while paused or running).
    pub next_start: Option<DateTime<Utc>>,
    /// Whether a background worker is running it right now.
    #[serde(default)]
    pub running: bool,
    /// How the last *finished* run ended (while one runs, the one before); none yet.
    pub last_run_status: Option<RunStatus>,
    /// Start of the last run.
    pub last_run_started_at: Option<DateTime<Utc>>,
    /// Duration of the last run.
    pub last_run_duration_seconds: Option<f64>,
    /// End of the last successful run.
    pub last_successful_finish: Option<DateTime<Utc>>,
    /// Runs so far.
    pub total_runs: i64,
    /// Failed runs so far.
    pub total_failures: i64,
    /// Failed runs since the last success (TimescaleDB's count; none where unknown).
    #[serde(default)]
    pub consecutive_failures: Option<i64>,
    /// The newest recorded error message, where the version records them.
    pub last_error: Option<String>,
    /// That error's SQLSTATE code, e.g. `P0001` for a `RAISE`.
    #[serde(default)]
    pub last_error_code: Option<String>,
    /// The cause and fix of that error, when it is a known one.
    #[serde(default)]
    pub known_cause: Option<String>,
    /// The job's configuration (JSON text).
    pub config: Option<String>,
    /// A compression job's last successful run that left chunks uncompressed (none when
    /// it left none, or for other jobs).
    #[serde(default)]
    pub left_behind: Option<ChunksLeftBehind>,
}

impl JobFacts {
    /// The tests' example: an hourly compression job on `factory_telemetry.metric_hist`
    /// whose last run succeeded half an hour before `now`, ten runs, no failure.
    #[cfg(any(test, feature = "test-support"))]
    pub fn example(id: i64, now: DateTime<Utc>) -> Self {
        let half_hour = chrono::Duration::minutes(30);
        JobFacts {
            id,
            kind: "policy_compression".into(),
            hypertable: Some("factory_telemetry.metric_hist".into()),
            schedule_interval: "01:00:00".into(),
            schedule_seconds: 3600.0,
            scheduled: true,
            next_start: Some(now + half_hour),
            running: false,
            last_run_status: Some(RunStatus::Success),
            last_run_started_at: Some(now - half_hour),
            last_run_duration_seconds: Some(2.0),
            last_successful_finish: Some(now - half_hour),
            total_runs: 10,
            total_failures: 0,
            consecutive_failures: None,
            last_error: None,
            last_error_code: None,
            known_cause: None,
            config: None,
            left_behind: None,
        }
    }
}

/// Chunks a compression job's last successful run should have compressed and did not.
///
/// A compression run that fails on some chunks (a lock timeout, a constraint) can record a
/// success: on TimescaleDB 2.27 and later when it compressed at least one, on 2.13 always
/// (its policy only logs a warning per chunk). Its status does not say so; these chunks do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChunksLeftBehind {
    /// How many: uncompressed, older than compress-after at the run's start, created
    /// before it (or decompressed since).
    pub count: i64,
    /// The oldest of them (at most twenty), `schema.name`.
    pub chunks: Vec<String>,
}

impl JobFacts {
    /// A value of the job's configuration as text (`drop_after`, `compress_after`,
    /// `start_offset`): strings as they are, numbers (integer-time tables) as digits.
    pub fn config_value(&self, key: &str) -> Option<String> {
        let config: serde_json::Value = serde_json::from_str(self.config.as_deref()?).ok()?;
        match config.get(key)? {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }
}

/// One continuous aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaggFacts {
    /// Schema of the view.
    pub schema: String,
    /// Name of the view.
    pub name: String,
    /// The hypertable it aggregates, `schema.name`.
    pub source: String,
    /// Bytes of its materialization.
    pub materialized_bytes: i64,
    /// Materialized up to here.
    pub watermark: Option<DateTime<Utc>>,
    /// How far the watermark is behind now.
    pub refresh_lag_seconds: Option<f64>,
    /// The refresh policy's schedule, if there is one.
    pub refresh_schedule: Option<String>,
}

/// How far behind a continuous aggregate is, by the one rule the overview, diagnostics
/// and every other page apply (watermarks known).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CaggStanding {
    /// Materialized within its schedule's reach, or nothing to materialize yet.
    Current,
    /// Materialized up to longer ago than [`CaggFacts::LAG_SCHEDULES`] schedules plus an
    /// hour (the usual end offset).
    Behind {
        /// How far behind now.
        lag_seconds: f64,
        /// Its refresh schedule.
        schedule_seconds: i64,
    },
    /// A refresh policy, data in its source, and nothing materialized yet.
    NeverRefreshed,
    /// Nothing refreshes it on a schedule.
    NoRefreshPolicy,
}

impl CaggFacts {
    /// Schedules a refresh may fall behind (plus an hour) before the aggregate is behind.
    pub const LAG_SCHEDULES: f64 = 3.0;

    /// Where it stands; `source_has_data` whether its source (a hypertable, or another
    /// aggregate) holds anything to materialize.
    pub fn standing(&self, source_has_data: bool) -> CaggStanding {
        let schedule = self
            .refresh_schedule
            .as_deref()
            .and_then(crate::interval::postgres_interval_seconds);
        match (schedule, self.refresh_lag_seconds) {
            (None, _) => CaggStanding::NoRefreshPolicy,
            (Some(every), Some(lag)) if lag > Self::LAG_SCHEDULES * every as f64 + 3600.0 => {
                CaggStanding::Behind {
                    lag_seconds: lag,
                    schedule_seconds: every,
                }
            }
            (Some(_), None) if self.watermark.is_none() && source_has_data => {
                CaggStanding::NeverRefreshed
            }
            _ => CaggStanding::Current,
        }
    }

    /// Whether its source holds data: a hypertable with chunks, or an aggregate (one on
    /// an aggregate) that has materialized something.
    pub fn source_has_data(
        &self,
        hypertables: &[HypertableFacts],
        aggregates: &[CaggFacts],
    ) -> bool {
        hypertables
            .iter()
            .any(|h| h.qualified() == self.source && h.chunk_count > 0)
            || aggregates.iter().any(|a| {
                crate::ident::display_name(&a.schema, &a.name) == self.source
                    && (a.watermark.is_some() || a.materialized_bytes > 0)
            })
    }

    /// Whether the overview lists it as lagging: behind, or never refreshed.
    pub fn is_lagging(&self, hypertables: &[HypertableFacts], aggregates: &[CaggFacts]) -> bool {
        matches!(
            self.standing(self.source_has_data(hypertables, aggregates)),
            CaggStanding::Behind { .. } | CaggStanding::NeverRefreshed
        )
    }
}

/// When and how the figures were gathered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// When the catalog pass finished.
    pub taken_at: DateTime<Utc>,
    /// Its age when the answer was made.
    pub age_seconds: f64,
    /// How long the pass took.
    pub pass_seconds: f64,
    /// When the passes since this one have been failing: the latest failure, in words
    /// safe to show (the figures are then older than they should be).
    #[serde(default)]
    pub failure: Option<String>,
}

/// What the overview page shows: totals over everything, and short lists of what needs
/// attention. Bounded whatever the database holds (the page used to receive every
/// hypertable, job and aggregate: hundreds of kilobytes per visit at 500 hypertables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Overall status.
    pub status: crate::types::HealthStatus,
    /// The snapshot's time; `None` before the first pass.
    pub header: Option<SnapshotHeader>,
    /// What is wrong with the database or extension, in words, if anything.
    pub problem: Option<String>,
    /// The server.
    pub database: Option<DatabaseFacts>,
    /// The extension.
    pub timescaledb: Option<ExtensionFacts>,
    /// Totals and the short lists.
    #[serde(flatten)]
    pub lists: OverviewLists,
    /// Jobs in all.
    pub job_count: usize,
    /// Continuous aggregates in all.
    pub aggregate_count: usize,
    /// Whether TimescaleDB's scheduler runs jobs here (else only by hand).
    #[serde(default)]
    pub job_scheduler: bool,
    /// The console's background tasks that are failing now or failed lately.
    #[serde(default)]
    pub troubled_tasks: Vec<crate::types::BackgroundTask>,
    /// The latest policy apply (start-up, an admin, the API or the command line).
    #[serde(default)]
    pub last_policy_apply: Option<crate::policy::report::LastRun>,
}

/// Sums over every hypertable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HypertableTotals {
    /// Hypertables.
    pub hypertables: usize,
    /// Bytes on disk.
    pub total_bytes: i64,
    /// Chunks.
    pub chunks: i64,
    /// Compressed chunks.
    pub compressed_chunks: i64,
    /// Chunks past their compress-after, uncompressed.
    pub backlog_chunks: i64,
    /// Hypertables with such chunks.
    pub backlog_tables: usize,
}

/// The overview's figures and lists drawn from a snapshot's hypertables, jobs and
/// continuous aggregates: bounded whatever the database holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OverviewLists {
    /// Totals over every hypertable.
    pub totals: HypertableTotals,
    /// The biggest hypertables, biggest first (at most [`Overview::BIGGEST`]).
    pub biggest: Vec<HypertableFacts>,
    /// Hypertables with chunks past their compress-after still uncompressed, most
    /// backlog bytes first (at most [`Overview::LISTED`], of `totals.backlog_tables`).
    pub backlog: Vec<HypertableFacts>,
    /// Compressed hypertables that shrink less than [`Overview::POOR_RATIO`], worst ratio
    /// first (at most [`Overview::WORST`]): a table at 16× is not "worst" of anything.
    pub worst_compression: Vec<HypertableFacts>,
    /// Jobs whose last run failed (at most [`Overview::LISTED`]).
    pub failing_jobs: Vec<JobFacts>,
    /// Jobs failing, in all.
    pub failing_job_count: usize,
    /// Continuous aggregates behind or never refreshed ([`CaggFacts::is_lagging`], the
    /// rule diagnostics apply), at most [`Overview::LISTED`].
    pub lagging_aggregates: Vec<CaggFacts>,
    /// Lagging aggregates, in all.
    pub lagging_aggregate_count: usize,
    /// Whether aggregates' watermarks could not be read (public API only): lag unknown.
    #[serde(default)]
    pub watermarks_unknown: bool,
}

impl Overview {
    /// Bars in the biggest-hypertables chart.
    pub const BIGGEST: usize = 8;
    /// Rows of the worst-compression list.
    pub const WORST: usize = 5;
    /// Below this compression ratio a table is listed as compressing poorly (TimescaleDB
    /// commonly reaches 5–20× with a fitting segment-by).
    pub const POOR_RATIO: f64 = 3.0;
    /// Rows of the other lists at most.
    pub const LISTED: usize = 20;
    /// The figures and lists of `hypertables`, `jobs` and `aggregates`; without
    /// `watermarks_known` no aggregate is listed as lagging (nobody knows).
    pub fn lists(
        hypertables: &[HypertableFacts],
        jobs: &[JobFacts],
        aggregates: &[CaggFacts],
        watermarks_known: bool,
    ) -> OverviewLists {
        let mut totals = HypertableTotals {
            hypertables: hypertables.len(),
            ..HypertableTotals::default()
        };
        for h in hypertables {
            totals.total_bytes += h.total_bytes;
            totals.chunks += h.chunk_count;
            totals.compressed_chunks += h.compressed_chunk_count;
            totals.backlog_chunks += h.backlog_chunks;
            totals.backlog_tables += usize::from(h.backlog_chunks > 0);
        }
        let top = |mut rows: Vec<&HypertableFacts>,
                   order: fn(&HypertableFacts, &HypertableFacts) -> std::cmp::Ordering,
                   limit: usize| {
            rows.sort_by(|a, b| order(a, b));
            rows.into_iter().take(limit).cloned().collect::<Vec<_>>()
        };
        let biggest = top(
            hypertables.iter().collect(),
            |a, b| b.total_bytes.cmp(&a.total_bytes),
            Self::BIGGEST,
        );
        let backlog = top(
            hypertables
                .iter()
                .filter(|h| h.backlog_chunks > 0)
                .collect(),
            |a, b| b.backlog_bytes.cmp(&a.backlog_bytes),
            Self::LISTED,
        );
        let worst_compression = top(
            hypertables
                .iter()
                .filter(|h| h.compression_ratio.is_some_and(|r| r < Self::POOR_RATIO))
                .collect(),
            |a, b| {
                a.compression_ratio
                    .partial_cmp(&b.compression_ratio)
                    .unwrap_or(std::cmp::Ordering::Equal)
            },
            Self::WORST,
        );
        let failing: Vec<&JobFacts> = jobs
            .iter()
            .filter(|j| j.last_run_status == Some(RunStatus::Failed))
            .collect();
        let lagging: Vec<&CaggFacts> = aggregates
            .iter()
            .filter(|_| watermarks_known)
            .filter(|c| c.is_lagging(hypertables, aggregates))
            .collect();
        OverviewLists {
            totals,
            biggest,
            backlog,
            worst_compression,
            failing_job_count: failing.len(),
            failing_jobs: failing.into_iter().take(Self::LISTED).cloned().collect(),
            lagging_aggregate_count: lagging.len(),
            lagging_aggregates: lagging.into_iter().take(Self::LISTED).cloned().collect(),
            watermarks_unknown: !watermarks_known,
        }
    }
}

/// Every hypertable, for the hypertables page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HypertableList {
    /// The snapshot's time; `None` before the first pass.
    pub header: Option<SnapshotHeader>,
    /// Hypertables, biggest first.
    pub hypertables: Vec<HypertableFacts>,
}

/// One hypertable with some of its chunks, its jobs and continuous aggregates. A real
/// hypertable has thousands of chunks; the page gets a bounded window of them and links to
/// the paged chunk table for the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HypertableDetail {
    /// The snapshot's time.
    pub header: SnapshotHeader,
    /// The hypertable.
    pub hypertable: HypertableFacts,
    /// The newest chunks (at most [`HypertableDetail::TIMELINE`]), oldest first.
    pub timeline: ChunkWindow,
    /// The oldest uncompressed chunks (those that should have been compressed first),
    /// at most [`HypertableDetail::LISTED`], oldest first.
    pub uncompressed: ChunkWindow,
    /// The newest compressed chunks (backfills touch recent data), at most
    /// [`HypertableDetail::LISTED`], newest first.
    pub compressed: ChunkWindow,
    /// Jobs working on it.
    pub jobs: Vec<JobFacts>,
    /// Continuous aggregates on it.
    pub continuous_aggregates: Vec<CaggFacts>,
}

/// Some chunks of a longer list, and how long the list is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChunkWindow {
    /// The chunks shown.
    pub chunks: Vec<ChunkFacts>,
    /// How many the whole list has.
    pub total: usize,
}

impl ChunkWindow {
    /// The first `limit` of `chunks`, knowing the list's length.
    fn first<'a>(chunks: impl Iterator<Item = &'a ChunkFacts>, limit: usize) -> Self {
        let mut total = 0;
        let mut shown = Vec::new();
        for chunk in chunks {
            total += 1;
            if shown.len() < limit {
                shown.push(chunk.clone());
            }
        }
        Self {
            chunks: shown,
            total,
        }
    }

    /// Whether the list was cut.
    pub fn is_cut(&self) -> bool {
        self.total > self.chunks.len()
    }
}

impl HypertableDetail {
    /// Chunks on the timeline at most: well over a year of daily chunks, and a chart that
    /// still draws at once.
    pub const TIMELINE: usize = 500;
    /// Chunks per list at most.
    pub const LISTED: usize = 20;

    /// The windows of `chunks` (the hypertable's, oldest first) the page shows.
    pub fn windows(chunks: &[&ChunkFacts]) -> (ChunkWindow, ChunkWindow, ChunkWindow) {
        let mut timeline = ChunkWindow::first(chunks.iter().rev().copied(), Self::TIMELINE);
        timeline.chunks.reverse();
        let uncompressed = ChunkWindow::first(
            chunks.iter().copied().filter(|c| !c.is_compressed),
            Self::LISTED,
        );
        let compressed = ChunkWindow::first(
            chunks.iter().rev().copied().filter(|c| c.is_compressed),
            Self::LISTED,
        );
        (timeline, uncompressed, compressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(n: usize, is_compressed: bool) -> ChunkFacts {
        ChunkFacts {
            hypertable_schema: "s".into(),
            hypertable_name: "t".into(),
            schema: "_timescaledb_internal".into(),
            name: format!("_hyper_1_{n}_chunk"),
            range_start: None,
            range_end: None,
            range_start_integer: Some(n as i64),
            range_end_integer: Some(n as i64 + 1),
            total_bytes: 8192,
            is_compressed,
            before_compression_bytes: None,
            after_compression_bytes: None,
            tablespace: None,
            in_backlog: false,
        }
    }

    fn names(window: &ChunkWindow) -> Vec<usize> {
        let number = |c: &ChunkFacts| c.range_start_integer.unwrap_or(-1) as usize;
        window.chunks.iter().map(number).collect()
    }

    /// 1,200 chunks, the oldest 700 compressed: the timeline is the newest 500 in time
    /// order, the lists the oldest uncompressed and the newest compressed, with totals.
    #[test]
    fn a_long_hypertable_is_cut_to_bounded_windows() {
        let chunks: Vec<_> = (0..1200).map(|n| chunk(n, n < 700)).collect();
        let refs: Vec<_> = chunks.iter().collect();
        let (timeline, uncompressed, compressed) = HypertableDetail::windows(&refs);
        assert_eq!(names(&timeline), (700..1200).collect::<Vec<_>>());
        assert_eq!((timeline.total, timeline.is_cut()), (1200, true));
        assert_eq!(names(&uncompressed), (700..720).collect::<Vec<_>>());
        assert_eq!(uncompressed.total, 500);
        assert_eq!(names(&compressed), (680..700).rev().collect::<Vec<_>>());
        assert_eq!(compressed.total, 700);
    }

    #[test]
    fn a_short_hypertable_is_shown_whole() {
        let chunks: Vec<_> = (0..3).map(|n| chunk(n, n == 0)).collect();
        let refs: Vec<_> = chunks.iter().collect();
        let (timeline, uncompressed, compressed) = HypertableDetail::windows(&refs);
        assert_eq!(names(&timeline), [0, 1, 2]);
        assert!(!timeline.is_cut() && !uncompressed.is_cut() && !compressed.is_cut());
        assert_eq!(
            (names(&uncompressed), names(&compressed)),
            (vec![1, 2], vec![0])
        );
        assert_eq!(names(&ChunkWindow::default()), Vec::<usize>::new());
    }

    fn hypertable(n: i64, ratio: Option<f64>, backlog: i64) -> HypertableFacts {
        HypertableFacts {
            schema: "s".into(),
            name: format!("t{n}"),
            dimensions: Vec::new(),
            table_bytes: n,
            index_bytes: 0,
            toast_bytes: 0,
            total_bytes: n * 1000,
            chunk_count: 10,
            compressed_chunk_count: 4,
            before_compression_bytes: 0,
            after_compression_bytes: 0,
            compression_ratio: ratio,
            approximate_rows: 0,
            compression_enabled: ratio.is_some(),
            segment_by: Vec::new(),
            order_by: Vec::new(),
            compress_after: None,
            backlog_chunks: backlog,
            backlog_bytes: backlog * n,
        }
    }

    /// 500 hypertables, every third with a backlog, every second compressed: the overview
    /// gets the totals over all of them and short lists in the right order.
    #[test]
    fn the_overview_sums_everything_and_lists_a_few() {
        let tables: Vec<_> = (1..=500)
            .map(|n| hypertable(n, (n % 2 == 0).then_some(n as f64), i64::from(n % 3 == 0)))
            .collect();
        let lists = Overview::lists(&tables, &[], &[], true);
        assert_eq!(lists.totals.hypertables, 500);
        assert_eq!(lists.totals.total_bytes, 1000 * 500 * 501 / 2);
        assert_eq!(
            (lists.totals.chunks, lists.totals.compressed_chunks),
            (5000, 2000)
        );
        assert_eq!(
            (lists.totals.backlog_chunks, lists.totals.backlog_tables),
            (166, 166)
        );
        let names =
            |rows: &[HypertableFacts]| rows.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&lists.biggest),
            ["t500", "t499", "t498", "t497", "t496", "t495", "t494", "t493"]
        );
        assert_eq!(
            names(&lists.worst_compression),
            ["t2"],
            "only what compresses less than 3x"
        );
        assert_eq!(lists.backlog.len(), Overview::LISTED);
        assert_eq!(names(&lists.backlog[..2]), ["t498", "t495"]);
        let empty = Overview::lists(&[], &[], &[], true);
        assert_eq!(empty, OverviewLists::default());
    }
}
