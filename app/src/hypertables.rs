//! Server functions about hypertables.

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::types::HypertableSummary;

/// Every hypertable with its size, chunks and compression state, biggest first.
#[server(prefix = "/api/fn", endpoint = "hypertables")]
pub async fn list_hypertables() -> Result<Vec<HypertableSummary>, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    if let Some(capabilities) = state.capabilities() {
        capabilities.require_timescaledb()?;
    }
    tsdb::hypertables::list(&pool)
        .await
        .map_err(|error| state.explain(error))
}
