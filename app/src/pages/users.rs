//! User management (admins): create accounts, change roles, disable and enable, reset
//! passwords. The server refuses to leave the console without an enabled admin.

use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::{action_feedback, RequireRole};
use crate::users::{list_users, CreateUser, ResetPassword, UpdateUser};
use leptos::prelude::*;
use tsdb::access_types::UserSummary;
use tsdb::types::{format_time, Role};

/// Options of a role `<select>`, with `selected` preselected.
fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{role.as_str()}</option> })
        .collect_view()
}

/// The admin's user list.
#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <UsersBody/>
        </RequireRole>
    }
}

#[component]
fn UsersBody() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                reset.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <section class="panel">
            <h1>"Users"</h1>
            <h2>"New user"</h2>
            <ActionForm action=create attr:class="form row" attr:data-testid="create-user">
                <label>"Username" <input name="username" required pattern="[A-Za-z0-9][A-Za-z0-9._@-]{0,62}"/></label>
                <label>"Role" <select name="role">{role_options(Role::Viewer)}</select></label>
                <label>"Initial password" <input type="password" name="password" autocomplete="new-password" required minlength="12"/></label>
                <button type="submit" disabled=move || create.pending().get()>"Create user"</button>
            </ActionForm>
            {action_feedback(create.value(), "User created.")}
            {action_feedback(update.value(), "User updated.")}
            {action_feedback(reset.value(), "Password reset; the user's sessions were signed out.")}
            <Suspense fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move {
                        users.await.map(|rows| view! { <UserTable rows update reset/> })
                    })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn UserTable(
    rows: Vec<UserSummary>,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    view! {
        <table class="data" data-testid="users">
            <thead><tr>
                <th>"User"</th><th>"Role"</th><th>"Status"</th><th>"Last sign-in"</th>
                <th class="num">"Sessions"</th><th>"Reset password"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|u| {
                    let toggle = if u.disabled { "false" } else { "true" };
                    view! {
                        <tr data-user=u.username.clone()>
                            <td class="name">{u.username.clone()}</td>
                            <td>
                                <ActionForm action=update attr:class="inline">
                                    <input type="hidden" name="id" value=u.id/>
                                    <select name="role" aria-label="role">{role_options(u.role)}</select>
                                    <button type="submit" class="secondary">"Change"</button>
                                </ActionForm>
                            </td>
                            <td>
                                {if u.disabled {
                                    view! { <span class="badge off">"disabled"</span> }.into_any()
                                } else {
                                    view! { <span class="badge on">"enabled"</span> }.into_any()
                                }}
                                <ActionForm action=update attr:class="inline">
                                    <input type="hidden" name="id" value=u.id/>
                                    <input type="hidden" name="disabled" value=toggle/>
                                    <button type="submit" class="secondary">
                                        {if u.disabled { "Enable" } else { "Disable" }}
                                    </button>
                                </ActionForm>
                            </td>
                            <td>{u.last_login_at.as_ref().map(format_time).unwrap_or_else(|| "never".into())}</td>
                            <td class="num">{u.active_sessions}</td>
                            <td>
                                <ActionForm action=reset attr:class="inline">
                                    <input type="hidden" name="id" value=u.id/>
                                    <input type="password" name="password" placeholder="new password" autocomplete="new-password" required minlength="12" aria-label="new password"/>
                                    <button type="submit" class="secondary">"Reset"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
