//! Why a command did not succeed, and the exit code that says so.

use std::process::ExitCode;

/// A command's failure. The variant decides the exit code; the message is printed on standard error.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Some operations failed (exit 1).
    #[error("{0}")]
    Operations(String),
    /// The input is unusable (exit 2): the message names the file, the line and the reason.
    #[error("{0}")]
    BadInput(String),
    /// The safety policy blocked the plan (exit 3); the plan itself was printed.
    #[error("blocked: {0}")]
    Blocked(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Operations(_) => 1,
            Failure::BadInput(_) => 2,
            Failure::Blocked(_) => 3,
        })
    }
}
