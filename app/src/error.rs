//! The one error type server functions return: safe to show to a user.
//!
//! Database text never crosses the wire: the server logs it once and sends one of these.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The console has not reached its database (yet).
    #[error("The database cannot be reached right now. The console keeps retrying; check that PostgreSQL is running and DATABASE_URL is right.")]
    DatabaseUnavailable,
    /// The single-connection database is busy with start-up work (demo data).
    #[error("The console is still loading demo data into the development database, which serves one request at a time. Reload in a few seconds.")]
    StartingUp,
    /// The database has no TimescaleDB extension.
    #[error("TimescaleDB is not installed in this database. Install the timescaledb package for your PostgreSQL, add it to shared_preload_libraries, restart PostgreSQL and run CREATE EXTENSION timescaledb.")]
    ExtensionMissing,
    /// The installed TimescaleDB is too old.
    #[error("TimescaleDB {0} is not supported: upgrade to 2.13 or later.")]
    UnsupportedVersion(String),
    /// A failure whose details are only in the server log.
    #[error("Something went wrong on the server; the details are in the console's log.")]
    Internal,
    /// The request itself failed (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<tsdb::Error> for AppError {
    /// Maps an engine error once, logging what the user will not see.
    fn from(error: tsdb::Error) -> Self {
        match error {
            tsdb::Error::ExtensionMissing => AppError::ExtensionMissing,
            tsdb::Error::UnsupportedVersion { found } => AppError::UnsupportedVersion(found),
            tsdb::Error::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => {
                tracing::warn!(%error, "database unavailable");
                AppError::DatabaseUnavailable
            }
            other => {
                tracing::error!(error = %other, "server function failed");
                AppError::Internal
            }
        }
    }
}
