//! The monitoring refresher: one loop per console instance gathers the catalog facts
//! and publishes them; nothing a request does waits for it. The first pass (and any an
//! admin asks for) reads every size; the others reuse what cannot have changed.

use super::TaskError;
use app::state::AppState;
use std::time::Duration;
use tsdb::monitoring::{gather, Pass, PassCache};

/// A pass that takes longer than this is abandoned (and its connection dropped).
const PASS_TIMEOUT: Duration = Duration::from_secs(120);

/// How often to look for the database before it is connected.
const WAIT_FOR_DATABASE: Duration = Duration::from_secs(1);

/// Runs until shutdown. A failed pass is published and retried at the next interval; a
/// panic ends the task and its supervisor starts it again (with an empty size cache, so
/// the next pass is a full one).
pub async fn run(
    state: AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    let mut cache = PassCache::default();
    let mut pass = Pass::Full;
    let interval = Duration::from_secs(u64::from(state.monitor_interval_seconds));
    loop {
        let wait = match (state.pool(), state.capabilities()) {
            (Ok(pool), Some(capabilities)) => {
                let result = tokio::time::timeout(
                    PASS_TIMEOUT,
                    gather(&pool, &capabilities, &mut cache, pass),
                )
                .await;
                match result {
                    Ok(Ok(snapshot)) => {
                        tracing::debug!(
                            seconds = snapshot.pass_seconds,
                            sized = snapshot.sized_relations,
                            chunks = snapshot.chunks.len(),
                            ?pass,
                            "monitoring pass"
                        );
                        state.monitor.publish(snapshot);
                        pass = Pass::Incremental;
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "monitoring pass failed");
                        state
                            .monitor
                            .fail(error.to_string(), pass_message(error.trouble()));
                    }
                    Err(_) => {
                        tracing::warn!(timeout = ?PASS_TIMEOUT, "monitoring pass timed out");
                        state.monitor.fail(
                            format!("the catalog pass took longer than {PASS_TIMEOUT:?}"),
                            format!(
                                "The catalog pass did not finish within {} s: a session holding a lock on TimescaleDB's catalog, or a very slow server. It is tried again at the next interval.",
                                PASS_TIMEOUT.as_secs()
                            ),
                        );
                    }
                }
                interval
            }
            _ => WAIT_FOR_DATABASE,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.monitor.refresh_requested() => pass = Pass::Full,
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// What a failed pass means, for every page's freshness line (the database's own words
/// go to the log and the admins' health details only).
fn pass_message(trouble: tsdb::Trouble) -> String {
    let what = match trouble {
        tsdb::Trouble::Unreachable => "The database stopped answering during the pass.",
        tsdb::Trouble::PoolExhausted => {
            "No connection came free for the pass: every one of the console's is in use."
        }
        tsdb::Trouble::ConnectionLimit => {
            "The database refused the pass a connection: it has reached max_connections."
        }
        tsdb::Trouble::Cancelled => {
            "The database cancelled the pass: a statement ran longer than statement_timeout or waited longer than lock_timeout (as set for the console's role or database), or an administrator cancelled it. If it keeps failing, look for sessions holding locks on TimescaleDB's catalog (pg_locks)."
        }
        tsdb::Trouble::DiskFull => "The database server's disk is full.",
        tsdb::Trouble::Other => "The pass failed; the details are in the console's log.",
    };
    format!("{what} It is tried again at the next interval.")
}
