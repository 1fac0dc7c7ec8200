//! The small key/value parsers on arbitrary bytes: login.defs(5) and
//! /etc/default/useradd, pwquality.conf / faillock.conf, os-release(5), and
//! systemd `ExecStart=` command lines.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::{logindefs, pamconf, units};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/login.defs", data, false);
    for equals in [false, true] {
        let kv = logindefs::KeyValues::parse(&t, equals);
        let _ = kv.get_i64("PASS_MAX_DAYS");
        let _ = kv.get_i64("INACTIVE");
    }
    for unknown in [pamconf::UnknownKey::Skip, pamconf::UnknownKey::Stop] {
        let _ = pamconf::parse_conf(&t, &["minlen", "deny", "unlock_time"], unknown, &mut |_| {});
    }
    let _ = dha_core::audit::parse_os_release(&t);
    for (_, line) in t.lines() {
        let _ = logindefs::parse_number(line);
        let _ = pamconf::parse_int(line);
        let _ = units::parse_exec(line);
        let _ = units::split_words(line);
    }
});
