//! The console binary: parses the arguments, runs one command, prints its error once
//! and exits with the command's code.

use clap::Parser;
use server::cli::Cli;
use server::commands;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match commands::run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
