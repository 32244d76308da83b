//! The suite itself: each of the seed's tests run `runs` times against a hypertable in
//! the scratch schema, each beside an anchor measured in the same run on the same
//! database (psql sending the same statements and rows, or the same work done one
//! connection at a time for the concurrency tests).

use super::psql::{Psql, PsqlError};
use super::report::{Anchor, BenchReport, IngestPath, Progress, TestKey, TestResult};
use super::rows::{Rows, ROWS_PER_PLANT_SECOND};
use super::scratch::Scratch;
use super::stats::Summary;
use crate::capabilities::Capabilities;
use crate::ident::{quote_ident, quote_literal};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Batch size of the ingest-rate test (and of its psql anchor on servers without COPY).
const INGEST_BATCH: u64 = 10_000;
/// Single inserts and short queries are timed this many times per run.
const REPEATS: usize = 10;
/// The projection of storage per month: the bench's plant (12 machines × 4 metrics) at
/// one sample a second, for 30 days.
const ROWS_PER_MONTH: f64 = ROWS_PER_PLANT_SECOND as f64 * 86_400.0 * 30.0;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Times each test runs (min / median / max are over these).
    pub runs: u32,
    /// Rows of the ingest-rate test.
    pub rows: u64,
    /// The psql the anchors are measured with, when one was found.
    pub psql: Option<Psql>,
}

/// Runs the whole suite inside `scratch` (which the caller removes afterwards, whatever
/// happens), reporting progress after each step.
pub async fn run(
    scratch: &mut Scratch,
    pool: &PgPool,
    capabilities: &Capabilities,
    options: &BenchOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<BenchReport> {
    let timescaledb = capabilities.require_timescaledb()?;
    let started_at = Utc::now();
    let path = if capabilities.accepts_copy_from_stdin() {
        IngestPath::Copy
    } else {
        IngestPath::Unnest
    };
    let mut bench = Bench::prepare(scratch, pool, path, options, progress).await?;
    let mut tests = Vec::new();
    for key in TestKey::ALL.into_iter().filter(|key| key.stands_alone()) {
        tests.push(bench.measure(key).await?);
    }
    tests.extend(bench.compression().await?);
    tests.push(bench.end_to_end().await?);
    tests.sort_by_key(|t| TestKey::ALL.iter().position(|k| *k == t.key));
    Ok(BenchReport {
        started_at,
        finished_at: Utc::now(),
        postgres: capabilities.server_version.clone(),
        timescaledb: timescaledb.to_string(),
        connections: bench.connections,
        ingest_path: path,
        runs: options.runs,
        rows: options.rows,
        psql: options.psql.as_ref().map(|p| p.version().to_string()),
        tests,
    })
}

/// The run's state: where rows go, what has been written so far, progress.
struct Bench<'a> {
    scratch: &'a mut Scratch,
    pool: &'a PgPool,
    path: IngestPath,
    options: &'a BenchOptions,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The bench hypertable, quoted.
    table: String,
    /// psql's ingest anchors write here: the same definition, so both start alike.
    anchor_table: String,
    /// The plant's first sample; rows continue from `next_row`.
    origin: DateTime<Utc>,
    next_row: u64,
    anchor_next_row: u64,
    /// Connections the concurrency tests can hold at once (1 where the server has one).
    connections: u32,
    /// psql's input files; removed when the run ends.
    files: ScratchFiles,
    done: u32,
    total: u32,
}

impl<'a> Bench<'a> {
    async fn prepare(
        scratch: &'a mut Scratch,
        pool: &'a PgPool,
        path: IngestPath,
        options: &'a BenchOptions,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Result<Bench<'a>> {
        let schema = quote_ident(scratch.schema());
        let table = format!("{schema}.{}", quote_ident("readings"));
        let anchor_table = format!("{schema}.{}", quote_ident("readings_psql"));
        for name in [&table, &anchor_table] {
            sqlx::query(&format!(
                "CREATE TABLE {name} (ts timestamptz NOT NULL, equipment_id text NOT NULL,
                     metric_name text NOT NULL, value double precision NOT NULL,
                     quality smallint NOT NULL)"
            ))
            .execute(scratch.conn()?)
            .await?;
            sqlx::query(
                "SELECT create_hypertable($1::regclass, 'ts', chunk_time_interval => interval '1 hour')",
            )
            .bind(name)
            .execute(scratch.conn()?)
            .await?;
            sqlx::query(&format!(
                "ALTER TABLE {name} SET (timescaledb.compress,
                     timescaledb.compress_segmentby = 'equipment_id, metric_name',
                     timescaledb.compress_orderby = 'ts')"
            ))
            .execute(scratch.conn()?)
            .await?;
        }
        // The scratch connection is one of the pool's; the others are the concurrency tests'.
        let connections = pool
            .options()
            .get_max_connections()
            .saturating_sub(1)
            .max(1);
        let origin: DateTime<Utc> =
            sqlx::query_scalar("SELECT date_trunc('hour', now() - interval '30 days')")
                .fetch_one(scratch.conn()?)
                .await?;
        let total = options.runs * 11 + 1;
        Ok(Bench {
            scratch,
            pool,
            path,
            options,
            progress,
            table,
            anchor_table,
            origin,
            next_row: 0,
            anchor_next_row: 0,
            connections,
            files: ScratchFiles::new(),
            done: 0,
            total,
        })
    }

    /// Says what runs now; `step` counts towards the bar.
    fn report(&mut self, current: String, step: bool) {
        if step {
            self.done = (self.done + 1).min(self.total);
        }
        (self.progress)(Progress {
            done: self.done,
            total: self.total,
            current,
        });
    }

    /// The next `count` rows of the plant for our table.
    fn rows(&mut self, count: u64) -> Rows {
        let rows = Rows::generate(self.origin, self.next_row, count);
        self.next_row += count;
        rows
    }

    /// The next `count` rows for psql's table (the same rows ours got at that position).
    fn anchor_rows(&mut self, count: u64) -> Rows {
        let rows = Rows::generate(self.origin, self.anchor_next_row, count);
        self.anchor_next_row += count;
        rows
    }

    /// Runs one ingest, query or concurrency test `runs` times, then its anchor.
    async fn measure(&mut self, key: TestKey) -> Result<TestResult> {
        let mut samples = Vec::new();
        for run in 1..=self.options.runs {
            self.report(
                format!("{} — run {run}/{}", key.label(), self.options.runs),
                false,
            );
            samples.extend(self.sample(key).await?);
            self.report(
                format!("{} — run {run}/{}", key.label(), self.options.runs),
                true,
            );
        }
        self.report(format!("{} — anchor", key.label()), false);
        let (anchor, mut note) = self.anchor(key).await?;
        if matches!(key, TestKey::ConcurrentInserts | TestKey::ConcurrentQueries)
            && self.connections == 1
        {
            note = format!("The server accepts one connection at a time: the work ran one piece after another. {note}");
        }
        Ok(TestResult {
            key,
            ours: Summary::of(&samples),
            anchor,
            note,
        })
    }

    /// One run of a test: its figures in the test's unit.
    async fn sample(&mut self, key: TestKey) -> Result<Vec<f64>> {
        let table = self.table.clone();
        Ok(match key {
            TestKey::SingleInsert => {
                let mut out = Vec::with_capacity(REPEATS);
                for _ in 0..REPEATS {
                    let rows = self.rows(1);
                    let started = Instant::now();
                    sqlx::query(&format!(
                        "INSERT INTO {table} (ts, equipment_id, metric_name, value, quality)
                         VALUES ($1, $2, $3, $4, $5)"
                    ))
                    .bind(rows.ts[0])
                    .bind(&rows.equipment_id[0])
                    .bind(&rows.metric_name[0])
                    .bind(rows.value[0])
                    .bind(rows.quality[0])
                    .execute(self.scratch.conn()?)
                    .await?;
                    out.push(millis(started.elapsed()));
                }
                out
            }
            TestKey::Bulk1000 | TestKey::Batch5000 => {
                let rows = self.rows(if key == TestKey::Bulk1000 {
                    1_000
                } else {
                    5_000
                });
                let started = Instant::now();
                ingest(self.scratch.conn()?, self.path, &table, &rows).await?;
                vec![started.elapsed().as_secs_f64()]
            }
            TestKey::IngestRate => {
                let total = self.options.rows;
                let batches: Vec<Rows> = (0..total.div_ceil(INGEST_BATCH))
                    .map(|i| self.rows(INGEST_BATCH.min(total - i * INGEST_BATCH)))
                    .collect();
                let started = Instant::now();
                for rows in &batches {
                    ingest(self.scratch.conn()?, self.path, &table, rows).await?;
                }
                vec![total as f64 / started.elapsed().as_secs_f64()]
            }
            TestKey::Recent100 | TestKey::Aggregation | TestKey::Filtered => {
                let (sql, binds) = self.query_of(key).await?;
                let mut out = Vec::with_capacity(REPEATS);
                for _ in 0..REPEATS {
                    let started = Instant::now();
                    let mut query = sqlx::query(&sql);
                    for bind in &binds {
                        query = query.bind(bind);
                    }
                    query.fetch_all(self.scratch.conn()?).await?;
                    out.push(millis(started.elapsed()));
                }
                out
            }
            TestKey::ConcurrentInserts => {
                let batches: Vec<Rows> = (0..5).map(|_| self.rows(1_000)).collect();
                vec![self
                    .concurrently(Work::Insert(batches))
                    .await?
                    .as_secs_f64()]
            }
            TestKey::ConcurrentQueries => {
                vec![self.concurrently(Work::Queries(10)).await?.as_secs_f64()]
            }
            _ => Vec::new(),
        })
    }

    /// A query test's SQL with its values bound (`$n` as text with a cast).
    async fn query_of(&mut self, key: TestKey) -> Result<(String, Vec<String>)> {
        let table = &self.table;
        Ok(match key {
            TestKey::Recent100 => (
                format!(
                    "SELECT ts, equipment_id, metric_name, value, quality FROM {table}
                      ORDER BY ts DESC LIMIT 100"
                ),
                Vec::new(),
            ),
            TestKey::Aggregation => (aggregation_sql(table, None), Vec::new()),
            _ => {
                // The last six hours of one machine's temperature, up to the newest row.
                let newest: Option<DateTime<Utc>> =
                    sqlx::query_scalar(&format!("SELECT max(ts) FROM {table}"))
                        .fetch_one(self.scratch.conn()?)
                        .await?;
                let since = newest.unwrap_or(self.origin) - chrono::Duration::hours(6);
                (
                    format!(
                        "SELECT ts, value FROM {table}
                          WHERE equipment_id = $1::text AND metric_name = $2::text
                            AND ts >= $3::timestamptz
                          ORDER BY ts"
                    ),
                    vec![
                        "EQ-003".into(),
                        "temperature_c".into(),
                        since.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
                    ],
                )
            }
        })
    }

    /// Runs `work` spread over the concurrency connections; the wall time until all is done.
    async fn concurrently(&mut self, work: Work) -> Result<Duration> {
        let pieces = work.pieces(&self.table, self.path);
        if self.connections <= 1 {
            return self.one_after_another(pieces).await;
        }
        let wanted = pieces.len().min(self.connections as usize);
        let mut conns = Vec::with_capacity(wanted);
        for _ in 0..wanted {
            let mut conn = self.pool.acquire().await?;
            conn.close_on_drop();
            conns.push(conn);
        }
        let mut queues: Vec<Vec<Piece>> = vec![Vec::new(); wanted];
        for (i, piece) in pieces.into_iter().enumerate() {
            queues[i % wanted].push(piece);
        }
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (mut conn, queue) in conns.into_iter().zip(queues) {
            tasks.spawn(async move {
                for piece in &queue {
                    piece.run(&mut conn).await?;
                }
                Ok::<_, crate::Error>(conn)
            });
        }
        let mut finished = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let conn = joined.map_err(|e| crate::Error::Unexpected(e.to_string()))??;
            finished.push(conn);
        }
        let elapsed = started.elapsed();
        drop(finished);
        Ok(elapsed)
    }

    async fn one_after_another(&mut self, pieces: Vec<Piece>) -> Result<Duration> {
        let started = Instant::now();
        for piece in &pieces {
            piece.run(self.scratch.conn()?).await?;
        }
        Ok(started.elapsed())
    }

    /// The anchor of a test and the note that goes with the test.
    async fn anchor(&mut self, key: TestKey) -> Result<(Option<Anchor>, String)> {
        let runs = self.options.runs as usize;
        match key {
            TestKey::ConcurrentInserts | TestKey::ConcurrentQueries => {
                let mut samples = Vec::with_capacity(runs);
                for _ in 0..runs {
                    let work = if key == TestKey::ConcurrentInserts {
                        Work::Insert((0..5).map(|_| self.rows(1_000)).collect())
                    } else {
                        Work::Queries(10)
                    };
                    let pieces = work.pieces(&self.table, self.path);
                    samples.push(self.one_after_another(pieces).await?.as_secs_f64());
                }
                let pieces = if key == TestKey::ConcurrentInserts {
                    "five batches of 1,000 rows"
                } else {
                    "ten hourly aggregations"
                };
                let used = if key == TestKey::ConcurrentInserts {
                    5
                } else {
                    10
                };
                Ok((
                    Summary::of(&samples).map(|summary| Anchor {
                        label: format!("the same {pieces} one after another on one connection"),
                        summary,
                    }),
                    format!(
                        "{} connection(s) at once, ingest by {}.",
                        self.connections.min(used),
                        self.path.describe()
                    ),
                ))
            }
            _ => match self.options.psql.clone() {
                None => Ok((
                    None,
                    format!("{} No psql was found for an anchor.", self.note(key)),
                )),
                Some(psql) => match self.psql_anchor(&psql, key).await? {
                    Ok(anchor) => Ok((anchor, self.note(key))),
                    Err(error) => Ok((
                        None,
                        format!("{} The psql anchor failed: {error}", self.note(key)),
                    )),
                },
            },
        }
    }

    /// What a reader needs to know about how a test ran.
    fn note(&self, key: TestKey) -> String {
        match key {
            TestKey::SingleInsert => format!("{REPEATS} one-row INSERTs per run, each timed."),
            TestKey::Bulk1000 | TestKey::Batch5000 => {
                format!("One batch per run by {}.", self.path.describe())
            }
            TestKey::IngestRate => format!(
                "{} rows per run in batches of {INGEST_BATCH} by {}.",
                self.options.rows,
                self.path.describe()
            ),
            TestKey::Recent100 | TestKey::Aggregation | TestKey::Filtered => format!(
                "{REPEATS} queries per run over the bench table as the earlier tests left it (chunks of one hour)."
            ),
            _ => String::new(),
        }
    }

    /// psql's measurement of the same test: the same statements, the same rows.
    async fn psql_anchor(
        &mut self,
        psql: &Psql,
        key: TestKey,
    ) -> Result<std::result::Result<Option<Anchor>, PsqlError>> {
        let Some(plan) = self.psql_plan(key).await? else {
            return Ok(Ok(None));
        };
        let label = plan.label.clone();
        Ok(self
            .with_psql(psql, plan)
            .await?
            .map(|summary| summary.map(|summary| Anchor { label, summary })))
    }

    /// The scripts psql runs for a test's anchor, prepared while the bench holds its
    /// connection (the filtered query asks for the newest row first).
    async fn psql_plan(&mut self, key: TestKey) -> Result<Option<PsqlPlan>> {
        let runs = self.options.runs as u64;
        let anchor_table = self.anchor_table.clone();
        Ok(Some(match key {
            TestKey::SingleInsert => {
                let mut script = String::new();
                for _ in 0..runs * REPEATS as u64 {
                    let rows = self.anchor_rows(1);
                    script.push_str(&insert_values(&anchor_table, &rows));
                }
                PsqlPlan {
                    label: "psql sending the same one-row INSERTs".into(),
                    scripts: vec![script],
                    statements: (runs as usize) * REPEATS,
                    reading: Reading::EachMillis,
                }
            }
            TestKey::Bulk1000 | TestKey::Batch5000 | TestKey::IngestRate => {
                let per_run = match key {
                    TestKey::Bulk1000 => 1_000,
                    TestKey::Batch5000 => 5_000,
                    _ => self.options.rows,
                };
                let mut scripts = Vec::new();
                for _ in 0..runs {
                    let rows = self.anchor_rows(per_run);
                    scripts.push(match self.path {
                        IngestPath::Copy => {
                            let file = self.files.write(&rows.to_csv()).map_err(|error| {
                                crate::Error::Unexpected(format!("could not write psql's rows: {error}"))
                            })?;
                            format!(
                                "\\copy {anchor_table} (ts, equipment_id, metric_name, value, quality) FROM {} WITH (FORMAT csv)\n",
                                quote_literal(&file.display().to_string())
                            )
                        }
                        IngestPath::Unnest => {
                            let mut script = String::new();
                            for start in (0..per_run).step_by(INGEST_BATCH as usize) {
                                let end = (start + INGEST_BATCH).min(per_run) as usize;
                                script.push_str(&insert_values(
                                    &anchor_table,
                                    &rows.slice(start as usize, end),
                                ));
                            }
                            script
                        }
                    });
                }
                PsqlPlan {
                    label: match self.path {
                        IngestPath::Copy => "psql \\copy of the same rows from a CSV file",
                        IngestPath::Unnest => "psql sending the same rows as INSERT … VALUES in the same batches (this server must not be sent COPY FROM)",
                    }
                    .into(),
                    scripts,
                    statements: match self.path {
                        IngestPath::Copy => 1,
                        IngestPath::Unnest => per_run.div_ceil(INGEST_BATCH) as usize,
                    },
                    reading: if key == TestKey::IngestRate {
                        Reading::RowsPerSecond(per_run)
                    } else {
                        Reading::SumSeconds
                    },
                }
            }
            TestKey::Recent100 | TestKey::Aggregation | TestKey::Filtered => {
                let (sql, binds) = self.query_of(key).await?;
                let literal = bind_literals(&sql, &binds);
                PsqlPlan {
                    label: "psql sending the same query".into(),
                    scripts: vec![format!("{literal};\n").repeat(runs as usize * REPEATS)],
                    statements: runs as usize * REPEATS,
                    reading: Reading::EachMillis,
                }
            }
            TestKey::EndToEnd => {
                let mut scripts = Vec::new();
                for _ in 0..runs {
                    let rows = self.rows(1_000);
                    let mut script = insert_values(&self.table, &rows);
                    for sql in workflow_reads(&self.table, rows.ts[0]) {
                        script.push_str(&sql);
                        script.push_str(";\n");
                    }
                    scripts.push(script);
                }
                PsqlPlan {
                    label: "psql running the same workflow on the same table (its rows as INSERT … VALUES)".into(),
                    scripts,
                    statements: 1 + WORKFLOW_READS,
                    reading: Reading::SumSeconds,
                }
            }
            _ => return Ok(None),
        }))
    }

    /// Runs a plan's scripts through psql. On a server that serves one connection at a
    /// time the bench steps aside meanwhile, or psql could not connect at all.
    async fn with_psql(
        &mut self,
        psql: &Psql,
        plan: PsqlPlan,
    ) -> Result<std::result::Result<Option<Summary>, PsqlError>> {
        let alone = self.connections == 1;
        if alone {
            self.scratch.step_aside().await?;
        }
        let mut samples = Vec::new();
        let mut failure = None;
        for script in &plan.scripts {
            match psql.timings(script, plan.statements).await {
                Ok(times) => match plan.reading {
                    Reading::EachMillis => samples.extend(times.iter().map(|t| millis(*t))),
                    Reading::SumSeconds => {
                        samples.push(times.iter().sum::<Duration>().as_secs_f64())
                    }
                    Reading::RowsPerSecond(rows) => {
                        samples.push(rows as f64 / times.iter().sum::<Duration>().as_secs_f64())
                    }
                },
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        if alone {
            self.scratch.come_back(self.pool).await?;
        }
        Ok(match failure {
            Some(error) => Err(error),
            None => Ok(Summary::of(&samples)),
        })
    }

    /// Compresses every chunk of the bench table `runs` times (decompressing between runs)
    /// and reads the bytes before and after from TimescaleDB's own statistics.
    async fn compression(&mut self) -> Result<Vec<TestResult>> {
        let table = self.table.clone();
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(self.scratch.conn()?)
            .await?;
        let (mut saved, mut seconds, mut after_per_row, mut before_per_row) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut chunks = 0;
        for run in 1..=self.options.runs {
            self.report(
                format!("compression — run {run}/{}", self.options.runs),
                false,
            );
            if run > 1 {
                sqlx::query("SELECT count(decompress_chunk(c, if_compressed => true)) FROM show_chunks($1::regclass) c")
                    .bind(&table)
                    .execute(self.scratch.conn()?)
                    .await?;
            }
            let started = Instant::now();
            chunks = sqlx::query_scalar::<_, i64>(
                "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks($1::regclass) c",
            )
            .bind(&table)
            .fetch_one(self.scratch.conn()?)
            .await?;
            seconds.push(started.elapsed().as_secs_f64());
            let (before, after): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT before_compression_total_bytes, after_compression_total_bytes
                   FROM hypertable_compression_stats($1::regclass)",
            )
            .bind(&table)
            .fetch_one(self.scratch.conn()?)
            .await?;
            if let (Some(before), Some(after)) = (before, after) {
                if before > 0 && rows > 0 {
                    saved.push((1.0 - after as f64 / before as f64) * 100.0);
                    after_per_row.push(after as f64 / rows as f64);
                    before_per_row.push(before as f64 / rows as f64);
                }
            }
            self.report(
                format!("compression — run {run}/{}", self.options.runs),
                true,
            );
        }
        let time = Summary::of(&seconds)
            .map(|s| format!("{:.3} / {:.3} / {:.3} s", s.min, s.median, s.max))
            .unwrap_or_else(|| "—".into());
        let compression = TestResult {
            key: TestKey::Compression,
            ours: Summary::of(&saved),
            anchor: None,
            note: format!(
                "{chunks} chunk(s), {rows} rows; bytes before and after from TimescaleDB's hypertable_compression_stats; compressing took {time} (min / median / max); segment by machine and metric, ordered by time."
            ),
        };
        let efficiency = TestResult {
            key: TestKey::StorageEfficiency,
            ours: Summary::of(&after_per_row),
            anchor: Summary::of(&before_per_row).map(|summary| Anchor {
                label: "the same rows uncompressed (table, indexes, TOAST)".into(),
                summary,
            }),
            note: "Compressed bytes (TimescaleDB's statistics) over the rows stored.".into(),
        };
        let month = |samples: &[f64]| {
            let projected: Vec<f64> = samples.iter().map(|b| b * ROWS_PER_MONTH / 1e9).collect();
            Summary::of(&projected)
        };
        let storage = TestResult {
            key: TestKey::StoragePerMonth,
            ours: month(&after_per_row),
            anchor: month(&before_per_row).map(|summary| Anchor {
                label: "the same projection uncompressed".into(),
                summary,
            }),
            note: format!(
                "Projected: compressed bytes per row × {} rows (12 machines × 4 metrics, one sample a second, 30 days).",
                ROWS_PER_MONTH as u64
            ),
        };
        self.report("storage figures".into(), true);
        Ok(vec![compression, efficiency, storage])
    }

    /// Ingest, read back, aggregate the last hour, compress what is new and read it:
    /// the console's way, then psql's with the same statements on the same table.
    async fn end_to_end(&mut self) -> Result<TestResult> {
        let table = self.table.clone();
        let mut samples = Vec::new();
        for run in 1..=self.options.runs {
            self.report(
                format!("end-to-end workflow — run {run}/{}", self.options.runs),
                false,
            );
            let rows = self.rows(1_000);
            let since = rows.ts[0];
            let started = Instant::now();
            ingest(self.scratch.conn()?, self.path, &table, &rows).await?;
            for sql in workflow_reads(&table, since) {
                sqlx::query(&sql).fetch_all(self.scratch.conn()?).await?;
            }
            samples.push(started.elapsed().as_secs_f64());
            self.report(
                format!("end-to-end workflow — run {run}/{}", self.options.runs),
                true,
            );
        }
        self.report("end-to-end workflow — anchor".into(), false);
        let mut note = format!(
            "1,000 rows by {}, the latest 100 back, the last hour aggregated, new chunks compressed, one machine's compressed data read.",
            self.path.describe()
        );
        let mut anchor = None;
        match self.options.psql.clone() {
            Some(psql) => match self.psql_anchor(&psql, TestKey::EndToEnd).await? {
                Ok(found) => anchor = found,
                Err(error) => note.push_str(&format!(" The psql anchor failed: {error}")),
            },
            None => note.push_str(" No psql was found for an anchor."),
        }
        Ok(TestResult {
            key: TestKey::EndToEnd,
            ours: Summary::of(&samples),
            anchor,
            note,
        })
    }
}

/// What psql runs for an anchor and how its timings become samples.
struct PsqlPlan {
    label: String,
    scripts: Vec<String>,
    /// Statements in each script: psql must report a time for each.
    statements: usize,
    reading: Reading,
}

/// How psql's `\timing` lines become samples in the test's unit.
enum Reading {
    /// Every statement is a sample, in milliseconds.
    EachMillis,
    /// Each script is a sample: the sum of its statements, in seconds.
    SumSeconds,
    /// Each script is a sample: this many rows over the sum of its statements.
    RowsPerSecond(u64),
}

/// Work the concurrency tests spread over connections.
enum Work {
    Insert(Vec<Rows>),
    Queries(usize),
}

/// One piece of concurrent work: a batch to write or an aggregation to run.
#[derive(Clone)]
enum Piece {
    Insert {
        table: String,
        path: IngestPath,
        rows: Rows,
    },
    Query(String),
}

impl Work {
    fn pieces(self, table: &str, path: IngestPath) -> Vec<Piece> {
        match self {
            Work::Insert(batches) => batches
                .into_iter()
                .map(|rows| Piece::Insert {
                    table: table.to_string(),
                    path,
                    rows,
                })
                .collect(),
            Work::Queries(count) => (0..count)
                .map(|i| {
                    Piece::Query(aggregation_sql(
                        table,
                        Some(&format!("EQ-{:03}", i % 12 + 1)),
                    ))
                })
                .collect(),
        }
    }
}

impl Piece {
    async fn run(&self, conn: &mut PgConnection) -> Result<()> {
        match self {
            Piece::Insert { table, path, rows } => ingest(conn, *path, table, rows).await,
            Piece::Query(sql) => {
                sqlx::query(sql).fetch_all(conn).await?;
                Ok(())
            }
        }
    }
}

/// Writes `rows` into `table` by `path`.
async fn ingest(conn: &mut PgConnection, path: IngestPath, table: &str, rows: &Rows) -> Result<()> {
    match path {
        IngestPath::Copy => {
            let mut copy = conn
                .copy_in_raw(&format!(
                    "COPY {table} (ts, equipment_id, metric_name, value, quality) FROM STDIN (FORMAT binary)"
                ))
                .await?;
            copy.send(rows.to_copy_binary()).await?;
            copy.finish().await?;
        }
        IngestPath::Unnest => {
            sqlx::query(&format!(
                "INSERT INTO {table} (ts, equipment_id, metric_name, value, quality)
                 SELECT * FROM UNNEST($1::timestamptz[], $2::text[], $3::text[],
                                      $4::double precision[], $5::smallint[])"
            ))
            .bind(&rows.ts)
            .bind(&rows.equipment_id)
            .bind(&rows.metric_name)
            .bind(&rows.value)
            .bind(&rows.quality)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Hourly buckets per machine and metric, over the table or one machine's rows.
fn aggregation_sql(table: &str, machine: Option<&str>) -> String {
    let filter = machine
        .map(|m| format!(" WHERE equipment_id = {}", quote_literal(m)))
        .unwrap_or_default();
    format!(
        "SELECT time_bucket(interval '1 hour', ts) AS bucket, equipment_id, metric_name,
                avg(value), min(value), max(value), count(*)
           FROM {table}{filter} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
}

/// Statements [`workflow_reads`] returns.
const WORKFLOW_READS: usize = 4;

/// The reads of the end-to-end workflow after its rows (from `since`) were written.
fn workflow_reads(table: &str, since: DateTime<Utc>) -> Vec<String> {
    let since = quote_literal(&since.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string());
    vec![
        format!("SELECT * FROM {table} ORDER BY ts DESC LIMIT 100"),
        format!(
            "SELECT time_bucket(interval '1 minute', ts), equipment_id, metric_name, avg(value)
               FROM {table} WHERE ts >= {since}::timestamptz - interval '1 hour'
              GROUP BY 1, 2, 3"
        ),
        format!(
            "SELECT count(compress_chunk(c, if_not_compressed => true))
               FROM show_chunks({}::regclass, newer_than => {since}::timestamptz - interval '1 hour') c",
            quote_literal(table)
        ),
        format!(
            "SELECT ts, value FROM {table}
              WHERE equipment_id = 'EQ-001' AND metric_name = 'temperature_c'
                AND ts >= {since}::timestamptz - interval '1 hour' ORDER BY ts"
        ),
    ]
}

/// `INSERT INTO table … VALUES …;` for psql.
fn insert_values(table: &str, rows: &Rows) -> String {
    format!(
        "INSERT INTO {table} (ts, equipment_id, metric_name, value, quality) VALUES {};\n",
        rows.to_values()
    )
}

/// The query with its `$n::type` parameters written as literals, for psql.
fn bind_literals(sql: &str, binds: &[String]) -> String {
    let mut out = sql.to_string();
    // Highest first, so `$1` never eats the start of `$10`.
    for (i, value) in binds.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), &quote_literal(value));
    }
    out
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// psql's input files, in a private folder removed when the run ends.
struct ScratchFiles {
    dir: PathBuf,
    count: usize,
}

impl ScratchFiles {
    fn new() -> ScratchFiles {
        ScratchFiles {
            dir: std::env::temp_dir().join(format!("ms5-bench-{}", std::process::id())),
            count: 0,
        }
    }

    fn write(&mut self, content: &str) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        self.count += 1;
        let path = self.dir.join(format!("rows-{}.csv", self.count));
        std::fs::write(&path, content)?;
        Ok(path)
    }
}

impl Drop for ScratchFiles {
    fn drop(&mut self) {
        if self.count > 0 {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_literals_for_psql() {
        let sql = "SELECT 1 WHERE a = $1::text AND b = $2::text AND c = $10";
        let binds: Vec<String> = (1..=10).map(|i| format!("v{i}'")).collect();
        assert_eq!(
            bind_literals(sql, &binds),
            "SELECT 1 WHERE a = 'v1'''::text AND b = 'v2'''::text AND c = 'v10'''"
        );
    }
}
