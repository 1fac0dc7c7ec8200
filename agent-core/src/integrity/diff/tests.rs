use super::*;
use crate::integrity::policy::{CompiledRule, compile_globs};
use crate::integrity::record::{FileTime, RecordExtra, Xattr};
use globset::GlobSet;

const T0: FileTime = FileTime {
    secs: 1_700_000_000,
    nanos: 5,
};

/// A regular file under the default attribute set.
fn file(path: &str) -> FileRecord {
    FileRecord {
        path: path.as_bytes().into(),
        attrs: AttrSet::default_set(),
        entry_type: EntryType::Regular,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 100,
        mtime: T0,
        ctime: T0,
        inode: 1000,
        dev: 2049,
        nlink: 1,
        fflags: Some(0x80000),
        sha256: Some([0x11; 32]),
        extra: None,
    }
}

fn touched(mut r: FileRecord) -> FileRecord {
    r.ctime.secs += 60;
    r
}

fn with_xattr(mut r: FileRecord, name: &str, value: &[u8]) -> FileRecord {
    let extra = r.extra.get_or_insert_with(Box::default);
    extra.xattrs.push(Xattr {
        name: name.as_bytes().into(),
        value: value.into(),
    });
    extra.xattrs.sort();
    r
}

fn policy() -> CompiledPolicy {
    CompiledPolicy::for_paths(&[PathBuf::from("/w")], AttrSet::default_set()).unwrap()
}

fn rule(path: &str, attrs: AttrSet, growing: bool, severity: Severity) -> CompiledRule {
    CompiledRule {
        path: PathBuf::from(path),
        recursive: true,
        attrs,
        growing,
        severity,
        exclude: GlobSet::empty(),
    }
}

/// The one change between a baseline of `old` and a scan of `new`.
fn only(old: FileRecord, new: FileRecord) -> Change {
    let mut v = diff_records(&policy(), &[old], &[new]);
    assert_eq!(v.len(), 1, "{v:#?}");
    v.remove(0)
}

/// `(attr, old, new)` of each attribute change.
fn lines(c: &Change) -> Vec<(&'static str, &str, &str)> {
    c.attrs
        .iter()
        .map(|a| (a.attr.name(), a.old.as_str(), a.new.as_str()))
        .collect()
}

#[test]
fn nothing_changed_means_no_change() {
    let a = vec![file("/w/a"), file("/w/b")];
    assert!(diff_records(&policy(), &a, &a.clone()).is_empty());
    assert!(diff_records(&policy(), &[], &[]).is_empty());
}

#[test]
fn a_same_size_content_change_is_the_hash_even_with_mtime_restored() {
    // `touch -r` puts mtime back; ctime cannot be set from user space.
    let mut new = touched(file("/w/a"));
    new.sha256 = Some([0x22; 32]);
    let c = only(file("/w/a"), new);
    assert_eq!(c.kind, ChangeKind::Modified);
    assert_eq!(c.kind_name(), "modified");
    assert_eq!(c.severity, Severity::High);
    assert_eq!(
        lines(&c),
        vec![
            ("sha256", &*"11".repeat(32), &*"22".repeat(32)),
            (
                "ctime",
                "2023-11-14T22:13:20.000000005Z",
                "2023-11-14T22:14:20.000000005Z"
            ),
        ]
    );
}

#[test]
fn chmod_and_chown_show_octal_and_numbers() {
    let mut new = touched(file("/w/a"));
    new.mode = 0o4755;
    new.uid = 1000;
    new.gid = 27;
    let c = only(file("/w/a"), new);
    let l = lines(&c);
    assert_eq!(
        &l[..3],
        &[
            ("perm", "0644", "4755"),
            ("uid", "0", "1000"),
            ("gid", "0", "27")
        ]
    );
}

#[test]
fn a_retargeted_symlink_shows_both_targets() {
    let link = |target: &[u8]| {
        let mut r = file("/w/l");
        r.entry_type = EntryType::Symlink;
        r.sha256 = None;
        r.extra = Some(Box::new(RecordExtra {
            link_target: Some(target.into()),
            ..RecordExtra::default()
        }));
        r
    };
    let c = only(link(b"/usr/bin/true"), link(b"/tmp/evil\xff"));
    assert_eq!(lines(&c), vec![("link", "/usr/bin/true", "/tmp/evil\\xff")]);
}

#[test]
fn new_deleted_and_renamed_files() {
    let base = vec![file("/w/a"), file("/w/old")];
    let now = vec![file("/w/a"), file("/w/new"), file("/w/z")];
    let v = diff_records(&policy(), &base, &now);
    let got: Vec<(String, &str)> = v.iter().map(|c| (c.path_text(), c.kind_name())).collect();
    assert_eq!(
        got,
        vec![
            ("/w/new".to_owned(), "added"),
            ("/w/old".to_owned(), "removed"),
            ("/w/z".to_owned(), "added"),
        ]
    );
    assert!(
        v.iter()
            .all(|c| c.attrs.is_empty() && c.severity == Severity::High)
    );
}

#[test]
fn a_file_replaced_by_a_directory_is_a_type_change() {
    let mut dir = touched(file("/w/a"));
    dir.entry_type = EntryType::Directory;
    dir.mode = 0o755;
    dir.size = 4096;
    dir.sha256 = None;
    dir.attrs = AttrSet::default_set().without(Attr::Sha256);
    let c = only(file("/w/a"), dir);
    assert_eq!(
        c.kind,
        ChangeKind::TypeChanged {
            old: EntryType::Regular,
            new: EntryType::Directory
        }
    );
    assert_eq!(c.kind_name(), "type_changed");
    let names: Vec<_> = c.attrs.iter().map(|a| a.attr.name()).collect();
    assert_eq!(names, ["type", "perm", "size", "ctime"]);
    assert_eq!(lines(&c)[0], ("type", "file", "directory"));
}

#[test]
fn a_hard_link_added_raises_nlink() {
    let mut new = touched(file("/w/a"));
    new.nlink = 2;
    let c = only(file("/w/a"), new);
    assert!(lines(&c).contains(&("nlink", "1", "2")));
}

#[test]
fn user_and_security_xattrs_per_name() {
    let old = with_xattr(file("/w/a"), "user.keep", b"same");
    let old = with_xattr(old, "security.ima", b"\x03\x02\x00");
    let new = with_xattr(file("/w/a"), "user.keep", b"same");
    let new = with_xattr(new, "user.added", b"hello");
    let new = with_xattr(new, "security.selinux", b"system_u:object_r:bin_t:s0\0");
    let c = only(old, new);
    let got: Vec<_> = c
        .attrs
        .iter()
        .map(|a| {
            (
                a.attr.name(),
                a.name.as_deref().unwrap(),
                a.old.as_str(),
                a.new.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("xattrs", "security.ima", "0x030200", "(absent)"),
            ("xattrs", "user.added", "(absent)", "hello"),
            (
                "selinux",
                "security.selinux",
                "(absent)",
                "system_u:object_r:bin_t:s0"
            ),
        ]
    );
}

#[test]
fn an_acl_change_is_decoded() {
    let acl = |extra: &[(u16, u16, u32)]| {
        // The kernel's order: owner, named users, group, named groups,
        // mask, other.
        let mut e = vec![(0x01, 6, u32::MAX)];
        e.extend_from_slice(extra);
        e.extend_from_slice(&[
            (0x04, 4, u32::MAX),
            (0x10, 4, u32::MAX),
            (0x20, 4, u32::MAX),
        ]);
        render::tests::acl_bytes(&e)
    };
    let old = with_xattr(file("/w/a"), "system.posix_acl_access", &acl(&[]));
    let new = with_xattr(
        file("/w/a"),
        "system.posix_acl_access",
        &acl(&[(0x02, 4, 1000)]),
    );
    let c = only(old, new);
    assert_eq!(c.attrs.len(), 1);
    let a = &c.attrs[0];
    assert_eq!(
        (a.attr, a.name.as_deref()),
        (Attr::Acl, Some("system.posix_acl_access"))
    );
    assert_eq!(a.old, "user::rw-,group::r--,mask::r--,other::r--");
    assert_eq!(
        a.new,
        "user::rw-,user:1000:r--,group::r--,mask::r--,other::r--"
    );
}

#[test]
fn a_file_capability_added_is_decoded() {
    let caps = render::tests::cap_v2(true, 1 << 13, 0);
    let c = only(
        file("/w/ping"),
        with_xattr(touched(file("/w/ping")), "security.capability", &caps),
    );
    let a = c.attrs.iter().find(|a| a.attr == Attr::Caps).unwrap();
    assert_eq!(a.name.as_deref(), Some("security.capability"));
    assert_eq!(
        (a.old.as_str(), a.new.as_str()),
        ("(absent)", "cap_net_raw=ep")
    );
}

#[test]
fn chattr_plus_i_shows_lsattr_letters() {
    let mut new = touched(file("/w/a"));
    new.fflags = Some(0x80010);
    assert!(lines(&only(file("/w/a"), new)).contains(&("fflags", "e", "ie")));
}

#[test]
fn touch_only_changes_the_times() {
    let mut new = touched(file("/w/a"));
    new.mtime.nanos = 7;
    let names: Vec<_> = only(file("/w/a"), new)
        .attrs
        .iter()
        .map(|a| a.attr)
        .collect();
    assert_eq!(names, [Attr::Mtime, Attr::Ctime]);
}

#[test]
fn an_identical_copy_changes_inode_and_times_not_the_hash() {
    let mut new = touched(file("/w/a"));
    new.inode = 2000;
    new.mtime.secs += 60;
    let names: Vec<_> = only(file("/w/a"), new)
        .attrs
        .iter()
        .map(|a| a.attr)
        .collect();
    assert_eq!(names, [Attr::Mtime, Attr::Ctime, Attr::Inode]);
}

#[test]
fn a_growing_rule_accepts_appends_and_reports_cuts_and_rewrites() {
    let p = CompiledPolicy {
        rules: vec![
            rule("/w", AttrSet::default_set(), false, Severity::High),
            rule("/w/log", AttrSet::default_set(), true, Severity::Low),
        ],
        exclude: GlobSet::empty(),
    };
    let base = file("/w/log/syslog");
    let mut appended = touched(base.clone());
    appended.size = 150;
    appended.mtime.secs += 5;
    appended.sha256 = Some([0x33; 32]);
    assert!(
        diff_records(
            &p,
            std::slice::from_ref(&base),
            std::slice::from_ref(&appended)
        )
        .is_empty()
    );

    let mut cut = appended.clone();
    cut.size = 10;
    let v = diff_records(&p, std::slice::from_ref(&base), &[cut]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].severity, Severity::Low);
    assert_eq!(lines(&v[0]), vec![("size", "100", "10")]);

    let mut rewritten = appended;
    rewritten.size = 100;
    let v = diff_records(&p, &[base], &[rewritten]);
    assert_eq!(
        v[0].attrs.iter().map(|a| a.attr).collect::<Vec<_>>(),
        [Attr::Sha256]
    );
}

#[test]
fn an_attribute_the_rule_does_not_watch_is_never_reported() {
    let watch: AttrSet = [Attr::Sha256, Attr::Type].into_iter().collect();
    let p = CompiledPolicy {
        rules: vec![rule("/w", watch, false, Severity::Medium)],
        exclude: GlobSet::empty(),
    };
    let mut new = touched(file("/w/a"));
    new.mode = 0o777;
    new.uid = 5;
    new = with_xattr(new, "user.x", b"y");
    assert!(diff_records(&p, &[file("/w/a")], &[new.clone()]).is_empty());
    new.sha256 = Some([0; 32]);
    let v = diff_records(&p, &[file("/w/a")], &[new]);
    assert_eq!(
        v[0].attrs.iter().map(|a| a.attr).collect::<Vec<_>>(),
        [Attr::Sha256]
    );
    assert_eq!(v[0].severity, Severity::Medium);

    // Nor one the baseline did not record.
    let mut old = file("/w/b");
    old.attrs = old.attrs.without(Attr::Perm);
    let mut new = file("/w/b");
    new.mode = 0o600;
    assert!(diff_records(&policy(), &[old], &[new]).is_empty());
}

#[test]
fn an_attribute_the_scan_could_not_record_is_reported() {
    let mut new = file("/w/a");
    new.sha256 = None;
    new.attrs = new.attrs.without(Attr::Sha256);
    let c = only(file("/w/a"), new);
    assert_eq!(
        lines(&c),
        vec![("sha256", &*"11".repeat(32), "(not recorded)")]
    );
}

#[test]
fn paths_no_rule_governs_are_not_reported() {
    let p = CompiledPolicy {
        rules: vec![rule("/w", AttrSet::default_set(), false, Severity::High)],
        exclude: compile_globs(&["/w/tmp".to_owned()], "exclude").unwrap(),
    };
    let mut changed = touched(file("/w/tmp/x"));
    changed.mode = 0;
    let v = diff_records(
        &p,
        &[file("/w/tmp/x"), file("/w/tmp/y"), file("/other")],
        &[changed, file("/w/tmp/z")],
    );
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn unsorted_input_gives_the_same_answer() {
    let mut new_b = touched(file("/w/b"));
    new_b.uid = 1;
    let base = vec![file("/w/c"), file("/w/a"), file("/w/b")];
    let now = vec![new_b, file("/w/d"), file("/w/a")];
    let v = diff_records(&policy(), &base, &now);
    let got: Vec<_> = v.iter().map(|c| (c.path_text(), c.kind_name())).collect();
    assert_eq!(
        got,
        [
            ("/w/b".to_owned(), "modified"),
            ("/w/c".to_owned(), "removed"),
            ("/w/d".to_owned(), "added")
        ]
    );
}

#[test]
fn diff_paths_looks_only_under_the_given_paths() {
    let base = vec![
        file("/w/a"),
        file("/w/d"),
        file("/w/d-x"),
        file("/w/d/1"),
        file("/w/d/2"),
        file("/w/e"),
    ];
    // /w/d was removed with its contents; /w/e changed but was not
    // re-scanned; /w/d-x is a sibling, not a child.
    let mut e = touched(file("/w/e"));
    e.mode = 0;
    let now = vec![file("/w/a"), file("/w/d-x"), e, file("/w/new")];
    let v = diff_paths_records(
        &policy(),
        &base,
        &now,
        &[
            PathBuf::from("/w/d/"),
            PathBuf::from("/w/d/1"),
            PathBuf::from("/w/new"),
        ],
    );
    let got: Vec<_> = v.iter().map(|c| (c.path_text(), c.kind_name())).collect();
    assert_eq!(
        got,
        [
            ("/w/d".to_owned(), "removed"),
            ("/w/d/1".to_owned(), "removed"),
            ("/w/d/2".to_owned(), "removed"),
            ("/w/new".to_owned(), "added"),
        ]
    );
    assert_eq!(
        diff_paths_records(&policy(), &base, &now, &[PathBuf::from("/")]).len(),
        5
    );
    assert!(diff_paths_records(&policy(), &base, &now, &[]).is_empty());
}

#[test]
fn a_baseline_value_diffs_like_its_records() {
    let b = Baseline::from_records(T0, [0; 32], vec![file("/w/b"), file("/w/a")]).unwrap();
    let now = [file("/w/a")];
    let v = diff(&policy(), &b, &now);
    assert_eq!(v, diff_records(&policy(), &b.records, &now));
    assert_eq!(v.len(), 1);
    assert_eq!(diff_paths(&policy(), &b, &now, &[PathBuf::from("/w/b")]), v);
}

#[test]
fn a_change_serialises_with_its_kind_and_escaped_path() {
    let mut old = file("/w/a");
    old.path = b"/w/\xffbad".as_slice().into();
    let mut dir = old.clone();
    dir.entry_type = EntryType::Directory;
    let c = only(old, dir);
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["path"], "/w/\\xffbad");
    assert_eq!(j["kind"], "type_changed");
    assert_eq!(j["old_type"], "file");
    assert_eq!(j["new_type"], "directory");
    assert_eq!(j["severity"], "high");
    assert_eq!(j["attrs"][0]["attr"], "type");
    assert!(j["attrs"][0].get("name").is_none());
    let j = serde_json::to_value(Change {
        path: b"/x".as_slice().into(),
        kind: ChangeKind::Added,
        severity: Severity::Low,
        attrs: vec![],
    })
    .unwrap();
    assert_eq!(
        j,
        serde_json::json!({"path": "/x", "kind": "added", "severity": "low", "attrs": []})
    );
}
