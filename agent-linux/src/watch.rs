//! Watch mode of the integrity scan (issue 4 "Scan": "inotify through nix on
//! the policy's paths, re-checking only what changed, and a full rescan
//! when the kernel's event queue overflows; runs until stopped, emitting
//! events").
//!
//! How it works (inotify(7)):
//! - one inotify instance, non-blocking, polled at most [`POLL_INTERVAL`]
//!   at a time so that `stop` is honoured;
//! - a watch on every directory the policy governs or must descend into
//!   ([`CompiledPolicy::descend_into`]), and on every ancestor of a rule's
//!   path (so that a rule's path that is a file, or a rule's directory that
//!   is removed and made again, is seen). Symbolic links are never followed
//!   (`IN_DONT_FOLLOW | IN_ONLYDIR`); `IN_EXCL_UNLINK` keeps files unlinked
//!   but still open from producing events;
//! - a directory that appears (created, or moved in) is watched at once and
//!   then walked by the re-check, since files may have been made in it before
//!   its watch was in place; a directory that goes away (deleted, moved out)
//!   has its watches removed, and everything the baseline holds below it is
//!   re-checked;
//! - events are collected for [`WatchOptions::debounce`] from the first one,
//!   then the touched paths are re-checked with [`scan_paths`] and compared
//!   with the baseline ([`diff_paths`], [`diff_records`]);
//! - `IN_Q_OVERFLOW` (the kernel dropped events: more than
//!   `/proc/sys/fs/inotify/max_queued_events` were waiting) triggers a full
//!   [`scan()`] and [`diff()`], and the watches are established afresh.
//!
//! What is emitted: [`WatchEvent::Changes`] holds, for the paths re-checked,
//! the changes against the baseline that differ from what was last emitted
//! for the same path. A file written ten times shows one change per distinct
//! state (per debounce period at most), not one per `write(2)`; a file whose
//! state returns to what the baseline holds emits nothing, but its state is
//! cleared, so changing it again is reported again. [`WatchEvent::Rescanned`]
//! holds every change against the baseline (the complete picture, since
//! events were lost), and resets that state.
//!
//! Watch mode reports what changes while it runs; a `check` gives the state
//! at the start.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dha_core::integrity::{
    Baseline, Change, CompiledPolicy, FileRecord, FsExtras, IntegrityError, ScanMode, ScanOptions,
    ScanOutcome, ScanProblemKind, diff, diff_paths, diff_records, scan, scan_paths,
};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};

/// The longest `watch` waits before looking at `stop` again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The default debounce period ([`WatchOptions::debounce`]).
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// The kernel's limit on watches per user (inotify(7) "/proc interfaces").
pub const MAX_USER_WATCHES: &str = "/proc/sys/fs/inotify/max_user_watches";

/// The kernel's limit on inotify instances per user.
pub const MAX_USER_INSTANCES: &str = "/proc/sys/fs/inotify/max_user_instances";

/// The kernel's limit on queued events per instance; beyond it events are
/// dropped and `IN_Q_OVERFLOW` is queued.
pub const MAX_QUEUED_EVENTS: &str = "/proc/sys/fs/inotify/max_queued_events";

/// The reason given in [`WatchEvent::Rescanned`] after an overflow.
pub const OVERFLOW_REASON: &str = "kernel event queue overflowed";

/// Directories that could not be watched, reported one by one up to this
/// many per (re-)establishment; the rest are counted in one more problem.
const PROBLEMS_LISTED: usize = 10;

/// Reads of the inotify descriptor per loop turn, so that a flood of events
/// cannot keep the loop from looking at `stop` and the debounce deadline.
const READS_PER_TURN: usize = 256;

/// The events a directory watch asks for.
fn watch_mask() -> AddWatchFlags {
    AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_ATTRIB
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF
        | AddWatchFlags::IN_DONT_FOLLOW
        | AddWatchFlags::IN_ONLYDIR
        // nix 0.30 has no name for IN_EXCL_UNLINK (Linux 2.6.36); the bit
        // comes from libc's copy of <sys/inotify.h>.
        | AddWatchFlags::from_bits_retain(nix::libc::IN_EXCL_UNLINK)
}

/// How to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// How long events are collected, from the first one, before the
    /// touched paths are re-checked.
    pub debounce: Duration,
    /// Worker threads of the re-checks and rescans; 0 means one per core.
    pub threads: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: DEFAULT_DEBOUNCE,
            threads: 0,
        }
    }
}

/// What [`watch`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The watches are in place; changes made from now on are seen.
    Ready {
        /// The number of directories watched.
        directories: usize,
    },
    /// Changes against the baseline seen since the last event, sorted by
    /// path (only those that differ from what was last emitted for a path;
    /// see the module documentation).
    Changes(Vec<Change>),
    /// A full rescan was made; `changes` holds every change against the
    /// baseline.
    Rescanned {
        /// Why (for an overflow: [`OVERFLOW_REASON`]).
        reason: String,
        /// Every change against the baseline, sorted by path.
        changes: Vec<Change>,
    },
    /// Something watch mode could not do (a directory it cannot watch, a
    /// path it cannot read); it keeps going.
    Problem(String),
}

/// Watches the objects `policy` governs and reports their changes against
/// `baseline` through `on_event` (called on this thread), until `stop` is
/// set (looked at every [`POLL_INTERVAL`] while waiting for events, and
/// after each re-check, which a large rescan can make longer). Events still
/// being collected when `stop` is set are dropped.
///
/// Emits [`WatchEvent::Ready`] once the watches are in place. Errors: the
/// inotify instance cannot be made (`EMFILE`: the limit in
/// [`MAX_USER_INSTANCES`]), polling or reading it fails, or a full rescan
/// fails as a whole.
pub fn watch(
    policy: &CompiledPolicy,
    fsx: &dyn FsExtras,
    baseline: &Baseline,
    options: &WatchOptions,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(WatchEvent),
) -> Result<(), IntegrityError> {
    let mut w = Watcher::new(policy, fsx, baseline, options)?;
    let problems = w.establish();
    emit_problems(problems, on_event);
    on_event(WatchEvent::Ready {
        directories: w.dirs.len(),
    });
    while !stop.load(Ordering::Relaxed) {
        w.turn(on_event)?;
    }
    Ok(())
}

fn emit_problems(problems: Vec<String>, on_event: &mut dyn FnMut(WatchEvent)) {
    let more = problems.len().saturating_sub(PROBLEMS_LISTED);
    for p in problems.into_iter().take(PROBLEMS_LISTED) {
        on_event(WatchEvent::Problem(p));
    }
    if more > 0 {
        on_event(WatchEvent::Problem(format!(
            "{more} more directories could not be watched"
        )));
    }
}

/// Paths touched since the last re-check.
#[derive(Debug, Default)]
struct Pending {
    /// Paths re-checked by themselves (a file written, a directory's
    /// attributes changed).
    exact: BTreeSet<PathBuf>,
    /// Paths re-checked with everything below them (a directory that
    /// appeared or went away).
    subtree: BTreeSet<PathBuf>,
    /// Events were lost: rescan everything.
    rescan: bool,
    /// When the first of these events was read.
    since: Option<Instant>,
}

impl Pending {
    fn touch(&mut self) {
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
    }
}

struct Watcher<'a> {
    inotify: Inotify,
    policy: &'a CompiledPolicy,
    fsx: &'a dyn FsExtras,
    baseline: &'a Baseline,
    options: &'a WatchOptions,
    /// The directory each watch descriptor stands for.
    dirs: HashMap<WatchDescriptor, PathBuf>,
    /// The change last emitted for each path (see the module documentation).
    emitted: BTreeMap<Box<[u8]>, Change>,
    pending: Pending,
}

impl<'a> Watcher<'a> {
    fn new(
        policy: &'a CompiledPolicy,
        fsx: &'a dyn FsExtras,
        baseline: &'a Baseline,
        options: &'a WatchOptions,
    ) -> Result<Self, IntegrityError> {
        let inotify =
            Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).map_err(|e| {
                IntegrityError::io(MAX_USER_INSTANCES, io::Error::from_raw_os_error(e as i32))
            })?;
        Ok(Watcher {
            inotify,
            policy,
            fsx,
            baseline,
            options,
            dirs: HashMap::new(),
            emitted: BTreeMap::new(),
            pending: Pending::default(),
        })
    }

    fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            mode: ScanMode::Full,
            threads: self.options.threads,
        }
    }

    /// Watches every directory of the policy (the ancestors of each rule's
    /// path, and the directories below it the walk descends into), and
    /// removes the watches of directories no longer found. Returns the
    /// directories that could not be watched or listed.
    fn establish(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut found: HashMap<WatchDescriptor, PathBuf> = HashMap::new();
        let mut visited: HashSet<PathBuf> = HashSet::new();
        let mut roots: Vec<PathBuf> = self.policy.rules.iter().map(|r| r.path.clone()).collect();
        roots.sort();
        roots.dedup();
        for root in &roots {
            for a in root.ancestors().skip(1) {
                if visited.insert(a.to_path_buf()) && self.policy.descend_into(a) {
                    self.add_one(a, &mut found, &mut problems);
                }
            }
            self.walk(root, &mut visited, &mut found, &mut problems);
        }
        // Watches of directories not reached any more (moved away or
        // deleted while events were lost).
        for (wd, _) in self.dirs.drain() {
            if !found.contains_key(&wd) {
                // EINVAL: the kernel removed it already.
                let _ = self.inotify.rm_watch(wd);
            }
        }
        self.dirs = found;
        problems
    }

    /// Watches `top` and the directories below it the policy descends into.
    fn walk(
        &self,
        top: &Path,
        visited: &mut HashSet<PathBuf>,
        found: &mut HashMap<WatchDescriptor, PathBuf>,
        problems: &mut Vec<String>,
    ) {
        let mut stack = vec![top.to_path_buf()];
        while let Some(dir) = stack.pop() {
            if !visited.insert(dir.clone()) || !self.policy.descend_into(&dir) {
                continue;
            }
            // Never follows a symbolic link: lstat, then IN_DONT_FOLLOW.
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                _ => continue,
            }
            if !self.add_one(&dir, found, problems) {
                continue;
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    problems.push(format!("cannot list {}: {e}", dir.display()));
                    continue;
                }
            };
            for entry in entries.flatten() {
                // DirEntry::file_type does not follow symbolic links.
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
        }
    }

    /// Adds a watch on `dir`; false when there is none (vanished, not a
    /// directory, or refused: then a problem is recorded).
    fn add_one(
        &self,
        dir: &Path,
        found: &mut HashMap<WatchDescriptor, PathBuf>,
        problems: &mut Vec<String>,
    ) -> bool {
        match self.inotify.add_watch(dir, watch_mask()) {
            Ok(wd) => {
                found.insert(wd, dir.to_path_buf());
                true
            }
            // Vanished, or a symbolic link or file now sits there.
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => false,
            Err(Errno::ENOSPC) => {
                let limit = std::fs::read_to_string(MAX_USER_WATCHES)
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_else(|_| "?".to_owned());
                problems.push(format!(
                    "cannot watch {}: the limit of inotify watches per user is reached \
                     ({MAX_USER_WATCHES} = {limit}); changes below it are seen only by a check",
                    dir.display()
                ));
                false
            }
            Err(e) => {
                problems.push(format!("cannot watch {}: {}", dir.display(), e.desc()));
                false
            }
        }
    }

    /// Adds watches on a directory that appeared and the directories below
    /// it, reporting what could not be watched.
    fn watch_new_dir(&mut self, dir: &Path, on_event: &mut dyn FnMut(WatchEvent)) {
        let mut found = HashMap::new();
        let mut problems = Vec::new();
        let mut visited = HashSet::new();
        self.walk(dir, &mut visited, &mut found, &mut problems);
        self.dirs.extend(found);
        emit_problems(problems, on_event);
    }

    /// Removes the watches on `dir` and below (it went away or was moved).
    fn forget(&mut self, dir: &Path) {
        let gone: Vec<WatchDescriptor> = self
            .dirs
            .iter()
            .filter(|(_, p)| p.starts_with(dir))
            .map(|(wd, _)| *wd)
            .collect();
        for wd in gone {
            self.dirs.remove(&wd);
            // EINVAL: the kernel removed it already (IN_DELETE_SELF).
            let _ = self.inotify.rm_watch(wd);
        }
    }

    /// One turn of the loop: wait for events (at most [`POLL_INTERVAL`]),
    /// read them, and re-check when the debounce period is over.
    fn turn(&mut self, on_event: &mut dyn FnMut(WatchEvent)) -> Result<(), IntegrityError> {
        let wait = match self.pending.since {
            Some(t) => self
                .options
                .debounce
                .saturating_sub(t.elapsed())
                .min(POLL_INTERVAL),
            None => POLL_INTERVAL,
        };
        let timeout =
            u16::try_from(wait.as_millis()).map_or(PollTimeout::from(200u16), PollTimeout::from);
        let ready = {
            let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(n) => n > 0,
                Err(Errno::EINTR) => false,
                Err(e) => return Err(inotify_error("poll", e)),
            }
        };
        if ready {
            for _ in 0..READS_PER_TURN {
                match self.inotify.read_events() {
                    Ok(events) if events.is_empty() => break,
                    Ok(events) => {
                        for ev in events {
                            self.on_inotify(ev, on_event);
                        }
                    }
                    Err(Errno::EAGAIN) => break,
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(inotify_error("read", e)),
                }
            }
        }
        if self
            .pending
            .since
            .is_some_and(|t| t.elapsed() >= self.options.debounce)
        {
            self.flush(on_event)?;
        }
        Ok(())
    }

    /// Records what one inotify event touched; keeps the watches in step
    /// with directories that appear and go away.
    fn on_inotify(&mut self, ev: InotifyEvent, on_event: &mut dyn FnMut(WatchEvent)) {
        let mask = ev.mask;
        if mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
            self.pending.rescan = true;
            self.pending.touch();
            return;
        }
        if mask.contains(AddWatchFlags::IN_IGNORED) {
            // The watch is gone (its directory was deleted, or rm_watch).
            self.dirs.remove(&ev.wd);
            return;
        }
        let Some(dir) = self.dirs.get(&ev.wd).cloned() else {
            return; // a watch already forgotten
        };
        let Some(name) = ev.name else {
            // The watched directory itself.
            if mask.intersects(AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_MOVE_SELF) {
                self.forget(&dir);
                self.note(dir, true);
            } else {
                self.note(dir, false);
            }
            return;
        };
        let path = dir.join(name);
        if mask.contains(AddWatchFlags::IN_ISDIR) {
            if mask.intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO) {
                self.watch_new_dir(&path, on_event);
                self.note(path, true);
            } else if mask.intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM) {
                self.forget(&path);
                self.note(path, true);
            } else {
                self.note(path, false);
            }
        } else {
            self.note(path, false);
        }
    }

    /// Adds `path` to the pending re-check if the policy governs it (or,
    /// for a subtree, anything below it).
    fn note(&mut self, path: PathBuf, subtree: bool) {
        let governed = self.policy.rule_for(&path).is_some();
        if subtree {
            if governed || self.policy.descend_into(&path) {
                self.pending.subtree.insert(path);
                self.pending.touch();
            }
        } else if governed {
            self.pending.exact.insert(path);
            self.pending.touch();
        }
    }

    /// Re-checks the pending paths (or everything, after an overflow) and
    /// emits what changed.
    fn flush(&mut self, on_event: &mut dyn FnMut(WatchEvent)) -> Result<(), IntegrityError> {
        let pending = std::mem::take(&mut self.pending);
        if pending.rescan {
            return self.rescan(OVERFLOW_REASON, on_event);
        }
        // The subtree roots, without those below another one; the exact
        // paths not below any of them.
        let mut subtree: Vec<PathBuf> = Vec::new();
        for p in pending.subtree {
            if !subtree.iter().any(|r| p.starts_with(r)) {
                subtree.push(p);
            }
        }
        let exact: Vec<PathBuf> = pending
            .exact
            .into_iter()
            .filter(|p| !subtree.iter().any(|r| p.starts_with(r)))
            .collect();
        let opts = self.scan_options();
        let mut changes = Vec::new();
        let mut problems = Vec::new();
        if !subtree.is_empty() {
            // No prior: every directory given is walked.
            let out = scan_paths(self.policy, self.fsx, None, &opts, &subtree);
            changes.extend(diff_paths(
                self.policy,
                self.baseline,
                &out.records,
                &subtree,
            ));
            problems.push(out);
        }
        let exact_bytes: BTreeSet<&[u8]> = exact.iter().map(|p| p.as_os_str().as_bytes()).collect();
        if !exact.is_empty() {
            // With the baseline as prior, a directory it records is not
            // walked (only its own attributes are re-checked).
            let out = scan_paths(self.policy, self.fsx, Some(self.baseline), &opts, &exact);
            let current: Vec<FileRecord> = out
                .records
                .iter()
                .filter(|r| exact_bytes.contains(r.path.as_ref()))
                .cloned()
                .collect();
            let old: Vec<FileRecord> = exact_bytes
                .iter()
                .filter_map(|p| self.baseline.get(p).cloned())
                .collect();
            changes.extend(diff_records(self.policy, &old, &current));
            problems.push(out);
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        let fresh = self.remember(changes, |p| {
            exact_bytes.contains(p) || subtree.iter().any(|r| under(p, r.as_os_str().as_bytes()))
        });
        for out in &problems {
            report_problems(out, on_event);
        }
        if !fresh.is_empty() {
            on_event(WatchEvent::Changes(fresh));
        }
        Ok(())
    }

    /// Updates the emitted state for the paths `in_scope` accepts, and
    /// returns the changes that differ from what was last emitted.
    fn remember(&mut self, changes: Vec<Change>, in_scope: impl Fn(&[u8]) -> bool) -> Vec<Change> {
        let now: BTreeSet<&[u8]> = changes.iter().map(|c| c.path.as_ref()).collect();
        // Back to the baseline's state: forget what was emitted.
        self.emitted
            .retain(|p, _| !in_scope(p) || now.contains(p.as_ref()));
        let mut fresh = Vec::new();
        for c in changes {
            if self.emitted.get(&c.path) != Some(&c) {
                self.emitted.insert(c.path.clone(), c.clone());
                fresh.push(c);
            }
        }
        fresh
    }

    /// Re-establishes the watches, scans everything and emits every change
    /// against the baseline.
    fn rescan(
        &mut self,
        reason: &str,
        on_event: &mut dyn FnMut(WatchEvent),
    ) -> Result<(), IntegrityError> {
        let problems = self.establish();
        emit_problems(problems, on_event);
        let out = scan(self.policy, self.fsx, None, &self.scan_options(), &|_| {})?;
        let changes = diff(self.policy, self.baseline, &out.records);
        self.emitted = changes
            .iter()
            .map(|c| (c.path.clone(), c.clone()))
            .collect();
        report_problems(&out, on_event);
        on_event(WatchEvent::Rescanned {
            reason: reason.to_owned(),
            changes,
        });
        Ok(())
    }
}

/// Emits the problems of a re-check, but not the objects that vanished or
/// changed while they were read: in watch mode those are files being
/// written or removed, and the next event re-checks them.
fn report_problems(out: &ScanOutcome, on_event: &mut dyn FnMut(WatchEvent)) {
    for p in &out.problems {
        if matches!(
            p.kind,
            ScanProblemKind::Vanished | ScanProblemKind::ChangedDuringScan
        ) {
            continue;
        }
        on_event(WatchEvent::Problem(format!(
            "{}: {}",
            p.path_lossy(),
            p.kind
        )));
    }
}

/// Whether `path` is `root` or lies below it (path bytes).
fn under(path: &[u8], root: &[u8]) -> bool {
    match path.strip_prefix(root) {
        Some(rest) => rest.is_empty() || rest.starts_with(b"/") || root.ends_with(b"/"),
        None => false,
    }
}

fn inotify_error(what: &str, e: Errno) -> IntegrityError {
    IntegrityError::io(
        format!("inotify ({what})"),
        io::Error::from_raw_os_error(e as i32),
    )
}

#[cfg(test)]
mod tests;
