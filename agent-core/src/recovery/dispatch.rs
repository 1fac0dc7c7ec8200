//! The dispatcher: the policy's actions for each event, with retries, and
//! every outcome recorded (see the [module docs](super)).

mod actions;

use super::command;
use super::policy::{Action, RecoveryPolicy, RetryPolicy};
use crate::boot::{BootControl, BootPolicy};
use crate::events::{Event, EventClass, EventKind, EventLog};
use crate::integrity::{Baseline, KnownGoodStore, fsx::FsExtras};
use crate::{Clock, Severity, SystemClock};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// An integrator's callback; `Err(reason)` is a failed action (retried per
/// policy).
pub type Callback = dyn FnMut(&Event) -> Result<(), String> + Send;

/// Like [`Callback`], also given the event's sequence number in the log
/// (`None` without a log, or when appending failed).
pub type SeqCallback = dyn FnMut(&Event, Option<u64>) -> Result<(), String> + Send;

/// What the `restore` action restores from: the integrity known-good store
/// and the (verified) baseline that names each file's content.
#[derive(Clone, Copy)]
pub struct RestoreSource<'a> {
    /// The known-good store (`[integrity] store`).
    pub store: &'a KnownGoodStore,
    /// The sealed baseline, already verified with its key.
    pub baseline: &'a Baseline,
    /// Reads and writes what `std` cannot (extended attributes).
    pub fsx: &'a dyn FsExtras,
}

/// The outcome of one attempt of one action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// How many times the dispatched event had been escalated (0 for the
    /// event given to [`Dispatcher::dispatch`]).
    pub depth: u32,
    /// The matching rule's index, `None` for the default actions.
    pub rule: Option<usize>,
    /// The action's index in its list.
    pub index: usize,
    /// The action's name (`command`, `restore`, …).
    pub action: &'static str,
    /// The attempt, from 1.
    pub attempt: u32,
    /// `None` when it succeeded, else why it failed.
    pub error: Option<String>,
    /// How long the attempt took.
    pub duration: Duration,
    /// True when no further attempt of this action follows (it succeeded,
    /// its attempts are used up, or its failure cannot be helped by
    /// retrying).
    pub last: bool,
    /// What the action did or was about (slot names, path, callback
    /// index, …), as in the `hook.outcome` event.
    pub detail: Map<String, Value>,
}

impl ActionOutcome {
    /// True when the attempt succeeded.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// What [`Dispatcher::dispatch`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DispatchReport {
    /// The dispatched event's sequence number in the log (`None` without a
    /// log, or when it could not be appended).
    pub seq: Option<u64>,
    /// Every attempt of every action, in order (escalated dispatches
    /// included, their `depth` above 0).
    pub outcomes: Vec<ActionOutcome>,
    /// The first error of the event log (appending or committing), if any:
    /// the actions still ran.
    pub log_error: Option<String>,
}

impl DispatchReport {
    /// True when every action finally succeeded (also when there was none).
    pub fn all_ok(&self) -> bool {
        self.outcomes
            .iter()
            .filter(|o| o.last)
            .all(ActionOutcome::ok)
    }

    fn log_failed(&mut self, e: impl std::fmt::Display) {
        if self.log_error.is_none() {
            self.log_error = Some(e.to_string());
        }
    }
}

/// A failed attempt: why, and whether another attempt could help.
struct Failure {
    message: String,
    retry: bool,
}

impl Failure {
    fn retryable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: true,
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: false,
        }
    }
}

/// One action of a list, as [`Dispatcher`] attempts it.
struct Step {
    /// Its index in the list.
    index: usize,
    /// Its name.
    name: &'static str,
    /// Its retries.
    retry: RetryPolicy,
    /// What every outcome of it carries (a callback's index).
    detail: Map<String, Value>,
}

/// One event being dispatched, and where it sits.
struct Dispatched {
    event: Event,
    seq: Option<u64>,
    depth: u32,
    rule: Option<usize>,
}

/// Runs the recovery policy for events (see the module docs).
pub struct Dispatcher<'a> {
    policy: &'a RecoveryPolicy,
    callbacks: Vec<(u32, Box<SeqCallback>)>,
    log: Option<&'a mut EventLog>,
    boot: Option<(&'a dyn BootControl, BootPolicy)>,
    restore: Option<RestoreSource<'a>>,
    clock: Box<dyn Clock + 'a>,
    sleep: Box<dyn FnMut(Duration) + 'a>,
}

impl<'a> Dispatcher<'a> {
    /// A dispatcher for `policy` with no callbacks, log, boot control or
    /// store (the actions that need one fail without it), the system clock
    /// and [`std::thread::sleep`] for back-off.
    pub fn new(policy: &'a RecoveryPolicy) -> Self {
        Dispatcher {
            policy,
            callbacks: Vec::new(),
            log: None,
            boot: None,
            restore: None,
            clock: Box::new(SystemClock),
            sleep: Box::new(std::thread::sleep),
        }
    }

    /// Calls `cb` for every dispatched event whose class bit is in `mask`
    /// ([`EventClass::bit`]), as the policy's `callbacks` action (see the
    /// policy's defaults). Callbacks are called in registration order.
    pub fn register(&mut self, mask: u32, mut cb: Box<Callback>) {
        self.callbacks.push((mask, Box::new(move |e, _| cb(e))));
    }

    /// [`register`](Self::register) for a callback that also receives the
    /// event's sequence number in the log.
    pub fn register_with_seq(&mut self, mask: u32, cb: Box<SeqCallback>) {
        self.callbacks.push((mask, cb));
    }

    /// Every dispatched event and every action outcome is appended
    /// (durably) to this log.
    pub fn set_log(&mut self, log: &'a mut EventLog) {
        self.log = Some(log);
    }

    /// Needed by the `rollback` action (mark the booted slot bad, switch to
    /// the other).
    pub fn set_boot(&mut self, boot: &'a dyn BootControl, policy: BootPolicy) {
        self.boot = Some((boot, policy));
    }

    /// Needed by the `restore` action (integrity known-good store).
    pub fn set_restore(&mut self, source: RestoreSource<'a>) {
        self.restore = Some(source);
    }

    /// The clock of the maintenance flag's `set_at` (tests move it).
    pub fn set_clock(&mut self, clock: Box<dyn Clock + 'a>) {
        self.clock = clock;
    }

    /// What waits between attempts (tests record the delays instead of
    /// sleeping).
    pub fn set_sleep(&mut self, sleep: Box<dyn FnMut(Duration) + 'a>) {
        self.sleep = sleep;
    }

    /// Runs the policy for `event`; never panics; failures of actions become
    /// `hook.outcome` events and entries of the report, not an `Err`.
    pub fn dispatch(&mut self, event: Event) -> DispatchReport {
        let mut report = DispatchReport::default();
        self.dispatch_at(event, 0, &mut report);
        if let Some(log) = self.log.as_deref_mut() {
            if let Err(e) = log.commit() {
                report.log_failed(e);
            }
        }
        report
    }

    /// [`dispatch`](Self::dispatch) for each event in turn, committing the
    /// log once at the end (a group commit: a check that finds thousands
    /// of changes does not sync the log thousands of times). An event whose
    /// actions can act outside the process (any but `callbacks`) is still
    /// committed before they run. A failed final commit is in every
    /// report's `log_error`.
    pub fn dispatch_all(&mut self, events: Vec<Event>) -> Vec<DispatchReport> {
        let mut reports: Vec<DispatchReport> = events
            .into_iter()
            .map(|event| {
                let mut report = DispatchReport::default();
                self.dispatch_at(event, 0, &mut report);
                report
            })
            .collect();
        if let Some(log) = self.log.as_deref_mut() {
            if let Err(e) = log.commit() {
                let e = e.to_string();
                for r in &mut reports {
                    r.log_failed(&e);
                }
            }
        }
        reports
    }

    fn dispatch_at(&mut self, event: Event, depth: u32, report: &mut DispatchReport) {
        // Durable before an action that acts outside the process runs (a
        // command that reboots the device must not lose the event).
        let (_, actions, _) = self.policy.actions_for(&event);
        let acts_outside = event.kind.class() != EventClass::Hook
            && actions.iter().any(|a| !matches!(a, Action::Callbacks));
        let seq = self.record(&event, report, acts_outside);
        if depth == 0 {
            report.seq = seq;
        }
        if event.kind.class() == EventClass::Hook {
            // Recovery's own events are recorded, never acted on (no loops).
            return;
        }
        let policy = self.policy;
        let (rule, actions, retry) = policy.actions_for(&event);
        let stop_on_failure = rule
            .and_then(|i| policy.rules.get(i))
            .is_some_and(|r| r.stop_on_failure);
        let mut d = Dispatched {
            event,
            seq,
            depth,
            rule,
        };
        for (index, action) in actions.iter().enumerate() {
            let ok = match action {
                Action::Callbacks => self.run_callbacks(&mut d, index, retry, report),
                _ => self.run_with_retries(&mut d, index, action, retry, report),
            };
            if !ok && stop_on_failure {
                break;
            }
        }
    }

    /// Appends `event` to the log; with `commit`, makes it durable at once.
    fn record(&mut self, event: &Event, report: &mut DispatchReport, commit: bool) -> Option<u64> {
        let log = self.log.as_deref_mut()?;
        let seq = match log.append(event) {
            Ok(seq) => seq,
            Err(e) => {
                report.log_failed(e);
                return None;
            }
        };
        if commit {
            if let Err(e) = log.commit() {
                report.log_failed(e);
            }
        }
        Some(seq)
    }

    /// Each matching callback is one action with its own retries; returns
    /// whether all finally succeeded. No callback registered: nothing is
    /// done and nothing recorded.
    fn run_callbacks(
        &mut self,
        d: &mut Dispatched,
        index: usize,
        retry: RetryPolicy,
        report: &mut DispatchReport,
    ) -> bool {
        let bit = d.event.kind.class().bit();
        let mut all_ok = true;
        for i in 0..self.callbacks.len() {
            if self
                .callbacks
                .get(i)
                .is_none_or(|(mask, _)| mask & bit == 0)
            {
                continue;
            }
            let mut detail = Map::new();
            detail.insert("callback".into(), json!(i));
            let step = Step {
                index,
                name: "callbacks",
                retry,
                detail,
            };
            let ok = self.attempts(d, step, report, |me, d, _, _| {
                let Some((_, cb)) = me.callbacks.get_mut(i) else {
                    return Err(Failure::permanent("no such callback"));
                };
                // A panicking callback is a failed action, not a crash.
                let (event, seq) = (&d.event, d.seq);
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(event, seq))) {
                    Ok(Ok(())) => Ok(Map::new()),
                    Ok(Err(reason)) => Err(Failure::retryable(reason)),
                    Err(_) => Err(Failure::retryable("the callback panicked")),
                }
            });
            all_ok &= ok;
        }
        all_ok
    }

    fn run_with_retries(
        &mut self,
        d: &mut Dispatched,
        index: usize,
        action: &'a Action,
        retry: RetryPolicy,
        report: &mut DispatchReport,
    ) -> bool {
        let step = Step {
            index,
            name: action.name(),
            retry,
            detail: Map::new(),
        };
        self.attempts(d, step, report, |me, d, attempt, report| {
            me.run_once(d, action, attempt, report)
        })
    }

    /// Runs `once` up to `retry.attempts` times, recording an outcome after
    /// each attempt and sleeping the back-off between them; returns whether
    /// it finally succeeded.
    fn attempts(
        &mut self,
        d: &mut Dispatched,
        step: Step,
        report: &mut DispatchReport,
        mut once: impl FnMut(
            &mut Self,
            &mut Dispatched,
            u32,
            &mut DispatchReport,
        ) -> Result<Map<String, Value>, Failure>,
    ) -> bool {
        let Step {
            index,
            name,
            retry,
            detail: base,
        } = step;
        let attempts = retry.attempts.max(1);
        let mut attempt = 1u32;
        loop {
            let started = Instant::now();
            let result = once(self, d, attempt, report);
            let duration = started.elapsed();
            let (error, more, extra) = match result {
                Ok(extra) => (None, false, extra),
                Err(f) => (Some(f.message), f.retry && attempt < attempts, Map::new()),
            };
            let mut detail = base.clone();
            detail.extend(extra);
            let outcome = ActionOutcome {
                depth: d.depth,
                rule: d.rule,
                index,
                action: name,
                attempt,
                error,
                duration,
                last: !more,
                detail,
            };
            self.record_outcome(d, &outcome, attempts, report);
            let ok = outcome.ok();
            report.outcomes.push(outcome);
            if !more {
                return ok;
            }
            (self.sleep)(retry.delay_after(attempt));
            attempt = attempt.saturating_add(1);
        }
    }

    /// Appends the `hook.outcome` event of one attempt (not committed: the
    /// dispatch commits at its end).
    fn record_outcome(
        &mut self,
        d: &Dispatched,
        o: &ActionOutcome,
        attempts: u32,
        report: &mut DispatchReport,
    ) {
        if self.log.is_none() {
            return;
        }
        let severity = if o.ok() {
            Severity::Info
        } else {
            d.event.severity
        };
        let mut e = Event::new(EventKind::HookOutcome, severity)
            .with("action", o.action)
            .with("index", o.index)
            .with("rule", o.rule.map_or(Value::Null, |r| json!(r)))
            .with("attempt", o.attempt)
            .with("attempts", attempts)
            .with("ok", o.ok())
            .with(
                "duration_ms",
                u64::try_from(o.duration.as_millis()).unwrap_or(u64::MAX),
            )
            .with("event", d.event.kind.name())
            .with("event_seq", d.seq.map_or(Value::Null, |s| json!(s)))
            .with("escalation", d.depth);
        if let Some(err) = &o.error {
            e = e.with("error", err.as_str());
        }
        for (k, v) in &o.detail {
            e.payload.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.record(&e, report, false);
    }
}
