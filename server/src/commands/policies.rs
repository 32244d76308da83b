//! `ms5-console policies plan` and `policies apply [--yes]`: the same plan the console
//! shows, for deployment scripts. Apply exits non-zero when a step fails.

use super::{connect_and_migrate, CommandError};
use crate::config::Settings;
use std::io::{BufRead, IsTerminal, Write};
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::policy::plan::Plan;
use tsdb::policy::report::{StepOutcome, Trigger};

/// Prints the plan.
fn print(plan: &Plan) {
    for table in &plan.tables {
        let managed = table.managed.describe();
        if table.drift.is_empty() && table.refused.is_empty() && table.notes.is_empty() {
            println!("{}: {managed}, in sync", table.name);
            continue;
        }
        println!("{}: {managed}", table.name);
        for line in &table.drift {
            println!("  drift: {line}");
        }
        for line in &table.notes {
            println!("  note: {line}");
        }
        for line in &table.refused {
            println!("  refused: {line}");
        }
    }
    if plan.in_sync() {
        println!("in sync: nothing to apply");
        return;
    }
    println!("\n{} step(s):", plan.steps.len());
    for step in &plan.steps {
        println!("  {}. {}: {}", step.ordinal + 1, step.table, step.summary);
        println!(
            "     {}",
            step.statement
                .display()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

async fn current(settings: &Settings) -> Result<(sqlx::PgPool, Plan), CommandError> {
    let connected = connect_and_migrate(settings).await?;
    let capabilities = Capabilities::probe(&connected.pool).await?;
    let plan = tsdb::policy::plan_now(&connected.pool, &capabilities, &settings.policy_source())
        .await
        .map(|(_, plan)| plan);
    match plan {
        Ok(plan) => Ok((connected.pool, plan)),
        Err(error) => {
            connected.pool.close().await;
            Err(error.into())
        }
    }
}

/// `policies plan`.
pub async fn plan(settings: &Settings) -> Result<(), CommandError> {
    let (pool, plan) = current(settings).await?;
    pool.close().await;
    print(&plan);
    Ok(())
}

/// `policies apply`: asks before applying unless `yes`.
pub async fn apply(settings: &Settings, yes: bool) -> Result<(), CommandError> {
    let (pool, plan) = current(settings).await?;
    print(&plan);
    if plan.in_sync() {
        pool.close().await;
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            pool.close().await;
            return Err(CommandError::Refused(
                "not applying without a terminal to confirm on: pass --yes".into(),
            ));
        }
        print!("\napply these {} step(s)? [y/N] ", plan.steps.len());
        std::io::stdout().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).ok();
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            pool.close().await;
            println!("nothing applied");
            return Ok(());
        }
    }
    let report = tsdb::policy::apply::apply(
        &pool,
        &plan,
        &Actor::System,
        Some("command line"),
        Trigger::Cli,
    )
    .await;
    pool.close().await;
    let report = report?.ok_or_else(|| {
        CommandError::Refused("another console instance is applying policies right now".into())
    })?;
    for result in &report.results {
        let outcome = match &result.outcome {
            StepOutcome::Applied => "applied".to_string(),
            StepOutcome::Failed { error } => format!("FAILED: {error}"),
            StepOutcome::Skipped { reason } => format!("skipped: {reason}"),
        };
        println!(
            "  {}. {}: {} — {outcome}",
            result.ordinal + 1,
            result.table,
            result.summary
        );
    }
    match report.failed() {
        0 => {
            println!("applied {} step(s)", report.results.len());
            Ok(())
        }
        failed => Err(CommandError::StepsFailed(failed)),
    }
}
