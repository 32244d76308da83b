//! The HTML shell and the route table.

use crate::components::alert_banner::{provide_alerts_changed, AlertBanner};
use crate::components::catalog_banner::CatalogBanner;
use crate::components::user_menu::{provide_user, UserMenu};
use crate::pages::account::AccountPage;
use crate::pages::advisor::AdvisorPage;
use crate::pages::alerts::AlertsPage;
use crate::pages::audit::AuditPage;
use crate::pages::bench::BenchPage;
use crate::pages::chunks::ChunksPage;
use crate::pages::diagnostics::DiagnosticsPage;
use crate::pages::hypertable::HypertablePage;
use crate::pages::hypertables::HypertablesPage;
use crate::pages::job::JobPage;
use crate::pages::jobs::JobsPage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::overview::OverviewPage;
use crate::pages::policies::PoliciesPage;
use crate::pages::policy::PolicyPage;
use crate::pages::revert::RevertPage;
use crate::pages::storage::StoragePage;
use crate::pages::tokens::TokensPage;
use crate::pages::users::UsersPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::csp::apply_to_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // ECharts is served by the console itself (from npm), never from a CDN.
                <script src="/vendor/echarts.min.js"></script>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: navigation and pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_user();
    provide_alerts_changed();
    // Marks the page as interactive once the WASM has taken over; browser tests wait for
    // it before they type into forms.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="MS5.0 TimescaleDB Console"/>
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">"MS5.0 TimescaleDB Console"</A>
                <UserMenu/>
            </header>
            <main>
                <AlertBanner/>
                <CatalogBanner/>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=OverviewPage/>
                    <Route path=path!("/hypertables") view=HypertablesPage/>
                    <Route path=path!("/hypertables/:schema/:name") view=HypertablePage/>
                    <Route path=path!("/hypertables/:schema/:name/advisor") view=AdvisorPage/>
                    <Route path=path!("/chunks") view=ChunksPage/>
                    <Route path=path!("/jobs") view=JobsPage/>
                    <Route path=path!("/jobs/:id") view=JobPage/>
                    <Route path=path!("/alerts") view=AlertsPage/>
                    <Route path=path!("/storage") view=StoragePage/>
                    <Route path=path!("/diagnostics") view=DiagnosticsPage/>
                    <Route path=path!("/policies") view=PoliciesPage/>
                    <Route path=path!("/policies/:schema/:name") view=PolicyPage/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/admin/users") view=UsersPage/>
                    <Route path=path!("/admin/tokens") view=TokensPage/>
                    <Route path=path!("/admin/audit") view=AuditPage/>
                    <Route path=path!("/admin/audit/:id/revert") view=RevertPage/>
                    <Route path=path!("/admin/bench") view=BenchPage/>
                </Routes>
            </main>
        </Router>
    }
}
