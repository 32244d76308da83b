//! The REST API: JSON for machines, each resource module exposing its handlers; one
//! table lists every route with its access rule, and the OpenAPI document is generated
//! from the handlers' annotations.

pub mod docs;
pub mod error;
pub mod health;
pub mod me;
pub mod monitoring;
pub mod prometheus;

use app::auth::access::Access;
use app::state::AppState;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use tsdb::types::Role;

/// Every REST route with the access it requires; the guard refuses anything not listed.
/// `/metrics` is public only when the configuration says so.
pub const ROUTES: &[(Method, &str, Access)] = &[
    (Method::GET, "/api/v1/monitoring/health", Access::Public),
    (
        Method::GET,
        "/api/v1/monitoring/health/database",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/health/timescaledb",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/metrics/hypertables",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/metrics/compression",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/metrics/chunks",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/status/timescaledb",
        Access::Role(Role::Viewer),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/configuration",
        Access::Role(Role::Admin),
    ),
    (
        Method::POST,
        "/api/v1/monitoring/refresh",
        Access::Role(Role::Admin),
    ),
    (
        Method::GET,
        "/api/v1/monitoring/events",
        Access::Role(Role::Viewer),
    ),
    (Method::GET, "/api/v1/me", Access::Role(Role::Viewer)),
    (Method::GET, "/api/v1/openapi.json", Access::Public),
    (Method::GET, "/api/v1/docs", Access::Public),
    (Method::GET, "/metrics", Access::Role(Role::Viewer)),
];

/// The access `method` on `path` requires; `None` for routes not in [`ROUTES`].
pub fn access(method: &Method, path: &str, metrics_public: bool) -> Option<Access> {
    if path == "/metrics" && metrics_public && (method == Method::GET || method == Method::HEAD) {
        return Some(Access::Public);
    }
    ROUTES
        .iter()
        .find(|(m, p, _)| {
            (m == method || (method == Method::HEAD && m == Method::GET)) && *p == path
        })
        .map(|(_, _, access)| *access)
}

/// Every REST route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/monitoring/health", get(health::health))
        .route(
            "/api/v1/monitoring/health/database",
            get(monitoring::database),
        )
        .route(
            "/api/v1/monitoring/health/timescaledb",
            get(monitoring::timescaledb),
        )
        .route(
            "/api/v1/monitoring/metrics/hypertables",
            get(monitoring::hypertables),
        )
        .route(
            "/api/v1/monitoring/metrics/compression",
            get(monitoring::compression),
        )
        .route("/api/v1/monitoring/metrics/chunks", get(monitoring::chunks))
        .route(
            "/api/v1/monitoring/status/timescaledb",
            get(monitoring::status),
        )
        .route(
            "/api/v1/monitoring/configuration",
            get(monitoring::configuration),
        )
        .route("/api/v1/monitoring/refresh", post(monitoring::refresh))
        .route("/api/v1/monitoring/events", get(monitoring::events))
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/openapi.json", get(docs::openapi_json))
        .route("/api/v1/docs", get(docs::page))
        .route("/metrics", get(monitoring::prometheus))
}
