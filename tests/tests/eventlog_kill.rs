//! The event log survives its writer being killed (SIGKILL) at any moment:
//! after each kill, a restart opens the log (cutting a torn tail, if any,
//! and recording it), every record the writer acknowledged as committed is
//! there with its payload, and the whole log verifies from the initial key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use dha_core::events::record::Reader;
use dha_core::events::{EventKind, EventLog, InitialKey, OpenOutcome, Stamps, verify};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const K0: [u8; 32] = [0x6b; 32];

/// An acknowledged record: its payload `n`, or `None` for the torn-tail
/// event the writer recorded.
type Acked = BTreeMap<u64, Option<u64>>;

fn parse_ack(line: &str, acked: &mut Acked) {
    let mut w = line.split(' ');
    if w.next() != Some("ack") {
        return;
    }
    let seq: u64 = w.next().unwrap().parse().unwrap();
    let n = w.next().unwrap();
    acked.insert(seq, n.parse().ok());
}

#[test]
fn every_acknowledged_record_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.log");
    let key = dir.path().join("events.key");
    let k0_hex: String = K0.iter().map(|b| format!("{b:02x}")).collect();
    let exe = env!("CARGO_BIN_EXE_eventlog_writer");
    let mut acked = Acked::new();
    let (mut torn, mut rolled) = (0u64, 0u64);
    for round in 0..40u64 {
        let mut child = Command::new(exe)
            .args([&log, &key])
            .arg(&k0_hex)
            .arg((round * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait for one acknowledged commit, then let it run a little, so
        // the kill lands in different steps of a commit across the rounds.
        loop {
            let l = lines.next().unwrap().unwrap();
            parse_ack(&l, &mut acked);
            if l.starts_with("ack") {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(200 + (round * 7919) % 15_000));
        child.kill().unwrap();
        for l in lines {
            match l {
                Ok(l) => parse_ack(&l, &mut acked),
                Err(_) => break,
            }
        }
        child.wait().unwrap();

        // The restart.
        match EventLog::open(&log, &key, Stamps::system()).unwrap() {
            OpenOutcome::Ready { rolled_forward, .. } => rolled += rolled_forward,
            OpenOutcome::TornTail(t) => {
                torn += 1;
                let l = t.truncate_and_record().unwrap();
                acked.insert(l.next_seq() - 1, None);
            }
        }
        let report = verify(&log, &InitialKey::from_bytes(K0), None).unwrap();
        assert!(report.is_ok(), "round {round}: {:?}", report.problem);
        let bytes = std::fs::read(&log).unwrap();
        let mut r = Reader::new(&bytes[..]).unwrap();
        let mut found = BTreeMap::new();
        while let Some(rec) = r.next_record().unwrap() {
            found.insert(rec.record.seq, rec.record);
        }
        assert_eq!(found.len() as u64, report.records);
        for (seq, n) in &acked {
            let rec = found
                .get(seq)
                .unwrap_or_else(|| panic!("round {round}: acknowledged record {seq} lost"));
            match n {
                Some(n) => assert_eq!(rec.payload["n"], *n, "round {round}: record {seq}"),
                None => assert_eq!(rec.event_kind(), Some(EventKind::EventLogTampered)),
            }
        }
    }
    eprintln!(
        "event log under SIGKILL: 40 rounds, {} acknowledged records, {torn} torn tails cut and recorded, {rolled} records rolled forward",
        acked.len()
    );
    assert!(acked.len() >= 40);
}
