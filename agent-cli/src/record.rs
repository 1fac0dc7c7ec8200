//! Recording what a command has to report: its events go to the event log
//! of `[eventlog]` and through the recovery policy of `[recovery]` (issue 5,
//! "Recovery hooks and escalation").
//!
//! Every command that has something to report (an integrity change, an
//! accepted change, a refused update, …) calls [`record`]. Recording never
//! changes a command's exit status: a log that cannot be opened, or a
//! recovery action that fails, is a warning on standard error; a log that
//! was never created (`dha log init`) is a warning of the logger (`-v`).
//!
//! What is recorded: `dha integrity check` (one `integrity.change` per
//! change), `dha integrity update` (`integrity.accepted`), and `dha update`
//! when it refuses an update (`update.rejected`), each when given
//! `--config` ([`record_configured`]).

use crate::term;
use dha_core::Config;
use dha_core::events::{Event, EventLog, OpenOutcome};
use dha_core::integrity::{Baseline, IntegrityError, KnownGoodStore, VerifyKey, read_baseline};
use dha_core::recovery::{Action, DispatchReport, Dispatcher, RecoveryPolicy, RestoreSource};
use dha_linux::LinuxFsExtras;
use std::io::{self, Write as _};
use std::path::Path;

/// Opens the event log of `config` (when its key file exists; otherwise one
/// warning naming `dha log init`), builds a [`Dispatcher`] from
/// `[recovery]` (with the boot control of `[boot]` when one is configured,
/// for `rollback`) and dispatches each event. Nothing is done for no
/// events.
///
/// A torn tail found when the log is opened is cut off and recorded as an
/// `eventlog.tampered` event (with the hash of what was cut), with a
/// warning.
pub fn record(config: &Config, events: Vec<Event>) {
    dispatch_each(config, events, |event, report| {
        warn_failures(event.kind.name(), report);
    });
}

/// [`record`] with the configuration of `--config FILE`. Without
/// `--config` nothing is recorded: the event log and the recovery policy
/// are the device's, named by its dha.toml (a test rig's command line
/// without one records nothing). A configuration that cannot be read is a
/// warning.
pub fn record_configured(config: Option<&Path>, events: Vec<Event>) {
    let Some(path) = config else {
        return;
    };
    if events.is_empty() {
        return;
    }
    match Config::load(path) {
        Ok(c) => record(&c, events),
        Err(e) => warn(&format!(
            "{} event(s) not recorded: configuration: {e}",
            events.len()
        )),
    }
}

/// [`record`], calling `on_report` with each event and what its dispatch
/// did (`dha hooks test` prints it).
///
/// The `restore` action gets the known-good store of `[integrity] store`
/// and the baseline verified with `[integrity] key`, read only when the
/// policy has a `restore` action (a baseline can be large); when they
/// cannot be read, a warning says why and `restore` fails.
pub fn dispatch_each(
    config: &Config,
    events: Vec<Event>,
    on_report: impl FnMut(&Event, &DispatchReport),
) {
    if events.is_empty() {
        return;
    }
    // The open log holds its writer lock (EventLog's own) until the events
    // are dispatched: one writer at a time.
    let log = open_log(config, events.len());
    dispatch_with(config, events, log, on_report);
}

/// An event that [`record_retrying`] could not record yet.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The event.
    pub event: Event,
    /// Its recovery actions already ran: only the log append is retried.
    dispatched: bool,
}

impl Pending {
    /// An event not yet recorded nor dispatched.
    pub fn new(event: Event) -> Self {
        Pending {
            event,
            dispatched: false,
        }
    }
}

/// [`record`] for a caller that keeps what could not be recorded and
/// retries it later (`dha monitor`, each tick): when the event log exists
/// but cannot be opened (another writer holds it past
/// [`dha_core::events::LOCK_WAIT`], an I/O error, a full disk), nothing is
/// dispatched and every event is returned; when an event was dispatched
/// but its append to the log failed, it is returned marked so that only
/// the append is retried (its recovery actions do not run twice). A log
/// that was never created keeps nothing (as [`record`]). The returned
/// events are in their original order.
pub fn record_retrying(config: &Config, pending: Vec<Pending>) -> Vec<Pending> {
    if pending.is_empty() {
        return pending;
    }
    let count = pending.len();
    let log = match open_log_checked(config, count) {
        Ok(Some(log)) => log,
        Ok(None) => {
            let fresh: Vec<Event> = pending
                .into_iter()
                .filter(|p| !p.dispatched)
                .map(|p| p.event)
                .collect();
            dispatch_with(config, fresh, None, |event, report| {
                warn_failures(event.kind.name(), report);
            });
            return Vec::new();
        }
        Err(e) => {
            warn(&format!(
                "{count} event(s) not recorded yet (kept, retried at the next look): {e}"
            ));
            return pending;
        }
    };
    let mut log = log;
    let mut kept = Vec::new();
    let mut fresh = Vec::new();
    for p in pending {
        if !p.dispatched {
            fresh.push(p.event);
        } else if let Err(e) = log.append_durable(&p.event) {
            warn(&format!(
                "event {}: the event log: {e} (kept, retried at the next look)",
                p.event.kind.name()
            ));
            kept.push(p);
        }
    }
    if !kept.is_empty() {
        // The log failed: the fresh events wait too, in order.
        kept.extend(fresh.into_iter().map(Pending::new));
        return kept;
    }
    dispatch_with(config, fresh, Some(log), |event, report| {
        if let Some(e) = &report.log_error {
            warn(&format!(
                "event {}: the event log: {e} (kept, retried at the next look)",
                event.kind.name()
            ));
            kept.push(Pending {
                event: event.clone(),
                dispatched: true,
            });
        }
        warn_failures_of_actions(event.kind.name(), report);
    });
    kept
}

/// Dispatches `events` through `[recovery]`, appending them to `log` when
/// there is one.
fn dispatch_with(
    config: &Config,
    events: Vec<Event>,
    mut log: Option<EventLog>,
    mut on_report: impl FnMut(&Event, &DispatchReport),
) {
    if events.is_empty() {
        return;
    }
    let boot = dha_linux::boot::from_config(&config.boot).ok();
    let restore = if has_restore(&config.recovery) {
        restore_source(config)
    } else {
        None
    };
    let mut dispatcher = Dispatcher::new(&config.recovery);
    if let Some(log) = log.as_mut() {
        dispatcher.set_log(log);
    }
    if let Some(bc) = boot.as_deref() {
        dispatcher.set_boot(bc, config.boot_policy());
    }
    if let Some((store, baseline)) = &restore {
        dispatcher.set_restore(RestoreSource {
            store,
            baseline,
            fsx: &LinuxFsExtras,
        });
    }
    let reports = dispatcher.dispatch_all(events.clone());
    for (event, report) in events.iter().zip(&reports) {
        on_report(event, report);
    }
}

/// True when some rule (or the default) has a `restore` action.
fn has_restore(p: &RecoveryPolicy) -> bool {
    p.rules
        .iter()
        .flat_map(|r| r.actions.iter())
        .chain(p.default_actions.iter())
        .any(|a| matches!(a, Action::Restore))
}

/// The known-good store and the verified baseline of `[integrity]`.
fn restore_source(config: &Config) -> Option<(KnownGoodStore, Baseline)> {
    let i = &config.integrity;
    let Some(dir) = &i.store else {
        warn("the restore action has no known-good store: set [integrity] store");
        return None;
    };
    let read = || -> Result<(KnownGoodStore, Baseline), IntegrityError> {
        let key = VerifyKey::load(&i.key)?;
        let baseline = read_baseline(&i.baseline, &key)?;
        Ok((KnownGoodStore::open(dir)?, baseline))
    };
    read()
        .map_err(|e| warn(&format!("the restore action cannot restore: {e}")))
        .ok()
}

/// The log of `[eventlog]`, or `None` with a warning.
fn open_log(config: &Config, count: usize) -> Option<EventLog> {
    open_log_checked(config, count)
        .map_err(|e| warn(&format!("{count} event(s) not recorded: {e}")))
        .ok()
        .flatten()
}

/// The log of `[eventlog]`: `Ok(None)` when it was never created (a
/// warning of the logger), `Err` when it exists but cannot be opened.
fn open_log_checked(config: &Config, count: usize) -> Result<Option<EventLog>, String> {
    let p = &config.eventlog;
    if p.key.symlink_metadata().is_err() {
        // A device (or a test rig) that does not keep an event log: a
        // warning of the logger (`-v`), not on every run's standard error.
        log::warn!("{}", not_initialised(config, count));
        return Ok(None);
    }
    match EventLog::open(&p.path, &p.key, dha_linux::system_stamps()) {
        Ok(OpenOutcome::Ready { log, .. }) => Ok(Some(log)),
        Ok(OpenOutcome::TornTail(torn)) => {
            let (offset, bytes) = (torn.offset(), torn.bytes());
            match torn.truncate_and_record() {
                Ok(log) => {
                    warn(&format!(
                        "{}: a torn tail of {bytes} byte(s) at offset {offset} was cut off and \
                         recorded (eventlog.tampered)",
                        p.path.display()
                    ));
                    Ok(Some(log))
                }
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The warning for a log that was never created, naming `dha log init`.
pub fn not_initialised(config: &Config, count: usize) -> String {
    format!(
        "{count} event(s) not recorded: no event log at {} (create it with `dha log init --key \
         INITIAL_KEY_FILE --config FILE`)",
        config.eventlog.key.display()
    )
}

/// One warning per failed action and for a log error.
fn warn_failures(kind: &str, report: &DispatchReport) {
    if let Some(e) = &report.log_error {
        warn(&format!("event {kind}: the event log: {e}"));
    }
    warn_failures_of_actions(kind, report);
}

/// One warning per failed action.
fn warn_failures_of_actions(kind: &str, report: &DispatchReport) {
    for o in report.outcomes.iter().filter(|o| o.last && !o.ok()) {
        warn(&format!(
            "event {kind}: recovery action {} failed after {} attempt(s): {}",
            o.action,
            o.attempt,
            o.error.as_deref().unwrap_or("")
        ));
    }
}

fn warn(message: &str) {
    let line = message.replace(['\n', '\r'], " ");
    let _ = writeln!(io::stderr().lock(), "dha: warning: {}", term::clean(&line));
}
