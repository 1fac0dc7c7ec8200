//! Unit tests of the session checks, on small roots built in a temporary
//! directory and run through the [`Auditor`](crate::Auditor) (so warnings and
//! not-applicable reasons are seen as a report shows them).

use super::*;
use crate::finding::Severity;
use crate::report::Report;
use crate::testing::{
    TestRoot, finding_at, is_clean, located, locations, not_applicable, observed, reason,
    severities_at,
};
use std::fs;

/// The severity of the first finding at `location`.
fn severity_at(r: &Report, location: &str) -> Option<Severity> {
    severities_at(r, location).first().copied()
}

// ---------------------------------------------------------------- ACC-12

const DEFS_027: &str = "UMASK\t\t027\nUSERGROUPS_ENAB yes\n";
const PROFILE_027: &str =
    "# /etc/profile\nif [ \"$(id -u)\" -eq 0 ]; then PATH=/usr/sbin:$PATH; fi\numask 027\n";

#[test]
fn umask_hardened_passes() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", DEFS_027),
        ("/etc/profile", PROFILE_027),
        ("/etc/bash.bashrc", "umask 0077\n"),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn umask_absent_everywhere_is_not_applicable() {
    let r = TestRoot::new(&[("/etc/passwd", "")]).audit("ACC-12", acc12_umask);
    assert!(not_applicable(&r), "{r:#?}");
    // Start-up files without any umask, and no login.defs: nothing sets one.
    let r = TestRoot::new(&[("/etc/profile", "PATH=/bin\n")]).audit("ACC-12", acc12_umask);
    assert_eq!(locations(&r), vec!["/etc/login.defs"], "{r:#?}");
}

#[test]
fn loose_login_defs_and_profile_lines_are_reported_at_their_line() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", "MAIL_DIR /var/mail\nUMASK 022\n"),
        (
            "/etc/profile",
            "if [ $UID -gt 199 ] && [ \"`id -gn`\" = \"`id -un`\" ]; then\n    umask 002\nelse\n    umask 022\nfi\n",
        ),
        ("/etc/profile.d/zz-local.sh", "umask u=rwx,g=rwx,o=rwx\n"),
        ("/etc/bashrc", "umask 027\numask g+w\n"),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    let locs = locations(&r);
    for l in [
        "/etc/login.defs:2",
        "/etc/profile:2",
        "/etc/profile:4",
        "/etc/profile.d/zz-local.sh:1",
        "/etc/bashrc:2",
    ] {
        assert!(locs.contains(&l.to_owned()), "{l} missing: {locs:?}");
    }
    assert_eq!(locs.len(), 5, "{locs:?}");
    // 000 lets everyone write new files: worse than 022.
    assert_eq!(
        severity_at(&r, "/etc/profile.d/zz-local.sh:1"),
        Some(Severity::Medium)
    );
    assert_eq!(severity_at(&r, "/etc/profile:4"), Some(Severity::Low));
    let bashrc = finding_at(&r, "/etc/bashrc:2");
    assert_eq!(bashrc.references.ssg, vec!["accounts_umask_etc_bashrc"]);
}

#[test]
fn umask_without_leading_zero_is_read_two_ways() {
    // login reads "27" as decimal 27 = 0o033 (others may read): looser.
    let t = TestRoot::new(&[
        ("/etc/login.defs", "UMASK 27\n"),
        ("/etc/profile", PROFILE_027),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert_eq!(locations(&r), vec!["/etc/login.defs:1"], "{r:#?}");
    let o = observed(&r.findings[0]);
    assert!(o.contains("decimal"), "{o}");
}

#[test]
fn missing_umask_points_at_login_defs_then_at_profile() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", "PASS_MAX_DAYS 90\n"),
        ("/etc/profile", "PATH=/bin\n"),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert_eq!(locations(&r), vec!["/etc/login.defs"], "{r:#?}");
    // A good login.defs alone leaves SSH and graphical sessions at 022.
    let t = TestRoot::new(&[
        ("/etc/login.defs", DEFS_027),
        ("/etc/profile", "PATH=/bin\n"),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert_eq!(locations(&r), vec!["/etc/profile"], "{r:#?}");
    // pam_umask in a session stack covers them.
    t.write(
        "/etc/pam.d/common-session",
        "session required pam_unix.so\nsession optional pam_umask.so\n",
    );
    let r = t.audit("ACC-12", acc12_umask);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn pam_umask_argument_is_checked() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", DEFS_027),
        ("/etc/profile", PROFILE_027),
        (
            "/etc/pam.d/common-session",
            "session required pam_unix.so\nsession optional pam_umask.so usergroups umask=0022\n",
        ),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert_eq!(locations(&r), vec!["/etc/pam.d/common-session:2"], "{r:#?}");
}

#[test]
fn unknown_umask_arguments_are_warnings_not_findings() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", DEFS_027),
        ("/etc/profile", "umask $SITE_UMASK\numask 0999\numask 027\n"),
    ]);
    let r = t.audit("ACC-12", acc12_umask);
    assert!(r.findings.is_empty(), "{r:#?}");
    let lines: Vec<_> = r.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![Some(1), Some(2)], "{:#?}", r.warnings);
}

// ---------------------------------------------------------------- SES-01

const PROFILE_USER: &str = "user-db:user\nsystem-db:local\n";
const PROFILE_GDM: &str =
    "user-db:user\nsystem-db:gdm\nfile-db:/usr/share/gdm/greeter-dconf-defaults\n";
const LOCAL_SETTINGS: &str = "[org/gnome/desktop/session]\nidle-delay=uint32 600\n\n[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n";
const LOCAL_LOCKS: &str = "/org/gnome/desktop/session/idle-delay\n/org/gnome/desktop/screensaver/lock-enabled\n/org/gnome/desktop/screensaver/lock-delay\n";
const GDM_SETTINGS: &str = "[org/gnome/login-screen]\ndisable-user-list=true\n";
const GDM_CUSTOM: &str =
    "[daemon]\nAutomaticLoginEnable=false\nTimedLoginEnable=false\n\n[security]\n\n[xdmcp]\n";

fn gnome_root() -> TestRoot {
    TestRoot::new(&[
        ("/etc/dconf/profile/user", PROFILE_USER),
        ("/etc/dconf/profile/gdm", PROFILE_GDM),
        ("/etc/dconf/db/local.d/00-screensaver", LOCAL_SETTINGS),
        ("/etc/dconf/db/local.d/locks/00-screensaver", LOCAL_LOCKS),
        ("/etc/dconf/db/local", "GVariant"),
        ("/etc/dconf/db/gdm.d/00-login-screen", GDM_SETTINGS),
        ("/etc/dconf/db/gdm", "GVariant"),
        ("/etc/gdm3/custom.conf", GDM_CUSTOM),
    ])
}

#[test]
fn locked_gnome_passes() {
    let r = gnome_root().audit("SES-01", ses01_graphical_lock);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn no_gui_and_no_console_overrides_is_not_applicable() {
    // An empty /etc/dconf (pulled in by a library) is no GNOME configuration.
    let t = TestRoot::new(&[("/etc/passwd", "")]);
    fs::create_dir_all(t.path("/etc/dconf/db")).unwrap();
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert!(not_applicable(&r), "{r:#?}");
    let why = reason(&r);
    assert!(why.contains("no graphical login manager"), "{why}");
}

#[test]
fn dconf_values_of_the_wrong_type_or_range_and_missing_locks() {
    let t = gnome_root();
    t.write(
        "/etc/dconf/db/local.d/00-screensaver",
        "[org/gnome/desktop/session]\nidle-delay=900\n\n[org/gnome/desktop/screensaver]\nlock-enabled=false\nlock-delay=uint32 30\n",
    );
    t.write(
        "/etc/dconf/db/local.d/locks/00-screensaver",
        "/org/gnome/desktop/session/idle-delay\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    let locs = locations(&r);
    assert!(
        locs.contains(&"/etc/dconf/db/local.d/00-screensaver:2".to_owned()),
        "{locs:?}"
    );
    assert!(
        locs.contains(&"/etc/dconf/db/local.d/00-screensaver:5".to_owned()),
        "{locs:?}"
    );
    assert!(
        locs.contains(&"/etc/dconf/db/local.d/00-screensaver:6".to_owned()),
        "{locs:?}"
    );
    let unlocked = locs
        .iter()
        .filter(|l| *l == "/etc/dconf/db/local.d/locks")
        .count();
    assert_eq!(unlocked, 2, "{locs:?}");
    let idle = finding_at(&r, "/etc/dconf/db/local.d/00-screensaver:2");
    assert!(idle.title.contains("int32"), "{}", idle.title);
    assert_eq!(
        idle.references.ssg,
        vec!["dconf_gnome_screensaver_idle_delay"]
    );
}

#[test]
fn profile_problems() {
    let t = gnome_root();
    fs::remove_file(t.path("/etc/dconf/profile/user")).unwrap();
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(locations(&r), vec!["/etc/dconf/profile/user"], "{r:#?}");
    // A database the profile does not name does not apply; the finding says where it is.
    t.write("/etc/dconf/profile/user", "user-db:user\nsystem-db:site\n");
    let r = t.audit("SES-01", ses01_graphical_lock);
    let idle = r
        .findings
        .iter()
        .find(|f| f.title.contains("idle-delay is not set"))
        .unwrap();
    assert_eq!(idle.location(), "/etc/dconf/db/site.d");
    assert!(observed(idle).contains("local.d/00-screensaver:2"));
    // Keyfiles without the compiled database are not in effect.
    t.write("/etc/dconf/profile/user", PROFILE_USER);
    fs::remove_file(t.path("/etc/dconf/db/local")).unwrap();
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(locations(&r), vec!["/etc/dconf/db/local"], "{r:#?}");
}

#[test]
fn greeter_user_list_is_read_from_the_gdm_profile() {
    let t = gnome_root();
    t.write(
        "/etc/dconf/db/gdm.d/00-login-screen",
        "[org/gnome/login-screen]\ndisable-user-list=false\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        locations(&r),
        vec!["/etc/dconf/db/gdm.d/00-login-screen:2"],
        "{r:#?}"
    );
    fs::remove_file(t.path("/etc/dconf/profile/gdm")).unwrap();
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(locations(&r), vec!["/etc/dconf/profile/gdm"], "{r:#?}");
}

#[test]
fn gdm_automatic_and_timed_login() {
    let t = gnome_root();
    t.write(
        "/etc/gdm3/daemon.conf",
        "[daemon]\nAutomaticLoginEnable = True\nAutomaticLogin = tech\nTimedLoginEnable=1\n[xdmcp]\nEnable=true\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        locations(&r),
        vec![
            "/etc/gdm3/daemon.conf:2",
            "/etc/gdm3/daemon.conf:4",
            "/etc/gdm3/daemon.conf:6"
        ],
        "{r:#?}"
    );
    assert_eq!(
        severity_at(&r, "/etc/gdm3/daemon.conf:2"),
        Some(Severity::High)
    );
    assert!(observed(&r.findings[0]).contains("tech"));
}

#[test]
fn lightdm_autologin_follows_reading_order() {
    let t = TestRoot::new(&[
        (
            "/usr/share/lightdm/lightdm.conf.d/50-vendor.conf",
            "[Seat:*]\nautologin-user=kiosk\n",
        ),
        (
            "/etc/lightdm/lightdm.conf",
            "[Seat:*]\nautologin-user=\n[SeatDefaults]\ngreeter-hide-users=true\n",
        ),
    ]);
    let r = t.audit("SES-01", ses01_graphical_lock);
    // Only the info finding: the later empty value cancels the vendor's autologin.
    assert!(
        r.findings.iter().all(|f| f.severity == Severity::Info),
        "{r:#?}"
    );
    t.write(
        "/etc/lightdm/lightdm.conf.d/90-site.conf",
        "[Seat:seat0]\nautologin-user=root\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        severity_at(&r, "/etc/lightdm/lightdm.conf.d/90-site.conf:2"),
        Some(Severity::Critical),
        "{r:#?}"
    );
}

#[test]
fn getty_autologin_drop_ins_and_resets() {
    let vendor = "[Service]\nExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM\n";
    let t = TestRoot::new(&[
        ("/usr/lib/systemd/system/getty@.service", vendor),
        ("/usr/lib/systemd/system/serial-getty@.service", vendor),
        (
            "/etc/systemd/system/getty@tty1.service.d/autologin.conf",
            "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin tech --noclear %I $TERM\n",
        ),
    ]);
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        locations(&r),
        vec!["/etc/systemd/system/getty@tty1.service.d/autologin.conf:3"],
        "{r:#?}"
    );
    assert_eq!(r.findings[0].severity, Severity::High);
    // A later drop-in that resets ExecStart removes it.
    t.write(
        "/etc/systemd/system/getty@tty1.service.d/zz-reset.conf",
        "[Service]\nExecStart=\nExecStart=-/sbin/agetty --noclear %I $TERM\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert!(is_clean(&r), "{r:#?}");
    // A template drop-in masked from /etc does not apply.
    t.write(
        "/usr/lib/systemd/system/serial-getty@.service.d/10-root.conf",
        "[Service]\nExecStart=\nExecStart=-/sbin/agetty -a root -L %I 115200\n",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        locations(&r),
        vec!["/usr/lib/systemd/system/serial-getty@.service.d/10-root.conf:3"],
        "{r:#?}"
    );
    assert_eq!(r.findings[0].severity, Severity::Critical);
    t.link(
        "/etc/systemd/system/serial-getty@.service.d/10-root.conf",
        "/dev/null",
    );
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn inittab_shells_and_autologin() {
    let t = TestRoot::new(&[(
        "/etc/inittab",
        "# BusyBox\n::sysinit:/etc/init.d/rcS\nttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\ntty1::askfirst:-/bin/sh\n2:23:respawn:/sbin/agetty -a root tty2\nbroken line\n",
    )]);
    let r = t.audit("SES-01", ses01_graphical_lock);
    assert_eq!(
        locations(&r),
        vec!["/etc/inittab:4", "/etc/inittab:5"],
        "{r:#?}"
    );
    assert_eq!(severity_at(&r, "/etc/inittab:4"), Some(Severity::Critical));
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].line, Some(6));
}

// ---------------------------------------------------------------- SES-02

const TMOUT_OK: &str =
    "# idle shells end after 10 minutes\nTMOUT=600\nreadonly TMOUT\nexport TMOUT\n";
const SSHD_OK: &str = "ClientAliveInterval 300\nClientAliveCountMax 3\n";

fn timeouts_root() -> TestRoot {
    TestRoot::new(&[
        ("/etc/profile", PROFILE_027),
        ("/etc/profile.d/tmout.sh", TMOUT_OK),
        (
            "/etc/systemd/logind.conf",
            "[Login]\n#KillUserProcesses=no\nStopIdleSessionSec=15min\n",
        ),
        ("/etc/ssh/sshd_config", SSHD_OK),
    ])
}

#[test]
fn idle_timeouts_pass() {
    let r = timeouts_root().audit("SES-02", ses02_idle_timeouts);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn idle_timeouts_not_applicable_without_sessions() {
    let r = TestRoot::new(&[("/etc/passwd", "")]).audit("SES-02", ses02_idle_timeouts);
    assert!(not_applicable(&r), "{r:#?}");
}

#[test]
fn tmout_problems() {
    let t = timeouts_root();
    t.write("/etc/profile.d/tmout.sh", "TMOUT=600\n");
    let r = t.audit("SES-02", ses02_idle_timeouts);
    // Not readonly (medium) and not exported (low), both at the assignment.
    let sevs = located(&r);
    assert_eq!(
        sevs,
        vec![
            ("/etc/profile.d/tmout.sh:1".to_owned(), Severity::Medium),
            ("/etc/profile.d/tmout.sh:1".to_owned(), Severity::Low)
        ]
    );
    t.write("/etc/profile.d/tmout.sh", "declare -xr TMOUT=3600\n");
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/profile.d/tmout.sh:1"], "{r:#?}");
    // readonly before the assignment: the assignment fails, no time-out.
    t.write(
        "/etc/profile.d/tmout.sh",
        "readonly TMOUT\nTMOUT=600\nexport TMOUT\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/profile.d/tmout.sh:2"], "{r:#?}");
    // Nothing at all.
    fs::remove_file(t.path("/etc/profile.d/tmout.sh")).unwrap();
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/profile"], "{r:#?}");
    // A later unset removes it; 0 disables it.
    t.write("/etc/profile.d/a.sh", "TMOUT=600\nexport TMOUT\n");
    t.write("/etc/profile.d/b.sh", "unset TMOUT\n");
    t.write("/etc/bash.bashrc", "TMOUT=0\n");
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(
        locations(&r),
        vec!["/etc/profile.d/b.sh:1", "/etc/bash.bashrc:1"],
        "{r:#?}"
    );
}

#[test]
fn logind_problems() {
    let t = timeouts_root();
    t.write(
        "/etc/systemd/logind.conf",
        "[Login]\n#StopIdleSessionSec=infinity\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/systemd/logind.conf"], "{r:#?}");
    assert_eq!(r.findings[0].severity, Severity::Low);
    // A drop-in sorted later wins over the main file.
    t.write(
        "/etc/systemd/logind.conf",
        "[Login]\nStopIdleSessionSec=600\n",
    );
    t.write(
        "/usr/lib/systemd/logind.conf.d/50-vendor.conf",
        "[Login]\nStopIdleSessionSec=2h\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(
        locations(&r),
        vec!["/usr/lib/systemd/logind.conf.d/50-vendor.conf:2"],
        "{r:#?}"
    );
    // Masking the vendor drop-in from /etc restores the main file's value.
    t.link("/etc/systemd/logind.conf.d/50-vendor.conf", "/dev/null");
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert!(is_clean(&r), "{r:#?}");
    t.write(
        "/etc/systemd/logind.conf.d/60-bad.conf",
        "[Login]\nStopIdleSessionSec=soon\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(
        locations(&r),
        vec!["/etc/systemd/logind.conf.d/60-bad.conf:2"],
        "{r:#?}"
    );
}

#[test]
fn sshd_client_alive_problems() {
    let t = timeouts_root();
    t.write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/ssh/sshd_config"], "{r:#?}");
    assert!(observed(&r.findings[0]).contains("defaults"));
    t.write(
        "/etc/ssh/sshd_config",
        "ClientAliveInterval 5m\nClientAliveCountMax 0\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/ssh/sshd_config:2"], "{r:#?}");
    t.write(
        "/etc/ssh/sshd_config",
        "ClientAliveInterval 600\nClientAliveCountMax 3\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/ssh/sshd_config:1"], "{r:#?}");
    t.write(
        "/etc/ssh/sshd_config",
        "ClientAliveInterval 300\nClientAliveCountMax 3\nMatch User service\n    ClientAliveInterval 0\n",
    );
    let r = t.audit("SES-02", ses02_idle_timeouts);
    assert_eq!(locations(&r), vec!["/etc/ssh/sshd_config:4"], "{r:#?}");
    assert!(
        r.findings[0].title.contains("Match User service"),
        "{}",
        r.findings[0].title
    );
}

#[test]
fn sshd_time_format() {
    assert_eq!(sshd_time_secs("300"), Some(300));
    assert_eq!(sshd_time_secs("5m"), Some(300));
    assert_eq!(sshd_time_secs("1h30M"), Some(5400));
    assert_eq!(sshd_time_secs("10s5"), Some(15));
    assert_eq!(sshd_time_secs("m"), None);
    assert_eq!(sshd_time_secs("5x"), None);
    assert_eq!(sshd_time_secs(""), None);
    assert_eq!(sshd_time_secs("99999999999w"), None);
}
