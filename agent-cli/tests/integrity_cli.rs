//! `dha integrity` end to end (issue 4, "Command line" and "Done when"): the
//! built program on real trees under /tmp (ext4 here: extended attributes,
//! ACLs, file capabilities and chattr flags work), as root.
//!
//! Every kind of change is made to a freshly initialised tree, then checked
//! in full and in quick mode: exit 1, and the JSON report names the full
//! path, the kind and the attribute with its old and new values.
//!
//! Needs the `attr` (setfattr), `acl` (setfacl), `e2fsprogs` (chattr) and
//! `libcap2-bin` (setcap) packages. Every child process runs under a
//! deadline ([`DEADLINE`]), so a scan that hangs (on a FIFO, say) fails the
//! test instead of blocking it; no test asserts on elapsed time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const DHA: &str = env!("CARGO_BIN_EXE_dha");

/// Longest a child may run before the test fails (a hang, not a slow run).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `program` with `args` under [`DEADLINE`].
fn run<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Output {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{program} did not finish within {DEADLINE:?} (hung?)");
        }
    }
}

fn dha<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run(DHA, args)
}

/// Runs a tool that must succeed (`chmod`, `setfattr`, …).
fn sh(program: &str, args: &[&str]) {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
}

/// Exit `want` with one line on standard error that holds every needle.
#[track_caller]
fn assert_refused(o: &Output, want: i32, needles: &[&str]) {
    assert_exit(o, want);
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("dha: integrity: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n} missing from {err}");
    }
}

/// A work directory under /tmp holding a tree, a key pair and a baseline.
struct Rig {
    dir: TempDir,
}

impl Rig {
    /// A small tree: files, a subdirectory, a symlink.
    fn new() -> Rig {
        let dir = tempfile::Builder::new()
            .prefix("dha-integrity-")
            .tempdir_in("/tmp")
            .unwrap();
        let rig = Rig { dir };
        let t = rig.tree();
        fs::create_dir_all(t.join("sub")).unwrap();
        fs::write(t.join("f.txt"), b"hello world\n").unwrap();
        fs::write(t.join("sub/g.conf"), b"setting = 1\n").unwrap();
        fs::set_permissions(t.join("f.txt"), fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink("f.txt", t.join("link")).unwrap();
        assert_exit(&dha(&["integrity", "keygen", rig.s("key")]), 0);
        rig
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A path of the work directory as text.
    fn s(&self, rel: &str) -> &'static str {
        // Leaked: a handful of short strings per test.
        Box::leak(self.p(rel).display().to_string().into_boxed_str())
    }

    fn tree(&self) -> PathBuf {
        self.p("tree")
    }

    /// The full path of `rel` in the tree, as the report shows it.
    fn full(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.tree().display().to_string()
        } else {
            self.tree().join(rel).display().to_string()
        }
    }

    fn init(&self) {
        let o = dha(&[
            "integrity",
            "init",
            "--baseline",
            self.s("baseline"),
            "--key",
            self.s("key"),
            self.s("tree"),
        ]);
        assert_exit(&o, 0);
        assert!(
            text(&o.stdout).contains(" records ("),
            "{}",
            text(&o.stdout)
        );
    }

    /// `check --format json` in test-rig mode (no PATHs, no config), with
    /// the public key.
    fn check(&self, quick: bool) -> Output {
        let mut args = vec![
            "integrity",
            "check",
            "--baseline",
            self.s("baseline"),
            "--key",
            self.s("key.pub"),
            "--format",
            "json",
        ];
        if quick {
            args.push("--quick");
        }
        dha(&args)
    }

    /// The changes of a check that must exit `want`.
    #[track_caller]
    fn changes(&self, quick: bool, want: i32) -> Vec<Value> {
        let o = self.check(quick);
        assert_exit(&o, want);
        let report: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
        assert_eq!(report["schema_version"], 1);
        assert_eq!(report["mode"], if quick { "quick" } else { "full" });
        report["changes"].as_array().unwrap().clone()
    }
}

/// What a change must hold: the path (relative to the tree), the kind, and
/// optionally an attribute with its old and new values (`None`: any).
struct Want<'a> {
    rel: &'a str,
    kind: &'a str,
    attr: Option<(&'a str, Option<&'a str>, Option<&'a str>)>,
}

fn want<'a>(rel: &'a str, kind: &'a str) -> Want<'a> {
    Want {
        rel,
        kind,
        attr: None,
    }
}

fn want_attr<'a>(
    rel: &'a str,
    attr: &'a str,
    old: Option<&'a str>,
    new: Option<&'a str>,
) -> Want<'a> {
    Want {
        rel,
        kind: "modified",
        attr: Some((attr, old, new)),
    }
}

/// Makes a rig, runs `change` after init, and checks that a full and a
/// quick check both exit 1 and report every `wants`.
fn detects(change: impl FnOnce(&Rig), wants: &[Want<'_>]) {
    let rig = Rig::new();
    rig.init();
    change(&rig);
    for quick in [false, true] {
        let changes = rig.changes(quick, 1);
        for w in wants {
            let path = rig.full(w.rel);
            let c = changes
                .iter()
                .find(|c| c["path"] == path.as_str())
                .unwrap_or_else(|| panic!("quick={quick}: no change at {path}: {changes:#?}"));
            assert_eq!(c["kind"], w.kind, "quick={quick}: {c:#}");
            if let Some((attr, old, new)) = w.attr {
                let a = c["attrs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["attr"] == attr)
                    .unwrap_or_else(|| panic!("quick={quick}: no {attr} in {c:#}"));
                if let Some(old) = old {
                    assert_eq!(a["old"], old, "quick={quick}: {c:#}");
                }
                if let Some(new) = new {
                    assert_eq!(a["new"], new, "quick={quick}: {c:#}");
                }
            }
        }
    }
}

#[test]
fn unchanged_tree_exits_0_in_both_modes() {
    let rig = Rig::new();
    rig.init();
    for quick in [false, true] {
        assert!(rig.changes(quick, 0).is_empty());
    }
    // The table is the default format.
    let o = dha(&[
        "integrity",
        "check",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key.pub"),
    ]);
    assert_exit(&o, 0);
    assert!(
        text(&o.stdout).contains("No changes."),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn same_size_content_change_with_mtime_restored() {
    detects(
        |r| {
            let f = r.tree().join("f.txt");
            sh("touch", &["-r", r.s("tree/f.txt"), r.s("ref")]);
            fs::write(&f, b"HELLO WORLD\n").unwrap();
            sh("touch", &["-r", r.s("ref"), r.s("tree/f.txt")]);
        },
        &[want_attr("f.txt", "sha256", None, None)],
    );
}

#[test]
fn chmod() {
    detects(
        |r| sh("chmod", &["0600", r.s("tree/f.txt")]),
        &[want_attr("f.txt", "perm", Some("0644"), Some("0600"))],
    );
}

#[test]
fn chown() {
    detects(
        |r| sh("chown", &["1234:2345", r.s("tree/f.txt")]),
        &[
            want_attr("f.txt", "uid", Some("0"), Some("1234")),
            want_attr("f.txt", "gid", Some("0"), Some("2345")),
        ],
    );
}

#[test]
fn symlink_retarget() {
    detects(
        |r| {
            fs::remove_file(r.tree().join("link")).unwrap();
            std::os::unix::fs::symlink("sub/g.conf", r.tree().join("link")).unwrap();
        },
        &[want_attr("link", "link", Some("f.txt"), Some("sub/g.conf"))],
    );
}

#[test]
fn new_file() {
    detects(
        |r| fs::write(r.tree().join("sub/new"), b"x").unwrap(),
        &[want("sub/new", "added")],
    );
}

#[test]
fn deleted_file() {
    detects(
        |r| fs::remove_file(r.tree().join("sub/g.conf")).unwrap(),
        &[want("sub/g.conf", "removed")],
    );
}

#[test]
fn file_replaced_by_a_directory() {
    detects(
        |r| {
            fs::remove_file(r.tree().join("f.txt")).unwrap();
            fs::create_dir(r.tree().join("f.txt")).unwrap();
        },
        &[want("f.txt", "type_changed")],
    );
}

#[test]
fn hard_link_added() {
    detects(
        |r| fs::hard_link(r.tree().join("f.txt"), r.tree().join("sub/hl")).unwrap(),
        &[
            want_attr("f.txt", "nlink", Some("1"), Some("2")),
            want("sub/hl", "added"),
        ],
    );
}

#[test]
fn user_xattr() {
    detects(
        |r| {
            sh(
                "setfattr",
                &["-n", "user.origin", "-v", "evil", r.s("tree/f.txt")],
            )
        },
        &[want_attr("f.txt", "xattrs", Some("(absent)"), Some("evil"))],
    );
}

#[test]
fn security_xattr() {
    detects(
        |r| {
            sh(
                "setfattr",
                &["-n", "security.dha_test", "-v", "1", r.s("tree/f.txt")],
            )
        },
        &[want_attr("f.txt", "xattrs", Some("(absent)"), Some("1"))],
    );
}

#[test]
fn acl() {
    detects(
        |r| sh("setfacl", &["-m", "u:1234:r", r.s("tree/f.txt")]),
        &[want_attr("f.txt", "acl", Some("(absent)"), None)],
    );
}

#[test]
fn file_capability() {
    detects(
        |r| sh("setcap", &["cap_net_raw+ep", r.s("tree/f.txt")]),
        &[want_attr(
            "f.txt",
            "caps",
            Some("(absent)"),
            Some("cap_net_raw=ep"),
        )],
    );
}

/// Removes the immutable flag when dropped, even when the test fails, so
/// the temporary directory can be removed.
struct Immutable(PathBuf);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[test]
fn chattr_immutable() {
    let rig = Rig::new();
    rig.init();
    let f = rig.tree().join("f.txt");
    let _guard = Immutable(f.clone());
    sh("chattr", &["+i", rig.s("tree/f.txt")]);
    for quick in [false, true] {
        let changes = rig.changes(quick, 1);
        let c = changes
            .iter()
            .find(|c| c["path"] == rig.full("f.txt").as_str())
            .unwrap_or_else(|| panic!("{changes:#?}"));
        let a = c["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["attr"] == "fflags")
            .unwrap_or_else(|| panic!("{c:#}"));
        assert!(a["new"].as_str().unwrap().contains('i'), "{a}");
    }
}

#[test]
fn touch_only() {
    detects(
        |r| sh("touch", &["-d", "2001-02-03 04:05:06", r.s("tree/f.txt")]),
        &[want_attr("f.txt", "mtime", None, None)],
    );
}

#[test]
fn rename() {
    detects(
        |r| fs::rename(r.tree().join("f.txt"), r.tree().join("sub/moved.txt")).unwrap(),
        &[want("f.txt", "removed"), want("sub/moved.txt", "added")],
    );
}

#[test]
fn replaced_by_an_identical_copy() {
    detects(
        |r| {
            // `cp -p` keeps mode, owner and times; only the inode (and
            // ctime) tell the copy from the original.
            sh("cp", &["-p", r.s("tree/f.txt"), r.s("copy")]);
            fs::rename(r.p("copy"), r.tree().join("f.txt")).unwrap();
        },
        &[want_attr("f.txt", "inode", None, None)],
    );
}

#[test]
fn one_byte_in_the_middle_of_a_20_mib_file() {
    let rig = Rig::new();
    let big = rig.tree().join("big.bin");
    let mut data = vec![0u8; 20 << 20];
    for (i, b) in data.iter_mut().enumerate() {
        *b = u8::try_from(i % 251).unwrap();
    }
    fs::write(&big, &data).unwrap();
    rig.init();
    sh("touch", &["-r", rig.s("tree/big.bin"), rig.s("ref")]);
    let mut f = fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.seek(SeekFrom::Start(10 << 20)).unwrap();
    f.write_all(&[data[10 << 20] ^ 0xff]).unwrap();
    drop(f);
    sh("touch", &["-r", rig.s("ref"), rig.s("tree/big.bin")]);
    for quick in [false, true] {
        let changes = rig.changes(quick, 1);
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert_eq!(changes[0]["path"], rig.full("big.bin").as_str());
        let attrs: Vec<&str> = changes[0]["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["attr"].as_str().unwrap())
            .collect();
        assert!(attrs.contains(&"sha256"), "{attrs:?}");
        assert!(
            !attrs.contains(&"size") && !attrs.contains(&"mtime"),
            "{attrs:?}"
        );
    }
}

#[test]
fn fifo_socket_and_device_node_neither_hang_nor_fail_the_scan() {
    let rig = Rig::new();
    let t = rig.tree();
    sh("mkfifo", &[rig.s("tree/fifo")]);
    let _socket = std::os::unix::net::UnixListener::bind(t.join("socket")).unwrap();
    sh("mknod", &[rig.s("tree/null"), "c", "1", "3"]);
    rig.init();
    for quick in [false, true] {
        assert!(rig.changes(quick, 0).is_empty());
    }
    // A new FIFO is reported, not opened.
    sh("mkfifo", &[rig.s("tree/sub/fifo2")]);
    for quick in [false, true] {
        let changes = rig.changes(quick, 1);
        assert!(
            changes
                .iter()
                .any(|c| c["path"] == rig.full("sub/fifo2").as_str() && c["kind"] == "added"),
            "{changes:#?}"
        );
    }
}

fn flip_byte_at(path: &Path, at: u64) {
    let mut bytes = fs::read(path).unwrap();
    let i = usize::try_from(at).unwrap();
    bytes[i] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_tampered_baseline_is_refused() {
    let rig = Rig::new();
    rig.init();
    let len = fs::metadata(rig.p("baseline")).unwrap().len();
    flip_byte_at(&rig.p("baseline"), len / 2);
    for quick in [false, true] {
        let o = rig.check(quick);
        assert_refused(&o, 1, &[rig.s("baseline")]);
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn a_truncated_baseline_is_refused() {
    let rig = Rig::new();
    rig.init();
    let len = fs::metadata(rig.p("baseline")).unwrap().len();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(rig.p("baseline"))
        .unwrap();
    f.set_len(len - 10).unwrap();
    assert_refused(&rig.check(false), 1, &[rig.s("baseline")]);
    f.set_len(20).unwrap();
    assert_refused(&rig.check(true), 1, &[rig.s("baseline")]);
}

#[test]
fn a_baseline_resealed_with_another_key_is_refused() {
    let rig = Rig::new();
    assert_exit(&dha(&["integrity", "keygen", rig.s("other")]), 0);
    let o = dha(&[
        "integrity",
        "init",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("other"),
        rig.s("tree"),
    ]);
    assert_exit(&o, 0);
    assert_refused(&rig.check(false), 1, &[rig.s("baseline")]);
    let o = dha(&[
        "integrity",
        "verify-baseline",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key.pub"),
    ]);
    assert_refused(&o, 1, &[rig.s("baseline")]);
    // With its own key it verifies, and names the records.
    let o = dha(&[
        "integrity",
        "verify-baseline",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("other.pub"),
        "--format",
        "json",
    ]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The tree, f.txt, link, sub, sub/g.conf.
    assert_eq!(v["records"], 5, "{v:#}");
    assert_eq!(v["key_kind"], "ed25519");
}

#[test]
fn keygen_refuses_to_overwrite_and_writes_private_keys_0600() {
    let rig = Rig::new();
    let before = fs::read(rig.p("key")).unwrap();
    assert_refused(
        &dha(&["integrity", "keygen", rig.s("key")]),
        2,
        &[rig.s("key"), "already exists"],
    );
    assert_eq!(fs::read(rig.p("key")).unwrap(), before);
    let mode = |p: &str| fs::metadata(rig.p(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("key"), 0o600);
    assert_eq!(mode("key.pub"), 0o644);
    // An HMAC key has no public half.
    assert_exit(
        &dha(&["integrity", "keygen", "--type", "hmac", rig.s("hmac")]),
        0,
    );
    assert_eq!(mode("hmac"), 0o600);
    assert!(!rig.p("hmac.pub").exists());
    // A leftover .pub alone also stops an Ed25519 keygen, before any write.
    fs::write(rig.p("lone.pub"), b"x").unwrap();
    assert_refused(
        &dha(&["integrity", "keygen", rig.s("lone")]),
        2,
        &["lone.pub"],
    );
    assert!(!rig.p("lone").exists());
}

#[test]
fn hmac_sealed_baseline_round_trip() {
    let rig = Rig::new();
    assert_exit(
        &dha(&["integrity", "keygen", "--type", "hmac", rig.s("hmac")]),
        0,
    );
    let common = ["--baseline", rig.s("baseline"), "--key", rig.s("hmac")];
    let mut init = vec!["integrity", "init"];
    init.extend(common);
    init.push(rig.s("tree"));
    assert_exit(&dha(&init), 0);
    let mut check = vec!["integrity", "check", "--format", "json"];
    check.extend(common);
    assert_exit(&dha(&check), 0);
    fs::write(rig.tree().join("f.txt"), b"changed").unwrap();
    assert_exit(&dha(&check), 1);
}

#[test]
fn update_then_check_accepts_only_the_selected_paths() {
    let rig = Rig::new();
    rig.init();
    fs::write(rig.tree().join("f.txt"), b"new content\n").unwrap();
    fs::write(rig.tree().join("sub/g.conf"), b"setting = 2\n").unwrap();
    let update = |extra: &[&str]| {
        let mut args = vec![
            "integrity",
            "update",
            "--baseline",
            rig.s("baseline"),
            "--key",
            rig.s("key"),
            "--accepted-by",
            "service engineer 7",
            "--format",
            "json",
        ];
        args.extend(extra);
        dha(&args)
    };
    // A path with no change is refused and nothing is accepted.
    let o = update(&["--path", rig.s("tree/link")]);
    assert_refused(&o, 2, &["no change", "link"]);
    assert_eq!(rig.changes(false, 1).len(), 2, "the two files");

    let o = update(&["--path", rig.s("tree/f.txt")]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["accepted_by"], "service engineer 7");
    assert_eq!(v["accepted"][0]["path"], rig.full("f.txt").as_str());
    assert_eq!(v["left"], 1);
    for quick in [false, true] {
        let paths: Vec<String> = rig
            .changes(quick, 1)
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_owned())
            .collect();
        assert!(!paths.contains(&rig.full("f.txt")), "{paths:?}");
        assert!(paths.contains(&rig.full("sub/g.conf")), "{paths:?}");
    }
    // Everything else; afterwards nothing is left.
    assert_exit(&update(&[]), 0);
    for quick in [false, true] {
        assert!(rig.changes(quick, 0).is_empty());
    }
}

#[test]
fn check_with_the_init_paths_and_with_a_configuration() {
    let rig = Rig::new();
    rig.init();
    // The PATHs may be given again.
    let o = dha(&[
        "integrity",
        "check",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key.pub"),
        rig.s("tree"),
    ]);
    assert_exit(&o, 0);
    // A dha.toml whose [integrity] section watches the tree.
    let config = rig.p("dha.toml");
    fs::write(
        &config,
        format!(
            "[integrity]\nbaseline = \"{}\"\nkey = \"{}\"\nstore = \"{}\"\n\
             exclude = []\n\n\
             [[integrity.rules]]\npath = \"{}\"\n",
            rig.s("cfg.baseline"),
            rig.s("key"),
            rig.s("store"),
            rig.s("tree")
        ),
    )
    .unwrap();
    let cfg = config.display().to_string();
    let o = dha(&["integrity", "init", "--config", &cfg]);
    assert_exit(&o, 0);
    assert!(text(&o.stdout).contains("store"), "{}", text(&o.stdout));
    assert_exit(&dha(&["integrity", "check", "--config", &cfg]), 0);
    sh("chmod", &["0600", rig.s("tree/sub/g.conf")]);
    let o = dha(&["integrity", "check", "--config", &cfg]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stdout).contains(&rig.full("sub/g.conf")),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn restore_puts_content_and_mode_back_from_the_store() {
    let rig = Rig::new();
    let o = dha(&[
        "integrity",
        "init",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key"),
        "--store",
        rig.s("store"),
        rig.s("tree"),
    ]);
    assert_exit(&o, 0);
    let f = rig.tree().join("f.txt");
    fs::write(&f, b"tampered").unwrap();
    sh("chmod", &["0666", rig.s("tree/f.txt")]);
    fs::remove_file(rig.tree().join("sub/g.conf")).unwrap();
    let o = dha(&[
        "integrity",
        "restore",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key.pub"),
        "--store",
        rig.s("store"),
        rig.s("tree/f.txt"),
        rig.s("tree/sub/g.conf"),
    ]);
    assert_exit(&o, 0);
    assert!(text(&o.stdout).contains("restored"), "{}", text(&o.stdout));
    assert_eq!(fs::read(&f).unwrap(), b"hello world\n");
    assert_eq!(
        fs::metadata(&f).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert_eq!(
        fs::read(rig.tree().join("sub/g.conf")).unwrap(),
        b"setting = 1\n"
    );
    // Content and mode are as recorded: only the new inodes and times differ.
    for c in rig.changes(false, 1) {
        for a in c["attrs"].as_array().unwrap() {
            let attr = a["attr"].as_str().unwrap();
            assert!(
                ["inode", "ctime", "mtime"].contains(&attr),
                "unexpected {attr} in {c:#}"
            );
        }
    }
    // A directory is not something to restore.
    let o = dha(&[
        "integrity",
        "restore",
        "--baseline",
        rig.s("baseline"),
        "--key",
        rig.s("key.pub"),
        "--store",
        rig.s("store"),
        rig.s("tree/sub"),
    ]);
    assert_refused(&o, 2, &["restore refused"]);
}

#[test]
fn watch_reports_a_change_made_while_it_runs_and_stops_on_sigterm() {
    let rig = Rig::new();
    rig.init();
    let mut child = Command::new(DHA)
        .args([
            "integrity",
            "watch",
            "--baseline",
            rig.s("baseline"),
            "--key",
            rig.s("key.pub"),
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("no {what} from watch within {DEADLINE:?}")
        })
    };
    assert_eq!(next("ready")["event"], "ready");
    sh("chmod", &["0600", rig.s("tree/f.txt")]);
    let started = Instant::now();
    let change = loop {
        let e = next("change");
        if e["event"] == "change" && e["path"] == rig.full("f.txt").as_str() {
            break e;
        }
        assert!(started.elapsed() < DEADLINE, "no change of f.txt: {e}");
    };
    assert_eq!(change["kind"], "modified");
    assert!(
        change["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["attr"] == "perm" && a["new"] == "0600"),
        "{change:#}"
    );
    sh("kill", &["-TERM", &pid]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx
        .recv_timeout(DEADLINE)
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(1), "changes were seen: exit 1");
}
