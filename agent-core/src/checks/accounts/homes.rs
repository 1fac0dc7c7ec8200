//! ACC-14: interactive users' home directories, and the trust files that
//! must be in no home and not in /etc.

use super::{OVERFLOW_UID, UidMin, describe_meta, kind_name, login_shell, na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Diagnostic, Finding, Severity};
use crate::parse::accounts::{Accounts, PasswdEntry};
use crate::root::{FileKind, FileMeta, ResolvedDir, join};
use std::collections::{HashMap, HashSet};

/// Files in a home directory that grant access without a password, with the
/// SSG rule for each.
const TRUST_FILES: [(&str, &str, &str); 3] = [
    (
        ".netrc",
        "no_netrc_files",
        "holds plain-text credentials for other hosts",
    ),
    (
        ".rhosts",
        "no_rsh_trust_files",
        "lets remote users in without a password (rsh/rlogin trust)",
    ),
    (
        ".shosts",
        "no_user_host_based_files",
        "lets remote users in without a password (SSH host-based trust)",
    ),
];

/// System-wide trust files, with the SSG rule for each.
const HOST_TRUST_FILES: [(&str, &str); 3] = [
    ("/etc/hosts.equiv", "no_rsh_trust_files"),
    ("/etc/shosts.equiv", "no_host_based_files"),
    ("/etc/ssh/shosts.equiv", "no_host_based_files"),
];

/// ACC-14 (Lynis HOME-9302..9306; SSG
/// accounts_user_interactive_home_directory_exists,
/// file_ownership_home_directories, file_permissions_home_directories,
/// no_netrc_files, no_rsh_trust_files, no_user_host_based_files,
/// no_host_based_files): interactive users' homes exist, belong to them and
/// are 0750 or stricter; no trust files in any home or in /etc. Only homes
/// named in passwd are looked at, each once.
pub fn acc14_homes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no home directories to check");
    };
    let uid_min = ctx.get::<UidMin>().0;
    let nologin = &ctx.config.accounts.nologin_shells;
    let mut out = Vec::new();
    let mut visited: HashSet<&str> = HashSet::with_capacity(acc.passwd.entries.len());
    let mut homes = HomeProbe::new(ctx.root);
    for u in &acc.passwd.entries {
        let interactive = u.name == "root"
            || (u.uid >= uid_min
                && u.uid != OVERFLOW_UID
                && !nologin.iter().any(|n| n == login_shell(u)));
        let is_dir = if interactive {
            home_of_interactive(ctx, &mut homes, u, passwd, &mut out)
        } else {
            u.home.starts_with('/')
                && matches!(homes.metadata(&u.home), Ok(Some(m)) if m.kind == FileKind::Dir)
        };
        if is_dir && visited.insert(u.home.as_str()) {
            let home_dir = homes.dir(&u.home);
            for (name, rule, why) in TRUST_FILES {
                let p = join(&u.home, name);
                let meta = match &home_dir {
                    Some(d) => ctx.root.entry_metadata(d, name, false),
                    None => ctx.root.symlink_metadata(&p),
                };
                if let Ok(Some(_)) = meta {
                    out.push(
                        ctx.finding("ACC-14", format!("{p} exists: it {why}"))
                            .severity(Severity::High)
                            .file(&p)
                            .observed(format!("{name} in the home of {}", q(&u.name)))
                            .expected(format!("no {name} in any home directory"))
                            .remediation(format!(
                                "Remove {p} and use key-based or managed credentials."
                            ))
                            .ssg(&[rule])
                            .build(),
                    );
                }
            }
        }
    }
    for (p, rule) in HOST_TRUST_FILES {
        if let Ok(Some(_)) = ctx.root.symlink_metadata(p) {
            out.push(
                ctx.finding(
                    "ACC-14",
                    format!("{p} exists: remote hosts are trusted without a password"),
                )
                .severity(Severity::High)
                .file(p)
                .observed(format!("{p} present"))
                .expected(format!("no {p}"))
                .remediation(format!("Remove {p}."))
                .ssg(&[rule])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}

/// Looks at home directories with as few system calls as possible: the
/// parent of each home (`/home`) is resolved once per audit, then each home
/// and each file probed in it costs one `lstat`. On a device with 10,000
/// accounts this is what keeps ACC-14 linear and fast (see the bench-audit
/// benchmark); the answers are those of `Root::metadata` (tested in root.rs).
struct HomeProbe<'r> {
    root: &'r crate::root::Root,
    parents: HashMap<String, Option<ResolvedDir>>,
}

impl<'r> HomeProbe<'r> {
    fn new(root: &'r crate::root::Root) -> Self {
        HomeProbe {
            root,
            parents: HashMap::new(),
        }
    }

    /// Splits a plain absolute path (`/home/tech`) into parent and name;
    /// `None` for anything unusual (`..`, `//`, a trailing `/`, `/`), which
    /// then takes the full resolution.
    fn split(home: &str) -> Option<(&str, &str)> {
        if !home.starts_with('/') || home.ends_with('/') || home.contains("//") {
            return None;
        }
        let (parent, name) = home.rsplit_once('/')?;
        if name == "." || name == ".." || parent.split('/').any(|c| c == "." || c == "..") {
            return None;
        }
        Some((if parent.is_empty() { "/" } else { parent }, name))
    }

    fn parent(&mut self, parent: &str) -> Option<&ResolvedDir> {
        if !self.parents.contains_key(parent) {
            let d = self.root.resolve_dir(parent).ok().flatten();
            self.parents.insert(parent.to_owned(), d);
        }
        self.parents.get(parent).and_then(Option::as_ref)
    }

    /// The same as `root.metadata(home)`.
    fn metadata(&mut self, home: &str) -> Result<Option<FileMeta>, crate::root::RootError> {
        let root = self.root;
        match Self::split(home) {
            Some((parent, name)) => match self.parent(parent) {
                Some(d) => root.entry_metadata(d, name, true),
                None => root.metadata(home),
            },
            None => root.metadata(home),
        }
    }

    /// The home as a resolved directory, when it is one.
    fn dir(&mut self, home: &str) -> Option<ResolvedDir> {
        let root = self.root;
        match Self::split(home) {
            Some((parent, name)) => match self.parent(parent) {
                Some(d) => root.entry_dir(d, name).ok().flatten(),
                None => root.resolve_dir(home).ok().flatten(),
            },
            None => root.resolve_dir(home).ok().flatten(),
        }
    }
}

/// Checks an interactive user's home; true when it is a directory.
fn home_of_interactive(
    ctx: &AuditContext<'_>,
    homes: &mut HomeProbe<'_>,
    u: &PasswdEntry,
    passwd: &str,
    out: &mut Vec<Finding>,
) -> bool {
    let f = |title: String| ctx.finding("ACC-14", title).at(passwd, u.line);
    if !u.home.starts_with('/') || (u.home == "/" && u.name != "root") {
        out.push(
            f(format!("{} has no home directory of its own", q(&u.name)))
                .observed(format!("{} with home {}", q(&u.name), q(&u.home)))
                .expected("an absolute home directory owned by the user")
                .remediation(format!(
                    "Give the user a home directory (usermod -d /home/{} -m {}).",
                    u.name, u.name
                ))
                .ssg(&["accounts_user_interactive_home_directory_exists"])
                .build(),
        );
        return false;
    }
    let m = match homes.metadata(&u.home) {
        Ok(Some(m)) => m,
        Ok(None) => {
            out.push(
                f(format!("home directory of {} does not exist", q(&u.name)))
                    .observed(format!("{} absent", u.home))
                    .expected(format!("{} a directory owned by UID {}", u.home, u.uid))
                    .remediation(format!(
                        "Create it (mkhomedir_helper {}) or correct the home in /etc/passwd.",
                        u.name
                    ))
                    .ssg(&["accounts_user_interactive_home_directory_exists"])
                    .build(),
            );
            return false;
        }
        Err(e) => {
            ctx.warn(Diagnostic {
                file: u.home.clone(),
                line: None,
                field: None,
                message: e.to_string(),
            });
            return false;
        }
    };
    if m.kind != FileKind::Dir {
        out.push(
            f(format!("home of {} is not a directory", q(&u.name)))
                .observed(format!(
                    "{}: {}, {}",
                    u.home,
                    kind_name(m.kind),
                    describe_meta(&m)
                ))
                .expected(format!("{} a directory owned by UID {}", u.home, u.uid))
                .remediation(format!(
                    "Replace {} with a directory owned by {}.",
                    u.home, u.name
                ))
                .ssg(&["accounts_user_interactive_home_directory_exists"])
                .build(),
        );
        return false;
    }
    if m.uid != u.uid {
        // Owned by another account, that account controls this user's
        // dotfiles (.profile, .ssh/authorized_keys); root-owned is only a nuisance.
        let sev = if m.uid == 0 {
            Severity::Low
        } else {
            Severity::High
        };
        out.push(
            f(format!("home of {} is owned by UID {}", q(&u.name), m.uid))
                .severity(sev)
                .observed(format!("{}: {}", u.home, describe_meta(&m)))
                .expected(format!("owner {} ({})", u.uid, u.name))
                .remediation(format!("chown {} {}", u.name, u.home))
                .ssg(&["file_ownership_home_directories"])
                .build(),
        );
    }
    let extra = m.mode & !0o750;
    if extra != 0 {
        // Writable by others: anyone can plant a .bashrc the user will run.
        let sev = if m.mode & 0o022 != 0 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(
            f(format!(
                "home of {} has permissions beyond 0750",
                q(&u.name)
            ))
            .severity(sev)
            .observed(format!("{}: {}", u.home, describe_meta(&m)))
            .expected("mode 0750 or stricter")
            .remediation(format!(
                "chmod 0750 {} (HOME_MODE 0750 in /etc/login.defs for new users)",
                u.home
            ))
            .ssg(&["file_permissions_home_directories"])
            .build(),
        );
    }
    true
}
