//! `dha_config`: the configuration handle, made from the same TOML document
//! as `dha.toml` (DESIGN.md "Configuration").

use crate::boundary::{ffi_free, ffi_result, free_box, try_out, try_str};
use crate::hooks::{HookSet, new_hook_set};
use crate::result::dha_result;
use dha_core::Config;
use std::ffi::c_char;
use std::sync::Arc;

/// The largest TOML document accepted, in bytes: the same bound as for a
/// `dha.toml` file read by `dha_core::Config::load`.
pub const DHA_CONFIG_MAX_BYTES: usize = 1024 * 1024;

/// The configuration of `config`, or the safe defaults when it is NULL (for
/// the functions whose header says NULL means the defaults).
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle that is not freed while
/// the returned value is in use.
pub(crate) unsafe fn config_or_defaults<'a>(
    config: *const dha_config,
) -> std::borrow::Cow<'a, Config> {
    // SAFETY: the caller guarantees `config` is NULL or a live handle.
    match unsafe { config.as_ref() } {
        Some(h) => std::borrow::Cow::Borrowed(&h.config),
        None => std::borrow::Cow::Owned(Config::default()),
    }
}

/// A configuration (opaque). Made by `dha_config_new_default` or
/// `dha_config_new_from_toml`, released by `dha_config_free`.
///
/// Immutable once made, apart from the event callbacks registered on it
/// (`dha_hooks_register`, which may be called while other threads use it):
/// one configuration may be used by several threads at once (for example
/// by concurrent `dha_audit_run` calls).
pub struct dha_config {
    pub(crate) config: Config,
    /// The event callbacks, shared with the handles made from it.
    pub(crate) hooks: Arc<HookSet>,
}

// The header promises that one configuration may be used by several threads
// at once.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<dha_config>();
};

/// Makes a configuration with the safe default of every value.
///
/// On success `*out` receives a new handle, to release with
/// `dha_config_free`. Fails with `DHA_ERR_NULL_ARGUMENT` when `out` is NULL.
///
/// # Safety
///
/// `out` is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_config_new_default(out: *mut *mut dha_config) -> dha_result {
    ffi_result("dha_config_new_default", || {
        let out = try_out!(out);
        out.write(Box::into_raw(Box::new(dha_config {
            config: Config::default(),
            hooks: new_hook_set(),
        })));
        Ok(())
    })
}

/// Makes a configuration from a TOML document (the content of a `dha.toml`),
/// a NUL-terminated UTF-8 string of at most `DHA_CONFIG_MAX_BYTES` bytes,
/// copied (the caller keeps ownership of `toml`). The empty document gives
/// the defaults.
///
/// On success `*out` receives a new handle, to release with
/// `dha_config_free`; on failure `*out` is left untouched. Errors:
/// `DHA_ERR_NULL_ARGUMENT`; `DHA_ERR_INVALID_UTF8`; `DHA_ERR_INVALID_ARGUMENT`
/// (longer than `DHA_CONFIG_MAX_BYTES`); `DHA_ERR_CONFIG_PARSE` (not TOML, a
/// wrong type, or an unknown key: a misspelt key is an error so that a typo
/// can never silently weaken a check); `DHA_ERR_CONFIG_INVALID` (a value out
/// of range). `dha_last_error_detail` names the key, line and column.
///
/// # Safety
///
/// `toml` is NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_CONFIG_MAX_BYTES + 1` bytes) unchanged during the call; `out` is NULL
/// or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_config_new_from_toml(
    toml: *const c_char,
    out: *mut *mut dha_config,
) -> dha_result {
    ffi_result("dha_config_new_from_toml", || {
        let doc = try_str!(toml, DHA_CONFIG_MAX_BYTES);
        let out = try_out!(out);
        let config = Config::from_toml_str(doc)?;
        out.write(Box::into_raw(Box::new(dha_config {
            config,
            hooks: new_hook_set(),
        })));
        Ok(())
    })
}

/// Releases a configuration. NULL is accepted and ignored. Reports and
/// handles made with it stay valid (they keep nothing of it, except that
/// the handles keep its event callbacks: see `dha_hooks_register`).
///
/// # Safety
///
/// `config` is NULL or a handle from `dha_config_new_*` not yet freed, and no
/// other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_config_free(config: *mut dha_config) {
    ffi_free("dha_config_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(config) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;
    use std::ptr;

    fn from_toml(doc: &std::ffi::CStr) -> (dha_result, *mut dha_config) {
        let mut cfg = ptr::null_mut();
        // SAFETY: doc is NUL-terminated; cfg is a valid out pointer.
        let rc = unsafe { dha_config_new_from_toml(doc.as_ptr(), &mut cfg) };
        (rc, cfg)
    }

    #[test]
    fn documents_become_handles_or_named_errors() {
        let (rc, cfg) = from_toml(c"[password]\nmax_days = 60\n");
        assert_eq!(rc, dha_result::DHA_OK);
        assert!(!cfg.is_null());
        // SAFETY: cfg was just made and is freed once.
        assert_eq!(unsafe { &*cfg }.config.password.max_days, 60);
        // SAFETY: as above.
        unsafe { dha_config_free(cfg) };

        let (rc, cfg) = from_toml(c"[password]\nmax_days = 60\nmin_lenght = 14\n");
        assert_eq!(rc, dha_result::DHA_ERR_CONFIG_PARSE);
        assert!(cfg.is_null(), "no output on failure");
        let d = last_error();
        assert!(d.starts_with("dha_config_new_from_toml: "), "{d}");
        assert!(d.contains("min_lenght") && d.contains("line 3"), "{d}");

        let (rc, _) = from_toml(c"[accounts]\numask = \"999\"\n");
        assert_eq!(rc, dha_result::DHA_ERR_CONFIG_INVALID);
        assert!(last_error().contains("accounts.umask"));

        let (rc, _) = from_toml(c"# \xc3\x28\n");
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_UTF8);

        // SAFETY: NULL arguments are refused before any access.
        let rc = unsafe { dha_config_new_from_toml(ptr::null(), &mut ptr::null_mut()) };
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        assert!(last_error().contains("`toml`"));
        // SAFETY: as above.
        let rc = unsafe { dha_config_new_from_toml(c"".as_ptr(), ptr::null_mut()) };
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        assert!(last_error().contains("`out`"));
        // SAFETY: as above.
        let rc = unsafe { dha_config_new_default(ptr::null_mut()) };
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        // SAFETY: NULL is accepted.
        unsafe { dha_config_free(ptr::null_mut()) };
    }

    #[test]
    fn oversized_documents_are_refused() {
        let mut doc = vec![b'#'; DHA_CONFIG_MAX_BYTES + 1];
        doc.push(0);
        let mut cfg = ptr::null_mut();
        // SAFETY: doc is NUL-terminated.
        let rc = unsafe { dha_config_new_from_toml(doc.as_ptr().cast(), &mut cfg) };
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
        assert!(cfg.is_null());
    }
}
