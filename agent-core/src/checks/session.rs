//! (being written)

use crate::audit::{AuditContext, CheckOutcome};

/// (being written)
pub fn acc12_umask(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn ses01_graphical_lock(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn ses02_idle_timeouts(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}
