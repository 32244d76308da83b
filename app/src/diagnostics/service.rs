//! What the diagnostics server function and REST share: the latest snapshot, the facts the
//! rules read from the database, and each table's growth over the last week of the storage
//! history.

use crate::error::AppError;
use crate::state::AppState;
use tsdb::diagnostics::{probe, rules, Diagnosis};
use tsdb::storage::history;
use tsdb::storage::trends::{self, Range, View};

/// Judges the database now.
pub async fn diagnose(state: &AppState) -> Result<Diagnosis, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let snapshot = state.monitor.current()?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let mut facts = probe::facts(&mut conn, &capabilities).await?;
    let week = Range::Week;
    let since = snapshot.taken_at - week.span().unwrap_or_default();
    let samples = history::read(&mut *conn, Some(since), week.bucket_seconds()).await?;
    if let Ok(trends) = trends::build(&samples, week, View::Tables, None) {
        facts.growth_per_day = trends
            .growth
            .into_iter()
            .filter_map(|g| Some((g.relation, g.per_day?)))
            .collect();
    }
    Ok(rules::diagnose(&snapshot, &facts))
}
