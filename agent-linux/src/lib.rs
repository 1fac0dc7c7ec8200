//! dha on Linux: what only a running Linux system can tell.
//!
//! Implements the traits of `agent-core` over the live system (`/proc`,
//! `/sys`, system calls through `nix`). `unsafe` is allowed here, and every
//! block carries a `// SAFETY:` note.

use dha_core::HostProbe;

pub mod boot;
mod clock;
pub mod fsx;
pub mod live;
pub mod watch;

pub use clock::{BootTimeMonotonic, system_stamps};
pub use fsx::LinuxFsExtras;

/// The live Linux host.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxHost;

impl LinuxHost {
    /// The effective user id of this process.
    pub fn effective_uid(&self) -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    /// True when this process can read what only root may read (`/etc/shadow`
    /// is mode 0640 root:shadow or stricter, `/etc/sudoers` 0440 root:root):
    /// an audit of the live `/` by anyone else is incomplete, and says so.
    ///
    /// Judged by the effective UID alone, as the kernel's DAC checks are
    /// (credentials(7)); a process holding only `CAP_DAC_READ_SEARCH` is
    /// reported as unprivileged, which errs on the side of warning.
    pub fn is_privileged(&self) -> bool {
        nix::unistd::geteuid().is_root()
    }
}

impl HostProbe for LinuxHost {
    fn hostname(&self) -> Option<String> {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| !h.is_empty())
    }

    fn sysctl(&self, dotted: &str) -> Option<String> {
        live::kernel::sysctl(dotted)
    }

    fn loaded_modules(&self) -> Option<Vec<String>> {
        live::kernel::loaded_modules()
    }

    fn mounts(&self) -> Option<Vec<dha_core::live::Mount>> {
        live::kernel::mounts()
    }

    fn kernel_cmdline(&self) -> Option<String> {
        live::boot::kernel_cmdline()
    }

    fn secure_boot(&self) -> Option<bool> {
        live::boot::secure_boot()
    }

    fn ima_measurements(&self) -> Option<u64> {
        live::boot::ima_measurements()
    }

    fn evm_mode(&self) -> Option<u32> {
        live::boot::evm_mode()
    }

    fn dm_devices(&self) -> Option<Vec<dha_core::live::DmDevice>> {
        live::boot::dm_devices()
    }

    fn listening_sockets(&self) -> Option<Vec<dha_core::live::ListeningSocket>> {
        live::net::listening_sockets()
    }

    fn processes(&self) -> Option<Vec<dha_core::live::ProcessInfo>> {
        live::net::processes()
    }

    fn executable_sha256(&self, pid: u32) -> Option<String> {
        live::net::executable_sha256(pid)
    }

    fn firewall(&self) -> Option<Result<dha_core::live::FirewallRuleset, String>> {
        live::net::firewall()
    }

    fn fs_usage(&self, path: &std::path::Path) -> Option<dha_core::live::FsUsage> {
        live::net::fs_usage(path)
    }
}

/// The Rust example of the repository's README, compiled as a doctest so
/// that it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_matches_the_kernel() {
        let k = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(LinuxHost.hostname().as_deref(), Some(k.trim()));
    }

    #[test]
    fn effective_uid_matches_proc_status() {
        // /proc/self/status: "Uid:\treal\teffective\tsaved\tfs" (proc(5)).
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        let euid: u32 = uid_line.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert_eq!(LinuxHost.effective_uid(), euid);
        assert_eq!(LinuxHost.is_privileged(), euid == 0);
    }
}
