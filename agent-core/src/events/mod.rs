//! Events and the tamper-evident event log (issue 5, "Tamper-evident event
//! log").
//!
//! An [`Event`] is what any part of dha reports (an update rejected, a slot
//! that fell back, an integrity change, …): a [`EventKind`] with a stable
//! dotted name, a [`Severity`] and a JSON payload. [`log::EventLog`] appends
//! events to a hash-chained file authenticated with a forward-evolving HMAC
//! key; [`verify::verify`] checks such a file from the initial key. The byte
//! layout is in [`record`].

mod keys;
pub mod log;
pub mod record;
pub mod verify;

#[cfg(test)]
mod tests;

use crate::Severity;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

pub use log::{EventLog, EventLogError, InitialKey, OpenOutcome, Stamps, TornLog};
pub use record::{Head, Record};
pub use verify::{Problem, VerifyReport, verify};

/// The `[eventlog]` section of dha.toml: where the log and its key file
/// live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventLogPolicy {
    /// The event log (absolute path). Default `/var/lib/dha/events.log`.
    pub path: std::path::PathBuf,
    /// Its key file, holding the evolving key of the next record (absolute
    /// path, mode 0600). Default `/var/lib/dha/events.key`.
    pub key: std::path::PathBuf,
}

impl Default for EventLogPolicy {
    fn default() -> Self {
        EventLogPolicy {
            path: std::path::PathBuf::from("/var/lib/dha/events.log"),
            key: std::path::PathBuf::from("/var/lib/dha/events.key"),
        }
    }
}

impl EventLogPolicy {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (k, p) in [("path", &self.path), ("key", &self.key)] {
            if !p.is_absolute() {
                return Err((
                    format!("eventlog.{k}"),
                    format!("{} is not an absolute path", p.display()),
                ));
            }
        }
        if self.path == self.key {
            return Err((
                "eventlog.key".to_owned(),
                "must not be the event log itself".to_owned(),
            ));
        }
        Ok(())
    }
}

/// One event: what happened, how much it matters, and its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// How much it matters (the recovery policy dispatches on it).
    pub severity: Severity,
    /// The details, as a JSON object (slot, target name, path, …).
    pub payload: Map<String, Value>,
}

impl Event {
    /// An event with an empty payload.
    pub fn new(kind: EventKind, severity: Severity) -> Self {
        Event {
            kind,
            severity,
            payload: Map::new(),
        }
    }

    /// The event with `key` set to `value` in its payload.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.payload.insert(key.to_owned(), value.into());
        self
    }
}

/// The kinds of event dha records. Each has a stable dotted name (written in
/// the log, the configuration and JSON) and a [`EventClass`] for masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventKind {
    /// An update was refused (TUF verification, anti-rollback, a hook's veto).
    #[serde(rename = "update.rejected")]
    UpdateRejected,
    /// An update was written to a slot and the boot order switched to it.
    #[serde(rename = "update.installed")]
    UpdateInstalled,
    /// An install failed part way (the slot is left marked bad).
    #[serde(rename = "install.failed")]
    InstallFailed,
    /// The boot counter ran out and the device fell back to the other slot.
    #[serde(rename = "boot.fell_back")]
    BootFellBack,
    /// A slot was marked good after a healthy boot.
    #[serde(rename = "boot.marked_good")]
    BootMarkedGood,
    /// A slot was marked bad.
    #[serde(rename = "boot.marked_bad")]
    BootMarkedBad,
    /// A monitored file changed against the integrity baseline.
    #[serde(rename = "integrity.change")]
    IntegrityChange,
    /// A change was accepted into the integrity baseline.
    #[serde(rename = "integrity.accepted")]
    IntegrityAccepted,
    /// An audit found a weakness that an earlier audit did not.
    #[serde(rename = "audit.regression")]
    AuditRegression,
    /// The event log itself was found modified, truncated or torn.
    #[serde(rename = "eventlog.tampered")]
    EventLogTampered,
    /// A recovery action (callback, command, rollback, restore) finished.
    #[serde(rename = "hook.outcome")]
    HookOutcome,
    /// The maintenance (safe-mode) flag was set for the console to read.
    #[serde(rename = "hook.maintenance_set")]
    MaintenanceFlagSet,
    /// A health check failed after boot: the slot was not marked good (its
    /// boot counter keeps running down towards the fall-back).
    #[serde(rename = "boot.unhealthy")]
    BootUnhealthy,
    /// `dha monitor`: a listening socket appeared (protocol, address, port,
    /// owning processes in the payload).
    #[serde(rename = "monitor.socket_opened")]
    MonitorSocketOpened,
    /// `dha monitor`: a listening socket went away.
    #[serde(rename = "monitor.socket_closed")]
    MonitorSocketClosed,
    /// `dha monitor`: a process runs an executable that PRC-01 would report
    /// (not on `[allow].processes`, deleted, temporary, writable).
    #[serde(rename = "monitor.process_unexpected")]
    MonitorProcessUnexpected,
    /// `dha monitor`: a watched filesystem (the event log's, `/var/log`)
    /// filled past `[monitor] threshold_percent` (IEC 62443-4-2 CR 2.9,
    /// audit storage capacity: warn before it is exhausted).
    #[serde(rename = "monitor.storage_high")]
    MonitorStorageHigh,
    /// `dha monitor`: a watched filesystem is back under the threshold.
    #[serde(rename = "monitor.storage_ok")]
    MonitorStorageOk,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 18] = [
        EventKind::UpdateRejected,
        EventKind::UpdateInstalled,
        EventKind::InstallFailed,
        EventKind::BootFellBack,
        EventKind::BootMarkedGood,
        EventKind::BootMarkedBad,
        EventKind::IntegrityChange,
        EventKind::IntegrityAccepted,
        EventKind::AuditRegression,
        EventKind::EventLogTampered,
        EventKind::HookOutcome,
        EventKind::MaintenanceFlagSet,
        EventKind::BootUnhealthy,
        EventKind::MonitorSocketOpened,
        EventKind::MonitorSocketClosed,
        EventKind::MonitorProcessUnexpected,
        EventKind::MonitorStorageHigh,
        EventKind::MonitorStorageOk,
    ];

    /// The stable dotted name (`integrity.change`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::UpdateRejected => "update.rejected",
            EventKind::UpdateInstalled => "update.installed",
            EventKind::InstallFailed => "install.failed",
            EventKind::BootFellBack => "boot.fell_back",
            EventKind::BootMarkedGood => "boot.marked_good",
            EventKind::BootMarkedBad => "boot.marked_bad",
            EventKind::IntegrityChange => "integrity.change",
            EventKind::IntegrityAccepted => "integrity.accepted",
            EventKind::AuditRegression => "audit.regression",
            EventKind::EventLogTampered => "eventlog.tampered",
            EventKind::HookOutcome => "hook.outcome",
            EventKind::MaintenanceFlagSet => "hook.maintenance_set",
            EventKind::BootUnhealthy => "boot.unhealthy",
            EventKind::MonitorSocketOpened => "monitor.socket_opened",
            EventKind::MonitorSocketClosed => "monitor.socket_closed",
            EventKind::MonitorProcessUnexpected => "monitor.process_unexpected",
            EventKind::MonitorStorageHigh => "monitor.storage_high",
            EventKind::MonitorStorageOk => "monitor.storage_ok",
        }
    }

    /// The class the kind belongs to (for event masks).
    pub fn class(self) -> EventClass {
        match self {
            EventKind::UpdateRejected | EventKind::UpdateInstalled => EventClass::Update,
            EventKind::InstallFailed => EventClass::Install,
            EventKind::BootFellBack
            | EventKind::BootMarkedGood
            | EventKind::BootMarkedBad
            | EventKind::BootUnhealthy => EventClass::Boot,
            EventKind::IntegrityChange | EventKind::IntegrityAccepted => EventClass::Integrity,
            EventKind::AuditRegression => EventClass::Audit,
            EventKind::EventLogTampered => EventClass::EventLog,
            EventKind::HookOutcome | EventKind::MaintenanceFlagSet => EventClass::Hook,
            EventKind::MonitorSocketOpened
            | EventKind::MonitorSocketClosed
            | EventKind::MonitorProcessUnexpected
            | EventKind::MonitorStorageHigh
            | EventKind::MonitorStorageOk => EventClass::Monitor,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

/// Groups of event kinds, each one bit of an event mask (the C ABI's
/// `event_mask`). The bit values are part of the ABI: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventClass {
    /// `update.*`: bit 0.
    Update,
    /// `install.*`: bit 1.
    Install,
    /// `boot.*`: bit 2.
    Boot,
    /// `integrity.*`: bit 3.
    Integrity,
    /// `audit.*`: bit 4.
    Audit,
    /// `eventlog.*`: bit 5.
    EventLog,
    /// `hook.*` (recovery actions and their outcomes): bit 6.
    Hook,
    /// `monitor.*` (`dha monitor`: sockets, processes, storage): bit 7.
    Monitor,
}

impl EventClass {
    /// Every class, in bit order.
    pub const ALL: [EventClass; 8] = [
        EventClass::Update,
        EventClass::Install,
        EventClass::Boot,
        EventClass::Integrity,
        EventClass::Audit,
        EventClass::EventLog,
        EventClass::Hook,
        EventClass::Monitor,
    ];

    /// The class's name: the part of its kinds' names before the dot
    /// (`integrity` for `integrity.change`), as the `[recovery]` rules
    /// name a whole class.
    pub fn name(self) -> &'static str {
        match self {
            EventClass::Update => "update",
            EventClass::Install => "install",
            EventClass::Boot => "boot",
            EventClass::Integrity => "integrity",
            EventClass::Audit => "audit",
            EventClass::EventLog => "eventlog",
            EventClass::Hook => "hook",
            EventClass::Monitor => "monitor",
        }
    }

    /// The mask with every class's bit set.
    pub fn all_bits() -> u32 {
        EventClass::ALL.iter().fold(0, |m, c| m | c.bit())
    }

    /// The class's bit in an event mask.
    pub fn bit(self) -> u32 {
        match self {
            EventClass::Update => 1 << 0,
            EventClass::Install => 1 << 1,
            EventClass::Boot => 1 << 2,
            EventClass::Integrity => 1 << 3,
            EventClass::Audit => 1 << 4,
            EventClass::EventLog => 1 << 5,
            EventClass::Hook => 1 << 6,
            EventClass::Monitor => 1 << 7,
        }
    }
}

/// The identifier of one boot of the device (16 bytes), recorded with every
/// event so that the monotonic times of different boots are not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootId(pub [u8; 16]);

impl BootId {
    /// Where Linux exposes the current boot's random UUID (random(4)).
    pub const LINUX_PATH: &'static str = "/proc/sys/kernel/random/boot_id";

    /// The kernel's boot id when [`Self::LINUX_PATH`] is readable, else a
    /// random id for this process (so records of one process still group).
    pub fn detect() -> Self {
        std::fs::read_to_string(Self::LINUX_PATH)
            .ok()
            .and_then(|s| Self::parse(s.trim()))
            .unwrap_or_else(Self::random)
    }

    /// A random id (ring's system random generator; all zeros if it fails,
    /// which only makes records of different processes group together).
    pub fn random() -> Self {
        let mut b = [0u8; 16];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        BootId(b)
    }

    /// Parses a UUID (`8-4-4-4-12` hex digits, or 32 hex digits).
    pub fn parse(s: &str) -> Option<Self> {
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        let bytes = record::from_hex(&hex)?;
        Some(BootId(bytes.try_into().ok()?))
    }
}

impl fmt::Display for BootId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = record::hex(&self.0);
        let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
        write!(
            f,
            "{}-{}-{}-{}-{}",
            part(0, 8),
            part(8, 12),
            part(12, 16),
            part(16, 20),
            part(20, 32)
        )
    }
}

/// A monotonic clock, in nanoseconds, recorded with every event.
///
/// Wall-clock time can be set back (by a person or by an attacker); the
/// monotonic time of one boot ([`BootId`]) never goes backwards, so it
/// orders the records of a boot. On Linux the integrator passes a clock
/// reading `CLOCK_BOOTTIME` or `CLOCK_MONOTONIC` (nanoseconds since boot;
/// `agent-core` has no `unsafe` to call `clock_gettime` itself);
/// [`ProcessMonotonic`] is the portable fallback.
pub trait Monotonic: Send + Sync {
    /// Nanoseconds since an origin fixed for the boot (or the process).
    fn nanos(&self) -> u64;
}

/// Nanoseconds since this value was created ([`std::time::Instant`]): the
/// portable fallback, whose origin is the process's, not the boot's.
#[derive(Debug, Clone, Copy)]
pub struct ProcessMonotonic(Instant);

impl ProcessMonotonic {
    /// A clock starting now.
    pub fn new() -> Self {
        ProcessMonotonic(Instant::now())
    }
}

impl Default for ProcessMonotonic {
    fn default() -> Self {
        Self::new()
    }
}

impl Monotonic for ProcessMonotonic {
    fn nanos(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A monotonic clock stopped at a value (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedMonotonic(pub u64);

impl Monotonic for FixedMonotonic {
    fn nanos(&self) -> u64 {
        self.0
    }
}
