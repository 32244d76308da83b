//! Where the storage goes and where it is heading, for managers: bytes over time per
//! table (or compressed against uncompressed) with the seed's "< 1 GB/month" beside them,
//! each table's growth and compression against the seed's "> 70 %", a CSV of the chart;
//! then the forecast: the database's bytes to the horizon under the live policies, the day
//! the budget is reached, and what a policy change would buy.

use crate::charts::{storage_forecast, storage_trend};
use crate::components::chart_canvas::ChartCanvas;
use crate::components::error_panel::ErrorPanel;
use crate::components::live::use_snapshot_updates;
use crate::storage::{get_storage_outlook, get_storage_trends, TrendsView};
use crate::url::encode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tsdb::storage::outlook::{Outlook, TableOutlook, WhatIf};
use tsdb::storage::trends::{Growth, Range, View, SEED_BYTES_PER_MONTH, SEED_SAVING};
use tsdb::storage::RelationKind;
use tsdb::types::{format_bytes, format_time};

/// The storage page, `/storage`.
#[component]
pub fn StoragePage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        let q = query.get();
        (
            q.get("range").unwrap_or_default(),
            q.get("view").unwrap_or_default(),
            q.get("table").unwrap_or_default(),
        )
    });
    let trends = Resource::new(
        move || params.get(),
        |(range, view, table)| get_storage_trends(range, view, table),
    );
    let updates = use_snapshot_updates();
    let outlook = Resource::new(move || updates.get(), |_| get_storage_outlook());
    view! {
        <section class="panel" data-testid="storage-trends">
            <h1>"Storage"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading the storage history…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move { trends.await.map(|v| view! { <TrendsSection v/> }) })}
                </ErrorBoundary>
            </Suspense>
        </section>
        <section class="panel" data-testid="storage-forecast">
            <h2>"Forecast"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Computing the forecast…"</p> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorPanel errors/> }>
                    {move || Suspend::new(async move { outlook.await.map(|o| view! { <ForecastSection o/> }) })}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// `/storage` with these query values (empty ones left out).
fn link(range: Range, view: View, table: Option<&str>) -> String {
    let mut href = format!("/storage?range={}&view={}", range.as_str(), view.as_str());
    if let Some(table) = table {
        href.push_str("&table=");
        href.push_str(&encode(table, false));
    }
    href
}

/// Signed bytes: `+1.2 GiB`, `−30.0 MiB`.
fn signed_bytes(bytes: f64) -> String {
    let text = format_bytes(bytes.abs().round() as i64);
    if bytes < 0.0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

/// A share as a percentage with one decimal.
fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

#[component]
fn TrendsSection(v: TrendsView) -> impl IntoView {
    let t = v.trends;
    let range = t.range;
    let view_kind = t.view;
    let table = t.relation.clone();
    let chips = Range::ALL
        .into_iter()
        .map(|r| {
            let label = match r {
                Range::Week => "7 days",
                Range::Month => "30 days",
                Range::Quarter => "90 days",
                Range::All => "all",
            };
            let class = if r == range { "chip active" } else { "chip" };
            view! { <a class=class href=link(r, view_kind, table.as_deref()) data-testid=format!("range-{}", r.as_str())>{label}</a> }
        })
        .collect_view();
    let views = [(View::Tables, "by table"), (View::Compression, "compressed vs uncompressed")]
        .into_iter()
        .map(|(kind, label)| {
            let class = if kind == view_kind { "chip active" } else { "chip" };
            view! { <a class=class href=link(range, kind, table.as_deref()) data-testid=format!("view-{}", kind.as_str())>{label}</a> }
        })
        .collect_view();
    let csv = {
        let mut href = format!(
            "/api/v1/storage/trends/csv?range={}&view={}",
            range.as_str(),
            view_kind.as_str()
        );
        if let Some(table) = &table {
            href.push_str("&table=");
            href.push_str(&encode(table, false));
        }
        href
    };
    let every = if v.sample_seconds.is_multiple_of(3600) {
        format!("{} h", v.sample_seconds / 3600)
    } else {
        format!("{} min", v.sample_seconds / 60)
    };
    let options = t
        .relations
        .iter()
        .map(|r| {
            let selected = table.as_deref() == Some(r.as_str());
            view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
        })
        .collect_view();
    let empty = t.times.is_empty();
    let database_growth = t.database_growth.clone();
    let chart = (!empty).then(|| storage_trend::build(&t));
    let growth = t.growth.clone();
    view! {
        <p class="muted small freshness">
            {format!("A sample of every table and the database every {every}. ")}
            {t.generated.then(|| view! {
                <span data-testid="generated-note">"Part of this history was reconstructed from the demo's chunks (marked as generated in the data), not measured."</span>
            })}
        </p>
        <div class="chips" data-testid="ranges">{chips}</div>
        <div class="chips">{views}</div>
        <form method="get" action="/storage" class="form row filters">
            <input type="hidden" name="range" value=range.as_str()/>
            <input type="hidden" name="view" value=view_kind.as_str()/>
            <label>"Table"
                <select name="table" data-testid="table-choice">
                    <option value="">"all tables"</option>
                    {options}
                </select>
            </label>
            <button type="submit">"Show"</button>
            <a class="button secondary" href=csv download="" data-testid="csv">"Download CSV"</a>
        </form>
        {(t.times.len() == 1).then(|| view! {
            <p class="notice" data-testid="one-sample">{format!("One sample so far: the chart draws a line from the second one, {every} from now. Growth and the forecast need samples a day apart.")}</p>
        })}
        {match chart {
            Some(chart) => view! { <ChartCanvas id="storage-trend" height=340 chart/> }.into_any(),
            None => view! {
                <p class="empty" data-testid="no-samples">"No storage samples in this range yet. The sampler records one every "{every.clone()}"; choose a longer range or come back later."</p>
            }.into_any(),
        }}
        <DatabaseGrowth growth=database_growth/>
        <GrowthTable growth/>
    }
}

/// The database's growth against the seed's promise.
#[component]
fn DatabaseGrowth(growth: Option<Growth>) -> impl IntoView {
    growth.map(|g| {
        let month = g.over(30.0);
        let over = month.is_some_and(|m| m > SEED_BYTES_PER_MONTH);
        view! {
            <div class="totals" data-testid="database-growth">
                <div class="stat"><span class="label">"Database now"</span>
                    <span class="value">{format_bytes(g.bytes_now)}</span></div>
                <div class="stat"><span class="label">"Growth per month"</span>
                    <span class="value" class:warn-text=over>{month.map(signed_bytes).unwrap_or_else(|| "—".into())}</span>
                    <span class="muted small">{match (month, over) {
                        (None, _) => "not known yet: the storage history needs samples a day apart",
                        (Some(_), true) => "over the MS5.0 platform's storage target of < 1 GB/month",
                        (Some(_), false) => "within the MS5.0 platform's storage target of < 1 GB/month",
                    }}</span></div>
                <div class="stat"><span class="label">"Growth per day"</span>
                    <span class="value">{g.per_day.map(signed_bytes).unwrap_or_else(|| "—".into())}</span></div>
            </div>
        }
    })
}

#[component]
fn GrowthTable(growth: Vec<Growth>) -> impl IntoView {
    if growth.is_empty() {
        return ().into_any();
    }
    let rows = growth
        .into_iter()
        .map(|g| {
            let saving = g.compression_saving;
            let below = saving.is_some_and(|s| s < SEED_SAVING);
            let kind = match g.kind {
                RelationKind::ContinuousAggregate => " (continuous aggregate)",
                _ => "",
            };
            view! {
                <tr data-testid="growth-row">
                    <td class="name">{g.relation.clone()}<span class="muted small">{kind}</span></td>
                    <td class="num">{format_bytes(g.bytes_now)}</td>
                    <td class="num">{g.per_day.map(signed_bytes).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{g.over(7.0).map(signed_bytes).unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{g.over(30.0).map(signed_bytes).unwrap_or_else(|| "—".into())}</td>
                    <td class="num" class:warn-text=below>
                        {saving.map(percent).unwrap_or_else(|| "nothing compressed".into())}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data" data-testid="growth">
            <thead><tr>
                <th>"Table"</th><th>"Now"</th><th>"Per day"</th><th>"Per week"</th><th>"Per month"</th>
                <th title="share of bytes compression saved on compressed chunks; the MS5.0 platform's target is more than 70 %">"Compression saved (target: > 70 %)"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="muted small">"Growth is the least-squares slope of the table's bytes over the range."</p>
    }
    .into_any()
}

#[component]
fn ForecastSection(o: Outlook) -> impl IntoView {
    let headline = headline(&o);
    let chart = o
        .database
        .as_ref()
        .map(|db| storage_forecast::build(db, o.computed_at, o.limit.as_ref().map(|l| l.bytes)));
    let confident = o.database.as_ref().is_none_or(|d| d.confident);
    let horizon = o.horizon_days;
    view! {
        <p class="lead" data-testid="budget-headline">{headline}</p>
        {(!o.policies_run).then(|| view! {
            <p class="notice warn" data-testid="no-scheduler">"No job scheduler runs the policies on this database: compression and retention act only when their jobs are run by hand (Jobs → run now). The forecast shows what the policies would do."</p>
        })}
        {(!confident).then(|| view! {
            <p class="notice warn" data-testid="low-confidence">"Low confidence: at least one table's growth is not steady enough for a straight line (see the notes below). Read the band, not the line."</p>
        })}
        {chart.map(|chart| view! { <ChartCanvas id="storage-forecast-chart" height=300 chart/> })}
        <p class="muted small">
            {format!("Each table's ingest is a least-squares line through its last {} days of samples (raw-equivalent bytes, drops added back); its live policies then act on every day's data as it ages: raw until compress-after, then at the table's measured ratio, gone after the retention. The band is the slope ± two standard errors. Everything outside the tables stays as it is.", tsdb::storage::outlook::FIT_DAYS)}
        </p>
        <WhatIfs what_ifs=o.what_ifs.clone() horizon/>
        <TableForecasts tables=o.tables.clone() horizon/>
        <p class="muted small">{format!("Figures from {}.", format_time(&o.computed_at))}</p>
    }
}

/// The budget in one sentence.
fn headline(o: &Outlook) -> String {
    let Some(db) = &o.database else {
        return "Not enough storage history for a forecast yet: it needs samples at two different times.".into();
    };
    let end = db.points.last().map_or(o.database_now, |p| p.bytes);
    let at_horizon = format!(
        "{} now, {} expected in {} days",
        format_bytes(o.database_now as i64),
        format_bytes(end as i64),
        o.horizon_days
    );
    match (&o.limit, o.budget_day, o.budget_date()) {
        (None, _, _) => format!("{at_horizon}. No storage budget is configured: set MS5_STORAGE_BUDGET (and MS5_STORAGE_VOLUME_FREE) to see when it is reached."),
        (Some(limit), Some(0), _) => format!(
            "The database ({}) is already over {} of {}.",
            format_bytes(o.database_now as i64),
            limit.source,
            format_bytes(limit.bytes as i64)
        ),
        (Some(limit), Some(day), Some(date)) => format!(
            "{at_horizon}: {} of {} is reached on {} — in {day} days.",
            capitalize(&limit.source),
            format_bytes(limit.bytes as i64),
            date.format("%Y-%m-%d")
        ),
        (Some(limit), _, _) => format!(
            "{at_horizon}: within {} of {} for the whole horizon.",
            limit.source,
            format_bytes(limit.bytes as i64)
        ),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[component]
fn WhatIfs(what_ifs: Vec<WhatIf>, horizon: u32) -> impl IntoView {
    if what_ifs.is_empty() {
        return ().into_any();
    }
    let items = what_ifs
        .into_iter()
        .map(|w| {
            let budget = w
                .budget_day
                .map(|d| format!("; the budget would be reached in {d} days"))
                .unwrap_or_default();
            let assumed = w.assumed_ratio.then_some(" (ratio assumed: nothing compressed yet)");
            let href = crate::url::policy_page_named(&w.relation);
            view! {
                <li data-testid="what-if">
                    <strong>{w.relation.clone()}</strong>": "{w.change.clone()}": "
                    <strong>{format!("{} at {horizon} days", signed_bytes(-w.saved_bytes))}</strong>
                    {budget}{assumed}" "
                    {href.map(|h| view! { <a href=h class="small">"plan it on the policy page"</a> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h3>"What a policy change would buy"</h3>
        <ul class="plain" data-testid="what-ifs">{items}</ul>
    }
    .into_any()
}

#[component]
fn TableForecasts(tables: Vec<TableOutlook>, horizon: u32) -> impl IntoView {
    let rows = tables
        .into_iter()
        .map(|t| {
            let at_horizon = t.at_horizon();
            let confident = t.forecast.as_ref().is_some_and(|f| f.confident);
            view! {
                <tr data-testid="forecast-row">
                    <td class="name">{t.relation.clone()}</td>
                    <td class="num">{format_bytes(t.bytes_now as i64)}</td>
                    <td class="num">{t.ingest_per_day.map(|d| format!("{}/day", format_bytes(d as i64))).unwrap_or_else(|| "—".into())}</td>
                    <td class="small">{t.lifecycle.clone()}</td>
                    <td class="num">{at_horizon.map(|b| format_bytes(b as i64)).unwrap_or_else(|| "—".into())}</td>
                    <td class="small" class:warn-text=!confident>{t.note.clone().unwrap_or_else(|| "steady growth".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data" data-testid="forecast-tables">
            <thead><tr>
                <th>"Table"</th><th>"Now"</th><th>"Ingest"</th><th>"Policies"</th>
                <th>{format!("In {horizon} days")}</th><th>"Confidence"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
