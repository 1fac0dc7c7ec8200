//! Installing a tar archive into a directory slot (issue 5: "a tar archive
//! into a directory slot — rejecting absolute paths, `..`, links that
//! escape, and device nodes unless allowed").
//!
//! The `tar` crate parses the archive (ustar, GNU long names, PAX); every
//! entry is checked and written here, never by the crate's own `unpack`,
//! so that each rule below is visible and each durable step goes through
//! the installer's fault seam:
//!
//! - a path that is absolute or has a `..` component is refused;
//! - a symbolic link is refused if its target climbs above the slot's
//!   root, read two ways: as text, from the link's directory without
//!   following other links (checked as the entry is met); and followed
//!   through every symbolic link of the archive, wherever it is in the
//!   archive (checked once all entries are known, before the swap), as the
//!   kernel resolves it for the install hooks and the running system:
//!   `s -> .` with `t -> s/s/../../etc/shadow` passes the first reading
//!   but not the second. An absolute target is taken from the slot's root
//!   (as it reads when the slot is the running root file system), followed
//!   the same way; `..` at the root, a chain of more than
//!   [`MAX_LINK_HOPS`] links (the kernel's `ELOOP` limit) and a target
//!   longer than the kernel's `PATH_MAX` are refused. Links are never
//!   followed while unpacking: every parent directory must be a real
//!   directory and files are created with `O_NOFOLLOW`, so a link in the
//!   archive cannot lead a later entry out of the slot;
//! - a hard link must name, by a path without `..` and not absolute, a
//!   regular file of the archive met before it; such a path has only real
//!   directories as parents (above), so a hard link never goes through a
//!   symbolic link either;
//! - permission bits are kept exactly as the archive gives them, set-user-ID,
//!   set-group-ID and sticky bits included (a firmware image carries its
//!   own `su`-like programs); the owner is set first, since `chown` clears
//!   those bits; nothing is added or removed (no umask);
//! - character and block devices and FIFOs are refused unless
//!   [`super::InstallPolicy::allow_devices`]; when allowed they are created
//!   by the `mknod` program (`agent-core` makes no `mknod` system call,
//!   which needs `unsafe`);
//! - any other entry type is refused; the first refused entry stops the
//!   install ([`InstallError::UnsafeArchive`] naming it).
//!
//! Before anything is created, the whole open source file is read and its
//! length and SHA-256 checked against the verified target (TUF 1.0.34
//! §5.7: a target is used only once its length and hashes match), so the tar
//! parser, `mknod` and the writing of set-user-ID files only ever see
//! verified bytes. The file is then rewound and unpacked into a fresh
//! staging directory beside the slot (`.NAME.dha-staging`); the bytes are
//! hashed and counted again as they are read (bounded by the verified
//! length), and checked once more before the swap, so a file changed
//! between the two reads is refused too.
//! Every file is fsynced as written and every directory once its entries
//! and mode are set. Then the staging directory takes the slot's place:
//! the old content is renamed to `.NAME.dha-old`, the staging directory to
//! the slot's path, the parent directory fsynced, the old content removed.
//! The two renames are not one atomic step (std has no `renameat2` with
//! `RENAME_EXCHANGE`), but the slot is bad in the journal and has no boot
//! tries from before the first rename until the read-back succeeds, so a
//! crash between them leaves a slot that is never booted and whose
//! leftovers the next install removes.
//!
//! The read-back: while unpacking, a manifest is kept of every entry's
//! path, type, permission bits, owner, and SHA-256 (files), target (links)
//! or device numbers; after the swap the slot's tree is walked (without
//! following links) and its manifest recomputed; both must be equal, and
//! the error gives both manifests' SHA-256. The files are read through the
//! page cache ([`super::ReadBackSource::PageCache`]).

use super::stream::{ReadBackSource, Seam, Written};
use super::{InstallError, InstallTarget, SlotConfig, hex};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Buffer size for copying file contents and hashing.
const COPY_BYTES: usize = 256 * 1024;

/// Most entries an archive may hold (a root file system holds far fewer).
pub const MAX_ENTRIES: usize = 1_000_000;

/// Most symbolic links followed resolving one link's target (Linux's
/// `MAXSYMLINKS`, beyond which `open` fails with `ELOOP`).
pub const MAX_LINK_HOPS: u32 = 40;

/// Longest symbolic link target, in bytes (Linux's `PATH_MAX` less the
/// terminating NUL; `symlink` refuses longer ones).
const MAX_LINK_TARGET: usize = 4095;

/// One entry of a manifest, by its path inside the slot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Dir,
    File { sha256: String, len: u64 },
    Symlink { target: PathBuf },
    Char { major: u32, minor: u32 },
    Block { major: u32, minor: u32 },
    Fifo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    kind: Kind,
    /// Permission bits (0 for links).
    mode: u32,
    uid: u32,
    gid: u32,
}

/// Path inside the slot → what it is.
type Manifest = BTreeMap<PathBuf, Record>;

/// The SHA-256 of a manifest's canonical text (one line per entry).
fn manifest_sha256(m: &Manifest) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for (path, r) in m {
        let what = match &r.kind {
            Kind::Dir => "d".to_owned(),
            Kind::File { sha256, len } => format!("f {len} {sha256}"),
            Kind::Symlink { target } => format!("l {}", target.display()),
            Kind::Char { major, minor } => format!("c {major}:{minor}"),
            Kind::Block { major, minor } => format!("b {major}:{minor}"),
            Kind::Fifo => "p".to_owned(),
        };
        ctx.update(
            format!(
                "{}\0{what} {:o} {} {}\n",
                path.display(),
                r.mode,
                r.uid,
                r.gid
            )
            .as_bytes(),
        );
    }
    hex(ctx.finish().as_ref())
}

/// The archive's bytes, hashed and counted as the `tar` crate reads them.
struct Hashing<'f> {
    inner: &'f mut File,
    ctx: ring::digest::Context,
    count: u64,
    limit: u64,
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or_default();
        self.ctx.update(got);
        self.count = self
            .count
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if self.count > self.limit {
            return Err(io::Error::other(format!(
                "longer than the verified {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

/// Where errors come from.
struct Ctx<'c> {
    slot: &'c SlotConfig,
    file: &'c Path,
    target: &'c InstallTarget,
    allow_devices: bool,
    seam: &'c Seam<'c>,
}

impl Ctx<'_> {
    fn io(&self, what: &str, path: &Path, source: io::Error) -> InstallError {
        InstallError::Io {
            what: format!("{what} (slot {})", self.slot.name),
            path: path.display().to_string(),
            source,
        }
    }
    fn refuse(&self, entry: &Path, reason: impl Into<String>) -> InstallError {
        InstallError::UnsafeArchive {
            slot: self.slot.name.clone(),
            entry: entry.display().to_string(),
            reason: reason.into(),
        }
    }
    fn bad_archive(&self, reason: String) -> InstallError {
        InstallError::SourceMismatch {
            path: self.file.display().to_string(),
            target: self.target.name.clone(),
            reason,
        }
    }
}

/// `.NAME.dha-staging` and `.NAME.dha-old` beside the slot, and the slot's
/// parent directory.
fn siblings(slot: &SlotConfig) -> io::Result<(PathBuf, PathBuf, PathBuf)> {
    let parent = slot
        .path
        .parent()
        .ok_or_else(|| io::Error::other("a directory slot cannot be /"))?;
    let name = slot
        .path
        .file_name()
        .ok_or_else(|| io::Error::other("the slot path has no last component"))?;
    let with = |suffix: &str| {
        let mut n = OsString::from(".");
        n.push(name);
        n.push(suffix);
        parent.join(n)
    };
    Ok((parent.to_path_buf(), with(".dha-staging"), with(".dha-old")))
}

/// Removes a leftover staging or old directory of an earlier attempt.
fn remove_leftover(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Unpacks the verified archive `source` into the directory slot, swaps it
/// in and checks it (module documentation).
pub(super) fn install(
    slot: &SlotConfig,
    source: &mut File,
    file: &Path,
    target: &InstallTarget,
    allow_devices: bool,
    seam: &Seam<'_>,
) -> Result<Written, InstallError> {
    let cx = Ctx {
        slot,
        file,
        target,
        allow_devices,
        seam,
    };
    let (parent, staging, old) = siblings(slot).map_err(|e| cx.io("using", &slot.path, e))?;
    // Verified bytes only, before anything is created (module
    // documentation).
    verify_source(&cx, source)?;
    match fs::symlink_metadata(&slot.path) {
        Ok(m) if !m.is_dir() => {
            return Err(cx.io(
                "using",
                &slot.path,
                io::Error::other("not a directory (kind = \"directory\")"),
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(cx.io("using", &slot.path, e)),
    }
    for leftover in [&staging, &old] {
        remove_leftover(leftover).map_err(|e| cx.io("removing", leftover, e))?;
    }
    seam("dir create")
        .and_then(|()| fs::DirBuilder::new().mode(0o700).create(&staging))
        .map_err(|e| cx.io("creating", &staging, e))?;
    let result = unpack_and_swap(&cx, source, &parent, &staging, &old);
    if result.is_err() {
        // Best effort: a leftover is also removed by the next install.
        let _ = remove_leftover(&staging);
    }
    let expected = result?;
    // The read-back: the slot's tree against the manifest.
    let found = walk(&slot.path).map_err(|e| cx.io("reading back", &slot.path, e))?;
    if found != expected {
        if let Some((path, _)) = expected
            .iter()
            .find(|(p, r)| found.get(*p) != Some(*r))
            .or_else(|| found.iter().find(|(p, _)| !expected.contains_key(*p)))
        {
            log::error!(
                "slot {}: read back, {} differs from the archive",
                slot.name,
                path.display()
            );
        }
        return Err(InstallError::ReadBack {
            slot: slot.name.clone(),
            expected: manifest_sha256(&expected),
            found: manifest_sha256(&found),
        });
    }
    Ok(Written {
        bytes: target.length,
        read_back: ReadBackSource::PageCache,
    })
}

/// Reads the whole source from its start, checks its length and SHA-256
/// against the verified target, and rewinds it.
fn verify_source(cx: &Ctx<'_>, source: &mut File) -> Result<(), InstallError> {
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| cx.io("rewinding", cx.file, e))?;
    let mut reader = Hashing {
        inner: source,
        ctx: ring::digest::Context::new(&ring::digest::SHA256),
        count: 0,
        limit: cx.target.length,
    };
    io::copy(&mut reader, &mut io::sink())
        .map_err(|e| cx.bad_archive(format!("reading it to verify it: {e}")))?;
    check_hash(cx, reader)?;
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| cx.io("rewinding", cx.file, e))?;
    Ok(())
}

/// Whether what `reader` read has the verified length and SHA-256.
fn check_hash(cx: &Ctx<'_>, reader: Hashing<'_>) -> Result<(), InstallError> {
    if reader.count != cx.target.length {
        return Err(cx.bad_archive(format!(
            "{} bytes, not the verified {}",
            reader.count, cx.target.length
        )));
    }
    let got = hex(reader.ctx.finish().as_ref());
    if got != cx.target.sha256 {
        return Err(cx.bad_archive(format!(
            "SHA-256 {got}, not the verified {}",
            cx.target.sha256
        )));
    }
    Ok(())
}

fn unpack_and_swap(
    cx: &Ctx<'_>,
    source: &mut File,
    parent: &Path,
    staging: &Path,
    old: &Path,
) -> Result<Manifest, InstallError> {
    let mut reader = Hashing {
        inner: source,
        ctx: ring::digest::Context::new(&ring::digest::SHA256),
        count: 0,
        limit: cx.target.length,
    };
    let mut manifest = Manifest::new();
    // Directories: (path inside, mode, uid, gid) to set once filled.
    let mut dirs: BTreeMap<PathBuf, (u32, u32, u32)> = BTreeMap::new();
    // Symbolic links: path inside → the entry's name in the archive.
    let mut links: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    {
        let mut archive = tar::Archive::new(&mut reader);
        let entries = archive
            .entries()
            .map_err(|e| cx.bad_archive(format!("not a tar archive: {e}")))?;
        for entry in entries {
            let mut entry =
                entry.map_err(|e| cx.bad_archive(format!("unreadable tar entry: {e}")))?;
            if manifest.len().saturating_add(dirs.len()) >= MAX_ENTRIES {
                return Err(cx.bad_archive(format!("more than {MAX_ENTRIES} entries")));
            }
            unpack_entry(
                cx,
                &mut entry,
                staging,
                &mut manifest,
                &mut dirs,
                &mut links,
            )?;
        }
    }
    // The rest (end-of-archive blocks, padding) is hashed too.
    io::copy(&mut reader, &mut io::sink())
        .map_err(|e| cx.bad_archive(format!("reading past the end of the archive: {e}")))?;
    // Checked again: the file may have changed since it was verified.
    check_hash(cx, reader)?;
    // Every link followed through the others, now that all are known.
    for (inside, name) in &links {
        if let Err(why) = resolve_link(&manifest, inside) {
            return Err(cx.refuse(name, why));
        }
    }
    // Directories: owner and mode, then fsync, deepest first.
    for (inside, (mode, uid, gid)) in dirs.iter().rev() {
        let path = staging.join(inside);
        set_owner_mode(cx, &path, *uid, *gid, *mode)?;
        manifest.insert(
            inside.clone(),
            Record {
                kind: Kind::Dir,
                mode: *mode,
                uid: *uid,
                gid: *gid,
            },
        );
    }
    let mut to_sync: Vec<PathBuf> = manifest
        .iter()
        .filter(|(_, r)| r.kind == Kind::Dir)
        .map(|(p, _)| staging.join(p))
        .collect();
    to_sync.reverse();
    to_sync.push(staging.to_path_buf());
    for dir in &to_sync {
        sync_dir(cx, dir)?;
    }
    fs::set_permissions(staging, fs::Permissions::from_mode(0o755))
        .map_err(|e| cx.io("setting the mode of", staging, e))?;
    // The swap.
    if fs::symlink_metadata(&cx.slot.path).is_ok() {
        (cx.seam)("swap rename")
            .and_then(|()| fs::rename(&cx.slot.path, old))
            .map_err(|e| cx.io("moving aside", &cx.slot.path, e))?;
    }
    (cx.seam)("swap rename")
        .and_then(|()| fs::rename(staging, &cx.slot.path))
        .map_err(|e| cx.io("moving into place", staging, e))?;
    sync_dir(cx, parent)?;
    if let Err(e) = remove_leftover(old) {
        log::warn!(
            "slot {}: removing the old content {}: {e}",
            cx.slot.name,
            old.display()
        );
    }
    Ok(manifest)
}

fn sync_dir(cx: &Ctx<'_>, dir: &Path) -> Result<(), InstallError> {
    (cx.seam)("dir fsync")
        .and_then(|()| crate::durable::sync_dir(dir))
        .map_err(|e| cx.io("syncing", dir, e))
}

/// The path's components inside the slot, or why it is refused.
fn inside_path(path: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("a '..' component"),
            Component::RootDir | Component::Prefix(_) => return Err("an absolute path"),
        }
    }
    Ok(out)
}

/// Whether the symlink at `link` (inside the slot) with `target` stays in
/// the slot, resolved lexically (module documentation).
fn link_stays_inside(link: &Path, target: &Path) -> bool {
    let mut depth: Vec<&std::ffi::OsStr> = Vec::new();
    if !target.is_absolute() {
        if let Some(parent) = link.parent() {
            depth.extend(parent.iter());
        }
    }
    for c in target.components() {
        match c {
            Component::Normal(p) => depth.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if depth.pop().is_none() {
                    return false;
                }
            }
        }
    }
    true
}

/// Follows the symbolic link at `link` (inside the slot) through the
/// archive's links as the kernel would, each link's target from its own
/// directory and an absolute one from the slot's root; refuses (saying why)
/// a resolution that climbs above the root or needs more than
/// [`MAX_LINK_HOPS`] links. A component the archive does not hold is taken
/// as a directory (the lexical reading).
fn resolve_link(manifest: &Manifest, link: &Path) -> Result<(), String> {
    /// One step of the walk.
    enum Step {
        Root,
        Up,
        Name(OsString),
    }
    /// Pushes a target's components, the first one last.
    fn push(todo: &mut Vec<Step>, target: &Path) {
        for c in target.components().rev() {
            match c {
                Component::Normal(n) => todo.push(Step::Name(n.to_os_string())),
                Component::ParentDir => todo.push(Step::Up),
                Component::RootDir | Component::Prefix(_) => todo.push(Step::Root),
                Component::CurDir => {}
            }
        }
    }
    let symlink_at = |p: &Path| match manifest.get(p).map(|r| &r.kind) {
        Some(Kind::Symlink { target }) => Some(target),
        _ => None,
    };
    let Some(first) = symlink_at(link) else {
        return Ok(());
    };
    // The real directory reached so far, from the slot's root; the link's
    // own parents are real directories (module documentation).
    let mut at = link.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut todo = Vec::new();
    push(&mut todo, first);
    let mut hops: u32 = 1;
    while let Some(step) = todo.pop() {
        match step {
            Step::Root => at = PathBuf::new(),
            Step::Up => {
                if !at.pop() {
                    return Err(format!(
                        "a symbolic link to {} leads out of the slot, followed through the archive's links",
                        first.display()
                    ));
                }
            }
            Step::Name(n) => {
                let next = at.join(&n);
                if let Some(target) = symlink_at(&next) {
                    hops = hops.saturating_add(1);
                    if hops > MAX_LINK_HOPS {
                        return Err(format!(
                            "a symbolic link to {} goes through more than {MAX_LINK_HOPS} links",
                            first.display()
                        ));
                    }
                    // A relative target is read from the link's directory,
                    // which `at` is; an absolute one starts with `Root`.
                    push(&mut todo, target);
                } else {
                    at = next;
                }
            }
        }
    }
    Ok(())
}

/// Creates the missing parents of `inside` in `staging`, refusing any that
/// exists and is not a real directory.
fn make_parents(
    cx: &Ctx<'_>,
    entry: &Path,
    staging: &Path,
    inside: &Path,
    dirs: &mut BTreeMap<PathBuf, (u32, u32, u32)>,
) -> Result<(), InstallError> {
    let Some(parent) = inside.parent() else {
        return Ok(());
    };
    let mut at = PathBuf::new();
    for c in parent.iter() {
        at.push(c);
        let full = staging.join(&at);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(cx.refuse(
                    entry,
                    format!("its parent {} is not a directory", at.display()),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (cx.seam)("dir create")
                    .and_then(|()| fs::DirBuilder::new().mode(0o700).create(&full))
                    .map_err(|e| cx.io("creating", &full, e))?;
                // A directory the archive implies: mode 0755, owned by
                // whoever unpacks (as GNU tar does).
                let m = fs::symlink_metadata(&full).map_err(|e| cx.io("checking", &full, e))?;
                dirs.entry(at.clone()).or_insert((0o755, m.uid(), m.gid()));
            }
            Err(e) => return Err(cx.io("checking", &full, e)),
        }
    }
    Ok(())
}

fn set_owner_mode(
    cx: &Ctx<'_>,
    path: &Path,
    uid: u32,
    gid: u32,
    mode: u32,
) -> Result<(), InstallError> {
    // Owner first: chown clears set-user-ID bits.
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| cx.io("setting the owner and mode of", path, e))
}

fn unpack_entry<R: Read>(
    cx: &Ctx<'_>,
    entry: &mut tar::Entry<'_, R>,
    staging: &Path,
    manifest: &mut Manifest,
    dirs: &mut BTreeMap<PathBuf, (u32, u32, u32)>,
    links: &mut BTreeMap<PathBuf, PathBuf>,
) -> Result<(), InstallError> {
    let name = entry
        .path()
        .map_err(|e| cx.bad_archive(format!("an entry's path: {e}")))?
        .into_owned();
    let header = entry.header();
    let kind = header.entry_type();
    if kind == tar::EntryType::XGlobalHeader {
        return Ok(());
    }
    let inside = inside_path(&name).map_err(|why| cx.refuse(&name, why))?;
    let field = |what: &str, e: io::Error| cx.refuse(&name, format!("its {what}: {e}"));
    let mode = header.mode().map_err(|e| field("mode", e))? & 0o7777;
    let uid = header
        .uid()
        .map_err(|e| field("uid", e))
        .and_then(|u| u32::try_from(u).map_err(|_| cx.refuse(&name, "uid out of range")))?;
    let gid = header
        .gid()
        .map_err(|e| field("gid", e))
        .and_then(|g| u32::try_from(g).map_err(|_| cx.refuse(&name, "gid out of range")))?;
    if inside.as_os_str().is_empty() {
        // The archive's root ("./"): the slot's root keeps 0755, root's.
        return Ok(());
    }
    let dest = staging.join(&inside);
    make_parents(cx, &name, staging, &inside, dirs)?;
    let existing = fs::symlink_metadata(&dest).ok();
    if kind == tar::EntryType::Directory {
        match existing {
            Some(m) if m.is_dir() => {}
            Some(_) => return Err(cx.refuse(&name, "a directory over another entry")),
            None => (cx.seam)("dir create")
                .and_then(|()| fs::DirBuilder::new().mode(0o700).create(&dest))
                .map_err(|e| cx.io("creating", &dest, e))?,
        }
        dirs.insert(inside, (mode, uid, gid));
        return Ok(());
    }
    if existing.is_some() {
        return Err(cx.refuse(&name, "a second entry of the same path"));
    }
    let record = |kind: Kind, mode: u32| Record {
        kind,
        mode,
        uid,
        gid,
    };
    let rec = match kind {
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let (sha256, len) = write_file(cx, entry, &dest)?;
            set_owner_mode(cx, &dest, uid, gid, mode)?;
            record(Kind::File { sha256, len }, mode)
        }
        tar::EntryType::Symlink => {
            let target = entry
                .link_name()
                .map_err(|e| field("link target", e))?
                .ok_or_else(|| cx.refuse(&name, "a symbolic link without a target"))?
                .into_owned();
            if target.as_os_str().len() > MAX_LINK_TARGET {
                return Err(cx.refuse(
                    &name,
                    format!("a symbolic link target longer than {MAX_LINK_TARGET} bytes"),
                ));
            }
            if target.as_os_str().is_empty() || !link_stays_inside(&inside, &target) {
                return Err(cx.refuse(
                    &name,
                    format!(
                        "a symbolic link to {} leads out of the slot",
                        target.display()
                    ),
                ));
            }
            (cx.seam)("file write")
                .and_then(|()| std::os::unix::fs::symlink(&target, &dest))
                .and_then(|()| std::os::unix::fs::lchown(&dest, Some(uid), Some(gid)))
                .map_err(|e| cx.io("creating the link", &dest, e))?;
            links.insert(inside.clone(), name.clone());
            record(Kind::Symlink { target }, 0)
        }
        tar::EntryType::Link => {
            let target = entry
                .link_name()
                .map_err(|e| field("link target", e))?
                .ok_or_else(|| cx.refuse(&name, "a hard link without a target"))?
                .into_owned();
            let to = inside_path(&target).map_err(|why| {
                cx.refuse(&name, format!("a hard link to {}: {why}", target.display()))
            })?;
            let Some(rec) = manifest
                .get(&to)
                .filter(|r| matches!(r.kind, Kind::File { .. }))
                .cloned()
            else {
                return Err(cx.refuse(
                    &name,
                    format!(
                        "a hard link to {}, which is not a regular file before it in the archive",
                        target.display()
                    ),
                ));
            };
            (cx.seam)("file write")
                .and_then(|()| fs::hard_link(staging.join(&to), &dest))
                .map_err(|e| cx.io("creating the link", &dest, e))?;
            rec
        }
        tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
            if !cx.allow_devices {
                return Err(cx.refuse(
                    &name,
                    "a device node or FIFO (install.allow_devices = false)",
                ));
            }
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            let (letter, kind) = match kind {
                tar::EntryType::Char => ("c", Kind::Char { major, minor }),
                tar::EntryType::Block => ("b", Kind::Block { major, minor }),
                _ => ("p", Kind::Fifo),
            };
            (cx.seam)("file write")
                .and_then(|()| mknod(&dest, letter, major, minor))
                .map_err(|e| cx.io("creating the node", &dest, e))?;
            set_owner_mode(cx, &dest, uid, gid, mode)?;
            record(kind, mode)
        }
        other => {
            return Err(cx.refuse(&name, format!("an unsupported entry type {other:?}")));
        }
    };
    manifest.insert(inside, rec);
    Ok(())
}

/// Creates a device node or FIFO with the `mknod` program (module
/// documentation).
fn mknod(dest: &Path, letter: &str, major: u32, minor: u32) -> io::Result<()> {
    let mut cmd = Command::new("mknod");
    cmd.arg("--").arg(dest).arg(letter);
    if letter != "p" {
        cmd.arg(major.to_string()).arg(minor.to_string());
    }
    let status = cmd
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("mknod: {status}")))
    }
}

/// Writes a regular file's content (`O_NOFOLLOW`, a new file), hashing it,
/// and fsyncs it; returns its SHA-256 and length.
fn write_file<R: Read>(
    cx: &Ctx<'_>,
    entry: &mut R,
    dest: &Path,
) -> Result<(String, u64), InstallError> {
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(dest)
        .map_err(|e| cx.io("creating", dest, e))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0_u8; COPY_BYTES];
    let mut len: u64 = 0;
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(cx.bad_archive(format!("reading {}: {e}", dest.display()))),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        ctx.update(chunk);
        len = len.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        (cx.seam)("file write")
            .and_then(|()| io::Write::write_all(&mut out, chunk))
            .map_err(|e| cx.io("writing", dest, e))?;
    }
    (cx.seam)("file fsync")
        .and_then(|()| out.sync_all())
        .map_err(|e| cx.io("syncing", dest, e))?;
    Ok((hex(ctx.finish().as_ref()), len))
}

/// The manifest of the tree at `root` (links not followed).
fn walk(root: &Path) -> io::Result<Manifest> {
    let mut manifest = Manifest::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(inside) = stack.pop() {
        for dirent in fs::read_dir(root.join(&inside))? {
            let dirent = dirent?;
            let rel = inside.join(dirent.file_name());
            let path = dirent.path();
            let meta = fs::symlink_metadata(&path)?;
            let ft = meta.file_type();
            let mode = meta.mode() & 0o7777;
            let dev = || {
                let rdev = meta.rdev();
                (libc::major(rdev), libc::minor(rdev))
            };
            let (kind, mode) = if ft.is_dir() {
                stack.push(rel.clone());
                (Kind::Dir, mode)
            } else if ft.is_file() {
                let (sha256, len) = hash_file(&path)?;
                (Kind::File { sha256, len }, mode)
            } else if ft.is_symlink() {
                (
                    Kind::Symlink {
                        target: fs::read_link(&path)?,
                    },
                    0,
                )
            } else if ft.is_char_device() {
                let (major, minor) = dev();
                (Kind::Char { major, minor }, mode)
            } else if ft.is_block_device() {
                let (major, minor) = dev();
                (Kind::Block { major, minor }, mode)
            } else if ft.is_fifo() {
                (Kind::Fifo, mode)
            } else {
                return Err(io::Error::other(format!(
                    "{}: an unexpected file type",
                    path.display()
                )));
            };
            manifest.insert(
                rel,
                Record {
                    kind,
                    mode,
                    uid: meta.uid(),
                    gid: meta.gid(),
                },
            );
        }
    }
    Ok(manifest)
}

fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0_u8; COPY_BYTES];
    let mut len: u64 = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(buf.get(..n).unwrap_or_default());
        len = len.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
    Ok((hex(ctx.finish().as_ref()), len))
}
