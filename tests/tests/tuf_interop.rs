//! Reverse TUF interoperability (issue 3): repositories produced by the
//! `dha repo` library code ([`dha_core::tuf::repo`], which the `dha repo`
//! command runs) verify with the reference client, python-tuf 6.0.0's
//! ngclient, driven by `tests/data/tuf/dha_repo_with_python_tuf.py`.
//!
//! The test needs a python with tuf installed, named by `DHA_PYTHON_TUF`:
//!
//! ```sh
//! python3 -m venv /tmp/venv-tuf && /tmp/venv-tuf/bin/pip install 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0'
//! DHA_PYTHON_TUF=/tmp/venv-tuf/bin/python cargo test -p dha-tests --test tuf_interop -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use dha_core::tuf::repo::{DelegationKind, InitOptions, KeyType, Repository};
use dha_core::{Clock as _, SystemClock};
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Writes `content` to a scratch file and adds it as target `name`.
fn add(repo: &mut Repository, scratch: &Path, name: &str, content: &[u8], role: Option<&str>) {
    let src = scratch.join("source.bin");
    fs::write(&src, content).unwrap();
    repo.add_target(&src, name, role, None, now()).unwrap();
}

fn now() -> SystemTime {
    // python-tuf checks expiry against the wall clock, so the repositories
    // are signed at the real time.
    SystemClock.now()
}

fn init(base: &Path, name: &str, opts: &InitOptions) -> Repository {
    Repository::init(&base.join(name), opts, now()).unwrap()
}

/// The repositories, one per feature of `dha repo`.
fn build_repositories(base: &Path) -> Vec<PathBuf> {
    let scratch = base.join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    let s = scratch.as_path();
    let mut out = Vec::new();

    // Basic: one key per role, two releases.
    let mut r = init(base, "basic", &InitOptions::default());
    add(&mut r, s, "files/hello.txt", b"hello world\n", None);
    r.publish(now()).unwrap();
    add(&mut r, s, "files/hello.txt", b"hello again\n", None);
    add(&mut r, s, "empty", b"", None);
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // Threshold 2 for every role; the second targets signature by `sign`.
    let mut opts = InitOptions::default();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        opts.thresholds.insert(role.to_owned(), 2);
    }
    let mut r = init(base, "threshold-2", &opts);
    add(&mut r, s, "a.bin", b"two of two", None);
    r.sign("targets", "targets-2").unwrap();
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // Consistent snapshots: versioned metadata, hash-prefixed targets.
    let opts = InitOptions {
        consistent_snapshot: true,
        ..InitOptions::default()
    };
    let mut r = init(base, "consistent-snapshot", &opts);
    add(&mut r, s, "fw/ct.img", b"release 1", None);
    r.publish(now()).unwrap();
    add(&mut r, s, "fw/ct.img", b"release 2", None);
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // A path delegation to a role whose name needs percent-encoding, with
    // device custom fields, and a nested delegation below it.
    let mut r = init(base, "delegation", &InitOptions::default());
    r.keygen("vendor", KeyType::Ed25519).unwrap();
    r.keygen("vendor-ct", KeyType::Ecdsa).unwrap();
    let paths = |name: &str, p: &str, terminating| DelegationKind::Paths {
        name: name.to_owned(),
        paths: vec![p.to_owned()],
        terminating,
    };
    r.delegate(
        "targets",
        &paths("vendor/all", "vendor/*", false),
        &["vendor".to_owned()],
        1,
        now(),
    )
    .unwrap();
    r.delegate(
        "vendor/all",
        &paths("vendor ct", "vendor/ct-*", true),
        &["vendor-ct".to_owned()],
        1,
        now(),
    )
    .unwrap();
    let src = scratch.join("ct.img");
    fs::write(&src, b"ct firmware").unwrap();
    let custom = json!({"hardware_id": "ct-7", "release_counter": 42});
    r.add_target(
        &src,
        "vendor/ct-fw.img",
        Some("vendor ct"),
        Some(custom),
        now(),
    )
    .unwrap();
    add(
        &mut r,
        s,
        "vendor/readme.txt",
        b"vendor",
        Some("vendor/all"),
    );
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // Succinct hash bins (TAP 15).
    let mut r = init(base, "hash-bins", &InitOptions::default());
    r.keygen("bins", KeyType::Ed25519).unwrap();
    r.delegate(
        "targets",
        &DelegationKind::HashBins {
            name_prefix: "bin".to_owned(),
            bit_length: 3,
        },
        &["bins".to_owned()],
        1,
        now(),
    )
    .unwrap();
    for i in 0..8 {
        add(
            &mut r,
            s,
            &format!("pkg/{i}.deb"),
            format!("package {i}").as_bytes(),
            None,
        );
    }
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // Root rotation (§5.3.4): root, timestamp and targets keys replaced.
    let mut r = init(base, "root-rotation", &InitOptions::default());
    add(&mut r, s, "a.txt", b"before", None);
    r.publish(now()).unwrap();
    r.keygen("root-new", KeyType::Ed25519).unwrap();
    r.keygen("timestamp-new", KeyType::Ecdsa).unwrap();
    r.keygen("targets-new", KeyType::Ed25519).unwrap();
    r.rotate_key("root", Some("root-1"), "root-new", None, now())
        .unwrap();
    r.rotate_key(
        "timestamp",
        Some("timestamp-1"),
        "timestamp-new",
        None,
        now(),
    )
    .unwrap();
    r.rotate_key("targets", Some("targets-1"), "targets-new", None, now())
        .unwrap();
    add(&mut r, s, "a.txt", b"after", None);
    r.publish(now()).unwrap();
    // A second rotation: the client walks 1 -> 2 -> 3.
    r.keygen("root-newer", KeyType::Ed25519).unwrap();
    r.rotate_key("root", None, "root-newer", Some(2), now())
        .unwrap();
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());

    // Key types: ECDSA P-256 top-level roles, an RSA-PSS delegated role.
    let opts = InitOptions {
        key_type: KeyType::Ecdsa,
        consistent_snapshot: true,
        ..InitOptions::default()
    };
    let mut r = init(base, "key-types", &opts);
    r.keygen("rsa", KeyType::Rsa).unwrap();
    r.delegate(
        "targets",
        &paths("rsa-role", "rsa/*", false),
        &["rsa".to_owned()],
        1,
        now(),
    )
    .unwrap();
    add(&mut r, s, "rsa/x.bin", b"signed by rsa", Some("rsa-role"));
    add(&mut r, s, "ecdsa.bin", b"signed by ecdsa", None);
    r.publish(now()).unwrap();
    out.push(r.dir().to_path_buf());
    out
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tuf/dha_repo_with_python_tuf.py")
}

#[test]
#[ignore = "needs DHA_PYTHON_TUF, a python with tuf==6.0.0 (see the module documentation)"]
fn dha_repositories_verify_with_python_tuf() {
    let python = std::env::var_os("DHA_PYTHON_TUF")
        .expect("DHA_PYTHON_TUF must name a python with tuf==6.0.0 installed");
    let tmp = tempfile::tempdir().unwrap();
    let repos = build_repositories(tmp.path());
    let output = Command::new(&python)
        .arg(script())
        .args(&repos)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "python-tuf refused: {stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    // Every repository was refreshed and had a tampered target refused.
    for repo in &repos {
        let name = repo.file_name().unwrap().to_str().unwrap();
        assert!(stdout.contains(&format!("ok   {name}: refresh")), "{name}");
        assert!(stdout.contains(&format!("ok   {name}: tampered")), "{name}");
    }
}
