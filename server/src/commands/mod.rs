//! The binary's commands, one module each, as sqlx-cli has them: `main` parses the
//! arguments and calls [`run`]; each command returns a [`CommandError`], printed once by
//! `main` and mapped to an exit code.
//!
//! A new command: a variant in `cli::Command`, a module here with its `run`, one arm in
//! [`run`].

pub mod bench;
pub mod config_check;
pub mod demo_data;
pub mod migrate;
pub mod policies;
pub mod serve;
pub mod users;

use crate::cli::{Cli, Command, ConfigCommand, PoliciesCommand, UsersCommand};
use crate::config::{ConfigErrors, Settings};
use crate::database::{self, Connected, DatabaseError, RetryPolicy};
use std::process::ExitCode;
use std::time::Duration;

/// Why a command failed; its exit code says which kind of failure it was.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The configuration was refused (every problem is listed).
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// The command needs a database and none is configured.
    #[error("DATABASE_URL is not set: expected a PostgreSQL URL such as postgres://user:password@host:5432/database (make run starts an embedded database and sets it)")]
    MissingDatabaseUrl,
    /// The database could not be reached or set up.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// An engine operation failed.
    #[error(transparent)]
    Engine(#[from] tsdb::Error),
    /// The input or the situation does not allow the command; the message says why.
    #[error("{0}")]
    Refused(String),
    /// The server stopped with an error.
    #[error(transparent)]
    Serve(#[from] serve::ServeError),
    /// The command was interrupted (Ctrl-C or SIGTERM) after cleaning up; the message says what.
    #[error("{0}")]
    Interrupted(String),
    /// Policy steps failed (each is printed with its error).
    #[error("{0} policy step(s) failed")]
    StepsFailed(usize),
}

impl CommandError {
    /// 2: invalid configuration or input, 3: database unreachable, 130: interrupted,
    /// 1: anything else.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Config(_) | CommandError::MissingDatabaseUrl => ExitCode::from(2),
            CommandError::Refused(_) => ExitCode::from(2),
            CommandError::Interrupted(_) => ExitCode::from(130),
            CommandError::Database(DatabaseError::Unreachable { .. }) => ExitCode::from(3),
            CommandError::Database(_)
            | CommandError::Engine(_)
            | CommandError::Serve(_)
            | CommandError::StepsFailed(_) => ExitCode::FAILURE,
        }
    }
}

/// Loads the configuration and runs the command the arguments name (`serve` by default).
pub async fn run(cli: Cli) -> Result<(), CommandError> {
    let settings = Settings::from_env(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            config_check::run(&settings);
            Ok(())
        }
        command => {
            crate::logging::init(settings.log_level);
            match command {
                Command::Serve => serve::run(settings).await,
                Command::Migrate => migrate::run(&settings).await,
                Command::DemoData => demo_data::run(&settings).await,
                Command::Users {
                    command: UsersCommand::Add { role, username },
                } => users::add(&settings, &username, role).await,
                Command::Policies {
                    command: PoliciesCommand::Plan,
                } => policies::plan(&settings).await,
                Command::Policies {
                    command: PoliciesCommand::Apply { confirm },
                } => policies::apply(&settings, &confirm).await,
                Command::Policies {
                    command: PoliciesCommand::Revert { audit_id, confirm },
                } => policies::revert(&settings, audit_id, &confirm).await,
                Command::Bench(args) => bench::run(&settings, args).await,
                Command::Config { .. } => Ok(()),
            }
        }
    }
}

/// One-shot commands give up after a few attempts instead of waiting forever.
const CLI_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: Some(5),
    max_backoff: Duration::from_secs(4),
};

/// Connects for a one-shot command and applies the migrations.
async fn connect_and_migrate(settings: &Settings) -> Result<Connected, CommandError> {
    connect_and_migrate_sized(settings, settings.db_max_connections).await
}

/// The same with a pool of `max_connections` (where the server accepts more than one).
async fn connect_and_migrate_sized(
    settings: &Settings,
    max_connections: u32,
) -> Result<Connected, CommandError> {
    let url = settings
        .database_url
        .as_deref()
        .ok_or(CommandError::MissingDatabaseUrl)?;
    let connected = database::connect(url, max_connections, CLI_RETRY).await?;
    match tsdb::migrations::run(&connected.pool).await {
        Ok(report) => {
            if !report.deferred.is_empty() {
                println!(
                    "deferred migrations {:?}: {}",
                    report.deferred,
                    tsdb::Error::NotPreloaded
                );
            }
            Ok(connected)
        }
        Err(error) => {
            connected.pool.close().await;
            Err(error.into())
        }
    }
}
