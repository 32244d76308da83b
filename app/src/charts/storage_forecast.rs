//! The database's forecast: expected bytes per day as a line over a shaded band (the
//! ingest slope ± two standard errors), and the storage limit as a red line, so the day
//! the line crosses it is the day the budget runs out.

use super::ByteUnit;
use charming::component::Axis;
use charming::element::{
    AreaStyle, AxisType, Color, LineStyle, LineStyleType, MarkLine, MarkLineData, MarkLineVariant,
    Symbol,
};
use charming::series::Line;
use charming::Chart;
use chrono::{DateTime, Duration, Utc};
use tsdb::storage::forecast::Forecast;

/// Builds the chart of `forecast` from day 0 at `start`, with `limit` bytes if any.
pub fn build(forecast: &Forecast, start: DateTime<Utc>, limit: Option<f64>) -> Chart {
    let labels: Vec<String> = forecast
        .points
        .iter()
        .map(|p| {
            (start + Duration::days(i64::from(p.day)))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect();
    let top = forecast
        .points
        .iter()
        .map(|p| p.high)
        .fold(limit.unwrap_or(0.0), f64::max);
    let unit = ByteUnit::for_largest(top);
    let values = |f: fn(&tsdb::storage::forecast::Point) -> f64| -> Vec<f64> {
        forecast.points.iter().map(|p| unit.of(f(p))).collect()
    };
    let mut expected = Line::new()
        .name("expected")
        .show_symbol(false)
        .line_style(LineStyle::new().width(2.5))
        .data(values(|p| p.bytes));
    if let Some(limit) = limit {
        expected = expected.mark_line(
            MarkLine::new()
                .symbol(vec![Symbol::None, Symbol::None])
                .line_style(
                    LineStyle::new()
                        .color(Color::Value("#cf222e".into()))
                        .type_(LineStyleType::Solid),
                )
                .data(vec![MarkLineVariant::Simple(
                    MarkLineData::new().name("limit").y_axis(unit.of(limit)),
                )]),
        );
    }
    super::framed("8%")
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .boundary_gap(false)
                .data(labels),
        )
        .y_axis(Axis::new().type_(AxisType::Value).name(unit.name))
        // The band: an invisible lower edge with the band's width stacked on it.
        .series(
            // Unnamed: the legend lists the band once, as its visible part.
            Line::new()
                .stack("band")
                .show_symbol(false)
                .line_style(LineStyle::new().opacity(0.0))
                .data(values(|p| p.low)),
        )
        .series(
            Line::new()
                .name("likely range")
                .stack("band")
                .show_symbol(false)
                .line_style(LineStyle::new().opacity(0.0))
                .area_style(AreaStyle::new().opacity(0.25))
                .data(values(|p| p.high - p.low)),
        )
        .series(expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tsdb::storage::forecast::{Fit, Point};

    #[test]
    fn the_band_stacks_on_its_lower_edge_and_the_limit_is_marked() {
        let mib = 1024.0 * 1024.0;
        let forecast = Forecast {
            fit: Fit {
                bytes_per_day: mib,
                intercept: 0.0,
                r_squared: 1.0,
                slope_error: 0.0,
                samples: 10,
            },
            points: (0..3)
                .map(|d| Point {
                    day: d,
                    bytes: f64::from(d + 1) * mib,
                    low: f64::from(d + 1) * mib * 0.5,
                    high: f64::from(d + 1) * mib * 1.5,
                })
                .collect(),
            confident: true,
        };
        let start = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        let chart = build(&forecast, start, Some(8.0 * mib));
        assert_eq!(crate::charts::bundle::missing(&chart), [""; 0]);
        let json = serde_json::to_value(chart).unwrap();
        let series = json["series"].as_array().unwrap();
        assert_eq!(series[0]["data"], serde_json::json!([0.5, 1.0, 1.5]));
        assert_eq!(series[1]["data"], serde_json::json!([1.0, 2.0, 3.0]));
        assert_eq!(series[2]["markLine"]["data"][0]["yAxis"], 8.0);
        let axis = &json["xAxis"];
        let axis = if axis.is_array() { &axis[0] } else { axis };
        assert_eq!(axis["data"][2], "2026-11-28");
    }
}
