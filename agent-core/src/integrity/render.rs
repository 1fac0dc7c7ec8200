//! Attribute values and paths rendered for people: the `old` and `new`
//! strings of a change, in the report's table and JSON.
//!
//! Paths and other byte strings use one lossless escape ([`escape_bytes`],
//! undone by [`unescape_bytes`]): Linux paths need not be UTF-8, and a file
//! name may carry terminal escape sequences or Unicode direction overrides
//! that must not reach a terminal as they are.
//!
//! The binary extended attributes are decoded into the forms their usual
//! tools print: POSIX ACLs as getfacl(1)/setfacl(1) text, file capabilities
//! as getcap(8)/cap_to_text(3) text, ext2/4 inode flags as lsattr(1)
//! letters. These formats are small, fixed and documented kernel ABIs; the
//! crates that handle them (`exacl`, `caps`) read them through the operating
//! system and are Linux-only, while the core must decode bytes it is given
//! (a baseline made on another machine, an extracted image), so the few
//! lines of decoding live here.

use std::fmt::Write as _;

use crate::integrity::record::FileTime;

/// `bytes` as text, losslessly: valid UTF-8 stays as it is, except that a
/// backslash becomes `\\`, and each byte of an invalid UTF-8 sequence, of a
/// control character (C0, DEL, C1) or of a Unicode bidirectional control
/// (the "Trojan Source" characters, CVE-2021-42574) becomes `\xNN`
/// (lower-case hex). The result is safe to print on a terminal and to put in
/// JSON, and [`unescape_bytes`] gives the bytes back.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if needs_escape(c) {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    push_hex_escape(&mut out, b);
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            push_hex_escape(&mut out, *b);
        }
    }
    out
}

/// Text made safe for a terminal: each byte of a control or bidirectional
/// character becomes `\xNN`, everything else (backslashes included) stays,
/// so text already escaped by [`escape_bytes`] is not escaped twice.
pub fn clean_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().saturating_add(8));
    for c in text.chars() {
        if needs_escape(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                push_hex_escape(&mut out, b);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn push_hex_escape(out: &mut String, b: u8) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\x{b:02x}");
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The bytes that [`escape_bytes`] rendered as `text`, or `None` when `text`
/// holds a backslash that is not `\\` or `\xNN`.
pub fn unescape_bytes(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'\\' {
            out.push(b);
            rest = tail;
            continue;
        }
        match tail {
            [b'\\', t @ ..] => {
                out.push(b'\\');
                rest = t;
            }
            [b'x', h, l, t @ ..] => {
                let hex = [*h, *l];
                let s = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(s, 16).ok()?);
                rest = t;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Permission bits as four octal digits (`0644`, `4755`).
pub fn perm(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// A file time as RFC 3339 in UTC with nanoseconds
/// (`2023-11-14T22:13:20.000000001Z`); a time outside the years the `time`
/// crate represents falls back to `SECS.NANOS` since the epoch.
pub fn file_time(t: FileTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    time::OffsetDateTime::from_unix_timestamp(t.secs)
        .ok()
        .and_then(|d| d.replace_nanosecond(t.nanos).ok())
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| t.to_string())
}

/// ext2/3/4 inode flags (`FS_IOC_GETFLAGS`) as lsattr(1) letters, in
/// lsattr's order (e2fsprogs lib/e2p/pf.c); bits lsattr has no letter for
/// follow as hex (`ie+0x100`); no flag at all is `-`.
pub fn fflags(flags: u32) -> String {
    // (bit, letter) in the order lsattr prints them (linux/fs.h values).
    const LETTERS: [(u32, char); 22] = [
        (0x0000_0001, 's'), // FS_SECRM_FL: secure deletion
        (0x0000_0002, 'u'), // FS_UNRM_FL: undelete
        (0x0000_0008, 'S'), // FS_SYNC_FL: synchronous updates
        (0x0001_0000, 'D'), // FS_DIRSYNC_FL: synchronous directory updates
        (0x0000_0010, 'i'), // FS_IMMUTABLE_FL
        (0x0000_0020, 'a'), // FS_APPEND_FL: append only
        (0x0000_0040, 'd'), // FS_NODUMP_FL
        (0x0000_0080, 'A'), // FS_NOATIME_FL
        (0x0000_0004, 'c'), // FS_COMPR_FL: compress
        (0x0000_0800, 'E'), // FS_ENCRYPT_FL: encrypted
        (0x0000_4000, 'j'), // FS_JOURNAL_DATA_FL
        (0x0000_1000, 'I'), // FS_INDEX_FL: hashed directory
        (0x0000_8000, 't'), // FS_NOTAIL_FL
        (0x0002_0000, 'T'), // FS_TOPDIR_FL
        (0x0008_0000, 'e'), // FS_EXTENT_FL: extents
        (0x0080_0000, 'C'), // FS_NOCOW_FL
        (0x0200_0000, 'x'), // FS_DAX_FL
        (0x4000_0000, 'F'), // FS_CASEFOLD_FL
        (0x1000_0000, 'N'), // FS_INLINE_DATA_FL
        (0x2000_0000, 'P'), // FS_PROJINHERIT_FL
        (0x0010_0000, 'V'), // FS_VERITY_FL
        (0x0000_0400, 'm'), // FS_NOCOMP_FL: do not compress
    ];
    let mut s = String::new();
    let mut known = 0u32;
    for (bit, letter) in LETTERS {
        known |= bit;
        if flags & bit != 0 {
            s.push(letter);
        }
    }
    let unknown = flags & !known;
    if unknown != 0 {
        let _ = write!(s, "+{unknown:#x}");
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

/// An extended attribute's value for people: decoded when its name says
/// what it is (`system.posix_acl_*`, `security.capability`,
/// `security.selinux`), else text when it is printable UTF-8, else `0x` and
/// hex. A value that does not decode is shown in hex too.
pub fn xattr_value(name: &[u8], value: &[u8]) -> String {
    let decoded = match name {
        b"system.posix_acl_access" | b"system.posix_acl_default" => acl(value),
        b"security.capability" => caps(value),
        b"security.selinux" => {
            // The kernel stores the label with a terminating NUL.
            let v = value.strip_suffix(b"\0").unwrap_or(value);
            printable(v)
        }
        _ => printable(value),
    };
    decoded.unwrap_or_else(|| format!("0x{}", hex(value)))
}

fn printable(value: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(value).ok()?;
    (!s.chars().any(needs_escape)).then(|| s.to_owned())
}

/// A POSIX ACL extended attribute (`system.posix_acl_access` or
/// `_default`) as getfacl(1) short text
/// (`user::rw-,user:1000:r--,group::r--,mask::r--,other::r--`), or `None`
/// when it is not well formed.
///
/// The format is the kernel's `posix_acl_xattr` (include/uapi/linux/
/// posix_acl_xattr.h, the same as libacl's): a little-endian `u32` version,
/// 2, then entries of `{tag: u16, perm: u16, id: u32}`, little-endian. User
/// and group ids stay numeric: the core does not read `/etc/passwd`.
pub fn acl(value: &[u8]) -> Option<String> {
    let (version, entries) = value.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*version) != 2 || entries.len() % 8 != 0 {
        return None;
    }
    let mut parts = Vec::with_capacity(entries.len() / 8);
    for e in entries.chunks_exact(8) {
        let (tag, rest) = e.split_first_chunk::<2>()?;
        let (perm, id) = rest.split_first_chunk::<2>()?;
        let id: [u8; 4] = id.try_into().ok()?;
        let perm = u16::from_le_bytes(*perm);
        if perm & !7 != 0 {
            return None;
        }
        let rwx: String = [(4, 'r'), (2, 'w'), (1, 'x')]
            .iter()
            .map(|(bit, c)| if perm & bit != 0 { *c } else { '-' })
            .collect();
        let id = u32::from_le_bytes(id);
        parts.push(match u16::from_le_bytes(*tag) {
            0x01 => format!("user::{rwx}"),
            0x02 => format!("user:{id}:{rwx}"),
            0x04 => format!("group::{rwx}"),
            0x08 => format!("group:{id}:{rwx}"),
            0x10 => format!("mask::{rwx}"),
            0x20 => format!("other::{rwx}"),
            _ => return None,
        });
    }
    Some(parts.join(","))
}

/// The names of the capabilities by bit number (linux/capability.h), as
/// libcap prints them.
const CAP_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// A `security.capability` value as getcap(8) text (`cap_net_raw=ep`,
/// `cap_chown,cap_net_raw=eip`; a v3 value adds ` [rootid=1000]`), or
/// `None` when it is not well formed.
///
/// The format is the kernel's `vfs_cap_data` (include/uapi/linux/
/// capability.h): a little-endian `u32` holding the revision (high byte:
/// 1, 2 or 3) and the effective flag (bit 0), then one (revision 1) or two
/// `{permitted: u32, inheritable: u32}` pairs, low word first, then for
/// revision 3 the root uid of the user namespace. Capabilities that share
/// their flags are listed together, as cap_to_text(3) does; a bit with no
/// known name is shown by number.
pub fn caps(value: &[u8]) -> Option<String> {
    let (magic, rest) = value.split_first_chunk::<4>()?;
    let magic = u32::from_le_bytes(*magic);
    let effective = magic & 1 != 0;
    if magic & 0x00ff_fffe != 0 {
        return None;
    }
    let (words, rootid) = match (magic >> 24, rest.len()) {
        (1, 8) => (1, None),
        (2, 16) => (2, None),
        (3, 20) => {
            let id: [u8; 4] = rest.get(16..20)?.try_into().ok()?;
            (2, Some(u32::from_le_bytes(id)))
        }
        _ => return None,
    };
    let word = |i: usize| -> Option<u32> {
        let b: [u8; 4] = rest.get(i * 4..i * 4 + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    };
    let (mut permitted, mut inheritable) = (0u64, 0u64);
    for w in 0..words {
        let shift = 32 * w;
        permitted |= u64::from(word(2 * w)?) << shift;
        inheritable |= u64::from(word(2 * w + 1)?) << shift;
    }
    // Group the capabilities by their flags, in libcap's letter order.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for bit in 0..64u32 {
        let (p, i) = (permitted >> bit & 1 != 0, inheritable >> bit & 1 != 0);
        if !p && !i {
            continue;
        }
        let mut flags = String::new();
        if effective {
            flags.push('e');
        }
        if i {
            flags.push('i');
        }
        if p {
            flags.push('p');
        }
        let name = usize::try_from(bit)
            .ok()
            .and_then(|b| CAP_NAMES.get(b))
            .map_or_else(|| bit.to_string(), |n| (*n).to_owned());
        match groups.iter_mut().find(|(f, _)| *f == flags) {
            Some((_, names)) => names.push(name),
            None => groups.push((flags, vec![name])),
        }
    }
    let mut s = if groups.is_empty() {
        "=".to_owned()
    } else {
        groups
            .iter()
            .map(|(flags, names)| format!("{}={flags}", names.join(",")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(id) = rootid {
        let _ = write!(s, " [rootid={id}]");
    }
    Some(s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn escaping_is_lossless_and_terminal_safe() {
        for raw in [
            &b"/etc/passwd"[..],
            b"/tmp/caf\xc3\xa9",
            b"/tmp/bad\xff\xfe name",
            b"/tmp/esc\x1b[31mred",
            b"/tmp/back\\slash\\x41",
            "/tmp/\u{202e}txt.exe".as_bytes(),
            "/tmp/c1\u{85}".as_bytes(),
        ] {
            let text = escape_bytes(raw);
            assert!(!text.chars().any(needs_escape), "{text:?}");
            assert_eq!(unescape_bytes(&text).as_deref(), Some(raw), "{text:?}");
        }
        assert_eq!(escape_bytes(b"/tmp/bad\xff"), "/tmp/bad\\xff");
        assert_eq!(escape_bytes(b"/tmp/a\\b"), "/tmp/a\\\\b");
        assert_eq!(escape_bytes("/tmp/café".as_bytes()), "/tmp/café");
        assert_eq!(clean_text("a\\xff\u{1b}[0m"), "a\\xff\\x1b[0m");
        assert_eq!(unescape_bytes("\\q"), None);
        assert_eq!(unescape_bytes("\\x4"), None);
        assert_eq!(unescape_bytes("\\xzz"), None);
    }

    #[test]
    fn scalar_values_render_as_people_expect() {
        assert_eq!(perm(0o100644), "0644");
        assert_eq!(perm(0o4755), "4755");
        assert_eq!(
            file_time(FileTime {
                secs: 1_700_000_000,
                nanos: 1
            }),
            "2023-11-14T22:13:20.000000001Z"
        );
        assert_eq!(
            file_time(FileTime {
                secs: i64::MAX,
                nanos: 5
            }),
            format!("{}.000000005", i64::MAX)
        );
        assert_eq!(fflags(0), "-");
        assert_eq!(fflags(0x10 | 0x80000), "ie");
        assert_eq!(fflags(0x20), "a");
        assert_eq!(fflags(0x8000_0000 | 0x10), "i+0x80000000");
        assert_eq!(hex(&[0, 0xab]), "00ab");
    }

    pub(crate) fn acl_bytes(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut v = 2u32.to_le_bytes().to_vec();
        for (tag, perm, id) in entries {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&perm.to_le_bytes());
            v.extend_from_slice(&id.to_le_bytes());
        }
        v
    }

    #[test]
    fn acls_decode_to_getfacl_text() {
        let v = acl_bytes(&[
            (0x01, 6, u32::MAX),
            (0x02, 4, 1000),
            (0x04, 4, u32::MAX),
            (0x10, 4, u32::MAX),
            (0x20, 4, u32::MAX),
        ]);
        assert_eq!(
            xattr_value(b"system.posix_acl_access", &v),
            "user::rw-,user:1000:r--,group::r--,mask::r--,other::r--"
        );
        // Wrong version, a torn entry, an unknown tag: hex, never a panic.
        let mut bad = v.clone();
        bad[0] = 3;
        assert!(xattr_value(b"system.posix_acl_access", &bad).starts_with("0x03"));
        assert_eq!(acl(&v[..v.len() - 1]), None);
        assert_eq!(acl(&acl_bytes(&[(0x40, 4, 0)])), None);
        assert_eq!(acl(&acl_bytes(&[(0x01, 8, 0)])), None);
        assert_eq!(acl(&[]), None);
    }

    pub(crate) fn cap_v2(effective: bool, permitted: u64, inheritable: u64) -> Vec<u8> {
        // vfs_cap_data: magic, then {permitted, inheritable} for the low
        // word, then for the high word.
        let mut v = (0x0200_0000u32 | u32::from(effective))
            .to_le_bytes()
            .to_vec();
        for w in [permitted, inheritable, permitted >> 32, inheritable >> 32] {
            v.extend_from_slice(&((w & 0xffff_ffff) as u32).to_le_bytes());
        }
        v
    }

    #[test]
    fn capabilities_decode_to_getcap_text() {
        let net_raw = 1u64 << 13;
        assert_eq!(
            xattr_value(b"security.capability", &cap_v2(true, net_raw, 0)),
            "cap_net_raw=ep"
        );
        assert_eq!(
            caps(&cap_v2(false, net_raw | 1, 1)).as_deref(),
            Some("cap_chown=ip cap_net_raw=p")
        );
        assert_eq!(
            caps(&cap_v2(true, 1 << 40 | 1 << 50, 0)).as_deref(),
            Some("cap_checkpoint_restore,50=ep")
        );
        let mut v3 = cap_v2(true, net_raw, 0);
        v3[3] = 3;
        v3.extend_from_slice(&1000u32.to_le_bytes());
        assert_eq!(caps(&v3).as_deref(), Some("cap_net_raw=ep [rootid=1000]"));
        assert_eq!(caps(&v3[..22]), None);
        assert_eq!(caps(&[1, 2]), None);
        assert!(xattr_value(b"security.capability", &[9; 20]).starts_with("0x"));
    }

    #[test]
    fn other_xattrs_are_text_or_hex() {
        assert_eq!(xattr_value(b"user.note", b"hello"), "hello");
        assert_eq!(xattr_value(b"user.bin", b"a\0b"), "0x610062");
        assert_eq!(
            xattr_value(b"security.selinux", b"system_u:object_r:bin_t:s0\0"),
            "system_u:object_r:bin_t:s0"
        );
    }

    /// The raw value of `name` on `file`, as the kernel stores it.
    fn raw_xattr(file: &std::path::Path, name: &str) -> Vec<u8> {
        let out = std::process::Command::new("getfattr")
            .args(["--absolute-names", "--only-values", "-n", name])
            .arg(file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    }

    fn have(tool: &str) -> bool {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// The decoders agree with the tools on values the kernel stored (needs
    /// `acl`, `attr` and `libcap2-bin`; /tmp must support xattrs).
    #[test]
    fn decoding_matches_the_tools_on_real_files() {
        if !["setfacl", "getfacl", "getfattr", "setcap"]
            .iter()
            .all(|t| have(t))
        {
            eprintln!("skipped: setfacl, getfacl, getfattr or setcap missing");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let run = |cmd: &str, args: &[&str]| {
            let st = std::process::Command::new(cmd)
                .args(args)
                .arg(&f)
                .status()
                .unwrap();
            assert!(st.success(), "{cmd} {args:?}");
        };
        run("setfacl", &["-m", "u:1000:r,g:27:rw"]);
        let out = std::process::Command::new("getfacl")
            .args(["-c", "-n", "-E"])
            .arg(&f)
            .output()
            .unwrap();
        let want: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        assert_eq!(
            acl(&raw_xattr(&f, "system.posix_acl_access")).unwrap(),
            want.join(",")
        );
        run("setcap", &["cap_net_raw,cap_net_admin+ep"]);
        assert_eq!(
            caps(&raw_xattr(&f, "security.capability")).unwrap(),
            "cap_net_admin,cap_net_raw=ep"
        );
    }
}
