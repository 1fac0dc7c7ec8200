//! The `command` action: a program run with a documented environment, no
//! standard input, and a time-out after which it is killed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// How much of the program's standard error is kept for the outcome.
const STDERR_TAIL: u64 = 1024;

/// The `PATH` a command gets (the install hooks' one).
pub(crate) const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// How a command ended, when it did not succeed.
pub(crate) enum CommandFailure {
    /// It could not be started.
    Spawn(String),
    /// It ran out of time and was killed.
    TimedOut(Duration),
    /// It exited unsuccessfully (the status and the end of its standard
    /// error).
    Exited(ExitStatus, String),
    /// Waiting for it failed.
    Wait(String),
}

impl std::fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandFailure::Spawn(e) => write!(f, "could not be started: {e}"),
            CommandFailure::TimedOut(t) => {
                write!(f, "timed out after {} ms and was killed", t.as_millis())
            }
            CommandFailure::Exited(status, stderr) if stderr.is_empty() => write!(f, "{status}"),
            CommandFailure::Exited(status, stderr) => write!(f, "{status}: {stderr}"),
            CommandFailure::Wait(e) => write!(f, "could not be waited for: {e}"),
        }
    }
}

/// Runs `argv` with exactly `env` (plus nothing inherited), standard input
/// from `/dev/null`, standard output discarded and standard error kept in
/// an anonymous temporary file (so neither a chatty program nor a
/// grandchild holding the pipe open can block dha). After `timeout` the
/// program is killed (SIGKILL) and reaped.
///
/// Only the program itself is killed: children it started and left behind
/// are not (a process group kill needs `unsafe`, which `agent-core` does
/// not have); a program that forks should `exec` its last step.
pub(crate) fn run(
    argv: &[String],
    env: &BTreeMap<&'static str, String>,
    timeout: Duration,
) -> Result<(), CommandFailure> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| CommandFailure::Spawn("no program".to_owned()))?;
    let stderr = tempfile::tempfile().map_err(|e| CommandFailure::Spawn(e.to_string()))?;
    let child_stderr = stderr
        .try_clone()
        .map_err(|e| CommandFailure::Spawn(e.to_string()))?;
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(child_stderr))
        .spawn()
        .map_err(|e| CommandFailure::Spawn(e.to_string()))?;
    let status = match crate::process::wait_with_timeout(&mut child, timeout) {
        crate::process::Waited::Exited(status) => status,
        crate::process::Waited::TimedOut => return Err(CommandFailure::TimedOut(timeout)),
        crate::process::Waited::WaitFailed(e) => return Err(CommandFailure::Wait(e.to_string())),
    };
    if status.success() {
        Ok(())
    } else {
        Err(CommandFailure::Exited(status, tail(stderr)))
    }
}

/// The last [`STDERR_TAIL`] bytes of `f`, as one line of text.
fn tail(mut f: File) -> String {
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(STDERR_TAIL);
    let mut bytes = Vec::new();
    if f.seek(SeekFrom::Start(from)).is_err()
        || f.take(STDERR_TAIL).read_to_end(&mut bytes).is_err()
    {
        return String::new();
    }
    String::from_utf8_lossy(&bytes)
        .replace(['\n', '\r'], " ")
        .trim()
        .to_owned()
}
