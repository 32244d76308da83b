//! One hypertable's policy: live vs desired, drift, the steps planned; for admins the form
//! with a preview (validation next to each field, the dry-run, the steps), a save that asks
//! for the table's name when it drops data, and apply with its step-by-step result.

use super::policies::{age, job_after, ApplyResults};
use crate::components::error_panel::ErrorPanel;
use crate::policies::{
    get_policy, ApplyPolicies, PolicyDetail, Preview, PreviewPolicy, SaveOutcome, SavePolicy,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use tsdb::policy::dry_run::DryRun;
use tsdb::policy::validate::{FieldError, PolicyForm};
use tsdb::policy::{Columns, Retention};
use tsdb::types::format_bytes;

/// The policy page of one hypertable.
#[component]
pub fn PolicyPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("schema").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let save = ServerAction::<SavePolicy>::new();
    let apply = ServerAction::<ApplyPolicies>::new();
    // Reloaded when something was saved or applied, not when a save only asked for a
    // confirmation: the form and its preview must survive that.
    let saved = move || match save.value().get() {
        Some(Ok(SaveOutcome::Saved { audit_id, .. })) => Some(audit_id),
        _ => None,
    };
    let detail = Resource::new(
        move || (key(), saved(), apply.version().get()),
        |((schema, table), _, _)| get_policy(schema, table),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the policy…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                {move || Suspend::new(async move { detail.await.map(|d| view! { <PolicyBody d save apply/> }) })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The error of `field`, if any.
fn field_error(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

#[component]
fn DryRunView(dry: DryRun) -> impl IntoView {
    view! {
        <div class="dry-run" data-testid="dry-run">
            {match dry.retention {
                None => view! { <p>"Retention: none: nothing is dropped."</p> }.into_any(),
                Some(r) => view! {
                    <div data-testid="retention-dry-run">
                        <p><strong>{format!("Retention {}: {} chunk(s) dropped at the next run, {}, about {} rows.", r.drop_after, r.chunks.len(), format_bytes(r.total_bytes), r.total_rows)}</strong></p>
                        {(!r.chunks.is_empty()).then(|| view! {
                            <table class="data compact">
                                <thead><tr><th>"Chunk"</th><th>"From"</th><th>"To"</th><th class="num">"Bytes"</th><th class="num">"Rows"</th></tr></thead>
                                <tbody>{r.chunks.iter().take(50).map(|c| view! { <tr>
                                    <td class="name">{c.chunk.clone()}</td>
                                    <td>{c.range_start.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}</td>
                                    <td>{c.range_end.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}</td>
                                    <td class="num">{format_bytes(c.bytes)}</td><td class="num">{c.rows}</td>
                                </tr> }).collect_view()}</tbody>
                            </table>
                        })}
                        {r.cagg_risks.iter().map(|risk| view! {
                            <p class="notice bad" data-testid="cagg-risk"><strong>{risk.cagg.clone()}</strong>": "{risk.reason.clone()}</p>
                        }).collect_view()}
                    </div>
                }.into_any(),
            }}
            {dry.compression.map(|c| view! {
                <p>{format!(
                    "Compression: the next run compresses {} chunk(s) ({}){}.",
                    c.chunks,
                    format_bytes(c.bytes),
                    match (c.ratio, c.expected_saving_bytes) {
                        (Some(ratio), Some(saved)) => format!(", saving about {} at the measured {ratio:.1}×", format_bytes(saved)),
                        _ => ", no measured ratio yet".to_string(),
                    }
                )}</p>
            })}
            {
                let s = dry.chunk_interval;
                view! { <p>{match s.expected_chunk_bytes {
                    Some(bytes) => format!(
                        "Chunk interval: about {} per chunk at the current ingest rate{}; guidance: the chunk being written, with its indexes, should fit in a quarter of shared_buffers ({}).{}",
                        format_bytes(bytes),
                        s.chunks_per_month.map(|n| format!(", {n:.0} chunks a month")).unwrap_or_default(),
                        format_bytes(s.guidance_bytes),
                        if bytes > s.guidance_bytes { " This interval is too wide for that." } else { "" }
                    ),
                    None => format!("Chunk interval: no recent uncompressed chunks to measure the ingest rate; guidance: {} per chunk at most.", format_bytes(s.guidance_bytes)),
                }}</p> }
            }
        </div>
    }
}

#[component]
fn PolicyBody(
    d: PolicyDetail,
    save: ServerAction<SavePolicy>,
    apply: ServerAction<ApplyPolicies>,
) -> impl IntoView {
    let t = d.table.clone();
    let live = t.live.clone();
    let desired = t.desired.clone();
    let schema = t.name.schema.clone();
    let table = t.name.table.clone();
    let name = t.name.to_string();
    let preview = ServerAction::<PreviewPolicy>::new();
    // The compression advisor links here with its suggestion: prefill those fields.
    let suggested = use_query_map().with_untracked(|q| (q.get("segment_by"), q.get("order_by")));
    let from_advisor = suggested.0.is_some() || suggested.1.is_some();
    let mut initial = d.form.clone();
    if let Some(segment_by) = suggested.0 {
        initial.segment_by = segment_by;
    }
    if let Some(order_by) = suggested.1 {
        initial.order_by = order_by;
    }
    let form = RwSignal::new(initial);
    let confirm_name = RwSignal::new(String::new());
    let accept_risk = RwSignal::new(false);
    let errors = move || -> Vec<FieldError> {
        match (preview.value().get(), save.value().get()) {
            (_, Some(Ok(SaveOutcome::Invalid(e)))) => e,
            (Some(Ok(Preview::Invalid(e))), _) => e,
            _ => Vec::new(),
        }
    };
    let base = d.base.clone();
    let text_field = move |field: &'static str,
                           label: &'static str,
                           placeholder: String,
                           get: fn(&PolicyForm) -> String,
                           set: fn(&mut PolicyForm, String)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input name=field placeholder=placeholder prop:value=move || get(&form.get())
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))/>
                {move || field_error(&errors(), field).map(|m| view! { <span class="field-error" data-testid=format!("error-{field}")>{m}</span> })}
            </label>
        }
    };
    let (s1, t1) = (schema.clone(), table.clone());
    let do_preview = move |_| {
        preview.dispatch(PreviewPolicy {
            schema: s1.clone(),
            table: t1.clone(),
            form: form.get_untracked(),
        });
    };
    let (s2, t2) = (schema.clone(), table.clone());
    let do_save = move |_| {
        save.dispatch(SavePolicy {
            schema: s2.clone(),
            table: t2.clone(),
            form: form.get_untracked(),
            confirm_name: Some(confirm_name.get_untracked()),
            accept_cagg_risk: accept_risk.get_untracked().then(|| "yes".to_string()),
        });
    };
    let columns = live.columns.join(", ");
    let editable = d.editable;
    view! {
        <section class="panel">
            <div class="title-row">
                <h1 data-testid="policy-name">{name.clone()}</h1>
                <span class=if t.managed.is_managed() { "badge on" } else { "badge off" }>{t.managed.describe()}</span>
            </div>
            <p class="muted">{format!("Partitioned by {} ({}). ", live.time_column, live.time_type)}
                <a href=format!("/hypertables/{}/{}", crate::url::encode(&schema, false), crate::url::encode(&table, false))>"Chunks and jobs"</a></p>
            <table class="data" data-testid="live-vs-desired">
                <thead><tr><th>"Setting"</th><th>"Live"</th><th>"Desired"</th></tr></thead>
                <tbody>
                    <tr><td>"Compression"</td><td>{if live.compression_enabled { "on" } else { "off" }}</td><td>{if desired.compression_enabled { "on" } else { "off" }}</td></tr>
                    <tr><td>"Compress after"</td><td>{job_after(live.compression_policy.as_ref())}</td><td>{desired.compression_after.to_string()}</td></tr>
                    <tr><td>"Retention"</td><td data-testid="live-retention">{job_after(live.retention_policy.as_ref())}</td><td>{Retention(desired.retention).to_string()}</td></tr>
                    <tr><td>"Chunk interval"</td><td>{age(live.chunk_interval.as_ref())}</td><td>{desired.chunk_time_interval.to_string()}</td></tr>
                    <tr><td>"Segment by"</td><td>{Columns(&live.segment_by).to_string()}</td><td>{Columns(&desired.segment_by).to_string()}</td></tr>
                    <tr><td>"Order by"</td><td>{Columns(&live.order_by).to_string()}</td><td>{Columns(&desired.order_by).to_string()}</td></tr>
                    <tr><td>"Jobs run every"</td><td>{live.compression_policy.as_ref().or(live.retention_policy.as_ref()).map(|j| j.schedule.human()).unwrap_or_else(|| "—".into())}</td><td>{desired.schedule_interval.to_string()}</td></tr>
                    <tr><td>"Compressed chunks"</td><td>{live.compressed_chunks}</td><td></td></tr>
                </tbody>
            </table>
            {t.drift.iter().map(|line| view! { <p class="notice warn" data-testid="drift">{line.clone()}</p> }).collect_view()}
            {t.notes.iter().map(|line| view! { <p class="notice">{line.clone()}</p> }).collect_view()}
            {t.refused.iter().map(|line| view! { <p class="notice bad">{line.clone()}</p> }).collect_view()}
            {(!d.steps.is_empty()).then(|| view! {
                <h2>"Planned steps"</h2>
                <ol class="steps">{d.steps.iter().map(|s| view! { <li data-testid="table-step">{s.summary.clone()}<pre class="sql">{s.statement.display()}</pre></li> }).collect_view()}</ol>
            })}
        </section>
        <section class="panel" data-testid="policy-form">
            <h2>"Change the policy"</h2>
            {if !editable {
                view! { <p class="muted" data-testid="read-only">"This policy is read-only for you: only admins change policies."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Empty fields follow the configuration (shown greyed). Preview shows what the change would do before anything is saved."</p>
                    {from_advisor.then(|| view! {
                        <p class="notice warn" data-testid="from-advisor">"Segment by and order by are prefilled from the compression advisor: preview, save, then apply the plan."</p>
                    })}
                    <div class="form grid">
                        <label class="field"><span>"Managed"</span>
                            <select name="managed" prop:value=move || form.get().managed
                                on:change=move |ev| form.update(|f| f.managed = event_target_value(&ev))>
                                <option value="follow">"follow the configuration"</option>
                                <option value="yes">"yes: the console manages it"</option>
                                <option value="no">"no: leave it alone"</option>
                            </select>
                        </label>
                        <label class="field"><span>"Compression"</span>
                            <select name="compression_enabled" prop:value=move || form.get().compression_enabled
                                on:change=move |ev| form.update(|f| f.compression_enabled = event_target_value(&ev))>
                                <option value="">{format!("follow ({})", if base.compression_enabled { "on" } else { "off" })}</option>
                                <option value="true">"on"</option>
                                <option value="false">"off"</option>
                            </select>
                            {move || field_error(&errors(), "compression_enabled").map(|m| view! { <span class="field-error">{m}</span> })}
                        </label>
                        {text_field("compression_after", "Compress after", base.compression_after.to_string(), |f| f.compression_after.clone(), |f, v| f.compression_after = v)}
                        {text_field("retention", "Retention (or none)", Retention(base.retention).to_string(), |f| f.retention.clone(), |f, v| f.retention = v)}
                        {text_field("chunk_time_interval", "Chunk interval", base.chunk_time_interval.to_string(), |f| f.chunk_time_interval.clone(), |f, v| f.chunk_time_interval = v)}
                        {text_field("segment_by", "Segment by", Columns(&base.segment_by).to_string(), |f| f.segment_by.clone(), |f, v| f.segment_by = v)}
                        {text_field("order_by", "Order by", Columns(&base.order_by).to_string(), |f| f.order_by.clone(), |f, v| f.order_by = v)}
                        {text_field("schedule_interval", "Jobs run every", base.schedule_interval.to_string(), |f| f.schedule_interval.clone(), |f, v| f.schedule_interval = v)}
                    </div>
                    <p class="muted small">{format!("Columns: {columns}")}</p>
                    <button type="button" data-testid="preview" disabled=move || preview.pending().get() on:click=do_preview>
                        {move || if preview.pending().get() { "Computing…" } else { "Preview" }}
                    </button>
                    {move || match preview.value().get() {
                        Some(Ok(Preview::Effect { dry_run, steps, drops_data, .. })) => view! {
                            <div class="preview" data-testid="preview-result">
                                <DryRunView dry=*dry_run/>
                                <h2>{if steps.is_empty() { "No step needed".to_string() } else { format!("{} step(s) after saving", steps.len()) }}</h2>
                                <ol class="steps">{steps.into_iter().map(|s| view! { <li>{s.summary}<pre class="sql">{s.statement.display()}</pre></li> }).collect_view()}</ol>
                                {drops_data.then(|| view! {
                                    <label class="field confirm"><span>{format!("This drops data: type {} to confirm", name.clone())}</span>
                                        <input name="confirm_name" data-testid="confirm-name" prop:value=move || confirm_name.get()
                                            on:input=move |ev| confirm_name.set(event_target_value(&ev))/></label>
                                })}
                                <label class="checkbox"><input type="checkbox" prop:checked=move || accept_risk.get()
                                    on:change=move |ev| accept_risk.set(event_target_checked(&ev))/>
                                    " I accept that a continuous aggregate loses data it has not materialized (only when warned above)"</label>
                                <button type="button" data-testid="save" disabled=move || save.pending().get() on:click=do_save.clone()>
                                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                                </button>
                            </div>
                        }.into_any(),
                        Some(Ok(Preview::Invalid(_))) => view! { <p class="notice bad" role="alert">"Some fields are not accepted: see the messages next to them. Nothing was saved."</p> }.into_any(),
                        Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                    {move || match save.value().get() {
                        Some(Ok(SaveOutcome::Saved { audit_id, steps })) => view! {
                            <div class="notice ok" role="status" data-testid="saved">
                                {format!("Saved (audit entry {audit_id}). {}", if steps.is_empty() { "Live already matches.".to_string() } else { format!("{} step(s) to apply.", steps.len()) })}
                                <button type="button" data-testid="apply" disabled=move || apply.pending().get()
                                    on:click=move |_| { apply.dispatch(ApplyPolicies {}); }>
                                    {move || if apply.pending().get() { "Applying…" } else { "Apply now" }}
                                </button>
                            </div>
                        }.into_any(),
                        Some(Ok(SaveOutcome::NeedsConfirmation(why))) => view! { <p class="notice bad" role="alert" data-testid="needs-confirmation">{why}</p> }.into_any(),
                        Some(Ok(SaveOutcome::Invalid(_))) => view! { <p class="notice bad" role="alert">"Some fields are not accepted: see the messages next to them. Nothing was saved."</p> }.into_any(),
                        Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                    {move || match apply.value().get() {
                        Some(Ok(report)) => view! { <ApplyResults report/> }.into_any(),
                        Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                }.into_any()
            }}
        </section>
    }
}
