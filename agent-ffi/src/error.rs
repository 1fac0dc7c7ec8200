//! Errors inside the ABI: a [`dha_result`] with its detail, and the detail of
//! the last failure on each thread (`dha_last_error_detail`).

use crate::boundary::{OutBuf, ffi_quiet, try_out};
use crate::result::dha_result;
use dha_core::{ConfigError, RootError};
use std::cell::RefCell;
use std::ffi::c_char;
use std::io;

/// The longest log message (`dha_log_callback`) or error detail
/// (`dha_last_error_detail`) in bytes, not counting the NUL: a buffer of
/// `DHA_MESSAGE_MAX + 1` bytes always holds one whole. Longer texts are cut at
/// a UTF-8 character boundary and end with `...`.
pub const DHA_MESSAGE_MAX: usize = 4096;

/// A failure inside an export: the number returned to C and the detail kept
/// for `dha_last_error_detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    /// What the export returns.
    pub(crate) code: dha_result,
    /// What `dha_last_error_detail` says (the export's name is prefixed later).
    pub(crate) detail: String,
}

impl Error {
    /// An error with a detail.
    pub(crate) fn new(code: dha_result, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: detail.into(),
        }
    }

    /// A NULL pointer where one is required; `arg` is the parameter's name.
    pub(crate) fn null(arg: &str) -> Self {
        Error::new(
            dha_result::DHA_ERR_NULL_ARGUMENT,
            format!("argument `{arg}` is NULL"),
        )
    }

    /// The caller's buffer is too small.
    pub(crate) fn insufficient_size() -> Self {
        Error::new(
            dha_result::DHA_ERR_INSUFFICIENT_SIZE,
            dha_result::DHA_ERR_INSUFFICIENT_SIZE.message(),
        )
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        let code = match &e {
            ConfigError::Parse { .. } => dha_result::DHA_ERR_CONFIG_PARSE,
            ConfigError::Invalid { .. } => dha_result::DHA_ERR_CONFIG_INVALID,
            ConfigError::Read { .. } => dha_result::DHA_ERR_IO,
            // ConfigError is non-exhaustive: a kind added later is still a
            // configuration the library refuses.
            _ => dha_result::DHA_ERR_CONFIG_INVALID,
        };
        Error::new(code, e.to_string())
    }
}

impl From<RootError> for Error {
    fn from(e: RootError) -> Self {
        let code = match &e {
            RootError::Open { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => dha_result::DHA_ERR_ROOT_NOT_FOUND,
                // ENOTDIR: a component of the path is a file (path_resolution(7)).
                io::ErrorKind::NotADirectory => dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY,
                io::ErrorKind::PermissionDenied => dha_result::DHA_ERR_ROOT_PERMISSION_DENIED,
                _ => dha_result::DHA_ERR_IO,
            },
            RootError::NotADirectory(_) => dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY,
            _ => dha_result::DHA_ERR_IO,
        };
        Error::new(code, e.to_string())
    }
}

thread_local! {
    /// The detail of the last failure on this thread ("" before any).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut.
pub(crate) fn cap(mut s: String, max: usize) -> String {
    const MARK: &str = "...";
    if s.len() <= max {
        return s;
    }
    let keep = floor_char_boundary(&s, max.saturating_sub(MARK.len()));
    s.truncate(keep);
    if MARK.len() <= max {
        s.push_str(MARK);
    }
    s
}

/// The largest index `<= i` that is a character boundary of `s`.
pub(crate) fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        // Cannot underflow: 0 is always a boundary.
        i -= 1;
    }
    i
}

/// Records the detail of a failure of export `func` on this thread.
pub(crate) fn set_last_error(func: &str, detail: &str) {
    let text = cap(format!("{func}: {detail}"), DHA_MESSAGE_MAX);
    // `try_with`: during thread teardown the slot may be gone; the detail is
    // then simply not kept, which is better than a panic at the boundary.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = text;
        }
    });
}

/// The detail of the last failure on this thread ("" when none).
pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|slot| slot.try_borrow().map(|s| s.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// Copies the detail of the last failure on the calling thread into `buf`,
/// e.g. `dha_config_new_from_toml: <string>: TOML parse error at line 3,
/// column 1 | ... | unknown field `min_lenght`, expected one of ...`.
///
/// Every dha function that fails records its detail for its thread (each
/// thread has its own). A later success does not clear it, as with `errno`:
/// read it right after a function returned an error. Before any failure it is
/// the empty string. Neither this function nor `dha_result_message` changes
/// it, so both can be called in either order after a failure.
///
/// Buffer rules as for `dha_result_message`: whenever `buf` is not NULL and
/// `len > 0` it is NUL-terminated on return; the text is cut to fit;
/// `*out_written` receives the bytes written before the NUL; `DHA_OK` when the
/// whole detail fit, `DHA_ERR_INSUFFICIENT_SIZE` when it was cut,
/// `DHA_ERR_NULL_ARGUMENT` when `out_written` is NULL or `buf` is NULL with
/// `len > 0`. A buffer of `DHA_MESSAGE_MAX + 1` bytes always suffices.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes; `out_written` is NULL or
/// valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_last_error_detail(
    buf: *mut c_char,
    len: usize,
    out_written: *mut usize,
) -> dha_result {
    ffi_quiet(|| {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut out = unsafe { OutBuf::new(buf, len) }?;
        let written = try_out!(out_written);
        let copied = out.copy_truncating(&last_error());
        written.write(copied.written);
        if copied.complete {
            Ok(())
        } else {
            Err(Error::insufficient_size())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_cuts_at_a_character_boundary_and_marks_the_cut() {
        assert_eq!(cap("short".to_owned(), 10), "short");
        assert_eq!(cap("abcdefghij".to_owned(), 10), "abcdefghij");
        assert_eq!(cap("abcdefghijk".to_owned(), 10), "abcdefg...");
        // "é" is two bytes: never split it.
        let s = cap("ééééé".to_owned(), 8);
        assert_eq!(s, "éé...");
        assert!(s.len() <= 8);
        assert_eq!(cap("abcdef".to_owned(), 2), "");
    }

    #[test]
    fn detail_is_per_thread_and_capped() {
        set_last_error("dha_test", "here");
        assert_eq!(last_error(), "dha_test: here");
        std::thread::spawn(|| {
            assert_eq!(last_error(), "");
            set_last_error("dha_test", "there");
        })
        .join()
        .unwrap();
        assert_eq!(last_error(), "dha_test: here");
        set_last_error("dha_test", &"x".repeat(3 * DHA_MESSAGE_MAX));
        assert_eq!(last_error().len(), DHA_MESSAGE_MAX);
    }
}
