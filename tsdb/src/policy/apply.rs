//! Applying a plan: one step per transaction, each with a short lock time-out so that a
//! busy hypertable makes the step fail (and be retried at the next apply) instead of
//! stalling the plant's inserts behind it. A failed step skips only the steps that depend
//! on it. Every step is recorded (`console.policy_steps`) and audited in the same
//! transaction as the change.
//!
//! One apply at a time, and always the current plan: the plan is made under the policy
//! lock from the live state and stored edits of that moment, applies only if it is the
//! plan the caller was shown (its fingerprint), and only once the data-loss guard's
//! hazards are confirmed. A second apply meanwhile gets [`Applied::Busy`].

use super::desired::{ObjectKind, PolicySource};
use super::guard::{Confirmations, Hazard};
use super::hazards;
use super::live::LiveState;
use super::plan::{self, Plan, PlanContext, Step, TablePlan};
pub use super::report::{ApplyReport, LastRun, StepOutcome, StepResult, Trigger};
use super::statement::Arg;
use super::store::{self, PolicyEdit, RecordedLive, SaveContext};
use super::target::Target;
use super::HypertableName;
use crate::audit::{self, Actor, Entry, Outcome};
use crate::capabilities::Capabilities;
use crate::locks::{try_lock, TaskLock};
use crate::Result;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Instant;

/// Each step's limits: 3 s waiting for a lock on the hypertable (then it fails and is
/// retried at the next apply), 5 minutes to run. (Separate statements: `raw_sql` futures
/// are not `Send`.)
const STEP_LIMITS: [&str; 2] = [
    "SET LOCAL lock_timeout = '3s'",
    "SET LOCAL statement_timeout = '5min'",
];

/// What an apply is to achieve.
#[derive(Debug, Clone)]
pub enum Intent<'a> {
    /// Every managed relation as its desired policy says.
    Reconcile {
        /// Defaults, the file's sections and patterns.
        source: &'a PolicySource,
        /// Only this relation's steps (its policy page's "Apply now").
        only: Option<HypertableName>,
    },
    /// One relation back to a live state an audit entry recorded, its saved edit
    /// restored first (a revert).
    Restore(Box<Restore>),
}

/// A revert: the edit to restore and the live state to plan back to.
#[derive(Debug, Clone)]
pub struct Restore {
    /// The relation.
    pub name: HypertableName,
    /// Hypertable or aggregate.
    pub kind: ObjectKind,
    /// The edit saved before the reverted change.
    pub edit: PolicyEdit,
    /// The live state before it, if the entry recorded one (older entries did not: then
    /// only the edit is restored and the desired policy planned).
    pub live_before: Option<RecordedLive>,
    /// The audit entry reverted.
    pub revert_of: i64,
    /// Policy sources, for planning the restored edit when no live state was recorded.
    pub source: PolicySource,
}

/// How to apply: who asks, and what they saw and confirmed.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Who.
    pub actor: &'a Actor,
    /// From where.
    pub client_addr: Option<&'a str>,
    /// Through what.
    pub trigger: Trigger,
    /// The plan's fingerprint as shown to the caller: the apply goes ahead only if the
    /// plan made under the lock is still that one.
    pub expected: Option<String>,
    /// The names typed and the aggregate loss accepted.
    pub confirmations: Confirmations,
    /// Apply what needs no confirmation and hold the rest (the start-up apply), instead
    /// of refusing the whole apply.
    pub hold_unconfirmed: bool,
}

/// How an apply ended.
#[derive(Debug, Clone)]
pub enum Applied {
    /// The steps ran (some may have failed: see the report); `held` lists what waited
    /// for a confirmation nobody gave.
    Done {
        /// What ran.
        report: ApplyReport,
        /// Hazards whose relations' steps were held back.
        held: Vec<Hazard>,
    },
    /// Another console instance is applying right now.
    Busy,
    /// The plan is no longer the one the caller saw: nothing ran.
    Changed {
        /// The plan as it is now.
        plan: Plan,
    },
    /// The audit entry a revert names was reverted meanwhile: nothing ran.
    AlreadyReverted {
        /// The entry.
        entry: i64,
        /// The entry that reverted it.
        by: i64,
    },
    /// Steps would lose data and were not confirmed: nothing ran.
    NeedsConfirmation {
        /// The plan as it is now.
        plan: Plan,
        /// What would be lost, unconfirmed.
        hazards: Vec<Hazard>,
    },
}

/// Reads live state and stored edits on `conn` and plans `intent`.
pub async fn plan_intent(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    intent: &Intent<'_>,
) -> Result<(LiveState, Plan)> {
    let live = super::live::read(&mut *conn, capabilities).await?;
    let context = PlanContext::from(capabilities);
    match intent {
        Intent::Reconcile { source, only } => {
            let stored = store::load(&mut *conn).await?;
            let mut desired = source.desired_all(&live, &stored);
            if let Some(only) = only {
                desired.retain(|d| &d.name == only);
            }
            let plan = plan::plan(context, &desired, &live);
            Ok((live, plan))
        }
        Intent::Restore(restore) => {
            let plan = restore_plan(context, &live, restore);
            Ok((live, plan))
        }
    }
}

/// The plan of a revert: back to the recorded live state, or (an entry that recorded
/// none) to the restored edit's desired policy.
pub fn restore_plan(context: PlanContext, live: &LiveState, restore: &Restore) -> Plan {
    let mut plan = Plan::default();
    let Some(table) = live.relation(&restore.name) else {
        return plan;
    };
    let refresh = live
        .cagg(&restore.name)
        .map(|c| c.refresh.as_slice())
        .unwrap_or_default();
    let stored = [super::desired::StoredPolicy {
        name: restore.name.clone(),
        managed: restore.edit.managed,
        overrides: restore.edit.overrides.clone(),
        updated_at: chrono::Utc::now(),
        updated_by: String::new(),
    }];
    let desired = restore
        .source
        .desired_of(&restore.name, restore.kind, &stored);
    let (target, mut notes) = match &restore.live_before {
        Some(recorded) => {
            let (target, notes) = Target::from_live(&recorded.table, recorded.refresh.as_deref());
            let notes = notes
                .into_iter()
                .map(|n| format!("{n}: it is left as it is"))
                .collect();
            (Some(target), notes)
        }
        None if desired.managed.is_managed() => (
            Some(plan::target_of(&desired.policy, restore.kind)),
            vec!["this entry predates recorded live states: the way back applies the restored setting".to_string()],
        ),
        None => (
            None,
            vec!["this entry predates recorded live states and the table was not managed before it: only the setting is restored".to_string()],
        ),
    };
    let mut entry = TablePlan {
        name: restore.name.clone(),
        kind: restore.kind,
        managed: desired.managed.clone(),
        desired: desired.policy.clone(),
        live: table.clone(),
        drift: Vec::new(),
        notes: Vec::new(),
        refused: Vec::new(),
        target: target.clone(),
    };
    if let Some(target) = &target {
        let found = plan::plan_target(
            context,
            restore.kind,
            target,
            table,
            refresh,
            &mut plan.steps,
        );
        entry.drift = found.drift;
        notes.extend(found.notes);
        entry.refused = found.refused;
    }
    entry.notes = notes;
    plan.tables.push(entry);
    plan
}

/// Applies `intent` under the policy lock: plans it from the live state of this moment,
/// checks the caller's fingerprint and the data-loss guard, then runs the steps (for a
/// revert, after saving the restored edit). One console instance at a time.
pub async fn apply(
    pool: &PgPool,
    capabilities: &Capabilities,
    intent: &Intent<'_>,
    request: &Request<'_>,
) -> Result<Applied> {
    let Some(mut held) = try_lock(pool, TaskLock::PolicyReconciler).await? else {
        return Ok(Applied::Busy);
    };
    let outcome = apply_locked(held.conn(), capabilities, intent, request).await;
    held.release().await?;
    outcome
}

async fn apply_locked(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    intent: &Intent<'_>,
    request: &Request<'_>,
) -> Result<Applied> {
    if let Intent::Restore(restore) = intent {
        // Checked under the lock: of two reverts of one entry, only the first runs.
        if let Some(by) = store::recorded(&mut *conn, restore.revert_of)
            .await?
            .reverted_by
        {
            return Ok(Applied::AlreadyReverted {
                entry: restore.revert_of,
                by,
            });
        }
    }
    let (live, mut plan) = plan_intent(&mut *conn, capabilities, intent).await?;
    if let Some(expected) = &request.expected {
        if *expected != plan.fingerprint() {
            return Ok(Applied::Changed { plan });
        }
    }
    let hazards = hazards::assess(&mut *conn, capabilities, &live, &plan).await?;
    let missing: Vec<Hazard> = request
        .confirmations
        .missing(&hazards)
        .into_iter()
        .cloned()
        .collect();
    if !missing.is_empty() && !request.hold_unconfirmed {
        return Ok(Applied::NeedsConfirmation {
            plan,
            hazards: missing,
        });
    }
    if !missing.is_empty() {
        // The steps that could lose data on a relation with an unconfirmed hazard wait, and
        // those they depend on (a policy removed to be replaced); the rest run. Steps are
        // renumbered so that dependencies still point at their steps.
        let relations: Vec<&HypertableName> = missing.iter().map(|h| &h.relation).collect();
        let mut held: Vec<usize> = plan
            .steps
            .iter()
            .filter(|s| s.kind.may_lose_data() && relations.contains(&&s.table))
            .map(|s| s.ordinal)
            .collect();
        let prerequisites: Vec<usize> = plan
            .steps
            .iter()
            .filter(|s| held.contains(&s.ordinal))
            .filter_map(|s| s.depends_on)
            .collect();
        held.extend(prerequisites);
        let kept: Vec<Step> = std::mem::take(&mut plan.steps)
            .into_iter()
            .filter(|s| !held.contains(&s.ordinal))
            .collect();
        let renumber: std::collections::HashMap<usize, usize> = kept
            .iter()
            .enumerate()
            .map(|(new, step)| (step.ordinal, new))
            .collect();
        plan.steps = kept
            .into_iter()
            .map(|mut step| {
                step.ordinal = renumber[&step.ordinal];
                step.depends_on = step.depends_on.and_then(|d| renumber.get(&d).copied());
                step
            })
            .collect();
    }
    if let Intent::Restore(restore) = intent {
        let live_before = RecordedLive::of(&live, &restore.name);
        store::save(
            &mut *conn,
            request.actor,
            request.client_addr,
            &restore.name,
            &restore.edit,
            &SaveContext {
                kind: restore.kind,
                live_before: live_before.as_ref(),
                adopted: Vec::new(),
                revert_of: Some(restore.revert_of),
            },
        )
        .await?;
    }
    let report = run(
        conn,
        &plan,
        request.actor,
        request.client_addr,
        request.trigger,
    )
    .await?;
    Ok(Applied::Done {
        report,
        held: missing,
    })
}

async fn run(
    conn: &mut PgConnection,
    plan: &Plan,
    actor: &Actor,
    client_addr: Option<&str>,
    trigger: Trigger,
) -> Result<ApplyReport> {
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO console.policy_runs (trigger, actor_name) VALUES ($1, $2) RETURNING id",
    )
    .bind(trigger.as_str())
    .bind(actor.name())
    .fetch_one(&mut *conn)
    .await?;
    let mut results: Vec<StepResult> = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        // Owned before any await: nothing borrowed from `results` lives across one.
        let skip_reason: Option<String> = step.depends_on.and_then(|first| {
            results
                .iter()
                .find(|r| r.ordinal == first)
                .filter(|r| !matches!(r.outcome, StepOutcome::Applied))
                .map(|r| format!("step {} ({}) did not apply", r.ordinal + 1, r.summary))
        });
        let started = Instant::now();
        let outcome = match skip_reason {
            Some(reason) => StepOutcome::Skipped { reason },
            None => match run_step(conn, run_id, step, actor, client_addr).await {
                Ok(()) => StepOutcome::Applied,
                Err(error) => StepOutcome::Failed {
                    error: error.to_string(),
                },
            },
        };
        let result = StepResult {
            ordinal: step.ordinal,
            table: step.table.to_string(),
            summary: step.summary.clone(),
            statement: step.statement.display(),
            outcome,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        if !matches!(result.outcome, StepOutcome::Applied) {
            // An applied step was recorded inside its own transaction.
            record_step(&mut *conn, run_id, &result).await?;
            audit_step(&mut *conn, actor, client_addr, &result).await?;
        }
        results.push(result);
    }
    let failed = results
        .iter()
        .filter(|r| !matches!(r.outcome, StepOutcome::Applied))
        .count();
    sqlx::query(
        "UPDATE console.policy_runs SET finished_at = now(), steps = $2, failed = $3 WHERE id = $1",
    )
    .bind(run_id)
    .bind(i32::try_from(results.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(failed).unwrap_or(i32::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(ApplyReport { run_id, results })
}

/// Runs one step in a transaction of its own, recorded and audited inside it.
async fn run_step(
    conn: &mut PgConnection,
    run_id: i64,
    step: &Step,
    actor: &Actor,
    client_addr: Option<&str>,
) -> std::result::Result<(), sqlx::Error> {
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    for limit in STEP_LIMITS {
        sqlx::query(limit).execute(&mut *tx).await?;
    }
    let mut query = sqlx::query(&step.statement.sql);
    for arg in &step.statement.args {
        query = match arg {
            Arg::Text(text) => query.bind(text.clone()),
            Arg::Int(n) => query.bind(*n),
            Arg::BigInt(n) => query.bind(*n),
        };
    }
    query.execute(&mut *tx).await?;
    let result = StepResult {
        ordinal: step.ordinal,
        table: step.table.to_string(),
        summary: step.summary.clone(),
        statement: step.statement.display(),
        outcome: StepOutcome::Applied,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    record_step(&mut tx, run_id, &result)
        .await
        .map_err(into_sqlx)?;
    audit_step(&mut tx, actor, client_addr, &result)
        .await
        .map_err(into_sqlx)?;
    tx.commit().await
}

fn into_sqlx(error: crate::Error) -> sqlx::Error {
    match error {
        crate::Error::Database(error) => error,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

async fn record_step(conn: &mut PgConnection, run_id: i64, result: &StepResult) -> Result<()> {
    let (outcome, error) = match &result.outcome {
        StepOutcome::Applied => ("applied", None),
        StepOutcome::Failed { error } => ("failed", Some(error.as_str())),
        StepOutcome::Skipped { reason } => ("skipped", Some(reason.as_str())),
    };
    sqlx::query(
        "INSERT INTO console.policy_steps
                (run_id, ordinal, hypertable, summary, statement, outcome, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(run_id)
    .bind(i32::try_from(result.ordinal).unwrap_or(i32::MAX))
    .bind(&result.table)
    .bind(&result.summary)
    .bind(&result.statement)
    .bind(outcome)
    .bind(error)
    .bind(result.duration_ms)
    .execute(conn)
    .await?;
    Ok(())
}

async fn audit_step(
    conn: &mut PgConnection,
    actor: &Actor,
    client_addr: Option<&str>,
    result: &StepResult,
) -> Result<()> {
    let (outcome, detail) = match &result.outcome {
        StepOutcome::Applied => (Outcome::Success, None),
        StepOutcome::Failed { error } => (Outcome::Failure, Some(error.clone())),
        StepOutcome::Skipped { reason } => (Outcome::Failure, Some(reason.clone())),
    };
    audit::record(
        conn,
        &Entry {
            actor,
            client_addr,
            action: "policy.apply",
            object_type: Some("hypertable"),
            object_id: Some(&result.table),
            before: None,
            after: Some(json!({"step": result.summary, "sql": result.statement})),
            outcome,
            detail: detail.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// The latest finished apply, if any.
pub async fn last_run(pool: &PgPool) -> Result<Option<LastRun>> {
    let row: Option<(i64, chrono::DateTime<chrono::Utc>, String, i32, i32)> = sqlx::query_as(
        "SELECT id, started_at, trigger, steps, failed FROM console.policy_runs
          WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let Some((run_id, started_at, trigger, steps, failed)) = row else {
        return Ok(None);
    };
    let failures: Vec<String> = sqlx::query_scalar(
        "SELECT hypertable || ': ' || summary || ': ' || coalesce(error, outcome)
           FROM console.policy_steps WHERE run_id = $1 AND outcome <> 'applied' ORDER BY ordinal",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(LastRun {
        run_id,
        started_at,
        trigger,
        steps,
        failed,
        failures,
        held: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    /// Server functions and spawned tasks need `Send` futures; sqlx makes that easy to
    /// lose (its `raw_sql` and generic `Acquire` are not), and only this says so early.
    #[allow(dead_code)]
    fn apply_is_send(
        pool: &sqlx::PgPool,
        capabilities: &super::Capabilities,
        intent: &super::Intent<'_>,
        request: &super::Request<'_>,
    ) {
        fn assert_send<T: Send>(_: T) {}
        assert_send(super::apply(pool, capabilities, intent, request));
    }
}
