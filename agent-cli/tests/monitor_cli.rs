//! `dha monitor` end to end (issue 6, "Monitoring"): the built program
//! watches this machine while the test opens and closes a listening socket
//! of its own; the events name the port and this test's process, reach the
//! event log, and SIGTERM ends the program with status 0.
//!
//! Waits are deadlines for failing instead of hanging (no timing is
//! asserted): the monitor looks every second.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const DHA: &str = env!("CARGO_BIN_EXE_dha");

/// Long enough for a loaded CI machine; only reached when something is wrong.
const DEADLINE: Duration = Duration::from_secs(120);

fn dha(args: &[&str]) -> Output {
    Command::new(DHA).args(args).output().expect("run dha")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The lines of the child's standard output, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line for which `want` holds; every line read is kept in `seen`.
fn wait_for(
    rx: &Receiver<String>,
    seen: &mut Vec<String>,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> String {
    let until = Instant::now() + DEADLINE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if want(&line) {
                    return line;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no {what} within {DEADLINE:?}; saw {seen:#?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("dha monitor ended before {what}; saw {seen:#?}")
            }
        }
    }
}

/// Kills the monitor if the test fails before it is stopped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_socket_opened_and_closed_by_the_test_becomes_two_recorded_events() {
    let dir = tempfile::tempdir().unwrap();
    let k0 = dir.path().join("k0.hex");
    let cfg = dir.path().join("dha.toml");
    fs::write(
        &cfg,
        format!(
            "[eventlog]\npath = \"{}\"\nkey = \"{}\"\n\n[monitor]\nstorage = [\"{}\"]\n",
            s(&dir.path().join("events.log")),
            s(&dir.path().join("events.key")),
            s(dir.path())
        ),
    )
    .unwrap();
    let out = dha(&["log", "keygen", s(&k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = dha(&["log", "init", "--key", s(&k0), "--config", s(&cfg)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let child = Command::new(DHA)
        .args(["monitor", "--interval", "1", "--config", s(&cfg)])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    let rx = lines_of(&mut guard.0);
    let mut seen = Vec::new();
    let baseline = wait_for(&rx, &mut seen, "baseline line", |l| {
        l.starts_with("baseline: ")
    });
    assert!(baseline.contains("listening sockets"), "{baseline}");

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let me = std::process::id();
    let exe = std::env::current_exe().unwrap();
    let endpoint = format!(" tcp 127.0.0.1:{port} ");
    let opened = wait_for(&rx, &mut seen, "socket_opened event", |l| {
        l.starts_with("monitor.socket_opened ") && l.contains(&endpoint)
    });
    assert!(opened.contains(&format!("pid {me} ")), "{opened}");
    assert!(opened.contains(&format!("({:?})", s(&exe))), "{opened}");
    drop(listener);
    let closed = wait_for(&rx, &mut seen, "socket_closed event", |l| {
        l.starts_with("monitor.socket_closed ") && l.contains(&endpoint)
    });
    assert!(closed.contains(&format!("pid {me} ")), "{closed}");

    kill(
        Pid::from_raw(i32::try_from(guard.0.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let until = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < until,
            "dha monitor did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");

    let out = dha(&["log", "show", "--config", s(&cfg), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = |kind: &str| {
        doc["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == kind && r["payload"]["port"] == port)
            .cloned()
            .collect::<Vec<Value>>()
    };
    let opened = ours("monitor.socket_opened");
    assert_eq!(opened.len(), 1, "{doc:#}");
    assert_eq!(opened[0]["payload"]["address"], "127.0.0.1");
    assert_eq!(opened[0]["payload"]["protocol"], "tcp");
    assert!(
        opened[0]["payload"]["owners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["pid"] == me && o["exe"] == s(&exe)),
        "{opened:#?}"
    );
    assert_eq!(ours("monitor.socket_closed").len(), 1, "{doc:#}");
    let out = dha(&["log", "verify", "--config", s(&cfg), "--key", s(&k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn once_prints_the_baseline_and_exits_0_and_bad_settings_exit_2() {
    let out = dha(&["monitor", "--once"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("baseline: "), "{text}");
    assert!(!text.contains("every"), "{text}");
    let out = dha(&["monitor", "--interval", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dha.toml");
    fs::write(&cfg, "[monitor]\nthreshold_percent = 150\n").unwrap();
    let out = dha(&["monitor", "--once", "--config", s(&cfg)]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("monitor.threshold_percent"));
}

/// A configuration with an initialised event log in `dir`; returns
/// (config, initial key).
fn logged_config(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let k0 = dir.join("k0.hex");
    let cfg = dir.join("dha.toml");
    fs::write(
        &cfg,
        format!(
            "[eventlog]\npath = \"{}\"\nkey = \"{}\"\n\n[monitor]\nstorage = [\"{}\"]\n",
            s(&dir.join("events.log")),
            s(&dir.join("events.key")),
            s(dir)
        ),
    )
    .unwrap();
    let out = dha(&["log", "keygen", s(&k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = dha(&["log", "init", "--key", s(&k0), "--config", s(&cfg)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    (cfg, k0)
}

/// The `kind` records of the log about `port` (read without the lock).
fn recorded(cfg: &Path, kind: &str, port: u16) -> usize {
    let out = dha(&["log", "show", "--config", s(cfg), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind && r["payload"]["port"] == port)
        .count()
}

/// Polls until `kind` about `port` is in the log.
fn wait_recorded(cfg: &Path, kind: &str, port: u16) {
    let until = Instant::now() + DEADLINE;
    while recorded(cfg, kind, port) == 0 {
        assert!(Instant::now() < until, "no {kind} for {port} in the log");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// SIGTERM, then the exit status.
fn stop(child: &mut Child) -> Option<i32> {
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(Instant::now() < until, "dha monitor did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn events_wait_for_a_busy_event_log_and_are_recorded_once_it_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, k0) = logged_config(dir.path());
    // Another writer holds the log: EventLog's writer lock is flock(2) of
    // the key file's name with `.lock` appended.
    let lock_file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join("events.key.lock"))
        .unwrap();
    let held =
        nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let stderr = dir.path().join("stderr.txt");
    let child = Command::new(DHA)
        .args(["monitor", "--interval", "1", "--config", s(&cfg)])
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    let rx = lines_of(&mut guard.0);
    let mut seen = Vec::new();
    wait_for(&rx, &mut seen, "baseline line", |l| {
        l.starts_with("baseline: ")
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let endpoint = format!(" tcp 127.0.0.1:{port} ");
    // Printed after the attempt to record it, which waited for the lock
    // and gave up (LOCK_WAIT): the event is not in the log yet.
    wait_for(&rx, &mut seen, "socket_opened event", |l| {
        l.starts_with("monitor.socket_opened ") && l.contains(&endpoint)
    });
    assert_eq!(recorded(&cfg, "monitor.socket_opened", port), 0);
    let warned = fs::read_to_string(&stderr).unwrap();
    assert!(
        warned.contains("not recorded yet (kept, retried at the next look)"),
        "{warned}"
    );
    drop(held);
    wait_recorded(&cfg, "monitor.socket_opened", port);
    drop(listener);
    wait_recorded(&cfg, "monitor.socket_closed", port);
    assert_eq!(stop(&mut guard.0), Some(0));
    assert_eq!(recorded(&cfg, "monitor.socket_opened", port), 1);
    let out = dha(&["log", "verify", "--config", s(&cfg), "--key", s(&k0)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn a_closed_standard_output_is_one_warning_and_events_are_still_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = logged_config(dir.path());
    let stderr = dir.path().join("stderr.txt");
    let mut child = Command::new(DHA)
        .args(["monitor", "--interval", "1", "--config", s(&cfg)])
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut guard = Guard(child);
    let mut baseline = String::new();
    reader.read_line(&mut baseline).unwrap();
    assert!(baseline.starts_with("baseline: "), "{baseline}");
    drop(reader); // the reading end is closed: writes fail with EPIPE
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    wait_recorded(&cfg, "monitor.socket_opened", port);
    drop(listener);
    wait_recorded(&cfg, "monitor.socket_closed", port);
    assert_eq!(guard.0.try_wait().unwrap(), None, "dha monitor ended");
    assert_eq!(stop(&mut guard.0), Some(0));
    let warned = fs::read_to_string(&stderr).unwrap();
    assert_eq!(
        warned.matches("cannot write to standard output").count(),
        1,
        "{warned}"
    );
}
