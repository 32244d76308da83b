//! `GET /api/v1/monitoring/health`: public, answers ok / degraded / down and nothing
//! more, from the last known state: it never waits for the database, so a hung
//! database cannot hang the health check.

use super::route::Routes;
use app::auth::access::Access;
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use tsdb::types::{HealthReason, HealthStatus};
use utoipa_axum::routes;

/// Public: load balancers and uptime checks call it without credentials.
pub fn routes() -> Routes {
    Routes::new().route(Access::Public, routes!(health))
}

/// The public health document: deliberately no internals (versions, errors, hosts).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Overall status.
    pub status: HealthStatus,
    /// Why it is not `ok`, as stable codes (empty when it is).
    pub reasons: Vec<HealthReason>,
}

/// Overall status: 200 for ok or degraded, 503 for down.
#[utoipa::path(get, path = "/api/v1/monitoring/health", tag = "monitoring",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (status, reasons) = app::monitoring::health::assessment(&state);
    let code = match status {
        HealthStatus::Down => StatusCode::SERVICE_UNAVAILABLE,
        HealthStatus::Ok | HealthStatus::Degraded => StatusCode::OK,
    };
    (code, Json(Health { status, reasons }))
}
