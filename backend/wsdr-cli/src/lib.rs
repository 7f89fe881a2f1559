//! `wsdr`, the admin command line: the same drivers as the Lambda functions, from a terminal.
//!
//! Exit codes are part of the contract (see [`failure::Failure`]): 0 done, 1 some operations failed, 2 bad input
//! (the message names the file, line and reason), 3 the safety policy blocked the plan.
//! Commands decide nothing themselves: they read inputs, call `wsdr_core`, and print.

mod cli;
mod clock;
mod cmd;
mod failure;
mod output;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use failure::Failure;

/// Runs `wsdr` with `args` (the first being the program name) and returns its exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout with exit 0, usage errors to stderr with exit 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::error(&failure.to_string());
            failure.exit_code()
        }
    }
}
