//! The policy work behind the server functions, REST, the command line's twin and the
//! start-up reconciler: read live state, plan, preview, save, apply, revert. Callers
//! authorize first; this module talks to `tsdb` and publishes the latest apply. Every
//! change passes `tsdb::policy::guard` here or in `tsdb::policy::apply`.

use super::{
    ApplyOutcome, FieldSource, PoliciesView, PolicyDetail, Preview, RevertPreview, SaveOutcome,
    ValueSource,
};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use sqlx::pool::PoolConnection;
use sqlx::Postgres;
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::policy::apply::{self, Applied, Intent, Restore};
use tsdb::policy::desired::{adopt, merge, Desired, ObjectKind, StoredPolicy};
use tsdb::policy::guard::{Confirmations, Hazard};
use tsdb::policy::hazards;
use tsdb::policy::live::LiveState;
use tsdb::policy::plan::{self, PlanContext, Step};
use tsdb::policy::store::{self, RecordedLive, SaveContext};
use tsdb::policy::validate::{validate, FieldError, PolicyForm};
use tsdb::policy::{
    Columns, CompressAfter, HypertableName, Policy, PolicyEdit, PolicyOverride, RefreshList,
    Retention,
};
use tsdb::types::Role;

/// Who applies, what they were shown and what they confirmed (the engine's own request).
pub use tsdb::policy::apply::Request as ApplyRequest;

/// A connection and the server's capabilities, once TimescaleDB is usable.
async fn connect(state: &AppState) -> Result<(PoolConnection<Postgres>, Capabilities), AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    Ok((conn, capabilities))
}

/// Live state, stored edits and every relation's desired policy, read on `conn`.
async fn current(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    capabilities: &Capabilities,
) -> Result<(LiveState, Vec<StoredPolicy>, Vec<Desired>), AppError> {
    let live = tsdb::policy::live::read(&mut *conn, capabilities).await?;
    let stored = store::load(&mut *conn).await?;
    let desired = state.policy_source.desired_all(&live, &stored);
    Ok((live, stored, desired))
}

/// Hypertable or aggregate, or that nothing by that name exists.
fn kind_of(live: &LiveState, name: &HypertableName) -> Result<ObjectKind, AppError> {
    if live.cagg(name).is_some() {
        Ok(ObjectKind::Aggregate)
    } else if live.table(name).is_some() {
        Ok(ObjectKind::Hypertable)
    } else {
        Err(AppError::NotFound(format!(
            "no hypertable or continuous aggregate {name}"
        )))
    }
}

/// Every relation with desired, live and drift, and what applying the plan would lose.
pub async fn overview(state: &AppState, principal: &Principal) -> Result<PoliciesView, AppError> {
    let (mut conn, capabilities) = connect(state).await?;
    let source = &*state.policy_source;
    let (live, plan) = apply::plan_intent(
        &mut conn,
        &capabilities,
        &Intent::Reconcile { source, only: None },
    )
    .await?;
    let hazards = hazards::assess(&mut conn, &capabilities, &live, &plan).await?;
    Ok(PoliciesView {
        fingerprint: plan.fingerprint(),
        plan,
        hazards,
        caggs: live.caggs,
        last_run: state.policies.last(),
        editable: principal.role.includes(Role::Admin),
    })
}

/// One relation's page.
pub async fn detail(
    state: &AppState,
    principal: &Principal,
    target: &HypertableName,
) -> Result<PolicyDetail, AppError> {
    let (mut conn, capabilities) = connect(state).await?;
    let (live, stored, desired) = current(&mut conn, state, &capabilities).await?;
    let kind = kind_of(&live, target)?;
    let plan = plan::plan(PlanContext::from(&capabilities), &desired, &live);
    let entry = plan
        .tables
        .iter()
        .find(|t| &t.name == target)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("no hypertable or aggregate {target}")))?;
    let steps: Vec<Step> = plan.steps_for(target).cloned().collect();
    let hazards = match (&entry.target, steps.iter().any(|s| s.kind.may_lose_data())) {
        (Some(goal), true) => {
            hazards::assess_relation(&mut conn, &capabilities, &live, target, kind, goal).await?
        }
        _ => Vec::new(),
    };
    let stored_edit = stored.iter().find(|s| &s.name == target);
    let form = stored_edit
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
    let aggregate = live.cagg(target).cloned();
    let table = live.relation(target).cloned().unwrap_or(entry.live.clone());
    let adoption = (!entry.managed.is_managed())
        .then(|| adopt(&table, aggregate.as_ref().map(|c| c.refresh.as_slice())));
    let sources = sources(
        state,
        target,
        kind,
        &entry.desired,
        stored_edit.map(|s| &s.overrides),
        adoption.as_ref().map(|a| &a.overrides),
    );
    Ok(PolicyDetail {
        base: state.policy_source.base(target, kind),
        steps,
        hazards,
        table: entry,
        form,
        sources,
        adoption,
        caggs: live.caggs_on(target).cloned().collect(),
        aggregate,
        editable: principal.role.includes(Role::Admin),
    })
}

/// Where each field's effective value comes from: saved here, the file, the console's
/// own policy, kept from live (a relation not managed yet), or the defaults.
fn sources(
    state: &AppState,
    name: &HypertableName,
    kind: ObjectKind,
    policy: &Policy,
    stored: Option<&PolicyOverride>,
    adopted: Option<&PolicyOverride>,
) -> Vec<FieldSource> {
    let key = name.to_string();
    let file = state.policy_source.tables.get(&key);
    let builtin = state
        .policy_source
        .builtin
        .get(&key)
        .filter(|_| kind == ObjectKind::Hypertable);
    let set = |o: Option<&PolicyOverride>, field: &str| {
        o.is_some_and(|o| o.describe().iter().any(|(k, _)| *k == field))
    };
    let from = |field: &str| {
        if set(stored, field) {
            ValueSource::Console
        } else if set(adopted, field) {
            ValueSource::Live
        } else if set(file, field) {
            ValueSource::File
        } else if set(builtin, field) {
            ValueSource::Builtin
        } else {
            ValueSource::Default
        }
    };
    let mut fields = vec![
        (
            "compression_enabled",
            if policy.compression_enabled {
                "on"
            } else {
                "off"
            }
            .to_string(),
        ),
        (
            "compression_after",
            CompressAfter(policy.compression_after).to_string(),
        ),
        ("retention_policy", Retention(policy.retention).to_string()),
        ("schedule_interval", policy.schedule_interval.to_string()),
        (
            "compression_schedule",
            policy.compression_every().to_string(),
        ),
        ("retention_schedule", policy.retention_every().to_string()),
    ];
    match kind {
        ObjectKind::Hypertable => {
            fields.push((
                "chunk_time_interval",
                policy.chunk_time_interval.to_string(),
            ));
            fields.push(("segment_by", Columns(&policy.segment_by).to_string()));
            fields.push(("order_by", Columns(&policy.order_by).to_string()));
        }
        ObjectKind::Aggregate => fields.push((
            "refresh",
            policy
                .refresh
                .as_deref()
                .map(|r| RefreshList(r).to_string())
                .unwrap_or_else(|| "as it is".into()),
        )),
    }
    fields
        .into_iter()
        .map(|(field, value)| FieldSource {
            from: from(field),
            // The form names the retention field `retention`.
            field: if field == "retention_policy" {
                "retention".into()
            } else {
                field.into()
            },
            value,
        })
        .collect()
}

/// A form checked against its relation, with what saving it would do.
struct Evaluated {
    kind: ObjectKind,
    edit: PolicyEdit,
    adopted: Vec<&'static str>,
    policy: Policy,
    managed_after: bool,
    steps: Vec<Step>,
    hazards: Vec<Hazard>,
    notes: Vec<String>,
    live: LiveState,
}

/// Validates `form` against the relation, adopts live values when it takes the relation
/// under management, and computes the steps and what they would lose; the refused fields
/// when it does not validate.
async fn evaluate(
    conn: &mut sqlx::PgConnection,
    capabilities: &Capabilities,
    state: &AppState,
    name: &HypertableName,
    form: &PolicyForm,
) -> Result<Result<Evaluated, Vec<FieldError>>, AppError> {
    let (live, stored, _) = current(&mut *conn, state, capabilities).await?;
    let kind = kind_of(&live, name)?;
    let source = &*state.policy_source;
    let relation = live
        .relation(name)
        .ok_or_else(|| AppError::NotFound(format!("no hypertable or aggregate {name}")))?;
    let base = source.base(name, kind);
    let mut edit = match validate(form, relation, &base) {
        Ok(edit) => edit,
        Err(errors) => return Ok(Err(errors)),
    };
    let managed_before = source.desired_of(name, kind, &stored).managed.is_managed();
    let with = |edit: &PolicyEdit| -> Vec<StoredPolicy> {
        let mut stored: Vec<StoredPolicy> =
            stored.iter().filter(|s| &s.name != name).cloned().collect();
        stored.push(StoredPolicy {
            name: name.clone(),
            managed: edit.managed,
            overrides: edit.overrides.clone(),
            updated_at: chrono::Utc::now(),
            updated_by: String::new(),
        });
        stored
    };
    let managed_after = source
        .desired_of(name, kind, &with(&edit))
        .managed
        .is_managed();
    let mut notes = Vec::new();
    let mut adopted = Vec::new();
    // Taking a relation under management keeps what is live, unless the admin asked
    // for the configured defaults.
    if !managed_before && managed_after && form.adopt.trim() != "defaults" {
        let refresh = live.cagg(name).map(|c| c.refresh.as_slice());
        let kept = adopt(relation, refresh);
        let set: Vec<&str> = edit.overrides.describe().iter().map(|(k, _)| *k).collect();
        adopted = kept
            .overrides
            .describe()
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !set.contains(k))
            .collect();
        edit.overrides = merge(&edit.overrides, &kept.overrides);
        notes.extend(kept.notes);
        // Adopted values may contradict each other (a live retention shorter than the
        // live compress-after): say so rather than save a policy the plan refuses.
        let effective = edit.overrides.over(&base);
        if !effective.problems().is_empty() {
            notes.push(format!(
                "the live retention ({}) is not longer than the live compress-after ({}): set both here",
                Retention(effective.retention),
                CompressAfter(effective.compression_after)
            ));
        }
    }
    let desired = source.desired_of(name, kind, &with(&edit));
    let refresh = live
        .cagg(name)
        .map(|c| c.refresh.clone())
        .unwrap_or_default();
    let mut steps = Vec::new();
    let mut hazards = Vec::new();
    if managed_after {
        let target = plan::target_of(&desired.policy, kind);
        let found = plan::plan_target(
            PlanContext::from(capabilities),
            kind,
            &target,
            relation,
            &refresh,
            &mut steps,
        );
        notes.extend(found.refused.iter().map(|r| format!("refused: {r}")));
        notes.extend(found.notes);
        if steps.iter().any(|s| s.kind.may_lose_data()) {
            hazards =
                hazards::assess_relation(&mut *conn, capabilities, &live, name, kind, &target)
                    .await?;
        }
    }
    Ok(Ok(Evaluated {
        kind,
        edit,
        adopted,
        policy: desired.policy,
        managed_after,
        steps,
        hazards,
        notes,
        live,
    }))
}

/// Validates `form` and computes its effect.
pub async fn preview(
    state: &AppState,
    name: &HypertableName,
    form: &PolicyForm,
) -> Result<Preview, AppError> {
    let (mut conn, capabilities) = connect(state).await?;
    let e = match evaluate(&mut conn, &capabilities, state, name, form).await? {
        Err(errors) => return Ok(Preview::Invalid(errors)),
        Ok(e) => e,
    };
    let mut dry_run =
        tsdb::policy::dry_run::dry_run(&mut conn, &capabilities, &e.live, name, &e.policy).await?;
    if !e.managed_after {
        // Nothing is applied to an unmanaged relation: no retention runs.
        dry_run.retention = None;
    }
    Ok(Preview::Effect {
        policy: Box::new(e.policy),
        dry_run: Box::new(dry_run),
        steps: e.steps,
        hazards: e.hazards,
        notes: e.notes,
    })
}

/// The confirmation message for unconfirmed hazards.
fn confirmation_message(name: &HypertableName, missing: &[&Hazard]) -> String {
    let aggregate = missing.iter().any(|h| h.is_aggregate_loss());
    let what: Vec<String> = missing.iter().map(|h| h.describe()).collect();
    format!(
        "{}. Type the name ({name}) to confirm{}.",
        what.join("; "),
        if aggregate {
            ", and accept that the continuous aggregates named lose those rows"
        } else {
            ""
        }
    )
}

/// Saves `form` for the relation once it validates and what it would lose is confirmed.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    client_addr: Option<&str>,
    name: &HypertableName,
    form: &PolicyForm,
    confirm: &Confirmations,
) -> Result<SaveOutcome, AppError> {
    let (mut conn, capabilities) = connect(state).await?;
    let e = match evaluate(&mut conn, &capabilities, state, name, form).await? {
        Err(errors) => return Ok(SaveOutcome::Invalid(errors)),
        Ok(e) => e,
    };
    let missing = confirm.missing(&e.hazards);
    if !missing.is_empty() {
        return Ok(SaveOutcome::NeedsConfirmation {
            message: confirmation_message(name, &missing),
            hazards: missing.into_iter().cloned().collect(),
        });
    }
    let live_before = RecordedLive::of(&e.live, name);
    let audit_id = store::save(
        &mut conn,
        actor,
        client_addr,
        name,
        &e.edit,
        &SaveContext {
            kind: e.kind,
            live_before: live_before.as_ref(),
            adopted: e.adopted,
            revert_of: None,
        },
    )
    .await?;
    Ok(SaveOutcome::Saved {
        audit_id,
        steps: e.steps,
    })
}

/// Maps how an apply ended; publishes the latest apply when steps ran.
async fn finish(state: &AppState, applied: Applied) -> Result<ApplyOutcome, AppError> {
    match applied {
        Applied::Busy => Err(AppError::Conflict(
            "another apply of policies is running right now (this or another console instance); try again in a moment"
                .into(),
        )),
        Applied::AlreadyReverted { entry, by } => Err(AppError::Conflict(format!(
            "audit entry {entry} was already reverted by entry {by}"
        ))),
        Applied::Changed { plan } => Ok(ApplyOutcome::Changed {
            fingerprint: plan.fingerprint(),
            steps: plan.steps,
            hazards: Vec::new(),
        }),
        Applied::NeedsConfirmation { plan, hazards } => Ok(ApplyOutcome::NeedsConfirmation {
            fingerprint: plan.fingerprint(),
            steps: plan.steps,
            hazards,
        }),
        Applied::Done { report, held } => {
            let pool = state.pool()?;
            let mut last = tsdb::policy::apply::last_run(&pool).await?;
            if let Some(last) = &mut last {
                last.held = held.iter().map(Hazard::describe).collect();
            }
            state.policies.publish(last);
            state.monitor.request_refresh();
            Ok(ApplyOutcome::Applied { report, held })
        }
    }
}

/// Plans and applies every managed relation (or only `only`) under the policy lock, as
/// shown and confirmed; publishes the result.
pub async fn apply_only(
    state: &AppState,
    only: Option<HypertableName>,
    request: &ApplyRequest<'_>,
) -> Result<ApplyOutcome, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let source = &*state.policy_source;
    let applied = apply::apply(
        &pool,
        &capabilities,
        &Intent::Reconcile { source, only },
        request,
    )
    .await?;
    finish(state, applied).await
}

/// Plans and applies every managed relation.
pub async fn apply(state: &AppState, request: &ApplyRequest<'_>) -> Result<ApplyOutcome, AppError> {
    apply_only(state, None, request).await
}

/// What reverting `audit_id` restores, and the way back.
async fn restore_of(
    conn: &mut sqlx::PgConnection,
    capabilities: &Capabilities,
    state: &AppState,
    audit_id: i64,
) -> Result<(tsdb::policy::store::Recorded, Restore, LiveState), AppError> {
    let recorded = store::recorded(&mut *conn, audit_id).await?;
    let live = tsdb::policy::live::read(&mut *conn, capabilities).await?;
    let name = recorded.name.resolve(&live).map_err(AppError::Conflict)?;
    let kind = kind_of(&live, &name)?;
    let restore = Restore {
        name,
        kind,
        edit: recorded.edit_before.clone(),
        live_before: recorded.live_before.clone(),
        revert_of: audit_id,
        source: (*state.policy_source).clone(),
    };
    Ok((recorded, restore, live))
}

/// What reverting audit entry `audit_id` would do.
pub async fn revert_preview(state: &AppState, audit_id: i64) -> Result<RevertPreview, AppError> {
    let (mut conn, capabilities) = connect(state).await?;
    let (recorded, restore, live) = restore_of(&mut conn, &capabilities, state, audit_id).await?;
    let plan = apply::restore_plan(PlanContext::from(&capabilities), &live, &restore);
    let hazards = hazards::assess(&mut conn, &capabilities, &live, &plan).await?;
    let table = plan
        .tables
        .first()
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("{} no longer exists", restore.name)))?;
    let retention = match table.target.as_ref().and_then(|t| t.retention_policy) {
        Some(Some(job)) if plan.steps.iter().any(|s| s.kind.may_lose_data()) => Some(
            tsdb::policy::dry_run::retention(
                &mut conn,
                &capabilities,
                &live,
                &restore.name,
                job.age,
            )
            .await?,
        ),
        _ => None,
    };
    Ok(RevertPreview {
        audit_id,
        relation: restore.name.clone(),
        kind: restore.kind,
        reverted_by: recorded.reverted_by,
        restores: PolicyForm::from_edit(&restore.edit),
        fingerprint: plan.fingerprint(),
        steps: plan.steps,
        hazards,
        retention,
        table,
    })
}

/// Reverts audit entry `audit_id` as previewed and confirmed: restores its setting and
/// applies the way back, under the policy lock.
pub async fn revert(
    state: &AppState,
    audit_id: i64,
    request: &ApplyRequest<'_>,
) -> Result<ApplyOutcome, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let (recorded, restore) = {
        let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
        let (recorded, restore, _) = restore_of(&mut conn, &capabilities, state, audit_id).await?;
        (recorded, restore)
    };
    if let Some(by) = recorded.reverted_by {
        return Err(AppError::Conflict(format!(
            "audit entry {audit_id} was already reverted by entry {by}"
        )));
    }
    let applied = apply::apply(
        &pool,
        &capabilities,
        &Intent::Restore(Box::new(restore)),
        request,
    )
    .await?;
    finish(state, applied).await
}

/// Loads the latest apply into the state (at start-up).
pub async fn load_last_run(state: &AppState) -> Result<(), AppError> {
    let pool = state.pool()?;
    state
        .policies
        .publish(tsdb::policy::apply::last_run(&pool).await?);
    Ok(())
}
