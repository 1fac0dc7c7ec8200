//! `dha update` end to end (issue 3, "Command line – Client"): the built
//! program against the repositories of the reference implementation in
//! tests/data/tuf/reference/ (see its README.md), served as plain
//! directories and as file:// URLs.
//!
//! Every run judges expiry by the system clock, as on a device: the
//! fixtures' valid roles expire in 2099 or 2100, and the metadata the
//! scenarios mean to be expired (`expired-timestamp`: 2026-11-28) really is.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn reference(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/tuf/reference")
        .join(scenario)
}

fn dha<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(DHA)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dha")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

#[track_caller]
fn assert_exit(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

/// Exit 1 with exactly one line on standard error: `dha: update: …`
/// naming what failed (each of `needles`).
#[track_caller]
fn assert_fails_with(o: &Output, needles: &[&str]) {
    assert_exit(o, 1);
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "not one line:\n{err}");
    assert!(lines[0].starts_with("dha: update: "), "{err}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle:?} missing from {err}");
    }
}

fn sha256_hex(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `expect` of the scenario's download step for `target`.
fn expected(scenario: &str, target: &str) -> Value {
    let text = fs::read_to_string(reference(scenario).join("scenario.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "download" && s["target"] == target)
        .unwrap_or_else(|| panic!("{scenario}: no download step for {target}"))["expect"]
        .clone()
}

/// A device: a metadata store seeded from the scenario's shipped root, and
/// an empty target directory, both in a temporary directory.
struct Device {
    scenario: String,
    tmp: TempDir,
}

impl Device {
    fn new(scenario: &str) -> Device {
        let tmp = tempfile::tempdir().unwrap();
        let root_copy = tmp.path().join("shipped-root.json");
        fs::copy(reference(scenario).join("client/root.json"), &root_copy).unwrap();
        fs::create_dir(tmp.path().join("targets")).unwrap();
        let device = Device {
            scenario: scenario.to_owned(),
            tmp,
        };
        let o = dha(&[
            "update".as_ref(),
            "init".as_ref(),
            "--metadata-dir".as_ref(),
            device.store().as_os_str(),
            root_copy.as_os_str(),
        ]);
        assert_exit(&o, 0);
        assert!(device.store().join("root.json").is_file());
        device
    }

    fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    fn target_dir(&self) -> PathBuf {
        self.tmp.path().join("targets")
    }

    /// The repository directory of a state (`.` or `stateN`).
    fn repo(&self, state: &str) -> PathBuf {
        reference(&self.scenario).join(state)
    }

    fn refresh(&self, state: &str) -> Output {
        self.refresh_with(state, &[])
    }

    /// `dha update refresh` from `state` with `extra` options.
    fn refresh_with(&self, state: &str, extra: &[&str]) -> Output {
        let metadata = self.repo(state).join("metadata");
        let store = self.store();
        let mut args = vec![
            "update",
            "refresh",
            "--metadata-dir",
            store.to_str().unwrap(),
            "--metadata-url",
            metadata.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        dha(&args)
    }

    /// A `dha.toml` holding `text` in the device's directory, as the
    /// `--config FILE` options.
    fn config(&self, text: &str) -> [String; 2] {
        let path = self.tmp.path().join("dha.toml");
        fs::write(&path, text).unwrap();
        ["--config".to_owned(), path.to_str().unwrap().to_owned()]
    }

    /// `dha update download` from `state` with `extra` options and the
    /// target names.
    fn download(&self, state: &str, extra: &[&str], names: &[&str]) -> Output {
        let metadata = self.repo(state).join("metadata");
        let targets = self.repo(state).join("targets");
        let mut args: Vec<String> = [
            "update",
            "download",
            "--metadata-dir",
            self.store().to_str().unwrap(),
            "--metadata-url",
            metadata.to_str().unwrap(),
            "--target-dir",
            self.target_dir().to_str().unwrap(),
            "--target-base-url",
            targets.to_str().unwrap(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        for name in names {
            args.push("--target-name".to_owned());
            args.push((*name).to_owned());
        }
        dha(&args)
    }

    /// Asserts that `name` was downloaded with the length and sha256 the
    /// scenario expects.
    #[track_caller]
    fn assert_installed(&self, name: &str) {
        let want = expected(&self.scenario, name);
        assert_eq!(want["result"], "ok");
        let path = self.target_dir().join(name);
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            want["length"].as_u64().unwrap()
        );
        assert_eq!(sha256_hex(&path), want["sha256"].as_str().unwrap());
    }

    /// Every file under the target directory, relative to it.
    fn installed(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.target_dir(), &self.target_dir(), &mut out);
        out.sort();
        out
    }
}

#[test]
fn basic_ed25519_init_refresh_download() {
    let device = Device::new("basic-ed25519");
    assert_exit(&device.refresh("."), 0);
    let o = device.download(".", &[], &["files/hello.txt", "readme.txt"]);
    assert_exit(&o, 0);
    device.assert_installed("files/hello.txt");
    device.assert_installed("readme.txt");
    // Standard output lists the verified files, one a line, in order.
    let listed: Vec<PathBuf> = stdout(&o).lines().map(PathBuf::from).collect();
    assert_eq!(
        listed,
        vec![
            device.target_dir().join("files/hello.txt"),
            device.target_dir().join("readme.txt")
        ]
    );
    assert_eq!(stderr(&o), "");
    // Already present and matching: done again without a failure.
    assert_exit(&device.download(".", &[], &["readme.txt"]), 0);
}

#[test]
fn consistent_snapshot_downloads_hash_prefixed_targets_by_file_url() {
    let device = Device::new("consistent-snapshot");
    let repo = device.repo(".");
    let metadata = format!("file://{}", repo.join("metadata").display());
    let targets = format!("file://{}", repo.join("targets").display());
    let o = dha(&[
        "update",
        "download",
        "--metadata-dir",
        device.store().to_str().unwrap(),
        "--metadata-url",
        &metadata,
        "--target-dir",
        device.target_dir().to_str().unwrap(),
        "--target-base-url",
        &targets,
        "--target-name",
        "files/hello.txt",
        "--target-name",
        "vendor/blob.bin",
    ]);
    assert_exit(&o, 0);
    device.assert_installed("files/hello.txt");
    device.assert_installed("vendor/blob.bin");
    assert_eq!(device.installed(), ["files/hello.txt", "vendor/blob.bin"]);
}

#[test]
fn expired_timestamp_is_refused() {
    let device = Device::new("expired-timestamp");
    assert_fails_with(&device.refresh("."), &["timestamp", "expired"]);
    let o = device.download(".", &[], &["files/fw.bin"]);
    assert_fails_with(&o, &["timestamp", "expired"]);
    assert!(device.installed().is_empty());
}

#[test]
fn snapshot_rollback_is_refused_across_two_states() {
    let device = Device::new("snapshot-rollback");
    assert_exit(&device.refresh("state1"), 0);
    assert_fails_with(
        &device.refresh("state2"),
        &["snapshot", "version 1", "trusted version 2"],
    );
}

#[test]
fn wrong_hash_and_short_target_are_refused_and_not_kept() {
    let device = Device::new("wrong-hash");
    assert_fails_with(
        &device.download(".", &[], &["files/app.bin"]),
        &["files/app.bin", "hash does not match"],
    );
    assert_fails_with(
        &device.download(".", &[], &["files/short.bin"]),
        &["files/short.bin", "bytes"],
    );
    assert!(device.installed().is_empty(), "{:?}", device.installed());
}

#[test]
fn hardware_id_mismatch_is_refused_with_the_device_id() {
    let device = Device::new("hardware-id");
    let id = ["--hardware-id", "mr-scanner-03"];
    assert_fails_with(
        &device.download(".", &id, &["firmware/ct.bin"]),
        &["firmware/ct.bin", "ct-console-07", "mr-scanner-03"],
    );
    assert!(device.installed().is_empty());
    assert_exit(&device.download(".", &id, &["firmware/mr.bin"]), 0);
    device.assert_installed("firmware/mr.bin");
}

#[test]
fn the_config_file_gives_the_update_settings_and_options_override_it() {
    let device = Device::new("hardware-id");
    let cfg = device.config("[update]\nhardware_id = \"mr-scanner-03\"\n");
    let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
    assert_fails_with(
        &device.download(".", &cfg, &["firmware/ct.bin"]),
        &["firmware/ct.bin", "ct-console-07", "mr-scanner-03"],
    );
    assert!(device.installed().is_empty());
    // --hardware-id overrides the file.
    let mut over = cfg.clone();
    over.extend(["--hardware-id", "ct-console-07"]);
    assert_exit(&device.download(".", &over, &["firmware/ct.bin"]), 0);
    assert_eq!(
        fs::read(device.target_dir().join("firmware/ct.bin")).unwrap(),
        fs::read(device.repo(".").join("targets/firmware/ct.bin")).unwrap()
    );

    // The limits: a timestamp bound below basic-ed25519's timestamp.json.
    let device = Device::new("basic-ed25519");
    let cfg = device.config("[update]\nmax_timestamp_bytes = 100\n");
    let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
    assert_fails_with(&device.refresh_with(".", &cfg), &["timestamp"]);
    assert!(!device.store().join("timestamp.json").exists());
    assert_exit(&device.refresh("."), 0);

    // Plain http: refused without a switch, let through by the file's
    // (then the connection to a closed port fails: exit 1, not 2).
    let http = "http://127.0.0.1:9/metadata";
    let store = device.store();
    let plain = |extra: &[&str]| {
        let mut args = vec![
            "update",
            "refresh",
            "--metadata-dir",
            store.to_str().unwrap(),
            "--metadata-url",
            http,
        ];
        args.extend_from_slice(extra);
        dha(&args)
    };
    let o = plain(&[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("allow_plain_http"), "{}", stderr(&o));
    let cfg = device.config("[update]\nallow_plain_http = true\nconnect_timeout_secs = 5\n");
    let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
    assert_fails_with(&plain(&cfg), &["127.0.0.1:9"]);

    // A bad file: exit 2, naming the file, line, column and key.
    let cfg = device.config("[update]\n\nmax_delegations = -1\n");
    let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
    let o = device.refresh_with(".", &cfg);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("dha.toml") && err.contains("line 3, column 19: update.max_delegations"),
        "{err}"
    );
}

#[test]
fn target_path_escape_is_refused_before_anything_is_written() {
    let device = Device::new("target-path-escape");
    // The target directory two levels down, so `../../etc/passwd` would
    // land inside the temporary directory where the test can see it.
    let deep = device.target_dir().join("a/b");
    fs::create_dir_all(&deep).unwrap();
    let repo = device.repo(".");
    let o = dha(&[
        "update",
        "download",
        "--metadata-dir",
        device.store().to_str().unwrap(),
        "--metadata-url",
        repo.join("metadata").to_str().unwrap(),
        "--target-dir",
        deep.to_str().unwrap(),
        "--target-base-url",
        repo.join("targets").to_str().unwrap(),
        "--target-name",
        "../../etc/passwd",
    ]);
    assert_fails_with(&o, &["../../etc/passwd", "unsafe name"]);
    assert!(device.installed().is_empty(), "{:?}", device.installed());
    assert!(!device.target_dir().join("etc").exists());
    assert_exit(&device.download(".", &[], &["files/ok.txt"]), 0);
    device.assert_installed("files/ok.txt");
}

#[test]
fn several_names_are_handled_in_order_and_stop_at_the_first_failure() {
    let id = ["--hardware-id", "mr-scanner-03"];
    // The good one first: it is installed, then the bad one fails.
    let device = Device::new("hardware-id");
    let o = device.download(".", &id, &["firmware/mr.bin", "firmware/ct.bin"]);
    assert_fails_with(&o, &["firmware/ct.bin"]);
    assert_eq!(device.installed(), ["firmware/mr.bin"]);
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    // The bad one first: the later name is not downloaded.
    let device = Device::new("hardware-id");
    let o = device.download(".", &id, &["firmware/ct.bin", "firmware/mr.bin"]);
    assert_fails_with(&o, &["firmware/ct.bin"]);
    assert!(device.installed().is_empty(), "{:?}", device.installed());
    assert_eq!(stdout(&o), "");
    // The failure named is the first one; the second is never tried.
    let device = Device::new("wrong-hash");
    let o = device.download(".", &[], &["files/app.bin", "files/short.bin"]);
    assert_fails_with(&o, &["files/app.bin"]);
    assert!(!stderr(&o).contains("short.bin"), "{}", stderr(&o));
}

#[test]
fn options_may_come_in_any_order_before_or_after_the_action() {
    let repo = reference("basic-ed25519");
    let metadata = repo.join("metadata");
    let targets = repo.join("targets");
    let shipped = repo.join("client/root.json");
    for order in 0..4 {
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_owned();
        let init: Vec<String> = match order % 2 {
            0 => vec![
                "update".into(),
                "--metadata-dir".into(),
                s(&store),
                "init".into(),
                s(&shipped),
            ],
            _ => vec![
                "update".into(),
                "init".into(),
                s(&shipped),
                "--metadata-dir".into(),
                s(&store),
            ],
        };
        assert_exit(&dha(&init), 0);
        let dir = ["--metadata-dir".to_owned(), s(&store)];
        let url = ["--metadata-url".to_owned(), s(&metadata)];
        let tdir = ["--target-dir".to_owned(), s(&out)];
        let tbase = ["--target-base-url".to_owned(), s(&targets)];
        let names = [
            "--target-name".to_owned(),
            "readme.txt".to_owned(),
            "--target-name".to_owned(),
            "files/hello.txt".to_owned(),
        ];
        let mut args: Vec<String> = vec!["update".into()];
        match order {
            // Everything before the action.
            0 => {
                for o in [&url, &tbase, &dir, &tdir] {
                    args.extend(o.iter().cloned());
                }
                args.push("download".into());
                args.extend(names.iter().cloned());
            }
            // Everything after the action, names first.
            1 => {
                args.push("download".into());
                args.extend(names.iter().cloned());
                for o in [&tdir, &dir, &tbase, &url] {
                    args.extend(o.iter().cloned());
                }
            }
            // Mixed, names between the other options.
            2 => {
                args.extend(dir.iter().cloned());
                args.push("download".into());
                args.extend(tbase.iter().cloned());
                args.extend(names[..2].iter().cloned());
                args.extend(url.iter().cloned());
                args.extend(names[2..].iter().cloned());
                args.extend(tdir.iter().cloned());
            }
            // The global flags of dha itself mixed in.
            _ => {
                args.push("-q".into());
                for o in [&tdir, &tbase] {
                    args.extend(o.iter().cloned());
                }
                args.push("download".into());
                for o in [&url[..], &names[..], &dir[..]] {
                    args.extend(o.iter().cloned());
                }
            }
        }
        let o = dha(&args);
        assert_exit(&o, 0);
        assert!(out.join("readme.txt").is_file(), "order {order}: {args:?}");
        assert!(
            out.join("files/hello.txt").is_file(),
            "order {order}: {args:?}"
        );
    }
}

#[test]
fn usage_errors_and_unusable_arguments_exit_2() {
    let device = Device::new("basic-ed25519");
    let store = device.store();
    let store = store.to_str().unwrap();
    let metadata = device.repo(".").join("metadata");
    let metadata = metadata.to_str().unwrap();
    let targets = device.repo(".").join("targets");
    let targets = targets.to_str().unwrap();
    let tdir = device.target_dir();
    let tdir = tdir.to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let missing = format!("{empty}/missing");
    let bad_config = device.tmp.path().join("bad.toml");
    fs::write(&bad_config, "[update]\nmax_delegations = 0\n").unwrap();
    let bad_config = bad_config.to_str().unwrap().to_owned();
    let dl = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = vec![
            "update",
            "download",
            "--metadata-dir",
            store,
            "--metadata-url",
            metadata,
            "--target-dir",
            tdir,
            "--target-base-url",
            targets,
        ];
        args.extend_from_slice(extra);
        args
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("no action", vec!["update"]),
        ("unknown action", vec!["update", "install"]),
        ("unknown option", vec!["update", "refresh", "--mirror", "x"]),
        (
            "init without its root",
            vec!["update", "init", "--metadata-dir", store],
        ),
        (
            "init without --metadata-dir",
            vec!["update", "init", "root.json"],
        ),
        (
            "init given a download option",
            vec![
                "update",
                "init",
                "--metadata-dir",
                store,
                "--target-dir",
                tdir,
                "r.json",
            ],
        ),
        (
            "init with an unreadable root",
            vec!["update", "init", "--metadata-dir", empty, &missing],
        ),
        (
            "refresh without --metadata-url",
            vec!["update", "refresh", "--metadata-dir", store],
        ),
        (
            "refresh given --hardware-id",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--hardware-id",
                "x",
            ],
        ),
        (
            "refresh of a missing store",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                &missing,
                "--metadata-url",
                metadata,
            ],
        ),
        (
            "refresh of a store never initialised",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                empty,
                "--metadata-url",
                metadata,
            ],
        ),
        (
            "refresh from a missing directory",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                &missing,
            ],
        ),
        (
            "https without --ca-bundle",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                "https://updates.invalid/metadata",
            ],
        ),
        (
            "https with a missing --ca-bundle",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                "https://updates.invalid/metadata",
                "--ca-bundle",
                &missing,
            ],
        ),
        (
            "http without --allow-insecure-http",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                "http://127.0.0.1:9/metadata",
            ],
        ),
        (
            "an unknown scheme",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                "ftp://updates.invalid/metadata",
            ],
        ),
        (
            "a file URL with a host",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                "file://host/metadata",
            ],
        ),
        (
            "the removed --unsafe-update-time",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--unsafe-update-time",
                "2026-11-29T00:00:00Z",
            ],
        ),
        (
            "a missing --config",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--config",
                &missing,
            ],
        ),
        (
            "an invalid --config",
            vec![
                "update",
                "refresh",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--config",
                &bad_config,
            ],
        ),
        ("download without --target-name", dl(&[])),
        (
            "--target-name before the action",
            vec![
                "update",
                "--target-name",
                "readme.txt",
                "download",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--target-dir",
                tdir,
                "--target-base-url",
                targets,
            ],
        ),
        (
            "download without --target-dir",
            vec![
                "update",
                "download",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--target-base-url",
                targets,
                "--target-name",
                "readme.txt",
            ],
        ),
        (
            "download into a missing directory",
            vec![
                "update",
                "download",
                "--metadata-dir",
                store,
                "--metadata-url",
                metadata,
                "--target-dir",
                &missing,
                "--target-base-url",
                targets,
                "--target-name",
                "readme.txt",
            ],
        ),
    ];
    for (what, args) in cases {
        let o = dha(&args);
        assert_eq!(o.status.code(), Some(2), "{what}: {args:?}\n{}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{what}: nothing said");
        assert!(!stderr(&o).contains("panicked"), "{what}: {}", stderr(&o));
    }
    assert!(device.installed().is_empty());
    assert!(
        !Path::new(&missing).exists(),
        "a usage error created {missing}"
    );
}

#[test]
fn init_keeps_the_trusted_root() {
    let device = Device::new("basic-ed25519");
    let store = device.store();
    // The same root again: nothing to do.
    let same = reference("basic-ed25519").join("client/root.json");
    let o = dha(&[
        "update".as_ref(),
        "init".as_ref(),
        "--metadata-dir".as_ref(),
        store.as_os_str(),
        same.as_os_str(),
    ]);
    assert_exit(&o, 0);
    // Another root would replace (perhaps roll back) the trusted one.
    let other = reference("ecdsa-keys").join("client/root.json");
    let before = fs::read(store.join("root.json")).unwrap();
    let o = dha(&[
        "update".as_ref(),
        "init".as_ref(),
        "--metadata-dir".as_ref(),
        store.as_os_str(),
        other.as_os_str(),
    ]);
    assert_fails_with(&o, &["already holds a different trusted root"]);
    assert_eq!(fs::read(store.join("root.json")).unwrap(), before);
    // A file that is not a signed root.
    let junk = device.tmp.path().join("junk.json");
    fs::write(&junk, b"{\"signed\": 1}").unwrap();
    let fresh = device.tmp.path().join("fresh");
    let o = dha(&[
        "update".as_ref(),
        "init".as_ref(),
        "--metadata-dir".as_ref(),
        fresh.as_os_str(),
        junk.as_os_str(),
    ]);
    assert_fails_with(&o, &["root"]);
    assert!(!fresh.join("root.json").exists());
}
