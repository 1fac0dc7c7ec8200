//! ACC-13 modes and owners of the account files.

use super::{clean, hardened};
use crate::checks::accounts::acc13_file_modes;
use crate::finding::Severity;
use crate::testing::{TestRoot, found, has, not_applicable, severities_at};

/// Gives every account file and backup a mode and owner the check accepts.
fn account_files(t: &TestRoot) {
    for (p, m) in [
        ("/etc/passwd", 0o644),
        ("/etc/group", 0o644),
        ("/etc/shadow", 0o640),
        ("/etc/gshadow", 0o640),
        ("/etc/passwd-", 0o600),
        ("/etc/group-", 0o644),
        ("/etc/shadow-", 0o000),
        ("/etc/gshadow-", 0o640),
    ] {
        if !t.path(p).exists() {
            t.write(p, "");
        }
        t.mode(p, m);
        t.own(p, 0, 0);
    }
}

#[test]
fn acc13_modes_and_owners() {
    let t = hardened();
    if !t.can_chown() {
        return; // owners cannot be set without root; the fixture tests cover it
    }
    account_files(&t);
    t.own("/etc/shadow", 0, 42);
    clean(&t.audit("ACC-13", acc13_file_modes));

    t.mode("/etc/passwd", 0o666);
    t.mode("/etc/shadow", 0o644);
    t.mode("/etc/group-", 0o755);
    t.own("/etc/group", 1000, 0);
    t.mode("/etc/gshadow", 0o640);
    t.own("/etc/gshadow", 0, 100);
    let r = t.audit("ACC-13", acc13_file_modes);
    assert_eq!(severities_at(&r, "/etc/passwd"), vec![Severity::Critical]);
    assert_eq!(severities_at(&r, "/etc/shadow"), vec![Severity::High]);
    assert_eq!(severities_at(&r, "/etc/group-"), vec![Severity::Low]);
    assert!(has(&r, "/etc/group", "file_owner_etc_group"));
    assert!(has(&r, "/etc/gshadow", "file_groupowner_etc_gshadow"));
    assert_eq!(severities_at(&r, "/etc/gshadow"), vec![Severity::High]);
    assert_eq!(r.findings.len(), 5, "{:#?}", found(&r));
    let e = &r.findings[0].evidence;
    assert_eq!(e.observed.as_deref(), Some("mode 0666 owner 0:0"));
}

#[test]
fn acc13_shadow_group_needs_the_group_to_exist() {
    let t = TestRoot::new(&[
        ("/etc/shadow", "x:!:1::::::\n"),
        ("/etc/group", "root:x:0:\n"),
    ]);
    if !t.can_chown() {
        return;
    }
    t.mode("/etc/shadow", 0o640);
    t.own("/etc/shadow", 0, 42);
    t.own("/etc/group", 0, 0);
    let r = t.audit("ACC-13", acc13_file_modes);
    assert!(has(&r, "/etc/shadow", "file_groupowner_etc_shadow"));
}

#[test]
fn acc13_not_a_file_and_not_applicable() {
    let t = TestRoot::new(&[]);
    assert!(not_applicable(&t.audit("ACC-13", acc13_file_modes)));
    t.mkdir("/etc/passwd", 0o755);
    let r = t.audit("ACC-13", acc13_file_modes);
    assert!(has(&r, "/etc/passwd", "file_permissions_etc_passwd"));
}
