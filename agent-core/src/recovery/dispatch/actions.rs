//! The actions other than `callbacks`: `command`, `rollback`, `restore`,
//! `maintenance` and `escalate` (see the [module docs](super::super)).

use super::{DispatchReport, Dispatched, Dispatcher, Failure, command};
use crate::Severity;
use crate::boot::{self, SlotId};
use crate::events::{Event, EventKind};
use crate::integrity::render;
use crate::recovery::policy::Action;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

impl Dispatcher<'_> {
    /// One attempt of an action other than `callbacks` (an escalation's
    /// dispatch adds its outcomes to `report`).
    pub(super) fn run_once(
        &mut self,
        d: &mut Dispatched,
        action: &Action,
        attempt: u32,
        report: &mut DispatchReport,
    ) -> Result<Map<String, Value>, Failure> {
        match action {
            Action::Callbacks => Ok(Map::new()),
            Action::Command { argv, timeout_ms } => {
                let timeout =
                    Duration::from_millis(timeout_ms.unwrap_or(self.policy.command_timeout_ms));
                let env = command_env(d, attempt);
                command::run(argv, &env, timeout)
                    .map(|()| Map::new())
                    .map_err(|f| {
                        Failure::retryable(format!(
                            "{}: {f}",
                            argv.first().map_or("", String::as_str)
                        ))
                    })
            }
            Action::Rollback => self.rollback(),
            Action::Restore => self.restore(&d.event),
            Action::Maintenance { reason, path } => {
                let path = path.as_deref().unwrap_or(&self.policy.maintenance_flag);
                self.maintenance(d, reason.as_deref(), path)
            }
            Action::Escalate { severity } => self.escalate(d, *severity, report),
        }
    }

    fn rollback(&mut self) -> Result<Map<String, Value>, Failure> {
        let (bc, policy) = self
            .boot
            .ok_or_else(|| Failure::permanent("no boot control configured (set_boot / [boot])"))?;
        let booted = bc.booted().ok_or_else(|| {
            Failure::permanent("the booted slot is not known: nothing to roll back from")
        })?;
        let state = bc.read().map_err(|e| Failure::retryable(e.to_string()))?;
        let order = || {
            state
                .order
                .iter()
                .map(|s| format!("{s}({})", state.tries_left.get(s).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // Only from the slot in charge: when the boot loader would start
        // another slot next (an install switched to it and it never booted,
        // or the running slot is a fall-back not yet confirmed), "the other
        // slot" is untested or has just failed, and marking the running one
        // bad could leave the device with nothing that boots.
        if boot::next_boot(&state).as_ref() != Some(&booted) {
            return Err(Failure::permanent(format!(
                "the running slot {booted} is not the one the boot loader starts next \
                 (boot order and tries: {}): a switch or a fall-back is pending, so no \
                 rollback from {booted}",
                order()
            )));
        }
        // A good slot to go to: in the boot order (mark_bad takes a slot
        // out) with tries left (a slot at 0 has failed its boots).
        let target: SlotId = state
            .order
            .iter()
            .find(|s| **s != booted && state.tries_left.get(*s).copied().unwrap_or(0) > 0)
            .cloned()
            .ok_or_else(|| {
                Failure::permanent(format!(
                    "no other good slot to roll back to from {booted} (boot order and tries: {})",
                    order()
                ))
            })?;
        // Switch first, so that marking the booted slot bad never leaves
        // the device without a bootable slot.
        boot::switch(bc, policy, &target).map_err(|e| Failure::retryable(e.to_string()))?;
        boot::mark_bad(bc, &booted).map_err(|e| Failure::retryable(e.to_string()))?;
        let mut m = Map::new();
        m.insert("from".into(), json!(booted.0));
        m.insert("to".into(), json!(target.0));
        Ok(m)
    }

    fn restore(&mut self, event: &Event) -> Result<Map<String, Value>, Failure> {
        if event.kind != EventKind::IntegrityChange {
            return Err(Failure::permanent(format!(
                "restore needs an integrity.change event, not {}",
                event.kind
            )));
        }
        let text = event
            .payload
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::permanent("the event's payload has no path"))?;
        if event.payload.get("change").and_then(Value::as_str) == Some("added") {
            return Err(Failure::permanent(format!(
                "{text}: nothing to restore: the path is new (the baseline does not record it)"
            )));
        }
        let src = self.restore.ok_or_else(|| {
            Failure::permanent(
                "no known-good store to restore from (the dha program: [integrity] store; Rust: \
                 Dispatcher::set_restore; not available through the C ABI)",
            )
        })?;
        let path = render::unescape_bytes(text)
            .ok_or_else(|| Failure::permanent(format!("{text}: not a valid escaped path")))?;
        let done = src
            .store
            .restore(src.baseline, &path, src.fsx)
            .map_err(|e| match e {
                crate::integrity::IntegrityError::RestoreRefused { .. }
                | crate::integrity::IntegrityError::Store { .. } => {
                    Failure::permanent(e.to_string())
                }
                other => Failure::retryable(other.to_string()),
            })?;
        let mut m = Map::new();
        m.insert("path".into(), json!(text));
        m.insert("bytes".into(), json!(done.bytes));
        m.insert("sha256".into(), json!(render::hex(&done.sha256)));
        Ok(m)
    }

    fn maintenance(
        &mut self,
        d: &Dispatched,
        reason: Option<&str>,
        path: &Path,
    ) -> Result<Map<String, Value>, Failure> {
        let reason = reason.map_or_else(
            || format!("{} ({})", d.event.kind, d.event.severity),
            str::to_owned,
        );
        let flag = json!({
            "schema_version": 1,
            "reason": reason,
            "event": d.event.kind.name(),
            "severity": d.event.severity.as_str(),
            "seq": d.seq,
            "set_at": crate::clock::rfc3339(self.clock.now()),
            "payload": d.event.payload,
        });
        let mut text = serde_json::to_string_pretty(&flag)
            .map_err(|e| Failure::permanent(format!("cannot encode the flag: {e}")))?;
        text.push('\n');
        crate::durable::write_atomic(path, text.as_bytes(), Some(0o644))
            .map_err(|e| Failure::retryable(format!("{}: {e}", path.display())))?;
        let set = Event::new(EventKind::MaintenanceFlagSet, d.event.severity)
            .with("path", path.display().to_string())
            .with("reason", reason.as_str())
            .with("event", d.event.kind.name())
            .with("event_seq", d.seq.map_or(Value::Null, |s| json!(s)));
        let mut scratch = DispatchReport::default();
        self.record(&set, &mut scratch, false);
        let mut m = Map::new();
        m.insert("path".into(), json!(path.display().to_string()));
        m.insert("reason".into(), json!(reason));
        Ok(m)
    }

    fn escalate(
        &mut self,
        d: &Dispatched,
        to: Severity,
        report: &mut DispatchReport,
    ) -> Result<Map<String, Value>, Failure> {
        let max = self.policy.max_escalation_depth;
        if d.depth >= max {
            return Err(Failure::permanent(format!(
                "not escalated: the escalation limit ({max}) is reached"
            )));
        }
        let depth = d.depth.saturating_add(1);
        let severity = d.event.severity.max(to);
        let mut event = d.event.clone().with("forward", true);
        event
            .payload
            .insert("escalated_from".into(), json!(d.event.severity.as_str()));
        event.payload.insert("escalation".into(), json!(depth));
        if let Some(seq) = d.seq {
            event.payload.insert("original_seq".into(), json!(seq));
        }
        event.severity = severity;
        // The escalated event's own outcomes come first in the report, as
        // they happen before this action ends.
        self.dispatch_at(event, depth, report);
        let mut m = Map::new();
        m.insert("severity".into(), json!(severity.as_str()));
        m.insert("forward".into(), json!(true));
        Ok(m)
    }
}

/// The environment of a `command` action (module docs).
fn command_env(d: &Dispatched, attempt: u32) -> BTreeMap<&'static str, String> {
    let mut env = BTreeMap::new();
    env.insert("PATH", command::SAFE_PATH.to_owned());
    env.insert("DHA_EVENT", d.event.kind.name().to_owned());
    env.insert("DHA_CLASS", d.event.kind.class().name().to_owned());
    env.insert("DHA_SEVERITY", d.event.severity.as_str().to_owned());
    env.insert("DHA_SEQ", d.seq.map(|s| s.to_string()).unwrap_or_default());
    env.insert(
        "DHA_PAYLOAD",
        serde_json::to_string(&d.event.payload).unwrap_or_else(|_| "{}".to_owned()),
    );
    if let Some(p) = d.event.payload.get("path").and_then(Value::as_str) {
        env.insert("DHA_PATH", p.to_owned());
    }
    env.insert("DHA_ATTEMPT", attempt.to_string());
    env.insert("DHA_ESCALATION", d.depth.to_string());
    env.insert(
        "DHA_RULE",
        d.rule
            .map_or_else(|| "default".to_owned(), |r| r.to_string()),
    );
    env
}
