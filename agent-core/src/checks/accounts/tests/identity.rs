//! ACC-01 UID 0, ACC-02 unique identifiers and ACC-03 shadowed passwords.

use super::{PASSWD_OK, clean, hardened};
use crate::checks::accounts::{acc01_uid_zero, acc02_unique_ids, acc03_shadowed};
use crate::finding::Severity;
use crate::testing::{TestRoot, found, has, not_applicable, observed, severities_at};

// ---------------------------------------------------------------- ACC-01

#[test]
fn acc01_flags_second_uid_zero_and_root_group() {
    let t = TestRoot::new(&[(
        "/etc/passwd",
        "root:x:0:10:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n",
    )]);
    let r = t.audit("ACC-01", acc01_uid_zero);
    assert_eq!(
        found(&r),
        vec![
            (
                "/etc/passwd:2".to_owned(),
                Severity::Critical,
                "accounts_no_uid_except_zero".to_owned()
            ),
            (
                "/etc/passwd:1".to_owned(),
                Severity::High,
                "accounts_root_gid_zero".to_owned()
            ),
        ]
    );
    assert!(r.findings[0].title.contains("\"toor\""));
}

#[test]
fn acc01_passes_and_is_not_applicable_without_passwd() {
    clean(&hardened().audit("ACC-01", acc01_uid_zero));
    assert!(not_applicable(
        &TestRoot::new(&[]).audit("ACC-01", acc01_uid_zero)
    ));
}

// ---------------------------------------------------------------- ACC-02

#[test]
fn acc02_reports_each_duplicate_at_the_later_line() {
    let t = TestRoot::new(&[
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\na:x:1000:1000::/h:/bin/sh\nb:x:1000:1000::/h:/bin/sh\na:x:1001:1000::/h:/bin/sh\nc:x:1002:4242::/h:/bin/sh\n",
        ),
        (
            "/etc/group",
            "root:x:0:\nusers:x:1000:\nstaff:x:1000:\nusers:x:1001:\n",
        ),
    ]);
    let r = t.audit("ACC-02", acc02_unique_ids);
    assert!(has(&r, "/etc/passwd:3", "account_unique_id"));
    assert!(has(&r, "/etc/passwd:4", "account_unique_name"));
    assert!(has(&r, "/etc/passwd:5", "gid_passwd_group_same"));
    assert!(has(&r, "/etc/group:3", "group_unique_id"));
    assert!(has(&r, "/etc/group:4", "group_unique_name"));
    assert_eq!(r.findings.len(), 5, "{:#?}", found(&r));
    let dup = &r.findings[0];
    assert!(
        observed(dup).contains("/etc/passwd:2"),
        "names the first line"
    );
}

#[test]
fn acc02_group_absent_and_not_applicable() {
    let t = TestRoot::new(&[("/etc/passwd", PASSWD_OK)]);
    let r = t.audit("ACC-02", acc02_unique_ids);
    assert_eq!(
        found(&r),
        vec![(
            "/etc/group".to_owned(),
            Severity::Low,
            "gid_passwd_group_same".to_owned()
        )]
    );
    assert!(not_applicable(
        &TestRoot::new(&[]).audit("ACC-02", acc02_unique_ids)
    ));
    clean(&hardened().audit("ACC-02", acc02_unique_ids));
}

// ---------------------------------------------------------------- ACC-03

#[test]
fn acc03_unshadowed_and_empty_passwords() {
    let t = TestRoot::new(&[
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\nkiosk::1001:1001::/h:/bin/sh\nold:$6$salt$SECRETHASH:1002:1002::/h:/bin/sh\nlocked:*:1003:1003::/h:/bin/sh\nghost:x:1004:1004::/h:/bin/sh\nguest:x:1005:1005::/h:/bin/sh\n",
        ),
        (
            "/etc/shadow",
            "root:$y$j9T$s$h:20700:1:90:7:30::\nguest::20700:1:90:7:30::\n",
        ),
    ]);
    let r = t.audit("ACC-03", acc03_shadowed);
    assert_eq!(severities_at(&r, "/etc/passwd:2"), vec![Severity::Critical]);
    assert_eq!(severities_at(&r, "/etc/passwd:3"), vec![Severity::High]);
    assert_eq!(severities_at(&r, "/etc/passwd:4"), vec![Severity::Low]);
    assert_eq!(severities_at(&r, "/etc/passwd:5"), vec![Severity::Low]);
    assert!(has(&r, "/etc/shadow:2", "no_empty_passwords_etc_shadow"));
    assert_eq!(severities_at(&r, "/etc/shadow:2"), vec![Severity::Critical]);
    assert_eq!(r.findings.len(), 5);
    // The hash is described, never copied.
    let json = serde_json::to_string(&r.findings).unwrap();
    assert!(!json.contains("SECRETHASH") && json.contains("SHA-512"));
}

#[test]
fn acc03_shadow_absent_and_not_applicable() {
    let r = TestRoot::new(&[("/etc/passwd", PASSWD_OK)]).audit("ACC-03", acc03_shadowed);
    assert!(has(&r, "/etc/shadow", "accounts_password_all_shadowed"));
    assert!(not_applicable(
        &TestRoot::new(&[]).audit("ACC-03", acc03_shadowed)
    ));
    clean(&hardened().audit("ACC-03", acc03_shadowed));
}
