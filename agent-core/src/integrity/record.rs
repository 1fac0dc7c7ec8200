//! What a scan records about one file: the unit of a baseline and of a diff.
//!
//! Kept small, because a baseline of a million files is held in memory
//! (issue 4: at most 250 bytes per file): the stat fields inline, the hashes
//! inline or boxed, and the rare parts (link target, extended attributes)
//! behind one optional box.

use std::fmt;

/// The type of a filesystem object, as `lstat(2)` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum EntryType {
    /// A regular file.
    Regular = 1,
    /// A directory.
    Directory = 2,
    /// A symbolic link (never followed).
    Symlink = 3,
    /// A named pipe (never opened).
    Fifo = 4,
    /// A UNIX domain socket (never opened).
    Socket = 5,
    /// A character device (never opened).
    CharDevice = 6,
    /// A block device (never opened).
    BlockDevice = 7,
}

impl EntryType {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            EntryType::Regular => "file",
            EntryType::Directory => "directory",
            EntryType::Symlink => "symlink",
            EntryType::Fifo => "fifo",
            EntryType::Socket => "socket",
            EntryType::CharDevice => "char-device",
            EntryType::BlockDevice => "block-device",
        }
    }

    /// The type from its stored code.
    pub fn from_code(code: u8) -> Option<EntryType> {
        Some(match code {
            1 => EntryType::Regular,
            2 => EntryType::Directory,
            3 => EntryType::Symlink,
            4 => EntryType::Fifo,
            5 => EntryType::Socket,
            6 => EntryType::CharDevice,
            7 => EntryType::BlockDevice,
            _ => return None,
        })
    }

    /// The type of a `std::fs::FileType` from `symlink_metadata`.
    pub fn of(ft: std::fs::FileType) -> EntryType {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_symlink() {
            EntryType::Symlink
        } else if ft.is_dir() {
            EntryType::Directory
        } else if ft.is_file() {
            EntryType::Regular
        } else if ft.is_fifo() {
            EntryType::Fifo
        } else if ft.is_socket() {
            EntryType::Socket
        } else if ft.is_char_device() {
            EntryType::CharDevice
        } else {
            EntryType::BlockDevice
        }
    }
}

impl fmt::Display for EntryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A point in time as the file system stores it: seconds since the epoch and
/// nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileTime {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds, 0 to 999,999,999.
    pub nanos: u32,
}

impl fmt::Display for FileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs, self.nanos)
    }
}

/// One extended attribute: name and value, as bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Xattr {
    /// The full name, with its namespace (`user.checksum`,
    /// `security.capability`, `system.posix_acl_access`).
    pub name: Box<[u8]>,
    /// The raw value.
    pub value: Box<[u8]>,
}

/// The rare parts of a record, boxed so that the common record stays small.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordExtra {
    /// The target of a symbolic link, as stored in the link (`readlink(2)`).
    pub link_target: Option<Box<[u8]>>,
    /// The extended attributes that were read, sorted by name (only when the
    /// rule watches `xattrs`, `acl`, `caps` or `selinux`).
    pub xattrs: Vec<Xattr>,
    /// The SHA-512 of the content, when the rule watches `sha512`.
    pub sha512: Option<Box<[u8; 64]>>,
}

/// What a scan records about one filesystem object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// The full path on the device (`/usr/bin/login`), as bytes (Linux paths
    /// need not be UTF-8).
    pub path: Box<[u8]>,
    /// The attributes recorded (those the matching rule watches); the others
    /// hold zeros and are never compared.
    pub attrs: crate::integrity::attrs::AttrSet,
    /// The object's type.
    pub entry_type: EntryType,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time.
    pub mtime: FileTime,
    /// Inode change time.
    pub ctime: FileTime,
    /// Inode number.
    pub inode: u64,
    /// Device number of the containing file system.
    pub dev: u64,
    /// Hard link count.
    pub nlink: u64,
    /// ext2/3/4 inode flags (`FS_IOC_GETFLAGS`), when the file system has them.
    pub fflags: Option<u32>,
    /// The SHA-256 of the content (regular files, when watched and read).
    pub sha256: Option<[u8; 32]>,
    /// Link target, extended attributes, SHA-512.
    pub extra: Option<Box<RecordExtra>>,
}

impl FileRecord {
    /// The path as text for reports (invalid UTF-8 replaced by U+FFFD).
    pub fn path_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    /// The symlink target, if recorded.
    pub fn link_target(&self) -> Option<&[u8]> {
        self.extra.as_ref().and_then(|e| e.link_target.as_deref())
    }

    /// The extended attributes recorded (empty when none or not watched).
    pub fn xattrs(&self) -> &[Xattr] {
        self.extra.as_ref().map_or(&[], |e| e.xattrs.as_slice())
    }

    /// The SHA-512, if recorded.
    pub fn sha512(&self) -> Option<&[u8; 64]> {
        self.extra.as_ref().and_then(|e| e.sha512.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_type_codes_round_trip() {
        for c in 1..=7u8 {
            let t = EntryType::from_code(c).unwrap();
            assert_eq!(t as u8, c);
        }
        assert_eq!(EntryType::from_code(0), None);
        assert_eq!(EntryType::from_code(8), None);
    }

    #[test]
    fn a_record_stays_small() {
        // The in-memory goal of issue 4 is 250 bytes per file, path included.
        assert!(
            std::mem::size_of::<FileRecord>() <= 160,
            "{}",
            std::mem::size_of::<FileRecord>()
        );
    }
}
