//! A chart container: the server sends it empty; after hydration charming draws the
//! chart into it with the page's ECharts.

use charming::Chart;
use leptos::prelude::*;

/// Draws `chart` into a `div#id` of `height` pixels once mounted in the browser.
#[component]
pub fn ChartCanvas(id: &'static str, height: u32, chart: Chart) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    draw_when_mounted(id, container, chart, height);
    view! {
        <div id=id class="chart" data-testid=id style=format!("height: {height}px") node_ref=container></div>
    }
}

#[cfg(feature = "hydrate")]
fn draw_when_mounted(
    id: &'static str,
    container: NodeRef<leptos::html::Div>,
    chart: Chart,
    height: u32,
) {
    use charming::WasmRenderer;
    let chart = std::rc::Rc::new(chart);
    Effect::new(move |_| {
        let Some(element) = container.get() else {
            return;
        };
        let chart = chart.clone();
        let connected = element.is_connected();
        let draw = move || {
            let width = element.client_width().max(320) as u32;
            if let Err(error) = WasmRenderer::new(width, height).render(id, &chart) {
                leptos::logging::error!("chart {id} could not be drawn: {error:?}");
            }
        };
        // After client-side navigation the new page is mounted a moment after its
        // effects run; ECharts finds the container by id, so wait for the next frame.
        if connected {
            draw();
        } else {
            request_animation_frame(draw);
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn draw_when_mounted(
    _id: &'static str,
    _container: NodeRef<leptos::html::Div>,
    _chart: Chart,
    _height: u32,
) {
    // Drawn in the browser only: the server sends the empty container.
}
