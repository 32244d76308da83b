//! Who is signed in, shared by every page: the top bar's menu and the role gates read
//! one resource.

use crate::account::{who_am_i, Logout};
use crate::error::AppError;
use leptos::prelude::*;
use tsdb::access_types::CurrentUser;
use tsdb::types::Role;

/// The signed-in user, loaded once per page load.
#[derive(Clone, Copy)]
pub struct UserResource(pub Resource<Result<Option<CurrentUser>, AppError>>);

/// Loads the signed-in user and provides it to every page below.
pub fn provide_user() -> UserResource {
    let resource = UserResource(Resource::new(|| (), |_| who_am_i()));
    provide_context(resource);
    resource
}

/// Leaves the page for `path` with a full load, so every resource starts afresh under the
/// new (or no) session.
pub fn reload_to(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Navigation links for the user's role, their name, and "sign out".
#[component]
pub fn UserMenu() -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload_to("/login");
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => {
                        let admin = me.role.includes(Role::Admin);
                        view! {
                            <nav>
                                <a href="/">"Overview"</a>
                                <a href="/hypertables">"Hypertables"</a>
                                <a href="/chunks">"Chunks"</a>
                                <a href="/storage">"Storage"</a>
                                <a href="/policies">"Policies"</a>
                                <a href="/jobs">"Jobs"</a>
                                <a href="/alerts">"Alerts"</a>
                                <a href="/diagnostics">"Diagnostics"</a>
                                {admin.then(|| view! {
                                    <a href="/admin/users">"Users"</a>
                                    <a href="/admin/tokens">"API tokens"</a>
                                    <a href="/admin/audit">"Audit trail"</a>
                                    <a href="/admin/bench">"Benchmark"</a>
                                })}
                            </nav>
                            <div class="who">
                                <a href="/account" data-testid="whoami">{me.name.clone()}</a>
                                <span class=format!("badge role {}", me.role)>{me.role.as_str()}</span>
                                <button class="link" data-testid="sign-out" on:click=move |_| { logout.dispatch(Logout {}); }>
                                    "Sign out"
                                </button>
                            </div>
                        }
                        .into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shows `children` only to callers holding `role`; others get a clear "not allowed".
/// The server already refused the data (and answered the page with 403); this explains.
#[component]
pub fn RequireRole(role: Role, children: ChildrenFn) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Checking access…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) if me.role.includes(role) => children.read_value()().into_any(),
                    Ok(Some(me)) => view! {
                        <section class="panel" data-testid="not-allowed">
                            <h1>"Not allowed"</h1>
                            <p>
                                "This page is for the " <strong>{role.as_str()}</strong> " role. You are signed in as "
                                <strong>{me.name}</strong> " with the " <strong>{me.role.as_str()}</strong> " role."
                            </p>
                            <p class="muted">"Ask an admin if you need access. " <a href="/">"Back to the dashboard"</a></p>
                        </section>
                    }
                    .into_any(),
                    Ok(None) => view! {
                        <section class="panel" data-testid="not-allowed">
                            <h1>"Sign in required"</h1>
                            <p><a href="/login">"Sign in"</a> " to see this page."</p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <div class="error" role="alert">{error.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The outcome of a form's last submission: the error, or `ok` when it worked.
pub fn action_feedback<T, S>(value: S, ok: &'static str) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        match value.get() {
        Some(Ok(_)) => view! { <p class="notice ok" role="status">{ok}</p> }.into_any(),
        Some(Err(error)) => view! { <p class="notice bad" role="alert" data-testid="form-error">{error.to_string()}</p> }.into_any(),
        None => ().into_any(),
    }
    }
}
