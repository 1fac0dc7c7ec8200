//! Extended attributes and inode flags for the integrity scanner: the Linux
//! implementation of [`dha_core::integrity::FsExtras`].
//!
//! Through `rustix` (safe wrappers over the system calls, no `unsafe` here):
//! `llistxattr(2)` and `lgetxattr(2)`, which never follow a final symbolic
//! link, and `ioctl(FS_IOC_GETFLAGS)` (ioctl_iflags(2), the flags chattr(1)
//! sets: immutable, append-only, …).

use std::fs::File;
use std::io;
use std::path::Path;

use dha_core::integrity::{FsExtras, Xattr};
use rustix::io::Errno;

/// The largest attribute name list and the largest attribute value read,
/// in bytes: the kernel's own limits (`XATTR_LIST_MAX` and `XATTR_SIZE_MAX`
/// in `linux/limits.h`), so no attribute a Linux file system can hold is
/// refused. A larger size reported (only by a misbehaving file system) is an
/// error, never a larger allocation.
pub const XATTR_MAX: usize = 64 * 1024;

/// The first buffer tried for the name list and for each value; most files
/// have no attribute or a few short ones, so one system call is the rule.
const FIRST_TRY: usize = 256;

/// How many times a list or a value that grows between the size query and the
/// read is retried before giving up with an error.
const RETRIES: usize = 4;

/// Reads extended attributes and ext2/3/4 inode flags from the live system.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxFsExtras;

impl FsExtras for LinuxFsExtras {
    /// Every extended attribute of `path` (the link itself when `path` is a
    /// symbolic link), sorted by name. A file system without extended
    /// attributes (`ENOTSUP`) yields an empty list; an attribute removed
    /// between the list and the read is left out.
    fn xattrs(&self, path: &Path) -> io::Result<Vec<Xattr>> {
        let list = match read_sized(
            |buf| rustix::fs::llistxattr(path, buf),
            || rustix::fs::llistxattr_query(path),
        ) {
            Ok(l) => l,
            Err(e) if is_unsupported(e) => return Ok(Vec::new()),
            Err(e) => return Err(with_path(e, path, "llistxattr")),
        };
        let mut out = Vec::new();
        for name in list.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let value = match read_sized(
                |buf| rustix::fs::lgetxattr(path, name, buf),
                || rustix::fs::lgetxattr_query(path, name),
            ) {
                Ok(v) => v,
                // Removed since the list was read.
                Err(Errno::NODATA) => continue,
                Err(e) if is_unsupported(e) => continue,
                Err(e) => {
                    let shown = String::from_utf8_lossy(name);
                    return Err(with_path(e, path, &format!("lgetxattr {shown}")));
                }
            };
            out.push(Xattr {
                name: name.into(),
                value: value.into_boxed_slice(),
            });
        }
        out.sort();
        Ok(out)
    }

    /// The inode flags of an open regular file or directory, or `None` when
    /// the file system has none (`ENOTTY`, `ENOTSUP`, `EINVAL`: tmpfs before
    /// Linux 6.0, procfs, FAT, …).
    fn fflags(&self, file: &File) -> io::Result<Option<u32>> {
        match rustix::fs::ioctl_getflags(file) {
            Ok(flags) => Ok(Some(flags.bits())),
            Err(Errno::NOTTY | Errno::INVAL) => Ok(None),
            Err(e) if is_unsupported(e) => Ok(None),
            Err(e) => Err(io::Error::new(
                io::Error::from(e).kind(),
                format!("FS_IOC_GETFLAGS: {e}"),
            )),
        }
    }

    /// Makes the extended attributes of `path` (the link itself when it is
    /// a symbolic link) exactly `xattrs`: removes every attribute
    /// `llistxattr(2)` shows that is not given (`lremovexattr(2)`), then sets
    /// each given one whose value differs (`lsetxattr(2)`). A name given
    /// twice is refused (`InvalidInput`) before anything is changed. Not
    /// atomic: after an error some attributes may be set (the store's
    /// restore applies it to a temporary file, never to the live one).
    fn set_xattrs(&self, path: &Path, xattrs: &[Xattr]) -> io::Result<()> {
        for (i, x) in xattrs.iter().enumerate() {
            if xattrs
                .iter()
                .skip(i.saturating_add(1))
                .any(|y| y.name == x.name)
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "extended attribute {} given twice",
                        String::from_utf8_lossy(&x.name)
                    ),
                ));
            }
        }
        let now = self.xattrs(path)?;
        for old in &now {
            if xattrs.iter().any(|x| x.name == old.name) {
                continue;
            }
            match rustix::fs::lremovexattr(path, &*old.name) {
                // Removed by someone else meanwhile: the wanted outcome.
                Ok(()) | Err(Errno::NODATA) => {}
                Err(e) => {
                    let shown = String::from_utf8_lossy(&old.name);
                    return Err(with_path(e, path, &format!("lremovexattr {shown}")));
                }
            }
        }
        for x in xattrs {
            if now.contains(x) {
                continue;
            }
            rustix::fs::lsetxattr(path, &*x.name, &x.value, rustix::fs::XattrFlags::empty())
                .map_err(|e| {
                    let shown = String::from_utf8_lossy(&x.name);
                    with_path(e, path, &format!("lsetxattr {shown}"))
                })?;
        }
        Ok(())
    }
}

fn is_unsupported(e: Errno) -> bool {
    // EOPNOTSUPP and ENOTSUP are one number on Linux.
    e == Errno::NOTSUP || e == Errno::OPNOTSUPP
}

fn with_path(e: Errno, path: &Path, call: &str) -> io::Error {
    // Keep the kind (NotFound, PermissionDenied) for the scanner's
    // classification, and name the call and the file.
    io::Error::new(
        io::Error::from(e).kind(),
        format!("{call} {}: {e}", path.display()),
    )
}

/// Reads a variable-sized kernel answer: first into a small buffer, and on
/// `ERANGE` asks the size, then reads again into a buffer of that size (the
/// attribute may grow in between: retried a few times), never beyond
/// [`XATTR_MAX`].
fn read_sized(
    mut read: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
    mut query: impl FnMut() -> Result<usize, Errno>,
) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; FIRST_TRY];
    for _ in 0..RETRIES {
        match read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => {
                let want = query()?;
                if want > XATTR_MAX {
                    return Err(Errno::TOOBIG);
                }
                // Room for a little growth, within the cap.
                buf = vec![0u8; want.saturating_add(64).clamp(FIRST_TRY, XATTR_MAX)];
            }
            Err(e) => return Err(e),
        }
    }
    Err(Errno::RANGE)
}

#[cfg(test)]
mod tests;
