//! The append-only event log: hash-chained records authenticated with a
//! forward-evolving HMAC key (issue 5, "Tamper-evident event log").
//!
//! # Keys
//!
//! The integrator creates the log with a random 32-byte initial key `K_0`
//! ([`InitialKey`]) and keeps a copy away from the device (the only key that
//! verifies the whole log, [`super::verify()`]). Record `i` is tagged with
//! HMAC-SHA-256 under `K_i`; then `K_{i+1} = HKDF-SHA-256(salt = "",
//! IKM = K_i, info = "dha eventlog key evolution v1", L = 32)` (RFC 5869,
//! through ring) and `K_i` is overwritten ([`zeroize`]). The device only
//! ever holds the key of the *next* record, so whoever takes it over later
//! can append but cannot forge, reorder or remove earlier records without
//! the verifier noticing (the forward-secure MAC scheme of Bellare–Yee,
//! "Forward-security in private-key cryptography", 2003).
//!
//! ring's `hmac::Key` and `hkdf::Prk` do not zeroize their internal copies
//! of a key when dropped; they live only for the duration of one call.
//!
//! # The key file
//!
//! Next to the log, mode 0600, 128 bytes, every integer big-endian:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 8 | magic `DHAELKY1` |
//! | 8 | 8 | sequence number of the next record |
//! | 16 | 8 | committed length of the log (bytes) |
//! | 24 | 8 | offset of the last committed record (0 when none) |
//! | 32 | 32 | hash of the last committed record (zeros when none) |
//! | 64 | 32 | the key of the next record |
//! | 96 | 32 | SHA-256 of bytes 0 .. 96 (detects a corrupted file) |
//!
//! # Crash order
//!
//! [`EventLog::commit`] writes the group's records at the committed end
//! and fdatasyncs the log, *then* replaces the key file atomically
//! ([`crate::durable::write_atomic_defer_dir_sync`]). A crash before the
//! records are durable leaves a log whose tail beyond the key file's
//! committed length is torn or absent; a crash between the two steps (or a
//! rename not yet made durable by a directory fsync) leaves whole records
//! beyond the committed length, written under the keys that follow the one
//! in the key file. [`EventLog::open`] verifies such records with the key
//! file's key and adopts them (rolling the key forward and rewriting the
//! key file), and reports anything after the last good record as a torn
//! tail ([`OpenOutcome::TornTail`]), never dropping it silently. The key
//! file thus always matches a prefix of the log. A log shorter than the
//! key file's committed length, or whose last committed record does not
//! have the recorded hash, is an error ([`EventLogError::Mismatch`]).
//!
//! A crash while the key file is replaced can leave its temporary copy
//! beside it, holding a key the log has since evolved past; `open` and
//! `create` remove such copies (forward security). A crash during
//! [`EventLog::create`] before the key file exists leaves a log holding at
//! most its magic, which the next `create` takes over. The fault-injection
//! tests (`fault_tests.rs`) crash, tear, and fail with `EIO` and `ENOSPC`
//! every durable step of these paths.

pub use super::keys::InitialKey;
use super::keys::{RawKey, evolve, tag, tag_ok};
use super::record::{self, Digest, Fields, MAGIC, ReadError, Reader};
use super::{BootId, Event, EventKind, Monotonic, ProcessMonotonic};
use crate::{Clock, Severity, SystemClock, fault};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The key file's magic.
const KEY_MAGIC: &[u8; 8] = b"DHAELKY1";
/// The key file's length.
const KEY_FILE_LEN: usize = 128;

/// Errors of the event log. They name the file and what failed, never a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    /// A file could not be read or written.
    #[error("{path}: {what}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operation.
        what: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// A key file is not in the expected format.
    #[error("{path}: {what}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The log's committed part is not a log (bad magic, malformed record).
    #[error("{path}: {what}")]
    Format {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The log does not match its key file (shortened, or its last committed
    /// record replaced): tampering or a lost write.
    #[error("{path}: does not match its key file: {what}")]
    Mismatch {
        /// The log.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// The log or key file already exists (creation refuses to overwrite).
    #[error("{path}: already exists; refusing to overwrite an event log or key")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// An event cannot be recorded (its payload is too large).
    #[error("event {kind}: {what}")]
    Event {
        /// The event's kind.
        kind: EventKind,
        /// What is wrong.
        what: String,
    },
    /// A commit failed earlier: the in-memory key no longer matches the
    /// file. Reopen the log (which recovers what reached the disk).
    #[error("{path}: an earlier commit failed; reopen the event log")]
    Poisoned {
        /// The log.
        path: PathBuf,
    },
    /// The random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// Another writer (process or handle) holds the event log's lock and
    /// did not release it within [`LOCK_WAIT`].
    #[error("{path}: the event log is in use by another writer (waited {waited_ms} ms)")]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long it waited.
        waited_ms: u64,
    },
}

/// How long [`EventLog::open`] and [`EventLog::create`] wait for another
/// writer to release the log ([`EventLogError::Busy`] after that).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The exclusive lock of one event log: an `flock(2)` of the key file's
/// name with `.lock` appended, held as long as the [`EventLog`] lives, so
/// that two writers (a console through the C ABI and the `dha` command,
/// say) never append under the same sequence number and key. The kernel
/// releases it when the process ends, so a crash leaves no stale lock; the
/// lock file is never removed (two writers could then lock two files).
/// nix's safe wrapper, because std's `File::try_lock` is newer than the
/// workspace's `rust-version`.
struct WriterLock {
    _held: nix::fcntl::Flock<File>,
}

impl WriterLock {
    fn acquire(key_path: &Path) -> Result<WriterLock, EventLogError> {
        let mut name = key_path.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(&path, "cannot open the lock file"))?;
        let started = std::time::Instant::now();
        loop {
            match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
                Ok(held) => return Ok(WriterLock { _held: held }),
                Err((f, nix::errno::Errno::EWOULDBLOCK)) => {
                    let waited = started.elapsed();
                    if waited >= LOCK_WAIT {
                        return Err(EventLogError::Busy {
                            path,
                            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    file = f;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err((_, e)) => {
                    return Err(io_err(&path, "cannot lock the event log")(io::Error::from(
                        e,
                    )));
                }
            }
        }
    }
}

pub(crate) fn io_err<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(io::Error) -> EventLogError + 'a {
    move |source| EventLogError::Io {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// The log a creation interrupted before its key file existed, opened for
/// writing: a regular file holding a prefix of the magic (see
/// [`EventLog::create`]); anything else is [`EventLogError::Exists`].
fn interrupted_creation(path: &Path) -> Result<File, EventLogError> {
    let exists = || EventLogError::Exists {
        path: path.to_path_buf(),
    };
    if !path.symlink_metadata().is_ok_and(|m| m.is_file()) {
        return Err(exists());
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err(path, "cannot open the event log"))?;
    let mut head = Vec::new();
    (&file)
        .take(MAGIC.len() as u64 + 1)
        .read_to_end(&mut head)
        .map_err(io_err(path, "cannot read the event log"))?;
    if !MAGIC.starts_with(&head) {
        return Err(exists());
    }
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io_err(path, "cannot set the event log's mode"))?;
    Ok(file)
}

/// Removes the temporaries that an interrupted replacement of the key file
/// left beside it ([`crate::durable::temp_prefix_for`] the key file, that begin with
/// the key file's magic): each may hold an earlier key, from which the
/// records after it could be forged. Other temporaries in the directory
/// (other components' writes) are left alone.
fn remove_stale_key_temporaries(key_path: &Path) -> Result<(), EventLogError> {
    let dir = parent_dir(key_path);
    let list = "cannot list the key file's directory";
    // Only this key file's temporaries: another log's key file in the same
    // directory may be mid-replacement under its own writer lock.
    let ours = crate::durable::temp_prefix_for(key_path);
    for entry in std::fs::read_dir(dir).map_err(io_err(dir, list))? {
        let entry = entry.map_err(io_err(dir, list))?;
        if !entry.file_name().to_string_lossy().starts_with(&ours)
            || !entry.file_type().is_ok_and(|t| t.is_file())
        {
            continue;
        }
        let path = entry.path();
        let mut magic = [0u8; KEY_MAGIC.len()];
        if File::open(&path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok_and(|()| &magic == KEY_MAGIC)
        {
            fault::remove_file(&path)
                .map_err(io_err(&path, "cannot remove a stale copy of the key file"))?;
        }
    }
    Ok(())
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What the key file holds (see the module docs).
struct KeyState {
    next_seq: u64,
    end: u64,
    last_offset: u64,
    head_hash: Digest,
    key: RawKey,
}

impl KeyState {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut b = Zeroizing::new(Vec::with_capacity(KEY_FILE_LEN));
        b.extend_from_slice(KEY_MAGIC);
        b.extend_from_slice(&self.next_seq.to_be_bytes());
        b.extend_from_slice(&self.end.to_be_bytes());
        b.extend_from_slice(&self.last_offset.to_be_bytes());
        b.extend_from_slice(&self.head_hash);
        b.extend_from_slice(self.key.as_ref());
        let sum = record::sha256(&b);
        b.extend_from_slice(&sum);
        b
    }

    fn decode(path: &Path, b: &[u8]) -> Result<Self, EventLogError> {
        let bad = |what: &str| EventLogError::KeyFile {
            path: path.to_path_buf(),
            what: format!("not an event-log key file: {what}"),
        };
        if b.len() != KEY_FILE_LEN {
            return Err(bad(&format!("{} bytes, expected {KEY_FILE_LEN}", b.len())));
        }
        let field = |a: usize, z: usize| b.get(a..z).ok_or_else(|| bad("short"));
        if field(0, 8)? != KEY_MAGIC {
            return Err(bad("no DHAELKY1 magic"));
        }
        if record::sha256(field(0, 96)?).as_slice() != field(96, 128)? {
            return Err(bad("checksum mismatch (corrupted)"));
        }
        let u64_at = |a: usize| -> Result<u64, EventLogError> {
            Ok(u64::from_be_bytes(
                field(a, a + 8)?.try_into().map_err(|_| bad("short"))?,
            ))
        };
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(field(64, 96)?);
        Ok(KeyState {
            next_seq: u64_at(8)?,
            end: u64_at(16)?,
            last_offset: u64_at(24)?,
            head_hash: field(32, 64)?.try_into().map_err(|_| bad("short"))?,
            key,
        })
    }
}

/// Where records get their boot id and times.
pub struct Stamps {
    /// The boot id recorded with every record.
    pub boot_id: BootId,
    /// The wall clock.
    pub clock: Box<dyn Clock>,
    /// The monotonic clock.
    pub monotonic: Box<dyn Monotonic>,
}

impl Stamps {
    /// The running system's: [`BootId::detect`], [`SystemClock`],
    /// [`ProcessMonotonic`].
    pub fn system() -> Self {
        Stamps {
            boot_id: BootId::detect(),
            clock: Box::new(SystemClock),
            monotonic: Box::new(ProcessMonotonic::new()),
        }
    }
}

/// An open event log, appending.
///
/// [`append`](Self::append) buffers a record (and evolves the key at once);
/// [`commit`](Self::commit) makes the group durable with one fdatasync and
/// one key-file replacement. Records appended but not committed when the
/// value is dropped are lost (commit first). After a failed commit every
/// further call fails ([`EventLogError::Poisoned`]); reopen the log.
pub struct EventLog {
    path: PathBuf,
    key_path: PathBuf,
    file: File,
    stamps: Stamps,
    /// Sequence number of the next record (pending ones included).
    next_seq: u64,
    /// The key of the next record.
    key: RawKey,
    /// Hash and offset of the last record (pending ones included).
    head_hash: Digest,
    last_offset: u64,
    /// Length of the log with the pending records.
    end: u64,
    /// Length of the log on disk (committed).
    committed_end: u64,
    /// Encoded records not yet written.
    pending: Vec<u8>,
    poisoned: bool,
    /// Held for the life of the value: one writer at a time.
    _lock: WriterLock,
}

/// What [`EventLog::open`] found.
#[must_use]
pub enum OpenOutcome {
    /// The log is consistent and ready; `rolled_forward` records that a
    /// crash left beyond the key file were verified and adopted.
    Ready {
        /// The log.
        log: EventLog,
        /// Whole records adopted after a crash between their fsync and the
        /// key file's update.
        rolled_forward: u64,
    },
    /// The log ends with bytes that are not a valid record: a torn write
    /// (or a forged tail). Nothing can be appended until the caller decides
    /// ([`TornLog::truncate_and_record`]).
    TornTail(TornLog),
}

/// A log with a torn tail, reported by [`EventLog::open`].
pub struct TornLog {
    log: EventLog,
    offset: u64,
    bytes: u64,
}

impl TornLog {
    /// Where the torn tail starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many bytes it has.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Cuts the torn tail off and records an `eventlog.tampered` event
    /// (severity high; payload: `reason` "torn-tail", `offset`, `bytes`,
    /// `sha256` of the bytes removed), durably.
    ///
    /// A crash between the cut and the event's commit leaves a clean log
    /// without the event: the caller records what it knows again then.
    pub fn truncate_and_record(self) -> Result<EventLog, EventLogError> {
        let TornLog {
            mut log,
            offset,
            bytes,
        } = self;
        let path = log.path.clone();
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut f = &log.file;
        f.seek(SeekFrom::Start(offset))
            .map_err(io_err(&path, "cannot seek"))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(io_err(&path, "cannot read the torn tail"))?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            ctx.update(chunk);
        }
        fault::set_len(&log.file, offset)
            .and_then(|()| fault::sync_data(&log.file))
            .map_err(io_err(&path, "cannot truncate the torn tail"))?;
        let event = Event::new(EventKind::EventLogTampered, Severity::High)
            .with("reason", "torn-tail")
            .with("offset", offset)
            .with("bytes", bytes)
            .with("sha256", record::hex(ctx.finish().as_ref()));
        log.append_durable(&event)?;
        Ok(log)
    }
}

impl EventLog {
    /// Creates a log and its key file from the initial key; refuses to
    /// overwrite either.
    ///
    /// One exception: a log that a creation interrupted by a crash left
    /// behind (no key file, and the log holds at most its magic, so no
    /// record was ever written to it) is taken over, so that a power cut
    /// during creation never leaves a state that neither [`Self::open`]
    /// nor [`Self::create`] accepts.
    pub fn create(
        path: &Path,
        key_path: &Path,
        initial: &InitialKey,
        stamps: Stamps,
    ) -> Result<EventLog, EventLogError> {
        let lock = WriterLock::acquire(key_path)?;
        if key_path.symlink_metadata().is_ok() {
            return Err(EventLogError::Exists {
                path: key_path.to_path_buf(),
            });
        }
        remove_stale_key_temporaries(key_path)?;
        let file = match fault::create(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600),
            path,
        ) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => interrupted_creation(path)?,
            Err(e) => return Err(io_err(path, "cannot create the event log")(e)),
        };
        // The log's directory entry is made durable before the key file
        // exists: a key file without its log would look like a deleted log.
        fault::write_all_at(&file, MAGIC, 0)
            .and_then(|()| fault::sync_all(&file))
            .and_then(|()| crate::durable::sync_dir(parent_dir(path)))
            .map_err(io_err(path, "cannot write the event log"))?;
        let state = KeyState {
            next_seq: 0,
            end: MAGIC.len() as u64,
            last_offset: 0,
            head_hash: [0; 32],
            key: Zeroizing::new(*initial.as_bytes()),
        };
        crate::durable::write_atomic(key_path, &state.encode(), Some(0o600))
            .map_err(io_err(key_path, "cannot write the key file"))?;
        Ok(EventLog {
            path: path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            file,
            stamps,
            next_seq: 0,
            key: state.key,
            head_hash: [0; 32],
            last_offset: 0,
            end: state.end,
            committed_end: state.end,
            pending: Vec::new(),
            poisoned: false,
            _lock: lock,
        })
    }

    /// Opens a log with its key file: checks that the log matches the key
    /// file, adopts whole records a crash left beyond it, and reports a torn
    /// tail (see the module docs).
    pub fn open(
        path: &Path,
        key_path: &Path,
        stamps: Stamps,
    ) -> Result<OpenOutcome, EventLogError> {
        // A missing key file is reported as such, before a lock file is
        // created beside it.
        key_path
            .symlink_metadata()
            .map_err(io_err(key_path, "cannot read the key file"))?;
        let lock = WriterLock::acquire(key_path)?;
        let mut raw = Zeroizing::new(Vec::new());
        File::open(key_path)
            .and_then(|f| f.take(KEY_FILE_LEN as u64 + 1).read_to_end(&mut raw))
            .map_err(io_err(key_path, "cannot read the key file"))?;
        let state = KeyState::decode(key_path, &raw)?;
        remove_stale_key_temporaries(key_path)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_err(path, "cannot open the event log"))?;
        let len = file
            .metadata()
            .map_err(io_err(path, "cannot stat the event log"))?
            .len();
        let mismatch = |what: String| EventLogError::Mismatch {
            path: path.to_path_buf(),
            what,
        };
        if len < state.end {
            return Err(mismatch(format!(
                "{len} bytes, but {} were committed (truncated)",
                state.end
            )));
        }
        let format = |e: ReadError| EventLogError::Format {
            path: path.to_path_buf(),
            what: e.to_string(),
        };
        let mut f = &file;
        f.seek(SeekFrom::Start(0))
            .map_err(io_err(path, "cannot seek"))?;
        Reader::new(io::BufReader::new(f)).map_err(format)?;
        if state.next_seq == 0 {
            if state.end != MAGIC.len() as u64 {
                return Err(mismatch(
                    "no record committed but a non-empty length".into(),
                ));
            }
        } else {
            f.seek(SeekFrom::Start(state.last_offset))
                .map_err(io_err(path, "cannot seek"))?;
            let last = Reader::at(io::BufReader::new(f), state.last_offset)
                .next_record()
                .map_err(format)?
                .ok_or_else(|| mismatch("no record at the last committed offset".into()))?;
            let end = state.last_offset.checked_add(last.bytes.len() as u64);
            if end != Some(state.end)
                || Some(last.record.seq) != state.next_seq.checked_sub(1)
                || last.hash() != state.head_hash
            {
                return Err(mismatch(format!(
                    "the last committed record (sequence {}) differs",
                    state.next_seq.saturating_sub(1)
                )));
            }
        }
        let mut log = EventLog {
            path: path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            file,
            stamps,
            next_seq: state.next_seq,
            key: state.key,
            head_hash: state.head_hash,
            last_offset: state.last_offset,
            end: state.end,
            committed_end: state.end,
            pending: Vec::new(),
            poisoned: false,
            _lock: lock,
        };
        // Roll forward over whole, authentic records past the key file.
        let mut rolled = 0u64;
        let mut f = &log.file;
        f.seek(SeekFrom::Start(state.end))
            .map_err(io_err(path, "cannot seek"))?;
        let mut reader = Reader::at(io::BufReader::new(f), state.end);
        let torn_at = loop {
            match reader.next_record() {
                Ok(None) => break None,
                Ok(Some(r))
                    if r.record.seq == log.next_seq
                        && r.record.prev_hash == log.head_hash
                        && tag_ok(&log.key, r.tagged_bytes(), r.tag()) =>
                {
                    log.key = evolve(&log.key);
                    log.head_hash = r.hash();
                    log.last_offset = r.offset;
                    log.next_seq = log.next_seq.saturating_add(1);
                    log.end = r.offset.saturating_add(r.bytes.len() as u64);
                    log.committed_end = log.end;
                    rolled = rolled.saturating_add(1);
                }
                Ok(Some(r)) => break Some(r.offset),
                Err(ReadError::Torn { offset, .. } | ReadError::Malformed { offset, .. }) => {
                    break Some(offset);
                }
                Err(ReadError::Io(e)) => return Err(io_err(path, "cannot read the event log")(e)),
            }
        };
        if rolled > 0 {
            log.write_key_file()?;
        }
        match torn_at {
            None => Ok(OpenOutcome::Ready {
                log,
                rolled_forward: rolled,
            }),
            Some(offset) => Ok(OpenOutcome::TornTail(TornLog {
                log,
                offset,
                bytes: len.saturating_sub(offset),
            })),
        }
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last committed record (keep it elsewhere for
    /// [`super::verify()`]'s `head`); `None` while nothing is committed.
    pub fn head(&self) -> Option<super::Head> {
        if !self.pending.is_empty() || self.next_seq == 0 {
            // The committed head is not tracked separately while records
            // are pending: commit first.
            return None;
        }
        Some(super::Head {
            seq: self.next_seq.saturating_sub(1),
            hash: self.head_hash,
        })
    }

    /// The sequence number the next appended record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends a record to the pending group (not yet durable); returns its
    /// sequence number. The key evolves at once, the previous one erased.
    pub fn append(&mut self, event: &Event) -> Result<u64, EventLogError> {
        if self.poisoned {
            return Err(EventLogError::Poisoned {
                path: self.path.clone(),
            });
        }
        let seq = self.next_seq;
        let mut bytes = record::encode_untagged(&Fields {
            seq,
            prev_hash: &self.head_hash,
            boot_id: self.stamps.boot_id,
            wall: self.stamps.clock.now(),
            mono_nanos: self.stamps.monotonic.nanos(),
            event,
        })
        .map_err(|what| EventLogError::Event {
            kind: event.kind,
            what,
        })?;
        let t = tag(&self.key, &bytes);
        bytes.extend_from_slice(&t);
        let next_seq = seq.checked_add(1).ok_or_else(|| EventLogError::Event {
            kind: event.kind,
            what: "the sequence number space is exhausted".into(),
        })?;
        // Assigning drops (and so zeroizes) the previous key.
        self.key = evolve(&self.key);
        self.head_hash = record::sha256(&bytes);
        self.last_offset = self.end;
        self.end = self.end.saturating_add(bytes.len() as u64);
        self.next_seq = next_seq;
        self.pending.extend_from_slice(&bytes);
        Ok(seq)
    }

    /// Writes the pending records and makes them durable: one write, one
    /// fdatasync, then the key file (see "Crash order" in the module docs).
    pub fn commit(&mut self) -> Result<(), EventLogError> {
        if self.poisoned {
            return Err(EventLogError::Poisoned {
                path: self.path.clone(),
            });
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = fault::write_all_at(&self.file, &self.pending, self.committed_end)
            .and_then(|()| fault::sync_data(&self.file))
            .map_err(io_err(&self.path, "cannot write the event log"))
            .and_then(|()| self.write_key_file());
        match result {
            Ok(()) => {
                self.pending.clear();
                self.committed_end = self.end;
                Ok(())
            }
            Err(e) => {
                self.poisoned = true;
                Err(e)
            }
        }
    }

    /// [`append`](Self::append) then [`commit`](Self::commit).
    pub fn append_durable(&mut self, event: &Event) -> Result<u64, EventLogError> {
        let seq = self.append(event)?;
        self.commit()?;
        Ok(seq)
    }

    fn write_key_file(&self) -> Result<(), EventLogError> {
        let state = KeyState {
            next_seq: self.next_seq,
            end: self.end,
            last_offset: self.last_offset,
            head_hash: self.head_hash,
            key: self.key.clone(),
        };
        // No directory fsync: a lost rename brings back the previous key
        // file, from which `open` rolls forward (module docs).
        crate::durable::write_atomic_defer_dir_sync(&self.key_path, &state.encode(), Some(0o600))
            .map_err(io_err(&self.key_path, "cannot write the key file"))
    }
}

#[cfg(test)]
#[path = "fault_tests.rs"]
mod fault_tests;
