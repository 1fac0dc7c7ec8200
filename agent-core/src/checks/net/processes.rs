//! PRC-01, processes: executables that no device should run, and, with an
//! allow-list, executables the device is not expected to run.
//!
//! Always reported: an executable deleted or replaced after the process
//! started (`/proc/PID/exe` ends in ` (deleted)`, proc(5)), one under a
//! temporary directory (`/tmp`, `/var/tmp`, `/dev/shm`), one in a
//! world-writable directory, one under a directory that a user other than
//! root may change, and one that a user other than root may write (anyone
//! who can write it chooses what the next start runs). The directories are
//! every ancestor up to `/` (at most [`MAX_DEPTH`]): one owned by a user
//! other than root, or writable by others or by a group other than root's,
//! lets that user rename what lies below it and put another program in its
//! place (path_resolution(7)); a sticky one (`/run/lock`, mode 1777) does
//! not, since only an entry's owner may rename it there (inode(7),
//! `S_ISVTX`), except as the executable's own directory. With
//! `[allow].processes`: every process whose executable is not listed, and a
//! listed executable whose SHA-256 differs from the pinned one, read from
//! `/proc/PID/exe` (the running image) of every process that runs it, so a
//! process in another mount namespace, where the same path names another
//! file, is compared too. Each image is hashed once: [`ExeHashes`] keeps the
//! hash by the device, inode, size and times of the file `/proc/PID/exe`
//! leads to (stat(2) follows the link).
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

/// The most ancestor directories of an executable that are inspected.
pub(crate) const MAX_DEPTH: usize = 64;

/// The most executable images whose hash [`ExeHashes`] keeps.
pub(crate) const MAX_CACHED_HASHES: usize = 4096;

/// What identifies the content of an executable image without reading it:
/// the device and inode of the file (stat(2) of `/proc/PID/exe` follows
/// the link to the running image, in whatever mount namespace), its size
/// and its modification and change times (a write in place changes both;
/// ctime cannot be set back by a user, inode(7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ExeId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl ExeId {
    /// The identity of the image process `pid` runs; `None` when
    /// `/proc/PID/exe` cannot be stat'ed (exited, kernel thread, no /proc).
    pub(crate) fn of_pid(pid: u32) -> Option<ExeId> {
        let m = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
        Some(ExeId {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// SHA-256 of executable images, kept by [`ExeId`] so that one binary is
/// read once per audit and, across the ticks of `dha monitor`, once until
/// it changes. At most [`MAX_CACHED_HASHES`] images are kept; an image no
/// process ran in the previous round is forgotten at [`ExeHashes::next_round`].
pub(crate) struct ExeHashes {
    known: BTreeMap<ExeId, (String, u64)>,
    round: u64,
    max: usize,
    identity: fn(u32) -> Option<ExeId>,
}

impl ExeHashes {
    /// An empty cache that identifies images through `/proc/PID/exe`.
    pub(crate) fn new() -> Self {
        ExeHashes::with_identity(ExeId::of_pid)
    }

    /// An empty cache with another way to identify a process's image.
    pub(crate) fn with_identity(identity: fn(u32) -> Option<ExeId>) -> Self {
        ExeHashes {
            known: BTreeMap::new(),
            round: 0,
            max: MAX_CACHED_HASHES,
            identity,
        }
    }

    /// Starts a round (a tick): images not used in the previous one (or
    /// this one) are forgotten.
    pub(crate) fn next_round(&mut self) {
        let previous = self.round;
        self.known.retain(|_, (_, used)| *used >= previous);
        self.round = self.round.saturating_add(1);
    }

    /// The SHA-256 of the image `pid` runs: kept, or computed by `hash`.
    /// A hash is kept only when the identity is the same before and after
    /// it was computed (the process did not exec another image meanwhile).
    pub(crate) fn sha256(
        &mut self,
        pid: u32,
        hash: &dyn Fn(u32) -> Option<String>,
    ) -> Option<String> {
        let Some(id) = (self.identity)(pid) else {
            return hash(pid);
        };
        if let Some((h, used)) = self.known.get_mut(&id) {
            *used = self.round;
            return Some(h.clone());
        }
        let h = hash(pid)?;
        if self.known.len() < self.max && (self.identity)(pid) == Some(id) {
            self.known.insert(id, (h.clone(), self.round));
        }
        Some(h)
    }
}

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
    /// Its directory, or an ancestor that is not sticky, may be written by
    /// anyone (mode shown).
    WorldWritableDir(String, u32),
    /// An ancestor directory is owned by a user other than root, or may be
    /// written by a group other than root's (and is not sticky).
    DirWritableByNonRoot {
        /// The directory.
        dir: String,
        /// Its owner.
        uid: u32,
        /// Its group.
        gid: u32,
        /// Its mode bits.
        mode: u32,
    },
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
        /// The running image's (the first process that differs).
        got: String,
        /// The first process whose image differs.
        pid: u32,
        /// How many of the executable's processes differ.
        differing: usize,
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
            Reason::DirWritableByNonRoot {
                dir,
                uid,
                gid,
                mode,
            } => format!(
                "lies under {dir}, which a user other than root may change (uid {uid}, gid {gid}, \
                 mode {mode:04o})"
            ),
            Reason::WritableByNonRoot { uid, gid, mode } => format!(
                "may be written by a user other than root (uid {uid}, gid {gid}, mode {mode:04o})"
            ),
            Reason::NotAllowed => "is not on the allow-list ([allow].processes)".to_owned(),
            Reason::HashMismatch {
                want,
                got,
                pid,
                differing,
            } => format!(
                "does not have the pinned SHA-256 (pinned {want}, running {got} in pid {pid}{})",
                if *differing > 1 {
                    format!(" and {} more", differing.saturating_sub(1))
                } else {
                    String::new()
                }
            ),
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
            Reason::WritableByNonRoot { .. } | Reason::DirWritableByNonRoot { .. }
                if root_runs_it =>
            {
                Severity::High
            }
            Reason::WritableByNonRoot { .. }
            | Reason::DirWritableByNonRoot { .. }
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
    /// Every process (bounded by the process table), for the hash.
    all_pids: Vec<u32>,
    count: usize,
    names: Vec<String>,
    root_runs_it: bool,
}

/// The executables to report among `procs` (see the module
/// documentation); `hash` gives the SHA-256 of a process's running image
/// (through `hashes`, which reads each image once). Sorted by executable.
pub(crate) fn unexpected(
    procs: &[ProcessInfo],
    allow: &AllowPolicy,
    hashes: &mut ExeHashes,
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
                all_pids: Vec::new(),
                count: 0,
                names: Vec::new(),
                root_runs_it: false,
            });
        g.count = g.count.saturating_add(1);
        g.all_pids.push(p.pid);
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
        g.all_pids.sort_unstable();
        let mut reasons = Vec::new();
        if exe.starts_with("/memfd:") {
            reasons.push(Reason::MemoryFile);
        } else if deleted {
            reasons.push(Reason::Deleted);
        }
        let path = Path::new(&exe);
        if let Some(t) = TEMPORARY.iter().find(|t| path.starts_with(t)) {
            reasons.push(Reason::Temporary(t));
        } else if let Some(r) = unsafe_directory(path) {
            reasons.push(r);
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
                    if let Some(want) = &a.sha256 {
                        let mut first: Option<(String, u32)> = None;
                        let mut differing = 0usize;
                        let mut unhashed: Vec<u32> = Vec::new();
                        for &pid in &g.all_pids {
                            match hashes.sha256(pid, hash) {
                                Some(got) if got.eq_ignore_ascii_case(want) => {}
                                Some(got) => {
                                    differing = differing.saturating_add(1);
                                    first.get_or_insert((got, pid));
                                }
                                None => unhashed.push(pid),
                            }
                        }
                        if let Some((got, pid)) = first {
                            reasons.push(Reason::HashMismatch {
                                want: want.clone(),
                                got,
                                pid,
                                differing,
                            });
                        }
                        if let Some(pid) = unhashed.first() {
                            warn(format!(
                                "/proc/{pid}/exe: the executable of {exe} could not be hashed \
                                 (it exited, or is larger than the limit) in {} of its {} \
                                 process(es); their pinned SHA-256 was not compared",
                                unhashed.len(),
                                g.all_pids.len()
                            ));
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

/// The nearest ancestor directory of `exe` (up to `/`, at most
/// [`MAX_DEPTH`]) that lets a user other than root replace what runs: its
/// own directory writable by anyone; an ancestor writable by anyone and not
/// sticky; one owned by a user other than root; one writable by a group
/// other than root's and not sticky (see the module documentation). A
/// directory that cannot be read is skipped.
fn unsafe_directory(exe: &Path) -> Option<Reason> {
    for (depth, dir) in exe.ancestors().skip(1).take(MAX_DEPTH).enumerate() {
        if dir.as_os_str().is_empty() {
            break;
        }
        let Ok(m) = std::fs::metadata(dir) else {
            continue;
        };
        let mode = m.mode() & 0o7777;
        let sticky = mode & 0o1000 != 0;
        if mode & 0o002 != 0 && (depth == 0 || !sticky) {
            return Some(Reason::WorldWritableDir(dir.display().to_string(), mode));
        }
        if m.uid() != 0 || (mode & 0o020 != 0 && m.gid() != 0 && !sticky) {
            return Some(Reason::DirWritableByNonRoot {
                dir: dir.display().to_string(),
                uid: m.uid(),
                gid: m.gid(),
                mode,
            });
        }
    }
    None
}
