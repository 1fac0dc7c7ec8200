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
mod tests;
