//! The `workspaces://` client launch URI, built only from validated parts.
//!
//! CVE-2021-38112: the Windows WorkSpaces client 3.0.10–3.1.8 URL-decoded the URI and passed it
//! to the embedded browser's launcher, so a link carrying `--gpu-launcher=<cmd>` ran a command.
//! wsdr therefore never builds a URI from free text: a [`LaunchUri`] is assembled from a
//! [`LaunchUser`] (allow-listed, then percent-encoded) and a
//! [`RegistrationTarget`] (allow-listed), and there is no way to make one from a string.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::target::{RegistrationTarget, string_conversions};

/// The URI scheme the WorkSpaces client registers.
pub const LAUNCH_SCHEME: &str = "workspaces";

/// Longest user name accepted, in characters: the WorkSpaces API's `UserName` limit.
pub const LAUNCH_USER_MAX_LEN: usize = 63;

/// Why a string is not a [`LaunchUser`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchUserError {
    /// The user name is empty.
    #[error("user name is empty")]
    Empty,
    /// The user name is too long.
    #[error("user name is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The user name starts with `-` (it would read as a command-line option).
    #[error("user name starts with '-'")]
    LeadingHyphen,
    /// A control character (`\n`, `\t`, NUL, ...).
    #[error("user name has a control character at position {index}")]
    ControlChar {
        /// Position (0-based, in characters).
        index: usize,
    },
    /// A whitespace character (space, no-break space, line separator, ...).
    #[error("user name has whitespace at position {index}")]
    Whitespace {
        /// Position (0-based, in characters).
        index: usize,
    },
    /// An invisible formatting character (zero-width space, bidirectional override, BOM, ...).
    #[error("user name has an invisible formatting character at position {index}")]
    InvisibleChar {
        /// Position (0-based, in characters).
        index: usize,
    },
    /// A `%`: refused so that decoding the URI once or several times gives the same name.
    #[error("user name has a '%' at position {index}")]
    Percent {
        /// Position (0-based, in characters).
        index: usize,
    },
}

/// A user name that may be pre-filled in the WorkSpaces client: 1 to [`LAUNCH_USER_MAX_LEN`]
/// characters, no control characters, no whitespace, no invisible formatting characters, no `%`,
/// not starting with `-`. Other characters (`@`, `\`, non-ASCII letters, ...) are allowed and are
/// percent-encoded in the URI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LaunchUser(String);

impl LaunchUser {
    /// Validates `s` as a user name.
    ///
    /// # Errors
    /// [`LaunchUserError`] naming the first rule broken.
    pub fn parse(s: &str) -> Result<Self, LaunchUserError> {
        if s.is_empty() {
            return Err(LaunchUserError::Empty);
        }
        let len = s.chars().count();
        if len > LAUNCH_USER_MAX_LEN {
            return Err(LaunchUserError::TooLong { len, max: LAUNCH_USER_MAX_LEN });
        }
        for (index, ch) in s.chars().enumerate() {
            if ch.is_control() {
                return Err(LaunchUserError::ControlChar { index });
            }
            if ch.is_whitespace() {
                return Err(LaunchUserError::Whitespace { index });
            }
            if is_invisible_format(ch) {
                return Err(LaunchUserError::InvisibleChar { index });
            }
            if ch == '%' {
                return Err(LaunchUserError::Percent { index });
            }
        }
        if s.starts_with('-') {
            return Err(LaunchUserError::LeadingHyphen);
        }
        Ok(Self(s.to_owned()))
    }

    /// The user name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(LaunchUser, LaunchUserError);

/// Invisible formatting characters (Unicode category Cf, plus the Mongolian vowel separator) that
/// can hide or reorder text on screen: soft hyphen, Arabic letter mark, zero-width characters,
/// bidirectional controls, word joiners, BOM, interlinear annotations.
pub(crate) fn is_invisible_format(ch: char) -> bool {
    matches!(
        ch,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// A `workspaces://[user@]<target>` URI that opens the WorkSpaces client on a registration code or
/// connection alias, optionally with the user name pre-filled.
///
/// Built only by [`LaunchUri::new`] from validated parts; no parser, no `From<String>`, no
/// `Deserialize`. The text is:
///
/// - `workspaces://` + percent-encoded user + `@` + target, or `workspaces://@` + target;
/// - the user is percent-encoded byte by byte (UTF-8, upper-case hex) for every character outside
///   RFC 3986 *unreserved* (`A-Z a-z 0-9 - . _ ~`), so `@ : / ? & = + "` and non-ASCII never appear
///   raw;
/// - the target is written as is: a connection alias is only `A-Z a-z 0-9 . -`; a registration
///   code is `A-Z a-z 0-9` and one `+`. The `+` stays literal: it is a sub-delim, legal in the
///   authority (RFC 3986 §3.2), it is how AWS documents these links (`workspaces://@WSpdx+ABC12D`),
///   and `%2B` would rely on the client decoding the registration code, which is not documented.
///
/// So the whole URI is ASCII with no whitespace, quote, `&`, `?`, `#` or `%` other than
/// percent-escapes of the user, and decoding it any number of times gives back the same parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct LaunchUri {
    uri: String,
    #[serde(skip)]
    user: Option<LaunchUser>,
    #[serde(skip)]
    target: RegistrationTarget,
}

impl LaunchUri {
    /// Builds the URI for `target`, pre-filling `user` when given.
    pub fn new(user: Option<LaunchUser>, target: RegistrationTarget) -> Self {
        let mut uri = String::with_capacity(
            LAUNCH_SCHEME.len() + 4 + 3 * user.as_ref().map_or(0, |u| u.as_str().len()) + 32,
        );
        uri.push_str(LAUNCH_SCHEME);
        uri.push_str("://");
        if let Some(user) = &user {
            percent_encode_into(user.as_str(), &mut uri);
        }
        uri.push('@');
        uri.push_str(target.as_str());
        Self { uri, user, target }
    }

    /// The URI text.
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The pre-filled user name, if any.
    pub fn user(&self) -> Option<&LaunchUser> {
        self.user.as_ref()
    }

    /// The registration code or connection alias.
    pub fn target(&self) -> &RegistrationTarget {
        &self.target
    }

    /// The URI text, owned.
    pub fn into_string(self) -> String {
        self.uri
    }
}

impl fmt::Display for LaunchUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl AsRef<str> for LaunchUri {
    fn as_ref(&self) -> &str {
        &self.uri
    }
}

impl From<LaunchUri> for String {
    fn from(uri: LaunchUri) -> String {
        uri.uri
    }
}

/// RFC 3986 `unreserved`.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `s` with every byte outside `unreserved` written as `%XX` (upper-case hex).
fn percent_encode_into(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in s.as_bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(user: Option<&str>, target: &str) -> String {
        LaunchUri::new(
            user.map(|u| LaunchUser::parse(u).unwrap()),
            RegistrationTarget::parse(target).unwrap(),
        )
        .into_string()
    }

    #[test]
    fn shapes() {
        assert_eq!(uri(None, "WSpdx+ABC12D"), "workspaces://@WSpdx+ABC12D");
        assert_eq!(uri(Some("jdoe"), "WSpdx+ABC12D"), "workspaces://jdoe@WSpdx+ABC12D");
        assert_eq!(
            uri(Some("j.doe@corp.example"), "desktops.example.com"),
            "workspaces://j.doe%40corp.example@desktops.example.com"
        );
        assert_eq!(uri(Some("CORP\\jdoe"), "a+b"), "workspaces://CORP%5Cjdoe@a+b");
        assert_eq!(uri(Some("zoë"), "a+b"), "workspaces://zo%C3%AB@a+b");
        assert_eq!(
            uri(Some("a+b=c&d?e/f:g\"h'i"), "a+b"),
            "workspaces://a%2Bb%3Dc%26d%3Fe%2Ff%3Ag%22h%27i@a+b"
        );
    }

    #[test]
    fn user_rules() {
        assert_eq!(LaunchUser::parse(""), Err(LaunchUserError::Empty));
        assert_eq!(LaunchUser::parse("-x"), Err(LaunchUserError::LeadingHyphen));
        assert_eq!(LaunchUser::parse("a b"), Err(LaunchUserError::Whitespace { index: 1 }));
        assert_eq!(LaunchUser::parse("a\u{a0}b"), Err(LaunchUserError::Whitespace { index: 1 }));
        assert_eq!(LaunchUser::parse("ab\n"), Err(LaunchUserError::ControlChar { index: 2 }));
        assert_eq!(
            LaunchUser::parse("a\u{200b}"),
            Err(LaunchUserError::InvisibleChar { index: 1 })
        );
        assert_eq!(LaunchUser::parse("a%20b"), Err(LaunchUserError::Percent { index: 1 }));
        assert!(LaunchUser::parse(&"é".repeat(63)).is_ok());
        assert_eq!(
            LaunchUser::parse(&"a".repeat(64)),
            Err(LaunchUserError::TooLong { len: 64, max: 63 })
        );
    }
}
