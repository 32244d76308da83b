//! The REST API: JSON for machines. Each resource module declares its routes once
//! (`routes()`, see [`route`]); the router, the OpenAPI document and the guard's access
//! table are derived from those declarations.
//!
//! A new route: a handler with `#[utoipa::path]` in its resource module, one `.route(...)`
//! line in that module's `routes()`, and the role check inside the handler.

pub mod advisor;
pub mod alerts;
pub mod diagnostics;
pub mod docs;
pub mod error;
pub mod health;
pub mod jobs;
pub mod me;
pub mod monitoring;
pub mod params;
pub mod policies;
pub mod prometheus;
pub mod route;
pub mod storage;

use app::auth::access::Access;
use app::state::AppState;
use axum::http::Method;
use axum::Router;
use route::{Routes, Rule};
use std::sync::LazyLock;

/// Every REST route, as the resource modules declare them.
pub fn declared() -> Routes {
    Routes::new()
        .merge(health::routes())
        .merge(monitoring::routes())
        .merge(me::routes())
        .merge(policies::routes())
        .merge(jobs::routes())
        .merge(alerts::routes())
        .merge(storage::routes())
        .merge(diagnostics::routes())
        .merge(advisor::routes())
        .merge(docs::routes())
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| declared().split().2);

/// Every REST route with the access it requires; the guard refuses anything not listed.
pub fn rules() -> &'static [Rule] {
    &RULES
}

/// The access `method` on `path` requires; `None` for routes not declared. `/metrics` is
/// public only when the configuration says so.
pub fn access(method: &Method, path: &str, metrics_public: bool) -> Option<Access> {
    if path == "/metrics" && metrics_public && (method == Method::GET || method == Method::HEAD) {
        return Some(Access::Public);
    }
    route::at(rules(), path)
        .into_iter()
        .find(|rule| {
            rule.method == method || (method == Method::HEAD && rule.method == Method::GET)
        })
        .map(|rule| rule.access)
}

/// The methods a REST path answers (empty for an unknown path), for `405` and `Allow`.
pub fn methods_at(path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = route::at(rules(), path)
        .into_iter()
        .map(|rule| rule.method.clone())
        .collect();
    if methods.contains(&Method::GET) {
        methods.push(Method::HEAD);
    }
    methods
}

/// Every REST route.
pub fn router() -> Router<AppState> {
    declared().split().0
}
