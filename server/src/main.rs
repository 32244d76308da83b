//! The console binary: parses arguments, loads configuration, runs one command and
//! prints its error once.

use clap::Parser;
use server::cli::{Cli, Command, ConfigCommand, UsersCommand};
use server::config::{self, Settings};
use server::{database, logging, serve};
use std::process::ExitCode;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config {
        command: ConfigCommand::Check,
    } = command
    {
        println!("configuration is valid; effective values:");
        for (name, value) in settings.describe() {
            println!("  {name} = {value}");
        }
        return ExitCode::SUCCESS;
    }
    logging::init(settings.log_level);
    let outcome = match command {
        Command::Serve if settings.database_url.is_none() => Err(MISSING_DATABASE_URL.into()),
        Command::Serve => serve::run(settings).await.map_err(|e| e.to_string()),
        Command::Migrate => migrate(&settings).await,
        Command::DemoData => demo_data(&settings).await,
        Command::Users {
            command: UsersCommand::Add { role, username },
        } => add_user(&settings, &username, role).await,
        Command::Config { .. } => Ok(()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One-shot commands give up after a few attempts instead of waiting forever.
const CLI_RETRY: database::RetryPolicy = database::RetryPolicy {
    max_attempts: Some(5),
    max_backoff: Duration::from_secs(4),
};

const MISSING_DATABASE_URL: &str = "DATABASE_URL is not set: expected a PostgreSQL URL such as postgres://user:password@host:5432/database (make run starts an embedded database and sets it)";

async fn connect_once(settings: &Settings) -> Result<database::Connected, String> {
    let url = settings
        .database_url
        .as_deref()
        .ok_or(MISSING_DATABASE_URL)?;
    database::connect(url, settings.db_max_connections, CLI_RETRY)
        .await
        .map_err(|e| e.to_string())
}

async fn migrate(settings: &Settings) -> Result<(), String> {
    let connected = connect_once(settings).await?;
    let outcome = tsdb::migrations::run(&connected.pool)
        .await
        .map_err(|e| e.to_string());
    connected.pool.close().await;
    let report = outcome?;
    println!("migrations applied");
    if !report.deferred.is_empty() {
        println!(
            "deferred {:?}: {}",
            report.deferred,
            tsdb::Error::NotPreloaded
        );
    }
    Ok(())
}

async fn add_user(
    settings: &Settings,
    username: &str,
    role: tsdb::types::Role,
) -> Result<(), String> {
    // Read the password before connecting: a wrong one should not cost a connection.
    let password = server::accounts::cli::read_password()?;
    let connected = connect_once(settings).await?;
    let outcome = match tsdb::migrations::run(&connected.pool).await {
        Ok(_) => server::accounts::cli::add(&connected.pool, username, role, &password).await,
        Err(error) => Err(error.to_string()),
    };
    connected.pool.close().await;
    let user = outcome?;
    println!("created {} {:?} (id {})", user.role, user.username, user.id);
    Ok(())
}

async fn demo_data(settings: &Settings) -> Result<(), String> {
    if settings.profile == config::Profile::Production {
        return Err(
            "demo data is never loaded in the production profile (MS5_ENV=production)".into(),
        );
    }
    let connected = connect_once(settings).await?;
    tsdb::migrations::run(&connected.pool)
        .await
        .map_err(|e| e.to_string())?;
    let volume = tsdb::demo::DemoVolume {
        days: settings.demo.days,
        equipment: settings.demo.equipment,
        sample_seconds: settings.demo.sample_seconds,
    };
    let accounts = server::accounts::demo::ensure(&connected.pool).await;
    let report = tsdb::demo::load(
        &connected.pool,
        volume,
        settings.timescaledb.compression_after,
    )
    .await
    .map_err(|e| e.to_string());
    // Say goodbye properly: a single-connection server otherwise sees a reset.
    connected.pool.close().await;
    let report = report?;
    server::accounts::demo::print(&accounts?);
    for (table, rows) in &report.loaded {
        println!("loaded {rows} rows into factory_telemetry.{table}");
    }
    for table in &report.skipped {
        println!("kept factory_telemetry.{table}: it already holds data");
    }
    println!(
        "compressed {} chunk(s) in {:.1} s",
        report.compressed_chunks,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}
