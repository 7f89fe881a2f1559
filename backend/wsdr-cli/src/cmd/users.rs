//! `wsdr users`: what wsdr sees in a users source (an export, or the directory itself).

use std::fmt::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use wsdr_aws::ErrorKind;
use wsdr_aws::s3::{S3Location, S3Store};
use wsdr_core::directory::EntryReject;
use wsdr_core::users::{DesiredUsers, ListedUser, Reject, UsersList, parse_users};
use wsdr_ldap::{DirectoryRead, DirectoryUrl};

use super::{aws, directory};
use crate::cli::{DirectoryArgs, Format, UsersArgs};
use crate::failure::Failure;
use crate::output;

/// At most this many rejected rows are spelled out in an error message; all are in `wsdr users`' output.
const REJECTS_SHOWN: usize = 20;

pub(super) fn run(args: &UsersArgs) -> Result<(), Failure> {
    let source = UsersSource::parse(&args.from)?;
    if let UsersSource::Directory(url) = &source {
        return run_directory(url, args);
    }
    let list = source.read_list()?;
    let label = source.to_string();
    match args.format {
        Format::Json => output::print_json(&Report { source: &label, list: &list })?,
        Format::Table => output::print(&render(&list)),
    }
    if list.rejects.is_empty() { Ok(()) } else { Err(rejected(&label, &list.rejects)) }
}

/// Where a users list comes from: a local file or an object in S3 (read with the standard AWS environment), or
/// the directory.
#[derive(Clone, Debug)]
pub(super) enum UsersSource {
    /// A file.
    File(PathBuf),
    /// `s3://BUCKET/KEY`.
    S3(S3Location),
    /// `ldaps://HOST[:PORT]/OU=…` (or `ldap://…` for StartTLS).
    Directory(DirectoryUrl),
}

impl UsersSource {
    /// `ldaps://…`, `ldap://…`, `s3://BUCKET/KEY` or a path.
    pub(super) fn parse(raw: &str) -> Result<UsersSource, Failure> {
        if DirectoryUrl::is_directory_url(raw) {
            let url = raw.parse().map_err(|error| Failure::BadInput(format!("{error}")))?;
            return Ok(UsersSource::Directory(url));
        }
        if raw.starts_with("s3://") {
            let location = raw.parse().map_err(|error| Failure::BadInput(format!("{error}")))?;
            return Ok(UsersSource::S3(location));
        }
        Ok(UsersSource::File(PathBuf::from(raw)))
    }

    /// The export's bytes (not for a directory, which has no export).
    pub(super) fn read(&self) -> Result<Vec<u8>, Failure> {
        match self {
            UsersSource::Directory(url) => {
                Err(Failure::BadInput(format!("{url}: a directory, not an export file")))
            }
            UsersSource::File(path) => std::fs::read(path).map_err(|error| {
                Failure::BadInput(format!(
                    "{}: cannot read the users list: {error}",
                    path.display()
                ))
            }),
            UsersSource::S3(location) => aws::block_on(async {
                let clients = aws::clients(None).await?;
                let object = S3Store::new(clients.s3).get(location).await.map_err(|error| {
                    if error.kind == ErrorKind::NotFound {
                        Failure::BadInput(format!("{location}: no such users list"))
                    } else {
                        aws::failure(error)
                    }
                })?;
                Ok(object.bytes)
            })?,
        }
    }

    /// Reads and parses the export; file-level problems are bad input naming the source.
    pub(super) fn read_list(&self) -> Result<UsersList, Failure> {
        parse_users(&self.read()?).map_err(|error| Failure::BadInput(format!("{self}: {error}")))
    }

    /// The desired users from any source: every row or entry read, or a failure naming each one that was not.
    pub(super) fn desired(&self, directory: &DirectoryArgs) -> Result<DesiredUsers, Failure> {
        match self {
            UsersSource::Directory(url) => {
                let read = directory::read(url, directory)?;
                read.users
                    .into_desired()
                    .map_err(|rejected| rejected_entries(url, &rejected.rejects))
            }
            _ => self
                .read_list()?
                .into_desired()
                .map_err(|rows| rejected(&self.to_string(), &rows.rejects)),
        }
    }
}

impl fmt::Display for UsersSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsersSource::File(path) => write!(f, "{}", path.display()),
            UsersSource::S3(location) => write!(f, "{location}"),
            UsersSource::Directory(url) => write!(f, "{url}"),
        }
    }
}

/// The failure for a list with rejected rows: each row's line and reason.
pub(super) fn rejected(source: &str, rejects: &[Reject]) -> Failure {
    let mut message = format!(
        "{source}: {} row(s) could not be read, so this list is not used (a partial list could terminate WorkSpaces):",
        rejects.len()
    );
    for reject in rejects.iter().take(REJECTS_SHOWN) {
        let _ = write!(message, "\n  {source}: {reject}");
    }
    if rejects.len() > REJECTS_SHOWN {
        let _ = write!(
            message,
            "\n  … and {} more (wsdr users --from FILE lists all)",
            rejects.len() - REJECTS_SHOWN
        );
    }
    Failure::BadInput(message)
}

/// The failure for a directory result with unreadable entries: each entry's DN and reason.
pub(super) fn rejected_entries(url: &DirectoryUrl, rejects: &[EntryReject]) -> Failure {
    let mut message = format!(
        "{url}: {} entr(ies) could not be read, so this list is not used (a partial list could terminate WorkSpaces):",
        rejects.len()
    );
    for reject in rejects.iter().take(REJECTS_SHOWN) {
        let _ = write!(message, "\n  {}: {}", reject.dn, reject.reason);
    }
    if rejects.len() > REJECTS_SHOWN {
        let _ = write!(
            message,
            "\n  … and {} more (wsdr users --from {url} lists all)",
            rejects.len() - REJECTS_SHOWN
        );
    }
    Failure::BadInput(message)
}

/// `wsdr users --from ldaps://…`: the users the directory holds, and the entries it could not read.
fn run_directory(url: &DirectoryUrl, args: &UsersArgs) -> Result<(), Failure> {
    let read = directory::read(url, &args.directory)?;
    let label = url.to_string();
    match args.format {
        Format::Json => output::print_json(&DirectoryReport { source: &label, read: &read })?,
        Format::Table => output::print(&render_directory(&read)),
    }
    if read.users.rejects.is_empty() {
        Ok(())
    } else {
        Err(rejected_entries(url, &read.users.rejects))
    }
}

#[derive(Serialize)]
struct DirectoryReport<'a> {
    source: &'a str,
    #[serde(flatten)]
    read: &'a DirectoryRead,
}

fn render_directory(read: &DirectoryRead) -> String {
    let users = &read.users;
    let mut out = format!(
        "{} enabled user(s) in {} entr(ies), {} page(s)\n",
        users.enabled.len(),
        read.entries,
        read.pages
    );
    for user in users.enabled.values() {
        let _ = writeln!(
            out,
            "  {:<28} {:<40} {}",
            user.name.as_str(),
            user.upn.as_deref().unwrap_or_default(),
            user.dn
        );
    }
    if !users.duplicates.is_empty() {
        let _ = writeln!(
            out,
            "\n{} duplicate entr(ies), collapsed into the first",
            users.duplicates.len()
        );
        for duplicate in &users.duplicates {
            let _ = writeln!(
                out,
                "  {}: {:?} (same user as {})",
                duplicate.dn, duplicate.spelling, duplicate.first_dn
            );
        }
    }
    if !users.rejects.is_empty() {
        let _ = writeln!(out, "\n{} rejected entr(ies)", users.rejects.len());
        for reject in &users.rejects {
            let _ = writeln!(out, "  {}: {}", reject.dn, reject.reason);
        }
    }
    out
}

#[derive(Serialize)]
struct Report<'a> {
    source: &'a str,
    #[serde(flatten)]
    list: &'a UsersList,
}

fn render(list: &UsersList) -> String {
    let mut out = String::new();
    let line = |user: &ListedUser| match &user.upn {
        Some(upn) => format!("  {:<28} {upn:<40} line {}\n", user.name.as_str(), user.line),
        None => format!("  {:<28} {:<40} line {}\n", user.name.as_str(), "", user.line),
    };
    let _ = writeln!(
        out,
        "{} enabled user(s), read as {} ({:?} format)",
        list.enabled.len(),
        list.encoding,
        list.format
    );
    list.enabled.values().for_each(|user| out.push_str(&line(user)));
    if !list.disabled.is_empty() {
        let _ = writeln!(out, "\n{} disabled user(s), not desired", list.disabled.len());
        list.disabled.values().for_each(|user| out.push_str(&line(user)));
    }
    if !list.duplicates.is_empty() {
        let _ =
            writeln!(out, "\n{} duplicate row(s), collapsed into the first", list.duplicates.len());
        for duplicate in &list.duplicates {
            let _ = writeln!(
                out,
                "  line {}: {:?} (first on line {})",
                duplicate.line, duplicate.spelling, duplicate.first_line
            );
        }
    }
    if !list.rejects.is_empty() {
        let _ = writeln!(out, "\n{} rejected row(s)", list.rejects.len());
        list.rejects.iter().for_each(|reject| {
            let _ = writeln!(out, "  {reject}");
        });
    }
    out
}
