//! ACC-13: the account databases and their backups are root-owned and not
//! open to others.

use super::{describe_meta, kind_name, na};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Diagnostic, Severity};
use crate::parse::accounts::Accounts;
use crate::root::FileKind;

/// One account database file and what it may be.
struct Guarded {
    path: &'static str,
    /// Holds hashes: group `shadow` may read it, others nothing.
    secret: bool,
    /// SSG rules: permissions, owner, group owner.
    ssg: [&'static str; 3],
}

const GUARDED: [Guarded; 8] = [
    Guarded {
        path: "/etc/passwd",
        secret: false,
        ssg: [
            "file_permissions_etc_passwd",
            "file_owner_etc_passwd",
            "file_groupowner_etc_passwd",
        ],
    },
    Guarded {
        path: "/etc/shadow",
        secret: true,
        ssg: [
            "file_permissions_etc_shadow",
            "file_owner_etc_shadow",
            "file_groupowner_etc_shadow",
        ],
    },
    Guarded {
        path: "/etc/group",
        secret: false,
        ssg: [
            "file_permissions_etc_group",
            "file_owner_etc_group",
            "file_groupowner_etc_group",
        ],
    },
    Guarded {
        path: "/etc/gshadow",
        secret: true,
        ssg: [
            "file_permissions_etc_gshadow",
            "file_owner_etc_gshadow",
            "file_groupowner_etc_gshadow",
        ],
    },
    Guarded {
        path: "/etc/passwd-",
        secret: false,
        ssg: [
            "file_permissions_backup_etc_passwd",
            "file_owner_backup_etc_passwd",
            "file_groupowner_backup_etc_passwd",
        ],
    },
    Guarded {
        path: "/etc/shadow-",
        secret: true,
        ssg: [
            "file_permissions_backup_etc_shadow",
            "file_owner_backup_etc_shadow",
            "file_groupowner_backup_etc_shadow",
        ],
    },
    Guarded {
        path: "/etc/group-",
        secret: false,
        ssg: [
            "file_permissions_backup_etc_group",
            "file_owner_backup_etc_group",
            "file_groupowner_backup_etc_group",
        ],
    },
    Guarded {
        path: "/etc/gshadow-",
        secret: true,
        ssg: [
            "file_permissions_backup_etc_gshadow",
            "file_owner_backup_etc_gshadow",
            "file_groupowner_backup_etc_gshadow",
        ],
    },
];

/// ACC-13 (Lynis FILE-7524; SSG file_permissions_etc_*, file_owner_etc_*,
/// file_groupowner_etc_* and their backup_ variants): the account databases
/// and their `-` backups are root-owned, not writable by others, and the
/// shadow files readable by root and group shadow only.
pub fn acc13_file_modes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let shadow_gid = acc.group_named("shadow").map(|g| g.gid);
    let mut out = Vec::new();
    let mut seen = 0usize;
    for g in &GUARDED {
        let m = match ctx.root.metadata(g.path) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                ctx.warn(Diagnostic {
                    file: g.path.to_owned(),
                    line: None,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        seen = seen.saturating_add(1);
        let [perm_rule, owner_rule, group_rule] = g.ssg;
        let allowed: u32 = if g.secret { 0o640 } else { 0o644 };
        let groups_ok: Vec<u32> = if g.secret {
            std::iter::once(0).chain(shadow_gid).collect()
        } else {
            vec![0]
        };
        let expected = format!(
            "a regular file, mode {allowed:04o} or stricter, owner 0 (root), group {}",
            if g.secret && shadow_gid.is_some() {
                format!("0 (root) or {} (shadow)", shadow_gid.unwrap_or(0))
            } else {
                "0 (root)".to_owned()
            }
        );
        if m.kind != FileKind::File {
            out.push(
                ctx.finding("ACC-13", format!("{} is not a regular file", g.path))
                    .severity(Severity::Medium)
                    .file(g.path)
                    .observed(format!("{}, {}", kind_name(m.kind), describe_meta(&m)))
                    .expected(expected)
                    .remediation(format!("Restore {} as a regular file.", g.path))
                    .ssg(&[perm_rule])
                    .build(),
            );
            continue;
        }
        let extra = m.mode & !allowed;
        if extra != 0 {
            let sev = if extra & 0o022 != 0 {
                // Anyone who can write an account file can make themselves root.
                Severity::Critical
            } else if extra & 0o044 != 0 {
                // Hashes readable beyond root and group shadow.
                Severity::High
            } else {
                Severity::Low
            };
            out.push(
                ctx.finding(
                    "ACC-13",
                    format!("{} has permissions beyond {allowed:04o}", g.path),
                )
                .severity(sev)
                .file(g.path)
                .observed(describe_meta(&m))
                .expected(expected.clone())
                .remediation(format!("chmod {allowed:04o} {}", g.path))
                .ssg(&[perm_rule])
                .build(),
            );
        }
        if m.uid != 0 {
            out.push(
                ctx.finding("ACC-13", format!("{} is not owned by root", g.path))
                    .file(g.path)
                    .observed(describe_meta(&m))
                    .expected(expected.clone())
                    .remediation(format!("chown root {}", g.path))
                    .ssg(&[owner_rule])
                    .build(),
            );
        }
        if !groups_ok.contains(&m.gid) {
            // A foreign group matters when it can read a secret or write anything.
            let sev = if m.mode & 0o020 != 0 || (g.secret && m.mode & 0o040 != 0) {
                Severity::High
            } else {
                Severity::Low
            };
            out.push(
                ctx.finding("ACC-13", format!("{} belongs to group {}", g.path, m.gid))
                    .severity(sev)
                    .file(g.path)
                    .observed(describe_meta(&m))
                    .expected(expected)
                    .remediation(format!(
                        "chgrp {} {}",
                        if g.secret && shadow_gid.is_some() {
                            "shadow"
                        } else {
                            "root"
                        },
                        g.path
                    ))
                    .ssg(&[group_rule])
                    .build(),
            );
        }
    }
    if seen == 0 {
        return na(
            "none of /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow or their backups exists",
        );
    }
    CheckOutcome::Ran(out)
}
