//! Every chunk, with the same filters, sort and paging as `/api/v1/monitoring/metrics/chunks`.
//! The filters live in the address, so a filtered list can be shared.

use crate::charts::chunk_timeline;
use crate::components::error_panel::ErrorPanel;
use crate::monitoring::{chunk_list, ChunkParams};
use crate::url::encode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tsdb::chunk_query::ChunkPage;
use tsdb::types::format_bytes;

/// A `datetime-local` value (`2026-11-25T08:30`) as RFC 3339 in UTC; other text unchanged.
fn as_rfc3339(value: String) -> String {
    if value.len() == 16 && value.as_bytes().get(10) == Some(&b'T') {
        format!("{value}:00Z")
    } else {
        value
    }
}

/// The chunks page.
#[component]
pub fn ChunksPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.get();
        ChunkParams {
            hypertable: q.get("hypertable"),
            from: q.get("from").map(as_rfc3339),
            to: q.get("to").map(as_rfc3339),
            compressed: q.get("compressed"),
            sort: q.get("sort"),
            limit: q.get("limit"),
            offset: q.get("offset"),
        }
    });
    let page = Resource::new(move || params.get(), chunk_list);
    let value = move |name: &'static str| query.read().get(name).unwrap_or_default();
    view! {
        <section class="panel">
            <h1>"Chunks"</h1>
            <form method="get" action="/chunks" class="form row filters" data-testid="chunk-filters">
                <label>"Hypertable" <input name="hypertable" placeholder="schema.name" prop:value=move || value("hypertable")/></label>
                <label>"State"
                    <select name="compressed" prop:value=move || value("compressed")>
                        <option value="">"any"</option>
                        <option value="true">"compressed"</option>
                        <option value="false">"uncompressed"</option>
                    </select>
                </label>
                <label>"From (UTC)" <input type="datetime-local" name="from" prop:value=move || value("from")/></label>
                <label>"To (UTC)" <input type="datetime-local" name="to" prop:value=move || value("to")/></label>
                <label>"Sort"
                    <select name="sort" prop:value=move || {
                        let sort = value("sort");
                        if sort.is_empty() { "range_start".to_string() } else { sort }
                    }>
                        <option value="range_start">"oldest first"</option>
                        <option value="-range_start">"newest first"</option>
                        <option value="-total_bytes">"biggest first"</option>
                        <option value="total_bytes">"smallest first"</option>
                    </select>
                </label>
                <button type="submit">"Filter"</button>
                <a href="/chunks" class="button secondary">"Clear"</a>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Loading chunks…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        let current = params.get();
                        page.await.map(|p| view! { <ChunkTable page=p params=current/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

fn link(params: &ChunkParams, offset: usize) -> String {
    let mut parts = Vec::new();
    for name in ["hypertable", "from", "to", "compressed", "sort", "limit"] {
        if let Some(v) = params.get(name).filter(|v| !v.is_empty()) {
            parts.push(format!("{name}={}", encode(&v, false)));
        }
    }
    parts.push(format!("offset={offset}"));
    format!("/chunks?{}", parts.join("&"))
}

#[component]
fn ChunkTable(page: ChunkPage, params: ChunkParams) -> impl IntoView {
    let first = if page.total == 0 { 0 } else { page.offset + 1 };
    let last = page.offset + page.chunks.len();
    let previous = (page.offset > 0).then(|| link(&params, page.offset.saturating_sub(page.limit)));
    let next = (last < page.total).then(|| link(&params, last));
    view! {
        <p class="muted" data-testid="chunk-total">{format!("{} chunks match; showing {first}–{last}.", page.total)}</p>
        <table class="data" data-testid="chunks">
            <thead><tr>
                <th>"Hypertable"</th><th>"Chunk"</th><th>"Range (UTC)"</th><th class="num">"Size"</th>
                <th>"State"</th><th class="num">"Before → after compression"</th><th>"Tablespace"</th>
            </tr></thead>
            <tbody>
                {page.chunks.into_iter().map(|c| {
                    let (class, state) = match (c.is_compressed, c.in_backlog) {
                        (true, _) => ("badge on", "compressed"),
                        (false, true) => ("badge bad", "backlog"),
                        (false, false) => ("badge off", "uncompressed"),
                    };
                    view! {
                        <tr data-testid="chunk-row">
                            <td class="name">{c.hypertable()}</td>
                            <td class="name">{c.name.clone()}</td>
                            <td class="nowrap">{chunk_timeline::label(&c)}</td>
                            <td class="num nowrap">{format_bytes(c.total_bytes)}</td>
                            <td><span class=class>{state}</span></td>
                            <td class="num nowrap">{match (c.before_compression_bytes, c.after_compression_bytes) {
                                (Some(b), Some(a)) => format!("{} → {}", format_bytes(b), format_bytes(a)),
                                _ => "—".into(),
                            }}</td>
                            <td>{c.tablespace.clone().unwrap_or_else(|| "default".into())}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <nav class="pager">
            {previous.map(|href| view! { <a href=href>"← Previous"</a> })}
            {next.map(|href| view! { <a href=href data-testid="next-page">"Next →"</a> })}
        </nav>
    }
}
