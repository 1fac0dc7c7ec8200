//! TUF metadata parsing on arbitrary bytes: the four role parsers
//! (`Metadata::<Root|Timestamp|Snapshot|Targets>::from_bytes`), the canonical
//! JSON of what parses, delegation matching on a few target paths, and the
//! canonicaliser on any JSON value. Input that is not JSON is also read as
//! `TARGET_PATH\nPATTERN` for the delegation glob.
#![no_main]

use dha_core::tuf::cjson;
use dha_core::tuf::delegation::path_matches_pattern;
use dha_core::tuf::metadata::{Metadata, Root, Snapshot, Targets, Timestamp};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

/// Target paths every delegation is asked about, besides the role's own
/// target names.
const PATHS: [&str; 6] = [
    "firmware/ct-1.2.bin",
    "a/b/c.tar.gz",
    "file.txt",
    "",
    "*",
    "../x",
];

fuzz_target!(|data: &[u8]| {
    // 2026-11-29T00:00:00Z, the fixtures' clock.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_910_400);

    if let Ok(m) = Metadata::<Root>::from_bytes("root", data) {
        let _ = m.canonical_signed();
        let _ = m.is_expired_at(now);
        for name in ["root", "timestamp", "snapshot", "targets"] {
            let _ = m.signed.role(name);
        }
    }
    if let Ok(m) = Metadata::<Timestamp>::from_bytes("timestamp", data) {
        let _ = m.canonical_signed();
        let _ = m.is_expired_at(now);
    }
    if let Ok(m) = Metadata::<Snapshot>::from_bytes("snapshot", data) {
        let _ = m.canonical_signed();
        let _ = m.is_expired_at(now);
    }
    if let Ok(m) = Metadata::<Targets>::from_bytes("targets", data) {
        let _ = m.canonical_signed();
        let _ = m.is_expired_at(now);
        if let Some(d) = &m.signed.delegations {
            let own = m.signed.targets.keys().take(4).map(String::as_str);
            for path in PATHS.into_iter().chain(own) {
                for child in d.roles_for_target(path) {
                    if let Some(s) = &d.succinct_roles {
                        assert!(s.is_bin(&child.name), "{} is not a bin", child.name);
                    }
                }
                for role in d.roles.iter().take(8) {
                    let _ = role.matches(path);
                }
            }
            if let Some(s) = &d.succinct_roles {
                for probe in ["x", "x-0", "x-00000000", "-1"] {
                    let _ = s.is_bin(probe);
                }
                let _ = s.is_bin(&format!("{}-0", s.name_prefix));
            }
        }
    }

    // Canonical JSON on any JSON value; re-reading its output (when it is
    // valid JSON, i.e. has no raw control characters) gives the same bytes.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(c) = cjson::canonicalize(&v) {
            if let Ok(again) = serde_json::from_slice::<serde_json::Value>(&c) {
                let c2 = cjson::canonicalize(&again);
                assert_eq!(c2.as_deref().ok(), Some(c.as_slice()), "not idempotent");
            }
        }
    } else if let Ok(s) = std::str::from_utf8(data) {
        if let Some((path, pattern)) = s.split_once('\n') {
            let _ = path_matches_pattern(path, pattern);
        }
    }
});
