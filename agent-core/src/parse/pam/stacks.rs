//! Each service's stack, expanded the way libpam builds it (pam_handlers.c
//! `_pam_load_conf_file`): `@include`, `include` and `substack` inlined in
//! order, bounded in depth and size, with cycle detection.

use super::{
    Item, MAX_EXPANDED_RULES, PAM_CONF, PAM_D, PamControl, PamFile, PamRule, PamType,
    items_to_file, parse_items,
};
use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::{FileKind, TextFile, join};
use std::collections::{BTreeMap, HashSet};

/// The PAM configuration of a root: every file as written and every service's
/// expanded stack.
#[derive(Debug, Clone, Default)]
pub struct PamStacks {
    present: bool,
    from_pam_conf: bool,
    files: Vec<PamFile>,
    services: BTreeMap<String, Vec<PamRule>>,
}

impl PamStacks {
    /// True when `/etc/pam.d` or `/etc/pam.conf` exists.
    pub fn present(&self) -> bool {
        self.present
    }

    /// True when the stacks come from `/etc/pam.conf` (there is no `/etc/pam.d`).
    pub fn from_pam_conf(&self) -> bool {
        self.from_pam_conf
    }

    /// The expanded stack of a service (`/etc/pam.d/NAME`, or the `NAME` lines
    /// of `/etc/pam.conf`): `@include`, `include` and `substack` inlined in
    /// order, so each rule keeps the file and line it was written on. `None`
    /// when the service has no configuration.
    ///
    /// A substack is inlined like an include; in libpam its `done`/`die` and
    /// jumps end at the substack's own end, which this flat list does not mark.
    pub fn service(&self, name: &str) -> Option<&[PamRule]> {
        self.services.get(name).map(Vec::as_slice)
    }

    /// Every service with its expanded stack, sorted by name.
    pub fn services(&self) -> impl Iterator<Item = (&str, &[PamRule])> {
        self.services
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Every file as written (each once), for checks that look anywhere.
    pub fn files(&self) -> impl Iterator<Item = &PamFile> {
        self.files.iter()
    }

    /// The file at a device path, when it was read.
    pub fn file(&self, path: &str) -> Option<&PamFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The device path that configures a service (for findings about what a
    /// stack lacks): `/etc/pam.d/NAME`, or `/etc/pam.conf`.
    pub fn service_path(&self, name: &str) -> String {
        if self.from_pam_conf {
            PAM_CONF.to_owned()
        } else {
            join(PAM_D, name)
        }
    }

    /// Builds the stacks from already-read files (the device's `/etc/pam.d`
    /// files, or `/etc/pam.conf` alone); `read` is asked for include targets
    /// that are not among them. Used by [`Source::load`] and by tests.
    pub fn build(
        pam_d: Option<Vec<TextFile>>,
        pam_conf: Option<TextFile>,
        limits: &crate::config::Limits,
        read: &mut dyn FnMut(&str) -> Option<TextFile>,
        warn: &mut dyn FnMut(Diagnostic),
    ) -> PamStacks {
        let mut b = Builder {
            parsed: BTreeMap::new(),
            order: Vec::new(),
            warned: HashSet::new(),
            limits,
        };
        let mut stacks = PamStacks::default();
        let mut roots: Vec<(String, Vec<Item>)> = Vec::new();
        if let Some(files) = pam_d {
            stacks.present = true;
            for t in files {
                let name = t.path.rsplit('/').next().unwrap_or(&t.path).to_owned();
                let items = parse_items(&t, false, warn)
                    .into_iter()
                    .map(|(_, i)| i)
                    .collect::<Vec<_>>();
                b.insert(&t.path, items.clone());
                roots.push((name, items));
            }
        } else if let Some(t) = pam_conf {
            stacks.present = true;
            stacks.from_pam_conf = true;
            let mut by_service: BTreeMap<String, Vec<Item>> = BTreeMap::new();
            let mut all = Vec::new();
            for (svc, item) in parse_items(&t, true, warn) {
                // pam_start(3) lower-cases the service name, and pam_handlers.c
                // compares pam.conf's first field case-insensitively.
                let svc = svc.unwrap_or_default().to_ascii_lowercase();
                by_service.entry(svc).or_default().push(item.clone());
                all.push(item);
            }
            b.insert(&t.path, all);
            roots.extend(by_service);
        }
        for (name, items) in roots {
            let mut out = Vec::new();
            let mut ctx = Expansion {
                chain: vec![stacks.service_path(&name)],
                inlined: 0,
                truncated: false,
            };
            b.expand(&items, None, &mut ctx, &mut out, read, warn);
            stacks.services.insert(name, out);
        }
        stacks.files = b
            .order
            .iter()
            .filter_map(|p| b.parsed.get(p).and_then(|x| x.as_ref()))
            .map(|(path, items)| items_to_file(path.clone(), items))
            .collect();
        stacks
    }
}

impl Source for PamStacks {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let is_dir = matches!(
            ctx.root.metadata(PAM_D),
            Ok(Some(m)) if m.kind == FileKind::Dir
        );
        let pam_d = if is_dir {
            let paths = match ctx.dir_files(PAM_D) {
                Ok(p) => p,
                Err(e) => {
                    ctx.warn(Diagnostic {
                        file: PAM_D.to_owned(),
                        line: None,
                        field: None,
                        message: e.to_string(),
                    });
                    Vec::new()
                }
            };
            Some(
                paths
                    .iter()
                    .filter_map(|p| ctx.read_text(p))
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };
        // pam.conf(5): "the presence of the /etc/pam.d/ directory will cause
        // Linux-PAM to ignore /etc/pam.conf".
        let pam_conf = if is_dir {
            None
        } else {
            ctx.read_text(PAM_CONF)
        };
        PamStacks::build(
            pam_d,
            pam_conf,
            &ctx.config.limits,
            &mut |p| ctx.read_text(p),
            &mut |d| ctx.warn(d),
        )
    }
}

/// The state of expanding one service.
struct Expansion {
    /// The files being expanded, outermost first (for cycle detection and depth).
    chain: Vec<String>,
    /// Files inlined so far into this service.
    inlined: u32,
    /// True once [`MAX_EXPANDED_RULES`] was reached (reported once).
    truncated: bool,
}

struct Builder<'l> {
    /// Parsed files by path, with the path they were read as; `None` when the
    /// file could not be read.
    parsed: BTreeMap<String, Option<(String, Vec<Item>)>>,
    /// Paths in the order they were first read.
    order: Vec<String>,
    /// Diagnostics already given (one include line is met once per service).
    warned: HashSet<(String, u32, String)>,
    limits: &'l crate::config::Limits,
}

impl Builder<'_> {
    fn insert(&mut self, path: &str, items: Vec<Item>) {
        if !self.parsed.contains_key(path) {
            self.order.push(path.to_owned());
        }
        self.parsed
            .insert(path.to_owned(), Some((path.to_owned(), items)));
    }

    fn warn_once(
        &mut self,
        file: &str,
        line: u32,
        field: &str,
        message: String,
        warn: &mut dyn FnMut(Diagnostic),
    ) {
        if self.warned.insert((file.to_owned(), line, message.clone())) {
            warn(Diagnostic {
                file: file.to_owned(),
                line: Some(line),
                field: Some(field.to_owned()),
                message,
            });
        }
    }

    /// The items of an include target, reading and parsing it on first use.
    fn items_of(
        &mut self,
        path: &str,
        read: &mut dyn FnMut(&str) -> Option<TextFile>,
        warn: &mut dyn FnMut(Diagnostic),
    ) -> Option<Vec<Item>> {
        if !self.parsed.contains_key(path) {
            let parsed = read(path).map(|t| {
                let items = parse_items(&t, false, warn)
                    .into_iter()
                    .map(|(_, i)| i)
                    .collect::<Vec<_>>();
                (t.path, items)
            });
            if parsed.is_some() {
                self.order.push(path.to_owned());
            }
            self.parsed.insert(path.to_owned(), parsed);
        }
        self.parsed
            .get(path)
            .and_then(|x| x.as_ref())
            .map(|(_, items)| items.clone())
    }

    /// Appends the rules of `items` (only those of type `only`, when given) to
    /// `out`, inlining includes.
    fn expand(
        &mut self,
        items: &[Item],
        only: Option<PamType>,
        ctx: &mut Expansion,
        out: &mut Vec<PamRule>,
        read: &mut dyn FnMut(&str) -> Option<TextFile>,
        warn: &mut dyn FnMut(Diagnostic),
    ) {
        for item in items {
            let (file, line, target, filter) = match item {
                Item::Rule(r) => {
                    if only.is_some_and(|t| t != r.kind) {
                        continue;
                    }
                    match &r.control {
                        // pam.conf(5): include/substack take the lines "of the
                        // given type" from the named file.
                        PamControl::Include(t) | PamControl::Substack(t) => {
                            (&r.file, r.line, t, Some(r.kind))
                        }
                        _ => {
                            if out.len() >= MAX_EXPANDED_RULES {
                                if !ctx.truncated {
                                    ctx.truncated = true;
                                    self.warn_once(
                                        &r.file,
                                        r.line,
                                        "include",
                                        format!(
                                            "the expanded stack holds more than {MAX_EXPANDED_RULES} rules; the rest was not examined"
                                        ),
                                        warn,
                                    );
                                }
                                return;
                            }
                            out.push(r.clone());
                            continue;
                        }
                    }
                }
                // Debian's @include reads every line of the file in place; inside
                // a file that was itself included for one type, only that type.
                Item::AtInclude { file, line, target } => (file, *line, target, only),
            };
            // pam_handlers.c: an absolute name is used as is, any other is
            // looked up in /etc/pam.d.
            let path = join(PAM_D, target);
            let depth = ctx.chain.len();
            if ctx.chain.contains(&path) {
                let cycle = ctx
                    .chain
                    .iter()
                    .map(String::as_str)
                    .chain(std::iter::once(path.as_str()))
                    .collect::<Vec<_>>()
                    .join(" -> ");
                self.warn_once(
                    file,
                    line,
                    "include",
                    format!("include cycle ({cycle}); the repeated file was not inlined again"),
                    warn,
                );
                continue;
            }
            // libpam refuses to nest deeper than PAM_SUBSTACK_MAX_LEVEL (16);
            // the configured bound is the audit's own, and may be lower.
            if u32::try_from(depth).unwrap_or(u32::MAX) > self.limits.max_include_depth {
                self.warn_once(
                    file,
                    line,
                    "include",
                    format!(
                        "includes nested deeper than {} levels; {path} was not inlined",
                        self.limits.max_include_depth
                    ),
                    warn,
                );
                continue;
            }
            if ctx.inlined >= self.limits.max_included_files {
                self.warn_once(
                    file,
                    line,
                    "include",
                    format!(
                        "more than {} files included into one stack; {path} was not inlined",
                        self.limits.max_included_files
                    ),
                    warn,
                );
                continue;
            }
            let Some(sub) = self.items_of(&path, read, warn) else {
                // libpam cannot open the file: loading the service's handlers
                // fails and every call on the service fails (fail closed).
                self.warn_once(
                    file,
                    line,
                    "include",
                    format!(
                        "included file {path} is absent or unreadable (libpam then fails every request of this service)"
                    ),
                    warn,
                );
                continue;
            };
            ctx.inlined = ctx.inlined.saturating_add(1);
            ctx.chain.push(path);
            self.expand(&sub, filter, ctx, out, read, warn);
            ctx.chain.pop();
            if ctx.truncated {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;

    fn text(path: &str, s: &str) -> TextFile {
        TextFile::from_bytes(path, s.as_bytes(), false)
    }

    fn build(
        files: &[(&str, &str)],
        extra: &[(&str, &str)],
        limits: &Limits,
    ) -> (PamStacks, Vec<Diagnostic>) {
        let mut w = Vec::new();
        let texts = files.iter().map(|(p, s)| text(p, s)).collect();
        let s = PamStacks::build(
            Some(texts),
            None,
            limits,
            &mut |p| {
                extra
                    .iter()
                    .chain(files.iter())
                    .find(|(q, _)| *q == p)
                    .map(|(q, s)| text(q, s))
            },
            &mut |d| w.push(d),
        );
        (s, w)
    }

    #[test]
    fn includes_expand_in_order_with_types() {
        let (s, w) = build(
            &[
                (
                    "/etc/pam.d/common-auth",
                    "auth required pam_faillock.so preauth\nauth sufficient pam_unix.so\n",
                ),
                (
                    "/etc/pam.d/system-auth",
                    "auth required pam_env.so\naccount required pam_unix.so\npassword required pam_unix.so\n",
                ),
                (
                    "/etc/pam.d/login",
                    "auth required pam_u2f.so cue\n@include common-auth\naccount include system-auth\nsession substack /etc/pam.d/sess\nauth optional pam_x.so\n",
                ),
            ],
            &[(
                "/etc/pam.d/sess",
                "session required pam_limits.so\nauth required pam_no.so\n",
            )],
            &Limits::default(),
        );
        assert!(w.is_empty(), "{w:?}");
        let login = s.service("login").unwrap();
        let got: Vec<_> = login
            .iter()
            .map(|r| (r.kind, r.module_name(), r.file.as_str(), r.line))
            .collect();
        assert_eq!(
            got,
            vec![
                (PamType::Auth, "pam_u2f", "/etc/pam.d/login", 1),
                (PamType::Auth, "pam_faillock", "/etc/pam.d/common-auth", 1),
                (PamType::Auth, "pam_unix", "/etc/pam.d/common-auth", 2),
                (PamType::Account, "pam_unix", "/etc/pam.d/system-auth", 2),
                (PamType::Session, "pam_limits", "/etc/pam.d/sess", 1),
                (PamType::Auth, "pam_x", "/etc/pam.d/login", 5),
            ]
        );
        assert!(s.present());
        assert!(s.service("sshd").is_none());
        assert_eq!(s.services().count(), 3);
        // Every file once, the extra include target too.
        let paths: Vec<_> = s.files().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/etc/pam.d/common-auth",
                "/etc/pam.d/system-auth",
                "/etc/pam.d/login",
                "/etc/pam.d/sess"
            ]
        );
        let login_file = s.file("/etc/pam.d/login").unwrap();
        assert_eq!(login_file.includes[0].target, "common-auth");
        assert_eq!(login_file.includes[0].position, 1);
        assert_eq!(
            login_file.rules[1].control,
            PamControl::Include("system-auth".into())
        );
    }

    #[test]
    fn cycles_depth_and_missing_files_are_diagnostics() {
        let (s, w) = build(
            &[
                ("/etc/pam.d/a", "auth required pam_a.so\n@include b\n"),
                ("/etc/pam.d/b", "auth required pam_b.so\nauth include a\n"),
                ("/etc/pam.d/c", "@include nowhere\nauth required pam_c.so\n"),
            ],
            &[],
            &Limits::default(),
        );
        let a: Vec<_> = s
            .service("a")
            .unwrap()
            .iter()
            .map(|r| r.module_name())
            .collect();
        assert_eq!(a, vec!["pam_a", "pam_b"]);
        let c: Vec<_> = s
            .service("c")
            .unwrap()
            .iter()
            .map(|r| r.module_name())
            .collect();
        assert_eq!(c, vec!["pam_c"]);
        assert!(
            w.iter()
                .any(|d| d.message.contains("cycle") && d.line == Some(2))
        );
        assert!(
            w.iter()
                .any(|d| d.message.contains("absent") && d.file == "/etc/pam.d/c")
        );
        // A chain deeper than the limit stops with a diagnostic.
        let files: Vec<(String, String)> = (0..6)
            .map(|i| {
                (
                    format!("/etc/pam.d/f{i}"),
                    format!("auth required pam_{i}.so\n@include f{}\n", i + 1),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let limits = Limits {
            max_include_depth: 2,
            ..Limits::default()
        };
        let (s, w) = build(&refs, &[], &limits);
        assert_eq!(s.service("f0").unwrap().len(), 3);
        assert!(w.iter().any(|d| d.message.contains("deeper")));
    }

    #[test]
    fn exponential_includes_are_bounded() {
        // Each file includes the next twice: 2^20 copies without a bound.
        let files: Vec<(String, String)> = (0..20)
            .map(|i| {
                (
                    format!("/etc/pam.d/g{i}"),
                    format!(
                        "auth required pam_{i}.so\n@include g{n}\n@include g{n}\n",
                        n = i + 1
                    ),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let limits = Limits {
            max_include_depth: 64,
            max_included_files: u32::MAX,
            ..Limits::default()
        };
        let (s, w) = build(&refs, &[], &limits);
        assert_eq!(s.service("g0").unwrap().len(), MAX_EXPANDED_RULES);
        assert!(w.iter().any(|d| d.message.contains("more than 4096 rules")));
        let (s, w) = build(&refs, &[], &Limits::default());
        assert!(s.service("g0").unwrap().len() <= 257);
        assert!(w.iter().any(|d| d.message.contains("more than 256 files")));
    }

    #[test]
    fn pam_conf_is_used_without_pam_d() {
        let mut w = Vec::new();
        let s = PamStacks::build(
            None,
            Some(text(
                "/etc/pam.conf",
                "login auth required pam_unix.so nullok\nOTHER auth required pam_deny.so\nlogin session required pam_limits.so\nlonely\n",
            )),
            &Limits::default(),
            &mut |_| None,
            &mut |d| w.push(d),
        );
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].line, w[0].field.as_deref()), (Some(4), Some("type")));
        assert!(s.from_pam_conf());
        assert_eq!(s.service("login").unwrap().len(), 2);
        assert_eq!(s.service("other").unwrap()[0].module_name(), "pam_deny");
        assert_eq!(s.files().count(), 1);
        assert_eq!(s.files().next().unwrap().rules.len(), 3);
        assert_eq!(s.service_path("login"), "/etc/pam.conf");
        let none = PamStacks::build(None, None, &Limits::default(), &mut |_| None, &mut |_| {});
        assert!(!none.present());
    }

    #[test]
    fn random_configurations_never_panic_and_stay_bounded() {
        // A small deterministic generator (no dependency): lines built from
        // the tokens that matter to the parser, files that include each other.
        const WORDS: &[&str] = &[
            "auth",
            "-auth",
            "ACCOUNT",
            "password",
            "session",
            "bogus",
            "required",
            "requisite",
            "sufficient",
            "optional",
            "include",
            "substack",
            "[success=1",
            "default=die]",
            "[",
            "]",
            "\\]",
            "\\",
            "#",
            "@include",
            "f0",
            "f1",
            "f2",
            "/etc/pam.d/f3",
            "../f1",
            "pam_unix.so",
            "nullok",
            "[a b]",
            "=",
            "x=y=z",
            "\t",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % n
        };
        for _ in 0..300 {
            let mut files = Vec::new();
            for f in 0..4 {
                let mut body = String::new();
                for _ in 0..next(12) {
                    for _ in 0..next(7) {
                        body.push_str(WORDS[next(WORDS.len())]);
                        body.push(if next(5) == 0 { '\t' } else { ' ' });
                    }
                    body.push_str(["\n", "\\\n", "\r\n"][next(3)]);
                }
                files.push((format!("/etc/pam.d/f{f}"), body));
            }
            let refs: Vec<(&str, &str)> = files
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let (s, _) = build(&refs, &[], &Limits::default());
            for (_, stack) in s.services() {
                assert!(stack.len() <= MAX_EXPANDED_RULES);
                for r in stack {
                    let _ = (r.module_name(), r.arg("nullok"), r.control.to_string());
                }
            }
        }
    }

    #[test]
    fn loads_through_the_root_and_ignores_pam_conf_beside_pam_d() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc/pam.d/sub")).unwrap();
        std::fs::write(d.path().join("etc/pam.d/login"), "@include common-auth\n").unwrap();
        std::fs::write(
            d.path().join("etc/pam.d/common-auth"),
            "auth required pam_unix.so\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/pam.conf"),
            "login auth required pam_permit.so\n",
        )
        .unwrap();
        let root = crate::Root::open(d.path()).unwrap();
        let cfg = crate::Config::default();
        let clock = crate::FixedClock::from_unix_secs(0);
        let ctx = AuditContext::new(&root, &cfg, &clock);
        let s = ctx.get::<PamStacks>();
        assert!(!s.from_pam_conf());
        assert_eq!(s.service("login").unwrap()[0].module_name(), "pam_unix");
        assert_eq!(s.services().count(), 2);
    }
}
