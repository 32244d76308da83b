//! Server functions of the policies pages: everyone reads desired, live and drift; admins
//! preview a change (validation, dry-run, the steps it would take), save it (audited),
//! apply the plan, and revert a change from the audit trail. Saving, applying and
//! reverting all pass the same data-loss guard: what would be dropped is shown, and it
//! goes ahead only with the relation's name typed (and aggregate losses accepted). The
//! work itself is in [`service`], shared with REST, the command line and the start-up
//! reconciler.

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod status;

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use tsdb::policy::desired::{Adopted, ObjectKind};
use tsdb::policy::dry_run::{DryRun, RetentionDryRun};
use tsdb::policy::guard::{Confirmations, Hazard};
use tsdb::policy::live::LiveCagg;
use tsdb::policy::plan::{Plan, Step, TablePlan};
use tsdb::policy::report::{ApplyReport, LastRun};
use tsdb::policy::validate::{FieldError, PolicyForm};
use tsdb::policy::{HypertableName, Policy};

/// Every hypertable's desired, live and drift, with the plan and the latest apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoliciesView {
    /// The plan: per relation drift, notes and refusals; the steps.
    pub plan: Plan,
    /// The plan's fingerprint: applying it goes ahead only while it is still the plan.
    pub fingerprint: String,
    /// What applying it would lose, to confirm first.
    pub hazards: Vec<Hazard>,
    /// Continuous aggregates with their refresh policies.
    pub caggs: Vec<LiveCagg>,
    /// The latest apply.
    pub last_run: Option<LastRun>,
    /// Whether the caller may edit and apply (admins).
    pub editable: bool,
}

/// Where a policy value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    /// Saved in the console.
    Console,
    /// The configuration file's section for the relation.
    File,
    /// The console's own policy for its own tables.
    Builtin,
    /// The configured defaults.
    Default,
    /// What TimescaleDB has now (kept when the relation is taken under management).
    Live,
}

impl ValueSource {
    /// In words.
    pub fn word(self) -> &'static str {
        match self {
            ValueSource::Console => "set here",
            ValueSource::File => "configuration file",
            ValueSource::Builtin => "the console's own",
            ValueSource::Default => "default",
            ValueSource::Live => "live",
        }
    }
}

/// One form field's effective value and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSource {
    /// The form field.
    pub field: String,
    /// Its effective value, in words.
    pub value: String,
    /// Where it comes from.
    pub from: ValueSource,
}

/// One relation's policy page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDetail {
    /// Desired, live, drift, notes and refusals.
    pub table: TablePlan,
    /// The steps the plan holds for it now.
    pub steps: Vec<Step>,
    /// What those steps would lose.
    pub hazards: Vec<Hazard>,
    /// What the console stored for it, as the form shows it (empty: configuration).
    pub form: PolicyForm,
    /// The policy the form overrides: defaults and the configuration file.
    pub base: Policy,
    /// Where each field's effective value comes from.
    pub sources: Vec<FieldSource>,
    /// For a relation not managed yet: what taking it under management keeps.
    pub adoption: Option<Adopted>,
    /// Continuous aggregates reading it.
    pub caggs: Vec<LiveCagg>,
    /// When it is a continuous aggregate: its source and refresh policies.
    pub aggregate: Option<LiveCagg>,
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
        policy: Box<Policy>,
        /// Its dry-run against the relation.
        dry_run: Box<DryRun>,
        /// The steps that would make live match it.
        steps: Vec<Step>,
        /// What saving it would lose: the admin types the name (and accepts aggregate
        /// losses) to save.
        hazards: Vec<Hazard>,
        /// Things to know (values that could not be kept from live, refusals).
        notes: Vec<String>,
    },
}

/// How saving ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    /// Fields refused; nothing saved.
    Invalid(Vec<FieldError>),
    /// Refused until the admin confirms: why, and what would be lost.
    NeedsConfirmation {
        /// In words.
        message: String,
        /// The unconfirmed hazards.
        hazards: Vec<Hazard>,
    },
    /// Saved and audited.
    Saved {
        /// The audit entry (revert it from the audit trail).
        audit_id: i64,
        /// The steps now planned for the relation.
        steps: Vec<Step>,
    },
}

/// How an apply or a revert ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    /// The steps ran; `held` lists relations whose steps wait for a confirmation.
    Applied {
        /// What ran.
        report: ApplyReport,
        /// What was held back.
        held: Vec<Hazard>,
    },
    /// The plan changed since it was shown: nothing ran; here it is again.
    Changed {
        /// The plan's new fingerprint.
        fingerprint: String,
        /// Its steps.
        steps: Vec<Step>,
        /// What they would lose.
        hazards: Vec<Hazard>,
    },
    /// Steps would lose data and were not confirmed: nothing ran.
    NeedsConfirmation {
        /// The plan's fingerprint.
        fingerprint: String,
        /// Its steps.
        steps: Vec<Step>,
        /// What they would lose.
        hazards: Vec<Hazard>,
    },
}

/// What reverting an audit entry would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevertPreview {
    /// The entry.
    pub audit_id: i64,
    /// The relation it changed.
    pub relation: HypertableName,
    /// Hypertable or aggregate.
    pub kind: ObjectKind,
    /// The entry that already reverted it, if any.
    pub reverted_by: Option<i64>,
    /// The setting the revert restores, as the form shows it.
    pub restores: PolicyForm,
    /// The way back: drift, notes, refusals.
    pub table: TablePlan,
    /// Its steps.
    pub steps: Vec<Step>,
    /// What they would lose.
    pub hazards: Vec<Hazard>,
    /// The restored retention's effect, when the way back sets one.
    pub retention: Option<RetentionDryRun>,
    /// The plan's fingerprint: the revert goes ahead only while it is still the plan.
    pub fingerprint: String,
}

/// Desired, live and drift of every hypertable (any signed-in role).
#[server(prefix = "/api/fn", endpoint = "policies")]
pub async fn get_policies() -> Result<PoliciesView, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    service::overview(&state, &principal).await
}

/// One relation's policy (any signed-in role; editable for admins).
#[server(prefix = "/api/fn", endpoint = "policy")]
pub async fn get_policy(schema: String, table: String) -> Result<PolicyDetail, AppError> {
    let (principal, _) = crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    service::detail(&state, &principal, &HypertableName::new(schema, table)).await
}

/// Validates a proposed change and shows its effect (admins).
#[server(prefix = "/api/fn", endpoint = "preview-policy", input = Json)]
pub async fn preview_policy(
    schema: String,
    table: String,
    form: PolicyForm,
) -> Result<Preview, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::preview(&state, &HypertableName::new(schema, table), &form).await
}

/// Saves a change (admins): validated again, dry-run again, confirmed when it loses
/// data, audited with before and after and the live state before.
#[server(prefix = "/api/fn", endpoint = "save-policy", input = Json)]
pub async fn save_policy(
    schema: String,
    table: String,
    form: PolicyForm,
    confirm: Confirmations,
) -> Result<SaveOutcome, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::save(
        &state,
        &principal.actor,
        auth.addr(),
        &HypertableName::new(schema, table),
        &form,
        &confirm,
    )
    .await
}

/// Applies the plan the caller was shown (its fingerprint), with the confirmations its
/// hazards need (admins).
#[server(prefix = "/api/fn", endpoint = "apply-policies", input = Json)]
pub async fn apply_policies(
    fingerprint: Option<String>,
    confirm: Confirmations,
) -> Result<ApplyOutcome, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::apply(
        &state,
        &service::ApplyRequest {
            actor: &principal.actor,
            client_addr: auth.addr(),
            trigger: tsdb::policy::report::Trigger::Console,
            expected: fingerprint,
            confirmations: confirm,
            hold_unconfirmed: false,
        },
    )
    .await
}

/// Applies one relation's planned steps, as shown and confirmed (admins): its policy
/// page's "Apply now".
#[server(prefix = "/api/fn", endpoint = "apply-policy", input = Json)]
pub async fn apply_policy(
    schema: String,
    table: String,
    fingerprint: Option<String>,
    confirm: Confirmations,
) -> Result<ApplyOutcome, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::apply_only(
        &state,
        Some(HypertableName::new(schema, table)),
        &service::ApplyRequest {
            actor: &principal.actor,
            client_addr: auth.addr(),
            trigger: tsdb::policy::report::Trigger::Console,
            expected: fingerprint,
            confirmations: confirm,
            hold_unconfirmed: false,
        },
    )
    .await
}

/// What reverting an audit entry would do (admins).
#[server(prefix = "/api/fn", endpoint = "preview-revert")]
pub async fn preview_revert(audit_id: i64) -> Result<RevertPreview, AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::revert_preview(&state, audit_id).await
}

/// Reverts a policy change from the audit trail: restores its setting and applies the
/// way back to the live state before it, as previewed and confirmed (admins).
#[server(prefix = "/api/fn", endpoint = "revert-policy", input = Json)]
pub async fn revert_policy(
    audit_id: i64,
    fingerprint: String,
    confirm: Confirmations,
) -> Result<ApplyOutcome, AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Admin).await?;
    let state = crate::state::app_state()?;
    service::revert(
        &state,
        audit_id,
        &service::ApplyRequest {
            actor: &principal.actor,
            client_addr: auth.addr(),
            trigger: tsdb::policy::report::Trigger::Revert,
            expected: Some(fingerprint),
            confirmations: confirm,
            hold_unconfirmed: false,
        },
    )
    .await
}
