//! How a page shows errors from its resources.

use leptos::prelude::*;

/// Lists the errors an `ErrorBoundary` caught, as sentences (never raw database text).
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="error" role="alert" data-testid="error">
            <strong>"This page could not be loaded."</strong>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}
