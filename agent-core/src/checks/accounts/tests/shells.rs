//! ACC-09 system accounts and login shells.

use super::{SHELLS_OK, clean, hardened};
use crate::checks::accounts::acc09_system_shells;
use crate::finding::Severity;
use crate::testing::{TestRoot, found, has, not_applicable};

#[test]
fn acc09_system_accounts_and_shells() {
    let t = TestRoot::new(&[
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\ngames:x:5:60::/usr/games:/bin/sh\nlp:x:7:7::/var/spool/lpd:/bin/sh\nsync:x:4:65534::/bin:/bin/sync\nnobody:x:65534:65534::/nonexistent:/bin/sh\ndave:x:1007:1007::/home/dave:/usr/bin/zsh\nerin:x:1008:1008::/home/erin:\nsvc:x:999:999::/:/usr/sbin/nologin\nold:x:6:6::/:/bin/sh\n",
        ),
        (
            "/etc/shadow",
            "root:$y$j9T$s$h:20700::::::\ngames:$y$j9T$s$h:20700::::::\nlp:!:20700::::::\nsync:$y$j9T$s$h:20700::::::\nnobody:$y$j9T$s$h:20700::::::\ndave:$y$j9T$s$h:20700::::::\nerin:$y$j9T$s$h:20700::::::\nsvc:$y$j9T$s$h:20700::::::\nold:$y$j9T$s$h:20700:::::20000:\n",
        ),
        ("/etc/shells", SHELLS_OK),
    ]);
    let r = t.audit("ACC-09", acc09_system_shells);
    assert!(has(&r, "/etc/passwd:2", "no_shelllogin_for_systemaccounts"));
    assert!(has(&r, "/etc/passwd:5", "no_shelllogin_for_systemaccounts"));
    // sync is allowed its shell, but /bin/sync is not in /etc/shells.
    assert_eq!(
        found(&r)
            .iter()
            .filter(|(l, _, _)| l == "/etc/passwd:4")
            .map(|(_, _, s)| s.as_str())
            .collect::<Vec<_>>(),
        vec!["no_invalid_shell_accounts_unlocked"]
    );
    assert!(has(
        &r,
        "/etc/passwd:6",
        "no_invalid_shell_accounts_unlocked"
    ));
    // Locked lp, empty shell (= /bin/sh) erin, nologin svc and expired old pass.
    assert_eq!(r.findings.len(), 4, "{:#?}", found(&r));
}

#[test]
fn acc09_allowed_shells_narrow_etc_shells() {
    let mut t = TestRoot::new(&[
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\ndave:x:1007:1007::/home/dave:/bin/sh\nlp:x:1008:1008::/home/lp:/bin/sh\n",
        ),
        (
            "/etc/shadow",
            "root:$y$j9T$s$h:20700::::::\ndave:$y$j9T$s$h:20700::::::\nlp:!:20700::::::\n",
        ),
        ("/etc/shells", SHELLS_OK),
    ]);
    // Every shell is listed in /etc/shells: clean by default.
    clean(&t.audit("ACC-09", acc09_system_shells));
    t.cfg.accounts.allowed_shells = vec!["/bin/bash".to_owned()];
    let r = t.audit("ACC-09", acc09_system_shells);
    // dave's /bin/sh is listed but not allowed; lp is locked.
    assert_eq!(
        found(&r),
        vec![(
            "/etc/passwd:2".to_owned(),
            Severity::Low,
            "no_invalid_shell_accounts_unlocked".to_owned()
        )]
    );
}

#[test]
fn acc09_uid_min_from_login_defs_and_shells_fallback() {
    let t = TestRoot::new(&[
        ("/etc/passwd", "op:x:600:600::/home/op:/bin/csh\n"),
        ("/etc/shadow", "op:$y$j9T$s$h:20700::::::\n"),
        ("/etc/login.defs", "UID_MIN 500\n"),
    ]);
    // UID 600 is a human user under UID_MIN 500, and without /etc/shells
    // getusershell(3) accepts /bin/csh.
    clean(&t.audit("ACC-09", acc09_system_shells));
    let t = TestRoot::new(&[
        ("/etc/passwd", "op:x:600:600::/home/op:/bin/bash\n"),
        ("/etc/shadow", "op:$y$j9T$s$h:20700::::::\n"),
        ("/etc/login.defs", "UID_MIN lots\n"),
    ]);
    let r = t.audit("ACC-09", acc09_system_shells);
    assert_eq!(
        r.findings.len(),
        2,
        "system account, and bash not in the default list"
    );
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].field.as_deref(), Some("UID_MIN"));
    assert!(not_applicable(
        &TestRoot::new(&[]).audit("ACC-09", acc09_system_shells)
    ));
    clean(&hardened().audit("ACC-09", acc09_system_shells));
}
