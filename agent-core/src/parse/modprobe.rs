//! `modprobe.d(5)`: the configuration kmod's `modprobe` reads before it
//! loads a module.
//!
//! Files (modprobe.d(5) SYNOPSIS, kmod's `libkmod-config.c`): the `*.conf`
//! files of [`DROPIN_DIRS`], read in the order of their file names whatever
//! their directory; a name in an earlier directory replaces the same name in
//! a later one (so `/etc` overrides a packaged file by giving it the same
//! name); a link to `/dev/null` masks the name.
//!
//! Format (modprobe.d(5) DESCRIPTION): one command per line; a line ending
//! in `\` continues on the next; a line whose first non-blank character is
//! `#` is a comment; `-` and `_` in module names are interchangeable (kmod
//! normalises names to `_`).
//!
//! The commands that decide whether a module can load:
//! - `blacklist MODULE`: the module's own aliases are ignored, so udev's
//!   automatic loading (through the device's modalias) does not load it —
//!   but an explicit `modprobe MODULE`, or another module depending on it,
//!   still does (modprobe.d(5) "blacklist");
//! - `install MODULE COMMAND...`: modprobe runs the shell command instead of
//!   inserting the module; `/bin/false` or `/bin/true` make every load do
//!   nothing. Only the first `install` line naming a module counts ("find
//!   only the first command, as modprobe from module-init-tools does",
//!   kmod `kmod_module_get_install_commands`).

use std::collections::BTreeMap;

use crate::finding::Diagnostic;
use crate::root::{FileKind, Root, TextFile, join};

/// The configuration directories, highest priority first (modprobe.d(5)).
pub const DROPIN_DIRS: [&str; 5] = [
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// The longest logical line kept (continuations joined); longer is cut with
/// a diagnostic. kmod itself has no limit; no real command comes near it.
pub const MAX_LOGICAL_LINE: usize = 64 * 1024;

/// One `blacklist` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blacklist {
    /// The module, normalised (`usb_storage`).
    pub module: String,
    /// The file (a path inside the root).
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

/// One `install` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// The module, normalised (`usb_storage`).
    pub module: String,
    /// The command, as written.
    pub command: String,
    /// The file (a path inside the root).
    pub file: String,
    /// The 1-based line where the command starts.
    pub line: u32,
}

impl Install {
    /// True when the command makes loading the module do nothing: a lone
    /// `false` or `true` (`/bin/false`, `/usr/bin/true`, or a bare name the
    /// shell finds), optionally followed by arguments, which both ignore.
    pub fn disables(&self) -> bool {
        let Some(first) = self.command.split_whitespace().next() else {
            return false;
        };
        if self.command.contains([';', '&', '|', '`', '$', '\n']) {
            return false;
        }
        matches!(
            first,
            "/bin/false"
                | "/bin/true"
                | "/usr/bin/false"
                | "/usr/bin/true"
                | "/sbin/false"
                | "false"
                | "true"
        )
    }
}

/// The parsed configuration, in the order modprobe reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModprobeConfig {
    /// The files read, in order.
    pub files: Vec<String>,
    /// Names masked by a link to `/dev/null`.
    pub masked: Vec<String>,
    /// Every `blacklist` line, in reading order.
    pub blacklists: Vec<Blacklist>,
    /// Every `install` line, in reading order.
    pub installs: Vec<Install>,
}

impl ModprobeConfig {
    /// The `install` command modprobe runs for `module` (the first one read).
    pub fn install_for(&self, module: &str) -> Option<&Install> {
        let m = normalize(module);
        self.installs.iter().find(|i| i.module == m)
    }

    /// The first `blacklist` line of `module`.
    pub fn blacklist_for(&self, module: &str) -> Option<&Blacklist> {
        let m = normalize(module);
        self.blacklists.iter().find(|b| b.module == m)
    }

    /// Appends the commands of one file.
    pub fn add(&mut self, t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) {
        self.files.push(t.path.clone());
        for (n, line) in logical_lines(t, warn) {
            let mut words = line.split_whitespace();
            let Some(cmd) = words.next() else {
                continue;
            };
            let diag = |field: &str, message: &str| Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: Some(field.to_owned()),
                message: message.to_owned(),
            };
            match cmd {
                "blacklist" => match words.next() {
                    Some(m) => self.blacklists.push(Blacklist {
                        module: normalize(m),
                        file: t.path.clone(),
                        line: n,
                    }),
                    None => warn(diag(cmd, "blacklist without a module name")),
                },
                "install" => {
                    let Some(m) = words.next() else {
                        warn(diag(cmd, "install without a module name"));
                        continue;
                    };
                    let command = words.collect::<Vec<_>>().join(" ");
                    if command.is_empty() {
                        warn(diag(m, "install without a command"));
                        continue;
                    }
                    self.installs.push(Install {
                        module: normalize(m),
                        command,
                        file: t.path.clone(),
                        line: n,
                    });
                }
                "alias" | "options" | "remove" | "softdep" | "weakdep" => {}
                other => warn(diag(other, "unknown command; line ignored (modprobe.d(5))")),
            }
        }
    }
}

/// kmod's module-name normalisation: `-` becomes `_`.
pub fn normalize(module: &str) -> String {
    module.trim().replace('-', "_")
}

/// The lines with continuations (`\` at the end) joined and comments
/// dropped, each with the number of the line it starts on.
fn logical_lines(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(u32, String)> = None;
    for (n, raw) in t.lines() {
        let (start, mut acc) = cur.take().unwrap_or((n, String::new()));
        let (body, cont) = match raw.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        if acc.is_empty() && body.trim_start().starts_with('#') {
            continue;
        }
        if acc.len().saturating_add(body.len()) > MAX_LOGICAL_LINE {
            warn(Diagnostic {
                file: t.path.clone(),
                line: Some(start),
                field: None,
                message: format!("line longer than {MAX_LOGICAL_LINE} bytes; the rest was ignored"),
            });
        } else {
            acc.push_str(body);
            acc.push(' ');
        }
        if cont {
            cur = Some((start, acc));
        } else if !acc.trim().is_empty() {
            out.push((start, acc.trim().to_owned()));
        }
    }
    if let Some((start, acc)) = cur {
        if !acc.trim().is_empty() {
            out.push((start, acc.trim().to_owned()));
        }
    }
    out
}

/// Reads every modprobe.d file of the root, at most `max_files` of them, in
/// the order and with the overrides described in the module docs.
pub fn load(root: &Root, max_files: usize, warn: &mut dyn FnMut(Diagnostic)) -> ModprobeConfig {
    // name → the path that wins for it (None: masked).
    let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
    for d in DROPIN_DIRS {
        let names = match root.read_dir(d) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                warn(Diagnostic {
                    file: d.to_owned(),
                    line: None,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        };
        for n in names {
            if n.starts_with('.') || !n.ends_with(".conf") || by_name.contains_key(&n) {
                continue;
            }
            let p = join(d, &n);
            // An extracted image's /dev is empty: the link target itself tells.
            if matches!(root.read_link(&p), Ok(Some(t)) if t == "/dev/null") {
                by_name.insert(n, None);
                continue;
            }
            match root.metadata(&p) {
                Ok(Some(m)) if m.kind == FileKind::File => {
                    by_name.insert(n, Some(p));
                }
                Ok(Some(m)) if m.kind == FileKind::Other => {
                    by_name.insert(n, None);
                }
                Ok(_) => {}
                Err(e) => warn(Diagnostic {
                    file: p,
                    line: None,
                    field: None,
                    message: e.to_string(),
                }),
            }
        }
    }
    let mut cfg = ModprobeConfig::default();
    let mut read = 0usize;
    for (name, p) in by_name {
        let Some(p) = p else {
            cfg.masked.push(name);
            continue;
        };
        if read >= max_files {
            warn(Diagnostic {
                file: p,
                line: None,
                field: None,
                message: format!("more than {max_files} modprobe.d files; this one was ignored"),
            });
            continue;
        }
        read += 1;
        match root.read_text(&p) {
            Ok(Some(t)) => {
                if t.truncated {
                    warn(Diagnostic {
                        file: t.path.clone(),
                        line: None,
                        field: None,
                        message: "larger than the read limit; the rest was ignored".to_owned(),
                    });
                }
                cfg.add(&t, warn);
            }
            Ok(None) => {}
            Err(e) => warn(Diagnostic {
                file: p,
                line: None,
                field: None,
                message: e.to_string(),
            }),
        }
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn parses_commands_continuations_and_names() {
        let t = TextFile::from_bytes(
            "/etc/modprobe.d/x.conf",
            b"# comment\nblacklist usb-storage\ninstall usb_storage \\\n  /bin/false\n\
              install cramfs /sbin/modprobe --ignore-install cramfs; echo\n\
              options snd slots=1\nfrobnicate x\nblacklist\ninstall hfs\n",
            false,
        );
        let mut d = Vec::new();
        let mut c = ModprobeConfig::default();
        c.add(&t, &mut |x| d.push(x));
        assert_eq!(c.blacklist_for("usb_storage").map(|b| b.line), Some(2));
        let i = c.install_for("usb-storage").unwrap();
        assert_eq!((i.line, i.command.as_str()), (3, "/bin/false"));
        assert!(i.disables());
        let i = c.install_for("cramfs").unwrap();
        assert!(!i.disables());
        let lines: Vec<_> = d.iter().map(|d| (d.line, d.field.clone())).collect();
        assert_eq!(
            lines,
            [
                (Some(7), Some("frobnicate".to_owned())),
                (Some(8), Some("blacklist".to_owned())),
                (Some(9), Some("hfs".to_owned())),
            ]
        );
    }

    #[test]
    fn loads_in_name_order_with_overrides_and_masks() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let w = |p: &str, s: &str| {
            let p = r.join(p.trim_start_matches('/'));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, s).unwrap();
        };
        w("/lib/modprobe.d/10-vendor.conf", "install udf /bin/false\n");
        w(
            "/usr/lib/modprobe.d/10-vendor.conf",
            "install udf /bin/true\n",
        );
        w(
            "/etc/modprobe.d/20-local.conf",
            "install udf /sbin/insmod udf\n",
        );
        w(
            "/usr/lib/modprobe.d/50-usb.conf",
            "install usb-storage /bin/false\n",
        );
        w("/etc/modprobe.d/README", "install hfs /bin/false\n");
        fs::create_dir_all(r.join("etc/modprobe.d")).unwrap();
        symlink("/dev/null", r.join("etc/modprobe.d/50-usb.conf")).unwrap();
        let root = Root::open(r).unwrap();
        let c = load(&root, 64, &mut |_| {});
        assert_eq!(
            c.files,
            [
                "/usr/lib/modprobe.d/10-vendor.conf",
                "/etc/modprobe.d/20-local.conf"
            ]
        );
        assert_eq!(c.masked, ["50-usb.conf"]);
        // The first install line read wins.
        assert_eq!(c.install_for("udf").unwrap().command, "/bin/true");
        assert!(c.install_for("usb-storage").is_none());
        assert!(c.install_for("hfs").is_none());
    }
}
