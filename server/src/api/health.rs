//! `GET /api/v1/monitoring/health`: public, answers ok / degraded / down and nothing more.

use app::state::{AppState, StartupPhase};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::time::Duration;
use tsdb::types::HealthStatus;

/// The database must answer a trivial query within this time to count as up.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The public health document: deliberately no internals (versions, errors, hosts).
#[derive(Debug, Serialize)]
pub struct Health {
    /// Overall status.
    pub status: HealthStatus,
}

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let status = assess(&state).await;
    let code = match status {
        HealthStatus::Down => StatusCode::SERVICE_UNAVAILABLE,
        HealthStatus::Ok | HealthStatus::Degraded => StatusCode::OK,
    };
    (code, Json(Health { status }))
}

/// Down when the database does not answer; degraded when start-up failed or TimescaleDB
/// is missing or unsupported; ok otherwise.
pub async fn assess(state: &AppState) -> HealthStatus {
    let Ok(pool) = state.pool() else {
        return HealthStatus::Down;
    };
    let ping = tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(&pool)).await;
    if !matches!(ping, Ok(Ok(_))) {
        return HealthStatus::Down;
    }
    let timescaledb_ok = state
        .capabilities()
        .is_some_and(|c| c.require_timescaledb().is_ok());
    match state.phase() {
        StartupPhase::Failed(_) => HealthStatus::Degraded,
        _ if !timescaledb_ok => HealthStatus::Degraded,
        _ => HealthStatus::Ok,
    }
}
