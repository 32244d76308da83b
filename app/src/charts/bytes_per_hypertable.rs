//! Horizontal bars: total bytes per hypertable, biggest on top.

use charming::component::{Axis, Grid};
use charming::element::{AxisType, Tooltip, Trigger};
use charming::series::Bar;
use charming::Chart;
use tsdb::types::HypertableSummary;

const MIB: f64 = 1024.0 * 1024.0;

/// Builds the chart; sizes are shown in MiB with two decimals.
pub fn build(rows: &[HypertableSummary]) -> Chart {
    // ECharts draws the first category at the bottom: reverse so the biggest is on top.
    let mut sorted: Vec<&HypertableSummary> = rows.iter().collect();
    sorted.sort_by_key(|r| r.total_bytes);
    let names: Vec<String> = sorted.iter().map(|r| r.display_name()).collect();
    let mib: Vec<f64> = sorted
        .iter()
        .map(|r| (r.total_bytes as f64 / MIB * 100.0).round() / 100.0)
        .collect();
    Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .grid(
            Grid::new()
                .left("2%")
                .right("4%")
                .top("4%")
                .bottom("4%")
                .contain_label(true),
        )
        .x_axis(Axis::new().type_(AxisType::Value).name("MiB"))
        .y_axis(Axis::new().type_(AxisType::Category).data(names))
        .series(Bar::new().name("Total size (MiB)").data(mib))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, total_bytes: i64) -> HypertableSummary {
        HypertableSummary {
            schema: "s".into(),
            name: name.into(),
            total_bytes,
            chunk_count: 1,
            compressed_chunk_count: 0,
            compression_enabled: false,
        }
    }

    #[test]
    fn biggest_hypertable_is_drawn_last_so_it_sits_on_top() {
        let chart = build(&[row("big", 10 * 1024 * 1024), row("small", 512 * 1024)]);
        let json = chart.to_string();
        let small = json.find("s.small").expect("small listed");
        let big = json.find("s.big").expect("big listed");
        assert!(small < big, "categories out of order: {json}");
        assert!(json.contains("10.0") || json.contains("10"), "{json}");
        assert!(json.contains("0.5"), "{json}");
    }
}
