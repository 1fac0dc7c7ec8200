//! The INI-style parsers (GLib key files, systemd files), GVariant values and
//! systemd time spans on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::{dconf, gvariant, keyfile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/dconf/db/local.d/fuzz", data, false);
    let g = keyfile::parse_keyfile(&t, &mut |_| {});
    for (group, e) in g.entries() {
        let _ = g.get(group, &e.key);
        let _ = gvariant::parse_gvariant(&e.value);
        let _ = keyfile::gdm_bool(&e.value);
    }
    let s = keyfile::parse_systemd(&t, &mut |_| {});
    for (_, e) in s.entries() {
        let _ = keyfile::parse_timespan_usec(&e.value, 1_000_000);
        let _ = keyfile::systemd_bool(&e.value);
    }
    let _ = dconf::parse_profile(&t, &mut |_| {});
    let _ = dconf::parse_locks(&t, &mut |_| {});
});
