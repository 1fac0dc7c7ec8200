//! Console logins: the commands that put a login prompt (or something
//! else) on a terminal, from systemd getty units (`getty@`, `serial-getty@`,
//! `autovt@`, `container-getty@`, `console-getty`) and `/etc/inittab`, and
//! whether they let someone in without authenticating (agetty
//! `--autologin`, `login -f`, a shell instead of login(1)).
//!
//! A getty unit is read as systemd loads it (systemd.unit(5)): the unit file
//! found first on the search path (for an instance, the template's unless it
//! has its own), then the drop-ins of the instance, of the template and of
//! `service.d`, sorted by file name, masked names skipped; `ExecStart=` is a
//! list that an empty assignment resets.

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::parse::session::{read_keyfiles, systemd_dropins};
use crate::parse::units::{
    Directive, ExecCommand, SYSTEM_UNIT_DIRS, Unit, parse_exec, split_words,
};
use crate::root::{FileKind, join};
use std::collections::BTreeSet;

/// The SysV / BusyBox init table.
pub const INITTAB: &str = "/etc/inittab";

/// Unit name prefixes of the services that run a login prompt on a terminal.
pub const GETTY_PREFIXES: &[&str] = &[
    "getty@",
    "serial-getty@",
    "autovt@",
    "container-getty@",
    "console-getty.",
];

/// How a console login command lets someone in without authenticating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleAccess {
    /// `agetty --autologin USER` (or mingetty's): a session for USER with no prompt.
    Autologin {
        /// The user logged in.
        user: String,
    },
    /// login(1) is passed `-f` ("do not perform authentication").
    LoginSkipsAuthentication,
    /// The getty runs another program than login(1) (`--login-program /bin/sh`).
    LoginProgram {
        /// The program.
        program: String,
    },
    /// A shell runs on the terminal directly, as root.
    Shell {
        /// The shell.
        program: String,
    },
}

/// One console login command that grants access without authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleLogin {
    /// The unit (`getty@tty1.service`) or `inittab`.
    pub origin: String,
    /// The file of the command line.
    pub file: String,
    /// Its 1-based line.
    pub line: u32,
    /// The command as written.
    pub command: String,
    /// What it does.
    pub access: ConsoleAccess,
}

/// agetty's long options and whether each takes an argument (0 no, 1 yes,
/// 2 optional), from util-linux `term-utils/agetty.c` `parse_args()`.
const AGETTY_LONG: &[(&str, u8, char)] = &[
    ("8bits", 0, '8'),
    ("autologin", 1, 'a'),
    ("noreset", 0, 'c'),
    ("chdir", 1, 'C'),
    ("delay", 1, 'd'),
    ("remote", 0, 'E'),
    ("issue-file", 1, 'f'),
    ("show-issue", 0, '\0'),
    ("flow-control", 0, 'h'),
    ("host", 1, 'H'),
    ("noissue", 0, 'i'),
    ("init-string", 1, 'I'),
    ("noclear", 0, 'J'),
    ("login-program", 1, 'l'),
    ("local-line", 2, 'L'),
    ("extract-baud", 0, 'm'),
    ("list-speeds", 0, '\0'),
    ("skip-login", 0, 'n'),
    ("nonewline", 0, 'N'),
    ("login-options", 1, 'o'),
    ("login-pause", 0, 'p'),
    ("nice", 1, 'P'),
    ("chroot", 1, 'r'),
    ("hangup", 0, 'R'),
    ("keep-baud", 0, 's'),
    ("timeout", 1, 't'),
    ("detect-case", 0, 'U'),
    ("wait-cr", 0, 'w'),
    ("nohints", 0, '\0'),
    ("nohostname", 0, '\0'),
    ("long-hostname", 0, '\0'),
    ("reload", 0, '\0'),
    ("version", 0, '\0'),
    ("help", 0, '\0'),
    ("erase-chars", 1, '\0'),
    ("kill-chars", 1, '\0'),
];

/// agetty's short options that take an argument (optstring
/// `8a:cC:d:Ef:hH:iI:Jl:L::mnNo:pP:r:Rst:Uw`; `L` takes one only when attached).
const AGETTY_SHORT_WITH_ARG: &str = "aCdfHIloPrt";

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish",
];

fn base_name(p: &str) -> &str {
    let b = p.rsplit('/').next().unwrap_or(p);
    // BusyBox inittab: a leading `-` asks for a login shell.
    b.trim_start_matches('-')
}

/// Decides whether a console login command (`ExecStart=` of a getty unit or
/// the process of an inittab line) grants access without authentication.
pub fn console_access(program: &str, args: &[String]) -> Option<ConsoleAccess> {
    let name = base_name(program);
    if SHELLS.contains(&name) {
        return Some(ConsoleAccess::Shell {
            program: program.to_owned(),
        });
    }
    if name == "busybox" {
        let applet = args.first().map(|a| base_name(a))?;
        if SHELLS.contains(&applet) {
            return Some(ConsoleAccess::Shell {
                program: format!("{program} {applet}"),
            });
        }
        let rest = args.get(1..).unwrap_or(&[]);
        return console_access(applet, rest);
    }
    if name == "login" {
        return login_options_skip_auth(args).then_some(ConsoleAccess::LoginSkipsAuthentication);
    }
    if name == "agetty" || name == "getty" {
        return agetty_access(args);
    }
    // mingetty, and any other getty: the long option spelled out.
    for (i, a) in args.iter().enumerate() {
        if let Some(user) = a.strip_prefix("--autologin=") {
            return Some(ConsoleAccess::Autologin {
                user: user.to_owned(),
            });
        }
        if a == "--autologin" {
            return Some(ConsoleAccess::Autologin {
                user: args.get(i.saturating_add(1)).cloned().unwrap_or_default(),
            });
        }
    }
    None
}

/// True when login(1) options hold `-f` (util-linux and shadow login:
/// "-f Used to skip a login authentication").
fn login_options_skip_auth(words: &[String]) -> bool {
    for w in words {
        if w == "--" {
            break;
        }
        if let Some(flags) = w.strip_prefix('-') {
            if flags.starts_with('-') {
                continue;
            }
            // login's optstring is "fHh:p": `h` takes the rest as its argument.
            for c in flags.chars() {
                match c {
                    'f' => return true,
                    'h' => break,
                    _ => {}
                }
            }
        }
    }
    false
}

/// Parses agetty's arguments like `getopt_long` (GNU: options and operands
/// may be mixed, `--` ends options, long options may be abbreviated to a
/// unique prefix).
fn agetty_access(args: &[String]) -> Option<ConsoleAccess> {
    let mut autologin = None;
    let mut login_program = None;
    let mut login_options = None;
    let mut i = 0usize;
    while let Some(a) = args.get(i) {
        i = i.saturating_add(1);
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let exact = AGETTY_LONG.iter().find(|(n, _, _)| *n == name);
            let candidates: Vec<_> = AGETTY_LONG
                .iter()
                .filter(|(n, _, _)| n.starts_with(name))
                .collect();
            let opt = exact.or(match candidates.as_slice() {
                [one] => Some(*one),
                _ => None,
            });
            let Some((_, has_arg, short)) = opt else {
                continue;
            };
            let value = match (has_arg, attached) {
                (1, None) => {
                    let v = args.get(i).cloned();
                    i = i.saturating_add(1);
                    v
                }
                (_, v) => v,
            };
            note(
                *short,
                value,
                &mut autologin,
                &mut login_program,
                &mut login_options,
            );
            continue;
        }
        let Some(cluster) = a.strip_prefix('-') else {
            continue; // an operand: port, speed or terminal type
        };
        for (k, c) in cluster.char_indices() {
            if c == 'L' {
                break; // optional argument, attached: the rest of the cluster
            }
            if AGETTY_SHORT_WITH_ARG.contains(c) {
                let rest = cluster.get(k.saturating_add(c.len_utf8())..).unwrap_or("");
                let value = if rest.is_empty() {
                    let v = args.get(i).cloned();
                    i = i.saturating_add(1);
                    v
                } else {
                    Some(rest.to_owned())
                };
                note(
                    c,
                    value,
                    &mut autologin,
                    &mut login_program,
                    &mut login_options,
                );
                break;
            }
        }
    }
    if let Some(user) = autologin {
        return Some(ConsoleAccess::Autologin { user });
    }
    if let Some(p) = login_program {
        if base_name(&p) != "login" {
            if SHELLS.contains(&base_name(&p)) {
                return Some(ConsoleAccess::Shell { program: p });
            }
            return Some(ConsoleAccess::LoginProgram { program: p });
        }
    }
    if let Some(o) = login_options {
        let words: Vec<String> = o.split_whitespace().map(str::to_owned).collect();
        if login_options_skip_auth(&words) {
            return Some(ConsoleAccess::LoginSkipsAuthentication);
        }
    }
    None
}

fn note(
    short: char,
    value: Option<String>,
    autologin: &mut Option<String>,
    login_program: &mut Option<String>,
    login_options: &mut Option<String>,
) {
    let v = value.unwrap_or_default();
    match short {
        'a' => *autologin = Some(v),
        'l' => *login_program = Some(v),
        'o' => *login_options = Some(v),
        _ => {}
    }
}

/// The console login commands of a root that grant access without
/// authentication, from getty units and `/etc/inittab`.
#[derive(Debug, Clone, Default)]
pub struct ConsoleLogins {
    /// True when getty drop-in directories or getty unit files exist in
    /// `/etc/systemd/system`, or `/etc/inittab` exists: the console login is
    /// configured on this image.
    pub configured: bool,
    /// The commands that grant access, one per file and line.
    pub findings: Vec<ConsoleLogin>,
}

impl Source for ConsoleLogins {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut out = ConsoleLogins::default();
        let mut names: BTreeSet<String> = [
            "getty@.service",
            "serial-getty@.service",
            "autovt@.service",
            "container-getty@.service",
            "console-getty.service",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for dir in SYSTEM_UNIT_DIRS {
            for sub in ["", "getty.target.wants", "multi-user.target.wants"] {
                let d = if sub.is_empty() {
                    (*dir).to_owned()
                } else {
                    join(dir, sub)
                };
                let Ok(Some(entries)) = ctx.root.read_dir(&d) else {
                    continue;
                };
                for e in entries {
                    let unit = e.strip_suffix(".d").unwrap_or(&e);
                    if GETTY_PREFIXES.iter().any(|p| unit.starts_with(p))
                        && unit.ends_with(".service")
                    {
                        if *dir == "/etc/systemd/system" && sub.is_empty() {
                            out.configured = true;
                        }
                        names.insert(unit.to_owned());
                    }
                }
            }
        }
        let mut seen = BTreeSet::new();
        for name in &names {
            for (d, cmd) in getty_commands(ctx, name) {
                if let Some(access) = console_access(&cmd.program, &cmd.args) {
                    if seen.insert((d.file.clone(), d.line)) {
                        out.findings.push(ConsoleLogin {
                            origin: name.clone(),
                            file: d.file.clone(),
                            line: d.line,
                            command: d.value.clone(),
                            access,
                        });
                    }
                }
            }
        }
        if let Some(t) = ctx.read_text(INITTAB) {
            out.configured = true;
            for (n, line) in t.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                // inittab(5): id:runlevels:action:process (BusyBox: id::action:process).
                let mut f = line.splitn(4, ':');
                let (Some(_id), Some(_levels), Some(action), Some(process)) =
                    (f.next(), f.next(), f.next(), f.next())
                else {
                    ctx.warn(Diagnostic {
                        file: t.path.clone(),
                        line: Some(n),
                        field: None,
                        message: "not an inittab entry (id:runlevels:action:process)".to_owned(),
                    });
                    continue;
                };
                if !matches!(action, "respawn" | "askfirst" | "once" | "wait") {
                    continue;
                }
                let words = split_words(process);
                let Some((program, args)) = words.split_first() else {
                    continue;
                };
                // `exec` in front of the command changes nothing.
                let (program, args) = match (program.as_str(), args.split_first()) {
                    ("exec", Some((p, rest))) => (p, rest),
                    _ => (program, args),
                };
                if let Some(access) = console_access(program, args) {
                    out.findings.push(ConsoleLogin {
                        origin: "inittab".to_owned(),
                        file: t.path.clone(),
                        line: n,
                        command: process.to_owned(),
                        access,
                    });
                }
            }
        }
        out
    }
}

/// The effective `ExecStart=` lines of a getty unit: its unit file (the
/// template's, for an instance without its own), then its drop-ins and the
/// template's, an empty assignment resetting the list.
fn getty_commands(ctx: &AuditContext<'_>, name: &str) -> Vec<(Directive, ExecCommand)> {
    let template = name
        .split_once('@')
        .filter(|(_, rest)| !rest.starts_with('.'))
        .and_then(|(p, rest)| rest.rsplit_once('.').map(|(_, ty)| format!("{p}@.{ty}")));
    let mut fragment = None;
    'search: for candidate in std::iter::once(name.to_owned()).chain(template.clone()) {
        for dir in SYSTEM_UNIT_DIRS {
            let p = join(dir, &candidate);
            if matches!(ctx.root.read_link(&p), Ok(Some(t)) if t == "/dev/null") {
                return Vec::new(); // masked
            }
            match ctx.root.metadata(&p) {
                Ok(Some(m)) if m.kind == FileKind::File && m.size == 0 => return Vec::new(),
                Ok(Some(m)) if m.kind == FileKind::Other => return Vec::new(),
                Ok(Some(m)) if m.kind == FileKind::File => {
                    fragment = Some(p);
                    break 'search;
                }
                _ => {}
            }
        }
    }
    let mut subdirs = vec![format!("{name}.d")];
    if let Some(t) = &template {
        subdirs.push(format!("{t}.d"));
    }
    subdirs.push("service.d".to_owned());
    let dirs: Vec<String> = SYSTEM_UNIT_DIRS
        .iter()
        .flat_map(|dir| subdirs.iter().map(move |s| join(dir, s)))
        .collect();
    // A drop-in without a unit file is still reported: the unit may come
    // from a package installed later, and an autologin line is never benign.
    let mut paths: Vec<String> = fragment.iter().cloned().collect();
    paths.extend(systemd_dropins(ctx, &dirs));
    let mut warn = |d| ctx.warn(d);
    let mut directives = Vec::new();
    for kf in read_keyfiles(ctx, &paths, true, &mut warn) {
        for (section, e) in kf.entries() {
            directives.push(Directive {
                section: section.to_owned(),
                key: e.key.clone(),
                value: e.value.clone(),
                file: kf.path.clone(),
                line: e.line,
            });
        }
    }
    let unit = Unit {
        name: name.to_owned(),
        fragment: fragment.unwrap_or_default(),
        dropins: Vec::new(),
        directives,
    };
    unit.list("Service", "ExecStart")
        .into_iter()
        .filter_map(|d| parse_exec(&d.value).map(|c| (d.clone(), c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(cmd: &str) -> Option<ConsoleAccess> {
        let c = parse_exec(cmd).unwrap();
        console_access(&c.program, &c.args)
    }

    fn auto(user: &str) -> Option<ConsoleAccess> {
        Some(ConsoleAccess::Autologin {
            user: user.to_owned(),
        })
    }

    #[test]
    fn agetty_autologin_in_all_its_spellings() {
        assert_eq!(
            access("-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM"),
            None
        );
        assert_eq!(
            access("-/sbin/agetty --autologin root --noclear %I $TERM"),
            auto("root")
        );
        assert_eq!(
            access("-/sbin/agetty --autologin=tech --noclear %I"),
            auto("tech")
        );
        assert_eq!(access("-/sbin/agetty --auto tech %I"), auto("tech"));
        assert_eq!(access("-/sbin/agetty -a root %I 115200"), auto("root"));
        assert_eq!(access("-/sbin/agetty -Jaroot %I"), auto("root"));
        assert_eq!(
            access("-/sbin/agetty %I 115200 vt100 -a tech"),
            auto("tech")
        );
        assert_eq!(access("-/sbin/agetty -- %I -a root"), None);
        assert_eq!(access("/sbin/getty -L ttyS0 115200 vt100"), None);
        // `-I` takes an argument, so `-a` inside it is not an option.
        assert_eq!(access("/sbin/agetty -I -a %I"), None);
        // An ambiguous abbreviation is not an option (agetty refuses it).
        assert_eq!(access("/sbin/agetty --no %I"), None);
        assert_eq!(access("/sbin/mingetty --autologin root tty1"), auto("root"));
    }

    #[test]
    fn other_ways_to_skip_authentication() {
        assert_eq!(
            access("-/sbin/agetty -n -o '-f root' %I"),
            Some(ConsoleAccess::LoginSkipsAuthentication)
        );
        assert_eq!(access("-/sbin/agetty -n -o '-p -h host' %I"), None);
        assert_eq!(
            access("-/sbin/agetty -n -l /bin/bash %I"),
            Some(ConsoleAccess::Shell {
                program: "/bin/bash".to_owned()
            })
        );
        assert_eq!(
            access("-/sbin/agetty --login-program=/opt/kiosk/start %I"),
            Some(ConsoleAccess::LoginProgram {
                program: "/opt/kiosk/start".to_owned()
            })
        );
        assert_eq!(access("-/sbin/agetty -l /bin/login %I"), None);
        assert_eq!(
            access("-/bin/sh"),
            Some(ConsoleAccess::Shell {
                program: "/bin/sh".to_owned()
            })
        );
        assert_eq!(
            console_access("/bin/busybox", &["sh".to_owned()]),
            Some(ConsoleAccess::Shell {
                program: "/bin/busybox sh".to_owned()
            })
        );
        assert_eq!(
            console_access("/bin/login", &["-pf".to_owned(), "root".to_owned()]),
            Some(ConsoleAccess::LoginSkipsAuthentication)
        );
        assert_eq!(console_access("/bin/login", &["-p".to_owned()]), None);
        assert_eq!(console_access("/sbin/sulogin", &[]), None);
    }
}
