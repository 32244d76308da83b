//! A hypertable's chunks along time: one bar per chunk, its height the chunk's bytes,
//! coloured by compression state (two stacked series, one of them empty per chunk).

use super::mib;
use charming::component::{Axis, DataZoom};
use charming::element::{AxisLabel, AxisType, ItemStyle};
use charming::series::Bar;
use charming::Chart;
use tsdb::facts::ChunkFacts;

/// Colour of compressed chunks.
pub const COMPRESSED: &str = "#1a7f37";
/// Colour of uncompressed chunks.
pub const UNCOMPRESSED: &str = "#d4a72c";
/// Colour of uncompressed chunks past compress-after.
pub const BACKLOG: &str = "#b42318";

/// The label of a chunk on the time axis: its range.
pub fn label(chunk: &ChunkFacts) -> String {
    match (chunk.range_start, chunk.range_end) {
        (Some(start), Some(end)) => format!(
            "{} → {}",
            start.format("%Y-%m-%d %H:%M"),
            end.format("%Y-%m-%d %H:%M")
        ),
        _ => match (chunk.range_start_integer, chunk.range_end_integer) {
            (Some(start), Some(end)) => format!("{start} → {end}"),
            _ => chunk.name.clone(),
        },
    }
}

/// The short label on the axis: where the chunk starts.
fn tick(chunk: &ChunkFacts) -> String {
    match (chunk.range_start, chunk.range_start_integer) {
        (Some(start), _) => start.format("%m-%d %H:%M").to_string(),
        (None, Some(start)) => start.to_string(),
        _ => chunk.name.clone(),
    }
}

/// Builds the timeline of `chunks` (in time order).
pub fn build(chunks: &[ChunkFacts]) -> Chart {
    let labels: Vec<String> = chunks.iter().map(tick).collect();
    let pick = |wanted: fn(&ChunkFacts) -> bool| -> Vec<f64> {
        chunks
            .iter()
            .map(|c| if wanted(c) { mib(c.total_bytes) } else { 0.0 })
            .collect()
    };
    let mut chart = super::framed("18%")
        .x_axis(
            Axis::new()
                .type_(AxisType::Category)
                .axis_label(AxisLabel::new().rotate(0))
                .data(labels),
        )
        .y_axis(Axis::new().type_(AxisType::Value).name("MiB on disk"))
        .series(
            Bar::new()
                .name("Compressed")
                .stack("chunks")
                .item_style(ItemStyle::new().color(COMPRESSED))
                .data(pick(|c| c.is_compressed)),
        )
        .series(
            Bar::new()
                .name("Uncompressed")
                .stack("chunks")
                .item_style(ItemStyle::new().color(UNCOMPRESSED))
                .data(pick(|c| !c.is_compressed && !c.in_backlog)),
        )
        .series(
            Bar::new()
                .name("Uncompressed, past compress-after")
                .stack("chunks")
                .item_style(ItemStyle::new().color(BACKLOG))
                .data(pick(|c| c.in_backlog)),
        );
    if chunks.len() > 60 {
        // Many chunks: start on the newest 60 and let the user slide back.
        let start = 100.0 - 6000.0 / chunks.len() as f64;
        chart = chart.data_zoom(DataZoom::new().start(start).end(100));
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(day: u32, compressed: bool, backlog: bool) -> ChunkFacts {
        let start = format!("2026-11-{day:02}T00:00:00Z").parse().unwrap();
        ChunkFacts {
            hypertable_schema: "s".into(),
            hypertable_name: "t".into(),
            schema: "_timescaledb_internal".into(),
            name: format!("_hyper_1_{day}_chunk"),
            range_start: Some(start),
            range_end: Some(start + chrono::Duration::days(1)),
            range_start_integer: None,
            range_end_integer: None,
            total_bytes: 2 * 1024 * 1024,
            is_compressed: compressed,
            before_compression_bytes: None,
            after_compression_bytes: None,
            tablespace: None,
            in_backlog: backlog,
        }
    }

    #[test]
    fn each_chunk_lands_in_the_series_of_its_state() {
        let chart = build(&[
            chunk(1, true, false),
            chunk(2, false, true),
            chunk(3, false, false),
        ]);
        assert_eq!(crate::charts::bundle::missing(&chart), [""; 0]);
        let json: serde_json::Value = serde_json::from_str(&chart.to_string()).unwrap();
        let series = json["series"].as_array().unwrap();
        let data = |i: usize| {
            series[i]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(data(0), [2.0, 0.0, 0.0]);
        assert_eq!(data(1), [0.0, 0.0, 2.0]);
        assert_eq!(data(2), [0.0, 2.0, 0.0]);
        assert_eq!(
            json["xAxis"][0]["data"][0]
                .as_str()
                .or(json["xAxis"]["data"][0].as_str()),
            Some("11-01 00:00")
        );
    }
}
