//! Tests of [`super::confirm`]: real executables (shell scripts in a
//! temporary directory) over an in-memory boot environment.

use super::*;
use crate::events::EventKind;
use std::cell::RefCell;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

struct Memory {
    state: RefCell<BootState>,
    booted: Option<SlotId>,
}

impl BootControl for Memory {
    fn read(&self) -> Result<BootState, BootError> {
        Ok(self.state.borrow().clone())
    }
    fn write(&self, state: &BootState) -> Result<(), BootError> {
        *self.state.borrow_mut() = state.clone();
        Ok(())
    }
    fn booted(&self) -> Option<SlotId> {
        self.booted.clone()
    }
}

fn id(s: &str) -> SlotId {
    SlotId(s.to_owned())
}

fn state(order: &[&str], tries: &[(&str, u32)]) -> BootState {
    BootState {
        order: order.iter().map(|s| id(s)).collect(),
        tries_left: tries.iter().map(|(s, n)| (id(s), *n)).collect(),
    }
}

fn memory(order: &[&str], tries: &[(&str, u32)], booted: Option<&str>) -> Memory {
    Memory {
        state: RefCell::new(state(order, tries)),
        booted: booted.map(id),
    }
}

const P: BootPolicy = BootPolicy { max_tries: 3 };

/// An executable shell script `name` in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn config(checks: &[(&Path, u64)]) -> BootConfig {
    BootConfig {
        health_checks: checks
            .iter()
            .map(|(p, t)| HealthCheckConfig {
                path: p.to_path_buf(),
                timeout_secs: *t,
            })
            .collect(),
        ..BootConfig::default()
    }
}

#[test]
fn healthy_boot_is_marked_good_and_rearmed() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let check = script(
        dir.path(),
        "ok",
        &format!(
            "echo \"$DHA_PHASE $DHA_SLOT $HOME\" > '{}'\n",
            seen.display()
        ),
    );
    let m = memory(&["B", "A"], &[("A", 3), ("B", 2)], Some("B"));
    let mut called = 0;
    let mut cbs = [HealthCallback {
        name: "console".to_owned(),
        check: Box::new(|| {
            called += 1;
            Ok(())
        }),
    }];
    let r = confirm(&m, P, &config(&[(&check, 5)]), &mut cbs).unwrap();
    drop(cbs);
    assert_eq!(called, 1);
    assert!(r.healthy() && r.marked_good && r.marked_bad.is_none());
    assert_eq!(r.checks.len(), 2);
    assert!(r.fell_back_from.is_empty());
    assert_eq!(r.state, state(&["B", "A"], &[("A", 3), ("B", 3)]));
    assert_eq!(*m.state.borrow(), r.state);
    // The documented environment, and nothing else.
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "health-check B \n");
    let ev = r.events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EventKind::BootMarkedGood);
    assert_eq!(ev[0].payload["slot"], "B");
    assert_eq!(ev[0].payload["tries_left"], 3);
}

#[test]
fn a_failing_executable_stops_the_run_and_nothing_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("second-ran");
    let bad = script(
        dir.path(),
        "bad",
        "echo starting >&2\necho 'imaging service not up' >&2\nexit 1\n",
    );
    let second = script(
        dir.path(),
        "second",
        &format!("touch '{}'\n", ran.display()),
    );
    let m = memory(&["B", "A"], &[("A", 3), ("B", 2)], Some("B"));
    let mut cbs = [HealthCallback {
        name: "never".to_owned(),
        check: Box::new(|| panic!("callbacks run after a failed executable")),
    }];
    let r = confirm(&m, P, &config(&[(&bad, 5), (&second, 5)]), &mut cbs).unwrap();
    assert!(!r.healthy() && !r.marked_good && r.marked_bad.is_none());
    assert_eq!(r.checks.len(), 1);
    let f = r.failure().unwrap();
    assert_eq!(f.name, bad.display().to_string());
    assert_eq!(
        f.result,
        Err("exited with status 1: imaging service not up".to_owned())
    );
    assert!(!ran.exists());
    // The boot loader's counter is left as it is: it falls back when it runs out.
    assert_eq!(*m.state.borrow(), state(&["B", "A"], &[("A", 3), ("B", 2)]));
    // One event: the unhealthy boot, naming the check and the tries left.
    let ev = r.events();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EventKind::BootUnhealthy);
    assert_eq!(ev[0].payload["slot"], "B");
    assert_eq!(ev[0].payload["check"], bad.display().to_string());
    assert_eq!(ev[0].payload["tries_left"], 2);
}

#[test]
fn a_check_past_its_timeout_is_killed_and_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let slow = script(
        dir.path(),
        "slow",
        &format!("echo $$ > '{}'\nexec sleep 600\n", pid_file.display()),
    );
    let m = memory(&["A", "B"], &[("A", 3), ("B", 3)], Some("A"));
    let r = confirm(&m, P, &config(&[(&slow, 1)]), &mut []).unwrap();
    assert_eq!(
        r.failure().unwrap().result,
        Err("still running after 1 s: killed".to_owned())
    );
    assert!(!r.marked_good);
    // The process is gone (killed and reaped).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "health check {pid} still running"
    );
}

#[test]
fn a_missing_executable_and_a_failing_callback_are_unhealthy() {
    let m = memory(&["A", "B"], &[("A", 3), ("B", 3)], Some("A"));
    let r = confirm(
        &m,
        P,
        &config(&[(Path::new("/nonexistent/dha-check"), 5)]),
        &mut [],
    )
    .unwrap();
    let why = r.failure().unwrap().result.clone().unwrap_err();
    assert!(why.starts_with("cannot run:"), "{why}");
    let mut cbs = [
        HealthCallback {
            name: "first".to_owned(),
            check: Box::new(|| Ok(())),
        },
        HealthCallback {
            name: "detector".to_owned(),
            check: Box::new(|| Err("detector offline".to_owned())),
        },
    ];
    let r = confirm(&m, P, &BootConfig::default(), &mut cbs).unwrap();
    assert_eq!(r.checks.len(), 2);
    assert_eq!(
        r.failure().unwrap(),
        &HealthResult {
            name: "detector".to_owned(),
            result: Err("detector offline".to_owned())
        }
    );
    assert!(!r.marked_good);
}

#[test]
fn a_confirm_after_a_fall_back_reports_it_and_demotes_the_failed_slot() {
    // B was switched to, ran out of tries; the boot loader started A.
    let m = memory(&["B", "A"], &[("A", 2), ("B", 0)], Some("A"));
    let r = confirm(&m, P, &BootConfig::default(), &mut []).unwrap();
    assert_eq!(r.fell_back_from, vec![id("B")]);
    assert_eq!(r.state, state(&["A"], &[("A", 3), ("B", 0)]));
    let kinds: Vec<EventKind> = r.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::BootFellBack, EventKind::BootMarkedGood]
    );
    assert_eq!(r.events()[0].payload["from"], "B");
    // Installed and switched, not rebooted yet: not a fall back.
    let m = memory(&["B", "A"], &[("A", 3), ("B", 3)], Some("A"));
    let r = confirm(&m, P, &BootConfig::default(), &mut []).unwrap();
    assert!(r.fell_back_from.is_empty());
    assert_eq!(r.state.order, vec![id("B"), id("A")]);
}

#[test]
fn mark_bad_on_failure_marks_the_slot_bad_unless_none_would_remain() {
    let dir = tempfile::tempdir().unwrap();
    let bad = script(dir.path(), "bad", "exit 3\n");
    let mut cfg = config(&[(&bad, 5)]);
    cfg.mark_bad_on_failure = true;
    let m = memory(&["B", "A"], &[("A", 3), ("B", 2)], Some("B"));
    let r = confirm(&m, P, &cfg, &mut []).unwrap();
    assert_eq!(r.marked_bad, Some(Ok(())));
    assert_eq!(r.state, state(&["A"], &[("A", 3), ("B", 0)]));
    let ev = r.events();
    let kinds: Vec<EventKind> = ev.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::BootUnhealthy, EventKind::BootMarkedBad]);
    assert_eq!(ev[1].payload["reason"], "exited with status 3");
    // The only bootable slot is never marked bad.
    let m = memory(&["A"], &[("A", 2), ("B", 0)], Some("A"));
    let r = confirm(&m, P, &cfg, &mut []).unwrap();
    let why = r.marked_bad.clone().unwrap().unwrap_err();
    assert!(why.contains("no slot with tries"), "{why}");
    assert_eq!(*m.state.borrow(), state(&["A"], &[("A", 2), ("B", 0)]));
    let kinds: Vec<EventKind> = r.events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::BootUnhealthy]);
}

#[test]
fn an_unknown_running_slot_is_refused_before_any_check() {
    let m = memory(&["A", "B"], &[("A", 3), ("B", 3)], None);
    let mut cbs = [HealthCallback {
        name: "never".to_owned(),
        check: Box::new(|| panic!("ran")),
    }];
    let e = confirm(&m, P, &BootConfig::default(), &mut cbs).unwrap_err();
    assert!(
        matches!(e, BootError::Refused(ref r) if r.contains("running slot is not known")),
        "{e}"
    );
}
