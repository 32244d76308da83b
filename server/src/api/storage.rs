//! Storage over REST (API tokens and sessions): the trends of the storage history as JSON
//! or CSV (what the trends chart shows) and the forecast with the budget day. The same
//! service the storage page uses.

use super::error::ApiError;
use super::params::{refused, ApiQuery, RelationParam};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use app::storage::TrendsQuery;
use axum::extract::State;
use axum::http::header;
use axum::{Extension, Json};
use serde::Deserialize;
use tsdb::storage::outlook::Outlook;
use tsdb::storage::trends::{to_csv, Trends};
use tsdb::types::Role;
use utoipa::IntoParams;
use utoipa_axum::routes;

/// Viewers read everything here.
pub fn routes() -> Routes {
    let viewer = Access::Role(Role::Viewer);
    Routes::new()
        .route(viewer, routes!(trends))
        .route(viewer, routes!(trends_csv))
        .route(viewer, routes!(forecast))
}

/// The trends' question: `range`, `view` and `table`, each optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsParams {
    /// 7d, 30d (default), 90d or all.
    #[param(pattern = r"^(7d|30d|90d|all)$")]
    pub range: Option<String>,
    /// tables (default) or compression.
    #[param(pattern = r"^(tables|compression)$")]
    pub view: Option<String>,
    /// One hypertable or continuous aggregate, `schema.name`.
    #[param(inline)]
    pub table: Option<RelationParam>,
}

impl TrendsParams {
    /// The validated question, or `invalid_parameter` naming the parameter.
    fn query(&self) -> Result<TrendsQuery, ApiError> {
        TrendsQuery::parse(
            self.range.as_deref().unwrap_or(""),
            self.view.as_deref().unwrap_or(""),
            self.table.as_ref().map_or("", |t| t.0.as_str()),
        )
        .map_err(refused)
    }
}

/// Bytes over time per table (the biggest five and "other") or compressed against
/// uncompressed, with each table's growth per day and the database's size.
#[utoipa::path(get, path = "/api/v1/storage/trends", tag = "storage",
    security(("bearer" = [])),
    params(TrendsParams),
    responses((status = 200, body = Trends), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn trends(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(params): ApiQuery<TrendsParams>,
) -> Result<Json<Trends>, ApiError> {
    auth.require(Role::Viewer)?;
    let query = params.query()?;
    Ok(Json(app::storage::service::trends(&state, &query).await?))
}

/// The same as CSV, one row per sample time and one column per series, as a download.
#[utoipa::path(get, path = "/api/v1/storage/trends/csv", tag = "storage",
    security(("bearer" = [])),
    params(TrendsParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn trends_csv(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(params): ApiQuery<TrendsParams>,
) -> Result<([(header::HeaderName, String); 2], String), ApiError> {
    auth.require(Role::Viewer)?;
    let query = params.query()?;
    let trends = app::storage::service::trends(&state, &query).await?;
    // The file name is built from validated, fixed words only.
    let name = format!(
        "attachment; filename=\"storage-{}-{}.csv\"",
        query.view.as_str(),
        query.range.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        to_csv(&trends),
    ))
}

/// Each table's and the database's bytes per day out to the horizon, the day the budget
/// is reached and what policy changes would save.
#[utoipa::path(get, path = "/api/v1/storage/forecast", tag = "storage",
    security(("bearer" = [])),
    responses((status = 200, body = Outlook), (status = 401), (status = 403), (status = 503)))]
pub async fn forecast(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<Outlook>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(app::storage::service::outlook(&state).await?))
}
