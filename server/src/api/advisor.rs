//! The compression advisor over REST: the advice for a hypertable (viewers) and a trial
//! compression of a recent chunk's copy (operators). The same service the advisor page uses.

use super::error::ApiError;
use super::params::{ApiQuery, HypertableQuery};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use tsdb::advisor::{Advice, Trial};
use tsdb::types::Role;
use utoipa_axum::routes;

/// Viewers read advice; operators run trials.
pub fn routes() -> Routes {
    Routes::new()
        .route(Access::Role(Role::Viewer), routes!(advice))
        .route(Access::Role(Role::Operator), routes!(trial))
}

/// Suggested segment-by and order-by with reasons, TimescaleDB's defaults and the current
/// settings' measured effect.
#[utoipa::path(get, path = "/api/v1/advisor", tag = "advisor",
    security(("bearer" = [])),
    params(HypertableQuery),
    responses((status = 200, body = Advice), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn advice(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<HypertableQuery>,
) -> Result<Json<Advice>, ApiError> {
    auth.require(Role::Viewer)?;
    let (schema, name) = query.parts()?;
    Ok(Json(
        app::advisor::service::advice(&state, &schema, &name).await?,
    ))
}

/// Compresses a copy of a recent chunk with the current and the suggested settings in a
/// scratch schema, inside a transaction that is rolled back, and reports the ratios.
#[utoipa::path(post, path = "/api/v1/advisor/trial", tag = "advisor",
    security(("bearer" = [])),
    params(HypertableQuery),
    responses((status = 200, body = Trial), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn trial(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<HypertableQuery>,
) -> Result<Json<Trial>, ApiError> {
    auth.require(Role::Operator)?;
    let (schema, name) = query.parts()?;
    Ok(Json(
        app::advisor::service::trial(&state, &schema, &name).await?,
    ))
}
