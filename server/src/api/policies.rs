//! Data-lifecycle policies over REST (admins; API tokens work): desired, live, drift, the
//! plan and what it would lose; preview and save a change; apply the plan; preview and
//! revert a change from the audit trail. The same service the policies pages use, so the
//! same data-loss guard: a change that would lose data answers 409
//! `confirmation_required` with what it would lose until the body names the relation
//! (`confirm`) and, for a continuous aggregate's loss, `accept_aggregate_loss`.

use super::error::{ApiError, ApiJson};
use super::params::{ApiQuery, AuditQuery, RelationParam};
use super::route::Routes;
use app::auth::access::Access;
use app::auth::RequestAuth;
use app::policies::{ApplyOutcome, Preview, SaveOutcome};
use app::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tsdb::policy::guard::{Confirmations, Hazard};
use tsdb::policy::validate::PolicyForm;
use tsdb::policy::HypertableName;
use tsdb::types::Role;
use utoipa_axum::routes;

/// Admins only: these change what TimescaleDB keeps.
pub fn routes() -> Routes {
    let admin = Access::Role(Role::Admin);
    Routes::new()
        .route(admin, routes!(policies))
        .route(admin, routes!(apply))
        .route(admin, routes!(preview))
        .route(admin, routes!(save))
        .route(admin, routes!(revert_preview, revert))
}

/// Desired, live and drift of every hypertable and continuous aggregate, the steps that
/// would make live match, what they would lose, and the latest apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoliciesDocument {
    /// Per relation: `name`, `kind`, `managed` (and why), `desired`, `live`, `drift`,
    /// `notes`, `refused`; and `steps`: each with `summary` and the `statement` it runs.
    #[schema(value_type = Object)]
    pub plan: tsdb::policy::plan::Plan,
    /// The plan's fingerprint: send it with an apply so that only this plan runs.
    pub fingerprint: String,
    /// What applying the plan would lose: each needs its relation in `confirm`.
    #[schema(value_type = Vec<Object>)]
    pub hazards: Vec<Hazard>,
    /// Continuous aggregates with their refresh policies and their own policies.
    #[schema(value_type = Vec<Object>)]
    pub continuous_aggregates: Vec<tsdb::policy::live::LiveCagg>,
    /// The latest apply: when, by what, how many steps failed and why.
    #[schema(value_type = Option<Object>)]
    pub last_apply: Option<tsdb::policy::report::LastRun>,
    /// Nothing to do.
    pub in_sync: bool,
}

/// Desired vs live policies, the plan and its hazards.
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
        fingerprint: view.fingerprint,
        hazards: view.hazards,
        plan: view.plan,
        continuous_aggregates: view.caggs,
        last_apply: view.last_run,
    }))
}

/// What the caller saw and confirms.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The plan's fingerprint as `GET /api/v1/policies` gave it; when given, the apply
    /// runs only if the plan is still that one (else 409 `plan_changed`).
    #[serde(default)]
    #[schema(max_length = 64)]
    pub fingerprint: Option<String>,
    /// Relations whose losses are confirmed, as the console names them
    /// (`schema.name`, parts quoted where they need it).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub confirm: Vec<String>,
    /// Whether continuous aggregates' losses listed in the hazards are accepted.
    #[serde(default)]
    pub accept_aggregate_loss: bool,
}

impl ApplyBody {
    fn confirmations(&self) -> Confirmations {
        Confirmations {
            typed_names: self.confirm.clone(),
            accept_aggregate_loss: self.accept_aggregate_loss,
        }
    }
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

/// An apply's or a revert's outcome as REST answers it.
fn answer(outcome: ApplyOutcome) -> Result<Json<ApplyDocument>, ApiError> {
    match outcome {
        ApplyOutcome::Applied { report, .. } => Ok(Json(ApplyDocument {
            run_id: report.run_id,
            failed: report.failed(),
            results: report.results,
        })),
        ApplyOutcome::Changed {
            fingerprint, steps, ..
        } => Err(ApiError::conflict(
            "plan_changed",
            format!(
                "the plan changed since it was read (it has {} step(s) now): nothing was applied; read it again",
                steps.len()
            ),
            serde_json::json!({"fingerprint": fingerprint, "steps": steps}),
        )),
        ApplyOutcome::NeedsConfirmation {
            fingerprint,
            steps,
            hazards,
        } => Err(ApiError::conflict(
            "confirmation_required",
            format!(
                "nothing was applied: {}. Name each relation in `confirm`{}",
                tsdb::policy::guard::describe_all(&hazards),
                if hazards.iter().any(Hazard::is_aggregate_loss) {
                    " and set `accept_aggregate_loss`"
                } else {
                    ""
                }
            ),
            serde_json::json!({"fingerprint": fingerprint, "steps": steps, "hazards": hazards}),
        )),
    }
}

/// Plans and applies now, under the policy lock; 200 even when steps fail (see
/// `failed`); 409 `conflict` while another apply runs, `plan_changed` when the
/// fingerprint given is not the plan's any more, `confirmation_required` when steps would
/// lose data that `confirm` does not cover. The body is optional.
#[utoipa::path(post, path = "/api/v1/policies/apply", tag = "policies",
    security(("bearer" = [])),
    request_body(content = Option<ApplyBody>, content_type = "application/json"),
    responses((status = 200, body = ApplyDocument), (status = 400), (status = 401), (status = 403), (status = 409), (status = 503)))]
pub async fn apply(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    body: Option<ApiJson<Option<ApplyBody>>>,
) -> Result<Json<ApplyDocument>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    // No body, and a JSON `null`, both mean "nothing confirmed".
    let body = body.and_then(|b| b.0).unwrap_or_default();
    let outcome = app::policies::service::apply(
        &state,
        &app::policies::service::ApplyRequest {
            actor: &principal.actor,
            client_addr: auth.addr(),
            trigger: tsdb::policy::report::Trigger::Api,
            expected: body.fingerprint.clone(),
            confirmations: body.confirmations(),
            hold_unconfirmed: false,
        },
    )
    .await?;
    answer(outcome)
}

/// A proposed change to one relation's policy.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// The relation, `schema.name` (parts quoted where they need it).
    #[schema(inline)]
    pub relation: RelationParam,
    /// The form's fields as text, as on the policy page; empty ones follow the
    /// configuration.
    #[schema(value_type = Object)]
    pub form: PolicyForm,
    /// Relations whose losses are confirmed (for a save).
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub confirm: Vec<String>,
    /// Whether continuous aggregates' losses are accepted (for a save).
    #[serde(default)]
    pub accept_aggregate_loss: bool,
}

fn relation(raw: &str) -> Result<HypertableName, ApiError> {
    raw.parse::<HypertableName>().map_err(|form| {
        ApiError::from(app::error::AppError::Invalid(format!(
            "relation {raw:?}: expected {form}"
        )))
    })
}

/// Validates a change and shows its effect: refused fields, the dry-run, the steps and
/// what they would lose. Nothing is saved.
#[utoipa::path(post, path = "/api/v1/policies/preview", tag = "policies",
    security(("bearer" = [])),
    request_body(content = ChangeBody, content_type = "application/json"),
    responses((status = 200, body = Object), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503)))]
pub async fn preview(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<Preview>, ApiError> {
    auth.require(Role::Admin)?;
    let name = relation(&body.relation.0)?;
    Ok(Json(
        app::policies::service::preview(&state, &name, &body.form).await?,
    ))
}

/// Saves a change (audited with the live state before it); 409 `confirmation_required`
/// when it would lose data that `confirm` does not cover, 400 with each refused field.
/// Apply it with `POST /api/v1/policies/apply`.
#[utoipa::path(post, path = "/api/v1/policies/save", tag = "policies",
    security(("bearer" = [])),
    request_body(content = ChangeBody, content_type = "application/json"),
    responses((status = 200, body = Object), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn save(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<SaveOutcome>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    let name = relation(&body.relation.0)?;
    let outcome = app::policies::service::save(
        &state,
        &principal.actor,
        auth.addr(),
        &name,
        &body.form,
        &Confirmations {
            typed_names: body.confirm.clone(),
            accept_aggregate_loss: body.accept_aggregate_loss,
        },
    )
    .await?;
    match outcome {
        SaveOutcome::Invalid(errors) => Err(ApiError::from(app::error::AppError::Invalid(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ))),
        SaveOutcome::NeedsConfirmation { message, hazards } => Err(ApiError::conflict(
            "confirmation_required",
            format!("nothing was saved: {message}"),
            serde_json::json!({"hazards": hazards}),
        )),
        saved @ SaveOutcome::Saved { .. } => Ok(Json(saved)),
    }
}

/// What reverting a policy change would do: the setting restored, the steps back to the
/// live state before it, what they would lose, the fingerprint to revert with.
#[utoipa::path(get, path = "/api/v1/policies/revert", tag = "policies",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Object), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn revert_preview(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<app::policies::RevertPreview>, ApiError> {
    auth.require(Role::Admin)?;
    let id = query.id()?;
    Ok(Json(
        app::policies::service::revert_preview(&state, id).await?,
    ))
}

/// A revert as previewed and confirmed.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevertBody {
    /// The policy entry of the audit trail to revert.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole_number")]
    pub audit_id: i64,
    /// The fingerprint `GET /api/v1/policies/revert` gave.
    #[schema(max_length = 64)]
    pub fingerprint: String,
    /// Relations whose losses are confirmed.
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub confirm: Vec<String>,
    /// Whether continuous aggregates' losses are accepted.
    #[serde(default)]
    pub accept_aggregate_loss: bool,
}

/// A JSON integer, also written as `450606.0`: JSON Schema's `integer` admits a number
/// with a zero fraction, and clients (JavaScript among them) send such numbers.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, got {number}")))
}

/// Reverts a policy change: restores its setting and applies the way back to the live
/// state before it, under the policy lock; 409 `conflict` when it was already reverted
/// or another apply runs, `plan_changed`, `confirmation_required` as for an apply.
#[utoipa::path(post, path = "/api/v1/policies/revert", tag = "policies",
    security(("bearer" = [])),
    request_body(content = RevertBody, content_type = "application/json"),
    responses((status = 200, body = ApplyDocument), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 503)))]
pub async fn revert(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    ApiJson(body): ApiJson<RevertBody>,
) -> Result<Json<ApplyDocument>, ApiError> {
    let principal = auth.require(Role::Admin)?;
    let outcome = app::policies::service::revert(
        &state,
        body.audit_id,
        &app::policies::service::ApplyRequest {
            actor: &principal.actor,
            client_addr: auth.addr(),
            trigger: tsdb::policy::report::Trigger::Revert,
            expected: Some(body.fingerprint.clone()),
            confirmations: Confirmations {
                typed_names: body.confirm.clone(),
                accept_aggregate_loss: body.accept_aggregate_loss,
            },
            hold_unconfirmed: false,
        },
    )
    .await?;
    answer(outcome)
}
