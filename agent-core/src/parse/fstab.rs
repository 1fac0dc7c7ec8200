//! `fstab(5)` and the kernel's mount table (`/proc/self/mounts`, same format).
//!
//! fstab(5): one filesystem per line, fields separated by blanks (spaces or
//! tabs): `fs_spec fs_file fs_vfstype fs_mntops [fs_freq [fs_passno]]`;
//! blank lines and lines whose first non-blank character is `#` are ignored;
//! a blank inside a field is written as the octal escape `\040` (the kernel
//! escapes space, tab, newline and backslash the same way in
//! `/proc/self/mounts`, see `show_vfsmnt` / `mangle()` in fs/proc_namespace.c).
//!
//! Options are comma-separated (mount(8) "FILESYSTEM-INDEPENDENT MOUNT
//! OPTIONS"); for pairs such as `exec`/`noexec` the last one written wins,
//! and `defaults` stands for `rw,suid,dev,exec,auto,nouser,async`.

use crate::finding::Diagnostic;
use crate::root::TextFile;

/// One filesystem line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// `fs_spec`: the device, `UUID=…`, `tmpfs`, … (escapes decoded).
    pub source: String,
    /// `fs_file`: the mount point (escapes decoded).
    pub target: String,
    /// `fs_vfstype`.
    pub fstype: String,
    /// `fs_mntops`, split at commas (escapes decoded).
    pub options: Vec<String>,
    /// The 1-based line.
    pub line: u32,
}

impl FstabEntry {
    /// Whether the mount ends up with the flag `flag` (`noexec`, `nodev`,
    /// `nosuid`): its last occurrence, or of its opposite (`exec`, `dev`,
    /// `suid`, or `defaults`, which implies all three), decides.
    pub fn has_flag(&self, flag: &str) -> bool {
        has_flag(&self.options, flag)
    }
}

/// Whether the options `opts` leave the `no…` flag `flag` set (see
/// [`FstabEntry::has_flag`]). Options apply left to right. `user` and
/// `users` imply `noexec,nosuid,nodev` "unless overridden by subsequent
/// options" (mount(8)), and only when still in force at the end: a later
/// `nouser` (or `defaults`, which includes `nouser`) cancels `user`, a later
/// `nousers` cancels `users` (libmount inserts the implied flags at the
/// position of the `user` option that remains, `evaluate_permissions` in
/// libmount/src/context_mount.c).
pub fn has_flag(opts: &[String], flag: &str) -> bool {
    let positive = flag.strip_prefix("no").unwrap_or(flag);
    // The position of the `on` option still in force after the whole list.
    let in_force = |on: &str, off: &[&str]| -> Option<usize> {
        let mut at = None;
        for (i, o) in opts.iter().enumerate() {
            if o == on {
                at = Some(i);
            } else if off.contains(&o.as_str()) {
                at = None;
            }
        }
        at
    };
    let user = in_force("user", &["nouser", "defaults"]);
    let users = in_force("users", &["nousers"]);
    let mut set = false;
    for (i, o) in opts.iter().enumerate() {
        let o = o.as_str();
        if o == flag || Some(i) == user || Some(i) == users {
            set = true;
        } else if o == positive || o == "defaults" {
            set = false;
        }
    }
    set
}

/// Decodes the octal escapes `\NNN` fstab(5) and the kernel use for blanks
/// and backslashes; anything else is kept as written.
pub fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(d) = b.get(i + 1..i + 4) {
                if d.iter().all(|x| (b'0'..=b'7').contains(x)) {
                    let v = d.iter().fold(0u32, |acc, x| acc * 8 + u32::from(x - b'0'));
                    if let Ok(byte) = u8::try_from(v) {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses one line; `Ok(None)` for a blank or comment line, `Err(message)`
/// when it has fewer than the four fields a mount needs.
pub fn parse_line(line: &str, n: u32) -> Result<Option<FstabEntry>, String> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let mut f = t.split([' ', '\t']).filter(|s| !s.is_empty());
    let (Some(source), Some(target), Some(fstype)) = (f.next(), f.next(), f.next()) else {
        return Err("fewer than 3 fields (fs_spec fs_file fs_vfstype)".to_owned());
    };
    // fs_mntops may be omitted in fstab (util-linux takes "defaults").
    let options = f.next().unwrap_or("defaults");
    Ok(Some(FstabEntry {
        source: unescape(source),
        target: unescape(target),
        fstype: fstype.to_owned(),
        options: options
            .split(',')
            .filter(|o| !o.is_empty())
            .map(unescape)
            .collect(),
        line: n,
    }))
}

/// Parses a whole fstab (or mount table), reporting malformed lines.
pub fn parse(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<FstabEntry> {
    let mut out = Vec::new();
    if t.truncated {
        warn(Diagnostic {
            file: t.path.clone(),
            line: None,
            field: None,
            message: "larger than the read limit; its last line was ignored".to_owned(),
        });
    }
    for (n, raw) in t.lines() {
        match parse_line(raw, n) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => {}
            Err(m) => warn(Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: raw.split_whitespace().next().map(str::to_owned),
                message: m,
            }),
        }
    }
    out
}

/// The entry that decides what is mounted at `target`: the last one
/// (a later mount over the same point hides an earlier one).
pub fn mounted_at<'a>(entries: &'a [FstabEntry], target: &str) -> Option<&'a FstabEntry> {
    entries
        .iter()
        .rev()
        .find(|e| e.target.trim_end_matches('/') == target.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Vec<FstabEntry>, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let e = parse(
            &TextFile::from_bytes("/etc/fstab", s.as_bytes(), false),
            &mut |x| d.push(x),
        );
        (e, d)
    }

    #[test]
    fn parses_debian_fstab_and_escapes() {
        let (e, d) = p("# /etc/fstab: static file system information.\n\
             UUID=0a1b / ext4 errors=remount-ro 0 1\n\
             \n  tmpfs\t/tmp tmpfs defaults,nosuid,nodev,noexec 0 0\n\
             /dev/sdb1 /media/My\\040Disk vfat user 0 0\n\
             broken line\n\
             proc /proc proc\n");
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].line, d[0].field.as_deref()),
            (Some(6), Some("broken"))
        );
        assert_eq!(e.len(), 4);
        let tmp = mounted_at(&e, "/tmp/").unwrap();
        assert_eq!(tmp.line, 4);
        assert!(tmp.has_flag("noexec") && tmp.has_flag("nodev") && tmp.has_flag("nosuid"));
        assert_eq!(e[2].target, "/media/My Disk");
        assert!(e[2].has_flag("noexec"), "user implies noexec");
        assert!(!e[0].has_flag("nodev"));
        assert_eq!(e[3].options, ["defaults"]);
    }

    #[test]
    fn the_last_of_a_pair_wins() {
        let o = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert!(!has_flag(&o("noexec,exec"), "noexec"));
        assert!(has_flag(&o("exec,noexec"), "noexec"));
        assert!(!has_flag(&o("noexec,defaults"), "noexec"));
        assert!(!has_flag(&o("user,exec"), "noexec"));
        assert!(has_flag(&o("user,exec"), "nosuid"));
        assert!(has_flag(&o("exec,user"), "noexec"));
    }

    #[test]
    fn nouser_cancels_what_user_implies() {
        let o = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        for f in ["noexec", "nosuid", "nodev"] {
            assert!(!has_flag(&o("user,nouser"), f), "{f}");
            assert!(has_flag(&o("nouser,user"), f), "{f}");
            assert!(!has_flag(&o("users,nousers"), f), "{f}");
            assert!(has_flag(&o("users,nouser"), f), "{f}");
            assert!(!has_flag(&o("user,defaults"), f), "{f}");
            assert!(has_flag(&o("user,nouser,nosuid,noexec,nodev"), f), "{f}");
            // user,nouser,user: the last user is in force again.
            assert!(has_flag(&o("user,nouser,user"), f), "{f}");
        }
        assert!(!has_flag(&o("user,exec"), "noexec"));
        assert!(has_flag(&o("user,exec"), "nodev"));
        assert!(!has_flag(&o("user,exec,nouser"), "noexec"));
    }

    #[test]
    fn unescape_keeps_what_is_not_an_escape() {
        assert_eq!(unescape("a\\040b\\134c\\011"), "a b\\c\t");
        assert_eq!(unescape("\\09x\\"), "\\09x\\");
        assert_eq!(unescape("\\777"), "\\777");
    }
}
