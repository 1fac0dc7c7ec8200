//! The install journal reader on arbitrary bytes (`Journal::from_bytes`):
//! it must never panic; what it accepts must pass its own checks, and
//! re-serialise to bytes that read back to the same journal.
#![no_main]

use dha_core::install::Journal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(journal) = Journal::from_bytes(data) {
        assert!(journal.check().is_ok());
        let again = Journal::from_bytes(&journal.to_bytes()).expect("re-read");
        assert_eq!(again, journal);
    }
});
