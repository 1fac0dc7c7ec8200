//! PRC-01, processes: executables that no device should run, and, with an
//! allow-list, executables the device is not expected to run.
//!
//! Always reported: an executable deleted or replaced after the process
//! started (`/proc/PID/exe` ends in ` (deleted)`, proc(5)), one under a
//! temporary directory (`/tmp`, `/var/tmp`, `/dev/shm`), one in a
//! world-writable directory, and one that a user other than root may write
//! (anyone who can write it chooses what the next start runs). With
//! `[allow].processes`: every process whose executable is not listed, and a
//! listed executable whose SHA-256 differs from the pinned one (read from
//! `/proc/PID/exe`, the running image).
//!
//! Processes are grouped by executable: one [`Unexpected`] per executable
//! (and deletion state), naming its processes (at most
//! [`MAX_PIDS_SHOWN`]). Kernel threads (no executable) are skipped, and so
//! are processes whose executable cannot be read (exited, zombies).

use crate::Severity;
use crate::allow::AllowPolicy;
use crate::live::ProcessInfo;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

/// The most process ids named for one executable (the rest are counted).
pub(crate) const MAX_PIDS_SHOWN: usize = 16;

/// Directories meant for temporary files, not for programs (FHS 3.0 §3.18,
/// §5.15; `/dev/shm` is a tmpfs any user may write).
const TEMPORARY: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

/// Why an executable is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Deleted or replaced after the process started.
    Deleted,
    /// An anonymous memory file (memfd_create(2): `/proc/PID/exe` reads
    /// `/memfd:NAME (deleted)`): nothing on disk to inspect. Container
    /// runtimes do it on purpose (runc's sealed copy against
    /// CVE-2019-5736); so does fileless malware.
    MemoryFile,
    /// Under a temporary directory.
    Temporary(&'static str),
    /// Its directory may be written by anyone (mode shown).
    WorldWritableDir(String, u32),
    /// The file may be written by a user other than root.
    WritableByNonRoot {
        /// The owner.
        uid: u32,
        /// The group.
        gid: u32,
        /// The mode bits.
        mode: u32,
    },
    /// Not on `[allow].processes`.
    NotAllowed,
    /// The pinned SHA-256 differs from the running image's.
    HashMismatch {
        /// The pinned hash.
        want: String,
        /// The running image's.
        got: String,
    },
}

impl Reason {
    /// One phrase for a finding's title.
    pub(crate) fn phrase(&self) -> String {
        match self {
            Reason::Deleted => "was deleted or replaced after it started".to_owned(),
            Reason::MemoryFile => {
                "runs from an anonymous memory file (memfd_create(2)), not from a file on disk"
                    .to_owned()
            }
            Reason::Temporary(d) => format!("runs from the temporary directory {d}"),
            Reason::WorldWritableDir(d, m) => {
                format!("lies in the world-writable directory {d} (mode {m:04o})")
            }
            Reason::WritableByNonRoot { uid, gid, mode } => format!(
                "may be written by a user other than root (uid {uid}, gid {gid}, mode {mode:04o})"
            ),
            Reason::NotAllowed => "is not on the allow-list ([allow].processes)".to_owned(),
            Reason::HashMismatch { want, got } => {
                format!("does not have the pinned SHA-256 (pinned {want}, running {got})")
            }
        }
    }

    /// The severity: high for what lets someone choose the code that runs
    /// (a temporary or world-writable place, a pinned hash that differs; a
    /// file writable by others when root runs it), medium otherwise.
    fn severity(&self, root_runs_it: bool) -> Severity {
        match self {
            Reason::Temporary(_) | Reason::WorldWritableDir(..) | Reason::HashMismatch { .. } => {
                Severity::High
            }
            Reason::WritableByNonRoot { .. } if root_runs_it => Severity::High,
            Reason::WritableByNonRoot { .. }
            | Reason::Deleted
            | Reason::MemoryFile
            | Reason::NotAllowed => Severity::Medium,
        }
    }
}

/// One executable that processes run and that PRC-01 reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unexpected {
    /// The executable (without ` (deleted)`).
    pub exe: String,
    /// It was deleted or replaced.
    pub deleted: bool,
    /// The process ids, ascending, at most [`MAX_PIDS_SHOWN`].
    pub pids: Vec<u32>,
    /// How many processes run it.
    pub count: usize,
    /// Their names (distinct, at most [`MAX_PIDS_SHOWN`]).
    pub names: Vec<String>,
    /// Why, in order of weight.
    pub reasons: Vec<Reason>,
    /// The highest severity of the reasons.
    pub severity: Severity,
}

impl Unexpected {
    /// `pids 12, 40 (name)`, bounded.
    pub(crate) fn processes_text(&self) -> String {
        let pids: Vec<String> = self.pids.iter().map(u32::to_string).collect();
        let mut s = format!(
            "{} {}",
            if self.count == 1 { "pid" } else { "pids" },
            pids.join(", ")
        );
        if self.count > self.pids.len() {
            s.push_str(&format!(
                " and {} more",
                self.count.saturating_sub(self.pids.len())
            ));
        }
        let names: Vec<String> = self.names.iter().map(|n| format!("{n:?}")).collect();
        s.push_str(&format!(" ({})", names.join(", ")));
        s
    }
}

/// A group of processes running one executable.
struct Group {
    pids: Vec<u32>,
    count: usize,
    names: Vec<String>,
    root_runs_it: bool,
}

/// The executables to report among `procs` (see the module
/// documentation); `hash` gives the SHA-256 of a process's running image.
/// Sorted by executable.
pub(crate) fn unexpected(
    procs: &[ProcessInfo],
    allow: &AllowPolicy,
    hash: &dyn Fn(u32) -> Option<String>,
    mut warn: impl FnMut(String),
) -> Vec<Unexpected> {
    let mut groups: BTreeMap<(String, bool), Group> = BTreeMap::new();
    for p in procs {
        if p.kernel_thread {
            continue;
        }
        let Some(exe) = &p.exe else { continue };
        let g = groups
            .entry((exe.clone(), p.exe_deleted))
            .or_insert_with(|| Group {
                pids: Vec::new(),
                count: 0,
                names: Vec::new(),
                root_runs_it: false,
            });
        g.count = g.count.saturating_add(1);
        if g.pids.len() < MAX_PIDS_SHOWN {
            g.pids.push(p.pid);
        }
        if g.names.len() < MAX_PIDS_SHOWN && !g.names.contains(&p.name) {
            g.names.push(p.name.clone());
        }
        g.root_runs_it |= p.uid == Some(0);
    }
    let mut out = Vec::new();
    for ((exe, deleted), mut g) in groups {
        g.pids.sort_unstable();
        let mut reasons = Vec::new();
        if exe.starts_with("/memfd:") {
            reasons.push(Reason::MemoryFile);
        } else if deleted {
            reasons.push(Reason::Deleted);
        }
        let path = Path::new(&exe);
        if let Some(t) = TEMPORARY.iter().find(|t| path.starts_with(t)) {
            reasons.push(Reason::Temporary(t));
        } else if let Some((dir, m)) = path
            .parent()
            .and_then(|d| Some((d, std::fs::metadata(d).ok()?)))
            .filter(|(_, m)| m.mode() & 0o002 != 0)
        {
            reasons.push(Reason::WorldWritableDir(
                dir.display().to_string(),
                m.mode() & 0o7777,
            ));
        }
        let meta = if deleted {
            None
        } else {
            std::fs::metadata(path).ok()
        };
        if let Some(m) = meta {
            let mode = m.mode() & 0o7777;
            let (uid, gid) = (m.uid(), m.gid());
            if mode & 0o002 != 0
                || (mode & 0o020 != 0 && gid != 0)
                || (mode & 0o200 != 0 && uid != 0)
            {
                reasons.push(Reason::WritableByNonRoot { uid, gid, mode });
            }
        }
        if !allow.processes.is_empty() {
            match allow.processes.iter().find(|a| a.exe == exe) {
                None => reasons.push(Reason::NotAllowed),
                Some(a) => {
                    if let (Some(want), Some(pid)) = (&a.sha256, g.pids.first()) {
                        match hash(*pid) {
                            Some(got) if got.eq_ignore_ascii_case(want) => {}
                            Some(got) => reasons.push(Reason::HashMismatch {
                                want: want.clone(),
                                got,
                            }),
                            None => warn(format!(
                                "/proc/{pid}/exe: the executable of {exe} could not be hashed \
                                 (it exited, or is larger than the limit); its pinned SHA-256 \
                                 was not compared"
                            )),
                        }
                    }
                }
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let severity = reasons
            .iter()
            .map(|r| r.severity(g.root_runs_it))
            .max()
            .unwrap_or(Severity::Medium);
        out.push(Unexpected {
            exe,
            deleted,
            pids: g.pids,
            count: g.count,
            names: g.names,
            reasons,
            severity,
        });
    }
    out
}
