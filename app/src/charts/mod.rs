//! Chart builders: plain data in, a charming `Chart` out. Rendering happens in the
//! browser (`components::chart_canvas`); the builders compile everywhere and are tested
//! natively.

pub mod bench_history;
pub mod biggest_hypertables;
#[cfg(test)]
pub(crate) mod bundle;
pub mod chunk_timeline;
pub mod compression_bars;
pub mod job_runs;
pub mod storage_forecast;
pub mod storage_trend;

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

/// A binary byte unit that keeps a chart's numbers readable: MiB below 10 GiB, GiB below
/// 10 TiB, TiB above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteUnit {
    /// The axis name, `MiB`, `GiB` or `TiB`.
    pub name: &'static str,
    divisor: f64,
}

impl ByteUnit {
    /// The unit for values up to `largest` bytes.
    pub fn for_largest(largest: f64) -> Self {
        const MIB: f64 = 1024.0 * 1024.0;
        let (name, divisor) = if largest < 10.0 * 1024.0 * MIB {
            ("MiB", MIB)
        } else if largest < 10.0 * 1024.0 * 1024.0 * MIB {
            ("GiB", 1024.0 * MIB)
        } else {
            ("TiB", 1024.0 * 1024.0 * MIB)
        };
        Self { name, divisor }
    }

    /// `bytes` in this unit, to two decimals.
    pub fn of(&self, bytes: f64) -> f64 {
        (bytes / self.divisor * 100.0).round() / 100.0
    }
}
