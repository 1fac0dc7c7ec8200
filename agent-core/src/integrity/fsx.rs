//! What the scanner needs from the operating system beyond `std`: extended
//! attributes and inode flags. `agent-linux` implements [`FsExtras`] with the
//! system calls; [`NoExtras`] reads nothing (other systems, and tests that do
//! not need them).

use std::fs::File;
use std::io;
use std::path::Path;

use crate::integrity::record::Xattr;

/// Reads the attributes `std` cannot.
///
/// Implementations must never follow a symbolic link (`lgetxattr`/`llistxattr`
/// semantics) and must be callable from several threads at once.
pub trait FsExtras: Sync {
    /// The extended attributes of `path` (not following a final symlink),
    /// sorted by name. `Ok(vec![])` when the file system has none or does not
    /// support them.
    fn xattrs(&self, path: &Path) -> io::Result<Vec<Xattr>>;

    /// The ext2/3/4 inode flags (`FS_IOC_GETFLAGS`, chattr(1)) of an open
    /// regular file or directory; `Ok(None)` when the file system has no such
    /// flags.
    fn fflags(&self, file: &File) -> io::Result<Option<u32>>;

    /// Makes the extended attributes of `path` (not following a final
    /// symlink) exactly `xattrs`: sets each one given (`lsetxattr(2)`) and
    /// removes every other one the implementation can list
    /// (`lremovexattr(2)`). Used by a restore from the known-good store
    /// ([`KnownGoodStore::restore`](crate::integrity::store::KnownGoodStore::restore)).
    ///
    /// The default (systems without extended attributes, [`NoExtras`])
    /// fails with [`io::ErrorKind::Unsupported`].
    fn set_xattrs(&self, path: &Path, xattrs: &[Xattr]) -> io::Result<()> {
        let _ = (path, xattrs);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Reads no extended attributes and no flags.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExtras;

impl FsExtras for NoExtras {
    fn xattrs(&self, _path: &Path) -> io::Result<Vec<Xattr>> {
        Ok(Vec::new())
    }

    fn fflags(&self, _file: &File) -> io::Result<Option<u32>> {
        Ok(None)
    }
}
