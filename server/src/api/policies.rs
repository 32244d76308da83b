//! Data-lifecycle policies over REST (admins; API tokens work): desired, live, drift and
//! the plan; apply it. The same service the policies pages use.

use super::error::ApiError;
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use tsdb::types::Role;
use utoipa_axum::routes;

/// Admins only: these change what TimescaleDB keeps.
pub fn routes() -> Routes {
    let admin = Access::Role(Role::Admin);
    Routes::new()
        .route(admin, routes!(policies))
        .route(admin, routes!(apply))
}

/// Desired, live and drift of every hypertable, the steps that would make live match,
/// continuous aggregates' refresh policies, and the latest apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoliciesDocument {
    /// Per hypertable: `name`, `managed` (and why), `desired`, `live`, `drift`, `notes`,
    /// `refused`; and `steps`: each with `summary` and the `statement` it runs.
    #[schema(value_type = Object)]
    pub plan: tsdb::policy::plan::Plan,
    /// Continuous aggregates with their refresh policies.
    #[schema(value_type = Vec<Object>)]
    pub continuous_aggregates: Vec<tsdb::policy::live::LiveCagg>,
    /// The latest apply: when, by what, how many steps failed and why.
    #[schema(value_type = Option<Object>)]
    pub last_apply: Option<tsdb::policy::report::LastRun>,
    /// Nothing to do.
    pub in_sync: bool,
}

/// Desired vs live policies and the plan.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    security(("bearer" = [])),
    responses((status = 200, body = PoliciesDocument), (status = 401), (status = 403), (status = 503)))]
pub async fn policies(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<PoliciesDocument>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    let view = app::policies::service::overview(&state, principal).await?;
    Ok(Json(PoliciesDocument {
        in_sync: view.plan.in_sync(),
        plan: view.plan,
        continuous_aggregates: view.caggs,
        last_apply: view.last_run,
    }))
}

/// What an apply did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplyDocument {
    /// `console.policy_runs.id`.
    pub run_id: i64,
    /// Steps that did not apply.
    pub failed: usize,
    /// Every step: `summary`, `statement`, `outcome` (`applied`, `failed` with `error`,
    /// `skipped` with `reason`), `duration_ms`.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<tsdb::policy::report::StepResult>,
}

/// Plans and applies now; 200 even when steps fail (see `failed`), 409 while another
/// console instance applies.
#[utoipa::path(post, path = "/api/v1/policies/apply", tag = "policies",
    security(("bearer" = [])),
    responses((status = 200, body = ApplyDocument), (status = 401), (status = 403), (status = 409), (status = 503)))]
pub async fn apply(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
) -> Result<Json<ApplyDocument>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    let report = app::policies::service::apply(
        &state,
        &principal.actor,
        auth.addr(),
        tsdb::policy::report::Trigger::Api,
    )
    .await?;
    Ok(Json(ApplyDocument {
        run_id: report.run_id,
        failed: report.failed(),
        results: report.results,
    }))
}
