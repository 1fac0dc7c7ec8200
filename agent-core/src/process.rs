//! Waiting for a child process with a time limit: the install hooks, the
//! health checks and the recovery commands all run an executable that
//! must not hold dha up for ever.
//!
//! The child is polled for its exit (the pause doubles from 1 ms to 50 ms,
//! so a quick program is not held up and a slow one costs little): the
//! standard library has no wait with a timeout, and the crates that add one
//! install a `SIGCHLD` handler process-wide, which a library linked into an
//! integrator's process must not do. On a timeout, or when waiting fails,
//! the child is killed (`SIGKILL`) and reaped, so no zombie is left. Only
//! the child itself is killed: a process it started and left running is
//! not (killing its process group would need `setpgid` before `exec`, that
//! is `unsafe` code this crate does not have).

use std::io;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How a child ended.
#[derive(Debug)]
pub enum Waited {
    /// It exited (or was ended by a signal) within the limit.
    Exited(ExitStatus),
    /// It was still running at the limit: killed and reaped.
    TimedOut,
    /// Waiting for it failed: killed and reaped.
    WaitFailed(io::Error),
}

/// Waits for `child` for at most `timeout` (see the module documentation).
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Waited {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(e) => {
                kill_and_reap(child);
                return Waited::WaitFailed(e);
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            kill_and_reap(child);
            return Waited::TimedOut;
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(elapsed)));
        pause = pause.saturating_mul(2).min(Duration::from_millis(50));
    }
}

/// Kills the child and reaps it. A failed kill means it exited meanwhile;
/// the wait reaps it either way.
fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_quick_child_exits_with_its_status() {
        let mut c = Command::new("/bin/sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        match wait_with_timeout(&mut c, Duration::from_secs(30)) {
            Waited::Exited(s) => assert_eq!(s.code(), Some(3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_child_past_its_limit_is_killed_and_reaped() {
        let mut c = Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let pid = c.id();
        assert!(matches!(
            wait_with_timeout(&mut c, Duration::from_millis(100)),
            Waited::TimedOut
        ));
        // Reaped: no process (not even a zombie) is left with its pid.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
}
