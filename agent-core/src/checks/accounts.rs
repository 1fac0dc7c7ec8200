//! Account checks (CHECKS.md "User management"): ACC-01 UID 0, ACC-02 unique
//! identifiers, ACC-03 shadowed passwords, ACC-05 password aging, ACC-09
//! system accounts and shells, ACC-10 root password and rescue mode, ACC-13
//! account file modes, ACC-14 home directories.
//!
//! Every check reads the parsed [`Accounts`], [`LoginDefs`] and
//! [`UseraddDefaults`] of the audit and the root's metadata, so it runs the
//! same on `/` and on an extracted image. Each is linear in the number of
//! accounts (hash lookups, never pairwise comparisons): a device with 100,000
//! directory-synchronised accounts is audited in one pass. Findings describe
//! password fields ([`HashKind::describe`]) and never copy them.
//!
//! One submodule per idea: `identity` (ACC-01 to ACC-03), `aging` (ACC-05),
//! `shells` (ACC-09), `rescue` (ACC-10), `files` (ACC-13) and `homes`
//! (ACC-14); this file keeps what several of them share.
//!
//! [`Accounts`]: crate::parse::accounts::Accounts
//! [`UseraddDefaults`]: crate::parse::logindefs::UseraddDefaults
//! [`HashKind::describe`]: crate::parse::accounts::HashKind::describe

use crate::audit::{AuditContext, CheckOutcome, Source};
use crate::finding::Diagnostic;
use crate::parse::accounts::PasswdEntry;
use crate::parse::logindefs::{LoginDefs, parse_number};
use crate::root::{FileKind, FileMeta};

mod aging;
mod files;
mod homes;
mod identity;
mod rescue;
mod shells;

#[cfg(test)]
mod tests;

pub use aging::acc05_aging;
pub use files::acc13_file_modes;
pub use homes::acc14_homes;
pub use identity::{acc01_uid_zero, acc02_unique_ids, acc03_shadowed};
pub use rescue::acc10_root_password;
pub use shells::acc09_system_shells;

const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";

/// The overflow UID (`nobody`): a system account whatever `UID_MIN` says.
const OVERFLOW_UID: u32 = 65_534;

/// passwd(5): "If this field is empty, it defaults to the value /bin/sh."
fn login_shell(u: &PasswdEntry) -> &str {
    if u.shell.is_empty() {
        "/bin/sh"
    } else {
        &u.shell
    }
}

/// A value read from an input file, quoted and escaped for a report (a
/// hostile name cannot inject terminal escapes or fake report lines).
fn q(s: &str) -> String {
    format!("{s:?}")
}

fn na(reason: &str) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.to_owned())
}

/// The first UID of human users: `UID_MIN` of login.defs (as useradd(8)
/// reads it), else `accounts.uid_min`. Loaded once per audit, so a bad value
/// is reported once.
struct UidMin(u32);

impl Source for UidMin {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let fallback = ctx.config.accounts.uid_min;
        let defs = ctx.get::<LoginDefs>();
        let Some(s) = defs.0.get("UID_MIN") else {
            return UidMin(fallback);
        };
        match parse_number(&s.value).and_then(|v| u32::try_from(v).ok()) {
            Some(v) => UidMin(v),
            None => {
                ctx.warn(Diagnostic {
                    file: s.file.clone(),
                    line: Some(s.line),
                    field: Some("UID_MIN".to_owned()),
                    message: format!(
                        "{} is not a UID; using accounts.uid_min = {fallback}",
                        q(&s.value)
                    ),
                });
                UidMin(fallback)
            }
        }
    }
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "a regular file",
        FileKind::Dir => "a directory",
        FileKind::Symlink => "a symbolic link",
        FileKind::Other => "a device, FIFO or socket",
    }
}

fn describe_meta(m: &FileMeta) -> String {
    format!("mode {:04o} owner {}:{}", m.mode, m.uid, m.gid)
}
