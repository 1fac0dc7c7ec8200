//! ACC-11, the `shadow` group: no members in /etc/group or /etc/gshadow, and
//! no account with it as primary group (SSG `ensure_shadow_group_empty`).

use super::{Findings, ID, SSG_SHADOW};
use crate::audit::AuditContext;
use crate::parse::accounts::Accounts;

/// The `shadow` group reads /etc/shadow (Debian: `-rw-r----- root shadow`), so
/// every member, primary or secondary, can take every password hash offline.
pub(super) fn shadow_group(ctx: &AuditContext<'_>, out: &mut Findings) {
    let acc = ctx.get::<Accounts>();
    let Some(g) = acc.group_named("shadow") else {
        return;
    };
    let remediation = "Remove every user from the shadow group (gpasswd -d USER shadow); only root and set-gid helpers such as unix_chkpwd need it.";
    if !g.members.is_empty() {
        out.push(
            ctx.finding(
                ID,
                "the shadow group has members, who can read every password hash",
            )
            .at(acc.group.path_or("/etc/group"), g.line)
            .observed(format!("members: {}", g.members.join(", ")))
            .expected("shadow:x:GID: with no members")
            .remediation(remediation)
            .ssg(&[SSG_SHADOW]),
        );
    }
    if let Some(gs) = acc.gshadow.entries.iter().find(|x| x.name == "shadow") {
        if !gs.members.is_empty() || !gs.admins.is_empty() {
            out.push(
                ctx.finding(
                    ID,
                    "the shadow group has members or administrators in /etc/gshadow",
                )
                .at(acc.gshadow.path_or("/etc/gshadow"), gs.line)
                .observed(format!(
                    "administrators: {}; members: {}",
                    or_none(&gs.admins),
                    or_none(&gs.members)
                ))
                .expected("shadow:!:: with no administrators and no members")
                .remediation(remediation)
                .ssg(&[SSG_SHADOW]),
            );
        }
    }
    for u in acc.passwd.entries.iter().filter(|u| u.gid == g.gid) {
        out.push(
            ctx.finding(
                ID,
                format!("{} has the shadow group as primary group", u.name),
            )
            .at(acc.passwd.path_or("/etc/passwd"), u.line)
            .observed(format!("{}: primary GID {} (shadow)", u.name, u.gid))
            .expected("no account with the shadow group as primary group")
            .remediation(format!(
                "Give {} its own primary group (usermod -g GROUP {}).",
                u.name, u.name
            ))
            .ssg(&[SSG_SHADOW]),
        );
    }
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}
