//! The check catalogue (../shared/CHECKS.md): stable ids and the standards each answers.
//!
//! Ids never change meaning; a retired id is never reused.

use crate::finding::{References, Severity};

/// The static description of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// Stable id, e.g. `ACC-01`.
    pub id: &'static str,
    /// The area (`user-management`, …).
    pub area: &'static str,
    /// What the check verifies, in one line.
    pub title: &'static str,
    /// The files (under the audited root) or kernel state it reads.
    pub reads: &'static [&'static str],
    /// True when it can run against an extracted image; false when it needs the live system.
    pub offline: bool,
    /// The severity of its findings unless a finding or the configuration says otherwise.
    pub default_severity: Severity,
    /// CISOfy Lynis 3.x test ids.
    pub lynis: &'static [&'static str],
    /// ComplianceAsCode / SSG rule ids.
    pub ssg: &'static [&'static str],
    /// IEC 62443-4-2 component requirements.
    pub iec62443: &'static [&'static str],
    /// MDS2 (2019) sections.
    pub mds2: &'static [&'static str],
}

impl CheckInfo {
    /// The references as owned values, for a finding.
    pub fn references(&self) -> References {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        References {
            iec62443: own(self.iec62443),
            mds2: own(self.mds2),
            ssg: own(self.ssg),
            lynis: own(self.lynis),
        }
    }
}

const UM: &str = "user-management";

/// Every check dha knows, in catalogue order.
pub const CATALOGUE: &[CheckInfo] = &[
    CheckInfo {
        id: "ACC-01",
        area: UM,
        title: "only root has UID 0; root's primary GID is 0",
        reads: &["/etc/passwd"],
        offline: true,
        default_severity: Severity::Critical,
        lynis: &["AUTH-9204"],
        ssg: &["accounts_no_uid_except_zero", "accounts_root_gid_zero"],
        iec62443: &["CR 1.3", "CR 2.1"],
        mds2: &["AUTH"],
    },
    CheckInfo {
        id: "ACC-02",
        area: UM,
        title: "unique UIDs, GIDs, user and group names; every primary GID exists",
        reads: &["/etc/passwd", "/etc/group"],
        offline: true,
        default_severity: Severity::High,
        lynis: &["AUTH-9208", "AUTH-9222", "AUTH-9226"],
        ssg: &[
            "account_unique_id",
            "account_unique_name",
            "group_unique_id",
            "group_unique_name",
            "gid_passwd_group_same",
        ],
        iec62443: &["CR 1.1 RE1", "CR 1.4"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "ACC-03",
        area: UM,
        title: "passwords shadowed; no empty password field",
        reads: &["/etc/passwd", "/etc/shadow"],
        offline: true,
        default_severity: Severity::Critical,
        lynis: &["AUTH-9283"],
        ssg: &[
            "accounts_password_all_shadowed",
            "no_empty_passwords_etc_shadow",
        ],
        iec62443: &["CR 1.5"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "ACC-04",
        area: UM,
        title: "strong password hashes stored and configured",
        reads: &["/etc/shadow", "/etc/login.defs", "/etc/pam.d"],
        offline: true,
        default_severity: Severity::High,
        lynis: &["AUTH-9229", "AUTH-9230"],
        ssg: &[
            "set_password_hashing_algorithm_logindefs",
            "set_password_hashing_algorithm_systemauth",
        ],
        iec62443: &["CR 1.5"],
        mds2: &["PAUT", "STCF"],
    },
    CheckInfo {
        id: "ACC-05",
        area: UM,
        title: "password aging: maximum, minimum and warning days, inactivity lock, no change date in the future",
        reads: &["/etc/login.defs", "/etc/default/useradd", "/etc/shadow"],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &["AUTH-9282", "AUTH-9286", "AUTH-9288"],
        ssg: &[
            "accounts_maximum_age_login_defs",
            "accounts_minimum_age_login_defs",
            "accounts_password_warn_age_login_defs",
            "account_disable_post_pw_expiration",
            "accounts_password_last_change_is_in_past",
            "accounts_password_set_max_life_existing",
            "accounts_set_post_pw_existing",
        ],
        iec62443: &["CR 1.7 RE1"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "ACC-06",
        area: UM,
        title: "password quality: minimum length, classes, dictionary check, enforced for root, history",
        reads: &[
            "/etc/pam.d",
            "/etc/security/pwquality.conf",
            "/etc/security/pwquality.conf.d",
        ],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &["AUTH-9262"],
        ssg: &[
            "accounts_password_pam_pwquality_enabled",
            "accounts_password_pam_minlen",
            "accounts_password_pam_minclass",
            "accounts_password_pam_dictcheck",
            "accounts_password_pam_enforce_root",
            "accounts_password_pam_pwhistory_remember",
        ],
        iec62443: &["CR 1.7"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "ACC-07",
        area: UM,
        title: "lock-out after failed logins; failures logged",
        reads: &[
            "/etc/pam.d/common-auth",
            "/etc/security/faillock.conf",
            "/etc/login.defs",
        ],
        offline: true,
        default_severity: Severity::High,
        lynis: &["AUTH-9408"],
        ssg: &[
            "accounts_passwords_pam_faillock_deny",
            "accounts_passwords_pam_faillock_unlock_time",
        ],
        iec62443: &["CR 1.11"],
        mds2: &["PAUT", "AUDT"],
    },
    CheckInfo {
        id: "ACC-08",
        area: UM,
        title: "no nullok in the PAM stack",
        reads: &["/etc/pam.d"],
        offline: true,
        default_severity: Severity::High,
        lynis: &[],
        ssg: &["no_empty_passwords"],
        iec62443: &["CR 1.1"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "ACC-09",
        area: UM,
        title: "system accounts have no login shell or are locked; shells are listed in /etc/shells",
        reads: &[
            "/etc/passwd",
            "/etc/shadow",
            "/etc/shells",
            "/etc/login.defs",
        ],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &["AUTH-9284", "SHLL-6211"],
        ssg: &[
            "no_shelllogin_for_systemaccounts",
            "no_invalid_shell_accounts_unlocked",
        ],
        iec62443: &["CR 1.3", "CR 7.7"],
        mds2: &["SAHD"],
    },
    CheckInfo {
        id: "ACC-10",
        area: UM,
        title: "root has a password or is locked deliberately; rescue and emergency targets ask for it",
        reads: &[
            "/etc/shadow",
            "/usr/lib/systemd/system/rescue.service",
            "/usr/lib/systemd/system/emergency.service",
            "/etc/systemd/system",
        ],
        offline: true,
        default_severity: Severity::High,
        lynis: &["AUTH-9308", "BOOT-5260"],
        ssg: &[
            "ensure_root_password_configured",
            "require_singleuser_auth",
            "require_emergency_target_auth",
        ],
        iec62443: &["CR 1.1"],
        mds2: &["EMRG"],
    },
    CheckInfo {
        id: "ACC-11",
        area: UM,
        title: "sudo: no NOPASSWD or !authenticate; sudoers root-owned 0440; use_pty; logfile; su limited to a group; shadow group empty",
        reads: &[
            "/etc/sudoers",
            "/etc/sudoers.d",
            "/etc/pam.d/su",
            "/etc/group",
        ],
        offline: true,
        default_severity: Severity::High,
        lynis: &["AUTH-9250", "AUTH-9252"],
        ssg: &[
            "sudo_remove_nopasswd",
            "sudo_remove_no_authenticate",
            "sudo_add_use_pty",
            "sudo_custom_logfile",
            "use_pam_wheel_group_for_su",
            "ensure_shadow_group_empty",
        ],
        iec62443: &["CR 2.1 RE2"],
        mds2: &["AUTH"],
    },
    CheckInfo {
        id: "ACC-12",
        area: UM,
        title: "default umask 027 or stricter",
        reads: &[
            "/etc/login.defs",
            "/etc/profile",
            "/etc/profile.d",
            "/etc/bash.bashrc",
            "/etc/pam.d",
        ],
        offline: true,
        default_severity: Severity::Low,
        lynis: &["AUTH-9328", "SHLL-6230"],
        ssg: &[
            "accounts_umask_etc_login_defs",
            "accounts_umask_etc_profile",
            "accounts_umask_etc_bashrc",
        ],
        iec62443: &["CR 2.1"],
        mds2: &["SAHD"],
    },
    CheckInfo {
        id: "ACC-13",
        area: UM,
        title: "mode and owner of passwd, shadow, group, gshadow and their backups",
        reads: &[
            "/etc/passwd",
            "/etc/shadow",
            "/etc/group",
            "/etc/gshadow",
            "/etc/passwd-",
            "/etc/shadow-",
            "/etc/group-",
            "/etc/gshadow-",
        ],
        offline: true,
        default_severity: Severity::High,
        lynis: &["FILE-7524"],
        ssg: &[
            "file_permissions_etc_passwd",
            "file_owner_etc_passwd",
            "file_permissions_etc_shadow",
            "file_owner_etc_shadow",
            "file_permissions_etc_group",
            "file_owner_etc_group",
            "file_permissions_etc_gshadow",
            "file_owner_etc_gshadow",
            "file_groupowner_etc_passwd",
            "file_groupowner_etc_group",
            "file_groupowner_etc_shadow",
            "file_groupowner_etc_gshadow",
            "file_permissions_backup_etc_passwd",
            "file_owner_backup_etc_passwd",
            "file_groupowner_backup_etc_passwd",
            "file_permissions_backup_etc_group",
            "file_owner_backup_etc_group",
            "file_groupowner_backup_etc_group",
            "file_permissions_backup_etc_shadow",
            "file_owner_backup_etc_shadow",
            "file_groupowner_backup_etc_shadow",
            "file_permissions_backup_etc_gshadow",
            "file_owner_backup_etc_gshadow",
            "file_groupowner_backup_etc_gshadow",
        ],
        iec62443: &["CR 2.1", "CR 3.4"],
        mds2: &["SAHD"],
    },
    CheckInfo {
        id: "ACC-14",
        area: UM,
        title: "home directories exist, belong to their user, mode 0750 or stricter; no .netrc or .rhosts",
        reads: &["/etc/passwd", "home directories"],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &["HOME-9302", "HOME-9304", "HOME-9306"],
        ssg: &[
            "accounts_user_interactive_home_directory_exists",
            "file_permissions_home_directories",
            "no_netrc_files",
            "no_rsh_trust_files",
            "file_ownership_home_directories",
            "no_host_based_files",
            "no_user_host_based_files",
        ],
        iec62443: &["CR 2.1"],
        mds2: &["SAHD"],
    },
    CheckInfo {
        id: "ACC-15",
        area: UM,
        title: "multi-factor or device-bound login available",
        reads: &["/etc/pam.d", "/etc/ssh/sshd_config"],
        offline: true,
        default_severity: Severity::Low,
        lynis: &[],
        ssg: &[],
        iec62443: &["CR 1.1 RE2"],
        mds2: &["PAUT"],
    },
    CheckInfo {
        id: "SES-01",
        area: UM,
        title: "graphical session lock: idle delay, lock enabled and locked down; no user list; no autologin",
        reads: &[
            "/etc/dconf/db",
            "/etc/gdm3/custom.conf",
            "/etc/gdm/custom.conf",
            "/etc/lightdm/lightdm.conf",
            "/etc/systemd/system/getty@*.service.d",
        ],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &[],
        ssg: &[
            "dconf_gnome_screensaver_idle_delay",
            "dconf_gnome_screensaver_lock_enabled",
            "dconf_gnome_disable_user_list",
            "dconf_gnome_screensaver_lock_delay",
            "dconf_gnome_screensaver_lock_locked",
            "dconf_gnome_screensaver_user_locks",
            "dconf_gnome_session_idle_user_locks",
            "gnome_gdm_disable_automatic_login",
            "gnome_gdm_disable_guest_login",
            "gnome_gdm_disable_xdmcp",
        ],
        iec62443: &["CR 2.5"],
        mds2: &["ALOF"],
    },
    CheckInfo {
        id: "SES-02",
        area: UM,
        title: "shell, logind and SSH idle time-outs",
        reads: &[
            "/etc/profile",
            "/etc/profile.d",
            "/etc/bash.bashrc",
            "/etc/systemd/logind.conf",
            "/etc/ssh/sshd_config",
        ],
        offline: true,
        default_severity: Severity::Medium,
        lynis: &["SHLL-6220"],
        ssg: &[
            "accounts_tmout",
            "logind_session_timeout",
            "sshd_set_idle_timeout",
            "sshd_set_keepalive",
        ],
        iec62443: &["CR 2.5", "CR 2.6"],
        mds2: &["ALOF"],
    },
    CheckInfo {
        id: "SSH-01",
        area: UM,
        title: "effective sshd settings: root login, empty passwords, MaxAuthTries, password authentication, forwarding, LogLevel, AllowUsers/Groups, ciphers, MACs, key exchange",
        reads: &["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d"],
        offline: true,
        default_severity: Severity::High,
        lynis: &["SSH-7408", "SSH-7440"],
        ssg: &[
            "sshd_disable_root_login",
            "sshd_disable_empty_passwords",
            "sshd_set_max_auth_tries",
            "sshd_limit_user_access",
            "sshd_use_strong_ciphers",
            "sshd_use_strong_macs",
            "sshd_use_strong_kex",
            "sshd_disable_x11_forwarding",
            "sshd_disable_tcp_forwarding",
            "sshd_set_loglevel_verbose",
            "sshd_disable_rhosts",
            "sshd_do_not_permit_user_env",
            "sshd_enable_strictmodes",
            "disable_host_auth",
        ],
        iec62443: &["CR 1.1", "CR 1.11", "CR 2.6", "CR 4.3"],
        mds2: &["RMOT", "NAUT", "TXCF"],
    },
];

/// Looks a check up by id (case-sensitive, as ids are written in CHECKS.md).
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CATALOGUE.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in CATALOGUE {
            assert!(seen.insert(c.id), "duplicate {}", c.id);
            let (area, num) = c.id.split_once('-').unwrap();
            assert!(area.chars().all(|ch| ch.is_ascii_uppercase()));
            assert_eq!(num.len(), 2);
            assert!(
                !c.iec62443.is_empty() && !c.mds2.is_empty(),
                "{} lacks references",
                c.id
            );
        }
        assert!(lookup("ACC-01").is_some());
        assert!(lookup("acc-01").is_none());
    }
}
