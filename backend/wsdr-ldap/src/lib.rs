//! The directory users source: the enabled users of an Active Directory OU, read straight from a domain
//! controller instead of from an export a script uploads.
//!
//! [`read_users`] connects over LDAPS (or StartTLS; never in clear), verifies the DC's certificate, binds as the
//! service account, runs a paged search under the OU with [`ENABLED_USERS_FILTER`] and returns the entries as
//! [`DirectoryUsers`] — the same validation and the same [`wsdr_core::users::DesiredUsers`] as a CSV export.
//! This crate only moves bytes: whether each page is a clean, whole answer is
//! [`wsdr_core::directory::judge_page`]'s call, and any failure anywhere is a [`DirectoryError`], never a shorter
//! list.
//!
//! [`ENABLED_USERS_FILTER`]: wsdr_core::directory::ENABLED_USERS_FILTER
//! [`DirectoryUsers`]: wsdr_core::directory::DirectoryUsers

mod search;
pub mod tls;
pub mod url;

use std::fmt;
use std::time::Duration;

pub use search::{DirectoryError, DirectoryErrorKind, DirectoryRead, read_users};
pub use tls::CaBundle;
pub use url::{DirectoryUrl, SearchScope, Security};

/// Everything needed to read the users of an OU.
#[derive(Clone, Debug)]
pub struct DirectorySource {
    /// The DC and the OU.
    pub url: DirectoryUrl,
    /// Who to bind as: a DN or a user principal name (`svc-wsdr@corp.example.com`).
    pub bind_dn: String,
    /// The service account's password.
    pub password: Password,
    /// Which CAs the DC's certificate must chain to.
    pub ca: CaBundle,
    /// The longest wait for the DC: connecting, and each reply of each operation.
    pub timeout: Duration,
    /// Entries per page (AD's `MaxPageSize` is 1000 by default).
    pub page_size: u32,
}

impl DirectorySource {
    /// The default wait for the DC.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default page size: half AD's default `MaxPageSize`.
    pub const DEFAULT_PAGE_SIZE: u32 = 500;
}

/// A password, kept out of `Debug` output and so out of every log.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password. Surrounding line breaks (a secret file's trailing newline) are not part of it.
    pub fn new(password: impl Into<String>) -> Password {
        let password: String = password.into();
        Password(password.trim_end_matches(['\r', '\n']).to_owned())
    }

    /// The password itself, for the bind.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_debug_output_and_loses_its_trailing_newline() {
        let password = Password::new("s3cret!\r\n");
        assert_eq!(password.expose(), "s3cret!");
        assert_eq!(format!("{password:?}"), "Password(…)");
        assert_eq!(Password::new(" two words ").expose(), " two words ");
    }
}
