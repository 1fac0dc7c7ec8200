use super::*;
use crate::LinuxFsExtras;
use dha_core::integrity::{Attr, AttrSet, ChangeKind, FileTime};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

/// The tests that start an inotify instance run one at a time: the
/// overflow test lowers a system-wide limit while its instance starts.
static INOTIFY: Mutex<()> = Mutex::new(());

/// A generous bound on every wait, so that a hang fails the test.
const WAIT: Duration = Duration::from_secs(10);

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let root = dir.path();
    fs::write(root.join("a.txt"), b"alpha content").unwrap();
    fs::write(root.join("b.txt"), b"bravo content").unwrap();
    fs::write(root.join("c.txt"), b"charlie content").unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    fs::write(root.join("sub/d.txt"), b"delta").unwrap();
    dir
}

fn policy_and_baseline(root: &Path) -> (CompiledPolicy, Baseline) {
    let policy = CompiledPolicy::for_paths(&[root.to_path_buf()], AttrSet::default_set()).unwrap();
    let opts = ScanOptions::default();
    let out = scan(&policy, &LinuxFsExtras, None, &opts, &|_| {}).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let baseline = Baseline::from_records(FileTime::default(), [0; 32], out.records).unwrap();
    (policy, baseline)
}

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

fn attr_names(c: &Change) -> Vec<Attr> {
    c.attrs.iter().map(|a| a.attr).collect()
}

/// A watcher running on its own thread, reporting through a channel.
struct Running {
    events: Receiver<WatchEvent>,
    done: Receiver<Result<(), IntegrityError>>,
    stop: Arc<AtomicBool>,
    seen: BTreeMap<Box<[u8]>, Change>,
}

impl Running {
    fn start(
        policy: CompiledPolicy,
        baseline: Baseline,
        mut gate: Option<Receiver<()>>,
    ) -> Running {
        let (tx, events) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        std::thread::spawn(move || {
            let options = WatchOptions {
                debounce: Duration::from_millis(100),
                threads: 2,
            };
            let r = watch(
                &policy,
                &LinuxFsExtras,
                &baseline,
                &options,
                &stop2,
                &mut |e| {
                    let ready = matches!(e, WatchEvent::Ready { .. });
                    let _ = tx.send(e);
                    // Holds the watcher after Ready until the test
                    // opens the gate (the overflow test).
                    if let (true, Some(g)) = (ready, gate.take()) {
                        let _ = g.recv_timeout(WAIT);
                    }
                },
            );
            let _ = done_tx.send(r);
        });
        Running {
            events,
            done,
            stop,
            seen: BTreeMap::new(),
        }
    }

    fn next(&mut self) -> WatchEvent {
        self.events
            .recv_timeout(WAIT)
            .expect("no event from the watcher within 10 s")
    }

    fn ready(&mut self) -> usize {
        match self.next() {
            WatchEvent::Ready { directories } => directories,
            other => panic!("unexpected event before Ready: {other:?}"),
        }
    }

    /// Reads Changes events until `done` holds for what was seen.
    fn until(&mut self, what: &str, done: impl Fn(&BTreeMap<Box<[u8]>, Change>) -> bool) {
        while !done(&self.seen) {
            match self.events.recv_timeout(WAIT) {
                Ok(WatchEvent::Changes(cs)) => {
                    for c in cs {
                        self.seen.insert(c.path.clone(), c);
                    }
                }
                Ok(WatchEvent::Problem(p)) => panic!("problem: {p}"),
                Ok(other) => panic!("unexpected event: {other:?}"),
                Err(_) => panic!(
                    "waiting for {what}: nothing within 10 s; seen {:?}",
                    self.seen
                ),
            }
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let r = self
            .done
            .recv_timeout(WAIT)
            .expect("watch did not return within 10 s of stop");
        r.unwrap();
    }
}

#[test]
fn watch_sees_content_perm_new_and_deleted_files() {
    let _serial = INOTIFY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tree();
    let root = dir.path().to_path_buf();
    let (policy, baseline) = policy_and_baseline(&root);
    let mut w = Running::start(policy, baseline, None);
    // The tree and sub/, plus the ancestors of the rule's path.
    let dirs = w.ready();
    assert_eq!(dirs, 2 + root.ancestors().skip(1).count());

    // (a) Same size, other content.
    let a = root.join("a.txt");
    fs::write(&a, b"ALPHA CONTENT").unwrap();
    w.until("a.txt sha256", |s| {
        s.get(bytes(&a)).is_some_and(|c| {
            c.kind == ChangeKind::Modified && attr_names(c).contains(&Attr::Sha256)
        })
    });

    // (b) chmod.
    let b = root.join("b.txt");
    fs::set_permissions(&b, fs::Permissions::from_mode(0o600)).unwrap();
    w.until("b.txt perm", |s| {
        s.get(bytes(&b)).is_some_and(|c| {
            c.attrs
                .iter()
                .any(|x| x.attr == Attr::Perm && x.new.ends_with("600"))
        })
    });

    // (c) A file in a new directory: made at once, perhaps before the
    // directory's watch is in place.
    let new_dir = root.join("new");
    let x = new_dir.join("x.txt");
    fs::create_dir(&new_dir).unwrap();
    fs::write(&x, b"new file").unwrap();
    w.until("new/ and new/x.txt added", |s| {
        [&new_dir, &x]
            .iter()
            .all(|p| s.get(bytes(p)).is_some_and(|c| c.kind == ChangeKind::Added))
    });
    // Later writes in the new directory are seen through its watch.
    let y = new_dir.join("y.txt");
    fs::write(&y, b"another").unwrap();
    w.until("new/y.txt added", |s| {
        s.get(bytes(&y))
            .is_some_and(|c| c.kind == ChangeKind::Added)
    });

    // (d) Deletion.
    let c = root.join("c.txt");
    fs::remove_file(&c).unwrap();
    w.until("c.txt removed", |s| {
        s.get(bytes(&c))
            .is_some_and(|c| c.kind == ChangeKind::Removed)
    });

    // Nothing outside the changes made was reported.
    let mut paths: Vec<&[u8]> = w.seen.keys().map(|k| k.as_ref()).collect();
    paths.sort();
    let mut want: Vec<&[u8]> = vec![
        bytes(&a),
        bytes(&b),
        bytes(&c),
        bytes(&new_dir),
        bytes(&x),
        bytes(&y),
    ];
    // The tree's own directory changed too (mtime, ctime, nlink).
    want.push(bytes(&root));
    want.sort();
    let extra: Vec<_> = paths.iter().filter(|p| !want.contains(p)).collect();
    assert!(extra.is_empty(), "unexpected paths: {extra:?}");
    w.stop();
}

/// Sets a /proc/sys value and puts the old one back when dropped.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> Option<Sysctl> {
        let old = fs::read_to_string(path).ok()?;
        fs::write(path, value).ok()?;
        Some(Sysctl { path, old })
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = fs::write(self.path, self.old.trim());
    }
}

#[test]
fn overflow_of_the_kernel_queue_triggers_a_full_rescan() {
    let _serial = INOTIFY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tree();
    let root = dir.path().to_path_buf();
    let (policy, baseline) = policy_and_baseline(&root);
    // The queue length is taken when the instance is made: lower it
    // for that moment only (root only; otherwise the rescan path is
    // still covered by `rescan_reports_every_change_and_resets_state`).
    let Some(guard) = Sysctl::set(MAX_QUEUED_EVENTS, "16") else {
        eprintln!("{MAX_QUEUED_EVENTS} is not writable: overflow not tested live");
        return;
    };
    let (open, gate) = mpsc::channel();
    let mut w = Running::start(policy, baseline, Some(gate));
    w.ready();
    drop(guard);
    // The watcher is held in its Ready callback: these events queue up
    // and overflow the 16 places.
    for i in 0..64 {
        fs::write(root.join(format!("f{i:02}")), b"x").unwrap();
    }
    open.send(()).unwrap();
    let changes = loop {
        match w.next() {
            WatchEvent::Rescanned { reason, changes } => {
                assert_eq!(reason, OVERFLOW_REASON);
                break changes;
            }
            WatchEvent::Changes(_) => {} // events read before the overflow mark
            other => panic!("unexpected event: {other:?}"),
        }
    };
    for i in 0..64 {
        let p = root.join(format!("f{i:02}"));
        assert!(
            changes
                .iter()
                .any(|c| c.path.as_ref() == bytes(&p) && c.kind == ChangeKind::Added),
            "{} missing from the rescan",
            p.display()
        );
    }
    // Still watching after the rescan.
    let a = root.join("a.txt");
    fs::write(&a, b"changed after the rescan").unwrap();
    w.until("a.txt after rescan", |s| s.contains_key(bytes(&a)));
    w.stop();
}

#[test]
fn same_state_is_emitted_once_and_forgotten_when_back_to_baseline() {
    let _serial = INOTIFY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tree();
    let root = dir.path().to_path_buf();
    // perm only: a chmod back restores the baseline's state exactly
    // (with ctime watched, it never could).
    let attrs = AttrSet::EMPTY.with(Attr::Perm);
    let policy = CompiledPolicy::for_paths(std::slice::from_ref(&root), attrs).unwrap();
    let out = scan(
        &policy,
        &LinuxFsExtras,
        None,
        &ScanOptions::default(),
        &|_| {},
    )
    .unwrap();
    let baseline = Baseline::from_records(FileTime::default(), [0; 32], out.records).unwrap();
    let options = WatchOptions::default();
    let mut w = Watcher::new(&policy, &LinuxFsExtras, &baseline, &options).unwrap();
    let mut events = Vec::new();
    let b = root.join("b.txt");
    let recheck = |w: &mut Watcher<'_>, events: &mut Vec<WatchEvent>| {
        w.pending.exact.insert(b.clone());
        w.pending.touch();
        w.flush(&mut |e| events.push(e)).unwrap();
    };
    let perm_change = |e: Option<&WatchEvent>, new: &str| match e {
        Some(WatchEvent::Changes(cs)) => {
            cs.len() == 1 && cs[0].attrs.len() == 1 && cs[0].attrs[0].new.ends_with(new)
        }
        _ => false,
    };

    fs::set_permissions(&b, fs::Permissions::from_mode(0o600)).unwrap();
    recheck(&mut w, &mut events);
    assert_eq!(events.len(), 1);
    assert!(perm_change(events.last(), "600"), "{events:?}");
    // The same state again (another IN_ATTRIB, say): nothing new.
    recheck(&mut w, &mut events);
    assert_eq!(events.len(), 1, "{events:?}");
    // A new state: emitted.
    fs::set_permissions(&b, fs::Permissions::from_mode(0o640)).unwrap();
    recheck(&mut w, &mut events);
    assert_eq!(events.len(), 2);
    assert!(perm_change(events.last(), "640"), "{events:?}");
    // Back to the baseline's mode: nothing emitted, state cleared …
    fs::set_permissions(&b, fs::Permissions::from_mode(0o644)).unwrap();
    recheck(&mut w, &mut events);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(w.emitted.is_empty());
    // … so the same change as before is reported again.
    fs::set_permissions(&b, fs::Permissions::from_mode(0o600)).unwrap();
    recheck(&mut w, &mut events);
    assert_eq!(events.len(), 3);
    assert!(perm_change(events.last(), "600"), "{events:?}");
}

#[test]
fn rescan_reports_every_change_and_resets_state() {
    let _serial = INOTIFY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tree();
    let root = dir.path().to_path_buf();
    let (policy, baseline) = policy_and_baseline(&root);
    let options = WatchOptions::default();
    let mut w = Watcher::new(&policy, &LinuxFsExtras, &baseline, &options).unwrap();
    assert!(w.establish().is_empty());
    fs::remove_file(root.join("c.txt")).unwrap();
    fs::write(root.join("sub/e.txt"), b"echo").unwrap();
    w.pending.rescan = true;
    w.pending.touch();
    let mut events = Vec::new();
    w.flush(&mut |e| events.push(e)).unwrap();
    let [WatchEvent::Rescanned { reason, changes }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(reason, OVERFLOW_REASON);
    let kinds: Vec<(&[u8], &ChangeKind)> =
        changes.iter().map(|c| (c.path.as_ref(), &c.kind)).collect();
    let c = root.join("c.txt");
    let e = root.join("sub/e.txt");
    assert!(
        kinds.contains(&(bytes(&c), &ChangeKind::Removed)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(bytes(&e), &ChangeKind::Added)),
        "{kinds:?}"
    );
    // The state now holds these: re-checking c.txt emits nothing new.
    w.pending.exact.insert(c.clone());
    w.pending.touch();
    w.flush(&mut |e| events.push(e)).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
}

#[test]
fn symlinked_directories_are_not_watched() {
    let _serial = INOTIFY.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tree();
    let outside = tempfile::tempdir_in("/tmp").unwrap();
    fs::create_dir(outside.path().join("deep")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
    let (policy, baseline) = policy_and_baseline(dir.path());
    let options = WatchOptions::default();
    let mut w = Watcher::new(&policy, &LinuxFsExtras, &baseline, &options).unwrap();
    assert!(w.establish().is_empty());
    assert!(w.dirs.values().all(|d| !d.starts_with(outside.path())));
    assert!(w.dirs.values().any(|d| d == &dir.path().join("sub")));
}

#[test]
fn under_matches_whole_components() {
    assert!(under(b"/a/b", b"/a"));
    assert!(under(b"/a", b"/a"));
    assert!(!under(b"/ab", b"/a"));
    assert!(under(b"/x", b"/"));
}
