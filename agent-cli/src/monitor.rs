//! `dha monitor`: the live checks at an interval; each change is an event
//! (issue 6, "Monitoring"; [`dha_core::monitor`] says what is compared).
//!
//! The first look is the baseline: one line `baseline: …` on standard
//! output says what was found (scripts wait for it). Then one line per
//! event (`monitor.socket_opened medium tcp 0.0.0.0:8080 pid 42 …`), each
//! recorded, with `--config`, in the event log of `[eventlog]` and through
//! the recovery policy of `[recovery]` ([`crate::record`]; without
//! `--config` nothing is recorded, as for every other command).
//!
//! Events are recorded before they are printed, and neither step loses
//! them: standard output that cannot be written (closed pipe, EPIPE) is one
//! warning on standard error and the monitor goes on recording; events the
//! event log cannot take (another writer holds it, a full disk) are kept,
//! at most [`MAX_PENDING`] (the oldest dropped first, counted in a
//! warning), and retried at the next look ([`record::record_retrying`]) and
//! once more when the monitor stops.
//!
//! SIGINT and SIGTERM set a flag (`signal-hook`) that the loop reads every
//! 100 ms, so the program ends within about a second (a tick in progress is
//! finished first), with exit status 0.

use crate::record;
use crate::term;
use clap::Args;
use dha_core::Config;
use dha_core::monitor::{BaselineSummary, Monitor, event_line};
use dha_linux::LinuxHost;
use std::collections::VecDeque;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Exit status: stopped by a signal (or `--once` done).
const EXIT_OK: u8 = 0;
/// Exit status: usage, configuration or output error.
const EXIT_ERROR: u8 = 2;

/// The most events kept for a retry when the event log cannot take them.
pub const MAX_PENDING: usize = 1024;

/// How often the loop looks at the stop flag while it waits.
const SLICE: Duration = Duration::from_millis(100);

const AFTER_HELP: &str = "\
Examples:
  dha monitor --config /etc/dha/dha.toml             every [monitor] interval_secs (60 s)
  dha monitor --interval 5 --config /etc/dha/dha.toml
  dha monitor --once                                 print the baseline and exit

What is reported: a listening socket that appears (monitor.socket_opened, medium when it is
not on [allow].ports) or disappears (monitor.socket_closed); a process running an executable
that PRC-01 would report (monitor.process_unexpected); the filesystem of the event log or of
/var/log filling to [monitor] threshold_percent (monitor.storage_high, IEC 62443-4-2 CR 2.9)
and recovering (monitor.storage_ok). What is already there at the start is the baseline: it
is summarised, not reported as new. Run it as root: other users' sockets and processes are
otherwise not all visible.

Events are recorded before they are printed. When the event log is busy or cannot be written,
they are kept (at most 1,024, the oldest dropped first) and retried at the next look; when
standard output is closed the monitor warns once on standard error and goes on recording.

Exit status:
  0  stopped by SIGINT or SIGTERM (or --once done)
  2  usage error or unreadable configuration";

/// `dha monitor` arguments.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct MonitorArgs {
    /// Seconds between two looks (default: [monitor] interval_secs, 60)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    interval: Option<u64>,
    /// The dha.toml whose [monitor], [allow], [eventlog] and [recovery]
    /// apply; without it the defaults apply and nothing is recorded
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Take the baseline, print it (with any storage event) and exit
    #[arg(long)]
    once: bool,
}

/// Runs `dha monitor`; returns the exit status.
pub fn run(args: &MonitorArgs) -> u8 {
    match monitor(args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(
                io::stderr().lock(),
                "dha: monitor: {}",
                term::clean(&e.replace(['\n', '\r'], " "))
            );
            EXIT_ERROR
        }
    }
}

fn monitor(args: &MonitorArgs) -> Result<(), String> {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| format!("configuration: {e}"))?,
        None => Config::default(),
    };
    let interval =
        Duration::from_secs(args.interval.unwrap_or(config.monitor.interval_secs).max(1));
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let host = LinuxHost;
    if !host.is_privileged() {
        log::warn!("not running as root: other users' sockets and processes may not all be seen");
    }
    let mut monitor = Monitor::new(&config, &host);
    let mut pending: VecDeque<record::Pending> = VecDeque::new();
    let mut stdout_failed = false;
    loop {
        let started = Instant::now();
        let tick = monitor.tick();
        if args.config.is_some() {
            pending.extend(tick.events.iter().cloned().map(record::Pending::new));
            bound_pending(&mut pending);
            pending = record::record_retrying(&config, pending.drain(..).collect()).into();
        }
        let mut lines: Vec<String> = Vec::new();
        if let Some(b) = &tick.baseline {
            lines.push(baseline_line(b, interval, args.once));
        }
        lines.extend(
            tick.events
                .iter()
                .map(|e| term::clean(&event_line(e)).into_owned()),
        );
        if !lines.is_empty() && !stdout_failed {
            if let Err(e) = write_stdout(&(lines.join("\n") + "\n")) {
                // Once: the events are still recorded.
                stdout_failed = true;
                warn(&format!(
                    "{e}; events are still recorded, no longer printed"
                ));
            }
        }
        log::debug!("tick in {} ms", started.elapsed().as_millis());
        if args.once || !wait(interval.saturating_sub(started.elapsed()), &stop) {
            if !pending.is_empty() {
                let left = record::record_retrying(&config, pending.drain(..).collect());
                if !left.is_empty() {
                    warn(&format!(
                        "{} event(s) could not be recorded before the monitor stopped",
                        left.len()
                    ));
                }
            }
            return Ok(());
        }
    }
}

/// Drops the oldest events beyond [`MAX_PENDING`], with a warning.
fn bound_pending(pending: &mut VecDeque<record::Pending>) {
    let excess = pending.len().saturating_sub(MAX_PENDING);
    if excess > 0 {
        pending.drain(..excess);
        warn(&format!(
            "{excess} event(s) dropped: the event log could not take them and at most \
             {MAX_PENDING} are kept for a retry (the oldest are dropped first)"
        ));
    }
}

fn warn(message: &str) {
    let _ = writeln!(
        io::stderr().lock(),
        "dha: warning: monitor: {}",
        term::clean(&message.replace(['\n', '\r'], " "))
    );
}

/// Sleeps `d` in slices; false when the stop flag was set.
fn wait(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// `baseline: 12 listening sockets, 140 processes (0 unexpected), storage
/// /var/log 41%; every 60 s`.
fn baseline_line(b: &BaselineSummary, interval: Duration, once: bool) -> String {
    let count = |n: Option<usize>| n.map_or_else(|| "unreadable".to_owned(), |n| n.to_string());
    let storage: Vec<String> = b
        .storage
        .iter()
        .map(|(p, pct)| match pct {
            Some(pct) => format!("{} {pct}%", p.display()),
            None => format!("{} unmeasurable", p.display()),
        })
        .collect();
    let mut line = format!(
        "baseline: {} listening sockets, {} processes ({} unexpected executables), storage {}",
        count(b.sockets),
        count(b.processes),
        b.unexpected,
        storage.join(", ")
    );
    if !once {
        line.push_str(&format!(
            "; every {} s; stop with Ctrl-C",
            interval.as_secs()
        ));
    }
    term::clean(&line).into_owned()
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}
