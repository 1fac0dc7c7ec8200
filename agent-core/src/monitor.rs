//! `dha monitor`: the live checks run periodically; what appears or
//! disappears becomes an event (issue 6, "Monitoring"; IEC 62443-4-2 CR 6.2
//! continuous monitoring, CR 2.9 audit storage capacity).
//!
//! A [`Monitor`] reads the live host through a [`HostProbe`] at each
//! [`Monitor::tick`] and compares with what it saw the tick before:
//! - listening sockets, keyed by protocol, address, port and the set of
//!   their owners' executables: one `monitor.socket_opened` per new socket
//!   (severity as NET-01 judges it against `[allow].ports`: info when
//!   allowed or loopback-only inventory, medium otherwise) and one
//!   `monitor.socket_closed` per socket gone. Another program taking over a
//!   port between two ticks is therefore a `socket_closed` (the old owner)
//!   and a `socket_opened` (the new one, judged anew). A socket whose
//!   owners cannot be found in a tick (the process table raced) but whose
//!   inode is unchanged keeps its previous owners;
//! - processes PRC-01 would report (not on `[allow].processes`, deleted,
//!   temporary, writable), keyed by executable: one
//!   `monitor.process_unexpected` when such an executable starts running;
//! - the filesystems holding the event log and `/var/log` (`[monitor]
//!   storage`): `monitor.storage_high` when one fills to `threshold_percent`
//!   or more, `monitor.storage_ok` when it is back under.
//!
//! The first tick is the baseline: what already listens and runs is not
//! reported as "opened" (the audit, NET-01 and PRC-01, reports the state;
//! the monitor reports changes), and [`Tick::baseline`] summarises it. A
//! filesystem that is already over the threshold is reported at once: a log
//! about to fill is a condition to act on, not a change to wait for.
//!
//! Memory is bounded: at most `max_tracked` sockets and executables are
//! remembered (the rest are counted in a log warning and never reported).
//! A part the probe cannot read in a tick (`None`) keeps its previous
//! state and reports nothing.

use crate::Severity;
use crate::allow::AllowPolicy;
use crate::audit::HostProbe;
use crate::checks::net::processes::{self, ExeHashes, Unexpected};
use crate::checks::net::sockets::{self, SocketVerdict};
use crate::config::Config;
use crate::events::{Event, EventKind, EventLogPolicy};
use crate::live::{ListeningSocket, SocketOwner};
use crate::parse::proc_net::Protocol;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

#[cfg(test)]
mod tests;

/// `[monitor]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorPolicy {
    /// Seconds between two ticks (`dha monitor --interval` overrides it).
    /// Default 60; at least 1.
    pub interval_secs: u64,
    /// Directories whose filesystems are watched for space (absolute
    /// paths). Empty (the default): the event log's directory
    /// (`[eventlog] path`) and `/var/log`.
    pub storage: Vec<PathBuf>,
    /// A watched filesystem at or above this share in use (per cent,
    /// 1–100) is `monitor.storage_high`. Default 90.
    pub threshold_percent: u8,
    /// The most sockets, and the most executables, remembered between
    /// ticks. Default 4096; at least 1.
    pub max_tracked: usize,
}

impl Default for MonitorPolicy {
    fn default() -> Self {
        MonitorPolicy {
            interval_secs: 60,
            storage: Vec::new(),
            threshold_percent: 90,
            max_tracked: 4096,
        }
    }
}

impl MonitorPolicy {
    /// Checks the section; the error is `(dotted key, why)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.interval_secs == 0 {
            return Err((
                "monitor.interval_secs".to_owned(),
                "must be at least 1".to_owned(),
            ));
        }
        if !(1..=100).contains(&self.threshold_percent) {
            return Err((
                "monitor.threshold_percent".to_owned(),
                "must be between 1 and 100".to_owned(),
            ));
        }
        if self.max_tracked == 0 {
            return Err((
                "monitor.max_tracked".to_owned(),
                "must be at least 1".to_owned(),
            ));
        }
        if let Some(p) = self.storage.iter().find(|p| !p.is_absolute()) {
            return Err((
                "monitor.storage".to_owned(),
                format!("{} is not an absolute path", p.display()),
            ));
        }
        Ok(())
    }

    /// The directories watched for space: `storage`, or by default the
    /// event log's directory and `/var/log` (without duplicates).
    pub fn storage_paths(&self, eventlog: &EventLogPolicy) -> Vec<PathBuf> {
        if !self.storage.is_empty() {
            return self.storage.clone();
        }
        let mut out = Vec::new();
        if let Some(dir) = eventlog.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            out.push(dir.to_path_buf());
        }
        let var_log = PathBuf::from("/var/log");
        if !out.contains(&var_log) {
            out.push(var_log);
        }
        out
    }
}

/// What one tick found.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// The events to record, in the order sockets, processes, storage.
    pub events: Vec<Event>,
    /// The summary of the baseline (the first tick only).
    pub baseline: Option<BaselineSummary>,
}

/// What the first tick saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSummary {
    /// Listening sockets (`None`: they could not be read).
    pub sockets: Option<usize>,
    /// Processes (`None`: the process table could not be read).
    pub processes: Option<usize>,
    /// Executables PRC-01 would report.
    pub unexpected: usize,
    /// Each watched directory and its filesystem's share in use (`None`:
    /// it could not be measured).
    pub storage: Vec<(PathBuf, Option<u8>)>,
}

/// Identifies a listening socket between ticks: protocol, address, port
/// and its owners' executables (sorted, without duplicates; `comm:NAME`
/// for an owner whose executable could not be read).
type SocketKey = (Protocol, IpAddr, u16, Vec<String>);

/// Identifies an unexpected executable between ticks (path, deleted).
type ExeKey = (String, bool);

/// What the previous tick saw.
#[derive(Debug, Default)]
struct State {
    sockets: Option<BTreeMap<SocketKey, ListeningSocket>>,
    unexpected: Option<BTreeSet<ExeKey>>,
    storage_high: BTreeMap<PathBuf, bool>,
}

/// The periodic comparison (see the module documentation).
pub struct Monitor<'a> {
    probe: &'a dyn HostProbe,
    allow: AllowPolicy,
    threshold: u8,
    max_tracked: usize,
    storage: Vec<PathBuf>,
    state: Option<State>,
    /// Hashes of pinned executables, kept across ticks by image identity.
    hashes: ExeHashes,
}

impl<'a> Monitor<'a> {
    /// A monitor of the host behind `probe`, with `[allow]`, `[monitor]`
    /// and `[eventlog]` of `config`. Nothing is read until the first tick.
    pub fn new(config: &Config, probe: &'a dyn HostProbe) -> Self {
        Monitor {
            probe,
            allow: config.allow.clone(),
            threshold: config.monitor.threshold_percent,
            max_tracked: config.monitor.max_tracked.max(1),
            storage: config.monitor.storage_paths(&config.eventlog),
            state: None,
            hashes: ExeHashes::new(),
        }
    }

    /// The directories watched for space.
    pub fn storage_paths(&self) -> &[PathBuf] {
        &self.storage
    }

    /// Reads the host once and returns what changed since the last tick
    /// (the first tick: the baseline, see the module documentation).
    pub fn tick(&mut self) -> Tick {
        let first = self.state.is_none();
        let mut state = self.state.take().unwrap_or_default();
        let mut events = Vec::new();

        let sockets = self
            .probe
            .listening_sockets()
            .map(|list| self.track_sockets(list, state.sockets.as_ref()));
        let socket_count = sockets.as_ref().map(BTreeMap::len);
        if let Some(now) = sockets {
            if let (Some(before), false) = (&state.sockets, first) {
                for (key, s) in &now {
                    if !before.contains_key(key) {
                        events.push(self.socket_opened(s));
                    }
                }
                for (key, s) in before {
                    if !now.contains_key(key) {
                        events.push(socket_closed(s));
                    }
                }
            }
            state.sockets = Some(now);
        }

        let procs = self.probe.processes();
        let process_count = procs.as_ref().map(Vec::len);
        let mut unexpected_count = 0;
        if let Some(procs) = procs {
            let probe = self.probe;
            self.hashes.next_round();
            let list = processes::unexpected(
                &procs,
                &self.allow,
                &mut self.hashes,
                &|pid| probe.executable_sha256(pid),
                |m| log::warn!("{m}"),
            );
            unexpected_count = list.len();
            if list.len() > self.max_tracked {
                log::warn!(
                    "{} unexpected executables; only the first {} are tracked ([monitor] max_tracked)",
                    list.len(),
                    self.max_tracked
                );
            }
            let now: BTreeMap<ExeKey, &Unexpected> = list
                .iter()
                .take(self.max_tracked)
                .map(|u| ((u.exe.clone(), u.deleted), u))
                .collect();
            if let (Some(before), false) = (&state.unexpected, first) {
                for (key, u) in &now {
                    if !before.contains(key) {
                        events.push(process_unexpected(u));
                    }
                }
            }
            state.unexpected = Some(now.into_keys().collect());
        }

        let mut storage = Vec::new();
        for dir in &self.storage {
            let usage = self.probe.fs_usage(dir);
            storage.push((dir.clone(), usage.map(|u| u.used_percent())));
            let Some(u) = usage else { continue };
            let pct = u.used_percent();
            let high = pct >= self.threshold;
            let was_high = state.storage_high.get(dir).copied().unwrap_or(false);
            if high != was_high {
                let (kind, severity) = if high {
                    (EventKind::MonitorStorageHigh, Severity::High)
                } else {
                    (EventKind::MonitorStorageOk, Severity::Info)
                };
                events.push(
                    Event::new(kind, severity)
                        .with("path", dir.display().to_string())
                        .with("used_percent", pct)
                        .with("threshold_percent", self.threshold)
                        .with("total_bytes", u.total_bytes)
                        .with("available_bytes", u.available_bytes),
                );
            }
            state.storage_high.insert(dir.clone(), high);
        }

        self.state = Some(state);
        Tick {
            events,
            baseline: first.then_some(BaselineSummary {
                sockets: socket_count,
                processes: process_count,
                unexpected: unexpected_count,
                storage,
            }),
        }
    }

    /// The sockets keyed for comparison, at most `max_tracked`; `before`
    /// gives the owners of a socket (same inode) whose owners are not
    /// found this time.
    fn track_sockets(
        &self,
        list: Vec<ListeningSocket>,
        before: Option<&BTreeMap<SocketKey, ListeningSocket>>,
    ) -> BTreeMap<SocketKey, ListeningSocket> {
        let total = list.len();
        let previous: BTreeMap<(Protocol, IpAddr, u16, u64), &ListeningSocket> = before
            .into_iter()
            .flatten()
            .map(|(_, s)| ((s.protocol, s.address, s.port, s.inode), s))
            .collect();
        let mut map = BTreeMap::new();
        for mut s in list {
            if s.owners.is_empty() {
                if let Some(old) = previous.get(&(s.protocol, s.address, s.port, s.inode)) {
                    s.owners.clone_from(&old.owners);
                }
            }
            let key = (s.protocol, s.address, s.port, owner_exes(&s.owners));
            if map.len() < self.max_tracked || map.contains_key(&key) {
                map.entry(key).or_insert(s);
            }
        }
        if total > self.max_tracked {
            log::warn!(
                "{total} listening sockets; only {} are tracked ([monitor] max_tracked)",
                self.max_tracked
            );
        }
        map
    }

    fn socket_opened(&self, s: &ListeningSocket) -> Event {
        let verdict = sockets::judge(s, &self.allow.ports);
        let (severity, allowed) = match verdict {
            SocketVerdict::Allowed => (Severity::Info, "allowed"),
            SocketVerdict::LoopbackInventory => (Severity::Info, "loopback (no allow-list)"),
            SocketVerdict::Unexpected {
                none_configured: true,
            } => (Severity::Medium, "not on the allow-list (none configured)"),
            SocketVerdict::Unexpected {
                none_configured: false,
            } => (Severity::Medium, "not on the allow-list"),
        };
        socket_event(EventKind::MonitorSocketOpened, severity, s).with("allow", allowed)
    }
}

/// The owners' executables, sorted and without duplicates (at most
/// [`sockets::MAX_OWNERS_SHOWN`] times 4, the rest are not told apart).
fn owner_exes(owners: &[SocketOwner]) -> Vec<String> {
    let set: BTreeSet<String> = owners
        .iter()
        .map(|o| match &o.exe {
            Some(exe) => exe.clone(),
            None => format!("comm:{}", o.name),
        })
        .collect();
    set.into_iter()
        .take(sockets::MAX_OWNERS_SHOWN.saturating_mul(4))
        .collect()
}

fn socket_closed(s: &ListeningSocket) -> Event {
    socket_event(EventKind::MonitorSocketClosed, Severity::Info, s)
}

fn socket_event(kind: EventKind, severity: Severity, s: &ListeningSocket) -> Event {
    let owners: Vec<Value> = s
        .owners
        .iter()
        .take(sockets::MAX_OWNERS_SHOWN)
        .map(owner_json)
        .collect();
    Event::new(kind, severity)
        .with("protocol", sockets::protocol_name(s))
        .with("address", s.address.to_string())
        .with("port", s.port)
        .with("endpoint", sockets::endpoint(s))
        .with("owners", owners)
}

fn owner_json(o: &SocketOwner) -> Value {
    json!({"pid": o.pid, "name": o.name, "exe": o.exe})
}

fn process_unexpected(u: &Unexpected) -> Event {
    let reasons: Vec<String> = u.reasons.iter().map(processes::Reason::phrase).collect();
    Event::new(EventKind::MonitorProcessUnexpected, u.severity)
        .with("exe", u.exe.clone())
        .with("deleted", u.deleted)
        .with("pids", u.pids.clone())
        .with("count", u.count)
        .with("names", u.names.clone())
        .with("reasons", reasons)
}

/// One line for a person: `monitor.socket_opened medium tcp
/// 127.0.0.1:8080 pid 42 "server" ("/usr/bin/server")`. Text from the
/// host (names, paths) is quoted.
pub fn event_line(e: &Event) -> String {
    let p = &e.payload;
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
    let n = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or_default();
    let detail = match e.kind {
        EventKind::MonitorSocketOpened | EventKind::MonitorSocketClosed => {
            let owners: Vec<String> = p
                .get("owners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|o| {
                    let pid = o.get("pid").and_then(Value::as_u64).unwrap_or_default();
                    let name = o.get("name").and_then(Value::as_str).unwrap_or_default();
                    match o.get("exe").and_then(Value::as_str) {
                        Some(exe) => format!("pid {pid} {name:?} ({exe:?})"),
                        None => format!("pid {pid} {name:?}"),
                    }
                })
                .collect();
            let mut line = s("endpoint").to_owned();
            if !owners.is_empty() {
                line.push(' ');
                line.push_str(&owners.join(", "));
            }
            if let Some(a) = p.get("allow").and_then(Value::as_str) {
                line.push_str(&format!(" [{a}]"));
            }
            line
        }
        EventKind::MonitorProcessUnexpected => {
            let pids: Vec<String> = p
                .get("pids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
                .map(|v| v.to_string())
                .collect();
            let reasons: Vec<&str> = p
                .get("reasons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "{:?} pids {} ({} process(es)): {}",
                s("exe"),
                pids.join(","),
                n("count"),
                reasons.join("; ")
            )
        }
        EventKind::MonitorStorageHigh | EventKind::MonitorStorageOk => format!(
            "{:?} {}% used (threshold {}%, {} of {} bytes available)",
            s("path"),
            n("used_percent"),
            n("threshold_percent"),
            n("available_bytes"),
            n("total_bytes")
        ),
        _ => Value::Object(p.clone()).to_string(),
    };
    format!("{} {} {detail}", e.kind.name(), e.severity)
}
