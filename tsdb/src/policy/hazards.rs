//! What a plan would lose, read from the database: the dry-runs behind each step turned into
//! the hazards the guard rules name ([`super::guard`] holds the rules, pure).

use super::guard::{refresh_losses, shorter_retention, Hazard, Loss};
use super::live::LiveState;
use super::target::{JobAge, Target};
use super::HypertableName;
use crate::capabilities::Capabilities;
use crate::policy::desired::ObjectKind;
use crate::policy::dry_run;
use crate::policy::plan::Plan;
use crate::Result;
use sqlx::PgConnection;

/// The hazards of `target` on one relation: chunks dropped beyond what the current
/// retention drops, and aggregates losing rows.
pub async fn assess_relation(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    live: &LiveState,
    name: &HypertableName,
    kind: ObjectKind,
    target: &Target,
) -> Result<Vec<Hazard>> {
    let Some(relation) = live.relation(name) else {
        return Ok(Vec::new());
    };
    let mut hazards = Vec::new();
    let current = relation
        .retention_policy
        .as_ref()
        .and_then(|j| j.after.as_ref());
    if let Some(Some(job)) = target.retention_policy {
        let changed = match job.age {
            JobAge::After(_) => shorter_retention(target, current).is_some(),
            // A creation-time retention cannot be compared by age: always checked.
            JobAge::CreatedBefore(_) => true,
        };
        if changed {
            let dry = dry_run::retention(conn, capabilities, live, name, job.age).await?;
            if dry.new_chunks > 0 {
                let new: Vec<&dry_run::DroppedChunk> =
                    dry.chunks.iter().filter(|c| !c.dropped_anyway).collect();
                hazards.push(Hazard {
                    relation: name.clone(),
                    loss: Loss::Chunks {
                        count: new.len(),
                        bytes: new.iter().map(|c| c.bytes).sum(),
                        rows: new.iter().map(|c| c.rows).sum(),
                        drop_after: dry.drop_after.clone(),
                    },
                });
            }
            hazards.extend(dry.hazards);
        }
    }
    if kind == ObjectKind::Aggregate {
        if let (Some(wanted), Some(cagg)) = (&target.refresh, live.cagg(name)) {
            hazards.extend(refresh_losses(live, cagg, wanted));
        }
    }
    Ok(hazards)
}

/// The hazards of every relation whose planned steps may lose data.
pub async fn assess(
    conn: &mut PgConnection,
    capabilities: &Capabilities,
    live: &LiveState,
    plan: &Plan,
) -> Result<Vec<Hazard>> {
    let mut hazards = Vec::new();
    for table in &plan.tables {
        let risky = plan.steps_for(&table.name).any(|s| s.kind.may_lose_data());
        let Some(target) = table.target.as_ref().filter(|_| risky) else {
            continue;
        };
        hazards.extend(
            assess_relation(
                &mut *conn,
                capabilities,
                live,
                &table.name,
                table.kind,
                target,
            )
            .await?,
        );
    }
    Ok(hazards)
}
