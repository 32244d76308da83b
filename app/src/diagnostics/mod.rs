//! The server function of the diagnostics page: every finding with its severity, what it
//! means and the fix. It authorizes and calls [`service`], which REST shares.

#[cfg(feature = "ssr")]
pub mod service;

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::diagnostics::Diagnosis;

/// Every diagnostic finding, most urgent first, and what was checked.
#[server(prefix = "/api/fn", endpoint = "diagnostics")]
pub async fn get_diagnostics() -> Result<Diagnosis, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    service::diagnose(&crate::state::app_state()?).await
}
