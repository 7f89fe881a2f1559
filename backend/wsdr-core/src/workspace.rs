//! WorkSpaces as observed: ids, states, ownership, and the `describe-workspaces` JSON that carries them offline.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The tag every WorkSpace wsdr creates carries; wsdr never terminates a WorkSpace without it.
pub const OWNER_TAG_KEY: &str = "wsdr:managed-by";
/// The value of [`OWNER_TAG_KEY`].
pub const OWNER_TAG_VALUE: &str = "wsdr";
/// When wsdr created the WorkSpace (RFC 3339); DescribeWorkspaces has no creation time, and a user with two
/// WorkSpaces can reach only the newest.
pub const CREATED_AT_TAG_KEY: &str = "wsdr:created-at";

macro_rules! aws_id {
    ($(#[$doc:meta])* $name:ident, $prefixes:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates the id: a known prefix, then 8–63 lowercase letters or digits.
            pub fn new(raw: &str) -> Result<$name, InvalidId> {
                let valid = $prefixes.iter().any(|prefix: &&str| {
                    raw.strip_prefix(prefix).is_some_and(|rest| {
                        (8..=63).contains(&rest.len())
                            && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    })
                });
                if valid {
                    Ok($name(raw.to_owned()))
                } else {
                    Err(InvalidId { what: $what, value: raw.to_owned(), expected: $prefixes.join(" or ") })
                }
            }

            /// The id as AWS spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

aws_id!(
    /// A WorkSpaces directory id (`d-…`, or `wsd-…` for WorkSpaces Pools directories).
    DirectoryId, ["d-", "wsd-"], "directory id"
);
aws_id!(
    /// A WorkSpace id (`ws-…`).
    WorkspaceId, ["ws-"], "WorkSpace id"
);
aws_id!(
    /// A bundle id (`wsb-…`).
    BundleId, ["wsb-"], "bundle id"
);

/// An id that does not have the form AWS gives it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not a {what} (expected {expected} followed by 8 to 63 lowercase letters or digits)"
)]
pub struct InvalidId {
    what: &'static str,
    value: String,
    expected: String,
}

/// A WorkSpace's state, as DescribeWorkspaces reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
#[allow(missing_docs)] // The variants are AWS's states, named as AWS names them.
pub enum WorkspaceState {
    Pending,
    Available,
    Impaired,
    Unhealthy,
    Rebooting,
    Starting,
    Rebuilding,
    Restoring,
    Maintenance,
    AdminMaintenance,
    Terminating,
    Terminated,
    Suspended,
    Updating,
    Stopping,
    Stopped,
    Error,
    /// A state this version of wsdr does not know: never terminated, never duplicated.
    Unknown(String),
}

const STATES: [(&str, WorkspaceState); 17] = [
    ("PENDING", WorkspaceState::Pending),
    ("AVAILABLE", WorkspaceState::Available),
    ("IMPAIRED", WorkspaceState::Impaired),
    ("UNHEALTHY", WorkspaceState::Unhealthy),
    ("REBOOTING", WorkspaceState::Rebooting),
    ("STARTING", WorkspaceState::Starting),
    ("REBUILDING", WorkspaceState::Rebuilding),
    ("RESTORING", WorkspaceState::Restoring),
    ("MAINTENANCE", WorkspaceState::Maintenance),
    ("ADMIN_MAINTENANCE", WorkspaceState::AdminMaintenance),
    ("TERMINATING", WorkspaceState::Terminating),
    ("TERMINATED", WorkspaceState::Terminated),
    ("SUSPENDED", WorkspaceState::Suspended),
    ("UPDATING", WorkspaceState::Updating),
    ("STOPPING", WorkspaceState::Stopping),
    ("STOPPED", WorkspaceState::Stopped),
    ("ERROR", WorkspaceState::Error),
];

impl WorkspaceState {
    /// The state named `raw` (AWS's upper-case names).
    pub fn parse(raw: &str) -> WorkspaceState {
        STATES
            .iter()
            .find(|(name, _)| *name == raw)
            .map_or_else(|| WorkspaceState::Unknown(raw.to_owned()), |(_, state)| state.clone())
    }

    /// AWS's name for the state.
    pub fn as_str(&self) -> &str {
        match self {
            WorkspaceState::Unknown(raw) => raw,
            known => STATES.iter().find(|(_, s)| s == known).map_or("UNKNOWN", |(name, _)| name),
        }
    }

    /// Going or gone: never counts as present, never terminated again.
    pub fn is_gone(&self) -> bool {
        matches!(self, WorkspaceState::Terminating | WorkspaceState::Terminated)
    }

    /// A user could connect to it now or after an AutoStop resume.
    pub fn is_usable(&self) -> bool {
        matches!(
            self,
            WorkspaceState::Available
                | WorkspaceState::Stopped
                | WorkspaceState::Stopping
                | WorkspaceState::Starting
                | WorkspaceState::Rebooting
        )
    }

    /// TerminateWorkspaces accepts it: any state but SUSPENDED (and wsdr also refuses states it does not know).
    pub fn can_terminate(&self) -> bool {
        !self.is_gone() && !matches!(self, WorkspaceState::Suspended | WorkspaceState::Unknown(_))
    }
}

impl From<WorkspaceState> for String {
    fn from(state: WorkspaceState) -> String {
        state.as_str().to_owned()
    }
}

impl fmt::Display for WorkspaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One WorkSpace as observed, in plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    /// Its id.
    pub id: WorkspaceId,
    /// The directory it belongs to, as reported (compared with the configured [`DirectoryId`]).
    pub directory_id: String,
    /// The user name as reported, unvalidated (`None` for user-decoupled WorkSpaces).
    pub user_name: Option<String>,
    /// Its state.
    pub state: WorkspaceState,
    /// Whether it carries wsdr's ownership tag.
    pub owned: bool,
    /// When wsdr created it, if known.
    pub created_at: Option<Timestamp>,
}

/// What a WorkSpace's tags say about wsdr's ownership of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ownership {
    /// It carries `wsdr:managed-by=wsdr`.
    pub owned: bool,
    /// The `wsdr:created-at` tag, when present.
    pub created_at: Option<Timestamp>,
}

impl Ownership {
    /// Reads ownership from `(key, value)` tags; a `wsdr:created-at` that is not an RFC 3339 time is an error
    /// (someone edited wsdr's tag by hand: better to say so than to guess).
    pub fn from_tags<'a>(
        tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Ownership, String> {
        let mut ownership = Ownership::default();
        for (key, value) in tags {
            match key {
                OWNER_TAG_KEY => ownership.owned = value == OWNER_TAG_VALUE,
                CREATED_AT_TAG_KEY => {
                    ownership.created_at = Some(value.parse::<Timestamp>().map_err(|error| {
                        format!(
                            "tag {CREATED_AT_TAG_KEY}={value:?} is not an RFC 3339 time: {error}"
                        )
                    })?);
                }
                _ => {}
            }
        }
        Ok(ownership)
    }
}

/// A `describe-workspaces` document that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// Not JSON of the expected shape.
    #[error("line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A WorkSpace entry with a bad or missing field.
    #[error("page {page}, WorkSpace {index}: {message}")]
    Entry {
        /// 1-based page.
        page: usize,
        /// 1-based position in the page.
        index: usize,
        /// What was wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Pages {
    Many(Vec<Page>),
    One(Page),
}

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "Workspaces")]
    workspaces: Vec<RawWorkspace>,
}

#[derive(Deserialize)]
struct RawWorkspace {
    #[serde(rename = "WorkspaceId")]
    workspace_id: Option<String>,
    #[serde(rename = "DirectoryId")]
    directory_id: Option<String>,
    #[serde(rename = "UserName")]
    user_name: Option<String>,
    #[serde(rename = "State")]
    state: Option<String>,
    #[serde(rename = "Tags", default)]
    tags: Vec<RawTag>,
}

#[derive(Deserialize)]
struct RawTag {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value", default)]
    value: String,
}

/// Reads what `aws workspaces describe-workspaces` prints (`{"Workspaces":[…]}`), or a JSON array of such pages.
/// A WorkSpace may carry `"Tags": [{"Key","Value"}]` (wsdr's snapshots add them; the AWS CLI's output has none,
/// so every WorkSpace in it reads as not owned). The same id on two pages must describe the same WorkSpace.
pub fn parse_describe_workspaces(bytes: &[u8]) -> Result<Vec<Workspace>, InventoryError> {
    let pages = match serde_json::from_slice::<Pages>(bytes) {
        Ok(Pages::Many(pages)) => pages,
        Ok(Pages::One(page)) => vec![page],
        Err(error) => {
            let message = if error.is_data() {
                "expected {\"Workspaces\": [...]} or an array of such pages".to_owned()
            } else {
                error.to_string()
            };
            return Err(InventoryError::Json {
                line: error.line(),
                column: error.column(),
                message,
            });
        }
    };
    let mut by_id: BTreeMap<WorkspaceId, Workspace> = BTreeMap::new();
    for (page_index, page) in pages.into_iter().enumerate() {
        for (index, raw) in page.workspaces.into_iter().enumerate() {
            let entry_error = |message: String| InventoryError::Entry {
                page: page_index + 1,
                index: index + 1,
                message,
            };
            let workspace = raw.validate().map_err(entry_error)?;
            match by_id.get(&workspace.id) {
                Some(seen) if *seen != workspace => {
                    return Err(entry_error(format!(
                        "{} appears twice with different contents",
                        workspace.id
                    )));
                }
                Some(_) => {}
                None => {
                    by_id.insert(workspace.id.clone(), workspace);
                }
            }
        }
    }
    Ok(by_id.into_values().collect())
}

impl RawWorkspace {
    fn validate(self) -> Result<Workspace, String> {
        let required = |field: Option<String>, name: &str| field.ok_or(format!("missing {name}"));
        let id = WorkspaceId::new(&required(self.workspace_id, "WorkspaceId")?)
            .map_err(|e| e.to_string())?;
        let directory_id = required(self.directory_id, "DirectoryId")
            .map_err(|message| format!("{id}: {message}"))?;
        let state = required(self.state, "State").map_err(|message| format!("{id}: {message}"))?;
        let ownership = Ownership::from_tags(
            self.tags.iter().map(|tag| (tag.key.as_str(), tag.value.as_str())),
        )
        .map_err(|message| format!("{id}: {message}"))?;
        Ok(Workspace {
            owned: ownership.owned,
            created_at: ownership.created_at,
            id,
            directory_id,
            user_name: self.user_name,
            state: WorkspaceState::parse(&state),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(DirectoryId::new("d-1234567890").is_ok());
        assert!(DirectoryId::new("wsd-abcdef123").is_ok());
        assert!(DirectoryId::new("d-123").is_err());
        assert!(DirectoryId::new("D-1234567890").is_err());
        assert!(WorkspaceId::new("ws-abc123def").is_ok());
        assert!(WorkspaceId::new("ws-abc 123def").is_err());
        let error = BundleId::new("bundle-1").unwrap_err().to_string();
        assert!(error.contains("\"bundle-1\" is not a bundle id"), "{error}");
    }

    #[test]
    fn states_round_trip_and_unknown_ones_are_kept() {
        for (name, state) in &STATES {
            assert_eq!(WorkspaceState::parse(name), *state);
            assert_eq!(state.as_str(), *name);
        }
        let future = WorkspaceState::parse("HIBERNATING");
        assert_eq!(future.as_str(), "HIBERNATING");
        assert!(!future.can_terminate() && !future.is_gone() && !future.is_usable());
        assert!(!WorkspaceState::Suspended.can_terminate());
        assert!(WorkspaceState::Error.can_terminate());
    }

    #[test]
    fn describe_output_with_pages_and_tags() {
        let json = br#"[
          {"Workspaces": [{"WorkspaceId": "ws-aaaaaaaa1", "DirectoryId": "d-1234567890", "UserName": "jsmith",
                           "State": "AVAILABLE", "BundleId": "wsb-12345678",
                           "Tags": [{"Key": "wsdr:managed-by", "Value": "wsdr"},
                                    {"Key": "wsdr:created-at", "Value": "2026-01-02T03:04:05Z"}]}],
           "NextToken": "x"},
          {"Workspaces": [{"WorkspaceId": "ws-aaaaaaaa2", "DirectoryId": "d-1234567890", "UserName": "adoe",
                           "State": "STOPPED"}]}
        ]"#;
        let workspaces = parse_describe_workspaces(json).unwrap();
        assert_eq!(workspaces.len(), 2);
        assert!(workspaces[0].owned);
        assert_eq!(workspaces[0].created_at, Some("2026-01-02T03:04:05Z".parse().unwrap()));
        assert!(!workspaces[1].owned, "no tags: not owned");
    }

    #[test]
    fn bad_documents_name_the_place() {
        let error = parse_describe_workspaces(b"{\n\"Workspaces\": [,]}").unwrap_err().to_string();
        assert!(error.starts_with("line 2, column"), "{error}");
        let missing =
            br#"{"Workspaces": [{"WorkspaceId": "ws-aaaaaaaa1", "DirectoryId": "d-1234567890"}]}"#;
        let error = parse_describe_workspaces(missing).unwrap_err().to_string();
        assert_eq!(error, "page 1, WorkSpace 1: ws-aaaaaaaa1: missing State");
    }
}
