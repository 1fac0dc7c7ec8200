//! The shell start-up file scanner (umask, TMOUT) on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::shell;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/profile", data, false);
    let s = shell::scan(&t, &mut |_| {});
    for u in &s.umasks {
        let _ = u.apply(0o027);
    }
});
