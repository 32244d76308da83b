//! The banner on every page while the console reads only TimescaleDB's public API (a
//! release newer than it knows, or an internal catalog unlike the one it expects): the
//! figures are TimescaleDB's own, but passes are slower and some facts are unknown, and
//! nobody should mistake an unknown for a "none". Hidden otherwise, and for signed-out
//! visitors.

use crate::monitoring::catalog_fallback;
use leptos::prelude::*;

/// The public-API banner.
#[component]
pub fn CatalogBanner() -> impl IntoView {
    let fallback = Resource::new(|| (), |_| catalog_fallback());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                fallback.await.ok().flatten().map(|reason| view! {
                    <div class="banner warn" role="status" data-testid="catalog-fallback">
                        <strong>"Reading TimescaleDB's public views only. "</strong>
                        {reason}
                        ". Sizes and states are TimescaleDB's own, but reading them is slower, and continuous aggregates' watermarks and compressed batch sizes are unknown."
                    </div>
                })
            })}
        </Suspense>
    }
}
