//! The machinery every export shares, so that no export repeats it
//! (STYLE.md, after rustls-ffi):
//!
//! - the panic boundary ([`ffi_result`], [`ffi_value`], [`ffi_quiet`],
//!   [`ffi_free`]): a panic inside an export becomes `DHA_ERR_PANIC` (or the
//!   documented fallback value) and never unwinds into C, which would be
//!   undefined behaviour, nor aborts the integrator's process;
//! - pointer arguments turned into references, checking NULL
//!   ([`try_ref!`](crate::boundary::try_ref), [`try_out!`](crate::boundary::try_out),
//!   [`try_str!`](crate::boundary::try_str));
//! - text copied into a caller's buffer ([`OutBuf`]), always NUL-terminated.
//!
//! The macros contain the `unsafe` blocks; their soundness rests on the
//! `# Safety` section of the export that uses them, which states what each
//! pointer argument must be. They are only used inside exports.

use crate::error::{Error, set_last_error};
use crate::result::dha_result;
use std::any::Any;
use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs the body of export `func`: `Ok` becomes `DHA_OK`; an error or a panic
/// becomes its number and records its detail for `dha_last_error_detail`.
pub(crate) fn ffi_result(
    func: &'static str,
    body: impl FnOnce() -> Result<(), Error>,
) -> dha_result {
    // AssertUnwindSafe: after a panic nothing the body touched is used again;
    // its partial results are dropped, and no output is written.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => dha_result::DHA_OK,
        Ok(Err(e)) => {
            set_last_error(func, &e.detail);
            e.code
        }
        Err(payload) => {
            set_last_error(func, &panic_detail(payload.as_ref()));
            dha_result::DHA_ERR_PANIC
        }
    }
}

/// Runs the body of export `func` that returns a value rather than a
/// `dha_result`; an error or a panic records its detail and returns
/// `fallback` (the value the header documents for that case, e.g. NULL or 0).
pub(crate) fn ffi_value<T>(
    func: &'static str,
    fallback: T,
    body: impl FnOnce() -> Result<T, Error>,
) -> T {
    // AssertUnwindSafe: as in `ffi_result`.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_last_error(func, &e.detail);
            fallback
        }
        Err(payload) => {
            set_last_error(func, &panic_detail(payload.as_ref()));
            fallback
        }
    }
}

/// Like [`ffi_result`] but never records a detail: for the functions that
/// report on a failure (`dha_result_message`, `dha_last_error_detail`), which
/// must not overwrite the detail they are asked about.
pub(crate) fn ffi_quiet(body: impl FnOnce() -> Result<(), Error>) -> dha_result {
    // AssertUnwindSafe: as in `ffi_result`.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => dha_result::DHA_OK,
        Ok(Err(e)) => e.code,
        Err(_) => dha_result::DHA_ERR_PANIC,
    }
}

/// Runs the body of a `*_free` export: frees return nothing, so a panic is
/// only recorded.
pub(crate) fn ffi_free(func: &'static str, body: impl FnOnce()) {
    // AssertUnwindSafe: as in `ffi_result`.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(func, &panic_detail(payload.as_ref()));
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_detail(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("panic: {what}")
}

/// Frees a handle made by `Box::into_raw`; NULL is accepted and ignored.
///
/// # Safety
///
/// `p` is NULL or was returned by `Box::<T>::into_raw` in this library and has
/// not been freed; no reference into it outlives this call.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: by this function's contract `p` came from `Box::into_raw`
        // and is freed exactly once, here.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// A shared reference from a `*const T` argument named by the identifier, or
/// an early `Err(DHA_ERR_NULL_ARGUMENT)` naming it.
macro_rules! try_ref {
    ($p:ident) => {
        // SAFETY: the export's `# Safety` section requires `$p` to be NULL or
        // a valid, live object of its type, made by this library, not freed
        // and not mutated during the call; NULL is turned into an error here.
        match unsafe { $p.as_ref() } {
            Some(r) => r,
            None => return Err($crate::error::Error::null(stringify!($p))),
        }
    };
}
pub(crate) use try_ref;

/// An [`Out`] from a `*mut T` output argument named by the identifier, or an
/// early `Err(DHA_ERR_NULL_ARGUMENT)` naming it.
macro_rules! try_out {
    ($p:ident) => {
        // SAFETY: the export's `# Safety` section requires `$p` to be NULL or
        // valid (aligned, writable) for one value of its type; the value is
        // written, never read, so it may be uninitialised.
        match unsafe { $p.cast::<::std::mem::MaybeUninit<_>>().as_mut() } {
            Some(r) => $crate::boundary::Out::new(r),
            None => return Err($crate::error::Error::null(stringify!($p))),
        }
    };
}
pub(crate) use try_out;

/// A `&str` from a NUL-terminated UTF-8 `*const c_char` argument named by the
/// identifier, at most `$max` bytes long; an early error otherwise.
macro_rules! try_str {
    ($p:ident, $max:expr) => {
        // SAFETY: the export's `# Safety` section requires `$p` to be NULL or
        // a NUL-terminated string that stays valid and unchanged during the
        // call.
        unsafe { $crate::boundary::str_from_c($p, $max, stringify!($p)) }?
    };
}
pub(crate) use try_str;

/// One output value, written only when the export succeeds.
pub(crate) struct Out<'a, T>(&'a mut MaybeUninit<T>);

impl<'a, T> Out<'a, T> {
    /// Wraps the destination (made by [`try_out!`]).
    pub(crate) fn new(dest: &'a mut MaybeUninit<T>) -> Self {
        Out(dest)
    }

    /// Writes the value (what was there before is not read nor dropped).
    pub(crate) fn write(self, v: T) {
        self.0.write(v);
    }
}

/// Reads a NUL-terminated UTF-8 string of at most `max` bytes (NUL excluded).
///
/// At most `max + 1` bytes are read, so a string that lacks its NUL makes the
/// call fail with `DHA_ERR_INVALID_ARGUMENT` after a bounded read rather than
/// run on through memory.
///
/// # Safety
///
/// `p` is NULL, or the bytes from `p` up to its NUL (or to `p + max`, whichever
/// comes first) are readable and unchanged while the returned `&str` lives.
pub(crate) unsafe fn str_from_c<'a>(
    p: *const c_char,
    max: usize,
    name: &str,
) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::null(name));
    }
    let mut n = 0usize;
    loop {
        if n > max {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("argument `{name}` is longer than {max} bytes"),
            ));
        }
        // SAFETY: bytes 0..n are not NUL, so by the contract byte n is still
        // part of the string (or its NUL) and readable; n <= max.
        if unsafe { p.add(n).read() } == 0 {
            break;
        }
        n += 1;
    }
    // SAFETY: the n bytes before the NUL were just read through `p`, and the
    // contract keeps them valid and unchanged for 'a.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) };
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            dha_result::DHA_ERR_INVALID_UTF8,
            format!(
                "argument `{name}` is not UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A caller's `(char *buf, size_t len)` output buffer.
///
/// Made by [`OutBuf::new`], which leaves it holding the empty string whenever
/// `len > 0`: whatever happens afterwards (an error, a cut, a panic), the
/// caller's buffer is a valid C string.
pub(crate) struct OutBuf {
    ptr: *mut u8,
    len: usize,
}

/// What [`OutBuf::copy_truncating`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Bytes written before the NUL.
    pub(crate) written: usize,
    /// True when the whole text fit.
    pub(crate) complete: bool,
}

impl OutBuf {
    /// Wraps `(buf, len)` and writes the empty string into it when `len > 0`.
    /// `buf == NULL` is accepted only with `len == 0` (a size query).
    ///
    /// # Safety
    ///
    /// `buf` is NULL or valid for writes of `len` bytes for as long as the
    /// `OutBuf` is used.
    pub(crate) unsafe fn new(buf: *mut c_char, len: usize) -> Result<OutBuf, Error> {
        if buf.is_null() {
            if len > 0 {
                return Err(Error::null("buf"));
            }
            return Ok(OutBuf {
                ptr: std::ptr::null_mut(),
                len: 0,
            });
        }
        let out = OutBuf {
            ptr: buf.cast::<u8>(),
            len,
        };
        out.terminate_at(0);
        Ok(out)
    }

    /// Writes a NUL at `at` when it is inside the buffer.
    fn terminate_at(&self, at: usize) {
        if at < self.len {
            // SAFETY: `at < len`, and `new`'s contract makes the `len` bytes
            // at `ptr` writable (len > 0 implies ptr is not NULL).
            unsafe { self.ptr.add(at).write(0) };
        }
    }

    /// Copies the first `n` bytes of `s` and a NUL (`n < len`, `n <= s.len()`).
    fn put(&mut self, s: &str, n: usize) {
        debug_assert!(n < self.len && n <= s.len());
        if n >= self.len || n > s.len() {
            return;
        }
        // SAFETY: `n + 1 <= len` bytes at `ptr` are writable (`new`'s
        // contract) and `n <= s.len()` bytes of `s` are readable; a caller's
        // buffer cannot overlap a Rust `&str` that this call owns or borrows
        // from a live handle without breaking its own contract.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), self.ptr, n) };
        self.terminate_at(n);
    }

    /// Copies as much of `s` as fits before a NUL, cut at a UTF-8 character
    /// boundary.
    pub(crate) fn copy_truncating(&mut self, s: &str) -> Copied {
        let Some(room) = self.len.checked_sub(1) else {
            return Copied {
                written: 0,
                complete: false,
            };
        };
        let n = crate::error::floor_char_boundary(s, room);
        self.put(s, n);
        Copied {
            written: n,
            complete: n == s.len(),
        }
    }

    /// Copies all of `s` and a NUL when they fit; otherwise leaves the buffer
    /// holding the empty string and returns false.
    pub(crate) fn copy_whole(&mut self, s: &str) -> bool {
        if s.len() < self.len {
            self.put(s, s.len());
            true
        } else {
            false
        }
    }

    /// Copies `s` whole and a NUL, writing the size that needs (NUL
    /// included) to `out_needed` whether it fits or not, so that a caller
    /// can retry with a buffer of that size; fails with
    /// `DHA_ERR_INSUFFICIENT_SIZE` naming `what` when it does not fit.
    pub(crate) fn copy_whole_or_size_error(
        &mut self,
        s: &str,
        out_needed: Out<'_, usize>,
        what: &str,
    ) -> Result<(), Error> {
        let needed = s.len().saturating_add(1);
        let fit = self.copy_whole(s);
        out_needed.write(needed);
        if fit {
            Ok(())
        } else {
            Err(Error::new(
                crate::result::dha_result::DHA_ERR_INSUFFICIENT_SIZE,
                format!("{what} needs {needed} bytes; the buffer has {}", self.len),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;
    use std::ptr;

    #[test]
    fn a_panic_becomes_dha_err_panic_with_its_message() {
        let rc = ffi_result("dha_test_panics", || panic!("boom {}", 42));
        assert_eq!(rc, dha_result::DHA_ERR_PANIC);
        assert_eq!(last_error(), "dha_test_panics: panic: boom 42");

        let v = ffi_value("dha_test_value", 7usize, || panic!("static message"));
        assert_eq!(v, 7);
        assert_eq!(last_error(), "dha_test_value: panic: static message");

        assert_eq!(ffi_quiet(|| panic!("quiet")), dha_result::DHA_ERR_PANIC);
        // The quiet boundary leaves the previous detail alone.
        assert_eq!(last_error(), "dha_test_value: panic: static message");

        ffi_free("dha_test_free", || panic!("in free"));
        assert_eq!(last_error(), "dha_test_free: panic: in free");
    }

    #[test]
    fn errors_record_their_detail_and_successes_keep_it() {
        let rc = ffi_result("dha_test", || Err(Error::null("thing")));
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        assert_eq!(last_error(), "dha_test: argument `thing` is NULL");
        assert_eq!(ffi_result("dha_test", || Ok(())), dha_result::DHA_OK);
        assert_eq!(last_error(), "dha_test: argument `thing` is NULL");
    }

    fn read(p: *const c_char, max: usize) -> Result<String, Error> {
        // SAFETY: callers pass NULL or NUL-terminated literals.
        unsafe { str_from_c(p, max, "s") }.map(str::to_owned)
    }

    #[test]
    fn strings_in_are_checked() {
        assert_eq!(read(c"hello".as_ptr(), 5).unwrap(), "hello");
        assert_eq!(read(c"".as_ptr(), 0).unwrap(), "");
        assert_eq!(
            read(ptr::null(), 5).unwrap_err().code,
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        let long = read(c"hello!".as_ptr(), 5).unwrap_err();
        assert_eq!(long.code, dha_result::DHA_ERR_INVALID_ARGUMENT);
        let bad = read(c"ok\xff\xfe".as_ptr(), 100).unwrap_err();
        assert_eq!(bad.code, dha_result::DHA_ERR_INVALID_UTF8);
        assert!(bad.detail.contains("offset 2"), "{}", bad.detail);
    }

    #[test]
    fn out_buffers_are_always_terminated() {
        let mut b = [0x55u8; 6];
        // SAFETY: b is 6 writable bytes.
        let mut out = unsafe { OutBuf::new(b.as_mut_ptr().cast(), b.len()) }.unwrap();
        assert_eq!(b[0], 0, "new() leaves an empty string");
        assert!(!out.copy_whole("abcdef"));
        assert_eq!(b[0], 0);
        assert!(out.copy_whole("abcde"));
        assert_eq!(&b, b"abcde\0");
        let c = out.copy_truncating("xyz-long");
        assert_eq!(
            c,
            Copied {
                written: 5,
                complete: false
            }
        );
        assert_eq!(&b, b"xyz-l\0");
        // A two-byte character that does not fit whole is left out.
        let c = out.copy_truncating("abcdé");
        assert_eq!(c.written, 4);
        assert_eq!(&b[..5], b"abcd\0");

        // SAFETY: NULL with length 0 writes nothing.
        let mut none = unsafe { OutBuf::new(ptr::null_mut(), 0) }.unwrap();
        assert!(!none.copy_whole(""));
        assert_eq!(none.copy_truncating("x").written, 0);
        // SAFETY: NULL with a length is refused before any write.
        let e = unsafe { OutBuf::new(ptr::null_mut(), 3) }.err().unwrap();
        assert_eq!(e.code, dha_result::DHA_ERR_NULL_ARGUMENT);
    }
}
