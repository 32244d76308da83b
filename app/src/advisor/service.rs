//! What the advisor server functions and REST share: find the hypertable in the snapshot,
//! ask the engine, and for a trial compare the current settings with the suggestion.

use crate::error::AppError;
use crate::state::AppState;
use tsdb::advisor::trial::{self, Setting};
use tsdb::advisor::{inspect, Advice, Trial};

/// The advice for one hypertable.
pub async fn advice(state: &AppState, schema: &str, name: &str) -> Result<Advice, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let (snapshot, table) = state.monitor.hypertable(schema, name)?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    Ok(inspect::advise(&mut conn, &capabilities, &table, &snapshot.chunks).await?)
}

/// A trial of the current settings (or, with compression off, none) against the
/// suggestion.
pub async fn trial(state: &AppState, schema: &str, name: &str) -> Result<Trial, AppError> {
    let (pool, capabilities) = state.timescaledb()?;
    let _place = state.lane(crate::lanes::Lane::Trial)?;
    let (snapshot, table) = state.monitor.hypertable(schema, name)?;
    let mut conn = pool.acquire().await.map_err(tsdb::Error::from)?;
    let advice = inspect::advise(&mut conn, &capabilities, &table, &snapshot.chunks).await?;
    let columns: Vec<String> = advice.columns.iter().map(|c| c.name.clone()).collect();
    let current = if table.compression_enabled {
        Setting {
            label: "current".into(),
            segment_by: table.segment_by.clone(),
            order_by: table.order_by.clone(),
        }
    } else {
        Setting {
            label: "no segment-by (TimescaleDB's fallback)".into(),
            segment_by: Vec::new(),
            order_by: advice.order_by.items.last().cloned().into_iter().collect(),
        }
    };
    let suggested = Setting {
        label: "suggested".into(),
        segment_by: advice.segment_by.items.clone(),
        order_by: advice.order_by.items.clone(),
    };
    let settings =
        if current.segment_by == suggested.segment_by && current.order_by == suggested.order_by {
            vec![suggested]
        } else {
            vec![current, suggested]
        };
    Ok(trial::run(
        &mut conn,
        &capabilities,
        &table,
        &snapshot.chunks,
        &columns,
        &settings,
    )
    .await?)
}
