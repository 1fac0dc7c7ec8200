//! ACC-11, the sudoers files themselves: owned by root:root with mode 0440
//! or stricter, and their include directories writable by root only.

use super::{Findings, ID};
use crate::audit::AuditContext;
use crate::finding::Severity;
use crate::parse::sudoers::Sudoers;
use crate::root::FileMeta;

/// How much an owner or mode matters: writable by anyone but root lets that
/// account rewrite the policy (sudo refuses such a file, which also breaks
/// the rules in it); readable by others discloses who may do what.
fn mode_severity(m: &FileMeta) -> Severity {
    if m.uid != 0 || m.mode & 0o002 != 0 || (m.mode & 0o020 != 0 && m.gid != 0) {
        Severity::High
    } else if m.mode & 0o020 != 0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Every sudoers file owned by root:root with mode 0440 or stricter (sudo's
/// built-in SUDOERS_MODE, SUDOERS_UID and SUDOERS_GID, which visudo restores),
/// and every included directory owned by root and not writable by group or
/// others. No SSG rule of the catalogue covers this, so none is cited.
pub(super) fn file_modes(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    for src in &s.sources {
        let Some(m) = src.meta else {
            continue;
        };
        if m.uid == 0 && m.gid == 0 && m.mode & !0o440 == 0 {
            continue;
        }
        let mut observed = format!("mode {:04o}, owner {}:{}", m.mode, m.uid, m.gid);
        if let Some(why) = &src.refused {
            observed.push_str(&format!("; sudo refuses to read it ({why})"));
        }
        out.push(
            ctx.finding(
                ID,
                "a sudoers file is not owned by root:root with mode 0440",
            )
            .severity(mode_severity(&m))
            .file(&src.path)
            .observed(observed)
            .expected("mode 0440 or stricter, owner root:root (0:0)")
            .remediation(format!("chown root:root {0} && chmod 0440 {0}", src.path))
            .ssg(&[]),
        );
    }
    for d in &s.include_dirs {
        let m = d.meta;
        if m.uid == 0 && m.mode & 0o022 == 0 {
            continue;
        }
        let mut observed = format!("mode {:04o}, owner {}:{}", m.mode, m.uid, m.gid);
        if let Some(why) = &d.refused {
            observed.push_str(&format!(
                "; sudo skips the whole directory because it is {why}"
            ));
        }
        out.push(
            ctx.finding(
                ID,
                "a directory of sudoers files can be changed by others than root",
            )
            .severity(mode_severity(&m))
            .file(&d.path)
            .observed(observed)
            .expected("owned by root, not writable by group or others (0755 or 0750)")
            .remediation(format!("chown root:root {0} && chmod 0750 {0}", d.path))
            .ssg(&[]),
        );
    }
}
