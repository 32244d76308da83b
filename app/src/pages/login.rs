//! The sign-in page. One message for every wrong combination, so it never tells which
//! accounts exist. A visitor already signed in is told so and offered the way on; the
//! form below it then says it signs in as someone else (the session is replaced).

use crate::account::{safe_next, Login};
use crate::components::user_menu::{action_feedback, reload_to, UserResource};
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
    let user = expect_context::<UserResource>().0;
    let form = move || {
        view! {
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
        }
    };
    view! {
        <section class="panel narrow">
            <h1>"Sign in"</h1>
            <Suspense fallback=move || form().into_any()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => {
                            let to = safe_next(Some(&next()));
                            view! {
                                <p data-testid="already-signed-in">
                                    {format!("You are signed in as {} ({}). ", me.name, me.role.as_str())}
                                    <a href=to.clone()>{format!("Continue to {to} →")}</a>
                                </p>
                                <h2>"Sign in as someone else"</h2>
                                {form()}
                            }
                            .into_any()
                        }
                        _ => form().into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
