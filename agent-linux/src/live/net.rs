//! Listening sockets with their owners, the process table, the firewall,
//! filesystem usage: the live facts of NET-01, PRC-01 and `dha monitor`.
//!
//! Every reader is bounded ([`MAX_PROCESSES`], [`MAX_FDS_PER_PROCESS`],
//! [`MAX_TABLE_BYTES`], [`MAX_EXE_BYTES`], [`MAX_NFT_OUTPUT`],
//! [`NFT_TIMEOUT`]) and tolerates processes that exit while they are read
//! (their entries are skipped, never an error).

use dha_core::TextFile;
use dha_core::live::{FirewallRuleset, FsUsage, ListeningSocket, ProcessInfo, SocketOwner};
use dha_core::parse::proc_net::{self, Protocol};
use dha_core::process::{Waited, wait_with_timeout};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The most processes read from `/proc` (for socket owners and the process
/// table); the rest are left out (the kernel's default `pid_max` on 64-bit
/// is 4,194,304, but a device runs a few hundred).
pub const MAX_PROCESSES: usize = 32_768;

/// The most file descriptors looked at per process when searching socket
/// owners (a server holding more is searched only in its first ones).
pub const MAX_FDS_PER_PROCESS: usize = 65_536;

/// The most bytes read of one `/proc/net` table (16 MiB: about 100,000
/// sockets of 150 bytes).
pub const MAX_TABLE_BYTES: u64 = 16 * 1024 * 1024;

/// The largest executable hashed (1 GiB); a larger one is "not measurable".
pub const MAX_EXE_BYTES: u64 = 1024 * 1024 * 1024;

/// The most bytes of `nft -j list ruleset` output kept (8 MiB).
pub const MAX_NFT_OUTPUT: u64 = 8 * 1024 * 1024;

/// How long `nft` may take before it is killed.
pub const NFT_TIMEOUT: Duration = Duration::from_secs(10);

/// The suffix the kernel appends to `/proc/PID/exe` when the file it
/// names was deleted or replaced (proc(5), "/proc/pid/exe").
const DELETED: &str = " (deleted)";

/// The listening sockets (`/proc/net/{tcp,tcp6,udp,udp6}`, proc(5)) with
/// their owning processes (`/proc/PID/fd/*` links `socket:[INODE]`).
///
/// `None` when `/proc/net/tcp` cannot be read (no `/proc`); a table that
/// is absent (IPv6 disabled) is skipped. Sockets are sorted by protocol,
/// address and port.
pub fn listening_sockets() -> Option<Vec<ListeningSocket>> {
    let mut found: Vec<ListeningSocket> = Vec::new();
    for protocol in Protocol::ALL {
        let path = protocol.proc_path();
        let table = match read_bounded(Path::new(path), MAX_TABLE_BYTES) {
            Ok((bytes, truncated)) => TextFile::from_bytes(path, &bytes, truncated),
            Err(e) if protocol == Protocol::Tcp => {
                log::warn!("{path}: {e}");
                return None;
            }
            Err(e) => {
                log::debug!("{path}: {e}");
                continue;
            }
        };
        let sockets = proc_net::parse(&table, protocol, &mut |d| {
            log::warn!("{}:{}: {}", d.file, d.line.unwrap_or(0), d.message);
        });
        for s in proc_net::listening(&sockets) {
            found.push(ListeningSocket {
                protocol,
                address: s.local.ip(),
                port: s.local.port(),
                inode: s.inode,
                uid: s.uid,
                owners: Vec::new(),
            });
        }
    }
    let wanted: HashMap<u64, Vec<usize>> =
        found
            .iter()
            .enumerate()
            .fold(HashMap::new(), |mut m, (i, s)| {
                if s.inode != 0 {
                    m.entry(s.inode).or_default().push(i);
                }
                m
            });
    if !wanted.is_empty() {
        for (pid, inode) in socket_inodes(&wanted) {
            let owner = owner_of(pid);
            for &i in wanted.get(&inode).into_iter().flatten() {
                if let Some(s) = found.get_mut(i) {
                    if !s.owners.iter().any(|o| o.pid == pid) {
                        s.owners.push(owner.clone());
                    }
                }
            }
        }
    }
    found.sort_by_key(|s| (s.protocol, s.address, s.port));
    Some(found)
}

/// `(pid, inode)` for every descriptor of every process that is one of the
/// `wanted` sockets. Processes and descriptors that vanish are skipped.
fn socket_inodes(wanted: &HashMap<u64, Vec<usize>>) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for pid in pids() {
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for entry in fds.take(MAX_FDS_PER_PROCESS).flatten() {
            let Ok(target) = fs::read_link(entry.path()) else {
                continue;
            };
            if let Some(inode) = socket_inode(&target).filter(|i| wanted.contains_key(i)) {
                out.push((pid, inode));
            }
        }
    }
    out
}

/// The inode of a descriptor link `socket:[12345]` (proc(5), "/proc/pid/fd").
fn socket_inode(target: &Path) -> Option<u64> {
    target
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The numeric entries of `/proc`, ascending, at most [`MAX_PROCESSES`].
fn pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.truncate(MAX_PROCESSES);
    pids
}

/// The owner record of a process (its name and executable, as far as they
/// can still be read).
fn owner_of(pid: u32) -> SocketOwner {
    let name = fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim_end_matches('\n').to_owned())
        .unwrap_or_default();
    let exe = exe_link(pid).map(|(path, _)| path);
    SocketOwner { pid, name, exe }
}

/// `/proc/PID/exe` read as a link: the path without the ` (deleted)`
/// suffix, and whether it was there. `None` for kernel threads, exited
/// processes, or when it may not be read.
fn exe_link(pid: u32) -> Option<(String, bool)> {
    let target = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let text = target.to_string_lossy().into_owned();
    Some(match text.strip_suffix(DELETED) {
        Some(path) => (path.to_owned(), true),
        None => (text, false),
    })
}

/// The process table (sysinfo), sorted by pid, at most [`MAX_PROCESSES`].
///
/// Threads are not listed (only processes). The executable comes from
/// `/proc/PID/exe` read directly, because the kernel's ` (deleted)` mark is
/// what [`ProcessInfo::exe_deleted`] reports (sysinfo passes the raw link
/// through, but does not promise to). Kernel threads (`PF_KTHREAD`, as
/// sysinfo reports it) have no executable. `None` when `/proc` cannot be read.
pub fn processes() -> Option<Vec<ProcessInfo>> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind};
    if fs::metadata("/proc/self/stat").is_err() {
        return None;
    }
    let mut sys = System::new();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .without_tasks()
            .with_user(UpdateKind::Always),
    );
    let mut out: BTreeMap<u32, ProcessInfo> = BTreeMap::new();
    for (pid, p) in sys.processes() {
        if p.thread_kind() == Some(ThreadKind::Userland) {
            continue; // a thread of a process listed on its own
        }
        let pid = pid.as_u32();
        let kernel_thread = p.thread_kind() == Some(ThreadKind::Kernel);
        let (exe, exe_deleted) = if kernel_thread {
            (None, false)
        } else {
            match exe_link(pid) {
                Some((path, deleted)) => (Some(path), deleted),
                None => (None, false),
            }
        };
        out.insert(
            pid,
            ProcessInfo {
                pid,
                parent: p.parent().map(|pp| pp.as_u32()),
                name: p.name().to_string_lossy().into_owned(),
                exe,
                exe_deleted,
                uid: p.user_id().map(|u| **u),
                kernel_thread,
            },
        );
        if out.len() > MAX_PROCESSES {
            out.pop_last();
        }
    }
    Some(out.into_values().collect())
}

/// The SHA-256 (lower-case hex) of the executable process `pid` runs, read
/// through `/proc/PID/exe` (the running image, even when its path was
/// replaced or deleted). `None` when it cannot be read or is larger than
/// [`MAX_EXE_BYTES`].
pub fn executable_sha256(pid: u32) -> Option<String> {
    sha256_file(&PathBuf::from(format!("/proc/{pid}/exe")), MAX_EXE_BYTES)
}

/// Streams a file through SHA-256 (sha2), reading at most `limit` bytes;
/// `None` when it cannot be read or is longer.
fn sha256_file(path: &Path, limit: u64) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let mut reader = file.take(limit.saturating_add(1));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        total = total.saturating_add(u64::try_from(n).ok()?);
        if total > limit {
            return None;
        }
        hasher.update(buf.get(..n)?);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The nftables ruleset as libnftables JSON (`nft -j list ruleset`,
/// libnftables-json(5)), run with a time limit of [`NFT_TIMEOUT`].
///
/// `None` when no `nft` program is installed (searched in `PATH`, then in
/// `/usr/sbin` and `/sbin`, where Debian installs it, since a service's
/// `PATH` may lack them); `Some(Err)` when it fails, times out, or its
/// output is larger than [`MAX_NFT_OUTPUT`].
pub fn firewall() -> Option<Result<FirewallRuleset, String>> {
    let nft = find_program("nft")?;
    Some(run_nft(&nft, NFT_TIMEOUT))
}

/// Runs `NFT -j list ruleset`, killing it after `timeout`.
fn run_nft(nft: &Path, timeout: Duration) -> Result<FirewallRuleset, String> {
    let shown = nft.display();
    let mut child = Command::new(nft)
        .args(["-j", "list", "ruleset"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: cannot run: {e}"))?;
    // The output is read on threads while the child is waited for: a
    // ruleset larger than the pipe's buffer would otherwise block nft.
    let out = child.stdout.take().map(|s| drain(s, MAX_NFT_OUTPUT));
    let err = child.stderr.take().map(|s| drain(s, 4096));
    let waited = wait_with_timeout(&mut child, timeout);
    let out = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = err.and_then(|h| h.join().ok()).unwrap_or_default();
    let status = match waited {
        Waited::Exited(status) => status,
        Waited::TimedOut => {
            return Err(format!(
                "{shown} -j list ruleset: no answer within {} ms",
                timeout.as_millis()
            ));
        }
        Waited::WaitFailed(e) => return Err(format!("{shown}: {e}")),
    };
    if !status.success() {
        let msg = String::from_utf8_lossy(&err.0);
        return Err(format!(
            "{shown} -j list ruleset: {status}: {}",
            msg.trim().replace('\n', " ")
        ));
    }
    if out.1 {
        return Err(format!(
            "{shown} -j list ruleset: more than {MAX_NFT_OUTPUT} bytes of output"
        ));
    }
    String::from_utf8(out.0)
        .map(|nft_json| FirewallRuleset { nft_json })
        .map_err(|_| format!("{shown} -j list ruleset: the output is not UTF-8"))
}

/// Reads a pipe on a thread, keeping at most `limit` bytes (the rest is
/// read and dropped, so the writer never blocks); the flag says whether
/// anything was dropped.
fn drain(
    mut r: impl io::Read + Send + 'static,
    limit: u64,
) -> std::thread::JoinHandle<(Vec<u8>, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut r).take(limit).read_to_end(&mut kept);
        let dropped = io::copy(&mut r, &mut io::sink()).unwrap_or(0);
        (kept, dropped > 0)
    })
}

/// The first executable file named `name` in `PATH`, `/usr/sbin` or `/sbin`.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Space on the filesystem holding `path` (statvfs(3): size is
/// `f_blocks × f_frsize`, available `f_bavail × f_frsize`, as df(1)
/// reports them). `None` when it cannot be queried or overflows.
// The conversions are needed on 32-bit targets (ARM devices), where
// `f_frsize` is a 32-bit `c_ulong`.
#[allow(clippy::useless_conversion)]
pub fn fs_usage(path: &Path) -> Option<FsUsage> {
    let st = nix::sys::statvfs::statvfs(path).ok()?;
    let frsize = u64::from(st.fragment_size());
    Some(FsUsage {
        total_bytes: u64::from(st.blocks()).checked_mul(frsize)?,
        available_bytes: u64::from(st.blocks_available()).checked_mul(frsize)?,
    })
}

/// Reads at most `limit` bytes of a file; the flag says whether it was cut.
fn read_bounded(path: &Path, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let cut = u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit;
    if cut {
        bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok((bytes, cut))
}

#[cfg(test)]
mod tests;
