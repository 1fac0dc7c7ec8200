//! (being written)

use crate::audit::{AuditContext, CheckOutcome};

/// (being written)
pub fn acc01_uid_zero(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc02_unique_ids(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc03_shadowed(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc05_aging(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc09_system_shells(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc10_root_password(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc13_file_modes(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}

/// (being written)
pub fn acc14_homes(_ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::NotApplicable("not implemented yet".to_owned())
}
