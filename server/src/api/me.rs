//! `GET /api/v1/me`: who the caller is (user or token) and their role; the simplest way
//! for a script to check its token.

use super::error::ApiError;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::routing::get;
use axum::{Extension, Json, Router};
use tsdb::access_types::CurrentUser;
use tsdb::types::Role;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me))
}

async fn me(Extension(auth): Extension<RequestAuth>) -> Result<Json<CurrentUser>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    Ok(Json(principal.current_user()))
}
