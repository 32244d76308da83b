//! Live updates: a counter that goes up whenever the server publishes a new snapshot
//! (server-sent events from `/api/v1/monitoring/events`). Resources keyed on it refetch;
//! all open browsers together cost the database one refresher loop.

use leptos::prelude::*;

/// A signal bumped on every new snapshot (stays 0 on the server and without support).
pub fn use_snapshot_updates() -> ReadSignal<u32> {
    let (version, set_version) = signal(0u32);
    #[cfg(feature = "hydrate")]
    subscribe(set_version);
    #[cfg(not(feature = "hydrate"))]
    let _ = set_version;
    version
}

#[cfg(feature = "hydrate")]
fn subscribe(set_version: WriteSignal<u32>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new("/api/v1/monitoring/events") else {
        return;
    };
    let on_snapshot =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
            set_version.update(|v| *v = v.wrapping_add(1));
        });
    let _ =
        source.add_event_listener_with_callback("snapshot", on_snapshot.as_ref().unchecked_ref());
    // The closure lives as long as the page; the stream closes with the component.
    on_snapshot.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}
