//! Chart builders: plain data in, a charming `Chart` out. Rendering happens in the
//! browser (`components::chart_canvas`); the builders compile everywhere and are tested
//! natively.

pub mod biggest_hypertables;
pub mod chunk_timeline;
pub mod compression_bars;
pub mod job_runs;

/// Bytes to MiB with two decimals, the unit every chart shows.
pub fn mib(bytes: i64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0
}
