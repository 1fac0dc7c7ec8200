//! Loading the policy of a root: `/etc/sudoers` and the files it includes,
//! in the order sudo reads them, with the owner and mode of each.

use super::{
    EntryKind, Include, IncludeDir, Origin, SUDOERS_PATH, Sudoers, SudoersSource, parse_file,
};
use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::{FileKind, FileMeta, join};

impl Source for Sudoers {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let limits = &ctx.config.limits;
        let per_dir = usize::try_from(limits.max_included_files).unwrap_or(usize::MAX);
        let depth = usize::try_from(limits.max_include_depth).unwrap_or(usize::MAX);
        let mut l = Loader {
            ctx,
            out: Sudoers::default(),
            stack: Vec::new(),
            hostname: None,
            max_depth: limits.max_include_depth,
            per_dir,
            // Files included more than once (not a cycle) are read each time,
            // as sudo does; this bounds the whole tree all the same.
            total: per_dir.saturating_mul(depth.max(1)),
        };
        l.file(SUDOERS_PATH, 0, None, None);
        l.index_aliases();
        l.out
    }
}

/// Reads a file and its includes into a [`Sudoers`].
struct Loader<'c, 'a> {
    ctx: &'c AuditContext<'a>,
    out: Sudoers,
    /// Files being read (resolved inside the root), for cycle detection.
    stack: Vec<String>,
    /// The short host name for `%h`, once looked up.
    hostname: Option<Option<String>>,
    max_depth: u32,
    per_dir: usize,
    total: usize,
}

impl Loader<'_, '_> {
    fn warn(&self, file: &str, line: Option<u32>, field: &str, message: String) {
        self.ctx.warn(Diagnostic {
            file: file.to_owned(),
            line,
            field: Some(field.to_owned()),
            message,
        });
    }

    fn file(&mut self, path: &str, depth: u32, from: Option<&Origin>, dir_refusal: Option<&str>) {
        let ctx = self.ctx;
        let Some(t) = ctx.read_text(path) else {
            if let (Some(o), None) = (from, dir_refusal) {
                if matches!(ctx.root.metadata(path), Ok(None)) {
                    self.warn(
                        &o.file,
                        Some(o.line),
                        "@include",
                        format!("{path} does not exist; sudo reports a syntax error here"),
                    );
                }
            }
            return;
        };
        let key = match ctx.root.resolve(path, true) {
            Ok(Some(p)) => p.display().to_string(),
            _ => path.to_owned(),
        };
        if self.stack.contains(&key) {
            if let Some(o) = from {
                self.warn(
                    &o.file,
                    Some(o.line),
                    "@include",
                    format!("include cycle: {path} is already being read; not read again"),
                );
            }
            return;
        }
        if self.out.sources.len() >= self.total {
            if let Some(o) = from {
                self.warn(
                    &o.file,
                    Some(o.line),
                    "@include",
                    format!(
                        "more than {} sudoers files in all; {path} and the rest were not read",
                        self.total
                    ),
                );
            }
            return;
        }
        let meta = match ctx.root.metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.warn(path, None, "metadata", e.to_string());
                None
            }
        };
        let refused = dir_refusal
            .map(str::to_owned)
            .or_else(|| meta.and_then(|m| insecure(&m, FileKind::File)));
        if depth == 0 {
            self.out.main = Some(t.path.clone());
        }
        self.out
            .by_path
            .entry(t.path.clone())
            .or_insert(self.out.sources.len());
        self.out.sources.push(SudoersSource {
            path: t.path.clone(),
            meta,
            included_from: from.cloned(),
            refused,
        });
        let parsed = parse_file(&t, &mut |d| ctx.warn(d));
        self.stack.push(key);
        for entry in parsed.entries {
            let include = match &entry.kind {
                EntryKind::Include(i) if entry.complete => Some((
                    i.clone(),
                    Origin {
                        file: entry.file.clone(),
                        line: entry.line,
                    },
                )),
                _ => None,
            };
            self.out.entries.push(entry);
            if let Some((inc, origin)) = include {
                self.include(&inc, &origin, depth);
            }
        }
        self.stack.pop();
    }

    fn include(&mut self, inc: &Include, origin: &Origin, depth: u32) {
        let field = if inc.dir { "@includedir" } else { "@include" };
        let Some(path) = self.expand(&inc.path, origin, field) else {
            return;
        };
        if depth >= self.max_depth {
            self.warn(
                &origin.file,
                Some(origin.line),
                field,
                format!(
                    "includes nested deeper than limits.max_include_depth ({}); {path} not read",
                    self.max_depth
                ),
            );
            return;
        }
        let depth = depth.saturating_add(1);
        if inc.dir {
            self.dir(&path, depth, origin);
        } else {
            self.file(&path, depth, Some(origin), None);
        }
    }

    /// `@includedir`: the regular files of the directory in lexical order,
    /// skipping names that end in `~` or contain a `.` (sudoers(5)
    /// "Including other files from within sudoers"). A missing directory is
    /// not an error (toke.l `read_dir_files`: ENOENT).
    fn dir(&mut self, dir: &str, depth: u32, origin: &Origin) {
        let ctx = self.ctx;
        let meta = match ctx.root.metadata(dir) {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(e) => {
                self.warn(dir, None, "@includedir", e.to_string());
                return;
            }
        };
        if meta.kind != FileKind::Dir {
            self.warn(
                &origin.file,
                Some(origin.line),
                "@includedir",
                format!("{dir} is not a directory; sudo ignores the directive"),
            );
            return;
        }
        let why = insecure(&meta, FileKind::Dir);
        let refused = why.as_ref().map(|w| format!("its directory {dir} is {w}"));
        self.out.include_dirs.push(IncludeDir {
            path: dir.to_owned(),
            meta,
            included_from: origin.clone(),
            refused: why,
        });
        let names = match ctx.root.read_dir(dir) {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(e) => {
                self.warn(dir, None, "@includedir", e.to_string());
                return;
            }
        };
        let mut count = 0usize;
        for name in names {
            if name.is_empty() || name.ends_with('~') || name.contains('.') {
                continue;
            }
            let path = join(dir, &name);
            // sudo stat()s each entry and keeps regular files only.
            if !matches!(ctx.root.metadata(&path), Ok(Some(m)) if m.kind == FileKind::File) {
                continue;
            }
            if count >= self.per_dir {
                self.warn(
                    &origin.file,
                    Some(origin.line),
                    "@includedir",
                    format!(
                        "{dir} holds more than limits.max_included_files ({}) files; the rest were not read",
                        self.per_dir
                    ),
                );
                break;
            }
            count = count.saturating_add(1);
            self.file(&path, depth, Some(origin), refused.as_deref());
        }
    }

    /// The include path as sudo opens it: `%h` replaced by the short host
    /// name, a relative path taken from the including file's directory (sudo
    /// ≥ 1.9.1, toke.l `expand_include`), `.` and `..` resolved.
    fn expand(&mut self, raw: &str, origin: &Origin, field: &str) -> Option<String> {
        let mut path = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find("%h") {
            let host = self.short_hostname();
            let Some(host) = host else {
                self.warn(
                    &origin.file,
                    Some(origin.line),
                    field,
                    format!("{raw} uses %h but the device's host name is unknown (/etc/hostname); not read"),
                );
                return None;
            };
            path.push_str(rest.get(..i).unwrap_or(""));
            path.push_str(&host);
            rest = rest.get(i.saturating_add(2)..).unwrap_or("");
        }
        path.push_str(rest);
        if !path.starts_with('/') {
            let dir = origin.file.rsplit_once('/').map_or("", |(d, _)| d);
            path = format!("{dir}/{path}");
        }
        Some(normalize(&path))
    }

    fn short_hostname(&mut self) -> Option<String> {
        if self.hostname.is_none() {
            let h = self.ctx.read_text("/etc/hostname").and_then(|t| {
                t.lines()
                    .map(|(_, l)| l.trim().to_owned())
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(|l| l.split('.').next().unwrap_or("").to_owned())
                    .filter(|l| !l.is_empty() && !l.contains('/'))
            });
            self.hostname = Some(h);
        }
        self.hostname.clone().flatten()
    }

    fn index_aliases(&mut self) {
        let mut dups = Vec::new();
        for e in &self.out.entries {
            let EntryKind::Aliases(list) = &e.kind else {
                continue;
            };
            for a in list {
                let key = (a.kind, a.name.clone());
                match self.out.aliases.get(&key) {
                    Some(first) if first != a => {
                        dups.push((e.file.clone(), a.line, a.name.clone()))
                    }
                    Some(_) => {}
                    None => {
                        self.out.aliases.insert(key, a.clone());
                    }
                }
            }
        }
        for (file, line, name) in dups {
            self.warn(
                &file,
                Some(line),
                "alias",
                format!("alias {name} is already defined; sudo rejects this definition"),
            );
        }
    }
}

/// Why sudo would refuse a file or directory (`sudo_secure_path`), if it would:
/// the wrong type, not owned by root (`sudoers_uid`), world-writable, or
/// group-writable by a group other than root (`sudoers_gid`).
fn insecure(m: &FileMeta, want: FileKind) -> Option<String> {
    if m.kind != want {
        return Some(
            if want == FileKind::Dir {
                "not a directory"
            } else {
                "not a regular file"
            }
            .to_owned(),
        );
    }
    if m.uid != 0 {
        return Some(format!("owned by uid {}, not root", m.uid));
    }
    if m.mode & 0o002 != 0 {
        return Some("world-writable".to_owned());
    }
    if m.mode & 0o020 != 0 && m.gid != 0 {
        return Some(format!("group-writable by gid {}", m.gid));
    }
    None
}

/// Resolves `.` and `..` lexically (`..` never climbs above `/`).
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::CheckOutcome;
    use crate::clock::FixedClock;
    use crate::config::Config;
    use crate::parse::sudoers::{AliasKind, Cmnd, Command, Item, Member, SettingOp};
    use crate::root::Root;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, s) in files {
            let path = d.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, s).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o440)).unwrap();
        }
        d
    }

    fn load_only(ctx: &AuditContext<'_>) -> CheckOutcome {
        let _ = ctx.get::<Sudoers>();
        CheckOutcome::Ran(Vec::new())
    }

    /// The loaded policy and the warnings its loading raised.
    fn load_with(d: &tempfile::TempDir, cfg: &Config) -> (Sudoers, Vec<Diagnostic>) {
        let root = Root::open(d.path()).unwrap();
        let clock = FixedClock::from_unix_secs(1_795_910_400);
        let ctx = AuditContext::new(&root, cfg, &clock);
        let s = (*ctx.get::<Sudoers>()).clone();
        let r = crate::Auditor::new(cfg, &clock).run_checks(&root, &[("ACC-11", load_only)]);
        (s, r.warnings)
    }

    fn load(d: &tempfile::TempDir) -> (Sudoers, Vec<Diagnostic>) {
        load_with(d, &Config::default())
    }

    fn files(s: &Sudoers) -> Vec<&str> {
        s.sources.iter().map(|x| x.path.as_str()).collect()
    }

    #[test]
    fn includes_in_order_relative_and_skipping_dotted_names() {
        let d = root(&[
            (
                "/etc/sudoers",
                "Defaults use_pty\n@include sudoers.local\n#includedir /etc/sudoers.d\nDefaults !use_pty\n",
            ),
            (
                "/etc/sudoers.local",
                "Defaults logfile=/var/log/sudo.log\n@include ../etc/./more\n",
            ),
            ("/etc/more", "Defaults env_reset\n"),
            ("/etc/sudoers.d/20-b", "Defaults:b !lecture\n"),
            ("/etc/sudoers.d/10-a", "Defaults:a !lecture\n"),
            ("/etc/sudoers.d/README.txt", "ALL ALL = NOPASSWD: ALL\n"),
            ("/etc/sudoers.d/30-c~", "ALL ALL = NOPASSWD: ALL\n"),
        ]);
        std::fs::create_dir(d.path().join("etc/sudoers.d/40-dir")).unwrap();
        let (s, w) = load(&d);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            files(&s),
            [
                "/etc/sudoers",
                "/etc/sudoers.local",
                "/etc/more",
                "/etc/sudoers.d/10-a",
                "/etc/sudoers.d/20-b"
            ]
        );
        assert_eq!(s.main.as_deref(), Some("/etc/sudoers"));
        assert_eq!(
            s.sources[3].included_from,
            Some(Origin {
                file: "/etc/sudoers".to_owned(),
                line: 3
            })
        );
        assert!(s.user_specs().next().is_none());
        // The last global value wins, includes taken in place.
        let (e, x) = s.effective_global("use_pty").unwrap();
        assert_eq!(
            (e.file.as_str(), x.op),
            ("/etc/sudoers", SettingOp::Disable)
        );
        assert_eq!(s.include_dirs.len(), 1);
        assert!(s.include_dirs[0].refused.is_none());
    }

    #[test]
    fn cycles_depth_and_missing_files_are_warnings() {
        let d = root(&[
            (
                "/etc/sudoers",
                "@include /etc/a\n@include /etc/missing\n@includedir /etc/none.d\n",
            ),
            ("/etc/a", "@include b\n"),
            ("/etc/b", "@include /etc/a\n@include /etc/c\n"),
            ("/etc/c", "Defaults use_pty\n"),
        ]);
        let (s, w) = load(&d);
        assert_eq!(files(&s), ["/etc/sudoers", "/etc/a", "/etc/b", "/etc/c"]);
        let msgs: Vec<_> = w
            .iter()
            .map(|d| (d.file.as_str(), d.line, d.message.as_str()))
            .collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert_eq!(msgs[0].0, "/etc/b");
        assert!(msgs[0].2.contains("cycle"));
        assert_eq!((msgs[1].0, msgs[1].1), ("/etc/sudoers", Some(2)));
        // A depth limit of 2 stops /etc/c (depth 3).
        let mut cfg = Config::default();
        cfg.limits.max_include_depth = 2;
        let (s, w) = load_with(&d, &cfg);
        assert_eq!(files(&s), ["/etc/sudoers", "/etc/a", "/etc/b"]);
        assert!(w.iter().any(|d| d.message.contains("max_include_depth")));
        // A symlink back to the main file is a cycle too.
        symlink("/etc/sudoers", d.path().join("etc/c2")).unwrap();
        std::fs::write(d.path().join("etc/c"), "@include /etc/c2\n").unwrap();
        let (s, w) = load(&d);
        assert_eq!(files(&s).len(), 4);
        assert!(w.iter().any(|d| d.message.contains("cycle")), "{w:?}");
    }

    #[test]
    fn includedir_file_cap() {
        let d = root(&[
            ("/etc/sudoers", "@includedir /etc/sudoers.d\n"),
            ("/etc/sudoers.d/a", ""),
            ("/etc/sudoers.d/b", ""),
            ("/etc/sudoers.d/c", ""),
        ]);
        let mut cfg = Config::default();
        cfg.limits.max_included_files = 2;
        let (s, w) = load_with(&d, &cfg);
        assert_eq!(
            files(&s),
            ["/etc/sudoers", "/etc/sudoers.d/a", "/etc/sudoers.d/b"]
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].field.as_deref(), Some("@includedir"));
    }

    #[test]
    fn host_escape_uses_the_short_host_name() {
        let d = root(&[
            ("/etc/hostname", "ct-console-07.radiology.example\n"),
            ("/etc/sudoers", "@include /etc/sudoers.%h\n"),
            ("/etc/sudoers.ct-console-07", "Defaults use_pty\n"),
        ]);
        let (s, w) = load(&d);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(files(&s), ["/etc/sudoers", "/etc/sudoers.ct-console-07"]);
        std::fs::remove_file(d.path().join("etc/hostname")).unwrap();
        let (s, w) = load(&d);
        assert_eq!(files(&s), ["/etc/sudoers"]);
        assert!(w[0].message.contains("%h"));
    }

    #[test]
    fn insecure_files_are_marked_refused() {
        let d = root(&[
            ("/etc/sudoers", "@include /etc/x\n@include /etc/y\n"),
            ("/etc/x", "Defaults use_pty\n"),
            ("/etc/y", "Defaults logfile=/l\n"),
        ]);
        std::fs::set_permissions(
            d.path().join("etc/x"),
            std::fs::Permissions::from_mode(0o646),
        )
        .unwrap();
        std::os::unix::fs::chown(d.path().join("etc/y"), Some(0), Some(7)).unwrap();
        std::fs::set_permissions(
            d.path().join("etc/y"),
            std::fs::Permissions::from_mode(0o460),
        )
        .unwrap();
        let (s, _) = load(&d);
        assert_eq!(
            s.source("/etc/x").unwrap().refused.as_deref(),
            Some("world-writable")
        );
        assert_eq!(
            s.source("/etc/y").unwrap().refused.as_deref(),
            Some("group-writable by gid 7")
        );
        assert!(s.is_used("/etc/sudoers"));
        assert!(s.effective_global("use_pty").is_none());
        assert!(s.effective_global("logfile").is_none());
    }

    #[test]
    fn grants_all_follows_aliases_with_negation_parity() {
        let d = root(&[(
            "/etc/sudoers",
            "Cmnd_Alias EVERY = /bin/x, ALL\n\
             Cmnd_Alias NOTEVERY = !EVERY\n\
             Cmnd_Alias BOTH = /bin/y, !NOTEVERY\n\
             Cmnd_Alias LOOP1 = LOOP2 : LOOP2 = LOOP1, /bin/z\n",
        )]);
        let (s, w) = load(&d);
        assert!(w.is_empty(), "{w:?}");
        let c = |negated: bool, name: &str| Cmnd {
            negated,
            digests: Vec::new(),
            command: if name.starts_with('/') {
                Command::Path {
                    path: name.to_owned(),
                    args: None,
                }
            } else if name == "ALL" {
                Command::All
            } else {
                Command::Alias(name.to_owned())
            },
            line: 1,
        };
        assert!(s.grants_all([&c(false, "ALL")]));
        assert!(!s.grants_all([&c(true, "ALL")]));
        assert!(s.grants_all([&c(false, "EVERY")]));
        assert!(!s.grants_all([&c(true, "EVERY")]));
        assert!(!s.grants_all([&c(false, "NOTEVERY")]));
        assert!(s.grants_all([&c(true, "NOTEVERY")]));
        assert!(s.grants_all([&c(false, "BOTH")]));
        assert!(!s.grants_all([&c(false, "LOOP1"), &c(false, "/bin/ls")]));
        assert!(!s.grants_all([&c(false, "UNDEFINED")]));
    }

    #[test]
    fn aliases_expand_with_negation_cycles_and_redefinitions() {
        let d = root(&[(
            "/etc/sudoers",
            "Cmnd_Alias A = /bin/a, !B\n                 Cmnd_Alias B = /bin/b, C : C = ALL, A\n                 Cmnd_Alias A = /bin/other\n                 User_Alias ADMINS = %sudo, !OPS\n                 User_Alias OPS = op1, op2\n",
        )]);
        let (s, w) = load(&d);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, Some(3));
        let x = s.expand_commands([&Cmnd {
            negated: false,
            digests: Vec::new(),
            command: Command::Alias("A".to_owned()),
            line: 1,
        }]);
        let text: Vec<String> = x
            .iter()
            .map(|(n, c)| format!("{}{c}", if *n { "!" } else { "" }))
            .collect();
        // A -> /bin/a, !(B = /bin/b, C = (ALL, A…)): everything under
        // `!B` is denied; the cycle back to A stops there.
        assert_eq!(text, ["/bin/a", "!/bin/b", "!ALL", "!A"]);
        let m = s.expand_members(
            AliasKind::User,
            [&Member {
                negated: false,
                item: Item::Alias("ADMINS".to_owned()),
            }],
        );
        assert_eq!(
            m,
            [
                (false, Item::Group("sudo".to_owned())),
                (true, Item::Name("op1".to_owned())),
                (true, Item::Name("op2".to_owned())),
            ]
        );
    }
}
