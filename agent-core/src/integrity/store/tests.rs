//! The known-good store on real files in temporary directories under /tmp
//! (ext4 here; tests run as root, so chown works).

use super::*;
use crate::integrity::attrs::AttrSet;
use crate::integrity::fsx::NoExtras;
use crate::integrity::policy::CompiledPolicy;
use crate::integrity::record::FileTime;
use crate::integrity::scan::{ScanMode, ScanOptions, scan};
use std::os::unix::fs::{lchown, symlink};

fn tree() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dha-store-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

fn scan_tree(dir: &Path) -> Vec<FileRecord> {
    let policy = CompiledPolicy::for_paths(&[dir.to_path_buf()], AttrSet::default_set()).unwrap();
    let opts = ScanOptions {
        mode: ScanMode::Full,
        threads: 2,
    };
    let out = scan(&policy, &NoExtras, None, &opts, &|_| {}).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    out.records
}

fn baseline_of(records: Vec<FileRecord>) -> Baseline {
    Baseline::from_records(FileTime::default(), [0; 32], records).unwrap()
}

/// A tree, its baseline and a store holding its files.
struct Fixture {
    work: tempfile::TempDir,
    tree: PathBuf,
    baseline: Baseline,
    store: KnownGoodStore,
}

fn fixture(files: &[(&str, &[u8])]) -> Fixture {
    let work = tree();
    let tree = work.path().join("tree");
    fs::create_dir(&tree).unwrap();
    for (name, content) in files {
        fs::write(tree.join(name), content).unwrap();
    }
    setuid_binary(&tree);
    let baseline = baseline_of(scan_tree(&tree));
    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    let stats = store.put_all(&baseline.records).unwrap();
    assert!(stats.not_stored.is_empty(), "{stats:?}");
    Fixture {
        work,
        tree,
        baseline,
        store,
    }
}

/// `tree/su`: owner 1000:1000, mode 4755, an old mtime.
fn setuid_binary(tree: &Path) {
    let p = tree.join("su");
    fs::write(&p, b"\x7fELF pretend setuid binary").unwrap();
    lchown(&p, Some(1000), Some(1000)).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o4755)).unwrap();
    File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(1_600_000_000, 123))
        .unwrap();
}

fn record<'a>(b: &'a Baseline, p: &Path) -> &'a FileRecord {
    b.get(bytes(p)).unwrap()
}

/// The temporaries a restore or a store write left behind.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(TEMP_PREFIX))
        .collect()
}

#[test]
fn layout_is_content_addressed_and_private() {
    let fx = fixture(&[("a", b"alpha")]);
    let sha: [u8; 32] = digest::digest(&digest::SHA256, b"alpha")
        .as_ref()
        .try_into()
        .unwrap();
    let obj = fx.store.object_path(&sha);
    let h = hex(&sha);
    assert_eq!(
        obj,
        fx.work
            .path()
            .join("store/objects")
            .join(&h[..2])
            .join(&h[2..])
    );
    assert_eq!(fs::read(&obj).unwrap(), b"alpha");
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&obj), 0o400);
    assert_eq!(mode(obj.parent().unwrap()), 0o700);
    assert_eq!(mode(&fx.work.path().join("store/objects")), 0o700);
    assert_eq!(mode(&fx.work.path().join("store")), 0o700);
    assert!(temporaries(&fx.work.path().join("store/objects")).is_empty());
}

#[test]
fn modified_setuid_file_is_restored_exactly() {
    let fx = fixture(&[("a", b"alpha")]);
    let su = fx.tree.join("su");
    let want = record(&fx.baseline, &su).clone();
    // Tamper: content (same size), owner, mode, mtime.
    fs::write(&su, b"\x7fELF trojaned setuid binary").unwrap();
    lchown(&su, Some(0), Some(0)).unwrap();
    fs::set_permissions(&su, fs::Permissions::from_mode(0o4777)).unwrap();

    let out = fx
        .store
        .restore(&fx.baseline, bytes(&su), &NoExtras)
        .unwrap();
    assert_eq!(out.path, su);
    assert_eq!(out.bytes, want.size);
    assert_eq!(out.replaced, Some(EntryType::Regular));
    assert!(out.owner_restored && out.mode_restored && out.mtime_restored);

    assert_eq!(fs::read(&su).unwrap(), b"\x7fELF pretend setuid binary");
    let m = fs::symlink_metadata(&su).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o4755, "setuid bit survives the chown");
    assert_eq!((m.uid(), m.gid()), (1000, 1000));
    // A rescan agrees with the baseline on everything but what a restore
    // cannot bring back (inode, ctime).
    let now = baseline_of(scan_tree(&fx.tree));
    let got = record(&now, &su);
    assert_eq!(got.sha256, want.sha256);
    assert_eq!(
        (got.mode, got.uid, got.gid, got.size, got.mtime),
        (want.mode, want.uid, want.gid, want.size, want.mtime)
    );
    assert!(temporaries(&fx.tree).is_empty());
}

#[test]
fn deleted_file_is_restored() {
    let fx = fixture(&[("a", b"alpha"), ("b", b"beta")]);
    let b = fx.tree.join("b");
    fs::remove_file(&b).unwrap();
    let out = fx
        .store
        .restore(&fx.baseline, bytes(&b), &NoExtras)
        .unwrap();
    assert_eq!(out.replaced, None);
    assert_eq!(out.bytes, 4);
    assert_eq!(fs::read(&b).unwrap(), b"beta");
    let want = record(&fx.baseline, &b);
    let m = fs::metadata(&b).unwrap();
    assert_eq!(m.mode() & 0o7777, want.mode);
    assert_eq!((m.uid(), m.gid()), (want.uid, want.gid));
}

#[test]
fn a_symlink_at_the_path_is_replaced_not_followed() {
    let fx = fixture(&[("a", b"alpha")]);
    let a = fx.tree.join("a");
    let elsewhere = fx.work.path().join("elsewhere");
    fs::write(&elsewhere, b"not to be touched").unwrap();
    fs::remove_file(&a).unwrap();
    symlink(&elsewhere, &a).unwrap();
    let out = fx
        .store
        .restore(&fx.baseline, bytes(&a), &NoExtras)
        .unwrap();
    assert_eq!(out.replaced, Some(EntryType::Symlink));
    assert!(fs::symlink_metadata(&a).unwrap().is_file());
    assert_eq!(fs::read(&a).unwrap(), b"alpha");
    assert_eq!(fs::read(&elsewhere).unwrap(), b"not to be touched");
}

#[test]
fn damaged_object_is_refused_and_the_live_file_untouched() {
    let fx = fixture(&[("a", b"alpha")]);
    let a = fx.tree.join("a");
    let sha = record(&fx.baseline, &a).sha256.unwrap();
    let obj = fx.store.object_path(&sha);
    let mut content = fs::read(&obj).unwrap();
    content[2] ^= 0x01;
    fs::write(&obj, &content).unwrap();
    fs::write(&a, b"tampered").unwrap();

    let err = fx
        .store
        .restore(&fx.baseline, bytes(&a), &NoExtras)
        .unwrap_err();
    assert!(matches!(err, IntegrityError::Store { .. }), "{err}");
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(err.to_string().contains(&hex(&sha)), "{err}");
    assert_eq!(fs::read(&a).unwrap(), b"tampered");
    assert!(temporaries(&fx.tree).is_empty());

    // A longer object (the right content plus one byte) is refused too.
    let mut longer = b"alpha".to_vec();
    longer.push(b'!');
    fs::write(&obj, &longer).unwrap();
    assert!(matches!(
        fx.store.restore(&fx.baseline, bytes(&a), &NoExtras),
        Err(IntegrityError::Store { .. })
    ));
    assert_eq!(fs::read(&a).unwrap(), b"tampered");
}

#[test]
fn missing_object_is_a_clear_error() {
    let fx = fixture(&[("a", b"alpha")]);
    let a = fx.tree.join("a");
    let obj = fx
        .store
        .object_path(&record(&fx.baseline, &a).sha256.unwrap());
    fs::remove_file(obj).unwrap();
    let err = fx
        .store
        .restore(&fx.baseline, bytes(&a), &NoExtras)
        .unwrap_err();
    assert!(err.to_string().contains("no stored copy"), "{err}");
    assert_eq!(fs::read(&a).unwrap(), b"alpha");
}

#[test]
fn paths_the_baseline_does_not_record_as_files_are_refused() {
    let fx = fixture(&[("a", b"alpha")]);
    let ghost = fx.tree.join("never-there");
    let err = fx
        .store
        .restore(&fx.baseline, bytes(&ghost), &NoExtras)
        .unwrap_err();
    assert!(
        matches!(err, IntegrityError::RestoreRefused { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("does not record"), "{err}");
    assert!(!ghost.exists());

    // The tree's own directory is recorded, but not as a regular file.
    let err = fx
        .store
        .restore(&fx.baseline, bytes(&fx.tree), &NoExtras)
        .unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn a_directory_now_at_the_path_is_refused() {
    let fx = fixture(&[("a", b"alpha")]);
    let a = fx.tree.join("a");
    fs::remove_file(&a).unwrap();
    fs::create_dir(&a).unwrap();
    fs::write(a.join("inside"), b"x").unwrap();
    let err = fx
        .store
        .restore(&fx.baseline, bytes(&a), &NoExtras)
        .unwrap_err();
    assert!(
        matches!(err, IntegrityError::RestoreRefused { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("a directory is now at this path"),
        "{err}"
    );
    assert!(a.join("inside").is_file());
    assert!(temporaries(&fx.tree).is_empty());
}

#[test]
fn a_missing_directory_is_not_created() {
    let work = tree();
    let sub = work.path().join("tree/sub");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("f"), b"data").unwrap();
    let baseline = baseline_of(scan_tree(&work.path().join("tree")));
    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    store.put_all(&baseline.records).unwrap();
    fs::remove_dir_all(&sub).unwrap();
    let err = store
        .restore(&baseline, bytes(&sub.join("f")), &NoExtras)
        .unwrap_err();
    assert!(
        err.to_string().contains("does not create directories"),
        "{err}"
    );
    assert!(!sub.exists());
}

#[test]
fn objects_are_never_written_twice() {
    // Two files of one content share one object.
    let fx = fixture(&[("a", b"same"), ("b", b"same"), ("c", b"other")]);
    let obj = fx
        .store
        .object_path(&record(&fx.baseline, &fx.tree.join("a")).sha256.unwrap());
    let before = fs::metadata(&obj).unwrap();
    let again = fx.store.put_all(&fx.baseline.records).unwrap();
    assert_eq!(again.files, 4, "a, b, c and su");
    assert_eq!(again.stored, 0);
    assert_eq!(again.already_present, 4);
    assert_eq!(again.bytes_stored, 0);
    let after = fs::metadata(&obj).unwrap();
    assert_eq!(after.ino(), before.ino());
    assert_eq!(after.mtime(), before.mtime());
    assert_eq!(after.mtime_nsec(), before.mtime_nsec());
    assert_eq!(after.ctime_nsec(), before.ctime_nsec());
    // Three distinct contents: three objects.
    let objects: usize = fs::read_dir(fx.work.path().join("store/objects"))
        .unwrap()
        .map(|d| fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(objects, 3);
}

#[test]
fn first_put_counts_duplicates_as_present() {
    let work = tree();
    let t = work.path().join("tree");
    fs::create_dir(&t).unwrap();
    fs::write(t.join("a"), b"same").unwrap();
    fs::write(t.join("b"), b"same").unwrap();
    let b = baseline_of(scan_tree(&t));
    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    let stats = store.put_all(&b.records).unwrap();
    assert_eq!(
        (
            stats.files,
            stats.stored,
            stats.already_present,
            stats.bytes_stored
        ),
        (2, 1, 1, 4)
    );
}

#[test]
fn files_changed_between_scan_and_store_are_not_stored() {
    let work = tree();
    let t = work.path().join("tree");
    fs::create_dir(&t).unwrap();
    for (n, c) in [("same-size", "aaaa"), ("grown", "bbbb"), ("gone", "cccc")] {
        fs::write(t.join(n), c).unwrap();
    }
    fs::write(t.join("kept"), b"dddd").unwrap();
    fs::write(t.join("now-a-link"), b"eeee").unwrap();
    let b = baseline_of(scan_tree(&t));
    fs::write(t.join("same-size"), b"AAAA").unwrap();
    fs::write(t.join("grown"), b"bbbbb").unwrap();
    fs::remove_file(t.join("gone")).unwrap();
    fs::remove_file(t.join("now-a-link")).unwrap();
    symlink(t.join("kept"), t.join("now-a-link")).unwrap();

    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    let stats = store.put_all(&b.records).unwrap();
    assert_eq!((stats.files, stats.stored), (5, 1), "{stats:?}");
    let mut not: Vec<(String, NotStoredReason)> = stats
        .not_stored
        .iter()
        .map(|n| {
            let p = PathBuf::from(OsStr::from_bytes(&n.path));
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let r = match &n.reason {
                NotStoredReason::Unreadable(_) => NotStoredReason::Unreadable(String::new()),
                r => r.clone(),
            };
            (name, r)
        })
        .collect();
    not.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        not,
        vec![
            ("gone".into(), NotStoredReason::Unreadable(String::new())),
            ("grown".into(), NotStoredReason::Changed),
            ("now-a-link".into(), NotStoredReason::Changed),
            ("same-size".into(), NotStoredReason::Changed),
        ]
    );
    for n in ["same-size", "grown", "gone", "now-a-link"] {
        let sha = record(&b, &t.join(n)).sha256.unwrap();
        assert!(!store.contains(&sha), "{n}");
    }
    assert!(store.contains(&record(&b, &t.join("kept")).sha256.unwrap()));
    assert!(temporaries(&work.path().join("store/objects")).is_empty());
}

#[test]
fn open_tightens_modes_and_removes_stale_temporaries() {
    let work = tree();
    let dir = work.path().join("store");
    fs::create_dir_all(dir.join("objects")).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let stale = dir.join("objects").join(format!("{TEMP_PREFIX}crashed"));
    fs::write(&stale, b"half").unwrap();
    let store = KnownGoodStore::open(&dir).unwrap();
    assert_eq!(store.dir(), dir);
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o7777, 0o700);
    assert!(!stale.exists());
    // Something other than a directory is refused.
    let file = work.path().join("file");
    fs::write(&file, b"").unwrap();
    assert!(matches!(
        KnownGoodStore::open(&file),
        Err(IntegrityError::Store { .. } | IntegrityError::Io { .. })
    ));
}

#[test]
fn large_file_streams_through_the_buffer() {
    // Larger than the copy buffer, with a remainder.
    let data: Vec<u8> = (0..(3 * BUF_SIZE + 17))
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let fx = fixture(&[("big", &data)]);
    let big = fx.tree.join("big");
    let mut changed = data.clone();
    changed[BUF_SIZE + 5] ^= 0xff;
    fs::write(&big, &changed).unwrap();
    let out = fx
        .store
        .restore(&fx.baseline, bytes(&big), &NoExtras)
        .unwrap();
    assert_eq!(out.bytes, u64::try_from(data.len()).unwrap());
    assert_eq!(fs::read(&big).unwrap(), data);
}

#[test]
fn recorded_xattrs_without_support_are_an_error() {
    let fx = fixture(&[("a", b"alpha")]);
    let a = fx.tree.join("a");
    let mut records = fx.baseline.records.clone();
    for r in &mut records {
        if r.path.as_ref() == bytes(&a) {
            r.extra = Some(Box::new(crate::integrity::record::RecordExtra {
                xattrs: vec![Xattr {
                    name: b"user.origin"[..].into(),
                    value: b"factory"[..].into(),
                }],
                ..Default::default()
            }));
        }
    }
    let b = baseline_of(records);
    fs::write(&a, b"tampered").unwrap();
    let err = fx.store.restore(&b, bytes(&a), &NoExtras).unwrap_err();
    assert!(err.to_string().contains("extended attributes"), "{err}");
    assert_eq!(fs::read(&a).unwrap(), b"tampered");
    assert!(temporaries(&fx.tree).is_empty());
}

#[test]
fn init_with_store_fills_the_store_before_the_baseline_is_written() {
    use crate::FixedClock;
    use crate::integrity::ops::{Context, init_with_store};
    use crate::integrity::policy::policy_digest_for_paths;
    use crate::integrity::seal::{SealKey, SealKind};

    let work = tree();
    let t = work.path().join("tree");
    fs::create_dir(&t).unwrap();
    fs::write(t.join("a"), b"alpha").unwrap();
    let paths = vec![t.clone()];
    let attrs = AttrSet::default_set();
    let policy = CompiledPolicy::for_paths(&paths, attrs).unwrap();
    let clock = FixedClock::from_unix_secs(1_795_953_600);
    let progress = |_| {};
    let ctx = Context {
        policy: &policy,
        policy_digest: policy_digest_for_paths(&paths, attrs).unwrap(),
        fsx: &NoExtras,
        clock: &clock,
        threads: 1,
        progress: &progress,
    };
    let key = SealKey::generate(SealKind::Ed25519).unwrap();
    let bl = work.path().join("baseline");
    let store = KnownGoodStore::open(&work.path().join("store")).unwrap();
    let out = init_with_store(&ctx, &bl, &key, Some(&store)).unwrap();
    let stats = out.store.unwrap();
    assert_eq!((stats.files, stats.stored), (1, 1));
    assert!(out.problems.is_empty(), "{:?}", out.problems);

    let baseline = crate::integrity::read_baseline(&bl, &key.public()).unwrap();
    fs::remove_file(t.join("a")).unwrap();
    store
        .restore(&baseline, bytes(&t.join("a")), &NoExtras)
        .unwrap();
    assert_eq!(fs::read(t.join("a")).unwrap(), b"alpha");
}
