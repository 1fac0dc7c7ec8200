//! (being written)

use crate::audit::{AuditContext, CheckOutcome};

/// (being written)
pub fn acc15_mfa(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn ssh01_sshd(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}
