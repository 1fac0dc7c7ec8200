//! ACC-11: privilege escalation through sudo and su.
//!
//! - no sudo rule grants commands without a password (`NOPASSWD`,
//!   SSG `sudo_remove_nopasswd`) and no `Defaults` turns authentication off
//!   (`!authenticate`, SSG `sudo_remove_no_authenticate`);
//! - commands run in a pseudo-terminal (`Defaults use_pty`, SSG
//!   `sudo_add_use_pty`), so that a command left in the background cannot
//!   push keystrokes into the administrator's terminal (TIOCSTI);
//! - sudo keeps its own log file (`Defaults logfile=…`, SSG
//!   `sudo_custom_logfile`);
//! - every sudoers file is owned by root:root with mode 0440 or stricter, and
//!   every `@includedir` directory is owned by root and not writable by others;
//! - `su` is limited to one group by pam_wheel (SSG `use_pam_wheel_group_for_su`);
//! - the `shadow` group, which can read every password hash, has no members
//!   (SSG `ensure_shadow_group_empty`).
//!
//! Lynis AUTH-9250 / AUTH-9252; IEC 62443-4-2 CR 2.1 RE2 (supervisor
//! override, least privilege); MDS2 AUTH.

use crate::audit::{AuditContext, CheckOutcome, FindingBuilder};
use crate::finding::{Finding, Severity};
use crate::parse::accounts::Accounts;
use crate::parse::pam::{PamControl, PamRule, PamStacks, PamType};
use crate::parse::sudoers::{
    Cmnd, CmndSpec, Command, Entry, SUDOERS_PATH, Scope, Setting, SettingOp, Sudoers, join_list,
};
use crate::root::FileMeta;
use std::collections::{BTreeMap, HashSet};

const ID: &str = "ACC-11";
const SSG_NOPASSWD: &str = "sudo_remove_nopasswd";
const SSG_NO_AUTHENTICATE: &str = "sudo_remove_no_authenticate";
const SSG_USE_PTY: &str = "sudo_add_use_pty";
const SSG_LOGFILE: &str = "sudo_custom_logfile";
const SSG_WHEEL: &str = "use_pam_wheel_group_for_su";
const SSG_SHADOW: &str = "ensure_shadow_group_empty";

/// Longest `observed` text; a rule listing hundreds of commands is cut.
const MAX_OBSERVED: usize = 400;

/// ACC-11: sudo rules and settings, sudoers file ownership, su limited to a
/// group, and an empty `shadow` group.
pub fn acc11_sudo_su(ctx: &AuditContext<'_>) -> CheckOutcome {
    let has_sudoers = ctx.root.exists(SUDOERS_PATH);
    let pam = ctx.get::<PamStacks>();
    let su = pam.service("su");
    if !has_sudoers && su.is_none() {
        return CheckOutcome::NotApplicable(format!(
            "neither {SUDOERS_PATH} nor a PAM configuration for su (/etc/pam.d/su) exists: the image has no sudo policy and no su service to audit"
        ));
    }
    let mut out = Findings::default();
    if has_sudoers {
        let sudoers = ctx.get::<Sudoers>();
        if sudoers.present() {
            nopasswd(ctx, &sudoers, &mut out);
            no_authenticate(ctx, &sudoers, &mut out);
            use_pty(ctx, &sudoers, &mut out);
            logfile(ctx, &sudoers, &mut out);
        }
        file_modes(ctx, &sudoers, &mut out);
    }
    if let Some(stack) = su {
        su_wheel(ctx, stack, &pam.service_path("su"), &mut out);
    }
    shadow_group(ctx, &mut out);
    CheckOutcome::Ran(out.finish(ctx))
}

/// Most findings listed one by one; a hostile image with a million NOPASSWD
/// lines gets this many and one summary, not a report of gigabytes.
const MAX_FINDINGS: usize = 500;

/// Findings without duplicates: a file included twice is read twice (as
/// sudo does), but each weakness is reported once. Beyond [`MAX_FINDINGS`]
/// they are counted, with the worst severity among them.
#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
    seen: HashSet<(String, String)>,
    dropped: usize,
    dropped_worst: Option<Severity>,
}

impl Findings {
    fn push(&mut self, b: FindingBuilder) {
        let f = b.build();
        if !self.seen.insert((f.title.clone(), f.location())) {
            return;
        }
        if self.list.len() >= MAX_FINDINGS {
            // Only the key is kept, to stay deduplicated at a bounded cost.
            self.dropped = self.dropped.saturating_add(1);
            self.dropped_worst = self.dropped_worst.max(Some(f.severity));
            return;
        }
        self.list.push(f);
    }

    fn finish(mut self, ctx: &AuditContext<'_>) -> Vec<Finding> {
        if let Some(sev) = self.dropped_worst {
            self.list.push(
                ctx.finding(
                    ID,
                    format!(
                        "{} more sudo/su weaknesses are not listed (first {MAX_FINDINGS} shown)",
                        self.dropped
                    ),
                )
                .severity(sev)
                .file(SUDOERS_PATH)
                .observed(format!("{} further findings of ACC-11", self.dropped))
                .expected("no findings")
                .remediation("Fix the findings listed, then audit again to see the rest.")
                .build(),
            );
        }
        self.list
    }
}

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
fn nopasswd(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
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
fn no_authenticate(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
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
fn use_pty(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
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
fn logfile(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
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

/// How much an owner or mode matters: writable by anyone but root lets that
/// account rewrite the policy (sudo refuses such a file, which also breaks
/// the rules in it); readable by others discloses who may do what.
fn mode_severity(m: &FileMeta) -> Severity {
    if m.uid != 0 || m.mode & 0o002 != 0 || (m.mode & 0o020 != 0 && m.gid != 0) {
        Severity::High
    } else if m.mode & 0o020 != 0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Every sudoers file owned by root:root with mode 0440 or stricter (sudo's
/// built-in SUDOERS_MODE, SUDOERS_UID and SUDOERS_GID, which visudo restores),
/// and every included directory owned by root and not writable by group or
/// others. No SSG rule of the catalogue covers this, so none is cited.
fn file_modes(ctx: &AuditContext<'_>, s: &Sudoers, out: &mut Findings) {
    for src in &s.sources {
        let Some(m) = src.meta else {
            continue;
        };
        if m.uid == 0 && m.gid == 0 && m.mode & !0o440 == 0 {
            continue;
        }
        let mut observed = format!("mode {:04o}, owner {}:{}", m.mode, m.uid, m.gid);
        if let Some(why) = &src.refused {
            observed.push_str(&format!("; sudo refuses to read it ({why})"));
        }
        out.push(
            ctx.finding(
                ID,
                "a sudoers file is not owned by root:root with mode 0440",
            )
            .severity(mode_severity(&m))
            .file(&src.path)
            .observed(observed)
            .expected("mode 0440 or stricter, owner root:root (0:0)")
            .remediation(format!("chown root:root {0} && chmod 0440 {0}", src.path))
            .ssg(&[]),
        );
    }
    for d in &s.include_dirs {
        let m = d.meta;
        if m.uid == 0 && m.mode & 0o022 == 0 {
            continue;
        }
        let mut observed = format!("mode {:04o}, owner {}:{}", m.mode, m.uid, m.gid);
        if let Some(why) = &d.refused {
            observed.push_str(&format!(
                "; sudo skips the whole directory because it is {why}"
            ));
        }
        out.push(
            ctx.finding(
                ID,
                "a directory of sudoers files can be changed by others than root",
            )
            .severity(mode_severity(&m))
            .file(&d.path)
            .observed(observed)
            .expected("owned by root, not writable by group or others (0755 or 0750)")
            .remediation(format!("chown root:root {0} && chmod 0750 {0}", d.path))
            .ssg(&[]),
        );
    }
}

/// True when success of this rule may end the auth stack at once (a
/// `sufficient` rule, or an action `done`): later rules do not run.
fn success_ends_stack(c: &PamControl) -> bool {
    match c {
        PamControl::Sufficient => true,
        PamControl::Complex(_) => c.action("success") == Some("done"),
        _ => false,
    }
}

/// True when a failure of this rule fails the stack: pam_wheel returns
/// PAM_PERM_DENIED for a caller outside the group (pam_wheel(8)).
fn failure_fails_stack(c: &PamControl) -> bool {
    match c {
        PamControl::Required | PamControl::Requisite => true,
        PamControl::Complex(_) => matches!(c.action("perm_denied"), Some("bad" | "die")),
        _ => false,
    }
}

/// True when a numeric jump of a complex control at index `from` (e.g.
/// `[success=2 default=ignore]`) skips the rule at index `target`.
fn jumps_over(c: &PamControl, from: usize, target: usize) -> bool {
    let PamControl::Complex(pairs) = c else {
        return false;
    };
    pairs.iter().any(|(_, a)| {
        a.parse::<usize>()
            .ok()
            .and_then(|n| from.checked_add(n))
            .is_some_and(|end| from < target && target <= end)
    })
}

/// su limited to one group: `auth required pam_wheel.so use_uid [group=…]`
/// in the su stack (pam_wheel(8): "use_uid: The check for wheel membership
/// will be done against the current uid instead of the original one"; the
/// group defaults to `wheel`). It must not be bypassed by an earlier auth
/// rule whose success ends the stack (except pam_rootok, which only lets root
/// through) or jumps over it, and `trust` must not let members in without a
/// password.
fn su_wheel(ctx: &AuditContext<'_>, stack: &[PamRule], service_file: &str, out: &mut Findings) {
    let want = ctx.config.accounts.su_group.trim();
    let expected = if want.is_empty() {
        "auth required pam_wheel.so use_uid [group=<admin group>], before any rule that can end the auth stack".to_owned()
    } else {
        format!(
            "auth required pam_wheel.so use_uid group={want}, before any rule that can end the auth stack"
        )
    };
    let remediation = format!(
        "Add `auth required pam_wheel.so use_uid group={}` near the top of {service_file} (after pam_rootok), and keep that group limited to the administrators who need su.",
        if want.is_empty() {
            "<admin group>"
        } else {
            want
        }
    );
    let auth: Vec<&PamRule> = stack.iter().filter(|r| r.kind == PamType::Auth).collect();
    let mut limited = false;
    let mut reported = false;
    for (i, r) in auth.iter().enumerate() {
        if r.module_name() != "pam_wheel" {
            continue;
        }
        let group = r.arg("group").filter(|g| !g.is_empty()).unwrap_or("wheel");
        let deny = r.has_arg("deny");
        if r.has_arg("trust") && !deny && success_ends_stack(&r.control) {
            out.push(
                ctx.finding(
                    ID,
                    format!(
                        "members of group {group} may su without any password (pam_wheel trust)"
                    ),
                )
                .severity(Severity::High)
                .at(&r.file, r.line)
                .observed(format!(
                    "auth {} pam_wheel.so {}",
                    r.control,
                    r.args.join(" ")
                ))
                .expected(expected.clone())
                .remediation(remediation.clone())
                .ssg(&[SSG_WHEEL]),
            );
            reported = true;
            continue;
        }
        // `deny` reverses the test (members are refused), and a control that
        // ignores the failure does not limit anything.
        if deny || !failure_fails_stack(&r.control) {
            continue;
        }
        let problem = if !r.has_arg("use_uid") {
            Some("without use_uid it checks the name the user logged in with, not the account running su".to_owned())
        } else if !want.is_empty() && group != want {
            Some(format!(
                "it allows group {group}, but the policy (accounts.su_group) asks for {want}"
            ))
        } else {
            auth.get(..i)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .find(|(j, b)| {
                    (b.module_name() != "pam_rootok" && success_ends_stack(&b.control))
                        || jumps_over(&b.control, *j, i)
                })
                .map(|(_, b)| {
                    format!(
                        "{} at {} can end or skip the stack before it runs",
                        b.module_name(),
                        b.location()
                    )
                })
        };
        match problem {
            None => limited = true,
            Some(p) => {
                out.push(
                    ctx.finding(ID, "su is not effectively limited to a group")
                        .severity(Severity::Medium)
                        .at(&r.file, r.line)
                        .observed(format!(
                            "auth {} pam_wheel.so {}: {p}",
                            r.control,
                            r.args.join(" ")
                        ))
                        .expected(expected.clone())
                        .remediation(remediation.clone())
                        .ssg(&[SSG_WHEEL]),
                );
                reported = true;
            }
        }
    }
    if !limited && !reported {
        out.push(
            ctx.finding(
                ID,
                "any user who knows root's password can su to root (su not limited to a group)",
            )
            .severity(Severity::Medium)
            .file(service_file)
            .observed("no enforcing pam_wheel rule in the su auth stack")
            .expected(expected)
            .remediation(remediation)
            .ssg(&[SSG_WHEEL]),
        );
    }
}

/// The `shadow` group reads /etc/shadow (Debian: `-rw-r----- root shadow`), so
/// every member, primary or secondary, can take every password hash offline.
fn shadow_group(ctx: &AuditContext<'_>, out: &mut Findings) {
    let acc = ctx.get::<Accounts>();
    let Some(g) = acc.group_named("shadow") else {
        return;
    };
    let remediation = "Remove every user from the shadow group (gpasswd -d USER shadow); only root and set-gid helpers such as unix_chkpwd need it.";
    if !g.members.is_empty() {
        out.push(
            ctx.finding(
                ID,
                "the shadow group has members, who can read every password hash",
            )
            .at(acc.group.path_or("/etc/group"), g.line)
            .observed(format!("members: {}", g.members.join(", ")))
            .expected("shadow:x:GID: with no members")
            .remediation(remediation)
            .ssg(&[SSG_SHADOW]),
        );
    }
    if let Some(gs) = acc.gshadow.entries.iter().find(|x| x.name == "shadow") {
        if !gs.members.is_empty() || !gs.admins.is_empty() {
            out.push(
                ctx.finding(
                    ID,
                    "the shadow group has members or administrators in /etc/gshadow",
                )
                .at(acc.gshadow.path_or("/etc/gshadow"), gs.line)
                .observed(format!(
                    "administrators: {}; members: {}",
                    or_none(&gs.admins),
                    or_none(&gs.members)
                ))
                .expected("shadow:!:: with no administrators and no members")
                .remediation(remediation)
                .ssg(&[SSG_SHADOW]),
            );
        }
    }
    for u in acc.passwd.entries.iter().filter(|u| u.gid == g.gid) {
        out.push(
            ctx.finding(
                ID,
                format!("{} has the shadow group as primary group", u.name),
            )
            .at(acc.passwd.path_or("/etc/passwd"), u.line)
            .observed(format!("{}: primary GID {} (shadow)", u.name, u.gid))
            .expected("no account with the shadow group as primary group")
            .remediation(format!(
                "Give {} its own primary group (usermod -g GROUP {}).",
                u.name, u.name
            ))
            .ssg(&[SSG_SHADOW]),
        );
    }
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::config::Config;
    use crate::report::{CheckStatus, Report};
    use crate::root::Root;
    use std::os::unix::fs::PermissionsExt;

    /// A root holding `files` (device path, content, mode), audited with ACC-11.
    fn audit_with(files: &[(&str, &str, u32)], cfg: &Config) -> Report {
        let d = tempfile::tempdir().unwrap();
        for (p, s, mode) in files {
            let path = d.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, s).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        let root = Root::open(d.path()).unwrap();
        let clock = FixedClock::from_unix_secs(1_795_910_400);
        crate::Auditor::new(cfg, &clock).run_checks(&root, &[(ID, acc11_sudo_su)])
    }

    fn audit(files: &[(&str, &str, u32)]) -> Report {
        audit_with(files, &Config::default())
    }

    fn places(r: &Report) -> Vec<String> {
        r.findings.iter().map(Finding::location).collect()
    }

    const GOOD_SUDOERS: &str = "Defaults use_pty\nDefaults logfile=/var/log/sudo.log\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n";
    const GOOD_SU: &str = "auth sufficient pam_rootok.so\nauth required pam_wheel.so use_uid group=sudo\nauth required pam_unix.so\n";
    const GROUP: &str = "root:x:0:\nshadow:x:42:\nsudo:x:27:tech\n";

    fn good(extra: &[(&'static str, &'static str, u32)]) -> Vec<(&'static str, &'static str, u32)> {
        let mut v = vec![
            ("/etc/sudoers", GOOD_SUDOERS, 0o440),
            (
                "/etc/sudoers.d/10-tech",
                "tech ALL = (root) /usr/bin/systemctl status scanner\n",
                0o440,
            ),
            ("/etc/pam.d/su", GOOD_SU, 0o644),
            ("/etc/group", GROUP, 0o644),
        ];
        for e in extra {
            v.retain(|x| x.0 != e.0);
            v.push(*e);
        }
        v
    }

    #[test]
    fn not_applicable_without_sudo_or_su() {
        let r = audit(&[("/etc/group", GROUP, 0o644)]);
        assert_eq!(r.checks[0].status, CheckStatus::NotApplicable);
        assert!(
            r.checks[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("/etc/sudoers")
        );
    }

    #[test]
    fn hardened_policy_passes() {
        let r = audit(&good(&[]));
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
        assert_eq!(r.checks[0].status, CheckStatus::Pass);
    }

    #[test]
    fn nopasswd_one_finding_per_tag_with_severity() {
        let r = audit(&good(&[(
            "/etc/sudoers.d/10-tech",
            "Cmnd_AlS = x\n\
             Cmnd_Alias EVERYTHING = ALL\n\
             tech ALL = NOPASSWD: /bin/a, /bin/b, PASSWD: /bin/c\n\
             op ALL = NOPASSWD: !/bin/sh\n\
             vendor ALL = (root) NOPASSWD: EVERYTHING\n\
             audit ALL = NOPASSWD: list\n",
            0o440,
        )]));
        let nopw: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.references.ssg == [SSG_NOPASSWD])
            .map(|f| (f.location(), f.severity))
            .collect();
        assert_eq!(
            nopw,
            [
                ("/etc/sudoers.d/10-tech:3".to_owned(), Severity::High),
                ("/etc/sudoers.d/10-tech:5".to_owned(), Severity::Critical),
                ("/etc/sudoers.d/10-tech:6".to_owned(), Severity::Low),
            ]
        );
        // The bad first line is a warning, and the tag's commands are named.
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap()
                .ends_with("NOPASSWD: /bin/a, /bin/b")
        );
    }

    #[test]
    fn authenticate_turned_off_anywhere() {
        let r = audit(&good(&[(
            "/etc/sudoers.d/10-tech",
            "Defaults:tech !authenticate\nDefaults !authenticate\nDefaults authenticate\n",
            0o440,
        )]));
        let f: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.location(), f.severity, f.references.ssg.clone()))
            .collect();
        assert_eq!(
            f,
            [
                (
                    "/etc/sudoers.d/10-tech:1".to_owned(),
                    Severity::High,
                    vec![SSG_NO_AUTHENTICATE.to_owned()]
                ),
                (
                    "/etc/sudoers.d/10-tech:2".to_owned(),
                    Severity::Critical,
                    vec![SSG_NO_AUTHENTICATE.to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn use_pty_takes_the_last_global_value() {
        // Re-enabled later: fine.
        let r = audit(&good(&[(
            "/etc/sudoers",
            "Defaults !use_pty\nDefaults use_pty, logfile=/var/log/sudo.log\n",
            0o440,
        )]));
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        // Turned off by an included file after the main file turned it on.
        let r = audit(&good(&[(
            "/etc/sudoers.d/10-tech",
            "Defaults !use_pty\n",
            0o440,
        )]));
        assert_eq!(places(&r), ["/etc/sudoers.d/10-tech:1"]);
        // Missing altogether: the finding points at /etc/sudoers.
        let r = audit(&good(&[(
            "/etc/sudoers",
            "Defaults logfile=/var/log/sudo.log\nDefaults:alice use_pty\n",
            0o440,
        )]));
        assert_eq!(places(&r), ["/etc/sudoers"]);
        assert!(r.findings[0].title.contains("use_pty"));
        // Set only in a file sudo refuses (world-writable): not in force.
        let r = audit(&good(&[
            (
                "/etc/sudoers",
                "Defaults logfile=/var/log/sudo.log\n@include pty\n",
                0o440,
            ),
            ("/etc/pty", "Defaults use_pty\n", 0o666),
        ]));
        assert_eq!(places(&r), ["/etc/sudoers", "/etc/pty"]);
        // Set on a line sudo skips for a syntax error: not in force either.
        let r = audit(&good(&[(
            "/etc/sudoers",
            "Defaults use_pty logfile=/var/log/sudo.log\n",
            0o440,
        )]));
        assert_eq!(places(&r), ["/etc/sudoers", "/etc/sudoers"]);
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn logfile_must_be_an_absolute_path_and_not_turned_off() {
        let r = audit(&good(&[(
            "/etc/sudoers",
            "Defaults use_pty\nDefaults logfile=sudo.log\n",
            0o440,
        )]));
        assert_eq!(places(&r), ["/etc/sudoers:2"]);
        let r = audit(&good(&[(
            "/etc/sudoers",
            "Defaults use_pty, logfile=\"/var/log/sudo.log\"\nDefaults>backup !logfile\nDefaults !logfile\n",
            0o440,
        )]));
        assert_eq!(places(&r), ["/etc/sudoers:3", "/etc/sudoers:2"]);
        assert!(r.findings.iter().all(|f| f.references.ssg == [SSG_LOGFILE]));
    }

    #[test]
    fn sudoers_files_and_dirs_owned_by_root_mode_0440() {
        let r = audit(&good(&[
            ("/etc/sudoers.d/10-tech", "# nothing\n", 0o640),
            ("/etc/sudoers.d/20-ok", "# nothing\n", 0o400),
            ("/etc/sudoers.d/30-bad", "# nothing\n", 0o664),
        ]));
        let f: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.location(), f.severity))
            .collect();
        assert_eq!(
            f,
            [
                ("/etc/sudoers.d/10-tech".to_owned(), Severity::Low),
                ("/etc/sudoers.d/30-bad".to_owned(), Severity::Medium),
            ]
        );
        assert_eq!(
            r.findings[0].evidence.observed.as_deref(),
            Some("mode 0640, owner 0:0")
        );
    }

    #[test]
    fn world_writable_include_dir_is_reported_and_its_rules_are_latent() {
        let mut files = good(&[(
            "/etc/sudoers.d/10-tech",
            "bob ALL = NOPASSWD: /bin/ls\n",
            0o440,
        )]);
        files.push(("/etc/sudoers.d/.keep", "", 0o644));
        let d = tempfile::tempdir().unwrap();
        for (p, s, mode) in &files {
            let path = d.path().join(p.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, s).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        std::fs::set_permissions(
            d.path().join("etc/sudoers.d"),
            std::fs::Permissions::from_mode(0o1777),
        )
        .unwrap();
        let root = Root::open(d.path()).unwrap();
        let clock = FixedClock::from_unix_secs(1_795_910_400);
        let r = crate::Auditor::new(&Config::default(), &clock)
            .run_checks(&root, &[(ID, acc11_sudo_su)]);
        let f: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.location(), f.severity))
            .collect();
        assert_eq!(
            f,
            [
                ("/etc/sudoers.d/10-tech:1".to_owned(), Severity::Medium),
                ("/etc/sudoers.d".to_owned(), Severity::High),
            ]
        );
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap()
                .contains("world-writable")
        );
    }

    #[test]
    fn su_needs_an_enforcing_pam_wheel_first() {
        let su = |text: &'static str| audit(&good(&[("/etc/pam.d/su", text, 0o644)]));
        let titles = |r: &Report| -> Vec<(String, String)> {
            r.findings
                .iter()
                .map(|f| (f.location(), f.title.clone()))
                .collect()
        };
        // Absent (Debian's default: the line is commented out).
        let r = su(
            "auth sufficient pam_rootok.so\n# auth required pam_wheel.so\n@include common-auth\n",
        );
        assert_eq!(places(&r), ["/etc/pam.d/su"]);
        assert_eq!(r.findings[0].references.ssg, [SSG_WHEEL]);
        // Without use_uid, or turned into a deny list, or optional.
        assert_eq!(
            places(&su("auth required pam_wheel.so\n")),
            ["/etc/pam.d/su:1"]
        );
        assert_eq!(
            places(&su("auth required pam_wheel.so use_uid deny group=x\n")),
            ["/etc/pam.d/su"]
        );
        assert_eq!(
            places(&su("auth optional pam_wheel.so use_uid\n")),
            ["/etc/pam.d/su"]
        );
        // Bypassed by an earlier sufficient rule, or jumped over.
        let r = su("auth sufficient pam_unix.so\nauth required pam_wheel.so use_uid\n");
        assert_eq!(places(&r), ["/etc/pam.d/su:2"]);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap()
                .contains("pam_unix at /etc/pam.d/su:1")
        );
        let r = su(
            "auth [success=2 default=ignore] pam_unix.so\nauth requisite pam_deny.so\nauth required pam_wheel.so use_uid\n",
        );
        assert_eq!(places(&r), ["/etc/pam.d/su:3"]);
        // `trust` with sufficient: no password at all for members.
        let r = su("auth sufficient pam_wheel.so trust use_uid\n");
        assert_eq!(titles(&r)[0].0, "/etc/pam.d/su:1");
        assert_eq!(r.findings[0].severity, Severity::High);
        // Enforcing forms pass, after pam_rootok and with an included stack after it.
        assert!(su("auth sufficient pam_rootok.so\nauth [default=die success=ignore] pam_wheel.so use_uid\n").findings.is_empty());
        assert!(su("auth sufficient pam_rootok.so\nauth requisite pam_wheel.so use_uid\nauth sufficient pam_unix.so\n").findings.is_empty());
    }

    #[test]
    fn su_group_must_match_the_policy() {
        let mut cfg = Config::default();
        cfg.accounts.su_group = "sudo".to_owned();
        let r = audit_with(&good(&[]), &cfg);
        assert!(r.findings.is_empty(), "{:#?}", r.findings);
        let r = audit_with(
            &good(&[(
                "/etc/pam.d/su",
                "auth required pam_wheel.so use_uid\n",
                0o644,
            )]),
            &cfg,
        );
        assert_eq!(places(&r), ["/etc/pam.d/su:1"]);
        assert!(
            r.findings[0]
                .evidence
                .observed
                .as_deref()
                .unwrap()
                .contains("group wheel")
        );
    }

    #[test]
    fn su_alone_is_audited_without_sudoers() {
        let r = audit(&[("/etc/pam.d/su", "auth sufficient pam_rootok.so\n", 0o644)]);
        assert_eq!(r.checks[0].status, CheckStatus::Fail);
        assert_eq!(places(&r), ["/etc/pam.d/su"]);
    }

    #[test]
    fn shadow_group_members_primary_and_gshadow() {
        let r = audit(&good(&[
            (
                "/etc/group",
                "root:x:0:\nshadow:x:42:tech,op\nsudo:x:27:tech\n",
                0o644,
            ),
            ("/etc/gshadow", "root:*::\nshadow:!::op\n", 0o640),
            (
                "/etc/passwd",
                "root:x:0:0::/root:/bin/bash\nbackup:x:34:42::/var/backups:/usr/sbin/nologin\n",
                0o644,
            ),
        ]));
        assert_eq!(
            places(&r),
            ["/etc/group:2", "/etc/gshadow:2", "/etc/passwd:2"]
        );
        assert!(r.findings.iter().all(|f| f.references.ssg == [SSG_SHADOW]));
        assert_eq!(
            r.findings[0].evidence.observed.as_deref(),
            Some("members: tech, op")
        );
    }
}
