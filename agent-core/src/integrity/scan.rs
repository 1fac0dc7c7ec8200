//! The walker and the hashing pool (issue 4 "Scan"; DESIGN.md flow 3).
//!
//! [`scan`] walks the policy's rules in parallel on a private rayon pool
//! (all cores by default; a caller's global pool is left alone) and records
//! each governed object as a [`FileRecord`], sorted by path bytes as the
//! baseline format requires.
//!
//! Safety of the walk:
//! - symbolic links are never followed: objects are examined with `lstat`
//!   (`symlink_metadata`), regular files are opened with
//!   `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY`, and a rule path that is itself a
//!   symlink is recorded as a symlink;
//! - FIFOs, sockets and device nodes are never opened (their `lstat`
//!   attributes are recorded), so a FIFO cannot hang the scan;
//! - a regular file is read only up to the size `lstat` gave, then `fstat`ed
//!   on the open descriptor: a different device/inode (the path was replaced
//!   between `lstat` and `open`), or a different size, mtime or ctime (it was
//!   written while it was read), means the content read belongs to no single
//!   version of the file. The file is read once more; if it changes again the
//!   record is kept with its stat attributes but **without hashes**, and a
//!   [`ScanProblemKind::ChangedDuringScan`] problem is reported. A record
//!   without the hashes its rule watches is never trusted by a later quick
//!   scan, and a diff shows the hash as changed;
//! - a directory is `lstat`ed before and after its entries are listed; a
//!   different device/inode afterwards (it was replaced, say by a symlink,
//!   while it was read) discards its entries and reports
//!   `ChangedDuringScan`. (`std::fs::read_dir` opens by path, so the check
//!   cannot be made on the descriptor itself; the window is that of two
//!   system calls.)
//! - vanished objects, permission errors and other I/O errors are reported as
//!   [`ScanProblem`]s, never fatal.
//!
//! Memory is bounded whatever the file sizes: each worker hashes through one
//! buffer of [`READ_BUFFER`] bytes.
//!
//! Quick mode ([`ScanMode::Quick`] with a prior baseline): a regular file
//! whose prior record has the same size, mtime, ctime, inode and device, and
//! already holds everything the rule watches that a stat does not give
//! (hashes, extended attributes, inode flags), is not opened: those are
//! copied from the prior record. ctime cannot be set from user space, and
//! every write, `setxattr(2)` (ACLs, capabilities, SELinux labels) and
//! `FS_IOC_SETFLAGS` (chattr) updates it, so a `touch -r` that restores the
//! mtime, or an xattr or flag change, is still caught. Copying the extended
//! attributes and flags rather than re-reading them is what keeps a quick
//! scan at one `lstat` per unchanged file.

use std::cell::RefCell;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::digest;

use crate::integrity::attrs::{Attr, AttrSet};
use crate::integrity::baseline::Baseline;
use crate::integrity::error::IntegrityError;
use crate::integrity::fsx::FsExtras;
use crate::integrity::policy::CompiledPolicy;
use crate::integrity::record::{EntryType, FileRecord, FileTime, RecordExtra, Xattr};

/// The read buffer of each worker: large enough that a big file costs few
/// system calls, small enough that memory stays bounded (one per thread).
pub const READ_BUFFER: usize = 256 * 1024;

/// The files listed from one directory that a worker handles as one task;
/// larger directories are split so that all cores share them.
const CHUNK: usize = 32;

/// Progress is reported every this many objects …
const PROGRESS_FILES: u64 = 256;
/// … or every this many bytes hashed, whichever comes first.
const PROGRESS_BYTES: u64 = 64 * 1024 * 1024;

/// How a scan treats files that look unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanMode {
    /// Rehash every regular file.
    #[default]
    Full,
    /// Trust a regular file whose size, mtime, ctime, inode and device equal
    /// those of its prior record (see the module documentation).
    Quick,
}

/// How to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanOptions {
    /// Full or quick.
    pub mode: ScanMode,
    /// Worker threads; 0 means one per core (or `RAYON_NUM_THREADS`).
    pub threads: usize,
}

/// Where a running scan is, passed to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanProgress {
    /// Objects examined so far (files, directories, others).
    pub files_done: u64,
    /// Bytes of content hashed so far.
    pub bytes_hashed: u64,
    /// The number of objects the prior baseline holds, when one was given:
    /// an estimate of the total.
    pub files_total_estimate: Option<u64>,
}

/// What a scan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanStats {
    /// Regular files recorded.
    pub files: u64,
    /// Directories recorded.
    pub directories: u64,
    /// Other objects recorded (symlinks, FIFOs, sockets, devices).
    pub others: u64,
    /// Bytes of content read and hashed.
    pub bytes_hashed: u64,
    /// Regular files whose content was read.
    pub files_hashed: u64,
    /// Regular files trusted in quick mode (not read).
    pub files_trusted_quick: u64,
}

impl ScanStats {
    fn add(&mut self, o: &ScanStats) {
        self.files = self.files.saturating_add(o.files);
        self.directories = self.directories.saturating_add(o.directories);
        self.others = self.others.saturating_add(o.others);
        self.bytes_hashed = self.bytes_hashed.saturating_add(o.bytes_hashed);
        self.files_hashed = self.files_hashed.saturating_add(o.files_hashed);
        self.files_trusted_quick = self
            .files_trusted_quick
            .saturating_add(o.files_trusted_quick);
    }
}

/// Why an object could not be (fully) recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScanProblemKind {
    /// It disappeared between being listed and being examined (no record).
    Vanished,
    /// It changed or was replaced while it was read (the record, if any,
    /// carries no hashes).
    ChangedDuringScan,
    /// The scanner may not read it (`EACCES`, `EPERM`); the record, if any,
    /// lacks what could not be read.
    PermissionDenied,
    /// Another I/O error, with the operating system's message.
    Io(String),
}

impl std::fmt::Display for ScanProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanProblemKind::Vanished => f.write_str("vanished during the scan"),
            ScanProblemKind::ChangedDuringScan => f.write_str("changed during the scan"),
            ScanProblemKind::PermissionDenied => f.write_str("permission denied"),
            ScanProblemKind::Io(m) => write!(f, "I/O error: {m}"),
        }
    }
}

/// An object the scan could not record, or not completely.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScanProblem {
    /// The full path, as bytes.
    pub path: Box<[u8]>,
    /// What went wrong.
    pub kind: ScanProblemKind,
}

impl ScanProblem {
    /// The path as text for reports (invalid UTF-8 replaced by U+FFFD).
    pub fn path_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }
}

/// The result of a scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    /// One record per governed object, sorted by path bytes.
    pub records: Vec<FileRecord>,
    /// The objects that could not be recorded completely, sorted.
    pub problems: Vec<ScanProblem>,
    /// Counters.
    pub stats: ScanStats,
}

/// Scans every object the policy governs.
///
/// `prior` is the baseline to trust unchanged files from in
/// [`ScanMode::Quick`] (ignored in full mode, except as the progress
/// estimate). `progress` is called from any worker thread, at most every
/// 256 objects or 64 MiB hashed, and once at the end.
///
/// Problems with single objects are reported in the outcome; the `Err` case
/// is reserved for failures of the scan as a whole.
pub fn scan(
    policy: &CompiledPolicy,
    fsx: &dyn FsExtras,
    prior: Option<&Baseline>,
    options: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<ScanOutcome, IntegrityError> {
    let prior = prior.map(|b| b.records.as_slice());
    let ctx = Ctx::new(policy, fsx, prior, options, progress);
    let roots = walk_roots(policy);
    let outcome = run_in_pool(options.threads, || {
        rayon::scope(|s| {
            for root in roots {
                let ctx = &ctx;
                s.spawn(move |s| {
                    let rule = ctx.policy.rule_for(&root);
                    ctx.visit_top(s, root, rule, true);
                });
            }
        });
        ctx.finish()
    });
    Ok(outcome)
}

/// Re-checks only `paths` (absolute), for watch mode: each path the policy
/// governs is recorded, and a directory that appeared (no directory record
/// for it in `prior`, or no `prior`) is walked as well. A path that no
/// longer exists yields no record; a path the policy does not govern yields
/// nothing, unless rules lie below it (they are walked). Duplicate paths are
/// recorded once.
pub fn scan_paths(
    policy: &CompiledPolicy,
    fsx: &dyn FsExtras,
    prior: Option<&Baseline>,
    options: &ScanOptions,
    paths: &[PathBuf],
) -> ScanOutcome {
    let prior = prior.map(|b| b.records.as_slice());
    scan_paths_with(policy, fsx, prior, options, paths)
}

fn scan_paths_with(
    policy: &CompiledPolicy,
    fsx: &dyn FsExtras,
    prior: Option<&[FileRecord]>,
    options: &ScanOptions,
    paths: &[PathBuf],
) -> ScanOutcome {
    let no_progress = |_: ScanProgress| {};
    let ctx = Ctx::new(policy, fsx, prior, options, &no_progress);
    let mut paths: Vec<&PathBuf> = paths.iter().filter(|p| p.is_absolute()).collect();
    paths.sort();
    paths.dedup();
    run_in_pool(options.threads, || {
        rayon::scope(|s| {
            for path in paths {
                let ctx = &ctx;
                s.spawn(move |s| {
                    let rule = ctx.policy.rule_for(path);
                    if rule.is_some() {
                        let appeared = prior
                            .and_then(|p| lookup(p, path.as_os_str().as_bytes()))
                            .is_none_or(|r| r.entry_type != EntryType::Directory);
                        ctx.visit_top(s, path.clone(), rule, appeared);
                    } else {
                        // Not governed itself: walk the rules below it, as
                        // a full scan would reach them.
                        for root in walk_roots(ctx.policy) {
                            if root != *path && root.starts_with(path) {
                                let rule = ctx.policy.rule_for(&root);
                                ctx.visit_top(s, root, rule, true);
                            }
                        }
                    }
                });
            }
        });
        ctx.finish()
    })
}

/// Runs `f` on a private pool of `threads` workers (0: one per core), so
/// that a library user's global rayon pool is not disturbed. Should the pool
/// not start (no threads available), `f` runs on the global pool.
fn run_in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("dha-scan-{i}"))
        .build()
    {
        Ok(pool) => pool.install(f),
        Err(e) => {
            log::warn!("integrity scan: no worker pool ({e}); using the global one");
            f()
        }
    }
}

/// The paths to start walking from: the rules' paths, without those below
/// another rule's path (the walk from that one reaches them through
/// [`CompiledPolicy::descend_into`]).
fn walk_roots(policy: &CompiledPolicy) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = policy.rules.iter().map(|r| r.path.clone()).collect();
    paths.sort();
    paths.dedup();
    let mut roots: Vec<PathBuf> = Vec::new();
    for p in paths {
        // Sorted by components: an ancestor comes before its descendants.
        if !roots.iter().any(|r| p.starts_with(r)) {
            roots.push(p);
        }
    }
    roots
}

/// The prior record of `path` (records sorted by path bytes).
fn lookup<'p>(prior: &'p [FileRecord], path: &[u8]) -> Option<&'p FileRecord> {
    prior
        .binary_search_by(|r| r.path.as_ref().cmp(path))
        .ok()
        .and_then(|i| prior.get(i))
}

/// The records below `dir` (paths starting with `dir/`): contiguous in
/// path-byte order.
fn below<'p>(prior: &'p [FileRecord], dir: &Path) -> &'p [FileRecord] {
    let mut prefix = dir.as_os_str().as_bytes().to_vec();
    if prefix.last() != Some(&b'/') {
        prefix.push(b'/');
    }
    let start = prior.partition_point(|r| r.path.as_ref() < prefix.as_slice());
    let rest = prior.get(start..).unwrap_or_default();
    let len = rest.partition_point(|r| r.path.starts_with(&prefix));
    rest.get(..len).unwrap_or_default()
}

thread_local! {
    /// The read buffer of this worker (see [`READ_BUFFER`]).
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What one task found, merged into the shared outcome once per task.
#[derive(Default)]
struct Batch<'a> {
    records: Vec<FileRecord>,
    problems: Vec<ScanProblem>,
    stats: ScanStats,
    /// Quick mode: the prior records to look files up in (those below the
    /// directory being listed, which makes the binary search short).
    prior: Option<&'a [FileRecord]>,
}

impl Batch<'_> {
    fn problem(&mut self, path: &Path, kind: ScanProblemKind) {
        self.problems.push(ScanProblem {
            path: path.as_os_str().as_bytes().into(),
            kind,
        });
    }
}

struct Ctx<'a> {
    policy: &'a CompiledPolicy,
    fsx: &'a dyn FsExtras,
    /// The records to trust from (quick mode only).
    quick_from: Option<&'a [FileRecord]>,
    estimate: Option<u64>,
    progress: &'a (dyn Fn(ScanProgress) + Sync),
    files_done: AtomicU64,
    bytes_hashed: AtomicU64,
    out: Mutex<Batch<'a>>,
}

impl<'a> Ctx<'a> {
    fn new(
        policy: &'a CompiledPolicy,
        fsx: &'a dyn FsExtras,
        prior: Option<&'a [FileRecord]>,
        options: &ScanOptions,
        progress: &'a (dyn Fn(ScanProgress) + Sync),
    ) -> Self {
        Ctx {
            policy,
            fsx,
            quick_from: prior.filter(|_| options.mode == ScanMode::Quick),
            estimate: prior.and_then(|p| u64::try_from(p.len()).ok()),
            progress,
            files_done: AtomicU64::new(0),
            bytes_hashed: AtomicU64::new(0),
            out: Mutex::new(Batch::default()),
        }
    }

    fn snapshot(&self) -> ScanProgress {
        ScanProgress {
            files_done: self.files_done.load(Ordering::Relaxed),
            bytes_hashed: self.bytes_hashed.load(Ordering::Relaxed),
            files_total_estimate: self.estimate,
        }
    }

    /// Counts one object examined and `bytes` hashed, and reports progress at
    /// the bounded rate.
    fn tick(&self, bytes: u64) {
        let files = self
            .files_done
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let before = self.bytes_hashed.fetch_add(bytes, Ordering::Relaxed);
        let after = before.saturating_add(bytes);
        if files % PROGRESS_FILES == 0 || before / PROGRESS_BYTES != after / PROGRESS_BYTES {
            (self.progress)(ScanProgress {
                files_done: files,
                bytes_hashed: after,
                files_total_estimate: self.estimate,
            });
        }
    }

    fn flush(&self, batch: Batch<'a>) {
        if batch.records.is_empty() && batch.problems.is_empty() {
            return;
        }
        // A poisoned lock only means another worker panicked mid-append;
        // what it appended is still well-formed.
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.records.extend(batch.records);
        out.problems.extend(batch.problems);
        out.stats.add(&batch.stats);
    }

    fn finish(&self) -> ScanOutcome {
        let mut out = std::mem::take(&mut *self.out.lock().unwrap_or_else(|p| p.into_inner()));
        {
            use rayon::slice::ParallelSliceMut as _;
            out.records
                .par_sort_unstable_by(|a, b| a.path.as_ref().cmp(b.path.as_ref()));
        }
        out.records.dedup_by(|a, b| a.path == b.path);
        // The vector grew by doubling: give the slack back (up to half of
        // it) before a caller holds it next to a baseline.
        out.records.shrink_to_fit();
        out.problems.sort();
        out.problems.dedup();
        (self.progress)(self.snapshot());
        ScanOutcome {
            records: out.records,
            problems: out.problems,
            stats: out.stats,
        }
    }

    /// Examines a starting point (a rule path, or a path given to
    /// [`scan_paths`]): records it when `rule` governs it and, when it is a
    /// directory, `walk` is set and the policy says so, walks below it.
    fn visit_top<'s>(
        &'s self,
        s: &rayon::Scope<'s>,
        path: PathBuf,
        rule: Option<usize>,
        walk: bool,
    ) {
        let mut batch = Batch {
            prior: self.quick_from,
            ..Batch::default()
        };
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                log::debug!("integrity scan: {} does not exist", path.display());
            }
            Err(e) => batch.problem(&path, classify(&e)),
            Ok(meta) if meta.is_dir() => {
                if let Some(r) = rule {
                    self.visit_dir(&path, &meta, r, &mut batch);
                }
                if walk && self.policy.descend_into(&path) {
                    let id = (meta.dev(), meta.ino());
                    s.spawn(move |s| self.walk_dir(s, path, id));
                }
            }
            Ok(meta) => {
                if let Some(r) = rule {
                    self.visit_other(&path, meta, r, &mut batch);
                }
            }
        }
        self.flush(batch);
    }

    /// Lists `dir` (expected to be the directory `id` = (dev, inode)),
    /// records its governed entries and walks its subdirectories.
    fn walk_dir<'s>(&'s self, s: &rayon::Scope<'s>, dir: PathBuf, id: (u64, u64)) {
        let mut batch = Batch {
            prior: self.quick_from.map(|p| below(p, &dir)),
            ..Batch::default()
        };
        let entries = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                batch.problem(&dir, classify(&e));
                self.flush(batch);
                return;
            }
        };
        let mut subdirs: Vec<(PathBuf, Option<usize>)> = Vec::new();
        let mut files: Vec<(PathBuf, usize)> = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    batch.problem(&dir, classify(&e));
                    break;
                }
            };
            let path = entry.path();
            // d_type from readdir (an lstat only when the file system gives
            // none): a symlink is never taken for a directory.
            let is_dir = match entry.file_type() {
                Ok(t) => t.is_dir(),
                Err(e) => {
                    if e.kind() != io::ErrorKind::NotFound {
                        batch.problem(&path, classify(&e));
                    }
                    continue;
                }
            };
            let rule = self.policy.rule_for_entry(&path);
            if is_dir {
                if rule.is_some() || self.policy.descend_into(&path) {
                    subdirs.push((path, rule));
                }
            } else if let Some(r) = rule {
                files.push((path, r));
            }
        }
        // The directory listed must still be the one examined: otherwise it
        // was replaced (perhaps by a symlink) while it was read, and what was
        // listed may lie elsewhere.
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() && (m.dev(), m.ino()) == id => {}
            Ok(_) => {
                batch.problem(&dir, ScanProblemKind::ChangedDuringScan);
                self.flush(batch);
                return;
            }
            Err(e) => {
                batch.problem(&dir, classify(&e));
                self.flush(batch);
                return;
            }
        }
        for (path, rule) in subdirs {
            self.visit_subdir(s, path, rule, &mut batch);
        }
        // Hand full chunks of files to other workers; keep the last one.
        while files.len() > CHUNK {
            let chunk = files.split_off(files.len().saturating_sub(CHUNK));
            let prior = batch.prior;
            s.spawn(move |_| {
                let mut b = Batch {
                    prior,
                    ..Batch::default()
                };
                for (p, r) in chunk {
                    self.visit_path(&p, r, &mut b);
                }
                self.flush(b);
            });
        }
        for (p, r) in files {
            self.visit_path(&p, r, &mut batch);
        }
        self.flush(batch);
    }

    fn visit_subdir<'s>(
        &'s self,
        s: &rayon::Scope<'s>,
        path: PathBuf,
        rule: Option<usize>,
        batch: &mut Batch<'a>,
    ) {
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                batch.problem(&path, classify(&e));
                return;
            }
        };
        if !meta.is_dir() {
            // Replaced since it was listed: record what it is now.
            if let Some(r) = rule {
                batch.problem(&path, ScanProblemKind::ChangedDuringScan);
                self.visit_other(&path, meta, r, batch);
            }
            return;
        }
        if let Some(r) = rule {
            self.visit_dir(&path, &meta, r, batch);
        }
        if self.policy.descend_into(&path) {
            let id = (meta.dev(), meta.ino());
            s.spawn(move |s| self.walk_dir(s, path, id));
        }
    }

    /// Examines a listed non-directory entry.
    fn visit_path(&self, path: &Path, rule: usize, batch: &mut Batch<'a>) {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {
                // Replaced by a directory since it was listed: record it, do
                // not walk it (the next scan will).
                batch.problem(path, ScanProblemKind::ChangedDuringScan);
                self.visit_dir(path, &meta, rule, batch);
            }
            Ok(meta) => self.visit_other(path, meta, rule, batch),
            Err(e) => batch.problem(path, classify(&e)),
        }
    }

    fn attrs_of(&self, rule: usize) -> AttrSet {
        self.policy
            .rules
            .get(rule)
            .map_or(AttrSet::EMPTY, |r| r.attrs)
    }

    /// Records a directory: its stat attributes, and its flags and
    /// extended attributes when watched.
    fn visit_dir(&self, path: &Path, meta: &Metadata, rule: usize, batch: &mut Batch<'a>) {
        let attrs = self.attrs_of(rule);
        let mut rec = base_record(path, meta, attrs, EntryType::Directory);
        if attrs.contains(Attr::Fflags) {
            let opened = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(path);
            match opened.and_then(|f| Ok((f.metadata()?, f))) {
                Ok((m, f)) if (m.dev(), m.ino()) == (meta.dev(), meta.ino()) => {
                    match self.fsx.fflags(&f) {
                        Ok(flags) => rec.fflags = flags,
                        Err(e) => batch.problem(path, classify(&e)),
                    }
                }
                Ok(_) => batch.problem(path, ScanProblemKind::ChangedDuringScan),
                Err(e) => batch.problem(path, classify(&e)),
            }
        }
        if !self.add_xattrs(path, attrs, &mut rec, batch) {
            return;
        }
        batch.stats.directories = batch.stats.directories.saturating_add(1);
        batch.records.push(rec);
        self.tick(0);
    }

    /// Records a non-directory: a regular file (hashed), a symlink (its
    /// target read) or another object (stat attributes only, never opened).
    fn visit_other(&self, path: &Path, meta: Metadata, rule: usize, batch: &mut Batch<'a>) {
        let attrs = self.attrs_of(rule);
        let ty = EntryType::of(meta.file_type());
        if ty == EntryType::Regular {
            self.visit_file(path, meta, rule, batch);
            return;
        }
        let mut rec = base_record(path, &meta, attrs, ty);
        if ty == EntryType::Symlink && attrs.contains(Attr::LinkTarget) {
            match fs::read_link(path) {
                Ok(t) => extra(&mut rec).link_target = Some(t.as_os_str().as_bytes().into()),
                Err(e) => {
                    batch.problem(path, classify(&e));
                    if e.kind() == io::ErrorKind::NotFound {
                        return;
                    }
                }
            }
        }
        if !self.add_xattrs(path, attrs, &mut rec, batch) {
            return;
        }
        batch.stats.others = batch.stats.others.saturating_add(1);
        batch.records.push(rec);
        self.tick(0);
    }

    /// Reads the extended attributes the rule watches into `rec`. Returns
    /// false when the object vanished (no record then).
    fn add_xattrs(
        &self,
        path: &Path,
        attrs: AttrSet,
        rec: &mut FileRecord,
        b: &mut Batch<'a>,
    ) -> bool {
        if !attrs.needs_xattrs() {
            return true;
        }
        match self.fsx.xattrs(path) {
            Ok(list) => {
                let kept: Vec<Xattr> = list
                    .into_iter()
                    .filter(|x| attrs.watches_xattr(&x.name))
                    .collect();
                if !kept.is_empty() {
                    extra(rec).xattrs = kept;
                }
                true
            }
            Err(e) => {
                b.problem(path, classify(&e));
                e.kind() != io::ErrorKind::NotFound
            }
        }
    }

    /// Records a regular file: trusted from the prior record in quick mode,
    /// otherwise opened (never following a link), hashed, and checked not
    /// to have changed meanwhile.
    fn visit_file(&self, path: &Path, meta: Metadata, rule: usize, batch: &mut Batch<'a>) {
        let attrs = self.attrs_of(rule);
        let path_bytes = path.as_os_str().as_bytes();
        if let Some(prior) = batch
            .prior
            .and_then(|p| lookup(p, path_bytes))
            .filter(|p| trusted(p, &meta, attrs))
        {
            let mut rec = base_record(path, &meta, attrs, EntryType::Regular);
            copy_trusted(prior, attrs, &mut rec);
            batch.stats.files = batch.stats.files.saturating_add(1);
            batch.stats.files_trusted_quick = batch.stats.files_trusted_quick.saturating_add(1);
            batch.records.push(rec);
            self.tick(0);
            return;
        }
        let wants_open = attrs.needs_content() || attrs.contains(Attr::Fflags);
        let mut meta = meta;
        let mut rec = base_record(path, &meta, attrs, EntryType::Regular);
        let mut hashed = 0u64;
        if wants_open {
            let mut attempt = 0;
            loop {
                attempt += 1;
                let result = match self.read_file(path, &meta, attrs, &mut rec) {
                    // O_NOFOLLOW refused a symlink that replaced the file.
                    Err(e) if classify(&e) == ScanProblemKind::ChangedDuringScan => {
                        Ok(ReadResult::Changed(0))
                    }
                    other => other,
                };
                match result {
                    Ok(ReadResult::Done(n)) => {
                        hashed = hashed.saturating_add(n);
                        batch.stats.files_hashed = batch.stats.files_hashed.saturating_add(1);
                        break;
                    }
                    Ok(ReadResult::Changed(n)) => {
                        hashed = hashed.saturating_add(n);
                        // Read once more, from a fresh lstat.
                        let again = fs::symlink_metadata(path);
                        match again {
                            Ok(m) if m.is_file() && attempt < 2 => {
                                meta = m;
                                rec = base_record(path, &meta, attrs, EntryType::Regular);
                                continue;
                            }
                            Ok(m) if m.is_file() => {
                                rec = base_record(path, &m, attrs, EntryType::Regular);
                                batch.problem(path, ScanProblemKind::ChangedDuringScan);
                                break;
                            }
                            Ok(m) => {
                                // Replaced by another kind of object.
                                batch.problem(path, ScanProblemKind::ChangedDuringScan);
                                self.bytes(hashed, batch);
                                if m.is_dir() {
                                    self.visit_dir(path, &m, rule, batch);
                                } else {
                                    self.visit_other(path, m, rule, batch);
                                }
                                return;
                            }
                            Err(e) => {
                                batch.problem(path, classify(&e));
                                self.bytes(hashed, batch);
                                if e.kind() == io::ErrorKind::NotFound {
                                    self.tick(0);
                                    return;
                                }
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        batch.problem(path, classify(&e));
                        if e.kind() == io::ErrorKind::NotFound {
                            self.tick(0);
                            return;
                        }
                        // Unreadable: keep what lstat gave, without hashes.
                        rec = base_record(path, &meta, attrs, EntryType::Regular);
                        break;
                    }
                }
            }
        }
        if !self.add_xattrs(path, attrs, &mut rec, batch) {
            self.bytes(hashed, batch);
            self.tick(0);
            return;
        }
        batch.stats.files = batch.stats.files.saturating_add(1);
        self.bytes(hashed, batch);
        batch.records.push(rec);
        self.tick(hashed);
    }

    fn bytes(&self, n: u64, batch: &mut Batch<'a>) {
        batch.stats.bytes_hashed = batch.stats.bytes_hashed.saturating_add(n);
    }

    /// Opens, hashes (when watched), reads the flags (when watched) and
    /// `fstat`s the file, filling `rec`. `Changed` when the open file is not
    /// the one `meta` describes or changed while it was read.
    fn read_file(
        &self,
        path: &Path,
        meta: &Metadata,
        attrs: AttrSet,
        rec: &mut FileRecord,
    ) -> io::Result<ReadResult> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?;
        let want256 = attrs.contains(Attr::Sha256);
        let want512 = attrs.contains(Attr::Sha512);
        let mut read = 0u64;
        let mut hashes = None;
        if want256 || want512 {
            let h = BUFFER.with_borrow_mut(|buf| {
                if buf.len() < READ_BUFFER {
                    buf.resize(READ_BUFFER, 0);
                }
                hash_exactly(&mut file, meta.len(), want256, want512, buf)
            })?;
            read = h.read;
            if !h.complete {
                return Ok(ReadResult::Changed(read));
            }
            hashes = Some(h);
        }
        // One fstat after reading: the same object (not replaced between
        // lstat and open) and the same version (not written while read).
        let after = file.metadata()?;
        if !after.is_file() || !same_version(meta, &after) {
            return Ok(ReadResult::Changed(read));
        }
        if attrs.contains(Attr::Fflags) {
            rec.fflags = self.fsx.fflags(&file)?;
        }
        if let Some(h) = hashes {
            rec.sha256 = h.sha256;
            if let Some(d) = h.sha512 {
                extra(rec).sha512 = Some(Box::new(d));
            }
        }
        Ok(ReadResult::Done(read))
    }
}

enum ReadResult {
    /// Read and consistent; bytes hashed.
    Done(u64),
    /// Replaced or changed while read; bytes hashed anyway.
    Changed(u64),
}

struct Hashes {
    sha256: Option<[u8; 32]>,
    sha512: Option<[u8; 64]>,
    read: u64,
    /// False when the file ended before `size` bytes (it shrank).
    complete: bool,
}

/// Hashes the first `size` bytes of `file` through `buf` (SHA-256 and/or
/// SHA-512, by ring: SHA-NI or AVX2 where the CPU has them). Reads no
/// further than `size`: a file that grew is caught by the `fstat` after.
fn hash_exactly(
    file: &mut File,
    size: u64,
    want256: bool,
    want512: bool,
    buf: &mut [u8],
) -> io::Result<Hashes> {
    let mut c256 = want256.then(|| digest::Context::new(&digest::SHA256));
    let mut c512 = want512.then(|| digest::Context::new(&digest::SHA512));
    let mut remaining = size;
    let mut read = 0u64;
    let mut complete = true;
    while remaining > 0 {
        let want = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let Some(chunk) = buf.get_mut(..want) else {
            break;
        };
        let n = match file.read(chunk) {
            Ok(0) => {
                complete = false;
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = chunk.get(..n).unwrap_or_default();
        if let Some(c) = c256.as_mut() {
            c.update(data);
        }
        if let Some(c) = c512.as_mut() {
            c.update(data);
        }
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        remaining = remaining.saturating_sub(n);
        read = read.saturating_add(n);
    }
    let sha256 = c256.and_then(|c| c.finish().as_ref().try_into().ok());
    let sha512 = c512.and_then(|c| c.finish().as_ref().try_into().ok());
    Ok(Hashes {
        sha256,
        sha512,
        read,
        complete,
    })
}

/// The record of `meta` with only the attributes in `attrs`, plus the stat
/// fields quick mode always needs (size, mtime, ctime, inode, device).
fn base_record(path: &Path, meta: &Metadata, attrs: AttrSet, ty: EntryType) -> FileRecord {
    let pick = |a: Attr, v: u32| if attrs.contains(a) { v } else { 0 };
    FileRecord {
        path: path.as_os_str().as_bytes().into(),
        attrs,
        entry_type: ty,
        mode: pick(Attr::Perm, meta.mode() & 0o7777),
        uid: pick(Attr::Uid, meta.uid()),
        gid: pick(Attr::Gid, meta.gid()),
        size: meta.size(),
        mtime: file_time(meta.mtime(), meta.mtime_nsec()),
        ctime: file_time(meta.ctime(), meta.ctime_nsec()),
        inode: meta.ino(),
        dev: meta.dev(),
        nlink: if attrs.contains(Attr::Nlink) {
            meta.nlink()
        } else {
            0
        },
        fflags: None,
        sha256: None,
        extra: None,
    }
}

fn file_time(secs: i64, nsec: i64) -> FileTime {
    FileTime {
        secs,
        nanos: u32::try_from(nsec).unwrap_or(0),
    }
}

fn extra(rec: &mut FileRecord) -> &mut RecordExtra {
    rec.extra.get_or_insert_with(Box::default)
}

/// The same object, in the same version: device, inode, size, mtime, ctime.
fn same_version(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev()
        && a.ino() == b.ino()
        && a.size() == b.size()
        && a.mtime() == b.mtime()
        && a.mtime_nsec() == b.mtime_nsec()
        && a.ctime() == b.ctime()
        && a.ctime_nsec() == b.ctime_nsec()
}

/// Whether quick mode may trust `prior` for a regular file with `meta`
/// under a rule watching `attrs`.
fn trusted(prior: &FileRecord, meta: &Metadata, attrs: AttrSet) -> bool {
    let unchanged = prior.entry_type == EntryType::Regular
        && prior.size == meta.size()
        && prior.mtime == file_time(meta.mtime(), meta.mtime_nsec())
        && prior.ctime == file_time(meta.ctime(), meta.ctime_nsec())
        && prior.inode == meta.ino()
        && prior.dev == meta.dev();
    let has_hashes = (!attrs.contains(Attr::Sha256) || prior.sha256.is_some())
        && (!attrs.contains(Attr::Sha512) || prior.sha512().is_some());
    let has_rest = [
        Attr::Xattrs,
        Attr::Acl,
        Attr::Caps,
        Attr::Selinux,
        Attr::Fflags,
    ]
    .into_iter()
    .all(|a| !attrs.contains(a) || prior.attrs.contains(a));
    unchanged && has_hashes && has_rest
}

/// Copies what quick mode trusts (hashes, extended attributes, flags) from
/// `prior` into `rec`, limited to what `attrs` watches.
fn copy_trusted(prior: &FileRecord, attrs: AttrSet, rec: &mut FileRecord) {
    if attrs.contains(Attr::Sha256) {
        rec.sha256 = prior.sha256;
    }
    if attrs.contains(Attr::Fflags) {
        rec.fflags = prior.fflags;
    }
    if attrs.contains(Attr::Sha512) {
        if let Some(d) = prior.sha512() {
            extra(rec).sha512 = Some(Box::new(*d));
        }
    }
    if attrs.needs_xattrs() {
        let kept: Vec<Xattr> = prior
            .xattrs()
            .iter()
            .filter(|x| attrs.watches_xattr(&x.name))
            .cloned()
            .collect();
        if !kept.is_empty() {
            extra(rec).xattrs = kept;
        }
    }
}

/// The problem an I/O error means: vanished (`ENOENT`), permission denied
/// (`EACCES`, `EPERM`), changed (`ELOOP` from `O_NOFOLLOW`: the file became
/// a symlink; `ENOTDIR`: a directory on the path became something else), or
/// another I/O error.
fn classify(e: &io::Error) -> ScanProblemKind {
    match e.kind() {
        io::ErrorKind::NotFound => ScanProblemKind::Vanished,
        io::ErrorKind::PermissionDenied => ScanProblemKind::PermissionDenied,
        _ => match e.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => ScanProblemKind::ChangedDuringScan,
            _ => ScanProblemKind::Io(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests;
