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

/// Result alias for engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
