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
    /// No connection came free in time: the pool is saturated, or a database that serves
    /// one connection at a time is busy with start-up work (demo data).
    #[error("The database is busy (every connection is in use, or start-up work holds the only one). Try again in a few seconds.")]
    DatabaseBusy,
    /// The server answers but refuses new connections: `max_connections` is reached.
    #[error("The database refuses new connections: it has reached max_connections (other clients hold every slot). Nothing was changed. The console keeps using the connections it already has and retries; close idle sessions or raise max_connections.")]
    ConnectionLimit,
    /// The database cancelled the statement (a time-out or an administrator).
    #[error("The database cancelled the statement: it ran longer than statement_timeout or waited longer than lock_timeout (as set for the console's role or database), or an administrator cancelled it. Nothing was changed. Try again; if it keeps happening, look for long-running sessions holding locks.")]
    StatementCancelled,
    /// The database server could not write.
    #[error("The database server's disk is full: PostgreSQL could not write, so nothing was changed. Free space on the data volume (or drop old chunks with a retention policy) and try again.")]
    DiskFull,
    /// The first catalog pass has not finished: there are no figures to show yet.
    #[error("The console is still reading the first figures from TimescaleDB; they appear within seconds. Reload shortly.")]
    SnapshotPending,
    /// Every catalog pass has failed so far: there are no figures, and none are coming
    /// until the cause is fixed.
    #[error("The catalog pass has failed since {since}: {message} No figures can be shown until a pass succeeds; the console keeps trying.")]
    PassFailing {
        /// When the passes began failing.
        since: String,
        /// Why, in words safe to show.
        message: String,
    },
    /// The database has no TimescaleDB extension.
    #[error("TimescaleDB is not installed in this database. Install the timescaledb package for your PostgreSQL, add it to shared_preload_libraries, restart PostgreSQL and run CREATE EXTENSION timescaledb.")]
    ExtensionMissing,
    /// The server offers TimescaleDB but has not preloaded its library.
    #[error("TimescaleDB is installed on this server but not preloaded, so it cannot be used (creating or calling it ends the connection). Add timescaledb to shared_preload_libraries in postgresql.conf (shared_preload_libraries = 'timescaledb'), and restart PostgreSQL. The console notices within seconds and finishes setting up TimescaleDB by itself.")]
    NotPreloaded,
    /// The installed TimescaleDB is too old.
    #[error("TimescaleDB {0} is not supported: upgrade to 2.13 or later.")]
    UnsupportedVersion(String),
    /// A failure whose details are only in the server log.
    #[error("Something went wrong on the server; the details are in the console's log.")]
    Internal,
    /// No signed-in user or valid token.
    #[error("You are not signed in, or your session has ended. Sign in again.")]
    Unauthenticated,
    /// Signed in, but the role does not include this.
    #[error("Your role does not allow this. Ask an admin if you need it.")]
    Forbidden,
    /// An `Authorization` header that is not a live API token.
    #[error("The API token is malformed, unknown, expired or revoked.")]
    BadToken,
    /// A state-changing request that did not come from the console's own pages.
    #[error(
        "Refused: this request did not come from the console's own pages (cross-site request)."
    )]
    CrossSite,
    /// Wrong username or password (deliberately not saying which).
    #[error("Wrong username or password.")]
    BadCredentials,
    /// The account exists and the password was right, but it is disabled.
    #[error("This account is disabled. Ask an admin to enable it.")]
    AccountDisabled,
    /// Too many failed sign-ins; seconds until the next try.
    #[error("Too many failed sign-ins for this account or from this address. Try again in {0} s.")]
    Throttled(i64),
    /// A value was refused; the message names the field and the accepted form.
    #[error("{0}")]
    Invalid(String),
    /// The change contradicts existing data.
    #[error("{0}")]
    Conflict(String),
    /// The object asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A long operation's lane is full: what is running, and the cap.
    #[error("Too many at once: {0}. Try again in a few seconds.")]
    Busy(String),
    /// The request itself failed (network, encoding).
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// Seconds a refused client should wait before trying again (`Retry-After`).
    pub fn retry_after_seconds(&self) -> Option<i64> {
        match self {
            AppError::Throttled(seconds) => Some((*seconds).max(1)),
            AppError::ConnectionLimit | AppError::Busy(_) => Some(5),
            AppError::DatabaseBusy => Some(2),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials | AppError::BadToken => 401,
            AppError::Forbidden | AppError::AccountDisabled | AppError::CrossSite => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Throttled(_) => 429,
            AppError::Invalid(_) | AppError::Request(_) => 400,
            AppError::DatabaseUnavailable
            | AppError::DatabaseBusy
            | AppError::Busy(_)
            | AppError::ConnectionLimit
            | AppError::StatementCancelled
            | AppError::DiskFull
            | AppError::SnapshotPending
            | AppError::PassFailing { .. } => 503,
            AppError::ExtensionMissing
            | AppError::NotPreloaded
            | AppError::UnsupportedVersion(_)
            | AppError::Internal => 500,
        }
    }
}

impl AppError {
    /// A stable machine-readable code for REST error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::DatabaseUnavailable => "database_unavailable",
            AppError::DatabaseBusy => "database_busy",
            AppError::ConnectionLimit => "database_connection_limit",
            AppError::StatementCancelled => "statement_cancelled",
            AppError::DiskFull => "database_disk_full",
            AppError::SnapshotPending => "snapshot_pending",
            AppError::PassFailing { .. } => "catalog_pass_failing",
            AppError::ExtensionMissing => "extension_missing",
            AppError::NotPreloaded => "extension_not_preloaded",
            AppError::UnsupportedVersion(_) => "unsupported_version",
            AppError::Internal => "internal",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::BadToken => "invalid_token",
            AppError::CrossSite => "cross_site_refused",
            AppError::BadCredentials => "bad_credentials",
            AppError::AccountDisabled => "account_disabled",
            AppError::Throttled(_) => "throttled",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::NotFound(_) => "not_found",
            AppError::Request(_) => "bad_request",
            AppError::Busy(_) => "busy",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// An internal failure: logged here, once, with `context` and its cause; the user
    /// gets the bland message.
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> AppError {
        tracing::error!(%cause, "{context}");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// What to tell a user about a classified database failure (without logging it);
    /// `None` for failures whose details belong only in the log.
    pub fn of_trouble(trouble: tsdb::Trouble) -> Option<AppError> {
        match trouble {
            tsdb::Trouble::PoolExhausted => Some(AppError::DatabaseBusy),
            tsdb::Trouble::Unreachable => Some(AppError::DatabaseUnavailable),
            tsdb::Trouble::ConnectionLimit => Some(AppError::ConnectionLimit),
            tsdb::Trouble::Cancelled => Some(AppError::StatementCancelled),
            tsdb::Trouble::DiskFull => Some(AppError::DiskFull),
            tsdb::Trouble::Other => None,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(tsdb::Error::Database(error))
    }
}

#[cfg(feature = "ssr")]
impl From<tsdb::Error> for AppError {
    /// Maps an engine error once, logging what the user will not see.
    fn from(error: tsdb::Error) -> Self {
        match error {
            tsdb::Error::ExtensionMissing => AppError::ExtensionMissing,
            tsdb::Error::NotPreloaded => AppError::NotPreloaded,
            tsdb::Error::UnsupportedVersion { found } => AppError::UnsupportedVersion(found),
            tsdb::Error::Invalid(message) => AppError::Invalid(message),
            tsdb::Error::Conflict(message) => AppError::Conflict(message),
            tsdb::Error::NotFound(message) => AppError::NotFound(message),
            other => match AppError::of_trouble(other.trouble()) {
                Some(mapped) => {
                    tracing::warn!(error = %other, code = mapped.code(), "database trouble");
                    mapped
                }
                None => {
                    tracing::error!(error = %other, "server function failed");
                    AppError::Internal
                }
            },
        }
    }
}
