//! `dha_integrity`: file integrity monitoring through the C ABI (issue 4,
//! "C ABI"; IEC 62443-4-2 CR 3.4), over `dha_core::integrity::ops`.
//!
//! The flow an integrator follows:
//! 1. once: `dha_integrity_keygen` makes a sealing key (Ed25519, or an
//!    HMAC-SHA-256 device key); for Ed25519, `dha_integrity_public_key`
//!    writes the public key that is enough to check;
//! 2. `dha_integrity_new` takes the `[integrity]` policy of a configuration
//!    (or `dha_integrity_set_paths` a plain list of paths, the test-rig
//!    mode), and optional progress and change callbacks;
//! 3. `dha_integrity_init` scans and writes the sealed baseline;
//! 4. `dha_integrity_check` verifies the baseline's seal, scans (full or
//!    quick) and compares, giving a `dha_integrity_report` whose changes
//!    (`dha_change`) and their attributes (`dha_attr_change`) are read
//!    through accessors, or as JSON;
//! 5. `dha_integrity_verify_baseline` checks a baseline file's seal and
//!    format without scanning;
//! 6. with a known-good store (`dha_integrity_set_store` before
//!    `dha_integrity_init`), `dha_integrity_restore` puts a modified or
//!    deleted file back as the baseline recorded it.
//!
//! Every [`IntegrityError`] variant has its own `dha_result` number in
//! 400–499 (`DHA_ERR_INTEGRITY_*`); a variant added later without one gets
//! the generic `DHA_ERR_INTEGRITY` (400). `dha_last_error_detail` names the
//! file and what failed, never key material.
//!
//! Time: a new baseline's creation time and a report's times come from the
//! operating system's clock (`dha_core::SystemClock`).

use crate::boundary::{
    OutBuf, ffi_free, ffi_result, ffi_value, free_box, str_from_c, try_out, try_ref, try_str,
};
use crate::config::dha_config;
use crate::error::Error;
use crate::hooks::EventSink;
use crate::report::dha_severity;
use crate::result::dha_result;
use dha_core::SystemClock;
use dha_core::integrity::ops::{self, Context};
use dha_core::integrity::{
    AttrSet, Change, ChangeKind, CompiledPolicy, IntegrityError, IntegrityReport, KnownGoodStore,
    ScanMode, ScanProgress, SealKey, SealKind, VerifyKey, policy_digest_for_paths, read_baseline,
};
use dha_linux::LinuxFsExtras;
use std::ffi::{CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::ptr;

/// The longest path accepted by the `dha_integrity_*` functions, in bytes
/// (NUL excluded): Linux's `PATH_MAX` (4096) less its NUL.
pub const DHA_INTEGRITY_ARG_MAX: usize = 4095;

/// The most paths `dha_integrity_set_paths` accepts.
pub const DHA_INTEGRITY_PATHS_MAX: usize = 4096;

/// `dha_integrity_keygen`'s `kind`: an Ed25519 key pair (a baseline sealed
/// by the manufacturer; the public key alone verifies it).
pub const DHA_SEAL_ED25519: u32 = 1;

/// `dha_integrity_keygen`'s `kind`: an HMAC-SHA-256 device key (32 random
/// bytes; the same key seals and verifies).
pub const DHA_SEAL_HMAC_SHA256: u32 = 2;

/// The clock of every operation made through the C ABI.
static SYSTEM_CLOCK: SystemClock = SystemClock;

/// Receives the progress of `dha_integrity_init` and `dha_integrity_check`.
///
/// `userdata` is the pointer given to
/// `dha_integrity_set_progress_callback`. `files_done` counts the objects
/// examined so far (files, directories, others) and `bytes_hashed` the
/// bytes of content hashed so far; both only grow within one scan, but calls
/// from different threads may arrive out of order.
///
/// When: at most once every 256 objects or 64 MiB hashed, and once at the
/// end of each scan (so at least once per scan, also of an empty tree).
///
/// Threads: called from the scan's worker threads, ANY thread (not only
/// the one that called dha), possibly from several at once. Keep it short
/// (the worker waits) and thread-safe; it must not throw (C++), `longjmp`
/// out, nor call any function on the same `dha_integrity`.
pub type dha_integrity_progress_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, files_done: u64, bytes_hashed: u64)>;

/// Receives each change found by `dha_integrity_check`.
///
/// `userdata` is the pointer given to `dha_integrity_set_change_callback`.
/// `change` is borrowed for the duration of the call only (read it with the
/// `dha_change_*` accessors; the same changes are in the report
/// `dha_integrity_check` returns).
///
/// When: once per change, in path order, after the scan and the comparison
/// are complete and before `dha_integrity_check` returns.
///
/// Threads: called on the thread inside `dha_integrity_check`. It must not
/// throw (C++), `longjmp` out, nor call any function on the same
/// `dha_integrity`.
pub type dha_integrity_change_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, change: *const dha_change)>;

/// What happened to a path. The numbers are fixed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum dha_change_kind {
    /// The path is new.
    DHA_CHANGE_ADDED = 0,
    /// The path is gone.
    DHA_CHANGE_REMOVED = 1,
    /// The path now holds another type of object (a file replaced by a
    /// directory or a symlink, say); see `dha_change_old_type`.
    DHA_CHANGE_TYPE_CHANGED = 2,
    /// Same type; some watched attribute differs (see `dha_change_attr`).
    DHA_CHANGE_MODIFIED = 3,
}

impl From<ChangeKind> for dha_change_kind {
    fn from(k: ChangeKind) -> Self {
        match k {
            ChangeKind::Added => dha_change_kind::DHA_CHANGE_ADDED,
            ChangeKind::Removed => dha_change_kind::DHA_CHANGE_REMOVED,
            ChangeKind::TypeChanged { .. } => dha_change_kind::DHA_CHANGE_TYPE_CHANGED,
            ChangeKind::Modified => dha_change_kind::DHA_CHANGE_MODIFIED,
        }
    }
}

impl From<IntegrityError> for Error {
    fn from(e: IntegrityError) -> Self {
        let code = match &e {
            IntegrityError::Io { .. } => dha_result::DHA_ERR_INTEGRITY_IO,
            IntegrityError::Policy { .. } => dha_result::DHA_ERR_INTEGRITY_POLICY,
            IntegrityError::BaselineFormat { .. } => dha_result::DHA_ERR_INTEGRITY_BASELINE_FORMAT,
            IntegrityError::BaselineSeal { .. } => dha_result::DHA_ERR_INTEGRITY_BASELINE_SEAL,
            IntegrityError::Key { .. } => dha_result::DHA_ERR_INTEGRITY_KEY,
            IntegrityError::InvalidRecords { .. } => dha_result::DHA_ERR_INTEGRITY_INVALID_RECORDS,
            IntegrityError::Store { .. } => dha_result::DHA_ERR_INTEGRITY_STORE,
            IntegrityError::RestoreRefused { .. } => dha_result::DHA_ERR_INTEGRITY_RESTORE_REFUSED,
            // IntegrityError is non-exhaustive: a failure added later is
            // still an integrity failure, with its detail, until it gets its
            // own number.
            _ => dha_result::DHA_ERR_INTEGRITY,
        };
        Error::new(code, e.to_string())
    }
}

/// The registered progress callback.
#[derive(Clone, Copy)]
struct Progress {
    callback: unsafe extern "C" fn(*mut c_void, u64, u64),
    userdata: *mut c_void,
}

// SAFETY: `userdata` is never dereferenced by dha: it is only handed back to
// the callback, which the contract of `dha_integrity_set_progress_callback`
// (and `dha_integrity_progress_callback`) makes callable with it from any
// thread, also from several at once.
unsafe impl Send for Progress {}
// SAFETY: as for `Send`.
unsafe impl Sync for Progress {}

impl Progress {
    fn report(&self, p: ScanProgress) {
        // SAFETY: the callback and userdata were registered together by
        // dha_integrity_set_progress_callback, whose contract makes the
        // callback callable with that userdata from any thread.
        unsafe { (self.callback)(self.userdata, p.files_done, p.bytes_hashed) };
    }
}

/// The registered change callback.
#[derive(Clone, Copy)]
struct OnChange {
    callback: unsafe extern "C" fn(*mut c_void, *const dha_change),
    userdata: *mut c_void,
}

/// Integrity monitoring (opaque): a compiled policy and the callbacks.
/// Made by `dha_integrity_new`, released by `dha_integrity_free`.
///
/// Not for concurrent use: one thread at a time (the integrator serialises
/// calls); it may be handed to another thread between calls.
pub struct dha_integrity {
    policy: CompiledPolicy,
    policy_digest: [u8; 32],
    threads: usize,
    store: Option<KnownGoodStore>,
    progress: Option<Progress>,
    on_change: Option<OnChange>,
    /// Where the events of a check go (`dha_hooks_register`).
    events: EventSink,
}

// SAFETY: `dha_integrity` is not `Send` only because of the callbacks'
// `userdata` pointers, which dha never dereferences: they are handed back to
// the callbacks as the header documents (the progress callback from any
// thread, the change callback on the thread calling `dha_integrity_check`).
// The rest is plain data (checked below). The header forbids concurrent use,
// so only `Send` is claimed, not `Sync`.
unsafe impl Send for dha_integrity {}

const _: () = {
    const fn sendable<T: Send>() {}
    sendable::<CompiledPolicy>();
    sendable::<KnownGoodStore>();
};

/// One attribute of a change that differs (opaque), borrowed from its
/// `dha_change`: valid as long as the change.
pub struct dha_attr_change {
    attr: CString,
    name: Option<CString>,
    old: CString,
    new: CString,
}

/// One changed path (opaque), borrowed from its `dha_integrity_report`:
/// valid until `dha_integrity_report_free`, never freed on its own.
pub struct dha_change {
    path: CString,
    kind: dha_change_kind,
    severity: dha_severity,
    old_type: Option<CString>,
    new_type: Option<CString>,
    attrs: Vec<dha_attr_change>,
}

/// The result of one check (opaque). Made by `dha_integrity_check`,
/// released by `dha_integrity_report_free`. Immutable: it may be read by
/// several threads at once.
pub struct dha_integrity_report {
    changes: Vec<dha_change>,
    problems: usize,
    json: CString,
}

// The header promises that a report, and the changes and strings borrowed
// from it, may be read by several threads at once.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<dha_integrity_report>();
};

/// A C string copy of `s`, with any NUL shown as U+FFFD.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// The exact bytes of a path as a C string. A Linux path never holds a NUL;
/// should one come anyway, the escaped text is used rather than a cut path.
fn c_path(path: &[u8]) -> CString {
    CString::new(path.to_vec())
        .unwrap_or_else(|_| c_string(&dha_core::integrity::render::escape_bytes(path)))
}

impl dha_change {
    fn new(c: &Change) -> Self {
        let (old_type, new_type) = match c.kind {
            ChangeKind::TypeChanged { old, new } => {
                (Some(c_string(old.name())), Some(c_string(new.name())))
            }
            _ => (None, None),
        };
        dha_change {
            path: c_path(&c.path),
            kind: c.kind.into(),
            severity: c.severity.into(),
            old_type,
            new_type,
            attrs: c
                .attrs
                .iter()
                .map(|a| dha_attr_change {
                    attr: c_string(a.attr.name()),
                    name: a.name.as_deref().map(c_string),
                    old: c_string(&a.old),
                    new: c_string(&a.new),
                })
                .collect(),
        }
    }
}

impl dha_integrity_report {
    /// Builds the C view of a report (every string copied once, here).
    fn new(report: &IntegrityReport) -> Self {
        dha_integrity_report {
            changes: report.changes.iter().map(dha_change::new).collect(),
            problems: report.problems.len(),
            // serde_json escapes control characters, so the JSON holds no NUL.
            json: c_string(&report.to_json()),
        }
    }
}

/// An exclusive reference from a `*mut dha_integrity` argument, or
/// `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `p` is NULL or a live `dha_integrity` not used by anything else during
/// the lifetime `'a`.
unsafe fn integrity_mut<'a>(p: *mut dha_integrity) -> Result<&'a mut dha_integrity, Error> {
    // SAFETY: this function's contract.
    unsafe { p.as_mut() }.ok_or_else(|| Error::null("integrity"))
}

impl dha_integrity {
    /// Runs `op` with the operations' context: the policy, Linux's extended
    /// attributes and inode flags, the system clock, and the progress
    /// callback forwarded from the scan's workers.
    fn with_context<T>(&self, op: impl FnOnce(&Context<'_>) -> T) -> T {
        let progress = self.progress;
        let forward = move |p: ScanProgress| {
            if let Some(cb) = progress {
                cb.report(p);
            }
        };
        let ctx = Context {
            policy: &self.policy,
            policy_digest: self.policy_digest,
            fsx: &LinuxFsExtras,
            clock: &SYSTEM_CLOCK,
            threads: self.threads,
            progress: &forward,
        };
        op(&ctx)
    }
}

/// Makes integrity monitoring with the `[integrity]` policy of `config`
/// (see `dha.example.toml`: the rules, exclusions, attribute groups and
/// severities, and `threads`; its `baseline` and `key` file names are the
/// command line's defaults and are not used here: every function takes
/// its files as arguments). The policy is checked and compiled now, and
/// copied: `config` may be freed as soon as this returns. The event
/// callbacks registered on `config` (`dha_hooks_register`), now or later,
/// receive the events of its checks. On success `*out` receives a new
/// handle, to release with `dha_integrity_free`.
///
/// `config` is required, as for `dha_audit_run`
/// (`dha_config_new_default` gives the default policy, which protects the
/// usual system paths of a Linux console).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INTEGRITY_POLICY` (the detail
/// names the dotted key).
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle; `out` is NULL or valid
/// for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_new(
    config: *const dha_config,
    out: *mut *mut dha_integrity,
) -> dha_result {
    ffi_result("dha_integrity_new", || {
        let section = &try_ref!(config).config.integrity;
        let out = try_out!(out);
        let policy = section.compile()?;
        let policy_digest = section.policy_digest()?;
        out.write(Box::into_raw(Box::new(dha_integrity {
            policy,
            policy_digest,
            threads: section.threads,
            store: None,
            progress: None,
            on_change: None,
            events: EventSink::new(try_ref!(config)),
        })));
        Ok(())
    })
}

/// Replaces the policy of `integrity` by one that watches the `n` absolute
/// paths at `paths` (each recursively, every attribute of the default set:
/// content hash SHA-256, type, permissions, owner, group, size, mtime,
/// ctime, inode, link count, symlink target, extended attributes, ACLs,
/// capabilities, SELinux label, inode flags, device; severity high): the
/// test-rig mode, as `dha integrity init --baseline FILE --key KEY PATH…`.
/// The paths are copied. The thread count of the configuration stays.
///
/// A baseline records the digest of the policy it was made under; use the
/// same paths for `dha_integrity_check` as for `dha_integrity_init`.
///
/// On failure the policy is unchanged. Errors: `DHA_ERR_NULL_ARGUMENT`
/// (`integrity`, `paths`, or one of the `paths[i]`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (`n` is 0 or above `DHA_INTEGRITY_PATHS_MAX`,
/// a path longer than `DHA_INTEGRITY_ARG_MAX`), `DHA_ERR_INTEGRITY_POLICY`
/// (a relative path; the detail names `paths[i]`).
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `paths` is NULL or valid for reads of `n` pointers, each
/// NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_INTEGRITY_ARG_MAX + 1` bytes), all unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_set_paths(
    integrity: *mut dha_integrity,
    paths: *const *const c_char,
    n: usize,
) -> dha_result {
    ffi_result("dha_integrity_set_paths", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        if paths.is_null() {
            return Err(Error::null("paths"));
        }
        if n == 0 || n > DHA_INTEGRITY_PATHS_MAX {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("n is {n}; give 1 to {DHA_INTEGRITY_PATHS_MAX} paths"),
            ));
        }
        // SAFETY: not NULL (checked above); the caller guarantees `n`
        // readable pointers, unchanged during the call.
        let raw = unsafe { std::slice::from_raw_parts(paths, n) };
        let mut list = Vec::with_capacity(n);
        for (i, p) in raw.iter().enumerate() {
            // SAFETY: the caller guarantees each pointer is NULL or a
            // NUL-terminated string unchanged during the call.
            let s = unsafe { str_from_c(*p, DHA_INTEGRITY_ARG_MAX, &format!("paths[{i}]")) }?;
            list.push(PathBuf::from(s));
        }
        let attrs = AttrSet::default_set();
        let policy = CompiledPolicy::for_paths(&list, attrs)?;
        let digest = policy_digest_for_paths(&list, attrs)?;
        integrity.policy = policy;
        integrity.policy_digest = digest;
        Ok(())
    })
}

/// Registers `callback` to receive the progress of the scans of
/// `integrity` (see `dha_integrity_progress_callback`: it is called from
/// worker threads), replacing any earlier one; `callback == NULL` removes it
/// (then `userdata` is ignored). Once this returns, the previous callback is
/// not called any more, and its `userdata` may be freed.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`integrity`).
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `callback`, when not NULL, may be called with `userdata`
/// from any thread, also from several at once, during every later
/// `dha_integrity_init` and `dha_integrity_check` on this handle, until it
/// is replaced or the handle freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_set_progress_callback(
    integrity: *mut dha_integrity,
    callback: dha_integrity_progress_callback,
    userdata: *mut c_void,
) -> dha_result {
    ffi_result("dha_integrity_set_progress_callback", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        integrity.progress = callback.map(|callback| Progress { callback, userdata });
        Ok(())
    })
}

/// Registers `callback` to receive each change found by
/// `dha_integrity_check` on `integrity` (see
/// `dha_integrity_change_callback`), replacing any earlier one;
/// `callback == NULL` removes it (then `userdata` is ignored).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`integrity`).
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `callback`, when not NULL, may be called with `userdata`
/// by every later `dha_integrity_check` on this handle, on whichever thread
/// calls it, until it is replaced or the handle freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_set_change_callback(
    integrity: *mut dha_integrity,
    callback: dha_integrity_change_callback,
    userdata: *mut c_void,
) -> dha_result {
    ffi_result("dha_integrity_set_change_callback", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        integrity.on_change = callback.map(|callback| OnChange { callback, userdata });
        Ok(())
    })
}

/// Sets the known-good store of `integrity`: the directory `store_dir`
/// (absolute; created with mode 0700 if needed, and opened now), into which
/// `dha_integrity_init` copies the content of the protected files and from
/// which `dha_integrity_restore` puts them back. `store_dir == NULL` removes
/// the store. On failure the handle is unchanged.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`integrity`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_STORE`, `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `store_dir` is NULL or a NUL-terminated string (read up
/// to its NUL or `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_set_store(
    integrity: *mut dha_integrity,
    store_dir: *const c_char,
) -> dha_result {
    ffi_result("dha_integrity_set_store", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        if store_dir.is_null() {
            integrity.store = None;
            return Ok(());
        }
        let dir = try_str!(store_dir, DHA_INTEGRITY_ARG_MAX);
        integrity.store = Some(KnownGoodStore::open(Path::new(dir))?);
        Ok(())
    })
}

/// Puts the file `path` (its full device path) back from the known-good
/// store of `integrity` (`dha_integrity_set_store`) as the baseline at
/// `baseline_path` records it: its content, after checking the stored
/// copy's SHA-256 against the baseline, then its owner, mode, extended
/// attributes and mtime where the baseline records them. The baseline's
/// seal is verified first with the key at `key_path` (as for
/// `dha_integrity_check`). The file is written to a temporary file in the
/// same directory and renamed over `path`, so it is never seen half
/// written; a deleted file is recreated. Its inode and ctime are new, so a
/// later check reports those two attributes.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a path longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_STORE` (no store set, no object for the hash, or a
/// damaged object: never put back), `DHA_ERR_INTEGRITY_RESTORE_REFUSED`
/// (the baseline does not record `path` as a regular file, or another kind
/// of object sits there; nothing was changed), the baseline and key errors
/// of `dha_integrity_check`, `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `baseline_path`, `key_path` and `path` are NULL or
/// NUL-terminated strings (read up to their NUL or
/// `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_restore(
    integrity: *mut dha_integrity,
    baseline_path: *const c_char,
    key_path: *const c_char,
    path: *const c_char,
) -> dha_result {
    ffi_result("dha_integrity_restore", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        let baseline_path = Path::new(try_str!(baseline_path, DHA_INTEGRITY_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_INTEGRITY_ARG_MAX));
        let path = try_str!(path, DHA_INTEGRITY_ARG_MAX);
        let store = integrity.store.as_ref().ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INTEGRITY_STORE,
                "no known-good store: call dha_integrity_set_store first",
            )
        })?;
        let key = VerifyKey::load(key_path)?;
        let baseline = read_baseline(baseline_path, &key)?;
        let outcome = store.restore(&baseline, path.as_bytes(), &LinuxFsExtras)?;
        log::info!(
            "{}: restored from the known-good store ({} bytes)",
            outcome.path.display(),
            outcome.bytes
        );
        Ok(())
    })
}

/// Releases integrity monitoring. NULL is accepted and ignored. Reports
/// made with it stay valid.
///
/// # Safety
///
/// `integrity` is NULL or a handle from `dha_integrity_new` not yet freed,
/// and no other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_free(integrity: *mut dha_integrity) {
    ffi_free("dha_integrity_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(integrity) }
    })
}

/// Makes a new sealing key of `kind` (`DHA_SEAL_ED25519` or
/// `DHA_SEAL_HMAC_SHA256`) from the system's random source and writes it to
/// the new file `key_path`, mode 0600 (an Ed25519 key as PKCS#8 PEM). An
/// existing file is never overwritten.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (an unknown `kind`, a path longer than
/// `DHA_INTEGRITY_ARG_MAX`), `DHA_ERR_INTEGRITY_KEY` (the file exists),
/// `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `key_path` is NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_keygen(key_path: *const c_char, kind: u32) -> dha_result {
    ffi_result("dha_integrity_keygen", || {
        let key_path = try_str!(key_path, DHA_INTEGRITY_ARG_MAX);
        let kind = match kind {
            DHA_SEAL_ED25519 => SealKind::Ed25519,
            DHA_SEAL_HMAC_SHA256 => SealKind::HmacSha256,
            other => {
                return Err(Error::new(
                    dha_result::DHA_ERR_INVALID_ARGUMENT,
                    format!(
                        "kind {other} is neither DHA_SEAL_ED25519 ({DHA_SEAL_ED25519}) nor \
                         DHA_SEAL_HMAC_SHA256 ({DHA_SEAL_HMAC_SHA256})"
                    ),
                ));
            }
        };
        let key = SealKey::generate(kind)?;
        key.write(Path::new(key_path))?;
        log::info!("{kind} sealing key {} written to {key_path}", key.key_id());
        Ok(())
    })
}

/// Writes the key that verifies the seals of the key at `key_path` to the
/// new file `public_path`: for an Ed25519 key its public key (SPKI PEM,
/// mode 0644), which is all a device needs to check a baseline sealed by
/// the manufacturer; for an HMAC key a copy of the key (mode 0600: the same
/// key seals and verifies). An existing file is never overwritten.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a path longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_KEY` (`key_path` is not a sealing key, or
/// `public_path` exists), `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `key_path` and `public_path` are NULL or NUL-terminated strings (read up
/// to their NUL or `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_public_key(
    key_path: *const c_char,
    public_path: *const c_char,
) -> dha_result {
    ffi_result("dha_integrity_public_key", || {
        let key_path = try_str!(key_path, DHA_INTEGRITY_ARG_MAX);
        let public_path = try_str!(public_path, DHA_INTEGRITY_ARG_MAX);
        let key = SealKey::load(Path::new(key_path))?;
        key.public().write(Path::new(public_path))?;
        Ok(())
    })
}

/// Scans everything the policy of `integrity` governs (full mode: every
/// regular file is hashed) and writes the baseline, sealed with the key at
/// `key_path` (an Ed25519 private key or an HMAC key, e.g. from
/// `dha_integrity_keygen`), to `baseline_path`, durably (a temporary file
/// renamed over the old one: a crash leaves the old baseline or the new
/// one, never a mix). On success `*out_records` receives the number of
/// objects recorded.
///
/// The scan never follows symlinks and never opens FIFOs, sockets or
/// devices; objects that vanish, change or cannot be read during it are
/// logged (log callback) and recorded as far as they could be read. It
/// blocks the calling thread until done and hashes on the configuration's
/// `[integrity] threads` worker threads (0: one per core), from which the
/// progress callback is called.
///
/// With a known-good store (`dha_integrity_set_store`), the content of
/// every regular file is also copied into it (checking its hash while
/// copying) before the baseline is written; a file that changed in between
/// is not stored and is logged.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a path longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_KEY` (missing, malformed, or an Ed25519 public key,
/// which cannot seal), `DHA_ERR_INTEGRITY_IO`,
/// `DHA_ERR_INTEGRITY_INVALID_RECORDS`, `DHA_ERR_INTEGRITY_STORE`.
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `baseline_path` and `key_path` are NULL or
/// NUL-terminated strings (read up to their NUL or
/// `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the call;
/// `out_records` is NULL or valid for a write of one `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_init(
    integrity: *mut dha_integrity,
    baseline_path: *const c_char,
    key_path: *const c_char,
    out_records: *mut u64,
) -> dha_result {
    ffi_result("dha_integrity_init", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        let baseline_path = Path::new(try_str!(baseline_path, DHA_INTEGRITY_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_INTEGRITY_ARG_MAX));
        let out_records = try_out!(out_records);
        let key = SealKey::load(key_path)?;
        let store = integrity.store.as_ref();
        let outcome =
            integrity.with_context(|ctx| ops::init_with_store(ctx, baseline_path, &key, store))?;
        for p in &outcome.problems {
            log::warn!(
                "{}: {}",
                dha_core::integrity::render::escape_bytes(&p.path),
                p.reason
            );
        }
        log::info!(
            "{}: baseline of {} objects written ({} bytes hashed, {} problems)",
            baseline_path.display(),
            outcome.records,
            outcome.stats.bytes_hashed,
            outcome.problems.len()
        );
        out_records.write(u64::try_from(outcome.records).unwrap_or(u64::MAX));
        Ok(())
    })
}

/// Checks the tree against the baseline at `baseline_path`: verifies its
/// seal with the key at `key_path` (an Ed25519 public or private key, or
/// the HMAC key) BEFORE reading any record, scans, and compares. `quick`
/// trusts a regular file whose size, mtime, ctime, inode and device equal
/// the baseline's and rehashes only the others (ctime cannot be set from
/// user space, so a content change with its mtime put back is still
/// caught); otherwise every regular file is rehashed.
///
/// On success `*out` receives a new report (release it with
/// `dha_integrity_report_free`), whose changes are in path order; the
/// change callback, if any, has then been called once per change, on this
/// thread, and one `integrity.change` event per change has been dispatched
/// to the callbacks registered on the configuration (`dha_hooks_register`;
/// `dha_event_callback` gives its payload). Finding changes is a success (`DHA_OK`): look at
/// `dha_integrity_report_change_count`. Objects that could not be read are
/// not errors either: `dha_integrity_report_problem_count` counts them, and
/// the JSON names them. A baseline made under another policy is compared
/// only on what both watch (a warning is logged).
///
/// Blocks the calling thread until done; hashes on worker threads, from
/// which the progress callback is called.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a path longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_BASELINE_SEAL` (the baseline is unsealed, altered,
/// truncated or sealed with another key: nothing of it was used),
/// `DHA_ERR_INTEGRITY_BASELINE_FORMAT`, `DHA_ERR_INTEGRITY_KEY`,
/// `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `integrity` is NULL or a live `dha_integrity` not used by another thread
/// during the call; `baseline_path` and `key_path` are NULL or
/// NUL-terminated strings (read up to their NUL or
/// `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during the call; `out` is
/// NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_check(
    integrity: *mut dha_integrity,
    baseline_path: *const c_char,
    key_path: *const c_char,
    quick: bool,
    out: *mut *mut dha_integrity_report,
) -> dha_result {
    ffi_result("dha_integrity_check", || {
        // SAFETY: the caller guarantees exclusive use of a live handle.
        let integrity = unsafe { integrity_mut(integrity) }?;
        let baseline_path = Path::new(try_str!(baseline_path, DHA_INTEGRITY_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_INTEGRITY_ARG_MAX));
        let out = try_out!(out);
        let key = VerifyKey::load(key_path)?;
        let mode = if quick {
            ScanMode::Quick
        } else {
            ScanMode::Full
        };
        let outcome = integrity.with_context(|ctx| ops::check(ctx, baseline_path, &key, mode))?;
        let report = Box::new(dha_integrity_report::new(&outcome.report));
        log::info!(
            "{}: {} check found {} changes and {} problems",
            baseline_path.display(),
            if quick { "quick" } else { "full" },
            report.changes.len(),
            report.problems
        );
        if let Some(cb) = integrity.on_change {
            for change in &report.changes {
                // SAFETY: registered together by
                // dha_integrity_set_change_callback, whose contract makes the
                // callback callable with that userdata on the thread calling
                // dha_integrity_check (this one); `change` outlives the call.
                unsafe { (cb.callback)(cb.userdata, change) };
            }
        }
        // One integrity.change per change, to the callbacks registered on
        // the configuration and its [recovery] policy.
        integrity
            .events
            .dispatch(dha_core::recovery::events_for_integrity(&outcome.report));
        out.write(Box::into_raw(report));
        Ok(())
    })
}

/// Verifies the baseline file at `baseline_path` with the key at
/// `key_path` (an Ed25519 public or private key, or the HMAC key): its seal
/// first, then its format, without scanning anything. On success
/// `*out_records` receives the number of objects it records.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a path longer than `DHA_INTEGRITY_ARG_MAX`),
/// `DHA_ERR_INTEGRITY_BASELINE_SEAL`, `DHA_ERR_INTEGRITY_BASELINE_FORMAT`,
/// `DHA_ERR_INTEGRITY_KEY`, `DHA_ERR_INTEGRITY_IO`.
///
/// # Safety
///
/// `baseline_path` and `key_path` are NULL or NUL-terminated strings (read
/// up to their NUL or `DHA_INTEGRITY_ARG_MAX + 1` bytes) unchanged during
/// the call; `out_records` is NULL or valid for a write of one `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_verify_baseline(
    baseline_path: *const c_char,
    key_path: *const c_char,
    out_records: *mut u64,
) -> dha_result {
    ffi_result("dha_integrity_verify_baseline", || {
        let baseline_path = Path::new(try_str!(baseline_path, DHA_INTEGRITY_ARG_MAX));
        let key_path = Path::new(try_str!(key_path, DHA_INTEGRITY_ARG_MAX));
        let out_records = try_out!(out_records);
        let key = VerifyKey::load(key_path)?;
        let summary = ops::verify_baseline(baseline_path, &key)?;
        out_records.write(u64::try_from(summary.records).unwrap_or(u64::MAX));
        Ok(())
    })
}

/// The number of changes of `report` (0 when `report` is NULL).
///
/// # Safety
///
/// `report` is NULL or a live `dha_integrity_report` handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_report_change_count(
    report: *const dha_integrity_report,
) -> usize {
    ffi_value("dha_integrity_report_change_count", 0, || {
        Ok(try_ref!(report).changes.len())
    })
}

/// The number of objects the check could not read completely (vanished or
/// changed during the scan, permission denied, I/O errors); the JSON names
/// each. 0 when `report` is NULL.
///
/// # Safety
///
/// `report` is NULL or a live `dha_integrity_report` handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_report_problem_count(
    report: *const dha_integrity_report,
) -> usize {
    ffi_value("dha_integrity_report_problem_count", 0, || {
        Ok(try_ref!(report).problems)
    })
}

/// Stores in `*out` the change at `index` (0-based, below
/// `dha_integrity_report_change_count`), in path order. The change is
/// borrowed from `report`: valid until `dha_integrity_report_free(report)`;
/// do not free it.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `report` is NULL or a live `dha_integrity_report` handle; `out` is NULL
/// or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_report_change(
    report: *const dha_integrity_report,
    index: usize,
    out: *mut *const dha_change,
) -> dha_result {
    ffi_result("dha_integrity_report_change", || {
        let report = try_ref!(report);
        let out = try_out!(out);
        let change = report.changes.get(index).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INDEX_OUT_OF_RANGE,
                format!(
                    "index {index} is not below the change count {}",
                    report.changes.len()
                ),
            )
        })?;
        out.write(change);
        Ok(())
    })
}

/// Copies the report as JSON (the format of
/// `dha integrity check --format json`, with a `schema_version`; paths are
/// escaped text there) and a NUL into `buf`.
///
/// `*out_needed` always receives the size of buffer needed, NUL included.
/// When `len` is smaller, nothing of the JSON is copied, `buf` (if
/// `len > 0`) holds the empty string, and the result is
/// `DHA_ERR_INSUFFICIENT_SIZE`: call again with a buffer of `*out_needed`
/// bytes. `buf == NULL, len == 0` is the way to ask for the size. The JSON
/// is made once with the report, so every call gives the same bytes.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`report` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `report` is NULL or a live `dha_integrity_report` handle; `buf` is NULL
/// or valid for writes of `len` bytes; `out_needed` is NULL or valid for a
/// write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_report_to_json(
    report: *const dha_integrity_report,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_integrity_report_to_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let report = try_ref!(report);
        let out_needed = try_out!(out_needed);
        // A `CString` made from a `String` holds only UTF-8.
        let json = std::str::from_utf8(report.json.to_bytes()).unwrap_or_default();
        buf.copy_whole_or_size_error(json, out_needed, "the JSON")
    })
}

/// Releases a report and every change and string borrowed from it. NULL is
/// accepted and ignored.
///
/// # Safety
///
/// `report` is NULL or a handle from `dha_integrity_check` not yet freed,
/// and no other thread is using it or anything borrowed from it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_integrity_report_free(report: *mut dha_integrity_report) {
    ffi_free("dha_integrity_report_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(report) }
    })
}

/// A borrowed string, or NULL.
fn borrowed(s: Option<&CString>) -> *const c_char {
    s.map_or(ptr::null(), |s| s.as_ptr())
}

/// The full path of `change` on the device, exactly its bytes (a Linux
/// path is bytes: it need not be UTF-8) and a NUL: a string borrowed from
/// its report (or, in the change callback, valid during the call). NULL
/// when `change` is NULL.
///
/// # Safety
///
/// `change` is NULL or a change from a live `dha_integrity_report` (or the
/// one passed to the change callback, during the call).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_path(change: *const dha_change) -> *const c_char {
    ffi_value("dha_change_path", ptr::null(), || {
        Ok(try_ref!(change).path.as_ptr())
    })
}

/// Stores what happened to the path of `change` in `*out_kind`.
/// Errors: `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`); `out_kind` is
/// NULL or valid for a write of one `dha_change_kind`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_kind_of(
    change: *const dha_change,
    out_kind: *mut dha_change_kind,
) -> dha_result {
    ffi_result("dha_change_kind_of", || {
        let change = try_ref!(change);
        let out_kind = try_out!(out_kind);
        out_kind.write(change.kind);
        Ok(())
    })
}

/// Stores the severity of `change` (that of the policy rule governing its
/// path) in `*out_severity`. Errors: `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`);
/// `out_severity` is NULL or valid for a write of one `dha_severity`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_severity(
    change: *const dha_change,
    out_severity: *mut dha_severity,
) -> dha_result {
    ffi_result("dha_change_severity", || {
        let change = try_ref!(change);
        let out_severity = try_out!(out_severity);
        out_severity.write(change.severity);
        Ok(())
    })
}

/// For a `DHA_CHANGE_TYPE_CHANGED` change, the type in the baseline
/// (`"file"`, `"directory"`, `"symlink"`, `"fifo"`, `"socket"`,
/// `"char-device"`, `"block-device"`): a string borrowed like
/// `dha_change_path`. NULL for other
/// kinds, or when `change` is NULL.
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_old_type(change: *const dha_change) -> *const c_char {
    ffi_value("dha_change_old_type", ptr::null(), || {
        Ok(borrowed(try_ref!(change).old_type.as_ref()))
    })
}

/// For a `DHA_CHANGE_TYPE_CHANGED` change, the type now (as
/// `dha_change_old_type`). NULL for other kinds, or when `change` is NULL.
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_new_type(change: *const dha_change) -> *const c_char {
    ffi_value("dha_change_new_type", ptr::null(), || {
        Ok(borrowed(try_ref!(change).new_type.as_ref()))
    })
}

/// The number of attributes that differ in `change` (0 for added and
/// removed paths, or when `change` is NULL).
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_attr_count(change: *const dha_change) -> usize {
    ffi_value("dha_change_attr_count", 0, || {
        Ok(try_ref!(change).attrs.len())
    })
}

/// Stores in `*out` the attribute change at `index` (0-based, below
/// `dha_change_attr_count`), borrowed from `change` (valid as long as it).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `change` is NULL or a live change (see `dha_change_path`); `out` is NULL
/// or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_change_attr(
    change: *const dha_change,
    index: usize,
    out: *mut *const dha_attr_change,
) -> dha_result {
    ffi_result("dha_change_attr", || {
        let change = try_ref!(change);
        let out = try_out!(out);
        let attr = change.attrs.get(index).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INDEX_OUT_OF_RANGE,
                format!(
                    "index {index} is not below the attribute count {}",
                    change.attrs.len()
                ),
            )
        })?;
        out.write(attr);
        Ok(())
    })
}

/// The attribute's name as the policy spells it (`"sha256"`, `"perm"`,
/// `"uid"`, `"gid"`, `"size"`, `"mtime"`, `"ctime"`, `"inode"`, `"nlink"`,
/// `"link"`, `"xattrs"`, `"acl"`, `"caps"`, `"selinux"`, `"fflags"`, …): a
/// string borrowed from the change. NULL when `attr` is NULL.
///
/// # Safety
///
/// `attr` is NULL or an attribute change of a live change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_attr_change_attr(attr: *const dha_attr_change) -> *const c_char {
    ffi_value("dha_attr_change_attr", ptr::null(), || {
        Ok(try_ref!(attr).attr.as_ptr())
    })
}

/// For `xattrs`, `acl`, `caps` and `selinux`: the extended attribute's name
/// (`"user.origin"`, `"security.capability"`; bytes that are not printable
/// UTF-8 are escaped), one attribute change per name. NULL for other
/// attributes, or when `attr` is NULL. Borrowed from the change.
///
/// # Safety
///
/// `attr` is NULL or an attribute change of a live change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_attr_change_name(attr: *const dha_attr_change) -> *const c_char {
    ffi_value("dha_attr_change_name", ptr::null(), || {
        Ok(borrowed(try_ref!(attr).name.as_ref()))
    })
}

/// The value in the baseline as people read it (`"0644"`, a hex digest,
/// `"(absent)"` for an extended attribute that was not there): a string
/// borrowed from the change. NULL when `attr` is NULL.
///
/// # Safety
///
/// `attr` is NULL or an attribute change of a live change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_attr_change_old(attr: *const dha_attr_change) -> *const c_char {
    ffi_value("dha_attr_change_old", ptr::null(), || {
        Ok(try_ref!(attr).old.as_ptr())
    })
}

/// The value now (as `dha_attr_change_old`; `"(absent)"` for an extended
/// attribute removed, `"(not recorded)"` when the scan could not read it).
/// NULL when `attr` is NULL.
///
/// # Safety
///
/// `attr` is NULL or an attribute change of a live change.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_attr_change_new(attr: *const dha_attr_change) -> *const c_char {
    ffi_value("dha_attr_change_new", ptr::null(), || {
        Ok(try_ref!(attr).new.as_ptr())
    })
}

#[cfg(test)]
mod tests;
