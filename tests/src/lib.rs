//! Support for dha's end-to-end tests: materialising fixture roots.
//!
//! A fixture root is a directory under `tests/data/roots/NAME/`. Git keeps
//! neither owners, most modes nor empty directories, so each root has
//! metadata files `tests/data/roots/NAME.AREA.meta` (one per area, so areas
//! never edit the same file) with one line per object:
//!
//! ```text
//! # kind path            mode  uid  gid  [link target]
//! file  /etc/shadow      0640  0    42
//! dir   /home/alice      0700  1000 1000
//! link  /etc/mtab        -     -    -    /proc/self/mounts
//! ```
//!
//! [`materialise`] copies the tree into a temporary directory, sets every
//! file to 0644 and every directory to 0755 owned by 0:0, then applies the
//! metadata lines. Owners need root, which the tests and CI run as.
//!
//! Expected findings of a weak root are listed in `NAME.expect`, one per line
//! (`CHECK-ID /path:line` or `CHECK-ID /path`), read by [`expectations`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod tuf_support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// The peak resident set size of this process in KiB, from
/// `/proc/self/status` (proc(5): "VmHWM: Peak resident set size ("high
/// water mark")", in kB), for the benchmarks.
pub fn vm_hwm_kib() -> Result<u64, Box<dyn std::error::Error>> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("VmHWM without a value")?
        .parse()?)
}

/// The repository's root directory.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `tests/data/roots`.
pub fn roots_dir() -> PathBuf {
    repo_dir().join("tests/data/roots")
}

/// The names of all fixture roots.
pub fn root_names() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(roots_dir())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.file_type()
                .unwrap()
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

/// A fixture root copied into a temporary directory with its metadata applied.
pub struct Fixture {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// The root directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Copies fixture root `name` into a temporary directory and applies its metadata.
pub fn materialise(name: &str) -> Fixture {
    let src = roots_dir().join(name);
    assert!(src.is_dir(), "no fixture root {}", src.display());
    let dir = tempfile::Builder::new()
        .prefix(&format!("dha-root-{name}-"))
        .tempdir()
        .unwrap();
    copy_tree(&src, dir.path());
    let mut metas: Vec<PathBuf> = fs::read_dir(roots_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("{name}.")) && n.ends_with(".meta")
        })
        .collect();
    metas.sort();
    for m in metas {
        apply_meta(&m, dir.path());
    }
    Fixture { dir }
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755)).unwrap();
    chown(dst, 0, 0);
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            fs::create_dir(&to).unwrap();
            copy_tree(&e.path(), &to);
        } else if ft.is_symlink() {
            symlink(fs::read_link(e.path()).unwrap(), &to).unwrap();
        } else {
            fs::copy(e.path(), &to).unwrap();
            fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).unwrap();
            chown(&to, 0, 0);
        }
    }
}

fn chown(p: &Path, uid: u32, gid: u32) {
    if let Err(e) = std::os::unix::fs::lchown(p, Some(uid), Some(gid)) {
        panic!(
            "chown {} {uid}:{gid}: {e} (the fixture tests run as root, as CI does)",
            p.display()
        );
    }
}

fn apply_meta(meta: &Path, root: &Path) {
    let text = fs::read_to_string(meta).unwrap();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let at = |k: usize| -> &str {
            f.get(k)
                .copied()
                .unwrap_or_else(|| panic!("{}:{}: too few fields", meta.display(), i + 1))
        };
        let path = root.join(at(1).trim_start_matches('/'));
        let num = |k: usize, radix: u32| -> u32 {
            u32::from_str_radix(at(k), radix).unwrap_or_else(|_| {
                panic!(
                    "{}:{}: field {} is not a number",
                    meta.display(),
                    i + 1,
                    k + 1
                )
            })
        };
        match at(0) {
            "file" => {
                if !path.exists() {
                    fs::create_dir_all(path.parent().unwrap()).unwrap();
                    fs::write(&path, "").unwrap();
                }
                // chown(2) clears the SUID/SGID bits of a file (root too,
                // since Linux 2.2.13): owner first, then the mode.
                chown(&path, num(3, 10), num(4, 10));
                fs::set_permissions(&path, fs::Permissions::from_mode(num(2, 8))).unwrap();
            }
            "dir" => {
                fs::create_dir_all(&path).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(num(2, 8))).unwrap();
                chown(&path, num(3, 10), num(4, 10));
            }
            "link" => {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                let _ = fs::remove_file(&path);
                symlink(at(5), &path).unwrap();
            }
            other => panic!("{}:{}: unknown kind {other:?}", meta.display(), i + 1),
        }
    }
}

/// One expected finding: a check id and a location (`/path` or `/path:line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Check id.
    pub check_id: String,
    /// `/path` or `/path:line`.
    pub location: String,
    /// Line of the `.expect` file, for messages.
    pub source_line: usize,
}

/// The expected findings of fixture root `name` (empty when it has no `.expect` file).
pub fn expectations(name: &str) -> Vec<Expected> {
    let p = roots_dir().join(format!("{name}.expect"));
    let Ok(text) = fs::read_to_string(&p) else {
        return Vec::new();
    };
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.split('#').next().unwrap().trim();
            if l.is_empty() {
                return None;
            }
            let mut it = l.split_whitespace();
            let id = it.next().unwrap().to_owned();
            let loc = it
                .next()
                .unwrap_or_else(|| panic!("{}:{}: no location", p.display(), i + 1))
                .to_owned();
            Some(Expected {
                check_id: id,
                location: loc,
                source_line: i + 1,
            })
        })
        .collect()
}

/// Builds a fresh `libdha.a` and `libdha.so` and returns the directory
/// holding them; `target_tmpdir` is the calling test's `CARGO_TARGET_TMPDIR`.
///
/// The libraries are built by a nested `cargo build -p agent-ffi` with the
/// profile of the running test binary, into a target directory of its own
/// under `target_tmpdir`, not into the shared target directory: the outer
/// `cargo test` keeps the shared directory's build lock while its tests run,
/// so a nested build there would wait on a lock that is released only when
/// the test ends ("Blocking waiting for file lock"), i.e. never. Cargo's own
/// freshness check then makes the library match the sources on every run;
/// concurrent test processes (the C API tests, the README's C example)
/// serialise on the separate directory's lock and share its output.
pub fn build_ffi_lib(target_tmpdir: &Path) -> PathBuf {
    // The test binary is <target>/<profile dir>/deps/<name>-<hash>.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap()
        .to_owned();
    let profile = match profile_dir.as_str() {
        "debug" => "dev",
        other => other,
    };
    let target_dir = target_tmpdir.join("dha-ffi-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        // --locked: the outer build resolved Cargo.lock; the nested one
        // must never rewrite it under the feet of the outer one.
        .args([
            "build",
            "--locked",
            "-p",
            "agent-ffi",
            "--lib",
            "--profile",
            profile,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(repo_dir())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo build -p agent-ffi failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = target_dir.join(&profile_dir);
    assert!(
        dir.join("libdha.a").is_file(),
        "no libdha.a in {}",
        dir.display()
    );
    dir
}
