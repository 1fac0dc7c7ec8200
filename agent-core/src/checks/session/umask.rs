//! ACC-12: the default umask of sessions (login.defs, shell start-up
//! files, pam_umask).

use super::{na, q, warn_at};
use crate::audit::{AuditContext, CheckOutcome};
use crate::config::parse_octal_umask;
use crate::finding::Severity;
use crate::parse::logindefs::{LoginDefs, parse_number};
use crate::parse::pam::{PamStacks, PamType};
use crate::parse::shell::{BASHRC, PROFILE, ShellProfiles};

const LOGIN_DEFS: &str = "/etc/login.defs";

/// True when `mask` masks at least the bits `wanted` masks.
fn stricter_or_equal(mask: u32, wanted: u32) -> bool {
    mask & wanted == wanted
}

fn octal(m: u32) -> String {
    format!("{m:03o}")
}

/// A mask that lets "other" write makes every new file world-writable.
fn umask_severity(mask: u32) -> Severity {
    if mask & 0o002 == 0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// ACC-12 (Lynis AUTH-9328, SHLL-6230; SSG accounts_umask_etc_login_defs,
/// accounts_umask_etc_profile, accounts_umask_etc_bashrc): the default umask
/// is `accounts.umask` (027) or stricter wherever a session gets it:
/// login.defs `UMASK` (login(1), useradd, pam_umask's fallback), `umask`
/// commands in the system shell start-up files, and `pam_umask umask=`.
/// "Stricter" means masking at least the bits the policy masks.
pub fn acc12_umask(ctx: &AuditContext<'_>) -> CheckOutcome {
    let wanted = parse_octal_umask(&ctx.config.accounts.umask).unwrap_or(0o027);
    let defs = ctx.get::<LoginDefs>();
    let shells = ctx.get::<ShellProfiles>();
    if !defs.0.present() && !shells.present() {
        return na(
            "none of /etc/login.defs, /etc/profile, /etc/profile.d/*.sh, /etc/bash.bashrc or /etc/bashrc exists: no default umask is configured on this image",
        );
    }
    let mut out = Vec::new();
    let expected = format!("umask {} or stricter", octal(wanted));
    let mut defs_good = false;
    if defs.0.present() {
        match defs.0.get("UMASK") {
            None => out.push(
                ctx.finding(
                    "ACC-12",
                    "UMASK is not set in /etc/login.defs: login and useradd use 022",
                )
                .file(LOGIN_DEFS)
                .observed("UMASK not set (built-in default 022)")
                .expected(format!("UMASK {}", octal(wanted)))
                .remediation(format!("Add `UMASK {}` to /etc/login.defs.", octal(wanted)))
                .ssg(&["accounts_umask_etc_login_defs"])
                .build(),
            ),
            Some(s) => {
                // login(1) and useradd read the value with strtol base 0
                // (leading 0 = octal, else decimal); pam_umask's fallback
                // reads it as octal. Without a leading 0 the two disagree,
                // so both readings must be strict enough.
                let base0 = parse_number(&s.value).and_then(|v| u32::try_from(v).ok());
                let as_octal = u32::from_str_radix(s.value.trim(), 8).ok();
                match (base0, as_octal) {
                    (Some(a), b) if a <= 0o777 => {
                        let readings: Vec<u32> = std::iter::once(a)
                            .chain(b.filter(|b| *b != a && *b <= 0o777))
                            .collect();
                        let loosest = readings
                            .iter()
                            .copied()
                            .find(|m| !stricter_or_equal(*m, wanted));
                        match loosest {
                            None => defs_good = true,
                            Some(m) => {
                                let observed = if readings.len() > 1 {
                                    format!(
                                        "UMASK {} (login reads it as decimal, {}; pam_umask as octal, {})",
                                        q(&s.value),
                                        octal(a),
                                        readings.get(1).map_or_else(String::new, |b| octal(*b))
                                    )
                                } else {
                                    format!("UMASK {}", q(&s.value))
                                };
                                out.push(
                                    ctx.finding(
                                        "ACC-12",
                                        format!(
                                            "login.defs UMASK {} is looser than {}",
                                            octal(m),
                                            octal(wanted)
                                        ),
                                    )
                                    .severity(umask_severity(m))
                                    .at(&s.file, s.line)
                                    .observed(observed)
                                    .expected(format!("UMASK {}", octal(wanted)))
                                    .remediation(format!(
                                        "Set `UMASK {}` (with the leading 0) in /etc/login.defs.",
                                        octal(wanted)
                                    ))
                                    .ssg(&["accounts_umask_etc_login_defs"])
                                    .build(),
                                );
                            }
                        }
                    }
                    _ => warn_at(
                        ctx,
                        &s.file,
                        s.line,
                        "UMASK",
                        format!(
                            "{} is not an octal umask; login uses 022 instead",
                            q(&s.value)
                        ),
                    ),
                }
            }
        }
    }
    let mut sessions_covered = false;
    for u in shells.umasks() {
        if !u.literal {
            warn_at(
                ctx,
                &u.file,
                u.line,
                "umask",
                format!(
                    "argument {} is only known at run time; not evaluated",
                    q(&u.arg)
                ),
            );
            continue;
        }
        // Applied to the wanted mask: a relative mode (`g+w`) loosens it only
        // when it adds a bit the policy masks.
        let mask = match u.apply(wanted) {
            Ok(m) => m,
            Err(e) => {
                warn_at(
                    ctx,
                    &u.file,
                    u.line,
                    "umask",
                    format!("{e}: the shell rejects it and keeps the mask"),
                );
                continue;
            }
        };
        sessions_covered = true;
        if stricter_or_equal(mask, wanted) {
            continue;
        }
        let rule = if BASHRC.contains(&u.file.as_str()) {
            "accounts_umask_etc_bashrc"
        } else {
            "accounts_umask_etc_profile"
        };
        let shown = if u.arg.starts_with(|c: char| c.is_ascii_digit()) {
            format!("umask {}", q(&u.arg))
        } else {
            format!("umask {} (mask {})", q(&u.arg), octal(mask))
        };
        out.push(
            ctx.finding(
                "ACC-12",
                format!("shell start-up file sets umask {} (looser than {})", octal(mask), octal(wanted)),
            )
            .severity(umask_severity(mask))
            .at(&u.file, u.line)
            .observed(shown)
            .expected(expected.clone())
            .remediation(format!(
                "Change the line to `umask {}`; a conditional umask (002 for user-private groups) applies to service accounts too.",
                octal(wanted)
            ))
            .ssg(&[rule])
            .build(),
        );
    }
    let pam = ctx.get::<PamStacks>();
    for file in pam.files() {
        for rule in file
            .rules
            .iter()
            .filter(|r| r.kind == PamType::Session && r.module_name() == "pam_umask")
        {
            // pam_umask(8): without umask= it uses login.defs UMASK, which is
            // checked above; either way the PAM session gets a mask.
            sessions_covered = true;
            let Some(v) = rule.arg("umask") else {
                continue;
            };
            // pam_umask parses the value with strtoul base 8.
            let Some(mask) = u32::from_str_radix(v, 8).ok().filter(|m| *m <= 0o777) else {
                warn_at(
                    ctx,
                    &rule.file,
                    rule.line,
                    "umask",
                    format!("{} is not an octal umask; pam_umask ignores it", q(v)),
                );
                continue;
            };
            if !stricter_or_equal(mask, wanted) {
                out.push(
                    ctx.finding(
                        "ACC-12",
                        format!("pam_umask sets umask {} (looser than {})", octal(mask), octal(wanted)),
                    )
                    .severity(umask_severity(mask))
                    .at(&rule.file, rule.line)
                    .observed(format!("pam_umask umask={}", q(v)))
                    .expected(format!("umask={} or stricter", octal(wanted)))
                    .remediation(format!("Set `umask={}` on the pam_umask line, or remove the argument so that login.defs UMASK applies.", octal(wanted)))
                    .ssg(&["accounts_umask_etc_login_defs"])
                    .build(),
                );
            }
        }
    }
    // login.defs is read by login(1) only: an SSH or graphical session gets
    // the daemon's umask (022 under systemd) unless pam_umask or a shell
    // start-up file sets one.
    if defs_good && !sessions_covered {
        out.push(
            ctx.finding(
                "ACC-12",
                "no umask for SSH and graphical sessions: only login(1) reads login.defs UMASK",
            )
            .file(PROFILE)
            .observed("no umask command in /etc/profile, /etc/profile.d/*.sh or the bashrc, no pam_umask in a session stack")
            .expected(format!("umask {} in /etc/profile, or pam_umask in the session stack", octal(wanted)))
            .remediation(format!(
                "Add `umask {}` to /etc/profile (or `session optional pam_umask.so` to the common session stack).",
                octal(wanted)
            ))
            .ssg(&["accounts_umask_etc_profile"])
            .build(),
        );
    }
    if !defs.0.present() && !sessions_covered {
        out.push(
            ctx.finding(
                "ACC-12",
                "no default umask is set anywhere: sessions get the daemons' 022",
            )
            .file(LOGIN_DEFS)
            .observed("/etc/login.defs absent; no umask command in the shell start-up files, no pam_umask in a session stack")
            .expected(format!("UMASK {} in /etc/login.defs and umask {} in /etc/profile", octal(wanted), octal(wanted)))
            .remediation(format!(
                "Create /etc/login.defs with `UMASK {w}` and add `umask {w}` to /etc/profile.",
                w = octal(wanted)
            ))
            .ssg(&["accounts_umask_etc_login_defs", "accounts_umask_etc_profile"])
            .build(),
        );
    }
    CheckOutcome::Ran(out)
}
