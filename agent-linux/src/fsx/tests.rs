//! LinuxFsExtras on real files under /tmp (ext4 here; tests run as root).
//! Needs setfattr (package attr), setfacl (acl), setcap (libcap2-bin) and
//! chattr (e2fsprogs).

use super::*;
use dha_core::integrity::{
    AttrSet, Baseline, CompiledPolicy, FileRecord, FileTime, ScanMode, ScanOptions, ScanOutcome,
    scan,
};
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::Command;

/// FS_IMMUTABLE_FL (linux/fs.h), what `chattr +i` sets.
const IMMUTABLE: u32 = 0x10;

fn tree() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dha-fsx-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn sh(cmd: &str, args: &[&str], path: &Path) {
    let st = Command::new(cmd).args(args).arg(path).status().unwrap();
    assert!(st.success(), "{cmd} {args:?} {}", path.display());
}

/// Removes `chattr +i` when dropped, so that a failing test leaves no
/// immutable file behind (the temporary directory could not be removed).
struct Immutable(PathBuf);

impl Immutable {
    fn set(p: &Path) -> Immutable {
        sh("chattr", &["+i"], p);
        Immutable(p.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

fn names(x: &[Xattr]) -> Vec<String> {
    x.iter()
        .map(|x| String::from_utf8_lossy(&x.name).into_owned())
        .collect()
}

#[test]
fn extended_attributes_acls_and_capabilities_are_read_sorted() {
    let t = tree();
    let f = t.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    assert_eq!(LinuxFsExtras.xattrs(&f).unwrap(), vec![]);
    sh("setfattr", &["-n", "user.b", "-v", "2"], &f);
    sh("setfattr", &["-n", "user.a", "-v", "1"], &f);
    // Longer than the first buffer: the ERANGE path.
    let long = "v".repeat(3000);
    sh("setfattr", &["-n", "user.long", "-v", &long], &f);
    sh("setfacl", &["-m", "u:1234:r"], &f);
    sh("setcap", &["cap_net_raw+ep"], &f);
    let x = LinuxFsExtras.xattrs(&f).unwrap();
    assert_eq!(
        names(&x),
        [
            "security.capability",
            "system.posix_acl_access",
            "user.a",
            "user.b",
            "user.long"
        ]
    );
    assert_eq!(&*x[2].value, b"1");
    assert_eq!(x[4].value.len(), 3000);
}

#[test]
fn a_symlink_own_attributes_are_read_not_its_targets() {
    let t = tree();
    let f = t.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    sh("setfattr", &["-n", "user.a", "-v", "1"], &f);
    let l = t.path().join("l");
    symlink(&f, &l).unwrap();
    assert!(names(&LinuxFsExtras.xattrs(&l).unwrap()).is_empty());
    // A missing file is an error the scanner classifies as vanished.
    let e = LinuxFsExtras.xattrs(&t.path().join("none")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(e.to_string().contains("none"), "{e}");
}

#[test]
fn inode_flags_are_read_and_absent_where_the_file_system_has_none() {
    let t = tree();
    let f = t.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    let flags = LinuxFsExtras
        .fflags(&File::open(&f).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(flags & IMMUTABLE, 0);
    {
        let _guard = Immutable::set(&f);
        let flags = LinuxFsExtras
            .fflags(&File::open(&f).unwrap())
            .unwrap()
            .unwrap();
        assert_ne!(flags & IMMUTABLE, 0);
    }
    let dir = LinuxFsExtras
        .fflags(&File::open(t.path()).unwrap())
        .unwrap();
    assert!(dir.is_some());
    // procfs has no inode flags (ENOTTY).
    let proc = File::open("/proc/self/status").unwrap();
    assert_eq!(LinuxFsExtras.fflags(&proc).unwrap(), None);
}

fn run(p: &CompiledPolicy, prior: Option<&Baseline>, mode: ScanMode) -> ScanOutcome {
    let opts = ScanOptions { mode, threads: 0 };
    let out = scan(p, &LinuxFsExtras, prior, &opts, &|_| {}).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    out
}

fn rec<'a>(out: &'a ScanOutcome, p: &Path) -> &'a FileRecord {
    use std::os::unix::ffi::OsStrExt as _;
    out.records
        .iter()
        .find(|r| &*r.path == p.as_os_str().as_bytes())
        .unwrap()
}

#[test]
fn a_scan_sees_xattr_acl_capability_and_chattr_changes_in_full_and_quick_mode() {
    let t = tree();
    let d = t.path();
    let files: Vec<PathBuf> = ["user", "security", "acl", "cap", "immutable", "same"]
        .iter()
        .map(|n| {
            let p = d.join(n);
            std::fs::write(&p, n.as_bytes()).unwrap();
            p
        })
        .collect();
    let p = CompiledPolicy::for_paths(&[d.to_path_buf()], AttrSet::default_set()).unwrap();
    let full = run(&p, None, ScanMode::Full);
    let base = Baseline::from_records(FileTime::default(), [0; 32], full.records.clone()).unwrap();

    // Let the ctime clock move on (coarse before Linux 6.13).
    std::thread::sleep(std::time::Duration::from_millis(20));
    sh("setfattr", &["-n", "user.tag", "-v", "1"], &files[0]);
    sh(
        "setfattr",
        &["-n", "security.ima", "-v", "0x0401"],
        &files[1],
    );
    sh("setfacl", &["-m", "g:1234:rw"], &files[2]);
    sh("setcap", &["cap_sys_admin+ep"], &files[3]);
    let _guard = Immutable::set(&files[4]);

    let quick = run(&p, Some(&base), ScanMode::Quick);
    let again = run(&p, None, ScanMode::Full);
    assert_eq!(quick.records, again.records, "quick and full agree");
    assert_eq!(quick.stats.files_trusted_quick, 1, "only 'same' trusted");
    for (f, want) in files.iter().zip([
        "user.tag",
        "security.ima",
        "system.posix_acl_access",
        "security.capability",
    ]) {
        assert!(names(rec(&full, f).xattrs()).is_empty());
        assert_eq!(names(rec(&quick, f).xattrs()), [want], "{}", f.display());
    }
    let before = rec(&full, &files[4]).fflags.unwrap();
    let after = rec(&quick, &files[4]).fflags.unwrap();
    assert_eq!((before & IMMUTABLE, after & IMMUTABLE), (0, IMMUTABLE));
    assert_eq!(rec(&quick, &files[5]), rec(&full, &files[5]));
}

fn xattr(name: &str, value: &[u8]) -> Xattr {
    Xattr {
        name: name.as_bytes().into(),
        value: value.into(),
    }
}

#[test]
fn set_xattrs_makes_the_attributes_exactly_those_given() {
    let t = tree();
    let f = t.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    sh("setfattr", &["-n", "user.a", "-v", "1"], &f);
    sh("setfattr", &["-n", "user.b", "-v", "2"], &f);
    let want = vec![xattr("user.b", b"3"), xattr("user.c", b"4")];
    LinuxFsExtras.set_xattrs(&f, &want).unwrap();
    assert_eq!(LinuxFsExtras.xattrs(&f).unwrap(), want);
    LinuxFsExtras.set_xattrs(&f, &[]).unwrap();
    assert_eq!(LinuxFsExtras.xattrs(&f).unwrap(), vec![]);
    // A name given twice changes nothing.
    let twice = [xattr("user.d", b"1"), xattr("user.d", b"2")];
    let err = LinuxFsExtras.set_xattrs(&f, &twice).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(LinuxFsExtras.xattrs(&f).unwrap(), vec![]);
}

/// The known-good store's restore with the real system calls: content,
/// owner, setuid mode, a user xattr, an ACL and a file capability.
#[test]
fn restore_from_the_known_good_store_puts_xattrs_acl_and_capability_back() {
    use dha_core::integrity::KnownGoodStore;
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, lchown};

    let t = tree();
    let d = t.path().join("tree");
    std::fs::create_dir(&d).unwrap();
    let f = d.join("ping");
    std::fs::write(&f, b"pretend ping binary").unwrap();
    lchown(&f, Some(1000), Some(1000)).unwrap();
    sh("setfattr", &["-n", "user.origin", "-v", "factory"], &f);
    sh("setfacl", &["-m", "g:1234:rx"], &f);
    sh("setcap", &["cap_net_raw+ep"], &f);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let p = CompiledPolicy::for_paths(std::slice::from_ref(&d), AttrSet::default_set()).unwrap();
    let full = run(&p, None, ScanMode::Full);
    let want = rec(&full, &f).clone();
    assert_eq!(
        names(want.xattrs()),
        [
            "security.capability",
            "system.posix_acl_access",
            "user.origin"
        ]
    );
    let base = Baseline::from_records(FileTime::default(), [0; 32], full.records).unwrap();
    let store = KnownGoodStore::open(&t.path().join("store")).unwrap();
    let stats = store.put_all(&base.records).unwrap();
    assert_eq!((stats.files, stats.stored), (1, 1), "{stats:?}");

    // Tamper with everything.
    std::fs::write(&f, b"trojaned ping binary").unwrap();
    lchown(&f, Some(0), Some(0)).unwrap();
    sh("setfattr", &["-x", "user.origin"], &f);
    sh("setfattr", &["-n", "user.evil", "-v", "1"], &f);
    sh("setfacl", &["-b"], &f);
    // The write and the chown cleared the capability already (the kernel
    // drops security.capability on both): why restore sets xattrs after
    // the chown.
    assert!(!names(&LinuxFsExtras.xattrs(&f).unwrap()).contains(&"security.capability".into()));
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = store
        .restore(&base, f.as_os_str().as_bytes(), &LinuxFsExtras)
        .unwrap();
    assert!(out.xattrs_restored && out.owner_restored && out.mode_restored);
    assert_eq!(std::fs::read(&f).unwrap(), b"pretend ping binary");
    let m = std::fs::symlink_metadata(&f).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1000, 1000, 0o4755));
    let again = run(&p, None, ScanMode::Full);
    let got = rec(&again, &f);
    assert_eq!(got.xattrs(), want.xattrs());
    assert_eq!(
        (got.sha256, got.mode, got.uid, got.gid, got.size, got.mtime),
        (
            want.sha256,
            want.mode,
            want.uid,
            want.gid,
            want.size,
            want.mtime
        )
    );
}
