//! ACC-10 root password and rescue mode.

use super::{PASSWD_OK, clean, hardened};
use crate::checks::accounts::acc10_root_password;
use crate::checks::accounts::rescue::{RescueCommand, classify_rescue, sulogin_forced};
use crate::finding::Severity;
use crate::parse::units;
use crate::testing::{TestRoot, found, has, not_applicable, severities_at};

const RESCUE: &str = "[Unit]\nDescription=Rescue Shell\n\n[Service]\nEnvironment=HOME=/root\nExecStart=-/usr/lib/systemd/systemd-sulogin-shell rescue\nType=idle\n";
const EMERGENCY: &str = "[Unit]\nDescription=Emergency Shell\n\n[Service]\nEnvironment=HOME=/root\nExecStart=-/usr/lib/systemd/systemd-sulogin-shell emergency\nType=idle\n";

/// Installs the vendor's rescue and emergency units.
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
        severities_at(&shadow(""), "/etc/shadow:1"),
        vec![Severity::Critical]
    );
    assert_eq!(
        severities_at(&shadow("!"), "/etc/shadow:1"),
        vec![Severity::Info]
    );
    assert_eq!(
        severities_at(&shadow("*LK*"), "/etc/shadow:1"),
        vec![Severity::Info]
    );
    let r = TestRoot::new(&[
        ("/etc/passwd", PASSWD_OK),
        ("/etc/shadow", "tech:!:1::::::\n"),
    ])
    .audit("ACC-10", acc10_root_password);
    assert_eq!(severities_at(&r, "/etc/shadow"), vec![Severity::Medium]);
    // An unshadowed empty root field in passwd is what counts.
    let r = TestRoot::new(&[
        ("/etc/passwd", "root::0:0::/root:/bin/bash\n"),
        ("/etc/shadow", "root:$y$j9T$s$h:20700::::::\n"),
    ])
    .audit("ACC-10", acc10_root_password);
    assert_eq!(severities_at(&r, "/etc/passwd:1"), vec![Severity::Critical]);
    assert!(not_applicable(
        &TestRoot::new(&[("/etc/passwd", PASSWD_OK)]).audit("ACC-10", acc10_root_password)
    ));
}

#[test]
fn acc10_rescue_shell_overrides() {
    let t = hardened();
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
    assert_eq!(severities_at(&r, "/etc/shadow:1"), vec![Severity::Info]);
    assert_eq!(
        severities_at(&r, "/etc/systemd/system/emergency.service.d/force.conf:2"),
        vec![Severity::Critical]
    );
    assert_eq!(r.findings.len(), 2);

    // With a root password the same setting is a latent weakness; set for
    // every service through the manager it reaches rescue.service too.
    let t = hardened();
    with_units(&t);
    t.write(
        "/etc/systemd/system.conf",
        "[Manager]\nDefaultEnvironment=SYSTEMD_SULOGIN_FORCE=1\n",
    );
    let r = t.audit("ACC-10", acc10_root_password);
    assert_eq!(
        severities_at(&r, "/etc/systemd/system.conf:2"),
        vec![Severity::Medium, Severity::Medium]
    );
    // SYSTEMD_SULOGIN_FORCE=0 is fine.
    let t = hardened();
    with_units(&t);
    t.write(
        "/etc/systemd/system/rescue.service.d/force.conf",
        "[Service]\nEnvironment=SYSTEMD_SULOGIN_FORCE=0\n",
    );
    clean(&t.audit("ACC-10", acc10_root_password));
}

#[test]
fn acc10_masked_rescue_units_give_no_shell() {
    let t = hardened();
    with_units(&t);
    t.write("/etc/systemd/system/emergency.service", "");
    t.link("/etc/systemd/system/rescue.service", "/dev/null");
    t.write(
        "/usr/lib/systemd/system/rescue.service.d/x.conf",
        "[Service]\nExecStart=\nExecStart=/bin/sh\n",
    );
    clean(&t.audit("ACC-10", acc10_root_password));
}
