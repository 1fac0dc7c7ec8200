//! NET-01 (listening sockets, firewall) and PRC-01 (processes), against the
//! allow-lists of `[allow]` (CHECKS.md "Device hardening, monitoring,
//! inventory"; IEC 62443-4-2 CR 7.1, CR 7.7 least functionality, CR 3.2,
//! CR 6.2 continuous monitoring).
//!
//! Both are live only: what listens and what runs is a property of the
//! running device, read through [`crate::HostProbe`] (agent-linux: proc(5)
//! `/proc/net/*`, `/proc/PID/fd`, `/proc/PID/exe`, sysinfo, `nft -j list
//! ruleset`). Against an image root they are not applicable. `dha monitor`
//! ([`crate::monitor`]) judges sockets and processes with the same rules.
//!
//! One submodule per idea: `sockets` (the port allow-list), `firewall`
//! (libnftables JSON), `processes` (the process allow-list and unexpected
//! executables).

use crate::Severity;
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Diagnostic, Finding};
use crate::live::{FirewallRuleset, ListeningSocket};

pub(crate) mod firewall;
pub(crate) mod processes;
pub(crate) mod sockets;

#[cfg(test)]
mod tests;

use sockets::SocketVerdict;

/// Where the firewall evidence comes from.
const NFT_SOURCE: &str = "nft -j list ruleset (live)";

/// The SSG rule of the firewall part (CHECKS.md).
const SSG_DEFAULT_DENY: &str = "nftables_ensure_default_deny_policy";

fn na(reason: &str) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.to_owned())
}

/// NET-01: every listening socket against `[allow].ports`; the nftables
/// input path is default-deny.
pub fn net01_sockets(ctx: &AuditContext<'_>) -> CheckOutcome {
    let Some(host) = ctx.live() else {
        return na(
            "needs the live system (listening sockets and the firewall of the running device)",
        );
    };
    let Some(sockets) = host.listening_sockets() else {
        return na("the listening sockets could not be read (/proc/net/tcp)");
    };
    let mut findings: Vec<Finding> = sockets
        .iter()
        .filter_map(|s| socket_finding(ctx, s))
        .collect();
    let exposed = sockets
        .iter()
        .any(|s| !matches!(sockets::judge(s, &[]), SocketVerdict::LoopbackInventory));
    findings.extend(firewall_finding(ctx, host.firewall(), exposed));
    CheckOutcome::Ran(findings)
}

fn socket_finding(ctx: &AuditContext<'_>, s: &ListeningSocket) -> Option<Finding> {
    let ports = &ctx.config.allow.ports;
    let endpoint = sockets::endpoint(s);
    let (title, severity) = match sockets::judge(s, ports) {
        SocketVerdict::Allowed => return None,
        SocketVerdict::LoopbackInventory => (
            format!("{endpoint} listens on loopback only (inventory; [allow].ports is empty)"),
            Severity::Info,
        ),
        SocketVerdict::Unexpected { none_configured } => (
            if none_configured {
                format!("{endpoint} listens and is not on the allow-list (none configured)")
            } else {
                format!("{endpoint} listens and is not on the allow-list ([allow].ports)")
            },
            Severity::Medium,
        ),
    };
    let family = if s.protocol.is_tcp() { "tcp" } else { "udp" };
    Some(
        ctx.finding("NET-01", title)
            .severity(severity)
            .ssg(&[])
            .file(s.protocol.proc_path())
            .observed(format!(
                "{endpoint} (uid {}), owned by {}",
                s.uid,
                sockets::owners_text(&s.owners)
            ))
            .expected(format!(
                "only sockets listed in [allow].ports (e.g. {{ protocol = \"{family}\", port = {}, \
                 address = \"{}\" }})",
                s.port, s.address
            ))
            .remediation(
                "Stop or reconfigure the service that opened it (bind it to loopback, or disable \
                 it); if the device needs it, list it in [allow].ports of dha.toml with its \
                 protocol, port, address and owning executable.",
            )
            .build(),
    )
}

fn firewall_finding(
    ctx: &AuditContext<'_>,
    ruleset: Option<Result<FirewallRuleset, String>>,
    exposed: bool,
) -> Option<Finding> {
    let remediation = "Give the input hook a default-deny policy (nftables: a base chain `type \
                       filter hook input priority 0; policy drop;` in an inet table) and accept \
                       only the ports the device needs.";
    let base = |title: String| {
        ctx.finding("NET-01", title)
            .ssg(&[SSG_DEFAULT_DENY])
            .file(NFT_SOURCE)
            .remediation(remediation)
    };
    let json = match ruleset {
        // Without nft, dha cannot tell whether another firewall (iptables-
        // legacy, a filter in front of the device) guards it: not a proven
        // open door, so low when nothing but loopback listens; medium when
        // sockets are exposed on the network with no firewall dha can see.
        None => {
            return Some(
                base("no firewall ruleset could be read (nft not installed)".to_owned())
                    .severity(if exposed {
                        Severity::Medium
                    } else {
                        Severity::Low
                    })
                    .observed(if exposed {
                        "no nft program; sockets listen on non-loopback addresses"
                    } else {
                        "no nft program; only loopback sockets listen"
                    })
                    .expected("an nftables ruleset whose input path is default-deny")
                    .build(),
            );
        }
        Some(Err(e)) => {
            return Some(
                base("the firewall ruleset could not be read".to_owned())
                    .severity(Severity::Low)
                    .observed(e)
                    .expected("`nft -j list ruleset` succeeds")
                    .build(),
            );
        }
        Some(Ok(r)) => r.nft_json,
    };
    let policy = match firewall::input_policy(&json) {
        Ok(p) => p,
        Err(e) => {
            ctx.warn(Diagnostic {
                file: NFT_SOURCE.to_owned(),
                line: None,
                field: None,
                message: format!("not libnftables JSON: {e}"),
            });
            return Some(
                base("the firewall ruleset could not be understood".to_owned())
                    .severity(Severity::Low)
                    .observed(e)
                    .expected("libnftables JSON (libnftables-json(5))")
                    .build(),
            );
        }
    };
    let open: Vec<&str> = [("IPv4", policy.v4_denied), ("IPv6", policy.v6_denied)]
        .into_iter()
        .filter(|(_, denied)| !denied)
        .map(|(v, _)| v)
        .collect();
    if open.is_empty() {
        return None;
    }
    let observed = if policy.chains.is_empty() {
        "no base chain on the input hook in an inet, ip or ip6 table".to_owned()
    } else {
        policy.chains.join("; ")
    };
    Some(
        base(format!(
            "the firewall accepts incoming {} traffic by default (no default-deny input policy)",
            open.join(" and ")
        ))
        .observed(observed)
        .expected(
            "an input hook chain whose first unconditional verdict is drop or reject, or with \
             none and policy drop, for IPv4 and IPv6",
        )
        .build(),
    )
}

/// PRC-01: processes against `[allow].processes`; executables that are
/// deleted, temporary, in a world-writable place or writable by others.
pub fn prc01_processes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let Some(host) = ctx.live() else {
        return na("needs the live system (the process table of the running device)");
    };
    let Some(procs) = host.processes() else {
        return na("the process table could not be read (/proc)");
    };
    let allow = &ctx.config.allow;
    let mut hashes = processes::ExeHashes::new();
    let list = processes::unexpected(
        &procs,
        allow,
        &mut hashes,
        &|pid| host.executable_sha256(pid),
        |message| {
            ctx.warn(Diagnostic {
                file: "/proc".to_owned(),
                line: None,
                field: None,
                message,
            });
        },
    );
    let expected = if allow.processes.is_empty() {
        "executables writable only by root, under directories (every one up to /) owned by \
         root and writable only by root (or sticky), unchanged since the process started"
    } else {
        "only the executables of [allow].processes (with their pinned SHA-256 in every process), \
         writable only by root, under directories (every one up to /) owned by root and \
         writable only by root (or sticky)"
    };
    let findings = list
        .iter()
        .map(|u| {
            let reasons: Vec<String> = u.reasons.iter().map(processes::Reason::phrase).collect();
            // The process whose image differs from the pin, else the first.
            let pid = u
                .reasons
                .iter()
                .find_map(|r| match r {
                    processes::Reason::HashMismatch { pid, .. } => Some(*pid),
                    _ => None,
                })
                .or_else(|| u.pids.first().copied())
                .unwrap_or_default();
            ctx.finding("PRC-01", format!("{:?} {}", u.exe, reasons.join("; ")))
                .severity(u.severity)
                .file(format!("/proc/{pid}/exe"))
                .observed(format!(
                    "{} run {:?}{}",
                    u.processes_text(),
                    u.exe,
                    if u.deleted { " (deleted)" } else { "" }
                ))
                .expected(expected)
                .remediation(
                    "Find out why it runs (`ps -o pid,user,args -p PID`) and stop it if it is \
                     not part of the device; restart a service whose program was updated; \
                     install programs under /usr, owned by root and not writable by others; \
                     list the device's own programs in [allow].processes (with sha256 to pin \
                     them).",
                )
                .build()
        })
        .collect();
    CheckOutcome::Ran(findings)
}
