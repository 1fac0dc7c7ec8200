//! The event log on a really full file system (ENOSPC): a small tmpfs is
//! mounted (the tests run as root; without the permission the test says so
//! and skips) and filled by the log. The failing commit names the file and
//! the cause, nothing committed earlier is lost, and once space is freed
//! the log reopens (cutting and recording a torn tail if the full disk cut
//! a record) and continues. The tmpfs is unmounted in every case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use dha_core::Severity;
use dha_core::events::record::Reader;
use dha_core::events::{
    BootId, Event, EventKind, EventLog, EventLogError, FixedMonotonic, InitialKey, OpenOutcome,
    Problem, Stamps, verify,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const K0: [u8; 32] = [0x21; 32];
/// `ENOSPC` on Linux (the tests crate does not depend on libc).
const ENOSPC: i32 = 28;

/// A mounted tmpfs, unmounted when dropped (also when the test panics).
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("fs");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs here ({}); run as root to test a real ENOSPC",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs {
            dir,
            _parent: parent,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy (an open file in a panicking test): detach it instead.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn stamps() -> Stamps {
    Stamps {
        boot_id: BootId([9; 16]),
        clock: Box::new(dha_core::FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(1)),
    }
}

fn event(n: u64) -> Event {
    // About 1 KiB a record, so a few groups fill a page.
    Event::new(EventKind::IntegrityChange, Severity::Low)
        .with("n", n)
        .with("detail", "x".repeat(1000))
}

/// Checks that the log verifies (up to a torn tail when `torn_ok`: the
/// full disk cut a record that was never acknowledged) and holds every
/// acknowledged record; returns how many records verified.
fn check(log: &Path, acked: &BTreeMap<u64, u64>, torn_ok: bool) -> u64 {
    let report = verify(log, &InitialKey::from_bytes(K0), None).unwrap();
    match &report.problem {
        None => {}
        Some(Problem::TornTail { .. }) if torn_ok => {}
        Some(p) => panic!("{p}"),
    }
    let bytes = std::fs::read(log).unwrap();
    let mut r = Reader::new(&bytes[..]).unwrap();
    let mut found = BTreeMap::new();
    while let Ok(Some(rec)) = r.next_record() {
        found.insert(rec.record.seq, rec.record);
    }
    for (seq, n) in acked {
        let rec = found
            .get(seq)
            .unwrap_or_else(|| panic!("record {seq} lost"));
        assert_eq!(rec.payload["n"], *n, "record {seq}");
    }
    report.records
}

#[test]
fn a_full_disk_is_reported_loses_nothing_and_the_log_continues_after_freeing_space() {
    let Some(fs) = Tmpfs::mount("256k") else {
        return;
    };
    let log_path = fs.dir.join("events.log");
    let key_path = fs.dir.join("events.key");
    let mut log =
        EventLog::create(&log_path, &key_path, &InitialKey::from_bytes(K0), stamps()).unwrap();
    let mut acked = BTreeMap::new();
    let mut n = 0u64;
    // Large groups fill the disk in the log's own write (cutting a record);
    // single records then fill it in the key file's replacement.
    for (round, (group_len, ballast_kib)) in [(24u64, 48), (1, 16)].into_iter().enumerate() {
        // Space to free later.
        let ballast = fs.dir.join("ballast");
        std::fs::write(&ballast, vec![0u8; ballast_kib * 1024]).unwrap();
        let err = loop {
            let mut group = Vec::new();
            for _ in 0..group_len {
                group.push((log.append(&event(n)).unwrap(), n));
                n += 1;
            }
            match log.commit() {
                Ok(()) => acked.extend(group),
                Err(e) => break e,
            }
            assert!(n < 100_000, "the file system never filled");
        };
        // The error names the file and the cause.
        match &err {
            EventLogError::Io { path, source, .. } => {
                assert!(*path == log_path || *path == key_path, "{err}");
                assert_eq!(source.raw_os_error(), Some(ENOSPC), "{err}");
            }
            other => panic!("not an I/O error: {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("No space left on device"), "{text}");
        assert!(text.contains(&*fs.dir.to_string_lossy()), "{text}");
        // The log refuses further work until reopened.
        assert!(matches!(
            log.append(&event(n)),
            Err(EventLogError::Poisoned { .. })
        ));
        drop(log);
        eprintln!(
            "round {round}: full disk after {} acknowledged records: {err}",
            acked.len()
        );
        // Nothing acknowledged is lost, even before space is freed.
        check(&log_path, &acked, true);

        // Free space; the log reopens and continues.
        std::fs::remove_file(&ballast).unwrap();
        log = match EventLog::open(&log_path, &key_path, stamps()).unwrap() {
            OpenOutcome::Ready { log, .. } => log,
            OpenOutcome::TornTail(t) => {
                eprintln!(
                    "round {round}: torn tail of {} bytes at {} cut and recorded",
                    t.bytes(),
                    t.offset()
                );
                t.truncate_and_record().unwrap()
            }
        };
        for _ in 0..3 {
            let seq = log.append(&event(n)).unwrap();
            log.commit().unwrap();
            acked.insert(seq, n);
            n += 1;
        }
        let records = check(&log_path, &acked, false);
        assert!(records >= acked.len() as u64);
    }
    drop(log);
    match EventLog::open(&log_path, &key_path, stamps()).unwrap() {
        OpenOutcome::Ready { rolled_forward, .. } => assert_eq!(rolled_forward, 0),
        OpenOutcome::TornTail(t) => panic!("torn tail at {} after the restart", t.offset()),
    }
}
