//! The event-log reader on arbitrary bytes: every record through
//! `record::Reader` (bounded lengths, torn and malformed records), the whole
//! file through `verify` with a fixed initial key, and through
//! `EventLog::open` against a key file for an empty log under the same key
//! (which must adopt exactly the records `verify` accepts, and report
//! anything else as a torn tail or an error, never silently drop it).
#![no_main]

use dha_core::FixedClock;
use dha_core::events::log::Stamps;
use dha_core::events::record::Reader;
use dha_core::events::{BootId, EventLog, FixedMonotonic, InitialKey, OpenOutcome, verify};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

const K0: [u8; 32] = [0x42; 32];

fn stamps() -> Stamps {
    Stamps {
        boot_id: BootId([7; 16]),
        clock: Box::new(FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(1)),
    }
}

/// A directory with `events.log` and `events.key`, and the key file's bytes
/// for an empty log under `K0`.
fn rig() -> &'static (tempfile::TempDir, Vec<u8>) {
    static RIG: OnceLock<(tempfile::TempDir, Vec<u8>)> = OnceLock::new();
    RIG.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("events.log");
        let key = dir.path().join("events.key");
        drop(EventLog::create(&log, &key, &InitialKey::from_bytes(K0), stamps()).expect("create"));
        let bytes = std::fs::read(&key).expect("key file");
        (dir, bytes)
    })
}

fuzz_target!(|data: &[u8]| {
    let mut records = 0u64;
    if let Ok(mut r) = Reader::new(data) {
        while let Ok(Some(rec)) = r.next_record() {
            assert!(rec.bytes.len() <= 4 + 64 * 1024 + 32);
            let _ = rec.record.event_kind();
            let _ = rec.record.wall_time();
            records += 1;
        }
    }
    let (dir, key_bytes) = rig();
    let log: PathBuf = dir.path().join("events.log");
    let key = dir.path().join("events.key");
    std::fs::write(&log, data).expect("write log");
    std::fs::write(&key, key_bytes).expect("write key");
    let report = verify(&log, &InitialKey::from_bytes(K0), None).expect("verify reads");
    assert!(report.records <= records);
    match EventLog::open(&log, &key, stamps()) {
        Ok(OpenOutcome::Ready { rolled_forward, .. }) => {
            assert!(report.is_ok(), "open adopted a log verify refuses");
            assert_eq!(rolled_forward, report.records);
        }
        Ok(OpenOutcome::TornTail(t)) => {
            assert!(!report.is_ok(), "torn tail on a log that verifies");
            assert!(t.bytes() > 0);
        }
        Err(_) => assert!(!report.is_ok() || data.len() < 8),
    }
});
