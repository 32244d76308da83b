//! The dashboard: every hypertable with its size, chunks and compression, and a chart of
//! where the bytes are.

use crate::components::bytes_chart::BytesChart;
use crate::components::error_panel::ErrorPanel;
use crate::components::hypertable_table::HypertableTable;
use crate::components::startup_banner::StartupBanner;
use crate::hypertables::list_hypertables;
use leptos::prelude::*;
use tsdb::types::{format_bytes, HypertableSummary};

/// The first page: storage per hypertable.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let hypertables = Resource::new(|| (), |_| list_hypertables());
    view! {
        <StartupBanner/>
        <section class="panel">
            <h1>"Hypertables"</h1>
            <Suspense fallback=|| view! { <p class="muted" data-testid="loading">"Loading hypertables…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        hypertables.await.map(|rows| view! { <DashboardBody rows/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// Totals, chart and table, or the empty state.
#[component]
fn DashboardBody(rows: Vec<HypertableSummary>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <div class="empty" data-testid="empty">
                <p><strong>"No hypertables yet."</strong></p>
                <p class="muted">
                    "Create one with SELECT create_hypertable('my_table', by_range('time')); "
                    "or start the console with demo data (MS5_DEMO_DATA=true)."
                </p>
            </div>
        }
        .into_any();
    }
    let total: i64 = rows.iter().map(|r| r.total_bytes).sum();
    let chunks: i64 = rows.iter().map(|r| r.chunk_count).sum();
    let compressed: i64 = rows.iter().map(|r| r.compressed_chunk_count).sum();
    view! {
        <div class="totals">
            <div class="stat"><span class="label">"Hypertables"</span><span class="value">{rows.len()}</span></div>
            <div class="stat"><span class="label">"Total size"</span><span class="value">{format_bytes(total)}</span></div>
            <div class="stat"><span class="label">"Chunks"</span><span class="value">{chunks}</span></div>
            <div class="stat"><span class="label">"Compressed chunks"</span><span class="value">{compressed}</span></div>
        </div>
        <h2>"Bytes per hypertable"</h2>
        <BytesChart rows=rows.clone()/>
        <HypertableTable rows/>
    }
    .into_any()
}
