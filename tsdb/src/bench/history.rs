//! Finished bench runs, kept in the console's schema for the admin page's history.

use super::report::BenchReport;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};

/// A recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRun {
    /// Its number.
    pub id: i64,
    /// "command line", or the account that started it on the page.
    pub started_by: String,
    /// The report as it was printed.
    pub report: BenchReport,
}

/// Records a finished run; returns its number.
pub async fn record(
    executor: impl PgExecutor<'_>,
    started_by: &str,
    report: &BenchReport,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO console.bench_runs (started_at, finished_at, started_by, report)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(report.started_at)
    .bind(report.finished_at)
    .bind(started_by)
    .bind(Json(report))
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// The newest `limit` runs, newest first. A report a later version cannot read is
/// skipped with a warning rather than failing the whole history.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<BenchRun>> {
    let rows: Vec<(i64, String, serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, started_by, report, started_at FROM console.bench_runs
          ORDER BY started_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut runs = Vec::with_capacity(rows.len());
    for (id, started_by, report, started_at) in rows {
        match serde_json::from_value::<BenchReport>(report) {
            Ok(report) => runs.push(BenchRun {
                id,
                started_by,
                report,
            }),
            Err(error) => tracing::warn!(
                id,
                %started_at,
                error = %Error::Unexpected(error.to_string()),
                "a recorded bench run cannot be read; it is left out of the history"
            ),
        }
    }
    Ok(runs)
}
