//! `dha_hooks_register`: the integrator's event callbacks through the C ABI
//! (issue 5, "Recovery hooks and escalation"), dispatched by
//! `dha_core::recovery::Dispatcher` under the configuration's `[recovery]`
//! policy.
//!
//! A callback is registered on a `dha_config` with an event mask (the
//! `DHA_EVENT_*` bits, one per class of event kinds). The handles made from
//! that configuration share its registrations (also those made later), and
//! every operation they run that produces events dispatches them:
//! - `dha_integrity_check`: one `integrity.change` per change found;
//! - `dha_installer_install`: `update.installed`, or `install.failed` /
//!   `update.rejected`.
//!
//! Each event is first appended to the event log named by the
//! configuration's `[eventlog]` section, when its key file exists (as the
//! command line does), then the `[recovery]` policy's actions run; the
//! default policy's only action is "call the callbacks". The `rollback`
//! action uses the boot loader of the `[boot]` section (and
//! `[install] boot_tries`); without one it fails, which its outcome says.
//! The `restore` action is available from the dha program only: from the C
//! ABI it fails, and its outcome says so.
//! A callback that returns non-zero is a failed action: it is retried as
//! the policy says (with back-off, at most 30 seconds of waiting
//! in all per dispatch), and every attempt's outcome is recorded as a
//! `hook.outcome` event in the log. The events of one operation are
//! dispatched together, with one commit of the log at the end. Recovery's own `hook.*`
//! events are only recorded, never given to callbacks (no loops), whatever
//! the mask.

use crate::boot::{Backend, backend_from_config};
use crate::boundary::{ffi_result, try_ref};
use crate::config::dha_config;
use crate::error::Error;
use crate::report::dha_severity;
use crate::result::dha_result;
use dha_core::boot::{BootBackend, BootPolicy};
use dha_core::events::{Event, EventKind, EventLog, EventLogPolicy, OpenOutcome};
use dha_core::recovery::{Dispatcher, RecoveryPolicy};
use std::cell::Cell;
use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Event mask bit of the `update.*` kinds (`update.rejected`,
/// `update.installed`).
pub const DHA_EVENT_UPDATE: u32 = 1 << 0;
/// Event mask bit of the `install.*` kinds (`install.failed`).
pub const DHA_EVENT_INSTALL: u32 = 1 << 1;
/// Event mask bit of the `boot.*` kinds (`boot.fell_back`,
/// `boot.marked_good`, `boot.marked_bad`).
pub const DHA_EVENT_BOOT: u32 = 1 << 2;
/// Event mask bit of the `integrity.*` kinds (`integrity.change`,
/// `integrity.accepted`).
pub const DHA_EVENT_INTEGRITY: u32 = 1 << 3;
/// Event mask bit of the `audit.*` kinds (`audit.regression`).
pub const DHA_EVENT_AUDIT: u32 = 1 << 4;
/// Event mask bit of the `eventlog.*` kinds (`eventlog.tampered`).
pub const DHA_EVENT_EVENTLOG: u32 = 1 << 5;
/// Event mask bit of the `hook.*` kinds (`hook.outcome`,
/// `hook.maintenance_set`): recorded in the event log, never dispatched to
/// callbacks (no loops).
pub const DHA_EVENT_HOOK: u32 = 1 << 6;
/// Event mask bit of the `monitor.*` kinds (`dha monitor`:
/// `monitor.socket_opened`, `monitor.socket_closed`,
/// `monitor.process_unexpected`, `monitor.storage_high`,
/// `monitor.storage_ok`).
pub const DHA_EVENT_MONITOR: u32 = 1 << 7;
/// Every event mask bit this version knows (the `DHA_EVENT_*` bits above,
/// ORed).
pub const DHA_EVENT_ALL: u32 = 0xff;

/// The most callbacks one configuration may hold.
pub const DHA_HOOKS_MAX: usize = 64;

/// Receives an event (see `dha_hooks_register`).
///
/// `userdata` is the pointer given to `dha_hooks_register`. `kind` is the
/// event kind's dotted name (`"integrity.change"`), `payload_json` its
/// details as a compact JSON object (for `integrity.change`: `path`,
/// `change`, `attrs`, `baseline`); both NUL-terminated UTF-8 borrowed for
/// the duration of the call only. `logged` is true when the event was
/// appended to the event log (durably, before the callback is called) with
/// sequence number `seq`; false, and `seq` 0, when the configuration names
/// no usable event log (see `dha_hooks_register`).
///
/// Return 0 when the event was handled; anything else is a failed action,
/// retried as the `[recovery]` policy says and recorded as a
/// `hook.outcome` event. The back-off between retries is bounded per
/// operation: one `dha_integrity_check` or `dha_installer_install` waits
/// at most 30 seconds in all in back-off, whatever its number of events
/// and failures; past that, retries follow at once (each still recorded).
///
/// Threads: called on the thread inside the dha function whose operation
/// produced the event (`dha_integrity_check`, `dha_installer_install`),
/// after that operation's work is done and before it returns; dha runs
/// one dispatch at a time in the process, so callbacks are never called
/// concurrently. It must not throw (C++), `longjmp` out, nor call
/// `dha_hooks_register` or `dha_hooks_clear` (which return
/// `DHA_ERR_CALLED_FROM_CALLBACK`); events produced by dha functions it
/// calls are not dispatched (a warning is logged). Keep it short: the
/// operation waits, and so does every other thread's dispatch and
/// `dha_hooks_clear` (the back-off bound above does not include the time
/// the callbacks themselves take).
pub type dha_event_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        kind: *const c_char,
        severity: dha_severity,
        payload_json: *const c_char,
        logged: bool,
        seq: u64,
    ) -> c_int,
>;

/// One registered callback.
#[derive(Clone, Copy)]
struct Registration {
    mask: u32,
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        dha_severity,
        *const c_char,
        bool,
        u64,
    ) -> c_int,
    userdata: *mut c_void,
}

// SAFETY: `userdata` is never dereferenced by dha: it is only handed back
// to the callback, which the contract of `dha_hooks_register` makes
// callable with it on any thread that runs an operation with the
// configuration (one at a time: see `DISPATCH`).
unsafe impl Send for Registration {}
// SAFETY: as for `Send`; a `Registration` is only copied, never mutated.
unsafe impl Sync for Registration {}

/// The callbacks registered on a configuration, shared with the handles
/// made from it.
#[derive(Default)]
pub(crate) struct HookSet {
    registrations: Mutex<Vec<Registration>>,
}

impl HookSet {
    fn lock(&self) -> MutexGuard<'_, Vec<Registration>> {
        // A panic while the lock was held left a valid vector behind.
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One dispatch at a time in the process: the event log has one writer,
/// and callbacks are never called concurrently (the header says so).
/// `dha_hooks_clear` takes it too, so that once it returns no dispatch
/// still holds a copy of the cleared callbacks.
static DISPATCH: Mutex<()> = Mutex::new(());

fn dispatch_lock() -> MutexGuard<'static, ()> {
    DISPATCH.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// True while this thread is inside an event callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// True when this thread is running an event callback (or is being torn
/// down, when nothing may be dispatched either).
fn in_callback() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(true)
}

/// Marks this thread as inside a callback until dropped.
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

/// What an operation needs to dispatch its events: the configuration's
/// callbacks (shared: later registrations count) and its `[recovery]` and
/// `[eventlog]` sections (copied).
#[derive(Clone)]
pub(crate) struct EventSink {
    hooks: Arc<HookSet>,
    recovery: RecoveryPolicy,
    eventlog: EventLogPolicy,
    /// The `[boot]` back end (for the `rollback` action), when configured.
    boot: Option<Backend>,
    boot_policy: BootPolicy,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<EventSink>();
};

impl EventSink {
    /// The sink of handles made from `config`.
    pub(crate) fn new(config: &dha_config) -> Self {
        let boot = &config.config.boot;
        EventSink {
            hooks: Arc::clone(&config.hooks),
            recovery: config.config.recovery.clone(),
            eventlog: config.config.eventlog.clone(),
            // Without a configured boot loader the `rollback` action fails
            // (and says so in its outcome); a configured one that cannot be
            // built is reported when the handle is made.
            boot: (boot.backend != BootBackend::None)
                .then(|| backend_from_config(boot))
                .and_then(|b| {
                    b.map_err(|e| log::warn!("[boot]: {}: rollback is unavailable", e.detail))
                        .ok()
                }),
            boot_policy: config.config.boot_policy(),
        }
    }

    /// Opens the `[eventlog]` log when its key file exists; `None` (with a
    /// warning when it exists but cannot be used) otherwise.
    fn open_log(&self) -> Option<EventLog> {
        if !self.eventlog.key.exists() {
            return None;
        }
        match EventLog::open(
            &self.eventlog.path,
            &self.eventlog.key,
            dha_linux::system_stamps(),
        ) {
            Ok(OpenOutcome::Ready { log, .. }) => Some(log),
            Ok(OpenOutcome::TornTail(torn)) => {
                log::warn!(
                    "{}: ends with a torn record at byte {} ({} bytes); events are not logged \
                     until it is repaired (dha_eventlog_truncate_and_record)",
                    self.eventlog.path.display(),
                    torn.offset(),
                    torn.bytes()
                );
                None
            }
            Err(e) => {
                log::warn!("event log not usable, events are not logged: {e}");
                None
            }
        }
    }

    /// Dispatches `events` (see the module documentation). Never fails:
    /// what goes wrong is logged.
    pub(crate) fn dispatch(&self, events: Vec<Event>) {
        self.dispatch_with_sleep(events, std::thread::sleep);
    }

    /// [`dispatch`](Self::dispatch) with `sleep` waiting the back-off
    /// between retries (tests count it instead of sleeping), within
    /// [`BACKOFF_BUDGET`] in all.
    fn dispatch_with_sleep(&self, events: Vec<Event>, sleep: impl FnMut(Duration)) {
        if events.is_empty() {
            return;
        }
        if in_callback() {
            log::warn!(
                "{} events produced inside an event callback are not dispatched",
                events.len()
            );
            return;
        }
        let _one_at_a_time = dispatch_lock();
        let registrations = self.hooks.lock().clone();
        let mut log = self.open_log();
        let mut dispatcher = Dispatcher::new(&self.recovery);
        if let Some(log) = log.as_mut() {
            dispatcher.set_log(log);
        }
        if let Some(boot) = &self.boot {
            dispatcher.set_boot(boot.control(), self.boot_policy);
        }
        // No `set_restore`: the `restore` action fails here and its outcome
        // says so (the header documents it; the dha program has it).
        dispatcher.set_sleep(Box::new(budgeted(BACKOFF_BUDGET, sleep)));
        for r in registrations {
            dispatcher.register_with_seq(
                r.mask,
                Box::new(move |event: &Event, seq: Option<u64>| call(r, event, seq)),
            );
        }
        // One group commit of the log at the end (an event whose actions
        // act outside the process is still made durable before they run).
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        let reports = dispatcher.dispatch_all(events);
        for (kind, report) in kinds.into_iter().zip(&reports) {
            if let Some(e) = &report.log_error {
                log::warn!("event {kind}: not logged: {e}");
            }
            for o in report.outcomes.iter().filter(|o| o.last && !o.ok()) {
                log::warn!(
                    "event {kind}: recovery action {} failed after {} attempts: {}",
                    o.action,
                    o.attempt,
                    o.error.as_deref().unwrap_or("")
                );
            }
        }
    }
}

/// The longest one dispatch (one `dha_integrity_check` or
/// `dha_installer_install`, whatever its number of events) waits in all in
/// the `[recovery]` policy's back-off between retries; past it, retries
/// follow at once. It bounds how long the dispatch holds `DISPATCH` (which
/// every other thread's dispatch and `dha_hooks_clear` wait for) beyond
/// the time the actions themselves take. The header says 30 seconds.
const BACKOFF_BUDGET: Duration = Duration::from_secs(30);

/// `sleep`, waiting `budget` at most over all its calls: each call waits
/// what it asks for or what is left of the budget, whichever is shorter
/// (nothing once the budget is used up, with one warning). The
/// `Dispatcher` has no bound of its own, so it is made here, around its
/// `set_sleep`.
fn budgeted(budget: Duration, mut sleep: impl FnMut(Duration)) -> impl FnMut(Duration) {
    let mut left = budget;
    let mut warned = false;
    move |wanted: Duration| {
        let wait = wanted.min(left);
        left = left.saturating_sub(wait);
        if wait < wanted && !warned {
            warned = true;
            log::warn!(
                "the dispatch has waited {} s in back-off in all: further retries follow at once",
                budget.as_secs()
            );
        }
        if !wait.is_zero() {
            sleep(wait);
        }
    }
}

/// Calls a registered C callback with `event`.
fn call(r: Registration, event: &Event, seq: Option<u64>) -> Result<(), String> {
    // Kind names are fixed ASCII and JSON escapes control characters, so
    // neither holds a NUL; a failure here would only be a bug, reported as
    // a failed action.
    let kind = CString::new(event.kind.name()).map_err(|e| e.to_string())?;
    let payload = serde_json::to_string(&event.payload).map_err(|e| e.to_string())?;
    let payload = CString::new(payload).map_err(|e| e.to_string())?;
    let _mark = CallbackMark::set();
    // SAFETY: the callback and userdata were registered together by
    // dha_hooks_register, whose contract makes the callback callable with
    // that userdata on this thread; the strings outlive the call.
    let rc = unsafe {
        (r.callback)(
            r.userdata,
            kind.as_ptr(),
            dha_severity::from(event.severity),
            payload.as_ptr(),
            seq.is_some(),
            seq.unwrap_or(0),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("the callback returned {rc}"))
    }
}

/// The configuration's callbacks (for `dha_config`).
pub(crate) fn new_hook_set() -> Arc<HookSet> {
    Arc::new(HookSet::default())
}

/// Registers `callback` to receive, with `userdata`, every event of the
/// classes in `event_mask` (an OR of `DHA_EVENT_*` bits; `DHA_EVENT_ALL`
/// for all) that an operation run with `config` produces: operations of
/// the handles made from `config` before or after this call
/// (`dha_integrity_new`, `dha_installer_new`). See
/// `dha_event_callback` for when and on which thread it is called.
///
/// Callbacks are called in registration order. They stay registered until
/// `dha_hooks_clear`, and for the handles made from `config` also after
/// `dha_config_free` (the handles keep the registrations): `userdata` must
/// stay valid until `dha_hooks_clear` or until `config` and every handle
/// made from it are freed.
///
/// The event log of the `[eventlog]` section is opened for each dispatch
/// and closed after it: do not keep a `dha_eventlog` of that same log open
/// meanwhile (the dispatch would wait 10 seconds for its lock, then not log
/// the events, with a warning).
///
/// Whether a callback is called at all is the `[recovery]` policy's choice
/// (the default policy calls the callbacks for every event; a rule may
/// list other actions for some events, with or without `callbacks`).
/// Failed actions are retried with the policy's back-off, bounded to 30
/// seconds of waiting in all per operation (see `dha_event_callback`).
///
/// The `restore` action is available from the dha program only: from C it
/// fails and its outcome (`hook.outcome`, and a warning in the log) says
/// so. To put a file back from C, call `dha_integrity_restore` (for
/// instance from the application after `dha_integrity_check` returns).
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`config`, `callback`),
/// `DHA_ERR_INVALID_ARGUMENT` (`event_mask` is 0 or has bits outside
/// `DHA_EVENT_ALL`; `DHA_HOOKS_MAX` callbacks are already registered),
/// `DHA_ERR_CALLED_FROM_CALLBACK` (called from inside an event callback).
///
/// # Safety
///
/// `config` is NULL or a live `dha_config`; `callback`, when not NULL, may
/// be called with `userdata` on any thread that runs an operation with a
/// handle made from `config`, until it is cleared or those handles and
/// `config` are freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_hooks_register(
    config: *mut dha_config,
    event_mask: u32,
    callback: dha_event_callback,
    userdata: *mut c_void,
) -> dha_result {
    ffi_result("dha_hooks_register", || {
        let config: &dha_config = try_ref!(config);
        let Some(callback) = callback else {
            return Err(Error::null("callback"));
        };
        if in_callback() {
            return Err(called_from_callback());
        }
        if event_mask == 0 || event_mask & !DHA_EVENT_ALL != 0 {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!(
                    "event_mask {event_mask:#x}: give one or more DHA_EVENT_* bits (within \
                     {DHA_EVENT_ALL:#x})"
                ),
            ));
        }
        let mut registrations = config.hooks.lock();
        if registrations.len() >= DHA_HOOKS_MAX {
            return Err(Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("the configuration already holds {DHA_HOOKS_MAX} callbacks"),
            ));
        }
        registrations.push(Registration {
            mask: event_mask,
            callback,
            userdata,
        });
        Ok(())
    })
}

/// Removes every callback registered on `config`, also for the handles
/// made from it. When this returns, none of them is being called nor will
/// be called again (it waits for a dispatch in progress on another thread),
/// and their `userdata` may be freed.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_CALLED_FROM_CALLBACK`.
///
/// # Safety
///
/// `config` is NULL or a live `dha_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_hooks_clear(config: *mut dha_config) -> dha_result {
    ffi_result("dha_hooks_clear", || {
        let config: &dha_config = try_ref!(config);
        if in_callback() {
            return Err(called_from_callback());
        }
        let _no_dispatch_running = dispatch_lock();
        config.hooks.lock().clear();
        Ok(())
    })
}

fn called_from_callback() -> Error {
    Error::new(
        dha_result::DHA_ERR_CALLED_FROM_CALLBACK,
        "called from inside an event callback; call it after the callback has returned",
    )
}

// DHA_EVENT_ALL is written as a number for the header's sake.
const _: () = {
    assert!(
        DHA_EVENT_ALL
            == DHA_EVENT_UPDATE
                | DHA_EVENT_INSTALL
                | DHA_EVENT_BOOT
                | DHA_EVENT_INTEGRITY
                | DHA_EVENT_AUDIT
                | DHA_EVENT_EVENTLOG
                | DHA_EVENT_HOOK
                | DHA_EVENT_MONITOR
    );
};

/// The mask bit of each class, as the header names it (tests).
#[cfg(test)]
pub(crate) fn mask_of(class: dha_core::events::EventClass) -> u32 {
    use dha_core::events::EventClass;
    match class {
        EventClass::Update => DHA_EVENT_UPDATE,
        EventClass::Install => DHA_EVENT_INSTALL,
        EventClass::Boot => DHA_EVENT_BOOT,
        EventClass::Integrity => DHA_EVENT_INTEGRITY,
        EventClass::Audit => DHA_EVENT_AUDIT,
        EventClass::EventLog => DHA_EVENT_EVENTLOG,
        EventClass::Hook => DHA_EVENT_HOOK,
        EventClass::Monitor => DHA_EVENT_MONITOR,
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
