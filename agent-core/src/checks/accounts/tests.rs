//! Unit tests of the account checks, on small roots built in a temporary
//! directory and run through the [`Auditor`](crate::Auditor) (so warnings and
//! not-applicable reasons are seen as a report shows them). One file per
//! check module; this one keeps the account set they share and the test that
//! runs several checks over a large one.

use super::{acc02_unique_ids, acc03_shadowed, acc05_aging, acc09_system_shells, acc14_homes};
use crate::audit::CheckFn;
use crate::report::Report;
use crate::testing::{TestRoot, found, has, is_clean};

mod aging;
mod files;
mod homes;
mod identity;
mod rescue;
mod shells;

const PASSWD_OK: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
tech:x:1000:1000:Service Engineer:/home/tech:/bin/bash
";
const SHADOW_OK: &str = "root:$y$j9T$salt$hash:20700:1:90:7:30::
daemon:*:20400:1:90:7:30::
sync:*:20400:1:90:7:30::
tech:$y$j9T$salt$hash:20700:1:90:7:30::
";
const GROUP_OK: &str = "root:x:0:
daemon:x:1:
shadow:x:42:
nogroup:x:65534:
tech:x:1000:
";
const LOGIN_DEFS_OK: &str = "PASS_MAX_DAYS 90\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 7\nUID_MIN 1000\n";
const SHELLS_OK: &str = "/bin/sh\n/bin/bash\n";

/// The complete, hardened account set.
fn hardened() -> TestRoot {
    let t = TestRoot::new(&[
        ("/etc/passwd", PASSWD_OK),
        ("/etc/shadow", SHADOW_OK),
        ("/etc/group", GROUP_OK),
        ("/etc/login.defs", LOGIN_DEFS_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
        ("/etc/shells", SHELLS_OK),
    ]);
    t.mode("/etc/shadow", 0o640);
    t.mkdir("/root", 0o700);
    t.mkdir("/home/tech", 0o700);
    t.own("/home/tech", 1000, 1000);
    t
}

/// Asserts that the check passed with no finding and no warning.
fn clean(r: &Report) {
    assert!(is_clean(r), "{:#?}\n{:#?}", r.findings, r.warnings);
}

#[test]
fn account_checks_stay_linear_for_100000_accounts() {
    // Not a timing assertion (the benchmark measures that): a quadratic
    // check would take minutes here, a linear one well under a second.
    let n = 100_000u32;
    let mut passwd = String::from("root:x:0:0::/root:/bin/bash\n");
    let mut shadow = String::from("root:$y$j9T$s$h:20700:1:90:7:30::\n");
    let mut group = String::from("root:x:0:\n");
    for i in 0..n {
        let uid = 100_000 + i;
        passwd.push_str(&format!("u{i}:x:{uid}:{uid}::/home/u{i}:/bin/bash\n"));
        shadow.push_str(&format!("u{i}:$y$j9T$s$h:20700:1:90:7:30::\n"));
        group.push_str(&format!("u{i}:x:{uid}:\n"));
    }
    // One duplicate UID at the very end.
    passwd.push_str("late:x:100000:100000::/home/late:/usr/sbin/nologin\n");
    shadow.push_str("late:!:20700::::::\n");
    let t = TestRoot::new(&[
        ("/etc/passwd", &passwd),
        ("/etc/shadow", &shadow),
        ("/etc/group", &group),
        ("/etc/login.defs", LOGIN_DEFS_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
        ("/etc/shells", SHELLS_OK),
    ]);
    let r = t.audit("ACC-02", acc02_unique_ids);
    assert_eq!(found(&r).len(), 1);
    assert!(has(
        &r,
        &format!("/etc/passwd:{}", n + 2),
        "account_unique_id"
    ));
    for (id, check) in [
        ("ACC-03", acc03_shadowed as CheckFn),
        ("ACC-05", acc05_aging),
        ("ACC-09", acc09_system_shells),
    ] {
        let r = t.audit(id, check);
        assert!(r.findings.is_empty(), "{id}: {:?}", found(&r).first());
    }
    // No home exists: one finding per interactive user, no dotfile probes.
    let r = t.audit("ACC-14", acc14_homes);
    assert_eq!(r.findings.len(), usize::try_from(n).unwrap() + 1);
}
