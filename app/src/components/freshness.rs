//! "Figures from 10:42:07 UTC, 12 s old": every monitoring page says how fresh its
//! numbers are, and admins can ask for a new pass.

use crate::components::user_menu::UserResource;
use crate::monitoring::RefreshSnapshot;
use leptos::prelude::*;
use tsdb::facts::SnapshotHeader;
use tsdb::types::Role;

/// The snapshot's time and age, with a refresh button for admins.
#[component]
pub fn Freshness(header: Option<SnapshotHeader>) -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let refresh = ServerAction::<RefreshSnapshot>::new();
    let text = match &header {
        Some(h) => format!(
            "Figures from {} UTC ({:.0} s old; reading them from TimescaleDB took {:.2} s).",
            h.taken_at.format("%H:%M:%S"),
            h.age_seconds,
            h.pass_seconds
        ),
        None => "Reading the first figures from TimescaleDB…".to_string(),
    };
    let failure = header.as_ref().and_then(|h| h.failure.clone());
    view! {
        {failure.map(|f| view! { <div class="banner warn" role="alert" data-testid="pass-failure">{f}" The figures below are from the last reading that succeeded."</div> })}
        <p class="freshness muted small" data-testid="freshness">
            {text}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let admin = matches!(user.await, Ok(Some(me)) if me.role.includes(Role::Admin));
                    admin.then(|| view! {
                        " "
                        <button class="link-dark" on:click=move |_| { refresh.dispatch(RefreshSnapshot {}); }>
                            {move || if refresh.pending().get() { "Asking…" } else { "Refresh now" }}
                        </button>
                        {move || refresh.value().get().map(|r| match r {
                            Ok(()) => " The figures are being read again; reload in a few seconds.".to_string(),
                            Err(e) => format!(" {e}"),
                        })}
                    })
                })}
            </Suspense>
        </p>
    }
}
