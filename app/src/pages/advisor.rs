//! The compression advisor for one hypertable: the suggested segment-by and order-by with
//! their reasons beside TimescaleDB's own defaults, the current settings' measured effect,
//! the columns and indexes the advice rests on; operators can try the suggestion on a copy
//! of a recent chunk, admins take it into the table's policy (preview, save, apply there).

use crate::advisor::{get_advice, RunCompressionTrial};
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::UserResource;
use crate::url::{encode, hypertable_page, policy_page};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tsdb::advisor::{Advice, EngineDefault, Suggestion, Trial};
use tsdb::types::{format_bytes, Role};

/// The advisor page, `/hypertables/:schema/:name/advisor`.
#[component]
pub fn AdvisorPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("schema").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let advice = Resource::new(key, |(schema, name)| get_advice(schema, name));
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Reading the columns and a recent chunk…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { advice.await.map(|a| view! { <AdviceView a/> }) })}
            </ErrorBoundary>
        </Suspense>
    }
}

/// Items as the settings field writes them, or a word for none.
fn items(list: &[String]) -> String {
    if list.is_empty() {
        "(none)".into()
    } else {
        list.join(", ")
    }
}

#[component]
fn SuggestionRow(
    label: &'static str,
    s: Suggestion,
    engine: Option<EngineDefault>,
) -> impl IntoView {
    view! {
        <tr data-testid=format!("suggest-{}", label.replace(' ', "-"))>
            <th>{label}</th>
            <td class="name" data-testid="suggested-items">{items(&s.items)}</td>
            <td class="small">{s.reason}</td>
            <td class="small">{match engine {
                Some(e) => format!(
                    "{}{}{}",
                    items(&e.items),
                    e.confidence.map(|c| format!(" (confidence {c}/10)")).unwrap_or_default(),
                    e.message.map(|m| format!(": {m}")).unwrap_or_default()
                ),
                None => "not offered by this TimescaleDB (2.14+)".into(),
            }}</td>
        </tr>
    }
}

#[component]
fn AdviceView(a: Advice) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let trial = ServerAction::<RunCompressionTrial>::new();
    let (schema, name) = tsdb::ident::parse_display_name(&a.relation).unwrap_or_default();
    let policy_href = format!(
        "{}?segment_by={}&order_by={}",
        policy_page(&schema, &name),
        encode(&a.segment_by.items.join(", "), false),
        encode(&a.order_by.items.join(", "), false)
    );
    let table_href = hypertable_page(&schema, &name);
    let sample = match &a.sample_chunk {
        Some(chunk) => format!("Figures from the chunk {chunk} ({} rows).", a.sample_rows),
        None => "The table has no chunks yet: nothing to measure.".into(),
    };
    let columns = a
        .columns
        .iter()
        .map(|c| {
            view! {
                <tr>
                    <td class="name">{c.name.clone()}{c.is_time.then_some(" (time)")}</td>
                    <td class="small">{c.type_name.clone()}</td>
                    <td class="num">{c.distinct.map(|d| format!("{d:.0}{}", if c.counted { " (counted)" } else { " (pg_stats)" })).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{c.correlation.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())}</td>
                    <td>{if c.segmentable { "yes" } else { "no" }}</td>
                </tr>
            }
        })
        .collect_view();
    let indexes = a
        .indexes
        .iter()
        .map(|i| view! { <li><span class="name">{i.name.clone()}</span>" ("{i.columns.join(", ")}")"</li> })
        .collect_view();
    let (s1, n1) = (schema.clone(), name.clone());
    view! {
        <section class="panel" data-testid="advisor">
            <h1>"Compression advisor: "<a href=table_href>{a.relation.clone()}</a></h1>
            <p class="muted small">{sample}</p>
            <table class="data">
                <thead><tr><th></th><th>"Suggested"</th><th>"Why"</th><th>"TimescaleDB's own default"</th></tr></thead>
                <tbody>
                    <SuggestionRow label="segment by" s=a.segment_by.clone() engine=a.engine_segment_by.clone()/>
                    <SuggestionRow label="order by" s=a.order_by.clone() engine=a.engine_order_by.clone()/>
                </tbody>
            </table>
            <h2>"Current settings"</h2>
            <p data-testid="current-verdict">
                {format!("segment by {}; order by {}. ", items(&a.current.segment_by), items(&a.current.order_by))}
                {a.current.verdict.clone()}
            </p>
            <Suspense fallback=|| ()>
                {move || {
                    let (s, n, href) = (s1.clone(), n1.clone(), policy_href.clone());
                    Suspend::new(async move {
                        let role = user.await.ok().flatten().map(|me| me.role);
                        let operator = role.is_some_and(|r| r.includes(Role::Operator));
                        let admin = role.is_some_and(|r| r.includes(Role::Admin));
                        view! {
                            <div class="actions">
                                {operator.then(|| view! {
                                    <button type="button" data-testid="run-trial" disabled=move || trial.pending().get()
                                        on:click=move |_| { trial.dispatch(RunCompressionTrial { schema: s.clone(), name: n.clone() }); }>
                                        {move || if trial.pending().get() { "Compressing a copy…" } else { "Try it on a copy of a recent chunk" }}
                                    </button>
                                })}
                                {admin.then(|| view! {
                                    <a class="button secondary" href=href.clone() data-testid="use-in-policy">"Use in the policy (preview, save, apply)"</a>
                                })}
                            </div>
                        }
                    })
                }}
            </Suspense>
            {move || trial.value().get().map(|result| match result {
                Ok(t) => view! { <TrialView t/> }.into_any(),
                Err(e) => view! { <p class="notice bad" role="alert" data-testid="form-error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
        <section class="panel">
            <h2>"Columns"</h2>
            <table class="data compact">
                <thead><tr><th>"Column"</th><th>"Type"</th><th class="num">"Distinct in the chunk"</th><th class="num">"Correlation"</th><th>"Can segment"</th></tr></thead>
                <tbody>{columns}</tbody>
            </table>
            <h2>"Indexes"</h2>
            <ul class="plain">{indexes}</ul>
        </section>
    }
}

#[component]
fn TrialView(t: Trial) -> impl IntoView {
    let rows = t
        .results
        .iter()
        .map(|r| {
            view! {
                <tr data-testid="trial-row">
                    <td>{r.label.clone()}</td>
                    <td class="name">{items(&r.segment_by)}</td>
                    <td class="name">{items(&r.order_by)}</td>
                    <td class="num">{format_bytes(r.before_bytes)}</td>
                    <td class="num">{format_bytes(r.after_bytes)}</td>
                    <td class="num" data-testid="trial-ratio">{r.ratio().map(|x| format!("{x:.1}×")).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{r.rows_per_batch.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="preview" data-testid="trial">
            <p>{format!("Compressed copies of {} ({} rows) in {:.1} s; the scratch schema was rolled back.", t.chunk, t.rows, t.seconds)}</p>
            <table class="data compact">
                <thead><tr><th>"Setting"</th><th>"Segment by"</th><th>"Order by"</th><th class="num">"Before"</th><th class="num">"After"</th><th class="num">"Ratio"</th><th class="num">"Rows per batch"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
