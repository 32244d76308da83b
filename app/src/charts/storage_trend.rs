//! Bytes over time as a stacked area per series (the biggest tables and "other", or
//! compressed against uncompressed), the whole database as a dashed line above them, and
//! the seed's "< 1 GB/month" as a dotted line rising from the first stacked total, so a
//! steeper stack is visibly over the promise (left out when it would dwarf the data).

use super::ByteUnit;
use charming::component::{Axis, DataZoom};
use charming::element::{AreaStyle, AxisType, LineStyle, LineStyleType};
use charming::series::Line;
use charming::Chart;
use tsdb::storage::trends::{days_between, Trends, SEED_BYTES_PER_MONTH};

/// The line of the seed's promise in the legend.
pub const REFERENCE: &str = "storage target: < 1 GB/month";

/// Builds the chart of `trends`.
pub fn build(trends: &Trends) -> Chart {
    let labels: Vec<String> = trends
        .times
        .iter()
        .map(|t| t.format("%m-%d %H:%M").to_string())
        .collect();
    let largest = trends
        .database
        .iter()
        .flatten()
        .copied()
        .chain((0..trends.times.len()).map(|i| trends.series.iter().map(|s| s.bytes[i]).sum()))
        .max()
        .unwrap_or(0);
    let unit = ByteUnit::for_largest(largest as f64);
    let mut chart = super::framed("16%")
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .boundary_gap(false)
                .data(labels),
        )
        .y_axis(Axis::new().type_(AxisType::Value).name(unit.name));
    for series in &trends.series {
        chart = chart.series(
            Line::new()
                .name(series.name.as_str())
                .stack("bytes")
                .show_symbol(false)
                .area_style(AreaStyle::new().opacity(0.55))
                .data(
                    series
                        .bytes
                        .iter()
                        .map(|b| unit.of(*b as f64))
                        .collect::<Vec<f64>>(),
                ),
        );
    }
    // Hold the last known database size over gaps so the line stays continuous.
    let mut last = None;
    let database: Vec<f64> = trends
        .database
        .iter()
        .map(|b| {
            last = b.or(last);
            unit.of(last.unwrap_or(0) as f64)
        })
        .collect();
    if trends.relation.is_none() && trends.database.iter().any(Option::is_some) {
        chart = chart.series(
            Line::new()
                .name("database (all)")
                .show_symbol(false)
                .line_style(LineStyle::new().type_(LineStyleType::Dashed).width(1.5))
                .data(database),
        );
    }
    if let (Some(first), Some(start)) = (trends.times.first(), first_total(trends)) {
        let reference: Vec<f64> = trends
            .times
            .iter()
            .map(|t| start + days_between(*first, *t) / 30.0 * SEED_BYTES_PER_MONTH)
            .collect();
        // Far above the data it would flatten the stack into a line at the bottom; the
        // growth figures beside the chart still compare against it.
        if reference.last().is_some_and(|r| *r > 2.0 * largest as f64) {
            return chart.data_zoom(DataZoom::new().start(0).end(100));
        }
        let reference: Vec<f64> = reference.into_iter().map(|b| unit.of(b)).collect();
        chart = chart.series(
            Line::new()
                .name(REFERENCE)
                .show_symbol(false)
                .line_style(LineStyle::new().type_(LineStyleType::Dotted).width(1.5))
                .data(reference),
        );
    }
    chart.data_zoom(DataZoom::new().start(0).end(100))
}

/// The stacked total at the first time.
fn first_total(trends: &Trends) -> Option<f64> {
    trends.times.first()?;
    Some(trends.series.iter().map(|s| s.bytes[0] as f64).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use tsdb::storage::trends::{Range, Series, View};

    #[test]
    fn series_stack_and_the_reference_rises_a_gigabyte_a_month() {
        let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        let gib = 1024_i64 * 1024 * 1024;
        let trends = Trends {
            range: Range::All,
            view: View::Tables,
            relation: None,
            times: vec![start, start + Duration::days(30)],
            series: vec![
                Series {
                    name: "s.a".into(),
                    bytes: vec![gib, 2 * gib],
                },
                Series {
                    name: "other".into(),
                    bytes: vec![gib, gib],
                },
            ],
            database: vec![Some(3 * gib), None],
            growth: Vec::new(),
            database_growth: None,
            generated: false,
            relations: vec!["s.a".into()],
        };
        assert_eq!(crate::charts::bundle::missing(&build(&trends)), [""; 0]);
        let json = serde_json::to_value(build(&trends)).unwrap();
        let series = json["series"].as_array().unwrap();
        assert_eq!(series.len(), 4);
        assert_eq!(series[0]["stack"], "bytes");
        assert_eq!(series[0]["data"], serde_json::json!([1024.0, 2048.0]));
        assert_eq!(json["yAxis"]["name"], "MiB", "below 10 GiB");
        assert_eq!(
            series[2]["data"],
            serde_json::json!([3072.0, 3072.0]),
            "held over the gap"
        );
        assert_eq!(series[3]["name"], REFERENCE);
        assert_eq!(series[3]["data"], serde_json::json!([2048.0, 3072.0]));

        // A small database: a gigabyte a month would flatten the stack, so it is left out.
        let mut small = trends.clone();
        for series in &mut small.series {
            series.bytes = vec![1024 * 1024, 2 * 1024 * 1024];
        }
        small.database = vec![None, None];
        let json = serde_json::to_value(build(&small)).unwrap();
        let names: Vec<&str> = json["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["s.a", "other"]);
    }
}
