//! Policy changes as tests make them: saved with the live state recorded (as the console
//! saves them), and applied with every hazard the plan has confirmed, for tests that are
//! not about the data-loss guard.

use crate::audit::Actor;
use crate::capabilities::Capabilities;
use crate::policy::apply::{self, Applied, ApplyReport, Intent, Request, Trigger};
use crate::policy::desired::{ObjectKind, PolicySource};
use crate::policy::guard::Confirmations;
use crate::policy::hazards;
use crate::policy::store::{self, RecordedLive, SaveContext};
use crate::policy::{HypertableName, PolicyEdit};
use sqlx::PgPool;

/// Saves `edit` for `name` with the live state before it, as the console does.
pub async fn save(pool: &PgPool, name: &HypertableName, edit: &PolicyEdit) -> i64 {
    let capabilities = Capabilities::probe(pool).await.expect("probe");
    let mut conn = pool.acquire().await.expect("a connection");
    let live = crate::policy::live::read(&mut conn, &capabilities)
        .await
        .expect("live state");
    let kind = if live.cagg(name).is_some() {
        ObjectKind::Aggregate
    } else {
        ObjectKind::Hypertable
    };
    let before = RecordedLive::of(&live, name);
    store::save(
        &mut conn,
        &Actor::System,
        None,
        name,
        edit,
        &SaveContext {
            kind,
            live_before: before.as_ref(),
            adopted: Vec::new(),
            revert_of: None,
        },
    )
    .await
    .expect("save the edit")
}

/// Every hazard of `intent`'s current plan, confirmed.
pub async fn confirm_everything(pool: &PgPool, intent: &Intent<'_>) -> (String, Confirmations) {
    let capabilities = Capabilities::probe(pool).await.expect("probe");
    let mut conn = pool.acquire().await.expect("a connection");
    let (live, plan) = apply::plan_intent(&mut conn, &capabilities, intent)
        .await
        .expect("plan");
    let hazards = hazards::assess(&mut conn, &capabilities, &live, &plan)
        .await
        .expect("hazards");
    (
        plan.fingerprint(),
        Confirmations {
            typed_names: hazards.iter().map(|h| h.relation.to_string()).collect(),
            accept_aggregate_loss: true,
        },
    )
}

/// Applies `intent` with `confirmations` and the fingerprint `expected`.
pub async fn apply_with(
    pool: &PgPool,
    intent: &Intent<'_>,
    confirmations: Confirmations,
    expected: Option<String>,
) -> Applied {
    let capabilities = Capabilities::probe(pool).await.expect("probe");
    apply::apply(
        pool,
        &capabilities,
        intent,
        &Request {
            actor: &Actor::System,
            client_addr: None,
            trigger: Trigger::Console,
            expected,
            confirmations,
            hold_unconfirmed: false,
        },
    )
    .await
    .expect("apply")
}

/// Applies every managed relation's plan, its hazards confirmed; the report.
pub async fn apply_confirmed(pool: &PgPool, source: &PolicySource) -> ApplyReport {
    let intent = Intent::Reconcile { source, only: None };
    let (fingerprint, confirmations) = confirm_everything(pool, &intent).await;
    match apply_with(pool, &intent, confirmations, Some(fingerprint)).await {
        Applied::Done { report, .. } => report,
        other => panic!("the apply did not run: {other:?}"),
    }
}
