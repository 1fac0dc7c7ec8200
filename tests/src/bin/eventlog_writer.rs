//! Test helper for `tests/tests/eventlog_kill.rs`: appends events to an
//! event log and commits them in groups until it is killed.
//!
//! Usage: `eventlog_writer LOG KEYFILE INITIAL_KEY_HEX FIRST_N`. Creates the
//! log when its key file does not exist, else opens it (a torn tail is cut
//! and recorded, and reported as `torn OFFSET BYTES`, then `ack SEQ -`).
//! Then it appends events whose payload `n` counts up from `FIRST_N`, in
//! groups of 1 to 7, and after each commit returns prints `ack SEQ N` for
//! every record of the group: those records are acknowledged durable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dha_core::Severity;
use dha_core::events::{Event, EventKind, EventLog, InitialKey, OpenOutcome, Stamps};
use std::io::Write;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, log, key, k0, first] = args.as_slice() else {
        eprintln!("usage: eventlog_writer LOG KEYFILE INITIAL_KEY_HEX FIRST_N");
        std::process::exit(2);
    };
    let (log, key) = (PathBuf::from(log), PathBuf::from(key));
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        let digits = k0.get(2 * i..2 * i + 2).expect("64 hex digits");
        *b = u8::from_str_radix(digits, 16).expect("key hex");
    }
    let mut n: u64 = first.parse().expect("FIRST_N");
    let mut out = std::io::stdout().lock();
    let mut log = if key.exists() {
        match EventLog::open(&log, &key, Stamps::system()).expect("open") {
            OpenOutcome::Ready { log, .. } => log,
            OpenOutcome::TornTail(t) => {
                writeln!(out, "torn {} {}", t.offset(), t.bytes()).expect("stdout");
                let log = t.truncate_and_record().expect("truncate");
                let seq = log.next_seq() - 1;
                writeln!(out, "ack {seq} -").expect("stdout");
                log
            }
        }
    } else {
        EventLog::create(&log, &key, &InitialKey::from_bytes(k), Stamps::system()).expect("create")
    };
    out.flush().expect("flush");
    for group in 0u64.. {
        let size = 1 + group % 7;
        let mut acks = Vec::new();
        for _ in 0..size {
            let e = Event::new(EventKind::IntegrityChange, Severity::Low)
                .with("n", n)
                .with("path", format!("/etc/file{n}"));
            acks.push((log.append(&e).expect("append"), n));
            n += 1;
        }
        log.commit().expect("commit");
        for (seq, n) in acks {
            writeln!(out, "ack {seq} {n}").expect("stdout");
        }
        out.flush().expect("flush");
    }
}
