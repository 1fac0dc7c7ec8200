//! What only the running system can tell: the types that [`crate::HostProbe`]
//! returns (agent-linux implements it over `/proc`, `/sys` and sysinfo).
//!
//! The checks consult a probe only when the audited root is the live `/`
//! ([`crate::Root::is_live`]); against an image root the live part of a
//! check is "not measurable", never guessed from the image.

use crate::parse::proc_net::Protocol;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A process that holds a socket open (found through `/proc/PID/fd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketOwner {
    /// The process id.
    pub pid: u32,
    /// The short name (`/proc/PID/comm`).
    pub name: String,
    /// The executable (`/proc/PID/exe`), when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
}

/// A socket in the LISTEN state (TCP) or bound and unconnected (UDP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListeningSocket {
    /// tcp, tcp6, udp or udp6.
    pub protocol: Protocol,
    /// The local address (`0.0.0.0` / `::` for every address).
    pub address: IpAddr,
    /// The local port.
    pub port: u16,
    /// The socket's inode (links it to the owners' file descriptors).
    pub inode: u64,
    /// The owner's user id, as /proc/net reports it.
    pub uid: u32,
    /// The processes holding it (empty when none could be found, e.g. a
    /// kernel socket, or a process that exited in between).
    pub owners: Vec<SocketOwner>,
}

/// A running process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// The process id.
    pub pid: u32,
    /// The parent's id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// The short name.
    pub name: String,
    /// The executable's path, when it could be read (kernel threads have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// True when the executable was deleted or replaced after the process
    /// started (`/proc/PID/exe` ends in ` (deleted)`).
    pub exe_deleted: bool,
    /// The real user id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// True for a kernel thread (no executable, no command line).
    pub kernel_thread: bool,
}

/// A mounted filesystem (`/proc/mounts`, fstab(5) format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// The source (device, `tmpfs`, …).
    pub source: String,
    /// Where it is mounted.
    pub target: String,
    /// The filesystem type.
    pub fstype: String,
    /// The mount options, split at commas.
    pub options: Vec<String>,
}

/// A device-mapper device (`/sys/block/dm-N/dm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmDevice {
    /// The kernel name (`dm-0`).
    pub kernel_name: String,
    /// The mapped name (`/sys/block/dm-N/dm/name`).
    pub name: String,
    /// The uuid (`CRYPT-LUKS2-…`, `CRYPT-VERITY-…`, `LVM-…`); empty when unset.
    pub uuid: String,
    /// The kernel names of the block devices directly below it
    /// (`/sys/block/dm-N/slaves/`: `sda3`, `dm-0`, …); empty when unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slaves: Vec<String>,
}

/// The dm uuid prefixes of the mappings that encrypt: cryptsetup names a
/// mapping `CRYPT-<TYPE>-<uuid>-<name>` (lib/libdevmapper.c
/// `dm_prepare_uuid`) with `<TYPE>` one of libcryptsetup.h's `CRYPT_LUKS1`,
/// `CRYPT_LUKS2`, `CRYPT_PLAIN`, `CRYPT_LOOPAES`, `CRYPT_TCRYPT`,
/// `CRYPT_BITLK`, `CRYPT_FVAULT2` (all dm-crypt targets). Not listed, as they
/// do not encrypt: `CRYPT_VERITY` (dm-verity), `CRYPT_INTEGRITY`
/// (standalone dm-integrity) and `CRYPT-SUBDEV-` (the dm-integrity or
/// hw-opal helper device below a LUKS2 mapping).
pub const CRYPT_UUID_PREFIXES: &[&str] = &[
    "CRYPT-LUKS1-",
    "CRYPT-LUKS2-",
    "CRYPT-PLAIN-",
    "CRYPT-LOOPAES-",
    "CRYPT-TCRYPT-",
    "CRYPT-BITLK-",
    "CRYPT-FVAULT2-",
];

impl DmDevice {
    /// True for a mapping that encrypts (dm-crypt under any of the
    /// [`CRYPT_UUID_PREFIXES`]); dm-verity, dm-integrity and cryptsetup's
    /// helper sub-devices are not.
    pub fn is_crypt(&self) -> bool {
        CRYPT_UUID_PREFIXES.iter().any(|p| self.uuid.starts_with(p))
    }

    /// True for a plain dm-crypt mapping (`CRYPT-PLAIN-`), the kind a
    /// random-key (ephemeral) swap or tmp volume uses.
    pub fn is_plain_crypt(&self) -> bool {
        self.uuid.starts_with("CRYPT-PLAIN-")
    }

    /// True for a dm-verity mapping (`CRYPT-VERITY-`, as veritysetup names it).
    pub fn is_verity(&self) -> bool {
        self.uuid.starts_with("CRYPT-VERITY-")
    }
}

/// Space on a mounted filesystem (statvfs(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsUsage {
    /// Size of the filesystem in bytes.
    pub total_bytes: u64,
    /// Bytes available to an unprivileged writer.
    pub available_bytes: u64,
}

impl FsUsage {
    /// The share in use, in per cent (0–100), rounded down; 0 for an empty filesystem.
    pub fn used_percent(&self) -> u8 {
        if self.total_bytes == 0 {
            return 0;
        }
        let used = self.total_bytes.saturating_sub(self.available_bytes);
        let pct = u128::from(used) * 100 / u128::from(self.total_bytes);
        u8::try_from(pct.min(100)).unwrap_or(100)
    }
}

/// What the firewall's ruleset says (from `nft -j list ruleset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleset {
    /// The ruleset as libnftables JSON (libnftables-json(5)).
    pub nft_json: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dm(uuid: &str) -> DmDevice {
        DmDevice {
            kernel_name: "dm-0".into(),
            name: "x".into(),
            uuid: uuid.into(),
            slaves: Vec::new(),
        }
    }

    #[test]
    fn only_encrypting_cryptsetup_types_are_crypt() {
        for t in [
            "LUKS1", "LUKS2", "PLAIN", "LOOPAES", "TCRYPT", "BITLK", "FVAULT2",
        ] {
            let d = dm(&format!("CRYPT-{t}-0123abcd-x"));
            assert!(d.is_crypt() && !d.is_verity(), "{t}");
        }
        for u in [
            "CRYPT-INTEGRITY-0123-x",
            "CRYPT-SUBDEV-0123-x_dif",
            "CRYPT-VERITY-0123-x",
            "CRYPT-",
            "LVM-abc",
            "",
            "crypt-luks2-0123-x",
        ] {
            assert!(!dm(u).is_crypt(), "{u}");
        }
        assert!(dm("CRYPT-VERITY-0123-x").is_verity());
        assert!(dm("CRYPT-PLAIN-x").is_plain_crypt());
        assert!(!dm("CRYPT-LUKS2-x").is_plain_crypt());
    }
}
