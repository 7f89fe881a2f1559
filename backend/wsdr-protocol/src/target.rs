//! Registration targets: what the WorkSpaces client registers with.
//!
//! A [`RegistrationTarget`] is either a directory [`RegistrationCode`] (`WSpdx+ABC12D`) or an FQDN
//! [`ConnectionAlias`] (`desktops.example.com`). Both are allow-listed character by character when
//! they are constructed, so every value of these types can be written into a `workspaces://` URI
//! as it is.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest registration code accepted, in characters: the `RegistrationCode` length constraint of
/// the WorkSpaces API (1 to 20).
pub const REGISTRATION_CODE_MAX_LEN: usize = 20;

/// Longest connection alias accepted, in characters: the `ConnectionString` length constraint of
/// the WorkSpaces API (1 to 255).
pub const CONNECTION_ALIAS_MAX_LEN: usize = 255;

/// Why a string is not a registration code or connection alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The string is empty.
    #[error("is empty")]
    Empty,
    /// The string is longer than allowed.
    #[error("is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Length of the refused string, in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside the allowed set.
    #[error("has the character {ch:?} at position {index}, which is not allowed{expected}")]
    InvalidChar {
        /// The refused character.
        ch: char,
        /// Its position (0-based, in characters).
        index: usize,
        /// What was expected, as a short phrase starting with a separator (may be empty).
        expected: &'static str,
    },
    /// A registration code is two alphanumeric parts joined by exactly one `+`.
    #[error("must be two letter/digit parts joined by one '+' (like WSpdx+ABC12D)")]
    NotTwoParts,
    /// A connection alias must not start with `-` (it would read as a command-line option).
    #[error("starts with '-'")]
    LeadingHyphen,
}

/// A WorkSpaces directory registration code: `^[A-Za-z0-9]+\+[A-Za-z0-9]+$`, at most
/// [`REGISTRATION_CODE_MAX_LEN`] characters (for example `WSpdx+ABC12D`).
///
/// Construct it with [`RegistrationCode::parse`] (or `FromStr`, `TryFrom<String>`, serde); there
/// is no other way, so every value obeys the rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegistrationCode(String);

impl RegistrationCode {
    /// Validates `s` as a registration code.
    ///
    /// # Errors
    /// [`TargetError`] naming the first rule broken.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let len = s.chars().count();
        if len > REGISTRATION_CODE_MAX_LEN {
            return Err(TargetError::TooLong { len, max: REGISTRATION_CODE_MAX_LEN });
        }
        for (index, ch) in s.chars().enumerate() {
            if !(ch.is_ascii_alphanumeric() || ch == '+') {
                return Err(TargetError::InvalidChar {
                    ch,
                    index,
                    expected: " (letters, digits and one '+')",
                });
            }
        }
        match s.split_once('+') {
            Some((left, right))
                if !left.is_empty() && !right.is_empty() && !right.contains('+') =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(TargetError::NotTwoParts),
        }
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A WorkSpaces connection alias (an FQDN such as `desktops.example.com`): the WorkSpaces API's
/// `^[.0-9A-Za-z-]{1,255}$`, and additionally not starting with `-`.
///
/// Construct it with [`ConnectionAlias::parse`] (or `FromStr`, `TryFrom<String>`, serde).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectionAlias(String);

impl ConnectionAlias {
    /// Validates `s` as a connection alias.
    ///
    /// # Errors
    /// [`TargetError`] naming the first rule broken.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let len = s.chars().count();
        if len > CONNECTION_ALIAS_MAX_LEN {
            return Err(TargetError::TooLong { len, max: CONNECTION_ALIAS_MAX_LEN });
        }
        for (index, ch) in s.chars().enumerate() {
            if !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '-') {
                return Err(TargetError::InvalidChar {
                    ch,
                    index,
                    expected: " (letters, digits, '.' and '-')",
                });
            }
        }
        if s.starts_with('-') {
            return Err(TargetError::LeadingHyphen);
        }
        Ok(Self(s.to_owned()))
    }

    /// The alias as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a status document's `registration_code` holds and what a launch URI points at: a
/// registration code or a connection alias.
///
/// On the wire it is a plain string: one containing `+` must be a [`RegistrationCode`], any other
/// must be a [`ConnectionAlias`] (the two alphabets differ exactly by `+`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RegistrationTarget {
    /// A directory registration code.
    Code(RegistrationCode),
    /// An FQDN connection alias.
    Alias(ConnectionAlias),
}

impl RegistrationTarget {
    /// Parses `s` as a registration code if it contains `+`, else as a connection alias.
    ///
    /// # Errors
    /// [`TargetError`] from the rule that applies.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s.contains('+') {
            RegistrationCode::parse(s).map(Self::Code)
        } else {
            ConnectionAlias::parse(s).map(Self::Alias)
        }
    }

    /// The code or alias as written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Code(code) => code.as_str(),
            Self::Alias(alias) => alias.as_str(),
        }
    }
}

impl From<RegistrationCode> for RegistrationTarget {
    fn from(code: RegistrationCode) -> Self {
        Self::Code(code)
    }
}

impl From<ConnectionAlias> for RegistrationTarget {
    fn from(alias: ConnectionAlias) -> Self {
        Self::Alias(alias)
    }
}

/// `FromStr`, `TryFrom<String>`, `Into<String>`, `Display` and `AsRef<str>` for a validated
/// string type with a `parse(&str)` constructor.
macro_rules! string_conversions {
    ($ty:ty, $err:ty) => {
        impl std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.as_str().to_owned()
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_conversions;

string_conversions!(RegistrationCode, TargetError);
string_conversions!(ConnectionAlias, TargetError);
string_conversions!(RegistrationTarget, TargetError);

/// Writes `s` for an error message: at most `max_chars` characters, control and other
/// non-printing characters escaped, so text from outside can be logged safely.
pub(crate) fn sanitize(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if ch.is_control()
            || (ch.is_whitespace() && ch != ' ')
            || crate::launch::is_invisible_format(ch)
        {
            out.extend(ch.escape_unicode());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Formats with `{:?}`-like quoting for messages.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", sanitize(self.0, 80))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for ok in ["WSpdx+ABC12D", "a+b", "SLiad+ABCDEF", "12345678901234567+9a"] {
            assert!(RegistrationCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "+", "a+", "+b", "a++b", "a+b+c", "a b+c", "a+b\n", "WSpdx-ABC", "ä+b"] {
            assert!(RegistrationCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            RegistrationCode::parse("123456789012345678+9a"),
            Err(TargetError::TooLong { len: 21, max: 20 })
        );
    }

    #[test]
    fn aliases() {
        for ok in ["desktops.example.com", "a", "xn--bcher-kva.example", "a-b.c."] {
            assert!(ConnectionAlias::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(ConnectionAlias::parse("-x"), Err(TargetError::LeadingHyphen));
        assert_eq!(ConnectionAlias::parse(""), Err(TargetError::Empty));
        assert!(ConnectionAlias::parse(&"a".repeat(255)).is_ok());
        assert!(ConnectionAlias::parse(&"a".repeat(256)).is_err());
        for bad in ["a b", "a_b", "a/b", "a:1", "a@b", "a=b"] {
            assert!(ConnectionAlias::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn target_dispatches_on_plus() {
        assert!(matches!(
            RegistrationTarget::parse("WSpdx+ABC12D"),
            Ok(RegistrationTarget::Code(_))
        ));
        assert!(matches!(
            RegistrationTarget::parse("ws.example.com"),
            Ok(RegistrationTarget::Alias(_))
        ));
        assert_eq!(
            RegistrationTarget::parse("ws.example+com"),
            Err(TargetError::InvalidChar {
                ch: '.',
                index: 2,
                expected: " (letters, digits and one '+')"
            })
        );
    }

    #[test]
    fn serde_goes_through_validation() {
        let t: RegistrationTarget = serde_json::from_str("\"WSpdx+ABC12D\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"WSpdx+ABC12D\"");
        assert!(serde_json::from_str::<RegistrationTarget>("\"--gpu-launcher=x\"").is_err());
        assert!(serde_json::from_str::<RegistrationCode>("\"example.com\"").is_err());
    }

    #[test]
    fn sanitize_escapes() {
        assert_eq!(sanitize("a\nb\u{202e}c", 80), "a\\u{a}b\\u{202e}c");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        // Idempotent: sanitised text can be sanitised again (as `Quoted` does).
        assert_eq!(sanitize(&sanitize("a\n", 80), 80), sanitize("a\n", 80));
    }
}
