//! The users list: an AD export's bytes → the users wsdr must keep a DR WorkSpace for.
//!
//! Accepted, as the export tools write them:
//! - the original sample's export: one quoted `sAMAccountName` per line, no header, CRLF, written by Windows
//!   PowerShell's `Set-Content` in the ANSI code page (cp1252) or as UTF-8;
//! - wsdr's export (`infra/scripts/Export-WsdrUsers.ps1`): a header row with `SamAccountName`, `Enabled`,
//!   `UserPrincipalName` (more columns allowed, any order, any case), UTF-8 with a BOM;
//! - in UTF-8 (with or without BOM), UTF-16 LE/BE with BOM (`Out-File`'s default), or cp1252 when the bytes are
//!   not valid UTF-8. A `#TYPE …` first line (`Export-Csv` without `-NoTypeInformation`) is skipped.
//!
//! Blank lines are not users; disabled users are listed apart; duplicates (differing in case, normal form or
//! surrounding spaces) collapse to the first spelling. A row that cannot be read is a [`Reject`] naming its line
//! and reason: [`UsersList::into_desired`] refuses a list with any reject, so a bad row can never silently shrink
//! the desired set (and so can never cause a termination).

use std::collections::BTreeMap;
use std::fmt;

use encoding_rs::{Encoding, WINDOWS_1252};
use serde::Serialize;

use crate::username::{InvalidUsername, UserKey, Username};

/// A users list as read: what is desired, what was set aside and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsersList {
    /// How the bytes were decoded.
    pub encoding: TextEncoding,
    /// Which export produced the rows.
    pub format: ExportFormat,
    /// Enabled users, by identity.
    pub enabled: BTreeMap<UserKey, ListedUser>,
    /// Users the export marks as disabled: not desired.
    pub disabled: BTreeMap<UserKey, ListedUser>,
    /// Rows that named a user already listed (they collapse into the first).
    pub duplicates: Vec<DuplicateRow>,
    /// Rows that could not be read. Any reject makes [`UsersList::into_desired`] fail.
    pub rejects: Vec<Reject>,
}

/// One user as listed in the export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListedUser {
    /// The name as the directory spells it (first spelling seen).
    pub name: Username,
    /// The user principal name, when the export has one (reporting only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// The line the user was first listed on (1-based).
    pub line: usize,
}

/// A row naming a user that an earlier row already named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateRow {
    /// This row's line.
    pub line: usize,
    /// The line of the row that named the user first.
    pub first_line: usize,
    /// The spelling on this row.
    pub spelling: String,
}

/// A row that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The row's line (1-based, physical lines of the file).
    pub line: usize,
    /// Why it was rejected.
    #[serde(serialize_with = "crate::serialize_display")]
    pub reason: RejectReason,
}

/// Why a row was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The user name is not valid.
    #[error("{0}")]
    InvalidName(InvalidUsername),
    /// Bytes that the file's encoding cannot decode.
    #[error("bytes that are not valid {0}")]
    Undecodable(TextEncoding),
    /// The `Enabled` column holds something other than True or False.
    #[error("Enabled is {0:?}; expected True or False")]
    BadEnabled(String),
    /// The row's column count differs from the header's (or from one, without a header).
    #[error("{found} columns where {expected} were expected")]
    ColumnCount {
        /// Columns expected.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// The same user is listed as enabled on one row and disabled on another.
    #[error("the user is listed enabled on one row and disabled on another (line {other_line})")]
    Conflict {
        /// The other row's line.
        other_line: usize,
    },
    /// The CSV reader could not read the row.
    #[error("unreadable CSV: {0}")]
    Csv(String),
}

/// A problem with the whole file rather than one row.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsersFileError {
    /// NUL bytes outside UTF-16: a binary file, or UTF-16 without a byte-order mark.
    #[error(
        "line {line}: NUL byte: this is a binary file (or UTF-16 without a byte-order mark), not a users export"
    )]
    Binary {
        /// The line of the first NUL byte.
        line: usize,
    },
    /// A header row without a `SamAccountName` column.
    #[error("line {line}: the header row has no SamAccountName column (columns: {columns})")]
    NoUserColumn {
        /// The header's line.
        line: usize,
        /// The header's columns, comma-separated.
        columns: String,
    },
}

/// The rows of a users list that could not be read; returned instead of a desired set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} row(s) could not be read{}", rejects.len(), rejects.first().map(|r| format!("; first: line {}: {}", r.line, r.reason)).unwrap_or_default())]
pub struct RejectedRows {
    /// Every rejected row (never empty).
    pub rejects: Vec<Reject>,
}

/// The text encoding a users list was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark.
    Utf16LeBom,
    /// UTF-16 big-endian with a byte-order mark.
    Utf16BeBom,
    /// Windows-1252, assumed when the bytes are not valid UTF-8.
    Windows1252,
}

/// Which export wrote the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// One `sAMAccountName` per row, no header (the original sample's export).
    NamesOnly,
    /// A header row naming the columns (wsdr's export).
    Header,
    /// No rows at all.
    Empty,
}

/// The complete set of users that must have a DR WorkSpace. Only a users list with no rejected rows (or another
/// source with the same validation) can produce one, so a partial list can never reach the planner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredUsers(BTreeMap<UserKey, Username>);

impl DesiredUsers {
    /// The desired users, from names that have already been validated one by one.
    pub fn from_names(names: impl IntoIterator<Item = Username>) -> DesiredUsers {
        let mut users = BTreeMap::new();
        for name in names {
            users.entry(name.key()).or_insert(name);
        }
        DesiredUsers(users)
    }

    /// Whether `key` is desired.
    pub fn contains(&self, key: &UserKey) -> bool {
        self.0.contains_key(key)
    }

    /// The desired users in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&UserKey, &Username)> {
        self.0.iter()
    }

    /// How many users are desired.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no user is desired.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl UsersList {
    /// The desired users, or every rejected row when there is any.
    pub fn into_desired(self) -> Result<DesiredUsers, RejectedRows> {
        if !self.rejects.is_empty() {
            return Err(RejectedRows { rejects: self.rejects });
        }
        Ok(DesiredUsers(self.enabled.into_iter().map(|(key, user)| (key, user.name)).collect()))
    }
}

/// Reads a users export from its bytes. File-level problems are errors; row-level problems are rejects.
pub fn parse_users(bytes: &[u8]) -> Result<UsersList, UsersFileError> {
    let (text, encoding) = decode(bytes)?;
    let mut rows =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());

    let mut list = UsersList {
        encoding,
        format: ExportFormat::Empty,
        enabled: BTreeMap::new(),
        disabled: BTreeMap::new(),
        duplicates: Vec::new(),
        rejects: Vec::new(),
    };
    // After a CRLF the csv crate positions a record at the line feed it has not consumed yet (and counts lines
    // accordingly), so the line is found from the byte offset, past any line terminators.
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
    let line_at = |position: Option<&csv::Position>| {
        let byte = position.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let start = byte
            + text
                .get(byte..)
                .map_or(0, |rest| rest.len() - rest.trim_start_matches(['\r', '\n']).len());
        line_starts.partition_point(|&line_start| line_start <= start)
    };
    let mut columns: Option<Columns> = None;
    for (index, record) in rows.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = line_at(error.position());
                list.rejects.push(Reject { line, reason: RejectReason::Csv(error.to_string()) });
                continue;
            }
        };
        let line = line_at(record.position());
        if record.iter().all(|field| field.trim().is_empty()) {
            continue; // A blank line is not a user.
        }
        if index == 0 && record.len() == 1 && record[0].starts_with("#TYPE") {
            continue; // Export-Csv's type line.
        }
        if list.format == ExportFormat::Empty {
            if let Some(header) = Columns::from_header(&record, line)? {
                columns = Some(header);
                list.format = ExportFormat::Header;
                continue;
            }
            list.format = ExportFormat::NamesOnly;
        }
        match read_row(&record, columns.as_ref(), encoding) {
            Ok(row) => list.add(row, line),
            Err(reason) => list.rejects.push(Reject { line, reason }),
        }
    }
    Ok(list)
}

struct Row {
    name: Username,
    enabled: bool,
    upn: Option<String>,
}

impl UsersList {
    fn add(&mut self, row: Row, line: usize) {
        let key = row.name.key();
        let (same, other) = if row.enabled {
            (&mut self.enabled, &self.disabled)
        } else {
            (&mut self.disabled, &self.enabled)
        };
        if let Some(conflicting) = other.get(&key) {
            let reason = RejectReason::Conflict { other_line: conflicting.line };
            self.rejects.push(Reject { line, reason });
        } else if let Some(first) = same.get(&key) {
            let spelling = row.name.as_str().to_owned();
            self.duplicates.push(DuplicateRow { line, first_line: first.line, spelling });
        } else {
            same.insert(key, ListedUser { name: row.name, upn: row.upn, line });
        }
    }
}

/// Column positions of a header-format export.
struct Columns {
    count: usize,
    user: usize,
    enabled: Option<usize>,
    upn: Option<usize>,
}

impl Columns {
    /// The header's columns, or `None` when the row is not a header.
    fn from_header(
        record: &csv::StringRecord,
        line: usize,
    ) -> Result<Option<Columns>, UsersFileError> {
        let position = |names: &[&str]| {
            record
                .iter()
                .position(|field| names.iter().any(|n| field.trim().eq_ignore_ascii_case(n)))
        };
        let enabled = position(&["Enabled"]);
        let upn = position(&["UserPrincipalName"]);
        // `oSamAccountname` is the original sample's column before it dropped its header line.
        match position(&["SamAccountName", "oSamAccountname"]) {
            Some(user) => Ok(Some(Columns { count: record.len(), user, enabled, upn })),
            None if enabled.is_some() || upn.is_some() => Err(UsersFileError::NoUserColumn {
                line,
                columns: record.iter().collect::<Vec<_>>().join(","),
            }),
            None => Ok(None),
        }
    }
}

fn read_row(
    record: &csv::StringRecord,
    columns: Option<&Columns>,
    encoding: TextEncoding,
) -> Result<Row, RejectReason> {
    let expected = columns.map_or(1, |c| c.count);
    if record.len() != expected {
        return Err(RejectReason::ColumnCount { expected, found: record.len() });
    }
    let field = |index: Option<usize>| index.and_then(|i| record.get(i)).map(str::trim);
    let raw_name = field(Some(columns.map_or(0, |c| c.user))).unwrap_or_default();
    if raw_name.contains(char::REPLACEMENT_CHARACTER) {
        return Err(RejectReason::Undecodable(encoding)); // A malformed sequence, replaced while decoding.
    }
    let name = Username::new(raw_name).map_err(|error| match error {
        // In cp1252 the five undefined bytes decode to C1 controls: say what they really are.
        InvalidUsername::ControlCharacter(0x80..=0x9f) if encoding == TextEncoding::Windows1252 => {
            RejectReason::Undecodable(encoding)
        }
        other => RejectReason::InvalidName(other),
    })?;
    let enabled = match field(columns.and_then(|c| c.enabled)) {
        None => true,
        Some(value) if value.eq_ignore_ascii_case("true") => true,
        Some(value) if value.eq_ignore_ascii_case("false") => false,
        Some(value) => return Err(RejectReason::BadEnabled(value.to_owned())),
    };
    let upn = field(columns.and_then(|c| c.upn)).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(Row { name, enabled, upn })
}

/// Decodes the export's bytes: BOM first, then UTF-8, then Windows-1252.
fn decode(bytes: &[u8]) -> Result<(String, TextEncoding), UsersFileError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let label = match encoding.name() {
            "UTF-16LE" => TextEncoding::Utf16LeBom,
            "UTF-16BE" => TextEncoding::Utf16BeBom,
            _ => TextEncoding::Utf8Bom,
        };
        // Malformed sequences become U+FFFD; the row holding one is rejected as undecodable.
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        return Ok((text.into_owned(), label));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(UsersFileError::Binary { line: line_of(&bytes[..offset]) });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_owned(), TextEncoding::Utf8)),
        Err(_) => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok((text.into_owned(), TextEncoding::Windows1252))
        }
    }
}

fn line_of(prefix: &[u8]) -> usize {
    1 + prefix.iter().filter(|&&b| b == b'\n').count()
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 (with BOM)",
            TextEncoding::Utf16LeBom => "UTF-16LE (with BOM)",
            TextEncoding::Utf16BeBom => "UTF-16BE (with BOM)",
            TextEncoding::Windows1252 => "UTF-8 or Windows-1252",
        })
    }
}
