//! Session checks (CHECKS.md "User management"): ACC-12 default umask
//! ([`umask`]), SES-01 graphical session lock and no automatic login
//! ([`lock`]), SES-02 idle time-outs of shells, logind and SSH ([`timeouts`]).
//!
//! Each reads parsed inputs (shell start-up files, dconf, GDM, LightDM,
//! console logins, logind, login.defs, PAM, sshd_config) through the audit
//! context, so it runs the same on `/` and on an extracted image, and points
//! every finding at the file and line that causes it (or at the file that
//! should hold a missing setting).

use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Diagnostic;

pub mod lock;
pub mod timeouts;
pub mod umask;

#[cfg(test)]
mod tests;

pub use lock::{MAX_LOCK_DELAY_SECS, ses01_graphical_lock};
pub use timeouts::{ses02_idle_timeouts, sshd_time_secs};
pub use umask::acc12_umask;

/// A value read from an input file, quoted and escaped for a report (a
/// hostile value cannot inject terminal escapes or fake report lines).
fn q(s: &str) -> String {
    format!("{s:?}")
}

fn na(reason: &str) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.to_owned())
}

/// Reports an input the check cannot interpret (not a weakness by itself).
fn warn_at(ctx: &AuditContext<'_>, file: &str, line: u32, field: &str, message: String) {
    ctx.warn(Diagnostic {
        file: file.to_owned(),
        line: Some(line),
        field: Some(field.to_owned()),
        message,
    });
}
