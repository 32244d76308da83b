//! `ms5-console bench`: the performance suite against the configured database, printed as
//! a table with the seed's figures and an anchor beside ours, recorded in the console's
//! history (the admin page charts it), optionally written as JSON.
//!
//! The run lives in a scratch schema that is removed however it ends: a finished run, a
//! failed step, Ctrl-C or SIGTERM, a lost connection (then at the next run's start).

use super::{connect_and_migrate_sized, CommandError};
use crate::cli::BenchCli;
use crate::config::{Profile, Settings};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;
use tsdb::bench::psql::Psql;
use tsdb::bench::report::{BenchReport, Progress};
use tsdb::bench::run::{self, Outcome};
use tsdb::bench::suite::BenchOptions;

/// The scratch connection plus ten for the concurrency tests, where the server has them.
const BENCH_CONNECTIONS: u32 = 11;

/// Runs the suite and prints its table.
pub async fn run(settings: &Settings, args: BenchCli) -> Result<(), CommandError> {
    if settings.profile == Profile::Production && !args.yes_production {
        return Err(CommandError::Refused(
            "this console is configured for production (MS5_ENV=production): the bench writes \
             and compresses hundreds of thousands of rows in a scratch schema of this database. \
             Run it again with --yes-production to accept that load"
                .into(),
        ));
    }
    let url = settings
        .database_url
        .clone()
        .ok_or(CommandError::MissingDatabaseUrl)?;
    let psql = locate_psql(args.psql.as_deref(), &url).await?;
    let connected = connect_and_migrate_sized(settings, BENCH_CONNECTIONS).await?;
    let pool = connected.pool.clone();
    let outcome = run_in_scratch(&connected, &args, psql).await;
    pool.close().await;
    let report = outcome?;
    print!("{}", report.render_table());
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}

/// Runs the suite until it finishes or Ctrl-C / SIGTERM stops it.
async fn run_in_scratch(
    connected: &crate::database::Connected,
    args: &BenchCli,
    psql: Option<Psql>,
) -> Result<BenchReport, CommandError> {
    let options = BenchOptions {
        runs: args.runs,
        rows: args.rows,
        psql,
    };
    let bar = ProgressBar::new();
    let progress = |p: Progress| bar.show(&p);
    let notice = |text: String| {
        bar.clear();
        eprintln!("bench: {text}");
    };
    let outcome = run::run(
        &connected.pool,
        &connected.capabilities,
        &options,
        "command line",
        &progress,
        &notice,
        crate::shutdown::signal(),
    )
    .await;
    bar.clear();
    match outcome? {
        Outcome::Stopped => Err(CommandError::Interrupted(
            "the bench was interrupted; its scratch schema is removed".into(),
        )),
        Outcome::Finished { report, recorded } => {
            if let Err(error) = recorded {
                eprintln!("bench: the run could not be recorded in the console's history: {error}");
            }
            Ok(report)
        }
    }
}

/// The psql the anchors use: the one named, else `psql` on `PATH`, else none (said).
async fn locate_psql(explicit: Option<&Path>, url: &str) -> Result<Option<Psql>, CommandError> {
    if let Some(program) = explicit {
        return Psql::new(program, url).await.map(Some).map_err(|error| {
            CommandError::Refused(format!("--psql {}: {error}", program.display()))
        });
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("psql"))
            .find(|candidate| candidate.is_file())
    });
    let Some(program) = found else {
        eprintln!("bench: psql is not on PATH: figures are printed without psql anchors (--psql names one)");
        return Ok(None);
    };
    match Psql::new(&program, url).await {
        Ok(psql) => Ok(Some(psql)),
        Err(error) => {
            eprintln!(
                "bench: {} cannot be used for anchors: {error}",
                program.display()
            );
            Ok(None)
        }
    }
}

fn write_json(path: &Path, report: &BenchReport) -> Result<(), CommandError> {
    let json = serde_json::to_string_pretty(report).map_err(|error| {
        CommandError::Refused(format!("the report could not be written as JSON: {error}"))
    })?;
    if path == Path::new("-") {
        println!("{json}");
        return Ok(());
    }
    std::fs::write(path, json + "\n").map_err(|error| {
        CommandError::Refused(format!(
            "--json {}: could not write the report: {error}",
            path.display()
        ))
    })
}

/// A bar on a terminal's standard error; elsewhere (a log, CI) one line per step.
struct ProgressBar {
    terminal: bool,
    last: Mutex<String>,
}

impl ProgressBar {
    fn new() -> ProgressBar {
        ProgressBar {
            terminal: std::io::stderr().is_terminal(),
            last: Mutex::new(String::new()),
        }
    }

    fn show(&self, progress: &Progress) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if *last == progress.current && !self.terminal {
            return;
        }
        last.clone_from(&progress.current);
        let total = progress.total.max(1);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            const WIDTH: u32 = 30;
            let filled = (progress.done * WIDTH / total) as usize;
            let _ = write!(
                err,
                "\r\x1b[2K[{}{}] {:>3}% {}",
                "#".repeat(filled),
                ".".repeat(WIDTH as usize - filled),
                progress.done * 100 / total,
                progress.current
            );
        } else {
            let _ = writeln!(err, "[{}/{}] {}", progress.done, total, progress.current);
        }
        let _ = err.flush();
    }

    /// Clears the bar's line so other text starts on a clean one.
    fn clear(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
