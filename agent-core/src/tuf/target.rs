//! Streaming download and verification of a target file (TUF 1.0.34 §5.7.3:
//! "the target file … MUST match the hashes and length in its targets
//! metadata"; issue 3, "Targets are streamed…").
//!
//! The bytes go into a temporary file in the target's own directory while
//! the listed SHA-256 / SHA-512 digests and the byte count are computed.
//! The download stops as soon as more than the expected length arrives.
//! Only a verified file is fsynced and renamed to its plain name; anything
//! else deletes the temporary and leaves a previous file untouched. A file
//! already present that still matches is not downloaded again (TUF 1.0.34
//! §5.7.2 leaves caching to the client; python-tuf's `find_cached_target`
//! does the same check).
//!
//! # The pipeline
//!
//! Hashing and writing each run at about the speed of `openssl dgst`, so
//! doing them one after the other on one thread takes twice as long as
//! either (issue 3's benchmark goal is 0.9 of openssl's throughput). They
//! are therefore overlapped, in two stages:
//! - the calling thread reads from the transport (whose reader need not be
//!   `Send`) into a chunk of [`CHUNK_BYTES`], hashing each piece as it
//!   arrives while it is still in the cache, counts the bytes against the
//!   length bound, and reports progress;
//! - one writer thread (`std::thread::scope`, so it never outlives the
//!   call) writes full chunks to the temporary file in order.
//!
//! Chunks go to the writer through a bounded channel and come back through
//! a return channel to be filled again; at most [`CHUNKS`] chunks are ever
//! allocated (lazily, so a small target takes one), so memory stays flat and
//! bounded at `CHUNKS * CHUNK_BYTES` (1 MiB) whatever the target size. When
//! all chunks are with the writer, the reader waits for one to come back:
//! the slower stage sets the pace. Measured on 2 cores
//! (`tests/src/bin/bench_target.rs`, its `floor 2T` column with other chunk
//! sizes), 256 KiB chunks did clearly better than 64 KiB ones (fewer
//! hand-overs) and as well as 1 MiB ones, at a quarter of the memory; a
//! third stage (a separate hasher) would need a third core to gain
//! anything, since reading from the page cache is cheap next to hashing.
//!
//! Failure in either stage stops both: a read error or the length bound
//! sets an abort flag and closes the channel, so the writer drops what is
//! still queued and ends; a write error (say `ENOSPC`) ends the writer,
//! whose closed channels stop the reader at its next hand-over, and the
//! write error, naming the temporary file, is what the call returns. Either
//! way the writer has ended before the temporary file is removed.
//!
//! With one CPU (`std::thread::available_parallelism`, which honours CPU
//! affinity and cgroup quotas) there is nothing to overlap, so the same
//! stages run one after the other on the calling thread, chunk by chunk
//! (measured under `taskset -c 0`: as fast as the pipeline there); the
//! same happens if the writer thread cannot be started.
//!
//! Early writeback: the kernel keeps written pages dirty in memory until
//! something asks for them, so without help the final `fsync` would write
//! the whole target after the hashing has ended, one stage after the other
//! again (measured: 0.69 of openssl at 1 GiB on an idle machine). So every
//! [`WRITEBACK_BYTES`] the writer asks a third thread to `fdatasync` the
//! same open file (std's `File::sync_data`; `agent-core` makes no raw
//! system calls, so no `sync_file_range`): the disk writes while the
//! hashing goes on, and the final `fsync` finds at most a few MiB left
//! (measured: 0.94 of openssl at 1 GiB, 0.97 at 256 MiB; README "TUF target
//! verification benchmark"). The writeback thread mostly waits on the disk,
//! so it needs no core of its own.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use ring::digest;

use super::TufError;
use super::hex::encode as hex;
use super::transport::{Transport, fetch_limited, io_error_to_tuf};
use crate::durable;

/// Size of one chunk handed from the reading and hashing stage to the
/// writer (module documentation, "The pipeline").
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The most chunks in flight between the two stages, hence the most memory
/// a download holds in buffers: `CHUNKS * CHUNK_BYTES`.
pub const CHUNKS: usize = 4;

/// Bytes written between two early-writeback requests (module
/// documentation).
pub const WRITEBACK_BYTES: usize = 16 * 1024 * 1024;

/// The least number of bytes between two intermediate progress reports.
pub const PROGRESS_STEP: u64 = 1024 * 1024;

/// Size of the read buffer when checking a file already present.
const CHECK_BUFFER_BYTES: usize = 64 * 1024;

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
) -> Result<bool, TufError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == expected_length => {}
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(path, &e)),
    }
    let mut file = File::open(path).map_err(|e| io_err(path, &e))?;
    let mut digests = Digests::for_expected(target, expected_hashes)?;
    let mut buf = vec![0u8; CHECK_BUFFER_BYTES];
    let mut total: u64 = 0;
    loop {
        let n = file.read(&mut buf).map_err(|e| io_err(path, &e))?;
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
/// [`TufError::UnsafeName`]. Errors name the target and what failed (a
/// write error names the temporary file); after one, no temporary file
/// remains and a previous file of the same name is untouched.
///
/// The same as [`download_target_with_progress`] without progress reports.
pub fn download_target(
    transport: &dyn Transport,
    url_path: &str,
    dest_dir: &Path,
    target_name: &str,
    expected_length: u64,
    expected_hashes: &BTreeMap<String, String>,
) -> Result<TargetOutcome, TufError> {
    download_target_with_progress(
        transport,
        url_path,
        dest_dir,
        target_name,
        expected_length,
        expected_hashes,
        &mut |_, _| {},
    )
}

/// [`download_target`], reporting progress to `progress(done, total)`.
///
/// `total` is always `expected_length`; `done` is the number of bytes
/// received and hashed so far and never decreases. `progress` is called on
/// the calling thread:
/// - while bytes arrive, at most once per [`PROGRESS_STEP`] (1 MiB) of
///   them, always with `done < total`, so that a download costs at most
///   `total / PROGRESS_STEP` such calls whatever the transport's read size;
/// - once at the end with `done == total`, only when the call is about to
///   succeed: the verified file is in place (downloaded now, or already
///   present and matching).
///
/// A failed download gets no final call. `progress` should return quickly
/// (the download waits for it); it cannot stop the download.
pub fn download_target_with_progress(
    transport: &dyn Transport,
    url_path: &str,
    dest_dir: &Path,
    target_name: &str,
    expected_length: u64,
    expected_hashes: &BTreeMap<String, String>,
    progress: &mut dyn FnMut(u64, u64),
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

    if already_verified(&final_path, target_name, expected_length, expected_hashes)? {
        progress(expected_length, expected_length);
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
    // The temporary deletes itself when dropped on any error path below,
    // always after the writer thread has ended (it is scoped).
    let tmp = tempfile::Builder::new()
        .prefix(durable::TEMP_PREFIX)
        .tempfile_in(&parent)
        .map_err(|e| io_err(&parent, &e))?;
    let tmp_path = tmp.path().to_path_buf();
    let mut digests = Digests::for_expected(target_name, expected_hashes)?;
    let total = {
        let mut reader = fetch_limited(transport, url_path, expected_length).map_err(too_long)?;
        let mut stream = Stream {
            reader: &mut reader,
            url_path,
            digests: &mut digests,
            expected_length,
            progress,
        };
        stream
            .copy_to(
                &mut tmp.as_file(),
                &tmp_path,
                Stages::for_this_device(),
                Some(tmp.as_file()),
            )
            .map_err(too_long)?
    };
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
    progress(expected_length, expected_length);
    Ok(TargetOutcome {
        path: final_path,
        fetched: true,
    })
}

/// How [`Stream::copy_to`] runs its two stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stages {
    /// Reading and hashing on the calling thread, writing on a scoped
    /// writer thread (falls back to [`Stages::Serial`] if that thread
    /// cannot be started).
    Pipelined,
    /// Both on the calling thread, one chunk after the other.
    Serial,
}

impl Stages {
    /// [`Stages::Serial`] with one CPU to run on, else
    /// [`Stages::Pipelined`] (module documentation).
    fn for_this_device() -> Stages {
        match thread::available_parallelism() {
            Ok(n) if n.get() > 1 => Stages::Pipelined,
            _ => Stages::Serial,
        }
    }
}

/// The reading and hashing stage: a bounded reader, the digests it feeds,
/// and the progress reports.
struct Stream<'a, 'r> {
    reader: &'a mut (dyn Read + 'r),
    /// Names the source in read errors.
    url_path: &'a str,
    digests: &'a mut Digests,
    expected_length: u64,
    progress: &'a mut dyn FnMut(u64, u64),
}

/// Why the reading stage stopped early.
enum Stop {
    /// A read or verification failure.
    Failed(TufError),
    /// The writer ended (its own result says why).
    WriterGone,
}

impl Stream<'_, '_> {
    /// Copies the whole stream into `sink` (`sink_path` names it in write
    /// errors) and returns the number of bytes copied.
    fn copy_to<W: Write + Send>(
        &mut self,
        sink: &mut W,
        sink_path: &Path,
        stages: Stages,
        writeback: Option<&File>,
    ) -> Result<u64, TufError> {
        if stages == Stages::Pipelined {
            match self.pipelined(sink, sink_path, writeback) {
                Some(result) => return result,
                None => log::warn!(
                    "cannot start a writer thread for {}; writing on the calling thread",
                    sink_path.display()
                ),
            }
        }
        self.serial(sink, sink_path)
    }

    /// Both stages on this thread.
    fn serial<W: Write>(&mut self, sink: &mut W, sink_path: &Path) -> Result<u64, TufError> {
        let mut buf = vec![0u8; CHUNK_BYTES];
        let mut total = 0;
        let mut reported = 0;
        loop {
            let n = self.fill(&mut buf)?;
            let chunk = buf.get(..n).unwrap_or_default();
            sink.write_all(chunk).map_err(|e| io_err(sink_path, &e))?;
            total = self.advance(total, n, &mut reported)?;
            if n < CHUNK_BYTES {
                return Ok(total);
            }
        }
    }

    /// Reading and hashing here, writing on a scoped thread (module
    /// documentation); `None` when that thread cannot be started (nothing
    /// has been read then).
    fn pipelined<W: Write + Send>(
        &mut self,
        sink: &mut W,
        sink_path: &Path,
        writeback: Option<&File>,
    ) -> Option<Result<u64, TufError>> {
        let abort = AtomicBool::new(false);
        thread::scope(|scope| {
            // Early writeback (module documentation): every WRITEBACK_BYTES
            // written, a third thread asks the kernel to write out what is
            // dirty (`fdatasync` on the same open file), so the disk works
            // while the hashing goes on and the final `fsync` finds little
            // left. Requests coalesce (a bounded channel of one); errors
            // here are ignored because the final `fsync` reports them.
            let (sync_tx, sync_rx) = mpsc::sync_channel::<()>(1);
            let syncer = writeback.and_then(|file| {
                thread::Builder::new()
                    .name("dha-target-writeback".to_owned())
                    .spawn_scoped(scope, move || {
                        for () in sync_rx {
                            if let Err(e) = file.sync_data() {
                                log::debug!("early writeback: {e}");
                            }
                        }
                    })
                    .ok()
            });
            let sync_tx = syncer.is_some().then_some(sync_tx);
            // Declared inside the scope: if this thread unwinds (a panicking
            // progress hook), the sender is dropped before the scope waits
            // for the writer, which then ends instead of waiting forever.
            let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS);
            let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
            let abort = &abort;
            let writer = thread::Builder::new()
                .name("dha-target-writer".to_owned())
                .spawn_scoped(scope, move || -> io::Result<()> {
                    let mut since_sync = 0usize;
                    // Ends when the reading stage drops its sender.
                    for chunk in full_rx {
                        if abort.load(Ordering::Relaxed) {
                            break;
                        }
                        sink.write_all(&chunk)?;
                        since_sync = since_sync.saturating_add(chunk.len());
                        if since_sync >= WRITEBACK_BYTES {
                            since_sync = 0;
                            if let Some(tx) = &sync_tx {
                                // Full: a writeback is pending already.
                                let _ = tx.try_send(());
                            }
                        }
                        // The reading stage may have finished: then nobody
                        // takes the chunk back, and that is fine.
                        let _ = free_tx.send(chunk);
                    }
                    Ok(())
                })
                .ok()?;

            let read = self.feed(&full_tx, &free_rx);
            if read.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            drop(full_tx);
            let written = writer.join();
            Some(match (read, written) {
                (Err(Stop::Failed(e)), _) => Err(e),
                (_, Ok(Err(e))) => Err(io_err(sink_path, &e)),
                (_, Err(_)) => Err(TufError::Io {
                    path: sink_path.display().to_string(),
                    message: "the writer thread panicked".to_owned(),
                }),
                (Err(Stop::WriterGone), Ok(Ok(()))) => Err(TufError::Io {
                    path: sink_path.display().to_string(),
                    message: "the writer thread stopped early".to_owned(),
                }),
                (Ok(total), Ok(Ok(()))) => Ok(total),
            })
        })
    }

    /// The reading stage of [`Stream::pipelined`]: fills chunks (taken back
    /// from the writer, or allocated while fewer than [`CHUNKS`] exist) and
    /// hands them over until the end of the stream.
    fn feed(
        &mut self,
        full_tx: &mpsc::SyncSender<Vec<u8>>,
        free_rx: &mpsc::Receiver<Vec<u8>>,
    ) -> Result<u64, Stop> {
        let mut allocated = 0usize;
        let mut total = 0;
        let mut reported = 0;
        loop {
            let mut buf = match free_rx.try_recv() {
                Ok(buf) => buf,
                Err(_) if allocated < CHUNKS => {
                    allocated = allocated.saturating_add(1);
                    Vec::with_capacity(CHUNK_BYTES)
                }
                Err(_) => free_rx.recv().map_err(|_| Stop::WriterGone)?,
            };
            buf.resize(CHUNK_BYTES, 0);
            let n = self.fill(&mut buf).map_err(Stop::Failed)?;
            buf.truncate(n);
            total = self
                .advance(total, n, &mut reported)
                .map_err(Stop::Failed)?;
            if n > 0 {
                full_tx.send(buf).map_err(|_| Stop::WriterGone)?;
            }
            if n < CHUNK_BYTES {
                return Ok(total);
            }
        }
    }

    /// Reads into `buf` until it is full or the stream ends, hashing each
    /// piece as it arrives; returns how many bytes `buf` holds.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, TufError> {
        let mut filled = 0;
        while let Some(window) = buf.get_mut(filled..).filter(|w| !w.is_empty()) {
            let n = match self.reader.read(window) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error_to_tuf(e, self.url_path)),
            };
            let piece = window.get(..n).ok_or_else(|| TufError::Io {
                path: self.url_path.to_owned(),
                message: format!("the reader claimed {n} bytes into a smaller buffer"),
            })?;
            self.digests.update(piece);
            filled = filled.saturating_add(n);
        }
        Ok(filled)
    }

    /// Adds `n` bytes to `total` and reports progress when another
    /// [`PROGRESS_STEP`] has passed since `reported` (never at or past the
    /// expected length: that report is the caller's, once verified).
    fn advance(&mut self, total: u64, n: usize, reported: &mut u64) -> Result<u64, TufError> {
        let total = total
            .checked_add(u64::try_from(n).unwrap_or(u64::MAX))
            .ok_or_else(|| TufError::TooLarge {
                path: self.url_path.to_owned(),
                limit: self.expected_length,
            })?;
        if total < self.expected_length && total.saturating_sub(*reported) >= PROGRESS_STEP {
            *reported = total;
            (self.progress)(total, self.expected_length);
        }
        Ok(total)
    }
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
        let again = download_target_with_progress(
            &r.t,
            "fw.img",
            &r.out(),
            "fw.img",
            total,
            &h,
            &mut record,
        )
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
}
