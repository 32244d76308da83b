//! What the alerts server functions and the REST handlers share after authorizing.

use super::AlertsView;
use crate::error::AppError;
use crate::state::AppState;
use tsdb::alerts::Alert;
use tsdb::audit::Actor;

/// How many past alerts are listed.
const RECENT: i64 = 100;

/// An alert id from a form or query, or a message naming the field.
pub fn alert_id(raw: &str) -> Result<i64, AppError> {
    tsdb::types::parse_id("alert id", raw).map_err(AppError::Invalid)
}

/// Open and recent alerts and the webhook's state.
pub async fn view(state: &AppState, role: tsdb::types::Role) -> Result<AlertsView, AppError> {
    let pool = state.pool()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let mut open = tsdb::alerts::store::open(&mut *conn).await?;
    let mut recent = tsdb::alerts::store::recent(&mut *conn, None, RECENT).await?;
    crate::visibility::alerts(role, &mut open);
    crate::visibility::alerts(role, &mut recent);
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

/// Acknowledges an open alert; the watcher looks again at once.
pub async fn acknowledge(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    id: i64,
) -> Result<Alert, AppError> {
    let pool = state.pool()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let alert = tsdb::alerts::store::acknowledge(&mut conn, actor, client_addr, id).await?;
    // Published at once: the banner asks again right after this answer.
    state
        .alerts
        .publish(tsdb::alerts::store::open(&mut *conn).await?);
    Ok(alert)
}
