//! The compression advisor over REST: the advice for a hypertable (viewers) and a trial
//! compression of a recent chunk's copy (operators). The same service the advisor page uses.

use super::error::ApiError;
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::error::AppError;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::{Extension, Json};
use std::collections::HashMap;
use tsdb::advisor::{Advice, Trial};
use tsdb::types::Role;
use utoipa_axum::routes;

/// Viewers read advice; operators run trials.
pub fn routes() -> Routes {
    Routes::new()
        .route(Access::Role(Role::Viewer), routes!(advice))
        .route(Access::Role(Role::Operator), routes!(trial))
}

/// The required `hypertable` parameter, `schema.name` (parts quoted where they need it).
fn hypertable(params: &HashMap<String, String>) -> Result<(String, String), ApiError> {
    let raw = params.get("hypertable").ok_or_else(|| {
        ApiError::from(AppError::Invalid(format!(
            "hypertable: required, {}",
            tsdb::ident::NAME_FORM
        )))
    })?;
    tsdb::ident::parse_display_name(raw).map_err(|form| {
        ApiError::from(AppError::Invalid(format!(
            "hypertable {raw:?}: expected {form}"
        )))
    })
}

/// Suggested segment-by and order-by with reasons, TimescaleDB's defaults and the current
/// settings' measured effect.
#[utoipa::path(get, path = "/api/v1/advisor", tag = "advisor",
    security(("bearer" = [])),
    params(("hypertable" = String, Query, pattern = r#"^(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)\.(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)$"#, description = "schema.name")),
    responses((status = 200, body = Advice), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn advice(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Advice>, ApiError> {
    auth.require(Role::Viewer)?;
    let (schema, name) = hypertable(&params)?;
    Ok(Json(
        app::advisor::service::advice(&state, &schema, &name).await?,
    ))
}

/// Compresses a copy of a recent chunk with the current and the suggested settings in a
/// scratch schema, inside a transaction that is rolled back, and reports the ratios.
#[utoipa::path(post, path = "/api/v1/advisor/trial", tag = "advisor",
    security(("bearer" = [])),
    params(("hypertable" = String, Query, pattern = r#"^(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)\.(?:"(?:[^"\x00-\x1f\x7f-\x9f]|"")+"|[^."\x00-\x1f\x7f-\x9f]+)$"#, description = "schema.name")),
    responses((status = 200, body = Trial), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn trial(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Trial>, ApiError> {
    auth.require(Role::Operator)?;
    let (schema, name) = hypertable(&params)?;
    Ok(Json(
        app::advisor::service::trial(&state, &schema, &name).await?,
    ))
}
