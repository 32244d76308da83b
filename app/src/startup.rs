//! Server functions about the console itself.

use crate::error::AppError;
use leptos::prelude::*;
use tsdb::types::StartupStatus;

/// Where start-up stands; readable by everyone who can see the dashboard.
#[server(prefix = "/api/fn", endpoint = "startup-status")]
pub async fn get_startup_status() -> Result<StartupStatus, AppError> {
    Ok(crate::state::app_state()?.phase().status())
}
