//! Server functions of the alerts: the banner's open alerts (from memory), the alerts
//! page (open, recent, the webhook's fortunes) and acknowledging one (operators).

#[cfg(feature = "ssr")]
pub mod board;
#[cfg(feature = "ssr")]
pub mod service;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsdb::alerts::{Alert, OutboxStatus};

/// What the alerts page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsView {
    /// Open alerts, oldest first.
    pub open: Vec<Alert>,
    /// The newest alerts, open and cleared.
    pub recent: Vec<Alert>,
    /// Where alerts are posted (redacted), if anywhere.
    pub webhook: Option<String>,
    /// Pending, abandoned and last delivered webhook messages.
    pub outbox: Option<OutboxStatus>,
    /// Whether a scheduler runs jobs (without one nothing is ever stale).
    pub job_scheduler: bool,
}

/// The open alerts, for the banner on every page (no query: the watcher publishes them).
/// Public so that every page, the sign-in page included, can ask without an error; a
/// caller without a session gets an empty list, every role sees them all.
#[server(prefix = "/api/fn", endpoint = "open-alerts")]
pub async fn open_alerts() -> Result<Vec<Alert>, AppError> {
    let auth = crate::auth::request_auth().await?;
    match auth.principal {
        Some(principal) if principal.role.includes(tsdb::types::Role::Viewer) => {
            let mut open = crate::state::app_state()?.alerts.open();
            crate::visibility::alerts(principal.role, &mut open);
            Ok(open)
        }
        _ => Ok(Vec::new()),
    }
}

/// Open and recent alerts and the webhook's state.
#[server(prefix = "/api/fn", endpoint = "alerts")]
pub async fn get_alerts() -> Result<AlertsView, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    service::view(&crate::state::app_state()?, principal.role).await
}

/// Marks an open alert as seen (operators); stops its reminders; audited.
#[server(prefix = "/api/fn", endpoint = "acknowledge-alert")]
pub async fn acknowledge_alert(id: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id = service::alert_id(&id)?;
    service::acknowledge(
        &crate::state::app_state()?,
        &principal.actor,
        auth.addr(),
        id,
    )
    .await?;
    Ok(())
}
