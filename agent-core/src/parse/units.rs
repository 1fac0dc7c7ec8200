//! systemd units as the service manager would load them: the unit file found
//! first on the search path, its drop-ins, and the effective value of the
//! list settings the checks read (`ExecStart=`, `Environment=`, …).
//!
//! The rules implemented, from systemd.unit(5):
//! - the unit file is the first one found on the system unit search path
//!   ([`SYSTEM_UNIT_DIRS`]); a unit file that is empty or a symlink to
//!   `/dev/null` makes the unit *masked*: it cannot be started at all;
//! - drop-ins `<unit>.d/*.conf` (and, since systemd 246, the per-type
//!   `service.d/*.conf`) are read from every directory of the search path; a
//!   drop-in in a higher-priority directory replaces one of the same file name
//!   in a lower one; all drop-ins are applied after the unit file, sorted by
//!   file name regardless of the directory they are in;
//! - for list settings, "if the empty string is assigned to this option, the
//!   list is reset and all prior assignments will have no effect"
//!   (systemd.service(5) `ExecStart=`, systemd.exec(5) `Environment=`).
//!
//! The file syntax itself (comments, continuations, sections) is parsed by
//! [`crate::parse::keyfile`]. Not modelled: specifiers (`%h`), templates,
//! generators (an offline image has none running) and `systemctl set-property`.

use crate::audit::AuditContext;
use crate::finding::Diagnostic;
use crate::parse::keyfile;
use crate::root::{FileKind, join};
use std::collections::BTreeMap;

/// The system unit search path, highest priority first (systemd.unit(5),
/// "System Unit Search Path"), with `/lib/systemd/system` last for images
/// whose `/lib` is not merged into `/usr`.
pub const SYSTEM_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// The manager configuration and its drop-in directories, main file first
/// (systemd-system.conf(5)); `DefaultEnvironment=` there reaches every service.
pub const MANAGER_CONF: &str = "/etc/systemd/system.conf";

/// Drop-in directories of [`MANAGER_CONF`], highest priority first.
pub const MANAGER_CONF_DIRS: &[&str] = &[
    "/etc/systemd/system.conf.d",
    "/run/systemd/system.conf.d",
    "/usr/local/lib/systemd/system.conf.d",
    "/usr/lib/systemd/system.conf.d",
];

/// One `Key=value` assignment, with the section and place it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The section (`Service`).
    pub section: String,
    /// The key (`ExecStart`), case-sensitive as systemd reads it.
    pub key: String,
    /// The value, surrounding white space removed, otherwise raw.
    pub value: String,
    /// The file (unit file or drop-in).
    pub file: String,
    /// The 1-based line.
    pub line: u32,
}

/// A loaded unit: its file, its drop-ins and every assignment in the order
/// systemd applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The unit name (`rescue.service`).
    pub name: String,
    /// The unit file that was loaded.
    pub fragment: String,
    /// The drop-ins applied, in order.
    pub dropins: Vec<String>,
    /// The assignments of the unit file, then of each drop-in.
    pub directives: Vec<Directive>,
}

/// What a unit name resolves to on the search path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitLookup {
    /// No directory of the search path holds a unit file of that name.
    Absent,
    /// The unit file is empty or a link to `/dev/null` (or some other
    /// non-regular file): the unit cannot be started.
    Masked {
        /// The path that masks it.
        path: String,
    },
    /// The unit was found and parsed.
    Found(Unit),
}

/// A variable of a service's environment, with where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The value.
    pub value: String,
    /// The file that set it.
    pub file: String,
    /// The 1-based line that set it.
    pub line: u32,
}

/// How one file of the search path presents itself.
enum FileState {
    Missing,
    Masked,
    Regular,
}

fn file_state(ctx: &AuditContext<'_>, path: &str) -> FileState {
    // systemd.unit(5): "If a unit file is empty (i.e. has the file size 0) or
    // is symlinked to /dev/null, its configuration will not be loaded and it
    // appears with a load state of masked". The link target is read itself
    // because an extracted image usually has an empty /dev.
    match ctx.root.read_link(path) {
        Ok(Some(target)) if target == "/dev/null" => return FileState::Masked,
        Ok(_) => {}
        Err(e) => {
            warn_io(ctx, path, &e.to_string());
            return FileState::Missing;
        }
    }
    match ctx.root.metadata(path) {
        Ok(Some(m)) => match m.kind {
            FileKind::File if m.size == 0 => FileState::Masked,
            FileKind::File => FileState::Regular,
            // A character device here is /dev/null reached through a chain of
            // links on a live system; nothing else can be loaded as a unit.
            FileKind::Other => FileState::Masked,
            FileKind::Dir | FileKind::Symlink => FileState::Missing,
        },
        // A dangling link (other than to /dev/null) is skipped: the unit is
        // looked for further down the path.
        Ok(None) => FileState::Missing,
        Err(e) => {
            warn_io(ctx, path, &e.to_string());
            FileState::Missing
        }
    }
}

fn warn_io(ctx: &AuditContext<'_>, path: &str, message: &str) {
    ctx.warn(Diagnostic {
        file: path.to_owned(),
        line: None,
        field: None,
        message: message.to_owned(),
    });
}

/// The unit type of a name (`service` for `rescue.service`).
fn unit_type(name: &str) -> Option<&str> {
    name.rsplit_once('.')
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty())
}

/// The `*.conf` files of drop-in directories given highest priority first,
/// sorted by file name, each name taken from the first directory that has it.
/// At most `ctx.config.limits.max_included_files` are taken.
fn dropins(ctx: &AuditContext<'_>, dirs: &[String]) -> Vec<String> {
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for d in dirs {
        let files = match ctx.dir_files(d) {
            Ok(f) => f,
            Err(e) => {
                warn_io(ctx, d, &e.to_string());
                continue;
            }
        };
        for f in files {
            let Some(base) = f.rsplit('/').next() else {
                continue;
            };
            if base.ends_with(".conf") {
                by_name.entry(base.to_owned()).or_insert(f);
            }
        }
    }
    let cap = usize::try_from(ctx.config.limits.max_included_files).unwrap_or(usize::MAX);
    if by_name.len() > cap {
        warn_io(
            ctx,
            dirs.first().map_or("/", String::as_str),
            &format!("more than {cap} drop-ins (limits.max_included_files); the rest were ignored"),
        );
    }
    by_name.into_values().take(cap).collect()
}

/// Reads and parses one file into directives, skipping it when masked.
fn read_directives(ctx: &AuditContext<'_>, path: &str, out: &mut Vec<Directive>) -> bool {
    if !matches!(file_state(ctx, path), FileState::Regular) {
        return false;
    }
    let Some(t) = ctx.read_text(path) else {
        return false;
    };
    let kf = keyfile::parse_systemd(&t, &mut |d| ctx.warn(d));
    for (section, e) in kf.entries() {
        out.push(Directive {
            section: section.to_owned(),
            key: e.key.clone(),
            value: e.value.clone(),
            file: t.path.clone(),
            line: e.line,
        });
    }
    true
}

/// Loads system unit `name` (`rescue.service`) from the root.
pub fn load_system_unit(ctx: &AuditContext<'_>, name: &str) -> UnitLookup {
    let mut fragment = None;
    for dir in SYSTEM_UNIT_DIRS {
        let p = join(dir, name);
        match file_state(ctx, &p) {
            FileState::Missing => continue,
            FileState::Masked => return UnitLookup::Masked { path: p },
            FileState::Regular => {
                fragment = Some(p);
                break;
            }
        }
    }
    // A service without a unit file is "not-found" even when drop-ins exist.
    let Some(fragment) = fragment else {
        return UnitLookup::Absent;
    };
    let mut directives = Vec::new();
    if !read_directives(ctx, &fragment, &mut directives) {
        return UnitLookup::Absent;
    }
    // Per search directory, the unit's own drop-ins before the per-type ones.
    let mut subdirs = vec![format!("{name}.d")];
    if let Some(t) = unit_type(name) {
        subdirs.push(format!("{t}.d"));
    }
    let dirs: Vec<String> = SYSTEM_UNIT_DIRS
        .iter()
        .flat_map(|dir| subdirs.iter().map(move |sub| join(dir, sub)))
        .collect();
    let mut applied = Vec::new();
    for d in dropins(ctx, &dirs) {
        if read_directives(ctx, &d, &mut directives) {
            applied.push(d);
        }
    }
    UnitLookup::Found(Unit {
        name: name.to_owned(),
        fragment,
        dropins: applied,
        directives,
    })
}

impl Unit {
    /// The effective entries of a list setting (`ExecStart` in `Service`):
    /// every assignment in order, an empty one resetting the list.
    pub fn list(&self, section: &str, key: &str) -> Vec<&Directive> {
        let mut out: Vec<&Directive> = Vec::new();
        for d in self
            .directives
            .iter()
            .filter(|d| d.section == section && d.key == key)
        {
            if d.value.is_empty() {
                out.clear();
            } else {
                out.push(d);
            }
        }
        out
    }

    /// The environment systemd gives the service's processes, as far as the
    /// files say: the manager's `DefaultEnvironment=`, overridden by the
    /// unit's `Environment=`, overridden by its `EnvironmentFile=` files
    /// (systemd.exec(5): "Settings from these files override settings made
    /// with Environment=").
    pub fn environment(&self, ctx: &AuditContext<'_>) -> BTreeMap<String, EnvVar> {
        let mut env = manager_default_environment(ctx);
        let mut own = BTreeMap::new();
        for d in self
            .directives
            .iter()
            .filter(|d| d.section == "Service" && d.key == "Environment")
        {
            if d.value.is_empty() {
                own.clear();
            } else {
                assign_words(&mut own, d);
            }
        }
        env.extend(own);
        for d in self.list("Service", "EnvironmentFile") {
            // A leading `-` only means "ignore if missing".
            let path = d.value.strip_prefix('-').unwrap_or(&d.value).trim();
            if !path.starts_with('/') {
                continue;
            }
            if let Some(t) = ctx.read_text(path) {
                for (n, line) in t.lines() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                        continue;
                    }
                    let line = line.strip_prefix("export ").unwrap_or(line);
                    let Some((k, v)) = line.split_once('=') else {
                        continue;
                    };
                    let v = v.trim();
                    let v = v
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                        .unwrap_or(v);
                    env.insert(
                        k.trim().to_owned(),
                        EnvVar {
                            value: v.to_owned(),
                            file: t.path.clone(),
                            line: n,
                        },
                    );
                }
            }
        }
        env
    }
}

/// Adds the `VAR=value` words of an `Environment=`-style assignment.
fn assign_words(env: &mut BTreeMap<String, EnvVar>, d: &Directive) {
    for w in split_words(&d.value) {
        if let Some((k, v)) = w.split_once('=') {
            if !k.is_empty() {
                env.insert(
                    k.to_owned(),
                    EnvVar {
                        value: v.to_owned(),
                        file: d.file.clone(),
                        line: d.line,
                    },
                );
            }
        }
    }
}

/// `DefaultEnvironment=` of the manager configuration and its drop-ins.
pub fn manager_default_environment(ctx: &AuditContext<'_>) -> BTreeMap<String, EnvVar> {
    let mut directives = Vec::new();
    read_directives(ctx, MANAGER_CONF, &mut directives);
    let dirs: Vec<String> = MANAGER_CONF_DIRS.iter().map(|d| (*d).to_owned()).collect();
    for d in dropins(ctx, &dirs) {
        read_directives(ctx, &d, &mut directives);
    }
    let mut env = BTreeMap::new();
    for d in directives
        .iter()
        .filter(|d| d.section == "Manager" && d.key == "DefaultEnvironment")
    {
        if d.value.is_empty() {
            env.clear();
        } else {
            assign_words(&mut env, d);
        }
    }
    env
}

/// One command line of `ExecStart=` and its kin (systemd.service(5), "Command lines").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The special executable prefixes (`-`, `@`, `:`, `+`, `!`, `!!`, `|`).
    pub prefixes: String,
    /// The executable, as written (absolute, or a name searched on a fixed path).
    pub program: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
}

impl ExecCommand {
    /// The file name of the executable (`/usr/sbin/sulogin` → `sulogin`).
    pub fn program_name(&self) -> &str {
        self.program.rsplit('/').next().unwrap_or(&self.program)
    }
}

/// Parses an `ExecStart=` value; `None` when it holds no command.
pub fn parse_exec(value: &str) -> Option<ExecCommand> {
    let mut words = split_words(value).into_iter();
    let first = words.next()?;
    let program = first.trim_start_matches(['-', '@', ':', '+', '!', '|']);
    let prefixes = first
        .get(..first.len().saturating_sub(program.len()))
        .unwrap_or("")
        .to_owned();
    let program = program.to_owned();
    // "If the executable path is prefixed with @, the second specified token
    // will be passed as argv[0] to the executed process".
    if prefixes.contains('@') {
        words.next();
    }
    Some(ExecCommand {
        prefixes,
        program,
        args: words.collect(),
    })
}

/// Splits a value into words the way systemd's `extract_first_word()` does
/// with `EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE`: white space separates words,
/// single and double quotes group, a backslash escapes the next character.
pub fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(unescape(n));
                }
            }
            Some(_) => cur.push(c),
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c == '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(unescape(n));
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::config::Config;
    use crate::root::Root;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn write(dir: &std::path::Path, path: &str, text: &str) {
        let p = dir.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn with_root(files: &[(&str, &str)], f: impl FnOnce(&std::path::Path, &AuditContext<'_>)) {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            write(d.path(), p, t);
        }
        let root = Root::open(d.path()).unwrap();
        let cfg = Config::default();
        let clock = FixedClock::from_unix_secs(0);
        let ctx = AuditContext::new(&root, &cfg, &clock);
        f(d.path(), &ctx);
    }

    const RESCUE: &str = "[Unit]\nDescription=Rescue Shell\n\n[Service]\nEnvironment=HOME=/root\nExecStart=-/usr/lib/systemd/systemd-sulogin-shell rescue\nType=idle\n";

    #[test]
    fn words_quotes_and_escapes() {
        assert_eq!(
            split_words(r#"-/bin/sh -c "/sbin/sulogin; /bin/systemctl default" a\ b 'x y'"#),
            vec![
                "-/bin/sh",
                "-c",
                "/sbin/sulogin; /bin/systemctl default",
                "a b",
                "x y"
            ]
        );
        assert!(split_words("   ").is_empty());
        assert_eq!(split_words(r#""""#), vec![""]);
        // An unterminated quote does not panic.
        assert_eq!(split_words("\"abc"), vec!["abc"]);
    }

    #[test]
    fn exec_prefixes_and_argv0() {
        let c = parse_exec("-/usr/lib/systemd/systemd-sulogin-shell rescue").unwrap();
        assert_eq!(c.prefixes, "-");
        assert_eq!(c.program_name(), "systemd-sulogin-shell");
        assert_eq!(c.args, vec!["rescue"]);
        let c = parse_exec("@/bin/bash sulogin -i").unwrap();
        assert_eq!(c.program, "/bin/bash");
        assert_eq!(c.args, vec!["-i"]);
        let c = parse_exec("!!sulogin").unwrap();
        assert_eq!((c.prefixes.as_str(), c.program_name()), ("!!", "sulogin"));
        assert!(parse_exec("  ").is_none());
    }

    #[test]
    fn etc_overrides_usr_and_dropins_reset_lists() {
        with_root(
            &[
                ("/usr/lib/systemd/system/rescue.service", RESCUE),
                (
                    "/usr/lib/systemd/system/rescue.service.d/10-vendor.conf",
                    "[Service]\nExecStart=\nExecStart=-/bin/sh\n",
                ),
                // Same name in /etc replaces the vendor drop-in.
                (
                    "/etc/systemd/system/rescue.service.d/10-vendor.conf",
                    "[Service]\nEnvironment=A=1\n",
                ),
                (
                    "/etc/systemd/system/service.d/20-all.conf",
                    "[Service]\nEnvironment=\"B=two words\"\n",
                ),
            ],
            |_, ctx| {
                let UnitLookup::Found(u) = load_system_unit(ctx, "rescue.service") else {
                    panic!("not found");
                };
                assert_eq!(u.fragment, "/usr/lib/systemd/system/rescue.service");
                assert_eq!(
                    u.dropins,
                    vec![
                        "/etc/systemd/system/rescue.service.d/10-vendor.conf",
                        "/etc/systemd/system/service.d/20-all.conf"
                    ]
                );
                let exec = u.list("Service", "ExecStart");
                assert_eq!(exec.len(), 1);
                assert_eq!(exec[0].line, 6);
                let env = u.environment(ctx);
                assert_eq!(env["HOME"].value, "/root");
                assert_eq!(env["A"].value, "1");
                assert_eq!(env["B"].value, "two words");
                assert_eq!(env["B"].file, "/etc/systemd/system/service.d/20-all.conf");
            },
        );
    }

    #[test]
    fn empty_assignment_resets_and_later_one_replaces() {
        with_root(
            &[
                ("/lib/systemd/system/emergency.service", RESCUE),
                (
                    "/etc/systemd/system/emergency.service.d/override.conf",
                    "[Service]\nExecStart=\nExecStart=-/bin/bash --login\n",
                ),
            ],
            |_, ctx| {
                let UnitLookup::Found(u) = load_system_unit(ctx, "emergency.service") else {
                    panic!("not found");
                };
                let exec = u.list("Service", "ExecStart");
                assert_eq!(exec.len(), 1);
                assert_eq!(
                    exec[0].file,
                    "/etc/systemd/system/emergency.service.d/override.conf"
                );
                assert_eq!(exec[0].line, 3);
            },
        );
    }

    #[test]
    fn masked_by_dev_null_link_or_empty_file() {
        with_root(
            &[("/usr/lib/systemd/system/rescue.service", RESCUE)],
            |dir, ctx| {
                fs::create_dir_all(dir.join("etc/systemd/system")).unwrap();
                // Dangling inside the image: there is no /dev/null in it.
                symlink("/dev/null", dir.join("etc/systemd/system/rescue.service")).unwrap();
                assert_eq!(
                    load_system_unit(ctx, "rescue.service"),
                    UnitLookup::Masked {
                        path: "/etc/systemd/system/rescue.service".to_owned()
                    }
                );
                write(dir, "/run/systemd/system/emergency.service", "");
                write(dir, "/usr/lib/systemd/system/emergency.service", RESCUE);
                assert!(matches!(
                    load_system_unit(ctx, "emergency.service"),
                    UnitLookup::Masked { .. }
                ));
                assert_eq!(
                    load_system_unit(ctx, "debug-shell.service"),
                    UnitLookup::Absent
                );
            },
        );
    }

    #[test]
    fn dangling_link_falls_through_to_the_next_directory() {
        with_root(
            &[("/usr/lib/systemd/system/rescue.service", RESCUE)],
            |dir, ctx| {
                fs::create_dir_all(dir.join("etc/systemd/system")).unwrap();
                symlink(
                    "/opt/gone/rescue.service",
                    dir.join("etc/systemd/system/rescue.service"),
                )
                .unwrap();
                let UnitLookup::Found(u) = load_system_unit(ctx, "rescue.service") else {
                    panic!("not found");
                };
                assert_eq!(u.fragment, "/usr/lib/systemd/system/rescue.service");
            },
        );
    }

    #[test]
    fn manager_default_environment_and_environment_file() {
        with_root(
            &[
                (
                    "/etc/systemd/system.conf",
                    "[Manager]\nDefaultEnvironment=X=1 Y=2\n",
                ),
                (
                    "/etc/systemd/system.conf.d/50-force.conf",
                    "[Manager]\nDefaultEnvironment=Z=3\n",
                ),
                (
                    "/usr/lib/systemd/system/rescue.service",
                    "[Service]\nEnvironment=Y=own\nEnvironmentFile=-/etc/default/rescue\nEnvironmentFile=/etc/absent\nExecStart=/bin/true\n",
                ),
                (
                    "/etc/default/rescue",
                    "# c\nexport Y=\"file\"\nnot a pair\n",
                ),
            ],
            |_, ctx| {
                let UnitLookup::Found(u) = load_system_unit(ctx, "rescue.service") else {
                    panic!("not found");
                };
                let env = u.environment(ctx);
                assert_eq!(env["X"].value, "1");
                assert_eq!(env["Z"].value, "3");
                assert_eq!(env["Y"].value, "file");
                assert_eq!(
                    (env["Y"].file.as_str(), env["Y"].line),
                    ("/etc/default/rescue", 2)
                );
            },
        );
    }
}
