//! ACC-07: lock-out after failed logins (pam_faillock, or the older
//! pam_tally2), and failed logins logged.
//!
//! Lynis AUTH-9408; SSG `accounts_passwords_pam_faillock_deny`,
//! `accounts_passwords_pam_faillock_unlock_time`; IEC 62443-4-2 CR 1.11.
//!
//! pam_faillock(8) wants three lines: `auth … pam_faillock.so preauth`
//! before the module that checks the password (it refuses a locked account),
//! `auth [default=die] pam_faillock.so authfail` after it (it counts the
//! failure), and `account required pam_faillock.so` (it clears the count
//! after a successful login). Settings: the module arguments override
//! `/etc/security/faillock.conf` (or the file named by `conf=`), which
//! overrides the defaults deny=3, unlock_time=600.

use super::{Findings, Place, Setting, enforces, existing, is_pam_unix};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use crate::parse::logindefs::LoginDefs;
use crate::parse::pam::{PamRule, PamStacks, PamType};
use crate::parse::pamconf::{
    ConfValues, FAILLOCK_CONF, FaillockConf, faillock_conf_at, parse_uint,
};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The services that hold the shared authentication policy: Debian's
/// common-auth, Red Hat's system-auth (local logins) and password-auth (sshd).
const AUTH_SERVICES: &[&str] = &["common-auth", "system-auth", "password-auth"];

/// The services that take a password at an interactive login. They are
/// examined too, so that one that does not include the shared policy (a
/// vendor `sshd` file with its own lines) cannot bypass the lock-out; when it
/// does include it, its findings are those of the shared file and are
/// reported once.
const LOGIN_SERVICES: &[&str] = &["login", "sshd", "gdm-password", "lightdm"];

/// pam_faillock's defaults (faillock.conf(5)).
const FAILLOCK_DEFAULT_DENY: u64 = 3;
const FAILLOCK_DEFAULT_UNLOCK: u64 = 600;

const SSG_DENY: &str = "accounts_passwords_pam_faillock_deny";
const SSG_UNLOCK: &str = "accounts_passwords_pam_faillock_unlock_time";

/// ACC-07: repeated failed logins lock the account, and failures are logged.
pub fn acc07_lockout(ctx: &AuditContext<'_>) -> CheckOutcome {
    let pam = match super::pam_stacks(ctx) {
        Ok(p) => p,
        Err(na) => return na,
    };
    let mut stacks = existing(&pam, AUTH_SERVICES);
    stacks.extend(existing(&pam, LOGIN_SERVICES));
    stacks.retain(|(_, s)| s.iter().any(|r| r.kind == PamType::Auth));
    if stacks.is_empty() {
        return CheckOutcome::NotApplicable(format!(
            "no authentication stack in the PAM configuration ({} and {} absent or without auth lines)",
            AUTH_SERVICES.join(", "),
            LOGIN_SERVICES.join(", ")
        ));
    }
    let mut out = Findings::default();
    let mut seen = HashSet::new();
    let mut confs = Confs::default();
    for (name, stack) in stacks {
        let auth: Vec<&PamRule> = stack.iter().filter(|r| r.kind == PamType::Auth).collect();
        let anchor = auth
            .iter()
            .find(|r| is_pam_unix(r))
            .map_or_else(|| pam.service_path(name), |r| r.file.clone());
        let faillock: Vec<(usize, &PamRule)> = auth
            .iter()
            .enumerate()
            .filter(|(_, r)| r.module_name() == "pam_faillock")
            .map(|(i, r)| (i, *r))
            .collect();
        let tally: Vec<&PamRule> = auth
            .iter()
            .filter(|r| matches!(r.module_name(), "pam_tally2" | "pam_tally"))
            .copied()
            .collect();
        if faillock.is_empty() && tally.is_empty() {
            out.push(
                ctx.finding("ACC-07", "no lock-out after failed logins")
                    .file(&anchor)
                    .observed("no pam_faillock (or pam_tally2) in the auth stack")
                    .expected(format!(
                        "auth required pam_faillock.so preauth / pam_unix / auth [default=die] pam_faillock.so authfail, deny between 1 and {}",
                        ctx.config.lockout.max_attempts
                    ))
                    .remediation("Add pam_faillock to the auth stack (preauth before pam_unix, authfail after it) and to the account stack, and set deny and unlock_time in /etc/security/faillock.conf.")
                    .ssg(&[SSG_DENY]),
            );
            continue;
        }
        if !faillock.is_empty() {
            faillock_stack(ctx, &pam, name, &anchor, &auth, &faillock, &mut out);
            for (_, r) in &faillock {
                if seen.insert((r.file.clone(), r.line)) {
                    faillock_settings(ctx, r, &mut confs, &mut out);
                }
            }
            // `audit` on any of the lines (or in the file it reads) logs.
            let audit = faillock
                .iter()
                .any(|(_, r)| r.has_arg("audit") || confs.of(ctx, r).0.get("audit").is_some());
            let conf_path = faillock
                .first()
                .map_or_else(|| FAILLOCK_CONF.to_owned(), |(_, r)| confs.of(ctx, r).1);
            check_logged(ctx, audit, &conf_path, &mut out);
        } else {
            for r in tally {
                if seen.insert((r.file.clone(), r.line)) {
                    tally_settings(ctx, r, &mut out);
                }
            }
        }
    }
    CheckOutcome::Ran(out.into_vec())
}

/// The shape of a stack that uses pam_faillock: preauth, authfail, account.
fn faillock_stack(
    ctx: &AuditContext<'_>,
    pam: &PamStacks,
    name: &str,
    anchor: &str,
    auth: &[&PamRule],
    faillock: &[(usize, &PamRule)],
    out: &mut Findings,
) {
    let unix = auth.iter().position(|r| is_pam_unix(r));
    let preauth = faillock.iter().find(|(_, r)| r.has_arg("preauth"));
    let authfail = faillock.iter().find(|(_, r)| r.has_arg("authfail"));
    let authsucc = faillock.iter().find(|(_, r)| r.has_arg("authsucc"));
    // A locked account is refused by preauth (before the password is asked)
    // or by authsucc (after a correct one); with neither, a correct password
    // logs a locked account in.
    match (preauth, authsucc) {
        (None, None) => out.push(
            ctx.finding("ACC-07", "pam_faillock never refuses a locked account")
                .file(anchor)
                .observed("no pam_faillock preauth (or authsucc) line")
                .expected("auth required pam_faillock.so preauth, before pam_unix")
                .remediation(
                    "Add `auth required pam_faillock.so preauth` before the pam_unix auth line.",
                )
                .ssg(&[SSG_DENY]),
        ),
        // With authsucc as well, a locked account is refused after its
        // password; only preauth alone must fail the stack itself.
        (Some((_, p)), None) if !enforces(p, "auth_err") => out.push(
            ctx.finding(
                "ACC-07",
                "pam_faillock preauth does not stop a locked account",
            )
            .at(&p.file, p.line)
            .observed(format!("control {}", p.control))
            .expected("required or requisite")
            .remediation("Make the control of the preauth line `required` (or `requisite`).")
            .ssg(&[SSG_DENY]),
        ),
        _ => {}
    }
    if let (Some((i, p)), Some(u)) = (preauth, unix) {
        if *i > u {
            out.push_with(
                ctx.finding("ACC-07", "pam_faillock preauth comes after pam_unix")
                    .at(&p.file, p.line)
                    .observed("preauth after the pam_unix auth line")
                    .expected("preauth before pam_unix")
                    .remediation("Move the preauth line above the pam_unix auth line.")
                    .ssg(&[SSG_DENY]),
                Severity::Medium,
            );
        }
    }
    match (authfail, unix) {
        (None, _) => out.push(
            ctx.finding("ACC-07", "failed logins are not counted")
                .file(anchor)
                .observed("no pam_faillock authfail line")
                .expected("auth [default=die] pam_faillock.so authfail, after pam_unix")
                .remediation("Add `auth [default=die] pam_faillock.so authfail` right after the pam_unix auth line (whose success must jump over it).")
                .ssg(&[SSG_DENY]),
        ),
        (Some((i, f)), Some(u)) if *i < u => out.push(
            ctx.finding("ACC-07", "pam_faillock authfail comes before pam_unix")
                .at(&f.file, f.line)
                .observed("authfail before the pam_unix auth line: failures of pam_unix are not counted")
                .expected("authfail after pam_unix")
                .remediation("Move the authfail line below the pam_unix auth line.")
                .ssg(&[SSG_DENY]),
        ),
        _ => {}
    }
    // Debian keeps account lines in common-account; Red Hat's files hold all types.
    let account_service = if name == "common-auth" {
        "common-account"
    } else {
        name
    };
    let account: Vec<&PamRule> = pam
        .service(account_service)
        .unwrap_or_default()
        .iter()
        .filter(|r| r.kind == PamType::Account)
        .collect();
    if !account.iter().any(|r| r.module_name() == "pam_faillock") {
        // The file that holds the account policy (common-account for a
        // service that includes it), so that the finding is reported once.
        let file = account
            .iter()
            .find(|r| is_pam_unix(r))
            .map_or_else(|| pam.service_path(account_service), |r| r.file.clone());
        out.push_with(
            ctx.finding("ACC-07", "pam_faillock is not in the account stack")
                .file(&file)
                .observed("no `account required pam_faillock.so`: the failure count is not cleared by a successful login, so users get locked out by old failures")
                .expected("account required pam_faillock.so")
                .remediation(format!("Add `account required pam_faillock.so` to {file}."))
                .ssg(&[SSG_DENY]),
            Severity::Medium,
        );
    }
}

/// The faillock configuration files read so far, by path (each is read, and
/// its problems reported, once).
#[derive(Default)]
struct Confs(HashMap<String, Rc<ConfValues>>);

impl Confs {
    /// The configuration a rule reads (pam_faillock(8) `conf=`, or the
    /// default file) and its path.
    fn of(&mut self, ctx: &AuditContext<'_>, r: &PamRule) -> (Rc<ConfValues>, String) {
        let path = r
            .arg("conf")
            .filter(|p| !p.is_empty())
            .map_or_else(|| FAILLOCK_CONF.to_owned(), |p| crate::root::join("/", p));
        let conf = self
            .0
            .entry(path.clone())
            .or_insert_with(|| {
                if path == FAILLOCK_CONF {
                    Rc::new(ctx.get::<FaillockConf>().0.clone())
                } else {
                    Rc::new(faillock_conf_at(ctx, &path))
                }
            })
            .clone();
        (conf, path)
    }
}

fn faillock_settings(ctx: &AuditContext<'_>, r: &PamRule, confs: &mut Confs, out: &mut Findings) {
    let (conf, conf_path) = confs.of(ctx, r);
    let unset = Place::File(conf_path);
    let deny = Setting::of(r, "deny", Some(&conf), &unset);
    let unlock = Setting::of(r, "unlock_time", Some(&conf), &unset);
    check_deny(
        ctx,
        &deny,
        number(ctx, &deny, "deny").unwrap_or(FAILLOCK_DEFAULT_DENY),
        FAILLOCK_DEFAULT_DENY,
        out,
    );
    // faillock.conf(5): "unlock_time=n … If zero is specified the user will
    // be locked out until the lock is removed by an administrator"; `never`
    // means the same.
    let unlock_v = if unlock.value.as_deref() == Some("never") {
        0
    } else {
        number(ctx, &unlock, "unlock_time").unwrap_or(FAILLOCK_DEFAULT_UNLOCK)
    };
    check_unlock(ctx, &unlock, unlock_v, FAILLOCK_DEFAULT_UNLOCK, out);
}

/// pam_tally2(8) (Linux-PAM before 1.5): arguments only; with no `deny` it
/// never locks, with no `unlock_time` a lock lasts until an administrator
/// clears it.
fn tally_settings(ctx: &AuditContext<'_>, r: &PamRule, out: &mut Findings) {
    let here = Place::of_rule(r);
    let deny = Setting::of(r, "deny", None, &here);
    let unlock = Setting::of(r, "unlock_time", None, &here);
    check_deny(ctx, &deny, number(ctx, &deny, "deny").unwrap_or(0), 0, out);
    check_unlock(
        ctx,
        &unlock,
        number(ctx, &unlock, "unlock_time").unwrap_or(0),
        0,
        out,
    );
    check_logged(ctx, r.has_arg("audit"), &r.file, out);
}

fn check_deny(ctx: &AuditContext<'_>, s: &Setting, deny: u64, default: u64, out: &mut Findings) {
    let max = u64::from(ctx.config.lockout.max_attempts);
    let title = if deny == 0 {
        "lock-out is turned off (deny=0)"
    } else if deny > max {
        "too many failed logins allowed before lock-out"
    } else {
        return;
    };
    out.push(
        s.place
            .apply(ctx.finding("ACC-07", title))
            .observed(s.describe("deny", &default.to_string()))
            .expected(format!("deny between 1 and {max}"))
            .remediation(format!("Set `deny = {max}` (or fewer, but at least 1) in /etc/security/faillock.conf, and remove deny= from the module lines."))
            .ssg(&[SSG_DENY]),
    );
}

fn check_unlock(ctx: &AuditContext<'_>, s: &Setting, secs: u64, default: u64, out: &mut Findings) {
    let min = u64::from(ctx.config.lockout.min_unlock_time_secs);
    if secs == 0 || secs >= min {
        return;
    }
    out.push_with(
        s.place
            .apply(ctx.finding("ACC-07", "locked accounts unlock too soon"))
            .observed(s.describe("unlock_time", &default.to_string()))
            .expected(format!(
                "unlock_time of at least {min} seconds, or 0 (an administrator unlocks)"
            ))
            .remediation(format!(
                "Set `unlock_time = {min}` (or more) in /etc/security/faillock.conf."
            ))
            .ssg(&[SSG_UNLOCK]),
        Severity::Medium,
    );
}

/// Failed logins are logged: the module's `audit` option, or shadow-utils'
/// FAILLOG_ENAB (login(1) records failures in /var/log/faillog).
fn check_logged(ctx: &AuditContext<'_>, audit: bool, where_: &str, out: &mut Findings) {
    if audit {
        return;
    }
    let defs = ctx.get::<LoginDefs>();
    let faillog = defs.0.get("FAILLOG_ENAB");
    if faillog.is_some_and(|s| s.value.eq_ignore_ascii_case("yes")) {
        return;
    }
    let observed = match faillog {
        Some(s) => format!(
            "no audit option, and FAILLOG_ENAB {} ({}:{})",
            s.value, s.file, s.line
        ),
        None => "no audit option, and no FAILLOG_ENAB yes in /etc/login.defs".to_owned(),
    };
    out.push_with(
        ctx.finding("ACC-07", "failed logins are not logged")
            .file(where_)
            .observed(observed)
            .expected("audit in faillock.conf, or FAILLOG_ENAB yes in /etc/login.defs")
            .remediation("Add a line `audit` to /etc/security/faillock.conf and set `FAILLOG_ENAB yes` in /etc/login.defs.")
            .ssg(&[SSG_DENY]),
        Severity::Medium,
    );
}

/// An unsigned setting; a value the module cannot read is reported (the
/// module keeps its default then).
fn number(ctx: &AuditContext<'_>, s: &Setting, key: &str) -> Option<u64> {
    let v = s.value.as_deref()?;
    let n = parse_uint(v);
    if n.is_none() {
        let (file, line) = match &s.place {
            Place::Line(f, l) => (f.clone(), Some(*l)),
            Place::File(f) => (f.clone(), None),
        };
        ctx.warn(crate::finding::Diagnostic {
            file,
            line,
            field: Some(key.to_owned()),
            message: format!("{v:?} is not a number; the module ignores it and uses its default"),
        });
    }
    n
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::testing::observed;

    const AUTH: &str = "auth required pam_faillock.so preauth\n\
                        auth [success=1 default=ignore] pam_unix.so\n\
                        auth [default=die] pam_faillock.so authfail\n\
                        auth requisite pam_deny.so\n\
                        auth required pam_permit.so\n";
    const ACCOUNT: &str = "account required pam_faillock.so\naccount [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n";
    const CONF: &str = "deny = 5\nunlock_time = 900\naudit\n";

    fn run(files: &[(&str, &str)]) -> crate::report::Report {
        audit(files, "ACC-07", acc07_lockout)
    }

    #[test]
    fn a_hardened_debian_stack_passes() {
        let r = run(&[
            ("/etc/pam.d/common-auth", AUTH),
            ("/etc/pam.d/common-account", ACCOUNT),
            (
                "/etc/pam.d/sshd",
                "@include common-auth\n@include common-account\n",
            ),
            ("/etc/security/faillock.conf", CONF),
        ]);
        assert!(r.findings.is_empty(), "{:?}", locs(&r.findings));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn a_stack_without_faillock_points_at_common_auth() {
        let r = run(&[
            (
                "/etc/pam.d/common-auth",
                "auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n",
            ),
            ("/etc/pam.d/common-account", ACCOUNT),
        ]);
        assert_eq!(
            locs(&r.findings),
            vec![(
                "/etc/pam.d/common-auth".to_owned(),
                "no lock-out after failed logins".to_owned()
            )]
        );
        assert_eq!(r.findings[0].severity, Severity::High);
    }

    #[test]
    fn settings_defaults_and_overrides() {
        // deny=0 on the line beats the file; the file's unlock_time is short;
        // no audit anywhere and FAILLOG_ENAB no.
        let r = run(&[
            (
                "/etc/pam.d/common-auth",
                "auth required pam_faillock.so preauth deny=0\n\
                 auth [success=1 default=ignore] pam_unix.so\n\
                 auth [default=die] pam_faillock.so authfail\n",
            ),
            ("/etc/pam.d/common-account", ACCOUNT),
            (
                "/etc/security/faillock.conf",
                "deny = 10\nunlock_time = 60\n",
            ),
            ("/etc/login.defs", "FAILLOG_ENAB no\n"),
        ]);
        let got = locs(&r.findings);
        assert_eq!(
            got,
            vec![
                (
                    "/etc/pam.d/common-auth:1".to_owned(),
                    "lock-out is turned off (deny=0)".to_owned()
                ),
                (
                    "/etc/security/faillock.conf:2".to_owned(),
                    "locked accounts unlock too soon".to_owned()
                ),
                (
                    "/etc/security/faillock.conf:1".to_owned(),
                    "too many failed logins allowed before lock-out".to_owned()
                ),
                (
                    "/etc/security/faillock.conf".to_owned(),
                    "failed logins are not logged".to_owned()
                ),
            ]
        );
        // With no faillock.conf the defaults apply: deny 3 is fine, 600 s is short.
        let r = run(&[
            ("/etc/pam.d/common-auth", AUTH),
            ("/etc/pam.d/common-account", ACCOUNT),
            ("/etc/login.defs", "FAILLOG_ENAB yes\n"),
        ]);
        assert_eq!(
            locs(&r.findings),
            vec![(
                "/etc/security/faillock.conf".to_owned(),
                "locked accounts unlock too soon".to_owned()
            )]
        );
        assert!(observed(&r.findings[0]).contains("default 600"));
    }

    #[test]
    fn shape_of_the_stack() {
        let r = run(&[
            (
                "/etc/pam.d/system-auth",
                "auth sufficient pam_unix.so\n\
                 auth optional pam_faillock.so preauth\n\
                 auth required pam_env.so\n\
                 account required pam_unix.so\n",
            ),
            ("/etc/security/faillock.conf", CONF),
        ]);
        let got: Vec<_> = locs(&r.findings)
            .into_iter()
            .map(|(l, t)| format!("{l} {t}"))
            .collect();
        assert_eq!(
            got,
            vec![
                "/etc/pam.d/system-auth:2 pam_faillock preauth does not stop a locked account",
                "/etc/pam.d/system-auth:2 pam_faillock preauth comes after pam_unix",
                "/etc/pam.d/system-auth failed logins are not counted",
                "/etc/pam.d/system-auth pam_faillock is not in the account stack",
            ]
        );
    }

    #[test]
    fn conf_argument_and_never() {
        let r = run(&[
            (
                "/etc/pam.d/common-auth",
                "auth required pam_faillock.so preauth conf=/etc/site/faillock.conf\n\
                 auth [success=1 default=ignore] pam_unix.so\n\
                 auth [default=die] pam_faillock.so authfail conf=/etc/site/faillock.conf audit\n",
            ),
            ("/etc/pam.d/common-account", ACCOUNT),
            (
                "/etc/site/faillock.conf",
                "deny=4\nunlock_time=never\naudit\n",
            ),
            ("/etc/security/faillock.conf", "deny = 99\n"),
        ]);
        assert!(r.findings.is_empty(), "{:?}", locs(&r.findings));
    }

    #[test]
    fn pam_tally2_is_understood() {
        let r = run(&[(
            "/etc/pam.d/common-auth",
            "auth required pam_tally2.so onerr=fail audit\nauth [success=1 default=ignore] pam_unix.so\n",
        )]);
        assert_eq!(
            locs(&r.findings),
            vec![(
                "/etc/pam.d/common-auth:1".to_owned(),
                "lock-out is turned off (deny=0)".to_owned()
            )]
        );
    }

    #[test]
    fn a_login_service_that_skips_the_shared_policy_is_reported() {
        let r = run(&[
            ("/etc/pam.d/common-auth", AUTH),
            ("/etc/pam.d/common-account", ACCOUNT),
            (
                "/etc/pam.d/login",
                "@include common-auth\n@include common-account\n",
            ),
            (
                "/etc/pam.d/sshd",
                "# vendor file\nauth required pam_unix.so\naccount required pam_unix.so\n",
            ),
            ("/etc/security/faillock.conf", CONF),
        ]);
        assert_eq!(
            locs(&r.findings),
            vec![(
                "/etc/pam.d/sshd".to_owned(),
                "no lock-out after failed logins".to_owned()
            )]
        );
    }

    #[test]
    fn without_auth_stacks_it_is_not_applicable() {
        let r = run(&[("/etc/pam.d/cron", "session required pam_limits.so\n")]);
        assert!(not_applicable(&r));
    }
}
