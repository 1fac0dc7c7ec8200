//! SES-01: an idle graphical session locks and users cannot change that;
//! the login screen does not list users; nothing logs anyone in without a
//! password (GDM, LightDM, getty units, inittab).

use super::{na, q, warn_at};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Diagnostic, Finding, Severity};
use crate::parse::console::{ConsoleAccess, ConsoleLogins};
use crate::parse::dconf::{Dconf, DconfProfile};
use crate::parse::gvariant::{GVariant, IntType};
use crate::parse::keyfile::gdm_bool;
use crate::parse::session::{Gdm, LightDm};
use std::collections::BTreeSet;

/// Longest accepted GNOME `lock-delay`, in seconds: the grace period after
/// the screen blanks during which the session unlocks without a password.
/// CIS GNOME benchmarks (e.g. CIS Ubuntu 22.04 1.8.4) allow at most 5.
pub const MAX_LOCK_DELAY_SECS: u32 = 5;

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
