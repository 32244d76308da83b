//! Diagnostics over REST (API tokens and sessions): the same findings as the diagnostics
//! page, for ops tools.

use super::error::ApiError;
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use tsdb::diagnostics::Diagnosis;
use tsdb::types::Role;
use utoipa_axum::routes;

/// Viewers read the findings.
pub fn routes() -> Routes {
    Routes::new().route(Access::Role(Role::Viewer), routes!(diagnostics))
}

/// Every finding (severity, subject, explanation, fix), most urgent first, and the checks
/// that ran.
#[utoipa::path(get, path = "/api/v1/diagnostics", tag = "diagnostics",
    security(("bearer" = [])),
    responses((status = 200, body = Diagnosis), (status = 401), (status = 403), (status = 503)))]
pub async fn diagnostics(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<Diagnosis>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(app::diagnostics::service::diagnose(&state).await?))
}
