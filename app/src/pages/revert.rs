//! Reverting a policy change from the audit trail (admins): the setting it restores, the
//! steps back to the live state before the change, the dry-run of a retention it puts
//! back, and what would be lost, confirmed like any other change before anything runs.

use super::policies::ApplyOutcomeView;
use crate::components::confirm_loss::ConfirmLoss;
use crate::components::error_panel::ErrorPanel;
use crate::components::user_menu::RequireRole;
use crate::policies::{preview_revert, RevertPolicy, RevertPreview};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use tsdb::policy::guard::Confirmations;
use tsdb::types::{format_bytes, Role};

/// The revert page of one audit entry.
#[component]
pub fn RevertPage() -> impl IntoView {
    view! {
        <RequireRole role=Role::Admin>
            <RevertBody/>
        </RequireRole>
    }
}

#[component]
fn RevertBody() -> impl IntoView {
    let params = use_params_map();
    let revert = ServerAction::<RevertPolicy>::new();
    let id = move || params.read().get("id").unwrap_or_default();
    let preview = Resource::new(
        move || (id(), revert.version().get()),
        |(id, _)| async move {
            let audit_id = tsdb::types::parse_id("audit entry", &id)
                .map_err(crate::error::AppError::Invalid)?;
            preview_revert(audit_id).await
        },
    );
    view! {
        <section class="panel">
            <h1>"Revert a policy change"</h1>
            <p><a href="/admin/audit?action=policy.">"← Policy changes in the audit trail"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Working out the way back…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move { preview.await.map(|p| view! { <RevertView p revert/> }) })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn RevertView(p: RevertPreview, revert: ServerAction<RevertPolicy>) -> impl IntoView {
    let confirm = RwSignal::new(Confirmations::default());
    let audit_id = p.audit_id;
    let fingerprint = p.fingerprint.clone();
    let restores = p.restores.clone();
    let managed = match restores.managed.as_str() {
        "yes" => "managed in the console",
        "no" => "not managed",
        _ => "as the configuration says (patterns and the file)",
    };
    let setting: Vec<(&str, String)> = [
        ("Managed", managed.to_string()),
        ("Compression", restores.compression_enabled.clone()),
        ("Compress after", restores.compression_after.clone()),
        ("Retention", restores.retention.clone()),
        ("Chunk interval", restores.chunk_time_interval.clone()),
        ("Segment by", restores.segment_by.clone()),
        ("Order by", restores.order_by.clone()),
        ("Refresh", restores.refresh.clone()),
        ("Jobs run every", restores.schedule_interval.clone()),
        (
            "Compression job runs every",
            restores.compression_schedule.clone(),
        ),
        (
            "Retention job runs every",
            restores.retention_schedule.clone(),
        ),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let steps = p.steps.clone();
    let nothing = steps.is_empty();
    view! {
        <p data-testid="revert-of">{format!("Audit entry {audit_id} changed the policy of the {} {}.", p.kind.word(), p.relation)}</p>
        {p.reverted_by.map(|by| view! {
            <p class="notice warn" role="status" data-testid="already-reverted">{format!("Entry {audit_id} was already reverted by entry {by}: reverting it again is refused.")}</p>
        })}
        <h2>"The setting it restores"</h2>
        <ul data-testid="restores">
            {if setting.len() == 1 { view! { <li>{format!("Managed: {managed}; every setting from the defaults and the configuration file")}</li> }.into_any() } else {
                setting.into_iter().map(|(label, value)| view! { <li>{format!("{label}: {value}")}</li> }).collect_view().into_any()
            }}
        </ul>
        <h2>{if nothing { "Live already is as it was before the change".to_string() } else { format!("The way back: {} step(s)", steps.len()) }}</h2>
        {p.table.drift.iter().map(|line| view! { <p class="notice warn" data-testid="drift">{line.clone()}</p> }).collect_view()}
        {p.table.notes.iter().map(|line| view! { <p class="notice">{line.clone()}</p> }).collect_view()}
        {p.table.refused.iter().map(|line| view! { <p class="notice bad">{line.clone()}</p> }).collect_view()}
        <ol class="steps">{steps.into_iter().map(|s| view! { <li data-testid="revert-step">{s.summary}<pre class="sql">{s.statement.display()}</pre></li> }).collect_view()}</ol>
        {p.retention.map(|r| view! {
            <p data-testid="retention-dry-run"><strong>{format!(
                "The retention it puts back ({}) drops {} chunk(s) at its next run, {}, about {} rows; {} of them are dropped only because of this revert.",
                r.drop_after, r.chunks.len(), format_bytes(r.total_bytes), r.total_rows, r.new_chunks
            )}</strong></p>
        })}
        <ConfirmLoss hazards=p.hazards.clone() confirm/>
        {p.reverted_by.is_none().then(|| view! {
            <button type="button" data-testid="confirm-revert" disabled=move || revert.pending().get()
                on:click=move |_| {
                    revert.dispatch(RevertPolicy {
                        audit_id,
                        fingerprint: fingerprint.clone(),
                        confirm: confirm.get_untracked(),
                    });
                }>
                {move || if revert.pending().get() { "Reverting…" } else { "Revert" }}
            </button>
        })}
        {move || match revert.value().get() {
            Some(Ok(outcome)) => view! { <ApplyOutcomeView outcome/> }.into_any(),
            Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
            None => ().into_any(),
        }}
    }
}
