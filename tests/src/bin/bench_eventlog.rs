//! The event-log benchmark (issue 5, "Done when": event-log appends per
//! second with durable group commit, goal at least 10,000 per second; and
//! verifying a log of 1,000,000 records).
//!
//! ```text
//! cargo run --release -p dha-tests --bin bench-eventlog [-- --records N] [--dir DIR]
//! ```
//!
//! In a temporary directory (under `--dir`, default the system temporary
//! directory) it appends 20,000 events (a realistic payload: a path, a
//! digest, a slot) with a durable commit every 1, 100 and 1,000 records
//! (each commit: one write, one fdatasync of the log, one atomic key-file
//! replacement), and prints appends per second for each group size. Then
//! it writes a log of N records (default 1,000,000; groups of 10,000) and
//! verifies it from the initial key, printing the time, records per second
//! and the peak resident set growth (`VmHWM`, proc(5)) of the verification.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md
//! "Testing").

use dha_core::Severity;
use dha_core::events::log::Stamps;
use dha_core::events::{Event, EventKind, EventLog, InitialKey, verify};
use std::error::Error;
use std::path::Path;
use std::time::Instant;

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn event(i: u64) -> Event {
    Event::new(EventKind::IntegrityChange, Severity::High)
        .with(
            "path",
            format!("/usr/lib/modality/recon{:06}.so", i % 1_000_000),
        )
        .with("change", "content")
        .with(
            "sha256",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        )
        .with("slot", "b")
}

/// Appends `n` events committing every `group`; returns appends per second.
fn appends(dir: &Path, n: u64, group: u64) -> Result<f64, Box<dyn Error>> {
    let log = dir.join(format!("group-{group}.log"));
    let key = dir.join(format!("group-{group}.key"));
    let mut l = EventLog::create(&log, &key, &InitialKey::generate()?, Stamps::system())?;
    let start = Instant::now();
    for i in 0..n {
        l.append(&event(i))?;
        if (i + 1) % group == 0 {
            l.commit()?;
        }
    }
    l.commit()?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut records: u64 = 1_000_000;
    let mut base = std::env::temp_dir();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => records = args.next().ok_or("--records N")?.parse()?,
            "--dir" => base = args.next().ok_or("--dir DIR")?.into(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let dir = tempfile::tempdir_in(&base)?;
    println!("event-log benchmark in {}", dir.path().display());
    for (n, group) in [(2_000, 1), (20_000, 100), (20_000, 1_000)] {
        let rate = appends(dir.path(), n, group)?;
        println!("durable appends, commit every {group:>5}: {rate:>10.0} records/s ({n} records)");
    }

    let log = dir.path().join("big.log");
    let key_file = dir.path().join("big.key");
    let k0 = InitialKey::generate()?;
    let start = Instant::now();
    let mut l = EventLog::create(&log, &key_file, &k0, Stamps::system())?;
    for i in 0..records {
        l.append(&event(i))?;
        if (i + 1) % 10_000 == 0 {
            l.commit()?;
        }
    }
    l.commit()?;
    let head = l.head();
    drop(l);
    let size = std::fs::metadata(&log)?.len();
    println!(
        "wrote {records} records ({:.1} MiB, {:.0} bytes/record) in {:.1} s",
        size as f64 / 1_048_576.0,
        size as f64 / records.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    let rss0 = status_kib("VmRSS");
    let start = Instant::now();
    let report = verify(&log, &k0, head.as_ref())?;
    let took = start.elapsed().as_secs_f64();
    let hwm = status_kib("VmHWM");
    println!(
        "verified {} records in {took:.2} s ({:.0} records/s), ok: {}; peak RSS growth {} KiB",
        report.records,
        report.records as f64 / took,
        report.is_ok(),
        hwm.saturating_sub(rss0)
    );
    Ok(())
}
