//! The audited filesystem: `/` or a directory that holds an extracted device image.
//!
//! Every read is bounded and read-only. Paths are resolved the way the device
//! itself would resolve them if this directory were its `/` (a chroot): an
//! absolute symlink target starts again at the root, `..` never climbs above
//! it, so no symlink in an image can make dha read a file of the machine that
//! audits it. Only regular files are opened, so a FIFO or device node in an
//! image can never block or disturb a scan.
//!
//! Paths given to [`Root`] are absolute paths as seen on the device
//! (`/etc/passwd`); a leading `/` is optional.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// Bounds on what a [`Root`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest number of bytes read from one file; the rest is ignored and the
    /// file is marked truncated. Default 16 MiB (a `/etc/passwd` with 100,000
    /// accounts is about 6 MiB).
    pub max_file_bytes: u64,
    /// Symlinks followed while resolving one path (Linux's own limit is 40).
    pub max_symlink_hops: u32,
    /// Entries returned by one [`Root::read_dir`].
    pub max_dir_entries: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: 16 * 1024 * 1024,
            max_symlink_hops: 40,
            max_dir_entries: 10_000,
        }
    }
}

/// What can go wrong when reading from a [`Root`]. Absent files are not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    /// The root directory itself cannot be used.
    #[error("root {path}: {source}")]
    Open {
        /// The root as given.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The root is not a directory.
    #[error("root {0} is not a directory")]
    NotADirectory(String),
    /// Resolving a path met more symlinks than [`ReadLimits::max_symlink_hops`].
    #[error("{0}: too many levels of symbolic links")]
    SymlinkLoop(String),
    /// The path exists but is not a regular file (a FIFO, socket, device or directory).
    #[error("{path}: not a regular file ({kind})")]
    NotRegular {
        /// The path inside the root.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// An I/O error other than "not found".
    #[error("{path}: {source}")]
    Io {
        /// The path inside the root.
        path: String,
        /// Why.
        source: io::Error,
    },
}

/// The kind of a filesystem object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only from [`Root::symlink_metadata`]).
    Symlink,
    /// Anything else: FIFO, socket, character or block device.
    Other,
}

/// The metadata of one object inside the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// What it is.
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
}

/// A text file read from the root.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The path inside the root (`/etc/passwd`), for evidence.
    pub path: String,
    /// The content, with invalid UTF-8 replaced by U+FFFD.
    pub text: String,
    /// True when the file was larger than the read limit and was cut.
    pub truncated: bool,
    /// True when the file held bytes that are not UTF-8.
    pub lossy: bool,
}

impl TextFile {
    /// Builds a text file from bytes (as read, or for tests and fuzzing).
    pub fn from_bytes(path: impl Into<String>, bytes: &[u8], truncated: bool) -> TextFile {
        let text = String::from_utf8_lossy(bytes);
        let lossy = matches!(text, std::borrow::Cow::Owned(_));
        TextFile {
            path: path.into(),
            text: text.into_owned(),
            truncated,
            lossy,
        }
    }

    /// The lines with their 1-based numbers; a trailing `\r` (CRLF files) is
    /// removed, a missing final newline is fine, and a NUL byte ends nothing.
    /// When the file was truncated the last, possibly cut, line is dropped.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        let mut all: Vec<&str> = self.text.split('\n').collect();
        if self.text.is_empty() || self.text.ends_with('\n') || self.truncated {
            all.pop();
        }
        all.into_iter().enumerate().map(|(i, l)| {
            let n = u32::try_from(i).unwrap_or(u32::MAX).saturating_add(1);
            (n, l.strip_suffix('\r').unwrap_or(l))
        })
    }
}

/// The audited filesystem.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    limits: ReadLimits,
}

impl Root {
    /// Opens `dir` (canonicalised) as the root, with default limits.
    pub fn open(dir: impl AsRef<Path>) -> Result<Root, RootError> {
        Root::with_limits(dir, ReadLimits::default())
    }

    /// Opens `dir` as the root with the given limits.
    pub fn with_limits(dir: impl AsRef<Path>, limits: ReadLimits) -> Result<Root, RootError> {
        let given = dir.as_ref();
        let dir = fs::canonicalize(given).map_err(|source| RootError::Open {
            path: given.display().to_string(),
            source,
        })?;
        let md = fs::metadata(&dir).map_err(|source| RootError::Open {
            path: given.display().to_string(),
            source,
        })?;
        if !md.is_dir() {
            return Err(RootError::NotADirectory(given.display().to_string()));
        }
        Ok(Root { dir, limits })
    }

    /// The directory on this machine that is the root.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The limits in force.
    pub fn limits(&self) -> ReadLimits {
        self.limits
    }

    /// True when the root is this machine's own `/` (live checks may run).
    pub fn is_live(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// Resolves a device path to a path on this machine, following symlinks
    /// inside the root (the final one too when `follow_last`). `Ok(None)` when
    /// some component does not exist.
    pub fn resolve(
        &self,
        device_path: &str,
        follow_last: bool,
    ) -> Result<Option<PathBuf>, RootError> {
        // Components still to walk, in reverse so that `pop` gives the next one.
        let mut todo: Vec<OsString> = components(Path::new(device_path));
        todo.reverse();
        let mut done: Vec<OsString> = Vec::new();
        let mut hops = 0u32;
        while let Some(comp) = todo.pop() {
            if comp == ".." {
                done.pop();
                continue;
            }
            let mut here = self.dir.clone();
            here.extend(&done);
            here.push(&comp);
            let md = match fs::symlink_metadata(&here) {
                Ok(m) => m,
                Err(e) if is_absent(&e) => return Ok(None),
                Err(source) => {
                    return Err(RootError::Io {
                        path: device_path.to_owned(),
                        source,
                    });
                }
            };
            let is_last = todo.is_empty();
            if md.file_type().is_symlink() && (follow_last || !is_last) {
                hops += 1;
                if hops > self.limits.max_symlink_hops {
                    return Err(RootError::SymlinkLoop(device_path.to_owned()));
                }
                let target = fs::read_link(&here).map_err(|source| RootError::Io {
                    path: device_path.to_owned(),
                    source,
                })?;
                if target.is_absolute() {
                    done.clear();
                }
                let mut more = components(&target);
                more.reverse();
                todo.extend(more);
            } else {
                done.push(comp);
            }
        }
        let mut out = self.dir.clone();
        out.extend(&done);
        Ok(Some(out))
    }

    /// Metadata of the object at `device_path`, following symlinks inside the root.
    pub fn metadata(&self, device_path: &str) -> Result<Option<FileMeta>, RootError> {
        self.meta(device_path, true)
    }

    /// Metadata of the object at `device_path` itself (a final symlink is not followed).
    pub fn symlink_metadata(&self, device_path: &str) -> Result<Option<FileMeta>, RootError> {
        self.meta(device_path, false)
    }

    /// The target of the symbolic link at `device_path`, as stored in the link
    /// (not resolved). `Ok(None)` when nothing is there or it is not a symlink.
    /// A link to `/dev/null` masks a systemd unit even where the image holds
    /// no `/dev/null`, so the target itself has to be read.
    pub fn read_link(&self, device_path: &str) -> Result<Option<String>, RootError> {
        let Some(p) = self.resolve(device_path, false)? else {
            return Ok(None);
        };
        let io_err = |source| RootError::Io {
            path: display_path(device_path),
            source,
        };
        match fs::symlink_metadata(&p) {
            Ok(md) if md.file_type().is_symlink() => {}
            Ok(_) => return Ok(None),
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        }
        match fs::read_link(&p) {
            Ok(t) => Ok(Some(t.to_string_lossy().into_owned())),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    fn meta(&self, device_path: &str, follow: bool) -> Result<Option<FileMeta>, RootError> {
        let Some(p) = self.resolve(device_path, follow)? else {
            return Ok(None);
        };
        match fs::symlink_metadata(&p) {
            Ok(md) => Ok(Some(file_meta(&md))),
            Err(e) if is_absent(&e) => Ok(None),
            Err(source) => Err(RootError::Io {
                path: device_path.to_owned(),
                source,
            }),
        }
    }

    /// Resolves a directory once, so that many entries in it can then be
    /// looked at with one system call each ([`Root::entry_metadata`]).
    /// `Ok(None)` when it does not exist or is not a directory.
    pub fn resolve_dir(&self, device_path: &str) -> Result<Option<ResolvedDir>, RootError> {
        let Some(host) = self.resolve(device_path, true)? else {
            return Ok(None);
        };
        match fs::symlink_metadata(&host) {
            Ok(md) if md.is_dir() => Ok(Some(ResolvedDir {
                host,
                device: display_path(device_path),
            })),
            Ok(_) => Ok(None),
            Err(e) if is_absent(&e) => Ok(None),
            Err(source) => Err(RootError::Io {
                path: display_path(device_path),
                source,
            }),
        }
    }

    /// Metadata of the entry `name` of a resolved directory: one `lstat`
    /// when the entry is not a symlink (or `follow` is false). A symlink that
    /// is to be followed, or a `name` that is not a single plain component,
    /// takes the full in-root resolution of [`Root::metadata`], so the result
    /// is always the same as `metadata(dir/name)` / `symlink_metadata(dir/name)`.
    pub fn entry_metadata(
        &self,
        dir: &ResolvedDir,
        name: &str,
        follow: bool,
    ) -> Result<Option<FileMeta>, RootError> {
        let device = join(&dir.device, name);
        if !is_plain_component(name) {
            return self.meta(&device, follow);
        }
        match fs::symlink_metadata(dir.host.join(name)) {
            Ok(md) if follow && md.file_type().is_symlink() => self.meta(&device, true),
            Ok(md) => Ok(Some(file_meta(&md))),
            Err(e) if is_absent(&e) => Ok(None),
            Err(source) => Err(RootError::Io {
                path: device,
                source,
            }),
        }
    }

    /// The entry `name` of a resolved directory as a resolved directory
    /// (following a symlink inside the root), or `None` when it is not a directory.
    pub fn entry_dir(
        &self,
        dir: &ResolvedDir,
        name: &str,
    ) -> Result<Option<ResolvedDir>, RootError> {
        let device = join(&dir.device, name);
        if !is_plain_component(name) {
            return self.resolve_dir(&device);
        }
        let host = dir.host.join(name);
        match fs::symlink_metadata(&host) {
            Ok(md) if md.file_type().is_symlink() => self.resolve_dir(&device),
            Ok(md) if md.is_dir() => Ok(Some(ResolvedDir { host, device })),
            Ok(_) => Ok(None),
            Err(e) if is_absent(&e) => Ok(None),
            Err(source) => Err(RootError::Io {
                path: device,
                source,
            }),
        }
    }

    /// True when something exists at `device_path` (following symlinks inside the root).
    pub fn exists(&self, device_path: &str) -> bool {
        matches!(self.metadata(device_path), Ok(Some(_)))
    }

    /// Reads at most [`ReadLimits::max_file_bytes`] of a regular file.
    /// `Ok(None)` when it does not exist; an error when it is not a regular file.
    pub fn read(&self, device_path: &str) -> Result<Option<(Vec<u8>, bool)>, RootError> {
        let Some(p) = self.resolve(device_path, true)? else {
            return Ok(None);
        };
        let io_err = |source| RootError::Io {
            path: display_path(device_path),
            source,
        };
        let md = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let kind = kind_name(&md);
        if kind != "regular file" {
            return Err(RootError::NotRegular {
                path: display_path(device_path),
                kind,
            });
        }
        let f = match File::open(&p) {
            Ok(f) => f,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let cap = self.limits.max_file_bytes;
        let mut buf = Vec::new();
        f.take(cap.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(io_err)?;
        let truncated = u64::try_from(buf.len()).unwrap_or(u64::MAX) > cap;
        if truncated {
            buf.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        }
        Ok(Some((buf, truncated)))
    }

    /// Reads a text file (see [`TextFile`]). `Ok(None)` when it does not exist.
    pub fn read_text(&self, device_path: &str) -> Result<Option<TextFile>, RootError> {
        Ok(self.read(device_path)?.map(|(bytes, truncated)| {
            TextFile::from_bytes(display_path(device_path), &bytes, truncated)
        }))
    }

    /// The names in a directory, sorted, at most [`ReadLimits::max_dir_entries`].
    /// `Ok(None)` when the directory does not exist.
    pub fn read_dir(&self, device_path: &str) -> Result<Option<Vec<String>>, RootError> {
        let Some(p) = self.resolve(device_path, true)? else {
            return Ok(None);
        };
        let rd = match fs::read_dir(&p) {
            Ok(rd) => rd,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(source) => {
                return Err(RootError::Io {
                    path: display_path(device_path),
                    source,
                });
            }
        };
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|source| RootError::Io {
                path: display_path(device_path),
                source,
            })?;
            if names.len() >= self.limits.max_dir_entries {
                log::warn!(
                    "{}: more than {} entries, the rest ignored",
                    display_path(device_path),
                    self.limits.max_dir_entries
                );
                break;
            }
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(Some(names))
    }

    /// The regular files of a drop-in directory (`/etc/sudoers.d`), sorted by
    /// name, as `(device path, name)`. Hidden files are skipped.
    pub fn dir_files(&self, device_dir: &str) -> Result<Vec<String>, RootError> {
        let Some(names) = self.read_dir(device_dir)? else {
            return Ok(Vec::new());
        };
        let base = display_path(device_dir);
        let mut out = Vec::new();
        for n in names {
            if n.starts_with('.') {
                continue;
            }
            let p = join(&base, &n);
            if let Ok(Some(m)) = self.metadata(&p) {
                if m.kind == FileKind::File {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }
}

/// A directory inside a [`Root`], already resolved (see [`Root::resolve_dir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDir {
    host: PathBuf,
    device: String,
}

impl ResolvedDir {
    /// The directory as a path on the device (`/home/tech`).
    pub fn device_path(&self) -> &str {
        &self.device
    }
}

fn is_plain_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/')
}

/// Joins a device directory and a name (`/etc` + `passwd` → `/etc/passwd`).
pub fn join(dir: &str, name: &str) -> String {
    if name.starts_with('/') {
        return display_path(name);
    }
    let d = display_path(dir);
    if d.ends_with('/') {
        format!("{d}{name}")
    } else {
        format!("{d}/{name}")
    }
}

/// The canonical display form of a device path: always starts with `/`.
pub fn display_path(device_path: &str) -> String {
    if device_path.starts_with('/') {
        device_path.to_owned()
    } else {
        format!("/{device_path}")
    }
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn is_absent(e: &io::Error) -> bool {
    // ENOTDIR: a component that should be a directory is a file: the path does not exist.
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn kind_name(md: &fs::Metadata) -> &'static str {
    let ft = md.file_type();
    if ft.is_file() {
        "regular file"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symbolic link"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "unknown"
    }
}

fn file_meta(md: &fs::Metadata) -> FileMeta {
    let ft = md.file_type();
    let kind = if ft.is_file() {
        FileKind::File
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::Other
    };
    FileMeta {
        kind,
        mode: md.mode() & 0o7777,
        uid: md.uid(),
        gid: md.gid(),
        size: md.size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, Root) {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("etc")).unwrap();
        fs::write(d.path().join("etc/passwd"), "root:x:0:0::/root:/bin/bash\n").unwrap();
        let r = Root::open(d.path()).unwrap();
        (d, r)
    }

    #[test]
    fn reads_a_file_with_or_without_leading_slash() {
        let (_d, r) = root();
        let t = r.read_text("/etc/passwd").unwrap().unwrap();
        assert_eq!(t.path, "/etc/passwd");
        assert!(r.read_text("etc/passwd").unwrap().is_some());
        assert!(r.read_text("/etc/shadow").unwrap().is_none());
        assert!(r.read_text("/etc/passwd/x").unwrap().is_none());
    }

    #[test]
    fn absolute_symlink_stays_inside_the_root() {
        let (d, r) = root();
        // On the host, /etc/hostname exists; inside the image the link must
        // resolve to the image's own /etc/passwd-like target or to nothing.
        symlink("/etc/passwd", d.path().join("etc/link")).unwrap();
        symlink("/../../../../etc/hostname", d.path().join("etc/escape")).unwrap();
        symlink("../../../../../../etc/passwd", d.path().join("etc/rel")).unwrap();
        assert!(
            r.read_text("/etc/link")
                .unwrap()
                .unwrap()
                .text
                .starts_with("root:")
        );
        assert!(r.read_text("/etc/escape").unwrap().is_none());
        assert!(
            r.read_text("/etc/rel")
                .unwrap()
                .unwrap()
                .text
                .starts_with("root:")
        );
        assert!(r.read_text("/../../etc/passwd").unwrap().is_some());
    }

    #[test]
    fn entry_lookups_agree_with_full_resolution() {
        let (d, r) = root();
        fs::create_dir_all(d.path().join("home/a")).unwrap();
        fs::write(d.path().join("home/a/.netrc"), "").unwrap();
        symlink("/etc", d.path().join("home/l")).unwrap();
        symlink("/../../../tmp", d.path().join("home/esc")).unwrap();
        let home = r.resolve_dir("/home").unwrap().unwrap();
        assert_eq!(home.device_path(), "/home");
        for name in ["a", "l", "esc", "none", "..", "a/.netrc"] {
            for follow in [true, false] {
                let full = if follow {
                    r.metadata(&join("/home", name))
                } else {
                    r.symlink_metadata(&join("/home", name))
                };
                assert_eq!(
                    r.entry_metadata(&home, name, follow).unwrap(),
                    full.unwrap(),
                    "{name} {follow}"
                );
            }
        }
        let a = r.entry_dir(&home, "a").unwrap().unwrap();
        assert!(r.entry_metadata(&a, ".netrc", false).unwrap().is_some());
        let l = r.entry_dir(&home, "l").unwrap().unwrap();
        assert!(
            r.entry_metadata(&l, "passwd", false).unwrap().is_some(),
            "symlinked dir resolves inside the root"
        );
        assert!(
            r.entry_dir(&home, "esc").unwrap().is_none(),
            "/tmp does not exist inside the root"
        );
        assert!(r.resolve_dir("/etc/passwd").unwrap().is_none());
    }

    #[test]
    fn symlink_loops_are_an_error() {
        let (d, r) = root();
        symlink("b", d.path().join("etc/a")).unwrap();
        symlink("a", d.path().join("etc/b")).unwrap();
        assert!(matches!(
            r.read_text("/etc/a"),
            Err(RootError::SymlinkLoop(_))
        ));
    }

    #[test]
    fn reads_are_capped() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("big"), "a:1\nb:2\nc:3\n").unwrap();
        let r = Root::with_limits(
            d.path(),
            ReadLimits {
                max_file_bytes: 6,
                ..ReadLimits::default()
            },
        )
        .unwrap();
        let t = r.read_text("/big").unwrap().unwrap();
        assert!(t.truncated);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(lines, vec![(1, "a:1")]);
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let (d, r) = root();
        let p = d.path().join("etc/fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(st.success());
        assert!(matches!(
            r.read("/etc/fifo"),
            Err(RootError::NotRegular { kind: "FIFO", .. })
        ));
    }

    #[test]
    fn lines_handle_crlf_missing_newline_and_bad_utf8() {
        let t = TextFile::from_bytes("/x", b"a\r\nb\xff\nc", false);
        assert!(t.lossy);
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b\u{fffd}"), (3, "c")]);
        assert_eq!(TextFile::from_bytes("/x", b"", false).lines().count(), 0);
    }

    #[test]
    fn dir_files_are_sorted_and_skip_hidden_and_dirs() {
        let (d, r) = root();
        fs::create_dir_all(d.path().join("etc/sudoers.d/sub")).unwrap();
        fs::write(d.path().join("etc/sudoers.d/b"), "").unwrap();
        fs::write(d.path().join("etc/sudoers.d/a"), "").unwrap();
        fs::write(d.path().join("etc/sudoers.d/.hidden"), "").unwrap();
        assert_eq!(
            r.dir_files("/etc/sudoers.d").unwrap(),
            vec!["/etc/sudoers.d/a", "/etc/sudoers.d/b"]
        );
        assert!(r.dir_files("/etc/none.d").unwrap().is_empty());
    }
}
