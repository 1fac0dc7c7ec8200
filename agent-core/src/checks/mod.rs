//! The checks of the catalogue, one module per area, and the registry that the
//! [`crate::Auditor`] runs.

use crate::audit::CheckFn;

pub mod accounts;
pub mod fs;
pub mod inventory;
pub mod kernel;
pub mod net;
pub mod pam;
pub mod session;
pub mod ssh;
pub mod sudo;
pub mod system;

/// Every implemented check, by id. Order does not matter: reports follow the catalogue.
pub const REGISTRY: &[(&str, CheckFn)] = &[
    ("ACC-01", accounts::acc01_uid_zero),
    ("ACC-02", accounts::acc02_unique_ids),
    ("ACC-03", accounts::acc03_shadowed),
    ("ACC-04", pam::acc04_hashes),
    ("ACC-05", accounts::acc05_aging),
    ("ACC-06", pam::acc06_quality),
    ("ACC-07", pam::acc07_lockout),
    ("ACC-08", pam::acc08_nullok),
    ("ACC-09", accounts::acc09_system_shells),
    ("ACC-10", accounts::acc10_root_password),
    ("ACC-11", sudo::acc11_sudo_su),
    ("ACC-12", session::acc12_umask),
    ("ACC-13", accounts::acc13_file_modes),
    ("ACC-14", accounts::acc14_homes),
    ("ACC-15", ssh::acc15_mfa),
    ("SES-01", session::ses01_graphical_lock),
    ("SES-02", session::ses02_idle_timeouts),
    ("SSH-01", ssh::ssh01_sshd),
    ("KRN-01", kernel::krn01_sysctl),
    ("KRN-02", kernel::krn02_modules),
    ("FS-01", fs::fs01_permissions),
    ("BOOT-01", system::boot01_bootloader),
    ("BOOT-02", system::boot02_verified_boot),
    ("NET-01", net::net01_sockets),
    ("PRC-01", net::prc01_processes),
    ("INT-01", system::int01_integrity),
    ("UPD-01", system::upd01_update_trust),
    ("SBOM-01", inventory::sbom01_inventory),
    ("LOG-01", system::log01_audit_logging),
    ("BAK-01", system::bak01_recovery_slot),
    ("ENC-01", system::enc01_encryption),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_catalogue_check_is_registered_once() {
        for c in crate::catalogue::CATALOGUE {
            let n = super::REGISTRY.iter().filter(|(id, _)| *id == c.id).count();
            assert_eq!(n, 1, "{}", c.id);
        }
    }
}
