//! The users list read from Active Directory itself (LDAP): search entries → desired users, and whether a
//! search answer is complete. The LDAP client (`wsdr-ldap`) only moves bytes; every judgement is here.
//!
//! Safety, as for the CSV export: an entry that cannot be read (no `sAMAccountName`, several, or an invalid one) is
//! an [`EntryReject`], and [`DirectoryUsers::into_desired`] refuses a result with any reject; a page that is not a
//! clean success (size or time limit, referral, continuation reference, any error code) makes the whole search an
//! [`IncompleteSearch`] in [`judge_page`]. Neither can yield a shortened desired set.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::username::{InvalidUsername, UserKey, Username};
use crate::users::DesiredUsers;

/// The search filter for enabled user accounts: people (not computers, whose `objectClass` is also `user`) whose
/// `userAccountControl` lacks the ACCOUNTDISABLE bit (2), tested with AD's bitwise-AND matching rule.
pub const ENABLED_USERS_FILTER: &str =
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";

/// The attributes the users search asks for.
pub const USER_ATTRIBUTES: [&str; 3] = ["sAMAccountName", "userPrincipalName", "objectGUID"];

/// One search entry as plain data: every value of each attribute wsdr reads (AD returns none when the bound
/// account may not read it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The entry's distinguished name.
    pub dn: String,
    /// `sAMAccountName` values (exactly one is expected).
    pub sam_account_name: Vec<String>,
    /// `userPrincipalName` values (reporting only).
    pub user_principal_name: Vec<String>,
    /// `objectGUID` values, raw (reporting only).
    pub object_guid: Vec<Vec<u8>>,
}

/// The users a directory search found, what it set aside and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirectoryUsers {
    /// Enabled users, by identity.
    pub enabled: BTreeMap<UserKey, DirectoryUser>,
    /// Entries whose name folds to a user already found (they collapse into the first, by DN order).
    pub duplicates: Vec<DuplicateEntry>,
    /// Entries that could not be read. Any reject makes [`DirectoryUsers::into_desired`] fail.
    pub rejects: Vec<EntryReject>,
}

/// One enabled user found in the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectoryUser {
    /// `sAMAccountName`, validated.
    pub name: Username,
    /// `userPrincipalName`, when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// `objectGUID` in its registry form, when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<ObjectGuid>,
    /// The entry's distinguished name.
    pub dn: String,
}

/// An entry naming a user that another entry already named (names equal once case-folded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateEntry {
    /// This entry's DN.
    pub dn: String,
    /// The DN of the entry kept.
    pub first_dn: String,
    /// This entry's `sAMAccountName`.
    pub spelling: String,
}

/// An entry that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryReject {
    /// The entry's DN.
    pub dn: String,
    /// Why it was rejected.
    #[serde(serialize_with = "crate::serialize_display")]
    pub reason: EntryRejectReason,
}

/// Why an entry was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryRejectReason {
    /// No `sAMAccountName`: usually the service account may not read it.
    #[error("no sAMAccountName (may the service account read it?)")]
    NoName,
    /// More than one `sAMAccountName` (a single-valued attribute in AD's schema).
    #[error("{0} sAMAccountName values; AD has exactly one")]
    SeveralNames(usize),
    /// The name is not a valid WorkSpaces user name.
    #[error("{0}")]
    InvalidName(InvalidUsername),
}

/// The entries of a directory search that could not be read; returned instead of a desired set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} entr{} could not be read{}", rejects.len(), if rejects.len() == 1 { "y" } else { "ies" }, rejects.first().map(|r| format!("; first: {}: {}", r.dn, r.reason)).unwrap_or_default())]
pub struct RejectedEntries {
    /// Every rejected entry (never empty).
    pub rejects: Vec<EntryReject>,
}

/// An `objectGUID` (16 bytes), shown as AD shows it: the first three groups are little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectGuid([u8; 16]);

impl ObjectGuid {
    /// The GUID, when `bytes` has the 16 bytes of one.
    pub fn from_bytes(bytes: &[u8]) -> Option<ObjectGuid> {
        bytes.try_into().ok().map(ObjectGuid)
    }
}

impl fmt::Display for ObjectGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-",
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9]
        )?;
        b[10..].iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl Serialize for ObjectGuid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads search entries into users. Entries are taken in DN order, so which spelling of a duplicate is kept does
/// not depend on the order the server sent them in.
pub fn directory_users(entries: impl IntoIterator<Item = DirectoryEntry>) -> DirectoryUsers {
    let mut entries: Vec<DirectoryEntry> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.dn.cmp(&b.dn));
    let mut users = DirectoryUsers::default();
    for entry in entries {
        let name = match entry.sam_account_name.as_slice() {
            [] => Err(EntryRejectReason::NoName),
            [one] => Username::new(one).map_err(EntryRejectReason::InvalidName),
            several => Err(EntryRejectReason::SeveralNames(several.len())),
        };
        let name = match name {
            Ok(name) => name,
            Err(reason) => {
                users.rejects.push(EntryReject { dn: entry.dn, reason });
                continue;
            }
        };
        match users.enabled.get(&name.key()) {
            Some(first) => users.duplicates.push(DuplicateEntry {
                first_dn: first.dn.clone(),
                spelling: name.as_str().to_owned(),
                dn: entry.dn,
            }),
            None => {
                let user = DirectoryUser {
                    upn: entry.user_principal_name.into_iter().next(),
                    guid: entry.object_guid.first().and_then(|bytes| ObjectGuid::from_bytes(bytes)),
                    dn: entry.dn,
                    name,
                };
                users.enabled.insert(user.name.key(), user);
            }
        }
    }
    users
}

impl DirectoryUsers {
    /// The desired users, or every rejected entry when there is any.
    pub fn into_desired(self) -> Result<DesiredUsers, RejectedEntries> {
        if !self.rejects.is_empty() {
            return Err(RejectedEntries { rejects: self.rejects });
        }
        Ok(DesiredUsers::from_names(self.enabled.into_values().map(|user| user.name)))
    }
}

/// How one page of a search ended, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageOutcome {
    /// The LDAP result code of the page's SearchResultDone.
    pub result_code: u32,
    /// The server's diagnostic message.
    pub message: String,
    /// Referral URLs carried by the result (result code 10).
    pub referrals: Vec<String>,
    /// URLs of the continuation references (SearchResultReference) received on this page.
    pub references: Vec<String>,
    /// The paged-results control the server answered with.
    pub paging: Paging,
}

/// The paged-results control of a page's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Paging {
    /// The server answered without one (it does not page; the answer is whole if it succeeded).
    #[default]
    Absent,
    /// An empty cookie: this was the last page.
    Last,
    /// A cookie to ask for the next page with.
    More(Vec<u8>),
}

/// What to do after a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageVerdict {
    /// Ask for the next page with this cookie.
    Next(Vec<u8>),
    /// The search is complete.
    Complete,
}

/// Why a search answer cannot be used as the whole users list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncompleteSearch {
    /// The page ended with a result other than success.
    #[error("the directory answered {code} ({name}){}{}", diagnostic(message), hint(*code))]
    Failed {
        /// The LDAP result code.
        code: u32,
        /// Its name in RFC 4511.
        name: &'static str,
        /// The server's diagnostic message.
        message: String,
    },
    /// The server referred the search elsewhere (result code 10).
    #[error(
        "the directory referred the search to {}: wsdr follows no referral, so point the URL at a DC that holds the OU",
        .0.join(", ")
    )]
    Referral(Vec<String>),
    /// Part of the subtree is held by another naming context or server.
    #[error(
        "{} continuation reference(s) ({}): part of the subtree is elsewhere and would be missing; point the URL at the users' OU",
        .0.len(), .0.join(", ")
    )]
    References(Vec<String>),
    /// The server kept asking for more pages past any plausible OU size.
    #[error("the directory asked for page {0} and more: the search would never end")]
    EndlessPaging(usize),
}

/// The most pages a search may take: 10 000 pages of even 100 entries is a million users, far past any OU
/// wsdr serves. A server that still asks for more is broken (cookies are opaque, and Samba sends the same one on
/// every page, so a repeated cookie proves nothing).
pub const MAX_PAGES: usize = 10_000;

/// Judges page number `page_number` (from 1): a clean success either asks for the next page or completes the
/// search; anything else makes the whole search unusable.
pub fn judge_page(page: &PageOutcome, page_number: usize) -> Result<PageVerdict, IncompleteSearch> {
    if page.result_code == REFERRAL {
        return Err(IncompleteSearch::Referral(page.referrals.clone()));
    }
    if page.result_code != SUCCESS {
        return Err(IncompleteSearch::Failed {
            code: page.result_code,
            name: result_name(page.result_code),
            message: page.message.clone(),
        });
    }
    if !page.references.is_empty() {
        return Err(IncompleteSearch::References(page.references.clone()));
    }
    match &page.paging {
        Paging::Absent | Paging::Last => Ok(PageVerdict::Complete),
        Paging::More(_) if page_number >= MAX_PAGES => {
            Err(IncompleteSearch::EndlessPaging(page_number + 1))
        }
        Paging::More(cookie) => Ok(PageVerdict::Next(cookie.clone())),
    }
}

const SUCCESS: u32 = 0;
const REFERRAL: u32 = 10;

/// The RFC 4511 name of an LDAP result code.
pub fn result_name(code: u32) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "unknown result code",
    }
}

/// A result code as an admin reads it: `49 (invalidCredentials): <the server's message>`.
pub fn result_summary(code: u32, message: &str) -> String {
    format!("{code} ({}){}", result_name(code), diagnostic(message))
}

fn diagnostic(message: &str) -> String {
    let message = message.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if message.is_empty() { String::new() } else { format!(": {message}") }
}

/// What an admin should check, for the result codes a users search meets in practice.
fn hint(code: u32) -> &'static str {
    match code {
        3 | 4 | 11 => "; the answer would be partial, so it is not used",
        32 => "; does the base DN (the OU in the URL) exist?",
        34 => "; the base DN in the URL is not a valid DN",
        50 => "; may the service account read the OU?",
        51 | 52 => "; the DC is busy or shutting down: the next run tries again",
        _ => "",
    }
}

#[cfg(test)]
mod tests;
