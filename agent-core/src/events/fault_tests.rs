//! Power-loss safety of the event log by fault injection (issue 5): a
//! crash, a torn write, an `EIO` and an `ENOSPC` at every durable step of
//! a sequence that creates a log, commits groups, cuts a torn tail and
//! rolls forward after a lost key-file rename. After each, a restart opens
//! the log, finds every acknowledged record and verifies it from the
//! initial key, and the key file matches the log.

use super::*;
use crate::FixedClock;
use crate::events::{FixedMonotonic, verify};
use crate::fault::{self, Fault, Step};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const K0: [u8; 32] = [0x5a; 32];

fn stamps() -> Stamps {
    Stamps {
        boot_id: BootId([3; 16]),
        clock: Box::new(FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(42)),
    }
}

fn event(n: u64) -> Event {
    Event::new(EventKind::IntegrityChange, Severity::Medium).with("n", n)
}

/// What an acknowledged record holds: its kind and payload `n` (the
/// torn-tail event has none).
type Acked = BTreeMap<u64, (EventKind, Option<u64>)>;

struct Paths {
    log: PathBuf,
    key: PathBuf,
}

fn paths(dir: &Path) -> Paths {
    Paths {
        log: dir.join("events.log"),
        key: dir.join("events.key"),
    }
}

/// Commits; a failed commit must leave the log poisoned (module docs).
fn commit(log: &mut EventLog, acked: &mut Acked, group: &[u64]) -> Result<(), EventLogError> {
    let first = log.next_seq() - group.len() as u64;
    if let Err(e) = log.commit() {
        assert!(
            matches!(log.append(&event(0)), Err(EventLogError::Poisoned { .. })),
            "not poisoned after: {e}"
        );
        assert!(matches!(log.commit(), Err(EventLogError::Poisoned { .. })));
        return Err(e);
    }
    for (i, n) in group.iter().enumerate() {
        acked.insert(first + i as u64, (EventKind::IntegrityChange, Some(*n)));
    }
    Ok(())
}

fn append_group(
    log: &mut EventLog,
    acked: &mut Acked,
    ns: std::ops::Range<u64>,
) -> Result<(), EventLogError> {
    let group: Vec<u64> = ns.collect();
    for n in &group {
        log.append(&event(*n))?;
    }
    commit(log, acked, &group)
}

/// The sequence under test. Returns at the first error, as a caller that
/// gives up (or a process that died) would.
fn scenario(dir: &Path, acked: &mut Acked) -> Result<(), EventLogError> {
    let p = paths(dir);
    let mut log = EventLog::create(&p.log, &p.key, &InitialKey::from_bytes(K0), stamps())?;
    append_group(&mut log, acked, 0..3)?;
    append_group(&mut log, acked, 3..4)?;
    append_group(&mut log, acked, 4..6)?;
    drop(log);

    // An earlier power cut tore a record: the start of the last record
    // again, cut short (written directly, not a step under test).
    let bytes = fs::read(&p.log).unwrap();
    let last = acked.len() - 1;
    let start = record_offsets(&bytes)[last];
    let mut torn = bytes.clone();
    torn.extend_from_slice(&bytes[start..bytes.len() - 9]);
    fs::write(&p.log, &torn).unwrap();
    let OpenOutcome::TornTail(t) = EventLog::open(&p.log, &p.key, stamps())? else {
        panic!("torn tail not reported");
    };
    let seq = t.log.next_seq();
    let mut log = t.truncate_and_record()?;
    acked.insert(seq, (EventKind::EventLogTampered, None));
    append_group(&mut log, acked, 6..8)?;

    // A committed group whose key-file rename is then lost (it was not yet
    // made durable by a directory fsync): the previous key file is back.
    let old_key = fs::read(&p.key).unwrap();
    append_group(&mut log, acked, 8..10)?;
    drop(log);
    fs::write(&p.key, &old_key).unwrap();
    let OpenOutcome::Ready {
        mut log,
        rolled_forward,
    } = EventLog::open(&p.log, &p.key, stamps())?
    else {
        panic!("a clean log reported a torn tail");
    };
    assert_eq!(rolled_forward, 2);
    append_group(&mut log, acked, 10..11)?;
    // A group appended but never committed is not acknowledged.
    log.append(&event(99))?;
    drop(log);
    Ok(())
}

fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut r = record::Reader::new(bytes).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push(usize::try_from(rec.offset).unwrap());
    }
    out
}

/// A restart: opens the log (cutting a torn tail), appends one record, and
/// checks the log and its key file against what was acknowledged.
fn restart_and_check(dir: &Path, acked: &Acked, what: &str) {
    let p = paths(dir);
    if !p.key.exists() {
        assert!(acked.is_empty(), "{what}: key file lost");
        // Nothing was acknowledged: the log is created (again).
        let mut log = EventLog::create(&p.log, &p.key, &InitialKey::from_bytes(K0), stamps())
            .unwrap_or_else(|e| panic!("{what}: create after the fault: {e}"));
        log.append_durable(&event(1000)).unwrap();
        drop(log); // releases the writer lock for the check's reopening
        check_log(&p, acked, what);
        return;
    }
    let mut log = match EventLog::open(&p.log, &p.key, stamps()) {
        Ok(OpenOutcome::Ready { log, .. }) => log,
        Ok(OpenOutcome::TornTail(t)) => t
            .truncate_and_record()
            .unwrap_or_else(|e| panic!("{what}: cutting the torn tail: {e}")),
        Err(e) => panic!("{what}: reopen failed: {e}"),
    };
    log.append_durable(&event(1000)).unwrap();
    drop(log);
    check_log(&p, acked, what);
}

fn check_log(p: &Paths, acked: &Acked, what: &str) {
    let report = verify(&p.log, &InitialKey::from_bytes(K0), None).unwrap();
    assert!(report.is_ok(), "{what}: {:?}", report.problem);
    let bytes = fs::read(&p.log).unwrap();
    let mut r = record::Reader::new(&bytes[..]).unwrap();
    let mut found = BTreeMap::new();
    while let Some(rec) = r.next_record().unwrap() {
        found.insert(rec.record.seq, rec.record);
    }
    for (seq, (kind, n)) in acked {
        let rec = found
            .get(seq)
            .unwrap_or_else(|| panic!("{what}: acknowledged record {seq} lost"));
        assert_eq!(rec.event_kind(), Some(*kind), "{what}: record {seq}");
        if let Some(n) = n {
            assert_eq!(rec.payload["n"], *n, "{what}: record {seq}");
        }
    }
    // The key file matches the log: its next sequence number, length, head
    // and the key evolved once per record from K_0.
    let raw = fs::read(&p.key).unwrap();
    let state = KeyState::decode(&p.key, &raw).unwrap();
    let head = report.head.unwrap();
    assert_eq!(state.next_seq, report.records, "{what}");
    assert_eq!(state.end, bytes.len() as u64, "{what}");
    assert_eq!(state.head_hash, head.hash, "{what}");
    let mut k = Zeroizing::new(K0);
    for _ in 0..report.records {
        k = evolve(&k);
    }
    assert_eq!(*state.key, *k, "{what}: key file's key");
    // No temporary of an interrupted key-file write is left: it would hold
    // an earlier key, from which later records could be forged.
    for entry in fs::read_dir(p.log.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path != p.log && path != p.key {
            let bytes = fs::read(&path).unwrap();
            assert!(
                !bytes.starts_with(KEY_MAGIC),
                "{what}: {} holds an earlier key",
                path.display()
            );
        }
    }
    // And a second restart finds nothing to repair.
    match EventLog::open(&p.log, &p.key, stamps()).unwrap() {
        OpenOutcome::Ready { rolled_forward, .. } => assert_eq!(rolled_forward, 0, "{what}"),
        OpenOutcome::TornTail(t) => panic!("{what}: torn tail at {} again", t.offset()),
    }
}

/// The steps of the whole sequence, counted once without a fault.
fn steps_of_the_scenario() -> Vec<Step> {
    let dir = tempfile::tempdir().unwrap();
    let mut acked = Acked::new();
    fault::arm(0, Fault::Crash);
    scenario(dir.path(), &mut acked).unwrap();
    let steps = fault::disarm().steps;
    assert_eq!(acked.len(), 12);
    check_log(&paths(dir.path()), &acked, "no fault");
    steps
}

/// Runs the scenario with `fault` at step `at`; returns the error.
fn run_with(at: usize, fault_kind: Fault, dir: &Path, acked: &mut Acked) -> EventLogError {
    fault::arm(at, fault_kind);
    let result = scenario(dir, acked);
    let outcome = fault::disarm();
    assert!(outcome.fired.is_some(), "fault {at} did not fire");
    match result {
        Ok(()) => panic!("fault {at} ({:?}) not reported", outcome.fired),
        Err(e) => e,
    }
}

#[test]
fn a_crash_at_every_durable_step_loses_nothing_acknowledged() {
    let steps = steps_of_the_scenario();
    let mut points = 0;
    for (i, step) in steps.iter().enumerate() {
        let at = i + 1;
        let kinds: &[Fault] = if *step == Step::Write {
            &[Fault::Crash, Fault::TornCrash, Fault::PowerCut]
        } else {
            &[Fault::Crash, Fault::PowerCut]
        };
        for &kind in kinds {
            let dir = tempfile::tempdir().unwrap();
            let mut acked = Acked::new();
            let e = run_with(at, kind, dir.path(), &mut acked);
            let what = format!("{kind:?} at step {at} ({step:?}): {e}");
            assert!(
                matches!(&e, EventLogError::Io { source, .. } if fault::is_crash(source)),
                "{what}"
            );
            restart_and_check(dir.path(), &acked, &what);
            points += 1;
        }
    }
    eprintln!(
        "event log: {points} crash points ({} durable steps, torn writes and lost renames included)",
        steps.len()
    );
    assert!(steps.len() > 30, "{steps:?}");
}

#[test]
fn an_io_error_or_a_full_disk_at_every_durable_step_is_reported_and_recovered() {
    let steps = steps_of_the_scenario();
    let mut points = 0;
    for errno in [libc::EIO, libc::ENOSPC] {
        for (i, step) in steps.iter().enumerate() {
            let at = i + 1;
            let dir = tempfile::tempdir().unwrap();
            let p = paths(dir.path());
            let mut acked = Acked::new();
            let e = run_with(at, Fault::Errno(errno), dir.path(), &mut acked);
            let what = format!("errno {errno} at step {at} ({step:?}): {e}");
            // The error names the file and carries the errno.
            match &e {
                EventLogError::Io { path, source, .. } => {
                    assert!(*path == p.log || *path == p.key, "{what}");
                    assert_eq!(source.raw_os_error(), Some(errno), "{what}");
                }
                other => panic!("{what}: not an I/O error: {other:?}"),
            }
            let text = e.to_string();
            assert!(
                text.contains("events.log") || text.contains("events.key"),
                "{what}"
            );
            restart_and_check(dir.path(), &acked, &what);
            points += 1;
        }
    }
    eprintln!("event log: {points} injected-error points (EIO and ENOSPC)");
}

#[test]
fn create_takes_over_only_an_interrupted_creation() {
    let key = InitialKey::from_bytes(K0);
    for (content, taken_over) in [
        (&b""[..], true),
        (&MAGIC[..3], true),
        (&MAGIC[..], true),
        (&b"not a log"[..], false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        fs::write(&p.log, content).unwrap();
        match EventLog::create(&p.log, &p.key, &key, stamps()) {
            Ok(mut log) => {
                assert!(taken_over, "{content:?}");
                log.append_durable(&event(1)).unwrap();
                drop(log); // releases the writer lock
                check_log(&p, &Acked::new(), "taken over");
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&p.log).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            Err(EventLogError::Exists { path }) => {
                assert!(!taken_over, "{content:?}");
                assert_eq!(path, p.log);
                assert_eq!(fs::read(&p.log).unwrap(), content);
            }
            Err(e) => panic!("{e}"),
        }
    }
    // A log with records but no key file is never taken over.
    let dir = tempfile::tempdir().unwrap();
    let p = paths(dir.path());
    let mut log = EventLog::create(&p.log, &p.key, &key, stamps()).unwrap();
    log.append_durable(&event(1)).unwrap();
    drop(log);
    fs::remove_file(&p.key).unwrap();
    assert!(matches!(
        EventLog::create(&p.log, &p.key, &key, stamps()),
        Err(EventLogError::Exists { .. })
    ));
}
