//! The sign-in page. One message for every wrong combination, so it never tells which
//! accounts exist.

use crate::account::Login;
use crate::components::user_menu::{action_feedback, reload_to};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// "Sign in", then back to where the user was going.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let login = ServerAction::<Login>::new();
    let value = login.value();
    Effect::new(move |_| {
        if let Some(Ok(path)) = value.get() {
            reload_to(&path);
        }
    });
    view! {
        <section class="panel narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=login attr:class="form" attr:data-testid="login-form">
                <input type="hidden" name="next" prop:value=next/>
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required autofocus/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                {action_feedback(value, "Signed in. Loading…")}
                <button type="submit" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="muted small">
                "No account? An admin creates them under Users, or on the server with "
                <code>"ms5-console users add --role admin NAME"</code> "."
            </p>
        </section>
    }
}
