//! The ECharts parts the console ships: `vendor/echarts.charts.js` bundles only these into
//! `/vendor/echarts.min.js`. ECharts ignores an option whose component was not bundled (a
//! legend, a zoom slider, a marked limit would silently not appear), so every chart's tests
//! check their option against this list.

/// Series types bundled, with the import that brings each.
const SERIES: &[(&str, &str)] = &[("bar", "BarChart"), ("line", "LineChart")];

/// Top-level option keys bundled, with the import that brings each.
const COMPONENTS: &[(&str, &str)] = &[
    ("dataZoom", "DataZoomSliderComponent"),
    ("grid", "GridComponent"),
    ("xAxis", "GridComponent"),
    ("yAxis", "GridComponent"),
    ("legend", "LegendComponent"),
    ("tooltip", "TooltipComponent"),
];

/// Series-level keys that need a component of their own.
const SERIES_COMPONENTS: &[(&str, &str)] = &[("markLine", "MarkLineComponent")];

/// Option keys that need no component (plain settings of the chart or of a series).
const PLAIN: &[&str] = &[
    "series",
    "animation",
    "color",
    "backgroundColor",
    "textStyle",
];

/// What `chart` uses that the shipped ECharts does not have, by option path; empty when
/// it will draw completely.
pub(crate) fn missing(chart: &charming::Chart) -> Vec<String> {
    let option = serde_json::to_value(chart).unwrap_or_default();
    let mut missing = Vec::new();
    let Some(keys) = option.as_object() else {
        return vec!["the option is not an object".into()];
    };
    for key in keys.keys() {
        let bundled = PLAIN.contains(&key.as_str()) || COMPONENTS.iter().any(|(k, _)| k == key);
        if !bundled {
            missing.push(key.clone());
        }
    }
    let series = option["series"].as_array().cloned().unwrap_or_default();
    for (index, one) in series.iter().enumerate() {
        let kind = one["type"].as_str().unwrap_or("(no type)");
        if !SERIES.iter().any(|(k, _)| *k == kind) {
            missing.push(format!("series[{index}].type = {kind}"));
        }
        for (key, _) in one.as_object().into_iter().flatten() {
            // markLine, markArea, markPoint: each a component of its own.
            if key.starts_with("mark") && !SERIES_COMPONENTS.iter().any(|(k, _)| k == key) {
                missing.push(format!("series[{index}].{key}"));
            }
        }
    }
    missing
}

mod tests {
    use super::*;

    /// The list above and the bundle's entry say the same: each import named here is
    /// bundled, and each component the entry bundles is named here.
    #[test]
    fn the_list_matches_what_the_bundle_imports() {
        let entry = include_str!("../../../vendor/echarts.charts.js");
        let named: Vec<&str> = SERIES
            .iter()
            .chain(COMPONENTS)
            .chain(SERIES_COMPONENTS)
            .map(|(_, import)| *import)
            .collect();
        for import in &named {
            assert!(entry.contains(import), "{import} is not in the bundle");
        }
        let bundled = entry
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| word.ends_with("Component") || word.ends_with("Chart"));
        for import in bundled {
            assert!(
                named.contains(&import),
                "{import} is bundled but not listed here"
            );
        }
    }

    #[test]
    fn an_unbundled_series_or_component_is_named() {
        use charming::component::Title;
        use charming::series::Pie;
        let chart = charming::Chart::new()
            .title(Title::new().text("t"))
            .series(Pie::new());
        assert_eq!(missing(&chart), ["title", "series[0].type = pie"]);
    }

    /// The two charts whose data needs a whole catalog snapshot, built empty: their
    /// option's shape does not depend on the rows.
    #[test]
    fn the_hypertable_charts_use_only_bundled_parts() {
        use crate::charts::{biggest_hypertables, compression_bars};
        assert_eq!(missing(&biggest_hypertables::build(&[], 10)), [""; 0]);
        assert_eq!(missing(&compression_bars::build(&[])), [""; 0]);
    }
}
