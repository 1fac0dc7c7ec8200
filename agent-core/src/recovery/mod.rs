//! Recovery hooks and escalation (issue 5, "Recovery hooks and
//! escalation"): events dispatched by the `[recovery]` policy of dha.toml
//! to ordered actions, with retries, each outcome recorded as an event.

use serde::{Deserialize, Serialize};

/// The `[recovery]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryPolicy {}

impl RecoveryPolicy {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        Ok(())
    }
}
