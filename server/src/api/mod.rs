//! The REST API: JSON for machines, each resource module exposing its own router.

pub mod error;
pub mod health;
pub mod me;

use app::auth::access::Access;
use app::state::AppState;
use axum::http::Method;
use axum::Router;
use tsdb::types::Role;

/// Every REST route with the access it requires; the guard refuses anything not listed.
pub const ROUTES: &[(Method, &str, Access)] = &[
    (Method::GET, "/api/v1/monitoring/health", Access::Public),
    (Method::GET, "/api/v1/me", Access::Role(Role::Viewer)),
];

/// The access `method` on `path` requires; `None` for routes not in [`ROUTES`].
pub fn access(method: &Method, path: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|(m, p, _)| {
            (m == method || (method == Method::HEAD && m == Method::GET)) && *p == path
        })
        .map(|(_, _, access)| *access)
}

/// Every REST route, mounted under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/api/v1/monitoring", health::router())
        .nest("/api/v1", me::router())
}
