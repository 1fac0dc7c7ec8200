//! The known-good store: a content-addressed copy of the protected files,
//! made with the baseline, from which a modified or deleted file is put back
//! as the baseline recorded it (issue 4, "Restore"; the recovery principle of
//! DITTA/NEMA CPSP 2; IEC 62443-4-2 CR 3.4 and CR 7.4, recovery to a known
//! secure state).
//!
//! Layout: `<dir>/objects/<first 2 hex digits>/<other 62 hex digits>` of the
//! content's SHA-256, like git's loose objects. The directories are mode
//! 0700, the objects 0400 (root may still read and replace them; nobody
//! else may read them: they hold copies of protected files, which can
//! include secrets).
//!
//! Trust: an object is named by the hash the *sealed baseline* records, and
//! its content is hashed again every time it is put back; an object that was
//! damaged or swapped in the store is refused, never restored (DESIGN.md "Bad
//! input": nothing trusted is overwritten by something not yet verified). The
//! store itself therefore needs no seal of its own.
//!
//! Writes follow DESIGN.md "Persistence" (temporary file, fsync, rename,
//! fsync of the directory), streamed through a bounded buffer (no file is
//! ever read whole into memory): [`crate::durable::write_atomic`] takes a
//! whole buffer, so the streaming variant is here, using its
//! [`TEMP_PREFIX`] and [`sync_dir`].

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::os::unix::fs::{PermissionsExt as _, fchown};
use std::path::{Path, PathBuf};

use ring::digest;

use crate::durable::{TEMP_PREFIX, remove_stale_temporaries, sync_dir};
use crate::integrity::attrs::Attr;
use crate::integrity::baseline::Baseline;
use crate::integrity::error::IntegrityError;
use crate::integrity::fsx::FsExtras;
use crate::integrity::record::{EntryType, FileRecord, Xattr};

/// The copy buffer: large enough for few system calls, small enough to keep
/// the memory bound of issue 4.
const BUF_SIZE: usize = 128 * 1024;

/// Mode of the store's directories.
const DIR_MODE: u32 = 0o700;

/// Mode of a stored object.
const OBJECT_MODE: u32 = 0o400;

/// A content-addressed store of known-good file contents.
#[derive(Debug, Clone)]
pub struct KnownGoodStore {
    dir: PathBuf,
    objects: PathBuf,
}

/// Why a file was not put in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStoredReason {
    /// Its content (or type, or size) no longer matches the record: it
    /// changed between the scan and the copy. The baseline still records
    /// the scanned hash; a check will report the change.
    Changed,
    /// It could not be opened or read (vanished, permission denied, an I/O
    /// error; the operating system's message).
    Unreadable(String),
}

impl std::fmt::Display for NotStoredReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotStoredReason::Changed => f.write_str("changed since it was scanned"),
            NotStoredReason::Unreadable(e) => write!(f, "unreadable: {e}"),
        }
    }
}

/// A file [`KnownGoodStore::put_all`] did not store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotStored {
    /// The full device path.
    pub path: Box<[u8]>,
    /// Why.
    pub reason: NotStoredReason,
}

/// What [`KnownGoodStore::put_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Regular-file records with a SHA-256 (the ones the store keeps).
    pub files: usize,
    /// Objects written by this call.
    pub stored: usize,
    /// Records whose object was already present (not rewritten; checked
    /// when it is restored).
    pub already_present: usize,
    /// Bytes written into new objects.
    pub bytes_stored: u64,
    /// Files that could not be stored, with the reason.
    pub not_stored: Vec<NotStored>,
}

/// What [`KnownGoodStore::restore`] put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The device path restored.
    pub path: PathBuf,
    /// Bytes of content written.
    pub bytes: u64,
    /// The SHA-256 of the content (checked against the baseline).
    pub sha256: [u8; 32],
    /// What was at the path before: `None` when nothing (a deleted file),
    /// else a regular file or a symbolic link (replaced).
    pub replaced: Option<EntryType>,
    /// Whether the owner was set from the baseline (it records uid and gid).
    pub owner_restored: bool,
    /// Whether the mode was set from the baseline (it records `perm`).
    pub mode_restored: bool,
    /// Whether the extended attributes were set from the baseline (it
    /// records `xattrs`, `acl`, `caps` or `selinux`).
    pub xattrs_restored: bool,
    /// Whether the modification time was set from the baseline (it records
    /// `mtime`).
    pub mtime_restored: bool,
}

/// The lowercase hexadecimal form of a hash (a two-line loop; not worth a
/// dependency).
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn device_path(path: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(path))
}

/// Opens a file for reading without following a final symlink and without
/// blocking on a FIFO that replaced it.
fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Copies at most `limit` bytes of `from` into `to` through `buf`, hashing
/// them with SHA-256. Returns the hash and the number of bytes copied.
fn copy_hashing(
    from: &mut File,
    to: &mut File,
    limit: u64,
    buf: &mut [u8],
    from_path: &Path,
    to_path: &Path,
) -> Result<([u8; 32], u64), CopyError> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut copied = 0u64;
    while copied < limit {
        let left = limit.saturating_sub(copied);
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let Some(chunk) = buf.get_mut(..want) else {
            break;
        };
        let n = match from.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(from_path.to_path_buf(), e)),
        };
        let data = chunk.get(..n).unwrap_or_default();
        ctx.update(data);
        to.write_all(data)
            .map_err(|e| CopyError::Write(to_path.to_path_buf(), e))?;
        copied = copied.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
    let mut sha = [0u8; 32];
    sha.copy_from_slice(ctx.finish().as_ref());
    Ok((sha, copied))
}

enum CopyError {
    Read(PathBuf, io::Error),
    Write(PathBuf, io::Error),
}

impl KnownGoodStore {
    /// Opens the store in `dir`, creating `dir` and `dir/objects` (mode
    /// 0700) when missing; the parent of `dir` must exist. An existing store
    /// directory whose mode is looser than 0700 is tightened. Removes the
    /// temporary files an interrupted write left behind.
    pub fn open(dir: &Path) -> Result<Self, IntegrityError> {
        let objects = dir.join("objects");
        for d in [dir, objects.as_path()] {
            make_private_dir(d)?;
        }
        remove_stale_temporaries(&objects).map_err(|e| IntegrityError::io(&objects, e))?;
        Ok(KnownGoodStore {
            dir: dir.to_path_buf(),
            objects,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the object of content `sha256` is (or would be) kept.
    pub fn object_path(&self, sha256: &[u8; 32]) -> PathBuf {
        let h = hex(sha256);
        let (a, b) = h.split_at(2);
        self.objects.join(a).join(b)
    }

    /// Whether an object for `sha256` is present (its content is not
    /// checked here; [`restore`](Self::restore) checks it).
    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        fs::symlink_metadata(self.object_path(sha256)).is_ok_and(|m| m.is_file())
    }

    /// Copies the content of every regular-file record that has a SHA-256
    /// into the object named by that hash, checking the hash while copying
    /// from the live file: a file whose type, size or content no longer
    /// matches its record is not stored and is listed in
    /// [`StoreStats::not_stored`], as is a file that cannot be read. Objects
    /// already present are not rewritten. Every new object and directory
    /// entry is durable when this returns.
    ///
    /// Errors: only a failure to write into the store itself (a full disk, a
    /// read-only store).
    pub fn put_all(&self, records: &[FileRecord]) -> Result<StoreStats, IntegrityError> {
        let mut stats = StoreStats::default();
        let mut buf = vec![0u8; BUF_SIZE];
        let mut dirty: BTreeSet<PathBuf> = BTreeSet::new();
        for rec in records {
            let (EntryType::Regular, Some(sha)) = (rec.entry_type, rec.sha256) else {
                continue;
            };
            stats.files = stats.files.saturating_add(1);
            if self.contains(&sha) {
                stats.already_present = stats.already_present.saturating_add(1);
                continue;
            }
            match self.put_one(rec, &sha, &mut buf, &mut dirty)? {
                Put::Stored(n) => {
                    stats.stored = stats.stored.saturating_add(1);
                    stats.bytes_stored = stats.bytes_stored.saturating_add(n);
                }
                Put::Present => {
                    stats.already_present = stats.already_present.saturating_add(1);
                }
                Put::NotStored(reason) => {
                    log::warn!(
                        "{}: not put in the known-good store: {reason}",
                        rec.path_lossy()
                    );
                    stats.not_stored.push(NotStored {
                        path: rec.path.clone(),
                        reason,
                    });
                }
            }
        }
        // New objects' directories first, then `objects` (new subdirectories
        // and removed temporaries).
        dirty.insert(self.objects.clone());
        for d in dirty.iter().rev() {
            sync_dir(d).map_err(|e| IntegrityError::io(d, e))?;
        }
        Ok(stats)
    }

    fn put_one(
        &self,
        rec: &FileRecord,
        sha: &[u8; 32],
        buf: &mut [u8],
        dirty: &mut BTreeSet<PathBuf>,
    ) -> Result<Put, IntegrityError> {
        let live = device_path(&rec.path);
        let mut src = match open_nofollow(&live) {
            Ok(f) => f,
            // ELOOP: the file became a symlink.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Ok(Put::NotStored(NotStoredReason::Changed));
            }
            Err(e) => return Ok(Put::NotStored(NotStoredReason::Unreadable(e.to_string()))),
        };
        let meta = match src.metadata() {
            Ok(m) => m,
            Err(e) => return Ok(Put::NotStored(NotStoredReason::Unreadable(e.to_string()))),
        };
        if !meta.is_file() || (rec.attrs.contains(Attr::Size) && meta.len() != rec.size) {
            return Ok(Put::NotStored(NotStoredReason::Changed));
        }
        // One byte more than expected is enough to see that it grew; a file
        // being appended to is never read without end.
        let expected = if rec.attrs.contains(Attr::Size) {
            rec.size
        } else {
            meta.len()
        };
        let limit = expected.saturating_add(1);

        let mut tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(&self.objects)
            .map_err(|e| IntegrityError::io(&self.objects, e))?;
        let tmp_path = tmp.path().to_path_buf();
        let (got, n) = match copy_hashing(&mut src, tmp.as_file_mut(), limit, buf, &live, &tmp_path)
        {
            Ok(r) => r,
            Err(CopyError::Read(_, e)) => {
                return Ok(Put::NotStored(NotStoredReason::Unreadable(e.to_string())));
            }
            Err(CopyError::Write(p, e)) => return Err(IntegrityError::io(p, e)),
        };
        if got != *sha || n != expected {
            // The temporary is removed when dropped.
            return Ok(Put::NotStored(NotStoredReason::Changed));
        }
        let f = tmp.as_file();
        f.set_permissions(fs::Permissions::from_mode(OBJECT_MODE))
            .and_then(|()| f.sync_all())
            .map_err(|e| IntegrityError::io(&tmp_path, e))?;
        let target = self.object_path(sha);
        let Some(sub) = target.parent() else {
            return Err(IntegrityError::Store {
                path: target.clone(),
                reason: "object path has no directory".into(),
            });
        };
        if !sub.is_dir() {
            make_private_dir(sub)?;
            dirty.insert(self.objects.clone());
        }
        // Never replaces an object (link(2) semantics): one that appeared in
        // the meantime, with the same name, is kept.
        match tmp.persist_noclobber(&target) {
            Ok(_) => {
                dirty.insert(sub.to_path_buf());
                Ok(Put::Stored(n))
            }
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(Put::Present),
            Err(e) => Err(IntegrityError::io(&target, e.error)),
        }
    }

    /// Puts the file at device path `path` back as `baseline` records it:
    /// the content of the stored object after checking that it hashes to
    /// the recorded SHA-256, and, where the baseline records them, the owner
    /// (uid, gid), the mode (including setuid, setgid and sticky, set after
    /// the owner because `chown(2)` clears them), the extended attributes
    /// (through [`FsExtras::set_xattrs`]; attributes of groups the rule does
    /// not watch are left as a new file gets them) and the modification
    /// time. What the baseline does not record is taken from the file being
    /// replaced, or left as a new file gets it (owner: this process; mode
    /// 0600).
    ///
    /// Restoring the mtime does not let a quick check trust the file
    /// blindly: its ctime still changes, so the next quick check rehashes it.
    /// ext2/3/4 inode flags (chattr) are not restored: an immutable file at
    /// the path makes the restore fail (remove the flag first).
    ///
    /// Atomic: the content goes to a temporary file in the target's
    /// directory, which is fsynced and renamed over the path; then the
    /// directory is fsynced. A regular file or a symbolic link at the path is
    /// replaced (the link itself, never its target); a directory or any other
    /// object is refused. The target's directory must exist (it is not
    /// created).
    ///
    /// Refused ([`IntegrityError::RestoreRefused`]): a path the baseline does
    /// not record, or records as something other than a regular file with
    /// a SHA-256. Refused ([`IntegrityError::Store`]): no object for the
    /// hash, or an object whose content does not match it (damaged store).
    /// In every refusal the live file is left untouched.
    pub fn restore(
        &self,
        baseline: &Baseline,
        path: &[u8],
        fsx: &dyn FsExtras,
    ) -> Result<RestoreOutcome, IntegrityError> {
        let target = device_path(path);
        let refuse = |reason: String| IntegrityError::RestoreRefused {
            path: target.clone(),
            reason,
        };
        let rec = baseline
            .get(path)
            .ok_or_else(|| refuse("the baseline does not record this path".into()))?;
        if rec.entry_type != EntryType::Regular {
            return Err(refuse(format!(
                "the baseline records a {}, not a regular file",
                rec.entry_type
            )));
        }
        let sha = rec.sha256.ok_or_else(|| {
            refuse("the baseline records no SHA-256 of this file (sha256 not watched)".into())
        })?;
        let (Some(dir), Some(_)) = (target.parent(), target.file_name()) else {
            return Err(refuse("not a path to a file".into()));
        };
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(refuse(format!(
                    "{} is not a directory (restore does not create directories)",
                    dir.display()
                )));
            }
            Err(e) => {
                return Err(refuse(format!(
                    "its directory {} is missing ({e}); restore does not create directories",
                    dir.display()
                )));
            }
        }
        // What is at the path now: nothing, a file or a link is replaced.
        let current = match fs::symlink_metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(IntegrityError::io(&target, e)),
        };
        let replaced = current.as_ref().map(|m| EntryType::of(m.file_type()));
        if let Some(t) = replaced {
            if !matches!(t, EntryType::Regular | EntryType::Symlink) {
                return Err(refuse(format!(
                    "a {t} is now at this path; only a regular file or a symbolic link is replaced"
                )));
            }
        }
        // The old file's attributes stand in for those the baseline lacks.
        let old_file = current.as_ref().filter(|m| m.is_file());

        let object = self.object_path(&sha);
        let mut src = match open_nofollow(&object) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(IntegrityError::Store {
                    path: object,
                    reason: format!(
                        "no stored copy of sha256 {} (the store was not made with this baseline)",
                        hex(&sha)
                    ),
                });
            }
            Err(e) => return Err(IntegrityError::io(&object, e)),
        };
        let meta = src.metadata().map_err(|e| IntegrityError::io(&object, e))?;
        if !meta.is_file() {
            return Err(IntegrityError::Store {
                path: object,
                reason: "the object is not a regular file".into(),
            });
        }
        // An object longer than recorded is wrong: read one byte past it at
        // most (the hash check below refuses it).
        let limit = if rec.attrs.contains(Attr::Size) {
            rec.size.saturating_add(1)
        } else {
            meta.len().saturating_add(1)
        };

        let mut tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(|e| IntegrityError::io(dir, e))?;
        let tmp_path = tmp.path().to_path_buf();
        let mut buf = vec![0u8; BUF_SIZE];
        let (got, bytes) = match copy_hashing(
            &mut src,
            tmp.as_file_mut(),
            limit,
            &mut buf,
            &object,
            &tmp_path,
        ) {
            Ok(r) => r,
            Err(CopyError::Read(p, e) | CopyError::Write(p, e)) => {
                return Err(IntegrityError::io(p, e));
            }
        };
        if got != sha {
            // The temporary is removed when dropped; the live file was never
            // touched.
            return Err(IntegrityError::Store {
                path: object,
                reason: format!(
                    "the stored copy is damaged: its content hashes to sha256 {}, the baseline records {}; not restored",
                    hex(&got),
                    hex(&sha)
                ),
            });
        }

        let f = tmp.as_file();
        let io_tmp = |e: io::Error| IntegrityError::io(&tmp_path, e);
        // Owner first: chown(2) clears setuid/setgid and file capabilities.
        let uid = if rec.attrs.contains(Attr::Uid) {
            Some(rec.uid)
        } else {
            old_file.map(|m| m.uid())
        };
        let gid = if rec.attrs.contains(Attr::Gid) {
            Some(rec.gid)
        } else {
            old_file.map(|m| m.gid())
        };
        if uid.is_some() || gid.is_some() {
            fchown(f, uid, gid).map_err(io_tmp)?;
        }
        // Extended attributes next (a POSIX ACL also sets the group bits of
        // the mode, which the recorded mode matches), and the mode last, so
        // that the setuid bits survive and the mode is exactly the recorded
        // one.
        let mut xattrs_restored = false;
        if rec.attrs.needs_xattrs() {
            let now = fsx.xattrs(&tmp_path).map_err(io_tmp)?;
            let watched_now: Vec<&Xattr> = now
                .iter()
                .filter(|x| rec.attrs.watches_xattr(&x.name))
                .collect();
            let recorded: Vec<&Xattr> = rec.xattrs().iter().collect();
            if watched_now != recorded {
                // Keep what the rule does not watch (an inherited SELinux
                // label when selinux is not watched), set what it does.
                let mut want: Vec<Xattr> = now
                    .iter()
                    .filter(|x| !rec.attrs.watches_xattr(&x.name))
                    .cloned()
                    .collect();
                want.extend(rec.xattrs().iter().cloned());
                want.sort();
                fsx.set_xattrs(&tmp_path, &want).map_err(|e| {
                    IntegrityError::io(
                        &tmp_path,
                        io::Error::new(e.kind(), format!("setting extended attributes: {e}")),
                    )
                })?;
            }
            xattrs_restored = true;
        }
        let mode = if rec.attrs.contains(Attr::Perm) {
            Some(rec.mode & 0o7777)
        } else {
            old_file.map(|m| m.mode() & 0o7777)
        };
        if let Some(mode) = mode {
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io_tmp)?;
        }
        let mtime_restored = rec.attrs.contains(Attr::Mtime);
        if mtime_restored {
            let t = system_time(rec.mtime.secs, rec.mtime.nanos).ok_or_else(|| {
                refuse(format!("the recorded mtime {} is out of range", rec.mtime))
            })?;
            f.set_modified(t).map_err(io_tmp)?;
        }
        f.sync_all().map_err(io_tmp)?;
        // rename(2) replaces a file or a symlink atomically, and fails on a
        // directory that appeared since the check above (EISDIR).
        tmp.persist(&target)
            .map_err(|e| IntegrityError::io(&target, e.error))?;
        sync_dir(dir).map_err(|e| IntegrityError::io(dir, e))?;
        log::info!(
            "{}: restored from the known-good store (sha256 {}, {bytes} bytes)",
            target.display(),
            hex(&sha)
        );
        Ok(RestoreOutcome {
            path: target,
            bytes,
            sha256: sha,
            replaced,
            owner_restored: rec.attrs.contains(Attr::Uid) && rec.attrs.contains(Attr::Gid),
            mode_restored: rec.attrs.contains(Attr::Perm),
            xattrs_restored,
            mtime_restored,
        })
    }
}

enum Put {
    Stored(u64),
    Present,
    NotStored(NotStoredReason),
}

/// Creates `dir` with mode 0700 if missing; tightens an existing one to
/// 0700. Refuses something other than a directory.
fn make_private_dir(dir: &Path) -> Result<(), IntegrityError> {
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(IntegrityError::io(dir, e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(|e| IntegrityError::io(dir, e))?;
    if !meta.is_dir() {
        return Err(IntegrityError::Store {
            path: dir.to_path_buf(),
            reason: "not a directory".into(),
        });
    }
    if meta.mode() & 0o7777 != DIR_MODE {
        // DirBuilder's mode is filtered by the umask; set it exactly.
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| IntegrityError::io(dir, e))?;
    }
    Ok(())
}

/// A `SystemTime` from seconds and nanoseconds since the epoch.
fn system_time(secs: i64, nanos: u32) -> Option<std::time::SystemTime> {
    use std::time::{Duration, UNIX_EPOCH};
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

#[cfg(test)]
mod tests;
