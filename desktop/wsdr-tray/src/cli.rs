//! The command line.

use std::path::PathBuf;

use wsdr_desktop_core::ConnectTarget;

/// The wsdr tray app.
#[derive(Debug, clap::Parser)]
#[command(name = "wsdr-tray", version, about)]
pub(crate) struct Args {
    /// Poll and verify the status document once, print the state as JSON, and exit.
    #[arg(long, conflicts_with = "connect")]
    status: bool,
    /// Launch the WorkSpaces client on this site through the OS URL handler, and exit.
    #[arg(long, value_enum, value_name = "SITE")]
    connect: Option<Site>,
    /// Open the wsdr window at start (the tray alone is the default).
    #[arg(long, conflicts_with_all = ["status", "connect"])]
    pub(crate) window: bool,
    /// Read only this configuration file (instead of the system file then the user file).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

/// `--connect`'s values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Site {
    /// The site the status document says to use now.
    Active,
    /// The disaster-recovery site.
    Dr,
    /// The primary site.
    Primary,
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Tray,
    Status,
    Connect(ConnectTarget),
}

impl Args {
    pub(crate) fn mode(&self) -> Mode {
        match (self.status, self.connect) {
            (true, _) => Mode::Status,
            (false, Some(Site::Active)) => Mode::Connect(ConnectTarget::Active),
            (false, Some(Site::Dr)) => Mode::Connect(ConnectTarget::Dr),
            (false, Some(Site::Primary)) => Mode::Connect(ConnectTarget::Primary),
            (false, None) => Mode::Tray,
        }
    }
}
