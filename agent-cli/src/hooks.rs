//! `dha hooks test EVENT`: what the `[recovery]` policy does for an event
//! (issue 5, "Command line"), on a synthetic event.
//!
//! Without `--dry-run` the event is recorded in the event log of
//! `[eventlog]` (its payload marked `"synthetic": true`) and dispatched
//! exactly as a real one: commands run, flags are written, a rollback
//! switches the boot order. Each attempt's outcome is printed, and recorded
//! as a `hook.outcome` event. With `--dry-run` only the matching rule and
//! its actions are printed.
//!
//! Exit status: 0 every action succeeded (or, with `--dry-run`, the plan
//! was printed); 1 an action still failed after its retries; 2 a usage
//! error or an unreadable configuration.

use crate::record;
use crate::term;
use clap::{Args, Subcommand};
use dha_core::events::{Event, EventKind};
use dha_core::recovery::{Action, ActionOutcome};
use dha_core::{Config, Severity};
use serde_json::{Map, Value};
use std::io::{self, Write as _};
use std::path::PathBuf;

/// Exit status: every action succeeded.
const EXIT_OK: u8 = 0;
/// Exit status: an action failed.
const EXIT_FAILED: u8 = 1;
/// Exit status: usage or configuration error.
const EXIT_ERROR: u8 = 2;

const AFTER_HELP: &str = "\
Examples:
  dha hooks test integrity.change --severity high --payload '{\"path\":\"/etc/app.conf\"}' \\
      --config /etc/dha/dha.toml --dry-run
  dha hooks test boot.fell_back --severity critical --config /etc/dha/dha.toml

Without --dry-run the actions really run (commands, flag files, rollback, restore) and the
event and every outcome are recorded in the event log of [eventlog] (the event's payload
carries \"synthetic\": true). Integrator callbacks are not registered in the dha program.

Exit status:
  0  every action succeeded (with --dry-run: the plan was printed)
  1  an action still failed after its retries
  2  usage error, unknown event kind, bad payload, unreadable configuration";

/// `dha hooks` arguments.
#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    action: HooksAction,
}

#[derive(Debug, Subcommand)]
enum HooksAction {
    /// Dispatch a synthetic event through the [recovery] policy and print
    /// each action's outcome
    #[command(after_long_help = AFTER_HELP)]
    Test(TestArgs),
}

#[derive(Debug, Args)]
struct TestArgs {
    /// The event kind, as a dotted name (integrity.change, boot.fell_back, …)
    #[arg(value_name = "EVENT")]
    event: String,
    /// The event's severity: info, low, medium, high or critical
    #[arg(long, value_name = "S", default_value = "medium")]
    severity: String,
    /// The event's payload, a JSON object
    #[arg(long, value_name = "JSON")]
    payload: Option<String>,
    /// The dha.toml whose [recovery], [eventlog], [boot] and [integrity]
    /// apply (without it: the defaults)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print what would be done, without doing it or recording anything
    #[arg(long)]
    dry_run: bool,
}

/// Runs `dha hooks` and returns the exit status.
pub fn run(args: &HooksArgs) -> u8 {
    let HooksAction::Test(a) = &args.action;
    match test(a) {
        Ok(status) => status,
        Err(message) => {
            say(&message);
            EXIT_ERROR
        }
    }
}

fn say(message: &str) {
    let line = message.replace(['\n', '\r'], " ");
    let _ = writeln!(io::stderr().lock(), "dha: hooks: {}", term::clean(&line));
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

/// The synthetic event the arguments describe.
fn event_of(a: &TestArgs) -> Result<Event, String> {
    let kind: EventKind = a.event.parse().map_err(|e| {
        let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        format!("{e}; one of: {}", names.join(", "))
    })?;
    let severity: Severity = a.severity.parse().map_err(|_| {
        format!(
            "--severity {:?}: one of info, low, medium, high, critical",
            a.severity
        )
    })?;
    let mut payload = match &a.payload {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("--payload: not a JSON object".to_owned()),
            Err(e) => return Err(format!("--payload: not JSON: {e}")),
        },
    };
    payload.insert("synthetic".into(), Value::Bool(true));
    Ok(Event {
        kind,
        severity,
        payload,
    })
}

fn test(a: &TestArgs) -> Result<u8, String> {
    let event = event_of(a)?;
    let config = match &a.config {
        Some(path) => Config::load(path).map_err(|e| format!("configuration: {e}"))?,
        None => Config::default(),
    };
    let p = &config.recovery;
    let (rule, actions, retry) = p.actions_for(&event);
    let mut text = format!(
        "event {} ({}): {}\n",
        event.kind,
        event.severity,
        match rule {
            Some(i) => format!("rule {i}, {} action(s)", actions.len()),
            None => format!("no rule matches: default actions, {}", actions.len()),
        }
    );
    if a.dry_run {
        for (i, action) in actions.iter().enumerate() {
            text.push_str(&format!("  [{i}] {}\n", describe(action, p)));
        }
        text.push_str(&format!(
            "  retries: {} attempt(s), back-off {} ms doubling to {} ms\n",
            retry.attempts, retry.initial_delay_ms, retry.max_delay_ms
        ));
        write_stdout(&text)?;
        return Ok(EXIT_OK);
    }
    write_stdout(&text)?;
    if config.eventlog.key.symlink_metadata().is_err() {
        write_stdout(&format!(
            "  (warning: {})\n",
            term::clean(&record::not_initialised(&config, 1))
        ))?;
    }
    if actions.iter().any(|x| matches!(x, Action::Callbacks)) {
        write_stdout("  (callbacks: none are registered in the dha program)\n")?;
    }
    let mut all_ok = true;
    let mut lines = String::new();
    record::dispatch_each(&config, vec![event], |_, report| {
        all_ok = report.all_ok();
        if let Some(seq) = report.seq {
            lines.push_str(&format!("  recorded as sequence {seq}\n"));
        }
        for o in &report.outcomes {
            lines.push_str(&outcome_line(o));
        }
        if let Some(e) = &report.log_error {
            lines.push_str(&format!("  event log: {}\n", term::clean(e)));
        }
    });
    write_stdout(&lines)?;
    Ok(if all_ok { EXIT_OK } else { EXIT_FAILED })
}

/// One line per attempt: `  [1] command attempt 2/3: FAILED (12 ms): …`.
fn outcome_line(o: &ActionOutcome) -> String {
    let indent = "  ".repeat(usize::try_from(o.depth).unwrap_or(0).saturating_add(1));
    let result = match &o.error {
        None => "ok".to_owned(),
        Some(e) => format!("FAILED: {}", term::clean(e)),
    };
    let detail = if o.detail.is_empty() {
        String::new()
    } else {
        format!(
            " {}",
            term::clean(&serde_json::to_string(&o.detail).unwrap_or_default())
        )
    };
    format!(
        "{indent}[{}] {} attempt {}: {result} ({} ms){detail}\n",
        o.index,
        o.action,
        o.attempt,
        o.duration.as_millis()
    )
}

/// What an action would do, for `--dry-run`.
fn describe(action: &Action, p: &dha_core::recovery::RecoveryPolicy) -> String {
    match action {
        Action::Callbacks => "callbacks: the integrator's registered callbacks".to_owned(),
        Action::Command { argv, timeout_ms } => format!(
            "command: {} (killed after {} ms)",
            term::clean(&serde_json::to_string(argv).unwrap_or_default()),
            timeout_ms.unwrap_or(p.command_timeout_ms)
        ),
        Action::Rollback => {
            "rollback: mark the booted slot bad, switch to the other good slot".to_owned()
        }
        Action::Restore => "restore: the changed file, from the known-good store".to_owned(),
        Action::Maintenance { reason, path } => format!(
            "maintenance: write the flag {}{}",
            path.as_ref().unwrap_or(&p.maintenance_flag).display(),
            reason
                .as_ref()
                .map(|r| format!(" (reason: {})", term::clean(r)))
                .unwrap_or_default()
        ),
        Action::Escalate { severity } => format!(
            "escalate: raise to {severity}, mark for forwarding, dispatch again (at most {} \
             time(s))",
            p.max_escalation_depth
        ),
        _ => action.name().to_owned(),
    }
}
