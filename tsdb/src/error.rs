//! The engine's error type; the web layers map it once to a user-facing message.

/// Errors from the TimescaleDB engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a statement, or the connection broke.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The TimescaleDB extension is not installed in this database.
    #[error("the TimescaleDB extension is not installed in this database")]
    ExtensionMissing,
    /// The server offers TimescaleDB but has not preloaded its library.
    #[error("TimescaleDB is installed on this server but not preloaded: add timescaledb to shared_preload_libraries in postgresql.conf and restart PostgreSQL")]
    NotPreloaded,
    /// The installed TimescaleDB is older than the console supports.
    #[error("TimescaleDB {found} is not supported: version 2.13 or later is required")]
    UnsupportedVersion {
        /// The version string the database reported.
        found: String,
    },
    /// A value was refused; the message names it and the accepted form.
    #[error("{0}")]
    Invalid(String),
    /// The object asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change contradicts existing data (a name already taken).
    #[error("{0}")]
    Conflict(String),
    /// The database reported something the engine cannot interpret.
    #[error("unexpected answer from the database: {0}")]
    Unexpected(String),
}

/// What kind of trouble a database failure is, by its SQLSTATE: the one place that reads
/// the codes, so the refresher, the watch and the web edge agree on what each means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// No connection or no answer: the server is gone, shutting down or starting up
    /// (I/O errors, a closed pool, SQLSTATE 57P01-57P03).
    Unreachable,
    /// Every connection of the pool is in use and none came free in time.
    PoolExhausted,
    /// The server answers but refuses new connections: `max_connections` is reached
    /// (SQLSTATE 53300).
    ConnectionLimit,
    /// The statement was cancelled: `statement_timeout`, `lock_timeout` or an
    /// administrator's `pg_cancel_backend` (SQLSTATE 57014, 55P03).
    Cancelled,
    /// The server could not write: its disk is full (SQLSTATE 53100).
    DiskFull,
    /// Anything else: a bug, a refused statement; the details are for the log.
    Other,
}

impl Error {
    /// Classifies a failure; non-database errors are [`Trouble::Other`].
    pub fn trouble(&self) -> Trouble {
        match self {
            Error::Database(error) => trouble_of(error),
            _ => Trouble::Other,
        }
    }
}

/// Classifies a driver error (see [`Trouble`]).
pub fn trouble_of(error: &sqlx::Error) -> Trouble {
    match error {
        sqlx::Error::PoolTimedOut => Trouble::PoolExhausted,
        sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Trouble::Unreachable,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("53300") => Trouble::ConnectionLimit,
            Some("57014" | "55P03") => Trouble::Cancelled,
            Some("53100") => Trouble::DiskFull,
            Some("57P01" | "57P02" | "57P03") => Trouble::Unreachable,
            _ => Trouble::Other,
        },
        _ => Trouble::Other,
    }
}

/// The SQLSTATEs the engine tells apart by name, spelled once.
pub mod sqlstate {
    /// `query_canceled`: `statement_timeout`, or an administrator's `pg_cancel_backend`.
    pub const QUERY_CANCELED: &str = "57014";
    /// `deadlock_detected`: PostgreSQL broke a tie between two transactions.
    pub const DEADLOCK_DETECTED: &str = "40P01";
}

/// Whether the statement ran into `statement_timeout` (an administrator's cancel reads the
/// same): narrower than [`Trouble::Cancelled`], which counts lock waits too.
pub fn is_statement_timeout(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == sqlstate::QUERY_CANCELED)
}

/// Result alias for engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
