//! (being written)

use crate::audit::{AuditContext, CheckOutcome};

/// (being written)
pub fn acc11_sudo_su(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}
