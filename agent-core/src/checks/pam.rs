//! (being written)

use crate::audit::{AuditContext, CheckOutcome};

/// (being written)
pub fn acc04_hashes(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc06_quality(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc07_lockout(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc08_nullok(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}
