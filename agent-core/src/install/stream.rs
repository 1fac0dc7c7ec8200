//! Streaming a verified image into a block or image-file slot, and reading
//! it back from the device, overlapped (issue 5: "stream the target into
//! it …, fsync, read the slot back and check its hash"; benchmark goal: at
//! least 0.8 of `dd conv=fsync`).
//!
//! # The pipeline
//!
//! Four threads (`std::thread::scope`, so none outlives the call):
//!
//! - the calling thread reads the source file into chunks of
//!   [`CHUNK_BYTES`], counts the bytes against the verified length (a
//!   longer source stops the install) and hands each chunk to the writer;
//!   it does not hash them ("One SHA-256 pass", below);
//! - the writer thread writes each chunk at its offset in the slot and
//!   hands the chunk back to be filled again (at most [`CHUNKS`] exist);
//!   every [`WRITEBACK_BYTES`] it asks the writeback thread, without
//!   waiting, to sync what it has written so far; after the last chunk it
//!   `fsync`s the slot and tells the read-back thread the slot is complete;
//! - the writeback thread `fdatasync`s the slot on each request (early
//!   writeback, as the TUF download does: the disk writes while the
//!   copying and the read-back go on, and the final `fsync` finds little
//!   left), then tells the read-back thread how far the slot is now on
//!   the device;
//! - the read-back thread reads the slot back up to that point, in windows
//!   of [`READBACK_BYTES`], and hashes what it reads (SHA-256).
//!
//! The install goes on only when the source gave exactly the verified
//! length and the read-back's digest, over that length, equals the
//! verified SHA-256. Memory stays bounded (`CHUNKS * CHUNK_BYTES` plus
//! one window) whatever the image size; the slowest stage sets the pace.
//!
//! Why the read-back trails the writeback: it must read what the device
//! holds, so it reads only what `fdatasync` already put there (clean
//! pages, which it can drop from the page cache, below; an `O_DIRECT` read
//! of still-dirty pages would also make the kernel write them back and
//! wait, holding the file's lock, stalling the writer).
//!
//! # What the read-back reads
//!
//! The slot is read back through a second, ordinary (buffered) handle.
//! Before each synced range is read, it is dropped from the page cache
//! with `posix_fadvise(POSIX_FADV_DONTNEED)` (nix's safe wrapper).
//! posix_fadvise(2): DONTNEED frees the range's cached pages, except dirty
//! pages (not yet written back) — and the range was just `fdatasync`ed,
//! so its pages are clean and are freed: the buffered read that follows
//! comes from the device ([`ReadBackSource::Device`]), with the kernel's
//! readahead (`POSIX_FADV_SEQUENTIAL`) keeping the device busy while the
//! previous window is hashed. Buffered reads take no inode lock on ext4,
//! so on an image file the read-back overlaps the writing of later
//! ranges, which `O_DIRECT` reads did not (ext4 takes `i_rwsem` shared
//! for direct reads, exclusive for buffered writes).
//!
//! Measured with `tests/src/bin/bench_install.rs` (256 MiB, 2 CPUs, virtio
//! disk; `dd conv=fsync` 0.11–0.23 s), when the source was hashed too:
//! image file 0.35–0.40 s buffered vs 0.45–0.57 s `O_DIRECT`; loop block
//! device (`--block`) 0.29–0.32 s vs 0.40 s. The floor there was the CPU:
//! two SHA-256 passes (about 0.13 s each at 2.1 GB/s) on two cores.
//!
//! # One SHA-256 pass
//!
//! The source is not hashed while it is streamed; the read-back hash alone
//! is compared with the verified digest. That is enough, because:
//!
//! - the slot was marked bad (tries 0, journal `started`) before the first
//!   byte was written, and is switched to only after this function
//!   returns `Ok` — that is, only when the bytes the device gives back
//!   over the verified length have the verified SHA-256. Whatever the
//!   source held, no byte that does not match the signed metadata is ever
//!   booted;
//! - hashing the source while streaming never kept unverified bytes out of
//!   the slot anyway: its digest is known only after the last chunk was
//!   written;
//! - a source longer or shorter than the verified length is still refused
//!   ([`InstallError::SourceMismatch`]), while streaming (longer) or at
//!   the end (shorter), as are source read errors ([`InstallError::Io`]).
//!
//! Only when the read-back does not match is the source hashed, once,
//! from its start, to tell the two failures apart: a source that is not
//! the verified target is [`InstallError::SourceMismatch`] (a file
//! swapped or corrupted after the TUF download); a source that is, a slot
//! that did not keep what was written, is [`InstallError::ReadBack`]. A
//! source changed during the install may be reported either way; it is
//! refused either way. This halves the CPU an install takes, which on a
//! small device is what bounds its speed.
//!
//! Fallbacks: where the kernel refuses the advice at open, the read-back
//! opens the slot with `O_DIRECT` (std's `OpenOptionsExt::custom_flags`)
//! and reads [`READBACK_BYTES`] windows into a buffer aligned to
//! [`DIRECT_ALIGN`], at aligned offsets (also from the device). Where
//! that is refused too (`EINVAL`: some FUSE and network file systems), or
//! the advice fails later, the read-back goes through the page cache
//! ([`ReadBackSource::PageCache`]); the report and the `update.installed`
//! event say which was used. tmpfs has no device: its "device" is memory.
//! A device's own volatile cache, if it has one, may still serve the read.
//!
//! # Failures
//!
//! Any stage failing stops the others: the calling thread's read error or
//! length bound sets an abort flag and closes its channel; a write error
//! (`ENOSPC`, `EIO`) ends the writer, whose closed channels stop the
//! others at their next hand-over. The first error in pipeline order
//! (source, write, writeback, read-back) is returned. An early writeback
//! error is returned too, not left to the final `fsync` (after a failed
//! `fdatasync` Linux reports the error once per open file, so the final
//! `fsync` on the same file would not see it again).
//!
//! With one CPU, or when a thread cannot be started, the steps run one
//! after the other on the calling thread: write, `fsync`, read back
//! (hashing).

use super::{InstallError, InstallTarget, SlotConfig, SlotKind, hex};
use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

/// Size of one chunk read from the source, hashed and written.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// The most chunks in flight between the reader and the writer.
pub const CHUNKS: usize = 4;

/// Size of one read-back read (a multiple of [`DIRECT_ALIGN`]): large
/// reads keep the device busy.
pub const READBACK_BYTES: usize = 8 * 1024 * 1024;

/// Bytes written between two early-writeback requests.
pub const WRITEBACK_BYTES: usize = 16 * 1024 * 1024;

/// Alignment of the `O_DIRECT` read-back buffer, offsets and lengths (the
/// largest logical block size in use).
pub const DIRECT_ALIGN: usize = 4096;

/// Where the read-back check read the slot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBackSource {
    /// From the device: buffered after dropping the range from the page
    /// cache (`POSIX_FADV_DONTNEED`), or `O_DIRECT`.
    Device,
    /// Through the page cache: the slot's file system refused `O_DIRECT`.
    PageCache,
}

impl ReadBackSource {
    /// `device` or `page-cache` (event payloads).
    pub fn as_str(self) -> &'static str {
        match self {
            ReadBackSource::Device => "device",
            ReadBackSource::PageCache => "page-cache",
        }
    }
}

/// The fault-injection seam: called before each durable operation with
/// its name; an error is what that operation would have returned.
pub(super) type Seam<'s> = dyn Fn(&str) -> io::Result<()> + Sync + 's;

/// What [`write_and_check`] did.
#[derive(Debug)]
pub(super) struct Written {
    /// Bytes written (the verified length).
    pub bytes: u64,
    /// Where the read-back read from.
    pub read_back: ReadBackSource,
}

/// Where errors come from, to build them on any thread.
struct Names<'n> {
    slot: &'n SlotConfig,
    file: &'n Path,
    target: &'n InstallTarget,
}

impl Names<'_> {
    fn slot_io(&self, what: &str, source: io::Error) -> InstallError {
        InstallError::Io {
            what: format!("{what} slot {}", self.slot.name),
            path: self.slot.path.display().to_string(),
            source,
        }
    }
    fn src_io(&self, source: io::Error) -> InstallError {
        InstallError::Io {
            what: "reading".to_owned(),
            path: self.file.display().to_string(),
            source,
        }
    }
    fn mismatch(&self, reason: String) -> InstallError {
        InstallError::SourceMismatch {
            path: self.file.display().to_string(),
            target: self.target.name.clone(),
            reason,
        }
    }
    fn read_back(&self, found: String) -> InstallError {
        InstallError::ReadBack {
            slot: self.slot.name.clone(),
            expected: self.target.sha256.clone(),
            found,
        }
    }
}

/// Streams the verified target from `source` (`file` names it) into the
/// slot, fsyncs, and reads it back from the device (module documentation).
/// A source whose length is not the target's, or whose SHA-256 is not
/// (checked only when the read-back does not match: "One SHA-256 pass"),
/// is [`InstallError::SourceMismatch`]; a slot that does not give back
/// the verified image from the verified source is
/// [`InstallError::ReadBack`].
pub(super) fn write_and_check(
    slot: &SlotConfig,
    source: &mut File,
    file: &Path,
    target: &InstallTarget,
    seam: &Seam<'_>,
) -> Result<Written, InstallError> {
    let names = Names { slot, file, target };
    let out = open_slot(slot, target.length).map_err(|e| names.slot_io("opening", e))?;
    let back = open_read_back(slot).map_err(|e| names.slot_io("reading back", e))?;
    let parallel = matches!(thread::available_parallelism(), Ok(n) if n.get() > 1);
    let (done, back_hash) = match parallel
        .then(|| pipelined(&names, source, &out, &back, seam))
        .flatten()
    {
        Some(result) => result?,
        None => serial(&names, source, &out, &back, seam)?,
    };
    if done != target.length {
        return Err(names.mismatch(format!("{done} bytes, not the verified {}", target.length)));
    }
    if back_hash != target.sha256 {
        // Which failed, the source or the slot? Only now is the source
        // hashed (module documentation, "One SHA-256 pass").
        let got = hash_source(&names, source)?;
        if got != target.sha256 {
            return Err(
                names.mismatch(format!("SHA-256 {got}, not the verified {}", target.sha256))
            );
        }
        return Err(names.read_back(back_hash));
    }
    Ok(Written {
        bytes: done,
        read_back: back.source(),
    })
}

/// The SHA-256 of the whole source, read again from its start (only after
/// a read-back mismatch, to tell a bad source from a bad slot).
fn hash_source(names: &Names<'_>, source: &mut File) -> Result<String, InstallError> {
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| names.src_io(e))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut data = vec![0_u8; CHUNK_BYTES];
    let mut done: u64 = 0;
    loop {
        let n = fill(source, &mut data).map_err(|e| names.src_io(e))?;
        done = count(names, done, n)?;
        ctx.update(data.get(..n).unwrap_or_default());
        if n < CHUNK_BYTES {
            return Ok(hex(ctx.finish().as_ref()));
        }
    }
}

/// Reads from `source` until `buf` is full or the source ends; returns the
/// bytes read.
fn fill(source: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) {
        match source.read(rest) {
            Ok(0) => break,
            Ok(k) => n = n.saturating_add(k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Counts `n` more source bytes, refusing more than the verified length.
fn count(names: &Names<'_>, done: u64, n: usize) -> Result<u64, InstallError> {
    done.checked_add(to_u64(n))
        .filter(|d| *d <= names.target.length)
        .ok_or_else(|| names.mismatch(format!("longer than {} bytes", names.target.length)))
}

/// Writes `data` at `offset` in pieces of [`CHUNK_BYTES`], each behind the
/// `slot write` seam.
fn write_at(out: &File, mut offset: u64, data: &[u8], seam: &Seam<'_>) -> io::Result<()> {
    for piece in data.chunks(CHUNK_BYTES) {
        seam("slot write")?;
        out.write_all_at(piece, offset)?;
        offset = offset.saturating_add(to_u64(piece.len()));
    }
    Ok(())
}

/// The read-back window: a buffer of [`READBACK_BYTES`] aligned to
/// [`DIRECT_ALIGN`], carved out of a slightly larger allocation (safe code
/// cannot allocate with an alignment; `align_offset` finds the start).
struct Window {
    raw: Vec<u8>,
    start: usize,
}

impl Window {
    fn new() -> Window {
        let raw = vec![0_u8; READBACK_BYTES.saturating_add(DIRECT_ALIGN)];
        let start = raw.as_ptr().align_offset(DIRECT_ALIGN);
        Window { raw, start }
    }

    /// Reads `len` bytes of the slot at `offset` (a multiple of
    /// [`DIRECT_ALIGN`]) into the window and returns them. With `O_DIRECT`
    /// the read length is rounded up to [`DIRECT_ALIGN`]; a short read past
    /// the end of a file is expected there.
    fn read(&mut self, back: &ReadBack, offset: u64, len: usize) -> io::Result<&[u8]> {
        let rounded = len
            .div_ceil(DIRECT_ALIGN)
            .saturating_mul(DIRECT_ALIGN)
            .min(READBACK_BYTES);
        let end = self.start.saturating_add(rounded);
        let buf = self
            .raw
            .get_mut(self.start..end)
            .ok_or_else(|| io::Error::other("read-back window out of range"))?;
        let mut got = 0;
        while got < len {
            let rest = buf.get_mut(got..).unwrap_or_default();
            match back.file.read_at(rest, offset.saturating_add(to_u64(got))) {
                Ok(0) => break,
                Ok(k) => {
                    got = got.saturating_add(k);
                    // An unaligned count from O_DIRECT means end of file.
                    if back.direct && got % DIRECT_ALIGN != 0 {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if got < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{got} bytes at offset {offset}, not {len}"),
            ));
        }
        Ok(buf.get(..len).unwrap_or_default())
    }
}

/// The read-back handle (module documentation, "What the read-back reads").
struct ReadBack {
    file: File,
    /// Opened with `O_DIRECT`: reads bypass the page cache.
    direct: bool,
    /// Buffered: the synced range is dropped from the page cache before it
    /// is read; false once the kernel refused that (then the read-back
    /// went through the page cache).
    dropped: AtomicBool,
}

impl ReadBack {
    fn source(&self) -> ReadBackSource {
        if self.direct || self.dropped.load(Ordering::Relaxed) {
            ReadBackSource::Device
        } else {
            ReadBackSource::PageCache
        }
    }

    /// Drops `from..to` of the slot, already on the device, from the page
    /// cache so that the buffered read that follows comes from the device
    /// (posix_fadvise(2), `POSIX_FADV_DONTNEED`: clean pages are freed).
    fn drop_cached(&self, from: u64, to: u64) {
        if self.direct {
            return;
        }
        let (Ok(offset), Ok(len)) = (
            libc::off_t::try_from(from),
            libc::off_t::try_from(to.saturating_sub(from)),
        ) else {
            self.dropped.store(false, Ordering::Relaxed);
            return;
        };
        if let Err(e) = posix_fadvise(
            &self.file,
            offset,
            len,
            PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        ) {
            if self.dropped.swap(false, Ordering::Relaxed) {
                log::warn!(
                    "read-back: POSIX_FADV_DONTNEED refused ({e}); reading through the page cache"
                );
            }
        }
    }
}

/// Reads the slot back from `from` to `to` (`from` a multiple of
/// [`DIRECT_ALIGN`], the range already on the device) into `ctx`.
fn hash_back(
    names: &Names<'_>,
    back: &ReadBack,
    window: &mut Window,
    ctx: &mut ring::digest::Context,
    from: u64,
    to: u64,
) -> Result<(), InstallError> {
    back.drop_cached(from, to);
    let mut at = from;
    while at < to {
        let len = usize::try_from(to.saturating_sub(at))
            .unwrap_or(usize::MAX)
            .min(READBACK_BYTES);
        let read = window
            .read(back, at, len)
            .map_err(|e| names.slot_io("reading back", e))?;
        ctx.update(read);
        at = at.saturating_add(to_u64(len));
    }
    Ok(())
}

/// All stages on the calling thread, one after the other; returns the
/// bytes written and the read-back's SHA-256.
fn serial(
    names: &Names<'_>,
    source: &mut File,
    out: &File,
    back: &ReadBack,
    seam: &Seam<'_>,
) -> Result<(u64, String), InstallError> {
    let mut data = vec![0_u8; CHUNK_BYTES];
    let mut done: u64 = 0;
    loop {
        let n = fill(source, &mut data).map_err(|e| names.src_io(e))?;
        let piece = data.get(..n).unwrap_or_default();
        let offset = done;
        done = count(names, done, n)?;
        write_at(out, offset, piece, seam).map_err(|e| names.slot_io("writing", e))?;
        if n < CHUNK_BYTES {
            break;
        }
    }
    seam("slot fsync")
        .and_then(|()| out.sync_all())
        .map_err(|e| names.slot_io("syncing", e))?;
    let mut back_ctx = ring::digest::Context::new(&ring::digest::SHA256);
    hash_back(names, back, &mut Window::new(), &mut back_ctx, 0, done)?;
    Ok((done, hex(back_ctx.finish().as_ref())))
}

/// The four stages (module documentation); `None` when a thread could not
/// be started (nothing was read then). Returns the bytes written and the
/// read-back's SHA-256.
fn pipelined(
    names: &Names<'_>,
    source: &mut File,
    out: &File,
    back: &ReadBack,
    seam: &Seam<'_>,
) -> Option<Result<(u64, String), InstallError>> {
    let abort = AtomicBool::new(false);
    thread::scope(|scope| {
        let abort = &abort;
        // "The slot is on the device up to here", to the read-back stage.
        let (synced_tx, synced_rx) = mpsc::channel::<u64>();
        let synced_by_writer = synced_tx.clone();
        let (sync_tx, sync_rx) = mpsc::sync_channel::<u64>(1);
        let syncer = thread::Builder::new()
            .name("dha-install-writeback".to_owned())
            .spawn_scoped(scope, move || -> Result<(), InstallError> {
                for upto in sync_rx {
                    if abort.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Err(e) = out.sync_data() {
                        abort.store(true, Ordering::Relaxed);
                        return Err(names.slot_io("writing back", e));
                    }
                    // The read-back stage may have ended; its result says why.
                    let _ = synced_tx.send(upto);
                }
                Ok(())
            })
            .ok();
        let sync_tx = syncer.is_some().then_some(sync_tx);
        let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(CHUNKS);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let writer = thread::Builder::new()
            .name("dha-install-writer".to_owned())
            .spawn_scoped(scope, move || {
                let result = (|| -> Result<(), InstallError> {
                    let mut offset: u64 = 0;
                    let mut since_sync = 0_usize;
                    // Ends when the reading stage drops its sender.
                    for (chunk, n) in full_rx {
                        if abort.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let data = chunk.get(..n).unwrap_or_default();
                        write_at(out, offset, data, seam)
                            .map_err(|e| names.slot_io("writing", e))?;
                        offset = offset.saturating_add(to_u64(n));
                        // The reader may have stopped; then it is dropped.
                        let _ = free_tx.send(chunk);
                        since_sync = since_sync.saturating_add(n);
                        if since_sync >= WRITEBACK_BYTES {
                            since_sync = 0;
                            if let Some(tx) = &sync_tx {
                                // Never waits: a request already queued is
                                // followed by a later one (measured: waiting
                                // for each fdatasync halves the throughput).
                                let _ = tx.try_send(offset);
                            }
                        }
                    }
                    drop(sync_tx);
                    if abort.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    seam("slot fsync")
                        .and_then(|()| out.sync_all())
                        .map_err(|e| names.slot_io("syncing", e))?;
                    let _ = synced_by_writer.send(offset);
                    Ok(())
                })();
                if result.is_err() {
                    abort.store(true, Ordering::Relaxed);
                }
                result
            })
            .ok();
        let checker = thread::Builder::new()
            .name("dha-install-readback".to_owned())
            .spawn_scoped(scope, move || -> Result<(u64, String), InstallError> {
                let mut window = Window::new();
                let mut back_ctx = ring::digest::Context::new(&ring::digest::SHA256);
                let mut read_to: u64 = 0;
                // Ends when the writer and the writeback thread are done.
                for upto in synced_rx {
                    if abort.load(Ordering::Relaxed) {
                        break;
                    }
                    if upto > read_to {
                        hash_back(names, back, &mut window, &mut back_ctx, read_to, upto)
                            .inspect_err(|_| abort.store(true, Ordering::Relaxed))?;
                        read_to = upto;
                    }
                }
                Ok((read_to, hex(back_ctx.finish().as_ref())))
            })
            .ok();
        let (Some(writer), Some(checker)) = (writer, checker) else {
            // Nothing was sent: the stages that started end at once.
            abort.store(true, Ordering::Relaxed);
            return None;
        };
        // The reading stage, here.
        let read_result = (|| -> Result<u64, Option<InstallError>> {
            let mut allocated = 0_usize;
            let mut done: u64 = 0;
            loop {
                let mut chunk = if allocated < CHUNKS {
                    allocated = allocated.saturating_add(1);
                    vec![0_u8; CHUNK_BYTES]
                } else {
                    // All chunks are with the writer: wait for one (or for
                    // its end, whose result says why).
                    free_rx.recv().map_err(|_| None)?
                };
                let n = fill(source, &mut chunk).map_err(|e| Some(names.src_io(e)))?;
                done = count(names, done, n).map_err(Some)?;
                if n > 0 && full_tx.send((chunk, n)).is_err() {
                    return Err(None);
                }
                if n < CHUNK_BYTES {
                    return Ok(done);
                }
            }
        })();
        if matches!(read_result, Err(Some(_))) {
            abort.store(true, Ordering::Relaxed);
        }
        drop(full_tx);
        drop(free_rx);
        let panicked = |what: &str| InstallError::Refused(format!("the {what} thread panicked"));
        let write_result = writer.join().unwrap_or_else(|_| Err(panicked("writer")));
        let sync_result = syncer.map_or(Ok(()), |s| {
            s.join().unwrap_or_else(|_| Err(panicked("writeback")))
        });
        let check_result = checker
            .join()
            .unwrap_or_else(|_| Err(panicked("read-back")));
        let result = match read_result {
            Err(Some(e)) => Err(e),
            Err(None) => write_result
                .and(sync_result)
                .and(check_result)
                .and_then(|_| {
                    Err(InstallError::Refused(
                        "the install pipeline stopped early".into(),
                    ))
                }),
            Ok(done) => {
                write_result
                    .and(sync_result)
                    .and(check_result)
                    .and_then(|(read_to, hash)| {
                        if read_to == done {
                            Ok((done, hash))
                        } else {
                            Err(names.read_back(format!("(read back {read_to} of {done} bytes)")))
                        }
                    })
            }
        };
        Some(result)
    })
}

/// Opens a slot for writing: an image file is created when missing (never
/// truncated); a block device must exist, be one, and hold `length` bytes.
fn open_slot(slot: &SlotConfig, length: u64) -> io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    match slot.kind {
        SlotKind::Image => {
            let f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&slot.path)?;
            if !f.metadata()?.is_file() {
                return Err(io::Error::other("not a regular file (kind = \"image\")"));
            }
            Ok(f)
        }
        SlotKind::Block => {
            let mut f = OpenOptions::new().write(true).open(&slot.path)?;
            if !f.metadata()?.file_type().is_block_device() {
                return Err(io::Error::other("not a block device (kind = \"block\")"));
            }
            let size = f.seek(SeekFrom::End(0))?;
            if size < length {
                return Err(io::Error::other(format!(
                    "{size} bytes, too small for the {length}-byte image"
                )));
            }
            f.seek(SeekFrom::Start(0))?;
            Ok(f)
        }
        SlotKind::Directory => Err(io::Error::other(
            "a directory slot takes a tar archive, not an image",
        )),
    }
}

/// Opens the slot for the read-back (module documentation, "What the
/// read-back reads").
fn open_read_back(slot: &SlotConfig) -> io::Result<ReadBack> {
    let file = File::open(&slot.path)?;
    // The probe drops nothing the install needs (the slot is not written
    // yet); it tells whether the kernel takes the advice on this file.
    match posix_fadvise(&file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED) {
        Ok(()) => {
            // Advice only (a larger readahead window): its failure is harmless.
            let _ = posix_fadvise(&file, 0, 0, PosixFadviseAdvice::POSIX_FADV_SEQUENTIAL);
            return Ok(ReadBack {
                file,
                direct: false,
                dropped: AtomicBool::new(true),
            });
        }
        Err(e) => log::debug!(
            "slot {} ({}): POSIX_FADV_DONTNEED refused ({e}); reading back with O_DIRECT",
            slot.name,
            slot.path.display()
        ),
    }
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(&slot.path)
    {
        Ok(file) => Ok(ReadBack {
            file,
            direct: true,
            dropped: AtomicBool::new(false),
        }),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            log::warn!(
                "slot {} ({}): O_DIRECT refused; the read-back goes through the page cache",
                slot.name,
                slot.path.display()
            );
            Ok(ReadBack {
                file: File::open(&slot.path)?,
                direct: false,
                dropped: AtomicBool::new(false),
            })
        }
        Err(e) => Err(e),
    }
}

/// For tests: the SHA-256 of the slot's first `length` bytes, read back
/// as the read-back stage does.
#[cfg(test)]
pub(super) fn hash_file(
    slot: &SlotConfig,
    length: u64,
) -> Result<(String, ReadBackSource), InstallError> {
    let target = InstallTarget::assumed_verified("<test>", b"", 0);
    let file = Path::new("<test>");
    let names = Names {
        slot,
        file,
        target: &target,
    };
    let back = open_read_back(slot).map_err(|e| names.slot_io("reading back", e))?;
    // As the pipeline does: only what is on the device is read back.
    back.file
        .sync_data()
        .map_err(|e| names.slot_io("syncing", e))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    hash_back(&names, &back, &mut Window::new(), &mut ctx, 0, length)?;
    Ok((hex(ctx.finish().as_ref()), back.source()))
}
