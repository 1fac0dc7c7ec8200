//! `dha_sbom_to_json`: the device's software bill of materials, a
//! CycloneDX 1.5 JSON document ([`dha_core::sbom`]), copied into a caller's
//! buffer.

use crate::boundary::{OutBuf, ffi_result, try_out, try_str};
use crate::config::dha_config;
use crate::error::Error;
use crate::report::DHA_ROOT_PATH_MAX;
use crate::result::dha_result;
use dha_core::sbom::SbomError;
use dha_core::{Config, Root, SystemClock};
use std::ffi::c_char;

impl From<SbomError> for Error {
    fn from(e: SbomError) -> Self {
        let code = match &e {
            SbomError::Unreadable { .. } => dha_result::DHA_ERR_SBOM_UNREADABLE,
            SbomError::Incomplete { .. } => dha_result::DHA_ERR_SBOM_INCOMPLETE,
            _ => dha_result::DHA_ERR_SBOM,
        };
        Error::new(code, e.to_string())
    }
}

/// Makes the SBOM of the root directory `root` and copies it, pretty-printed
/// JSON ending in a newline, and a NUL into `buf`: a CycloneDX 1.5 document
/// (`"bomFormat": "CycloneDX"`, `"specVersion": "1.5"`) listing the
/// installed packages of the dpkg status database and the images dha
/// installed into good slots (the install journal of `[install]`), with the
/// operating system and the device (its host name). The same as `dha sbom`.
///
/// `config` may be NULL: the defaults then apply (the SBOM reads only the
/// `[install]` journal path and the `[limits]` of the configuration). With a
/// handle, its `install.journal` is read inside `root`.
///
/// `root` is a NUL-terminated UTF-8 path of at most `DHA_ROOT_PATH_MAX`
/// bytes: `"/"` is the running system, any other directory an extracted
/// device image whose own `/` it is. Nothing is written under it. The
/// document is made again by every call (its `metadata.timestamp` is the
/// time of the call), reading the package database (up to `[limits]
/// max_file_bytes`, 16 MiB by default), the install journal, os-release and
/// the host name; it blocks the calling thread and may run on several
/// threads at once. Unlike `dha_evidence_to_json` it does not audit: it walks
/// no filesystem, hashes no file and starts no child process.
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size of buffer needed, NUL included; when `len` is smaller nothing of
/// the JSON is copied, `buf` (if `len > 0`) holds the empty string, and the
/// result is `DHA_ERR_INSUFFICIENT_SIZE`; `buf == NULL, len == 0` asks for
/// the size. As the timestamp changes between calls, allocate some slack
/// (the size does not change while the device's software does not).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`root` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INVALID_UTF8`, `DHA_ERR_INVALID_ARGUMENT`
/// (path too long), `DHA_ERR_ROOT_NOT_FOUND`, `DHA_ERR_ROOT_NOT_A_DIRECTORY`,
/// `DHA_ERR_ROOT_PERMISSION_DENIED`, `DHA_ERR_IO`,
/// `DHA_ERR_SBOM_UNREADABLE` (the package database or the journal exists
/// but cannot be read, or the journal is malformed),
/// `DHA_ERR_SBOM_INCOMPLETE` (the database is over a read limit),
/// `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle; `root` is NULL or a
/// NUL-terminated string (read up to its NUL or `DHA_ROOT_PATH_MAX + 1`
/// bytes) unchanged during the call; `buf` is NULL or valid for writes of
/// `len` bytes; `out_needed` is NULL or valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_sbom_to_json(
    config: *const dha_config,
    root: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_sbom_to_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        // SAFETY: this function's contract: `config` is NULL or a live
        // handle, not freed during the call; NULL means the defaults.
        let config = unsafe { crate::config::config_or_defaults(config) };
        let config: &Config = &config;
        let root = try_str!(root, DHA_ROOT_PATH_MAX);
        let out_needed = try_out!(out_needed);
        let root = Root::with_limits(root, config.read_limits())?;
        let host = dha_linux::LinuxHost;
        let sbom = dha_core::sbom::build(&root, config, &SystemClock, Some(&host))?;
        for w in &sbom.warnings {
            log::warn!("{w}");
        }
        buf.copy_whole_or_size_error(&sbom.to_json(), out_needed, "the SBOM JSON")
    })
}
