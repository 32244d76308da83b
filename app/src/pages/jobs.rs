//! Every background job on one page: what it works on, its schedule and next start, its
//! last run, counts, the latest error with its SQLSTATE, and any open alert; plus whether
//! a scheduler runs jobs at all and whether successful runs are logged (admins may turn
//! that on).

use crate::components::error_panel::ErrorPanel;
use crate::components::live::use_snapshot_updates;
use crate::components::user_menu::{action_feedback, UserResource};
use crate::jobs::{get_jobs, EnableJobLogging};
use crate::url::{hypertable_page_named, job_page};
use leptos::prelude::*;
use tsdb::alerts::schedule_text;
use tsdb::facts::{JobFacts, RunStatus};
use tsdb::jobs::{ExecutionLogging, JobRun, JobsView};
use tsdb::types::{format_time, Role};

/// The jobs page, `/jobs`.
#[component]
pub fn JobsPage() -> impl IntoView {
    let updates = use_snapshot_updates();
    let enable = ServerAction::<EnableJobLogging>::new();
    let data = Resource::new(
        move || (updates.get(), enable.version().get()),
        |_| get_jobs(),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading the jobs…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { data.await.map(|v| view! { <JobList v enable/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The link to a job's hypertable page, when it works on one; a continuous aggregate
/// (its refresh job) is named, its source hypertable's page lists it.
pub fn hypertable_link(job: &JobFacts) -> AnyView {
    if job.kind == "policy_refresh_continuous_aggregate" {
        return match &job.hypertable {
            Some(view) => view! {
                <span class="name">{view.clone()}</span>
                " "
                <span class="muted small">"(continuous aggregate)"</span>
            }
            .into_any(),
            None => view! { <span class="muted">"—"</span> }.into_any(),
        };
    }
    match job
        .hypertable
        .as_deref()
        .and_then(|h| Some((h, hypertable_page_named(h)?)))
    {
        Some((qualified, href)) => {
            view! { <a href=href class="name">{qualified.to_string()}</a> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// A time in a table cell: month, day and minute (UTC), the rest in the tooltip.
fn short_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%m-%d %H:%M").to_string()
}

/// Seconds as a run's duration: "0.04 s", "12.3 s", "5 min 2 s".
pub fn run_duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2} s")
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        tsdb::alerts::human_duration(chrono::Duration::seconds(seconds as i64))
    }
}

/// "running", "paused" or the next start; `short` for table cells.
pub fn next_start(job: &JobFacts, short: bool) -> String {
    if job.running {
        "running now".into()
    } else if !job.scheduled {
        "paused".into()
    } else {
        job.next_start
            .as_ref()
            .map(if short { short_time } else { format_time })
            .unwrap_or_else(|| "—".into())
    }
}

/// The scheduler's last run in words: status, duration and when; `short` for table cells.
pub fn last_run(job: &JobFacts, short: bool) -> String {
    match (&job.last_run_status, job.last_run_started_at) {
        (Some(status), Some(at)) => format!(
            "{status}{} · {}",
            job.last_run_duration_seconds
                .map(|d| format!(" in {}", run_duration(d)))
                .unwrap_or_default(),
            if short {
                short_time(&at)
            } else {
                format_time(&at)
            }
        ),
        _ => "never ran on its schedule".into(),
    }
}

/// The latest run of either source, for the list: its outcome and duration, and when (a
/// console run counts when it started after the scheduler's last one).
fn latest_run(job: &JobFacts, console: Option<&JobRun>) -> (String, String) {
    let duration = |seconds: Option<f64>| {
        seconds
            .map(|d| format!(" · {}", run_duration(d)))
            .unwrap_or_default()
    };
    match console {
        Some(run) if job.last_run_started_at.is_none_or(|at| run.started_at > at) => (
            format!(
                "{}{}",
                if run.succeeded == Some(true) {
                    "Success"
                } else {
                    "Failed"
                },
                duration(run.duration_seconds())
            ),
            format!("{} (console)", short_time(&run.started_at)),
        ),
        _ => match (&job.last_run_status, job.last_run_started_at) {
            (Some(status), Some(at)) => (
                format!("{status}{}", duration(job.last_run_duration_seconds)),
                short_time(&at),
            ),
            _ => ("never ran".into(), String::new()),
        },
    }
}

#[component]
fn JobList(v: JobsView, enable: ServerAction<EnableJobLogging>) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let mut jobs = v.jobs.clone();
    let alerted = |job: &JobFacts| v.alerts.iter().any(|a| a.job_id == job.id);
    // Jobs needing attention first, then by id.
    jobs.sort_by_key(|j| {
        (
            !alerted(j),
            j.last_run_status != Some(RunStatus::Failed),
            j.id,
        )
    });
    let rows = jobs
        .iter()
        .map(|j| {
            let alerts: Vec<_> = v.alerts.iter().filter(|a| a.job_id == j.id).map(|a| a.kind).collect();
            let failed = j.last_run_status == Some(RunStatus::Failed);
            let attention = !alerts.is_empty() || failed || j.left_behind.is_some();
            let last = latest_run(j, v.console_runs.iter().find(|r| r.job_id == j.id));
            view! {
                <tr data-job=j.id.to_string() class:attention=attention>
                    <td><a href=job_page(j.id)>{format!("#{}", j.id)}</a></td>
                    <td class="name">{j.kind.clone()}</td>
                    <td>{hypertable_link(j)}</td>
                    <td>{schedule_text(j)}</td>
                    <td class="nowrap" title=j.next_start.as_ref().map(format_time)>{next_start(j, true)}</td>
                    <td class="nowrap">{last.0}<div class="muted small">{last.1}</div></td>
                    <td class="num">{j.total_runs}</td>
                    <td class="num">{j.total_runs - j.total_failures}</td>
                    <td class="num">{j.total_failures}</td>
                    <td>
                        {alerts.into_iter().map(|kind| view! { <span class="badge bad" data-testid="job-alert">{kind.words()}</span> " " }).collect_view()}
                        {j.left_behind.as_ref().map(|left| view! {
                            <span class="small" data-testid="job-left-behind">{format!("{} chunk{} left uncompressed ", left.count, if left.count == 1 { "" } else { "s" })}</span>
                        })}
                        {j.last_error.clone().map(|e| view! {
                            <span class="error-text small">{j.last_error_code.clone().map(|c| format!("[{c}] ")).unwrap_or_default()}{e}</span>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h1>"Jobs"</h1>
            <SchedulerNotice scheduler=v.job_scheduler/>
            <LoggingNotice logging=v.logging enable user/>
            {if v.jobs.is_empty() {
                view! { <p class="empty">"No background jobs: no hypertable has a policy yet, and no job was added with add_job."</p> }.into_any()
            } else {
                view! {
                    <table class="data compact" data-testid="jobs">
                        <thead><tr>
                            <th>"Job"</th><th>"What"</th><th>"On"</th><th>"Every"</th><th>"Next start (UTC)"</th>
                            <th>"Last run (UTC)"</th><th class="num">"Runs"</th>
                            <th class="num">"OK"</th><th class="num">"Failed"</th><th>"Alert / latest error"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Says plainly when nothing runs jobs on their schedules.
#[component]
pub fn SchedulerNotice(scheduler: bool) -> impl IntoView {
    (!scheduler).then(|| view! {
        <p class="banner warn" data-testid="no-scheduler">
            "This database has no job scheduler (the embedded devdb, or timescaledb.max_background_workers = 0): "
            "jobs run only when started by hand with “Run now”, and no job is ever reported stale."
        </p>
    })
}

/// What the history lacks while execution logging is off, and (admins) the switch.
#[component]
pub fn LoggingNotice(
    logging: Option<ExecutionLogging>,
    enable: ServerAction<EnableJobLogging>,
    user: Resource<Result<Option<tsdb::access_types::CurrentUser>, crate::error::AppError>>,
) -> impl IntoView {
    let Some(logging) = logging else {
        return ().into_any();
    };
    let Some(missing) = logging.missing() else {
        return view! { <p class="muted small" data-testid="logging-on">"Execution logging is on: every run is recorded."</p> }.into_any();
    };
    view! {
        <div class="banner info" data-testid="logging-off">
            <p>{missing}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = matches!(user.await, Ok(Some(me)) if me.role.includes(Role::Admin));
                    match (admin, logging.history_available, logging.can_enable) {
                        (true, true, true) => view! {
                            <button type="button" data-testid="enable-logging" disabled=move || enable.pending().get()
                                on:click=move |_| { enable.dispatch(EnableJobLogging {}); }>
                                {move || if enable.pending().get() { "Turning on…" } else { "Turn on execution logging (ALTER SYSTEM, whole server)" }}
                            </button>
                        }.into_any(),
                        (true, true, false) => view! {
                            <p class="small">"The console's database role may not change it. A superuser can run: "
                                <code>"ALTER SYSTEM SET timescaledb.enable_job_execution_logging = on; SELECT pg_reload_conf();"</code></p>
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
            {action_feedback(enable.value(), "Execution logging is on; new runs are recorded.")}
        </div>
    }
    .into_any()
}
