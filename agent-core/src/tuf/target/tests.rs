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
fn a_target_larger_than_several_writeback_steps_is_written_exactly() {
    let r = Rig::new();
    let len = 2 * WRITEBACK_BYTES + 12_345;
    let data = body(len, 7);
    r.put("big.img", &data);
    let h = hashes_of(&data, &["sha256"]);
    let out = r
        .get("big.img", "big.img", u64::try_from(len).unwrap(), &h)
        .unwrap();
    assert!(out.fetched);
    assert_eq!(fs::read(&out.path).unwrap(), data);
    assert_eq!(r.listing(), vec!["big.img".to_owned()], "no temporary left");
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

/// Hands out `data` in reads of at most `step` bytes, then fails with
/// `fail` if set, else ends.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail: Option<io::ErrorKind>,
}
impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len() - self.pos);
        if n == 0 {
            if let Some(kind) = self.fail {
                return Err(io::Error::new(kind, "link dropped"));
            }
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Runs the streaming stage alone: `(result, sha256 of what was hashed,
/// bytes taken from the reader)`.
fn copy_with<W: Write + Send>(
    reader: &mut Trickle,
    sink: &mut W,
    stages: Stages,
) -> (Result<u64, TufError>, String, usize) {
    let want = BTreeMap::from([("sha256".to_owned(), String::new())]);
    let mut digests = Digests::for_expected("t", &want).unwrap();
    let result = Stream {
        reader: &mut *reader,
        url_path: "t",
        digests: &mut digests,
        expected_length: u64::MAX,
        progress: &mut |_, _| {},
    }
    .copy_to(sink, Path::new("/sink"), stages, None);
    let digest = hex(digests.contexts.pop().unwrap().1.finish().as_ref());
    (result, digest, reader.pos)
}

#[test]
fn both_stagings_copy_and_hash_every_byte_in_order() {
    for len in [
        0,
        1,
        CHUNK_BYTES - 1,
        CHUNK_BYTES,
        CHUNK_BYTES + 1,
        (CHUNKS + 3) * CHUNK_BYTES + 7,
    ] {
        for stages in [Stages::Pipelined, Stages::Serial] {
            let data = body(len, 11);
            // Odd read sizes: chunks are filled from several reads.
            let mut reader = Trickle {
                data: data.clone(),
                pos: 0,
                step: 10_007,
                fail: None,
            };
            let mut sink = Vec::new();
            let (result, digest, _) = copy_with(&mut reader, &mut sink, stages);
            assert_eq!(result.unwrap(), len as u64, "{len} {stages:?}");
            assert!(sink == data, "{len} {stages:?}: bytes differ");
            assert_eq!(digest, hex(digest::digest(&digest::SHA256, &data).as_ref()));
        }
    }
}

#[test]
fn a_write_error_is_reported_naming_the_file_and_stops_the_reader() {
    // /dev/full fails every write with ENOSPC (null(4)): a full disk.
    let len = 64 << 20;
    for stages in [Stages::Pipelined, Stages::Serial] {
        let mut full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut reader = Trickle {
            data: vec![0; len],
            pos: 0,
            step: usize::MAX,
            fail: None,
        };
        let (result, _, read) = copy_with(&mut reader, &mut &full, stages);
        let err = result.unwrap_err();
        match &err {
            TufError::Io { path, message } => {
                assert_eq!(path, "/sink");
                assert!(message.contains("No space left"), "{message}");
            }
            other => panic!("{stages:?}: {other:?}"),
        }
        // The reader stopped within the chunks in flight, not at 64 MiB.
        assert!(
            read <= (CHUNKS + 2) * CHUNK_BYTES,
            "{stages:?}: read {read}"
        );
        full.flush().unwrap();
    }
}

#[test]
fn a_read_error_mid_stream_stops_the_writer_and_is_reported() {
    for stages in [Stages::Pipelined, Stages::Serial] {
        let mut reader = Trickle {
            data: body(3 * CHUNK_BYTES + 5, 12),
            pos: 0,
            step: 50_000,
            fail: Some(io::ErrorKind::ConnectionReset),
        };
        let mut sink = Vec::new();
        let (result, _, _) = copy_with(&mut reader, &mut sink, stages);
        match result.unwrap_err() {
            TufError::Io { path, message } => {
                assert_eq!(path, "t");
                assert!(message.contains("link dropped"), "{message}");
            }
            other => panic!("{stages:?}: {other:?}"),
        }
        // The chunk being filled when the read failed is never written.
        assert!(sink.len() <= 3 * CHUNK_BYTES, "{stages:?}: {}", sink.len());
    }
}

/// Streams `len` bytes of `data`-like content and then fails.
struct Broken {
    good: Vec<u8>,
}
impl Transport for Broken {
    fn fetch(&self, _path: &str, _max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
        Ok(Box::new(Trickle {
            data: self.good.clone(),
            pos: 0,
            step: 65_536,
            fail: Some(io::ErrorKind::UnexpectedEof),
        }))
    }
}

#[test]
fn failures_after_several_chunks_leave_no_temporary() {
    let d = tempfile::tempdir().unwrap();
    let len = 3 * PROGRESS_STEP + 1;
    let h = hashes_of(b"", &["sha256"]);
    // An endless stream, well past several chunks.
    let err = download_target(&Endless, "x", d.path(), "x", len, &h).unwrap_err();
    assert!(matches!(err, TufError::TargetTooLong { expected, .. } if expected == len));
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
    // A transport that breaks after 2 MiB.
    let broken = Broken {
        good: body(2 << 20, 13),
    };
    let err = download_target(&broken, "x", d.path(), "x", len, &h).unwrap_err();
    assert!(
        matches!(err, TufError::Io { ref path, .. } if path == "x"),
        "{err:?}"
    );
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn progress_is_reported_every_mebibyte_and_once_verified() {
    let r = Rig::new();
    let len: usize = (7 << 20) / 2 + 123; // 3.5 MiB and a bit
    let total = len as u64;
    let data = body(len, 14);
    r.put("fw.img", &data);
    let h = hashes_of(&data, &["sha256", "sha512"]);
    let mut calls = Vec::new();
    let mut record = |done, total| calls.push((done, total));
    download_target_with_progress(&r.t, "fw.img", &r.out(), "fw.img", total, &h, &mut record)
        .unwrap();
    let (last, between) = calls.split_last().unwrap();
    assert_eq!(*last, (total, total));
    assert_eq!(between.len(), 3, "{calls:?}");
    let mut before = 0;
    for &(done, t) in between {
        assert_eq!(t, total);
        assert!(done < total && done - before >= PROGRESS_STEP, "{calls:?}");
        before = done;
    }

    // Already present: only the final report.
    calls.clear();
    let mut record = |done, total| calls.push((done, total));
    let again =
        download_target_with_progress(&r.t, "fw.img", &r.out(), "fw.img", total, &h, &mut record)
            .unwrap();
    assert!(!again.fetched);
    assert_eq!(calls, vec![(total, total)]);

    // A failed download never reports completion.
    let mut wrong = h.clone();
    wrong.insert(
        "sha256".into(),
        hashes_of(b"x", &["sha256"])["sha256"].clone(),
    );
    calls.clear();
    let mut record = |done, total| calls.push((done, total));
    let err = download_target_with_progress(
        &r.t,
        "fw.img",
        &r.out(),
        "other.img",
        total,
        &wrong,
        &mut record,
    )
    .unwrap_err();
    assert!(matches!(err, TufError::TargetHash { .. }));
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|&(done, _)| done < total));
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
