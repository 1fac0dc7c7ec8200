//! KRN-01, the core-dump part: a hard `core` limit of 0 for everyone
//! (limits.conf(5), SSG `disable_users_coredumps`) and, where
//! systemd-coredump is installed, `Storage=none` (coredump.conf(5), SSG
//! `coredump_disable_storage`). A core dump can hold passwords, keys and
//! patient data that were in the process's memory.

use crate::audit::AuditContext;
use crate::finding::{Finding, Severity};
use crate::parse::keyfile;
use crate::root::join;
use std::collections::BTreeMap;

const KRN01: &str = "KRN-01";

/// pam_limits' main file (limits.conf(5)).
pub const LIMITS_CONF: &str = "/etc/security/limits.conf";
/// pam_limits' drop-in directory, read after the main file in name order.
pub const LIMITS_D: &str = "/etc/security/limits.d";

/// coredump.conf(5): the main file is the first found of these.
const COREDUMP_MAIN: &[&str] = &[
    "/etc/systemd/coredump.conf",
    "/run/systemd/coredump.conf",
    "/usr/local/lib/systemd/coredump.conf",
    "/usr/lib/systemd/coredump.conf",
];
/// coredump.conf(5): drop-in directories, highest priority first.
const COREDUMP_DROPINS: &[&str] = &[
    "/etc/systemd/coredump.conf.d",
    "/run/systemd/coredump.conf.d",
    "/usr/local/lib/systemd/coredump.conf.d",
    "/usr/lib/systemd/coredump.conf.d",
];
/// Where systemd-coredump lives when it is installed.
const COREDUMP_BINARIES: &[&str] = &[
    "/usr/lib/systemd/systemd-coredump",
    "/lib/systemd/systemd-coredump",
];

pub(super) fn findings(ctx: &AuditContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(core_limit(ctx));
    out.extend(coredump_storage(ctx));
    out
}

/// The hard `core` limit every login gets, and the logins that escape it.
///
/// limits.conf(5): the drop-ins are read after the main file and a later
/// line replaces an earlier one of the same domain; "the individual limits
/// have priority over group limits", and both have priority over the
/// wildcard — pam_limits ranks a line by its domain (user or uid range,
/// then `@group` or gid range, then `%group`, then `*` or a bare `%`) and a
/// lower-ranked line never replaces a value set by a higher-ranked one. So
/// the last `* hard core N` (or `* - core N`) line is the default, and every
/// other domain whose last hard (or `-`) core line is not 0 lets its users
/// dump core whatever `*` says: each is a finding at its line. A `soft` line
/// is not judged: the soft limit can never exceed the hard one
/// (setrlimit(2)), so `* soft core unlimited` under `* hard core 0` is harmless.
fn core_limit(ctx: &AuditContext<'_>) -> Vec<Finding> {
    let mut files = vec![LIMITS_CONF.to_owned()];
    match ctx.dir_files(LIMITS_D) {
        Ok(fs) => files.extend(fs.into_iter().filter(|f| f.ends_with(".conf"))),
        Err(e) => ctx.warn(crate::finding::Diagnostic {
            file: LIMITS_D.to_owned(),
            line: None,
            field: None,
            message: e.to_string(),
        }),
    }
    let mut last: Option<(String, u32, String)> = None;
    // The last hard core line of every other domain, by domain.
    let mut others: BTreeMap<String, (String, u32, String)> = BTreeMap::new();
    for f in files {
        let Some(t) = ctx.read_text(&f) else {
            continue;
        };
        for (n, line) in t.lines() {
            let line = line.split('#').next().unwrap_or("");
            let w: Vec<&str> = line.split_whitespace().collect();
            if let [domain, kind, item, value] = w.as_slice() {
                if (*kind == "hard" || *kind == "-") && *item == "core" {
                    let at = (t.path.clone(), n, (*value).to_owned());
                    if is_wildcard(domain) {
                        last = Some(at);
                    } else {
                        others.insert((*domain).to_owned(), at);
                    }
                }
            }
        }
    }
    let base = || {
        ctx.finding(KRN01, "users may write core dumps")
            .severity(Severity::Medium)
            .ssg(&["disable_users_coredumps"])
            .expected("* hard core 0")
            .remediation(
                "add `* hard core 0` to /etc/security/limits.conf or a file of /etc/security/limits.d",
            )
    };
    let mut out = Vec::new();
    match last {
        Some((_, _, v)) if v == "0" => {}
        Some((file, line, v)) => out.push(
            base()
                .at(&file, line)
                .observed(format!("hard core limit {:?}", v))
                .build(),
        ),
        None => out.push(
            base()
                .file(LIMITS_CONF)
                .observed("no `* hard core` line in limits.conf or limits.d: no limit".to_owned())
                .build(),
        ),
    }
    for (domain, (file, line, v)) in others {
        if v == "0" {
            continue;
        }
        out.push(
            ctx.finding(KRN01, format!("{domain} may write core dumps"))
                .severity(Severity::Medium)
                .ssg(&["disable_users_coredumps"])
                .expected(format!("no hard core limit other than 0 for {domain}"))
                .remediation(
                    "remove the line or set its value to 0: a user or group line has priority \
                     over `* hard core 0` (limits.conf(5))",
                )
                .at(&file, line)
                .observed(format!(
                    "hard core limit {v:?} for {domain}, which overrides the `*` line for those logins"
                ))
                .build(),
        );
    }
    out
}

/// The domains pam_limits applies with the lowest priority: `*` and a bare
/// `%` (limits.conf(5); pam_limits ranks both `LIMITS_DEF_ALL`).
fn is_wildcard(domain: &str) -> bool {
    domain == "*" || domain == "%"
}

/// `Storage=` of `[Coredump]`: the main file, then the drop-ins in name
/// order (a name in a higher directory replaces the same name in a lower
/// one); the last assignment wins. Default `external` (coredump.conf(5)).
fn coredump_storage(ctx: &AuditContext<'_>) -> Option<Finding> {
    let main = COREDUMP_MAIN.iter().find(|p| ctx.root.exists(p));
    let installed = COREDUMP_BINARIES.iter().any(|p| ctx.root.exists(p));
    if main.is_none() && !installed {
        // No systemd-coredump: the kernel writes cores itself, bounded by the limit above.
        return None;
    }
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for d in COREDUMP_DROPINS {
        let Ok(names) = ctx.dir_files(d) else {
            continue;
        };
        for p in names {
            let name = p.rsplit('/').next().unwrap_or(&p).to_owned();
            if name.ends_with(".conf") {
                by_name.entry(name).or_insert(p);
            }
        }
    }
    let files = main
        .map(|m| (*m).to_owned())
        .into_iter()
        .chain(by_name.into_values());
    let mut last: Option<(String, u32, String)> = None;
    for f in files {
        let Some(t) = ctx.read_text(&f) else {
            continue;
        };
        let kf = keyfile::parse_systemd(&t, &mut |d| ctx.warn(d));
        if let Some(e) = kf.get("Coredump", "Storage") {
            last = Some((t.path.clone(), e.line, e.value.clone()));
        }
    }
    let base = ctx
        .finding(KRN01, "systemd-coredump stores core dumps")
        .severity(Severity::Medium)
        .ssg(&["coredump_disable_storage"])
        .expected("Storage=none")
        .remediation(
            "set `Storage=none` in the [Coredump] section of /etc/systemd/coredump.conf \
             (or a drop-in in /etc/systemd/coredump.conf.d)",
        );
    match last {
        Some((_, _, v)) if v == "none" => None,
        Some((file, line, v)) => Some(
            base.at(&file, line)
                .observed(format!("Storage={v:?}"))
                .build(),
        ),
        None => Some(
            base.file(join("/etc/systemd", "coredump.conf"))
                .observed("Storage= not set: the default \"external\" keeps dumps in /var/lib/systemd/coredump".to_owned())
                .build(),
        ),
    }
}
