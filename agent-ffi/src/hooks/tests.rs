use super::*;
use crate::config::{dha_config_free, dha_config_new_default, dha_config_new_from_toml};
use crate::error::last_error;
use crate::integrity::{
    DHA_SEAL_HMAC_SHA256, dha_integrity_check, dha_integrity_free, dha_integrity_init,
    dha_integrity_keygen, dha_integrity_new, dha_integrity_report_free, dha_integrity_set_paths,
};
use dha_core::events::{EventClass, EventKind};
use std::ffi::CStr;
use std::path::Path;
use std::ptr;

fn c(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

#[test]
fn masks_are_the_event_class_bits() {
    for kind in EventKind::ALL {
        let class = kind.class();
        assert_eq!(mask_of(class), class.bit(), "{kind}");
        assert_ne!(DHA_EVENT_ALL & class.bit(), 0, "{kind}");
    }
    let classes = [
        EventClass::Update,
        EventClass::Install,
        EventClass::Boot,
        EventClass::Integrity,
        EventClass::Audit,
        EventClass::EventLog,
        EventClass::Hook,
        EventClass::Monitor,
    ];
    let all = classes.iter().fold(0, |m, c| m | c.bit());
    assert_eq!(all, DHA_EVENT_ALL);
    assert_eq!(EventClass::all_bits(), DHA_EVENT_ALL);
}

/// What the callback saw.
#[derive(Default)]
struct Seen {
    events: Vec<(String, dha_severity, serde_json::Value, bool, u64)>,
    fail: bool,
    nested_register: Option<dha_result>,
    config: usize,
}

unsafe extern "C" fn on_event(
    userdata: *mut c_void,
    kind: *const c_char,
    severity: dha_severity,
    payload: *const c_char,
    logged: bool,
    seq: u64,
) -> c_int {
    // SAFETY: the tests pass a live `Seen`; the strings are live during the call.
    let seen = unsafe { &mut *userdata.cast::<Seen>() };
    // SAFETY: as above.
    let (kind, payload) = unsafe { (CStr::from_ptr(kind), CStr::from_ptr(payload)) };
    seen.events.push((
        kind.to_str().unwrap().to_owned(),
        severity,
        serde_json::from_str(payload.to_str().unwrap()).unwrap(),
        logged,
        seq,
    ));
    if seen.config != 0 {
        // SAFETY: a live config; the call must be refused.
        seen.nested_register = Some(unsafe {
            dha_hooks_register(
                seen.config as *mut dha_config,
                DHA_EVENT_ALL,
                Some(on_event),
                userdata,
            )
        });
    }
    c_int::from(seen.fail)
}

/// A baseline of `tree` (one file, `f`), then `f` modified; returns the
/// paths of the check's inputs.
struct Rig {
    _work: tempfile::TempDir,
    tree: std::path::PathBuf,
    key: CString,
    baseline: CString,
}

fn rig() -> Rig {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("f"), b"one").unwrap();
    let r = Rig {
        key: c(&work.path().join("k")),
        baseline: c(&work.path().join("b")),
        tree,
        _work: work,
    };
    // SAFETY: a NUL-terminated path.
    let rc = unsafe { dha_integrity_keygen(r.key.as_ptr(), DHA_SEAL_HMAC_SHA256) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    r
}

/// An integrity handle over the rig's tree, made from `config`.
fn integrity(config: *const dha_config, r: &Rig) -> *mut crate::integrity::dha_integrity {
    let tree = c(&r.tree);
    let paths = [tree.as_ptr()];
    let mut h = ptr::null_mut();
    let mut records = 0;
    // SAFETY: live config, valid strings and out pointers.
    unsafe {
        assert_eq!(dha_integrity_new(config, &mut h), dha_result::DHA_OK);
        assert_eq!(
            dha_integrity_set_paths(h, paths.as_ptr(), 1),
            dha_result::DHA_OK
        );
        let rc = dha_integrity_init(h, r.baseline.as_ptr(), r.key.as_ptr(), &mut records);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    }
    h
}

fn check(h: *mut crate::integrity::dha_integrity, r: &Rig) {
    let mut report = ptr::null_mut();
    // SAFETY: a live handle, valid strings and out pointer; freed once.
    unsafe {
        let rc = dha_integrity_check(h, r.baseline.as_ptr(), r.key.as_ptr(), false, &mut report);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        dha_integrity_report_free(report);
    }
}

#[test]
fn an_integrity_change_reaches_the_callback_with_its_userdata() {
    let r = rig();
    let mut config = ptr::null_mut();
    let mut seen = Seen::default();
    let mut other = Seen::default();
    // An [eventlog] whose key file does not exist: events are not logged.
    let none = r.tree.with_file_name("no-log");
    let toml = CString::new(format!(
        "[eventlog]\npath = {:?}\nkey = {:?}\n",
        none.join("events.log"),
        none.join("events.key")
    ))
    .unwrap();
    // SAFETY: valid out pointer; live config; userdata outlive the checks.
    unsafe {
        assert_eq!(
            dha_config_new_from_toml(toml.as_ptr(), &mut config),
            dha_result::DHA_OK
        );
        let rc = dha_hooks_register(
            config,
            DHA_EVENT_INTEGRITY,
            Some(on_event),
            (&raw mut seen).cast(),
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    }
    let h = integrity(config, &r);
    // Registered after the handle was made, on another class: not called.
    // SAFETY: live config; `other` outlives the checks.
    let rc = unsafe {
        dha_hooks_register(
            config,
            DHA_EVENT_UPDATE | DHA_EVENT_BOOT,
            Some(on_event),
            (&raw mut other).cast(),
        )
    };
    assert_eq!(rc, dha_result::DHA_OK);
    // The handle keeps the registrations after the configuration is freed.
    // SAFETY: freed once; `h` keeps what it needs.
    unsafe { dha_config_free(config) };

    check(h, &r);
    assert!(seen.events.is_empty(), "no change, no event");
    std::fs::write(r.tree.join("f"), b"two").unwrap();
    check(h, &r);
    assert_eq!(seen.events.len(), 1, "{:?}", seen.events);
    let (kind, severity, payload, logged, _) = &seen.events[0];
    assert_eq!(kind, "integrity.change");
    assert_eq!(*severity, dha_severity::DHA_SEVERITY_HIGH);
    assert_eq!(payload["path"], r.tree.join("f").to_str().unwrap());
    assert_eq!(payload["change"], "modified");
    assert!(!logged, "no [eventlog] key file: not logged");
    assert!(other.events.is_empty());
    // SAFETY: freed once.
    unsafe { dha_integrity_free(h) };
}

#[test]
fn events_are_logged_and_a_failing_callback_is_a_failed_action() {
    let r = rig();
    let dir = tempfile::tempdir().unwrap();
    let (log_path, key_path, initial) = (
        dir.path().join("events.log"),
        dir.path().join("events.key"),
        dir.path().join("initial.key"),
    );
    let mut log = ptr::null_mut();
    // SAFETY: NUL-terminated paths and a valid out pointer; freed once.
    unsafe {
        assert_eq!(
            crate::eventlog::dha_eventlog_keygen(c(&initial).as_ptr()),
            dha_result::DHA_OK
        );
        let rc = crate::eventlog::dha_eventlog_create(
            c(&log_path).as_ptr(),
            c(&key_path).as_ptr(),
            c(&initial).as_ptr(),
            &mut log,
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        crate::eventlog::dha_eventlog_free(log);
    }
    let toml = format!(
        "[eventlog]\npath = {:?}\nkey = {:?}\n\n[recovery.retry]\nattempts = 2\ninitial_delay_ms = 0\n",
        log_path.to_str().unwrap(),
        key_path.to_str().unwrap()
    );
    let toml = CString::new(toml).unwrap();
    let mut config = ptr::null_mut();
    let mut seen = Seen {
        fail: true,
        ..Seen::default()
    };
    // SAFETY: NUL-terminated document, valid out pointer, live config.
    unsafe {
        let rc = dha_config_new_from_toml(toml.as_ptr(), &mut config);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        seen.config = config as usize;
        let rc = dha_hooks_register(
            config,
            DHA_EVENT_ALL,
            Some(on_event),
            (&raw mut seen).cast(),
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    }
    let h = integrity(config, &r);
    std::fs::write(r.tree.join("f"), b"two").unwrap();
    check(h, &r);
    // Two attempts (the policy's), both given the logged event.
    assert_eq!(seen.events.len(), 2, "{:?}", seen.events);
    for (kind, _, _, logged, seq) in &seen.events {
        assert_eq!(kind, "integrity.change");
        assert!(*logged, "logged before the callback");
        assert_eq!(*seq, 0, "the first record of the log");
    }
    // Registering from inside the callback is refused.
    assert_eq!(
        seen.nested_register,
        Some(dha_result::DHA_ERR_CALLED_FROM_CALLBACK)
    );
    // The log holds the event and one hook.outcome per attempt.
    let report = dha_core::events::verify(
        &log_path,
        &dha_core::events::InitialKey::read(&initial).unwrap(),
        None,
    )
    .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, 3, "{report:?}");

    // Cleared: no more calls.
    seen.events.clear();
    // SAFETY: live config.
    assert_eq!(unsafe { dha_hooks_clear(config) }, dha_result::DHA_OK);
    std::fs::write(r.tree.join("f"), b"three").unwrap();
    check(h, &r);
    assert!(seen.events.is_empty());
    // SAFETY: each freed once.
    unsafe {
        dha_integrity_free(h);
        dha_config_free(config);
    }
}

#[test]
fn registration_arguments_are_checked() {
    let mut config = ptr::null_mut();
    let mut seen = Seen::default();
    let ud: *mut c_void = (&raw mut seen).cast();
    // SAFETY: valid pointers; NULLs refused before any access.
    unsafe {
        assert_eq!(dha_config_new_default(&mut config), dha_result::DHA_OK);
        assert_eq!(
            dha_hooks_register(ptr::null_mut(), DHA_EVENT_ALL, Some(on_event), ud),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_hooks_register(config, DHA_EVENT_ALL, None, ud),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_hooks_register(config, 0, Some(on_event), ud),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            dha_hooks_register(config, DHA_EVENT_ALL + 1, Some(on_event), ud),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        for _ in 0..DHA_HOOKS_MAX {
            assert_eq!(
                dha_hooks_register(config, DHA_EVENT_AUDIT, Some(on_event), ud),
                dha_result::DHA_OK
            );
        }
        assert_eq!(
            dha_hooks_register(config, DHA_EVENT_AUDIT, Some(on_event), ud),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            dha_hooks_clear(ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(dha_hooks_clear(config), dha_result::DHA_OK);
        dha_config_free(config);
    }
}

#[test]
fn a_rollback_rule_uses_the_configured_boot_loader() {
    let r = rig();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bootenv");
    std::fs::write(
        &env,
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=B\n",
    )
    .unwrap();
    let toml = format!(
        "[boot]\nbackend = \"file\"\nenv = {:?}\n\n[[recovery.rules]]\nevents = [\"integrity\"]\n\
         actions = [{{ action = \"rollback\" }}, {{ action = \"callbacks\" }}]\n",
        env.to_str().unwrap()
    );
    let toml = CString::new(toml).unwrap();
    let mut config = ptr::null_mut();
    let mut seen = Seen::default();
    // SAFETY: NUL-terminated document, valid out pointer, live config;
    // `seen` outlives the checks.
    unsafe {
        let rc = dha_config_new_from_toml(toml.as_ptr(), &mut config);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let rc = dha_hooks_register(
            config,
            DHA_EVENT_INTEGRITY,
            Some(on_event),
            (&raw mut seen).cast(),
        );
        assert_eq!(rc, dha_result::DHA_OK);
    }
    let h = integrity(config, &r);
    std::fs::write(r.tree.join("f"), b"two").unwrap();
    check(h, &r);
    assert_eq!(seen.events.len(), 1);
    // The running slot B was marked bad, A is next.
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(
        text.starts_with("BOOT_ORDER=A\n") && text.contains("BOOT_B_LEFT=0"),
        "{text}"
    );
    // SAFETY: each freed once.
    unsafe {
        dha_integrity_free(h);
        dha_config_free(config);
    }
}

#[test]
fn back_off_is_bounded_per_dispatch_and_every_attempt_is_logged() {
    const EVENTS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let (log_path, key_path, initial) = (
        dir.path().join("events.log"),
        dir.path().join("events.key"),
        dir.path().join("initial.key"),
    );
    let mut log = ptr::null_mut();
    // SAFETY: NUL-terminated paths and a valid out pointer; freed once.
    unsafe {
        assert_eq!(
            crate::eventlog::dha_eventlog_keygen(c(&initial).as_ptr()),
            dha_result::DHA_OK
        );
        let rc = crate::eventlog::dha_eventlog_create(
            c(&log_path).as_ptr(),
            c(&key_path).as_ptr(),
            c(&initial).as_ptr(),
            &mut log,
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        crate::eventlog::dha_eventlog_free(log);
    }
    // Real back-off: 3 attempts, 1 s then 2 s, i.e. 150 s for 50 events.
    let toml = format!(
        "[eventlog]\npath = {:?}\nkey = {:?}\n\n[recovery.retry]\nattempts = 3\n\
         initial_delay_ms = 1000\nmax_delay_ms = 30000\n",
        log_path.to_str().unwrap(),
        key_path.to_str().unwrap()
    );
    let toml = CString::new(toml).unwrap();
    let mut config = ptr::null_mut();
    let mut seen = Seen {
        fail: true,
        ..Seen::default()
    };
    // SAFETY: NUL-terminated document, valid out pointer, live config.
    unsafe {
        let rc = dha_config_new_from_toml(toml.as_ptr(), &mut config);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let rc = dha_hooks_register(
            config,
            DHA_EVENT_ALL,
            Some(on_event),
            (&raw mut seen).cast(),
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    }
    // SAFETY: a live config.
    let sink = EventSink::new(unsafe { &*config });
    let events = (0..EVENTS)
        .map(|n| {
            Event::new(EventKind::IntegrityChange, dha_core::Severity::Medium)
                .with("path", format!("/f{n}"))
        })
        .collect();
    let mut slept = Vec::new();
    sink.dispatch_with_sleep(events, |d| slept.push(d));

    // Waited the budget, no more: the first ten events' back-off (1 s +
    // 2 s each), then the retries followed at once.
    let total: Duration = slept.iter().sum();
    assert_eq!(total, BACKOFF_BUDGET, "{slept:?}");
    assert_eq!(slept.len(), 20, "{slept:?}");
    // Every attempt was made, each given its logged event in order.
    assert_eq!(seen.events.len(), 3 * EVENTS);
    for (i, (kind, _, payload, logged, _)) in seen.events.iter().enumerate() {
        assert_eq!(kind, "integrity.change");
        assert_eq!(payload["path"], format!("/f{}", i / 3));
        assert!(*logged, "{i}");
    }
    // The log holds every event and one hook.outcome per attempt.
    let report = dha_core::events::verify(
        &log_path,
        &dha_core::events::InitialKey::read(&initial).unwrap(),
        None,
    )
    .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, (EVENTS + 3 * EVENTS) as u64, "{report:?}");
    // SAFETY: freed once.
    unsafe { dha_config_free(config) };
}

#[test]
fn the_budget_cuts_the_wait_that_crosses_it() {
    let mut slept = Vec::new();
    let mut sleep = budgeted(Duration::from_millis(2500), |d| slept.push(d));
    for ms in [1000, 1000, 1000, 1000] {
        sleep(Duration::from_millis(ms));
    }
    drop(sleep);
    assert_eq!(slept, [1000, 1000, 500].map(Duration::from_millis).to_vec());
}
