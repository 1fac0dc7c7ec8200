//! The monitor against a probe whose answers each test changes between ticks.

use super::*;
use crate::allow::AllowedPort;
use crate::live::{FsUsage, ProcessInfo};
use std::cell::RefCell;
use std::path::Path;

#[derive(Default)]
struct Host {
    sockets: RefCell<Option<Vec<ListeningSocket>>>,
    procs: RefCell<Option<Vec<ProcessInfo>>>,
    usage: RefCell<BTreeMap<PathBuf, FsUsage>>,
    hashes: RefCell<BTreeMap<u32, String>>,
    hash_calls: std::cell::Cell<usize>,
}

impl HostProbe for Host {
    fn hostname(&self) -> Option<String> {
        None
    }
    fn listening_sockets(&self) -> Option<Vec<ListeningSocket>> {
        self.sockets.borrow().clone()
    }
    fn processes(&self) -> Option<Vec<ProcessInfo>> {
        self.procs.borrow().clone()
    }
    fn executable_sha256(&self, pid: u32) -> Option<String> {
        self.hash_calls.set(self.hash_calls.get() + 1);
        self.hashes.borrow().get(&pid).cloned()
    }
    fn fs_usage(&self, path: &Path) -> Option<FsUsage> {
        self.usage.borrow().get(path).copied()
    }
}

fn sock(addr: &str, port: u16) -> ListeningSocket {
    ListeningSocket {
        protocol: Protocol::Tcp,
        address: addr.parse().unwrap(),
        port,
        inode: u64::from(port),
        uid: 0,
        owners: vec![SocketOwner {
            pid: 77,
            name: "srv".to_owned(),
            exe: Some("/usr/bin/srv".to_owned()),
        }],
    }
}

fn kinds(t: &Tick) -> Vec<(&'static str, Severity)> {
    t.events
        .iter()
        .map(|e| (e.kind.name(), e.severity))
        .collect()
}

fn usage(pct: u64) -> FsUsage {
    FsUsage {
        total_bytes: 1000,
        available_bytes: 1000 - pct * 10,
    }
}

#[test]
fn the_first_tick_is_a_silent_baseline_then_changes_are_events() {
    let host = Host::default();
    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 22)]);
    *host.procs.borrow_mut() = Some(Vec::new());
    let cfg = Config::default();
    let mut m = Monitor::new(&cfg, &host);
    let t = m.tick();
    assert!(t.events.is_empty(), "{:?}", t.events);
    let b = t.baseline.unwrap();
    assert_eq!(
        (b.sockets, b.processes, b.unexpected),
        (Some(1), Some(0), 0)
    );
    assert_eq!(
        m.storage_paths(),
        [PathBuf::from("/var/lib/dha"), PathBuf::from("/var/log")]
    );

    host.sockets
        .borrow_mut()
        .as_mut()
        .unwrap()
        .push(sock("127.0.0.1", 8080));
    let t = m.tick();
    assert_eq!(t.baseline, None);
    assert_eq!(kinds(&t), [("monitor.socket_opened", Severity::Info)]);
    let e = &t.events[0];
    assert_eq!(e.payload["port"], 8080);
    assert_eq!(e.payload["address"], "127.0.0.1");
    assert_eq!(e.payload["owners"][0]["pid"], 77);
    assert_eq!(e.payload["owners"][0]["exe"], "/usr/bin/srv");
    assert_eq!(
        event_line(e),
        "monitor.socket_opened info tcp 127.0.0.1:8080 pid 77 \"srv\" (\"/usr/bin/srv\") \
         [loopback (no allow-list)]"
    );
    // Nothing changed: nothing to say.
    assert!(m.tick().events.is_empty());

    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 22), sock("0.0.0.0", 9000)]);
    let t = m.tick();
    assert_eq!(
        kinds(&t),
        [
            ("monitor.socket_opened", Severity::Medium),
            ("monitor.socket_closed", Severity::Info)
        ]
    );
    assert_eq!(t.events[1].payload["port"], 8080);
    // The probe cannot read the sockets this time: no event, state kept.
    *host.sockets.borrow_mut() = None;
    assert!(m.tick().events.is_empty());
    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 22), sock("0.0.0.0", 9000)]);
    assert!(m.tick().events.is_empty());
}

#[test]
fn an_allowed_socket_opens_at_info_and_an_unlisted_one_at_medium() {
    let host = Host::default();
    *host.sockets.borrow_mut() = Some(Vec::new());
    let mut cfg = Config::default();
    cfg.allow.ports.push(AllowedPort {
        protocol: "tcp".to_owned(),
        address: None,
        port: 22,
        exe: None,
    });
    let mut m = Monitor::new(&cfg, &host);
    m.tick();
    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 22), sock("127.0.0.1", 23)]);
    let t = m.tick();
    assert_eq!(
        kinds(&t),
        [
            ("monitor.socket_opened", Severity::Info),
            ("monitor.socket_opened", Severity::Medium)
        ]
    );
    assert_eq!(t.events[1].payload["allow"], "not on the allow-list");
}

#[test]
fn an_unexpected_executable_is_reported_when_it_starts_and_again_after_it_left() {
    let host = Host::default();
    *host.procs.borrow_mut() = Some(Vec::new());
    let cfg = Config::default();
    let mut m = Monitor::new(&cfg, &host);
    m.tick();
    let p = |pid| ProcessInfo {
        pid,
        parent: Some(1),
        name: "x".to_owned(),
        exe: Some("/tmp/x".to_owned()),
        exe_deleted: false,
        uid: Some(0),
        kernel_thread: false,
    };
    *host.procs.borrow_mut() = Some(vec![p(5), p(6)]);
    let t = m.tick();
    assert_eq!(kinds(&t), [("monitor.process_unexpected", Severity::High)]);
    assert_eq!(t.events[0].payload["pids"], json!([5, 6]));
    assert!(event_line(&t.events[0]).contains("\"/tmp/x\" pids 5,6 (2 process(es)): runs from"));
    // Another process of the same executable: not a new event.
    *host.procs.borrow_mut() = Some(vec![p(5), p(6), p(7)]);
    assert!(m.tick().events.is_empty());
    *host.procs.borrow_mut() = Some(Vec::new());
    assert!(m.tick().events.is_empty());
    *host.procs.borrow_mut() = Some(vec![p(9)]);
    assert_eq!(m.tick().events.len(), 1);
}

#[test]
fn storage_past_the_threshold_is_reported_at_once_and_when_it_recovers() {
    let host = Host::default();
    let mut cfg = Config::default();
    cfg.monitor.storage = vec![PathBuf::from("/a"), PathBuf::from("/b")];
    cfg.monitor.threshold_percent = 80;
    host.usage
        .borrow_mut()
        .insert(PathBuf::from("/a"), usage(85));
    host.usage
        .borrow_mut()
        .insert(PathBuf::from("/b"), usage(10));
    let mut m = Monitor::new(&cfg, &host);
    let t = m.tick();
    assert_eq!(kinds(&t), [("monitor.storage_high", Severity::High)]);
    assert_eq!(t.events[0].payload["path"], "/a");
    assert_eq!(t.events[0].payload["used_percent"], 85);
    assert_eq!(
        t.baseline.unwrap().storage,
        [
            (PathBuf::from("/a"), Some(85)),
            (PathBuf::from("/b"), Some(10))
        ]
    );
    assert!(m.tick().events.is_empty());
    host.usage
        .borrow_mut()
        .insert(PathBuf::from("/a"), usage(50));
    host.usage
        .borrow_mut()
        .insert(PathBuf::from("/b"), usage(80));
    let t = m.tick();
    assert_eq!(
        kinds(&t),
        [
            ("monitor.storage_ok", Severity::Info),
            ("monitor.storage_high", Severity::High)
        ]
    );
    assert!(event_line(&t.events[1]).starts_with("monitor.storage_high high \"/b\" 80% used"));
}

#[test]
fn tracking_is_bounded() {
    let host = Host::default();
    let mut cfg = Config::default();
    cfg.monitor.max_tracked = 3;
    *host.sockets.borrow_mut() = Some((1..=10).map(|p| sock("0.0.0.0", p)).collect());
    let mut m = Monitor::new(&cfg, &host);
    let t = m.tick();
    assert_eq!(t.baseline.unwrap().sockets, Some(3));
    // Sockets beyond the cap closing are not reported; a tracked one is.
    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 2), sock("0.0.0.0", 3)]);
    let t = m.tick();
    assert_eq!(kinds(&t), [("monitor.socket_closed", Severity::Info)]);
    assert_eq!(t.events[0].payload["port"], 1);
}

#[test]
fn the_policy_is_validated_and_defaults_follow_the_event_log() {
    let mut p = MonitorPolicy::default();
    assert_eq!(p.validate(), Ok(()));
    let el = EventLogPolicy {
        path: PathBuf::from("/var/log/dha/events.log"),
        key: PathBuf::from("/var/lib/dha/k"),
    };
    assert_eq!(
        p.storage_paths(&el),
        [PathBuf::from("/var/log/dha"), PathBuf::from("/var/log")]
    );
    p.threshold_percent = 0;
    assert_eq!(p.validate().unwrap_err().0, "monitor.threshold_percent");
    p.threshold_percent = 101;
    assert!(p.validate().is_err());
    p = MonitorPolicy {
        interval_secs: 0,
        ..MonitorPolicy::default()
    };
    assert_eq!(p.validate().unwrap_err().0, "monitor.interval_secs");
    p = MonitorPolicy {
        storage: vec![PathBuf::from("var/log")],
        ..MonitorPolicy::default()
    };
    assert_eq!(p.validate().unwrap_err().0, "monitor.storage");
}

#[test]
fn another_program_taking_over_a_port_is_closed_then_opened() {
    let host = Host::default();
    *host.sockets.borrow_mut() = Some(vec![sock("0.0.0.0", 22)]);
    *host.procs.borrow_mut() = Some(Vec::new());
    let cfg = Config {
        allow: AllowPolicy {
            ports: vec![AllowedPort {
                protocol: "tcp".to_owned(),
                address: None,
                port: 22,
                exe: Some("/usr/bin/srv".to_owned()),
            }],
            ..AllowPolicy::default()
        },
        ..Config::default()
    };
    let mut m = Monitor::new(&cfg, &host);
    assert!(m.tick().events.is_empty());
    // The owners cannot be found this tick (same inode): nothing changes.
    let mut unowned = sock("0.0.0.0", 22);
    unowned.owners.clear();
    *host.sockets.borrow_mut() = Some(vec![unowned]);
    assert!(m.tick().events.is_empty());
    // The same program restarted (new pid, new inode): nothing to say.
    let mut restarted = sock("0.0.0.0", 22);
    restarted.inode = 999;
    restarted.owners[0].pid = 78;
    *host.sockets.borrow_mut() = Some(vec![restarted]);
    assert!(m.tick().events.is_empty());
    // Another program holds the allowed port now.
    let mut taken = sock("0.0.0.0", 22);
    taken.inode = 1000;
    taken.owners[0] = SocketOwner {
        pid: 4000,
        name: "evil".to_owned(),
        exe: Some("/opt/evil".to_owned()),
    };
    *host.sockets.borrow_mut() = Some(vec![taken]);
    let t = m.tick();
    assert_eq!(
        kinds(&t),
        [
            ("monitor.socket_opened", Severity::Medium),
            ("monitor.socket_closed", Severity::Info)
        ]
    );
    assert_eq!(t.events[0].payload["owners"][0]["exe"], "/opt/evil");
    assert_eq!(t.events[0].payload["allow"], "not on the allow-list");
    assert_eq!(t.events[1].payload["owners"][0]["exe"], "/usr/bin/srv");
}

#[test]
fn a_pinned_executable_is_hashed_once_across_ticks_until_it_changes() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::Builder::new()
        .prefix("dha-mon-")
        .tempdir_in("/run")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("sleeper");
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut child = std::process::Command::new(&exe).arg("60").spawn().unwrap();
    let pid = child.id();
    let want = "ab".repeat(32);
    let host = Host::default();
    *host.sockets.borrow_mut() = Some(Vec::new());
    *host.procs.borrow_mut() = Some(vec![ProcessInfo {
        pid,
        parent: None,
        name: "sleeper".to_owned(),
        exe: Some(exe.to_string_lossy().into_owned()),
        exe_deleted: false,
        uid: Some(0),
        kernel_thread: false,
    }]);
    host.hashes.borrow_mut().insert(pid, want.clone());
    let cfg = Config {
        allow: AllowPolicy {
            processes: vec![crate::allow::AllowedProcess {
                exe: exe.to_string_lossy().into_owned(),
                sha256: Some(want),
            }],
            ..AllowPolicy::default()
        },
        ..Config::default()
    };
    let mut m = Monitor::new(&cfg, &host);
    for _ in 0..5 {
        assert!(m.tick().events.is_empty());
    }
    assert_eq!(host.hash_calls.get(), 1);
    // A change of the file's times (ctime moves with any change) is a new
    // identity: hashed again.
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o751)).unwrap();
    m.tick();
    m.tick();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(host.hash_calls.get(), 2);
}
