//! Job alerts over REST (API tokens work): open and recent alerts and the webhook's
//! state; operators acknowledge.

use super::error::ApiError;
use super::params::{AlertQuery, ApiQuery};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use tsdb::alerts::{Alert, OutboxStatus};
use tsdb::types::Role;
use utoipa_axum::routes;

/// Viewers read; operators acknowledge.
pub fn routes() -> Routes {
    Routes::new()
        .route(Access::Role(Role::Viewer), routes!(alerts))
        .route(Access::Role(Role::Operator), routes!(acknowledge))
}

/// Open and recent alerts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertsDocument {
    /// Open alerts, oldest first.
    pub open: Vec<Alert>,
    /// The newest 100 alerts, open and cleared.
    pub recent: Vec<Alert>,
    /// Where alerts are posted (scheme and host only), if anywhere.
    pub webhook: Option<String>,
    /// The webhook outbox, when a webhook is configured.
    pub outbox: Option<OutboxStatus>,
}

/// Open and recent job alerts.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    security(("bearer" = [])),
    responses((status = 200, body = AlertsDocument), (status = 401), (status = 403), (status = 503)))]
pub async fn alerts(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<AlertsDocument>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    let view = app::alerts::service::view(&state, principal.role).await?;
    Ok(Json(AlertsDocument {
        open: view.open,
        recent: view.recent,
        webhook: view.webhook,
        outbox: view.outbox,
    }))
}

/// Acknowledges an open alert: reminders stop; it clears when the job recovers. 409 when
/// it already cleared or was acknowledged.
#[utoipa::path(post, path = "/api/v1/alerts/acknowledge", tag = "alerts",
    security(("bearer" = [])),
    params(AlertQuery),
    responses((status = 200, body = Alert), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> Result<Json<Alert>, ApiError> {
    let principal = auth.require(Role::Operator)?;
    let id = query.id()?;
    Ok(Json(
        app::alerts::service::acknowledge(&state, &principal.actor, auth.addr(), id).await?,
    ))
}
