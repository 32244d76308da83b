//! One job, `/jobs/:id`: its facts and hypertable, its alerts, its runs (TimescaleDB's and
//! the console's, each marked by source) as a chart and a table; operators run it now and
//! pause or resume it (each confirmed first), admins change its schedule.

use crate::charts::job_runs;
use crate::components::alert_banner::refresh_banner_after;
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::{action_feedback, UserResource};
use crate::jobs::{get_job, EnableJobLogging, RunJob, SetJobSchedule, SetJobScheduled};
use crate::pages::jobs::{
    hypertable_link, last_run, next_start, run_duration, LoggingNotice, SchedulerNotice,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tsdb::alerts::schedule_text;
use tsdb::jobs::{JobDetail, JobRun};
use tsdb::types::{format_time, Role};

/// What the operator is asked to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Run,
    Pause,
    Resume,
}

/// The actions of the page, shared by its parts.
#[derive(Clone, Copy)]
struct Actions {
    run: ServerAction<RunJob>,
    scheduled: ServerAction<SetJobScheduled>,
    schedule: ServerAction<SetJobSchedule>,
    enable: ServerAction<EnableJobLogging>,
    asking: RwSignal<Option<Ask>>,
}

/// The job page.
#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let actions = Actions {
        run: ServerAction::new(),
        scheduled: ServerAction::new(),
        schedule: ServerAction::new(),
        enable: ServerAction::new(),
        asking: RwSignal::new(None),
    };
    refresh_banner_after(move || actions.run.version().get() + actions.scheduled.version().get());
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(
        move || {
            (
                id(),
                actions.run.version().get(),
                actions.scheduled.version().get(),
                actions.schedule.version().get(),
                actions.enable.version().get(),
            )
        },
        |(id, ..)| get_job(id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading the job…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { data.await.map(|d| view! { <Detail d actions/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Detail(d: JobDetail, actions: Actions) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let j = d.job.clone();
    let open: Vec<_> = d
        .alerts
        .iter()
        .filter(|a| a.cleared_at.is_none())
        .cloned()
        .collect();
    view! {
        <section class="panel">
            <p class="small"><a href="/jobs">"← All jobs"</a></p>
            <h1 data-testid="job-title">{format!("Job #{}: {}", j.id, j.kind)}</h1>
            <SchedulerNotice scheduler=d.job_scheduler/>
            {open.iter().map(|a| view! {
                <p class="banner bad" data-testid="job-open-alert"><strong>{format!("Alert: {} ", a.kind.words())}</strong>
                    {format!("since {}: {}", format_time(&a.raised_at), a.message)}
                    {a.acknowledged_by.clone().map(|by| format!(" (acknowledged by {by})"))}
                    " " <a href="/alerts">"Alerts →"</a></p>
            }).collect_view()}
            <table class="data compact" data-testid="job-facts">
                <tbody>
                    <tr><th>"Works on"</th><td>{hypertable_link(&j)}</td></tr>
                    <tr><th>"Every"</th><td data-testid="job-schedule">{schedule_text(&j)}</td></tr>
                    <tr><th>"Scheduled"</th><td data-testid="job-scheduled">{if j.scheduled { "yes" } else { "no (paused)" }}</td></tr>
                    <tr><th>"Next start"</th><td>{next_start(&j, false)}</td></tr>
                    <tr><th>"Last run (scheduler)"</th><td>{last_run(&j, false)}</td></tr>
                    <tr><th>"Last success"</th><td>{j.last_successful_finish.as_ref().map(format_time).unwrap_or_else(|| "never".into())}</td></tr>
                    <tr><th>"Runs / failures"</th><td>{format!("{} / {}", j.total_runs, j.total_failures)}</td></tr>
                    <tr><th>"Latest error"</th><td>
                        {match j.last_error.clone() {
                            Some(e) => view! { <span class="error-text">{j.last_error_code.clone().map(|c| format!("[{c}] ")).unwrap_or_default()}{e}</span> }.into_any(),
                            None => view! { <span class="muted">"none recorded"</span> }.into_any(),
                        }}
                        {j.known_cause.clone().map(|c| view! { <div class="small">{c}</div> })}
                    </td></tr>
                    {j.left_behind.clone().map(|left| view! {
                        <tr><th>"Left uncompressed"</th><td data-testid="job-left-behind">
                            <span class="badge warn">{format!("{} chunk{}", left.count, if left.count == 1 { "" } else { "s" })}</span>
                            " past compress-after by the last run, which still counts as a success: "
                            <code class="small">{left.chunks.join(", ")}</code>
                            {(left.count > left.chunks.len() as i64).then(|| format!(" and {} more", left.count - left.chunks.len() as i64))}
                            <div class="small">"Each chunk's error is a warning in the PostgreSQL log (often a lock timeout behind a long query); the next run retries them."</div>
                        </td></tr>
                    })}
                    <tr><th>"Configuration"</th><td><code class="small">{j.config.clone().unwrap_or_else(|| "{}".into())}</code></td></tr>
                </tbody>
            </table>
        </section>
        <Suspense fallback=|| ()>
            {move || {
                let j = j.clone();
                Suspend::new(async move {
                    let role = match user.await { Ok(Some(me)) => Some(me.role), _ => None };
                    let operator = role.is_some_and(|r| r.includes(Role::Operator));
                    let admin = role.is_some_and(|r| r.includes(Role::Admin));
                    if !operator {
                        return view! { <p class="muted panel" data-testid="read-only">"Read-only: operators and admins run, pause and resume jobs."</p> }.into_any();
                    }
                    let every = tsdb::interval::PolicyInterval::from_postgres(&j.schedule_interval)
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| j.schedule_interval.clone());
                    view! { <JobActions id=j.id scheduled=j.scheduled every admin actions/> }.into_any()
                })
            }}
        </Suspense>
        <section class="panel">
            <h2>"Runs"</h2>
            <LoggingNotice logging=d.logging enable=actions.enable user/>
            <RunHistory runs=d.runs/>
        </section>
    }
}

#[component]
fn JobActions(
    id: i64,
    scheduled: bool,
    every: String,
    admin: bool,
    actions: Actions,
) -> impl IntoView {
    let Actions {
        run,
        scheduled: set_scheduled,
        schedule,
        asking,
        ..
    } = actions;
    let busy = move || run.pending().get() || set_scheduled.pending().get();
    let confirm = move |ask: Ask| {
        let (question, yes) = match ask {
            Ask::Run => (format!("Run job #{id} now? It runs on the console's connection until it ends (or the run time-out), like a scheduled run."), "Yes, run it now"),
            Ask::Pause => (format!("Pause job #{id}? The scheduler will not start it until it is resumed."), "Yes, pause it"),
            Ask::Resume => (format!("Resume job #{id} on its schedule?"), "Yes, resume it"),
        };
        view! {
            <div class="confirm" data-testid="confirm">
                <p>{question}</p>
                <button type="button" data-testid="confirm-yes" on:click=move |_| {
                    asking.set(None);
                    match ask {
                        Ask::Run => { run.dispatch(RunJob { id: id.to_string() }); }
                        Ask::Pause => { set_scheduled.dispatch(SetJobScheduled { id: id.to_string(), scheduled: "false".into() }); }
                        Ask::Resume => { set_scheduled.dispatch(SetJobScheduled { id: id.to_string(), scheduled: "true".into() }); }
                    }
                }>{yes}</button>
                " "
                <button type="button" class="secondary" on:click=move |_| asking.set(None)>"Cancel"</button>
            </div>
        }
    };
    view! {
        <section class="panel" data-testid="job-actions">
            <h2>"Actions"</h2>
            <div class="actions">
                <button type="button" data-testid="run-now" disabled=busy on:click=move |_| asking.set(Some(Ask::Run))>
                    {move || if run.pending().get() { "Running… (waiting for the job to end)" } else { "Run now…" }}
                </button>
                " "
                {if scheduled {
                    view! { <button type="button" class="secondary" data-testid="pause" disabled=busy on:click=move |_| asking.set(Some(Ask::Pause))>"Pause…"</button> }.into_any()
                } else {
                    view! { <button type="button" class="secondary" data-testid="resume" disabled=busy on:click=move |_| asking.set(Some(Ask::Resume))>"Resume…"</button> }.into_any()
                }}
            </div>
            {move || asking.get().map(confirm)}
            {move || match run.value().get() {
                Some(Ok(r)) => view! { <RunOutcome r/> }.into_any(),
                Some(Err(error)) => view! { <p class="notice bad" role="alert" data-testid="form-error">{error.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            {action_feedback(set_scheduled.value(), "Done: TimescaleDB's job is updated.")}
            {admin.then(|| view! {
                <ActionForm action=schedule attr:class="inline" attr:data-testid="schedule-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Run every "
                        <input type="text" name="schedule_interval" value=every required size="12" data-testid="schedule-input"/>
                    </label>
                    " "
                    <button type="submit" class="secondary" disabled=move || schedule.pending().get()>"Change the schedule"</button>
                </ActionForm>
                {action_feedback(schedule.value(), "Schedule changed.")}
            })}
        </section>
    }
}

#[component]
fn RunOutcome(r: JobRun) -> impl IntoView {
    let duration = r
        .duration_seconds()
        .map(|d| format!("{d:.2} s"))
        .unwrap_or_default();
    match r.succeeded {
        Some(true) => view! { <p class="notice ok" role="status" data-testid="run-outcome">{format!("The job ran and succeeded in {duration}.")}</p> }.into_any(),
        _ => view! {
            <p class="notice bad" role="alert" data-testid="run-outcome">
                {format!("The job ran and failed after {duration}")}
                {r.sqlstate.clone().map(|c| format!(" [{c}]"))}": "{r.message.clone().unwrap_or_default()}
            </p>
        }.into_any(),
    }
}

#[component]
fn RunHistory(runs: Vec<JobRun>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="empty" data-testid="no-runs">"No runs recorded yet."</p> }
            .into_any();
    }
    let chart = job_runs::build(&runs);
    let drawable = runs.iter().any(|r| r.duration_seconds().is_some());
    view! {
        {drawable.then(|| view! { <ChartCanvas id="chart-job-runs" height=260 chart/> })}
        <table class="data compact" data-testid="runs">
            <thead><tr><th>"Started"</th><th>"Source"</th><th>"By"</th><th class="num">"Duration"</th><th>"Outcome"</th><th>"Error"</th></tr></thead>
            <tbody>
                {runs.into_iter().map(|r| view! {
                    <tr data-source=r.source.as_str()>
                        <td>{format_time(&r.started_at)}</td>
                        <td><span class="badge">{r.source.as_str()}</span></td>
                        <td>{r.started_by.clone().unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{r.duration_seconds().map(run_duration).unwrap_or_else(|| "—".into())}</td>
                        <td class=if r.succeeded == Some(false) { "error-text" } else { "" }>{r.outcome()}</td>
                        <td class="small">{r.sqlstate.clone().map(|c| format!("[{c}] ")).unwrap_or_default()}{r.message.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
