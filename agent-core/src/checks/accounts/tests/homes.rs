//! ACC-14 home directories and trust files.

use super::{PASSWD_OK, clean, hardened};
use crate::checks::accounts::acc14_homes;
use crate::finding::Severity;
use crate::testing::{TestRoot, found, has, not_applicable, severities_at};

#[test]
fn acc14_interactive_homes() {
    let t = TestRoot::new(&[
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\ncarol:x:1002:1002::/home/carol:/bin/bash\nfrank:x:1003:1003::/home/frank:/bin/bash\nsvc:x:1004:1004::/home/none:/usr/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/bin/sh\ndan:x:1005:1005::/:/bin/sh\n",
        ),
        ("/home/frank", "not a directory"),
    ]);
    t.mkdir("/root", 0o700);
    t.mkdir("/home/alice", 0o755);
    t.own("/home/alice", 1000, 1000);
    t.mkdir("/home/bob", 0o700);
    t.own("/home/bob", 1002, 1002);
    let r = t.audit("ACC-14", acc14_homes);
    assert_eq!(severities_at(&r, "/etc/passwd:2"), vec![Severity::Medium]);
    assert!(has(
        &r,
        "/etc/passwd:2",
        "file_permissions_home_directories"
    ));
    assert!(has(
        &r,
        "/etc/passwd:4",
        "accounts_user_interactive_home_directory_exists"
    ));
    assert!(has(
        &r,
        "/etc/passwd:5",
        "accounts_user_interactive_home_directory_exists"
    ));
    assert!(has(
        &r,
        "/etc/passwd:8",
        "accounts_user_interactive_home_directory_exists"
    ));
    if t.can_chown() {
        assert!(has(&r, "/etc/passwd:3", "file_ownership_home_directories"));
        assert_eq!(severities_at(&r, "/etc/passwd:3"), vec![Severity::High]);
        assert_eq!(r.findings.len(), 5, "{:#?}", found(&r));
    }
}

#[test]
fn acc14_trust_files_in_any_home_and_in_etc() {
    let t = hardened();
    clean(&t.audit("ACC-14", acc14_homes));
    t.write(
        "/home/tech/.netrc",
        "machine pacs login x password REDACTED\n",
    );
    t.write("/root/.rhosts", "+ +\n");
    // A system account's home is looked at too, once.
    t.write("/etc/passwd", &format!("{PASSWD_OK}svc:x:999:999::/var/lib/svc:/usr/sbin/nologin\nsvc2:x:998:998::/var/lib/svc:/usr/sbin/nologin\n"));
    t.mkdir("/var/lib/svc", 0o750);
    t.link("/var/lib/svc/.shosts", "/dev/null");
    t.write("/etc/hosts.equiv", "trusted-host\n");
    t.write("/etc/ssh/shosts.equiv", "trusted-host\n");
    let r = t.audit("ACC-14", acc14_homes);
    assert!(has(&r, "/home/tech/.netrc", "no_netrc_files"));
    assert!(has(&r, "/root/.rhosts", "no_rsh_trust_files"));
    assert!(has(&r, "/var/lib/svc/.shosts", "no_user_host_based_files"));
    assert!(has(&r, "/etc/hosts.equiv", "no_rsh_trust_files"));
    assert!(has(&r, "/etc/ssh/shosts.equiv", "no_host_based_files"));
    assert_eq!(r.findings.len(), 5, "{:#?}", found(&r));
    // The credentials are never read, let alone copied.
    assert!(
        !serde_json::to_string(&r.findings)
            .unwrap()
            .contains("REDACTED")
    );
    assert!(not_applicable(
        &TestRoot::new(&[]).audit("ACC-14", acc14_homes)
    ));
}
