//! `sysctl.conf(5)` and `sysctl.d(5)`: kernel parameters as they are applied
//! at boot.
//!
//! One file (sysctl.d(5), "CONFIGURATION FORMAT"; procps `sysctl(8)` `-p`):
//! - a line `key = value`; whitespace around both is removed, and the value
//!   is taken as written (no quotes, no inline comments);
//! - a line whose first non-blank character is `#` or `;` is a comment;
//! - a leading `-` on the key means "ignore a failure to set it";
//! - `-key` alone (no `=`) excludes that key from an earlier glob (sysctl.d(5));
//! - `/` and `.` are both separators: when the first separator of a key is
//!   `.`, dots and slashes swap (`net.ipv4.conf.eth0/100.rp_filter` is
//!   `net/ipv4/conf/eth0.100/rp_filter`, sysctl.d(5)). Keys are kept here in
//!   the slash form, the path under `/proc/sys`.
//!
//! Merging (sysctl.d(5) "CONFIGURATION DIRECTORIES AND PRECEDENCE", as
//! systemd-sysctl and `sysctl --system` apply them): the `*.conf` files of
//! [`DROPIN_DIRS`] are read in the order of their file names whatever their
//! directory; a name in an earlier directory replaces the same name in a
//! later one; a link to `/dev/null` (or an empty file) masks the name; a
//! later assignment of a key overrides an earlier one.
//!
//! `/etc/sysctl.conf` depends on what applies the files at boot
//! ([`Applier`]). systemd-sysctl reads only the sysctl.d directories
//! (sysctl.d(5)): the classic file counts only through a drop-in that is a
//! link to it (Debian's procps ships `/etc/sysctl.d/99-sysctl.conf ->
//! ../sysctl.conf`; Debian 13 no longer does), at that drop-in's place in
//! the name order, so `/etc/sysctl.d/99-zz.conf` still overrides it. A
//! non-empty `/etc/sysctl.conf` that no drop-in reaches is not applied at
//! boot: [`load`] reports it and leaves it out. Without systemd (sysvinit,
//! busybox: procps `sysctl --system`, sysctl(8)) the file is read last.

use std::collections::BTreeMap;

use crate::finding::Diagnostic;
use crate::root::{FileKind, Root, TextFile, join};

/// The drop-in directories, highest priority first (sysctl.d(5) SYNOPSIS).
pub const DROPIN_DIRS: [&str; 5] = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// The classic file: read after every drop-in by procps `sysctl --system`,
/// only through a drop-in linked to it by systemd-sysctl (see the module docs).
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// Where systemd-sysctl lives on a root that boots with systemd
/// (`systemd-sysctl.service(8)`; `/lib` on Debian before the /usr merge).
pub const SYSTEMD_SYSCTL: [&str; 2] = [
    "/usr/lib/systemd/systemd-sysctl",
    "/lib/systemd/systemd-sysctl",
];

/// What applies the sysctl files at boot, which decides whether
/// `/etc/sysctl.conf` is read (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applier {
    /// systemd-sysctl: only the sysctl.d directories; `/etc/sysctl.conf`
    /// through a drop-in that links to it, at its place in the name order.
    Systemd,
    /// procps `sysctl --system` (sysvinit, busybox init scripts):
    /// `/etc/sysctl.conf` after every drop-in.
    Procps,
}

impl Applier {
    /// [`Applier::Systemd`] when the root holds systemd-sysctl
    /// ([`SYSTEMD_SYSCTL`]), else [`Applier::Procps`].
    pub fn detect(root: &Root) -> Applier {
        if SYSTEMD_SYSCTL.iter().any(|p| root.exists(p)) {
            Applier::Systemd
        } else {
            Applier::Procps
        }
    }
}

/// One `key = value` line (sysctl.d(5) "CONFIGURATION FORMAT").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The key in its normalised slash form (`kernel/randomize_va_space`).
    pub key: String,
    /// The key as written (without the `-` prefix).
    pub raw_key: String,
    /// The value as written, whitespace around it removed.
    pub value: String,
    /// The line started with `-`: a failure to set the key is ignored.
    pub ignore_failure: bool,
    /// The key holds a glob (`*`, `?`, `[`): it applies to every matching
    /// key under `/proc/sys` (sysctl.d(5)).
    pub glob: bool,
    /// The file it came from (a path inside the root).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl Assignment {
    /// The key in the dotted form `sysctl(8)` prints (`net.ipv4.conf.eth0/100.rp_filter`).
    pub fn dotted_key(&self) -> String {
        dotted(&self.key)
    }
}

/// A `-key` line without a value: the key is excluded from earlier globs (sysctl.d(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The key in its normalised slash form.
    pub key: String,
    /// The file it came from.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// One parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysctlFile {
    /// The path inside the root.
    pub path: String,
    /// The assignments in file order.
    pub assignments: Vec<Assignment>,
    /// The `-key` exclusions in file order.
    pub exclusions: Vec<Exclusion>,
}

/// Normalises a key (sysctl.d(5): "the first separator determines which of
/// `.` and `/` separates"): returns the slash form, repeated and outer
/// slashes removed. Empty when nothing is left.
pub fn normalize_key(key: &str) -> String {
    let key = key.trim();
    let swap = key
        .find(['.', '/'])
        .and_then(|i| key.get(i..))
        .is_some_and(|s| s.starts_with('.'));
    let mapped: String = if swap {
        key.chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect()
    } else {
        key.to_owned()
    };
    mapped
        .split('/')
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The dotted form of a normalised slash key: dots within components become
/// slashes, slashes become dots (the inverse of [`normalize_key`]).
pub fn dotted(slash_key: &str) -> String {
    slash_key
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            c => c,
        })
        .collect()
}

fn diag(file: &str, line: Option<u32>, field: Option<&str>, message: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line,
        field: field.map(str::to_owned),
        message: message.to_owned(),
    }
}

/// Parses one sysctl.conf / sysctl.d file (sysctl.d(5) "CONFIGURATION
/// FORMAT"). Lines that are not assignments are reported and skipped, as
/// systemd-sysctl does ("Line is not an assignment, ignoring").
pub fn parse(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> SysctlFile {
    let mut out = SysctlFile {
        path: t.path.clone(),
        ..SysctlFile::default()
    };
    if t.truncated {
        warn(diag(
            &t.path,
            None,
            None,
            "file larger than the read limit; its last line was ignored",
        ));
    }
    for (n, raw) in t.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            // `-key` alone: a negative match for earlier globs.
            if let Some(k) = line.strip_prefix('-') {
                let key = normalize_key(k);
                if key.is_empty() {
                    warn(diag(&t.path, Some(n), None, "`-` without a key"));
                } else if has_space(&key) {
                    warn(diag(
                        &t.path,
                        Some(n),
                        Some(k.trim()),
                        "whitespace inside a key",
                    ));
                } else {
                    out.exclusions.push(Exclusion {
                        key,
                        file: t.path.clone(),
                        line: n,
                    });
                }
                continue;
            }
            warn(diag(
                &t.path,
                Some(n),
                Some(first_word(line)),
                "not an assignment (no `=`); line ignored",
            ));
            continue;
        };
        let k = k.trim();
        let (ignore_failure, k) = match k.strip_prefix('-') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, k),
        };
        let key = normalize_key(k);
        if key.is_empty() {
            warn(diag(
                &t.path,
                Some(n),
                None,
                "assignment without a key; line ignored",
            ));
            continue;
        }
        if has_space(&key) {
            warn(diag(
                &t.path,
                Some(n),
                Some(k),
                "whitespace inside a key; line ignored",
            ));
            continue;
        }
        out.assignments.push(Assignment {
            glob: key.contains(['*', '?', '[']),
            key,
            raw_key: k.to_owned(),
            value: v.trim().to_owned(),
            ignore_failure,
            file: t.path.clone(),
            line: n,
        });
    }
    out
}

fn has_space(s: &str) -> bool {
    s.chars().any(char::is_whitespace)
}

fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or(line)
}

/// The settings in force after every file was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective {
    /// The files read, in the order applied.
    pub files: Vec<String>,
    /// Drop-ins masked by a link to `/dev/null` or an empty file.
    pub masked: Vec<String>,
    /// The effective assignment of each normalised key (the last one read).
    pub values: BTreeMap<String, Assignment>,
    /// Every exclusion read, in order.
    pub exclusions: Vec<Exclusion>,
}

impl Effective {
    /// Applies parsed files in order: a later assignment overrides an earlier one.
    pub fn merge(files: Vec<SysctlFile>) -> Effective {
        let mut out = Effective::default();
        for f in files {
            out.files.push(f.path);
            for a in f.assignments {
                out.values.insert(a.key.clone(), a);
            }
            out.exclusions.extend(f.exclusions);
        }
        out
    }

    /// The effective assignment of `key`, in either the dotted or the slash form.
    pub fn get(&self, key: &str) -> Option<&Assignment> {
        self.values.get(&normalize_key(key))
    }
}

/// The drop-ins to read, in order (sysctl.d(5) precedence), and the masked
/// ones. At most `max_files` are returned. A drop-in that is a link to
/// `/etc/sysctl.conf` (Debian's `99-sysctl.conf`) stands for that file: with
/// [`Applier::Systemd`] it is returned as [`SYSCTL_CONF`] at the drop-in's
/// place; with [`Applier::Procps`] it is left out, since that file is read
/// last anyway.
pub fn dropins(
    root: &Root,
    applier: Applier,
    max_files: usize,
    warn: &mut dyn FnMut(Diagnostic),
) -> (Vec<String>, Vec<String>) {
    let mut by_name: BTreeMap<String, Slot> = BTreeMap::new();
    for d in DROPIN_DIRS {
        let names = match root.read_dir(d) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                warn(diag(d, None, None, &e.to_string()));
                continue;
            }
        };
        for n in names {
            if n.starts_with('.') || !n.ends_with(".conf") || by_name.contains_key(&n) {
                continue;
            }
            let p = join(d, &n);
            // The link target is read itself: an extracted image's /dev is empty.
            match root.read_link(&p) {
                Ok(Some(t)) if t == "/dev/null" => {
                    by_name.insert(n, Slot::Masked);
                    continue;
                }
                Ok(Some(t)) if lexical(&join(d, &t)) == SYSCTL_CONF => {
                    let slot = match applier {
                        Applier::Systemd => Slot::File(SYSCTL_CONF.to_owned()),
                        Applier::Procps => Slot::ReadLast,
                    };
                    by_name.insert(n, slot);
                    continue;
                }
                _ => {}
            }
            match root.metadata(&p) {
                Ok(Some(m)) if m.kind == FileKind::File && m.size > 0 => {
                    by_name.insert(n, Slot::File(p));
                }
                // Empty, or a character device: /dev/null reached on a live system.
                Ok(Some(m)) if m.kind == FileKind::File || m.kind == FileKind::Other => {
                    by_name.insert(n, Slot::Masked);
                }
                Ok(_) => {}
                Err(e) => warn(diag(&p, None, None, &e.to_string())),
            }
        }
    }
    let mut files = Vec::new();
    let mut masked = Vec::new();
    for (name, p) in by_name {
        match p {
            Slot::File(p) if files.len() < max_files => files.push(p),
            Slot::File(p) => warn(diag(
                &p,
                None,
                None,
                &format!("more than {max_files} sysctl drop-ins; this one was ignored"),
            )),
            Slot::Masked => masked.push(name),
            Slot::ReadLast => {}
        }
    }
    (files, masked)
}

/// What a drop-in name resolves to.
enum Slot {
    /// A file to read.
    File(String),
    /// Masked: a link to `/dev/null` or an empty file.
    Masked,
    /// A link to `/etc/sysctl.conf`, which procps reads last anyway.
    ReadLast,
}

/// Resolves `.` and `..` in an absolute path without touching the disk.
fn lexical(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Reads and merges every sysctl file of the root as the root's
/// [`Applier`] applies them at boot (see the module docs). Unreadable files
/// and malformed lines are reported through `warn`, and so is a
/// `/etc/sysctl.conf` with settings that systemd-sysctl never reads (no
/// drop-in links to it): its settings are left out.
pub fn load(root: &Root, max_files: usize, warn: &mut dyn FnMut(Diagnostic)) -> Effective {
    let applier = Applier::detect(root);
    let (mut paths, masked) = dropins(root, applier, max_files, warn);
    match applier {
        Applier::Procps => paths.push(SYSCTL_CONF.to_owned()),
        Applier::Systemd if !paths.iter().any(|p| p == SYSCTL_CONF) => {
            unapplied_sysctl_conf(root, warn);
        }
        Applier::Systemd => {}
    }
    let mut parsed = Vec::new();
    for p in &paths {
        match root.read_text(p) {
            Ok(Some(t)) => parsed.push(parse(&t, warn)),
            Ok(None) => {}
            Err(e) => warn(diag(p, None, None, &e.to_string())),
        }
    }
    let mut eff = Effective::merge(parsed);
    eff.masked = masked;
    eff
}

/// Warns when `/etc/sysctl.conf` sets anything although systemd-sysctl,
/// which reads only the sysctl.d directories (sysctl.d(5)), never reaches it.
fn unapplied_sysctl_conf(root: &Root, warn: &mut dyn FnMut(Diagnostic)) {
    let Ok(Some(t)) = root.read_text(SYSCTL_CONF) else {
        return;
    };
    let f = parse(&t, &mut |_| {});
    let Some(first) = f.assignments.first() else {
        return;
    };
    warn(diag(
        SYSCTL_CONF,
        Some(first.line),
        Some(&first.raw_key),
        &format!(
            "{} setting(s) not applied at boot: systemd-sysctl reads only the sysctl.d \
             directories (sysctl.d(5)) and no drop-in links to this file (Debian's \
             /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf); the file is ignored",
            f.assignments.len()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn parse_str(path: &str, s: &str) -> (SysctlFile, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let f = parse(&TextFile::from_bytes(path, s.as_bytes(), false), &mut |x| {
            d.push(x)
        });
        (f, d)
    }

    #[test]
    fn parses_the_debian_files_and_the_format_corners() {
        let (f, d) = parse_str(
            "/etc/sysctl.d/90-hardening.conf",
            "#  This file is part of systemd.\n; a comment too\n\n\
             kernel.pid_max = 4194304\n\
             \tfs.protected_regular=2  \n\
             -net.ipv4.conf.all.rp_filter = 1\n\
             net.ipv4.conf.enp3s0/200.forwarding = 0\n\
             net/ipv4/conf/all/accept_redirects = 0 # not a comment\n\
             kernel.core_pattern = |/usr/lib/systemd/systemd-coredump %P %u\n\
             net.ipv4.conf.*.send_redirects = 0\n\
             -net.ipv4.conf.lo.send_redirects\n\
             kernel.yama.ptrace_scope\n\
              = 3\n\
             bad key = 1\n",
        );
        let keys: Vec<(&str, &str, u32)> = f
            .assignments
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str(), a.line))
            .collect();
        assert_eq!(
            keys,
            [
                ("kernel/pid_max", "4194304", 4),
                ("fs/protected_regular", "2", 5),
                ("net/ipv4/conf/all/rp_filter", "1", 6),
                ("net/ipv4/conf/enp3s0.200/forwarding", "0", 7),
                ("net/ipv4/conf/all/accept_redirects", "0 # not a comment", 8),
                (
                    "kernel/core_pattern",
                    "|/usr/lib/systemd/systemd-coredump %P %u",
                    9
                ),
                ("net/ipv4/conf/*/send_redirects", "0", 10),
            ]
        );
        assert!(
            f.assignments
                .iter()
                .filter(|a| a.ignore_failure)
                .map(|a| a.line)
                .eq([6])
        );
        assert!(
            f.assignments
                .iter()
                .filter(|a| a.glob)
                .map(|a| a.line)
                .eq([10])
        );
        assert_eq!(
            f.assignments.get(3).unwrap().dotted_key(),
            "net.ipv4.conf.enp3s0/200.forwarding"
        );
        assert_eq!(
            f.exclusions,
            [Exclusion {
                key: "net/ipv4/conf/lo/send_redirects".into(),
                file: "/etc/sysctl.d/90-hardening.conf".into(),
                line: 11,
            }]
        );
        let lines: Vec<(Option<u32>, Option<&str>)> =
            d.iter().map(|d| (d.line, d.field.as_deref())).collect();
        assert_eq!(
            lines,
            [
                (Some(12), Some("kernel.yama.ptrace_scope")),
                (Some(13), None),
                (Some(14), Some("bad key"))
            ]
        );
        assert!(
            d.iter()
                .all(|d| d.file == "/etc/sysctl.d/90-hardening.conf")
        );
    }

    #[test]
    fn both_separators_name_the_same_key() {
        for k in [
            "kernel.yama.ptrace_scope",
            "kernel/yama/ptrace_scope",
            "/kernel//yama/ptrace_scope/",
            " kernel.yama.ptrace_scope ",
        ] {
            assert_eq!(normalize_key(k), "kernel/yama/ptrace_scope", "{k}");
        }
        assert_eq!(
            normalize_key("net/ipv4/conf/eth0.100/rp_filter"),
            normalize_key("net.ipv4.conf.eth0/100.rp_filter")
        );
        assert_eq!(normalize_key(".."), "");
    }

    #[test]
    fn merges_as_the_kernel_applies_them_at_boot() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let w = |p: &str, s: &str| {
            let p = r.join(p.trim_start_matches('/'));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, s).unwrap();
        };
        // As shipped by Debian's systemd and procps.
        w(
            "/usr/lib/sysctl.d/50-pid-max.conf",
            "kernel.pid_max = 4194304\n",
        );
        w(
            "/usr/lib/sysctl.d/99-protect-links.conf",
            "fs.protected_fifos = 1\nfs.protected_regular = 2\n",
        );
        w(
            "/usr/lib/sysctl.d/50-coredump.conf",
            "kernel.core_pattern=|/lib/systemd/systemd-coredump %P\nfs.suid_dumpable = 2\n",
        );
        w(
            "/usr/lib/sysctl.d/10-vendor.conf",
            "kernel.kptr_restrict = 0\n",
        );
        w(
            "/usr/local/lib/sysctl.d/10-vendor.conf",
            "kernel.kptr_restrict = 1\n",
        );
        // /etc masks the packaged coredump file and overrides by name order.
        fs::create_dir_all(r.join("etc/sysctl.d")).unwrap();
        symlink("/dev/null", r.join("etc/sysctl.d/50-coredump.conf")).unwrap();
        w(
            "/etc/sysctl.d/60-local.conf",
            "kernel/pid_max = 32768\nfs.protected_fifos = 2\nfs.protected_fifos = 0\n",
        );
        w("/run/sysctl.d/99-zz.conf", "kernel.kptr_restrict = 2\n");
        w("/etc/sysctl.d/README.sysctl", "kernel.pid_max = 1\n");
        w("/etc/sysctl.d/70-empty.conf", "");
        symlink("../sysctl.conf", r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        w(
            "/etc/sysctl.conf",
            "#kernel.domainname = example.com\nnet.ipv4.tcp_syncookies=1\nkernel.kptr_restrict = 1\nnope\n",
        );

        let root = Root::open(r).unwrap();
        let mut d = Vec::new();
        let e = load(&root, 256, &mut |x| d.push(x));
        assert_eq!(
            e.files,
            [
                "/usr/local/lib/sysctl.d/10-vendor.conf",
                "/usr/lib/sysctl.d/50-pid-max.conf",
                "/etc/sysctl.d/60-local.conf",
                "/usr/lib/sysctl.d/99-protect-links.conf",
                "/run/sysctl.d/99-zz.conf",
                "/etc/sysctl.conf",
            ]
        );
        assert_eq!(e.masked, ["50-coredump.conf", "70-empty.conf"]);
        let at = |k: &str| {
            e.get(k)
                .map(|a| (a.value.as_str(), a.file.as_str(), a.line))
        };
        assert_eq!(
            at("kernel.pid_max"),
            Some(("32768", "/etc/sysctl.d/60-local.conf", 1))
        );
        assert_eq!(
            at("fs/protected_fifos"),
            Some(("1", "/usr/lib/sysctl.d/99-protect-links.conf", 1))
        );
        assert_eq!(
            at("fs.protected_regular"),
            Some(("2", "/usr/lib/sysctl.d/99-protect-links.conf", 2))
        );
        assert_eq!(
            at("kernel.kptr_restrict"),
            Some(("1", "/etc/sysctl.conf", 3))
        );
        assert_eq!(
            at("net.ipv4.tcp_syncookies"),
            Some(("1", "/etc/sysctl.conf", 2))
        );
        assert_eq!(at("kernel.core_pattern"), None);
        assert_eq!(at("fs.suid_dumpable"), None);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].file.as_str(), d[0].line, d[0].field.as_deref()),
            ("/etc/sysctl.conf", Some(4), Some("nope"))
        );

        let mut d = Vec::new();
        let e = load(&root, 2, &mut |x| d.push(x));
        assert_eq!(e.files.len(), 3);
        assert_eq!(d.len(), 4);
    }

    /// Writes `files` under a new temporary root.
    fn temp_root(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, s) in files {
            let p = dir.path().join(p.trim_start_matches('/'));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, s).unwrap();
        }
        dir
    }

    #[test]
    fn with_systemd_sysctl_conf_counts_only_through_its_link_in_name_order() {
        let dir = temp_root(&[
            ("/lib/systemd/systemd-sysctl", ""),
            (
                "/usr/lib/sysctl.d/50-default.conf",
                "kernel.kptr_restrict = 0\nnet.ipv4.tcp_syncookies = 0\n",
            ),
            ("/etc/sysctl.d/99-zz.conf", "kernel.kptr_restrict = 2\n"),
            (
                "/etc/sysctl.conf",
                "net.ipv4.tcp_syncookies=1\nkernel.kptr_restrict = 1\nfs.suid_dumpable = 0\n",
            ),
        ]);
        let r = dir.path();
        symlink("../sysctl.conf", r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        let root = Root::open(r).unwrap();
        assert_eq!(Applier::detect(&root), Applier::Systemd);
        let mut d = Vec::new();
        let e = load(&root, 256, &mut |x| d.push(x));
        assert!(d.is_empty(), "{d:?}");
        // 99-sysctl.conf sorts before 99-zz.conf: read there, not last.
        assert_eq!(
            e.files,
            [
                "/usr/lib/sysctl.d/50-default.conf",
                "/etc/sysctl.conf",
                "/etc/sysctl.d/99-zz.conf"
            ]
        );
        let at =
            |e: &Effective, k: &str| e.get(k).map(|a| (a.value.clone(), a.file.clone(), a.line));
        assert_eq!(
            at(&e, "kernel.kptr_restrict"),
            Some(("2".into(), "/etc/sysctl.d/99-zz.conf".into(), 1))
        );
        assert_eq!(
            at(&e, "net.ipv4.tcp_syncookies"),
            Some(("1".into(), SYSCTL_CONF.into(), 1))
        );

        // An absolute link is the same link; masking its name drops the file.
        fs::remove_file(r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        symlink(
            "/etc/sysctl.conf",
            r.join("usr/lib/sysctl.d/99-sysctl.conf"),
        )
        .unwrap();
        let e = load(&root, 256, &mut |_| {});
        assert_eq!(e.files.get(1).map(String::as_str), Some(SYSCTL_CONF));
        symlink("/dev/null", r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();

        // Masked, or no link at all (Debian 13): not applied at boot, reported once.
        let unapplied = |root: &Root| {
            let mut d = Vec::new();
            let e = load(root, 256, &mut |x| d.push(x));
            assert_eq!(
                e.files,
                [
                    "/usr/lib/sysctl.d/50-default.conf",
                    "/etc/sysctl.d/99-zz.conf"
                ]
            );
            assert_eq!(
                at(&e, "net.ipv4.tcp_syncookies"),
                Some(("0".into(), "/usr/lib/sysctl.d/50-default.conf".into(), 2))
            );
            assert_eq!(at(&e, "fs.suid_dumpable"), None);
            assert_eq!(d.len(), 1, "{d:?}");
            assert_eq!(
                (d[0].file.as_str(), d[0].line, d[0].field.as_deref()),
                (SYSCTL_CONF, Some(1), Some("net.ipv4.tcp_syncookies"))
            );
            assert!(d[0].message.contains("3 setting(s) not applied at boot"));
        };
        unapplied(&root);
        fs::remove_file(r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        fs::remove_file(r.join("usr/lib/sysctl.d/99-sysctl.conf")).unwrap();
        unapplied(&root);

        // Comments only (as Debian ships it): nothing to report.
        fs::write(
            r.join("etc/sysctl.conf"),
            "#kernel.domainname = example.com\n",
        )
        .unwrap();
        let mut d = Vec::new();
        load(&root, 256, &mut |x| d.push(x));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn without_systemd_sysctl_conf_is_read_last_even_through_its_link() {
        let dir = temp_root(&[
            ("/sbin/init", ""),
            ("/etc/sysctl.d/99-zz.conf", "kernel.kptr_restrict = 2\n"),
            ("/etc/sysctl.conf", "kernel.kptr_restrict = 1\n"),
        ]);
        let r = dir.path();
        symlink("../sysctl.conf", r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        let root = Root::open(r).unwrap();
        assert_eq!(Applier::detect(&root), Applier::Procps);
        let mut d = Vec::new();
        let e = load(&root, 256, &mut |x| d.push(x));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(e.files, ["/etc/sysctl.d/99-zz.conf", SYSCTL_CONF]);
        let a = e.get("kernel.kptr_restrict").unwrap();
        assert_eq!((a.value.as_str(), a.file.as_str()), ("1", SYSCTL_CONF));
        // No link at all: still read, last (procps `sysctl --system`).
        fs::remove_file(r.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        let e = load(&root, 256, &mut |_| {});
        assert_eq!(e.files, ["/etc/sysctl.d/99-zz.conf", SYSCTL_CONF]);
    }

    #[test]
    fn this_machine_loads_without_a_panic() {
        let root = Root::open("/").unwrap();
        let e = load(&root, 256, &mut |_| {});
        // Without systemd, /etc/sysctl.conf is read once, last; with it, at
        // most once (through Debian's 99-sysctl.conf link).
        if root.exists(SYSCTL_CONF) && Applier::detect(&root) == Applier::Procps {
            assert_eq!(e.files.last().map(String::as_str), Some(SYSCTL_CONF));
            assert_eq!(
                e.files
                    .iter()
                    .filter(|f| f.ends_with("sysctl.conf"))
                    .count(),
                1
            );
        }
        if root.exists(SYSCTL_CONF) {
            assert!(e.files.iter().filter(|f| *f == SYSCTL_CONF).count() <= 1);
        }
        if root.exists("/usr/lib/sysctl.d/99-protect-links.conf") {
            let a = e.get("fs.protected_symlinks").unwrap();
            assert_eq!((a.value.as_str(), a.line), ("1", 10));
        }
    }
}
