//! Every hypertable's data-lifecycle policy: desired, live and drift side by side,
//! filterable; the plan's steps with their SQL; the latest apply; admins apply the plan.

use crate::components::confirm_loss::ConfirmLoss;
use crate::components::error_panel::ErrorPanel;
use crate::policies::{get_policies, ApplyOutcome, ApplyPolicies, PoliciesView};
use crate::url::policy_page;
use leptos::prelude::*;
use tsdb::policy::guard::Confirmations;
use tsdb::policy::live::{LiveAge, LiveJob};
use tsdb::policy::plan::TablePlan;
use tsdb::policy::report::{ApplyReport, StepOutcome};
use tsdb::policy::{Columns, CompressAfter, Retention};
use tsdb::types::format_time;

/// Which tables the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    Drifted,
    Unmanaged,
    Failing,
}

/// The policies page.
#[component]
pub fn PoliciesPage() -> impl IntoView {
    let apply = ServerAction::<ApplyPolicies>::new();
    let view = Resource::new(move || apply.version().get(), |_| get_policies());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading policies…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { view.await.map(|v| view! { <PoliciesBody v apply/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

pub(crate) fn age(live: Option<&LiveAge>) -> String {
    live.map_or_else(|| "—".to_string(), LiveAge::human)
}

pub(crate) fn job_after(job: Option<&LiveJob>) -> String {
    match job {
        None => "none".to_string(),
        Some(job) => match (&job.after, &job.created_before) {
            (Some(after), _) => after.human(),
            (None, Some(created)) => format!("created before {}", created.human()),
            (None, None) => "?".to_string(),
        },
    }
}

pub(crate) fn policy_link(t: &TablePlan) -> String {
    policy_page(&t.name.schema, &t.name.table)
}

fn status(t: &TablePlan, failing: bool) -> (&'static str, String) {
    if !t.managed.is_managed() {
        ("badge off", "unmanaged".into())
    } else if failing {
        ("badge bad", "apply failed".into())
    } else if !t.refused.is_empty() {
        ("badge bad", "refused".into())
    } else if t.drift.is_empty() {
        ("badge on", "in sync".into())
    } else {
        ("badge warn", format!("{} to change", t.drift.len()))
    }
}

/// How an apply ended: its report, or why nothing ran.
#[component]
pub fn ApplyOutcomeView(outcome: ApplyOutcome) -> impl IntoView {
    match outcome {
        ApplyOutcome::Applied { report, held } => view! {
            <ApplyResults report/>
            {(!held.is_empty()).then(|| view! {
                <p class="notice warn" role="status">{format!("Held until confirmed: {}", held.iter().map(|h| h.describe()).collect::<Vec<_>>().join("; "))}</p>
            })}
        }.into_any(),
        ApplyOutcome::Changed { steps, .. } => view! {
            <p class="notice warn" role="alert" data-testid="plan-changed">{format!("The plan changed since this page was loaded (it has {} step(s) now); nothing was applied. Reload to see it.", steps.len())}</p>
        }.into_any(),
        ApplyOutcome::NeedsConfirmation { hazards, .. } => view! {
            <p class="notice bad" role="alert" data-testid="needs-confirmation">{format!("Nothing was applied: {}. Type each name above to confirm.", hazards.iter().map(|h| h.describe()).collect::<Vec<_>>().join("; "))}</p>
        }.into_any(),
    }
}

/// The report of an apply, step by step.
#[component]
pub fn ApplyResults(report: ApplyReport) -> impl IntoView {
    let failed = report.failed();
    view! {
        <div class=if failed == 0 { "notice ok" } else { "notice bad" } role="status" data-testid="apply-report">
            <strong>{if failed == 0 {
                format!("Applied {} step(s).", report.results.len())
            } else {
                format!("{failed} of {} step(s) did not apply; the next apply retries them.", report.results.len())
            }}</strong>
            <ol class="steps">
                {report.results.into_iter().map(|r| {
                    let (class, outcome) = match &r.outcome {
                        StepOutcome::Applied => ("ok-text", "applied".to_string()),
                        StepOutcome::Failed { error } => ("error-text", format!("failed: {error}")),
                        StepOutcome::Skipped { reason } => ("muted", format!("skipped: {reason}")),
                    };
                    view! { <li><span>{format!("{}: {}", r.table, r.summary)}</span> " — " <span class=class>{outcome}</span></li> }
                }).collect_view()}
            </ol>
        </div>
    }
}

#[component]
fn PoliciesBody(v: PoliciesView, apply: ServerAction<ApplyPolicies>) -> impl IntoView {
    let filter = RwSignal::new(Filter::All);
    let failing: Vec<String> = v
        .last_run
        .as_ref()
        .map(|r| r.failures.clone())
        .unwrap_or_default();
    let is_failing = move |t: &TablePlan| {
        let prefix = format!("{}: ", t.name);
        failing.iter().any(|f| f.starts_with(&prefix))
    };
    let tables = v.plan.tables.clone();
    let counts = (
        tables.len(),
        tables
            .iter()
            .filter(|t| !t.drift.is_empty() && t.managed.is_managed())
            .count(),
        tables.iter().filter(|t| !t.managed.is_managed()).count(),
        tables
            .iter()
            .filter(|t| is_failing(t) || !t.refused.is_empty())
            .count(),
    );
    let steps = v.plan.steps.clone();
    let step_count = steps.len();
    let editable = v.editable;
    let fingerprint = v.fingerprint.clone();
    let hazards = v.hazards.clone();
    let confirm = RwSignal::new(Confirmations::default());
    let rows = {
        let is_failing = is_failing.clone();
        move || {
            let selected = filter.get();
            tables
                .iter()
                .filter(|t| match selected {
                    Filter::All => true,
                    Filter::Drifted => !t.drift.is_empty() && t.managed.is_managed(),
                    Filter::Unmanaged => !t.managed.is_managed(),
                    Filter::Failing => is_failing(t) || !t.refused.is_empty(),
                })
                .map(|t| {
                    let (class, text) = status(t, is_failing(t));
                    let live = &t.live;
                    let d = &t.desired;
                    view! {
                        <tr data-testid="policy-row" data-name=t.name.to_string()>
                            <td class="name"><a href=policy_link(t)>{t.name.to_string()}</a></td>
                            <td><span class=class data-testid="policy-status">{text}</span>
                                <div class="muted small">{t.managed.describe()}</div></td>
                            <td>{if live.compression_enabled { "on" } else { "off" }}
                                <div class="muted small">{format!("desired {}", if d.compression_enabled { "on" } else { "off" })}</div></td>
                            <td>{job_after(live.compression_policy.as_ref())}
                                <div class="muted small">{format!("desired {}", CompressAfter(d.compression_after))}</div></td>
                            <td>{job_after(live.retention_policy.as_ref())}
                                <div class="muted small">{format!("desired {}", Retention(d.retention))}</div></td>
                            <td>{age(live.chunk_interval.as_ref())}
                                <div class="muted small">{format!("desired {}", d.chunk_time_interval)}</div></td>
                            <td class="small">{Columns(&live.segment_by).to_string()}</td>
                        </tr>
                    }
                })
                .collect_view()
        }
    };
    let chip = move |which: Filter, label: &'static str, count: usize| {
        view! {
            <button type="button" class=move || if filter.get() == which { "chip active" } else { "chip" }
                on:click=move |_| filter.set(which)>{format!("{label} ({count})")}</button>
        }
    };
    view! {
        <section class="panel">
            <div class="title-row">
                <h1>"Policies"</h1>
                {v.last_run.as_ref().map(|r| view! {
                    <span class=if r.failed == 0 { "badge on" } else { "badge bad" } data-testid="last-apply">
                        {format!("last apply {} ({}): {} step(s), {} failed", format_time(&r.started_at), r.trigger, r.steps, r.failed)}
                    </span>
                })}
            </div>
            <p class="muted">"Desired = the configured defaults, then the configuration file's section for a table, then edits made here. Only managed tables are changed; an apply runs one step per transaction and gives up on a table that is busy (3 s lock wait), to retry at the next apply."</p>
            {v.last_run.as_ref().filter(|r| r.failed > 0).map(|r| view! {
                <div class="banner bad" role="alert">
                    <strong>"Steps of the last apply failed:"</strong>
                    <ul>{r.failures.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
            <div class="chips" role="group" aria-label="filter">
                {chip(Filter::All, "all", counts.0)}
                {chip(Filter::Drifted, "drifted", counts.1)}
                {chip(Filter::Unmanaged, "unmanaged", counts.2)}
                {chip(Filter::Failing, "failing", counts.3)}
            </div>
            <div class="table-scroll">
            <table class="data" data-testid="policies">
                <thead><tr>
                    <th>"Hypertable or aggregate"</th><th>"Status"</th><th>"Compression"</th><th>"Compress after"</th>
                    <th>"Retention"</th><th>"Chunk interval"</th><th>"Segment by"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            </div>
        </section>
        <section class="panel" data-testid="plan">
            <h2>{if step_count == 0 { "Plan: in sync".to_string() } else { format!("Plan: {step_count} step(s)") }}</h2>
            {if step_count == 0 {
                view! { <p class="muted">"Live policies match the desired ones on every managed hypertable."</p> }.into_any()
            } else {
                view! {
                    <ol class="steps">
                        {steps.into_iter().map(|s| view! {
                            <li data-testid="plan-step"><strong>{s.table.to_string()}</strong>": "{s.summary}
                                <pre class="sql">{s.statement.display()}</pre></li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {if editable {
                view! {
                    <ConfirmLoss hazards confirm/>
                    <button type="button" data-testid="apply-plan" disabled=move || apply.pending().get() || step_count == 0
                        on:click=move |_| {
                            apply.dispatch(ApplyPolicies {
                                fingerprint: Some(fingerprint.clone()),
                                confirm: confirm.get_untracked(),
                            });
                        }>
                        {move || if apply.pending().get() { "Applying…" } else { "Apply the plan" }}
                    </button>
                }.into_any()
            } else {
                view! { <p class="muted">"Read-only: only admins change policies."</p> }.into_any()
            }}
            {move || match apply.value().get() {
                Some(Ok(outcome)) => view! { <ApplyOutcomeView outcome/> }.into_any(),
                Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
        <section class="panel">
            <h2>"Continuous aggregates"</h2>
            {if v.caggs.is_empty() {
                view! { <p class="muted">"No continuous aggregates."</p> }.into_any()
            } else {
                view! {
                    <table class="data">
                        <thead><tr><th>"Aggregate"</th><th>"Source"</th><th>"Refresh"</th><th>"Compression"</th><th>"Retention"</th></tr></thead>
                        <tbody>{v.caggs.iter().map(|c| {
                            let href = policy_page(&c.name.schema, &c.name.table);
                            let refresh = if c.refresh.is_empty() {
                                "no refresh policy".to_string()
                            } else {
                                c.refresh.iter().map(|r| format!("{} to {}, every {}{}",
                                    r.start_offset.as_ref().map_or_else(|| "from the beginning".to_string(), |o| format!("{} ago", o.human())),
                                    r.end_offset.as_ref().map_or_else(|| "now".to_string(), |o| format!("{} ago", o.human())),
                                    r.schedule.human(),
                                    if r.scheduled { "" } else { " (paused)" })).collect::<Vec<_>>().join("; ")
                            };
                            view! { <tr data-testid="cagg-row">
                                <td class="name"><a href=href>{c.name.to_string()}</a></td><td>{c.source.to_string()}</td>
                                <td>{refresh}</td>
                                <td>{if c.policies.compression_enabled { job_after(c.policies.compression_policy.as_ref()) } else { "off".to_string() }}</td>
                                <td>{job_after(c.policies.retention_policy.as_ref())}</td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
