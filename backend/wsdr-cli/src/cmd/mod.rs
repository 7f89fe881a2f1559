//! One module per command; each reads its inputs, calls the core and prints.

pub(crate) mod admin;
mod aws;
mod demo;
mod directory;
mod health;
pub(crate) mod keygen;
mod link;
mod plan;
mod reconcile;
pub(crate) mod status;
mod users;

use crate::cli::{Cli, Command, HealthCommand};
use crate::failure::Failure;

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Plan(args) => plan::run(&args),
        Command::Reconcile(args) => reconcile::run(&args),
        Command::Users(args) => users::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Link(args) => link::run(&args),
        Command::Health(HealthCommand::Classify(args)) => health::classify(&args),
        Command::Health(HealthCommand::Ingest(args)) => admin::ingest(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Status(command) => status::run(&command),
        Command::Failover(args) => admin::failover(&args),
        Command::Failback(args) => admin::failback(&args),
        Command::Alert(args) => admin::alert(&args),
    }
}
