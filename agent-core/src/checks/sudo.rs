//! ACC-11: privilege escalation through sudo and su.
//!
//! - no sudo rule grants commands without a password (`NOPASSWD`,
//!   SSG `sudo_remove_nopasswd`) and no `Defaults` turns authentication off
//!   (`!authenticate`, SSG `sudo_remove_no_authenticate`);
//! - commands run in a pseudo-terminal (`Defaults use_pty`, SSG
//!   `sudo_add_use_pty`), so that a command left in the background cannot
//!   push keystrokes into the administrator's terminal (TIOCSTI);
//! - sudo keeps its own log file (`Defaults logfile=…`, SSG
//!   `sudo_custom_logfile`);
//! - every sudoers file is owned by root:root with mode 0440 or stricter, and
//!   every `@includedir` directory is owned by root and not writable by others;
//! - `su` is limited to one group by pam_wheel (SSG `use_pam_wheel_group_for_su`);
//! - the `shadow` group, which can read every password hash, has no members
//!   (SSG `ensure_shadow_group_empty`).
//!
//! Lynis AUTH-9250 / AUTH-9252; IEC 62443-4-2 CR 2.1 RE2 (supervisor
//! override, least privilege); MDS2 AUTH.
//!
//! The parts, one module each: the sudoers rules and `Defaults` (`rules`),
//! the owners and modes of the sudoers files (`files`), su and pam_wheel
//! (`su`), and the `shadow` group (`shadow_group`).

use crate::audit::{AuditContext, CheckOutcome, FindingBuilder};
use crate::finding::{Finding, Severity};
use crate::parse::pam::PamStacks;
use crate::parse::sudoers::{SUDOERS_PATH, Sudoers};
use std::collections::HashSet;

mod files;
mod rules;
mod shadow_group;
mod su;

#[cfg(test)]
mod tests;

const ID: &str = "ACC-11";
const SSG_NOPASSWD: &str = "sudo_remove_nopasswd";
const SSG_NO_AUTHENTICATE: &str = "sudo_remove_no_authenticate";
const SSG_USE_PTY: &str = "sudo_add_use_pty";
const SSG_LOGFILE: &str = "sudo_custom_logfile";
const SSG_WHEEL: &str = "use_pam_wheel_group_for_su";
const SSG_SHADOW: &str = "ensure_shadow_group_empty";

/// ACC-11: sudo rules and settings, sudoers file ownership, su limited to a
/// group, and an empty `shadow` group.
pub fn acc11_sudo_su(ctx: &AuditContext<'_>) -> CheckOutcome {
    let has_sudoers = ctx.root.exists(SUDOERS_PATH);
    let pam = ctx.get::<PamStacks>();
    let su = pam.service("su");
    if !has_sudoers && su.is_none() {
        return CheckOutcome::NotApplicable(format!(
            "neither {SUDOERS_PATH} nor a PAM configuration for su (/etc/pam.d/su) exists: the image has no sudo policy and no su service to audit"
        ));
    }
    let mut out = Findings::default();
    if has_sudoers {
        let sudoers = ctx.get::<Sudoers>();
        if sudoers.present() {
            rules::nopasswd(ctx, &sudoers, &mut out);
            rules::no_authenticate(ctx, &sudoers, &mut out);
            rules::use_pty(ctx, &sudoers, &mut out);
            rules::logfile(ctx, &sudoers, &mut out);
        }
        files::file_modes(ctx, &sudoers, &mut out);
    }
    if let Some(stack) = su {
        su::su_wheel(ctx, stack, &pam.service_path("su"), &mut out);
    }
    shadow_group::shadow_group(ctx, &mut out);
    CheckOutcome::Ran(out.finish(ctx))
}

/// Most findings listed one by one; a hostile image with a million NOPASSWD
/// lines gets this many and one summary, not a report of gigabytes.
const MAX_FINDINGS: usize = 500;

/// Findings without duplicates: a file included twice is read twice (as
/// sudo does), but each weakness is reported once. Beyond [`MAX_FINDINGS`]
/// they are counted, with the worst severity among them.
#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
    seen: HashSet<(String, String)>,
    dropped: usize,
    dropped_worst: Option<Severity>,
}

impl Findings {
    fn push(&mut self, b: FindingBuilder) {
        let f = b.build();
        if !self.seen.insert((f.title.clone(), f.location())) {
            return;
        }
        if self.list.len() >= MAX_FINDINGS {
            // Only the key is kept, to stay deduplicated at a bounded cost.
            self.dropped = self.dropped.saturating_add(1);
            self.dropped_worst = self.dropped_worst.max(Some(f.severity));
            return;
        }
        self.list.push(f);
    }

    fn finish(mut self, ctx: &AuditContext<'_>) -> Vec<Finding> {
        if let Some(sev) = self.dropped_worst {
            self.list.push(
                ctx.finding(
                    ID,
                    format!(
                        "{} more sudo/su weaknesses are not listed (first {MAX_FINDINGS} shown)",
                        self.dropped
                    ),
                )
                .severity(sev)
                .file(SUDOERS_PATH)
                .observed(format!("{} further findings of ACC-11", self.dropped))
                .expected("no findings")
                .remediation("Fix the findings listed, then audit again to see the rest.")
                .build(),
            );
        }
        self.list
    }
}
