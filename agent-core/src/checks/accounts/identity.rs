//! ACC-01 (only root has UID 0), ACC-02 (unique identifiers) and ACC-03
//! (shadowed passwords): who the accounts are, as passwd, group and shadow
//! name them.

use super::{PASSWD, SHADOW, na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use crate::parse::accounts::{Accounts, HashKind, PasswdEntry};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

const GROUP: &str = "/etc/group";

// ---------------------------------------------------------------- ACC-01

/// ACC-01 (Lynis AUTH-9204; SSG accounts_no_uid_except_zero,
/// accounts_root_gid_zero): only root has UID 0, and root's primary group is 0.
pub fn acc01_uid_zero(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no local accounts to check");
    };
    let mut out = Vec::new();
    for u in &acc.passwd.entries {
        // The kernel checks the number, not the name: every UID 0 account is
        // a full superuser, usually a forgotten test account or a backdoor.
        if u.uid == 0 && u.name != "root" {
            out.push(
                ctx.finding(
                    "ACC-01",
                    format!("account {} has UID 0: a second superuser", q(&u.name)),
                )
                .severity(Severity::Critical)
                .at(passwd, u.line)
                .observed(format!("{} with UID 0", q(&u.name)))
                .expected("only root has UID 0")
                .remediation(
                    "Remove the account, or give it its own UID (usermod -u) \
                    after checking which files it owns.",
                )
                .ssg(&["accounts_no_uid_except_zero"])
                .build(),
            );
        }
    }
    if let Some(root) = acc.user("root") {
        if root.gid != 0 {
            out.push(
                ctx.finding("ACC-01", "root's primary group is not GID 0")
                    .severity(Severity::High)
                    .at(passwd, root.line)
                    .observed(format!("root with primary GID {}", root.gid))
                    .expected("root with primary GID 0")
                    .remediation(
                        "Set root's primary group back to 0 (usermod -g 0 root): \
                        files root creates would otherwise belong to another \
                        group.",
                    )
                    .ssg(&["accounts_root_gid_zero"])
                    .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-02

/// ACC-02 (Lynis AUTH-9208, AUTH-9222, AUTH-9226; SSG account_unique_id,
/// account_unique_name, group_unique_id, group_unique_name,
/// gid_passwd_group_same): unique UIDs, user names, GIDs and group names, and
/// every primary GID has a group. Each duplicate is reported at its later
/// line and names the first; one pass with hash maps.
pub fn acc02_unique_ids(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    if !acc.passwd.present() && !acc.group.present() {
        return na("/etc/passwd and /etc/group are absent: there are no identifiers to compare");
    }
    let passwd = acc.passwd.path_or(PASSWD);
    let group = acc.group.path_or(GROUP);
    let mut out = Vec::new();
    let mut first_uid: HashMap<u32, &PasswdEntry> =
        HashMap::with_capacity(acc.passwd.entries.len());
    for u in &acc.passwd.entries {
        // Two accounts with one UID are one identity to the kernel: audit
        // records and file ownership cannot tell them apart (CR 1.1 RE1).
        match first_uid.entry(u.uid) {
            Entry::Occupied(first) => {
                let first = *first.get();
                out.push(
                    ctx.finding(
                        "ACC-02",
                        format!(
                            "UID {} is shared by {} and {}",
                            u.uid,
                            q(&first.name),
                            q(&u.name)
                        ),
                    )
                    .severity(Severity::High)
                    .at(passwd, u.line)
                    .observed(format!(
                        "{} has UID {}, already used by {} at {passwd}:{}",
                        q(&u.name),
                        u.uid,
                        q(&first.name),
                        first.line
                    ))
                    .expected("each UID used by one account")
                    .remediation(
                        "Give each account its own UID (usermod -u) and fix the \
                            ownership of its files.",
                    )
                    .ssg(&["account_unique_id"])
                    .build(),
                );
            }
            Entry::Vacant(v) => {
                v.insert(u);
            }
        }
        // glibc's getpwnam() returns the first entry: a later one of the same
        // name is unreachable by name but still owns its UID.
        if let Some(first) = acc.user(&u.name).filter(|f| f.line != u.line) {
            out.push(
                ctx.finding("ACC-02", format!("user name {} appears twice", q(&u.name)))
                    .severity(Severity::High)
                    .at(passwd, u.line)
                    .observed(format!("{} also at {passwd}:{}", q(&u.name), first.line))
                    .expected("each user name once")
                    .remediation("Remove or rename the duplicate entry (vipw).")
                    .ssg(&["account_unique_name"])
                    .build(),
            );
        }
        if acc.group.present() && acc.group_by_gid(u.gid).is_none() {
            out.push(
                ctx.finding(
                    "ACC-02",
                    format!("primary GID {} of {} has no group", u.gid, q(&u.name)),
                )
                .severity(Severity::Low)
                .at(passwd, u.line)
                .observed(format!(
                    "{} has primary GID {}, not defined in {group}",
                    q(&u.name),
                    u.gid
                ))
                .expected("every primary GID defined in /etc/group")
                .remediation(
                    "Create the group (groupadd -g) or change the account's \
                        primary group; a group created later with that GID would \
                        inherit the account's files.",
                )
                .ssg(&["gid_passwd_group_same"])
                .build(),
            );
        }
    }
    if acc.passwd.present() && !acc.group.present() {
        out.push(
            ctx.finding(
                "ACC-02",
                "/etc/group is absent: no primary GID resolves to a group",
            )
            .severity(Severity::Low)
            .file(GROUP)
            .observed("/etc/group absent")
            .expected("/etc/group defining every primary GID")
            .remediation("Restore /etc/group (grpconv, or from the image's build).")
            .ssg(&["gid_passwd_group_same"])
            .build(),
        );
    }
    for g in &acc.group.entries {
        if let Some(first) = acc.group_by_gid(g.gid).filter(|f| f.line != g.line) {
            out.push(
                ctx.finding(
                    "ACC-02",
                    format!(
                        "GID {} is shared by groups {} and {}",
                        g.gid,
                        q(&first.name),
                        q(&g.name)
                    ),
                )
                .severity(Severity::Medium)
                .at(group, g.line)
                .observed(format!(
                    "{} has GID {}, already used by {} at {group}:{}",
                    q(&g.name),
                    g.gid,
                    q(&first.name),
                    first.line
                ))
                .expected("each GID used by one group")
                .remediation(
                    "Give each group its own GID (groupmod -g) and fix group \
                        ownership of its files.",
                )
                .ssg(&["group_unique_id"])
                .build(),
            );
        }
        if let Some(first) = acc.group_named(&g.name).filter(|f| f.line != g.line) {
            out.push(
                ctx.finding("ACC-02", format!("group name {} appears twice", q(&g.name)))
                    .severity(Severity::Medium)
                    .at(group, g.line)
                    .observed(format!("{} also at {group}:{}", q(&g.name), first.line))
                    .expected("each group name once")
                    .remediation("Remove or rename the duplicate entry (vigr).")
                    .ssg(&["group_unique_name"])
                    .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- ACC-03

/// ACC-03 (Lynis AUTH-9283; SSG accounts_password_all_shadowed,
/// no_empty_passwords_etc_shadow): every passwd entry says `x` so that the
/// hash lives in the unreadable shadow file; no empty password field.
pub fn acc03_shadowed(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    if !acc.passwd.present() && !acc.shadow.present() {
        return na("/etc/passwd and /etc/shadow are absent: there are no passwords to check");
    }
    let passwd = acc.passwd.path_or(PASSWD);
    let shadow = acc.shadow.path_or(SHADOW);
    let mut out = Vec::new();
    let mut any_shadowed = false;
    for u in &acc.passwd.entries {
        match u.password.as_str() {
            "x" => {
                any_shadowed = true;
                if acc.shadow.present() && acc.shadow_of(&u.name).is_none() {
                    out.push(
                        ctx.finding(
                            "ACC-03",
                            format!("{} has no entry in /etc/shadow", q(&u.name)),
                        )
                        .severity(Severity::Low)
                        .at(passwd, u.line)
                        .observed(format!(
                            "{} shadowed (x) without a shadow entry",
                            q(&u.name)
                        ))
                        .expected("a shadow entry for every account (pwck)")
                        .remediation(
                            "Run pwconv (or pwck) to add the entry, then lock or set \
                                the password; without it the account has no aging and its \
                                lock state is undefined.",
                        )
                        .ssg(&["accounts_password_all_shadowed"])
                        .build(),
                    );
                }
            }
            // pam_unix and glibc use a non-`x` field directly: empty means
            // no password at all.
            "" => out.push(
                ctx.finding(
                    "ACC-03",
                    format!(
                        "{} has an empty password field in /etc/passwd: no password \
                    needed",
                        q(&u.name)
                    ),
                )
                .severity(Severity::Critical)
                .at(passwd, u.line)
                .observed(format!("{}: empty password field", q(&u.name)))
                .expected("x (password kept in /etc/shadow)")
                .remediation(
                    "Put x in the field (pwconv) and lock or set the password \
                        (passwd -l / passwd).",
                )
                .ssg(&["accounts_password_all_shadowed"])
                .build(),
            ),
            other => {
                let kind = HashKind::of(other);
                let (sev, why) = if kind == HashKind::Locked {
                    (
                        Severity::Low,
                        "a lock marker in /etc/passwd (not shadowed)".to_owned(),
                    )
                } else {
                    // /etc/passwd is world-readable: any local user can copy
                    // the hash and crack it offline.
                    (
                        Severity::High,
                        format!("a {} hash in world-readable /etc/passwd", kind.describe()),
                    )
                };
                out.push(
                    ctx.finding(
                        "ACC-03",
                        format!("password of {} is not shadowed", q(&u.name)),
                    )
                    .severity(sev)
                    .at(passwd, u.line)
                    .observed(format!("{}: {why}", q(&u.name)))
                    .expected("x (password kept in /etc/shadow)")
                    .remediation(
                        "Run pwconv to move the password to /etc/shadow, then \
                            change it: the old hash has been readable by everyone.",
                    )
                    .ssg(&["accounts_password_all_shadowed"])
                    .build(),
                );
            }
        }
    }
    if !acc.shadow.present() && any_shadowed {
        out.push(
            ctx.finding(
                "ACC-03",
                "/etc/shadow is absent although /etc/passwd refers to it",
            )
            .severity(Severity::Medium)
            .file(SHADOW)
            .observed("/etc/shadow absent")
            .expected("/etc/shadow with an entry for every account")
            .remediation("Recreate /etc/shadow (pwconv) and set or lock every password.")
            .ssg(&["accounts_password_all_shadowed"])
            .build(),
        );
    }
    for s in &acc.shadow.entries {
        if s.password.is_empty() {
            out.push(
                ctx.finding(
                    "ACC-03",
                    format!(
                        "{} has an empty password in /etc/shadow: no password needed",
                        q(&s.name)
                    ),
                )
                .severity(Severity::Critical)
                .at(shadow, s.line)
                .observed(format!("{}: empty password field", q(&s.name)))
                .expected(
                    "a strong hash, or ! / * when the account must not log in with a password",
                )
                .remediation("Lock the account (passwd -l) or set a password (passwd).")
                .ssg(&["no_empty_passwords_etc_shadow"])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}
