//! The sysctl.conf / sysctl.d(5) single-file parser on arbitrary bytes, and
//! the merge of what it parsed.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::sysctl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/sysctl.d/99-fuzz.conf", data, false);
    let f = sysctl::parse(&t, &mut |_| {});
    for a in &f.assignments {
        let _ = a.dotted_key();
        let _ = sysctl::normalize_key(&a.raw_key);
    }
    let e = sysctl::Effective::merge(vec![f]);
    let _ = e.get("kernel.randomize_va_space");
});
