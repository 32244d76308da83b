//! Server functions of the monitoring pages. They read the published snapshot, never the
//! catalog, so a page costs the database nothing; the one action (compress a chunk)
//! goes to the database and asks the refresher for a fresh pass.

#[cfg(feature = "ssr")]
pub mod feed;
#[cfg(feature = "ssr")]
pub mod health;
#[cfg(feature = "ssr")]
pub mod link;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsdb::chunk_query::ChunkPage;
use tsdb::facts::{HypertableDetail, HypertableList, Overview};

/// The chunk filters as the page's address carries them (validated on the server).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkParams {
    /// `schema.name`.
    pub hypertable: Option<String>,
    /// RFC 3339.
    pub from: Option<String>,
    /// RFC 3339.
    pub to: Option<String>,
    /// `true` / `false`.
    pub compressed: Option<String>,
    /// `range_start`, `-range_start`, `total_bytes`, `-total_bytes`.
    pub sort: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Skipped.
    pub offset: Option<String>,
}

impl ChunkParams {
    /// The value of one parameter by name.
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "hypertable" => self.hypertable.clone(),
            "from" => self.from.clone(),
            "to" => self.to.clone(),
            "compressed" => self.compressed.clone(),
            "sort" => self.sort.clone(),
            "limit" => self.limit.clone(),
            "offset" => self.offset.clone(),
            _ => None,
        }
    }
}

/// When and how the snapshot was taken, its age now and the latest pass failure: what
/// pages show above figures, and REST's `freshness` (one computation for both).
#[cfg(feature = "ssr")]
pub fn header(
    state: &crate::state::AppState,
    snapshot: &tsdb::facts::Snapshot,
) -> tsdb::facts::SnapshotHeader {
    tsdb::facts::SnapshotHeader {
        taken_at: snapshot.taken_at,
        age_seconds: state.monitor.age_seconds().unwrap_or(0.0),
        pass_seconds: snapshot.pass_seconds,
        failure: pass_failure(state),
    }
}

/// The latest pass's failure as a sentence for the pages, if the latest pass failed.
#[cfg(feature = "ssr")]
fn pass_failure(state: &crate::state::AppState) -> Option<String> {
    state.monitor.failure().map(|(at, message)| {
        format!(
            "The latest catalog pass failed at {} UTC. {message}",
            at.format("%H:%M:%S")
        )
    })
}

/// Everything the overview shows: totals and bounded lists, whatever the database holds.
#[server(prefix = "/api/fn", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    let snapshot = state.monitor.snapshot();
    let problem = match state.capabilities() {
        None => Some(AppError::DatabaseUnavailable.to_string()),
        Some(c) => c
            .require_timescaledb()
            .err()
            .map(|e| AppError::from(e).to_string()),
    }
    // Without a snapshot there is no freshness line to carry a failing pass.
    .or_else(|| snapshot.is_none().then(|| pass_failure(&state)).flatten())
    .or_else(|| state.link.pressure());
    let job_scheduler = state
        .capabilities()
        .is_some_and(|c| c.has_job_scheduler() && c.require_timescaledb().is_ok());
    let lists = snapshot
        .as_ref()
        .map(|s| {
            Overview::lists(
                &s.hypertables,
                &s.jobs,
                &s.continuous_aggregates,
                s.catalog_fallback.is_none(),
            )
        })
        .unwrap_or_default();
    Ok(Overview {
        status: health::assess(&state),
        job_scheduler,
        troubled_tasks: state.tasks.troubled(chrono::Utc::now()),
        last_policy_apply: state.policies.last(),
        header: snapshot.as_ref().map(|s| header(&state, s)),
        problem,
        database: snapshot.as_ref().map(|s| s.database.clone()),
        timescaledb: snapshot.as_ref().and_then(|s| s.timescaledb.clone()),
        lists,
        job_count: snapshot.as_ref().map_or(0, |s| s.jobs.len()),
        aggregate_count: snapshot
            .as_ref()
            .map_or(0, |s| s.continuous_aggregates.len()),
    })
}

/// Every hypertable of the snapshot, for the hypertables page.
#[server(prefix = "/api/fn", endpoint = "hypertables")]
pub async fn list_hypertables() -> Result<HypertableList, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    // Without a snapshot nothing is known: not "no hypertables".
    let snapshot = state.monitor.current()?;
    Ok(HypertableList {
        header: Some(header(&state, &snapshot)),
        hypertables: snapshot.hypertables.clone(),
    })
}

/// One hypertable with a bounded window of its chunks.
#[server(prefix = "/api/fn", endpoint = "hypertable")]
pub async fn get_hypertable(schema: String, name: String) -> Result<HypertableDetail, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    let (snapshot, hypertable) = state.monitor.hypertable(&schema, &name)?;
    let qualified = hypertable.qualified();
    let chunks: Vec<_> = snapshot.chunks_of(&schema, &name).collect();
    let (timeline, uncompressed, compressed) = HypertableDetail::windows(&chunks);
    Ok(HypertableDetail {
        header: header(&state, &snapshot),
        timeline,
        uncompressed,
        compressed,
        jobs: snapshot
            .jobs
            .iter()
            .filter(|j| j.hypertable.as_deref() == Some(qualified.as_str()))
            .cloned()
            .collect(),
        continuous_aggregates: snapshot
            .continuous_aggregates
            .iter()
            .filter(|c| c.source == qualified)
            .cloned()
            .collect(),
        hypertable,
    })
}

/// A page of chunks matching the filters.
#[server(prefix = "/api/fn", endpoint = "chunks")]
pub async fn chunk_list(params: ChunkParams) -> Result<ChunkPage, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let query =
        tsdb::chunk_query::ChunkQuery::parse(|name| params.get(name)).map_err(AppError::Invalid)?;
    let state = crate::state::app_state()?;
    let snapshot = state.monitor.current()?;
    Ok(query.apply(&snapshot.chunks))
}

/// Why the console reads only TimescaleDB's public API here, if it does (any role; the
/// banner on every page).
#[server(prefix = "/api/fn", endpoint = "catalog-fallback")]
pub async fn catalog_fallback() -> Result<Option<String>, AppError> {
    crate::auth::require(tsdb::types::Role::Viewer).await?;
    let state = crate::state::app_state()?;
    Ok(state
        .capabilities()
        .filter(|c| c.require_timescaledb().is_ok())
        .and_then(|c| c.catalog.fallback_reason().map(str::to_string)))
}

/// Asks for a full catalog pass now (admins).
#[server(prefix = "/api/fn", endpoint = "refresh")]
pub async fn refresh_snapshot() -> Result<(), AppError> {
    crate::auth::require(tsdb::types::Role::Admin).await?;
    crate::state::app_state()?.monitor.request_refresh();
    Ok(())
}

/// Compresses one chunk now (operators), then refreshes the snapshot.
#[server(prefix = "/api/fn", endpoint = "compress-chunk")]
pub async fn compress_chunk(schema: String, name: String) -> Result<(), AppError> {
    convert_chunk(schema, name, tsdb::chunk_actions::Conversion::Compress).await
}

/// Decompresses one chunk (operators; before a backfill or an update of old rows), then
/// refreshes the snapshot.
#[server(prefix = "/api/fn", endpoint = "decompress-chunk")]
pub async fn decompress_chunk(schema: String, name: String) -> Result<(), AppError> {
    convert_chunk(schema, name, tsdb::chunk_actions::Conversion::Decompress).await
}

#[cfg(feature = "ssr")]
async fn convert_chunk(
    schema: String,
    name: String,
    conversion: tsdb::chunk_actions::Conversion,
) -> Result<(), AppError> {
    let (principal, auth) = crate::auth::require(tsdb::types::Role::Operator).await?;
    let state = crate::state::app_state()?;
    let capabilities = state.capabilities().ok_or(AppError::DatabaseUnavailable)?;
    let _place = state.lane(crate::lanes::Lane::Chunk)?;
    tsdb::chunk_actions::convert(
        &state.pool()?,
        &capabilities,
        &principal.actor,
        auth.addr(),
        &schema,
        &name,
        conversion,
    )
    .await?;
    state.monitor.request_refresh();
    Ok(())
}
