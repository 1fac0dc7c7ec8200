//! The device's allow-lists (`[allow]`): what it is expected to run, expose
//! and carry with SUID/SGID bits. Anything outside them is a finding (NET-01,
//! PRC-01, FS-01).

use serde::{Deserialize, Serialize};

/// One process the device is expected to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedProcess {
    /// The absolute path of the executable.
    pub exe: String,
    /// Its SHA-256 (lower-case hex), when the binary itself is pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// One listening socket the device is expected to expose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedPort {
    /// `tcp` or `udp` (either IP version).
    pub protocol: String,
    /// The local address; absent: any address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The port.
    pub port: u16,
    /// The owning executable; absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
}

/// The files a standard Debian 12 system carries with the SUID or SGID bit
/// (the base system, the "standard" task, OpenSSH, sudo, D-Bus and polkit,
/// as `find / -xdev -perm /6000 -type f` lists them on a fresh install):
/// the default of `[allow] suid`. A device that needs fewer should list
/// fewer: every one is a program that runs with another user's rights.
pub const DEBIAN_SUID_SGID: &[&str] = &[
    "/usr/bin/chage",
    "/usr/bin/chfn",
    "/usr/bin/chsh",
    "/usr/bin/crontab",
    "/usr/bin/dotlockfile",
    "/usr/bin/expiry",
    "/usr/bin/gpasswd",
    "/usr/bin/mount",
    "/usr/bin/newgrp",
    "/usr/bin/passwd",
    "/usr/bin/ssh-agent",
    "/usr/bin/su",
    "/usr/bin/sudo",
    "/usr/bin/umount",
    "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",
    "/usr/lib/openssh/ssh-keysign",
    "/usr/lib/polkit-1/polkit-agent-helper-1",
    "/usr/lib/x86_64-linux-gnu/utempter/utempter",
    "/usr/lib/aarch64-linux-gnu/utempter/utempter",
    "/usr/sbin/exim4",
    "/usr/sbin/unix_chkpwd",
];

impl Default for AllowPolicy {
    fn default() -> Self {
        AllowPolicy {
            processes: Vec::new(),
            ports: Vec::new(),
            suid: DEBIAN_SUID_SGID.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// `[allow]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AllowPolicy {
    /// Processes expected to run (PRC-01). Empty: no allow-list; only
    /// unexpected executables (deleted, temporary, world-writable) are findings.
    pub processes: Vec<AllowedProcess>,
    /// Listening sockets expected (NET-01).
    pub ports: Vec<AllowedPort>,
    /// Files allowed to carry the SUID or SGID bit (FS-01), absolute paths.
    /// Default: [`DEBIAN_SUID_SGID`].
    pub suid: Vec<String>,
}

impl AllowPolicy {
    /// Checks the section; the error is `(dotted key, why)`. Protocols are
    /// `tcp` or `udp`; addresses are IP addresses; executables are
    /// absolute paths; a pinned hash is 64 hexadecimal digits (SHA-256).
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, p) in self.ports.iter().enumerate() {
            let key = |k: &str| format!("allow.ports[{i}].{k}");
            if !matches!(p.protocol.as_str(), "tcp" | "udp") {
                return Err((
                    key("protocol"),
                    format!("{:?} is not \"tcp\" or \"udp\"", p.protocol),
                ));
            }
            if let Some(a) = &p.address {
                if a.parse::<std::net::IpAddr>().is_err() {
                    return Err((key("address"), format!("{a:?} is not an IP address")));
                }
            }
            if let Some(e) = &p.exe {
                if !e.starts_with('/') {
                    return Err((key("exe"), format!("{e:?} is not an absolute path")));
                }
            }
        }
        for (i, p) in self.processes.iter().enumerate() {
            let key = |k: &str| format!("allow.processes[{i}].{k}");
            if !p.exe.starts_with('/') {
                return Err((key("exe"), format!("{:?} is not an absolute path", p.exe)));
            }
            if let Some(h) = &p.sha256 {
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err((
                        key("sha256"),
                        "is not a SHA-256 (64 hexadecimal digits)".to_owned(),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entries_are_named_by_their_key() {
        let bad = |toml_text: &str| {
            let p: AllowPolicy = toml::from_str(toml_text).unwrap();
            p.validate().unwrap_err().0
        };
        assert_eq!(
            bad("[[ports]]\nprotocol = \"sctp\"\nport = 1"),
            "allow.ports[0].protocol"
        );
        assert_eq!(
            bad("[[ports]]\nprotocol = \"tcp\"\nport = 1\naddress = \"localhost\""),
            "allow.ports[0].address"
        );
        assert_eq!(
            bad("[[ports]]\nprotocol = \"tcp\"\nport = 1\nexe = \"sshd\""),
            "allow.ports[0].exe"
        );
        assert_eq!(
            bad("[[processes]]\nexe = \"bin/x\""),
            "allow.processes[0].exe"
        );
        assert_eq!(
            bad("[[processes]]\nexe = \"/bin/x\"\nsha256 = \"abc\""),
            "allow.processes[0].sha256"
        );
        let good: AllowPolicy = toml::from_str(
            "[[ports]]\nprotocol = \"udp\"\nport = 53\naddress = \"::1\"\n\
             [[processes]]\nexe = \"/usr/sbin/sshd\"\nsha256 = \"%\"\n"
                .replace('%', &"a".repeat(64))
                .as_str(),
        )
        .unwrap();
        assert_eq!(good.validate(), Ok(()));
    }
}
