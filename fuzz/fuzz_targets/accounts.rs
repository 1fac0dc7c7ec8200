//! passwd(5), shadow(5), group(5) and gshadow(5) parsers on arbitrary bytes.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::accounts::{parse_group, parse_gshadow, parse_passwd, parse_shadow};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = TextFile::from_bytes("/etc/fuzz", data, false);
    let mut warnings = 0usize;
    let mut warn = |_| warnings += 1;
    let p = parse_passwd(&t, &mut warn);
    let s = parse_shadow(&t, &mut warn);
    let g = parse_group(&t, &mut warn);
    let gs = parse_gshadow(&t, &mut warn);
    for e in &s {
        let _ = e.hash_kind().describe();
    }
    // Every entry and every warning comes from a distinct line.
    assert!(p.len() + warnings >= p.len());
    let _ = (g.len(), gs.len());
});
