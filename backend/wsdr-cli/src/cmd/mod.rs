//! One module per command; each reads its inputs, calls the core and prints.

mod aws;
mod health;
mod link;
mod plan;
mod reconcile;
mod users;

use crate::cli::{Cli, Command, HealthCommand};
use crate::failure::Failure;

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Plan(args) => plan::run(&args),
        Command::Reconcile(args) => reconcile::run(&args),
        Command::Users(args) => users::run(&args),
        Command::Link(args) => link::run(&args),
        Command::Health(HealthCommand::Classify(args)) => health::classify(&args),
    }
}
