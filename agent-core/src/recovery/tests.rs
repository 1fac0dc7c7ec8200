//! Tests of the recovery policy and dispatcher: real event logs, real
//! processes, real files in temporary directories (tests run as root).

use super::*;
use crate::FixedClock;
use crate::Severity;
use crate::boot::{BootControl, BootPolicy, SlotId};
use crate::boot::{BootError, BootState};
use crate::events::record::Reader;
use crate::events::{BootId, FixedMonotonic, InitialKey, Record, Stamps, verify};
use crate::events::{Event, EventClass, EventKind, EventLog};
use crate::integrity::attrs::AttrSet;
use crate::integrity::fsx::NoExtras;
use crate::integrity::policy::CompiledPolicy;
use crate::integrity::record::FileTime;
use crate::integrity::report::{BaselineInfo, CheckMode};
use crate::integrity::scan::{ScanMode, ScanOptions, scan};
use crate::integrity::{Baseline, IntegrityReport, KnownGoodStore};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dha-recovery-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn policy(toml: &str) -> RecoveryPolicy {
    let c = crate::Config::from_toml_str(toml).unwrap();
    c.recovery
}

fn stamps() -> Stamps {
    Stamps {
        boot_id: BootId([3; 16]),
        clock: Box::new(FixedClock::from_unix_secs(1_780_000_000)),
        monotonic: Box::new(FixedMonotonic(1)),
    }
}

/// A new log in `dir` and its initial key.
fn new_log(dir: &Path) -> (EventLog, InitialKey) {
    let key = InitialKey::from_bytes([9; 32]);
    let log = EventLog::create(
        &dir.join("events.log"),
        &dir.join("events.key"),
        &key,
        stamps(),
    )
    .unwrap();
    (log, key)
}

fn records(path: &Path) -> Vec<Record> {
    let mut r = Reader::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    let mut out = Vec::new();
    while let Some(raw) = r.next_record().unwrap() {
        out.push(raw.record);
    }
    out
}

fn ev(kind: EventKind, severity: Severity) -> Event {
    Event::new(kind, severity)
}

/// A dispatcher whose back-off only records the delays.
fn quiet<'a>(p: &'a RecoveryPolicy, delays: &'a RefCell<Vec<Duration>>) -> Dispatcher<'a> {
    let mut d = Dispatcher::new(p);
    d.set_sleep(Box::new(move |t| delays.borrow_mut().push(t)));
    d
}

/// A callback that records the kinds it sees, failing its first `fail`
/// calls.
fn recorder(seen: &Arc<Mutex<Vec<String>>>, fail: u32) -> Box<Callback> {
    let seen = Arc::clone(seen);
    let mut calls = 0u32;
    Box::new(move |e: &Event| {
        calls += 1;
        seen.lock()
            .unwrap()
            .push(format!("{}:{}", e.kind, e.severity));
        if calls <= fail {
            Err(format!("not yet ({calls})"))
        } else {
            Ok(())
        }
    })
}

#[test]
fn defaults_send_every_event_to_the_callbacks_only() {
    let p = RecoveryPolicy::default();
    assert!(p.validate().is_ok());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.register(EventClass::all_bits(), recorder(&seen, 0));
    let r = d.dispatch(ev(EventKind::BootFellBack, Severity::Critical));
    assert!(r.all_ok());
    assert_eq!(r.outcomes.len(), 1);
    assert_eq!(r.outcomes[0].action, "callbacks");
    assert_eq!(*seen.lock().unwrap(), ["boot.fell_back:critical"]);
    // No callback registered: nothing done, nothing to report.
    let mut d = quiet(&p, &delays);
    assert!(
        d.dispatch(ev(EventKind::AuditRegression, Severity::Low))
            .outcomes
            .is_empty()
    );
}

#[test]
fn callbacks_get_only_the_classes_of_their_mask() {
    let p = RecoveryPolicy::default();
    let delays = RefCell::new(Vec::new());
    let integrity = Arc::new(Mutex::new(Vec::new()));
    let boot = Arc::new(Mutex::new(Vec::new()));
    let mut d = quiet(&p, &delays);
    d.register(EventClass::Integrity.bit(), recorder(&integrity, 0));
    d.register(EventClass::Boot.bit(), recorder(&boot, 0));
    d.dispatch(ev(EventKind::IntegrityChange, Severity::High));
    d.dispatch(ev(EventKind::BootMarkedGood, Severity::Info));
    d.dispatch(ev(EventKind::UpdateRejected, Severity::High));
    assert_eq!(*integrity.lock().unwrap(), ["integrity.change:high"]);
    assert_eq!(*boot.lock().unwrap(), ["boot.marked_good:info"]);
}

#[test]
fn rules_match_by_kind_class_and_severity_first_match_wins() {
    let p = policy(
        r#"
[[recovery.rules]]
events = ["integrity.change"]
min_severity = "high"
actions = [{ action = "maintenance", reason = "kind" }]
[[recovery.rules]]
events = ["boot", "update.rejected"]
actions = [{ action = "rollback" }]
[[recovery.rules]]
min_severity = "critical"
actions = [{ action = "escalate", severity = "critical" }]
"#,
    );
    let rule = |k, s| p.rule_for(&ev(k, s)).map(|(i, _)| i);
    assert_eq!(rule(EventKind::IntegrityChange, Severity::High), Some(0));
    assert_eq!(
        rule(EventKind::IntegrityChange, Severity::Critical),
        Some(0)
    );
    // Below the first rule's severity, and not critical: no rule.
    assert_eq!(rule(EventKind::IntegrityChange, Severity::Medium), None);
    assert_eq!(rule(EventKind::IntegrityAccepted, Severity::High), None);
    // A class names all its kinds; a kind only itself.
    assert_eq!(rule(EventKind::BootFellBack, Severity::Info), Some(1));
    assert_eq!(rule(EventKind::BootMarkedBad, Severity::Low), Some(1));
    assert_eq!(rule(EventKind::UpdateRejected, Severity::Info), Some(1));
    assert_eq!(rule(EventKind::UpdateInstalled, Severity::Info), None);
    // An empty list is any kind.
    assert_eq!(
        rule(EventKind::AuditRegression, Severity::Critical),
        Some(2)
    );
    let (r, actions, _) = p.actions_for(&ev(EventKind::AuditRegression, Severity::Low));
    assert_eq!((r, actions), (None, &[Action::Callbacks][..]));
}

#[test]
fn validation_names_the_dotted_key() {
    let err = |doc: &str| crate::Config::from_toml_str(doc).unwrap_err().to_string();
    let e = err(
        "[[recovery.rules]]\nactions = []\n[[recovery.rules]]\nactions = []\n\
         [[recovery.rules]]\nactions = [{ action = \"command\", argv = [\"sh\", \"-c\", \"x\"] }]\n",
    );
    assert!(e.contains("recovery.rules[2].actions[0].argv"), "{e}");
    assert!(e.contains("absolute"), "{e}");
    let e = err("[[recovery.rules]]\nevents = [\"integrity.chnage\"]\nactions = []\n");
    assert!(e.contains("recovery.rules[0].events[0]"), "{e}");
    let e = err("[recovery.retry]\nattempts = 0\n");
    assert!(e.contains("recovery.retry.attempts"), "{e}");
    let e = err("[recovery.retry]\ninitial_delay_ms = 5\nmax_delay_ms = 1\n");
    assert!(e.contains("recovery.retry.initial_delay_ms"), "{e}");
    let e = err("[recovery]\nmaintenance_flag = \"flag\"\n");
    assert!(e.contains("recovery.maintenance_flag"), "{e}");
    let e = err("[recovery]\ndefault_actions = [{ action = \"command\", argv = [] }]\n");
    assert!(e.contains("recovery.default_actions[0].argv"), "{e}");
    let e = err("[recovery]\ndefault_actions = [{ action = \"reboot\" }]\n");
    assert!(e.contains("unknown action \"reboot\""), "{e}");
    // A key the action does not take is refused, not ignored.
    let e = err("[recovery]\ndefault_actions = [{ action = \"rollback\", slot = \"A\" }]\n");
    assert!(e.contains("unknown field `slot`"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    let e = err("[recovery]\ndefault_actions = [{ action = \"restore\", argv = [\"/x\"] }]\n");
    assert!(e.contains("does not take `argv`"), "{e}");
    let e = err("[recovery]\ndefault_actions = [{ action = \"escalate\" }]\n");
    assert!(e.contains("needs `severity`"), "{e}");
    // Every action written back reads the same (the configuration
    // serialises).
    let p = policy(
        "[recovery]\ndefault_actions = [{ action = \"callbacks\" }, { action = \"command\", \
         argv = [\"/bin/true\"] }, { action = \"rollback\" }, { action = \"restore\" }, \
         { action = \"maintenance\", reason = \"r\" }, { action = \"escalate\", severity = \
         \"high\" }]\n",
    );
    let c = crate::Config {
        recovery: p.clone(),
        ..crate::Config::default()
    };
    let again = crate::Config::from_toml_str(&toml::to_string(&c).unwrap()).unwrap();
    assert_eq!(again.recovery, p);
    let e = err(
        "[[recovery.rules]]\nactions = [{ action = \"command\", argv = [\"/bin/true\"], \
         timeout_ms = 0 }]\n",
    );
    assert!(e.contains("recovery.rules[0].actions[0].timeout_ms"), "{e}");
}

#[test]
fn actions_run_in_order() {
    let dir = tmp();
    let trace = dir.path().join("trace");
    let line = |word: &str| {
        format!(
            "{{ action = \"command\", argv = [\"/bin/sh\", \"-c\", \"echo {word} >> {}\"] }}",
            trace.display()
        )
    };
    let p = policy(&format!(
        "[[recovery.rules]]\nactions = [{}, {{ action = \"callbacks\" }}, {}, {}]\n",
        line("one"),
        line("three"),
        line("four")
    ));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    let t = trace.clone();
    d.register(
        EventClass::all_bits(),
        Box::new(move |_: &Event| {
            let mut s = std::fs::read_to_string(&t).unwrap();
            s.push_str("two\n");
            std::fs::write(&t, s).map_err(|e| e.to_string())
        }),
    );
    let r = d.dispatch(ev(EventKind::InstallFailed, Severity::High));
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&trace).unwrap(),
        "one\ntwo\nthree\nfour\n"
    );
    let names: Vec<_> = r.outcomes.iter().map(|o| (o.index, o.action)).collect();
    assert_eq!(
        names,
        [
            (0, "command"),
            (1, "callbacks"),
            (2, "command"),
            (3, "command")
        ]
    );
}

#[test]
fn failures_are_retried_with_exponential_back_off_and_stop_on_failure_stops() {
    let p = policy(
        r#"
[recovery.retry]
attempts = 5
initial_delay_ms = 10
max_delay_ms = 30
[[recovery.rules]]
events = ["update"]
actions = [{ action = "callbacks" }, { action = "command", argv = ["/bin/false"] }]
[[recovery.rules]]
events = ["install"]
stop_on_failure = true
retry = { attempts = 2, initial_delay_ms = 1, max_delay_ms = 1 }
actions = [{ action = "command", argv = ["/bin/false"] }, { action = "callbacks" }]
"#,
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    // Fails twice, then succeeds.
    d.register(EventClass::all_bits(), recorder(&seen, 2));
    let r = d.dispatch(ev(EventKind::UpdateRejected, Severity::High));
    let ms: Vec<u128> = delays.borrow().iter().map(Duration::as_millis).collect();
    // Callback: 2 failures (10, 20); command: 4 failures (10, 20, 30, 30).
    assert_eq!(ms, [10, 20, 10, 20, 30, 30]);
    let attempts: Vec<_> = r
        .outcomes
        .iter()
        .map(|o| (o.action, o.attempt, o.ok(), o.last))
        .collect();
    assert_eq!(
        attempts,
        [
            ("callbacks", 1, false, false),
            ("callbacks", 2, false, false),
            ("callbacks", 3, true, true),
            ("command", 1, false, false),
            ("command", 2, false, false),
            ("command", 3, false, false),
            ("command", 4, false, false),
            ("command", 5, false, true),
        ]
    );
    assert!(!r.all_ok());
    assert!(
        r.outcomes[7]
            .error
            .as_deref()
            .unwrap()
            .contains("exit status: 1")
    );
    assert_eq!(seen.lock().unwrap().len(), 3);

    // The rule's own retry, and stop_on_failure: the callbacks never run.
    delays.borrow_mut().clear();
    let r = d.dispatch(ev(EventKind::InstallFailed, Severity::High));
    assert_eq!(r.outcomes.len(), 2);
    assert_eq!(delays.borrow().len(), 1);
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn delays_double_and_are_capped() {
    let r = RetryPolicy {
        attempts: 10,
        initial_delay_ms: 100,
        max_delay_ms: 1000,
    };
    let ms: Vec<u128> = (1..=6).map(|a| r.delay_after(a).as_millis()).collect();
    assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(r.delay_after(u32::MAX).as_millis(), 1000);
}

#[test]
fn command_gets_the_documented_environment_and_no_stdin() {
    let dir = tmp();
    let out = dir.path().join("env");
    let p = policy(&format!(
        "[[recovery.rules]]\nactions = [{{ action = \"command\", argv = [\"/bin/sh\", \"-c\", \
         \"env > {0}; cat >> {0}; echo stdin-done >> {0}\"] }}]\n",
        out.display()
    ));
    let log_dir = tmp();
    let (mut log, _) = new_log(log_dir.path());
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_log(&mut log);
    let r = d.dispatch(
        ev(EventKind::IntegrityChange, Severity::High)
            .with("path", "/etc/app.conf")
            .with("change", "modified"),
    );
    assert!(r.all_ok(), "{r:?}");
    let env = std::fs::read_to_string(&out).unwrap();
    for want in [
        "DHA_EVENT=integrity.change",
        "DHA_CLASS=integrity",
        "DHA_SEVERITY=high",
        "DHA_SEQ=0",
        r#"DHA_PAYLOAD={"change":"modified","path":"/etc/app.conf"}"#,
        "DHA_PATH=/etc/app.conf",
        "DHA_ATTEMPT=1",
        "DHA_ESCALATION=0",
        "DHA_RULE=0",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "stdin-done",
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from\n{env}");
    }
    // Nothing inherited from dha's own environment.
    assert!(!env.contains("CARGO"), "{env}");
}

#[test]
fn a_command_past_its_timeout_is_killed() {
    let dir = tmp();
    let pid_file = dir.path().join("pid");
    let p = policy(&format!(
        "[recovery.retry]\nattempts = 1\n[[recovery.rules]]\nactions = [{{ action = \
         \"command\", timeout_ms = 200, argv = [\"/bin/sh\", \"-c\", \"echo $$ > {}; exec sleep \
         600\"] }}]\n",
        pid_file.display()
    ));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    let r = d.dispatch(ev(EventKind::BootFellBack, Severity::High));
    let o = &r.outcomes[0];
    assert!(
        o.error
            .as_deref()
            .unwrap()
            .contains("timed out after 200 ms"),
        "{o:?}"
    );
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    // Killed and reaped: the process no longer exists (not even a zombie).
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "process {pid} still exists"
    );
}

/// An in-memory boot environment.
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

fn slot(s: &str) -> SlotId {
    SlotId(s.to_owned())
}

#[test]
fn rollback_marks_the_booted_slot_bad_and_switches_to_the_other() {
    let p = policy("[[recovery.rules]]\nactions = [{ action = \"rollback\" }]\n");
    let bc = Memory {
        state: RefCell::new(BootState {
            order: vec![slot("B"), slot("A")],
            tries_left: [(slot("A"), 3), (slot("B"), 2)].into_iter().collect(),
        }),
        booted: Some(slot("B")),
    };
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_boot(&bc, BootPolicy { max_tries: 3 });
    let r = d.dispatch(ev(EventKind::IntegrityChange, Severity::Critical));
    assert!(r.all_ok(), "{r:?}");
    assert_eq!(r.outcomes[0].detail["from"], "B");
    assert_eq!(r.outcomes[0].detail["to"], "A");
    let s = bc.state.borrow().clone();
    assert_eq!(s.order, [slot("A")]);
    assert_eq!(s.tries_left[&slot("B")], 0);
    assert_eq!(s.tries_left[&slot("A")], 3);
    assert_eq!(crate::boot::next_boot(&s), Some(slot("A")));

    // Now running A with B bad: no other good slot; refused, not retried,
    // and the environment is untouched.
    let bc2 = Memory {
        state: RefCell::new(s.clone()),
        booted: Some(slot("A")),
    };
    let mut d = quiet(&p, &delays);
    d.set_boot(&bc2, BootPolicy::default());
    let r = d.dispatch(ev(EventKind::IntegrityChange, Severity::Critical));
    assert_eq!(r.outcomes.len(), 1);
    assert!(
        r.outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no other good slot")
    );
    assert_eq!(*bc2.state.borrow(), s);

    // No boot control: a permanent failure.
    let mut d = quiet(&p, &delays);
    let r = d.dispatch(ev(EventKind::IntegrityChange, Severity::Critical));
    assert_eq!(r.outcomes.len(), 1);
    assert!(
        r.outcomes[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no boot control")
    );
}

#[test]
fn restore_puts_back_the_changed_file_from_the_store() {
    let work = tmp();
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("app.conf"), b"good = 1\n").unwrap();
    std::fs::write(tree.join("other"), b"x\n").unwrap();
    let cp =
        CompiledPolicy::for_paths(std::slice::from_ref(&tree), AttrSet::default_set()).unwrap();
    let opts = ScanOptions {
        mode: ScanMode::Full,
        threads: 1,
    };
    let records = scan(&cp, &NoExtras, None, &opts, &|_| {}).unwrap().records;
    let baseline = Baseline::from_records(FileTime::default(), [0; 32], records).unwrap();
    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    store.put_all(&baseline.records).unwrap();

    // Tamper, check, and turn the changes into events.
    std::fs::write(tree.join("app.conf"), b"good = 0; evil = 1\n").unwrap();
    std::fs::write(tree.join("new"), b"dropped\n").unwrap();
    let now = scan(&cp, &NoExtras, None, &opts, &|_| {}).unwrap().records;
    let changes = crate::integrity::diff(&cp, &baseline, &now);
    let report = IntegrityReport::new(
        BaselineInfo::new(Path::new("/b"), FileTime::default(), None),
        CheckMode::Full,
        std::time::UNIX_EPOCH,
        std::time::UNIX_EPOCH,
        None,
        changes,
        Vec::new(),
    );
    let events = events_for_integrity(&report);
    // The directory (its times), app.conf (its content), and the new file.
    let changed: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.payload["change"].as_str().unwrap(),
                e.payload["attrs"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            ("modified", json!(["mtime", "ctime"])),
            ("modified", json!(["sha256", "size", "mtime", "ctime"])),
            ("added", json!([])),
        ]
    );

    let p = policy(
        "[[recovery.rules]]\nevents = [\"integrity.change\"]\nactions = [{ action = \"restore\" }]\n",
    );
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_restore(RestoreSource {
        store: &store,
        baseline: &baseline,
        fsx: &NoExtras,
    });
    let mut outcomes = Vec::new();
    for e in events {
        outcomes.extend(d.dispatch(e).outcomes);
    }
    assert_eq!(std::fs::read(tree.join("app.conf")).unwrap(), b"good = 1\n");
    let by_path: Vec<_> = outcomes
        .iter()
        .map(|o| (o.ok(), o.error.clone().unwrap_or_default()))
        .collect();
    // Sorted by path: the directory is refused (restore puts back files),
    // app.conf is restored, `new` cannot be (it is not in the baseline).
    assert!(
        !by_path[0].0 && by_path[0].1.contains("directory"),
        "{by_path:?}"
    );
    assert!(by_path[1].0, "{by_path:?}");
    assert_eq!(outcomes[1].detail["bytes"], 9);
    assert!(
        !by_path[2].0 && by_path[2].1.contains("the path is new"),
        "{by_path:?}"
    );
    assert_eq!(outcomes.len(), 3, "a refused restore is not retried");
}

#[test]
fn maintenance_flag_is_written_with_the_reason() {
    let dir = tmp();
    let flag = dir.path().join("maintenance");
    let other = dir.path().join("other-flag");
    let p = policy(&format!(
        "[recovery]\nmaintenance_flag = \"{}\"\n[[recovery.rules]]\nevents = [\"boot\"]\n\
         actions = [{{ action = \"maintenance\" }}]\n[[recovery.rules]]\nactions = [{{ action = \
         \"maintenance\", reason = \"update refused twice\", path = \"{}\" }}]\n",
        flag.display(),
        other.display()
    ));
    let log_dir = tmp();
    let (mut log, _) = new_log(log_dir.path());
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_log(&mut log);
    d.set_clock(Box::new(FixedClock::from_unix_secs(1_780_000_000)));
    let r = d.dispatch(ev(EventKind::BootFellBack, Severity::Critical).with("from", "B"));
    assert!(r.all_ok(), "{r:?}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&flag).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({
            "schema_version": 1,
            "reason": "boot.fell_back (critical)",
            "event": "boot.fell_back",
            "severity": "critical",
            "seq": 0,
            "set_at": "2026-05-28T20:26:40Z",
            "payload": {"from": "B"},
        })
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&flag).unwrap().permissions().mode() & 0o777,
        0o644
    );
    d.dispatch(ev(EventKind::UpdateRejected, Severity::High));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&other).unwrap()).unwrap();
    assert_eq!(v["reason"], "update refused twice");
    drop(d);
    let kinds: Vec<String> = records(log.path()).into_iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            "boot.fell_back",
            "hook.maintenance_set",
            "hook.outcome",
            "update.rejected",
            "hook.maintenance_set",
            "hook.outcome"
        ]
    );
}

#[test]
fn escalation_raises_the_severity_marks_forward_and_is_bounded() {
    let p = policy(
        r#"
[recovery]
max_escalation_depth = 2
[[recovery.rules]]
events = ["integrity"]
actions = [{ action = "callbacks" }, { action = "escalate", severity = "high" }]
"#,
    );
    let log_dir = tmp();
    let (mut log, key) = new_log(log_dir.path());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_log(&mut log);
    d.register(EventClass::Integrity.bit(), recorder(&seen, 0));
    let r = d.dispatch(ev(EventKind::IntegrityChange, Severity::Low).with("path", "/etc/x"));
    // The event, then two escalations; the third escalate fails.
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "integrity.change:low",
            "integrity.change:high",
            "integrity.change:high"
        ]
    );
    let esc: Vec<_> = r
        .outcomes
        .iter()
        .filter(|o| o.action == "escalate")
        .map(|o| (o.depth, o.ok()))
        .collect();
    // Inner ones end first.
    assert_eq!(esc, [(2, false), (1, true), (0, true)]);
    let limit = r.outcomes.iter().find(|o| o.depth == 2 && !o.ok()).unwrap();
    assert!(
        limit.error.as_deref().unwrap().contains("limit (2)"),
        "{limit:?}"
    );
    assert!(!r.all_ok());
    drop(d);
    assert!(verify(log.path(), &key, None).unwrap().is_ok());
    let recs = records(log.path());
    let escalated: Vec<_> = recs
        .iter()
        .filter(|r| r.kind == "integrity.change" && r.payload.get("forward").is_some())
        .collect();
    assert_eq!(escalated.len(), 2);
    assert_eq!(escalated[0].severity, Severity::High);
    assert_eq!(escalated[0].payload["escalated_from"], "low");
    assert_eq!(escalated[0].payload["original_seq"], 0);
    assert_eq!(escalated[1].payload["escalation"], 2);
    assert_eq!(escalated[1].payload["path"], "/etc/x");
}

#[test]
fn outcomes_are_recorded_in_a_verifiable_log_and_never_dispatched() {
    let dir = tmp();
    let p = policy(
        r#"
[recovery.retry]
attempts = 3
initial_delay_ms = 1
max_delay_ms = 2
[[recovery.rules]]
actions = [{ action = "command", argv = ["/bin/false"] }, { action = "command", argv = ["/bin/true"] }]
"#,
    );
    let (mut log, key) = new_log(dir.path());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let delays = RefCell::new(Vec::new());
    {
        let mut d = quiet(&p, &delays);
        d.set_log(&mut log);
        d.register(EventClass::all_bits(), recorder(&seen, 0));
        let r =
            d.dispatch(ev(EventKind::AuditRegression, Severity::Medium).with("check", "ACC-05"));
        assert_eq!(r.seq, Some(0));
        assert!(r.log_error.is_none());
        assert_eq!(r.outcomes.len(), 4);
        // A hook.* event given to dispatch is recorded, not acted on.
        let r = d.dispatch(ev(EventKind::HookOutcome, Severity::Info));
        assert_eq!(r.seq, Some(5));
        assert!(r.outcomes.is_empty());
    }
    // Committed at the end of each dispatch: the log verifies as it is.
    let v = verify(log.path(), &key, log.head().as_ref()).unwrap();
    assert!(v.is_ok(), "{:?}", v.problem);
    assert_eq!(v.records, 6);
    let recs = records(log.path());
    assert_eq!(recs[0].kind, "audit.regression");
    let outcomes: Vec<_> = recs[1..5]
        .iter()
        .map(|r| {
            (
                r.kind.as_str(),
                r.payload["action"].as_str().unwrap(),
                r.payload["attempt"].as_u64().unwrap(),
                r.payload["ok"].as_bool().unwrap(),
                r.severity,
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("hook.outcome", "command", 1, false, Severity::Medium),
            ("hook.outcome", "command", 2, false, Severity::Medium),
            ("hook.outcome", "command", 3, false, Severity::Medium),
            ("hook.outcome", "command", 1, true, Severity::Info),
        ]
    );
    for r in &recs[1..5] {
        assert_eq!(r.payload["event"], "audit.regression");
        assert_eq!(r.payload["event_seq"], 0);
        assert_eq!(r.payload["rule"], 0);
        assert!(r.payload["duration_ms"].is_u64());
    }
    assert!(
        recs[1].payload["error"]
            .as_str()
            .unwrap()
            .contains("/bin/false")
    );
    // The callbacks saw no outcome event (the rule has no callbacks action,
    // and the hook.outcome dispatched explicitly is not acted on).
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_panicking_callback_is_a_failed_action() {
    let p = policy("[recovery.retry]\nattempts = 2\ninitial_delay_ms = 0\n");
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.register(
        EventClass::all_bits(),
        Box::new(|_: &Event| -> Result<(), String> { panic!("integrator bug") }),
    );
    let r = d.dispatch(ev(EventKind::UpdateInstalled, Severity::Info));
    assert_eq!(r.outcomes.len(), 2);
    assert!(r.outcomes.iter().all(|o| !o.ok()));
}

#[test]
fn acceptance_event_lists_a_bounded_number_of_paths() {
    let a = crate::integrity::ops::Acceptance {
        accepted_by: "update fw-2.4.1".into(),
        at: "2026-01-01T00:00:00Z".into(),
        accepted: Vec::new(),
        left: 3,
    };
    let e = event_for_acceptance(&a);
    assert_eq!(e.kind, EventKind::IntegrityAccepted);
    assert_eq!(e.payload["count"], 0);
    assert_eq!(e.payload["left"], 3);
    assert_eq!(e.payload["accepted_by"], "update fw-2.4.1");
}

#[test]
fn the_event_is_durable_before_the_first_action_runs() {
    let dir = tmp();
    let (mut log, key) = new_log(dir.path());
    let snapshot = dir.path().join("snapshot.log");
    let p = policy(&format!(
        "[[recovery.rules]]\nactions = [{{ action = \"command\", argv = [\"/bin/cp\", \"{}\", \
         \"{}\"] }}]\n",
        log.path().display(),
        snapshot.display()
    ));
    let delays = RefCell::new(Vec::new());
    let mut d = quiet(&p, &delays);
    d.set_log(&mut log);
    assert!(
        d.dispatch(ev(EventKind::InstallFailed, Severity::High))
            .all_ok()
    );
    // What the command saw on disk: the event, no outcome yet.
    let seen: Vec<String> = records(&snapshot).into_iter().map(|r| r.kind).collect();
    assert_eq!(seen, ["install.failed"]);
    drop(d);
    assert_eq!(records(log.path()).len(), 2);
    assert!(verify(log.path(), &key, None).unwrap().is_ok());
}

#[test]
fn a_callback_registered_with_seq_gets_the_sequence_number() {
    let dir = tmp();
    let (mut log, _) = new_log(dir.path());
    let p = RecoveryPolicy::default();
    let delays = RefCell::new(Vec::new());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let mut d = quiet(&p, &delays);
    d.register_with_seq(
        EventClass::all_bits(),
        Box::new(move |e: &Event, seq: Option<u64>| {
            g.lock().unwrap().push((e.kind, seq));
            Ok(())
        }),
    );
    d.dispatch(ev(EventKind::BootMarkedGood, Severity::Info));
    d.set_log(&mut log);
    d.dispatch(ev(EventKind::BootMarkedGood, Severity::Info));
    d.dispatch(ev(EventKind::BootFellBack, Severity::High));
    // Each dispatch with a log: the event, then the callback's outcome.
    assert_eq!(
        *got.lock().unwrap(),
        [
            (EventKind::BootMarkedGood, None),
            (EventKind::BootMarkedGood, Some(0)),
            (EventKind::BootFellBack, Some(2)),
        ]
    );
}

#[test]
fn dispatch_all_records_every_event_with_one_commit() {
    let dir = tmp();
    let (mut log, key) = new_log(dir.path());
    let p = RecoveryPolicy::default();
    let delays = RefCell::new(Vec::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut d = quiet(&p, &delays);
    d.set_log(&mut log);
    d.register(EventClass::Integrity.bit(), recorder(&seen, 0));
    let events: Vec<Event> = (0..500)
        .map(|i| ev(EventKind::IntegrityChange, Severity::High).with("path", format!("/etc/f{i}")))
        .collect();
    let reports = d.dispatch_all(events);
    assert_eq!(reports.len(), 500);
    assert!(reports.iter().all(|r| r.all_ok() && r.log_error.is_none()));
    // Each event then its callback's outcome: sequence numbers 0, 2, 4, …
    let seqs: Vec<_> = reports.iter().map(|r| r.seq.unwrap()).collect();
    assert_eq!(seqs, (0..500).map(|i| i * 2).collect::<Vec<u64>>());
    assert_eq!(seen.lock().unwrap().len(), 500);
    drop(d);
    let v = verify(log.path(), &key, log.head().as_ref()).unwrap();
    assert!(v.is_ok() && v.records == 1000, "{v:?}");
}

/// The reviewer's scenarios: a rollback never goes to a slot that is
/// untested or has just failed, nor from a slot that is not in charge.
#[test]
fn rollback_is_refused_while_a_switch_or_a_fall_back_is_pending() {
    let p = policy("[[recovery.rules]]\nactions = [{ action = \"rollback\" }]\n");
    let delays = RefCell::new(Vec::new());
    let cases = [
        // B installed and switched to, never booted; A running.
        (
            vec![slot("B"), slot("A")],
            [(slot("A"), 3), (slot("B"), 3)],
            "A",
            "a switch or a fall-back is pending",
        ),
        // B ran out of tries, the device fell back to A, not yet confirmed.
        (
            vec![slot("B"), slot("A")],
            [(slot("A"), 2), (slot("B"), 0)],
            "A",
            "no other good slot",
        ),
    ];
    for (order, tries, booted, why) in cases {
        let before = BootState {
            order,
            tries_left: tries.into_iter().collect(),
        };
        let bc = Memory {
            state: RefCell::new(before.clone()),
            booted: Some(slot(booted)),
        };
        let mut d = quiet(&p, &delays);
        d.set_boot(&bc, BootPolicy::default());
        let r = d.dispatch(ev(EventKind::IntegrityChange, Severity::Critical));
        assert_eq!(r.outcomes.len(), 1, "{r:?}");
        let e = r.outcomes[0].error.as_deref().unwrap();
        assert!(e.contains(why), "{e}");
        assert_eq!(*bc.state.borrow(), before, "the environment was changed");
    }
}
