//! `ms5-console policies plan | apply | revert N`: the same plan the console shows, for
//! deployment scripts, through the same data-loss guard. What a step would lose is printed
//! first; it runs only when its relation is named with `--confirm` (or typed at the
//! prompt on a terminal), and aggregate losses with `--accept-aggregate-loss` too. Apply
//! runs only the plan printed (its fingerprint) and exits non-zero when a step fails.

use super::{connect_and_migrate, CommandError};
use crate::cli::ConfirmArgs;
use crate::config::Settings;
use std::io::{BufRead, IsTerminal, Write};
use tsdb::audit::Actor;
use tsdb::capabilities::Capabilities;
use tsdb::policy::apply::{self, Applied, Intent, Restore};
use tsdb::policy::guard::{self, Confirmations, Hazard};
use tsdb::policy::hazards;
use tsdb::policy::plan::Plan;
use tsdb::policy::report::{StepOutcome, Trigger};
use tsdb::policy::store;

/// Prints the plan and its hazards.
fn print(plan: &Plan, hazards: &[Hazard]) {
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
    if !hazards.is_empty() {
        println!("\nwould lose data:");
        for hazard in hazards {
            println!("  - {}", hazard.describe());
        }
    }
}

/// The plan of `intent` and its hazards, read outside the lock for showing.
async fn show(
    pool: &sqlx::PgPool,
    capabilities: &Capabilities,
    intent: &Intent<'_>,
) -> Result<(Plan, Vec<Hazard>), CommandError> {
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let (live, plan) = apply::plan_intent(&mut conn, capabilities, intent).await?;
    let hazards = hazards::assess(&mut conn, capabilities, &live, &plan).await?;
    Ok((plan, hazards))
}

/// `policies plan`.
pub async fn plan(settings: &Settings) -> Result<(), CommandError> {
    let connected = connect_and_migrate(settings).await?;
    let pool = connected.pool;
    let capabilities = Capabilities::probe(&pool).await;
    let source = settings.policy_source();
    let shown = match capabilities {
        Ok(capabilities) => {
            show(
                &pool,
                &capabilities,
                &Intent::Reconcile {
                    source: &source,
                    only: None,
                },
            )
            .await
        }
        Err(error) => Err(error.into()),
    };
    pool.close().await;
    let (plan, hazards) = shown?;
    print(&plan, &hazards);
    Ok(())
}

/// One line from standard input.
fn ask(prompt: &str) -> String {
    print!("{prompt}");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok();
    answer.trim().to_string()
}

/// The confirmations given, completed on a terminal by asking for each hazard's name;
/// `None` when the user declined.
fn confirm(
    args: &ConfirmArgs,
    hazards: &[Hazard],
    steps: usize,
) -> Result<Option<Confirmations>, CommandError> {
    let mut confirmations = Confirmations {
        typed_names: args.names.clone(),
        accept_aggregate_loss: args.accept_aggregate_loss,
    };
    if args.yes {
        return Ok(Some(confirmations));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::Refused(
            "not applying without a terminal to confirm on: pass --yes (and --confirm for each relation that would lose data)".into(),
        ));
    }
    for hazard in confirmations.missing(hazards) {
        let typed = ask(&format!(
            "\n{}\ntype {} to confirm (anything else stops): ",
            hazard.describe(),
            hazard.relation
        ));
        if typed != hazard.relation.to_string() {
            return Ok(None);
        }
        confirmations.typed_names.push(typed);
        if hazard.is_aggregate_loss() && !confirmations.accept_aggregate_loss {
            if !matches!(
                ask("accept that those aggregate rows are lost? [y/N] ").as_str(),
                "y" | "Y" | "yes"
            ) {
                return Ok(None);
            }
            confirmations.accept_aggregate_loss = true;
        }
    }
    if !matches!(
        ask(&format!("\napply these {steps} step(s)? [y/N] ")).as_str(),
        "y" | "Y" | "yes"
    ) {
        return Ok(None);
    }
    Ok(Some(confirmations))
}

/// Prints how an apply ended; its error when steps failed or nothing could run.
fn report(applied: Applied) -> Result<(), CommandError> {
    match applied {
        Applied::Busy => Err(CommandError::Refused(
            "another apply of policies is running right now; try again in a moment".into(),
        )),
        Applied::AlreadyReverted { entry, by } => Err(CommandError::Refused(format!(
            "audit entry {entry} was already reverted by entry {by}"
        ))),
        Applied::Changed { .. } => Err(CommandError::Refused(
            "the plan changed while you read it: nothing was applied; run the command again to see it"
                .into(),
        )),
        Applied::NeedsConfirmation { hazards, .. } => Err(CommandError::Refused(format!(
            "nothing was applied: {}; name each relation with --confirm{}",
            guard::describe_all(&hazards),
            if hazards.iter().any(Hazard::is_aggregate_loss) {
                " and add --accept-aggregate-loss"
            } else {
                ""
            }
        ))),
        Applied::Done { report, .. } => {
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
    }
}

/// Shows `intent`'s plan and what it would lose, asks, and applies exactly that plan.
async fn confirm_and_apply(
    pool: &sqlx::PgPool,
    capabilities: &Capabilities,
    intent: &Intent<'_>,
    args: &ConfirmArgs,
    trigger: Trigger,
) -> Result<(), CommandError> {
    let (plan, hazards) = show(pool, capabilities, intent).await?;
    print(&plan, &hazards);
    if plan.in_sync() && !matches!(intent, Intent::Restore(_)) {
        return Ok(());
    }
    let Some(confirmations) = confirm(args, &hazards, plan.steps.len())? else {
        println!("nothing applied");
        return Ok(());
    };
    let applied = apply::apply(
        pool,
        capabilities,
        intent,
        &apply::Request {
            actor: &Actor::System,
            client_addr: Some("command line"),
            trigger,
            expected: Some(plan.fingerprint()),
            confirmations,
            hold_unconfirmed: false,
        },
    )
    .await?;
    report(applied)
}

/// `policies apply`.
pub async fn apply(settings: &Settings, args: &ConfirmArgs) -> Result<(), CommandError> {
    let connected = connect_and_migrate(settings).await?;
    let pool = connected.pool;
    let source = settings.policy_source();
    let result = match Capabilities::probe(&pool).await {
        Ok(capabilities) => {
            let intent = Intent::Reconcile {
                source: &source,
                only: None,
            };
            confirm_and_apply(&pool, &capabilities, &intent, args, Trigger::Cli).await
        }
        Err(error) => Err(error.into()),
    };
    pool.close().await;
    result
}

/// `policies revert N`.
pub async fn revert(
    settings: &Settings,
    audit_id: i64,
    args: &ConfirmArgs,
) -> Result<(), CommandError> {
    let connected = connect_and_migrate(settings).await?;
    let pool = connected.pool;
    let source = settings.policy_source();
    let result = async {
        let capabilities = Capabilities::probe(&pool).await?;
        let restore = {
            let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
            let recorded = store::recorded(&mut conn, audit_id).await?;
            if let Some(by) = recorded.reverted_by {
                return Err(CommandError::Refused(format!(
                    "audit entry {audit_id} was already reverted by entry {by}"
                )));
            }
            let live = tsdb::policy::live::read(&mut conn, &capabilities).await?;
            let name = recorded
                .name
                .resolve(&live)
                .map_err(CommandError::Refused)?;
            let kind = if live.cagg(&name).is_some() {
                tsdb::policy::desired::ObjectKind::Aggregate
            } else {
                tsdb::policy::desired::ObjectKind::Hypertable
            };
            println!(
                "reverting audit entry {audit_id} on {name}: restores {}",
                describe_edit(&recorded.edit_before)
            );
            Restore {
                name,
                kind,
                edit: recorded.edit_before,
                live_before: recorded.live_before,
                revert_of: audit_id,
                source,
            }
        };
        confirm_and_apply(
            &pool,
            &capabilities,
            &Intent::Restore(Box::new(restore)),
            args,
            Trigger::Revert,
        )
        .await
    }
    .await;
    pool.close().await;
    result
}

/// A saved edit in words.
fn describe_edit(edit: &tsdb::policy::PolicyEdit) -> String {
    let managed = match edit.managed {
        None => "managed: follow the configuration".to_string(),
        Some(true) => "managed: yes".to_string(),
        Some(false) => "managed: no".to_string(),
    };
    let keys: Vec<String> = edit
        .overrides
        .describe()
        .into_iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if keys.is_empty() {
        managed
    } else {
        format!("{managed}; {}", keys.join(", "))
    }
}
