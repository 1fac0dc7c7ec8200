//! NET-01, sockets: each listening socket against `[allow].ports`.
//!
//! A port entry matches a socket when its protocol (`tcp` or `udp`, either
//! IP version), its port, its address (when given; an IPv4-mapped IPv6
//! address `::ffff:a.b.c.d` equals `a.b.c.d`) and its executable (when
//! given: every owning process runs it, and there is at least one) match.
//! With no entry at all, a socket on loopback only is inventory (info), one
//! on any other address is "not on the allow-list (none configured)".

use crate::allow::AllowedPort;
use crate::live::{ListeningSocket, SocketOwner};
use std::net::{IpAddr, SocketAddr};

/// The most owners named in one finding or event (the rest are counted).
pub(crate) const MAX_OWNERS_SHOWN: usize = 8;

/// How a listening socket stands against the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketVerdict {
    /// An `[allow].ports` entry matches it.
    Allowed,
    /// No allow-list, and the socket is on loopback only: inventory.
    LoopbackInventory,
    /// Not on the allow-list; `none_configured` when the list is empty.
    Unexpected {
        /// `[allow].ports` is empty.
        none_configured: bool,
    },
}

/// Judges one socket (see the module documentation).
pub(crate) fn judge(s: &ListeningSocket, ports: &[AllowedPort]) -> SocketVerdict {
    if ports.is_empty() {
        return if canonical(s.address).is_loopback() {
            SocketVerdict::LoopbackInventory
        } else {
            SocketVerdict::Unexpected {
                none_configured: true,
            }
        };
    }
    if ports.iter().any(|p| matches(p, s)) {
        SocketVerdict::Allowed
    } else {
        SocketVerdict::Unexpected {
            none_configured: false,
        }
    }
}

fn matches(p: &AllowedPort, s: &ListeningSocket) -> bool {
    let protocol = match p.protocol.as_str() {
        "tcp" => s.protocol.is_tcp(),
        "udp" => !s.protocol.is_tcp(),
        _ => false,
    };
    protocol
        && p.port == s.port
        && p.address.as_deref().is_none_or(|a| {
            a.parse::<IpAddr>()
                .is_ok_and(|ip| canonical(ip) == canonical(s.address))
        })
        && p.exe.as_deref().is_none_or(|exe| {
            !s.owners.is_empty() && s.owners.iter().all(|o| o.exe.as_deref() == Some(exe))
        })
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// `tcp 127.0.0.1:8080`, `tcp6 [::]:22`.
pub(crate) fn endpoint(s: &ListeningSocket) -> String {
    format!(
        "{} {}",
        protocol_name(s),
        SocketAddr::new(s.address, s.port)
    )
}

/// `tcp`, `tcp6`, `udp` or `udp6`.
pub(crate) fn protocol_name(s: &ListeningSocket) -> &'static str {
    use crate::parse::proc_net::Protocol;
    match s.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Tcp6 => "tcp6",
        Protocol::Udp => "udp",
        Protocol::Udp6 => "udp6",
    }
}

/// `pid 612 sshd (/usr/sbin/sshd), …` at most [`MAX_OWNERS_SHOWN`];
/// `no owning process found` when there is none.
pub(crate) fn owners_text(owners: &[SocketOwner]) -> String {
    if owners.is_empty() {
        return "no owning process found (a kernel socket, or the owner exited)".to_owned();
    }
    let mut parts: Vec<String> = owners
        .iter()
        .take(MAX_OWNERS_SHOWN)
        .map(|o| match &o.exe {
            Some(exe) => format!("pid {} {} ({exe:?})", o.pid, q(&o.name)),
            None => format!("pid {} {}", o.pid, q(&o.name)),
        })
        .collect();
    if owners.len() > MAX_OWNERS_SHOWN {
        parts.push(format!(
            "and {} more",
            owners.len().saturating_sub(MAX_OWNERS_SHOWN)
        ));
    }
    parts.join(", ")
}

/// A process name as reported: quoted only when it holds characters that
/// could disguise it (spaces, controls, quotes).
fn q(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+".contains(c))
    {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}
