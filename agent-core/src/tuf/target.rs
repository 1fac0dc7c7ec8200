//! Streaming download and verification of a target file (TUF 1.0.34 §5.7.3:
//! "the target file … MUST match the hashes and length in its targets
//! metadata"; issue 3, "Targets are streamed…").
//!
//! The bytes go into a temporary file in the target's own directory while
//! the listed SHA-256 / SHA-512 digests and the byte count are computed,
//! through a fixed 64 KiB buffer, so memory stays flat whatever the target
//! size. The download stops as soon as more than the expected length
//! arrives. Only a verified file is fsynced and renamed to its plain name;
//! anything else deletes the temporary and leaves a previous file untouched.
//! A file already present that still matches is not downloaded again
//! (TUF 1.0.34 §5.7.2 leaves caching to the client; python-tuf's
//! `find_cached_target` does the same check).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ring::digest;

use super::TufError;
use super::hex::encode as hex;
use super::transport::{Transport, fetch_limited, io_error_to_tuf};
use crate::durable;

/// Size of the one read buffer used while streaming.
const BUFFER_BYTES: usize = 64 * 1024;

/// Mode of a verified target file.
const TARGET_MODE: u32 = 0o644;

/// The hash algorithms this client verifies, by their TUF names.
pub const SUPPORTED_HASHES: [&str; 2] = ["sha256", "sha512"];

/// What [`download_target`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    /// The verified file.
    pub path: PathBuf,
    /// Whether it was fetched now (`false`: already present and matching).
    pub fetched: bool,
}

/// Splits a target name into path components that stay inside a directory,
/// or says why it cannot: empty, absolute, a NUL byte, an empty, `.` or `..`
/// component (issue 3 threat list: "a target name escaping the output
/// directory").
pub fn target_components(name: &str) -> Result<Vec<&str>, TufError> {
    let refuse = |reason: &str| TufError::UnsafeName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(refuse("empty target name"));
    }
    if name.contains('\0') {
        return Err(refuse("NUL byte"));
    }
    if name.starts_with('/') {
        return Err(refuse("absolute path"));
    }
    let parts: Vec<&str> = name.split('/').collect();
    for part in &parts {
        match *part {
            "" => return Err(refuse("empty path component")),
            "." | ".." => return Err(refuse("'.' or '..' component")),
            _ => {}
        }
    }
    Ok(parts)
}

/// The digests listed for a target that this client supports, computed
/// incrementally.
struct Digests {
    contexts: Vec<(&'static str, digest::Context)>,
}

impl Digests {
    /// Picks the supported algorithms of `expected`; none is an error
    /// (unknown algorithms are ignored, as the reference does).
    fn for_expected(target: &str, expected: &BTreeMap<String, String>) -> Result<Self, TufError> {
        let mut contexts = Vec::new();
        if expected.contains_key("sha256") {
            contexts.push(("sha256", digest::Context::new(&digest::SHA256)));
        }
        if expected.contains_key("sha512") {
            contexts.push(("sha512", digest::Context::new(&digest::SHA512)));
        }
        if contexts.is_empty() {
            return Err(TufError::NoSupportedHash {
                target: target.to_owned(),
            });
        }
        Ok(Digests { contexts })
    }

    fn update(&mut self, data: &[u8]) {
        for (_, ctx) in &mut self.contexts {
            ctx.update(data);
        }
    }

    /// Checks every computed digest against its listed hex value.
    fn check(self, target: &str, expected: &BTreeMap<String, String>) -> Result<(), TufError> {
        for (algorithm, ctx) in self.contexts {
            let got = hex(ctx.finish().as_ref());
            let matches = expected
                .get(algorithm)
                .is_some_and(|want| want.eq_ignore_ascii_case(&got));
            if !matches {
                return Err(TufError::TargetHash {
                    target: target.to_owned(),
                    algorithm: algorithm.to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn io_err(path: &Path, e: &io::Error) -> TufError {
    TufError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Creates (or checks) the directories between `dest_dir` and the target,
/// refusing any that is not a real directory (a symbolic link could lead
/// out of `dest_dir`). Returns the target's parent directory.
fn prepare_parent(dest_dir: &Path, name: &str, dirs: &[&str]) -> Result<PathBuf, TufError> {
    let mut dir = dest_dir.to_path_buf();
    for part in dirs {
        let next = dir.join(part);
        match fs::symlink_metadata(&next) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(TufError::UnsafeName {
                    name: name.to_owned(),
                    reason: format!("{} is not a directory", next.display()),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&next).map_err(|e| io_err(&next, &e))?;
                durable::sync_dir(&dir).map_err(|e| io_err(&dir, &e))?;
            }
            Err(e) => return Err(io_err(&next, &e)),
        }
        dir = next;
    }
    Ok(dir)
}

/// Whether `path` is a regular file (not a link) of `expected_length` bytes
/// whose listed digests match.
fn already_verified(
    path: &Path,
    target: &str,
    expected_length: u64,
    expected_hashes: &BTreeMap<String, String>,
    buf: &mut [u8],
) -> Result<bool, TufError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == expected_length => {}
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(path, &e)),
    }
    let mut file = File::open(path).map_err(|e| io_err(path, &e))?;
    let mut digests = Digests::for_expected(target, expected_hashes)?;
    let mut total: u64 = 0;
    loop {
        let n = file.read(buf).map_err(|e| io_err(path, &e))?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or_default();
        digests.update(chunk);
        total = total.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if total > expected_length {
            return Ok(false);
        }
    }
    Ok(total == expected_length && digests.check(target, expected_hashes).is_ok())
}

/// Downloads target `target_name` from `url_path` (relative to the
/// transport's base) into `dest_dir`, verifying its length and every listed
/// supported hash, and returns where it is.
///
/// `expected_length` and `expected_hashes` come from verified targets
/// metadata (TUF 1.0.34 §5.7.3). At least one of `sha256` / `sha512` must be
/// listed; other algorithms are ignored. A name with `/` creates
/// subdirectories inside `dest_dir`; a name that could leave it is
/// [`TufError::UnsafeName`]. Errors name the target and what failed;
/// after one, no temporary file remains and a previous file of the same name
/// is untouched.
pub fn download_target(
    transport: &dyn Transport,
    url_path: &str,
    dest_dir: &Path,
    target_name: &str,
    expected_length: u64,
    expected_hashes: &BTreeMap<String, String>,
) -> Result<TargetOutcome, TufError> {
    let parts = target_components(target_name)?;
    let (file_name, dirs) = parts.split_last().ok_or_else(|| TufError::UnsafeName {
        name: target_name.to_owned(),
        reason: "empty target name".to_owned(),
    })?;
    // Fail on unsupported hashes before touching the disk or the network.
    Digests::for_expected(target_name, expected_hashes)?;
    let parent = prepare_parent(dest_dir, target_name, dirs)?;
    let final_path = parent.join(file_name);

    let mut buf = vec![0u8; BUFFER_BYTES];
    if already_verified(
        &final_path,
        target_name,
        expected_length,
        expected_hashes,
        &mut buf,
    )? {
        return Ok(TargetOutcome {
            path: final_path,
            fetched: false,
        });
    }

    let too_long = |e: TufError| match e {
        TufError::TooLarge { .. } => TufError::TargetTooLong {
            target: target_name.to_owned(),
            expected: expected_length,
        },
        other => other,
    };
    // The temporary deletes itself when dropped on any error path below.
    let mut tmp = tempfile::Builder::new()
        .prefix(durable::TEMP_PREFIX)
        .tempfile_in(&parent)
        .map_err(|e| io_err(&parent, &e))?;
    let tmp_path = tmp.path().to_path_buf();
    let mut digests = Digests::for_expected(target_name, expected_hashes)?;
    let mut total: u64 = 0;
    {
        let mut reader = fetch_limited(transport, url_path, expected_length).map_err(too_long)?;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(too_long(io_error_to_tuf(e, url_path))),
            };
            let chunk = buf.get(..n).unwrap_or_default();
            digests.update(chunk);
            tmp.write_all(chunk).map_err(|e| io_err(&tmp_path, &e))?;
            total = total
                .checked_add(u64::try_from(n).unwrap_or(u64::MAX))
                .ok_or_else(|| TufError::TargetTooLong {
                    target: target_name.to_owned(),
                    expected: expected_length,
                })?;
        }
    }
    // The size-limited reader already refused more; fewer is checked here.
    if total != expected_length {
        return Err(TufError::TargetLength {
            target: target_name.to_owned(),
            expected: expected_length,
            got: total,
        });
    }
    digests.check(target_name, expected_hashes)?;

    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(TARGET_MODE))
            .map_err(|e| io_err(&tmp_path, &e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_err(&tmp_path, &e))?;
    tmp.persist(&final_path)
        .map_err(|e| io_err(&final_path, &e.error))?;
    durable::sync_dir(&parent).map_err(|e| io_err(&parent, &e))?;
    Ok(TargetOutcome {
        path: final_path,
        fetched: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuf::transport::LocalDirTransport;
    use std::cell::Cell;

    /// Counts fetches, passing them to a local directory.
    struct Counting {
        inner: LocalDirTransport,
        fetches: Cell<u32>,
    }
    impl Transport for Counting {
        fn fetch(&self, path: &str, max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
            self.fetches.set(self.fetches.get() + 1);
            self.inner.fetch(path, max_len)
        }
    }

    /// Ignores the bound and streams forever.
    struct Endless;
    impl Transport for Endless {
        fn fetch(&self, _path: &str, _max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
            Ok(Box::new(io::repeat(7)))
        }
    }

    struct Rig {
        dir: tempfile::TempDir,
        t: Counting,
    }

    impl Rig {
        fn new() -> Rig {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("repo")).unwrap();
            fs::create_dir(dir.path().join("out")).unwrap();
            let inner = LocalDirTransport::new(&dir.path().join("repo")).unwrap();
            Rig {
                dir,
                t: Counting {
                    inner,
                    fetches: Cell::new(0),
                },
            }
        }
        fn put(&self, name: &str, data: &[u8]) {
            fs::write(self.dir.path().join("repo").join(name), data).unwrap();
        }
        fn out(&self) -> PathBuf {
            self.dir.path().join("out")
        }
        fn get(
            &self,
            url: &str,
            name: &str,
            len: u64,
            hashes: &BTreeMap<String, String>,
        ) -> Result<TargetOutcome, TufError> {
            download_target(&self.t, url, &self.out(), name, len, hashes)
        }
        /// Every file under out/, as relative paths.
        fn listing(&self) -> Vec<String> {
            fn walk(base: &Path, dir: &Path, acc: &mut Vec<String>) {
                for e in fs::read_dir(dir).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        walk(base, &p, acc);
                    } else {
                        acc.push(p.strip_prefix(base).unwrap().display().to_string());
                    }
                }
            }
            let mut acc = Vec::new();
            walk(&self.out(), &self.out(), &mut acc);
            acc.sort();
            acc
        }
    }

    fn hashes_of(data: &[u8], algs: &[&str]) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for a in algs {
            let h = match *a {
                "sha256" => hex(digest::digest(&digest::SHA256, data).as_ref()),
                "sha512" => hex(digest::digest(&digest::SHA512, data).as_ref()),
                other => format!("{other}-value"),
            };
            m.insert((*a).to_owned(), h);
        }
        m
    }

    fn body(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| {
                u8::try_from(i % 256)
                    .unwrap()
                    .wrapping_mul(31)
                    .wrapping_add(seed)
            })
            .collect()
    }

    #[test]
    fn hex_matches_the_fips_180_vector() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            hex(digest::digest(&digest::SHA256, b"abc").as_ref()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_good_target_is_streamed_verified_and_renamed() {
        let r = Rig::new();
        let data = body(300_000, 1); // several buffers
        r.put("fw.img", &data);
        let h = hashes_of(&data, &["sha256", "sha512"]);
        let out = r.get("fw.img", "fw.img", 300_000, &h).unwrap();
        assert!(out.fetched);
        assert_eq!(out.path, r.out().join("fw.img"));
        assert_eq!(fs::read(&out.path).unwrap(), data);
        assert_eq!(r.listing(), vec!["fw.img".to_owned()]);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&out.path).unwrap().permissions().mode() & 0o7777,
            0o644
        );
    }

    #[test]
    fn a_matching_target_is_not_fetched_again_and_a_damaged_one_is() {
        let r = Rig::new();
        let data = body(1000, 2);
        r.put("app.tar", &data);
        let h = hashes_of(&data, &["sha512"]);
        assert!(r.get("app.tar", "app.tar", 1000, &h).unwrap().fetched);
        assert_eq!(r.t.fetches.get(), 1);
        let again = r.get("app.tar", "app.tar", 1000, &h).unwrap();
        assert!(!again.fetched);
        assert_eq!(r.t.fetches.get(), 1);
        // Damaged on disk (same length): fetched again and repaired.
        let mut bad = data.clone();
        bad[10] ^= 1;
        fs::write(r.out().join("app.tar"), &bad).unwrap();
        assert!(r.get("app.tar", "app.tar", 1000, &h).unwrap().fetched);
        assert_eq!(r.t.fetches.get(), 2);
        assert_eq!(fs::read(r.out().join("app.tar")).unwrap(), data);
    }

    /// A previous good file, then a bad download for the same name: the
    /// error names the failure, the temporary is gone and the good file is
    /// untouched.
    fn bad_download_keeps_previous(
        repo_bytes: &[u8],
        len: u64,
        h: &BTreeMap<String, String>,
    ) -> TufError {
        let r = Rig::new();
        let good = body(500, 3);
        r.put("good", &good);
        r.get("good", "fw.img", 500, &hashes_of(&good, &["sha256"]))
            .unwrap();
        r.put("bad", repo_bytes);
        let err = r.get("bad", "fw.img", len, h).unwrap_err();
        assert_eq!(fs::read(r.out().join("fw.img")).unwrap(), good);
        assert_eq!(r.listing(), vec!["fw.img".to_owned()], "temporary left");
        err
    }

    #[test]
    fn a_truncated_target_is_rejected() {
        let full = body(800, 4);
        let h = hashes_of(&full, &["sha256"]);
        let err = bad_download_keeps_previous(&full[..700], 800, &h);
        assert_eq!(
            err,
            TufError::TargetLength {
                target: "fw.img".into(),
                expected: 800,
                got: 700
            }
        );
        assert!(err.to_string().contains("700") && err.to_string().contains("800"));
    }

    #[test]
    fn an_oversized_target_is_rejected() {
        let full = body(800, 5);
        let mut longer = full.clone();
        longer.push(0);
        let h = hashes_of(&full, &["sha256"]);
        let err = bad_download_keeps_previous(&longer, 800, &h);
        assert_eq!(
            err,
            TufError::TargetTooLong {
                target: "fw.img".into(),
                expected: 800
            }
        );
    }

    #[test]
    fn an_endless_stream_stops_at_the_expected_length() {
        let d = tempfile::tempdir().unwrap();
        let h = hashes_of(b"", &["sha256"]);
        let err = download_target(&Endless, "x", d.path(), "x", 200_000, &h).unwrap_err();
        assert!(matches!(
            err,
            TufError::TargetTooLong {
                expected: 200_000,
                ..
            }
        ));
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_altered_target_is_rejected_naming_the_hash() {
        let full = body(800, 6);
        let mut altered = full.clone();
        altered[799] ^= 0x80;
        for alg in ["sha256", "sha512"] {
            let h = hashes_of(&full, &[alg]);
            let err = bad_download_keeps_previous(&altered, 800, &h);
            assert_eq!(
                err,
                TufError::TargetHash {
                    target: "fw.img".into(),
                    algorithm: alg.into()
                }
            );
        }
        // Both listed, one right and one wrong: still rejected.
        let mut h = hashes_of(&full, &["sha256", "sha512"]);
        h.insert(
            "sha256".into(),
            hex(digest::digest(&digest::SHA256, &altered).as_ref()),
        );
        let err = bad_download_keeps_previous(&altered, 800, &h);
        assert!(matches!(err, TufError::TargetHash { ref algorithm, .. } if algorithm == "sha512"));
    }

    #[test]
    fn unknown_algorithms_are_ignored_but_one_supported_is_required() {
        let r = Rig::new();
        let data = body(64, 7);
        r.put("t", &data);
        let only_unknown = hashes_of(&data, &["md5", "blake2b"]);
        assert_eq!(
            r.get("t", "t", 64, &only_unknown).unwrap_err(),
            TufError::NoSupportedHash { target: "t".into() }
        );
        assert_eq!(r.t.fetches.get(), 0);
        let mixed = hashes_of(&data, &["blake2b", "sha256"]);
        assert!(r.get("t", "t", 64, &mixed).unwrap().fetched);
        // Upper-case hex names the same digest.
        let upper: BTreeMap<_, _> = hashes_of(&data, &["sha256"])
            .into_iter()
            .map(|(k, v)| (k, v.to_uppercase()))
            .collect();
        assert!(!r.get("t", "t", 64, &upper).unwrap().fetched);
    }

    #[test]
    fn escaping_target_names_are_refused_and_write_nothing() {
        let r = Rig::new();
        let data = body(10, 8);
        r.put("t", &data);
        let h = hashes_of(&data, &["sha256"]);
        for name in [
            "../x",
            "/etc/passwd",
            "a/../../b",
            "",
            "a\0b",
            "a//b",
            "./a",
            "a/",
            "..",
        ] {
            assert!(
                matches!(r.get("t", name, 10, &h), Err(TufError::UnsafeName { .. })),
                "{name:?}"
            );
        }
        assert_eq!(r.t.fetches.get(), 0);
        assert!(r.listing().is_empty());
        assert!(!r.dir.path().join("x").exists());
    }

    #[test]
    fn a_name_with_slashes_creates_subdirectories_inside_dest() {
        let r = Rig::new();
        let data = body(100, 9);
        r.put("t", &data);
        let h = hashes_of(&data, &["sha256"]);
        let out = r.get("t", "images/v2/fw.img", 100, &h).unwrap();
        assert_eq!(out.path, r.out().join("images/v2/fw.img"));
        assert_eq!(r.listing(), vec!["images/v2/fw.img".to_owned()]);
    }

    #[test]
    fn a_symlinked_subdirectory_is_refused() {
        let r = Rig::new();
        let data = body(100, 10);
        r.put("t", &data);
        let h = hashes_of(&data, &["sha256"]);
        let elsewhere = r.dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, r.out().join("images")).unwrap();
        assert!(matches!(
            r.get("t", "images/fw.img", 100, &h),
            Err(TufError::UnsafeName { .. })
        ));
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_target_is_not_found() {
        let r = Rig::new();
        let h = hashes_of(b"", &["sha256"]);
        assert_eq!(
            r.get("nope", "nope", 0, &h).unwrap_err(),
            TufError::NotFound {
                path: "nope".into()
            }
        );
        assert!(r.listing().is_empty());
    }
}
