//! The `[recovery]` section of dha.toml: rules that map events to ordered
//! actions, retries with exponential back-off, and their safe defaults.

use crate::Severity;
use crate::events::{Event, EventClass, EventKind};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The longest command time-out accepted (one day).
const MAX_TIMEOUT_MS: u64 = 24 * 60 * 60 * 1000;
/// The longest back-off delay accepted (one hour).
const MAX_DELAY_MS: u64 = 60 * 60 * 1000;
/// The most attempts of one action accepted.
const MAX_ATTEMPTS: u32 = 100;
/// The deepest escalation accepted.
const MAX_DEPTH: u32 = 10;

/// The `[recovery]` section: what is done when an event happens.
///
/// An event is matched against [`rules`](Self::rules) in order; the first
/// rule that matches gives the actions, run in order. An event that no rule
/// matches gets [`default_actions`](Self::default_actions) (by default
/// only the integrator's callbacks). The defaults are safe: with no rules,
/// every event goes to the registered callbacks and nothing else is done
/// (no command, no rollback, no restore, no flag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryPolicy {
    /// The rules, tried in order; the first match wins. Default: none.
    pub rules: Vec<Rule>,
    /// The actions for an event that no rule matches. Default
    /// `[{ action = "callbacks" }]`.
    pub default_actions: Vec<Action>,
    /// Retries of a failed action, unless a rule gives its own.
    pub retry: RetryPolicy,
    /// How long a `command` action may run before it is killed, in
    /// milliseconds, unless the action gives its own. Default 30000.
    pub command_timeout_ms: u64,
    /// The maintenance (safe-mode) flag file that a `maintenance` action
    /// writes (absolute path), unless the action gives its own. Default
    /// `/var/lib/dha/maintenance`.
    pub maintenance_flag: PathBuf,
    /// How many times an event may be escalated (each `escalate` dispatches
    /// the event again at a higher severity). Default 2; at most 10.
    pub max_escalation_depth: u32,
}

impl Default for RecoveryPolicy {
    fn default() -> Self {
        RecoveryPolicy {
            rules: Vec::new(),
            default_actions: vec![Action::Callbacks],
            retry: RetryPolicy::default(),
            command_timeout_ms: 30_000,
            maintenance_flag: PathBuf::from("/var/lib/dha/maintenance"),
            max_escalation_depth: 2,
        }
    }
}

/// One rule: which events, from which severity, get which actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Event kinds (dotted names: `integrity.change`) or classes
    /// (`integrity`, `update`, `install`, `boot`, `audit`, `eventlog`,
    /// `hook`); empty matches every event.
    #[serde(default)]
    pub events: Vec<String>,
    /// The lowest severity matched. Default `info` (every severity).
    #[serde(default = "lowest")]
    pub min_severity: Severity,
    /// The actions, run in order. Empty: the event is only recorded.
    pub actions: Vec<Action>,
    /// Retries for this rule's actions (else `[recovery.retry]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Stop at the first action that still fails after its retries (the
    /// later actions are not run). Default false: every action runs.
    #[serde(default)]
    pub stop_on_failure: bool,
}

fn lowest() -> Severity {
    Severity::Info
}

/// Retries of a failed action, with exponential back-off: the delay before
/// attempt `n + 1` is `initial_delay_ms * 2^(n - 1)`, capped at
/// `max_delay_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all (the first included), 1 to 100. Default 3.
    pub attempts: u32,
    /// The delay before the second attempt, in milliseconds. Default 1000.
    pub initial_delay_ms: u64,
    /// The longest delay, in milliseconds (at most one hour). Default 30000.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            initial_delay_ms: 1000,
            max_delay_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based) before the next.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1);
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        let ms = self
            .initial_delay_ms
            .saturating_mul(factor)
            .min(self.max_delay_ms);
        Duration::from_millis(ms)
    }

    fn validate(&self, at: &str) -> Result<(), (String, String)> {
        if !(1..=MAX_ATTEMPTS).contains(&self.attempts) {
            return Err((
                format!("{at}.attempts"),
                format!("{} is not between 1 and {MAX_ATTEMPTS}", self.attempts),
            ));
        }
        if self.max_delay_ms > MAX_DELAY_MS {
            return Err((
                format!("{at}.max_delay_ms"),
                format!(
                    "{} is more than one hour ({MAX_DELAY_MS})",
                    self.max_delay_ms
                ),
            ));
        }
        if self.initial_delay_ms > self.max_delay_ms {
            return Err((
                format!("{at}.initial_delay_ms"),
                format!(
                    "{} is more than max_delay_ms ({})",
                    self.initial_delay_ms, self.max_delay_ms
                ),
            ));
        }
        Ok(())
    }
}

/// One recovery action (`{ action = "…", … }` in dha.toml). A key the
/// action does not take is an error (also for the actions without
/// settings: `{ action = "rollback", slot = "A" }` is refused, not run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", try_from = "RawAction")]
#[non_exhaustive]
pub enum Action {
    /// Call the integrator's registered callbacks whose event mask has the
    /// event's class, in registration order (each callback is retried on
    /// its own; one that panics has failed). With none registered for the
    /// class, nothing is done and no outcome recorded.
    Callbacks,
    /// Run a program (no shell, no `PATH` search: `argv[0]` is absolute)
    /// with the documented environment (see [`super::Dispatcher`]).
    Command {
        /// The program and its arguments.
        argv: Vec<String>,
        /// Milliseconds before it is killed (else `command_timeout_ms`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// Mark the booted slot bad and switch to the other good slot (takes
    /// effect at the next boot; the reboot is the integrator's).
    Rollback,
    /// Put back the file named by an `integrity.change` event from the
    /// integrity known-good store, as the sealed baseline records it.
    Restore,
    /// Write the maintenance (safe-mode) flag file for the console.
    Maintenance {
        /// The reason written in the flag (else the event's kind and
        /// severity).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The flag file (else `maintenance_flag`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    /// Raise the event's severity to `severity` (never lower it), mark it
    /// for forwarding to the hospital, and dispatch it again.
    Escalate {
        /// The severity the event is raised to.
        severity: Severity,
    },
}

/// An action as written, before it is checked: every key any action
/// takes (serde's `deny_unknown_fields` does not reach the variants without
/// fields of an internally tagged enum, so the check is made here).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    action: String,
    argv: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    reason: Option<String>,
    path: Option<PathBuf>,
    severity: Option<Severity>,
}

impl TryFrom<RawAction> for Action {
    type Error = String;

    fn try_from(r: RawAction) -> Result<Self, Self::Error> {
        let given = [
            ("argv", r.argv.is_some()),
            ("timeout_ms", r.timeout_ms.is_some()),
            ("reason", r.reason.is_some()),
            ("path", r.path.is_some()),
            ("severity", r.severity.is_some()),
        ];
        let takes: &[&str] = match r.action.as_str() {
            "callbacks" | "rollback" | "restore" => &[],
            "command" => &["argv", "timeout_ms"],
            "maintenance" => &["reason", "path"],
            "escalate" => &["severity"],
            other => {
                return Err(format!(
                    "unknown action {other:?}, expected one of callbacks, command, rollback, \
                     restore, maintenance, escalate"
                ));
            }
        };
        if let Some((key, _)) = given.iter().find(|(k, set)| *set && !takes.contains(k)) {
            return Err(format!("action {:?} does not take `{key}`", r.action));
        }
        let missing = |key: &str| format!("action {:?} needs `{key}`", r.action);
        Ok(match r.action.as_str() {
            "callbacks" => Action::Callbacks,
            "rollback" => Action::Rollback,
            "restore" => Action::Restore,
            "command" => Action::Command {
                argv: r.argv.ok_or_else(|| missing("argv"))?,
                timeout_ms: r.timeout_ms,
            },
            "maintenance" => Action::Maintenance {
                reason: r.reason,
                path: r.path,
            },
            _ => Action::Escalate {
                severity: r.severity.ok_or_else(|| missing("severity"))?,
            },
        })
    }
}

impl Action {
    /// The action's name in dha.toml and in `hook.outcome` events.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Callbacks => "callbacks",
            Action::Command { .. } => "command",
            Action::Rollback => "rollback",
            Action::Restore => "restore",
            Action::Maintenance { .. } => "maintenance",
            Action::Escalate { .. } => "escalate",
        }
    }

    fn validate(&self, at: &str) -> Result<(), (String, String)> {
        match self {
            Action::Command { argv, timeout_ms } => {
                let Some(program) = argv.first() else {
                    return Err((format!("{at}.argv"), "must name a program".to_owned()));
                };
                if !std::path::Path::new(program).is_absolute() {
                    return Err((
                        format!("{at}.argv"),
                        format!("{program:?} is not an absolute path (no PATH search is made)"),
                    ));
                }
                if let Some(t) = timeout_ms {
                    check_timeout(*t, &format!("{at}.timeout_ms"))?;
                }
            }
            Action::Maintenance {
                path: Some(path), ..
            } if !path.is_absolute() => {
                return Err((
                    format!("{at}.path"),
                    format!("{} is not an absolute path", path.display()),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

fn check_timeout(ms: u64, at: &str) -> Result<(), (String, String)> {
    if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
        return Err((
            at.to_owned(),
            format!("{ms} is not between 1 and {MAX_TIMEOUT_MS} (one day)"),
        ));
    }
    Ok(())
}

/// True when `name` is a kind's dotted name or a class's name.
fn known_event_name(name: &str) -> bool {
    EventKind::ALL.iter().any(|k| k.name() == name)
        || EventClass::ALL.iter().any(|c| c.name() == name)
}

impl Rule {
    /// True when the rule applies to `event`.
    pub fn matches(&self, event: &Event) -> bool {
        event.severity >= self.min_severity
            && (self.events.is_empty()
                || self
                    .events
                    .iter()
                    .any(|n| n == event.kind.name() || n == event.kind.class().name()))
    }
}

impl RecoveryPolicy {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.retry.validate("recovery.retry")?;
        check_timeout(self.command_timeout_ms, "recovery.command_timeout_ms")?;
        if !self.maintenance_flag.is_absolute() {
            return Err((
                "recovery.maintenance_flag".to_owned(),
                format!(
                    "{} is not an absolute path",
                    self.maintenance_flag.display()
                ),
            ));
        }
        if self.max_escalation_depth > MAX_DEPTH {
            return Err((
                "recovery.max_escalation_depth".to_owned(),
                format!("{} is more than {MAX_DEPTH}", self.max_escalation_depth),
            ));
        }
        for (i, a) in self.default_actions.iter().enumerate() {
            a.validate(&format!("recovery.default_actions[{i}]"))?;
        }
        for (r, rule) in self.rules.iter().enumerate() {
            let at = format!("recovery.rules[{r}]");
            for (e, name) in rule.events.iter().enumerate() {
                if !known_event_name(name) {
                    return Err((
                        format!("{at}.events[{e}]"),
                        format!(
                            "{name:?} is neither an event kind (integrity.change, …) nor a \
                             class (update, install, boot, integrity, audit, eventlog, hook)"
                        ),
                    ));
                }
            }
            if let Some(retry) = &rule.retry {
                retry.validate(&format!("{at}.retry"))?;
            }
            for (i, a) in rule.actions.iter().enumerate() {
                a.validate(&format!("{at}.actions[{i}]"))?;
            }
        }
        Ok(())
    }

    /// The rule that applies to `event` (its index and the rule), or `None`
    /// when the default actions apply.
    pub fn rule_for(&self, event: &Event) -> Option<(usize, &Rule)> {
        self.rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.matches(event))
    }

    /// The actions for `event` and the retries that apply to them.
    pub fn actions_for(&self, event: &Event) -> (Option<usize>, &[Action], RetryPolicy) {
        match self.rule_for(event) {
            Some((i, r)) => (Some(i), &r.actions, r.retry.unwrap_or(self.retry)),
            None => (None, &self.default_actions, self.retry),
        }
    }
}
