//! `dha log` end to end (issue 5, "Tamper-evident event log"): the built
//! program on logs written by `dha_core::events` in temporary directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::FixedClock;
use dha_core::Severity;
use dha_core::events::log::Stamps;
use dha_core::events::{BootId, Event, EventKind, EventLog, FixedMonotonic, InitialKey};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn dha(args: &[&str]) -> Output {
    Command::new(DHA).args(args).output().expect("run dha")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Rig {
    dir: TempDir,
    log: PathBuf,
    k0: PathBuf,
    head: String,
}

/// `dha log keygen`, then a log of 5 records written with that key.
fn rig() -> Rig {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("events.log");
    let k0 = dir.path().join("k0.hex");
    let out = dha(&["log", "keygen", s(&k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fs::metadata(&k0).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key = InitialKey::read(&k0).unwrap();
    let stamps = Stamps {
        boot_id: BootId([1; 16]),
        clock: Box::new(FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(5)),
    };
    let mut l = EventLog::create(&log, &dir.path().join("events.key"), &key, stamps).unwrap();
    for i in 0..5u64 {
        l.append(
            &Event::new(EventKind::IntegrityChange, Severity::High)
                .with("path", format!("/etc/f{i}")),
        )
        .unwrap();
    }
    l.commit().unwrap();
    let head = l.head().unwrap().to_string();
    Rig { dir, log, k0, head }
}

#[test]
fn show_prints_every_record_as_a_table_and_as_json() {
    let r = rig();
    let out = dha(&["log", "show", "--log", s(&r.log)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.contains("integrity.change"), "{text}");
    assert!(text.contains("/etc/f4"), "{text}");
    let out = dha(&["log", "show", "--log", s(&r.log), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["records"].as_array().unwrap().len(), 5);
    assert_eq!(doc["records"][3]["seq"], 3);
    assert_eq!(doc["records"][3]["severity"], "high");
    assert_eq!(doc["records"][3]["time"], "2026-05-28T20:26:40Z");
    assert_eq!(
        doc["records"][3]["boot_id"],
        "01010101-0101-0101-0101-010101010101"
    );
}

#[test]
fn verify_exits_0_for_an_intact_log_and_prints_its_head() {
    let r = rig();
    let out = dha(&[
        "log",
        "verify",
        "--log",
        s(&r.log),
        "--key",
        s(&r.k0),
        "--head",
        &r.head,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("intact, 5 records"), "{text}");
    assert!(text.contains(&r.head), "{text}");
}

#[test]
fn verify_exits_1_for_a_modified_record_naming_it() {
    let r = rig();
    let mut bytes = fs::read(&r.log).unwrap();
    // "/etc/f2" → "/etc/g2" in record 2.
    let at = bytes.windows(7).position(|w| w == b"/etc/f2").unwrap();
    bytes[at + 5] = b'g';
    fs::write(&r.log, &bytes).unwrap();
    let out = dha(&[
        "log",
        "verify",
        "--log",
        s(&r.log),
        "--key",
        s(&r.k0),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verified"], false);
    assert_eq!(doc["problem"]["index"], 2);
    assert_eq!(doc["records"], 2);
}

#[test]
fn verify_detects_a_cut_log_only_with_the_head() {
    let r = rig();
    let bytes = fs::read(&r.log).unwrap();
    let len = bytes.len();
    // Records are the same length here (same kind, same-length payloads).
    let record = (len - 8) / 5;
    fs::write(&r.log, &bytes[..len - record]).unwrap();
    let without = dha(&["log", "verify", "--log", s(&r.log), "--key", s(&r.k0)]);
    assert_eq!(without.status.code(), Some(0), "{without:?}");
    let with = dha(&[
        "log",
        "verify",
        "--log",
        s(&r.log),
        "--key",
        s(&r.k0),
        "--head",
        &r.head,
    ]);
    assert_eq!(with.status.code(), Some(1), "{with:?}");
    let text = String::from_utf8(with.stdout).unwrap();
    assert!(
        text.contains("TAMPERED") && text.contains("cut off"),
        "{text}"
    );
}

#[test]
fn a_torn_log_exits_1_from_show_and_verify() {
    let r = rig();
    let bytes = fs::read(&r.log).unwrap();
    fs::write(&r.log, &bytes[..bytes.len() - 3]).unwrap();
    let out = dha(&["log", "show", "--log", s(&r.log)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 4);
    assert!(String::from_utf8(out.stderr).unwrap().contains("torn"));
    let out = dha(&["log", "verify", "--log", s(&r.log), "--key", s(&r.k0)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("record 4"));
}

#[test]
fn usage_and_unreadable_files_exit_2() {
    let r = rig();
    let missing = r.dir.path().join("missing");
    for args in [
        vec!["log", "verify", "--log", s(&r.log)],
        vec![
            "log",
            "verify",
            "--log",
            s(&r.log),
            "--key",
            s(&r.k0),
            "--head",
            "x",
        ],
        vec!["log", "verify", "--log", s(&missing), "--key", s(&r.k0)],
        vec!["log", "verify", "--log", s(&r.log), "--key", s(&missing)],
        vec!["log", "show", "--log", s(&missing)],
        vec!["log", "keygen", s(&r.k0)],
    ] {
        let out = dha(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[test]
fn show_and_verify_take_the_log_of_the_configuration_unless_given_one() {
    let r = rig();
    let cfg = r.dir.path().join("dha.toml");
    fs::write(
        &cfg,
        format!(
            "[eventlog]\npath = \"{}\"\nkey = \"{}\"\n",
            s(&r.log),
            s(&r.dir.path().join("events.key"))
        ),
    )
    .unwrap();
    let out = dha(&["log", "show", "--config", s(&cfg), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["log"], s(&r.log));
    assert_eq!(doc["records"].as_array().unwrap().len(), 5);
    let out = dha(&["log", "verify", "--config", s(&cfg), "--key", s(&r.k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // --log wins over the configuration.
    let missing = r.dir.path().join("missing.log");
    let out = dha(&["log", "show", "--config", s(&cfg), "--log", s(&missing)]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.log"));
    // A configuration that cannot be read is a usage error naming it.
    let bad = r.dir.path().join("bad.toml");
    fs::write(&bad, "[eventlog]\npath = \"relative.log\"\n").unwrap();
    let out = dha(&["log", "show", "--config", s(&bad)]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("eventlog.path"));
}
