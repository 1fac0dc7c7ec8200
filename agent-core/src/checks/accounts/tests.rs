//! Unit tests of the account checks, on small roots built in a temporary
//! directory and run through the [`Auditor`] (so warnings and
//! not-applicable reasons are seen as a report shows them).

use super::aging::shadow_date;
use super::rescue::{RescueCommand, classify_rescue, sulogin_forced};
use super::*;
use crate::audit::{Auditor, CheckFn};
use crate::clock::FixedClock;
use crate::config::Config;
use crate::finding::Severity;
use crate::parse::units;
use crate::report::{CheckStatus, Report};
use crate::root::Root;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::PathBuf;

/// 2026-11-29T00:00:00Z, shadow day 20786 (the fixtures' clock).
const NOW: u64 = 1_795_910_400;
const TODAY: i64 = 20_786;

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

struct TestRoot {
    dir: tempfile::TempDir,
    cfg: Config,
}

impl TestRoot {
    fn new(files: &[(&str, &str)]) -> TestRoot {
        let t = TestRoot {
            dir: tempfile::tempdir().unwrap(),
            cfg: Config::default(),
        };
        for (p, text) in files {
            t.write(p, text);
        }
        t
    }

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

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    fn write(&self, p: &str, text: &str) {
        let p = self.path(p);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn mode(&self, p: &str, mode: u32) {
        fs::set_permissions(self.path(p), fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mkdir(&self, p: &str, mode: u32) {
        fs::create_dir_all(self.path(p)).unwrap();
        self.mode(p, mode);
    }

    /// True when the tests may chown (they run as root in CI, like the fixtures).
    fn can_chown(&self) -> bool {
        fs::metadata(self.dir.path()).unwrap().uid() == 0
    }

    /// Sets an owner where possible; tests that depend on it check `can_chown`.
    fn own(&self, p: &str, uid: u32, gid: u32) {
        if self.can_chown() {
            lchown(self.path(p), Some(uid), Some(gid)).unwrap();
        }
    }

    fn audit(&self, id: &'static str, check: CheckFn) -> Report {
        let root = Root::open(self.dir.path()).unwrap();
        let clock = FixedClock::from_unix_secs(NOW);
        Auditor::new(&self.cfg, &clock).run_checks(&root, &[(id, check)])
    }
}

/// `(location, severity, first SSG rule)` of each finding.
fn found(r: &Report) -> Vec<(String, Severity, String)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.location(),
                f.severity,
                f.references.ssg.first().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

fn has(r: &Report, location: &str, ssg: &str) -> bool {
    found(r).iter().any(|(l, _, s)| l == location && s == ssg)
}

fn severity_at(r: &Report, location: &str) -> Vec<Severity> {
    found(r)
        .into_iter()
        .filter(|(l, _, _)| l == location)
        .map(|(_, s, _)| s)
        .collect()
}

fn not_applicable(r: &Report) -> bool {
    r.checks
        .iter()
        .all(|c| c.status == CheckStatus::NotApplicable && c.reason.is_some())
}

fn clean(r: &Report) {
    assert!(
        r.findings.is_empty() && r.warnings.is_empty(),
        "{:#?}\n{:#?}",
        r.findings,
        r.warnings
    );
    assert!(r.checks.iter().all(|c| c.status == CheckStatus::Pass));
}

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
    clean(&TestRoot::hardened().audit("ACC-01", acc01_uid_zero));
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
        dup.evidence
            .observed
            .as_deref()
            .unwrap()
            .contains("/etc/passwd:2"),
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
    clean(&TestRoot::hardened().audit("ACC-02", acc02_unique_ids));
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
    assert_eq!(severity_at(&r, "/etc/passwd:2"), vec![Severity::Critical]);
    assert_eq!(severity_at(&r, "/etc/passwd:3"), vec![Severity::High]);
    assert_eq!(severity_at(&r, "/etc/passwd:4"), vec![Severity::Low]);
    assert_eq!(severity_at(&r, "/etc/passwd:5"), vec![Severity::Low]);
    assert!(has(&r, "/etc/shadow:2", "no_empty_passwords_etc_shadow"));
    assert_eq!(severity_at(&r, "/etc/shadow:2"), vec![Severity::Critical]);
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
    clean(&TestRoot::hardened().audit("ACC-03", acc03_shadowed));
}

// ---------------------------------------------------------------- ACC-05

#[test]
fn acc05_login_defs_values_absent_keys_and_useradd() {
    let t = TestRoot::new(&[
        (
            "/etc/login.defs",
            "# aging\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 3\n",
        ),
        ("/etc/default/useradd", "SHELL=/bin/sh\nINACTIVE=-1\n"),
    ]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/login.defs:2",
        "accounts_maximum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:3",
        "accounts_minimum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:4",
        "accounts_password_warn_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/default/useradd:2",
        "account_disable_post_pw_expiration"
    ));
    assert_eq!(r.findings.len(), 4);

    let t = TestRoot::new(&[("/etc/login.defs", "PASS_MAX_DAYS -1\nPASS_MIN_DAYS x\n")]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/login.defs:1",
        "accounts_maximum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:2",
        "accounts_minimum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs",
        "accounts_password_warn_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/default/useradd",
        "account_disable_post_pw_expiration"
    ));
}

#[test]
fn acc05_policy_comes_from_the_configuration() {
    let mut t = TestRoot::new(&[
        (
            "/etc/login.defs",
            "PASS_MAX_DAYS 180\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 0\n",
        ),
        ("/etc/default/useradd", "INACTIVE=0\n"),
    ]);
    assert_eq!(t.audit("ACC-05", acc05_aging).findings.len(), 3);
    t.cfg.password.max_days = 180;
    t.cfg.password.min_days = 0;
    t.cfg.password.warn_days = 0;
    clean(&t.audit("ACC-05", acc05_aging));
}

#[test]
fn acc05_existing_accounts_and_future_change_dates() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", LOGIN_DEFS_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
        (
            "/etc/shadow",
            "a:$y$j9T$s$h:20700:1:99999:7:30::\nb:$y$j9T$s$h:20700:1:90:7:::\nc:!$y$j9T$s$h:20700::::::\nd:$y$j9T$s$h:21000:1:90:7:30::\ne:*:30000::::::\nf:$y$j9T$s$h:20700:::::1:\n",
        ),
    ]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/shadow:1",
        "accounts_password_set_max_life_existing"
    ));
    assert!(has(&r, "/etc/shadow:2", "accounts_set_post_pw_existing"));
    assert!(has(
        &r,
        "/etc/shadow:4",
        "accounts_password_last_change_is_in_past"
    ));
    // A locked account's dates in the future are still reported; its aging is not.
    assert!(has(
        &r,
        "/etc/shadow:5",
        "accounts_password_last_change_is_in_past"
    ));
    assert_eq!(
        r.findings.len(),
        4,
        "locked c and expired f are not judged: {:#?}",
        found(&r)
    );
    let future = r
        .findings
        .iter()
        .find(|f| f.location() == "/etc/shadow:4")
        .unwrap();
    assert!(
        future
            .evidence
            .observed
            .as_deref()
            .unwrap()
            .contains("2027-07-01"),
        "{:?}",
        future.evidence.observed
    );
}

#[test]
fn acc05_not_applicable_and_hardened() {
    assert!(not_applicable(
        &TestRoot::new(&[("/etc/default/useradd", "INACTIVE=30\n")]).audit("ACC-05", acc05_aging)
    ));
    clean(&TestRoot::hardened().audit("ACC-05", acc05_aging));
    let r = TestRoot::new(&[
        ("/etc/shadow", SHADOW_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
    ])
    .audit("ACC-05", acc05_aging);
    assert_eq!(found(&r).len(), 1);
    assert!(has(
        &r,
        "/etc/login.defs",
        "accounts_maximum_age_login_defs"
    ));
}

#[test]
fn shadow_dates_are_iso_dates() {
    assert_eq!(shadow_date(0), "1970-01-01");
    assert_eq!(shadow_date(TODAY), "2026-11-29");
    assert_eq!(shadow_date(i64::MAX), format!("day {}", i64::MAX));
}

// ---------------------------------------------------------------- ACC-09

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
    clean(&TestRoot::hardened().audit("ACC-09", acc09_system_shells));
}

// ---------------------------------------------------------------- ACC-10

const RESCUE: &str = "[Unit]\nDescription=Rescue Shell\n\n[Service]\nEnvironment=HOME=/root\nExecStart=-/usr/lib/systemd/systemd-sulogin-shell rescue\nType=idle\n";
const EMERGENCY: &str = "[Unit]\nDescription=Emergency Shell\n\n[Service]\nEnvironment=HOME=/root\nExecStart=-/usr/lib/systemd/systemd-sulogin-shell emergency\nType=idle\n";

fn with_units(t: &TestRoot) {
    t.write("/usr/lib/systemd/system/rescue.service", RESCUE);
    t.write("/usr/lib/systemd/system/emergency.service", EMERGENCY);
}

#[test]
fn acc10_root_password_states() {
    let shadow = |root: &str| {
        TestRoot::new(&[
            ("/etc/passwd", PASSWD_OK),
            ("/etc/shadow", &format!("root:{root}:20700::::::\n")),
        ])
        .audit("ACC-10", acc10_root_password)
    };
    clean(&shadow("$y$j9T$s$h"));
    assert_eq!(
        severity_at(&shadow(""), "/etc/shadow:1"),
        vec![Severity::Critical]
    );
    assert_eq!(
        severity_at(&shadow("!"), "/etc/shadow:1"),
        vec![Severity::Info]
    );
    assert_eq!(
        severity_at(&shadow("*LK*"), "/etc/shadow:1"),
        vec![Severity::Info]
    );
    let r = TestRoot::new(&[
        ("/etc/passwd", PASSWD_OK),
        ("/etc/shadow", "tech:!:1::::::\n"),
    ])
    .audit("ACC-10", acc10_root_password);
    assert_eq!(severity_at(&r, "/etc/shadow"), vec![Severity::Medium]);
    // An unshadowed empty root field in passwd is what counts.
    let r = TestRoot::new(&[
        ("/etc/passwd", "root::0:0::/root:/bin/bash\n"),
        ("/etc/shadow", "root:$y$j9T$s$h:20700::::::\n"),
    ])
    .audit("ACC-10", acc10_root_password);
    assert_eq!(severity_at(&r, "/etc/passwd:1"), vec![Severity::Critical]);
    assert!(not_applicable(
        &TestRoot::new(&[("/etc/passwd", PASSWD_OK)]).audit("ACC-10", acc10_root_password)
    ));
}

#[test]
fn acc10_rescue_shell_overrides() {
    let t = TestRoot::hardened();
    with_units(&t);
    clean(&t.audit("ACC-10", acc10_root_password));
    t.write(
        "/etc/systemd/system/rescue.service.d/50-debug.conf",
        "# for the field\n[Service]\nExecStart=\nExecStart=-/bin/bash --login\n",
    );
    t.write(
        "/etc/systemd/system/emergency.service",
        "[Service]\nExecStartPre=-/bin/sh\nExecStart=-/bin/sh -c \"/sbin/sulogin; /bin/systemctl --fail --no-block default\"\n",
    );
    let r = t.audit("ACC-10", acc10_root_password);
    assert!(has(
        &r,
        "/etc/systemd/system/rescue.service.d/50-debug.conf:4",
        "require_singleuser_auth"
    ));
    assert!(has(
        &r,
        "/etc/systemd/system/emergency.service:2",
        "require_emergency_target_auth"
    ));
    assert_eq!(
        r.findings.len(),
        2,
        "old-style sh -c sulogin is fine: {:#?}",
        found(&r)
    );
    assert!(r.findings[0].title.contains("\"bash\""));
}

#[test]
fn acc10_shell_script_must_start_with_sulogin() {
    for (cmd, ok) in [
        (
            "-/bin/sh -c \"/usr/sbin/sulogin; /usr/bin/systemctl default\"",
            true,
        ),
        ("/sbin/sulogin -p -t 60", true),
        ("-/bin/sh -c \"/bin/bash; /sbin/sulogin\"", false),
        ("-/bin/sh -c /sbin/sulogin-wrapper", false),
        ("-/bin/sh", false),
        ("/usr/bin/login -f root", false),
    ] {
        let c = units::parse_exec(cmd).unwrap();
        assert_eq!(
            matches!(
                classify_rescue(&c),
                RescueCommand::Sulogin { forced: false }
            ),
            ok,
            "{cmd}"
        );
    }
    for forced in [
        "/sbin/sulogin -e",
        "/sbin/sulogin --force",
        "/sbin/sulogin -pe",
        "/bin/sh -c 'sulogin -e; x'",
    ] {
        assert_eq!(
            classify_rescue(&units::parse_exec(forced).unwrap()),
            RescueCommand::Sulogin { forced: true },
            "{forced}"
        );
    }
    // -t takes the rest of the word: -te is a timeout of "e".
    assert!(!sulogin_forced(["-te"]));
    assert!(!sulogin_forced(["--", "-e"]));
}

#[test]
fn acc10_sulogin_force_is_critical_when_root_is_locked() {
    let t = TestRoot::new(&[
        ("/etc/passwd", PASSWD_OK),
        ("/etc/shadow", "root:!*:20700::::::\n"),
    ]);
    with_units(&t);
    t.write(
        "/etc/systemd/system/emergency.service.d/force.conf",
        "[Service]\nEnvironment=\"SYSTEMD_SULOGIN_FORCE=yes\" OTHER=1\n",
    );
    let r = t.audit("ACC-10", acc10_root_password);
    assert_eq!(severity_at(&r, "/etc/shadow:1"), vec![Severity::Info]);
    assert_eq!(
        severity_at(&r, "/etc/systemd/system/emergency.service.d/force.conf:2"),
        vec![Severity::Critical]
    );
    assert_eq!(r.findings.len(), 2);

    // With a root password the same setting is a latent weakness; set for
    // every service through the manager it reaches rescue.service too.
    let t = TestRoot::hardened();
    with_units(&t);
    t.write(
        "/etc/systemd/system.conf",
        "[Manager]\nDefaultEnvironment=SYSTEMD_SULOGIN_FORCE=1\n",
    );
    let r = t.audit("ACC-10", acc10_root_password);
    assert_eq!(
        severity_at(&r, "/etc/systemd/system.conf:2"),
        vec![Severity::Medium, Severity::Medium]
    );
    // SYSTEMD_SULOGIN_FORCE=0 is fine.
    let t = TestRoot::hardened();
    with_units(&t);
    t.write(
        "/etc/systemd/system/rescue.service.d/force.conf",
        "[Service]\nEnvironment=SYSTEMD_SULOGIN_FORCE=0\n",
    );
    clean(&t.audit("ACC-10", acc10_root_password));
}

#[test]
fn acc10_masked_rescue_units_give_no_shell() {
    let t = TestRoot::hardened();
    with_units(&t);
    t.write("/etc/systemd/system/emergency.service", "");
    fs::create_dir_all(t.path("/etc/systemd/system")).unwrap();
    symlink("/dev/null", t.path("/etc/systemd/system/rescue.service")).unwrap();
    t.write(
        "/usr/lib/systemd/system/rescue.service.d/x.conf",
        "[Service]\nExecStart=\nExecStart=/bin/sh\n",
    );
    clean(&t.audit("ACC-10", acc10_root_password));
}

// ---------------------------------------------------------------- ACC-13

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
    let t = TestRoot::hardened();
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
    assert_eq!(severity_at(&r, "/etc/passwd"), vec![Severity::Critical]);
    assert_eq!(severity_at(&r, "/etc/shadow"), vec![Severity::High]);
    assert_eq!(severity_at(&r, "/etc/group-"), vec![Severity::Low]);
    assert!(has(&r, "/etc/group", "file_owner_etc_group"));
    assert!(has(&r, "/etc/gshadow", "file_groupowner_etc_gshadow"));
    assert_eq!(severity_at(&r, "/etc/gshadow"), vec![Severity::High]);
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

// ---------------------------------------------------------------- ACC-14

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
    assert_eq!(severity_at(&r, "/etc/passwd:2"), vec![Severity::Medium]);
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
        assert_eq!(severity_at(&r, "/etc/passwd:3"), vec![Severity::High]);
        assert_eq!(r.findings.len(), 5, "{:#?}", found(&r));
    }
}

#[test]
fn acc14_trust_files_in_any_home_and_in_etc() {
    let t = TestRoot::hardened();
    clean(&t.audit("ACC-14", acc14_homes));
    t.write(
        "/home/tech/.netrc",
        "machine pacs login x password REDACTED\n",
    );
    t.write("/root/.rhosts", "+ +\n");
    // A system account's home is looked at too, once.
    t.write("/etc/passwd", &format!("{PASSWD_OK}svc:x:999:999::/var/lib/svc:/usr/sbin/nologin\nsvc2:x:998:998::/var/lib/svc:/usr/sbin/nologin\n"));
    t.mkdir("/var/lib/svc", 0o750);
    symlink("/dev/null", t.path("/var/lib/svc/.shosts")).unwrap();
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
