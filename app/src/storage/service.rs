//! What the storage server functions and the REST handlers share once they have
//! authorized the caller and validated the input: read the history and build trends or
//! the outlook from it.

use super::TrendsQuery;
use crate::error::AppError;
use crate::state::AppState;
use chrono::Utc;
use tsdb::storage::history;
use tsdb::storage::outlook::{self, Outlook};
use tsdb::storage::trends::{self, Trends};

/// The trends of one range, split and maybe drilled into one relation.
pub async fn trends(state: &AppState, query: &TrendsQuery) -> Result<Trends, AppError> {
    // The history table's migration waits for TimescaleDB where it is not preloaded yet.
    let (pool, _) = state.timescaledb()?;
    let since = query.range.span().map(|span| Utc::now() - span);
    let samples = history::read(&pool, since, query.range.bucket_seconds()).await?;
    let built = trends::build(&samples, query.range, query.view, query.relation.as_deref())
        .map_err(|e| match e {
            trends::TrendsError::UnknownRelation(_) => AppError::NotFound(e.to_string()),
        })?;
    // "Now" is the snapshot's, as on every other page; before the first pass, the history's.
    Ok(match state.monitor.current() {
        Ok(snapshot) => built.with_current(&snapshot),
        Err(_) => built,
    })
}

/// The outlook from the latest snapshot and the last [`outlook::FIT_DAYS`] of samples.
pub async fn outlook(state: &AppState) -> Result<Outlook, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let snapshot = state.monitor.current()?;
    let since = snapshot.taken_at - chrono::Duration::days(outlook::FIT_DAYS as i64);
    let samples = history::read(&pool, Some(since), outlook::FIT_BUCKET_SECONDS).await?;
    let config = state.storage_config;
    let mut outlook = outlook::outlook(
        &outlook::states_of(&snapshot),
        &samples,
        snapshot.database.size_bytes as f64,
        config.budget,
        config.horizon_days,
        snapshot.taken_at,
    );
    outlook.policies_run = capabilities.has_job_scheduler();
    Ok(outlook)
}
