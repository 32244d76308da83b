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
    /// The server answered but refused a new connection: it is at `max_connections`.
    Crowded(String),
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
                    read_epoch(&state, &pool).await;
                    // Probed again before the console is marked up: no request may use
                    // the versions (and catalog shape) of the server before the outage.
                    if state.link.is_down() {
                        reprobe(&state, &pool).await;
                    }
                    if let Some(outage) = state.link.mark_up() {
                        let seconds =
                            (chrono::Utc::now() - outage.since).num_milliseconds() as f64 / 1000.0;
                        tracing::info!(seconds, "the database answers again");
                        state.monitor.request_refresh();
                    }
                }
                Probe::Busy => {}
                // Alive but full; still "down" if it was, until a probe gets an answer
                // (then the versions are probed again as after any outage).
                Probe::Crowded(reason) if state.link.is_down() => {
                    state.link.mark_down(reason);
                }
                Probe::Crowded(reason) => {
                    if state.link.mark_crowded() {
                        tracing::warn!(%reason, "the database refuses new connections (max_connections reached)");
                    }
                }
                Probe::Failed(reason) => {
                    state.credentials.set_epoch(None);
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
        Ok(Err(_)) | Err(_) => return diagnose(pool).await,
    };
    let mut connection = connection;
    match tokio::time::timeout(ANSWER_TIMEOUT, tsdb::connection::ping(&mut connection)).await {
        Ok(Ok(())) => Probe::Answered,
        Ok(Err(error)) => Probe::Failed(error.to_string()),
        Err(_) => Probe::Failed(format!("no answer to SELECT 1 within {ANSWER_TIMEOUT:?}")),
    }
}

/// Reads the credentials epoch so every instance forgets the credentials it verified
/// once any of them changed (anywhere); caching stops while it cannot be read.
async fn read_epoch(state: &AppState, pool: &sqlx::PgPool) {
    // Before start-up has applied the migrations the counter does not exist yet.
    if state.phase() != app::state::StartupPhase::Ready {
        state.credentials.set_epoch(None);
        return;
    }
    let epoch = match tokio::time::timeout(ANSWER_TIMEOUT, tsdb::auth_epoch::current(pool)).await {
        Ok(Ok(epoch)) => Some(epoch),
        Ok(Err(error)) => {
            tracing::warn!(%error, "cannot read the credentials epoch; verified credentials are not cached meanwhile");
            None
        }
        Err(_) => None,
    };
    state.credentials.set_epoch(epoch);
}

/// Why the pool gave no connection, from one direct attempt: the pool keeps retrying
/// the refusals it deems passing (a server at `max_connections` among them) until its
/// time-out, which would make a full server look like a vanished one.
async fn diagnose(pool: &sqlx::PgPool) -> Probe {
    use sqlx::{ConnectOptions, Connection};
    let options = pool.connect_options();
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            Probe::Answered
        }
        Ok(Err(error)) if tsdb::trouble_of(&error) == tsdb::Trouble::ConnectionLimit => {
            sweep(pool).await;
            Probe::Crowded(error.to_string())
        }
        Ok(Err(error)) => Probe::Failed(error.to_string()),
        Err(_) => Probe::Failed(format!(
            "no connection could be opened within {CONNECT_TIMEOUT:?}"
        )),
    }
}

/// Closes the pool's idle connections that no longer answer (a DBA ended them to free
/// slots), so that the pool's size says what it really holds and requests fail at once
/// rather than each retrying a refused connection until the pool's time-out.
async fn sweep(pool: &sqlx::PgPool) {
    let mut alive = Vec::new();
    while let Some(mut connection) = pool.try_acquire() {
        let answered =
            tokio::time::timeout(ANSWER_TIMEOUT, tsdb::connection::ping(&mut connection)).await;
        if matches!(answered, Ok(Ok(()))) {
            // Held until the sweep ends, so the next try takes another one.
            alive.push(connection);
        } else {
            connection.close().await.ok();
        }
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
