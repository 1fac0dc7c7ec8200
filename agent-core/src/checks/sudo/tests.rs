//! Unit tests of ACC-11, on small roots built in a temporary directory and
//! run through the [`Auditor`](crate::Auditor) (so warnings and
//! not-applicable reasons are seen as a report shows them).

use super::*;
use crate::config::Config;
use crate::report::{CheckStatus, Report};
use crate::testing::{TestRoot, located, locations, observed, reason};

/// A root holding `files` (device path, content, mode).
fn sudo_root(files: &[(&str, &str, u32)]) -> TestRoot {
    let t = TestRoot::new(&[]);
    for (p, text, mode) in files {
        t.write(p, text);
        t.mode(p, *mode);
    }
    t
}

/// [`sudo_root`] audited with ACC-11 under `cfg`.
fn audit_with(files: &[(&str, &str, u32)], cfg: &Config) -> Report {
    let mut t = sudo_root(files);
    t.cfg = cfg.clone();
    t.audit(ID, acc11_sudo_su)
}

fn audit(files: &[(&str, &str, u32)]) -> Report {
    audit_with(files, &Config::default())
}

const GOOD_SUDOERS: &str = "Defaults use_pty\nDefaults logfile=/var/log/sudo.log\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n";
const GOOD_SU: &str = "auth sufficient pam_rootok.so\nauth required pam_wheel.so use_uid group=sudo\nauth required pam_unix.so\n";
const GROUP: &str = "root:x:0:\nshadow:x:42:\nsudo:x:27:tech\n";

fn good(extra: &[(&'static str, &'static str, u32)]) -> Vec<(&'static str, &'static str, u32)> {
    let mut v = vec![
        ("/etc/sudoers", GOOD_SUDOERS, 0o440),
        (
            "/etc/sudoers.d/10-tech",
            "tech ALL = (root) /usr/bin/systemctl status scanner\n",
            0o440,
        ),
        ("/etc/pam.d/su", GOOD_SU, 0o644),
        ("/etc/group", GROUP, 0o644),
    ];
    for e in extra {
        v.retain(|x| x.0 != e.0);
        v.push(*e);
    }
    v
}

#[test]
fn not_applicable_without_sudo_or_su() {
    let r = audit(&[("/etc/group", GROUP, 0o644)]);
    assert_eq!(r.checks[0].status, CheckStatus::NotApplicable);
    assert!(reason(&r).contains("/etc/sudoers"));
}

#[test]
fn hardened_policy_passes() {
    let r = audit(&good(&[]));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    assert_eq!(r.checks[0].status, CheckStatus::Pass);
}

#[test]
fn nopasswd_one_finding_per_tag_with_severity() {
    let r = audit(&good(&[(
        "/etc/sudoers.d/10-tech",
        "Cmnd_AlS = x\n\
         Cmnd_Alias EVERYTHING = ALL\n\
         tech ALL = NOPASSWD: /bin/a, /bin/b, PASSWD: /bin/c\n\
         op ALL = NOPASSWD: !/bin/sh\n\
         vendor ALL = (root) NOPASSWD: EVERYTHING\n\
         audit ALL = NOPASSWD: list\n",
        0o440,
    )]));
    let nopw: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.references.ssg == [SSG_NOPASSWD])
        .map(|f| (f.location(), f.severity))
        .collect();
    assert_eq!(
        nopw,
        [
            ("/etc/sudoers.d/10-tech:3".to_owned(), Severity::High),
            ("/etc/sudoers.d/10-tech:5".to_owned(), Severity::Critical),
            ("/etc/sudoers.d/10-tech:6".to_owned(), Severity::Low),
        ]
    );
    // The bad first line is a warning, and the tag's commands are named.
    assert_eq!(r.warnings.len(), 1);
    assert!(observed(&r.findings[0]).ends_with("NOPASSWD: /bin/a, /bin/b"));
}

#[test]
fn authenticate_turned_off_anywhere() {
    let r = audit(&good(&[(
        "/etc/sudoers.d/10-tech",
        "Defaults:tech !authenticate\nDefaults !authenticate\nDefaults authenticate\n",
        0o440,
    )]));
    let f: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.location(), f.severity, f.references.ssg.clone()))
        .collect();
    assert_eq!(
        f,
        [
            (
                "/etc/sudoers.d/10-tech:1".to_owned(),
                Severity::High,
                vec![SSG_NO_AUTHENTICATE.to_owned()]
            ),
            (
                "/etc/sudoers.d/10-tech:2".to_owned(),
                Severity::Critical,
                vec![SSG_NO_AUTHENTICATE.to_owned()]
            ),
        ]
    );
}

#[test]
fn use_pty_takes_the_last_global_value() {
    // Re-enabled later: fine.
    let r = audit(&good(&[(
        "/etc/sudoers",
        "Defaults !use_pty\nDefaults use_pty, logfile=/var/log/sudo.log\n",
        0o440,
    )]));
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    // Turned off by an included file after the main file turned it on.
    let r = audit(&good(&[(
        "/etc/sudoers.d/10-tech",
        "Defaults !use_pty\n",
        0o440,
    )]));
    assert_eq!(locations(&r), ["/etc/sudoers.d/10-tech:1"]);
    // Missing altogether: the finding points at /etc/sudoers.
    let r = audit(&good(&[(
        "/etc/sudoers",
        "Defaults logfile=/var/log/sudo.log\nDefaults:alice use_pty\n",
        0o440,
    )]));
    assert_eq!(locations(&r), ["/etc/sudoers"]);
    assert!(r.findings[0].title.contains("use_pty"));
    // Set only in a file sudo refuses (world-writable): not in force.
    let r = audit(&good(&[
        (
            "/etc/sudoers",
            "Defaults logfile=/var/log/sudo.log\n@include pty\n",
            0o440,
        ),
        ("/etc/pty", "Defaults use_pty\n", 0o666),
    ]));
    assert_eq!(locations(&r), ["/etc/sudoers", "/etc/pty"]);
    // Set on a line sudo skips for a syntax error: not in force either.
    let r = audit(&good(&[(
        "/etc/sudoers",
        "Defaults use_pty logfile=/var/log/sudo.log\n",
        0o440,
    )]));
    assert_eq!(locations(&r), ["/etc/sudoers", "/etc/sudoers"]);
    assert_eq!(r.warnings.len(), 1);
}

#[test]
fn logfile_must_be_an_absolute_path_and_not_turned_off() {
    let r = audit(&good(&[(
        "/etc/sudoers",
        "Defaults use_pty\nDefaults logfile=sudo.log\n",
        0o440,
    )]));
    assert_eq!(locations(&r), ["/etc/sudoers:2"]);
    let r = audit(&good(&[(
        "/etc/sudoers",
        "Defaults use_pty, logfile=\"/var/log/sudo.log\"\nDefaults>backup !logfile\nDefaults !logfile\n",
        0o440,
    )]));
    assert_eq!(locations(&r), ["/etc/sudoers:3", "/etc/sudoers:2"]);
    assert!(r.findings.iter().all(|f| f.references.ssg == [SSG_LOGFILE]));
}

#[test]
fn sudoers_files_and_dirs_owned_by_root_mode_0440() {
    let r = audit(&good(&[
        ("/etc/sudoers.d/10-tech", "# nothing\n", 0o640),
        ("/etc/sudoers.d/20-ok", "# nothing\n", 0o400),
        ("/etc/sudoers.d/30-bad", "# nothing\n", 0o664),
    ]));
    let f = located(&r);
    assert_eq!(
        f,
        [
            ("/etc/sudoers.d/10-tech".to_owned(), Severity::Low),
            ("/etc/sudoers.d/30-bad".to_owned(), Severity::Medium),
        ]
    );
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("mode 0640, owner 0:0")
    );
}

#[test]
fn world_writable_include_dir_is_reported_and_its_rules_are_latent() {
    let mut files = good(&[(
        "/etc/sudoers.d/10-tech",
        "bob ALL = NOPASSWD: /bin/ls\n",
        0o440,
    )]);
    files.push(("/etc/sudoers.d/.keep", "", 0o644));
    let t = sudo_root(&files);
    t.mode("/etc/sudoers.d", 0o1777);
    let r = t.audit(ID, acc11_sudo_su);
    let f = located(&r);
    assert_eq!(
        f,
        [
            ("/etc/sudoers.d/10-tech:1".to_owned(), Severity::Medium),
            ("/etc/sudoers.d".to_owned(), Severity::High),
        ]
    );
    assert!(observed(&r.findings[0]).contains("world-writable"));
}

#[test]
fn su_needs_an_enforcing_pam_wheel_first() {
    let su = |text: &'static str| audit(&good(&[("/etc/pam.d/su", text, 0o644)]));
    let titles = |r: &Report| -> Vec<(String, String)> {
        r.findings
            .iter()
            .map(|f| (f.location(), f.title.clone()))
            .collect()
    };
    // Absent (Debian's default: the line is commented out).
    let r =
        su("auth sufficient pam_rootok.so\n# auth required pam_wheel.so\n@include common-auth\n");
    assert_eq!(locations(&r), ["/etc/pam.d/su"]);
    assert_eq!(r.findings[0].references.ssg, [SSG_WHEEL]);
    // Without use_uid, or turned into a deny list, or optional.
    assert_eq!(
        locations(&su("auth required pam_wheel.so\n")),
        ["/etc/pam.d/su:1"]
    );
    assert_eq!(
        locations(&su("auth required pam_wheel.so use_uid deny group=x\n")),
        ["/etc/pam.d/su"]
    );
    assert_eq!(
        locations(&su("auth optional pam_wheel.so use_uid\n")),
        ["/etc/pam.d/su"]
    );
    // Bypassed by an earlier sufficient rule, or jumped over.
    let r = su("auth sufficient pam_unix.so\nauth required pam_wheel.so use_uid\n");
    assert_eq!(locations(&r), ["/etc/pam.d/su:2"]);
    assert!(observed(&r.findings[0]).contains("pam_unix at /etc/pam.d/su:1"));
    let r = su(
        "auth [success=2 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_wheel.so use_uid\n",
    );
    assert_eq!(locations(&r), ["/etc/pam.d/su:3"]);
    // `trust` with sufficient: no password at all for members.
    let r = su("auth sufficient pam_wheel.so trust use_uid\n");
    assert_eq!(titles(&r)[0].0, "/etc/pam.d/su:1");
    assert_eq!(r.findings[0].severity, Severity::High);
    // Enforcing forms pass, after pam_rootok and with an included stack after it.
    assert!(su("auth sufficient pam_rootok.so\nauth [default=die success=ignore] pam_wheel.so use_uid\n").findings.is_empty());
    assert!(su("auth sufficient pam_rootok.so\nauth requisite pam_wheel.so use_uid\nauth sufficient pam_unix.so\n").findings.is_empty());
}

#[test]
fn su_group_must_match_the_policy() {
    let mut cfg = Config::default();
    cfg.accounts.su_group = "sudo".to_owned();
    let r = audit_with(&good(&[]), &cfg);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let r = audit_with(
        &good(&[(
            "/etc/pam.d/su",
            "auth required pam_wheel.so use_uid\n",
            0o644,
        )]),
        &cfg,
    );
    assert_eq!(locations(&r), ["/etc/pam.d/su:1"]);
    assert!(observed(&r.findings[0]).contains("group wheel"));
}

#[test]
fn su_alone_is_audited_without_sudoers() {
    let r = audit(&[("/etc/pam.d/su", "auth sufficient pam_rootok.so\n", 0o644)]);
    assert_eq!(r.checks[0].status, CheckStatus::Fail);
    assert_eq!(locations(&r), ["/etc/pam.d/su"]);
}

#[test]
fn shadow_group_members_primary_and_gshadow() {
    let r = audit(&good(&[
        (
            "/etc/group",
            "root:x:0:\nshadow:x:42:tech,op\nsudo:x:27:tech\n",
            0o644,
        ),
        ("/etc/gshadow", "root:*::\nshadow:!::op\n", 0o640),
        (
            "/etc/passwd",
            "root:x:0:0::/root:/bin/bash\nbackup:x:34:42::/var/backups:/usr/sbin/nologin\n",
            0o644,
        ),
    ]));
    assert_eq!(
        locations(&r),
        ["/etc/group:2", "/etc/gshadow:2", "/etc/passwd:2"]
    );
    assert!(r.findings.iter().all(|f| f.references.ssg == [SSG_SHADOW]));
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("members: tech, op")
    );
}
