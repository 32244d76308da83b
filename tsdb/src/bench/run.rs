//! One whole bench run as both the command line and the admin page start it: sweep what
//! killed runs left, refuse while another run goes on against the same database, run the
//! suite in a fresh scratch schema, remove the schema however the run ends (finished,
//! failed, stopped), record a finished run in the history.

use super::psql::Psql;
use super::report::{BenchReport, Progress};
use super::scratch::{self, Scratch};
use super::suite::{self, BenchOptions};
use crate::capabilities::Capabilities;
use crate::Result;
use sqlx::PgPool;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The suite finished; its report (already recorded, unless `recorded` says why not).
    Finished {
        /// The figures.
        report: BenchReport,
        /// `Err` with the reason when the history could not take the run.
        recorded: std::result::Result<i64, String>,
    },
    /// `stop` fired first; the scratch schema has been removed (or the notices say why not).
    Stopped,
}

/// Runs the suite on `pool` until it finishes or `stop` completes. `notice` receives what
/// a user should read besides the progress (schemas swept, clean-up trouble).
pub async fn run(
    pool: &PgPool,
    capabilities: &Capabilities,
    options: &BenchOptions,
    started_by: &str,
    progress: &(dyn Fn(Progress) + Send + Sync),
    notice: &(dyn Fn(String) + Send + Sync),
    stop: impl Future<Output = ()>,
) -> Result<Outcome> {
    let swept = scratch::sweep(pool).await?;
    for schema in swept.removed {
        notice(format!(
            "removed {schema}, left behind by an earlier bench run that did not finish"
        ));
    }
    // Two runs at once would each measure the other's load (from another console, the
    // command line, another machine): one at a time per database.
    if let Some(schema) = swept.running.first() {
        return Err(another_run(schema));
    }
    let mut scratch = Scratch::create(pool).await?;
    // Asked again now that this run's schema exists and is locked: of two runs that passed
    // the question above at the same moment, the one asking second sees the other here
    // (both may, and both step back), so two never go on together.
    let others = scratch.others_running().await?;
    if let Some(schema) = others.first() {
        let refused = another_run(schema);
        scratch.remove().await?;
        return Err(refused);
    }
    let schema = scratch.schema().to_string();
    notice(format!(
        "scratch schema {schema} (removed when the run ends)"
    ));
    // The history is written on the run's own connection: a server that serves one
    // connection at a time may still be closing it when a new one asks.
    let outcome = tokio::select! {
        outcome = async {
            let report = suite::run(&mut scratch, pool, capabilities, options, progress).await;
            let recorded = match (&report, scratch.conn()) {
                (Ok(report), Ok(conn)) => super::history::record(conn, started_by, report)
                    .await
                    .map_err(|error| error.to_string()),
                (Ok(_), Err(error)) => Err(error.to_string()),
                (Err(_), _) => Err("the run failed".into()),
            };
            (report, recorded, scratch.remove().await)
        } => Some(outcome),
        () = stop => None,
    };
    let Some((report, recorded, removed)) = outcome else {
        notice(format!("stopped; removing {schema}"));
        remove_after_failure(pool, &schema, notice).await;
        return Ok(Outcome::Stopped);
    };
    if let Err(error) = removed {
        tracing::warn!(%error, schema, "removing the scratch schema on its own connection failed");
        remove_after_failure(pool, &schema, notice).await;
    }
    Ok(Outcome::Finished {
        report: report?,
        recorded,
    })
}

/// The refusal while another run's scratch schema is still locked.
fn another_run(schema: &str) -> crate::Error {
    crate::Error::Conflict(format!(
        "another bench run is under way on this database (its scratch schema is {schema}): \
         two runs at once would each measure the other; wait for it to end, or stop it where \
         it was started"
    ))
}

/// Removes `schema` on a fresh connection, retrying while the database comes back; says
/// so when it cannot (the next run's sweep removes it then).
async fn remove_after_failure(
    pool: &PgPool,
    schema: &str,
    notice: &(dyn Fn(String) + Send + Sync),
) {
    let mut last = None;
    for attempt in 0..10u64 {
        match scratch::ensure_removed(pool, schema).await {
            Ok(()) => return,
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(500 * (attempt + 1))).await;
    }
    if let Some(error) = last {
        notice(format!(
            "could not remove {schema} ({error}); the next bench run removes it, or: DROP SCHEMA \"{schema}\" CASCADE"
        ));
    }
}

/// `psql` on `PATH`, ready for `database_url`; `Err` says why there is none (the run then
/// goes on without psql anchors and says so).
pub async fn psql_on_path(database_url: &str) -> std::result::Result<Psql, String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("psql"))
            .find(|candidate| candidate.is_file())
    });
    let Some(program) = found else {
        return Err("psql is not on PATH".into());
    };
    Psql::new(Path::new(&program), database_url)
        .await
        .map_err(|error| format!("{} cannot be used for anchors: {error}", program.display()))
}
