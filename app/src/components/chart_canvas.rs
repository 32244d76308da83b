//! A chart container: the server sends it empty; after hydration charming draws the
//! chart into it with the page's ECharts. When ECharts has finished drawing (animations
//! included) the container gets `data-drawn="true"`: screenshots and browser tests wait
//! for that instead of for a fixed time.

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
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// An ECharts instance seen through the part charming does not bind: events.
        type ChartEvents;
        #[wasm_bindgen(method, js_name = "on")]
        fn on(this: &ChartEvents, event: &str, handler: &Closure<dyn Fn()>);
        #[wasm_bindgen(method)]
        fn dispose(this: &ChartEvents);
        /// `echarts.getInstanceByDom`: the chart drawn in an element, if any.
        #[wasm_bindgen(js_namespace = echarts, js_name = "getInstanceByDom")]
        fn instance_of(element: &web_sys::Element) -> Option<ChartEvents>;
    }

    let chart = std::rc::Rc::new(chart);
    Effect::new(move |_| {
        let Some(element) = container.get() else {
            return;
        };
        let chart = chart.clone();
        let connected = element.is_connected();
        let draw = move || {
            // ECharts merges a new chart into one drawn before on the same container (a
            // view switched, a table drilled into: old series would stay) and finds the
            // container by id, which a leaving page may still hold: dispose both and take
            // the id off the leaving one.
            let own: &web_sys::Element = element.as_ref();
            if let Some(previous) = instance_of(own) {
                previous.dispose();
            }
            if let Some(other) = document().get_element_by_id(id) {
                if &other != own {
                    if let Some(previous) = instance_of(&other) {
                        previous.dispose();
                    }
                    let _ = other.remove_attribute("id");
                }
            }
            let width = element.client_width().max(320) as u32;
            let _ = element.remove_attribute("data-drawn");
            match WasmRenderer::new(width, height).render(id, &chart) {
                Ok(echarts) => {
                    let marked = element.clone();
                    let finished = Closure::<dyn Fn()>::new(move || {
                        let _ = marked.set_attribute("data-drawn", "true");
                    });
                    echarts
                        .unchecked_ref::<ChartEvents>()
                        .on("finished", &finished);
                    // ECharts keeps calling it for the chart's lifetime.
                    finished.forget();
                }
                Err(error) => leptos::logging::error!("chart {id} could not be drawn: {error:?}"),
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
