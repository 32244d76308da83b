//! API tokens (admins): create one for a role with an expiry, see its secret once,
//! revoke it.

use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::{action_feedback, RequireRole};
use crate::tokens::{list_tokens, CreateToken, RevokeToken};
use leptos::prelude::*;
use tsdb::access_types::TokenSummary;
use tsdb::types::{format_time, Role};

/// The admin's token list.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <TokensBody/>
        </RequireRole>
    }
}

#[component]
fn TokensBody() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <section class="panel">
            <h1>"API tokens"</h1>
            <p class="muted">
                "Machine clients (Prometheus, scripts) send a token as "
                <code>"Authorization: Bearer ms5_…"</code>
                ". Only a digest is stored: the token is shown once, when it is created."
            </p>
            <h2>"New token"</h2>
            <ActionForm action=create attr:class="form row" attr:data-testid="create-token">
                <label>"Name" <input name="name" required maxlength="100" placeholder="prometheus"/></label>
                <label>"Role"
                    <select name="role">
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Expires in (days)" <input name="days" type="number" min="1" max="730" value="90" required/></label>
                <button type="submit" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(created)) => view! {
                    <div class="notice ok secret" role="status">
                        <p><strong>{format!("Token \u{201c}{}\u{201d} created.", created.token.name)}</strong>
                           " Copy it now: it will not be shown again."</p>
                        <code data-testid="token-secret">{created.secret}</code>
                    </div>
                }.into_any(),
                Some(Err(error)) => view! { <p class="notice bad" role="alert" data-testid="form-error">{error.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            {action_feedback(revoke.value(), "Token revoked: calls with it are refused from now on.")}
            <Suspense fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        tokens.await.map(|rows| view! { <TokenTable rows revoke/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn TokenTable(rows: Vec<TokenSummary>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No tokens yet."</p> }.into_any();
    }
    let now = chrono::Utc::now();
    view! {
        <table class="data" data-testid="tokens">
            <thead><tr>
                <th>"Name"</th><th>"Token starts"</th><th>"Role"</th><th>"Expires"</th>
                <th>"Last used"</th><th>"Status"</th><th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|t| {
                    let (class, status) = match (t.revoked_at, t.expires_at <= now) {
                        (Some(_), _) => ("badge off", "revoked"),
                        (None, true) => ("badge off", "expired"),
                        (None, false) => ("badge on", "active"),
                    };
                    let active = status == "active";
                    view! {
                        <tr data-token=t.name.clone()>
                            <td>{t.name.clone()}</td>
                            <td class="name">{format!("{}…", t.prefix)}</td>
                            <td>{t.role.as_str()}</td>
                            <td>{format_time(&t.expires_at)}</td>
                            <td>{t.last_used_at.as_ref().map(format_time).unwrap_or_else(|| "never".into())}</td>
                            <td><span class=class>{status}</span></td>
                            <td>
                                {active.then(|| view! {
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=t.id/>
                                        <button type="submit" class="danger">"Revoke"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
