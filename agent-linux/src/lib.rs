//! dha on Linux: what only a running Linux system can tell.
//!
//! Implements the traits of `agent-core` over the live system (`/proc`,
//! `/sys`, system calls through `nix`). `unsafe` is allowed here, and every
//! block carries a `// SAFETY:` note.

use dha_core::HostProbe;

/// The live Linux host.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxHost;

impl HostProbe for LinuxHost {
    fn hostname(&self) -> Option<String> {
        nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| !h.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_matches_the_kernel() {
        let k = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(LinuxHost.hostname().as_deref(), Some(k.trim()));
    }
}
