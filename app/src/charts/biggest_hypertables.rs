//! Horizontal bars: total bytes per hypertable, biggest on top.

use super::mib;
use charming::component::{Axis, Grid};
use charming::element::{AxisType, Tooltip, Trigger};
use charming::series::Bar;
use charming::Chart;
use tsdb::facts::HypertableFacts;

/// Builds the chart for (at most) the `limit` biggest hypertables.
pub fn build(rows: &[HypertableFacts], limit: usize) -> Chart {
    let mut sorted: Vec<&HypertableFacts> = rows.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.total_bytes));
    sorted.truncate(limit);
    // ECharts draws the first category at the bottom: reverse so the biggest is on top.
    sorted.reverse();
    let names: Vec<String> = sorted.iter().map(|r| r.qualified()).collect();
    let values: Vec<f64> = sorted.iter().map(|r| mib(r.total_bytes)).collect();
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
        .series(Bar::new().name("Total size (MiB)").data(values))
}
