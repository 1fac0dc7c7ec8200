//! The system checks' parsers on arbitrary bytes: APT sources in both
//! formats (sources.list(5)), auditd.conf(5) and audit rules, crypttab(5),
//! and the integrity check record.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::{apt_sources, auditd, crypttab};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/apt/sources.list", data, false);
    for s in apt_sources::parse_one_line(&t, &mut |_| {})
        .iter()
        .chain(apt_sources::parse_deb822(&t, &mut |_| {}).iter())
    {
        let _ = s.flag("trusted");
    }
    let c = auditd::parse_auditd_conf(&t, &mut |_| {});
    let _ = c.get("max_log_file_action");
    let _ = auditd::recording_rules(&t);
    for e in crypttab::parse_crypttab(&t, &mut |_| {}) {
        let _ = e.ephemeral();
    }
    let _ = dha_core::integrity::CheckRecord::from_bytes(data);
});
