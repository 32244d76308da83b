//! Grouped bars per hypertable: the compressed chunks' size before and after
//! compression, beside what is still uncompressed.

use super::mib;
use charming::component::Axis;
use charming::element::AxisType;
use charming::series::Bar;
use charming::Chart;
use tsdb::facts::HypertableFacts;

/// Builds the chart, one group per hypertable in the given order.
pub fn build(rows: &[HypertableFacts]) -> Chart {
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let before: Vec<f64> = rows
        .iter()
        .map(|r| mib(r.before_compression_bytes))
        .collect();
    let after: Vec<f64> = rows
        .iter()
        .map(|r| mib(r.after_compression_bytes))
        .collect();
    let uncompressed: Vec<f64> = rows
        .iter()
        .map(|r| mib((r.total_bytes - r.after_compression_bytes).max(0)))
        .collect();
    super::framed("4%")
        .x_axis(Axis::new().type_(AxisType::Category).data(names))
        .y_axis(Axis::new().type_(AxisType::Value).name("MiB"))
        .series(Bar::new().name("Before compression").data(before))
        .series(Bar::new().name("After compression").data(after))
        .series(Bar::new().name("Not compressed (now)").data(uncompressed))
}
