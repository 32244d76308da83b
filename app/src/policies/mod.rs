//! Server functions of the policies pages: everyone reads desired, live and drift; admins
//! preview a change (validation, dry-run, the steps it would take), save it (audited),
//! apply the plan, and revert a change from the audit trail. The work itself is in
//! [`service`], shared with REST and the start-up reconciler.

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod status;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsdb::policy::dry_run::DryRun;
use tsdb::policy::live::LiveCagg;
use tsdb::policy::plan::{Plan, Step, TablePlan};
use tsdb::policy::report::{ApplyReport, LastRun};
use tsdb::policy::validate::{FieldError, PolicyForm};
use tsdb::policy::Policy;

/// Every hypertable's desired, live and drift, with the plan and the latest apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoliciesView {
    /// The plan: per table drift, notes and refusals; the steps.
    pub plan: Plan,
    /// Continuous aggregates with their refresh policies.
    pub caggs: Vec<LiveCagg>,
    /// The latest apply.
    pub last_run: Option<LastRun>,
    /// Whether the caller may edit and apply (admins).
    pub editable: bool,
}

/// One hypertable's policy page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDetail {
    /// Desired, live, drift, notes and refusals.
    pub table: TablePlan,
    /// The steps the plan holds for it now.
    pub steps: Vec<Step>,
    /// What the console stored for it, as the form shows it (empty: configuration).
    pub form: PolicyForm,
    /// The policy the form overrides: defaults and the configuration file.
    pub base: Policy,
    /// Continuous aggregates on it.
    pub caggs: Vec<LiveCagg>,
    /// Whether the caller may edit (admins).
    pub editable: bool,
}

/// What a proposed change would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Preview {
    /// Fields refused; nothing computed.
    Invalid(Vec<FieldError>),
    /// The change's effect.
    Effect {
        /// The effective policy after the change.
        policy: Policy,
        /// Its dry-run against the table.
        dry_run: Box<DryRun>,
        /// The steps that would make live match it.
        steps: Vec<Step>,
        /// Whether saving drops data at the next run: the admin types the table's name.
        drops_data: bool,
    },
}

/// How saving ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    /// Fields refused; nothing saved.
    Invalid(Vec<FieldError>),
    /// Refused until the admin confirms: why.
    NeedsConfirmation(String),
    /// Saved and audited.
    Saved {
        /// The audit entry (revert it from the audit trail).
        audit_id: i64,
        /// The steps now planned for the table.
        steps: Vec<Step>,
    },
}

/// Desired, live and drift of every hypertable (any signed-in role).
#[server(prefix = "/api/fn", endpoint = "policies")]
pub async fn get_policies() -> Result<PoliciesView, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    service::overview(&state, &principal).await
}

/// One hypertable's policy (any signed-in role; editable for admins).
#[server(prefix = "/api/fn", endpoint = "policy")]
pub async fn get_policy(schema: String, table: String) -> Result<PolicyDetail, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    service::detail(&state, &principal, &schema, &table).await
}

/// Validates a proposed change and shows its effect (admins).
#[server(prefix = "/api/fn", endpoint = "preview-policy")]
pub async fn preview_policy(
    schema: String,
    table: String,
    form: PolicyForm,
) -> Result<Preview, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::preview(&state, &schema, &table, &form).await
}

/// Saves a change (admins): validated again, dry-run again, confirmed when it drops data
/// or endangers an aggregate, audited with before and after.
#[server(prefix = "/api/fn", endpoint = "save-policy")]
pub async fn save_policy(
    schema: String,
    table: String,
    form: PolicyForm,
    confirm_name: Option<String>,
    accept_cagg_risk: Option<String>,
) -> Result<SaveOutcome, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    let confirm = service::Confirmations {
        typed_name: confirm_name.unwrap_or_default(),
        accept_cagg_risk: accept_cagg_risk.is_some_and(|v| v == "yes" || v == "true" || v == "on"),
    };
    service::save(
        &state,
        &principal.actor,
        auth.addr(),
        &schema,
        &table,
        &form,
        &confirm,
    )
    .await
}

/// Applies the plan now (admins).
#[server(prefix = "/api/fn", endpoint = "apply-policies")]
pub async fn apply_policies() -> Result<ApplyReport, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::apply(
        &state,
        &principal.actor,
        auth.addr(),
        tsdb::policy::report::Trigger::Console,
    )
    .await
}

/// Reverts a policy change from the audit trail and applies the way back (admins).
#[server(prefix = "/api/fn", endpoint = "revert-policy")]
pub async fn revert_policy(audit_id: i64) -> Result<ApplyReport, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::revert(&state, &principal.actor, auth.addr(), audit_id).await
}
