//! ACC-11, the sudoers rules and `Defaults`: no `NOPASSWD` rule, no
//! `!authenticate`, and `use_pty` and `logfile` in force (see the parent
//! module for the SSG rules and standards).

use super::{Findings, ID, SSG_LOGFILE, SSG_NO_AUTHENTICATE, SSG_NOPASSWD, SSG_USE_PTY};
use crate::audit::{AuditContext, FindingBuilder};
use crate::finding::Severity;
use crate::parse::sudoers::{
    Cmnd, CmndSpec, Command, Entry, SUDOERS_PATH, Scope, Setting, SettingOp, Sudoers, join_list,
};
use std::collections::BTreeMap;

/// Longest `observed` text; a rule listing hundreds of commands is cut.
const MAX_OBSERVED: usize = 400;
/// Why sudo does not apply an entry today, if it does not: a line with a
/// syntax error is skipped, and a file with an unsafe owner or mode is
/// refused. Such a weakness is latent: one fix of the line or of the file's
/// mode away from being live.
fn latent(s: &Sudoers, e: &Entry) -> Option<String> {
    if let Some(why) = s.source(&e.file).and_then(|src| src.refused.as_deref()) {
        return Some(format!("sudo refuses {} today: {why}", e.file));
    }
    if !e.complete {
        return Some("the line has a syntax error, so sudo skips it today".to_owned());
    }
    None
}

/// Appends the latent note and lowers the severity of a latent weakness.
fn with_latent(
    b: FindingBuilder,
    sev: Severity,
    observed: String,
    why: Option<String>,
) -> FindingBuilder {
    match why {
        None => b.severity(sev).observed(clip(observed)),
        Some(w) => b
            .severity(sev.min(Severity::Medium))
            .observed(clip(format!("{observed} ({w})"))),
    }
}

fn clip(s: String) -> String {
    if s.chars().count() <= MAX_OBSERVED {
        return s;
    }
    let mut c: String = s.chars().take(MAX_OBSERVED).collect();
    c.push('…');
    c
}

/// `Defaults`, `Defaults:alice`, `Defaults!/usr/bin/less`, … as written.
fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Global => "Defaults".to_owned(),
        Scope::Host(m) => format!("Defaults@{}", join_list(m)),
        Scope::User(m) => format!("Defaults:{}", join_list(m)),
        Scope::Runas(m) => format!("Defaults>{}", join_list(m)),
        Scope::Command(c) => format!("Defaults!{}", join_list(c)),
    }
}

/// Rules that let a user run commands without typing a password. sudoers(5):
/// "NOPASSWD … sudo will not require the user to authenticate"; the tag
/// carries over to the following commands of the same list, so one finding
/// is made per tag, at its line, naming every command it covers. A denied
/// (`!`) command grants nothing and is left out.
pub(super) fn nopasswd(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    for (e, u) in s.user_specs() {
        for p in &u.privileges {
            let mut groups: BTreeMap<u32, Vec<&CmndSpec>> = BTreeMap::new();
            for c in p
                .cmnds
                .iter()
                .filter(|c| c.tags.nopasswd == Some(true) && !c.cmnd.negated)
            {
                groups
                    .entry(c.nopasswd_line.unwrap_or(p.line))
                    .or_default()
                    .push(c);
            }
            for (line, specs) in groups {
                let cmnds: Vec<&Cmnd> = specs.iter().map(|c| &c.cmnd).collect();
                let (sev, what) = if s.grants_all(cmnds.iter().copied()) {
                    (Severity::Critical, "any command")
                } else if cmnds.iter().all(|c| c.command == Command::List) {
                    (Severity::Low, "`sudo -l -U` (listing privileges)")
                } else {
                    (Severity::High, "commands")
                };
                let runas = specs
                    .first()
                    .and_then(|c| c.runas.as_ref())
                    .map_or_else(String::new, |r| format!("{r} "));
                let observed = format!(
                    "{} {} = {runas}NOPASSWD: {}",
                    join_list(&u.users),
                    join_list(&p.hosts),
                    join_list(&cmnds)
                );
                let b = ctx
                    .finding(
                        ID,
                        format!("sudo lets {} run {what} without a password (NOPASSWD)", join_list(&u.users)),
                    )
                    .at(&e.file, line)
                    .expected("every sudo rule asks for the user's password (no NOPASSWD tag)")
                    .remediation(
                        "Remove the NOPASSWD: tag (with visudo -f FILE), so that a stolen session or a process running as the user cannot gain root silently. A task that must run unattended belongs in a service or timer running under its own account, not in sudo.",
                    )
                    .ssg(&[SSG_NOPASSWD]);
                out.push(with_latent(b, sev, observed, latent(s, e)));
            }
        }
    }
}

/// `Defaults !authenticate`: sudoers(5) "authenticate: If set, users must
/// authenticate themselves via a password … before they may run commands";
/// turned off, every rule in its scope behaves as if tagged NOPASSWD.
pub(super) fn no_authenticate(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    for (e, d) in s.defaults() {
        for set in d
            .settings
            .iter()
            .filter(|x| x.name == "authenticate" && x.op == SettingOp::Disable)
        {
            let global = d.scope == Scope::Global;
            let sev = if global {
                Severity::Critical
            } else {
                Severity::High
            };
            let who = if global {
                "every sudo rule".to_owned()
            } else {
                format!("sudo rules matching {}", scope_text(&d.scope))
            };
            let b = ctx
                .finding(
                    ID,
                    format!("{who} run without a password (Defaults !authenticate)"),
                )
                .at(&e.file, set.line)
                .expected(
                    "authenticate left on (sudo's default): no `!authenticate` in any Defaults",
                )
                .remediation("Delete `!authenticate` from this Defaults line with visudo.")
                .ssg(&[SSG_NO_AUTHENTICATE]);
            out.push(with_latent(
                b,
                sev,
                format!("{} !authenticate", scope_text(&d.scope)),
                latent(s, e),
            ));
        }
    }
}

/// A setting turned off for some users, hosts or commands: it overrides the
/// global value, because sudo applies scoped Defaults after the global ones
/// (sudoers(5) "Defaults entries are parsed in the following order: generic,
/// host, user and runas Defaults first, then command defaults").
fn scoped_negations<'s>(
    s: &'s Sudoers,
    name: &'s str,
) -> impl Iterator<Item = (&'s Entry, &'s Scope, &'s Setting)> + 's {
    s.defaults()
        .filter(|(_, d)| d.scope != Scope::Global)
        .flat_map(|(e, d)| d.settings.iter().map(move |x| (e, &d.scope, x)))
        .filter(move |(_, _, x)| x.name == name && x.op == SettingOp::Disable)
}

fn main_file(s: &Sudoers) -> &str {
    s.main.as_deref().unwrap_or(SUDOERS_PATH)
}

/// `Defaults use_pty`: sudoers(5) "use_pty: If set, and sudo is running in a
/// terminal, the command will be run in a pseudo-terminal". Without it a
/// command can inject input into the invoking terminal after sudo exits
/// (TIOCSTI). sudo ≥ 1.9.14 turns it on by default, but an image's sudo
/// version is not known here, and SSG asks for it explicitly.
pub(super) fn use_pty(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    let remediation =
        "Add `Defaults use_pty` to /etc/sudoers (with visudo) and remove any `!use_pty`.";
    let eff = s
        .global_settings("use_pty")
        .filter(|(_, x)| matches!(x.op, SettingOp::Enable | SettingOp::Disable))
        .last();
    match eff {
        Some((_, x)) if x.op == SettingOp::Enable => {}
        Some((e, x)) => out.push(
            ctx.finding(
                ID,
                "sudo does not run commands in a pseudo-terminal (use_pty turned off)",
            )
            .severity(Severity::Medium)
            .at(&e.file, x.line)
            .observed("Defaults !use_pty (the last global use_pty setting)")
            .expected("Defaults use_pty")
            .remediation(remediation)
            .ssg(&[SSG_USE_PTY]),
        ),
        None => out.push(
            ctx.finding(
                ID,
                "sudo is not told to run commands in a pseudo-terminal (no Defaults use_pty)",
            )
            .severity(Severity::Medium)
            .file(main_file(s))
            .observed("no global `Defaults use_pty` in the sudoers files")
            .expected("Defaults use_pty")
            .remediation(remediation)
            .ssg(&[SSG_USE_PTY]),
        ),
    }
    for (e, scope, x) in scoped_negations(s, "use_pty") {
        let b = ctx
            .finding(
                ID,
                format!("use_pty is turned off for {}", scope_text(scope)),
            )
            .at(&e.file, x.line)
            .expected("no `!use_pty` in any Defaults")
            .remediation(remediation)
            .ssg(&[SSG_USE_PTY]);
        out.push(with_latent(
            b,
            Severity::Medium,
            format!("{} !use_pty", scope_text(scope)),
            latent(s, e),
        ));
    }
}

/// `Defaults logfile=/path`: sudo keeps its own log of every command, kept
/// apart from syslog, which a device may not persist or forward (SSG
/// sudo_custom_logfile; IEC 62443-4-2 CR 2.8). sudoers(5): logfile is a
/// "path name" option, so only an absolute path is accepted.
pub(super) fn logfile(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    let remediation = "Add `Defaults logfile=\"/var/log/sudo.log\"` to /etc/sudoers (with visudo), and remove any `!logfile`.";
    let expected = "Defaults logfile=<absolute path>, e.g. /var/log/sudo.log";
    let eff = s
        .global_settings("logfile")
        .filter(|(_, x)| matches!(x.op, SettingOp::Set | SettingOp::Disable))
        .last();
    match eff {
        Some((_, x))
            if x.op == SettingOp::Set && x.value.as_deref().is_some_and(|v| v.starts_with('/')) => {
        }
        Some((e, x)) if x.op == SettingOp::Set => out.push(
            ctx.finding(ID, "sudo's log file is not an absolute path")
                .severity(Severity::Low)
                .at(&e.file, x.line)
                .observed(format!("logfile={}", x.value.as_deref().unwrap_or("")))
                .expected(expected)
                .remediation(remediation)
                .ssg(&[SSG_LOGFILE]),
        ),
        Some((e, x)) => out.push(
            ctx.finding(ID, "sudo does not keep a log file (logfile turned off)")
                .severity(Severity::Low)
                .at(&e.file, x.line)
                .observed("Defaults !logfile (the last global logfile setting)")
                .expected(expected)
                .remediation(remediation)
                .ssg(&[SSG_LOGFILE]),
        ),
        None => out.push(
            ctx.finding(
                ID,
                "sudo does not keep a log file of its own (no Defaults logfile)",
            )
            .severity(Severity::Low)
            .file(main_file(s))
            .observed("no global `Defaults logfile=…` in the sudoers files")
            .expected(expected)
            .remediation(remediation)
            .ssg(&[SSG_LOGFILE]),
        ),
    }
    for (e, scope, x) in scoped_negations(s, "logfile") {
        let b = ctx
            .finding(
                ID,
                format!("sudo's log file is turned off for {}", scope_text(scope)),
            )
            .at(&e.file, x.line)
            .expected("no `!logfile` in any Defaults")
            .remediation(remediation)
            .ssg(&[SSG_LOGFILE]);
        out.push(with_latent(
            b,
            Severity::Low,
            format!("{} !logfile", scope_text(scope)),
            latent(s, e),
        ));
    }
}
