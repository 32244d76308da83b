//! One hypertable: its chunks on a timeline, its compression settings, policies and jobs,
//! and (for operators) compressing a chunk now or decompressing one.

use crate::charts::chunk_timeline;
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::freshness::Freshness;
use crate::components::live::use_snapshot_updates;
use crate::components::user_menu::{action_feedback, UserResource};
use crate::monitoring::{get_hypertable, CompressChunk, DecompressChunk};
use crate::url::encode;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tsdb::facts::{ChunkWindow, HypertableDetail};
use tsdb::types::{format_bytes, format_time, Role};

/// The hypertable detail page, `/hypertables/:schema/:name`.
#[component]
pub fn HypertablePage() -> impl IntoView {
    let params = use_params_map();
    let compress = ServerAction::<CompressChunk>::new();
    let decompress = ServerAction::<DecompressChunk>::new();
    let key = move || {
        let p = params.read();
        (
            p.get("schema").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let updates = use_snapshot_updates();
    let data = Resource::new(
        move || {
            (
                key(),
                compress.version().get() + decompress.version().get(),
                updates.get(),
            )
        },
        |((schema, name), _, _)| get_hypertable(schema, name),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading the hypertable…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { data.await.map(|d| view! { <Detail d compress decompress/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

/// "The … N of M; all of them in the chunk table", when a list was cut.
fn more_chunks(window: &ChunkWindow, which: &'static str, href: String) -> impl IntoView {
    let (shown, total) = (window.chunks.len(), window.total);
    window.is_cut().then(|| {
        view! {
            <p class="muted" data-testid="more-chunks">
                {format!("{which} {shown} of {total}: ")}
                <a href=href>"all of them in the chunk table, paged →"</a>
            </p>
        }
    })
}

/// Compressed chunks an operator may decompress (before a backfill or an update of old
/// rows), each asking first: the chunk grows back to its uncompressed size. The newest
/// are listed (backfills touch recent data), the rest are a link away.
#[component]
fn CompressedChunks(
    window: ChunkWindow,
    decompress: ServerAction<DecompressChunk>,
    href: String,
) -> impl IntoView {
    let total = window.total;
    let more = more_chunks(&window, "The newest", href);
    let asking = RwSignal::new(None::<(String, String)>);
    view! {
        <details data-testid="compressed-chunks">
            <summary>{format!("Compressed chunks ({total}): decompress one before a backfill")}</summary>
            {action_feedback(decompress.value(), "Chunk decompressed; the compression policy compresses it again on its next run.")}
            {move || asking.get().map(|(schema, name)| view! {
                <div class="confirm" data-testid="confirm">
                    <p>{format!("Decompress {schema}.{name}? It grows back to its uncompressed size until the compression policy compresses it again.")}</p>
                    <button type="button" data-testid="confirm-yes" disabled=move || decompress.pending().get() on:click={
                        let (schema, name) = (schema.clone(), name.clone());
                        move |_| {
                            asking.set(None);
                            decompress.dispatch(DecompressChunk { schema: schema.clone(), name: name.clone() });
                        }
                    }>"Yes, decompress it"</button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| asking.set(None)>"Cancel"</button>
                </div>
            })}
            <table class="data compact">
                <thead><tr><th>"Chunk"</th><th>"Range"</th><th class="num">"Size"</th><th></th></tr></thead>
                <tbody>
                    {window.chunks.into_iter().map(|c| {
                        let target = (c.schema.clone(), c.name.clone());
                        view! {
                            <tr data-compressed-chunk=c.name.clone()>
                                <td class="name">{c.name.clone()}</td>
                                <td>{chunk_timeline::label(&c)}</td>
                                <td class="num">{format_bytes(c.total_bytes)}</td>
                                <td><button type="button" class="secondary" data-testid="decompress"
                                    disabled=move || decompress.pending().get()
                                    on:click=move |_| asking.set(Some(target.clone()))>"Decompress…"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {more}
        </details>
    }
}

#[component]
fn Detail(
    d: HypertableDetail,
    compress: ServerAction<CompressChunk>,
    decompress: ServerAction<DecompressChunk>,
) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let h = d.hypertable.clone();
    let chart = chunk_timeline::build(&d.timeline.chunks);
    let chunks_href = format!("/chunks?hypertable={}", encode(&h.qualified(), false));
    let chunks_base = chunks_href.clone();
    let settings = |items: &[String]| {
        if items.is_empty() {
            "(TimescaleDB default)".to_string()
        } else {
            items.join(", ")
        }
    };
    view! {
        <section class="panel">
            <h1 data-testid="hypertable-name">{h.qualified()}</h1>
            <Freshness header=Some(d.header.clone())/>
            <div class="totals">
                <div class="stat"><span class="label">"Size"</span><span class="value">{format_bytes(h.total_bytes)}</span>
                    <span class="muted small">{format!("table {} · indexes {} · toast {}", format_bytes(h.table_bytes), format_bytes(h.index_bytes), format_bytes(h.toast_bytes))}</span></div>
                <div class="stat"><span class="label">"Chunks"</span><span class="value">{h.chunk_count}</span>
                    <span class="muted small">{format!("{} compressed", h.compressed_chunk_count)}</span></div>
                <div class="stat"><span class="label">"Compression"</span>
                    <span class="value">{h.compression_ratio.map(|r| format!("{r:.1}×")).unwrap_or_else(|| "—".into())}</span>
                    <span class="muted small">{format!("{} → {}", format_bytes(h.before_compression_bytes), format_bytes(h.after_compression_bytes))}</span></div>
                <div class="stat"><span class="label">"Rows (estimate)"</span><span class="value">{h.approximate_rows}</span></div>
                <div class="stat"><span class="label">"Backlog"</span><span class="value">{h.backlog_chunks}</span>
                    <span class="muted small">{format_bytes(h.backlog_bytes)}</span></div>
            </div>
            <h2>"Chunks over time (by chunk start, UTC)"</h2>
            {if d.timeline.chunks.is_empty() {
                view! { <p class="empty">"No chunks yet: the hypertable holds no data."</p> }.into_any()
            } else {
                view! { <ChartCanvas id="chart-timeline" height=340 chart/> }.into_any()
            }}
            {d.timeline.is_cut().then(|| view! {
                <p class="muted" data-testid="timeline-cut">{format!(
                    "The newest {} of {} chunks are drawn.", d.timeline.chunks.len(), d.timeline.total
                )}</p>
            })}
            <p><a href=chunks_href>"All chunks of this hypertable in a table →"</a></p>
        </section>
        <div class="columns">
            <section class="panel">
                <h2>"Dimensions and compression settings"</h2>
                <table class="data compact">
                    <tbody>
                        {h.dimensions.iter().map(|dim| view! {
                            <tr><th>{format!("{} dimension", dim.kind)}</th>
                                <td>{format!("{} ({}){}", dim.column, dim.column_type,
                                    dim.interval.as_ref().map(|i| format!(", chunk interval {i}")).or(dim.partitions.map(|p| format!(", {p} partitions"))).unwrap_or_default())}</td></tr>
                        }).collect_view()}
                        <tr><th>"compression"</th><td>{if h.compression_enabled { "enabled" } else { "not enabled" }}</td></tr>
                        <tr><th>"segment by"</th><td class="name">{settings(&h.segment_by)}</td></tr>
                        <tr><th>"order by"</th><td class="name">{settings(&h.order_by)}</td></tr>
                        <tr><th>"compress after"</th><td>{h.compress_after.clone().unwrap_or_else(|| "no compression policy".into())}</td></tr>
                    </tbody>
                </table>
                <p><a href=crate::url::advisor_page(&h.schema, &h.name) data-testid="advisor-link">"Ask the compression advisor →"</a></p>
            </section>
            <section class="panel">
                <h2>"Policies and jobs"</h2>
                {if d.jobs.is_empty() {
                    view! { <p class="muted">"No background jobs work on this hypertable."</p> }.into_any()
                } else {
                    view! {
                        <table class="data compact" data-testid="jobs">
                            <thead><tr><th>"Job"</th><th>"Every"</th><th>"Last run"</th><th>"Next"</th><th class="num">"Runs / failures"</th></tr></thead>
                            <tbody>
                                {d.jobs.iter().map(|j| view! {
                                    <tr>
                                        <td><a href=crate::url::job_page(j.id)>{format!("#{} {}", j.id, j.kind)}</a></td>
                                        <td>{tsdb::alerts::schedule_text(j)}</td>
                                        <td>{j.last_run_status.map_or_else(|| "never ran".to_string(), |s| s.to_string())}
                                            {j.last_error.clone().map(|e| view! { <div class="error-text small">{e}</div> })}</td>
                                        <td>{if j.scheduled { j.next_start.as_ref().map(format_time).unwrap_or_else(|| "—".into()) } else { "paused".into() }}</td>
                                        <td class="num">{format!("{} / {}", j.total_runs, j.total_failures)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
                {d.continuous_aggregates.iter().map(|c| view! {
                    <p class="small">"Continuous aggregate " <strong>{tsdb::ident::display_name(&c.schema, &c.name)}</strong>
                        {format!(": {}, materialized up to {}", format_bytes(c.materialized_bytes), c.watermark.as_ref().map(format_time).unwrap_or_else(|| "never".into()))}</p>
                }).collect_view()}
            </section>
        </div>
        <section class="panel">
            <h2>"Uncompressed chunks"</h2>
            {action_feedback(compress.value(), "Chunk compressed; the figures above are refreshed.")}
            <Suspense fallback=|| ()>
                {move || {
                    let (open, packed) = (d.uncompressed.clone(), d.compressed.clone());
                    let taken_at = d.header.taken_at;
                    let open_href = format!("{chunks_base}&compressed=false&sort=range_start");
                    let packed_href = format!("{chunks_base}&compressed=true&sort=-range_start");
                    Suspend::new(async move {
                        let operator = matches!(user.await, Ok(Some(me)) if me.role.includes(Role::Operator));
                        let uncompressed = if open.chunks.is_empty() {
                            view! { <p class="muted">"Every chunk is compressed."</p> }.into_any()
                        } else {
                            view! {
                                <table class="data compact" data-testid="uncompressed-chunks">
                                    <thead><tr><th>"Chunk"</th><th>"Range"</th><th class="num">"Size"</th><th></th></tr></thead>
                                    <tbody>
                                        {open.chunks.iter().map(|c| {
                                            let (schema, name) = (c.schema.clone(), c.name.clone());
                                            view! {
                                            <tr data-chunk=c.name.clone()>
                                                <td class="name">{c.name.clone()}</td>
                                                <td>{chunk_timeline::label(c)}</td>
                                                <td class="num">{format_bytes(c.total_bytes)}</td>
                                                <td>{if c.range_end.is_some_and(|end| end > taken_at) {
                                                    // Compressing the chunk rows still go to makes every
                                                    // insert a decompression: not offered.
                                                    Some(view! { <span class="muted small" data-testid="chunk-current">"being written"</span> }.into_any())
                                                } else {
                                                    operator.then(|| view! {
                                                    <ActionForm action=compress attr:class="inline">
                                                        <input type="hidden" name="schema" value=schema/>
                                                        <input type="hidden" name="name" value=name/>
                                                        <button type="submit" class="secondary">"Compress now"</button>
                                                    </ActionForm>
                                                }.into_any())
                                                }}</td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                                {more_chunks(&open, "The oldest", open_href)}
                            }.into_any()
                        };
                        view! {
                            {uncompressed}
                            {(operator && !packed.chunks.is_empty()).then(|| view! { <CompressedChunks window=packed decompress href=packed_href/> })}
                        }.into_any()
                    })
                }}
            </Suspense>
        </section>
    }
}
