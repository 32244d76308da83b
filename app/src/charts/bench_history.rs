//! Past bench runs: one line per test with an anchor, its height how many times faster
//! than its anchor the run was (1 = as fast as psql, or as one connection for the
//! concurrency tests), so a slower database or a slower console shows as a drop.

use charming::component::{Axis, DataZoom};
use charming::element::{AxisType, Symbol};
use charming::series::Line;
use charming::Chart;
use tsdb::bench::report::{BenchReport, TestKey, Unit};

/// Builds the chart of `reports`, newest first as the history lists them.
pub fn build(reports: &[&BenchReport]) -> Chart {
    let oldest_first: Vec<&BenchReport> = reports.iter().rev().copied().collect();
    let labels: Vec<String> = oldest_first
        .iter()
        .map(|r| r.started_at.format("%m-%d %H:%M").to_string())
        .collect();
    let mut chart = super::framed("18%")
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        // The page's heading names the unit: an axis name would sit under the legend.
        .y_axis(Axis::new().type_(AxisType::Value));
    for key in charted() {
        let points: Vec<Option<f64>> = oldest_first
            .iter()
            .map(|report| {
                report
                    .tests
                    .iter()
                    .find(|t| t.key == key)
                    .and_then(|t| t.against_anchor())
                    .map(|v| (v * 100.0).round() / 100.0)
            })
            .collect();
        if points.iter().all(Option::is_none) {
            continue;
        }
        // A missing figure is a gap (ECharts' "-"), never a zero.
        let data: Vec<charming::datatype::DataPointItem> = points
            .into_iter()
            .map(|p| match p {
                Some(v) => charming::datatype::DataPointItem::new(v),
                None => charming::datatype::DataPointItem::new("-"),
            })
            .collect();
        chart = chart.series(
            Line::new()
                .name(key.label())
                .symbol(Symbol::Circle)
                .data(data),
        );
    }
    chart.data_zoom(DataZoom::new().start(0).end(100))
}

/// The tests whose anchor is a speed: every one but the storage figures.
fn charted() -> impl Iterator<Item = TestKey> {
    TestKey::ALL.into_iter().filter(|key| {
        !matches!(
            key.unit(),
            Unit::PercentSaved | Unit::BytesPerRow | Unit::GigabytesPerMonth
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use tsdb::bench::report::{Anchor, IngestPath, TestResult};
    use tsdb::bench::stats::Summary;

    fn report(day: u32, ours: f64) -> BenchReport {
        let at = Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap();
        BenchReport {
            started_at: at,
            finished_at: at,
            postgres: "15.18".into(),
            timescaledb: "2.28.3".into(),
            connections: 10,
            ingest_path: IngestPath::Copy,
            runs: 1,
            rows: 1000,
            psql: None,
            tests: vec![TestResult {
                key: TestKey::Recent100,
                ours: Summary::of(&[ours]),
                anchor: Some(Anchor {
                    label: "psql".into(),
                    summary: Summary::of(&[2.0]).unwrap(),
                }),
                note: String::new(),
            }],
        }
    }

    #[test]
    fn runs_are_oldest_first_with_their_speed_against_the_anchor() {
        let newer = report(26, 1.0);
        let older = report(25, 4.0);
        assert_eq!(
            crate::charts::bundle::missing(&build(&[&newer, &older])),
            [""; 0]
        );
        let json = serde_json::to_string(&build(&[&newer, &older])).unwrap();
        assert!(json.find("11-25 08:00").unwrap() < json.find("11-26 08:00").unwrap());
        // 2 ms against psql's 2 ms … then 1 ms: 0.5× then 2×.
        assert!(json.contains(r#"[{"value":0.5},{"value":2.0}]"#), "{json}");
        assert!(json.contains("recent 100 rows"));
        assert!(
            !json.contains("ingest rate"),
            "tests without figures get no line"
        );
    }
}
