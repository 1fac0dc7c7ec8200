//! The sshd_config(5) parser on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/ssh/sshd_config", data, false);
    let _ = dha_core::parse::sshd::parse_file(&t, &mut |_| {});
});
