//! "My account": change one's password, see where one is signed in, and sign other
//! sessions out.

use crate::account::{my_sessions, ChangePassword, EndSession};
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::{action_feedback, UserResource};
use leptos::prelude::*;
use tsdb::access_types::SessionSummary;
use tsdb::types::format_time;

/// The signed-in user's own page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let change = ServerAction::<ChangePassword>::new();
    let end = ServerAction::<EndSession>::new();
    let sessions = Resource::new(
        move || (end.version().get(), change.version().get()),
        |_| my_sessions(),
    );
    view! {
        <section class="panel">
            <h1>"My account"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|me| view! {
                        <p>"Signed in as " <strong>{me.name}</strong> " with the "
                           <span class=format!("badge role {}", me.role)>{me.role.as_str()}</span> " role."</p>
                    })
                })}
            </Suspense>

            <h2>"Change password"</h2>
            <ActionForm action=change attr:class="form" attr:data-testid="change-password">
                <label>"Current password"
                    <input type="password" name="current" autocomplete="current-password" required/>
                </label>
                <label>"New password (at least 12 characters, not a common word or your username)"
                    <input type="password" name="new_password" autocomplete="new-password" required minlength="12"/>
                </label>
                <label>"New password again"
                    <input type="password" name="confirm" autocomplete="new-password" required minlength="12"/>
                </label>
                {move || match change.value().get() {
                    Some(Ok(ended)) => view! {
                        <p class="notice ok" role="status">
                            {format!("Password changed. {ended} other session(s) signed out.")}
                        </p>
                    }.into_any(),
                    Some(Err(error)) => view! { <p class="notice bad" role="alert" data-testid="form-error">{error.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>

            <h2>"Where you are signed in"</h2>
            {action_feedback(end.value(), "Session signed out.")}
            <Suspense fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        sessions.await.map(|rows| view! { <SessionTable rows end/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn SessionTable(rows: Vec<SessionSummary>, end: ServerAction<EndSession>) -> impl IntoView {
    view! {
        <table class="data" data-testid="sessions">
            <thead><tr>
                <th>"Signed in"</th><th>"Last seen"</th><th>"Address"</th><th>"Browser"</th><th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|s| view! {
                    <tr>
                        <td>{format_time(&s.created_at)}</td>
                        <td>{format_time(&s.last_seen_at)}</td>
                        <td>{s.client_addr.clone().unwrap_or_else(|| "unknown".into())}</td>
                        <td class="ua">{s.user_agent.clone().unwrap_or_default()}</td>
                        <td>
                            {if s.current {
                                view! { <span class="badge on">"this session"</span> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=end attr:class="inline">
                                        <input type="hidden" name="id" value=s.id/>
                                        <button type="submit" class="secondary">"Sign out"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
