//! Events from the results of other areas: an integrity check's changes
//! and an acceptance into the baseline.

use crate::Severity;
use crate::events::{Event, EventKind};
use crate::integrity::IntegrityReport;

/// The events of an integrity check: one `integrity.change` per change,
/// with the severity of the rule that governs the path, and the payload
/// `path` (escaped as reports escape paths), `change` (`added`, `removed`,
/// `type_changed`, `modified`), `attrs` (the attributes that differ),
/// `old_type`/`new_type` for a type change, and `baseline`.
pub fn events_for_integrity(report: &IntegrityReport) -> Vec<Event> {
    report
        .changes
        .iter()
        .map(|c| {
            let mut e = Event::new(EventKind::IntegrityChange, c.severity)
                .with("path", c.path_text())
                .with("change", c.kind_name())
                .with(
                    "attrs",
                    c.attrs
                        .iter()
                        .map(|a| match &a.name {
                            Some(n) => format!("{} {n}", a.attr.name()),
                            None => a.attr.name().to_owned(),
                        })
                        .collect::<Vec<_>>(),
                )
                .with("baseline", report.baseline.path.as_str());
            if let crate::integrity::ChangeKind::TypeChanged { old, new } = c.kind {
                e = e.with("old_type", old.name()).with("new_type", new.name());
            }
            e
        })
        .collect()
}

/// The most paths an `integrity.accepted` event lists (the payload of a
/// record is bounded; `count` gives the total).
pub const MAX_ACCEPTED_PATHS: usize = 100;

/// The event of an acceptance into the integrity baseline
/// (`integrity.accepted`, severity info): `accepted_by`, `at`, `count`,
/// `left`, and the first [`MAX_ACCEPTED_PATHS`] `paths`.
pub fn event_for_acceptance(a: &crate::integrity::ops::Acceptance) -> Event {
    Event::new(EventKind::IntegrityAccepted, Severity::Info)
        .with("accepted_by", a.accepted_by.as_str())
        .with("at", a.at.as_str())
        .with("count", a.accepted.len())
        .with("left", a.left)
        .with(
            "paths",
            a.accepted
                .iter()
                .take(MAX_ACCEPTED_PATHS)
                .map(|c| c.path_text())
                .collect::<Vec<_>>(),
        )
}
