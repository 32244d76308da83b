//! A banner saying what start-up is still doing, so nobody mistakes half-loaded figures
//! for the truth. Shows nothing once start-up is done.

use crate::startup::get_startup_status;
use leptos::prelude::*;
use tsdb::types::StartupStatus;

/// The start-up banner.
#[component]
pub fn StartupBanner() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_startup_status());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let (class, text) = match status.await {
                    Ok(StartupStatus::Ready) => return ().into_any(),
                    Ok(StartupStatus::Connecting) => ("banner info", "Connecting to the database… figures appear once it answers."),
                    Ok(StartupStatus::Migrating) => ("banner info", "Applying database migrations…"),
                    Ok(StartupStatus::LoadingDemoData) => ("banner info", "Loading demo data: figures below are still growing. Reload to see more."),
                    Ok(StartupStatus::Failed) => ("banner bad", "Start-up did not finish: the reason is in the console's log. The console serves what it can."),
                    Err(_) => ("banner bad", "The console's start-up state is unknown."),
                };
                view! { <div class=class role="status" data-testid="startup-banner">{text}</div> }.into_any()
            })}
        </Suspense>
    }
}
