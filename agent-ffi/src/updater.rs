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

    /// Target `name` from the verified metadata (refreshing first if no
    /// cycle completed), for `dha_installer_install`.
    pub(crate) fn verified_target_info(&mut self, name: &str) -> Result<TargetInfo, Error> {
        self.check_ready()?;
        Ok(self.inner.get_target_info(name)?)
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
mod tests;
