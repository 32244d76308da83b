//! The banner on every page while job alerts are open: how many, the first few by name,
//! and a link to the alerts page. Hidden when all is well; signed-out visitors get
//! nothing and ask for nothing (no alerts call, no live stream).

use crate::alerts::open_alerts;
use crate::components::live::use_snapshot_updates;
use crate::components::user_menu::UserResource;
use leptos::prelude::*;

/// How many alerts the banner names before "and N more".
const NAMED: usize = 3;

/// The open-alerts banner, for signed-in users.
#[component]
pub fn AlertBanner() -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <OpenAlerts/> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// The open alerts, refreshed with every new snapshot.
#[component]
fn OpenAlerts() -> impl IntoView {
    let updates = use_snapshot_updates();
    let alerts = Resource::new(move || updates.get(), |_| open_alerts());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let open = alerts.await.unwrap_or_default();
                if open.is_empty() {
                    return ().into_any();
                }
                let unacknowledged = open.iter().filter(|a| a.acknowledged_at.is_none()).count();
                let mut named: Vec<String> = open.iter().take(NAMED).map(|a| a.title()).collect();
                if open.len() > NAMED {
                    named.push(format!("and {} more", open.len() - NAMED));
                }
                view! {
                    <div class="banner bad alert-banner" role="alert" data-testid="alert-banner">
                        <strong>{format!("{} open job alert{}", open.len(), if open.len() == 1 { "" } else { "s" })}</strong>
                        {format!(" ({unacknowledged} not acknowledged): {}. ", named.join("; "))}
                        <a href="/alerts">"See the alerts →"</a>
                    </div>
                }
                .into_any()
            })}
        </Transition>
    }
}
