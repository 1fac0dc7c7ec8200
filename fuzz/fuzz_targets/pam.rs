//! The PAM configuration parser (pam.d(5)) on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/pam.d/fuzz", data, false);
    let f = dha_core::parse::pam::parse_file(&t, &mut |_| {});
    for r in &f.rules {
        let _ = r.module_name();
        let _ = r.arg("remember");
        let _ = r.has_arg("nullok");
    }
});
