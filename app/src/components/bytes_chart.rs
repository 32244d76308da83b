//! The "bytes per hypertable" chart, drawn by ECharts in the browser.

use leptos::prelude::*;
use tsdb::types::HypertableSummary;

const CHART_ID: &str = "chart-bytes-per-hypertable";

/// A chart container; after hydration it draws `rows` with charming's WASM renderer.
#[component]
pub fn BytesChart(rows: Vec<HypertableSummary>) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    let height = 60 + 44 * rows.len().min(30) as u32;
    draw_when_mounted(container, rows, height);
    view! {
        <div
            id=CHART_ID
            class="chart"
            data-testid="bytes-chart"
            style=format!("height: {height}px")
            node_ref=container
        ></div>
    }
}

#[cfg(feature = "hydrate")]
fn draw_when_mounted(
    container: NodeRef<leptos::html::Div>,
    rows: Vec<HypertableSummary>,
    height: u32,
) {
    use charming::WasmRenderer;
    Effect::new(move |_| {
        let Some(element) = container.get() else {
            return;
        };
        let width = element.client_width().max(320) as u32;
        let chart = crate::charts::bytes_per_hypertable::build(&rows);
        if let Err(error) = WasmRenderer::new(width, height).render(CHART_ID, &chart) {
            leptos::logging::error!("chart {CHART_ID} could not be drawn: {error:?}");
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn draw_when_mounted(
    _container: NodeRef<leptos::html::Div>,
    _rows: Vec<HypertableSummary>,
    _height: u32,
) {
    // Drawn in the browser only: the server sends the empty container.
}
