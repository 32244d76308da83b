//! Chart builders: plain data in, a charming `Chart` out. Rendering happens in the
//! browser (`components::chart_canvas`); the builders compile everywhere and are tested
//! natively.

pub mod biggest_hypertables;
pub mod chunk_timeline;
pub mod compression_bars;
pub mod job_runs;

/// A chart with the axis tooltip, the legend on top and a grid that keeps `bottom` free
/// below the plot (room for a zoom slider), as every bar chart of the console has.
pub fn framed(bottom: &str) -> charming::Chart {
    use charming::component::{Grid, Legend};
    use charming::element::{Tooltip, Trigger};
    charming::Chart::new()
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .legend(Legend::new().top("0"))
        .grid(
            Grid::new()
                .left("2%")
                .right("2%")
                .top("14%")
                .bottom(bottom)
                .contain_label(true),
        )
}

/// Bytes to MiB with two decimals, the unit every chart shows.
pub fn mib(bytes: i64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0
}
