//! Parsers of the files the checks read. Each is bounded, never panics, and
//! reports malformed input as a [`crate::Diagnostic`] naming file, line and field.

pub mod accounts;
pub mod apt_sources;
pub mod auditd;
pub mod console;
pub mod crypttab;
pub mod dconf;
pub mod dpkg_status;
pub mod fstab;
pub mod gvariant;
pub mod keyfile;
pub mod logindefs;
pub mod modprobe;
pub mod pam;
pub mod pamconf;
pub mod proc_net;
pub mod session;
pub mod shell;
pub mod sshd;
pub mod sudoers;
pub mod sysctl;
pub mod units;
