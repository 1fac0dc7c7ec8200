//! Log lines to a C callback: a bridge from the `log` crate (DESIGN.md
//! "Logging").
//!
//! The `log` crate accepts one logger per process, once. This library
//! installs its own bridge the first time a callback is registered and keeps
//! it; registering, replacing and removing callbacks only changes the
//! registration the bridge forwards to, behind a lock.
//!
//! The bridge holds the lock (shared) while it calls the callback, so when
//! `dha_set_log_callback` returns, no call to the previous callback is still
//! running on any thread and none will start: the integrator may then free
//! the previous `userdata`.

use crate::boundary::ffi_result;
use crate::error::{DHA_MESSAGE_MAX, Error, cap};
use crate::result::dha_result;
use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::sync::{OnceLock, PoisonError, RwLock};

/// The level of a log line, most severe first. The numbers are fixed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum dha_log_level {
    /// No lines (only meaningful as the `max_level` of `dha_set_log_callback`).
    DHA_LOG_LEVEL_OFF = 0,
    /// Something failed.
    DHA_LOG_LEVEL_ERROR = 1,
    /// Something is wrong with an input (a malformed line, a capped file).
    DHA_LOG_LEVEL_WARN = 2,
    /// A milestone (an audit finished).
    DHA_LOG_LEVEL_INFO = 3,
    /// Progress detail (each check as it runs).
    DHA_LOG_LEVEL_DEBUG = 4,
    /// Everything.
    DHA_LOG_LEVEL_TRACE = 5,
}

impl dha_log_level {
    /// The level with number `n`, or `None` for a number this library does not know.
    pub fn from_u32(n: u32) -> Option<dha_log_level> {
        use dha_log_level::*;
        [
            DHA_LOG_LEVEL_OFF,
            DHA_LOG_LEVEL_ERROR,
            DHA_LOG_LEVEL_WARN,
            DHA_LOG_LEVEL_INFO,
            DHA_LOG_LEVEL_DEBUG,
            DHA_LOG_LEVEL_TRACE,
        ]
        .into_iter()
        .find(|l| *l as u32 == n)
    }

    fn filter(self) -> log::LevelFilter {
        match self {
            dha_log_level::DHA_LOG_LEVEL_OFF => log::LevelFilter::Off,
            dha_log_level::DHA_LOG_LEVEL_ERROR => log::LevelFilter::Error,
            dha_log_level::DHA_LOG_LEVEL_WARN => log::LevelFilter::Warn,
            dha_log_level::DHA_LOG_LEVEL_INFO => log::LevelFilter::Info,
            dha_log_level::DHA_LOG_LEVEL_DEBUG => log::LevelFilter::Debug,
            dha_log_level::DHA_LOG_LEVEL_TRACE => log::LevelFilter::Trace,
        }
    }

    fn of(level: log::Level) -> dha_log_level {
        match level {
            log::Level::Error => dha_log_level::DHA_LOG_LEVEL_ERROR,
            log::Level::Warn => dha_log_level::DHA_LOG_LEVEL_WARN,
            log::Level::Info => dha_log_level::DHA_LOG_LEVEL_INFO,
            log::Level::Debug => dha_log_level::DHA_LOG_LEVEL_DEBUG,
            log::Level::Trace => dha_log_level::DHA_LOG_LEVEL_TRACE,
        }
    }
}

/// Receives one log line.
///
/// `userdata` is the pointer given to `dha_set_log_callback`. `message` is a
/// NUL-terminated UTF-8 string of `message_len` bytes (NUL excluded, at most
/// `DHA_MESSAGE_MAX`), borrowed for the duration of the call only: copy it to
/// keep it. `level` is never `DHA_LOG_LEVEL_OFF`.
///
/// Threads: called on the thread that is inside the dha function that logs,
/// and on threads dha starts itself (none today; later areas, such as the
/// integrity hashing pool, will), possibly on several threads at once: the
/// callback must be thread-safe. It must not throw (C++), `longjmp` out, nor
/// call `dha_set_log_callback` (which returns `DHA_ERR_CALLED_FROM_CALLBACK`).
/// Lines that dha logs while the callback runs on the same thread are dropped.
pub type dha_log_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: dha_log_level,
        message: *const c_char,
        message_len: usize,
    ),
>;

/// The integrator's `userdata`, carried to whatever thread logs.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: dha never dereferences `userdata`; it only hands it back to the
// callback, and the header tells the integrator that the callback (with its
// userdata) may be called from any thread that is inside a dha function.
unsafe impl Send for UserData {}
// SAFETY: as for Send: the pointer is only copied, never dereferenced here.
unsafe impl Sync for UserData {}

/// The registered callback.
#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, dha_log_level, *const c_char, usize),
    userdata: UserData,
    max: log::LevelFilter,
}

/// The current registration; the bridge reads it, `dha_set_log_callback` writes it.
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Whether the bridge became the process's logger (decided once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

thread_local! {
    /// True while this thread is inside the callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// True when this thread is running the log callback (or is being torn down,
/// when nothing may be called either).
fn in_callback() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(true)
}

/// Clears the in-callback mark when the call ends, however it ends.
struct CallbackMark;

impl CallbackMark {
    fn set() -> CallbackMark {
        let _ = IN_CALLBACK.try_with(|c| c.set(true));
        CallbackMark
    }
}

impl Drop for CallbackMark {
    fn drop(&mut self) {
        let _ = IN_CALLBACK.try_with(|c| c.set(false));
    }
}

/// The `log::Log` that forwards to the registered callback.
struct Bridge;

static BRIDGE: Bridge = Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
        sink.is_some_and(|s| metadata.level() <= s.max)
    }

    fn log(&self, record: &log::Record<'_>) {
        // A line logged by something the callback itself called: forwarding
        // it would re-enter the callback (and, with a writer waiting, could
        // deadlock on the lock this thread already holds).
        if in_callback() {
            return;
        }
        let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
        let Some(s) = *sink else {
            return;
        };
        if record.level() > s.max {
            return;
        }
        // NUL cannot be inside a C string: show it as U+FFFD.
        let text = record.args().to_string().replace('\0', "\u{fffd}");
        let mut text = cap(text, DHA_MESSAGE_MAX);
        let len = text.len();
        text.push('\0');
        let _mark = CallbackMark::set();
        // SAFETY: the callback and userdata were registered together by
        // dha_set_log_callback, whose contract makes the callback callable
        // with that userdata from any thread until it is replaced; the lock
        // held in `sink` keeps it from being replaced during the call.
        // `text` is NUL-terminated, `len` bytes before the NUL, and lives
        // until after the call.
        unsafe {
            (s.callback)(
                s.userdata.0,
                dha_log_level::of(record.level()),
                text.as_ptr().cast::<c_char>(),
                len,
            );
        }
    }

    fn flush(&self) {}
}

/// Registers `callback` to receive dha's log lines up to `max_level`
/// (`DHA_LOG_LEVEL_WARN` gives errors and warnings), replacing any earlier
/// callback. `callback == NULL` removes the callback (then `userdata` and
/// `max_level` are ignored, and no line is formatted any more).
///
/// `max_level` is a `dha_log_level` number; others give
/// `DHA_ERR_INVALID_ARGUMENT`. When this function returns, the previous
/// callback is not running on any thread and will not be called again, so
/// its `userdata` may be freed: it waits for calls in progress on other
/// threads to return (so a callback must never wait for a thread that is
/// calling this function). The registration is process-wide; call this
/// from any thread, but not from inside the callback
/// (`DHA_ERR_CALLED_FROM_CALLBACK`). If another user of the Rust `log` crate
/// in this process installed its own logger first, dha cannot forward its
/// lines: `DHA_ERR_LOGGER_UNAVAILABLE`.
///
/// # Safety
///
/// `callback` is NULL or a function with the signature of `dha_log_callback`
/// that can be called with `userdata` from any thread, as described there,
/// until it is replaced or removed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_set_log_callback(
    callback: dha_log_callback,
    userdata: *mut c_void,
    max_level: u32,
) -> dha_result {
    ffi_result("dha_set_log_callback", || {
        if in_callback() {
            return Err(Error::new(
                dha_result::DHA_ERR_CALLED_FROM_CALLBACK,
                "called from inside the log callback",
            ));
        }
        let Some(level) = dha_log_level::from_u32(max_level) else {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("max_level {max_level} is not a dha_log_level"),
            ));
        };
        let sink = callback.map(|callback| Sink {
            callback,
            userdata: UserData(userdata),
            max: level.filter(),
        });
        if sink.is_some() && !*INSTALLED.get_or_init(|| log::set_logger(&BRIDGE).is_ok()) {
            return Err(Error::new(
                dha_result::DHA_ERR_LOGGER_UNAVAILABLE,
                "another logger of the Rust `log` crate is installed in this process",
            ));
        }
        if INSTALLED.get() != Some(&true) {
            // Removing when nothing was ever registered: the process's log
            // filter may belong to another logger; leave it alone.
            return Ok(());
        }
        let mut slot = SINK.write().unwrap_or_else(PoisonError::into_inner);
        *slot = sink;
        // Under the lock, so that two concurrent registrations leave the
        // global filter matching the registration that won.
        log::set_max_level(sink.map_or(log::LevelFilter::Off, |s| s.max));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static LINES: Mutex<Vec<(u32, String, usize)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn collect(
        userdata: *mut c_void,
        level: dha_log_level,
        message: *const c_char,
        message_len: usize,
    ) {
        // SAFETY: the bridge passes a NUL-terminated string of message_len bytes.
        let text = unsafe { std::ffi::CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned();
        assert_eq!(text.len(), message_len);
        assert_eq!(userdata as usize, 0x1234);
        // Re-entering from the callback is refused, not a deadlock.
        // SAFETY: NULL callback.
        let rc = unsafe { dha_set_log_callback(None, std::ptr::null_mut(), 0) };
        assert_eq!(rc, dha_result::DHA_ERR_CALLED_FROM_CALLBACK);
        // A line logged from inside the callback is dropped, not recursed into.
        log::error!("from inside the callback");
        LINES
            .lock()
            .unwrap()
            .push((level as u32, text, message_len));
    }

    #[test]
    fn lines_reach_the_callback_until_it_is_removed() {
        let ud = 0x1234usize as *mut c_void;
        // SAFETY: `collect` is thread-safe and ignores userdata's pointee.
        let rc = unsafe { dha_set_log_callback(Some(collect), ud, 99) };
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
        // SAFETY: as above.
        let rc = unsafe { dha_set_log_callback(Some(collect), ud, 2) };
        assert_eq!(rc, dha_result::DHA_OK);
        log::warn!("a warning with a \0 NUL");
        log::info!("filtered out");
        log::error!("{}", "é".repeat(DHA_MESSAGE_MAX));
        // SAFETY: removing.
        let rc = unsafe { dha_set_log_callback(None, std::ptr::null_mut(), 0) };
        assert_eq!(rc, dha_result::DHA_OK);
        log::error!("after removal");
        let lines = LINES.lock().unwrap().clone();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].0, 2);
        assert_eq!(lines[0].1, "a warning with a \u{fffd} NUL");
        assert_eq!(lines[1].0, 1);
        assert!(lines[1].2 <= DHA_MESSAGE_MAX);
        assert!(lines[1].1.ends_with("é..."), "cut at a character boundary");
    }
}
