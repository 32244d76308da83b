//! What is wrong with the database and how to fix it: each finding with its severity, the
//! figures behind it and the fix, most urgent first; then every check that ran, so a clean
//! page says what was looked at.

use crate::components::error_panel::ErrorPanel;
use crate::components::live::use_snapshot_updates;
use crate::diagnostics::get_diagnostics;
use leptos::prelude::*;
use tsdb::diagnostics::{Check, Diagnosis, Finding, Severity};
use tsdb::types::format_time;

/// The diagnostics page, `/diagnostics`.
#[component]
pub fn DiagnosticsPage() -> impl IntoView {
    let updates = use_snapshot_updates();
    let data = Resource::new(move || updates.get(), |_| get_diagnostics());
    view! {
        <section class="panel" data-testid="diagnostics">
            <h1>"Diagnostics"</h1>
            <Transition fallback=|| view! { <p class="muted">"Looking at the database…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move { data.await.map(|d| view! { <Findings d/> }) })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// The badge class of a severity.
fn badge(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "badge bad",
        Severity::Warning => "badge warn",
        Severity::Info => "badge off",
    }
}

#[component]
fn Findings(d: Diagnosis) -> impl IntoView {
    let count = |s: Severity| d.findings.iter().filter(|f| f.severity == s).count();
    let summary = if d.findings.is_empty() && d.not_checked.is_empty() {
        "Nothing found: every check below passed.".to_string()
    } else if d.findings.is_empty() {
        "Nothing found, but some checks below could not look at everything on this server."
            .to_string()
    } else {
        format!(
            "{} critical, {} warning(s), {} for information.",
            count(Severity::Critical),
            count(Severity::Warning),
            count(Severity::Info)
        )
    };
    let checks = d
        .checks
        .iter()
        .map(|check| {
            let found = d.findings.iter().filter(|f| f.check == *check).count();
            let partly = d.not_checked.iter().find(|n| n.check == *check).map(|n| n.reason.clone());
            let (mark, class) = match (found, &partly) {
                (0, None) => ("✓", "ok-text"),
                (0, Some(_)) => ("–", "muted"),
                _ => ("✗", "error-text"),
            };
            view! {
                <li data-testid="check">
                    <span class=class>{mark}</span>" "{check.describe()}
                    {(found > 0).then(|| view! { <span class="muted small">{format!(" ({found})")}</span> })}
                    {partly.map(|reason| view! {
                        <span class="muted small" data-testid="not-checked">{format!(" Not fully checked: {reason}.")}</span>
                    })}
                </li>
            }
        })
        .collect_view();
    let findings = d
        .findings
        .iter()
        .cloned()
        .map(|f| view! { <FindingCard f/> })
        .collect_view();
    view! {
        <p class="lead" data-testid="diagnostics-summary">{summary}</p>
        <p class="muted small">{format!("Figures from {}.", format_time(&d.taken_at))}</p>
        <div data-testid="findings">{findings}</div>
        <h2>"Checks"</h2>
        <ul class="plain">{checks}</ul>
    }
}

/// Where a finding's subject is shown in the console.
fn subject_href(f: &Finding) -> Option<String> {
    let subject = f.subject.as_deref()?;
    if let Some(id) = subject.strip_prefix("job ") {
        return Some(format!("/jobs/{id}"));
    }
    if matches!(f.check, Check::CaggLag | Check::RetentionOutrunsCagg) {
        return None;
    }
    let (schema, name) = tsdb::ident::parse_display_name(subject).ok()?;
    // Tiny batches are a matter for the compression advisor.
    let page = if f.check == Check::TinyBatches {
        "/advisor"
    } else {
        ""
    };
    Some(format!(
        "{}{page}",
        crate::url::hypertable_page(&schema, &name)
    ))
}

#[component]
fn FindingCard(f: Finding) -> impl IntoView {
    let href = subject_href(&f);
    view! {
        <article class="finding" data-testid="finding" data-check=format!("{:?}", f.check)>
            <h3>
                <span class=badge(f.severity)>{f.severity.as_str()}</span>" "{f.title.clone()}
            </h3>
            <p>{f.explanation.clone()}</p>
            <p><strong>"Fix: "</strong>{f.fix.clone()}</p>
            {href.map(|h| {
                let label = if f.check == Check::TinyBatches {
                    format!("Ask the compression advisor about {}", f.subject.clone().unwrap_or_default())
                } else {
                    format!("Open {}", f.subject.clone().unwrap_or_default())
                };
                view! { <p class="small"><a href=h>{label}</a></p> }
            })}
        </article>
    }
}
