//! The whole audit on a fuzzed root: the input is split at NUL bytes into the
//! contents of the files the user-management checks read (including files
//! that include each other), written into a temporary root, and audited with
//! every check. Nothing may panic, hang or read outside the root.
#![no_main]

use dha_core::{Auditor, Config, FixedClock, Root};
use libfuzzer_sys::fuzz_target;

const FILES: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/gshadow",
    "etc/login.defs",
    "etc/pam.d/common-auth",
    "etc/pam.d/common-password",
    "etc/pam.d/login",
    "etc/pam.d/su",
    "etc/sudoers",
    "etc/sudoers.d/extra",
    "etc/ssh/sshd_config",
    "etc/ssh/sshd_config.d/a.conf",
    "etc/security/pwquality.conf",
    "etc/security/faillock.conf",
    "etc/profile",
    "etc/dconf/db/local.d/00-lock",
    "etc/systemd/logind.conf",
    "etc/default/useradd",
    "etc/shells",
];

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    for (name, body) in FILES.iter().zip(data.split(|b| *b == 0)) {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(p, body);
    }
    let Ok(root) = Root::open(dir.path()) else { return };
    let cfg = Config::default();
    let report = Auditor::new(&cfg, &FixedClock::from_unix_secs(1_795_910_400)).run(&root);
    let _ = report.to_json();
});
