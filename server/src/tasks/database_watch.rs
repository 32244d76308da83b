//! The database watch: asks the database a trivial question every second so the
//! console knows within seconds when it has gone (requests then fail at once, health says
//! `down`) and when it is back (capabilities are probed again, since an extension update
//! may have come with the restart, and the snapshot is refreshed in full).

use super::TaskError;
use app::state::AppState;
use std::time::Duration;

/// Time between two probes.
const EVERY: Duration = Duration::from_secs(1);

/// How long a probe waits for a connection: a pool facing a stopped server keeps
/// retrying until this, so it bounds how late an outage is noticed (with [`EVERY`]).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long `SELECT 1` may take on a connection before the database counts as gone
/// (longer than the wait for a connection: a loaded server is slow, not down).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// What one probe found.
#[derive(Debug)]
enum Probe {
    /// `SELECT 1` came back.
    Answered,
    /// Every connection is in use by other work: the database is answering someone.
    Busy,
    /// No connection, or no answer: the reason.
    Failed(String),
}

/// Runs until shutdown; probes only once start-up has connected a pool.
pub async fn run(
    state: AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), TaskError> {
    let mut shutdown = shutdown;
    loop {
        if let Some(pool) = state.connected_pool() {
            match probe(&pool).await {
                Probe::Answered => {
                    if let Some(outage) = state.link.mark_up() {
                        let seconds =
                            (chrono::Utc::now() - outage.since).num_milliseconds() as f64 / 1000.0;
                        tracing::info!(seconds, "the database answers again");
                        reprobe(&state, &pool).await;
                        state.monitor.request_refresh();
                    }
                }
                Probe::Busy => {}
                Probe::Failed(reason) => {
                    if state.link.mark_down(reason.clone()) {
                        tracing::error!(%reason, "the database stopped answering; requests fail fast until it is back");
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

async fn probe(pool: &sqlx::PgPool) -> Probe {
    let connection = match tokio::time::timeout(CONNECT_TIMEOUT, pool.acquire()).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(sqlx::Error::PoolTimedOut)) | Err(_) if in_use(pool) => return Probe::Busy,
        Ok(Err(error)) => return Probe::Failed(error.to_string()),
        Err(_) => {
            return Probe::Failed(format!(
                "no connection could be opened within {CONNECT_TIMEOUT:?}"
            ))
        }
    };
    let mut connection = connection;
    match tokio::time::timeout(ANSWER_TIMEOUT, tsdb::connection::ping(&mut connection)).await {
        Ok(Ok(())) => Probe::Answered,
        Ok(Err(error)) => Probe::Failed(error.to_string()),
        Err(_) => Probe::Failed(format!("no answer to SELECT 1 within {ANSWER_TIMEOUT:?}")),
    }
}

/// Whether connections are out doing other work (so a wait for one says nothing about
/// the database: a one-connection server busy with a long pass, for instance).
fn in_use(pool: &sqlx::PgPool) -> bool {
    pool.size() as usize > pool.num_idle()
}

/// Probes the versions again after an outage and replaces them when they changed.
async fn reprobe(state: &AppState, pool: &sqlx::PgPool) {
    match tsdb::capabilities::Capabilities::probe(pool).await {
        Ok(fresh) => {
            let before = state.capabilities();
            if before.as_ref() != Some(&fresh) {
                tracing::warn!(
                    before = ?before.as_ref().map(|c| (&c.server_version, &c.timescaledb_reported)),
                    after = ?(&fresh.server_version, &fresh.timescaledb_reported),
                    "the database came back with other versions; using the new ones"
                );
                state.set_capabilities(fresh);
            }
        }
        Err(error) => tracing::warn!(%error, "probing the returned database failed"),
    }
}
