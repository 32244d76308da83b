//! Alerts, `/alerts`: the open ones (operators acknowledge them), the recent history
//! (raised, acknowledged, cleared), and how the webhook fares.

use crate::alerts::{get_alerts, AcknowledgeAlert, AlertsView};
use crate::components::alert_banner::refresh_banner_after;
use crate::components::error_panel::ErrorPanel;
use crate::components::live::use_snapshot_updates;
use crate::components::user_menu::{action_feedback, UserResource};
use crate::pages::jobs::SchedulerNotice;
use leptos::prelude::*;
use tsdb::alerts::Alert;
use tsdb::types::{format_time, Role};

/// The alerts page.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let updates = use_snapshot_updates();
    let acknowledge = ServerAction::<AcknowledgeAlert>::new();
    refresh_banner_after(move || acknowledge.version().get());
    let data = Resource::new(
        move || (updates.get(), acknowledge.version().get()),
        |_| get_alerts(),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading the alerts…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { data.await.map(|v| view! { <Alerts v acknowledge/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

fn job_link(alert: &Alert) -> impl IntoView {
    view! { <a href=crate::url::job_page(alert.job_id)>{alert.subject()}</a> }
}

#[component]
fn Alerts(v: AlertsView, acknowledge: ServerAction<AcknowledgeAlert>) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let open = v.open.clone();
    view! {
        <section class="panel">
            <h1>"Alerts"</h1>
            <p class="muted small">"A job is failing when its latest run (scheduled or started from the console) failed, and stale when it has not succeeded within the configured number of schedules. Alerts clear by themselves when the job succeeds again."</p>
            <SchedulerNotice scheduler=v.job_scheduler/>
            {action_feedback(acknowledge.value(), "Acknowledged: reminders stop; the alert clears when the job recovers.")}
            {if open.is_empty() {
                view! { <p class="empty" data-testid="no-open-alerts">"No open alerts: every job's latest run succeeded and none is overdue."</p> }.into_any()
            } else {
                view! {
                    <Suspense fallback=|| ()>
                        {move || {
                            let open = open.clone();
                            Suspend::new(async move {
                                let operator = matches!(user.await, Ok(Some(me)) if me.role.includes(Role::Operator));
                                view! {
                                    <table class="data" data-testid="open-alerts">
                                        <thead><tr><th>"Job"</th><th>"Kind"</th><th>"Since"</th><th>"What"</th><th>"Acknowledged"</th></tr></thead>
                                        <tbody>{open.into_iter().map(|a| {
                                            let id = a.id.to_string();
                                            view! {
                                                <tr data-alert=a.id.to_string()>
                                                    <td>{job_link(&a)}</td>
                                                    <td><span class="badge bad">{a.kind.words()}</span></td>
                                                    <td>{format_time(&a.raised_at)}</td>
                                                    <td class="small">{a.message.clone()}</td>
                                                    <td>{match (a.acknowledged_by.clone(), operator) {
                                                        (Some(by), _) => view! { <span>{format!("by {by}")}</span> }.into_any(),
                                                        (None, true) => view! {
                                                            <ActionForm action=acknowledge attr:class="inline">
                                                                <input type="hidden" name="id" value=id/>
                                                                <button type="submit" class="secondary" data-testid="acknowledge">"Acknowledge"</button>
                                                            </ActionForm>
                                                        }.into_any(),
                                                        (None, false) => view! { <span class="muted">"not yet"</span> }.into_any(),
                                                    }}</td>
                                                </tr>
                                            }
                                        }).collect_view()}</tbody>
                                    </table>
                                }
                            })
                        }}
                    </Suspense>
                }.into_any()
            }}
        </section>
        <section class="panel" data-testid="webhook">
            <h2>"Webhook"</h2>
            {match (v.webhook.clone(), v.outbox.clone()) {
                (Some(url), Some(outbox)) => view! {
                    <p>"Alerts are posted to " <code>{url}</code> " (raised, a reminder while open and unacknowledged, resolved)."</p>
                    <p class="small">{format!("{} message(s) waiting or being retried, {} given up after repeated failures; last delivered {}.",
                        outbox.pending, outbox.abandoned,
                        outbox.last_delivered_at.as_ref().map(format_time).unwrap_or_else(|| "never".into()))}</p>
                    {outbox.last_error.map(|e| view! { <p class="notice bad small">{format!("Latest failed attempt: {e}")}</p> })}
                }.into_any(),
                _ => view! { <p class="muted">"No webhook is configured: set MS5_ALERT_WEBHOOK_URL to have alerts posted as JSON (Slack-style " <code>"text"</code> " included)."</p> }.into_any(),
            }}
        </section>
        <section class="panel">
            <h2>"History"</h2>
            {if v.recent.is_empty() {
                view! { <p class="empty">"No alert was ever raised."</p> }.into_any()
            } else {
                view! {
                    <table class="data compact" data-testid="alert-history">
                        <thead><tr><th>"Job"</th><th>"Kind"</th><th>"Raised"</th><th>"Acknowledged"</th><th>"Cleared"</th><th>"Latest message"</th></tr></thead>
                        <tbody>{v.recent.iter().map(|a| view! {
                            <tr>
                                <td>{job_link(a)}</td>
                                <td>{a.kind.words()}</td>
                                <td>{format_time(&a.raised_at)}</td>
                                <td>{match (&a.acknowledged_at, &a.acknowledged_by) {
                                    (Some(at), Some(by)) => format!("{} by {by}", format_time(at)),
                                    _ => "—".into(),
                                }}</td>
                                <td>{a.cleared_at.as_ref().map(format_time).unwrap_or_else(|| "open".into())}</td>
                                <td class="small">{a.message.clone()}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
