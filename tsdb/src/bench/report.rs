//! What a bench run found: the tests, the seed's claims beside each, our figures and the
//! anchor measured in the same run. Compiled for wasm32 too: the admin page reads it.

use super::stats::Summary;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The unit a test's figures are in; it decides formatting and which direction is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Wall time of one operation.
    Milliseconds,
    /// Wall time of a whole workload.
    Seconds,
    /// Ingest throughput.
    RowsPerSecond,
    /// Share of bytes compression saved.
    PercentSaved,
    /// On-disk bytes per stored row.
    BytesPerRow,
    /// Projected on-disk growth per 30 days.
    GigabytesPerMonth,
}

impl Unit {
    /// Whether a larger figure is the better one (throughput, savings).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::RowsPerSecond | Unit::PercentSaved)
    }

    /// `value` written with this unit, at a precision a reader can compare.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Milliseconds if value < 10.0 => format!("{value:.2} ms"),
            Unit::Milliseconds => format!("{value:.1} ms"),
            Unit::Seconds => format!("{value:.3} s"),
            Unit::RowsPerSecond => format!("{} rows/s", group_thousands(value.round() as u64)),
            Unit::PercentSaved => format!("{value:.1} %"),
            Unit::BytesPerRow => format!("{value:.1} B/row"),
            Unit::GigabytesPerMonth => format!("{value:.2} GB/month"),
        }
    }
}

/// `1234567` as `1,234,567`.
fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The tests of the suite, in the order they run; the seed's suite had the same ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKey {
    /// One row, one statement.
    SingleInsert,
    /// 1,000 rows in one batch.
    Bulk1000,
    /// 5,000 rows in one batch.
    Batch5000,
    /// Many rows in batches of 10,000: sustained throughput.
    IngestRate,
    /// The latest 100 rows.
    Recent100,
    /// Hourly buckets per machine and metric over the whole table.
    Aggregation,
    /// One machine's metric over the last six hours.
    Filtered,
    /// Five batches of 1,000 rows on five connections at once.
    ConcurrentInserts,
    /// Ten aggregations on up to ten connections at once.
    ConcurrentQueries,
    /// Compressing every chunk of the bench table: bytes saved.
    Compression,
    /// On-disk bytes per row once compressed.
    StorageEfficiency,
    /// Growth per month for a plant of 12 machines × 4 metrics sampled every second.
    StoragePerMonth,
    /// Ingest, read back, aggregate, compress and read the compressed data.
    EndToEnd,
}

/// What the seed's suite claimed for a test: its target and its published figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedClaim {
    /// The bound the seed's test asserted (`value`, and whether the figure had to stay below it).
    pub target: Option<(f64, bool)>,
    /// The figure the seed published.
    pub figure: Option<f64>,
}

impl TestKey {
    /// Every test, in running order.
    pub const ALL: [TestKey; 13] = [
        TestKey::SingleInsert,
        TestKey::Bulk1000,
        TestKey::Batch5000,
        TestKey::IngestRate,
        TestKey::Recent100,
        TestKey::Aggregation,
        TestKey::Filtered,
        TestKey::ConcurrentInserts,
        TestKey::ConcurrentQueries,
        TestKey::Compression,
        TestKey::StorageEfficiency,
        TestKey::StoragePerMonth,
        TestKey::EndToEnd,
    ];

    /// Whether the test is measured on its own, `runs` times then its anchor (the
    /// compression and storage figures come from one compression test; the end-to-end
    /// workflow runs last, over what the others wrote).
    pub fn stands_alone(self) -> bool {
        !matches!(
            self,
            TestKey::Compression
                | TestKey::StorageEfficiency
                | TestKey::StoragePerMonth
                | TestKey::EndToEnd
        )
    }

    /// The name printed in the table.
    pub fn label(self) -> &'static str {
        match self {
            TestKey::SingleInsert => "single insert",
            TestKey::Bulk1000 => "bulk insert, 1,000 rows",
            TestKey::Batch5000 => "batch insert, 5,000 rows",
            TestKey::IngestRate => "ingest rate",
            TestKey::Recent100 => "recent 100 rows",
            TestKey::Aggregation => "hourly aggregation",
            TestKey::Filtered => "filtered query",
            TestKey::ConcurrentInserts => "5 concurrent inserts",
            TestKey::ConcurrentQueries => "10 concurrent queries",
            TestKey::Compression => "compression",
            TestKey::StorageEfficiency => "storage efficiency",
            TestKey::StoragePerMonth => "storage per month",
            TestKey::EndToEnd => "end-to-end workflow",
        }
    }

    /// The unit of its figures.
    pub fn unit(self) -> Unit {
        match self {
            TestKey::SingleInsert
            | TestKey::Recent100
            | TestKey::Aggregation
            | TestKey::Filtered => Unit::Milliseconds,
            TestKey::Bulk1000
            | TestKey::Batch5000
            | TestKey::ConcurrentInserts
            | TestKey::ConcurrentQueries
            | TestKey::EndToEnd => Unit::Seconds,
            TestKey::IngestRate => Unit::RowsPerSecond,
            TestKey::Compression => Unit::PercentSaved,
            TestKey::StorageEfficiency => Unit::BytesPerRow,
            TestKey::StoragePerMonth => Unit::GigabytesPerMonth,
        }
    }

    /// The seed's target and published figure (its performance summary), in this unit.
    pub fn seed(self) -> SeedClaim {
        let (target, figure) = match self {
            TestKey::SingleInsert => (Some((10.0, true)), Some(5.0)),
            TestKey::Bulk1000 => (Some((1.0, true)), Some(0.85)),
            TestKey::Batch5000 => (Some((1.0, true)), Some(0.95)),
            TestKey::IngestRate => (Some((1000.0, false)), Some(1176.0)),
            TestKey::Recent100 => (Some((100.0, true)), Some(45.0)),
            TestKey::Aggregation => (Some((200.0, true)), Some(120.0)),
            TestKey::Filtered => (Some((150.0, true)), Some(85.0)),
            TestKey::ConcurrentInserts => (Some((2.0, true)), Some(1.8)),
            TestKey::ConcurrentQueries => (Some((1.0, true)), Some(0.85)),
            TestKey::Compression => (Some((70.0, false)), Some(73.2)),
            TestKey::StoragePerMonth => (Some((1.0, true)), None),
            TestKey::StorageEfficiency | TestKey::EndToEnd => (None, None),
        };
        SeedClaim { target, figure }
    }
}

/// Which statement carried the bench's rows to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestPath {
    /// `COPY … FROM STDIN (FORMAT binary)`.
    Copy,
    /// `INSERT … SELECT FROM UNNEST($1, …)` with one array per column.
    Unnest,
}

impl IngestPath {
    /// How the path is named in the report.
    pub fn describe(self) -> &'static str {
        match self {
            IngestPath::Copy => "binary COPY FROM STDIN",
            IngestPath::Unnest => {
                "INSERT … SELECT FROM UNNEST (this server must not be sent COPY FROM)"
            }
        }
    }
}

/// The reference a figure is read against, measured in the same run on the same database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// What the anchor is, e.g. "psql \\copy of the same rows".
    pub label: String,
    /// Its measurements, in the test's unit.
    pub summary: Summary,
}

/// One test's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Which test.
    pub key: TestKey,
    /// Our measurements; `None` when the test could not measure on this server (the note says why).
    pub ours: Option<Summary>,
    /// The anchor, when one could be measured.
    pub anchor: Option<Anchor>,
    /// What the reader needs to read the figure (connections used, assumptions, why missing).
    pub note: String,
}

/// How a figure compares with the seed's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The median is within the target.
    Meets,
    /// The median misses the target.
    Misses,
    /// The seed set no target for this test.
    NoTarget,
    /// Nothing was measured.
    NotMeasured,
}

impl TestResult {
    /// Our median against the seed's target.
    pub fn verdict(&self) -> Verdict {
        match (self.ours, self.key.seed().target) {
            (None, _) => Verdict::NotMeasured,
            (Some(_), None) => Verdict::NoTarget,
            (Some(ours), Some((bound, below))) => {
                if (below && ours.median < bound) || (!below && ours.median > bound) {
                    Verdict::Meets
                } else {
                    Verdict::Misses
                }
            }
        }
    }

    /// How many times faster (or smaller) than the anchor our median is: above 1 better
    /// than the anchor, below 1 worse, whichever direction the unit counts as better.
    pub fn against_anchor(&self) -> Option<f64> {
        let ratio = self.ratio_to_anchor()?;
        if self.key.unit().higher_is_better() {
            Some(ratio)
        } else {
            (ratio != 0.0).then(|| 1.0 / ratio)
        }
    }

    /// Our median as a multiple of the anchor's (both in the test's unit).
    pub fn ratio_to_anchor(&self) -> Option<f64> {
        let ours = self.ours?;
        let anchor = self.anchor.as_ref()?;
        (anchor.summary.median != 0.0).then(|| ours.median / anchor.summary.median)
    }
}

/// A whole run of the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// When the run began.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// PostgreSQL's version as the server reports it.
    pub postgres: String,
    /// TimescaleDB's installed version.
    pub timescaledb: String,
    /// How many connections the concurrency tests could open at once.
    pub connections: u32,
    /// The statement that carried the rows.
    pub ingest_path: IngestPath,
    /// How many times each test ran.
    pub runs: u32,
    /// Rows of the ingest-rate test.
    pub rows: u64,
    /// The psql the anchors were measured with (its version), if one was found.
    pub psql: Option<String>,
    /// Each test's outcome, in running order.
    pub tests: Vec<TestResult>,
}

impl BenchReport {
    /// The report as a plain-text table for a terminal, with the run's facts above it.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "PostgreSQL {}, TimescaleDB {}; {} run(s) per test; ingest by {}; {} connection(s) at once",
            self.postgres,
            self.timescaledb,
            self.runs,
            self.ingest_path.describe(),
            self.connections
        );
        let _ = writeln!(
            out,
            "anchors: {}",
            self.psql
                .as_deref()
                .map(|v| format!("measured with {v} on the same database"))
                .unwrap_or_else(|| "psql not found: server-side anchors only".into())
        );
        let header = [
            "test",
            "target",
            "published",
            "ours min",
            "median",
            "max",
            "verdict",
            "anchor median",
            "× anchor",
        ];
        let mut rows: Vec<[String; 9]> = Vec::new();
        for test in &self.tests {
            let unit = test.key.unit();
            let seed = test.key.seed();
            let fmt = |v: Option<f64>| v.map(|v| unit.format(v)).unwrap_or_else(|| "—".into());
            rows.push([
                test.key.label().into(),
                seed.target
                    .map(|(bound, below)| {
                        format!("{} {}", if below { "<" } else { ">" }, unit.format(bound))
                    })
                    .unwrap_or_else(|| "—".into()),
                fmt(seed.figure),
                fmt(test.ours.map(|s| s.min)),
                fmt(test.ours.map(|s| s.median)),
                fmt(test.ours.map(|s| s.max)),
                match test.verdict() {
                    Verdict::Meets => "meets",
                    Verdict::Misses => "MISSES",
                    Verdict::NoTarget => "—",
                    Verdict::NotMeasured => "not run",
                }
                .into(),
                fmt(test.anchor.as_ref().map(|a| a.summary.median)),
                test.ratio_to_anchor()
                    .map(|r| format!("{r:.2}×"))
                    .unwrap_or_else(|| "—".into()),
            ]);
        }
        let mut widths = header.map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                let pad = width - cell.chars().count();
                if i == 0 || i == 6 {
                    let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
                } else {
                    let _ = write!(text, "{}{cell}  ", " ".repeat(pad));
                }
            }
            text.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header.map(String::from)));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        let _ = writeln!(out, "notes:");
        for test in &self.tests {
            let anchor = test
                .anchor
                .as_ref()
                .map(|a| format!(" Anchor: {}.", a.label))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}: {}{anchor}", test.key.label(), test.note);
        }
        out
    }
}

/// Where a running bench is, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Steps done so far.
    pub done: u32,
    /// Steps in the whole run.
    pub total: u32,
    /// What runs now.
    pub current: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(median: f64) -> Option<Summary> {
        Summary::of(&[median])
    }

    #[test]
    fn verdicts_follow_the_direction_of_the_target() {
        let mut fast = TestResult {
            key: TestKey::SingleInsert,
            ours: summary(4.0),
            anchor: None,
            note: String::new(),
        };
        assert_eq!(fast.verdict(), Verdict::Meets);
        fast.ours = summary(12.0);
        assert_eq!(fast.verdict(), Verdict::Misses);
        let mut rate = TestResult {
            key: TestKey::IngestRate,
            ours: summary(900.0),
            anchor: Some(Anchor {
                label: "psql".into(),
                summary: Summary::of(&[1800.0]).unwrap(),
            }),
            note: String::new(),
        };
        assert_eq!(rate.verdict(), Verdict::Misses);
        assert_eq!(rate.ratio_to_anchor(), Some(0.5));
        assert_eq!(rate.against_anchor(), Some(0.5));
        let quick = TestResult {
            key: TestKey::Recent100,
            ours: summary(2.0),
            anchor: Some(Anchor {
                label: "psql".into(),
                summary: Summary::of(&[4.0]).unwrap(),
            }),
            note: String::new(),
        };
        assert_eq!(
            quick.against_anchor(),
            Some(2.0),
            "half the time is twice as fast"
        );
        rate.ours = None;
        assert_eq!(rate.verdict(), Verdict::NotMeasured);
        let free = TestResult {
            key: TestKey::EndToEnd,
            ours: summary(1.0),
            anchor: None,
            note: String::new(),
        };
        assert_eq!(free.verdict(), Verdict::NoTarget);
    }

    #[test]
    fn figures_are_written_in_their_unit() {
        assert_eq!(Unit::RowsPerSecond.format(1_234_567.4), "1,234,567 rows/s");
        assert_eq!(Unit::RowsPerSecond.format(999.0), "999 rows/s");
        assert_eq!(Unit::Milliseconds.format(4.567), "4.57 ms");
        assert_eq!(Unit::Milliseconds.format(45.67), "45.7 ms");
        assert_eq!(Unit::PercentSaved.format(73.21), "73.2 %");
    }

    #[test]
    fn every_test_has_a_row_and_a_note_in_the_table() {
        let report = BenchReport {
            started_at: Utc::now(),
            finished_at: Utc::now(),
            postgres: "15.18".into(),
            timescaledb: "2.28.3".into(),
            connections: 10,
            ingest_path: IngestPath::Copy,
            runs: 3,
            rows: 100_000,
            psql: None,
            tests: TestKey::ALL
                .iter()
                .map(|&key| TestResult {
                    key,
                    ours: summary(1.0),
                    anchor: None,
                    note: format!("note of {}", key.label()),
                })
                .collect(),
        };
        let table = report.render_table();
        for key in TestKey::ALL {
            assert!(table.contains(&format!("\n{}", key.label())), "{table}");
            assert!(table.contains(&format!("note of {}", key.label())));
        }
        assert!(table.contains("psql not found"));
    }
}
