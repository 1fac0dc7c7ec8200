//! The sudoers(5) parser on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/sudoers", data, false);
    let _ = dha_core::parse::sudoers::parse_file(&t, &mut |_| {});
});
