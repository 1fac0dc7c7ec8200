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
}

impl DmDevice {
    /// True for a dm-crypt mapping (LUKS or plain), judged by the uuid prefix
    /// cryptsetup gives it (`CRYPT-LUKS1-`, `CRYPT-LUKS2-`, `CRYPT-PLAIN-`, …),
    /// excluding dm-verity (`CRYPT-VERITY-`).
    pub fn is_crypt(&self) -> bool {
        self.uuid.starts_with("CRYPT-") && !self.is_verity()
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
