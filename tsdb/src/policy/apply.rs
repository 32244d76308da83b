//! Applying a plan: one step per transaction, each with a short lock time-out so that a
//! busy hypertable makes the step fail (and be retried at the next apply) instead of
//! stalling the plant's inserts behind it. A failed step skips only the steps that depend
//! on it. Every step is recorded (`console.policy_steps`) and audited in the same
//! transaction as the change; one console instance applies at a time.

use super::plan::{Plan, Step};
pub use super::report::{ApplyReport, LastRun, StepOutcome, StepResult, Trigger};
use super::statement::Arg;
use crate::audit::{self, Actor, Entry, Outcome};
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

/// Applies `plan`; `None` when another console instance is applying right now.
pub async fn apply(
    pool: &PgPool,
    plan: &Plan,
    actor: &Actor,
    client_addr: Option<&str>,
    trigger: Trigger,
) -> Result<Option<ApplyReport>> {
    let Some(mut held) = try_lock(pool, TaskLock::PolicyReconciler).await? else {
        return Ok(None);
    };
    let report = run(held.conn(), plan, actor, client_addr, trigger).await;
    held.release().await?;
    report.map(Some)
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
    }))
}

#[cfg(test)]
mod tests {
    /// Server functions and spawned tasks need `Send` futures; sqlx makes that easy to
    /// lose (its `raw_sql` and generic `Acquire` are not), and only this says so early.
    #[allow(dead_code)]
    fn apply_is_send(pool: &sqlx::PgPool, plan: &super::Plan, actor: &super::Actor) {
        fn assert_send<T: Send>(_: T) {}
        assert_send(super::apply(pool, plan, actor, None, super::Trigger::Cli));
    }
}
