//! The REST API: JSON for machines, each resource module exposing its own router.

pub mod error;
pub mod health;

use app::state::AppState;
use axum::Router;

/// Every REST route, mounted under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new().nest("/api/v1/monitoring", health::router())
}
