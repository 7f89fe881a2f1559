//! Username identity: one type that can only hold a valid, comparable key.
//!
//! Active Directory and WorkSpaces both treat user names case-insensitively; the original sample compared
//! them exactly and terminated `jsmith`'s WorkSpace because AD said `JSmith` (defect B2). Every comparison of
//! user names in wsdr goes through [`UserKey`]: trimmed, Unicode NFC, full Unicode case folding.

use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// The longest user name WorkSpaces accepts (`UserName`: 1–63 characters).
pub const MAX_USERNAME_CHARS: usize = 63;

/// A user name as the directory spells it: trimmed, NFC, validated. Used for display and for API calls
/// (WorkSpaces recommends matching the directory's case). Compare users with [`Username::key`], never this.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

/// The identity of a user: [`Username`] case-folded. Two spellings that AD or WorkSpaces would treat as the
/// same user (`JSmith`, ` jsmith `, `ＪＳｍｉｔｈ` is *not* one of them) have equal keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UserKey(String);

/// Why a string is not a valid user name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUsername {
    /// Nothing left after trimming.
    #[error("the user name is empty")]
    Empty,
    /// Longer than WorkSpaces allows.
    #[error("the user name has {0} characters; WorkSpaces allows at most {MAX_USERNAME_CHARS}")]
    TooLong(usize),
    /// A control character (including NUL, which usually means a binary file or a wrong encoding).
    #[error("the user name contains the control character U+{0:04X}")]
    ControlCharacter(u32),
    /// A leading `-` could be read as an option by the programs the name reaches.
    #[error("the user name starts with '-'")]
    LeadingDash,
    /// A name WorkSpaces reserves (`[UNDEFINED]` marks user-decoupled WorkSpaces).
    #[error("'{0}' is reserved by WorkSpaces, not a user name")]
    Reserved(String),
}

impl Username {
    /// Validates `raw` as a directory user name: surrounding white space is trimmed, the rest normalised to
    /// NFC, then checked (1–63 characters, no control characters, no leading `-`, not reserved).
    pub fn new(raw: &str) -> Result<Username, InvalidUsername> {
        let trimmed = raw.trim();
        // NFC is the identity on ASCII, which nearly every directory name is: skip the Unicode tables.
        let name: String =
            if trimmed.is_ascii() { trimmed.to_owned() } else { trimmed.nfc().collect() };
        if name.is_empty() {
            return Err(InvalidUsername::Empty);
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(InvalidUsername::ControlCharacter(u32::from(c)));
        }
        let chars = name.chars().count();
        if chars > MAX_USERNAME_CHARS {
            return Err(InvalidUsername::TooLong(chars));
        }
        if name.starts_with('-') {
            return Err(InvalidUsername::LeadingDash);
        }
        if name.eq_ignore_ascii_case("[UNDEFINED]") {
            return Err(InvalidUsername::Reserved(name));
        }
        Ok(Username(name))
    }

    /// The user's identity for comparisons.
    pub fn key(&self) -> UserKey {
        if self.0.is_ascii() {
            // On ASCII, full case folding is exactly ASCII lower-casing, and both normal forms are the identity.
            return UserKey(self.0.to_ascii_lowercase());
        }
        // Canonical caseless match (Unicode §3.13, D145): NFD, case fold, then back to NFC for storage.
        // Full folding over-merges rather than splits (ß ~ ss), which can only cost a create, never a terminate.
        let folded = caseless::default_case_fold_str(&self.0.nfd().collect::<String>());
        UserKey(folded.nfc().collect())
    }

    /// The name as the directory spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl UserKey {
    /// Validates and folds `raw` in one step.
    pub fn new(raw: &str) -> Result<UserKey, InvalidUsername> {
        Username::new(raw).map(|name| name.key())
    }

    /// The folded key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spacing_and_normal_form_do_not_change_the_key() {
        let key = UserKey::new("JSmith").unwrap();
        for variant in ["jsmith", "JSMITH", "  jsmith\t", "jSmItH "] {
            assert_eq!(UserKey::new(variant).unwrap(), key, "{variant:?}");
        }
        // "José" precomposed (U+00E9) and decomposed (e + U+0301), in two cases.
        let composed = UserKey::new("Jos\u{e9}").unwrap();
        assert_eq!(UserKey::new("JOSE\u{301}").unwrap(), composed);
        // Full case folding: the German sharp s folds to "ss".
        assert_eq!(UserKey::new("Stra\u{df}e").unwrap(), UserKey::new("STRASSE").unwrap());
    }

    #[test]
    fn different_users_keep_different_keys() {
        assert_ne!(UserKey::new("jsmith").unwrap(), UserKey::new("jsmith2").unwrap());
        assert_ne!(UserKey::new("j smith").unwrap(), UserKey::new("jsmith").unwrap());
    }

    #[test]
    fn display_name_keeps_the_directory_spelling() {
        let name = Username::new("  JSmith ").unwrap();
        assert_eq!(name.as_str(), "JSmith");
        assert_eq!(name.key().as_str(), "jsmith");
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        assert_eq!(Username::new("   "), Err(InvalidUsername::Empty));
        assert_eq!(Username::new("a\u{0}b"), Err(InvalidUsername::ControlCharacter(0)));
        assert_eq!(Username::new("a\u{1b}[31m"), Err(InvalidUsername::ControlCharacter(0x1b)));
        assert_eq!(Username::new("-gpu-launcher"), Err(InvalidUsername::LeadingDash));
        assert_eq!(Username::new(&"x".repeat(64)), Err(InvalidUsername::TooLong(64)));
        assert!(Username::new(&"é".repeat(63)).is_ok(), "the limit counts characters, not bytes");
        assert!(matches!(Username::new("[UNDEFINED]"), Err(InvalidUsername::Reserved(_))));
    }
}
