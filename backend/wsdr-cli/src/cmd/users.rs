//! `wsdr users`: what wsdr sees in a users export.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;
use wsdr_core::users::{ListedUser, Reject, UsersList, parse_users};

use crate::cli::{Format, UsersArgs};
use crate::failure::Failure;
use crate::output;

/// At most this many rejected rows are spelled out in an error message; all are in `wsdr users`' output.
const REJECTS_SHOWN: usize = 20;

pub(super) fn run(args: &UsersArgs) -> Result<(), Failure> {
    let list = read_users_list(&args.from)?;
    match args.format {
        Format::Json => output::print_json(&Report { source: &args.from, list: &list })?,
        Format::Table => output::print(&render(&list)),
    }
    if list.rejects.is_empty() { Ok(()) } else { Err(rejected(&args.from, &list.rejects)) }
}

/// Reads and parses a users export; file-level problems are bad input naming the file.
pub(super) fn read_users_list(path: &Path) -> Result<UsersList, Failure> {
    let bytes = std::fs::read(path).map_err(|error| {
        Failure::BadInput(format!("{}: cannot read the users list: {error}", path.display()))
    })?;
    parse_users(&bytes).map_err(|error| Failure::BadInput(format!("{}: {error}", path.display())))
}

/// The failure for a list with rejected rows: each row's line and reason.
pub(super) fn rejected(path: &Path, rejects: &[Reject]) -> Failure {
    let mut message = format!(
        "{}: {} row(s) could not be read, so this list is not used (a partial list could terminate WorkSpaces):",
        path.display(),
        rejects.len()
    );
    for reject in rejects.iter().take(REJECTS_SHOWN) {
        let _ = write!(message, "\n  {}: {reject}", path.display());
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

#[derive(Serialize)]
struct Report<'a> {
    source: &'a Path,
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
