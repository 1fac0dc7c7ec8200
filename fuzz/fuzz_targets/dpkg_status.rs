//! The dpkg status database parser (`/var/lib/dpkg/status`, deb822(5)) on
//! arbitrary bytes, with small limits so the bounds are exercised, and the
//! purl of every package it keeps.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::dpkg_status;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/var/lib/dpkg/status", data, false);
    let small = dpkg_status::Limits {
        max_packages: 8,
        max_field_bytes: 64,
    };
    for limits in [dpkg_status::Limits::default(), small] {
        let s = dpkg_status::parse_status_with(&t, limits, &mut |_| {});
        assert!(s.packages.len() <= limits.max_packages);
        for p in &s.packages {
            assert!(p.version.len() <= limits.max_field_bytes);
            let purl = p.purl(Some("debian-12"));
            assert!(purl.starts_with("pkg:deb/debian/"));
            assert!(!purl.contains(':') || purl.find(':') == Some(3));
        }
    }
});
