//! `dha_eventlog`: the tamper-evident event log through the C ABI (issue 5,
//! "Tamper-evident event log"), over `dha_core::events`.
//!
//! The flow an integrator follows:
//! 1. once, at manufacturing: `dha_eventlog_keygen` writes a random
//!    initial key `K_0` (keep a copy away from the device: it is the only
//!    key that verifies the whole log); `dha_eventlog_create` (or
//!    `dha_eventlog_create_from_bytes`) makes the log and its evolving key
//!    file from it;
//! 2. at every start: `dha_eventlog_open`; a torn last record (a power cut
//!    mid-write, or a forged tail) is reported as
//!    `DHA_ERR_EVENTLOG_TORN_TAIL`, never dropped silently, and
//!    `dha_eventlog_truncate_and_record` cuts it off and records that it
//!    did (an `eventlog.tampered` event);
//! 3. `dha_eventlog_append` buffers an event; `dha_eventlog_commit` makes
//!    the pending group durable (one fdatasync and one key-file
//!    replacement); `dha_eventlog_head` gives the last committed record,
//!    to keep elsewhere;
//! 4. anywhere, with the initial key: `dha_eventlog_verify` detects a
//!    modified, deleted, reordered or inserted record, and, given a head
//!    kept elsewhere, a log cut after a whole record.
//!
//! Each record is authenticated with HMAC-SHA-256 under a key that evolves
//! forward after every record (HKDF-SHA-256, the previous key erased): the
//! device only ever holds the key of the next record, so taking it over
//! later cannot forge earlier records (see `dha_core::events::log`).
//!
//! Records carry the boot id (`/proc/sys/kernel/random/boot_id`), the
//! operating system's wall clock and the time since boot
//! (`CLOCK_BOOTTIME`), which never goes backwards within a boot.
//!
//! Every [`EventLogError`] variant has its own `dha_result` number in
//! 600–699 (`DHA_ERR_EVENTLOG_*`); a variant added later gets the generic
//! `DHA_ERR_EVENTLOG` (600). Details name the file and what failed, never
//! key material.

use crate::boot::opt_str;
use crate::boundary::{Out, OutBuf, ffi_free, ffi_result, free_box, try_out, try_ref, try_str};
use crate::error::Error;
use crate::report::dha_severity;
use crate::result::dha_result;
use dha_core::events::{
    Event, EventKind, EventLog, EventLogError, Head, InitialKey, OpenOutcome, verify,
};
use serde_json::{Map, Value};
use std::ffi::c_char;
use std::path::Path;
use zeroize::Zeroizing;

/// The longest path, kind name or head accepted by the `dha_eventlog_*`
/// functions, in bytes (NUL excluded): Linux's `PATH_MAX` (4096) less its
/// NUL.
pub const DHA_EVENTLOG_ARG_MAX: usize = 4095;

/// The largest payload JSON `dha_eventlog_append` accepts, in bytes (NUL
/// excluded): a record's body holds at most 64 KiB.
pub const DHA_EVENTLOG_PAYLOAD_MAX: usize = 64 * 1024;

/// The length of an initial key in bytes.
pub const DHA_EVENTLOG_KEY_BYTES: usize = 32;

/// The version of the JSON that `dha_eventlog_verify` writes (the same
/// document as `dha log verify --format json`).
const VERIFY_SCHEMA_VERSION: u32 = 1;

impl From<EventLogError> for Error {
    fn from(e: EventLogError) -> Self {
        let code = match &e {
            EventLogError::Io { .. } => dha_result::DHA_ERR_EVENTLOG_IO,
            EventLogError::KeyFile { .. } => dha_result::DHA_ERR_EVENTLOG_KEY_FILE,
            EventLogError::Format { .. } => dha_result::DHA_ERR_EVENTLOG_FORMAT,
            EventLogError::Mismatch { .. } => dha_result::DHA_ERR_EVENTLOG_MISMATCH,
            EventLogError::Exists { .. } => dha_result::DHA_ERR_EVENTLOG_EXISTS,
            EventLogError::Event { .. } => dha_result::DHA_ERR_EVENTLOG_EVENT,
            EventLogError::Poisoned { .. } => dha_result::DHA_ERR_EVENTLOG_POISONED,
            EventLogError::Random => dha_result::DHA_ERR_EVENTLOG_RANDOM,
            EventLogError::Busy { .. } => dha_result::DHA_ERR_EVENTLOG_BUSY,
            // EventLogError is non-exhaustive: a failure added later is
            // still an event-log failure, with its detail.
            _ => dha_result::DHA_ERR_EVENTLOG,
        };
        Error::new(code, e.to_string())
    }
}

/// An open event log (opaque), appending. Made by `dha_eventlog_create`,
/// `dha_eventlog_create_from_bytes`, `dha_eventlog_open` or
/// `dha_eventlog_truncate_and_record`; released by `dha_eventlog_free`.
///
/// One writer per log: a live handle holds the log's lock (an `flock` of
/// the key file's name with `.lock` appended, released when the handle is
/// freed or the process ends), and opening or creating the same log again,
/// in this process or another, waits up to 10 seconds for it, then fails
/// with `DHA_ERR_EVENTLOG_BUSY`. Not for concurrent use: one thread at a
/// time; it may be handed to another thread between calls.
pub struct dha_eventlog {
    log: EventLog,
}

const _: () = {
    const fn sendable<T: Send>() {}
    sendable::<dha_eventlog>();
};

/// An exclusive reference from a `*mut dha_eventlog` argument, or
/// `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `p` is NULL or a live `dha_eventlog` not used by anything else during
/// the lifetime `'a`.
unsafe fn log_mut<'a>(p: *mut dha_eventlog) -> Result<&'a mut dha_eventlog, Error> {
    // SAFETY: this function's contract.
    unsafe { p.as_mut() }.ok_or_else(|| Error::null("log"))
}

/// Writes a new handle over `log` to `out`.
fn make(log: EventLog, out: Out<'_, *mut dha_eventlog>) {
    out.write(Box::into_raw(Box::new(dha_eventlog { log })));
}

/// Writes a new random initial key `K_0` to the file `initial_key_path`:
/// 64 lower-case hex digits and a newline, mode 0600, written durably.
/// Refuses to overwrite an existing file. Keep a copy away from the device
/// (the manufacturer's key store): it is the only key that verifies the
/// whole log.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_EVENTLOG_ARG_MAX`),
/// `DHA_ERR_EVENTLOG_EXISTS`, `DHA_ERR_EVENTLOG_IO`,
/// `DHA_ERR_EVENTLOG_RANDOM`.
///
/// # Safety
///
/// `initial_key_path` is NULL or a NUL-terminated string (read up to its
/// NUL or `DHA_EVENTLOG_ARG_MAX + 1` bytes) unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_keygen(initial_key_path: *const c_char) -> dha_result {
    ffi_result("dha_eventlog_keygen", || {
        let path = Path::new(try_str!(initial_key_path, DHA_EVENTLOG_ARG_MAX));
        InitialKey::generate()?.write(path)?;
        log::info!("{}: new initial event-log key", path.display());
        Ok(())
    })
}

/// Creates the event log `log_path` and its evolving key file `key_path`
/// from the initial key in the file `initial_key_path` (as
/// `dha_eventlog_keygen` writes it). Both files are made mode 0600; neither
/// may exist (creation never overwrites a log or a key). On success `*out`
/// receives a new handle, ready to append, to release with
/// `dha_eventlog_free`.
///
/// `key_path` is not the initial key: it holds the key of the NEXT record
/// (and the log's committed length and last hash), replaced after every
/// commit. The `[eventlog]` section of the configuration names both files
/// for the command line (`path`, `key`).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_EVENTLOG_ARG_MAX`),
/// `DHA_ERR_EVENTLOG_KEY_FILE` (the initial key file is not 64 hex
/// digits), `DHA_ERR_EVENTLOG_EXISTS`, `DHA_ERR_EVENTLOG_BUSY`,
/// `DHA_ERR_EVENTLOG_IO`.
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_EVENTLOG_ARG_MAX + 1` bytes) and unchanged during the call; `out`
/// is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_create(
    log_path: *const c_char,
    key_path: *const c_char,
    initial_key_path: *const c_char,
    out: *mut *mut dha_eventlog,
) -> dha_result {
    ffi_result("dha_eventlog_create", || {
        let log_path = Path::new(try_str!(log_path, DHA_EVENTLOG_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_EVENTLOG_ARG_MAX));
        let initial = Path::new(try_str!(initial_key_path, DHA_EVENTLOG_ARG_MAX));
        let out = try_out!(out);
        let key = InitialKey::read(initial)?;
        let log = EventLog::create(log_path, key_path, &key, dha_linux::system_stamps())?;
        log::info!("{}: event log created", log_path.display());
        make(log, out);
        Ok(())
    })
}

/// As `dha_eventlog_create`, with the initial key given as its
/// `key_len` bytes at `initial_key` (which must be
/// `DHA_EVENTLOG_KEY_BYTES`, 32; copied, and erased from dha's memory
/// after use).
///
/// Errors: those of `dha_eventlog_create`, and `DHA_ERR_INVALID_ARGUMENT`
/// (`key_len` is not 32).
///
/// # Safety
///
/// `log_path` and `key_path` are NULL or NUL-terminated strings (read up
/// to their NUL or `DHA_EVENTLOG_ARG_MAX + 1` bytes) unchanged during the
/// call; `initial_key` is NULL or valid for reads of `key_len` bytes; `out`
/// is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_create_from_bytes(
    log_path: *const c_char,
    key_path: *const c_char,
    initial_key: *const u8,
    key_len: usize,
    out: *mut *mut dha_eventlog,
) -> dha_result {
    ffi_result("dha_eventlog_create_from_bytes", || {
        let log_path = Path::new(try_str!(log_path, DHA_EVENTLOG_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_EVENTLOG_ARG_MAX));
        if initial_key.is_null() {
            return Err(Error::null("initial_key"));
        }
        if key_len != DHA_EVENTLOG_KEY_BYTES {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("key_len is {key_len}; an initial key is {DHA_EVENTLOG_KEY_BYTES} bytes"),
            ));
        }
        let out = try_out!(out);
        // Zeroizing: this copy is erased when dropped, as InitialKey's is.
        let mut bytes = Zeroizing::new([0u8; DHA_EVENTLOG_KEY_BYTES]);
        // SAFETY: not NULL (checked above); the caller guarantees `key_len`
        // (= 32) readable bytes, unchanged during the call.
        bytes.copy_from_slice(unsafe { std::slice::from_raw_parts(initial_key, key_len) });
        let key = InitialKey::from_bytes(*bytes);
        let log = EventLog::create(log_path, key_path, &key, dha_linux::system_stamps())?;
        log::info!("{}: event log created", log_path.display());
        make(log, out);
        Ok(())
    })
}

/// Opens the event log `log_path` with its evolving key file `key_path`
/// to append. The log must match the key file; whole, authentic records a
/// crash left beyond it (written, but the key file not yet replaced) are
/// verified and adopted. On success `*out` receives a new handle, to
/// release with `dha_eventlog_free`.
///
/// A log that ends with bytes that are not a valid record (a torn write
/// from a power cut, or a forged tail) is NOT opened: the result is
/// `DHA_ERR_EVENTLOG_TORN_TAIL` and `dha_last_error_detail` gives the
/// offset and length of the tail. Nothing is changed; call
/// `dha_eventlog_truncate_and_record` to cut it off and record that.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_EVENTLOG_ARG_MAX`),
/// `DHA_ERR_EVENTLOG_TORN_TAIL`, `DHA_ERR_EVENTLOG_MISMATCH` (the log is
/// shorter than committed, or its last committed record was replaced:
/// verify it with the initial key), `DHA_ERR_EVENTLOG_FORMAT`,
/// `DHA_ERR_EVENTLOG_KEY_FILE`, `DHA_ERR_EVENTLOG_BUSY` (another writer
/// holds the log for more than 10 seconds), `DHA_ERR_EVENTLOG_IO`.
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_EVENTLOG_ARG_MAX + 1` bytes) and unchanged during the call; `out`
/// is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_open(
    log_path: *const c_char,
    key_path: *const c_char,
    out: *mut *mut dha_eventlog,
) -> dha_result {
    ffi_result("dha_eventlog_open", || {
        let log_path = Path::new(try_str!(log_path, DHA_EVENTLOG_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_EVENTLOG_ARG_MAX));
        let out = try_out!(out);
        match EventLog::open(log_path, key_path, dha_linux::system_stamps())? {
            OpenOutcome::Ready {
                log,
                rolled_forward,
            } => {
                if rolled_forward > 0 {
                    log::warn!(
                        "{}: {rolled_forward} records written before a crash were verified and \
                         adopted",
                        log_path.display()
                    );
                }
                make(log, out);
                Ok(())
            }
            OpenOutcome::TornTail(torn) => Err(Error::new(
                dha_result::DHA_ERR_EVENTLOG_TORN_TAIL,
                format!(
                    "{}: the last {} bytes, from byte {}, are not a valid record (a torn write \
                     or a forged tail); dha_eventlog_truncate_and_record cuts them off and \
                     records it",
                    log_path.display(),
                    torn.bytes(),
                    torn.offset()
                ),
            )),
        }
    })
}

/// Opens the event log as `dha_eventlog_open` does, and when it ends with
/// a torn tail, cuts the tail off and records, durably, an
/// `eventlog.tampered` event (severity high; payload: `reason`
/// `"torn-tail"`, `offset`, `bytes` and `sha256` of the bytes removed).
/// `*out_offset` and `*out_bytes` receive where the removed tail started
/// and its length (both 0 when there was none: the log is then simply
/// opened). On success `*out` receives a new handle, to release with
/// `dha_eventlog_free`.
///
/// Errors: those of `dha_eventlog_open` except
/// `DHA_ERR_EVENTLOG_TORN_TAIL`.
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_EVENTLOG_ARG_MAX + 1` bytes) and unchanged during the call; `out`
/// is NULL or valid for a write of one pointer; `out_offset` and
/// `out_bytes` are NULL or valid for a write of one `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_truncate_and_record(
    log_path: *const c_char,
    key_path: *const c_char,
    out: *mut *mut dha_eventlog,
    out_offset: *mut u64,
    out_bytes: *mut u64,
) -> dha_result {
    ffi_result("dha_eventlog_truncate_and_record", || {
        let log_path = Path::new(try_str!(log_path, DHA_EVENTLOG_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_EVENTLOG_ARG_MAX));
        let out = try_out!(out);
        let out_offset = try_out!(out_offset);
        let out_bytes = try_out!(out_bytes);
        let (log, offset, bytes) = match EventLog::open(
            log_path,
            key_path,
            dha_linux::system_stamps(),
        )? {
            OpenOutcome::Ready { log, .. } => (log, 0, 0),
            OpenOutcome::TornTail(torn) => {
                let (offset, bytes) = (torn.offset(), torn.bytes());
                let log = torn.truncate_and_record()?;
                log::warn!(
                    "{}: a torn tail of {bytes} bytes at byte {offset} was cut off and recorded",
                    log_path.display()
                );
                (log, offset, bytes)
            }
        };
        out_offset.write(offset);
        out_bytes.write(bytes);
        make(log, out);
        Ok(())
    })
}

/// Releases an event log. NULL is accepted and ignored. Records appended
/// but not committed are LOST: call `dha_eventlog_commit` first.
///
/// # Safety
///
/// `log` is NULL or a handle made by this library's `dha_eventlog_*`
/// functions, not yet freed, and no other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_free(log: *mut dha_eventlog) {
    ffi_free("dha_eventlog_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(log) }
    })
}

/// The event kind named `name` (`"integrity.change"`).
pub(crate) fn kind_named(name: &str) -> Result<EventKind, Error> {
    name.parse().map_err(|_| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        Error::new(
            dha_result::DHA_ERR_EVENT_UNKNOWN_KIND,
            format!("unknown event kind {name:?} (known: {})", known.join(", ")),
        )
    })
}

/// Appends an event to the pending group of `log`: its kind by dotted name
/// (`"update.rejected"`, `"update.installed"`, `"install.failed"`,
/// `"boot.fell_back"`, `"boot.marked_good"`, `"boot.marked_bad"`,
/// `"integrity.change"`, `"integrity.accepted"`, `"audit.regression"`,
/// `"eventlog.tampered"`, `"hook.outcome"`, `"hook.maintenance_set"`), its
/// `severity` (a `dha_severity` number) and its details as a JSON object
/// (`payload_json`; NULL means `{}`), at most
/// `DHA_EVENTLOG_PAYLOAD_MAX` bytes. The record is stamped with the boot
/// id, the wall clock and the monotonic clock, and authenticated; the key
/// evolves at once (the previous key erased).
///
/// The record is NOT durable until `dha_eventlog_commit` (group commit: one
/// fdatasync for many records). `*out_seq` receives its sequence number
/// (from 0).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`log`, `kind`, `out_seq`),
/// `DHA_ERR_INVALID_UTF8`, `DHA_ERR_INVALID_ARGUMENT` (a severity that is
/// not a `dha_severity`; a payload that is not a JSON object or is too
/// long), `DHA_ERR_EVENT_UNKNOWN_KIND`, `DHA_ERR_EVENTLOG_EVENT` (the
/// record would be too large), `DHA_ERR_EVENTLOG_POISONED`.
///
/// # Safety
///
/// `log` is NULL or a live `dha_eventlog` not used by another thread
/// during the call; `kind` is NULL or a NUL-terminated string (read up to
/// its NUL or `DHA_EVENTLOG_ARG_MAX + 1` bytes) and `payload_json` NULL or
/// one read up to its NUL or `DHA_EVENTLOG_PAYLOAD_MAX + 1` bytes, both
/// unchanged during the call; `out_seq` is NULL or valid for a write of one
/// `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_append(
    log: *mut dha_eventlog,
    kind: *const c_char,
    severity: u32,
    payload_json: *const c_char,
    out_seq: *mut u64,
) -> dha_result {
    ffi_result("dha_eventlog_append", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let log = unsafe { log_mut(log) }?;
        let kind = kind_named(try_str!(kind, DHA_EVENTLOG_ARG_MAX))?;
        // SAFETY: the caller guarantees `payload_json` is NULL or a
        // NUL-terminated string unchanged during the call.
        let payload = unsafe { opt_str(payload_json, DHA_EVENTLOG_PAYLOAD_MAX, "payload_json") }?;
        let out_seq = try_out!(out_seq);
        let severity = dha_severity::from_u32(severity).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("severity {severity} is not a dha_severity"),
            )
        })?;
        let payload = match payload {
            None => Map::new(),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(Error::new(
                        dha_result::DHA_ERR_INVALID_ARGUMENT,
                        "payload_json is not a JSON object",
                    ));
                }
                Err(e) => {
                    return Err(Error::new(
                        dha_result::DHA_ERR_INVALID_ARGUMENT,
                        format!("payload_json is not JSON: {e}"),
                    ));
                }
            },
        };
        let seq = log.log.append(&Event {
            kind,
            severity,
            payload,
        })?;
        out_seq.write(seq);
        Ok(())
    })
}

/// Makes the records appended to `log` since the last commit durable: one
/// write and one fdatasync of the log, then the key file replaced
/// atomically. Nothing pending: nothing to do. After a failed commit every
/// later call on the handle fails with `DHA_ERR_EVENTLOG_POISONED`: free it
/// and open the log again (which recovers what reached the disk).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_EVENTLOG_IO`,
/// `DHA_ERR_EVENTLOG_POISONED`.
///
/// # Safety
///
/// `log` is NULL or a live `dha_eventlog` not used by another thread during
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_commit(log: *mut dha_eventlog) -> dha_result {
    ffi_result("dha_eventlog_commit", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let log = unsafe { log_mut(log) }?;
        log.log.commit()?;
        Ok(())
    })
}

/// Copies the head of `log`, its last committed record, as
/// `SEQ:SHA256HEX` (e.g. `41:9f86d0…`), and a NUL, into `buf`. Keep it
/// away from the device (with the console, a server): given to
/// `dha_eventlog_verify`, it reveals a log cut after a whole record. When
/// there is no head to give (nothing committed yet, or records appended and
/// not yet committed: commit first), the empty string is copied.
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size needed, NUL included (at most 86 bytes); when `len` is smaller,
/// nothing is copied and the result is `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`log` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `log` is NULL or a live `dha_eventlog`; `buf` is NULL or valid for
/// writes of `len` bytes; `out_needed` is NULL or valid for a write of one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_head(
    log: *const dha_eventlog,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_eventlog_head", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let log = try_ref!(log);
        let out_needed = try_out!(out_needed);
        let head = log.log.head().map(|h| h.to_string()).unwrap_or_default();
        buf.copy_whole_or_size_error(&head, out_needed, "the head")
    })
}

/// Verifies the event log `log_path` from its initial key (the file
/// `initial_key_path`, as `dha_eventlog_keygen` wrote it), and against
/// `head` (`SEQ:SHA256HEX` from `dha_eventlog_head`, kept elsewhere; NULL
/// when none), then copies the report as compact JSON, and a NUL, into
/// `buf` (the document of `dha log verify --format json`):
///
/// ```json
/// {"schema_version":1,"log":"/var/lib/dha/events.log","verified":false,
///  "records":3,"head":"2:…","problem":{"index":3,"message":"record 3 (byte 790) has a wrong tag: it was modified or forged"}}
/// ```
///
/// `verified` is true when nothing is wrong; `records` counts the records
/// verified (before the problem); `head` is the last verified record
/// (null for an empty log); `problem` the first thing wrong (null when
/// none), with the position of the bad record. Finding a problem is a
/// success (`DHA_OK`): read `verified`. Detects a modified, deleted,
/// reordered or inserted record, a torn tail, and, with `head`, a log cut
/// after a whole record. Reads the log once, streaming.
///
/// Buffer rules as for `dha_report_to_json` (`*out_needed` always receives
/// the size needed, NUL included; when `len` is smaller nothing is copied,
/// and the result is `DHA_ERR_INSUFFICIENT_SIZE`). A size query verifies
/// the whole log; a buffer of `DHA_EVENTLOG_ARG_MAX + 1024` bytes is
/// always enough.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`log_path`, `initial_key_path` or
/// `out_needed` NULL, or `buf` NULL with `len > 0`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a string longer than
/// `DHA_EVENTLOG_ARG_MAX`, a `head` that is not `SEQ:SHA256HEX`),
/// `DHA_ERR_EVENTLOG_KEY_FILE`, `DHA_ERR_EVENTLOG_IO` (the log cannot be
/// read), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_EVENTLOG_ARG_MAX + 1` bytes) and unchanged during the call; `buf`
/// is NULL or valid for writes of `len` bytes; `out_needed` is NULL or
/// valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_eventlog_verify(
    log_path: *const c_char,
    initial_key_path: *const c_char,
    head: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_eventlog_verify", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let log_path = Path::new(try_str!(log_path, DHA_EVENTLOG_ARG_MAX));
        let key_path = Path::new(try_str!(initial_key_path, DHA_EVENTLOG_ARG_MAX));
        // SAFETY: the caller guarantees `head` is NULL or a NUL-terminated
        // string unchanged during the call.
        let head = unsafe { opt_str(head, DHA_EVENTLOG_ARG_MAX, "head") }?;
        let out_needed = try_out!(out_needed);
        let head: Option<Head> = head
            .map(|h| {
                h.parse()
                    .map_err(|e: String| Error::new(dha_result::DHA_ERR_INVALID_ARGUMENT, e))
            })
            .transpose()?;
        let key = InitialKey::read(key_path)?;
        let report = verify(log_path, &key, head.as_ref())?;
        let doc = serde_json::json!({
            "schema_version": VERIFY_SCHEMA_VERSION,
            "log": log_path.display().to_string(),
            "verified": report.is_ok(),
            "records": report.records,
            "head": report.head.map(|h| h.to_string()),
            "problem": report.problem.as_ref().map(|p| serde_json::json!({
                "index": p.index(),
                "message": p.to_string(),
            })),
        });
        if let Some(p) = &report.problem {
            log::warn!("{}: {p}", log_path.display());
        }
        buf.copy_whole_or_size_error(&doc.to_string(), out_needed, "the verify report JSON")
    })
}

#[cfg(test)]
mod tests;
