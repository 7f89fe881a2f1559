//! `wsdr plan`: the plan reconciliation would carry out, offline.

use std::collections::BTreeSet;
use std::path::Path;

use wsdr_core::plan::{MissingSince, plan};
use wsdr_core::policy::Policy;
use wsdr_core::workspace::{DirectoryId, Workspace, parse_describe_workspaces};

use super::users::UsersSource;
use crate::cli::{Format, PlanArgs};
use crate::failure::Failure;
use crate::{clock, output};

pub(super) fn run(args: &PlanArgs) -> Result<(), Failure> {
    let desired = UsersSource::parse(&args.users)?.desired(&args.directory)?;
    let current = read_workspaces(&args.workspaces)?;
    let directory_id = directory_id(args.directory_id.as_deref(), &current, &args.workspaces)?;
    let policy = Policy::new(directory_id, args.policy.limits())
        .map_err(|error| Failure::BadInput(error.to_string()))?;
    let now = args.now.unwrap_or_else(clock::now);

    let plan = plan(&desired, &current, &MissingSince::new(), &policy, now);
    match args.format {
        Format::Json => output::print_json(&plan)?,
        Format::Table => output::print(&plan.render_table()),
    }
    match plan.blocked {
        Some(blocked) => Err(Failure::Blocked(blocked.reason)),
        None => Ok(()),
    }
}

fn read_workspaces(path: &Path) -> Result<Vec<Workspace>, Failure> {
    let bad = |message: String| Failure::BadInput(format!("{}: {message}", path.display()));
    let bytes = std::fs::read(path)
        .map_err(|error| bad(format!("cannot read the WorkSpaces snapshot: {error}")))?;
    parse_describe_workspaces(&bytes).map_err(|error| bad(error.to_string()))
}

/// The directory to plan for: the flag, or the snapshot's only directory.
fn directory_id(
    flag: Option<&str>,
    current: &[Workspace],
    path: &Path,
) -> Result<DirectoryId, Failure> {
    let raw = match flag {
        Some(raw) => raw.to_owned(),
        None => {
            let seen: BTreeSet<&str> = current.iter().map(|w| w.directory_id.as_str()).collect();
            match seen.into_iter().collect::<Vec<_>>()[..] {
                [only] => only.to_owned(),
                [] => {
                    return Err(Failure::BadInput(format!(
                        "{}: no WorkSpaces, so no directory to plan for: pass --directory-id",
                        path.display()
                    )));
                }
                ref several => {
                    return Err(Failure::BadInput(format!(
                        "{}: WorkSpaces of several directories ({}): pass --directory-id",
                        path.display(),
                        several.join(", ")
                    )));
                }
            }
        }
    };
    DirectoryId::new(&raw).map_err(|error| Failure::BadInput(format!("--directory-id: {error}")))
}
