//! The attributes a rule can watch, and sets of them.
//!
//! The names are those of `dha.toml` (`attributes = ["sha256", "perm", …]`)
//! and of the JSON report. They follow AIDE's attribute list (aide.conf(5),
//! "ATTRIBUTES") where AIDE has one, so a policy translated from an AIDE
//! configuration keeps its meaning.

use std::fmt;

/// One watched attribute of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Attr {
    /// Content hash, SHA-256 (regular files).
    Sha256 = 0,
    /// Content hash, SHA-512 (regular files).
    Sha512 = 1,
    /// File type (regular, directory, symlink, FIFO, socket, device).
    Type = 2,
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    Perm = 3,
    /// Owner user id.
    Uid = 4,
    /// Owner group id.
    Gid = 5,
    /// Size in bytes.
    Size = 6,
    /// Modification time.
    Mtime = 7,
    /// Inode change time (cannot be set from user space: catches `touch -r`).
    Ctime = 8,
    /// Inode number.
    Inode = 9,
    /// Hard link count.
    Nlink = 10,
    /// Symbolic link target.
    LinkTarget = 11,
    /// Extended attributes other than the ACL, capability and SELinux ones
    /// (`user.*`, `trusted.*`, other `security.*`).
    Xattrs = 12,
    /// POSIX ACLs (`system.posix_acl_access`, `system.posix_acl_default`).
    Acl = 13,
    /// File capabilities (`security.capability`).
    Caps = 14,
    /// SELinux label (`security.selinux`).
    Selinux = 15,
    /// ext2/3/4 inode flags (chattr(1): immutable, append-only, …).
    Fflags = 16,
    /// Device number of the file system (quick mode trusts a file only when
    /// it is unchanged too).
    Dev = 17,
}

impl Attr {
    /// Every attribute, in report order.
    pub const ALL: [Attr; 18] = [
        Attr::Type,
        Attr::Sha256,
        Attr::Sha512,
        Attr::Perm,
        Attr::Uid,
        Attr::Gid,
        Attr::Size,
        Attr::Mtime,
        Attr::Ctime,
        Attr::Inode,
        Attr::Dev,
        Attr::Nlink,
        Attr::LinkTarget,
        Attr::Xattrs,
        Attr::Acl,
        Attr::Caps,
        Attr::Selinux,
        Attr::Fflags,
    ];

    /// The name used in `dha.toml` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Attr::Sha256 => "sha256",
            Attr::Sha512 => "sha512",
            Attr::Type => "type",
            Attr::Perm => "perm",
            Attr::Uid => "uid",
            Attr::Gid => "gid",
            Attr::Size => "size",
            Attr::Mtime => "mtime",
            Attr::Ctime => "ctime",
            Attr::Inode => "inode",
            Attr::Nlink => "nlink",
            Attr::LinkTarget => "link",
            Attr::Xattrs => "xattrs",
            Attr::Acl => "acl",
            Attr::Caps => "caps",
            Attr::Selinux => "selinux",
            Attr::Fflags => "fflags",
            Attr::Dev => "dev",
        }
    }

    /// The attribute with this name, if any.
    pub fn from_name(name: &str) -> Option<Attr> {
        Attr::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The attribute an extended attribute belongs to: `security.capability`
    /// to [`Attr::Caps`], `security.selinux` to [`Attr::Selinux`],
    /// `system.posix_acl_*` to [`Attr::Acl`], every other to [`Attr::Xattrs`].
    pub fn of_xattr(name: &[u8]) -> Attr {
        if name == b"security.capability" {
            Attr::Caps
        } else if name == b"security.selinux" {
            Attr::Selinux
        } else if name.starts_with(b"system.posix_acl_") {
            Attr::Acl
        } else {
            Attr::Xattrs
        }
    }

    fn bit(self) -> u32 {
        1u32 << (self as u8)
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of attributes (a bit set; cheap to copy).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AttrSet(u32);

impl AttrSet {
    /// No attribute.
    pub const EMPTY: AttrSet = AttrSet(0);

    /// Every attribute except SHA-512: the default set of a rule and of
    /// `dha integrity init PATH…` (SHA-512 doubles the hashing time and adds
    /// nothing against an attacker that SHA-256 does not already give).
    pub fn default_set() -> AttrSet {
        Attr::ALL
            .into_iter()
            .filter(|a| *a != Attr::Sha512)
            .collect()
    }

    /// Every attribute.
    pub fn all() -> AttrSet {
        Attr::ALL.into_iter().collect()
    }

    /// The set from its raw bits (as stored in a baseline); unknown bits are
    /// dropped.
    pub fn from_bits_truncate(bits: u32) -> AttrSet {
        AttrSet(bits & AttrSet::all().0)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether `attr` is in the set.
    pub fn contains(self, attr: Attr) -> bool {
        self.0 & attr.bit() != 0
    }

    /// The set with `attr` added.
    #[must_use]
    pub fn with(self, attr: Attr) -> AttrSet {
        AttrSet(self.0 | attr.bit())
    }

    /// The set with `attr` removed.
    #[must_use]
    pub fn without(self, attr: Attr) -> AttrSet {
        AttrSet(self.0 & !attr.bit())
    }

    /// The union of two sets.
    #[must_use]
    pub fn union(self, other: AttrSet) -> AttrSet {
        AttrSet(self.0 | other.0)
    }

    /// True when the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The attributes in the set, in report order.
    pub fn iter(self) -> impl Iterator<Item = Attr> {
        Attr::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    /// True when the set needs the file's content read (a hash).
    pub fn needs_content(self) -> bool {
        self.contains(Attr::Sha256) || self.contains(Attr::Sha512)
    }

    /// Whether the set watches the extended attribute `name`
    /// ([`Attr::of_xattr`]).
    pub fn watches_xattr(self, name: &[u8]) -> bool {
        self.contains(Attr::of_xattr(name))
    }

    /// True when the set needs extended attributes read.
    pub fn needs_xattrs(self) -> bool {
        self.contains(Attr::Xattrs)
            || self.contains(Attr::Acl)
            || self.contains(Attr::Caps)
            || self.contains(Attr::Selinux)
    }
}

impl FromIterator<Attr> for AttrSet {
    fn from_iter<I: IntoIterator<Item = Attr>>(iter: I) -> Self {
        AttrSet(iter.into_iter().fold(0, |acc, a| acc | a.bit()))
    }
}

impl fmt::Debug for AttrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Attr::name)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for a in Attr::ALL {
            assert_eq!(Attr::from_name(a.name()), Some(a));
            assert!(seen.insert(a.name()), "{a} twice");
        }
        assert_eq!(Attr::from_name("md5"), None);
    }

    #[test]
    fn sets_behave_like_sets() {
        let s = AttrSet::default_set();
        assert!(s.contains(Attr::Sha256) && !s.contains(Attr::Sha512));
        assert!(s.needs_content() && s.needs_xattrs());
        let t = AttrSet::EMPTY.with(Attr::Perm).with(Attr::Uid);
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![Attr::Perm, Attr::Uid]);
        assert!(!t.needs_content());
        assert_eq!(t.without(Attr::Perm).iter().count(), 1);
        assert_eq!(AttrSet::from_bits_truncate(u32::MAX), AttrSet::all());
        assert_eq!(format!("{t:?}"), r#"{"perm", "uid"}"#);
    }
}
