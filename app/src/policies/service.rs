//! The policy work behind the server functions, REST and the start-up reconciler: read
//! live state, plan, preview, save, apply, revert. Callers authorize first; this module
//! talks to `tsdb` and publishes the latest apply.

use super::{PoliciesView, PolicyDetail, Preview, SaveOutcome};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use tsdb::audit::Actor;
use tsdb::policy::desired::StoredPolicy;
use tsdb::policy::live::LiveState;
use tsdb::policy::plan::{self, Plan, PlanContext};
use tsdb::policy::report::{ApplyReport, Trigger};
use tsdb::policy::validate::{validate, PolicyForm};
use tsdb::policy::{HypertableName, PolicyEdit};
use tsdb::types::Role;

/// What the admin confirmed with a save.
#[derive(Debug, Clone, Default)]
pub struct Confirmations {
    /// The table's name as typed (required when the change drops data).
    pub typed_name: String,
    /// The admin accepts that a continuous aggregate loses unmaterialized data.
    pub accept_cagg_risk: bool,
}

fn context(state: &AppState) -> Result<tsdb::capabilities::Capabilities, AppError> {
    Ok(state.timescaledb()?.1)
}

async fn current(
    state: &AppState,
) -> Result<(LiveState, Vec<StoredPolicy>, Plan, PlanContext), AppError> {
    let capabilities = context(state)?;
    let pool = state.pool()?;
    let live = tsdb::policy::live::read(&pool, &capabilities).await?;
    let stored = tsdb::policy::store::load(&pool).await?;
    let desired: Vec<_> = live
        .tables
        .iter()
        .map(|t| state.policy_source.desired(&t.name, &stored))
        .collect();
    let context = PlanContext::from(&capabilities);
    let plan = plan::plan(context, &desired, &live);
    Ok((live, stored, plan, context))
}

fn name(schema: &str, table: &str) -> HypertableName {
    HypertableName::new(schema, table)
}

/// Every hypertable with desired, live and drift.
pub async fn overview(state: &AppState, principal: &Principal) -> Result<PoliciesView, AppError> {
    let (live, _, plan, _) = current(state).await?;
    Ok(PoliciesView {
        plan,
        caggs: live.caggs,
        last_run: state.policies.last(),
        editable: principal.role.includes(Role::Admin),
    })
}

/// One hypertable's page.
pub async fn detail(
    state: &AppState,
    principal: &Principal,
    schema: &str,
    table: &str,
) -> Result<PolicyDetail, AppError> {
    let target = name(schema, table);
    let (live, stored, plan, _) = current(state).await?;
    let entry = plan
        .tables
        .iter()
        .find(|t| t.name == target)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no hypertable {target}")))?;
    let form = stored
        .iter()
        .find(|s| s.name == target)
        .map(|s| {
            PolicyForm::from_edit(&PolicyEdit {
                managed: s.managed,
                overrides: s.overrides.clone(),
            })
        })
        .unwrap_or_else(|| PolicyForm {
            managed: "follow".into(),
            ..Default::default()
        });
    let base = base_policy(state, &target);
    Ok(PolicyDetail {
        steps: plan.steps_for(&target).cloned().collect(),
        table: entry,
        form,
        base,
        caggs: live
            .caggs
            .into_iter()
            .filter(|c| c.source == target)
            .collect(),
        editable: principal.role.includes(Role::Admin),
    })
}

/// The policy a console edit overrides: the defaults and the file's section.
fn base_policy(state: &AppState, target: &HypertableName) -> tsdb::policy::Policy {
    state.policy_source.desired(target, &[]).policy
}

/// The plan for `target` as it would be with `edit` stored.
fn plan_with(
    state: &AppState,
    live: &LiveState,
    stored: &[StoredPolicy],
    context: PlanContext,
    target: &HypertableName,
    edit: &PolicyEdit,
) -> (tsdb::policy::Policy, Plan) {
    let mut stored: Vec<StoredPolicy> = stored
        .iter()
        .filter(|s| &s.name != target)
        .cloned()
        .collect();
    stored.push(StoredPolicy {
        name: target.clone(),
        managed: edit.managed,
        overrides: edit.overrides.clone(),
        updated_at: chrono::Utc::now(),
        updated_by: String::new(),
    });
    let desired = state.policy_source.desired(target, &stored);
    let table = LiveState {
        tables: live.table(target).cloned().into_iter().collect(),
        caggs: live.caggs.clone(),
    };
    let policy = desired.policy.clone();
    (policy, plan::plan(context, &[desired], &table))
}

/// Whether `dry_run` drops data at the next run.
fn drops_data(dry_run: &tsdb::policy::dry_run::DryRun) -> bool {
    dry_run
        .retention
        .as_ref()
        .is_some_and(|r| !r.chunks.is_empty())
}

/// A form checked against its table, with its effect.
struct Evaluated {
    target: HypertableName,
    stored: Vec<StoredPolicy>,
    edit: PolicyEdit,
    policy: tsdb::policy::Policy,
    steps: Vec<tsdb::policy::plan::Step>,
    dry_run: tsdb::policy::dry_run::DryRun,
}

/// Validates `form` against the table and computes what it would do; the refused fields
/// when it does not validate.
async fn evaluate(
    state: &AppState,
    schema: &str,
    table: &str,
    form: &PolicyForm,
) -> Result<Result<Evaluated, Vec<tsdb::policy::validate::FieldError>>, AppError> {
    let target = name(schema, table);
    let (live, stored, _, context) = current(state).await?;
    let live_table = live
        .table(&target)
        .ok_or_else(|| AppError::NotFound(format!("no hypertable {target}")))?;
    let edit = match validate(form, live_table, &base_policy(state, &target)) {
        Ok(edit) => edit,
        Err(errors) => return Ok(Err(errors)),
    };
    let (policy, plan) = plan_with(state, &live, &stored, context, &target, &edit);
    let dry_run = tsdb::policy::dry_run::dry_run(&state.pool()?, &live, &target, &policy).await?;
    Ok(Ok(Evaluated {
        target,
        stored,
        edit,
        policy,
        steps: plan.steps,
        dry_run,
    }))
}

/// Validates `form` and computes its effect.
pub async fn preview(
    state: &AppState,
    schema: &str,
    table: &str,
    form: &PolicyForm,
) -> Result<Preview, AppError> {
    Ok(match evaluate(state, schema, table, form).await? {
        Err(errors) => Preview::Invalid(errors),
        Ok(e) => Preview::Effect {
            drops_data: drops_data(&e.dry_run),
            policy: e.policy,
            dry_run: Box::new(e.dry_run),
            steps: e.steps,
        },
    })
}

/// Saves `form` for the table once it validates and is confirmed.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    schema: &str,
    table: &str,
    form: &PolicyForm,
    confirm: &Confirmations,
) -> Result<SaveOutcome, AppError> {
    let e = match evaluate(state, schema, table, form).await? {
        Err(errors) => return Ok(SaveOutcome::Invalid(errors)),
        Ok(e) => e,
    };
    let target = &e.target;
    let managed = state
        .policy_source
        .desired(target, &e.stored)
        .managed
        .is_managed()
        || e.edit.managed == Some(true);
    if managed && e.edit.managed != Some(false) {
        if let Some(retention) = &e.dry_run.retention {
            if !retention.cagg_risks.is_empty() && !confirm.accept_cagg_risk {
                let risks: Vec<String> = retention
                    .cagg_risks
                    .iter()
                    .map(|r| format!("{}: {}", r.cagg, r.reason))
                    .collect();
                return Ok(SaveOutcome::NeedsConfirmation(format!(
                    "this retention would lose data continuous aggregates have not materialized ({}); confirm explicitly to save it anyway",
                    risks.join("; ")
                )));
            }
        }
        if drops_data(&e.dry_run) && confirm.typed_name.trim() != target.to_string() {
            let dropped = e.dry_run.retention.as_ref().map_or(0, |r| r.chunks.len());
            return Ok(SaveOutcome::NeedsConfirmation(format!(
                "this change drops {dropped} chunks of {target} at the next run: type the table's name ({target}) to confirm"
            )));
        }
    }
    let pool = state.pool()?;
    let audit_id =
        tsdb::policy::store::save(&pool, actor, client_addr, target, &e.edit, None).await?;
    let (_, _, plan, _) = current(state).await?;
    Ok(SaveOutcome::Saved {
        audit_id,
        steps: plan.steps_for(target).cloned().collect(),
    })
}

/// Plans and applies every managed hypertable; publishes the result.
pub async fn apply(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    trigger: Trigger,
) -> Result<ApplyReport, AppError> {
    let (_, _, plan, _) = current(state).await?;
    let pool = state.pool()?;
    let report = tsdb::policy::apply::apply(&pool, &plan, actor, client_addr, trigger)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "another console instance is applying policies right now; try again in a moment"
                    .into(),
            )
        })?;
    state
        .policies
        .publish(tsdb::policy::apply::last_run(&pool).await?);
    state.monitor.request_refresh();
    Ok(report)
}

/// Restores the policy an audit entry recorded before its change, then applies.
pub async fn revert(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    audit_id: i64,
) -> Result<ApplyReport, AppError> {
    let pool = state.pool()?;
    let (target, before) = tsdb::policy::store::before_of(&pool, audit_id).await?;
    tsdb::policy::store::save(&pool, actor, client_addr, &target, &before, Some(audit_id)).await?;
    apply(state, actor, client_addr, Trigger::Revert).await
}

/// Loads the latest apply into the state (at start-up).
pub async fn load_last_run(state: &AppState) -> Result<(), AppError> {
    let pool = state.pool()?;
    state
        .policies
        .publish(tsdb::policy::apply::last_run(&pool).await?);
    Ok(())
}
