//! One hypertable's (or continuous aggregate's) policy: live vs desired with where each
//! desired value comes from, drift, the steps planned; for admins the form with a preview
//! (validation next to each field, the dry-run, the steps and what they would lose), a
//! save that asks for the name when data would be lost, and apply of its steps. A
//! relation not managed yet shows what taking it under management keeps: its live state.

use super::policies::{age, job_after, ApplyOutcomeView};
use crate::components::confirm_loss::ConfirmLoss;
use crate::components::error_panel::ErrorPanel;
use crate::policies::{
    get_policy, ApplyPolicy, FieldSource, PolicyDetail, Preview, PreviewPolicy, SaveOutcome,
    SavePolicy,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use tsdb::policy::desired::ObjectKind;
use tsdb::policy::dry_run::DryRun;
use tsdb::policy::guard::Confirmations;
use tsdb::policy::plan::fingerprint;
use tsdb::policy::validate::{FieldError, PolicyForm};
use tsdb::policy::{Columns, CompressAfter, RefreshList, Retention, TimeKind};
use tsdb::types::format_bytes;

/// The policy page of one relation.
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
    let apply = ServerAction::<ApplyPolicy>::new();
    // What the admin typed survives the reload after a save: "Apply now" sends it again.
    let confirm = RwSignal::new(Confirmations::default());
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
                {move || Suspend::new(async move { detail.await.map(|d| view! { <PolicyBody d save apply confirm/> }) })}
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
fn DryRunView(dry: DryRun, aggregate: bool) -> impl IntoView {
    view! {
        <div class="dry-run" data-testid="dry-run">
            {match dry.retention {
                None => view! { <p>"Retention: none is applied: nothing is dropped."</p> }.into_any(),
                Some(r) => {
                    let anyway = r.chunks.len() - r.new_chunks;
                    let current = match (&r.current, anyway) {
                        (None, _) => " There is no retention now: all of them are dropped because of this change.".to_string(),
                        (Some(current), 0) => format!(" The current retention ({current}) would drop none of them."),
                        (Some(current), n) => format!(" The current retention ({current}) would drop {n} of them at its next run anyway; this change adds {}.", r.new_chunks),
                    };
                    view! {
                        <div data-testid="retention-dry-run">
                            <p><strong>{format!("Retention {}: {} chunk(s) dropped at the next run, {}, about {} rows.", r.drop_after, r.chunks.len(), format_bytes(r.total_bytes), r.total_rows)}</strong>{current}</p>
                            {(!r.chunks.is_empty()).then(|| view! {
                                <div class="table-scroll">
                                <table class="data compact">
                                    <thead><tr><th>"Chunk"</th><th>"From"</th><th>"To"</th><th class="num">"Bytes"</th><th class="num">"Rows"</th><th>"Now"</th></tr></thead>
                                    <tbody>{r.chunks.iter().take(50).map(|c| view! { <tr>
                                        <td class="name">{c.chunk.clone()}</td>
                                        <td>{c.range_start.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}</td>
                                        <td>{c.range_end.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()}</td>
                                        <td class="num">{format_bytes(c.bytes)}</td><td class="num">{c.rows}</td>
                                        <td class="small">{if c.dropped_anyway { "dropped anyway" } else { "kept today" }}</td>
                                    </tr> }).collect_view()}</tbody>
                                </table>
                                </div>
                            })}
                        </div>
                    }.into_any()
                }
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
            {(!aggregate).then(|| {
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
            })}
        </div>
    }
}

/// A desired segment-by or order-by: the items, or that TimescaleDB chooses.
fn chosen(items: &[String]) -> String {
    if items.is_empty() {
        "TimescaleDB chooses".to_string()
    } else {
        items.join(", ")
    }
}

/// The source of `field`'s desired value, in words.
fn source_of(sources: &[FieldSource], field: &str) -> String {
    sources
        .iter()
        .find(|s| s.field == field)
        .map(|s| format!(" ({})", s.from.word()))
        .unwrap_or_default()
}

#[component]
fn PolicyBody(
    d: PolicyDetail,
    save: ServerAction<SavePolicy>,
    apply: ServerAction<ApplyPolicy>,
    confirm: RwSignal<Confirmations>,
) -> impl IntoView {
    let t = d.table.clone();
    let live = t.live.clone();
    let desired = t.desired.clone();
    let kind = t.kind;
    let aggregate = kind == ObjectKind::Aggregate;
    let schema = t.name.schema.clone();
    let table = t.name.table.clone();
    let name = t.name.to_string();
    let managed = t.managed.is_managed();
    let integer = live.time_kind == TimeKind::Integer;
    // Interval defaults mean nothing on an integer-time table: say what to enter.
    let interval_desired = desired.time_kind() == TimeKind::Time;
    let shown_desired = move |text: String| {
        if integer && !managed && interval_desired {
            "— (enter a whole number)".to_string()
        } else {
            text
        }
    };
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
    let apply_confirm = RwSignal::new(Confirmations::default());
    let errors = move || -> Vec<FieldError> {
        match (preview.value().get(), save.value().get()) {
            (_, Some(Ok(SaveOutcome::Invalid(e)))) => e,
            (Some(Ok(Preview::Invalid(e))), _) => e,
            _ => Vec::new(),
        }
    };
    let base = d.base.clone();
    let sources = d.sources.clone();
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
    // A placeholder says what an empty field means: the live value kept, or the base.
    let adoption = d.adoption.clone();
    let placeholder = move |field: &str, base_text: String| -> String {
        let kept = adoption
            .as_ref()
            .and_then(|a| {
                a.overrides
                    .describe()
                    .into_iter()
                    .find(|(k, _)| *k == field)
            })
            .map(|(_, v)| v);
        match kept {
            Some(value) => format!("keeps live: {value}"),
            None if integer && !managed && base_text.chars().any(|c| c.is_ascii_alphabetic()) => {
                "a whole number in the column's unit".to_string()
            }
            None => base_text,
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
            confirm: confirm.get_untracked(),
        });
    };
    let planned_fingerprint = fingerprint(&d.steps);
    let (s3, t3) = (schema.clone(), table.clone());
    let do_apply = move |steps_fingerprint: String| {
        apply.dispatch(ApplyPolicy {
            schema: s3.clone(),
            table: t3.clone(),
            fingerprint: Some(steps_fingerprint),
            confirm: apply_confirm.get_untracked(),
        });
    };
    let do_apply_saved = do_apply.clone();
    let columns = live.columns.join(", ");
    let editable = d.editable;
    let refresh_rows = d
        .aggregate
        .as_ref()
        .map(|c| c.refresh.clone())
        .unwrap_or_default();
    let source_line = d.aggregate.as_ref().map(|c| {
        format!(
            "Aggregates {} {}.",
            if c.source_is_aggregate {
                "the continuous aggregate"
            } else {
                "the hypertable"
            },
            c.source
        )
    });
    let hazards = d.hazards.clone();
    let live_schedule = |job: Option<&tsdb::policy::live::LiveJob>| {
        job.map(|j| j.schedule.human())
            .unwrap_or_else(|| "—".into())
    };
    view! {
        <section class="panel">
            <div class="title-row">
                <h1 data-testid="policy-name">{name.clone()}</h1>
                <span class="badge">{kind.word()}</span>
                <span class=if managed { "badge on" } else { "badge off" }>{t.managed.describe()}</span>
            </div>
            <p class="muted">{format!("Partitioned by {} ({}). ", live.time_column, live.time_type)}
                {source_line}
                {(!aggregate).then(|| view! { <a href=crate::url::hypertable_page(&schema, &table)>"Chunks and jobs"</a> })}</p>
            {(!managed).then(|| view! {
                <p class="notice" data-testid="adoption">{if aggregate {
                    "Not managed: the console leaves it alone. Managing it keeps its live refresh, compression and retention until you change them here."
                } else {
                    "Not managed: the console leaves it alone. Managing it keeps every live value (the Desired column) until you change one here; choose \"configured defaults\" below to take those instead."
                }}</p>
            })}
            <div class="table-scroll">
            <table class="data" data-testid="live-vs-desired">
                <thead><tr><th>"Setting"</th><th>"Live"</th><th>"Desired (from)"</th></tr></thead>
                <tbody>
                    <tr><td>"Compression"</td><td>{if live.compression_enabled { "on" } else { "off" }}</td><td>{format!("{}{}", if desired.compression_enabled { "on" } else { "off" }, source_of(&sources, "compression_enabled"))}</td></tr>
                    <tr><td>"Compress after"</td><td>{job_after(live.compression_policy.as_ref())}</td><td>{shown_desired(format!("{}{}", CompressAfter(desired.compression_after), source_of(&sources, "compression_after")))}</td></tr>
                    <tr><td>"Compression job runs every"</td><td>{live_schedule(live.compression_policy.as_ref())}</td><td>{format!("{}{}", desired.compression_every(), source_of(&sources, "compression_schedule"))}</td></tr>
                    <tr><td>"Retention"</td><td data-testid="live-retention">{job_after(live.retention_policy.as_ref())}</td><td>{shown_desired(format!("{}{}", Retention(desired.retention), source_of(&sources, "retention")))}</td></tr>
                    <tr><td>"Retention job runs every"</td><td>{live_schedule(live.retention_policy.as_ref())}</td><td>{format!("{}{}", desired.retention_every(), source_of(&sources, "retention_schedule"))}</td></tr>
                    {(!aggregate).then(|| view! {
                        <tr><td>"Chunk interval"</td><td>{age(live.chunk_interval.as_ref())}</td><td>{shown_desired(format!("{}{}", desired.chunk_time_interval, source_of(&sources, "chunk_time_interval")))}</td></tr>
                        <tr><td>"Segment by"</td><td>{Columns(&live.segment_by).to_string()}</td><td>{format!("{}{}", chosen(&desired.segment_by), source_of(&sources, "segment_by"))}</td></tr>
                        <tr><td>"Order by"</td><td>{Columns(&live.order_by).to_string()}</td><td>{format!("{}{}", chosen(&desired.order_by), source_of(&sources, "order_by"))}</td></tr>
                    })}
                    {aggregate.then(|| view! {
                        <tr><td>"Refresh"</td><td data-testid="live-refresh">{if refresh_rows.is_empty() { "no refresh policy".to_string() } else {
                            refresh_rows.iter().map(|r| format!("{} to {} every {}{}",
                                r.start_offset.as_ref().map_or_else(|| "the beginning".to_string(), |o| format!("{} ago", o.human())),
                                r.end_offset.as_ref().map_or_else(|| "now".to_string(), |o| format!("{} ago", o.human())),
                                r.schedule.human(),
                                if r.scheduled { "" } else { " (paused)" })).collect::<Vec<_>>().join("; ")
                        }}</td><td>{format!("{}{}", desired.refresh.as_deref().map(|r| RefreshList(r).to_string()).unwrap_or_else(|| "as it is".into()), source_of(&sources, "refresh"))}</td></tr>
                    })}
                    <tr><td>"Compressed chunks"</td><td>{live.compressed_chunks}</td><td></td></tr>
                </tbody>
            </table>
            </div>
            {t.drift.iter().map(|line| view! { <p class="notice warn" data-testid="drift">{line.clone()}</p> }).collect_view()}
            {t.notes.iter().map(|line| view! { <p class="notice">{line.clone()}</p> }).collect_view()}
            {d.adoption.as_ref().map(|a| a.notes.iter().map(|line| view! { <p class="notice warn">{line.clone()}</p> }).collect_view())}
            {t.refused.iter().map(|line| view! { <p class="notice bad">{line.clone()}</p> }).collect_view()}
            {(!d.steps.is_empty()).then(|| view! {
                <h2>"Planned steps"</h2>
                <ol class="steps">{d.steps.iter().map(|s| view! { <li data-testid="table-step">{s.summary.clone()}<pre class="sql">{s.statement.display()}</pre></li> }).collect_view()}</ol>
                {editable.then(|| view! {
                    <ConfirmLoss hazards=hazards.clone() confirm=apply_confirm/>
                    <button type="button" data-testid="apply-table" disabled=move || apply.pending().get()
                        on:click={
                            let go = do_apply.clone();
                            let planned = planned_fingerprint.clone();
                            move |_| go(planned.clone())
                        }>
                        {move || if apply.pending().get() { "Applying…" } else { "Apply these steps" }}
                    </button>
                })}
            })}
        </section>
        <section class="panel" data-testid="policy-form">
            <h2>"Change the policy"</h2>
            {if !editable {
                view! { <p class="muted" data-testid="read-only">"This policy is read-only for you: only admins change policies."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Empty fields keep what the Desired column shows. Preview shows what the change would do before anything is saved."</p>
                    {from_advisor.then(|| view! {
                        <p class="notice warn" data-testid="from-advisor">"Segment by and order by are prefilled from the compression advisor: preview, save, then apply the plan."</p>
                    })}
                    {integer.then(|| view! {
                        <p class="notice" data-testid="integer-time">{format!("{} is partitioned by an integer column ({}): ages and chunk intervals are whole numbers in that column's own unit, such as 300000.", name.clone(), live.time_type)}</p>
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
                        {(!managed).then(|| view! {
                            <label class="field"><span>"Fields left empty"</span>
                                <select name="adopt" prop:value=move || form.get().adopt
                                    on:change=move |ev| form.update(|f| f.adopt = event_target_value(&ev))>
                                    <option value="">"keep the live values"</option>
                                    <option value="defaults">"take the configured defaults"</option>
                                </select>
                                {move || field_error(&errors(), "adopt").map(|m| view! { <span class="field-error">{m}</span> })}
                            </label>
                        })}
                        <label class="field"><span>"Compression"</span>
                            <select name="compression_enabled" prop:value=move || form.get().compression_enabled
                                on:change=move |ev| form.update(|f| f.compression_enabled = event_target_value(&ev))>
                                <option value="">{format!("as desired ({})", if desired.compression_enabled { "on" } else { "off" })}</option>
                                <option value="true">"on"</option>
                                <option value="false">"off"</option>
                            </select>
                            {move || field_error(&errors(), "compression_enabled").map(|m| view! { <span class="field-error">{m}</span> })}
                        </label>
                        {text_field("compression_after", "Compress after (or none)", placeholder("compression_after", CompressAfter(base.compression_after).to_string()), |f| f.compression_after.clone(), |f, v| f.compression_after = v)}
                        {text_field("retention", "Retention (or none)", placeholder("retention_policy", Retention(base.retention).to_string()), |f| f.retention.clone(), |f, v| f.retention = v)}
                        {(!aggregate).then(|| view! {
                            {text_field("chunk_time_interval", "Chunk interval", placeholder("chunk_time_interval", base.chunk_time_interval.to_string()), |f| f.chunk_time_interval.clone(), |f, v| f.chunk_time_interval = v)}
                            {text_field("segment_by", "Segment by", placeholder("segment_by", Columns(&base.segment_by).to_string()), |f| f.segment_by.clone(), |f, v| f.segment_by = v)}
                            {text_field("order_by", "Order by", placeholder("order_by", Columns(&base.order_by).to_string()), |f| f.order_by.clone(), |f, v| f.order_by = v)}
                        })}
                        {aggregate.then(|| view! {
                            {text_field("refresh", "Refresh windows (START to END every SCHEDULE; several separated by ;)", placeholder("refresh", "as it is".into()), |f| f.refresh.clone(), |f, v| f.refresh = v)}
                        })}
                        {text_field("schedule_interval", "Jobs run every (both, unless set below)", base.schedule_interval.to_string(), |f| f.schedule_interval.clone(), |f, v| f.schedule_interval = v)}
                        {text_field("compression_schedule", "Compression job runs every", placeholder("compression_schedule", "as above".into()), |f| f.compression_schedule.clone(), |f, v| f.compression_schedule = v)}
                        {text_field("retention_schedule", "Retention job runs every", placeholder("retention_schedule", "as above".into()), |f| f.retention_schedule.clone(), |f, v| f.retention_schedule = v)}
                    </div>
                    <p class="muted small">{format!("Columns: {columns}")}</p>
                    <button type="button" data-testid="preview" disabled=move || preview.pending().get() on:click=do_preview>
                        {move || if preview.pending().get() { "Computing…" } else { "Preview" }}
                    </button>
                    {move || match preview.value().get() {
                        Some(Ok(Preview::Effect { dry_run, steps, hazards, notes, .. })) => view! {
                            <div class="preview" data-testid="preview-result">
                                <DryRunView dry=*dry_run aggregate/>
                                {notes.into_iter().map(|n| view! { <p class="notice warn">{n}</p> }).collect_view()}
                                <h2>{if steps.is_empty() { "No step needed".to_string() } else { format!("{} step(s) after saving", steps.len()) }}</h2>
                                <ol class="steps">{steps.into_iter().map(|s| view! { <li>{s.summary}<pre class="sql">{s.statement.display()}</pre></li> }).collect_view()}</ol>
                                <ConfirmLoss hazards confirm/>
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
                        Some(Ok(SaveOutcome::Saved { audit_id, steps })) => {
                            let steps_fingerprint = fingerprint(&steps);
                            let go = do_apply_saved.clone();
                            view! {
                                <div class="notice ok" role="status" data-testid="saved">
                                    {format!("Saved (audit entry {audit_id}). {}", if steps.is_empty() { "Live already matches.".to_string() } else { format!("{} step(s) to apply.", steps.len()) })}
                                    {(!steps.is_empty()).then(|| view! {
                                        <button type="button" data-testid="apply" disabled=move || apply.pending().get()
                                            on:click=move |_| {
                                                apply_confirm.set(confirm.get_untracked());
                                                go(steps_fingerprint.clone());
                                            }>
                                            {move || if apply.pending().get() { "Applying…" } else { "Apply now" }}
                                        </button>
                                    })}
                                </div>
                            }.into_any()
                        }
                        Some(Ok(SaveOutcome::NeedsConfirmation { message, .. })) => view! { <p class="notice bad" role="alert" data-testid="needs-confirmation">{message}</p> }.into_any(),
                        Some(Ok(SaveOutcome::Invalid(_))) => view! { <p class="notice bad" role="alert">"Some fields are not accepted: see the messages next to them. Nothing was saved."</p> }.into_any(),
                        Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                    {move || match apply.value().get() {
                        Some(Ok(outcome)) => view! { <ApplyOutcomeView outcome/> }.into_any(),
                        Some(Err(error)) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                }.into_any()
            }}
        </section>
    }
}
