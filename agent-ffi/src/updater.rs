//! `dha_updater`: signed updates through the C ABI (issue 3, "C ABI"), over
//! the TUF 1.0.34 client of `dha_core::tuf::client`.
//!
//! The flow an integrator follows:
//! 1. once, at manufacturing: `dha_updater_init_root` seeds the metadata
//!    directory with the root the device ships (TUF 1.0.34 §5.2);
//! 2. `dha_updater_new` opens the metadata directory with a metadata and a
//!    targets repository: a local directory (removable media) or an
//!    `https://` URL (then the configuration's `[update] ca_bundle` or
//!    `dha_updater_set_ca_bundle` names the only CA trusted for it), and
//!    takes the device's hardware id, the limits and the HTTPS settings from
//!    the configuration's `[update]` section;
//! 3. `dha_updater_refresh` runs one update cycle (§5.1–§5.6);
//! 4. `dha_updater_get_target` finds a target in the verified metadata
//!    (§5.6.7) as a `dha_target`, whose length, hashes and custom fields the
//!    integrator may read;
//! 5. `dha_updater_download_target` fetches and verifies it (§5.7) into a
//!    destination directory.
//!
//! Time: the updater reads the operating system's wall clock
//! (`dha_core::SystemClock`) once per cycle (§5.1, the fixed update start
//! time); a device whose clock is wrong judges expiry wrongly, so keep it
//! set (NTP, or the RTC set at manufacturing).
//!
//! Every [`TufError`] variant has its own `dha_result` number in 300–399
//! (`DHA_ERR_UPDATE_*`), and a variant added later without one gets the
//! generic `DHA_ERR_UPDATE` (300); `dha_last_error_detail` names what failed
//! (the role, the threshold, the hash algorithm, the path), never key
//! material.

use crate::boundary::{
    OutBuf, ffi_free, ffi_result, ffi_value, free_box, try_out, try_ref, try_str,
};
use crate::config::dha_config;
use crate::error::Error;
use crate::result::dha_result;
use dha_core::SystemClock;
use dha_core::config::UpdatePolicy;
use dha_core::tuf::client::{TargetInfo, Updater};
use dha_core::tuf::https::{CaBundle, HttpsConfig, HttpsTransport};
use dha_core::tuf::transport::{LocalDirTransport, Transport};
use dha_core::tuf::{Limits, TufError};
use std::ffi::{CString, c_char, c_void};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::ptr;

/// The longest path, URL, target name or hash algorithm name accepted by
/// the `dha_updater_*` and `dha_target_*` functions, in bytes (NUL
/// excluded): Linux's `PATH_MAX` (4096) less its NUL.
pub const DHA_UPDATER_ARG_MAX: usize = 4095;

/// The clock of every updater made through the C ABI (module documentation).
static SYSTEM_CLOCK: SystemClock = SystemClock;

/// Receives the progress of `dha_updater_download_target`.
///
/// `userdata` is the pointer given to `dha_updater_set_progress_callback`.
/// `target` is the target's name, a NUL-terminated UTF-8 string borrowed for
/// the duration of the call only. `done` is a number of bytes (below) and
/// `total` the target's length from its verified metadata.
///
/// It is called once before anything is fetched (`done == 0`); then, while
/// the target streams in, at most once per MiB (1,048,576 bytes) received,
/// with `0 < done < total` the bytes received and hashed so far; and last,
/// only when the download succeeds, once with `done == total`, after the
/// target was verified and put in place (also when it was already there and
/// matched, with no calls in between). A failed download never gets the
/// `done == total` call. `done` never decreases and is never above
/// `total`; later versions may change how often the calls in between come,
/// so rely on these rules only. The download waits while the callback
/// runs: keep it short.
///
/// Threads: called on the thread that is inside
/// `dha_updater_download_target`. It must not throw (C++), `longjmp` out,
/// nor call any function on the same updater.
pub type dha_updater_progress_callback = Option<
    unsafe extern "C" fn(userdata: *mut c_void, target: *const c_char, done: u64, total: u64),
>;

/// Where a repository (metadata or targets) is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// A local directory (removable media).
    Local(PathBuf),
    /// An `https://` base URL.
    Https(String),
    /// A plain `http://` base URL (test rigs; only with `[update]
    /// allow_plain_http = true`).
    PlainHttp(String),
}

impl Location {
    /// Reads argument `arg`: `https://…`, `file:///absolute/path` or a plain
    /// path; `http://…` too when `allow_plain_http` (the configuration's
    /// `[update] allow_plain_http`). Other schemes are refused.
    fn parse(s: &str, arg: &str, allow_plain_http: bool) -> Result<Location, Error> {
        let invalid = |why: &str| {
            Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("argument `{arg}` ({s:?}): {why}"),
            )
        };
        if s.is_empty() {
            return Err(invalid("empty"));
        }
        if s.starts_with("https://") {
            return Ok(Location::Https(s.to_owned()));
        }
        if s.starts_with("http://") {
            if allow_plain_http {
                return Ok(Location::PlainHttp(s.to_owned()));
            }
            return Err(invalid(
                "plain http:// needs `allow_plain_http = true` in the configuration's [update] \
                 section (test rigs only)",
            ));
        }
        if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(invalid(
                    "a file:// URL must name an absolute path (file:///dir)",
                ));
            }
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            let is_scheme = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme {
                return Err(invalid(
                    "unsupported scheme (use https://, file:// or a directory path)",
                ));
            }
        }
        Ok(Location::Local(PathBuf::from(s)))
    }
}

/// The transport of an `https://` repository before a CA bundle is set:
/// every fetch fails. (The exports refuse to fetch before that point with
/// `DHA_ERR_UPDATE_NO_CA_BUNDLE`, so this is only a second line.)
struct NoCaBundle {
    url: String,
}

impl Transport for NoCaBundle {
    fn fetch(&self, _path: &str, _max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
        Err(TufError::Io {
            path: self.url.clone(),
            message: "no CA bundle configured for https (dha_updater_set_ca_bundle)".to_owned(),
        })
    }
}

/// The registered progress callback.
#[derive(Clone, Copy)]
struct Progress {
    callback: unsafe extern "C" fn(*mut c_void, *const c_char, u64, u64),
    userdata: *mut c_void,
}

impl Progress {
    /// Calls the callback. Only on the thread inside the `dha_updater_*`
    /// call that uses the updater it was registered on.
    fn report(&self, target: &CString, done: u64, total: u64) {
        // SAFETY: the callback and userdata were registered together by
        // dha_updater_set_progress_callback, whose contract makes the
        // callback callable with that userdata on the thread using the
        // updater; `target` is NUL-terminated and outlives the call.
        unsafe { (self.callback)(self.userdata, target.as_ptr(), done, total) };
    }
}

/// An updater (opaque): a trusted metadata directory and the repositories
/// it is refreshed from. Made by `dha_updater_new`, released by
/// `dha_updater_free`.
///
/// Not for concurrent use: one thread at a time (the integrator serialises
/// calls); it may be handed to another thread between calls.
pub struct dha_updater {
    store_dir: PathBuf,
    metadata: Location,
    targets: Location,
    ca_bundle: Option<PathBuf>,
    /// The configuration's `[update]` section, kept to rebuild the client
    /// when the CA bundle changes.
    policy: UpdatePolicy,
    progress: Option<Progress>,
    inner: Updater<'static>,
}

// SAFETY: `dha_updater` is not `Send` only because the client keeps its
// transports as `Box<dyn Transport>` (a trait without a `Send` bound) and
// because of the progress `userdata` pointer. The only transports ever boxed
// here are `LocalDirTransport`, `HttpsTransport` and `NoCaBundle`, all
// `Send` (checked below); the clock is a `'static` `SystemClock` (`Sync`);
// the rest of the client's state is plain data (checked below for the
// public parts). `userdata` is never dereferenced by dha: it is handed back
// to the callback on the thread calling `dha_updater_download_target`, as
// the header documents. The header forbids concurrent use, so only `Send`
// is claimed, not `Sync`.
unsafe impl Send for dha_updater {}

const _: () = {
    const fn sendable<T: Send>() {}
    sendable::<LocalDirTransport>();
    sendable::<HttpsTransport>();
    sendable::<NoCaBundle>();
    sendable::<SystemClock>();
    sendable::<Limits>();
    sendable::<dha_core::tuf::store::TrustedStore>();
    sendable::<dha_core::tuf::store::TargetFloors>();
    sendable::<dha_core::tuf::metadata::Metadata<dha_core::tuf::metadata::Root>>();
    sendable::<dha_core::tuf::metadata::Metadata<dha_core::tuf::metadata::Snapshot>>();
    sendable::<dha_core::tuf::metadata::Metadata<dha_core::tuf::metadata::Targets>>();
};

/// A target found in verified metadata (opaque). Made by
/// `dha_updater_get_target`, released by `dha_target_free`; independent of
/// the updater once made. Immutable: it may be read by several threads at
/// once.
pub struct dha_target {
    info: TargetInfo,
    /// The name as a C string (a NUL inside is shown as U+FFFD).
    name: CString,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<dha_target>();
};

/// A C string copy of `s`, with any NUL shown as U+FFFD.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl From<TufError> for Error {
    fn from(e: TufError) -> Self {
        let code = match &e {
            TufError::Malformed { .. } => dha_result::DHA_ERR_UPDATE_MALFORMED,
            TufError::Canonical(_) => dha_result::DHA_ERR_UPDATE_CANONICAL_JSON,
            TufError::BadKey { .. } => dha_result::DHA_ERR_UPDATE_BAD_KEY,
            TufError::Threshold { .. } => dha_result::DHA_ERR_UPDATE_THRESHOLD,
            TufError::InvalidThreshold { .. } => dha_result::DHA_ERR_UPDATE_INVALID_THRESHOLD,
            TufError::Io { .. } => dha_result::DHA_ERR_UPDATE_IO,
            TufError::NotFound { .. } => dha_result::DHA_ERR_UPDATE_NOT_FOUND,
            TufError::TooLarge { .. } => dha_result::DHA_ERR_UPDATE_TOO_LARGE,
            TufError::UnsafeName { .. } => dha_result::DHA_ERR_UPDATE_UNSAFE_NAME,
            TufError::TargetLength { .. } => dha_result::DHA_ERR_UPDATE_TARGET_LENGTH,
            TufError::TargetTooLong { .. } => dha_result::DHA_ERR_UPDATE_TARGET_TOO_LONG,
            TufError::TargetHash { .. } => dha_result::DHA_ERR_UPDATE_TARGET_HASH,
            TufError::NoSupportedHash { .. } => dha_result::DHA_ERR_UPDATE_NO_SUPPORTED_HASH,
            TufError::FloorRollback { .. } => dha_result::DHA_ERR_UPDATE_FLOOR_ROLLBACK,
            TufError::HttpStatus { .. } => dha_result::DHA_ERR_UPDATE_HTTP_STATUS,
            TufError::Certificate { .. } => dha_result::DHA_ERR_UPDATE_CERTIFICATE,
            TufError::Expired { .. } => dha_result::DHA_ERR_UPDATE_EXPIRED,
            TufError::Rollback { .. } => dha_result::DHA_ERR_UPDATE_ROLLBACK,
            TufError::RoleRemoved { .. } => dha_result::DHA_ERR_UPDATE_ROLE_REMOVED,
            TufError::VersionMismatch { .. } => dha_result::DHA_ERR_UPDATE_VERSION_MISMATCH,
            TufError::MetadataTooLarge { .. } => dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE,
            TufError::MetadataLength { .. } => dha_result::DHA_ERR_UPDATE_METADATA_LENGTH,
            TufError::MetadataHash { .. } => dha_result::DHA_ERR_UPDATE_METADATA_HASH,
            TufError::NotListed { .. } => dha_result::DHA_ERR_UPDATE_NOT_LISTED,
            TufError::NoTrustedRoot { .. } => dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT,
            TufError::AlreadyInitialised { .. } => dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED,
            TufError::TargetNotFound { .. } => dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND,
            TufError::HardwareIdMismatch { .. } => dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH,
            TufError::ReleaseCounterMissing { .. } => {
                dha_result::DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING
            }
            // TufError is non-exhaustive: a failure added later is still an
            // update failure, with its detail, until it gets its own number.
            _ => dha_result::DHA_ERR_UPDATE,
        };
        Error::new(code, e.to_string())
    }
}

/// The transport for `location`, with the timeouts of `policy`.
fn transport(
    location: &Location,
    ca_bundle: Option<&Path>,
    policy: &UpdatePolicy,
) -> Result<Box<dyn Transport>, Error> {
    Ok(match (location, ca_bundle) {
        (Location::Local(dir), _) => Box::new(LocalDirTransport::new(dir)?),
        (Location::Https(url), Some(ca)) => Box::new(HttpsTransport::new(
            &policy.https_config(url, Some(CaBundle::PemFile(ca.to_path_buf()))),
        )?),
        (Location::Https(url), None) => Box::new(NoCaBundle { url: url.clone() }),
        (Location::PlainHttp(url), _) => {
            // No TLS, so no roots to load (Location::parse let it through
            // only with allow_plain_http).
            let mut config: HttpsConfig = policy.https_config(url, None);
            config.ca_bundle = None;
            Box::new(HttpsTransport::new(&config)?)
        }
    })
}

/// A client over the store in `store_dir` with the limits and the device
/// hardware id of `policy`, and the system clock.
fn build(
    store_dir: &Path,
    metadata: &Location,
    targets: &Location,
    ca_bundle: Option<&Path>,
    policy: &UpdatePolicy,
) -> Result<Updater<'static>, Error> {
    Ok(Updater::new(
        store_dir,
        transport(metadata, ca_bundle, policy)?,
        transport(targets, ca_bundle, policy)?,
        policy.limits(),
        &SYSTEM_CLOCK,
        policy.hardware_id.clone(),
    )?)
}

impl dha_updater {
    /// Refuses to fetch from an `https://` repository without a CA bundle.
    fn check_ready(&self) -> Result<(), Error> {
        let https = [&self.metadata, &self.targets]
            .into_iter()
            .any(|l| matches!(l, Location::Https(_)));
        if https && self.ca_bundle.is_none() {
            return Err(Error::new(
                dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE,
                "an https:// repository needs a CA bundle: set [update] ca_bundle in the \
                 configuration or call dha_updater_set_ca_bundle first",
            ));
        }
        Ok(())
    }

    /// Calls the progress callback, if any.
    fn report_progress(&self, target: &CString, done: u64, total: u64) {
        if let Some(p) = self.progress {
            p.report(target, done, total);
        }
    }
}

/// An exclusive reference from a `*mut dha_updater` argument, or
/// `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `p` is NULL or a live `dha_updater` not used by anything else during the
/// lifetime `'a`.
unsafe fn updater_mut<'a>(p: *mut dha_updater) -> Result<&'a mut dha_updater, Error> {
    // SAFETY: this function's contract.
    unsafe { p.as_mut() }.ok_or_else(|| Error::null("updater"))
}

/// Seeds the metadata directory `metadata_dir` with the root metadata the
/// device ships (TUF 1.0.34 §5.2: "a good, trusted copy of this file was
/// shipped … using an out-of-band process"), `len` bytes at `root_json`
/// (copied). Call it once, at manufacturing or first boot, before
/// `dha_updater_new`.
///
/// The root must parse and be signed by the threshold of its own root keys;
/// its expiry does not matter here (the update cycle replaces it). The
/// directory is created if needed; the root is written durably. Calling it
/// again with the same bytes succeeds and changes nothing; with other bytes
/// it fails with `DHA_ERR_UPDATE_ALREADY_INITIALISED` (re-seeding could roll
/// the trusted root back).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (path longer than `DHA_UPDATER_ARG_MAX`),
/// `DHA_ERR_UPDATE_METADATA_TOO_LARGE` (more than 512,000 bytes),
/// `DHA_ERR_UPDATE_MALFORMED`, `DHA_ERR_UPDATE_THRESHOLD`,
/// `DHA_ERR_UPDATE_ALREADY_INITIALISED`, `DHA_ERR_UPDATE_IO`, and the other
/// key and signature errors of the 300 range.
///
/// # Safety
///
/// `metadata_dir` is NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_UPDATER_ARG_MAX + 1` bytes); `root_json` is NULL or valid for reads
/// of `len` bytes; both unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_init_root(
    metadata_dir: *const c_char,
    root_json: *const u8,
    len: usize,
) -> dha_result {
    ffi_result("dha_updater_init_root", || {
        let dir = try_str!(metadata_dir, DHA_UPDATER_ARG_MAX);
        if root_json.is_null() {
            return Err(Error::null("root_json"));
        }
        let limit = Limits::default().max_root_bytes;
        if u64::try_from(len).map_or(true, |n| n > limit) {
            return Err(TufError::MetadataTooLarge {
                role: "root".to_owned(),
                limit,
            }
            .into());
        }
        // SAFETY: not NULL (checked above); the caller guarantees `len`
        // readable bytes, unchanged during the call.
        let bytes = unsafe { std::slice::from_raw_parts(root_json, len) };
        Updater::init(Path::new(dir), bytes)?;
        log::info!("trusted root metadata initialised in {dir}");
        Ok(())
    })
}

/// Makes an updater over the metadata directory `metadata_dir` (seeded by
/// `dha_updater_init_root`), refreshed from the metadata repository
/// `metadata_url` and downloading targets from `targets_url`. On success
/// `*out` receives a new handle, to release with `dha_updater_free`.
///
/// Each of `metadata_url` and `targets_url` is one of:
/// - a directory path, or a `file:///absolute/path` URL (no
///   percent-decoding): the repository as a directory, e.g. on removable
///   media, whose files are the repository's files byte for byte; the
///   directory must exist now;
/// - an `https://` base URL: only the CA certificates of the bundle named
///   by the configuration's `[update] ca_bundle`, or by a later
///   `dha_updater_set_ca_bundle` (which overrides it), are trusted, never
///   the system's; without either, every fetch fails with
///   `DHA_ERR_UPDATE_NO_CA_BUNDLE`. The bundle file is read now. Redirects
///   are not followed; proxies are not used;
/// - a plain `http://` base URL, only when the configuration sets
///   `[update] allow_plain_http = true` (test rigs).
///
/// Other schemes, and `http://` without that switch, are refused
/// (`DHA_ERR_INVALID_ARGUMENT`).
///
/// The trusted root is read and checked now, so a directory that was never
/// initialised fails here with `DHA_ERR_UPDATE_NO_TRUSTED_ROOT`.
///
/// `config` is required, as for `dha_audit_run`; its `[update]` section
/// (see `dha.example.toml`) is copied, so it may be freed as soon as this
/// returns. From it come:
/// - `hardware_id`: the device's hardware id; a target whose
///   `custom.hardware_id` names other hardware is then refused by
///   `dha_updater_get_target` (and `dha_updater_download_target`) with
///   `DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH`. Not set by default (targets
///   declared for any hardware are accepted);
/// - the limits: `max_root_bytes` (default 512,000), `max_timestamp_bytes`
///   (16,384), `max_snapshot_bytes` (2,000,000), `max_targets_bytes`
///   (5,000,000), `max_root_rotations` (256), `max_delegations` (32
///   delegated roles per search);
/// - `ca_bundle`, `connect_timeout_secs` (30), `read_timeout_secs` (60),
///   `overall_timeout_secs` (3600) and `allow_plain_http` (false) for the
///   `http(s)://` repositories.
///
/// `dha_config_new_default` gives all the defaults. The updater judges
/// expiry by the operating system's clock, read once at the start of each
/// update cycle.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (an empty or unsupported location, a string
/// longer than `DHA_UPDATER_ARG_MAX`), `DHA_ERR_UPDATE_IO` (a directory that
/// cannot be opened, a configured CA bundle that cannot be read or holds no
/// certificate), `DHA_ERR_UPDATE_NO_TRUSTED_ROOT`, and the metadata
/// errors of the 300 range when the trusted root no longer verifies.
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle; each string is NULL or
/// NUL-terminated (read up to its NUL or `DHA_UPDATER_ARG_MAX + 1` bytes)
/// and unchanged during the call; `out` is NULL or valid for a write of one
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_new(
    config: *const dha_config,
    metadata_dir: *const c_char,
    metadata_url: *const c_char,
    targets_url: *const c_char,
    out: *mut *mut dha_updater,
) -> dha_result {
    ffi_result("dha_updater_new", || {
        let policy = try_ref!(config).config.update.clone();
        let store_dir = PathBuf::from(try_str!(metadata_dir, DHA_UPDATER_ARG_MAX));
        let plain = policy.allow_plain_http;
        let metadata = Location::parse(
            try_str!(metadata_url, DHA_UPDATER_ARG_MAX),
            "metadata_url",
            plain,
        )?;
        let targets = Location::parse(
            try_str!(targets_url, DHA_UPDATER_ARG_MAX),
            "targets_url",
            plain,
        )?;
        let out = try_out!(out);
        let ca_bundle = policy.ca_bundle.clone();
        let inner = build(
            &store_dir,
            &metadata,
            &targets,
            ca_bundle.as_deref(),
            &policy,
        )?;
        out.write(Box::into_raw(Box::new(dha_updater {
            store_dir,
            metadata,
            targets,
            ca_bundle,
            policy,
            progress: None,
            inner,
        })));
        Ok(())
    })
}

/// Sets the CA bundle for the `https://` repositories of `updater`:
/// `pem_path` names a PEM file of one or more `CERTIFICATE` blocks, which
/// becomes the only set of roots trusted for them (no system roots). The
/// file is read now; it overrides the configuration's `[update] ca_bundle`,
/// and a later call replaces it. Repositories that are local directories or
/// plain `http://` ignore it.
///
/// Setting a bundle starts the updater afresh: the next
/// `dha_updater_get_target` refreshes first, and `dha_target`s made before
/// stay valid. On failure the updater is unchanged.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_UPDATER_ARG_MAX`),
/// `DHA_ERR_UPDATE_IO` (the file cannot be read or holds no certificate),
/// and the errors of `dha_updater_new` (the metadata directory is opened
/// again).
///
/// # Safety
///
/// `updater` is NULL or a live `dha_updater` not used by another thread
/// during the call; `pem_path` is NULL or a NUL-terminated string (read up
/// to its NUL or `DHA_UPDATER_ARG_MAX + 1` bytes) unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_set_ca_bundle(
    updater: *mut dha_updater,
    pem_path: *const c_char,
) -> dha_result {
    ffi_result("dha_updater_set_ca_bundle", || {
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater_mut(updater) }?;
        let pem = PathBuf::from(try_str!(pem_path, DHA_UPDATER_ARG_MAX));
        let inner = build(
            &updater.store_dir,
            &updater.metadata,
            &updater.targets,
            Some(&pem),
            &updater.policy,
        )?;
        updater.inner = inner;
        updater.ca_bundle = Some(pem);
        Ok(())
    })
}

/// Registers `callback` to receive the progress of
/// `dha_updater_download_target` on `updater` (see
/// `dha_updater_progress_callback` for when it is called), replacing any
/// earlier one; `callback == NULL` removes it (then `userdata` is ignored).
/// Once this returns, the previous callback is not called any more, and its
/// `userdata` may be freed.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`updater`).
///
/// # Safety
///
/// `updater` is NULL or a live `dha_updater` not used by another thread
/// during the call; `callback`, when not NULL, may be called with
/// `userdata` by every later `dha_updater_download_target` on this updater,
/// on whichever thread calls it, until it is replaced or the updater freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_set_progress_callback(
    updater: *mut dha_updater,
    callback: dha_updater_progress_callback,
    userdata: *mut c_void,
) -> dha_result {
    ffi_result("dha_updater_set_progress_callback", || {
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater_mut(updater) }?;
        updater.progress = callback.map(|callback| Progress { callback, userdata });
        Ok(())
    })
}

/// Runs one update cycle (TUF 1.0.34 §5.1 to §5.6): the root (rotated one
/// version at a time), timestamp, snapshot and top-level targets, each
/// checked for signatures, versions, rollback, hashes, lengths and expiry in
/// the order the specification gives. Blocks until done (reading from the
/// repository). Only metadata that passed every check is stored in the
/// metadata directory; on any failure the updater keeps no verified state,
/// and `dha_updater_get_target` refreshes again.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_UPDATE_NO_CA_BUNDLE`, and the
/// verification and transport failures of the 300 range, each with its own
/// number (e.g. `DHA_ERR_UPDATE_EXPIRED`, `DHA_ERR_UPDATE_THRESHOLD`,
/// `DHA_ERR_UPDATE_ROLLBACK`); `dha_last_error_detail` names the role and
/// what failed.
///
/// # Safety
///
/// `updater` is NULL or a live `dha_updater` not used by another thread
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_refresh(updater: *mut dha_updater) -> dha_result {
    ffi_result("dha_updater_refresh", || {
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater_mut(updater) }?;
        updater.check_ready()?;
        updater.inner.refresh()?;
        log::info!("update metadata refreshed");
        Ok(())
    })
}

/// Looks target `name` up in the verified metadata (TUF 1.0.34 §5.6.7: the
/// top-level targets, then the delegations depth-first), refreshing first if
/// `updater` has not completed a cycle. On success `*out` receives a new
/// `dha_target`, to release with `dha_target_free`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_UPDATER_ARG_MAX`),
/// `DHA_ERR_UPDATE_TARGET_NOT_FOUND`, `DHA_ERR_UPDATE_NO_CA_BUNDLE`,
/// `DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH` (the target is declared for other
/// hardware than the configuration's `[update] hardware_id`), the
/// failures of a delegated role on the way (e.g. `DHA_ERR_UPDATE_EXPIRED`
/// naming it), and those of `dha_updater_refresh`.
///
/// # Safety
///
/// `updater` is NULL or a live `dha_updater` not used by another thread
/// during the call; `name` is NULL or a NUL-terminated string (read up to
/// its NUL or `DHA_UPDATER_ARG_MAX + 1` bytes) unchanged during the call;
/// `out` is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_get_target(
    updater: *mut dha_updater,
    name: *const c_char,
    out: *mut *mut dha_target,
) -> dha_result {
    ffi_result("dha_updater_get_target", || {
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater_mut(updater) }?;
        let name = try_str!(name, DHA_UPDATER_ARG_MAX);
        let out = try_out!(out);
        updater.check_ready()?;
        let info = updater.inner.get_target_info(name)?;
        let target = dha_target {
            name: c_string(info.name()),
            info,
        };
        out.write(Box::into_raw(Box::new(target)));
        Ok(())
    })
}

/// Downloads `target` (from `dha_updater_get_target` on this updater) into
/// the directory `dest_dir` and verifies it (TUF 1.0.34 §5.7): the file
/// ends up as `dest_dir/<target name>` (a name with `/` makes
/// subdirectories), with mode 0644, only once its length and every listed
/// supported hash (sha256, sha512) matched. The bytes are streamed into a
/// temporary file in the same directory and renamed when verified, so a
/// failure leaves no partial file and an older file of that name untouched;
/// a file already there that matches is not fetched again. Blocks until
/// done.
///
/// Before anything is fetched: a name that could leave `dest_dir` is
/// `DHA_ERR_UPDATE_UNSAFE_NAME`, and a release counter below the device's
/// anti-rollback floor `DHA_ERR_UPDATE_FLOOR_ROLLBACK`. After a verified
/// download the floor is raised to the target's release counter.
///
/// The progress callback, if any, is called as `dha_updater_progress_callback`
/// says: at the start, about once per MiB received, and at the end.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (longer than `DHA_UPDATER_ARG_MAX`),
/// `DHA_ERR_UPDATE_NO_CA_BUNDLE`, `DHA_ERR_UPDATE_TARGET_HASH`,
/// `DHA_ERR_UPDATE_TARGET_LENGTH`, `DHA_ERR_UPDATE_TARGET_TOO_LONG`,
/// `DHA_ERR_UPDATE_NO_SUPPORTED_HASH`, `DHA_ERR_UPDATE_NOT_FOUND`,
/// `DHA_ERR_UPDATE_IO`, `DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH`,
/// `DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING`, and the transport errors.
///
/// # Safety
///
/// `updater` is NULL or a live `dha_updater` not used by another thread
/// during the call; `target` is NULL or a live `dha_target`; `dest_dir` is
/// NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_UPDATER_ARG_MAX + 1` bytes) unchanged during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_download_target(
    updater: *mut dha_updater,
    target: *const dha_target,
    dest_dir: *const c_char,
) -> dha_result {
    ffi_result("dha_updater_download_target", || {
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater_mut(updater) }?;
        let target = try_ref!(target);
        let dest_dir = try_str!(dest_dir, DHA_UPDATER_ARG_MAX);
        updater.check_ready()?;
        let total = target.info.length();
        updater.report_progress(&target.name, 0, total);
        // The client reports on this thread, at most once per MiB received
        // with done < total, then done == total once the file is in place;
        // that last one is made below instead, once the floor is raised too.
        let progress = updater.progress;
        let mut forward = |done: u64, total: u64| {
            if let Some(p) = progress.filter(|_| done < total) {
                p.report(&target.name, done, total);
            }
        };
        let path = updater.inner.download_target_with_progress(
            &target.info,
            Path::new(dest_dir),
            &mut forward,
        )?;
        updater.report_progress(&target.name, total, total);
        log::info!(
            "target {} verified ({total} bytes) at {}",
            target.info.name(),
            path.display()
        );
        Ok(())
    })
}

/// Releases an updater. NULL is accepted and ignored. `dha_target`s made by
/// it stay valid; the metadata directory keeps what was verified.
///
/// # Safety
///
/// `updater` is NULL or a handle from `dha_updater_new` not yet freed, and
/// no other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_updater_free(updater: *mut dha_updater) {
    ffi_free("dha_updater_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(updater) }
    })
}

/// The name of `target` (its path in the repository, e.g.
/// `"firmware/ct.bin"`): a NUL-terminated string borrowed from `target`,
/// valid until `dha_target_free`. NULL when `target` is NULL.
///
/// # Safety
///
/// `target` is NULL or a live `dha_target`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_target_name(target: *const dha_target) -> *const c_char {
    ffi_value("dha_target_name", ptr::null(), || {
        Ok(try_ref!(target).name.as_ptr())
    })
}

/// The length of `target` in bytes, from its verified metadata. 0 when
/// `target` is NULL (a target may also be empty: do not use 0 as an error
/// sign).
///
/// # Safety
///
/// `target` is NULL or a live `dha_target`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_target_length(target: *const dha_target) -> u64 {
    ffi_value("dha_target_length", 0, || {
        Ok(try_ref!(target).info.length())
    })
}

/// Copies the hash of `target` for `algorithm` (`"sha256"`, `"sha512"` or
/// another algorithm its metadata lists), as the lowercase or uppercase
/// hexadecimal digits its verified metadata gives, and a NUL, into `buf`.
///
/// `*out_written` receives the number of hex digits (NUL excluded), also
/// when `buf` is too small: then nothing of the digest is copied (a cut
/// digest would be a different one), `buf` holds the empty string when
/// `len > 0`, and the result is `DHA_ERR_INSUFFICIENT_SIZE`; call again with
/// `*out_written + 1` bytes. 129 bytes hold a SHA-512 digest.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`target`, `algorithm` or `out_written`
/// NULL, or `buf` NULL with `len > 0`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (algorithm longer than `DHA_UPDATER_ARG_MAX`),
/// `DHA_ERR_UPDATE_HASH_NOT_LISTED`, `DHA_ERR_UPDATE_MALFORMED` (the listed
/// value is not hexadecimal), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `target` is NULL or a live `dha_target`; `algorithm` is NULL or a
/// NUL-terminated string (read up to its NUL or `DHA_UPDATER_ARG_MAX + 1`
/// bytes) unchanged during the call; `buf` is NULL or valid for writes of
/// `len` bytes; `out_written` is NULL or valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_target_hash(
    target: *const dha_target,
    algorithm: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_written: *mut usize,
) -> dha_result {
    ffi_result("dha_target_hash", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let target = try_ref!(target);
        let algorithm = try_str!(algorithm, DHA_UPDATER_ARG_MAX);
        let out_written = try_out!(out_written);
        let name = target.info.name();
        let hex = target.info.hashes().get(algorithm).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED,
                format!(
                    "target {name}: no {algorithm:?} hash listed (listed: {})",
                    target
                        .info
                        .hashes()
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TufError::Malformed {
                role: target.info.role().to_owned(),
                message: format!("signed.targets.{name}.hashes.{algorithm}: not hexadecimal"),
            }
            .into());
        }
        let fit = buf.copy_whole(hex);
        out_written.write(hex.len());
        if fit {
            Ok(())
        } else {
            Err(Error::new(
                dha_result::DHA_ERR_INSUFFICIENT_SIZE,
                format!(
                    "the {algorithm} digest needs {} bytes; the buffer has {len}",
                    hex.len().saturating_add(1)
                ),
            ))
        }
    })
}

/// Copies the `custom` object of `target`'s verified metadata as compact
/// JSON (e.g. `{"hardware_id":"ct-console-07"}`), or `null` when it has
/// none, and a NUL, into `buf`. The fields `hardware_id` and
/// `release_counter` are the ones dha itself acts on.
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size of buffer needed, NUL included; when `len` is smaller nothing of
/// the JSON is copied, `buf` (if `len > 0`) holds the empty string, and the
/// result is `DHA_ERR_INSUFFICIENT_SIZE`; `buf == NULL, len == 0` asks for
/// the size.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`target` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `target` is NULL or a live `dha_target`; `buf` is NULL or valid for
/// writes of `len` bytes; `out_needed` is NULL or valid for a write of one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_target_custom_json(
    target: *const dha_target,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_target_custom_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let target = try_ref!(target);
        let out_needed = try_out!(out_needed);
        // serde_json escapes control characters, so the JSON holds no NUL.
        let json = target
            .info
            .custom()
            .map_or_else(|| "null".to_owned(), ToString::to_string);
        buf.copy_whole_or_size_error(&json, out_needed, "the custom JSON")
    })
}

/// Releases a target. NULL is accepted and ignored.
///
/// # Safety
///
/// `target` is NULL or a handle from `dha_updater_get_target` not yet
/// freed, and no other thread is using it or its name.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_target_free(target: *mut dha_target) {
    ffi_free("dha_target_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(target) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{dha_config_free, dha_config_new_from_toml};
    use crate::error::last_error;
    use std::collections::BTreeSet;
    use std::ffi::CStr;
    use std::sync::Mutex;

    fn reference(scenario: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/tuf/reference")
            .join(scenario)
    }

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn c_path(p: &Path) -> CString {
        c(p.to_str().unwrap())
    }

    /// A metadata directory seeded with `scenario`'s shipped root.
    fn seeded(scenario: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::read(reference(scenario).join("client/root.json")).unwrap();
        // SAFETY: a NUL-terminated path and a live buffer of root.len() bytes.
        let rc = unsafe {
            dha_updater_init_root(c_path(dir.path()).as_ptr(), root.as_ptr(), root.len())
        };
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        dir
    }

    /// An updater over `store` and `scenario`'s repository, or the result.
    fn open(store: &Path, metadata: &str, targets: &str) -> Result<*mut dha_updater, dha_result> {
        open_configured(store, metadata, targets, c"")
    }

    /// As [`open`], with the configuration document `toml`.
    fn open_configured(
        store: &Path,
        metadata: &str,
        targets: &str,
        toml: &CStr,
    ) -> Result<*mut dha_updater, dha_result> {
        let mut config = ptr::null_mut();
        // SAFETY: a NUL-terminated document and a valid out pointer.
        let rc = unsafe { dha_config_new_from_toml(toml.as_ptr(), &mut config) };
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let mut updater = ptr::null_mut();
        // SAFETY: live config, NUL-terminated strings, a valid out pointer.
        let rc = unsafe {
            dha_updater_new(
                config,
                c_path(store).as_ptr(),
                c(metadata).as_ptr(),
                c(targets).as_ptr(),
                &mut updater,
            )
        };
        // SAFETY: made above, freed once; the updater keeps a copy of its [update] section.
        unsafe { dha_config_free(config) };
        if rc == dha_result::DHA_OK {
            Ok(updater)
        } else {
            assert!(updater.is_null(), "no output on failure");
            Err(rc)
        }
    }

    fn open_scenario(store: &Path, scenario: &str) -> *mut dha_updater {
        let base = reference(scenario);
        let metadata = base.join("metadata");
        let targets = format!("file://{}", base.join("targets").display());
        open(store, metadata.to_str().unwrap(), &targets).unwrap()
    }

    /// Every variant of TufError today, one of each.
    fn every_tuf_error() -> Vec<TufError> {
        let s = || "x".to_owned();
        vec![
            TufError::Malformed {
                role: s(),
                message: s(),
            },
            TufError::Canonical(s()),
            TufError::BadKey {
                keyid: s(),
                message: s(),
            },
            TufError::Threshold {
                role: s(),
                valid: 0,
                threshold: 1,
            },
            TufError::InvalidThreshold {
                role: s(),
                threshold: 0,
            },
            TufError::Io {
                path: s(),
                message: s(),
            },
            TufError::NotFound { path: s() },
            TufError::TooLarge {
                path: s(),
                limit: 1,
            },
            TufError::UnsafeName {
                name: s(),
                reason: s(),
            },
            TufError::TargetLength {
                target: s(),
                expected: 2,
                got: 1,
            },
            TufError::TargetTooLong {
                target: s(),
                expected: 1,
            },
            TufError::TargetHash {
                target: s(),
                algorithm: s(),
            },
            TufError::NoSupportedHash { target: s() },
            TufError::FloorRollback {
                target: s(),
                floor: 2,
                offered: 1,
            },
            TufError::HttpStatus {
                url: s(),
                status: 500,
            },
            TufError::Certificate {
                url: s(),
                message: s(),
            },
            TufError::Expired { role: s() },
            TufError::Rollback {
                role: s(),
                trusted: 2,
                offered: 1,
            },
            TufError::RoleRemoved { role: s() },
            TufError::VersionMismatch {
                role: s(),
                expected: 2,
                got: 3,
            },
            TufError::MetadataTooLarge {
                role: s(),
                limit: 1,
            },
            TufError::MetadataLength {
                role: s(),
                expected: 1,
            },
            TufError::MetadataHash {
                role: s(),
                algorithm: s(),
            },
            TufError::NotListed {
                role: s(),
                listed_in: s(),
            },
            TufError::NoTrustedRoot { path: s() },
            TufError::AlreadyInitialised {
                path: s(),
                version: 1,
            },
            TufError::TargetNotFound { target: s() },
            TufError::HardwareIdMismatch {
                target: s(),
                listed: s(),
                device: s(),
            },
            TufError::ReleaseCounterMissing {
                target: s(),
                floor: 1,
            },
        ]
    }

    #[test]
    fn every_tuf_error_has_its_own_documented_number() {
        let errors = every_tuf_error();
        let mut seen = BTreeSet::new();
        for e in errors {
            let text = e.to_string();
            let mapped = Error::from(e.clone());
            let n = mapped.code as u32;
            assert!((301..=399).contains(&n), "{e:?} maps to {n}");
            assert!(seen.insert(n), "{e:?} shares number {n}");
            assert_eq!(mapped.detail, text, "the detail is the error's text");
            assert_eq!(dha_result::from_u32(n), Some(mapped.code));
            assert!(!mapped.code.message().is_empty());
        }
        assert_eq!(seen.len(), 29);
    }

    #[test]
    fn locations_are_directories_file_urls_or_https() {
        let parse = |s: &str| Location::parse(s, "metadata_url", false);
        assert_eq!(
            parse("https://u.example/m").unwrap(),
            Location::Https("https://u.example/m".to_owned())
        );
        assert_eq!(
            parse("file:///media/usb/metadata").unwrap(),
            Location::Local(PathBuf::from("/media/usb/metadata"))
        );
        assert_eq!(
            parse("relative/dir").unwrap(),
            Location::Local(PathBuf::from("relative/dir"))
        );
        for bad in [
            "",
            "http://u.example/m",
            "ftp://x/y",
            "file://relative",
            "HTTP://x",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, dha_result::DHA_ERR_INVALID_ARGUMENT, "{bad}");
            assert!(e.detail.contains("`metadata_url`"), "{}", e.detail);
        }
        // Plain http only with the configuration's switch.
        assert_eq!(
            Location::parse("http://10.0.0.5:8000/m", "metadata_url", true).unwrap(),
            Location::PlainHttp("http://10.0.0.5:8000/m".to_owned())
        );
        let e = parse("http://10.0.0.5:8000/m").unwrap_err();
        assert!(e.detail.contains("allow_plain_http"), "{}", e.detail);
        assert!(Location::parse("ftp://x/y", "metadata_url", true).is_err());
    }

    static PROGRESS: Mutex<Vec<(usize, String, u64, u64)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn record(
        userdata: *mut c_void,
        target: *const c_char,
        done: u64,
        total: u64,
    ) {
        // SAFETY: dha passes a NUL-terminated name.
        let name = unsafe { CStr::from_ptr(target) }
            .to_str()
            .unwrap()
            .to_owned();
        PROGRESS
            .lock()
            .unwrap()
            .push((userdata as usize, name, done, total));
    }

    #[test]
    fn a_reference_repository_refreshes_and_downloads() {
        let store = seeded("basic-ed25519");
        let dest = tempfile::tempdir().unwrap();
        let updater = open_scenario(store.path(), "basic-ed25519");
        // SAFETY: a live updater, used by this thread only; `record` ignores
        // userdata's pointee.
        unsafe {
            assert_eq!(
                dha_updater_set_progress_callback(updater, Some(record), 0x5a as *mut c_void),
                dha_result::DHA_OK
            );
            assert_eq!(
                dha_updater_refresh(updater),
                dha_result::DHA_OK,
                "{}",
                last_error()
            );
        }
        let mut target = ptr::null_mut();
        // SAFETY: as above; NUL-terminated name; valid out pointer.
        let rc =
            unsafe { dha_updater_get_target(updater, c"files/hello.txt".as_ptr(), &mut target) };
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        // SAFETY: `target` is live until freed below.
        unsafe {
            assert_eq!(dha_target_length(target), 25);
            assert_eq!(CStr::from_ptr(dha_target_name(target)), c"files/hello.txt");
            let mut hex = [0 as c_char; 129];
            let mut n = 0usize;
            let rc = dha_target_hash(
                target,
                c"sha256".as_ptr(),
                hex.as_mut_ptr(),
                hex.len(),
                &mut n,
            );
            assert_eq!(rc, dha_result::DHA_OK);
            assert_eq!(n, 64);
            assert_eq!(
                CStr::from_ptr(hex.as_ptr()).to_str().unwrap(),
                "8346c3ce8634e3cb68d01bce3a186376bab5f4ea6c2fccab4bab2fea069c6963"
            );
            // Too small: nothing of the digest, the size still told.
            let rc = dha_target_hash(target, c"sha512".as_ptr(), hex.as_mut_ptr(), 128, &mut n);
            assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
            assert_eq!((n, hex[0]), (128, 0));
            let rc = dha_target_hash(target, c"md5".as_ptr(), hex.as_mut_ptr(), hex.len(), &mut n);
            assert_eq!(rc, dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED);
            assert!(last_error().contains("sha256, sha512"), "{}", last_error());

            let mut needed = 0usize;
            let rc = dha_target_custom_json(target, ptr::null_mut(), 0, &mut needed);
            assert_eq!((rc, needed), (dha_result::DHA_ERR_INSUFFICIENT_SIZE, 5));
            let mut json = [0x55 as c_char; 5];
            let rc = dha_target_custom_json(target, json.as_mut_ptr(), 5, &mut needed);
            assert_eq!(rc, dha_result::DHA_OK);
            assert_eq!(CStr::from_ptr(json.as_ptr()), c"null");

            let rc = dha_updater_download_target(updater, target, c_path(dest.path()).as_ptr());
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            dha_target_free(target);
        }
        let got = std::fs::read(dest.path().join("files/hello.txt")).unwrap();
        assert_eq!(got.len(), 25);
        let progress = PROGRESS.lock().unwrap().clone();
        assert_eq!(
            progress,
            [
                (0x5a, "files/hello.txt".to_owned(), 0, 25),
                (0x5a, "files/hello.txt".to_owned(), 25, 25)
            ]
        );

        let mut absent = ptr::null_mut();
        // SAFETY: as above.
        let rc =
            unsafe { dha_updater_get_target(updater, c"files/absent.txt".as_ptr(), &mut absent) };
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND);
        assert!(absent.is_null());
        // SAFETY: freed once.
        unsafe { dha_updater_free(updater) };
    }

    #[test]
    fn a_custom_field_comes_out_as_json() {
        let store = seeded("hardware-id");
        let updater = open_scenario(store.path(), "hardware-id");
        let mut target = ptr::null_mut();
        // SAFETY: a live updater; valid name and out pointer; freed once.
        unsafe {
            let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut target);
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            let mut json = [0 as c_char; 64];
            let mut needed = 0usize;
            let rc = dha_target_custom_json(target, json.as_mut_ptr(), json.len(), &mut needed);
            assert_eq!(rc, dha_result::DHA_OK);
            assert_eq!(
                CStr::from_ptr(json.as_ptr()),
                c"{\"hardware_id\":\"ct-console-07\"}"
            );
            dha_target_free(target);
            dha_updater_free(updater);
        }
    }

    /// The repository directories of `scenario`, as `open` takes them.
    fn repository(scenario: &str) -> (String, String) {
        let base = reference(scenario);
        let metadata = base.join("metadata").to_str().unwrap().to_owned();
        let targets = base.join("targets").to_str().unwrap().to_owned();
        (metadata, targets)
    }

    #[test]
    fn the_configured_hardware_id_refuses_targets_for_other_hardware() {
        // tests/data/tuf/reference/hardware-id: firmware/ct.bin is for
        // ct-console-07, firmware/mr.bin for mr-scanner-03.
        let store = seeded("hardware-id");
        let dest = tempfile::tempdir().unwrap();
        let (metadata, targets) = repository("hardware-id");
        let toml = c"[update]\nhardware_id = \"mr-scanner-03\"\n";
        let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
        let dest_c = c_path(dest.path());
        // SAFETY: a live updater; valid names, directory and out pointers;
        // each handle freed once.
        unsafe {
            // Refused at the lookup already, before anything is fetched.
            let mut ct = ptr::null_mut();
            let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut ct);
            assert_eq!(rc, dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH);
            assert_eq!(rc as u32, 328, "the documented number");
            assert!(ct.is_null(), "no output on failure");
            let detail = last_error();
            assert!(
                detail.contains("firmware/ct.bin")
                    && detail.contains("ct-console-07")
                    && detail.contains("mr-scanner-03"),
                "{detail}"
            );
            let mut mr = ptr::null_mut();
            let rc = dha_updater_get_target(updater, c"firmware/mr.bin".as_ptr(), &mut mr);
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            let rc = dha_updater_download_target(updater, mr, dest_c.as_ptr());
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            dha_target_free(mr);
            dha_updater_free(updater);
        }
        assert!(!dest.path().join("firmware/ct.bin").exists());
        assert!(dest.path().join("firmware/mr.bin").is_file());

        // Without the configured id the same target is accepted.
        let store = seeded("hardware-id");
        let updater = open_configured(store.path(), &metadata, &targets, c"").unwrap();
        // SAFETY: as above.
        unsafe {
            let mut ct = ptr::null_mut();
            let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut ct);
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            let rc = dha_updater_download_target(updater, ct, dest_c.as_ptr());
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            dha_target_free(ct);
            dha_updater_free(updater);
        }
    }

    #[test]
    fn the_configured_limits_and_transport_settings_apply() {
        // A timestamp bound below basic-ed25519's timestamp.json.
        let store = seeded("basic-ed25519");
        let (metadata, targets) = repository("basic-ed25519");
        let toml = c"[update]\nmax_timestamp_bytes = 100\n";
        let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
        // SAFETY: a live updater, freed once.
        let rc = unsafe { dha_updater_refresh(updater) };
        // SAFETY: as above.
        unsafe { dha_updater_free(updater) };
        assert!(
            matches!(
                rc,
                dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE
                    | dha_result::DHA_ERR_UPDATE_TOO_LARGE
            ),
            "{rc:?}: {}",
            last_error()
        );
        assert!(last_error().contains("timestamp"), "{}", last_error());
        assert!(!store.path().join("timestamp.json").exists());

        // One delegated role per search: delegation-depth's target at depth
        // 10 is out of reach (it is found with the default of 32).
        let store = seeded("delegation-depth");
        let (metadata, targets) = repository("delegation-depth");
        let toml = c"[update]\nmax_delegations = 1\n";
        let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
        let found = "deep/shallow.bin"; // in d10 (scenario.json)
        let mut target = ptr::null_mut();
        // SAFETY: a live updater, a valid name and out pointer, freed once.
        let rc = unsafe { dha_updater_get_target(updater, c(found).as_ptr(), &mut target) };
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND, "{found}");
        // SAFETY: as above.
        unsafe { dha_updater_free(updater) };
        let updater = open(store.path(), &metadata, &targets).unwrap();
        // SAFETY: as above.
        unsafe {
            let rc = dha_updater_get_target(updater, c(found).as_ptr(), &mut target);
            assert_eq!(rc, dha_result::DHA_OK, "{found}: {}", last_error());
            dha_target_free(target);
            dha_updater_free(updater);
        }

        // Plain http only with the switch; a configured CA bundle is read
        // when the updater is made, and named when it cannot be.
        let store = seeded("basic-ed25519");
        let http = "http://127.0.0.1:9/metadata";
        let rc = open(store.path(), http, &targets).unwrap_err();
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
        assert!(
            last_error().contains("allow_plain_http"),
            "{}",
            last_error()
        );
        let toml = c"[update]\nallow_plain_http = true\nconnect_timeout_secs = 1\n";
        let updater = open_configured(store.path(), http, &targets, toml).unwrap();
        // SAFETY: a live updater, freed once.
        unsafe { dha_updater_free(updater) };
        let toml = c"[update]\nca_bundle = \"/nonexistent/dha-ca.pem\"\n";
        let rc =
            open_configured(store.path(), "https://127.0.0.1:9/m", &targets, toml).unwrap_err();
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
        assert!(
            last_error().contains("/nonexistent/dha-ca.pem"),
            "{}",
            last_error()
        );
    }

    #[test]
    fn an_expired_timestamp_has_its_own_number_and_names_the_role() {
        let store = seeded("expired-timestamp");
        let updater = open_scenario(store.path(), "expired-timestamp");
        // SAFETY: a live updater, freed once.
        unsafe {
            assert_eq!(
                dha_updater_refresh(updater),
                dha_result::DHA_ERR_UPDATE_EXPIRED
            );
            dha_updater_free(updater);
        }
        assert_eq!(
            last_error(),
            "dha_updater_refresh: timestamp: metadata has expired"
        );
    }

    #[test]
    fn setup_errors_are_named() {
        // A directory never initialised.
        let empty = tempfile::tempdir().unwrap();
        let repo = reference("basic-ed25519");
        let m = repo.join("metadata");
        let rc = open(empty.path(), m.to_str().unwrap(), m.to_str().unwrap()).unwrap_err();
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT);
        // A repository directory that does not exist.
        let store = seeded("basic-ed25519");
        let rc = open(
            store.path(),
            "/nonexistent/dha/metadata",
            m.to_str().unwrap(),
        )
        .unwrap_err();
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
        assert!(
            last_error().contains("/nonexistent/dha/metadata"),
            "{}",
            last_error()
        );
        let rc = open(store.path(), "http://127.0.0.1/m", m.to_str().unwrap()).unwrap_err();
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);

        // Re-seeding with another root is refused; with the same one it is not.
        let other = std::fs::read(reference("ecdsa-keys").join("client/root.json")).unwrap();
        // SAFETY: NUL-terminated path, live buffer.
        let rc = unsafe {
            dha_updater_init_root(c_path(store.path()).as_ptr(), other.as_ptr(), other.len())
        };
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED);
        let junk = b"{not json";
        let fresh = tempfile::tempdir().unwrap();
        // SAFETY: as above.
        let rc = unsafe {
            dha_updater_init_root(c_path(fresh.path()).as_ptr(), junk.as_ptr(), junk.len())
        };
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_MALFORMED);
        // SAFETY: the length is refused before the pointer is read.
        let rc =
            unsafe { dha_updater_init_root(c_path(fresh.path()).as_ptr(), junk.as_ptr(), 512_001) };
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE);

        // https needs a CA bundle before any fetch; a missing bundle file is
        // refused and leaves the updater as it was.
        let updater = open(
            store.path(),
            "https://127.0.0.1:9/metadata",
            m.to_str().unwrap(),
        )
        .unwrap();
        // SAFETY: a live updater, freed once.
        unsafe {
            assert_eq!(
                dha_updater_refresh(updater),
                dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE
            );
            let rc = dha_updater_set_ca_bundle(updater, c"/nonexistent/ca.pem".as_ptr());
            assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
            assert!(
                last_error().contains("/nonexistent/ca.pem"),
                "{}",
                last_error()
            );
            assert_eq!(
                dha_updater_refresh(updater),
                dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE
            );
            dha_updater_free(updater);
        }
    }

    #[test]
    fn null_arguments_are_refused_and_frees_accept_null() {
        let mut n = 0usize;
        // SAFETY: NULL pointers are refused before any access.
        unsafe {
            assert_eq!(
                dha_updater_init_root(ptr::null(), c"{}".as_ptr().cast(), 2),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_updater_init_root(c"/tmp".as_ptr(), ptr::null(), 0),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert!(last_error().contains("`root_json`"));
            assert_eq!(
                dha_updater_new(
                    ptr::null(),
                    ptr::null(),
                    ptr::null(),
                    ptr::null(),
                    ptr::null_mut()
                ),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_updater_refresh(ptr::null_mut()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert!(last_error().contains("`updater`"));
            assert_eq!(
                dha_updater_get_target(ptr::null_mut(), c"x".as_ptr(), &mut ptr::null_mut()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_updater_download_target(ptr::null_mut(), ptr::null(), ptr::null()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_updater_set_ca_bundle(ptr::null_mut(), c"x".as_ptr()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_updater_set_progress_callback(ptr::null_mut(), None, ptr::null_mut()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert!(dha_target_name(ptr::null()).is_null());
            assert_eq!(dha_target_length(ptr::null()), 0);
            assert_eq!(
                dha_target_hash(ptr::null(), c"sha256".as_ptr(), ptr::null_mut(), 0, &mut n),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_target_custom_json(ptr::null(), ptr::null_mut(), 0, &mut n),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            dha_updater_free(ptr::null_mut());
            dha_target_free(ptr::null_mut());
        }
    }
}
