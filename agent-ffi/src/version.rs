//! `dha_version`: the library's version, to compare with the header's.

use crate::boundary::ffi_value;
use std::ffi::c_char;

/// The version, NUL-terminated, from `Cargo.toml`.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the library, e.g. `"0.1.0"`: a static NUL-terminated
/// string (never freed, valid for the life of the process). It equals the
/// header's `DHA_VERSION_STRING` when header and library match. Callable from
/// any thread.
#[unsafe(no_mangle)]
pub extern "C" fn dha_version() -> *const c_char {
    ffi_value("dha_version", std::ptr::null(), || {
        Ok(VERSION.as_ptr().cast::<c_char>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: dha_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(dha_version()) };
        assert_eq!(v.to_str().unwrap(), dha_core::VERSION);
    }
}
