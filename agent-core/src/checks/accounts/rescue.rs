//! ACC-10: root's password, and the systemd rescue and emergency units that
//! must ask for it (sulogin) before giving a root shell on the console.

use super::{PASSWD, na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::parse::accounts::{Accounts, HashKind};
use crate::parse::keyfile::systemd_bool;
use crate::parse::units::{self, Directive, ExecCommand, UnitLookup};

/// The rescue units and the SSG rule each answers.
const RESCUE_UNITS: [(&str, &str, &str); 2] = [
    ("rescue.service", "require_singleuser_auth", "rescue"),
    (
        "emergency.service",
        "require_emergency_target_auth",
        "emergency",
    ),
];

/// Interactive shells: run without `-c`, they give whoever is at the console
/// a root prompt.
const SHELLS: [&str; 8] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"];

/// What a rescue-unit command does about authentication.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum RescueCommand {
    /// Runs sulogin (directly, through systemd-sulogin-shell, or as the first
    /// command of `sh -c`); `forced` when it passes `-e`/`--force`.
    Sulogin { forced: bool },
    /// Runs something else.
    Other,
}

/// sulogin(8) `-e`/`--force`: with a locked root, start a shell without asking.
pub(super) fn sulogin_forced<'a>(args: impl IntoIterator<Item = &'a str>) -> bool {
    for a in args {
        if a == "--" {
            break;
        }
        if a == "--force" {
            return true;
        }
        if let Some(short) = a.strip_prefix('-').filter(|s| !s.starts_with('-')) {
            // `-t` takes the rest of the word as its value.
            for c in short.chars() {
                match c {
                    'e' => return true,
                    't' => break,
                    _ => {}
                }
            }
        }
    }
    false
}

pub(super) fn classify_rescue(cmd: &ExecCommand) -> RescueCommand {
    match cmd.program_name() {
        "systemd-sulogin-shell" => RescueCommand::Sulogin { forced: false },
        "sulogin" => RescueCommand::Sulogin {
            forced: sulogin_forced(cmd.args.iter().map(String::as_str)),
        },
        // systemd < 240 and RHEL 7: ExecStart=-/bin/sh -c "/sbin/sulogin; …".
        name if SHELLS.contains(&name) => {
            let script = cmd
                .args
                .iter()
                .position(|a| a == "-c")
                .and_then(|i| cmd.args.get(i.saturating_add(1)));
            let Some(script) = script else {
                return RescueCommand::Other;
            };
            let first = script.split([';', '&', '|', '\n']).next().unwrap_or("");
            let words = units::split_words(first);
            let mut it = words.iter().map(String::as_str);
            match it.next() {
                Some(p) if p.rsplit('/').next() == Some("sulogin") => RescueCommand::Sulogin {
                    forced: sulogin_forced(it),
                },
                _ => RescueCommand::Other,
            }
        }
        _ => RescueCommand::Other,
    }
}

/// ACC-10 (Lynis AUTH-9308, BOOT-5260; SSG ensure_root_password_configured,
/// require_singleuser_auth, require_emergency_target_auth): root has a
/// password or is locked deliberately, and the rescue and emergency units ask
/// for it before giving a root shell on the console.
pub fn acc10_root_password(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(shadow) = acc.shadow.path.as_deref() else {
        return na("/etc/shadow is absent: root's password cannot be assessed");
    };
    let mut out = Vec::new();
    let root_locked = root_password(ctx, &acc, shadow, &mut out);
    for (unit, ssg, target) in RESCUE_UNITS {
        // Units absent (a system without systemd, or a minimal image): only
        // the root password part applies.
        if let UnitLookup::Found(u) = units::load_system_unit(ctx, unit) {
            rescue_unit(ctx, &u, ssg, target, root_locked, &mut out);
        }
    }
    CheckOutcome::Ran(out)
}

/// Judges root's effective password; returns true when it is locked.
fn root_password(
    ctx: &AuditContext<'_>,
    acc: &Accounts,
    shadow: &str,
    out: &mut Vec<Finding>,
) -> bool {
    let passwd = acc.passwd.path_or(PASSWD);
    let root = acc.user("root");
    // The field that sulogin and pam_unix use: passwd's unless it is `x`.
    let (kind, file, line) = match root {
        Some(r) if r.password != "x" => (Some(HashKind::of(&r.password)), passwd, Some(r.line)),
        _ => match acc.shadow_of("root") {
            Some(s) => (Some(s.hash_kind()), shadow, Some(s.line)),
            None => (None, shadow, None),
        },
    };
    let expected = "root with a strong password, or locked deliberately (! or *)";
    let (title, sev, observed, remediation, locked) = match kind {
        Some(HashKind::Empty) => (
            // sulogin(8) starts a root shell at once for an empty password,
            // and so does pam_unix with nullok.
            "root has an empty password: a root shell for anyone at the console",
            Severity::Critical,
            "root: empty password field",
            "Set a root password (passwd root) or lock root (passwd -l \
                root) and give rescue access another way.",
            false,
        ),
        // Locking root is a legitimate choice (sudo-only devices); it is
        // reported as evidence so that the decision is visible in the MDS2 file.
        Some(HashKind::Locked) => (
            "root is locked: rescue and emergency mode refuse console access",
            Severity::Info,
            "root: password locked",
            "Nothing, if locking root is deliberate and another \
                recovery path is documented; SYSTEMD_SULOGIN_FORCE must \
                then stay unset, or the lock gives a passwordless shell.",
            true,
        ),
        // glibc returns "x" to sulogin, which then never matches any input.
        None => (
            "root has no shadow entry: no root password can be verified",
            Severity::Medium,
            "no root entry in /etc/shadow",
            "Add the entry (pwconv) and set a root password (passwd \
                root) or lock it (passwd -l root).",
            false,
        ),
        Some(_) => return false,
    };
    let f = ctx.finding("ACC-10", title);
    let f = match line {
        Some(l) => f.at(file, l),
        None => f.file(file),
    };
    out.push(
        f.severity(sev)
            .observed(observed)
            .expected(expected)
            .remediation(remediation)
            .ssg(&["ensure_root_password_configured"])
            .build(),
    );
    locked
}

fn excerpt(d: &Directive) -> String {
    let mut s = format!("{}={}", d.key, d.value);
    if s.chars().count() > 200 {
        s = s.chars().take(200).collect::<String>() + "…";
    }
    s
}

/// Judges one rescue unit's commands and environment.
fn rescue_unit(
    ctx: &AuditContext<'_>,
    u: &units::Unit,
    ssg: &str,
    target: &str,
    root_locked: bool,
    out: &mut Vec<Finding>,
) {
    let expected = format!("ExecStart=-/usr/lib/systemd/systemd-sulogin-shell {target}");
    let forced = |d: &Directive, how: String| {
        // sulogin --force with root locked starts a shell without asking.
        let sev = if root_locked {
            Severity::Critical
        } else {
            Severity::Medium
        };
        ctx.finding(
            "ACC-10",
            format!(
                "{} forces sulogin: a locked root gives a shell without \
            password",
                u.name
            ),
        )
        .severity(sev)
        .at(&d.file, d.line)
        .observed(how)
        .expected(format!(
            "{expected}, without SYSTEMD_SULOGIN_FORCE or --force"
        ))
        .remediation(
            "Remove the setting: with root locked, rescue mode must \
                refuse the console rather than open it.",
        )
        .ssg(&[ssg])
        .build()
    };
    for d in u.list("Service", "ExecStart") {
        let Some(cmd) = units::parse_exec(&d.value) else {
            continue;
        };
        match classify_rescue(&cmd) {
            RescueCommand::Sulogin { forced: false } => {}
            RescueCommand::Sulogin { forced: true } => out.push(forced(d, excerpt(d))),
            RescueCommand::Other => out.push(
                ctx.finding(
                    "ACC-10",
                    format!(
                        "{} starts {} instead of sulogin: a root shell without password",
                        u.name,
                        q(cmd.program_name())
                    ),
                )
                .at(&d.file, d.line)
                .observed(excerpt(d))
                .expected(expected.clone())
                .remediation(format!(
                    "Remove the override so that {} runs systemd-sulogin-shell \
                        (systemctl revert {}).",
                    u.name, u.name
                ))
                .ssg(&[ssg])
                .build(),
            ),
        }
    }
    // An interactive shell before or after sulogin is just as open.
    for key in ["ExecStartPre", "ExecStartPost"] {
        for d in u.list("Service", key) {
            let Some(cmd) = units::parse_exec(&d.value) else {
                continue;
            };
            if SHELLS.contains(&cmd.program_name()) && !cmd.args.iter().any(|a| a == "-c") {
                out.push(
                    ctx.finding(
                        "ACC-10",
                        format!("{} runs an interactive shell in {key}=", u.name),
                    )
                    .at(&d.file, d.line)
                    .observed(excerpt(d))
                    .expected(format!("no interactive shell outside sulogin ({expected})"))
                    .remediation(format!("Remove the {key}= line."))
                    .ssg(&[ssg])
                    .build(),
                );
            }
        }
    }
    // systemd-sulogin-shell passes --force to sulogin when this is true.
    if let Some(v) = u.environment(ctx).get("SYSTEMD_SULOGIN_FORCE") {
        if systemd_bool(&v.value) == Some(true) {
            let d = Directive {
                section: "Service".to_owned(),
                key: "Environment".to_owned(),
                value: format!("SYSTEMD_SULOGIN_FORCE={}", v.value),
                file: v.file.clone(),
                line: v.line,
            };
            out.push(forced(
                &d,
                format!("SYSTEMD_SULOGIN_FORCE={} for {}", v.value, u.name),
            ));
        }
    }
}
