//! ACC-11, su limited to one group: an enforcing pam_wheel rule in the su
//! auth stack that no earlier rule can bypass (SSG `use_pam_wheel_group_for_su`).

use super::{Findings, ID, SSG_WHEEL};
use crate::audit::AuditContext;
use crate::finding::Severity;
use crate::parse::pam::{PamControl, PamRule, PamType};

/// True when success of this rule may end the auth stack at once (a
/// `sufficient` rule, or an action `done`): later rules do not run.
fn success_ends_stack(c: &PamControl) -> bool {
    match c {
        PamControl::Sufficient => true,
        PamControl::Complex(_) => c.action("success") == Some("done"),
        _ => false,
    }
}

/// True when a failure of this rule fails the stack: pam_wheel returns
/// PAM_PERM_DENIED for a caller outside the group (pam_wheel(8)).
fn failure_fails_stack(c: &PamControl) -> bool {
    match c {
        PamControl::Required | PamControl::Requisite => true,
        PamControl::Complex(_) => matches!(c.action("perm_denied"), Some("bad" | "die")),
        _ => false,
    }
}

/// True when a numeric jump of a complex control at index `from` (e.g.
/// `[success=2 default=ignore]`) skips the rule at index `target`.
fn jumps_over(c: &PamControl, from: usize, target: usize) -> bool {
    let PamControl::Complex(pairs) = c else {
        return false;
    };
    pairs.iter().any(|(_, a)| {
        a.parse::<usize>()
            .ok()
            .and_then(|n| from.checked_add(n))
            .is_some_and(|end| from < target && target <= end)
    })
}

/// su limited to one group: `auth required pam_wheel.so use_uid [group=…]`
/// in the su stack (pam_wheel(8): "use_uid: The check for wheel membership
/// will be done against the current uid instead of the original one"; the
/// group defaults to `wheel`). It must not be bypassed by an earlier auth
/// rule whose success ends the stack (except pam_rootok, which only lets root
/// through) or jumps over it, and `trust` must not let members in without a
/// password.
pub(super) fn su_wheel(
    ctx: &AuditContext<'_>,
    stack: &[PamRule],
    service_file: &str,
    out: &mut Findings,
) {
    let want = ctx.config.accounts.su_group.trim();
    let expected = if want.is_empty() {
        "auth required pam_wheel.so use_uid [group=<admin group>], before any rule that can end the auth stack".to_owned()
    } else {
        format!(
            "auth required pam_wheel.so use_uid group={want}, before any rule that can end the auth stack"
        )
    };
    let remediation = format!(
        "Add `auth required pam_wheel.so use_uid group={}` near the top of {service_file} (after pam_rootok), and keep that group limited to the administrators who need su.",
        if want.is_empty() {
            "<admin group>"
        } else {
            want
        }
    );
    let auth: Vec<&PamRule> = stack.iter().filter(|r| r.kind == PamType::Auth).collect();
    let mut limited = false;
    let mut reported = false;
    for (i, r) in auth.iter().enumerate() {
        if r.module_name() != "pam_wheel" {
            continue;
        }
        let group = r.arg("group").filter(|g| !g.is_empty()).unwrap_or("wheel");
        let deny = r.has_arg("deny");
        if r.has_arg("trust") && !deny && success_ends_stack(&r.control) {
            out.push(
                ctx.finding(
                    ID,
                    format!(
                        "members of group {group} may su without any password (pam_wheel trust)"
                    ),
                )
                .severity(Severity::High)
                .at(&r.file, r.line)
                .observed(format!(
                    "auth {} pam_wheel.so {}",
                    r.control,
                    r.args.join(" ")
                ))
                .expected(expected.clone())
                .remediation(remediation.clone())
                .ssg(&[SSG_WHEEL]),
            );
            reported = true;
            continue;
        }
        // `deny` reverses the test (members are refused), and a control that
        // ignores the failure does not limit anything.
        if deny || !failure_fails_stack(&r.control) {
            continue;
        }
        let problem = if !r.has_arg("use_uid") {
            Some("without use_uid it checks the name the user logged in with, not the account running su".to_owned())
        } else if !want.is_empty() && group != want {
            Some(format!(
                "it allows group {group}, but the policy (accounts.su_group) asks for {want}"
            ))
        } else {
            auth.get(..i)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .find(|(j, b)| {
                    (b.module_name() != "pam_rootok" && success_ends_stack(&b.control))
                        || jumps_over(&b.control, *j, i)
                })
                .map(|(_, b)| {
                    format!(
                        "{} at {} can end or skip the stack before it runs",
                        b.module_name(),
                        b.location()
                    )
                })
        };
        match problem {
            None => limited = true,
            Some(p) => {
                out.push(
                    ctx.finding(ID, "su is not effectively limited to a group")
                        .severity(Severity::Medium)
                        .at(&r.file, r.line)
                        .observed(format!(
                            "auth {} pam_wheel.so {}: {p}",
                            r.control,
                            r.args.join(" ")
                        ))
                        .expected(expected.clone())
                        .remediation(remediation.clone())
                        .ssg(&[SSG_WHEEL]),
                );
                reported = true;
            }
        }
    }
    if !limited && !reported {
        out.push(
            ctx.finding(
                ID,
                "any user who knows root's password can su to root (su not limited to a group)",
            )
            .severity(Severity::Medium)
            .file(service_file)
            .observed("no enforcing pam_wheel rule in the su auth stack")
            .expected(expected)
            .remediation(remediation)
            .ssg(&[SSG_WHEEL]),
        );
    }
}
