//! The banner on every page while job alerts are open: how many, the first few by name,
//! and a link to the alerts page. Hidden when all is well and for signed-out visitors.
//!
//! The resource is created when the component is, never inside a `Suspend` after an
//! await: resources are matched to their server-rendered data by creation order, and one
//! created later would take another resource's data and break hydration. The live stream
//! opens only for signed-in users (it answers 401 otherwise).

use crate::alerts::open_alerts;
use crate::components::live::use_snapshot_updates;
use crate::components::user_menu::UserResource;
use leptos::prelude::*;
use tsdb::alerts::Alert;

/// Bumped by pages after an action that may change the open alerts (acknowledge, run
/// now), so the banner asks again without waiting for the next snapshot.
#[derive(Clone, Copy)]
pub struct AlertsChanged(pub RwSignal<u32>);

/// Provides [`AlertsChanged`] to every page (once, in the app).
pub fn provide_alerts_changed() {
    provide_context(AlertsChanged(RwSignal::new(0)));
}

/// Tells the banner to ask again whenever `version` (an action's) moves on.
pub fn refresh_banner_after(version: impl Fn() -> usize + Send + Sync + 'static) {
    let Some(AlertsChanged(changed)) = use_context::<AlertsChanged>() else {
        return;
    };
    Effect::new(move |_| {
        if version() > 0 {
            changed.update(|v| *v = v.wrapping_add(1));
        }
    });
}

/// How many alerts the banner names before "and N more".
const NAMED: usize = 3;

/// The open-alerts banner.
#[component]
pub fn AlertBanner() -> impl IntoView {
    let user = expect_context::<UserResource>().0;
    let (version, set_version) = signal(0u32);
    let changed = use_context::<AlertsChanged>().map(|c| c.0);
    let alerts = Resource::new(
        move || (version.get(), changed.map(|c| c.get())),
        |_| open_alerts(),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(user.await, Ok(Some(_))).then(|| view! { <Follow set_version/> })
            })}
        </Suspense>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { banner(alerts.await.unwrap_or_default()) })}
        </Transition>
    }
}

/// Bumps `set_version` with every new snapshot, so the banner asks again.
#[component]
fn Follow(set_version: WriteSignal<u32>) -> impl IntoView {
    let updates = use_snapshot_updates();
    Effect::new(move |_| {
        let version = updates.get();
        if version > 0 {
            set_version.set(version);
        }
    });
}

/// Red while someone must act (an alert nobody acknowledged), naming those first; a quiet
/// line once every open alert has been taken (it stays open until the job recovers).
fn banner(mut open: Vec<Alert>) -> AnyView {
    if open.is_empty() {
        return ().into_any();
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let unacknowledged = open.iter().filter(|a| a.acknowledged_at.is_none()).count();
    if unacknowledged == 0 {
        let mut by: Vec<String> = open
            .iter()
            .filter_map(|a| a.acknowledged_by.clone())
            .collect();
        by.sort();
        by.dedup();
        return view! {
            <div class="banner info alert-banner" data-testid="alert-banner-acknowledged">
                {format!(
                    "{} open job alert{}, acknowledged{}: {} when the job succeeds again. ",
                    open.len(),
                    plural(open.len()),
                    if by.is_empty() { String::new() } else { format!(" by {}", by.join(", ")) },
                    if open.len() == 1 { "it clears" } else { "they clear" }
                )}
                <a href="/alerts">"See the alerts →"</a>
            </div>
        }
        .into_any();
    }
    // Stable: the unacknowledged first, each group in the order it came.
    open.sort_by_key(|a| a.acknowledged_at.is_some());
    let mut named: Vec<String> = open
        .iter()
        .filter(|a| a.acknowledged_at.is_none())
        .take(NAMED)
        .map(|a| a.title())
        .collect();
    if unacknowledged > NAMED {
        named.push(format!("and {} more", unacknowledged - NAMED));
    }
    let acknowledged = open.len() - unacknowledged;
    view! {
        <div class="banner bad alert-banner" role="alert" data-testid="alert-banner">
            <strong>{format!("{unacknowledged} job alert{} not acknowledged", plural(unacknowledged))}</strong>
            {format!(": {}.", named.join("; "))}
            {(acknowledged > 0).then(|| format!(" ({acknowledged} more acknowledged.)"))}
            " " <a href="/alerts">"See the alerts →"</a>
        </div>
    }
    .into_any()
}
