//! `bubble`: the command line. It only wires flags to the libraries.

mod cli;
mod commands;
mod evals;
mod progress;
mod serve;
mod store;
mod train;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
