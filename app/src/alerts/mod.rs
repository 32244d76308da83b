//! Server functions of the alerts: the banner's open alerts (from memory), the alerts
//! page (open, recent, the webhook's fortunes) and acknowledging one (operators).

#[cfg(feature = "ssr")]
pub mod board;

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

/// How many past alerts the page lists.
#[cfg(feature = "ssr")]
const RECENT: i64 = 100;

/// The open alerts, for the banner on every page (no query: the watcher publishes them).
#[server(prefix = "/api/fn", endpoint = "open-alerts")]
pub async fn open_alerts() -> Result<Vec<Alert>, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    Ok(crate::state::app_state()?.alerts.open())
}

/// Open and recent alerts and the webhook's state.
#[server(prefix = "/api/fn", endpoint = "alerts")]
pub async fn get_alerts() -> Result<AlertsView, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let open = tsdb::alerts::store::open(&mut *conn).await?;
    let recent = tsdb::alerts::store::recent(&mut *conn, None, RECENT).await?;
    let outbox = match &state.job_config.webhook {
        Some(_) => Some(tsdb::alerts::notifications::status(&mut *conn).await?),
        None => None,
    };
    Ok(AlertsView {
        open,
        recent,
        webhook: state.job_config.webhook.clone(),
        outbox,
        job_scheduler: state.capabilities().is_some_and(|c| c.has_job_scheduler()),
    })
}

/// Marks an open alert as seen (operators); stops its reminders; audited.
#[server(prefix = "/api/fn", endpoint = "acknowledge-alert")]
pub async fn acknowledge_alert(id: String) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(format!("alert id: expected a whole number, got {id:?}")))?;
    let state = crate::state::app_state()?;
    let pool = state.pool()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    tsdb::alerts::store::acknowledge(&mut conn, &principal.actor, auth.addr(), id).await?;
    state.alerts.nudge_watcher();
    Ok(())
}
