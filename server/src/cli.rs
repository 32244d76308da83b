//! Command-line arguments: `main` parses them and nothing else.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tsdb::types::Role;

/// MS5.0 TimescaleDB Console.
#[derive(Debug, Parser)]
#[command(name = "ms5-console", version, about)]
pub struct Cli {
    /// TOML configuration file (environment variables override it).
    #[arg(long, global = true, env = crate::config::CONFIG_FILE_ENV, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo data into empty demo tables and exit (refused in production).
    DemoData,
    /// Account administration.
    Users {
        /// Users subcommand.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Data-lifecycle policies of the managed hypertables.
    Policies {
        /// Policies subcommand.
        #[command(subcommand)]
        command: PoliciesCommand,
    },
    /// Run the performance suite against the configured database, in a scratch schema
    /// that is always removed; prints each figure beside the seed's and a psql anchor.
    Bench(BenchCli),
    /// Configuration tools.
    Config {
        /// Configuration subcommand.
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account; the password is read from standard input, never from arguments.
    Add {
        /// What the account may do: viewer, operator or admin.
        #[arg(long, default_value = "viewer", value_parser = parse_role)]
        role: Role,
        /// Login name: letters, digits and . _ @ -, starting with a letter or digit.
        username: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// `policies` subcommands.
#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Print desired vs live and the steps that would make them match.
    Plan,
    /// Apply those steps (asks first on a terminal); exits non-zero when a step fails.
    Apply {
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Revert a policy change of the audit trail: restore its setting and apply the way
    /// back to the live state before it (shown first; asks on a terminal).
    Revert {
        /// The audit entry's number (the audit trail shows it).
        #[arg(value_parser = clap::value_parser!(i64).range(1..))]
        audit_id: i64,
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
}

/// How a policy change is confirmed on the command line.
#[derive(Debug, clap::Args)]
pub struct ConfirmArgs {
    /// Go ahead without asking (deployment scripts). Steps that would lose data still
    /// need `--confirm` for their relation.
    #[arg(long)]
    pub yes: bool,
    /// A relation whose data loss (shown by the plan) is confirmed, named as the plan
    /// names it; repeat for several.
    #[arg(long = "confirm", value_name = "SCHEMA.NAME")]
    pub names: Vec<String>,
    /// Accept that the continuous aggregates the plan names lose those rows.
    #[arg(long)]
    pub accept_aggregate_loss: bool,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration, print the effective values, exit non-zero on errors.
    Check,
}

/// `bench` options.
#[derive(Debug, clap::Args)]
pub struct BenchCli {
    /// Times each test runs; the table shows min / median / max over them (1–20).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,
    /// Rows the ingest-rate test writes per run (1,000–5,000,000).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1_000..=5_000_000))]
    pub rows: u64,
    /// The psql used for the anchors (default: psql on PATH; without one the table has no psql anchors).
    #[arg(long, value_name = "PROGRAM")]
    pub psql: Option<PathBuf>,
    /// Also write the report as JSON to FILE (- for standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run even though the profile is production (the bench loads the database).
    #[arg(long)]
    pub yes_production: bool,
}
