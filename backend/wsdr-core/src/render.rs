//! The plan as an admin reads it before approving it: the verdict and counts first, then every action with its
//! reason. Plain text, stable (snapshot-tested), no colours: it is also what the Lambda logs.

use std::fmt::Write;

use crate::plan::Plan;

/// Kept WorkSpaces are listed one by one only up to this many (the counts always cover all of them).
const KEEP_LISTED_MAX: usize = 50;

impl Plan {
    /// Renders the plan as a readable table.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_table(&mut out);
        out
    }

    fn write_table(&self, out: &mut String) -> std::fmt::Result {
        let c = &self.counts;
        writeln!(out, "wsdr plan for directory {}", self.directory_id)?;
        match &self.blocked {
            Some(blocked) => writeln!(out, "\nBLOCKED ({:?}): {}", blocked.code, blocked.reason)?,
            None if self.is_empty() => {
                writeln!(out, "\nNothing to do: the directory matches the users list.")?
            }
            None => writeln!(out, "\nReady to apply.")?,
        }
        writeln!(out)?;
        writeln!(out, "  users listed      {:>6}", c.desired)?;
        writeln!(
            out,
            "  ready now         {:>6}  ({:.1} % of listed users have a usable DR WorkSpace)",
            c.ready,
            self.readiness() * 100.0
        )?;
        writeln!(
            out,
            "  WorkSpaces seen   {:>6}  ({} owned by wsdr in this directory)",
            c.workspaces_seen, c.owned
        )?;
        writeln!(
            out,
            "  create            {:>6}  ({} call(s) of at most 25)",
            c.create, c.create_batches
        )?;
        writeln!(out, "  adopt             {:>6}", c.adopt)?;
        writeln!(
            out,
            "  terminate         {:>6}  ({} call(s) of at most 25)",
            c.terminate, c.terminate_batches
        )?;
        writeln!(out, "  pending (grace)   {:>6}", c.pending)?;
        writeln!(out, "  keep              {:>6}", c.keep)?;
        writeln!(out, "  ignore            {:>6}", c.ignore)?;

        section(out, "Create", self.create.len())?;
        for create in &self.create {
            writeln!(
                out,
                "  + {:<24} listed, has no live WorkSpace in this directory",
                create.user
            )?;
        }
        section(out, "Adopt", self.adopt.len())?;
        for adopt in &self.adopt {
            writeln!(
                out,
                "  ~ {:<24} {:<22} {:<11} listed, untagged: gets the wsdr ownership tag",
                adopt.user, adopt.workspace_id, adopt.state
            )?;
        }
        section(out, "Terminate", self.terminate.len())?;
        for terminate in &self.terminate {
            writeln!(
                out,
                "  - {:<24} {:<22} {:<11} not an enabled listed user since {}",
                terminate.user, terminate.workspace_id, terminate.state, terminate.missing_since
            )?;
        }
        if let Some(withheld) = &self.withheld {
            section(out, "Terminations withheld", withheld.terminate.len())?;
            writeln!(out, "  ({})", withheld.reason)?;
            for terminate in &withheld.terminate {
                writeln!(
                    out,
                    "  = {:<24} {:<22} {:<11} not an enabled listed user since {}",
                    terminate.user,
                    terminate.workspace_id,
                    terminate.state,
                    terminate.missing_since
                )?;
            }
        }
        section(out, "Pending termination (grace period)", self.pending.len())?;
        for pending in &self.pending {
            writeln!(
                out,
                "  … {:<24} {:<22} not an enabled listed user since {}; due {}",
                pending.user, pending.workspace_id, pending.missing_since, pending.due_at
            )?;
        }
        section(out, "Ignore", self.ignore.len())?;
        for ignored in &self.ignore {
            let user = ignored.user.as_deref().unwrap_or("(no user)");
            writeln!(
                out,
                "  ! {:<24} {:<22} {:<11} {}",
                user, ignored.workspace_id, ignored.state, ignored.reason
            )?;
        }
        section(out, "Keep", self.keep.len())?;
        for keep in self.keep.iter().take(KEEP_LISTED_MAX) {
            let line =
                format!("  = {:<24} {:<22} {:<11}", keep.user, keep.workspace_id, keep.state);
            let note = if keep.usable { "" } else { " not usable yet" };
            writeln!(out, "{}{note}", line.trim_end())?;
        }
        if self.keep.len() > KEEP_LISTED_MAX {
            writeln!(
                out,
                "  … and {} more (--format json lists all)",
                self.keep.len() - KEEP_LISTED_MAX
            )?;
        }
        Ok(())
    }
}

fn section(out: &mut String, title: &str, count: usize) -> std::fmt::Result {
    if count > 0 {
        writeln!(out, "\n{title} ({count})")?;
    }
    Ok(())
}
