//! Every hypertable in a sortable table, and a chart of bytes before and after
//! compression.

use crate::charts::compression_bars;
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::freshness::Freshness;
use crate::monitoring::list_hypertables;
use crate::url::hypertable_page;
use leptos::prelude::*;
use tsdb::facts::HypertableFacts;
use tsdb::types::format_bytes;

/// Columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Size,
    Chunks,
    Compressed,
    Ratio,
    Backlog,
}

fn sort(rows: &mut [HypertableFacts], column: Column, descending: bool) {
    rows.sort_by(|a, b| {
        let order = match column {
            Column::Name => a.qualified().cmp(&b.qualified()),
            Column::Size => a.total_bytes.cmp(&b.total_bytes),
            Column::Chunks => a.chunk_count.cmp(&b.chunk_count),
            Column::Compressed => a.compressed_chunk_count.cmp(&b.compressed_chunk_count),
            Column::Ratio => a
                .compression_ratio
                .unwrap_or(0.0)
                .partial_cmp(&b.compression_ratio.unwrap_or(0.0))
                .unwrap_or(std::cmp::Ordering::Equal),
            Column::Backlog => a.backlog_chunks.cmp(&b.backlog_chunks),
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
}

/// The hypertables page.
#[component]
pub fn HypertablesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_hypertables());
    view! {
        <section class="panel">
            <h1>"Hypertables"</h1>
            <Suspense fallback=|| view! { <p class="muted" data-testid="loading">"Loading hypertables…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        data.await.map(|list| {
                            let header = list.header.clone();
                            view! { <Freshness header/> <HypertablesBody rows=list.hypertables/> }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn HypertablesBody(rows: Vec<HypertableFacts>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <div class="empty" data-testid="empty"><p><strong>"No hypertables yet."</strong></p></div>
        }
        .into_any();
    }
    let height = 320;
    let chart = compression_bars::build(&rows);
    let order = RwSignal::new((Column::Size, true));
    let rows = StoredValue::new(rows);
    let header = move |label: &'static str, column: Column, numeric: bool| {
        let arrow = move || match order.get() {
            (c, true) if c == column => " ↓",
            (c, false) if c == column => " ↑",
            _ => "",
        };
        view! {
            <th scope="col" class=if numeric { "num sortable" } else { "sortable" }
                aria-sort=move || match order.get() { (c, true) if c == column => "descending", (c, false) if c == column => "ascending", _ => "none" }
                on:click=move |_| order.update(|(c, desc)| { if *c == column { *desc = !*desc } else { *c = column; *desc = column != Column::Name } })>
                {label}{arrow}
            </th>
        }
    };
    view! {
        <h2>"Bytes before and after compression"</h2>
        <ChartCanvas id="chart-compression" height chart/>
        <table class="data" data-testid="hypertables">
            <thead><tr>
                {header("Hypertable", Column::Name, false)}
                {header("Size", Column::Size, true)}
                {header("Chunks", Column::Chunks, true)}
                {header("Compressed", Column::Compressed, true)}
                {header("Ratio", Column::Ratio, true)}
                {header("Backlog", Column::Backlog, true)}
                <th scope="col">"Compression"</th>
            </tr></thead>
            <tbody>
                {move || {
                    let (column, descending) = order.get();
                    let mut sorted = rows.get_value();
                    sort(&mut sorted, column, descending);
                    sorted.into_iter().map(|h| {
                        let name = h.qualified();
                        let label = name.clone();
                        let href = hypertable_page(&h.schema, &h.name);
                        let (class, text) = if h.compression_enabled { ("badge on", "on") } else { ("badge off", "off") };
                        view! {
                            <tr data-testid="hypertable-row" data-name=name>
                                <td class="name"><a href=href>{label}</a></td>
                                <td class="num" title=format!("{} bytes", h.total_bytes)>{format_bytes(h.total_bytes)}</td>
                                <td class="num">{h.chunk_count}</td>
                                <td class="num">{h.compressed_chunk_count}</td>
                                <td class="num">{h.compression_ratio.map(|r| format!("{r:.1}×")).unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{h.backlog_chunks}</td>
                                <td><span class=class>{text}</span></td>
                            </tr>
                        }
                    }).collect_view()
                }}
            </tbody>
        </table>
    }
    .into_any()
}
