//! Connecting to PostgreSQL: bounded attempts with back-off, pool sizing from what the
//! server accepts, and the engine's per-connection set-up on every pooled connection.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::time::Duration;
use tsdb::capabilities::Capabilities;

/// Errors while connecting or migrating.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// Could not connect within the allowed attempts.
    #[error("could not connect to {url} after {attempts} attempt(s): {source}")]
    Unreachable {
        /// The URL, password redacted.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        source: sqlx::Error,
    },
    /// Any other database failure.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// An engine failure (probing).
    #[error(transparent)]
    Engine(#[from] tsdb::Error),
}

/// A connected pool and what the server can do.
pub struct Connected {
    /// The pool, sized to what the server accepts.
    pub pool: PgPool,
    /// Probed versions.
    pub capabilities: Capabilities,
    /// Whether the server accepted only one connection at a time.
    pub single_connection: bool,
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before giving up; `None` retries until shut down.
    pub max_attempts: Option<u32>,
    /// Longest pause between two attempts.
    pub max_backoff: Duration,
}

/// Connects, probes the server and builds the pool.
pub async fn connect(
    url: &str,
    max_connections: u32,
    retry: RetryPolicy,
) -> Result<Connected, DatabaseError> {
    let mut options = PgConnectOptions::from_str(url)?
        // Statement logging at INFO would drown the console's own logs.
        .log_statements(tracing::log::LevelFilter::Debug)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(5));
    // So a DBA sees in pg_stat_activity which sessions are the console's (unless the
    // URL names them itself).
    if options.get_application_name().is_none() {
        options = options.application_name("ms5-console");
    }
    let mut first = connect_with_retry(url, &options, retry).await?;
    let capabilities = Capabilities::probe_on(&mut first).await?;
    let single_connection = !accepts_second_connection(&options).await;
    first.close().await.ok();
    let size = if single_connection {
        1
    } else {
        max_connections
    };
    if single_connection {
        tracing::info!("the database accepts one connection at a time: pool size 1");
        // Such a server (the embedded devdb) runs in WASM, several times slower than a
        // native one: the demo's first load takes 5-15 s per table there, which is no
        // reason to print its whole INSERT as a warning.
        options =
            options.log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(60));
    }
    let pool_options = PgPoolOptions::new()
        .max_connections(size)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| Box::pin(tsdb::connection::prepare(conn)));
    // With one connection every caller waits for it in turn: a slow acquire is the
    // design there, not a warning worth a newcomer's attention.
    let pool_options = if single_connection {
        pool_options.acquire_slow_level(tracing::log::LevelFilter::Debug)
    } else {
        pool_options
    };
    // A single-connection server may not have noticed the probe's disconnect yet: the
    // first pooled connection is retried briefly rather than failing start-up.
    let mut attempt = 0;
    let pool = loop {
        attempt += 1;
        match pool_options.clone().connect_with(options.clone()).await {
            Ok(pool) => break pool,
            Err(error) if attempt < 10 => {
                tracing::debug!(attempt, %error, "pool's first connection refused, retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => return Err(error.into()),
        }
    };
    Ok(Connected {
        pool,
        capabilities,
        single_connection,
    })
}

async fn connect_with_retry(
    url: &str,
    options: &PgConnectOptions,
    retry: RetryPolicy,
) -> Result<PgConnection, DatabaseError> {
    let mut attempt = 0;
    let mut backoff = Duration::from_millis(250);
    loop {
        attempt += 1;
        match tokio::time::timeout(Duration::from_secs(10), options.connect()).await {
            Ok(Ok(conn)) => return Ok(conn),
            Ok(Err(error)) => {
                if retry.max_attempts.is_some_and(|max| attempt >= max) {
                    return Err(DatabaseError::Unreachable {
                        url: crate::config::redact_url(url),
                        attempts: attempt,
                        source: error,
                    });
                }
                tracing::warn!(attempt, %error, retry_in = ?backoff, "database not reachable yet");
            }
            Err(_) => {
                if retry.max_attempts.is_some_and(|max| attempt >= max) {
                    return Err(DatabaseError::Unreachable {
                        url: crate::config::redact_url(url),
                        attempts: attempt,
                        source: sqlx::Error::PoolTimedOut,
                    });
                }
                tracing::warn!(attempt, retry_in = ?backoff, "database connection attempt timed out");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(retry.max_backoff);
    }
}

/// Whether a second connection can be open beside the first. Some servers (the embedded
/// development database among them) serve exactly one; a pool larger than that would
/// see its extra connections refused, or worse, interleaved.
async fn accepts_second_connection(options: &PgConnectOptions) -> bool {
    match tokio::time::timeout(Duration::from_secs(3), async {
        let mut conn = options.connect().await?;
        tsdb::connection::ping(&mut conn).await?;
        conn.close().await
    })
    .await
    {
        Ok(Ok(())) => true,
        // A server at max_connections refuses a second client too, but it is not a
        // one-connection server: sizing the pool to one for good would be wrong.
        Ok(Err(error)) if tsdb::trouble_of(&error) == tsdb::Trouble::ConnectionLimit => {
            tracing::warn!(%error, "the database is at max_connections; sizing the pool as configured");
            true
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "second connection refused");
            false
        }
        Err(_) => false,
    }
}
