//! Event-log tests on real files: every kind of tampering, a torn tail,
//! restart, crash roll-forward, and forward security of the key file.
#![allow(clippy::cast_possible_truncation)] // offsets of small test files

use super::keys::evolve;
use super::log::Stamps;
use super::record::{MAGIC, Reader};
use super::*;
use crate::FixedClock;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const K0: [u8; 32] = [0x42; 32];

fn stamps() -> Stamps {
    Stamps {
        boot_id: BootId([7; 16]),
        clock: Box::new(FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(123_456_789)),
    }
}

fn event(i: u64) -> Event {
    Event::new(EventKind::ALL[(i % 12) as usize], Severity::Medium)
        .with("n", i)
        .with("path", format!("/etc/file{i}"))
}

struct Fixture {
    _dir: TempDir,
    log: PathBuf,
    key: PathBuf,
}

/// A log of `n` records, committed in groups of 3.
fn fixture(n: u64) -> Fixture {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("events.log");
    let key = dir.path().join("events.key");
    let mut l = EventLog::create(&log, &key, &InitialKey::from_bytes(K0), stamps()).unwrap();
    for i in 0..n {
        l.append(&event(i)).unwrap();
        if i % 3 == 2 {
            l.commit().unwrap();
        }
    }
    l.commit().unwrap();
    Fixture {
        _dir: dir,
        log,
        key,
    }
}

/// (offset, length) of every record.
fn spans(path: &Path) -> Vec<(usize, usize)> {
    let bytes = fs::read(path).unwrap();
    let mut r = Reader::new(&bytes[..]).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push((rec.offset as usize, rec.bytes.len()));
    }
    out
}

fn check(path: &Path, head: Option<&Head>) -> VerifyReport {
    verify(path, &InitialKey::from_bytes(K0), head).unwrap()
}

fn open_ready(f: &Fixture) -> (EventLog, u64) {
    match EventLog::open(&f.log, &f.key, stamps()).unwrap() {
        OpenOutcome::Ready {
            log,
            rolled_forward,
        } => (log, rolled_forward),
        OpenOutcome::TornTail(t) => panic!("torn tail at {}", t.offset()),
    }
}

#[test]
fn an_untouched_log_verifies_and_reads_back() {
    let f = fixture(10);
    let (log, _) = open_ready(&f);
    let head = log.head().unwrap();
    assert_eq!(head.seq, 9);
    let r = check(&f.log, Some(&head));
    assert_eq!(r.problem, None);
    assert_eq!(r.records, 10);
    assert_eq!(r.head, Some(head));
    let bytes = fs::read(&f.log).unwrap();
    let mut rd = Reader::new(&bytes[..]).unwrap();
    let first = rd.next_record().unwrap().unwrap().record;
    assert_eq!(first.seq, 0);
    assert_eq!(first.event_kind(), Some(EventKind::UpdateRejected));
    assert_eq!(first.boot_id, BootId([7; 16]));
    assert_eq!(first.wall_secs, 1_780_000_000);
    assert_eq!(first.mono_nanos, 123_456_789);
    assert_eq!(first.payload["path"], "/etc/file0");
    assert_eq!(first.severity, Severity::Medium);
}

#[test]
fn a_modified_byte_is_detected_naming_the_record() {
    let f = fixture(8);
    let s = spans(&f.log);
    let mut bytes = fs::read(&f.log).unwrap();
    // The last byte of record 4's payload (before its tag).
    let (off, len) = s[4];
    bytes[off + len - 33] ^= 0x01;
    fs::write(&f.log, &bytes).unwrap();
    let r = check(&f.log, None);
    assert!(
        matches!(
            r.problem,
            Some(Problem::Tag { index: 4, .. }) | Some(Problem::Malformed { index: 4, .. })
        ),
        "{:?}",
        r.problem
    );
    assert_eq!(r.records, 4);
    // A modified time field keeps the record well formed: the tag catches it.
    let f = fixture(8);
    let mut bytes = fs::read(&f.log).unwrap();
    let (off, _) = spans(&f.log)[2];
    bytes[off + 4 + 8 + 32 + 16 + 7] ^= 0x10; // wall-clock seconds, low byte
    fs::write(&f.log, &bytes).unwrap();
    assert_eq!(
        check(&f.log, None).problem,
        Some(Problem::Tag {
            index: 2,
            offset: off as u64
        })
    );
}

#[test]
fn a_deleted_record_is_detected_naming_the_record() {
    let f = fixture(6);
    let (off, len) = spans(&f.log)[2];
    let mut bytes = fs::read(&f.log).unwrap();
    bytes.drain(off..off + len);
    fs::write(&f.log, &bytes).unwrap();
    assert_eq!(
        check(&f.log, None).problem,
        Some(Problem::Sequence {
            index: 2,
            offset: off as u64,
            found: 3
        })
    );
}

#[test]
fn reordered_records_are_detected_naming_the_record() {
    let f = fixture(6);
    let s = spans(&f.log);
    let bytes = fs::read(&f.log).unwrap();
    let (a, alen) = s[1];
    let (b, blen) = s[2];
    let mut out = bytes[..a].to_vec();
    out.extend_from_slice(&bytes[b..b + blen]);
    out.extend_from_slice(&bytes[a..a + alen]);
    out.extend_from_slice(&bytes[b + blen..]);
    fs::write(&f.log, &out).unwrap();
    let p = check(&f.log, None).problem.unwrap();
    assert_eq!(
        p,
        Problem::Sequence {
            index: 1,
            offset: a as u64,
            found: 2
        }
    );
    assert!(p.to_string().contains("record 1"), "{p}");
}

#[test]
fn an_inserted_record_is_detected_naming_the_record() {
    // A copy of record 1 inserted after it.
    let f = fixture(5);
    let s = spans(&f.log);
    let bytes = fs::read(&f.log).unwrap();
    let (a, alen) = s[1];
    let mut out = bytes[..a + alen].to_vec();
    out.extend_from_slice(&bytes[a..a + alen]);
    out.extend_from_slice(&bytes[a + alen..]);
    fs::write(&f.log, &out).unwrap();
    assert_eq!(
        check(&f.log, None).problem.map(|p| p.index()),
        Some(Some(2))
    );

    // A record forged with the key that taking over the device yields (the
    // key file's), renumbered and chained into place: its tag is wrong.
    let f = fixture(5);
    let state = fs::read(&f.key).unwrap();
    let stolen: [u8; 32] = state[64..96].try_into().unwrap();
    let s = spans(&f.log);
    let bytes = fs::read(&f.log).unwrap();
    let (a, alen) = s[2];
    let mut forged = bytes[a..a + alen].to_vec();
    let body = forged.len() - 32;
    let t = keys::tag(&stolen, &forged[..body]);
    forged[body..].copy_from_slice(&t);
    let mut out = bytes[..a].to_vec();
    out.extend_from_slice(&forged);
    out.extend_from_slice(&bytes[a + alen..]);
    fs::write(&f.log, &out).unwrap();
    assert_eq!(
        check(&f.log, None).problem,
        Some(Problem::Tag {
            index: 2,
            offset: a as u64
        })
    );
}

#[test]
fn a_truncated_tail_is_detected_only_with_a_head() {
    let f = fixture(7);
    let (log, _) = open_ready(&f);
    let head = log.head().unwrap();
    drop(log);
    let (off, _) = spans(&f.log)[5];
    let bytes = fs::read(&f.log).unwrap();
    fs::write(&f.log, &bytes[..off]).unwrap();
    // Cut at a record boundary: without a head nothing shows.
    let r = check(&f.log, None);
    assert_eq!((r.records, r.problem), (5, None));
    let r = check(&f.log, Some(&head));
    assert_eq!(
        r.problem,
        Some(Problem::Truncated {
            records: 5,
            head_seq: 6
        })
    );
    // A head whose hash is not the record's.
    let f = fixture(3);
    let wrong = Head {
        seq: 1,
        hash: [9; 32],
    };
    assert_eq!(
        check(&f.log, Some(&wrong)).problem,
        Some(Problem::HeadMismatch { seq: 1 })
    );
    // Cut inside a record: a torn tail, with or without a head.
    let f = fixture(4);
    let (off, len) = spans(&f.log)[3];
    let bytes = fs::read(&f.log).unwrap();
    fs::write(&f.log, &bytes[..off + len / 2]).unwrap();
    assert_eq!(
        check(&f.log, None).problem,
        Some(Problem::TornTail {
            index: 3,
            offset: off as u64,
            bytes: (len / 2) as u64
        })
    );
}

#[test]
fn a_torn_tail_is_reported_on_open_and_recorded_when_cut() {
    let f = fixture(4);
    let good_len = fs::metadata(&f.log).unwrap().len();
    // A partial write of a fifth record.
    let bytes = fs::read(&f.log).unwrap();
    let (off, len) = spans(&f.log)[1];
    let mut out = bytes.clone();
    out.extend_from_slice(&bytes[off..off + len - 10]);
    fs::write(&f.log, &out).unwrap();
    let torn = match EventLog::open(&f.log, &f.key, stamps()).unwrap() {
        OpenOutcome::TornTail(t) => t,
        OpenOutcome::Ready { .. } => panic!("torn tail not reported"),
    };
    assert_eq!(torn.offset(), good_len);
    assert_eq!(torn.bytes(), (len - 10) as u64);
    // Nothing was removed by opening.
    assert_eq!(fs::read(&f.log).unwrap(), out);
    let mut log = torn.truncate_and_record().unwrap();
    log.append_durable(&event(99)).unwrap();
    let r = check(&f.log, log.head().as_ref());
    assert_eq!((r.records, r.problem), (6, None));
    let bytes = fs::read(&f.log).unwrap();
    let mut rd = Reader::at(&bytes[good_len as usize..], good_len);
    let rec = rd.next_record().unwrap().unwrap().record;
    assert_eq!(rec.event_kind(), Some(EventKind::EventLogTampered));
    assert_eq!(rec.payload["reason"], "torn-tail");
    assert_eq!(rec.payload["bytes"], (len - 10) as u64);
}

#[test]
fn garbage_after_the_committed_end_is_a_torn_tail() {
    let f = fixture(2);
    let mut bytes = fs::read(&f.log).unwrap();
    bytes.extend_from_slice(&[0u8; 100]); // a crash that left zeros
    fs::write(&f.log, &bytes).unwrap();
    match EventLog::open(&f.log, &f.key, stamps()).unwrap() {
        OpenOutcome::TornTail(t) => assert_eq!(t.bytes(), 100),
        OpenOutcome::Ready { .. } => panic!("garbage not reported"),
    }
}

#[test]
fn a_restart_continues_the_chain() {
    let f = fixture(5);
    for round in 0..3 {
        let (mut log, rolled) = open_ready(&f);
        assert_eq!(rolled, 0);
        assert_eq!(log.next_seq(), 5 + round * 2);
        log.append(&event(100)).unwrap();
        log.append(&event(101)).unwrap();
        log.commit().unwrap();
    }
    let r = check(&f.log, None);
    assert_eq!((r.records, r.problem), (11, None));
}

#[test]
fn a_crash_before_the_key_file_update_rolls_forward() {
    let f = fixture(3);
    let old_key_file = fs::read(&f.key).unwrap();
    let (mut log, _) = open_ready(&f);
    for i in 0..4 {
        log.append(&event(i)).unwrap();
    }
    log.commit().unwrap();
    drop(log);
    // The records reached the disk, the key file's replacement did not.
    fs::write(&f.key, &old_key_file).unwrap();
    let (mut log, rolled) = open_ready(&f);
    assert_eq!(rolled, 4);
    assert_eq!(log.next_seq(), 7);
    log.append_durable(&event(7)).unwrap();
    let r = check(&f.log, log.head().as_ref());
    assert_eq!((r.records, r.problem), (8, None));
}

#[test]
fn a_log_shorter_than_its_key_file_says_is_refused() {
    let f = fixture(4);
    let (off, _) = spans(&f.log)[3];
    let bytes = fs::read(&f.log).unwrap();
    fs::write(&f.log, &bytes[..off]).unwrap();
    assert!(matches!(
        EventLog::open(&f.log, &f.key, stamps()),
        Err(EventLogError::Mismatch { .. })
    ));
    // And a replaced last record.
    let f = fixture(4);
    let (off, len) = spans(&f.log)[3];
    let mut bytes = fs::read(&f.log).unwrap();
    bytes[off + len - 1] ^= 1;
    fs::write(&f.log, &bytes).unwrap();
    assert!(matches!(
        EventLog::open(&f.log, &f.key, stamps()),
        Err(EventLogError::Mismatch { .. })
    ));
}

#[test]
fn the_key_file_holds_no_earlier_key() {
    let n = 20;
    let f = fixture(n);
    let state = fs::read(&f.key).unwrap();
    assert_eq!(state.len(), 128);
    let mut k = zeroize::Zeroizing::new(K0);
    for i in 0..n {
        assert!(
            !state.windows(32).any(|w| w == k.as_slice()),
            "key {i} is in the key file"
        );
        k = evolve(&k);
    }
    // It holds K_n, the next record's key.
    assert_eq!(&state[64..96], k.as_slice());
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        fs::metadata(&f.key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn create_refuses_to_overwrite_and_an_empty_log_verifies() {
    let f = fixture(0);
    assert!(matches!(
        EventLog::create(&f.log, &f.key, &InitialKey::from_bytes(K0), stamps()),
        Err(EventLogError::Exists { .. })
    ));
    assert_eq!(fs::read(&f.log).unwrap(), MAGIC);
    let r = check(&f.log, None);
    assert_eq!((r.records, r.head, r.problem), (0, None, None));
}

#[test]
fn the_wrong_initial_key_fails_at_record_0() {
    let f = fixture(2);
    let r = verify(&f.log, &InitialKey::from_bytes([1; 32]), None).unwrap();
    assert_eq!(r.problem.and_then(|p| p.index()), Some(0));
}

#[test]
fn initial_key_files_round_trip_with_mode_0600() {
    let dir = TempDir::new().unwrap();
    let p = dir.path().join("k0");
    let k = InitialKey::generate().unwrap();
    k.write(&p).unwrap();
    assert_eq!(InitialKey::read(&p).unwrap().as_bytes(), k.as_bytes());
    assert!(k.write(&p).is_err());
    fs::write(&p, "zz\n").unwrap();
    assert!(matches!(
        InitialKey::read(&p),
        Err(EventLogError::KeyFile { .. })
    ));
}

#[test]
fn kinds_have_stable_names_and_distinct_class_bits() {
    for k in EventKind::ALL {
        assert_eq!(k.name().parse::<EventKind>().unwrap(), k);
        assert_eq!(serde_json::to_value(k).unwrap(), k.name());
    }
    assert_eq!(EventKind::IntegrityChange.name(), "integrity.change");
    assert_eq!(EventKind::IntegrityChange.class().bit(), 1 << 3);
    let mut bits: Vec<u32> = EventKind::ALL.iter().map(|k| k.class().bit()).collect();
    bits.sort_unstable();
    bits.dedup();
    assert_eq!(bits.len(), EventClass::ALL.len());
    assert_eq!(
        BootId::parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
            .unwrap()
            .to_string(),
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    );
}

#[test]
fn heads_round_trip_as_text() {
    let h = Head {
        seq: 41,
        hash: [0xab; 32],
    };
    assert_eq!(h.to_string().parse::<Head>().unwrap(), h);
    assert!("41".parse::<Head>().is_err());
}

#[test]
fn an_oversized_payload_is_refused_before_anything_is_written() {
    let f = fixture(1);
    let (mut log, _) = open_ready(&f);
    let e = Event::new(EventKind::HookOutcome, Severity::Low).with("x", "y".repeat(70_000));
    assert!(matches!(log.append(&e), Err(EventLogError::Event { .. })));
    log.append_durable(&event(1)).unwrap();
    assert_eq!(check(&f.log, None).records, 2);
}

/// Writes the fuzz seeds (`fuzz/corpus/eventlog_reader/`):
/// `DHA_FUZZ_SEED_DIR=$PWD/fuzz/corpus/eventlog_reader cargo test -p agent-core --lib events::tests::write_fuzz_seeds -- --ignored`
#[test]
#[ignore = "writes the fuzz seed corpus"]
fn write_fuzz_seeds() {
    let out = PathBuf::from(std::env::var("DHA_FUZZ_SEED_DIR").unwrap());
    fs::create_dir_all(&out).unwrap();
    for (name, n) in [("empty", 0), ("one", 1), ("twelve-kinds", 12)] {
        let f = fixture(n);
        fs::copy(&f.log, out.join(format!("{name}.dhaelog"))).unwrap();
    }
    let f = fixture(3);
    let bytes = fs::read(&f.log).unwrap();
    fs::write(out.join("torn.dhaelog"), &bytes[..bytes.len() - 7]).unwrap();
}

#[test]
fn a_second_writer_waits_for_the_first_and_continues_its_chain() {
    let f = fixture(4);
    let (mut first, _) = open_ready(&f);
    let (log, key) = (f.log.clone(), f.key.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let second = std::thread::spawn(move || {
        tx.send(()).unwrap();
        // Blocks on the writer lock until `first` is dropped.
        let mut l = match EventLog::open(&log, &key, stamps()).unwrap() {
            OpenOutcome::Ready { log, .. } => log,
            OpenOutcome::TornTail(_) => panic!("torn"),
        };
        l.append_durable(&event(100)).unwrap()
    });
    rx.recv().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    // The second writer has not appended yet: the first still holds the log.
    assert_eq!(first.append_durable(&event(5)).unwrap(), 4);
    drop(first);
    assert_eq!(
        second.join().unwrap(),
        5,
        "the second writer continues the chain"
    );
    let report = verify(&f.log, &InitialKey::from_bytes(K0), None).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, 6);
}

#[test]
fn a_writer_that_never_releases_the_log_makes_the_other_busy() {
    let f = fixture(1);
    let _held = open_ready(&f);
    let e = match EventLog::open(&f.log, &f.key, stamps()) {
        Err(e) => e,
        Ok(_) => panic!("opened a log another writer holds"),
    };
    assert!(matches!(e, EventLogError::Busy { .. }), "{e}");
    assert!(e.to_string().contains("events.key.lock"), "{e}");
    // Creating over it is refused the same way (never two writers).
    let e = EventLog::create(&f.log, &f.key, &InitialKey::from_bytes(K0), stamps())
        .err()
        .unwrap();
    assert!(matches!(e, EventLogError::Busy { .. }), "{e}");
}

#[test]
fn opening_a_log_without_its_key_file_names_the_key_file_and_leaves_no_lock_file() {
    let dir = TempDir::new().unwrap();
    let key = dir.path().join("events.key");
    let e = match EventLog::open(&dir.path().join("events.log"), &key, stamps()) {
        Err(e) => e,
        Ok(_) => panic!("opened a log without a key file"),
    };
    assert!(
        e.to_string()
            .contains("events.key: cannot read the key file"),
        "{e}"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}
