//! `GET /api/v1/me`: who the caller is (user or token) and their role; the simplest way
//! for a script to check its token.

use super::error::ApiError;
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use axum::{Extension, Json};
use tsdb::access_types::CurrentUser;
use tsdb::types::Role;
use utoipa_axum::routes;

/// Any signed-in caller or token.
pub fn routes() -> Routes {
    Routes::new().route(Access::Role(Role::Viewer), routes!(me))
}

/// The caller's name and role.
#[utoipa::path(get, path = "/api/v1/me", tag = "monitoring",
    security(("bearer" = [])),
    responses((status = 200, body = CurrentUser), (status = 401)))]
pub async fn me(Extension(auth): Extension<RequestAuth>) -> Result<Json<CurrentUser>, ApiError> {
    let principal = auth.require(Role::Viewer)?;
    Ok(Json(principal.current_user()))
}
