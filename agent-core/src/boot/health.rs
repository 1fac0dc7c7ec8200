//! After a boot: health checks, then mark-good (issue 5, "Boot control":
//! "After boot: health checks (callbacks and executables) then
//! `mark-good`").
//!
//! [`confirm`] runs the checks of `[boot]` (executables, in order, each
//! with a timeout) and then the integrator's callbacks, on the running
//! slot. All pass: the slot is marked good ([`super::mark_good`], which
//! re-arms its tries and reads the environment back). One fails: the slot
//! is not marked good, so the boot loader's counter keeps going down on
//! each unhealthy boot and the device falls back to the other slot when it
//! runs out (RAUC's bootchooser model); with `boot.mark_bad_on_failure` the
//! slot is also marked bad at once. A boot that fell back (the slots ahead
//! of the running one in the boot order have no tries left) is reported,
//! so the `boot.fell_back` event is raised on the first confirm after it.

use super::{
    BootConfig, BootControl, BootError, BootPolicy, BootState, SlotId, mark_bad, mark_good,
};
use crate::Severity;
use crate::events::{Event, EventKind};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// An integrator's health check: `Err(reason)` is unhealthy.
pub type HealthFn<'h> = dyn FnMut() -> Result<(), String> + 'h;

/// A named health-check callback for [`confirm`].
pub struct HealthCallback<'h> {
    /// The name reports and events give it.
    pub name: String,
    /// The check.
    pub check: Box<HealthFn<'h>>,
}

impl std::fmt::Debug for HealthCallback<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCallback")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The outcome of one health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthResult {
    /// The executable's path, or the callback's name.
    pub name: String,
    /// `Err(why)` when unhealthy (exit status and the last line of its
    /// standard error, the timeout, the callback's reason).
    pub result: Result<(), String>,
}

/// What [`confirm`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmReport {
    /// The running slot, which was checked.
    pub slot: SlotId,
    /// The checks run, in order; the run stops at the first failure.
    pub checks: Vec<HealthResult>,
    /// The slots ahead of the running one in the boot order that had no
    /// tries left: the boot loader fell back from them (empty when it did
    /// not).
    pub fell_back_from: Vec<SlotId>,
    /// True when the slot was marked good (every check passed).
    pub marked_good: bool,
    /// With `boot.mark_bad_on_failure` and a failed check: `Ok` when the
    /// slot was marked bad, `Err(why)` when that was refused or failed.
    pub marked_bad: Option<Result<(), String>>,
    /// The boot environment afterwards.
    pub state: BootState,
}

impl ConfirmReport {
    /// True when every check passed.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.result.is_ok())
    }

    /// The first failed check.
    pub fn failure(&self) -> Option<&HealthResult> {
        self.checks.iter().find(|c| c.result.is_err())
    }

    /// The `boot.*` events to record, in the order things happened:
    /// `boot.fell_back` (high) when the boot loader fell back, then
    /// `boot.marked_good` (info) or, when the slot was marked bad,
    /// `boot.marked_bad` (high, with the failed check and why).
    pub fn events(&self) -> Vec<Event> {
        let mut out = Vec::new();
        let slot = self.slot.0.as_str();
        for from in &self.fell_back_from {
            out.push(
                Event::new(EventKind::BootFellBack, Severity::High)
                    .with("slot", slot)
                    .with("from", from.0.as_str()),
            );
        }
        if self.marked_good {
            let tries = self.state.tries_left.get(&self.slot).copied().unwrap_or(0);
            out.push(
                Event::new(EventKind::BootMarkedGood, Severity::Info)
                    .with("slot", slot)
                    .with("tries_left", tries)
                    .with("checks", self.checks.len()),
            );
        }
        if let Some(failed) = self.failure() {
            let tries = self.state.tries_left.get(&self.slot).copied().unwrap_or(0);
            out.push(
                Event::new(EventKind::BootUnhealthy, Severity::High)
                    .with("slot", slot)
                    .with("check", failed.name.as_str())
                    .with("reason", failed.result.clone().err().unwrap_or_default())
                    .with("tries_left", tries),
            );
        }
        if let (Some(Ok(())), Some(failed)) = (&self.marked_bad, self.failure()) {
            out.push(
                Event::new(EventKind::BootMarkedBad, Severity::High)
                    .with("slot", slot)
                    .with("check", failed.name.as_str())
                    .with("reason", failed.result.clone().err().unwrap_or_default()),
            );
        }
        out
    }
}

/// The `PATH` a health check runs with (as the install hooks).
const CHECK_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs the health checks on the running slot, then marks it good when all
/// pass (see the module documentation). `callbacks` run after the
/// executables of `config.health_checks`, in order; the first failure ends
/// the run.
///
/// Errors: the running slot is not known ([`BootError::Refused`]: it is
/// the slot to confirm), or the environment could not be read, or marking
/// the slot good failed or did not read back. An unhealthy boot is not an
/// error: it is in the report.
pub fn confirm(
    bc: &dyn BootControl,
    policy: BootPolicy,
    config: &BootConfig,
    callbacks: &mut [HealthCallback<'_>],
) -> Result<ConfirmReport, BootError> {
    let slot = bc.booted().ok_or_else(|| {
        BootError::Refused(
            "the running slot is not known (no rauc.slot= or dha.slot= on the kernel command \
             line, no BOOTED= line): it is the slot to confirm"
                .to_owned(),
        )
    })?;
    let before = bc.read()?;
    let fell_back_from = fell_back_from(&before, &slot);
    let mut checks = Vec::new();
    for c in &config.health_checks {
        let result = run_check(&c.path, c.timeout(), &slot);
        if let Err(why) = &result {
            log::warn!("health check {} failed: {why}", c.path.display());
        }
        let failed = result.is_err();
        checks.push(HealthResult {
            name: c.path.display().to_string(),
            result,
        });
        if failed {
            break;
        }
    }
    if checks.iter().all(|c| c.result.is_ok()) {
        for cb in callbacks.iter_mut() {
            let result = (cb.check)();
            if let Err(why) = &result {
                log::warn!("health check {} failed: {why}", cb.name);
            }
            let failed = result.is_err();
            checks.push(HealthResult {
                name: cb.name.clone(),
                result,
            });
            if failed {
                break;
            }
        }
    }
    let healthy = checks.iter().all(|c| c.result.is_ok());
    let mut marked_bad = None;
    let state = if healthy {
        mark_good(bc, policy, &slot)?
    } else {
        // No mark-good: the boot loader took a try at power-on and will
        // fall back when the slot has none left.
        if config.mark_bad_on_failure {
            match mark_bad(bc, &slot) {
                Ok(_) => marked_bad = Some(Ok(())),
                Err(e) => {
                    log::warn!("cannot mark slot {slot} bad: {e}");
                    marked_bad = Some(Err(e.to_string()));
                }
            }
        }
        bc.read()?
    };
    Ok(ConfirmReport {
        slot,
        checks,
        fell_back_from,
        marked_good: healthy,
        marked_bad,
        state,
    })
}

/// The slots ahead of `booted` in the boot order with no tries left: the
/// boot loader skipped them (their counter ran out) to start `booted`.
/// Empty when `booted` is first among the slots with tries, or is not in
/// the order.
pub fn fell_back_from(state: &BootState, booted: &SlotId) -> Vec<SlotId> {
    let Some(pos) = state.order.iter().position(|s| s == booted) else {
        return Vec::new();
    };
    state
        .order
        .iter()
        .take(pos)
        .filter(|s| state.tries_left.get(*s).copied().unwrap_or(0) == 0)
        .cloned()
        .collect()
}

/// Runs one health-check executable for `slot`: exit 0 within `timeout`
/// is healthy. Standard input and output are `/dev/null`; standard error
/// goes to an unnamed temporary file whose last line is quoted when the
/// check fails (a file, not a pipe: a grandchild left running cannot block
/// the read).
///
/// The child is waited for with `crate::process::wait_with_timeout`: when
/// the timeout is up it is killed (`SIGKILL`) and reaped; a process it
/// started and left running is not killed.
pub fn run_check(path: &Path, timeout: Duration, slot: &SlotId) -> Result<(), String> {
    let mut stderr =
        tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let err_handle = stderr
        .try_clone()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let mut child = Command::new(path)
        .env_clear()
        .env("PATH", CHECK_PATH)
        .env("DHA_PHASE", "health-check")
        .env("DHA_SLOT", &slot.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err_handle))
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    let status = match crate::process::wait_with_timeout(&mut child, timeout) {
        crate::process::Waited::Exited(status) => status,
        crate::process::Waited::TimedOut => {
            return Err(format!(
                "still running after {} s: killed",
                timeout.as_secs()
            ));
        }
        crate::process::Waited::WaitFailed(e) => {
            return Err(format!("cannot wait for it: {e}"));
        }
    };
    if status.success() {
        return Ok(());
    }
    let last = last_line(&mut stderr);
    let mut why = match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => format!("ended by {status}"),
    };
    if !last.is_empty() {
        why.push_str(": ");
        why.push_str(&last);
    }
    Err(why)
}

/// The last non-empty line of what the check wrote to standard error (the
/// last 4 KiB read; at most 200 characters, control characters dropped).
fn last_line(f: &mut std::fs::File) -> String {
    const TAIL: u64 = 4096;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if f.seek(SeekFrom::Start(len.saturating_sub(TAIL))).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if f.take(TAIL).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}
