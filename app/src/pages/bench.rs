//! The benchmark (admins): the seed's performance suite against this database, started
//! here or by `ms5-console bench`, each figure beside the seed's and an anchor from the
//! same run; its progress while it runs, and the history of past runs as a chart.

use crate::bench::{
    bench_overview, bench_status, BenchFacts, HistoryEntry, RunStatus, StartBench, StopBench, ROWS,
    RUNS,
};
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::RequireRole;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tsdb::bench::report::{BenchReport, Verdict};
use tsdb::types::{format_time, Role};

/// The bench page.
#[component]
pub fn BenchPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <BenchBody/>
        </RequireRole>
    }
}

#[component]
fn BenchBody() -> impl IntoView {
    let start = ServerAction::<StartBench>::new();
    let stop = ServerAction::<StopBench>::new();
    let (tick, set_tick) = signal(0u32);
    let (finished, set_finished) = signal(0u32);
    let facts = Resource::new(
        move || (tick.get(), start.version().get(), stop.version().get()),
        |_| bench_status(),
    );
    // The history (and its chart) is read again only when a run ends, not at every
    // progress step: redrawing the chart each second would restart its animation.
    let history = Resource::new(
        move || (finished.get(), start.version().get(), stop.version().get()),
        |_| bench_overview(),
    );
    // While a run goes on, ask again every second for its progress.
    Effect::new(move |was_running: Option<bool>| {
        let running = match facts.get() {
            Some(Ok(view)) => view.running.is_some(),
            _ => return was_running.unwrap_or(false),
        };
        if running {
            follow(set_tick);
        } else if was_running == Some(true) {
            set_finished.update(|n| *n = n.wrapping_add(1));
        }
        running
    });
    let params = use_query_map();
    let selected = move || params.read().get("run").and_then(|v| v.parse::<i64>().ok());
    // The form's values outlive the panel, which is drawn again after each run.
    let values = FormValues {
        runs: RwSignal::new("3".to_string()),
        rows: RwSignal::new("100000".to_string()),
    };
    view! {
        <section class="panel">
            <h1>"Benchmark"</h1>
            <p class="muted">
                "The performance suite the platform shipped with (inserts, queries, compression, "
                "concurrency), run against this database in a scratch schema that is removed "
                "afterwards. Each figure stands beside the platform's target and published figure, and an anchor measured "
                "in the same run: psql sending the same statements and rows, or the same work "
                "on one connection. "
                <code>"ms5-console bench"</code>
                " runs the same suite in a terminal; its runs are listed here too."
            </p>
            {move || match start.value().get() {
                Some(Err(error)) => view! { <p class="notice bad" role="alert" data-testid="form-error">{error.to_string()}</p> }.into_any(),
                _ => ().into_any(),
            }}
            {move || match stop.value().get() {
                Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                _ => ().into_any(),
            }}
            <Suspense fallback=|| view! { <p class="muted">"Loading the benchmark…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        facts.await.map(|facts| view! { <RunPanel facts start stop values/> })
                    })}
                </ErrorBoundary>
            </Suspense>
            <Suspense fallback=|| ()>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        history.await.map(|facts| view! { <History facts selected=selected()/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// Refetches the page's facts in a second (in the browser; the server renders once).
fn follow(set_tick: WriteSignal<u32>) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || set_tick.update(|t| *t = t.wrapping_add(1)),
        std::time::Duration::from_secs(1),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = set_tick;
}

/// Start a run, or follow and stop the one going on.
/// What the admin typed into the start form.
#[derive(Clone, Copy)]
struct FormValues {
    runs: RwSignal<String>,
    rows: RwSignal<String>,
}

#[component]
fn RunPanel(
    facts: RunStatus,
    start: ServerAction<StartBench>,
    stop: ServerAction<StopBench>,
    values: FormValues,
) -> impl IntoView {
    let running = facts.running.clone().map(|running| {
        let percent = running.progress.done * 100 / running.progress.total.max(1);
        view! {
            <div class="notice" role="status" data-testid="bench-running">
                <p>
                    <strong>{format!("Running: {}", running.progress.current)}</strong>
                    {format!(" — started by {} at {}", running.started_by, format_time(&running.started_at))}
                </p>
                <progress max=running.progress.total value=running.progress.done data-testid="bench-progress">
                    {format!("{percent} %")}
                </progress>
                <span class="muted">{format!(" {} of {} steps", running.progress.done, running.progress.total)}</span>
                <ActionForm action=stop attr:class="inline">
                    <button type="submit" class="danger">"Stop"</button>
                </ActionForm>
            </div>
        }
    });
    let idle = facts.running.is_none();
    let form = match (&facts.blocked, idle) {
        (Some(reason), _) => view! { <p class="notice" data-testid="bench-blocked">{reason.clone()}</p> }.into_any(),
        (None, false) => ().into_any(),
        (None, true) => view! {
            <ActionForm action=start attr:class="form row" attr:data-testid="start-bench">
                <label>"Runs per test"
                    <input name="runs" type="number" min=*RUNS.start() max=*RUNS.end() required
                        value=move || values.runs.get() on:input=move |ev| values.runs.set(event_target_value(&ev))/>
                </label>
                <label>"Rows for the ingest rate"
                    <input name="rows" type="number" min=*ROWS.start() max=*ROWS.end() step="1000" required
                        value=move || values.rows.get() on:input=move |ev| values.rows.set(event_target_value(&ev))/>
                </label>
                {facts.production.then(|| view! {
                    <label class="check"><input type="checkbox" name="accept_production" value="yes"/>
                        "Run against this production database"</label>
                })}
                <button type="submit" disabled=move || start.pending().get()>"Run the benchmark"</button>
            </ActionForm>
        }.into_any(),
    };
    view! {
        {running}
        {form}
        {facts.last_problem.clone().map(|problem| view! { <p class="notice bad" role="alert" data-testid="bench-problem">{problem}</p> })}
        {(!facts.notices.is_empty()).then(|| view! {
            <ul class="muted" data-testid="bench-notices">
                {facts.notices.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
            </ul>
        })}
    }
}

/// The chart of past runs, the chosen run's table, and the list of runs.
#[component]
fn History(facts: BenchFacts, selected: Option<i64>) -> impl IntoView {
    if facts.history.is_empty() {
        let how = if facts.status.blocked.is_some() {
            "No runs yet. Run "
        } else {
            "No runs yet. Start one above, or run "
        };
        return view! {
            <p class="empty" data-testid="bench-empty">
                {how}<code>"ms5-console bench"</code>" in a terminal."
            </p>
        }
        .into_any();
    }
    let shown = selected
        .and_then(|id| facts.history.iter().find(|run| run.id == id))
        .unwrap_or(&facts.history[0])
        .clone();
    let reports: Vec<&BenchReport> = facts.history.iter().map(|run| &run.report).collect();
    let chart = crate::charts::bench_history::build(&reports);
    view! {
        <h2>"Speed against the anchors, run by run"</h2>
        <p class="muted">"Above 1: faster than the anchor; 1: as fast as psql (or as one connection, for the concurrency tests)."</p>
        <ChartCanvas id="bench-history" height=300 chart/>
        <RunTable run=shown/>
        <h2>"Runs"</h2>
        <table class="data" data-testid="bench-runs">
            <thead><tr>
                <th>"Started"</th><th>"By"</th><th>"Database"</th><th>"Ingest"</th>
                <th>"Runs"</th><th>"Targets met"</th><th></th>
            </tr></thead>
            <tbody>
                {facts.history.iter().map(|run| {
                    let report = &run.report;
                    let met = report.tests.iter().filter(|t| t.verdict() == Verdict::Meets).count();
                    let judged = report.tests.iter().filter(|t| matches!(t.verdict(), Verdict::Meets | Verdict::Misses)).count();
                    view! {
                        <tr>
                            <td>{format_time(&report.started_at)}</td>
                            <td>{run.started_by.clone()}</td>
                            <td>{format!("PostgreSQL {}, TimescaleDB {}", report.postgres, report.timescaledb)}</td>
                            <td>{match report.ingest_path { tsdb::bench::report::IngestPath::Copy => "COPY", tsdb::bench::report::IngestPath::Unnest => "UNNEST" }}</td>
                            <td class="num">{report.runs}</td>
                            <td class="num">{format!("{met} of {judged}")}</td>
                            <td><a href=format!("/admin/bench?run={}", run.id)>"Figures"</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One run's figures: the seed's claim, ours (min / median / max), the anchor.
#[component]
fn RunTable(run: HistoryEntry) -> impl IntoView {
    let report = run.report;
    let facts = format!(
        "Run {} of {} by {}: PostgreSQL {}, TimescaleDB {}; {} run(s) per test; ingest by {}; {} connection(s) at once; anchors {}.",
        run.id,
        format_time(&report.started_at),
        run.started_by,
        report.postgres,
        report.timescaledb,
        report.runs,
        report.ingest_path.describe(),
        report.connections,
        report.psql.clone().map(|v| format!("measured with {v}")).unwrap_or_else(|| "without psql (none was found)".into()),
    );
    view! {
        <h2>"Figures"</h2>
        <p class="muted" data-testid="bench-run-facts">{facts}</p>
        <table class="data" data-testid="bench-figures">
            <thead><tr>
                <th>"Test"</th><th title="The MS5.0 platform's performance target for this test">"Target"</th><th title="The figure the MS5.0 platform published for this test">"Published"</th>
                <th>"Ours: min"</th><th>"median"</th><th>"max"</th><th>"Verdict"</th>
                <th>"Anchor (median)"</th><th>"× anchor speed"</th>
            </tr></thead>
            <tbody>
                {report.tests.iter().map(|test| {
                    let unit = test.key.unit();
                    let seed = test.key.seed();
                    let cell = move |v: Option<f64>| v.map(|v| unit.format(v)).unwrap_or_else(|| "—".into());
                    let (class, verdict) = match test.verdict() {
                        Verdict::Meets => ("badge on", "meets"),
                        Verdict::Misses => ("badge bad", "misses"),
                        Verdict::NoTarget => ("muted", "no target"),
                        Verdict::NotMeasured => ("badge off", "not measured"),
                    };
                    let anchor_title = test.anchor.as_ref().map(|a| a.label.clone()).unwrap_or_default();
                    view! {
                        <tr data-test=test.key.label()>
                            <td title=test.note.clone()>{test.key.label()}</td>
                            <td class="num">{seed.target.map(|(bound, below)| format!("{} {}", if below { "<" } else { ">" }, unit.format(bound))).unwrap_or_else(|| "—".into())}</td>
                            <td class="num">{cell(seed.figure)}</td>
                            <td class="num">{cell(test.ours.map(|s| s.min))}</td>
                            <td class="num"><strong>{cell(test.ours.map(|s| s.median))}</strong></td>
                            <td class="num">{cell(test.ours.map(|s| s.max))}</td>
                            <td><span class=class>{verdict}</span></td>
                            <td class="num" title=anchor_title>{cell(test.anchor.as_ref().map(|a| a.summary.median))}</td>
                            <td class="num">{test.against_anchor().map(|r| format!("{r:.2}×")).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <details>
            <summary>"How each test ran"</summary>
            <dl class="notes">
                {report.tests.iter().map(|test| view! {
                    <dt>{test.key.label()}</dt>
                    <dd>{test.note.clone()}{test.anchor.as_ref().map(|a| format!(" Anchor: {}.", a.label))}</dd>
                }).collect_view()}
            </dl>
        </details>
    }
}
