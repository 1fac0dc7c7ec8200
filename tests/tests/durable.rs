//! The durable-write helper survives the process being killed at any moment:
//! after each SIGKILL the state file holds one complete version, never a torn
//! or empty one, and never an older version than the last acknowledged write.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn check_complete(body: &str) -> u64 {
    let first = body.lines().next().expect("empty state file");
    let n: u64 = first
        .strip_prefix("version ")
        .expect("garbled first line")
        .parse()
        .expect("garbled number");
    assert_eq!(
        body,
        format!("version {n}\n").repeat(4096),
        "torn write for version {n}"
    );
    n
}

#[test]
fn state_survives_sigkill_at_any_point_of_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let exe = env!("CARGO_BIN_EXE_durable_writer");
    let mut last_seen = 0u64;
    // Kill after a varying delay so the kill lands in different steps of the
    // write (write, fsync, rename, directory fsync) across the 40 rounds.
    for round in 0..40u64 {
        let mut child = Command::new(exe)
            .arg(&state)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait for at least one acknowledged write, then let it run a little.
        let acked: u64 = lines.next().unwrap().unwrap().parse().unwrap();
        std::thread::sleep(Duration::from_micros(200 + (round * 7919) % 5000));
        child.kill().unwrap();
        let mut last_ack = acked;
        for l in lines {
            match l {
                Ok(l) => last_ack = l.parse().unwrap_or(last_ack),
                Err(_) => break,
            }
        }
        child.wait().unwrap();
        let body = std::fs::read_to_string(&state).unwrap();
        let n = check_complete(&body);
        // The acknowledged write is durable (n == last_ack) or one later write completed
        // its rename before the kill but after the last acknowledgement (n == last_ack + 1).
        assert!(
            n == last_ack || n == last_ack + 1,
            "round {round}: file has version {n}, last acknowledged {last_ack}"
        );
        last_seen = last_seen.max(n);
    }
    assert!(last_seen > 0);
    // Killed writes may leave temporaries behind; the start-up sweep removes
    // them and leaves the state file alone.
    dha_core::durable::remove_stale_temporaries(dir.path()).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("state")]);
    check_complete(&std::fs::read_to_string(&state).unwrap());
}
