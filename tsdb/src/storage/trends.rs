//! What the trends page draws from the samples: bytes over time per relation (the biggest
//! few and "other", or compressed against uncompressed), each relation's growth per day,
//! week and month, and the seed's promises as references (`< 1 GB/month`, `> 70 %`
//! compression). A pure function of the samples, shared by the page, REST and the CSV.

use super::forecast::{fit, Sample};
use super::{RelationKind, StorageSample};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// How far back the page looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Range {
    /// The last 7 days.
    Week,
    /// The last 30 days.
    #[default]
    Month,
    /// The last 90 days.
    Quarter,
    /// Everything kept.
    All,
}

impl Range {
    /// Every range, in the order the page offers them.
    pub const ALL: [Range; 4] = [Range::Week, Range::Month, Range::Quarter, Range::All];

    /// The query-string form: `7d`, `30d`, `90d`, `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Week => "7d",
            Range::Month => "30d",
            Range::Quarter => "90d",
            Range::All => "all",
        }
    }

    /// Reads the query-string form; the error names the accepted values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Range::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| format!("range: expected one of 7d, 30d, 90d, all; got {raw:?}"))
    }

    /// The span, none for everything.
    pub fn span(self) -> Option<Duration> {
        match self {
            Range::Week => Some(Duration::days(7)),
            Range::Month => Some(Duration::days(30)),
            Range::Quarter => Some(Duration::days(90)),
            Range::All => None,
        }
    }

    /// The bucket that keeps a chart of this range to a few hundred points.
    pub fn bucket_seconds(self) -> i64 {
        match self {
            Range::Week => 3_600,
            Range::Month => 4 * 3_600,
            Range::Quarter => 12 * 3_600,
            Range::All => 86_400,
        }
    }
}

/// What the bytes are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum View {
    /// Per relation: the biggest few and "other".
    #[default]
    Tables,
    /// Compressed chunks against everything else.
    Compression,
}

impl View {
    /// The query-string form.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Tables => "tables",
            View::Compression => "compression",
        }
    }

    /// Reads the query-string form; the error names the accepted values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "tables" => Ok(View::Tables),
            "compression" => Ok(View::Compression),
            _ => Err(format!("view: expected tables or compression; got {raw:?}")),
        }
    }
}

/// Relations drawn on their own; the rest are summed as "other".
pub const TOP: usize = 5;
/// The seed's storage promise: less than 1 GB a month.
pub const SEED_BYTES_PER_MONTH: f64 = 1024.0 * 1024.0 * 1024.0;
/// The seed's compression promise: more than 70 % saved.
pub const SEED_SAVING: f64 = 0.70;

/// One stacked series, aligned with [`Trends::times`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Series {
    /// A relation, `other`, `compressed` or `uncompressed`.
    pub name: String,
    /// Bytes at each time.
    pub bytes: Vec<i64>,
}

/// How fast one relation grows over the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Growth {
    /// `schema.name` or the database's name.
    pub relation: String,
    /// What it is.
    pub kind: RelationKind,
    /// Bytes now: the monitoring snapshot's figure (what every other page shows), or the
    /// newest sample's where the snapshot does not have the relation.
    pub bytes_now: i64,
    /// Least-squares growth per day over the range; none with fewer than two samples.
    pub per_day: Option<f64>,
    /// How well a line fits (1 is a straight line).
    pub r_squared: Option<f64>,
    /// Share of bytes compression saved on the compressed chunks, when any are.
    pub compression_saving: Option<f64>,
}

/// Share of bytes compression saved on a relation's compressed chunks, when any are.
fn saving(sample: &StorageSample) -> Option<f64> {
    (sample.before_compression_bytes > 0)
        .then(|| 1.0 - sample.compressed_bytes as f64 / sample.before_compression_bytes as f64)
}

impl Trends {
    /// The "now" figures taken from `snapshot`, the same the overview, hypertable and
    /// forecast pages show: the history's newest sample may be a sampling interval old
    /// (and the sample table itself grows between samples).
    pub fn with_current(mut self, snapshot: &crate::facts::Snapshot) -> Self {
        let now = super::samples_of(snapshot);
        for growth in self
            .growth
            .iter_mut()
            .chain(self.database_growth.iter_mut())
        {
            let current = now.iter().find(|s| {
                s.kind == growth.kind
                    && (s.kind == RelationKind::Database || s.relation == growth.relation)
            });
            if let Some(current) = current {
                growth.bytes_now = current.total_bytes;
                growth.compression_saving = saving(current);
            }
        }
        self
    }
}

impl Growth {
    /// Growth over `days` at the fitted rate.
    pub fn over(&self, days: f64) -> Option<f64> {
        self.per_day.map(|d| d * days)
    }
}

/// Everything the trends page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trends {
    /// The range asked for.
    pub range: Range,
    /// The split asked for.
    pub view: View,
    /// The relation drilled into, if any.
    pub relation: Option<String>,
    /// Sample times, oldest first.
    pub times: Vec<DateTime<Utc>>,
    /// Stacked series.
    pub series: Vec<Series>,
    /// The database's size at each time (none where it was not sampled).
    pub database: Vec<Option<i64>>,
    /// Per relation, biggest first.
    pub growth: Vec<Growth>,
    /// The database as a whole.
    pub database_growth: Option<Growth>,
    /// Whether any sample shown was reconstructed rather than measured.
    pub generated: bool,
    /// Relations that have samples (for the drill-down choice).
    pub relations: Vec<String>,
}

/// Why a trends question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrendsError {
    /// The drill-down names a relation without samples.
    #[error("table: no storage samples for {0:?}; choose one of the tables listed on the page")]
    UnknownRelation(String),
}

/// Builds the trends of `samples` (one range's, oldest first), drilled into `relation`.
pub fn build(
    samples: &[StorageSample],
    range: Range,
    view: View,
    relation: Option<&str>,
) -> Result<Trends, TrendsError> {
    let tables: Vec<&StorageSample> = samples
        .iter()
        .filter(|s| s.kind != RelationKind::Database)
        .collect();
    let mut relations: Vec<String> = tables
        .iter()
        .map(|s| s.relation.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let Some(name) = relation {
        if !relations.iter().any(|r| r == name) {
            return Err(TrendsError::UnknownRelation(name.to_string()));
        }
    }
    let times: Vec<DateTime<Utc>> = samples
        .iter()
        .map(|s| s.sampled_at)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: HashMap<DateTime<Utc>, usize> =
        times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let newest = latest_by_relation(&tables);
    relations
        .sort_by_key(|r| std::cmp::Reverse(newest.get(r.as_str()).map_or(0, |s| s.total_bytes)));

    let shown: Vec<&StorageSample> = tables
        .iter()
        .copied()
        .filter(|s| relation.is_none_or(|name| s.relation == name))
        .collect();
    let series = match view {
        View::Tables => {
            let top: Vec<&String> = relations
                .iter()
                .filter(|r| relation.is_none_or(|name| *r == name))
                .take(TOP)
                .collect();
            let mut series: Vec<Series> = top
                .iter()
                .map(|name| Series {
                    name: (*name).clone(),
                    bytes: vec![0; times.len()],
                })
                .collect();
            let mut other = Series {
                name: "other".into(),
                bytes: vec![0; times.len()],
            };
            for sample in &shown {
                let target = match top.iter().position(|name| **name == sample.relation) {
                    Some(i) => &mut series[i],
                    None => &mut other,
                };
                target.bytes[index[&sample.sampled_at]] += sample.total_bytes;
            }
            if other.bytes.iter().any(|b| *b > 0) {
                series.push(other);
            }
            series
        }
        View::Compression => {
            let mut compressed = vec![0; times.len()];
            let mut uncompressed = vec![0; times.len()];
            for sample in &shown {
                compressed[index[&sample.sampled_at]] += sample.compressed_bytes;
                uncompressed[index[&sample.sampled_at]] += sample.uncompressed_bytes;
            }
            vec![
                Series {
                    name: "uncompressed".into(),
                    bytes: uncompressed,
                },
                Series {
                    name: "compressed".into(),
                    bytes: compressed,
                },
            ]
        }
    };

    let mut database = vec![None; times.len()];
    let database_samples: Vec<&StorageSample> = samples
        .iter()
        .filter(|s| s.kind == RelationKind::Database)
        .collect();
    for sample in &database_samples {
        database[index[&sample.sampled_at]] = Some(sample.total_bytes);
    }
    let growth = relations
        .iter()
        .filter_map(|name| {
            let history: Vec<&StorageSample> = tables
                .iter()
                .copied()
                .filter(|s| &s.relation == name)
                .collect();
            growth_of(&history)
        })
        .collect();
    Ok(Trends {
        range,
        view,
        relation: relation.map(str::to_string),
        times,
        series,
        database,
        growth,
        database_growth: growth_of(&database_samples),
        generated: samples.iter().any(|s| s.generated),
        relations,
    })
}

/// The newest sample of each relation.
fn latest_by_relation<'a>(samples: &[&'a StorageSample]) -> HashMap<&'a str, &'a StorageSample> {
    let mut newest: HashMap<&str, &StorageSample> = HashMap::new();
    for sample in samples {
        let slot = newest.entry(sample.relation.as_str()).or_insert(sample);
        if sample.sampled_at > slot.sampled_at {
            *slot = sample;
        }
    }
    newest
}

/// One relation's growth from its samples (oldest first).
fn growth_of(history: &[&StorageSample]) -> Option<Growth> {
    let last = history.last()?;
    let origin = history.first()?.sampled_at;
    let points: Vec<Sample> = history
        .iter()
        .map(|s| Sample {
            day: days_between(origin, s.sampled_at),
            bytes: s.total_bytes as f64,
        })
        .collect();
    let line = fit(&points);
    Some(Growth {
        relation: last.relation.clone(),
        kind: last.kind,
        bytes_now: last.total_bytes,
        per_day: line.map(|l| l.bytes_per_day),
        r_squared: line.map(|l| l.r_squared),
        compression_saving: saving(last),
    })
}

/// Days (with fractions) from `from` to `to`.
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// The chart's data as CSV: one row per time, one column per series, then the database's
/// size; bytes as integers, times in RFC 3339.
pub fn to_csv(trends: &Trends) -> String {
    let mut out = String::from("sampled_at");
    for series in &trends.series {
        out.push(',');
        out.push_str(&csv_field(&format!("{}_bytes", series.name)));
    }
    out.push_str(",database_bytes\n");
    for (i, at) in trends.times.iter().enumerate() {
        out.push_str(&at.to_rfc3339());
        for series in &trends.series {
            out.push(',');
            out.push_str(&series.bytes[i].to_string());
        }
        out.push(',');
        if let Some(bytes) = trends.database[i] {
            out.push_str(&bytes.to_string());
        }
        out.push('\n');
    }
    out
}

/// Quotes a CSV field when it holds a comma, quote or line break; a leading `=`, `+`, `-`,
/// `@`, tab or carriage return is prefixed with `'` so a spreadsheet does not run it as a
/// formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample(day: i64, relation: &str, total: i64, compressed: i64) -> StorageSample {
        StorageSample {
            sampled_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::days(day),
            kind: if relation == "ms5" {
                RelationKind::Database
            } else {
                RelationKind::Hypertable
            },
            relation: relation.into(),
            total_bytes: total,
            compressed_bytes: compressed,
            uncompressed_bytes: total - compressed,
            before_compression_bytes: compressed * 10,
            chunk_count: 1,
            compressed_chunk_count: i64::from(compressed > 0),
            approximate_rows: 0,
            generated: false,
        }
    }

    /// Seven tables over three days, table `tN` growing N bytes a day.
    fn samples() -> Vec<StorageSample> {
        let mut all = Vec::new();
        for day in 0..3 {
            for n in 1..=7 {
                all.push(sample(day, &format!("s.t{n}"), 100 * n + n * day, 10));
            }
            all.push(sample(day, "ms5", 10_000 + day, 0));
        }
        all
    }

    #[test]
    fn the_biggest_tables_are_drawn_and_the_rest_summed_as_other() {
        let trends = build(&samples(), Range::All, View::Tables, None).unwrap();
        let names: Vec<&str> = trends.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s.t7", "s.t6", "s.t5", "s.t4", "s.t3", "other"]);
        assert_eq!(trends.series[5].bytes, [300, 303, 306]);
        assert_eq!(trends.database, [Some(10_000), Some(10_001), Some(10_002)]);
        let t7 = &trends.growth[0];
        assert_eq!(t7.relation, "s.t7");
        assert!((t7.per_day.unwrap() - 7.0).abs() < 1e-9);
        assert!((t7.over(30.0).unwrap() - 210.0).abs() < 1e-9);
        assert!((t7.compression_saving.unwrap() - 0.9).abs() < 1e-9);
        assert!((trends.database_growth.unwrap().per_day.unwrap() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn now_is_the_snapshots_figure_as_on_every_other_page() {
        let mut snapshot = crate::storage::fixtures::snapshot(
            Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap(),
            12_345,
        );
        let mut t7 = crate::storage::fixtures::table("t7");
        t7.total_bytes = 999;
        snapshot.hypertables = vec![t7];
        let trends = build(&samples(), Range::All, View::Tables, None)
            .unwrap()
            .with_current(&snapshot);
        let growth = |name: &str| trends.growth.iter().find(|g| g.relation == name).unwrap();
        assert_eq!(growth("s.t7").bytes_now, 999);
        assert_eq!(
            growth("s.t7").compression_saving,
            None,
            "nothing compressed now"
        );
        assert_eq!(
            growth("s.t6").bytes_now,
            612,
            "not in the snapshot: the newest sample"
        );
        assert_eq!(trends.database_growth.as_ref().unwrap().bytes_now, 12_345);
        assert!(
            (growth("s.t7").per_day.unwrap() - 7.0).abs() < 1e-9,
            "the slope is the history's"
        );
    }

    #[test]
    fn the_compression_view_and_a_drill_down_split_one_table() {
        let trends = build(&samples(), Range::Week, View::Compression, Some("s.t2")).unwrap();
        assert_eq!(trends.series[0].name, "uncompressed");
        assert_eq!(trends.series[0].bytes, [190, 192, 194]);
        assert_eq!(trends.series[1].bytes, [10, 10, 10]);
        let error = build(&samples(), Range::Week, View::Tables, Some("s.nope")).unwrap_err();
        assert!(error.to_string().starts_with("table:"), "{error}");
    }

    #[test]
    fn the_csv_holds_what_the_chart_shows() {
        let mut all = samples();
        for s in all.iter_mut().filter(|s| s.relation == "s.t7") {
            s.relation = "=cmd,x".into();
        }
        let trends = build(&all, Range::All, View::Tables, None).unwrap();
        let csv = to_csv(&trends);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "sampled_at,\"'=cmd,x_bytes\",s.t6_bytes,s.t5_bytes,s.t4_bytes,s.t3_bytes,other_bytes,database_bytes"
        );
        assert_eq!(lines.len(), 4);
        assert!(
            lines[1].starts_with("2026-11-01T00:00:00+00:00,700,600,"),
            "{}",
            lines[1]
        );
        assert!(lines[3].ends_with(",306,10002"), "{}", lines[3]);
        // A leading tab or carriage return is a formula's disguise too.
        assert_eq!(csv_field("\t=1+2"), "'\t=1+2");
        assert_eq!(csv_field("\r@SUM(A1)"), "\"'\r@SUM(A1)\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn ranges_and_views_name_the_accepted_values() {
        assert_eq!(Range::parse("90d"), Ok(Range::Quarter));
        assert!(Range::parse("1y")
            .unwrap_err()
            .contains("7d, 30d, 90d, all"));
        assert!(View::parse("pie").unwrap_err().starts_with("view:"));
    }
}
