//! The page an admin opens first: is the database up, where do the bytes go, what
//! compresses badly, what waits to be compressed, which aggregates lag, which jobs fail.

use crate::charts::biggest_hypertables;
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::freshness::Freshness;
use crate::components::live::use_snapshot_updates;
use crate::components::startup_banner::StartupBanner;
use crate::monitoring::get_overview;
use crate::url::hypertable_page;
use leptos::prelude::*;
use tsdb::facts::{HypertableFacts, Overview};
use tsdb::types::{format_bytes, format_time, HealthStatus, TaskState};

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let updates = use_snapshot_updates();
    let data = Resource::new(move || updates.get(), |_| get_overview());
    view! {
        <StartupBanner/>
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading the overview…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { data.await.map(|o| view! { <OverviewBody o/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

/// What the overview shows under its totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Headline {
    /// No pass has finished yet and nothing is wrong: the first one is under way.
    Gathering,
    /// No pass has finished and the problem banner says why.
    Unreadable,
    /// A pass found no hypertables.
    NoHypertables,
    /// The biggest hypertables' chart.
    Biggest,
}

impl Headline {
    /// Before the first pass nothing is known: that is not "no hypertables".
    fn of(o: &Overview) -> Headline {
        match (&o.header, &o.problem) {
            (None, None) => Headline::Gathering,
            (None, Some(_)) => Headline::Unreadable,
            (Some(_), _) if o.lists.totals.hypertables == 0 => Headline::NoHypertables,
            (Some(_), _) => Headline::Biggest,
        }
    }
}

/// "N more: …" under a list the server cut at `shown` of `total`.
fn more(total: usize, shown: usize, href: &'static str, where_: &'static str) -> impl IntoView {
    (total > shown).then(|| {
        view! {
            <p class="muted small" data-testid="list-cut">
                {format!("{} more: ", total - shown)}<a href=href>{where_}</a>
            </p>
        }
    })
}

fn hypertable_link(h: &HypertableFacts) -> String {
    hypertable_page(&h.schema, &h.name)
}

#[component]
fn OverviewBody(o: Overview) -> impl IntoView {
    let (status_class, status_text) = match o.status {
        HealthStatus::Ok => ("badge on", "ok"),
        HealthStatus::Degraded => ("badge warn", "degraded"),
        HealthStatus::Down => ("badge bad", "down"),
    };
    let headline = Headline::of(&o);
    // Moved out: the view below reads the other fields only.
    let mut o = o;
    let lists = std::mem::take(&mut o.lists);
    let totals = lists.totals;
    let chart_height = 60 + 40 * lists.biggest.len().min(Overview::BIGGEST) as u32;
    let gathering = matches!(headline, Headline::Gathering | Headline::Unreadable);
    let chart = biggest_hypertables::build(&lists.biggest, Overview::BIGGEST);
    let cut_failing = more(
        lists.failing_job_count,
        lists.failing_jobs.len(),
        "/jobs",
        "all jobs →",
    );
    let cut_backlog = more(
        totals.backlog_tables,
        lists.backlog.len(),
        "/hypertables",
        "every hypertable →",
    );
    let cut_lagging = more(
        lists.lagging_aggregate_count,
        lists.lagging_aggregates.len(),
        "/jobs",
        "their refresh jobs →",
    );
    let (backlog, worst, failing, lagging) = (
        lists.backlog,
        lists.worst_compression,
        lists.failing_jobs,
        lists.lagging_aggregates,
    );
    let watermarks_unknown = lists.watermarks_unknown;
    // Without a pass nothing below is known: each list says so instead of "none".
    let unknown = || {
        view! {
            <p class="muted" data-testid="unknown">
                {if headline == Headline::Gathering {
                    "Not known yet: the console is reading the first figures from TimescaleDB."
                } else {
                    "Unknown: the catalog cannot be read (see above)."
                }}
            </p>
        }
        .into_any()
    };
    view! {
        <section class="panel">
            <div class="title-row">
                <h1>"Overview"</h1>
                <span class=status_class data-testid="status">{status_text}</span>
            </div>
            <Freshness header=o.header.clone()/>
            {o.problem.clone().map(|p| view! { <div class="banner bad" role="alert" data-testid="problem">{p}</div> })}
            {o.troubled_tasks.iter().map(|t| view! {
                <div class="banner warn" role="alert" data-testid="troubled-task">
                    <strong>{format!("Background task {} ", t.name)}</strong>
                    {match (t.state, t.restart_at) {
                        (TaskState::Restarting, Some(at)) => format!("failed and starts again at {}", format_time(&at)),
                        _ => format!("failed {} and was started again", t.last_failed_at.as_ref().map(format_time).unwrap_or_default()),
                    }}
                    {format!(" ({} restarts). ", t.restarts)}
                    <span class="error-text">{t.last_error.clone().unwrap_or_default()}</span>
                    " Figures on this page may be older than they look."
                </div>
            }).collect_view()}
            <div class="totals">
                <div class="stat"><span class="label">"Database"</span>
                    <span class="value small-value">{o.database.as_ref().map(|d| format!("{} · {}", d.name, format_bytes(d.size_bytes))).unwrap_or_else(|| "—".into())}</span>
                    <span class="muted small">{o.database.as_ref().map(|d| format!("PostgreSQL {} · {} of {} connections", d.server_version, d.connections, d.max_connections)).unwrap_or_default()}</span>
                </div>
                <div class="stat"><span class="label">"TimescaleDB"</span>
                    <span class="value small-value">{match (&o.timescaledb, gathering) {
                        (Some(t), _) => t.version.clone(),
                        (None, true) => "—".into(),
                        (None, false) => "not usable".into(),
                    }}</span>
                    <span class="muted small" data-testid="scheduler">{o.timescaledb.as_ref().map(|t| match (o.job_scheduler, t.max_background_workers) {
                        (true, Some(max)) => format!("{} of {max} background workers", t.background_workers_in_use),
                        _ => "no job scheduler: jobs run only when started by hand".to_string(),
                    }).unwrap_or_default()}</span>
                </div>
                <div class="stat"><span class="label">"Hypertables"</span><span class="value" data-testid="hypertable-count">{if gathering { "—".to_string() } else { totals.hypertables.to_string() }}</span>
                    <span class="muted small">{format_bytes(totals.total_bytes)}</span></div>
                <div class="stat"><span class="label">"Chunks"</span><span class="value">{if gathering { "—".to_string() } else { totals.chunks.to_string() }}</span>
                    <span class="muted small">{format!("{} compressed", totals.compressed_chunks)}</span></div>
                <div class="stat"><span class="label">"Compression backlog"</span>
                    <span class={if totals.backlog_chunks > 0 { "value warn-text" } else { "value" }} data-testid="backlog">{if gathering { "—".to_string() } else { totals.backlog_chunks.to_string() }}</span>
                    <span class="muted small">"chunks past compress-after, uncompressed"</span></div>
            </div>
            {if gathering {
                view! {
                    <p class="muted" data-testid="gathering">{if headline == Headline::Gathering {
                        "The console is reading the first figures from TimescaleDB; they appear here when it finishes."
                    } else {
                        "No figures yet: the catalog cannot be read (above)."
                    }}</p>
                }.into_any()
            } else if headline == Headline::NoHypertables {
                view! {
                    <div class="empty" data-testid="empty">
                        <p><strong>"No hypertables yet."</strong></p>
                        <p class="muted">"Create one with SELECT create_hypertable('my_table', by_range('time')); or start the console with demo data (MS5_DEMO_DATA=true)."</p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <h2>"Biggest hypertables"</h2>
                    <ChartCanvas id="chart-biggest" height=chart_height chart/>
                }.into_any()
            }}
        </section>
        <div class="columns">
            <section class="panel" data-testid="failing-jobs">
                <h2>"Failing jobs"</h2>
                {if gathering {
                    unknown()
                } else if failing.is_empty() {
                    view! { <p class="muted">{format!("None of {} jobs failed its last run. ", o.job_count)} <a href="/jobs">"All jobs →"</a></p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {failing.into_iter().map(|j| view! {
                                <li><a href=crate::url::job_page(j.id)><strong>{format!("#{} {}", j.id, j.kind)}</strong></a> {j.hypertable.clone().map(|h| format!(" on {h}"))}
                                    <span class="muted small">{format!(" · {} failures of {} runs", j.total_failures, j.total_runs)}</span>
                                    {j.last_error.clone().map(|e| view! { <div class="error-text small">{e}</div> })}
                                    {j.known_cause.clone().map(|c| view! { <div class="small" data-testid="known-cause">{c}</div> })}
                                </li>
                            }).collect_view()}
                        </ul>
                        {cut_failing}
                    }.into_any()
                }}
            </section>
            <section class="panel" data-testid="policy-apply">
                <h2>"Policies"</h2>
                {match o.last_policy_apply.clone() {
                    None => view! { <p class="muted">"No policy apply yet. " <a href="/policies">"See desired vs live"</a></p> }.into_any(),
                    Some(run) => view! {
                        <p>
                            <span class=if run.failed == 0 { "badge on" } else { "badge bad" }>{if run.failed == 0 { "applied" } else { "steps failed" }}</span>
                            {format!(" Last apply {} ({}): {} step(s), {} failed. ", format_time(&run.started_at), run.trigger, run.steps, run.failed)}
                            <a href="/policies">"Policies"</a>
                        </p>
                        <ul class="plain">{run.failures.into_iter().map(|f| view! { <li class="error-text small">{f}</li> }).collect_view()}</ul>
                        {(!run.held.is_empty()).then(|| view! {
                            <p class="notice warn" data-testid="held">
                                {format!("{} change(s) wait for an admin's confirmation because they would drop data: ", run.held.len())}
                                <a href="/policies">"review them on the Policies page"</a>
                            </p>
                            <ul class="plain">{run.held.into_iter().map(|h| view! { <li class="small">{h}</li> }).collect_view()}</ul>
                        })}
                    }.into_any(),
                }}
            </section>
            <section class="panel" data-testid="backlog-list">
                <h2>"Compression backlog"</h2>
                {if gathering {
                    unknown()
                } else if backlog.is_empty() {
                    view! { <p class="muted">"Every chunk past its compress-after is compressed."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {backlog.into_iter().map(|h| view! {
                                <li><a href=hypertable_link(&h)>{h.qualified()}</a>
                                    <span class="muted small">{format!(" · {} chunks, {} (compress after {})", h.backlog_chunks, format_bytes(h.backlog_bytes), h.compress_after.clone().unwrap_or_default())}</span></li>
                            }).collect_view()}
                        </ul>
                        {cut_backlog}
                    }.into_any()
                }}
            </section>
            <section class="panel">
                <h2>"Poor compression"</h2>
                {if gathering {
                    unknown()
                } else if worst.is_empty() && totals.compressed_chunks == 0 {
                    view! { <p class="muted">"Nothing is compressed yet."</p> }.into_any()
                } else if worst.is_empty() {
                    view! { <p class="muted">{format!("Every compressed hypertable shrinks at least {:.0}×.", tsdb::facts::Overview::POOR_RATIO)}</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {worst.into_iter().map(|h| view! {
                                <li><a href=hypertable_link(&h)>{h.qualified()}</a>
                                    <span class="muted small">{format!(" · ratio {:.1}×, {} → {}", h.compression_ratio.unwrap_or(0.0), format_bytes(h.before_compression_bytes), format_bytes(h.after_compression_bytes))}</span></li>
                            }).collect_view()}
                        </ul>
                        <p class="muted small">{format!("Listed: less than {:.0}× smaller. A segment-by that fits the queries usually helps; the advisor on each table's page suggests one.", tsdb::facts::Overview::POOR_RATIO)}</p>
                    }.into_any()
                }}
            </section>
            <section class="panel">
                <h2>"Lagging continuous aggregates"</h2>
                {if gathering {
                    unknown()
                } else if watermarks_unknown {
                    view! { <p class="muted" data-testid="watermarks-unknown">{format!("Lag unknown for the {} continuous aggregate(s): their watermarks are not in TimescaleDB's public API, the only part of its catalog read on this server.", o.aggregate_count)}</p> }.into_any()
                } else if lagging.is_empty() {
                    view! { <p class="muted">{format!("{} up with {} refresh schedule (none more than {:.0} schedules and an hour behind).", if o.aggregate_count == 1 { "The continuous aggregate keeps".to_string() } else { format!("All {} continuous aggregates keep", o.aggregate_count) }, if o.aggregate_count == 1 { "its" } else { "their" }, tsdb::facts::CaggFacts::LAG_SCHEDULES)}</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain">
                            {lagging.into_iter().map(|c| view! {
                                <li><strong>{tsdb::ident::display_name(&c.schema, &c.name)}</strong>
                                    <span class="muted small">{match (c.watermark, c.refresh_lag_seconds) {
                                        (Some(w), Some(lag)) => format!(" · materialized up to {} ({:.1} h behind)", format_time(&w), lag / 3600.0),
                                        _ => " · never refreshed".to_string(),
                                    }}</span></li>
                            }).collect_view()}
                        </ul>
                        {cut_lagging}
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsdb::facts::{HypertableTotals, OverviewLists, SnapshotHeader};

    fn overview(header: bool, problem: bool, hypertables: usize) -> Overview {
        Overview {
            status: HealthStatus::Ok,
            header: header.then(|| SnapshotHeader {
                taken_at: chrono::Utc::now(),
                age_seconds: 1.0,
                pass_seconds: 0.1,
                failure: None,
            }),
            problem: problem.then(|| "the database is not reachable".to_string()),
            database: None,
            timescaledb: None,
            lists: OverviewLists {
                totals: HypertableTotals {
                    hypertables,
                    ..HypertableTotals::default()
                },
                ..OverviewLists::default()
            },
            job_count: 0,
            aggregate_count: 0,
            job_scheduler: false,
            troubled_tasks: Vec::new(),
            last_policy_apply: None,
        }
    }

    #[test]
    fn no_pass_yet_is_not_no_hypertables() {
        assert_eq!(
            Headline::of(&overview(false, false, 0)),
            Headline::Gathering
        );
        assert_eq!(
            Headline::of(&overview(false, true, 0)),
            Headline::Unreadable
        );
        assert_eq!(
            Headline::of(&overview(true, true, 0)),
            Headline::NoHypertables
        );
        assert_eq!(Headline::of(&overview(true, false, 3)), Headline::Biggest);
    }
}
