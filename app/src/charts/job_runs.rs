//! A job's runs over time: one bar per run, its height the run's duration, green when it
//! succeeded and red when it failed (two stacked series, one of them empty per run), so
//! slow runs and bursts of failures stand out.

use super::chunk_timeline::{BACKLOG, COMPRESSED};
use charming::component::{Axis, DataZoom};
use charming::element::{AxisType, ItemStyle};
use charming::series::Bar;
use charming::Chart;
use tsdb::jobs::JobRun;

/// Builds the chart of `runs` (newest first, as the history lists them).
pub fn build(runs: &[JobRun]) -> Chart {
    let finished: Vec<&JobRun> = runs
        .iter()
        .rev()
        .filter(|r| r.duration_seconds().is_some())
        .collect();
    let labels: Vec<String> = finished
        .iter()
        .map(|r| {
            format!(
                "{} ({})",
                r.started_at.format("%m-%d %H:%M:%S"),
                r.source.as_str()
            )
        })
        .collect();
    let pick = |wanted: bool| -> Vec<f64> {
        finished
            .iter()
            .map(|r| match (r.succeeded, r.duration_seconds()) {
                (Some(ok), Some(seconds)) if ok == wanted => (seconds * 1000.0).round() / 1000.0,
                _ => 0.0,
            })
            .collect()
    };
    // With few runs ECharts would stretch each bar across its whole slot.
    let width = (finished.len() < 24).then_some("28");
    let bar = |name: &str, colour: &str, data: Vec<f64>| {
        let bar = Bar::new()
            .name(name)
            .stack("runs")
            .item_style(ItemStyle::new().color(colour))
            .data(data);
        match width {
            Some(w) => bar.bar_width(w),
            None => bar,
        }
    };
    super::framed("18%")
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value).name("seconds"))
        .series(bar("Succeeded", COMPRESSED, pick(true)))
        .series(bar("Failed", BACKLOG, pick(false)))
        .data_zoom(DataZoom::new().start(0).end(100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use tsdb::jobs::RunSource;

    fn run(minute: u32, seconds: i64, succeeded: Option<bool>) -> JobRun {
        let started_at = Utc.with_ymd_and_hms(2026, 11, 26, 3, minute, 0).unwrap();
        JobRun {
            job_id: 1,
            source: RunSource::Scheduler,
            started_at,
            finished_at: succeeded.map(|_| started_at + Duration::seconds(seconds)),
            succeeded,
            sqlstate: None,
            message: None,
            started_by: None,
        }
    }

    #[test]
    fn each_finished_run_is_one_bar_in_its_outcome_colour_oldest_first() {
        let runs = [
            run(3, 4, Some(false)),
            run(2, 0, None),
            run(1, 2, Some(true)),
        ];
        assert_eq!(crate::charts::bundle::missing(&build(&runs)), [""; 0]);
        let json = serde_json::to_value(build(&runs)).unwrap();
        let axis = if json["xAxis"].is_array() {
            &json["xAxis"][0]
        } else {
            &json["xAxis"]
        };
        let labels = &axis["data"];
        assert_eq!(
            labels.as_array().unwrap().len(),
            2,
            "the unfinished run has no bar"
        );
        assert_eq!(labels[0], "11-26 03:01:00 (scheduler)");
        assert_eq!(json["series"][0]["data"], serde_json::json!([2.0, 0.0]));
        assert_eq!(json["series"][1]["data"], serde_json::json!([0.0, 4.0]));
    }
}
