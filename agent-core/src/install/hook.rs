//! Running a hook executable with a deadline (issue 5: "Pre- and
//! post-install hooks … a hook can veto the install").
//!
//! The environment is documented in the module documentation of
//! [`crate::install`]. A hook that has not exited after
//! [`super::InstallPolicy::hook_timeout_secs`] is killed (`SIGKILL`, std's
//! `Child::kill`) and reaped, and counts as a veto naming the timeout.
//! Only the hook's own process is killed: processes it started and left
//! running are not tracked (`agent-core` sends no signals to process
//! groups, which needs `unsafe`), so a hook script should `exec` its last
//! command or wait for its children.

use super::{HookContext, InstallError};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `exe` for `ctx`; anything but exit 0 within `timeout` is a veto.
pub(super) fn run_executable(
    exe: &Path,
    ctx: &HookContext,
    timeout: Duration,
) -> Result<(), InstallError> {
    let veto = |reason: String| InstallError::Vetoed {
        phase: ctx.phase.as_str(),
        hook: exe.display().to_string(),
        reason,
    };
    let mut child = Command::new(exe)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("DHA_PHASE", ctx.phase.as_str())
        .env("DHA_SLOT", &ctx.slot)
        .env("DHA_SLOT_PATH", &ctx.slot_path)
        .env("DHA_SLOT_KIND", ctx.slot_kind.as_str())
        .env("DHA_TARGET", &ctx.target)
        .env("DHA_VERSION", ctx.version.to_string())
        .env("DHA_SHA256", &ctx.sha256)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| veto(format!("could not be run: {e}")))?;
    let status = match crate::process::wait_with_timeout(&mut child, timeout) {
        crate::process::Waited::Exited(status) => status,
        crate::process::Waited::TimedOut => {
            return Err(veto(format!(
                "did not exit within {} s (install.hook_timeout_secs); killed",
                timeout.as_secs()
            )));
        }
        crate::process::Waited::WaitFailed(e) => {
            return Err(veto(format!("could not be waited for: {e}")));
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(veto(status.to_string()))
    }
}
