//! Recovery hooks and escalation (issue 5, "Recovery hooks and
//! escalation"; the "recovery plan / escalation" principle of DITTA/NEMA
//! CPSP 2; IEC 62443-4-2 CR 3.4 and CR 7.4, recovery to a known secure
//! state): events dispatched by the `[recovery]` policy of dha.toml to
//! ordered actions, with retries, each outcome recorded as an event.
//!
//! # Dispatch
//!
//! [`Dispatcher::dispatch`] takes one [`Event`](crate::events::Event):
//!
//! 1. the event is appended to the event log, and committed when an action
//!    other than `callbacks` follows (durable before it runs: an action
//!    that reboots the device cannot lose it);
//! 2. the first rule of the policy that matches it ([`Rule::matches`]:
//!    kind or class, and a minimum severity) gives the actions, else the
//!    policy's `default_actions` (by default: the callbacks only);
//! 3. the actions run in order; a failed attempt is retried per the rule's
//!    (or the policy's) [`RetryPolicy`], with exponential back-off;
//! 4. after every attempt a `hook.outcome` event is appended (action,
//!    attempt, ok or error, duration in milliseconds, …); outcome events are
//!    never dispatched themselves (no loops), and neither is any `hook.*`
//!    event given to `dispatch` (it is only recorded);
//! 5. the log is committed at the end ([`Dispatcher::dispatch_all`]
//!    commits once for many events).
//!
//! Nothing here panics or returns an error: a failure of an action, or of
//! the log, is in the [`DispatchReport`].
//!
//! # The `command` environment
//!
//! A `command` action runs `argv` (no shell, no `PATH` search) with only
//! these variables, standard input from `/dev/null`, standard output
//! discarded and the end of standard error kept for the outcome:
//!
//! | variable | value |
//! |---|---|
//! | `PATH` | `/usr/sbin:/usr/bin:/sbin:/bin` |
//! | `DHA_EVENT` | the kind's dotted name (`integrity.change`) |
//! | `DHA_CLASS` | its class (`integrity`) |
//! | `DHA_SEVERITY` | `info`, `low`, `medium`, `high` or `critical` |
//! | `DHA_SEQ` | the event's sequence number in the log (empty without a log) |
//! | `DHA_PAYLOAD` | the payload as compact JSON |
//! | `DHA_PATH` | the payload's `path`, when it has one |
//! | `DHA_ATTEMPT` | the attempt, from 1 |
//! | `DHA_ESCALATION` | how many times the event was escalated (0 at first) |
//! | `DHA_RULE` | the index of the matching rule, or `default` |
//!
//! After its time-out the program is killed (SIGKILL).
//!
//! # The maintenance flag
//!
//! A `maintenance` action writes, durably ([`crate::durable::write_atomic`],
//! mode 0644, so a console running as another user can read it), a JSON
//! object: `schema_version` (1), `reason`, `event`, `severity`, `seq`
//! (or null), `set_at` (RFC 3339, UTC) and the event's `payload`. The
//! console enters its safe mode while the file exists; a service engineer
//! removes it. A `hook.maintenance_set` event records it.
//!
//! # Escalation
//!
//! An `escalate` action makes a copy of the event with its severity raised
//! to the action's (never lowered), `forward: true` (for the hospital's
//! collector, issue 7), `escalated_from` (the severity before) and
//! `escalation` (the depth), and dispatches it (recorded, then matched
//! again). An event escalated `max_escalation_depth` times is not
//! escalated again: the action fails.

mod command;
mod dispatch;
pub mod policy;
mod producers;

#[cfg(test)]
mod tests;

pub use dispatch::{
    ActionOutcome, Callback, DispatchReport, Dispatcher, RestoreSource, SeqCallback,
};
pub use policy::{Action, RecoveryPolicy, RetryPolicy, Rule};
pub use producers::{MAX_ACCEPTED_PATHS, event_for_acceptance, events_for_integrity};
