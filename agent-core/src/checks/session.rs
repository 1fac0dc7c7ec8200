//! Session checks (CHECKS.md "User management"): ACC-12 default umask,
//! SES-01 graphical session lock and no automatic login, SES-02 idle
//! time-outs of shells, logind and SSH.
//!
//! Each reads parsed inputs ([`ShellProfiles`], [`Dconf`], [`Gdm`],
//! [`LightDm`], [`ConsoleLogins`], [`Logind`], [`LoginDefs`], [`PamStacks`],
//! [`SshdConfig`]) through the audit context, so it runs the same on `/` and
//! on an extracted image, and points every finding at the file and line that
//! causes it (or at the file that should hold a missing setting).

use crate::audit::{AuditContext, CheckOutcome};
use crate::config::parse_octal_umask;
use crate::finding::{Diagnostic, Finding, Severity};
use crate::parse::dconf::{Dconf, DconfProfile, GVariant, IntType};
use crate::parse::keyfile::{gdm_bool, parse_timespan_usec};
use crate::parse::logindefs::{LoginDefs, parse_number};
use crate::parse::pam::{PamStacks, PamType};
use crate::parse::session::{ConsoleAccess, ConsoleLogins, Gdm, LightDm, Logind};
use crate::parse::shell::{BASHRC, PROFILE, ShellProfiles, TmoutAction, TmoutLine};
use crate::parse::sshd::{SshdConfig, SshdSetting, default_of};
use std::collections::BTreeSet;

#[cfg(test)]
mod tests;

const LOGIN_DEFS: &str = "/etc/login.defs";

/// Longest accepted GNOME `lock-delay`, in seconds: the grace period after
/// the screen blanks during which the session unlocks without a password.
/// CIS GNOME benchmarks (e.g. CIS Ubuntu 22.04 1.8.4) allow at most 5.
pub const MAX_LOCK_DELAY_SECS: u32 = 5;

/// A value read from an input file, quoted and escaped for a report.
fn q(s: &str) -> String {
    format!("{s:?}")
}

fn na(reason: &str) -> CheckOutcome {
    CheckOutcome::NotApplicable(reason.to_owned())
}

fn warn_at(ctx: &AuditContext<'_>, file: &str, line: u32, field: &str, message: String) {
    ctx.warn(Diagnostic {
        file: file.to_owned(),
        line: Some(line),
        field: Some(field.to_owned()),
        message,
    });
}

// ---------------------------------------------------------------- ACC-12

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
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- SES-01

/// The GNOME keys that lock an idle session, the test each value must pass,
/// and the SSG rules of the value and of its lock.
struct LockKey {
    key: &'static str,
    value_rule: &'static str,
    lock_rule: &'static str,
}

const IDLE_DELAY: LockKey = LockKey {
    key: "/org/gnome/desktop/session/idle-delay",
    value_rule: "dconf_gnome_screensaver_idle_delay",
    lock_rule: "dconf_gnome_session_idle_user_locks",
};
const LOCK_ENABLED: LockKey = LockKey {
    key: "/org/gnome/desktop/screensaver/lock-enabled",
    value_rule: "dconf_gnome_screensaver_lock_enabled",
    lock_rule: "dconf_gnome_screensaver_lock_locked",
};
const LOCK_DELAY: LockKey = LockKey {
    key: "/org/gnome/desktop/screensaver/lock-delay",
    value_rule: "dconf_gnome_screensaver_lock_delay",
    lock_rule: "dconf_gnome_screensaver_user_locks",
};
const DISABLE_USER_LIST: &str = "/org/gnome/login-screen/disable-user-list";

/// Why a value fails: the reason, and whether it is only of the wrong type.
struct Verdict {
    why: String,
    wrong_type: bool,
}

/// What a value must be: `Ok(())`, or what is wrong with it.
fn judge(key: &LockKey, v: &GVariant, max_idle: u32) -> Result<(), Verdict> {
    let wrong_type = |want: &str| {
        Err(Verdict {
            why: format!(
                "is of type {} but the schema type is {want}: GSettings ignores it and uses the schema default",
                v.type_name()
            ),
            wrong_type: true,
        })
    };
    let weak = |why: String| {
        Err(Verdict {
            why,
            wrong_type: false,
        })
    };
    match key.key {
        k if k == IDLE_DELAY.key => match v.as_u32() {
            None => wrong_type(IntType::Uint32.keyword()),
            Some(0) => weak("is 0: the session never goes idle, so it never locks".to_owned()),
            Some(n) if n > max_idle => weak(format!(
                "is {n} s, longer than session.max_idle_secs ({max_idle} s)"
            )),
            Some(_) => Ok(()),
        },
        k if k == LOCK_DELAY.key => match v.as_u32() {
            None => wrong_type(IntType::Uint32.keyword()),
            Some(n) if n > MAX_LOCK_DELAY_SECS => weak(format!(
                "is {n} s: the screen unlocks without a password for that long after it blanks"
            )),
            Some(_) => Ok(()),
        },
        _ => match v.as_bool() {
            None => wrong_type("boolean"),
            Some(false) => weak("is false: an idle session blanks but does not lock".to_owned()),
            Some(true) => Ok(()),
        },
    }
}

/// The screen-lock settings of the GNOME session profile `user`, and the
/// greeter's user list when GDM is installed.
fn dconf_findings(
    ctx: &AuditContext<'_>,
    dconf: &Dconf,
    gdm_present: bool,
    out: &mut Vec<Finding>,
) {
    let max_idle = ctx.config.session.max_idle_secs;
    let Some(profile) = dconf.profile("user") else {
        out.push(
            ctx.finding("SES-01", "no dconf profile `user`: GNOME sessions read no system database, so no screen lock is enforced")
                .file("/etc/dconf/profile/user")
                .observed("/etc/dconf/profile/user absent (dconf then reads only the user's own database)")
                .expected("user-db:user and system-db:local")
                .remediation("Create /etc/dconf/profile/user with the lines `user-db:user` and `system-db:local`, put the lock settings in /etc/dconf/db/local.d/, the locks in /etc/dconf/db/local.d/locks/, and run `dconf update`.")
                .ssg(&[IDLE_DELAY.value_rule, LOCK_ENABLED.value_rule])
                .build(),
        );
        if gdm_present {
            greeter_findings(ctx, dconf, out);
        }
        return;
    };
    if profile.system_dbs().next().is_none() {
        out.push(
            ctx.finding(
                "SES-01",
                "dconf profile `user` names no system database: no screen lock is enforced",
            )
            .file(&profile.path)
            .observed("no system-db line")
            .expected("system-db:local")
            .remediation("Add `system-db:local` after `user-db:user`, then run `dconf update`.")
            .ssg(&[IDLE_DELAY.value_rule, LOCK_ENABLED.value_rule])
            .build(),
        );
    } else {
        uncompiled_db_findings(ctx, dconf, profile, out);
        for key in [&IDLE_DELAY, &LOCK_ENABLED, &LOCK_DELAY] {
            lock_key_findings(ctx, dconf, profile, key, max_idle, out);
        }
    }
    if gdm_present {
        greeter_findings(ctx, dconf, out);
    }
}

fn uncompiled_db_findings(
    ctx: &AuditContext<'_>,
    dconf: &Dconf,
    profile: &DconfProfile,
    out: &mut Vec<Finding>,
) {
    for name in profile.system_dbs() {
        let Some(db) = dconf.db(name) else { continue };
        if db.exists && !db.compiled && !db.keyfiles.is_empty() {
            out.push(
                ctx.finding("SES-01", format!("dconf database {} is not compiled: its keyfiles are not in effect", q(name)))
                    .severity(Severity::Low)
                    .file(format!("/etc/dconf/db/{name}"))
                    .observed(format!("{} holds keyfiles but /etc/dconf/db/{name} is absent", db.keyfile_dir))
                    .expected("the database compiled by `dconf update`")
                    .remediation("Run `dconf update` when building the image (after every change of /etc/dconf/db).")
                    .ssg(&[])
                    .build(),
            );
        }
        if db.compiled && !db.exists {
            ctx.warn(Diagnostic {
                file: format!("/etc/dconf/db/{name}"),
                line: None,
                field: None,
                message: format!("compiled dconf database without its keyfile directory {}: dha reads keyfiles only, so its content is not audited", db.keyfile_dir),
            });
        }
    }
}

/// The directory where a missing setting of a profile should go.
fn first_db_dir(dconf: &Dconf, profile: &DconfProfile) -> String {
    profile
        .system_dbs()
        .find_map(|n| {
            dconf
                .db(n)
                .filter(|d| d.exists)
                .map(|d| d.keyfile_dir.clone())
        })
        .or_else(|| {
            profile
                .system_dbs()
                .next()
                .map(|n| format!("/etc/dconf/db/{n}.d"))
        })
        .unwrap_or_else(|| profile.path.clone())
}

/// Where a key is set in a database that `profile` does not read, as a hint.
fn set_elsewhere(dconf: &Dconf, profile: &DconfProfile, key: &str) -> Option<String> {
    let read: BTreeSet<&str> = profile.system_dbs().collect();
    dconf
        .dbs()
        .filter(|d| !read.contains(d.name.as_str()))
        .find_map(|d| {
            d.value(key).map(|v| {
                format!(
                    "; it is set in {}:{} but database {} is not in {}",
                    v.file,
                    v.line,
                    q(&d.name),
                    profile.path
                )
            })
        })
}

fn lock_key_findings(
    ctx: &AuditContext<'_>,
    dconf: &Dconf,
    profile: &DconfProfile,
    key: &LockKey,
    max_idle: u32,
    out: &mut Vec<Finding>,
) {
    let r = dconf.resolve(profile, key.key);
    let name = key.key.rsplit('/').next().unwrap_or(key.key);
    let want = match key.key {
        k if k == IDLE_DELAY.key => format!("{name}=uint32 N with 0 < N ≤ {max_idle}"),
        k if k == LOCK_DELAY.key => format!("{name}=uint32 N with N ≤ {MAX_LOCK_DELAY_SECS}"),
        _ => format!("{name}=true"),
    };
    if let Some(f) = r.unread_above {
        ctx.warn(Diagnostic {
            file: profile.path.clone(),
            line: Some(f.line),
            field: Some(f.source.to_string()),
            message: format!("this compiled database is consulted before the system value of {} and dha cannot read it", key.key),
        });
    }
    match &r.value {
        None => {
            // Locked at the schema default is weaker evidence than an explicit
            // value (a vendor gschema override may change the default).
            let sev = if r.user_can_override {
                Severity::Medium
            } else {
                Severity::Low
            };
            out.push(
                ctx.finding(
                    "SES-01",
                    format!("{} is not set in the system dconf databases", key.key),
                )
                .severity(sev)
                .file(first_db_dir(dconf, profile))
                .observed(format!(
                    "not set{}",
                    set_elsewhere(dconf, profile, key.key).unwrap_or_default()
                ))
                .expected(want.clone())
                .remediation(format!(
                    "Add `{want}` under [{}] in a keyfile of {}, then run `dconf update`.",
                    key.key
                        .rsplit_once('/')
                        .map_or("", |(g, _)| g.trim_start_matches('/')),
                    first_db_dir(dconf, profile)
                ))
                .ssg(&[key.value_rule])
                .build(),
            );
        }
        Some(v) => {
            if let Err(Verdict { why, wrong_type }) = judge(key, &v.value, max_idle) {
                // A value of the wrong type leaves the schema default (a locked
                // screen after 5 minutes upstream) in place: what was meant is
                // not in effect, but the default is not a weak value.
                let sev = if wrong_type {
                    Severity::Low
                } else {
                    Severity::Medium
                };
                out.push(
                    ctx.finding("SES-01", format!("{name} {why}"))
                        .severity(sev)
                        .at(&v.file, v.line)
                        .observed(format!("{name}={}", q(&v.raw)))
                        .expected(want.clone())
                        .remediation(format!("Set `{want}` and run `dconf update`."))
                        .ssg(&[key.value_rule])
                        .build(),
                );
            }
        }
    }
    if r.user_can_override {
        let dir = r
            .value
            .as_ref()
            .and_then(|v| dconf.db(&v.db))
            .map(|d| d.locks_dir())
            .unwrap_or_else(|| format!("{}/locks", first_db_dir(dconf, profile)));
        out.push(
            ctx.finding(
                "SES-01",
                format!("{} is not locked: a user can change it", key.key),
            )
            .file(&dir)
            .observed(format!(
                "no lock for {} in the system databases of {}",
                key.key, profile.path
            ))
            .expected(format!("{} listed in a file of {dir}", key.key))
            .remediation(format!(
                "Add the line `{}` to a file in {dir} and run `dconf update`.",
                key.key
            ))
            .ssg(&[key.lock_rule])
            .build(),
        );
    }
}

/// GDM's greeter reads the dconf profile `gdm`; `disable-user-list` only
/// works there.
fn greeter_findings(ctx: &AuditContext<'_>, dconf: &Dconf, out: &mut Vec<Finding>) {
    let rule = "dconf_gnome_disable_user_list";
    let Some(profile) = dconf.profile("gdm") else {
        out.push(
            ctx.finding("SES-01", "no dconf profile `gdm`: the login screen lists the device's users")
                .file("/etc/dconf/profile/gdm")
                .observed("/etc/dconf/profile/gdm absent")
                .expected("user-db:user, system-db:gdm and disable-user-list=true in /etc/dconf/db/gdm.d")
                .remediation("Create /etc/dconf/profile/gdm (`user-db:user`, `system-db:gdm`), add `[org/gnome/login-screen]` `disable-user-list=true` to /etc/dconf/db/gdm.d/00-login-screen, and run `dconf update`.")
                .ssg(&[rule])
                .build(),
        );
        return;
    };
    let r = dconf.resolve(profile, DISABLE_USER_LIST);
    match r.value {
        None => out.push(
            ctx.finding("SES-01", "the login screen lists the device's users (disable-user-list not set)")
                .file(first_db_dir(dconf, profile))
                .observed(format!("not set{}", set_elsewhere(dconf, profile, DISABLE_USER_LIST).unwrap_or_default()))
                .expected("disable-user-list=true")
                .remediation(format!("Add `[org/gnome/login-screen]` `disable-user-list=true` to a keyfile of {}, then run `dconf update`.", first_db_dir(dconf, profile)))
                .ssg(&[rule])
                .build(),
        ),
        Some(v) if v.value.as_bool() != Some(true) => out.push(
            ctx.finding("SES-01", "the login screen lists the device's users")
                .at(&v.file, v.line)
                .observed(format!("disable-user-list={}", q(&v.raw)))
                .expected("disable-user-list=true")
                .remediation("Set `disable-user-list=true` and run `dconf update`.")
                .ssg(&[rule])
                .build(),
        ),
        Some(_) => {}
    }
}

fn gdm_findings(ctx: &AuditContext<'_>, gdm: &Gdm, out: &mut Vec<Finding>) {
    for f in &gdm.files {
        for (group, key, rule, sev, what) in [
            (
                "daemon",
                "AutomaticLoginEnable",
                "gnome_gdm_disable_automatic_login",
                Severity::High,
                "GDM logs a user in automatically at boot",
            ),
            (
                "daemon",
                "TimedLoginEnable",
                "gnome_gdm_disable_guest_login",
                Severity::High,
                "GDM logs a user in automatically after a delay at the login screen",
            ),
            (
                "xdmcp",
                "Enable",
                "gnome_gdm_disable_xdmcp",
                Severity::Medium,
                "GDM offers XDMCP: unencrypted remote graphical logins",
            ),
        ] {
            let Some(e) = f.get(group, key) else { continue };
            match gdm_bool(&e.value) {
                Some(true) => {
                    let user = match key {
                        "AutomaticLoginEnable" => f.get("daemon", "AutomaticLogin"),
                        "TimedLoginEnable" => f.get("daemon", "TimedLogin"),
                        _ => None,
                    };
                    let observed = match user {
                        Some(u) => format!("{key}={} (user {})", q(&e.value), q(&u.value)),
                        None => format!("{key}={}", q(&e.value)),
                    };
                    out.push(
                        ctx.finding("SES-01", what)
                            .severity(sev)
                            .at(&f.path, e.line)
                            .observed(observed)
                            .expected(format!("{key}=false"))
                            .remediation(format!(
                                "Set `{key}=false` in the [{group}] section of {}.",
                                f.path
                            ))
                            .ssg(&[rule])
                            .build(),
                    );
                }
                Some(false) => {}
                None => warn_at(
                    ctx,
                    &f.path,
                    e.line,
                    key,
                    format!(
                        "{} is not a boolean; GDM uses its default (false)",
                        q(&e.value)
                    ),
                ),
            }
        }
    }
}

fn lightdm_findings(ctx: &AuditContext<'_>, lightdm: &LightDm, out: &mut Vec<Finding>) {
    for s in lightdm.seat_settings("autologin-user") {
        if s.entry.value.is_empty() {
            continue;
        }
        out.push(
            ctx.finding("SES-01", "LightDM logs a user in automatically")
                .severity(if s.entry.value == "root" { Severity::Critical } else { Severity::High })
                .at(&s.file, s.entry.line)
                .observed(format!("[{}] autologin-user={}", s.seat, q(&s.entry.value)))
                .expected("no autologin-user")
                .remediation("Remove autologin-user (and autologin-user-timeout) from every [Seat:…] section.")
                .ssg(&[])
                .build(),
        );
    }
    for s in lightdm.seat_settings("autologin-guest") {
        if gdm_bool(&s.entry.value) == Some(true) {
            out.push(
                ctx.finding("SES-01", "LightDM logs a guest session in automatically")
                    .severity(Severity::High)
                    .at(&s.file, s.entry.line)
                    .observed(format!(
                        "[{}] autologin-guest={}",
                        s.seat,
                        q(&s.entry.value)
                    ))
                    .expected("autologin-guest=false")
                    .remediation("Set `autologin-guest=false` and `allow-guest=false`.")
                    .ssg(&[])
                    .build(),
            );
        }
    }
    if let Some((file, e)) = lightdm.get("XDMCPServer", "enabled") {
        if gdm_bool(&e.value) == Some(true) {
            out.push(
                ctx.finding(
                    "SES-01",
                    "LightDM offers XDMCP: unencrypted remote graphical logins",
                )
                .at(file, e.line)
                .observed(format!("[XDMCPServer] enabled={}", q(&e.value)))
                .expected("enabled=false")
                .remediation("Set `enabled=false` in [XDMCPServer].")
                .ssg(&[])
                .build(),
            );
        }
    }
}

fn console_findings(ctx: &AuditContext<'_>, consoles: &ConsoleLogins, out: &mut Vec<Finding>) {
    for c in &consoles.findings {
        let (title, sev) = match &c.access {
            ConsoleAccess::Autologin { user } => (
                format!(
                    "{} logs {} in on the console without a password",
                    c.origin,
                    q(user)
                ),
                if user == "root" {
                    Severity::Critical
                } else {
                    Severity::High
                },
            ),
            ConsoleAccess::LoginSkipsAuthentication => (
                format!(
                    "{} runs login -f: no password is asked on the console",
                    c.origin
                ),
                Severity::Critical,
            ),
            ConsoleAccess::Shell { program } => (
                format!(
                    "{} runs the shell {} on the console: a root shell without login",
                    c.origin,
                    q(program)
                ),
                Severity::Critical,
            ),
            ConsoleAccess::LoginProgram { program } => (
                format!(
                    "{} runs {} instead of login(1) on the console",
                    c.origin,
                    q(program)
                ),
                Severity::Medium,
            ),
        };
        out.push(
            ctx.finding("SES-01", title)
                .severity(sev)
                .at(&c.file, c.line)
                .observed(q(&c.command))
                .expected("a getty that runs login(1), which asks for a password")
                .remediation("Remove the override (the drop-in or inittab line) so that the console runs `agetty` with its defaults; for unattended kiosk operation log in a locked-down, unprivileged account through the display manager instead.")
                .ssg(&[])
                .build(),
        );
    }
}

/// SES-01 (SSG dconf_gnome_screensaver_idle_delay,
/// dconf_gnome_screensaver_lock_enabled, dconf_gnome_disable_user_list and
/// their lock rules; gnome_gdm_disable_automatic_login): an idle graphical
/// session locks and users cannot change that; the login screen does not
/// list users; no display manager, getty or init line logs anyone in
/// without a password.
pub fn ses01_graphical_lock(ctx: &AuditContext<'_>) -> CheckOutcome {
    let dconf = ctx.get::<Dconf>();
    let gdm = ctx.get::<Gdm>();
    let lightdm = ctx.get::<LightDm>();
    let consoles = ctx.get::<ConsoleLogins>();
    let gui = gdm.present || lightdm.present || dconf.present();
    let mut out = Vec::new();
    if gdm.present || dconf.present() {
        dconf_findings(ctx, &dconf, gdm.present, &mut out);
    } else if lightdm.present {
        out.push(
            ctx.finding("SES-01", "LightDM without dconf: the session's screen lock is not audited")
                .severity(Severity::Info)
                .file(crate::parse::session::LIGHTDM_CONF)
                .observed("LightDM configured, no GNOME dconf configuration")
                .expected("a screen locker configured to lock after session.max_idle_secs")
                .remediation("Verify the desktop's screen locker (light-locker, xfce4-screensaver, …) locks an idle session and cannot be turned off by users.")
                .ssg(&[])
                .build(),
        );
    }
    gdm_findings(ctx, &gdm, &mut out);
    lightdm_findings(ctx, &lightdm, &mut out);
    console_findings(ctx, &consoles, &mut out);
    if !gui && !consoles.configured && out.is_empty() {
        return na(
            "no graphical login manager on this image (no GDM, LightDM or dconf configuration) and no getty drop-ins in /etc/systemd/system or /etc/inittab",
        );
    }
    CheckOutcome::Ran(out)
}

// ---------------------------------------------------------------- SES-02

/// Parses a TMOUT value as bash does (`legal_number`: decimal, optional sign
/// and surrounding white space); `None` when bash would not time out.
fn tmout_secs(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok()
}

fn shell_findings(ctx: &AuditContext<'_>, shells: &ShellProfiles, out: &mut Vec<Finding>) {
    let max = i64::from(ctx.config.session.max_idle_secs);
    let rule = "accounts_tmout";
    let want = format!("TMOUT=N with 0 < N ≤ {max}, readonly and exported");
    let remediation = format!(
        "Create /etc/profile.d/tmout.sh with `TMOUT={max}`, `readonly TMOUT` and `export TMOUT`."
    );
    // Simulate a login shell reading the files in order: after `readonly`
    // an assignment or unset fails ("readonly variable").
    let mut value: Option<&TmoutLine> = None;
    let mut readonly = false;
    let mut exported = false;
    // An assignment that fails because `readonly TMOUT` came first.
    let mut blocked: Option<&TmoutLine> = None;
    let mut reported = BTreeSet::new();
    let bad = |l: &TmoutLine,
               why: String,
               out: &mut Vec<Finding>,
               reported: &mut BTreeSet<(String, u32)>| {
        if reported.insert((l.file.clone(), l.line)) {
            out.push(
                ctx.finding("SES-02", format!("shell idle time-out TMOUT {why}"))
                    .at(&l.file, l.line)
                    .observed(match &l.action {
                        TmoutAction::Assign { value, .. } => format!("TMOUT={}", q(value)),
                        TmoutAction::Unset => "unset TMOUT".to_owned(),
                        _ => "TMOUT".to_owned(),
                    })
                    .expected(want.clone())
                    .remediation(remediation.clone())
                    .ssg(&[rule])
                    .build(),
            );
        }
    };
    let judge_assign = |v: &str| -> Result<(), String> {
        match tmout_secs(v) {
            None if v.trim().is_empty() => Err("is empty: no time-out".to_owned()),
            None => Err(format!("{} is not a number: bash does not time out", q(v))),
            Some(n) if n <= 0 => Err("is 0: no time-out".to_owned()),
            Some(n) if n > max => Err(format!(
                "is {n} s, longer than session.max_idle_secs ({max} s)"
            )),
            Some(_) => Ok(()),
        }
    };
    for l in shells.tmout() {
        match &l.action {
            TmoutAction::Assign { value: v, literal } => {
                if !literal {
                    warn_at(
                        ctx,
                        &l.file,
                        l.line,
                        "TMOUT",
                        format!("value {} is only known at run time; not evaluated", q(v)),
                    );
                } else if let Err(why) = judge_assign(v) {
                    // Reported even when a readonly before it makes it fail:
                    // which file runs first depends on how the shell starts.
                    bad(l, why, out, &mut reported);
                }
                if !readonly {
                    value = Some(l);
                } else if value.is_none() {
                    blocked.get_or_insert(l);
                }
            }
            TmoutAction::Readonly => readonly = true,
            TmoutAction::Export => exported = true,
            TmoutAction::Unset => {
                if !readonly {
                    bad(l, "is unset: no time-out".to_owned(), out, &mut reported);
                    value = None;
                }
            }
        }
    }
    let Some(v) = value else {
        if let Some(b) = blocked {
            let shown = match &b.action {
                TmoutAction::Assign { value, .. } => format!("TMOUT={}", q(value)),
                _ => "TMOUT".to_owned(),
            };
            out.push(
                ctx.finding("SES-02", "TMOUT is made read-only before it is set: the assignment fails and there is no time-out")
                    .at(&b.file, b.line)
                    .observed(format!("{shown} after readonly TMOUT"))
                    .expected(want.clone())
                    .remediation("Assign TMOUT before (or in) the readonly command: `readonly TMOUT=…`.")
                    .ssg(&[rule])
                    .build(),
            );
        } else if reported.is_empty() {
            out.push(
                ctx.finding("SES-02", "no shell idle time-out: TMOUT is not set")
                    .file(PROFILE)
                    .observed(
                        "no TMOUT assignment in /etc/profile, /etc/profile.d/*.sh or the bashrc",
                    )
                    .expected(want.clone())
                    .remediation(remediation.clone())
                    .ssg(&[rule])
                    .build(),
            );
        }
        return;
    };
    let TmoutAction::Assign {
        value: text,
        literal,
    } = &v.action
    else {
        return;
    };
    if !*literal || judge_assign(text).is_err() {
        return; // reported above, or not evaluable
    }
    if !readonly {
        out.push(
            ctx.finding(
                "SES-02",
                "TMOUT is not read-only: a user can unset it and never time out",
            )
            .at(&v.file, v.line)
            .observed(format!("TMOUT={} without readonly", q(text)))
            .expected(want.clone())
            .remediation(
                "Add `readonly TMOUT` after the assignment (or write `declare -xr TMOUT=…`).",
            )
            .ssg(&[rule])
            .build(),
        );
    }
    if !exported {
        out.push(
            ctx.finding(
                "SES-02",
                "TMOUT is not exported: shells started from the session have no time-out",
            )
            .severity(Severity::Low)
            .at(&v.file, v.line)
            .observed(format!("TMOUT={} not exported", q(text)))
            .expected(want)
            .remediation("Add `export TMOUT` after the assignment.")
            .ssg(&[rule])
            .build(),
        );
    }
}

fn logind_findings(ctx: &AuditContext<'_>, logind: &Logind, out: &mut Vec<Finding>) {
    let max = u64::from(ctx.config.session.max_idle_secs);
    let rule = "logind_session_timeout";
    let want = format!("StopIdleSessionSec={max} or less (systemd ≥ 252)");
    let remediation = format!(
        "Set `StopIdleSessionSec={max}` in the [Login] section of /etc/systemd/logind.conf (or a drop-in in /etc/systemd/logind.conf.d/)."
    );
    let Some((file, e)) = logind.get("StopIdleSessionSec") else {
        out.push(
            ctx.finding(
                "SES-02",
                "logind does not end idle sessions: StopIdleSessionSec is not set",
            )
            .severity(Severity::Low)
            .file(logind.main_path())
            .observed("StopIdleSessionSec not set (default infinity)")
            .expected(want)
            .remediation(remediation)
            .ssg(&[rule])
            .build(),
        );
        return;
    };
    // logind.conf(5): a time span in seconds or with units; "infinity" (the
    // default) and 0 turn the check off; an empty value resets it to the default.
    let why = match parse_timespan_usec(&e.value, 1_000_000) {
        _ if e.value.is_empty() => Some("is empty, which resets it to infinity".to_owned()),
        Ok(None) => Some("is infinity: idle sessions are never ended".to_owned()),
        Ok(Some(0)) => Some("is 0: idle sessions are never ended".to_owned()),
        Ok(Some(us)) if us > max.saturating_mul(1_000_000) => Some(format!(
            "is {} s, longer than session.max_idle_secs ({max} s)",
            us / 1_000_000
        )),
        Ok(Some(_)) => None,
        Err(m) => Some(format!("is not a time span ({m}): logind ignores it")),
    };
    if let Some(why) = why {
        out.push(
            ctx.finding("SES-02", format!("logind StopIdleSessionSec {why}"))
                .severity(Severity::Low)
                .at(file, e.line)
                .observed(format!("StopIdleSessionSec={}", q(&e.value)))
                .expected(want)
                .remediation(remediation)
                .ssg(&[rule])
                .build(),
        );
    }
}

/// An sshd time value (sshd_config(5) "TIME FORMATS", OpenSSH `convtime`):
/// a sequence of numbers each with an optional unit `s m h d w` (any case);
/// a bare number is seconds.
pub fn sshd_time_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(mult)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n)?;
    }
    // convtime rejects values that do not fit an int.
    (total <= u64::from(i32::MAX.unsigned_abs())).then_some(total)
}

/// The value of an sshd keyword: its setting (in a Match block, else
/// global) or OpenSSH's default.
fn sshd_value<'a>(
    global: Option<&'a SshdSetting>,
    local: Option<&'a SshdSetting>,
    keyword: &str,
) -> (String, Option<&'a SshdSetting>) {
    match local.or(global) {
        Some(s) => (s.first_arg().to_owned(), Some(s)),
        None => (default_of(keyword).unwrap_or("0").to_owned(), None),
    }
}

fn ssh_findings(ctx: &AuditContext<'_>, sshd: &SshdConfig, out: &mut Vec<Finding>) {
    let max = u64::from(ctx.config.session.max_idle_secs);
    let gi = sshd.get("clientaliveinterval");
    let gc = sshd.get("clientalivecountmax");
    let mut scopes: Vec<(String, Option<&SshdSetting>, Option<&SshdSetting>)> =
        vec![(String::new(), None, None)];
    for b in sshd.match_blocks() {
        let (bi, bc) = (b.get("clientaliveinterval"), b.get("clientalivecountmax"));
        if bi.is_some() || bc.is_some() {
            scopes.push((format!(" in {}", b.describe()), bi, bc));
        }
    }
    for (scope, li, lc) in scopes {
        let (iv, iset) = sshd_value(gi, li, "clientaliveinterval");
        let (cv, cset) = sshd_value(gc, lc, "clientalivecountmax");
        let Some(interval) = sshd_time_secs(&iv) else {
            if let Some(s) = iset {
                warn_at(
                    ctx,
                    &s.file,
                    s.line,
                    "ClientAliveInterval",
                    format!("{} is not a time value (sshd refuses to start)", q(&iv)),
                );
            }
            continue;
        };
        let Ok(count) = cv.trim().parse::<u64>() else {
            if let Some(s) = cset {
                warn_at(
                    ctx,
                    &s.file,
                    s.line,
                    "ClientAliveCountMax",
                    format!("{} is not a number (sshd refuses to start)", q(&cv)),
                );
            }
            continue;
        };
        let observed = format!(
            "ClientAliveInterval {iv}, ClientAliveCountMax {cv}{}",
            if iset.is_none() && cset.is_none() {
                " (OpenSSH defaults)"
            } else {
                ""
            }
        );
        let why = if interval == 0 {
            Some((
                "ClientAliveInterval is 0: sshd never checks an idle client".to_owned(),
                iset,
            ))
        } else if count == 0 {
            // OpenSSH ≥ 8.2 sshd_config(5): "Setting a zero ClientAliveCountMax
            // disables connection termination."
            Some((
                "ClientAliveCountMax is 0, which disables connection termination (OpenSSH ≥ 8.2)"
                    .to_owned(),
                cset,
            ))
        } else {
            let total = interval.saturating_mul(count);
            (total > max).then(|| (format!("ends unresponsive sessions only after {total} s, longer than session.max_idle_secs ({max} s)"), iset.or(cset)))
        };
        let Some((why, at)) = why else { continue };
        let b = ctx
            .finding("SES-02", format!("sshd{scope}: {why}"))
            .observed(observed)
            .expected(format!("ClientAliveInterval × ClientAliveCountMax ≤ {max} s, both above 0"))
            .remediation(format!(
                "Set `ClientAliveInterval {}` and `ClientAliveCountMax 1` (or an interval × count within {max} s) in {}. These settings end sessions whose client stopped answering; on OpenSSH ≥ 9.2 add `ChannelTimeout session:*={max}s` to close sessions that are idle.",
                max.min(300), sshd.path()
            ))
            .ssg(&["sshd_set_idle_timeout", "sshd_set_keepalive"]);
        out.push(match at {
            Some(s) => b.at(&s.file, s.line).build(),
            None => b.file(sshd.path()).build(),
        });
    }
}

/// SES-02 (Lynis SHLL-6220; SSG accounts_tmout, logind_session_timeout,
/// sshd_set_idle_timeout): idle shells, logind sessions and SSH connections
/// end within `session.max_idle_secs`. Each part applies when its software
/// is on the image (shell start-up files, logind, sshd_config).
pub fn ses02_idle_timeouts(ctx: &AuditContext<'_>) -> CheckOutcome {
    let shells = ctx.get::<ShellProfiles>();
    let logind = ctx.get::<Logind>();
    let sshd = ctx.get::<SshdConfig>();
    if !shells.present() && !logind.present && !sshd.present() {
        return na(
            "none of /etc/profile, /etc/profile.d/*.sh, the bashrc, systemd-logind or /etc/ssh/sshd_config is on this image: no interactive session to time out",
        );
    }
    let mut out = Vec::new();
    if shells.present() {
        shell_findings(ctx, &shells, &mut out);
    }
    if logind.present {
        logind_findings(ctx, &logind, &mut out);
    }
    if sshd.present() {
        ssh_findings(ctx, &sshd, &mut out);
    }
    CheckOutcome::Ran(out)
}
