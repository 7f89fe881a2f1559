//! "Connect": which launch URI a click (or `wsdr-tray --connect`) opens, or why it may not.
//!
//! The URI comes only from [`Verified::launch_uri`]: a registration target from a document
//! whose signature verified, and the configured, validated user name (CVE-2021-38112). A document
//! that has since expired still names the right codes, so connecting stays possible offline;
//! only a missing configuration or a code never learnt refuses.

use serde::{Deserialize, Serialize};
use wsdr_protocol::{LaunchUri, SiteRole, Verified};

use crate::config::Config;

/// Which site to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectTarget {
    /// The site the newest document says to use.
    Active,
    /// The disaster-recovery site.
    Dr,
    /// The primary site.
    Primary,
}

impl ConnectTarget {
    /// Parses `active`, `dr` or `primary`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "dr" => Some(Self::Dr),
            "primary" => Some(Self::Primary),
            _ => None,
        }
    }
}

/// Why no client may be launched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectRefusal {
    /// The configuration is unusable (no trusted keys, no valid user name, ...).
    #[error("wsdr is not configured correctly: {0}")]
    Misconfigured(String),
    /// No document has ever been verified, so the registration codes are unknown.
    #[error(
        "the registration codes are not known yet: no verified status document has been received"
    )]
    CodesUnknown,
}

/// The URI for `target`, from the current trusted document.
///
/// # Errors
/// [`ConnectRefusal`] when the configuration is unusable or no document was ever verified.
pub fn launch_uri(
    config: Result<&Config, String>,
    current: Option<&Verified>,
    target: ConnectTarget,
) -> Result<LaunchUri, ConnectRefusal> {
    let config = config.map_err(ConnectRefusal::Misconfigured)?;
    let verified = current.ok_or(ConnectRefusal::CodesUnknown)?;
    let site = match target {
        ConnectTarget::Active => verified.payload().active,
        ConnectTarget::Dr => SiteRole::Dr,
        ConnectTarget::Primary => SiteRole::Primary,
    };
    Ok(verified.launch_uri(site, Some(config.username.clone())))
}
