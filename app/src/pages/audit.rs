//! The audit trail (admins): every login, account, token and policy change, with filters
//! and paging; a policy change links to its revert page (the way back, its dry-run and
//! confirmation), or says which entry already reverted it. The filters live in the
//! address, so a filtered view can be shared.

use crate::audit::{audit_log, query_from_params};
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::RequireRole;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tsdb::access_types::{AuditPage as Trail, AuditQuery};
use tsdb::types::{format_time, Role};

/// The audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <AuditBody/>
        </RequireRole>
    }
}

/// The query string for `query` with `before` replaced.
fn link(query: &AuditQuery, before: Option<i64>) -> String {
    let mut parts = Vec::new();
    let mut push = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            let encoded = crate::url::encode(&value, false);
            parts.push(format!("{name}={encoded}"));
        }
    };
    let minute = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    push("actor", query.actor.clone());
    push("action", query.action.clone());
    push("object_type", query.object_type.clone());
    push("object_id", query.object_id.clone());
    push("from", query.from.as_ref().map(minute));
    push("to", query.to.as_ref().map(minute));
    push("before", before.map(|b| b.to_string()));
    format!("/admin/audit?{}", parts.join("&"))
}

#[component]
fn AuditBody() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let map = params.get();
        query_from_params(|name| map.get(name))
    });
    let page = Resource::new(
        move || query.get(),
        |query| async move { audit_log(query?).await },
    );
    let value = move |name: &'static str| params.read().get(name).unwrap_or_default();
    view! {
        <section class="panel">
            <h1>"Audit trail"</h1>
            <form method="get" action="/admin/audit" class="form row filters" data-testid="audit-filters">
                <label>"Who" <input name="actor" prop:value=move || value("actor") placeholder="username or token"/></label>
                <label>"Action starts with" <input name="action" prop:value=move || value("action") placeholder="login, user., token."/></label>
                <label>"Object type" <input name="object_type" prop:value=move || value("object_type") placeholder="user"/></label>
                <label>"Object id" <input name="object_id" prop:value=move || value("object_id")/></label>
                <label>"From (UTC)" <input type="datetime-local" name="from" prop:value=move || value("from")/></label>
                <label>"To (UTC)" <input type="datetime-local" name="to" prop:value=move || value("to")/></label>
                <button type="submit">"Filter"</button>
                <a href="/admin/audit" class="button secondary">"Clear"</a>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Loading the trail…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        let query = query.get();
                        page.await.map(|trail| view! { <TrailTable trail query=query.unwrap_or_default()/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn TrailTable(trail: Trail, query: AuditQuery) -> impl IntoView {
    let shown = trail.records.len();
    let newer = query.before.is_some().then(|| link(&query, None));
    let older = trail.next_before.map(|before| link(&query, Some(before)));
    view! {
        <p class="muted" data-testid="audit-total">
            {format!("{} matching entries; showing {shown}.", trail.total)}
        </p>
        <table class="data audit" data-testid="audit">
            <thead><tr>
                <th>"#"</th><th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th>
                <th>"Object"</th><th>"Outcome"</th><th>"Details"</th>
            </tr></thead>
            <tbody>
                {trail.records.into_iter().map(|r| {
                    let object = match (&r.object_type, &r.object_id) {
                        (Some(t), Some(id)) => format!("{t} {id}"),
                        (Some(t), None) => t.clone(),
                        _ => String::new(),
                    };
                    let outcome_class = match r.outcome.as_str() {
                        "success" => "badge on",
                        _ => "badge bad",
                    };
                    let changes = (r.before.is_some() || r.after.is_some()).then(|| view! {
                        <details>
                            <summary>"before / after"</summary>
                            <pre>{r.before.clone().unwrap_or_else(|| "—".into())}</pre>
                            <pre>{r.after.clone().unwrap_or_else(|| "—".into())}</pre>
                        </details>
                    });
                    let id = r.id;
                    let revertible = (r.action == "policy.edit" || r.action == "policy.revert") && r.outcome == "success";
                    let reverted_by = trail.reverted.iter().find(|(entry, _)| *entry == id).map(|(_, by)| *by);
                    let revert_button = match (revertible, reverted_by) {
                        (true, Some(by)) => Some(view! { <span class="badge" data-testid="reverted">{format!("reverted by #{by}")}</span> }.into_any()),
                        (true, None) => Some(view! {
                            <a class="button secondary" data-testid="revert" href=format!("/admin/audit/{id}/revert")>"Revert…"</a>
                        }.into_any()),
                        _ => None,
                    };
                    view! {
                        <tr>
                            <td class="num">{r.id}</td>
                            <td>{format_time(&r.at)}</td>
                            <td>{r.actor_name.clone()} " " <span class="muted small">{format!("({})", r.actor_kind)}</span></td>
                            <td>{r.client_addr.clone().unwrap_or_default()}</td>
                            <td class="name">{r.action.clone()}</td>
                            <td>{object}</td>
                            <td><span class=outcome_class>{r.outcome.clone()}</span></td>
                            <td>{r.detail.clone().unwrap_or_default()} {changes} {revert_button}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <nav class="pager">
            {newer.map(|href| view! { <a href=href>"← Newest"</a> })}
            {older.map(|href| view! { <a href=href data-testid="older">"Older →"</a> })}
        </nav>
    }
}
