//! Scans of real trees in temporary directories (under /tmp: ext4 here).

use super::*;
use crate::integrity::attrs::AttrSet;
use crate::integrity::fsx::NoExtras;
use crate::integrity::policy::compile_globs;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{PermissionsExt as _, lchown, symlink};
use std::process::Command;
use std::sync::atomic::AtomicUsize;

fn tree() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dha-scan-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn write(dir: &Path, rel: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    p
}

fn policy(paths: &[&Path], attrs: AttrSet) -> CompiledPolicy {
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    CompiledPolicy::for_paths(&paths, attrs).unwrap()
}

fn run(p: &CompiledPolicy, prior: Option<&Baseline>, mode: ScanMode) -> ScanOutcome {
    run_with(p, &NoExtras, prior, mode)
}

fn run_with(
    p: &CompiledPolicy,
    fsx: &dyn FsExtras,
    prior: Option<&Baseline>,
    mode: ScanMode,
) -> ScanOutcome {
    let opts = ScanOptions { mode, threads: 0 };
    scan(p, fsx, prior, &opts, &|_| {}).unwrap()
}

fn baseline(records: Vec<FileRecord>) -> Baseline {
    Baseline::from_records(FileTime::default(), [0; 32], records).unwrap()
}

fn rec<'a>(out: &'a ScanOutcome, p: &Path) -> &'a FileRecord {
    let b = p.as_os_str().as_bytes();
    out.records
        .iter()
        .find(|r| r.path.as_ref() == b)
        .unwrap_or_else(|| panic!("no record of {}", p.display()))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    digest::digest(&digest::SHA256, data)
        .as_ref()
        .try_into()
        .unwrap()
}

#[test]
fn every_kind_of_object_is_recorded_and_only_regular_files_are_read() {
    let t = tree();
    let d = t.path();
    let a = write(d, "a.txt", b"hello\n");
    let b = write(d, "sub/b.bin", &[7u8; 100_000]);
    write(d, "sub/deeper/c", b"");
    symlink("/dev/zero", d.join("zero-link")).unwrap();
    symlink("sub/b.bin", d.join("b-link")).unwrap();
    let st = Command::new("mkfifo").arg(d.join("fifo")).status().unwrap();
    assert!(st.success());
    let _sock = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
    // /dev/zero's numbers: reading it would never end.
    let st = Command::new("mknod")
        .arg(d.join("zero"))
        .args(["c", "1", "5"])
        .status()
        .unwrap();
    assert!(st.success());

    let out = run(&policy(&[d], AttrSet::default_set()), None, ScanMode::Full);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let paths: Vec<&[u8]> = out.records.iter().map(|r| r.path.as_ref()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "records sorted by path bytes");
    assert_eq!(out.records.len(), 11, "{paths:?}");
    assert_eq!(
        out.stats,
        ScanStats {
            files: 3,
            directories: 3,
            others: 5,
            bytes_hashed: 6 + 100_000,
            files_hashed: 3,
            files_trusted_quick: 0,
        }
    );

    assert_eq!(rec(&out, &a).sha256, Some(sha256(b"hello\n")));
    assert_eq!(rec(&out, &b).sha256, Some(sha256(&[7u8; 100_000])));
    assert_eq!(rec(&out, &d.join("sub/deeper/c")).sha256, Some(sha256(b"")));
    let link = rec(&out, &d.join("zero-link"));
    assert_eq!(link.entry_type, EntryType::Symlink);
    assert_eq!(link.link_target(), Some(&b"/dev/zero"[..]));
    assert_eq!(link.sha256, None);
    assert_eq!(
        rec(&out, &d.join("b-link")).link_target(),
        Some(&b"sub/b.bin"[..])
    );
    for (name, ty) in [
        ("fifo", EntryType::Fifo),
        ("sock", EntryType::Socket),
        ("zero", EntryType::CharDevice),
    ] {
        let r = rec(&out, &d.join(name));
        assert_eq!(r.entry_type, ty, "{name}");
        assert_eq!(r.sha256, None, "{name}");
    }
    let root = rec(&out, d);
    assert_eq!(root.entry_type, EntryType::Directory);
    assert_eq!(root.sha256, None);
    let meta = fs::symlink_metadata(&a).unwrap();
    let r = rec(&out, &a);
    assert_eq!(
        (r.mode, r.uid, r.gid, r.size, r.inode, r.dev, r.nlink),
        (
            meta.mode() & 0o7777,
            meta.uid(),
            meta.gid(),
            6,
            meta.ino(),
            meta.dev(),
            1
        )
    );
    assert_eq!(r.mtime, file_time(meta.mtime(), meta.mtime_nsec()));
    assert_eq!(r.ctime, file_time(meta.ctime(), meta.ctime_nsec()));
}

#[test]
fn a_rule_path_that_is_a_symlink_is_recorded_as_one_and_not_followed() {
    let t = tree();
    let d = t.path();
    write(d, "real/secret", b"x");
    symlink(d.join("real"), d.join("alias")).unwrap();
    let out = run(
        &policy(&[&d.join("alias")], AttrSet::default_set()),
        None,
        ScanMode::Full,
    );
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].entry_type, EntryType::Symlink);
    assert_eq!(out.stats.files_hashed, 0);
}

#[test]
fn only_watched_attributes_are_recorded_but_quick_mode_fields_always_are() {
    let t = tree();
    let d = t.path();
    let f = write(d, "f", b"data");
    lchown(&f, Some(1234), Some(4321)).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o4755)).unwrap();
    let attrs = AttrSet::EMPTY.with(Attr::Type).with(Attr::Perm);
    let out = run(&policy(&[d], attrs), None, ScanMode::Full);
    let r = rec(&out, &f);
    assert_eq!(r.attrs, attrs);
    assert_eq!(r.mode, 0o4755);
    assert_eq!((r.uid, r.gid, r.nlink, r.sha256), (0, 0, 0, None));
    assert_eq!(out.stats.files_hashed, 0, "no hash watched: not read");
    let meta = fs::symlink_metadata(&f).unwrap();
    assert_eq!((r.size, r.inode, r.dev), (4, meta.ino(), meta.dev()));
    assert_ne!(r.ctime, FileTime::default());

    let all = run(&policy(&[d], AttrSet::all()), None, ScanMode::Full);
    let r = rec(&all, &f);
    assert_eq!((r.uid, r.gid, r.nlink), (1234, 4321, 1));
    assert_eq!(r.sha512().map(|h| h.to_vec()), {
        let h = digest::digest(&digest::SHA512, b"data");
        Some(h.as_ref().to_vec())
    });
}

#[test]
fn nested_rules_and_exclusions_are_honoured() {
    let t = tree();
    let d = t.path();
    write(d, "a/keep", b"1");
    write(d, "a/skip/x", b"2");
    write(d, "a/log/syslog", b"3");
    write(d, "a/log/old.gz", b"4");
    write(d, "flat/one", b"5");
    write(d, "flat/sub/two", b"6");
    let mut p = policy(
        &[&d.join("a"), &d.join("a/log"), &d.join("flat")],
        AttrSet::default_set(),
    );
    p.exclude = compile_globs(&[format!("{}/a/skip", d.display())], "exclude").unwrap();
    p.rules[1].exclude = compile_globs(&["**/*.gz".to_owned()], "x").unwrap();
    p.rules[2].recursive = false;
    let out = run(&p, None, ScanMode::Full);
    let names: Vec<String> = out
        .records
        .iter()
        .map(|r| {
            r.path_lossy()
                .strip_prefix(&*d.to_string_lossy())
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "/a",
            "/a/keep",
            "/a/log",
            "/a/log/syslog",
            "/flat",
            "/flat/one",
            "/flat/sub"
        ]
    );
}

#[test]
fn quick_mode_trusts_unchanged_files_and_rehashes_a_same_size_change_with_mtime_restored() {
    let t = tree();
    let d = t.path();
    for i in 0..50 {
        write(d, &format!("f{i:02}"), format!("content {i:02}").as_bytes());
    }
    let p = policy(&[d], AttrSet::default_set());
    let full = run(&p, None, ScanMode::Full);
    assert_eq!(full.stats.files_hashed, 50);
    let base = baseline(full.records.clone());

    let quick = run(&p, Some(&base), ScanMode::Quick);
    assert_eq!(quick.stats.files_hashed, 0);
    assert_eq!(quick.stats.files_trusted_quick, 50);
    assert_eq!(quick.stats.bytes_hashed, 0);
    assert_eq!(quick.records, full.records);

    // Full mode ignores the prior records.
    let again = run(&p, Some(&base), ScanMode::Full);
    assert_eq!(again.stats.files_hashed, 50);

    // Same size, mtime put back (what `touch -r` does): only the ctime
    // tells. (On kernels before 6.13 the ctime clock is coarse; wait a tick
    // so that the change cannot fall in the same one as the creation.)
    std::thread::sleep(std::time::Duration::from_millis(20));
    let f = d.join("f07");
    let mtime = fs::metadata(&f).unwrap().modified().unwrap();
    fs::write(&f, b"CONTENT 07").unwrap();
    File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let quick = run(&p, Some(&base), ScanMode::Quick);
    assert_eq!(quick.stats.files_hashed, 1);
    assert_eq!(quick.stats.files_trusted_quick, 49);
    let r = rec(&quick, &f);
    assert_eq!(r.sha256, Some(sha256(b"CONTENT 07")));
    assert_eq!(r.mtime, rec(&full, &f).mtime);
    assert_ne!(r.ctime, rec(&full, &f).ctime);
}

#[test]
fn quick_mode_rereads_when_the_prior_record_lacks_what_the_rule_watches() {
    let t = tree();
    let d = t.path();
    write(d, "f", b"abc");
    let p = policy(&[d], AttrSet::default_set());
    let mut records = run(&p, None, ScanMode::Full).records;
    for r in &mut records {
        r.sha256 = None; // as recorded after a ChangedDuringScan
    }
    let base = baseline(records);
    let quick = run(&p, Some(&base), ScanMode::Quick);
    assert_eq!(quick.stats.files_hashed, 1);
    // A rule that now watches SHA-512 too cannot trust a SHA-256-only record.
    let base = baseline(run(&p, None, ScanMode::Full).records);
    let p512 = policy(&[d], AttrSet::all());
    let quick = run(&p512, Some(&base), ScanMode::Quick);
    assert_eq!(quick.stats.files_hashed, 1);
}

#[test]
fn one_byte_changed_in_the_middle_of_a_large_file_is_seen_in_full_and_quick_mode() {
    let t = tree();
    let d = t.path();
    let size = 20 * 1024 * 1024;
    let big = write(d, "big", &vec![0x5au8; size]);
    let p = policy(&[d], AttrSet::default_set());
    let full = run(&p, None, ScanMode::Full);
    assert_eq!(full.stats.bytes_hashed, u64::try_from(size).unwrap());
    let before = rec(&full, &big).sha256;
    let base = baseline(full.records.clone());

    std::thread::sleep(std::time::Duration::from_millis(20));
    let mtime = fs::metadata(&big).unwrap().modified().unwrap();
    let mut f = File::options().write(true).open(&big).unwrap();
    f.seek(SeekFrom::Start(u64::try_from(size / 2).unwrap()))
        .unwrap();
    f.write_all(&[0x5b]).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);

    let quick = run(&p, Some(&base), ScanMode::Quick);
    assert_eq!(quick.stats.files_hashed, 1);
    let full = run(&p, None, ScanMode::Full);
    let mut want = vec![0x5au8; size];
    want[size / 2] = 0x5b;
    assert_eq!(rec(&full, &big).sha256, Some(sha256(&want)));
    assert_eq!(rec(&quick, &big).sha256, Some(sha256(&want)));
    assert_ne!(rec(&full, &big).sha256, before);
}

#[test]
fn one_worker_and_all_cores_give_the_same_records_and_progress_is_reported() {
    let t = tree();
    let d = t.path();
    for i in 0..700 {
        write(
            d,
            &format!("d{}/f{i}", i % 7),
            &[u8::try_from(i % 251).unwrap(); 300],
        );
    }
    let p = policy(&[d], AttrSet::default_set());
    let calls = AtomicUsize::new(0);
    let last = Mutex::new(None);
    let progress = |pr: ScanProgress| {
        calls.fetch_add(1, Ordering::Relaxed);
        *last.lock().unwrap() = Some(pr);
    };
    let one = scan(
        &p,
        &NoExtras,
        None,
        &ScanOptions {
            mode: ScanMode::Full,
            threads: 1,
        },
        &progress,
    )
    .unwrap();
    // 708 objects: every 256th and once at the end.
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    assert_eq!(
        *last.lock().unwrap(),
        Some(ScanProgress {
            files_done: 708,
            bytes_hashed: 700 * 300,
            files_total_estimate: None
        })
    );
    let base = baseline(one.records.clone());
    let all = scan(
        &p,
        &NoExtras,
        Some(&base),
        &ScanOptions {
            mode: ScanMode::Full,
            threads: 0,
        },
        &progress,
    )
    .unwrap();
    assert_eq!(one.records, all.records);
    assert_eq!(one.stats, all.stats);
    assert_eq!(
        last.lock().unwrap().unwrap().files_total_estimate,
        Some(708)
    );
}

#[test]
fn vanished_and_replaced_files_are_problems_not_failures() {
    let t = tree();
    let d = t.path();
    let f = write(d, "f", b"first version");
    let p = policy(&[d], AttrSet::default_set());
    let progress = |_: ScanProgress| {};
    let ctx = Ctx::new(&p, &NoExtras, None, &ScanOptions::default(), &progress);

    // Listed, then gone before lstat.
    let mut batch = Batch::default();
    ctx.visit_path(&d.join("gone"), 0, &mut batch);
    assert!(batch.records.is_empty());
    assert_eq!(batch.problems[0].kind, ScanProblemKind::Vanished);

    // lstat seen, then the file rewritten before it was read: the open file
    // is not the version lstat saw.
    let stale = fs::symlink_metadata(&f).unwrap();
    fs::remove_file(&f).unwrap();
    fs::write(&f, b"second").unwrap();
    let mut r = base_record(&f, &stale, AttrSet::default_set(), EntryType::Regular);
    let res = ctx
        .read_file(&f, &stale, AttrSet::default_set(), &mut r)
        .unwrap();
    assert!(matches!(res, ReadResult::Changed(_)));
    assert_eq!(r.sha256, None);

    // Through visit_file the file is read again from a fresh lstat.
    let mut batch = Batch::default();
    ctx.visit_file(&f, stale, 0, &mut batch);
    assert!(batch.problems.is_empty(), "{:?}", batch.problems);
    assert_eq!(batch.records[0].sha256, Some(sha256(b"second")));

    // Replaced by a symlink after lstat: O_NOFOLLOW refuses it.
    let stale = fs::symlink_metadata(&f).unwrap();
    fs::remove_file(&f).unwrap();
    symlink("/dev/zero", &f).unwrap();
    let mut r = base_record(&f, &stale, AttrSet::default_set(), EntryType::Regular);
    let e = ctx
        .read_file(&f, &stale, AttrSet::default_set(), &mut r)
        .err()
        .unwrap();
    assert_eq!(classify(&e), ScanProblemKind::ChangedDuringScan);
    let mut batch = Batch::default();
    ctx.visit_file(&f, stale, 0, &mut batch);
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].entry_type, EntryType::Symlink);
    assert_eq!(batch.problems.len(), 1);

    // A rule path that does not exist records nothing and is no problem.
    let out = run(
        &policy(&[&d.join("missing")], AttrSet::default_set()),
        None,
        ScanMode::Full,
    );
    assert!(out.records.is_empty() && out.problems.is_empty());
    // Root reads every file, so EACCES cannot be provoked here (tests run
    // as root); classify() maps it.
    let denied = io::Error::from_raw_os_error(libc::EACCES);
    assert_eq!(classify(&denied), ScanProblemKind::PermissionDenied);
    let eperm = io::Error::from_raw_os_error(libc::EPERM);
    assert_eq!(classify(&eperm), ScanProblemKind::PermissionDenied);
}

/// Extras that return fixed values, to test filtering and where they go.
struct FakeExtras;

impl FsExtras for FakeExtras {
    fn xattrs(&self, _path: &Path) -> io::Result<Vec<Xattr>> {
        Ok([
            "security.capability",
            "security.ima",
            "security.selinux",
            "system.posix_acl_access",
            "user.x",
        ]
        .iter()
        .map(|n| Xattr {
            name: n.as_bytes().into(),
            value: b"v".as_slice().into(),
        })
        .collect())
    }

    fn fflags(&self, _file: &File) -> io::Result<Option<u32>> {
        Ok(Some(0x10))
    }
}

#[test]
fn extended_attributes_are_filtered_by_the_groups_watched_and_flags_read() {
    let t = tree();
    let d = t.path();
    let f = write(d, "f", b"x");
    let names = |out: &ScanOutcome, p: &Path| -> Vec<String> {
        rec(out, p)
            .xattrs()
            .iter()
            .map(|x| String::from_utf8_lossy(&x.name).into_owned())
            .collect()
    };
    let caps = AttrSet::EMPTY.with(Attr::Caps);
    let out = run_with(&policy(&[d], caps), &FakeExtras, None, ScanMode::Full);
    assert_eq!(names(&out, &f), ["security.capability"]);
    assert_eq!(rec(&out, &f).fflags, None);
    assert_eq!(out.stats.files_hashed, 0);

    let acl_sel = AttrSet::EMPTY.with(Attr::Acl).with(Attr::Selinux);
    let out = run_with(&policy(&[d], acl_sel), &FakeExtras, None, ScanMode::Full);
    assert_eq!(
        names(&out, &f),
        ["security.selinux", "system.posix_acl_access"]
    );

    let rest = AttrSet::EMPTY.with(Attr::Xattrs).with(Attr::Fflags);
    let out = run_with(&policy(&[d], rest), &FakeExtras, None, ScanMode::Full);
    assert_eq!(names(&out, &f), ["security.ima", "user.x"]);
    assert_eq!(rec(&out, &f).fflags, Some(0x10));
    assert_eq!(rec(&out, d).fflags, Some(0x10), "directories too");

    // Quick mode copies them from the prior record.
    let all = AttrSet::default_set();
    let p = policy(&[d], all);
    let full = run_with(&p, &FakeExtras, None, ScanMode::Full);
    let base = baseline(full.records.clone());
    let quick = run_with(&p, &NoExtras, Some(&base), ScanMode::Quick);
    assert_eq!(rec(&quick, &f), rec(&full, &f));
    assert_eq!(quick.stats.files_trusted_quick, 1);
}

#[test]
fn scan_paths_rechecks_only_the_paths_given() {
    let t = tree();
    let d = t.path();
    write(d, "old/a", b"a");
    let p = policy(&[d], AttrSet::default_set());
    let base = baseline(run(&p, None, ScanMode::Full).records);
    write(d, "old/b", b"b");
    write(d, "new/x/y", b"y");
    let opts = ScanOptions::default();
    let out = scan_paths(
        &p,
        &NoExtras,
        Some(&base),
        &opts,
        &[d.join("old"), d.join("new"), d.join("gone"), d.join("old")],
    );
    let names: Vec<String> = out
        .records
        .iter()
        .map(|r| {
            r.path_lossy()
                .strip_prefix(&*d.to_string_lossy())
                .unwrap()
                .to_owned()
        })
        .collect();
    // "old" was a directory before: only itself; "new" appeared: walked.
    assert_eq!(names, ["/new", "/new/x", "/new/x/y", "/old"]);
    assert!(out.problems.is_empty());
    let out = scan_paths(&p, &NoExtras, Some(&base), &opts, &[d.join("old/b")]);
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].sha256, Some(sha256(b"b")));
    // Outside the policy: nothing.
    let out = scan_paths(
        &p,
        &NoExtras,
        None,
        &opts,
        &[PathBuf::from("/etc/hostname")],
    );
    assert!(out.records.is_empty());
}
