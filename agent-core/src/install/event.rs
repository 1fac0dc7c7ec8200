//! The events an install records (issue 5: "every failure must reach the
//! manufacturer's recovery plan"): `update.installed` for a successful
//! install, `update.rejected` when the update itself was refused (rollback,
//! veto, a file that is not the verified target, an unsafe archive) and
//! `install.failed` when the device could not take it (I/O, read-back,
//! boot loader, journal). The CLI and the C ABI record them in the event
//! log; the recovery policy dispatches on kind and severity.

use super::{InstallError, InstallReport};
use crate::Severity;
use crate::events::{Event, EventKind};

impl InstallReport {
    /// `update.installed` (severity info): `slot`, `booted`, `target`,
    /// `version`, `sha256`, `bytes`, `read_back` (`device` or
    /// `page-cache`).
    pub fn event(&self) -> Event {
        Event::new(EventKind::UpdateInstalled, Severity::Info)
            .with("slot", self.slot.as_str())
            .with("booted", self.booted.as_str())
            .with("target", self.target.as_str())
            .with("version", self.version)
            .with("sha256", self.sha256.as_str())
            .with("bytes", self.bytes)
            .with("read_back", self.read_back.as_str())
    }
}

impl InstallError {
    /// A short stable code for the failure (`rollback`, `veto`,
    /// `source-mismatch`, `unsafe-archive`, `read-back`, `io`, …), the
    /// `reason` of the event payload.
    pub fn code(&self) -> &'static str {
        match self {
            InstallError::Config { .. } => "config",
            InstallError::Target { .. } => "target",
            InstallError::Rollback { .. } => "rollback",
            InstallError::Vetoed { .. } => "veto",
            InstallError::SourceMismatch { .. } => "source-mismatch",
            InstallError::UnsafeArchive { .. } => "unsafe-archive",
            InstallError::ReadBack { .. } => "read-back",
            InstallError::Io { .. } => "io",
            InstallError::Boot(_) => "boot",
            InstallError::Journal(_) => "journal",
            InstallError::Floor { .. } => "floor",
            InstallError::Locked { .. } => "locked",
            InstallError::Refused(_) => "refused",
            InstallError::Unsupported { .. } => "unsupported",
        }
    }

    /// The event recording this failure to install `target`:
    ///
    /// | failure | kind | severity |
    /// |---|---|---|
    /// | rollback (below the floor) | `update.rejected` | high |
    /// | a file that is not the verified target, an unsafe archive | `update.rejected` | high |
    /// | a hook's veto (or timeout) | `update.rejected` | medium |
    /// | target metadata lacking a hash or release counter | `update.rejected` | medium |
    /// | read-back mismatch, I/O, boot loader, journal, floor | `install.failed` | high |
    /// | another install running | `install.failed` | low |
    /// | configuration, refusal, unsupported slot | `install.failed` | medium |
    ///
    /// The payload has `target`, `reason` ([`InstallError::code`]) and
    /// `error` (the message, which never carries key material), plus the
    /// failure's own fields (`floor` and `offered`; `phase` and `hook`;
    /// `slot`, `expected` and `found`; `path`; `slot` and `entry`).
    pub fn event(&self, target: &str) -> Event {
        use EventKind::{InstallFailed, UpdateRejected};
        let (kind, severity) = match self {
            InstallError::Rollback { .. }
            | InstallError::SourceMismatch { .. }
            | InstallError::UnsafeArchive { .. } => (UpdateRejected, Severity::High),
            InstallError::Vetoed { .. } | InstallError::Target { .. } => {
                (UpdateRejected, Severity::Medium)
            }
            InstallError::Locked { .. } => (InstallFailed, Severity::Low),
            InstallError::Config { .. }
            | InstallError::Refused(_)
            | InstallError::Unsupported { .. } => (InstallFailed, Severity::Medium),
            InstallError::ReadBack { .. }
            | InstallError::Io { .. }
            | InstallError::Boot(_)
            | InstallError::Journal(_)
            | InstallError::Floor { .. } => (InstallFailed, Severity::High),
        };
        let event = Event::new(kind, severity)
            .with("target", target)
            .with("reason", self.code())
            .with("error", self.to_string());
        match self {
            InstallError::Rollback { floor, offered, .. } => {
                event.with("floor", *floor).with("offered", *offered)
            }
            InstallError::Vetoed { phase, hook, .. } => {
                event.with("phase", *phase).with("hook", hook.as_str())
            }
            InstallError::ReadBack {
                slot,
                expected,
                found,
            } => event
                .with("slot", slot.as_str())
                .with("expected", expected.as_str())
                .with("found", found.as_str()),
            InstallError::Unsupported { slot, .. } => event.with("slot", slot.as_str()),
            InstallError::UnsafeArchive { slot, entry, .. } => event
                .with("slot", slot.as_str())
                .with("entry", entry.as_str()),
            InstallError::SourceMismatch { path, .. }
            | InstallError::Io { path, .. }
            | InstallError::Floor { path, .. }
            | InstallError::Locked { path } => event.with("path", path.as_str()),
            _ => event,
        }
    }
}
