//! ACC-06: password quality (pam_pwquality or pam_cracklib) and history
//! (pam_pwhistory or pam_unix `remember=`) in the stacks that change passwords.
//!
//! Lynis AUTH-9262; SSG `accounts_password_pam_pwquality_enabled`,
//! `accounts_password_pam_minlen`, `accounts_password_pam_minclass`,
//! `accounts_password_pam_dictcheck`, `accounts_password_pam_enforce_root`,
//! `accounts_password_pam_pwhistory_remember`; IEC 62443-4-2 CR 1.7.
//!
//! Effective settings follow pam_pwquality(8): the module's arguments
//! override `pwquality.conf`, which overrides `pwquality.conf.d/*.conf`,
//! which override libpwquality's defaults. pam_cracklib reads no file.
//!
//! Credits: `minlen` counts one point per character plus up to `dcredit`,
//! `ucredit`, `lcredit`, `ocredit` points for digits, upper, lower and other
//! characters (pam_pwquality(8)). With positive credits a password shorter than
//! `minlen` passes: the shortest is `minlen` minus the sum of the positive
//! credits (and never below 6, libpwquality's floor). dha reports `minlen`
//! below the policy as the weakness, and positive credits that bring the
//! effective minimum below the policy as a separate, lower-severity finding,
//! so that the evidence names the line to change in each case. A negative
//! credit makes its class mandatory and counts towards `minclass`.

use super::{Findings, Place, Setting, enforces, existing, is_pam_unix};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use crate::parse::pam::{PamRule, PamType};
use crate::parse::pamconf::{
    ConfValues, PWQUALITY_CONF, PwhistoryConf, PwqualityConf, parse_int, parse_uint,
};
use std::collections::HashSet;

/// The services whose password stack sets new passwords (see ACC-04).
const PASSWORD_SERVICES: &[&str] = &[
    "common-password",
    "system-auth",
    "password-auth",
    "passwd",
    "chpasswd",
];

/// libpwquality's floor for `minlen` (pwquality.conf(5): "Cannot be set to
/// lower value than 6").
const MINLEN_FLOOR: i64 = 6;

/// pam_pwhistory's `remember` when none is given (pam_pwhistory(8): "The
/// default is 10").
const PWHISTORY_DEFAULT_REMEMBER: u64 = 10;

/// The defaults of the quality module in use.
struct Defaults {
    minlen: i64,
    credit: i64,
}

/// libpwquality (pwquality.conf(5)): minlen 8, credits 0.
const PWQUALITY: Defaults = Defaults {
    minlen: 8,
    credit: 0,
};

/// pam_cracklib(8): minlen 9, each credit 1.
const CRACKLIB: Defaults = Defaults {
    minlen: 9,
    credit: 1,
};

/// ACC-06: password quality enforced in every stack that changes passwords.
pub fn acc06_quality(ctx: &AuditContext<'_>) -> CheckOutcome {
    let pam = match super::pam_stacks(ctx) {
        Ok(p) => p,
        Err(na) => return na,
    };
    let stacks: Vec<_> = existing(&pam, PASSWORD_SERVICES)
        .into_iter()
        .filter(|(_, s)| s.iter().any(|r| r.kind == PamType::Password))
        .collect();
    if stacks.is_empty() {
        return CheckOutcome::NotApplicable(format!(
            "no password stack in the PAM configuration ({} absent or without password lines): PAM changes no passwords here",
            PASSWORD_SERVICES.join(", ")
        ));
    }
    let pwq = ctx.get::<PwqualityConf>();
    let hist = ctx.get::<PwhistoryConf>();
    let mut out = Findings::default();
    // Module lines whose settings were examined already (a line of
    // common-password is met again in passwd and chpasswd).
    let mut seen = HashSet::new();
    for (name, stack) in stacks {
        let password: Vec<&PamRule> = stack
            .iter()
            .filter(|r| r.kind == PamType::Password)
            .collect();
        // Findings about what a stack lacks point at the file that holds its
        // pam_unix line (common-password for a passwd that includes it).
        let anchor = password
            .iter()
            .find(|r| is_pam_unix(r))
            .map_or_else(|| pam.service_path(name), |r| r.file.clone());
        quality(ctx, &password, &anchor, &pwq.0, &mut seen, &mut out);
        history(ctx, &password, &anchor, &hist.0, &mut seen, &mut out);
    }
    CheckOutcome::Ran(out.into_vec())
}

fn quality(
    ctx: &AuditContext<'_>,
    password: &[&PamRule],
    anchor: &str,
    conf: &ConfValues,
    seen: &mut HashSet<(String, u32)>,
    out: &mut Findings,
) {
    let policy = &ctx.config.password;
    let found = password
        .iter()
        .enumerate()
        .find(|(_, r)| matches!(r.module_name(), "pam_pwquality" | "pam_cracklib"));
    let Some((idx, &rule)) = found else {
        out.push(
            ctx.finding(
                "ACC-06",
                "no password quality module in the password stack",
            )
            .file(anchor)
            .observed("no pam_pwquality (or pam_cracklib) password line")
            .expected(format!(
                "password requisite pam_pwquality.so, with minlen >= {} and minclass >= {}",
                policy.min_length, policy.min_classes
            ))
            .remediation("Add `password requisite pam_pwquality.so retry=3` before the pam_unix password line, and set the policy in /etc/security/pwquality.conf.")
            .ssg(&["accounts_password_pam_pwquality_enabled"]),
        );
        return;
    };
    let cracklib = rule.module_name() == "pam_cracklib";
    // Where a setting that is not set belongs: pam_cracklib reads no
    // configuration file, so its arguments; otherwise pwquality.conf.
    let (conf, defaults, unset) = if cracklib {
        (None, &CRACKLIB, Place::of_rule(rule))
    } else {
        (
            Some(conf),
            &PWQUALITY,
            Place::File(PWQUALITY_CONF.to_owned()),
        )
    };
    let module = rule.module_name();

    if !enforces(rule, "authtok_err") {
        out.push(
            ctx.finding("ACC-06", format!("{module} does not make a weak password fail the stack"))
                .at(&rule.file, rule.line)
                .observed(format!("control {}", rule.control))
                .expected("requisite (or required)")
                .remediation(format!("Make the control of {module} `requisite`, so that a password it rejects is never stored."))
                .ssg(&["accounts_password_pam_pwquality_enabled"]),
        );
    }
    if let Some(unix) = password.iter().take(idx).find(|r| is_pam_unix(r)) {
        out.push(
            ctx.finding(
                "ACC-06",
                format!("pam_unix stores the new password before {module} checks it"),
            )
            .at(&unix.file, unix.line)
            .observed(format!(
                "pam_unix on line {}, {module} on {}",
                unix.line,
                rule.location()
            ))
            .expected(format!(
                "{module} before pam_unix, and pam_unix with use_authtok"
            ))
            .remediation(format!(
                "Move the {module} line above the pam_unix password line."
            ))
            .ssg(&["accounts_password_pam_pwquality_enabled"]),
        );
    }
    if !seen.insert((rule.file.clone(), rule.line)) {
        return;
    }
    let enforcing = Setting::of(rule, "enforcing", conf, &unset);
    if !cracklib && int_value(ctx, &enforcing, "enforcing").is_some_and(|v| v == 0) {
        out.push(
            enforcing
                .place
                .apply(ctx.finding("ACC-06", "pam_pwquality only warns about weak passwords"))
                .observed(enforcing.describe("enforcing", "1"))
                .expected("enforcing=1 (the default)")
                .remediation("Remove `enforcing = 0`: with it pam_pwquality prints a warning and accepts the password.")
                .ssg(&["accounts_password_pam_pwquality_enabled"]),
        );
    }

    // Length.
    let minlen_s = Setting::of(rule, "minlen", conf, &unset);
    let minlen = int_value(ctx, &minlen_s, "minlen")
        .unwrap_or(defaults.minlen)
        .max(MINLEN_FLOOR);
    let want_len = i64::from(policy.min_length);
    if minlen < want_len {
        out.push(
            minlen_s
                .place
                .apply(ctx.finding("ACC-06", "minimum password length below the policy"))
                .observed(minlen_s.describe("minlen", &defaults.minlen.to_string()))
                .expected(format!("minlen >= {want_len}"))
                .remediation(format!(
                    "Set `minlen = {want_len}` (or more) in /etc/security/pwquality.conf, or as an argument of {module}."
                ))
                .ssg(&["accounts_password_pam_minlen"]),
        );
    }
    let credits: Vec<(&str, Setting, i64)> = ["dcredit", "ucredit", "lcredit", "ocredit"]
        .into_iter()
        .map(|k| {
            let s = Setting::of(rule, k, conf, &unset);
            let v = int_value(ctx, &s, k).unwrap_or(defaults.credit);
            (k, s, v)
        })
        .collect();
    let bonus = credits
        .iter()
        .map(|(_, _, v)| (*v).max(0))
        .fold(0i64, i64::saturating_add);
    let shortest = minlen.saturating_sub(bonus).max(MINLEN_FLOOR);
    if minlen >= want_len && shortest < want_len {
        let (key, s, _) = credits
            .iter()
            .find(|(_, _, v)| *v > 0)
            .map_or(("dcredit", &minlen_s, 0), |(k, s, v)| (*k, s, *v));
        let listed = credits
            .iter()
            .filter(|(_, _, v)| *v > 0)
            .map(|(k, _, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        out.push_with(
            s.place
                .apply(ctx.finding(
                    "ACC-06",
                    "positive credits let passwords shorter than the policy pass",
                ))
                .observed(format!(
                    "minlen={minlen} with {listed}: a {shortest}-character password can pass ({key} from {})",
                    if s.value.is_some() { s.origin.as_str() } else { "the module's default" }
                ))
                .expected(format!("at least {want_len} characters always: credits 0 or negative, or minlen >= {}", want_len.saturating_add(bonus)))
                .remediation("Set dcredit, ucredit, lcredit and ocredit to 0 (or to -1 to require each class), or raise minlen by their sum.")
                .ssg(&["accounts_password_pam_minlen"]),
            Severity::Low,
        );
    }

    // Character classes: minclass, or negative credits (each makes its class
    // mandatory).
    let minclass_s = Setting::of(rule, "minclass", conf, &unset);
    let minclass = int_value(ctx, &minclass_s, "minclass").unwrap_or(0);
    let required = credits.iter().filter(|(_, _, v)| *v < 0).count();
    let classes = minclass.max(i64::try_from(required).unwrap_or(0));
    if classes < i64::from(policy.min_classes) {
        out.push(
            minclass_s
                .place
                .apply(ctx.finding("ACC-06", "too few character classes required"))
                .observed(format!(
                    "{} and {required} class(es) required by negative credits",
                    minclass_s.describe("minclass", "0")
                ))
                .expected(format!(
                    "minclass >= {} (or as many of dcredit/ucredit/lcredit/ocredit = -1)",
                    policy.min_classes
                ))
                .remediation(format!(
                    "Set `minclass = {}` in /etc/security/pwquality.conf.",
                    policy.min_classes
                ))
                .ssg(&["accounts_password_pam_minclass"]),
        );
    }

    // Dictionary check: pam_cracklib always checks the cracklib dictionary.
    if !cracklib {
        let dict = Setting::of(rule, "dictcheck", conf, &unset);
        if int_value(ctx, &dict, "dictcheck").is_some_and(|v| v == 0) {
            out.push(
                dict.place
                    .apply(ctx.finding("ACC-06", "dictionary words are accepted as passwords"))
                    .observed(dict.describe("dictcheck", "1"))
                    .expected("dictcheck=1 (the default)")
                    .remediation("Remove `dictcheck = 0` (or set it to 1).")
                    .ssg(&["accounts_password_pam_dictcheck"]),
            );
        }
    }

    // Root: without enforce_for_root, root (and passwd run by root) is only
    // warned and may set any password (pam_pwquality(8)).
    let root = Setting::of(rule, "enforce_for_root", conf, &unset);
    if root.value.is_none() {
        out.push(
            root.place
                .apply(ctx.finding("ACC-06", "the password policy is not enforced for root"))
                .observed("enforce_for_root not set")
                .expected("enforce_for_root")
                .remediation(if cracklib {
                    format!("Add `enforce_for_root` to the {module} line.")
                } else {
                    "Add a line `enforce_for_root` to /etc/security/pwquality.conf.".to_owned()
                })
                .ssg(&["accounts_password_pam_enforce_root"]),
        );
    }
}

fn history(
    ctx: &AuditContext<'_>,
    password: &[&PamRule],
    anchor: &str,
    conf: &ConfValues,
    seen: &mut HashSet<(String, u32)>,
    out: &mut Findings,
) {
    let want = u64::from(ctx.config.password.history);
    let expected = format!("the last {want} passwords refused (pam_pwhistory remember >= {want})");
    let ssg = ["accounts_password_pam_pwhistory_remember"];
    let pwhistory = password.iter().find(|r| r.module_name() == "pam_pwhistory");
    if let Some(r) = pwhistory {
        if !seen.insert((r.file.clone(), r.line)) {
            return;
        }
        let s = Setting::of(r, "remember", Some(conf), &Place::of_rule(r));
        let remember = uint_value(ctx, &s, "remember").unwrap_or(PWHISTORY_DEFAULT_REMEMBER);
        if remember < want {
            out.push(
                s.place
                    .apply(ctx.finding("ACC-06", "password history shorter than the policy"))
                    .observed(s.describe("remember", &PWHISTORY_DEFAULT_REMEMBER.to_string()))
                    .expected(expected.clone())
                    .remediation(format!(
                        "Set remember={want} (or more) on the pam_pwhistory line."
                    ))
                    .ssg(&ssg),
            );
        }
        if !enforces(r, "authtok_err") {
            out.push(
                ctx.finding(
                    "ACC-06",
                    "pam_pwhistory does not make a reused password fail the stack",
                )
                .at(&r.file, r.line)
                .observed(format!("control {}", r.control))
                .expected("required (or requisite)")
                .remediation("Make the control of pam_pwhistory `required`.")
                .ssg(&ssg),
            );
        }
        return;
    }
    // pam_unix(8) "remember=n": the last n passwords are kept in /etc/security/opasswd.
    let unix_remember = password
        .iter()
        .filter(|r| is_pam_unix(r))
        .find_map(|r| r.arg("remember").map(|v| (*r, v)));
    match unix_remember {
        Some((r, v)) => {
            let n = parse_uint(v).unwrap_or(0);
            if n < want {
                out.push(
                    ctx.finding("ACC-06", "password history shorter than the policy")
                        .at(&r.file, r.line)
                        .observed(format!("pam_unix remember={v}"))
                        .expected(expected)
                        .remediation(format!("Set remember={want} or more, preferably on a pam_pwhistory line before pam_unix."))
                        .ssg(&ssg),
                );
            }
        }
        None => out.push(
            ctx.finding("ACC-06", "no password history: old passwords can be reused")
                .file(anchor)
                .observed("no pam_pwhistory line and no remember= on pam_unix")
                .expected(expected)
                .remediation(format!(
                    "Add `password required pam_pwhistory.so remember={want} use_authtok` before the pam_unix password line."
                ))
                .ssg(&ssg),
        ),
    }
}

/// A setting's value as a signed integer; a value the module cannot parse
/// is reported (it is ignored by the module, so the default applies).
fn int_value(ctx: &AuditContext<'_>, s: &Setting, key: &str) -> Option<i64> {
    let v = s.value.as_deref()?;
    let parsed = parse_int(v);
    if parsed.is_none() {
        bad_number(ctx, s, key, v);
    }
    parsed
}

/// Same, unsigned.
fn uint_value(ctx: &AuditContext<'_>, s: &Setting, key: &str) -> Option<u64> {
    let v = s.value.as_deref()?;
    let parsed = parse_uint(v);
    if parsed.is_none() {
        bad_number(ctx, s, key, v);
    }
    parsed
}

fn bad_number(ctx: &AuditContext<'_>, s: &Setting, key: &str, v: &str) {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::config::Config;
    use crate::testing::{finding_at, observed};

    const COMMON: &str = "password requisite pam_pwquality.so retry=3\n\
                          password required pam_pwhistory.so remember=5 use_authtok\n\
                          password [success=1 default=ignore] pam_unix.so obscure use_authtok yescrypt\n\
                          password requisite pam_deny.so\n\
                          password required pam_permit.so\n";
    const CONF: &str = "minlen = 14\nminclass = 3\ndictcheck = 1\nenforce_for_root\n";

    fn run(files: &[(&str, &str)]) -> crate::report::Report {
        audit(files, "ACC-06", acc06_quality)
    }

    #[test]
    fn a_hardened_stack_passes() {
        let r = run(&[
            ("/etc/pam.d/common-password", COMMON),
            ("/etc/pam.d/passwd", "@include common-password\n"),
            ("/etc/security/pwquality.conf", CONF),
        ]);
        assert!(r.findings.is_empty(), "{:?}", locs(&r.findings));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn missing_modules_point_at_the_policy_file_once() {
        let r = run(&[
            (
                "/etc/pam.d/common-password",
                "password [success=1 default=ignore] pam_unix.so yescrypt\npassword requisite pam_deny.so\n",
            ),
            ("/etc/pam.d/passwd", "@include common-password\n"),
            ("/etc/pam.d/chpasswd", "@include common-password\n"),
        ]);
        assert_eq!(
            locs(&r.findings),
            vec![
                (
                    "/etc/pam.d/common-password".to_owned(),
                    "no password quality module in the password stack".to_owned()
                ),
                (
                    "/etc/pam.d/common-password".to_owned(),
                    "no password history: old passwords can be reused".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn settings_are_read_from_args_conf_d_and_conf_with_their_lines() {
        let r = run(&[
            (
                "/etc/pam.d/common-password",
                "password requisite pam_pwquality.so retry=3 minlen=8\n\
                 password required pam_pwhistory.so remember=2\n\
                 password [success=1 default=ignore] pam_unix.so use_authtok yescrypt\n",
            ),
            // conf.d is read first and the main file overrides it.
            (
                "/etc/security/pwquality.conf.d/10-site.conf",
                "minclass = 4\ndictcheck = 0\n",
            ),
            (
                "/etc/security/pwquality.conf",
                "minlen = 14\nminclass = 1\n",
            ),
        ]);
        let mut got = places(&r.findings);
        got.sort();
        assert_eq!(
            got,
            vec![
                "/etc/pam.d/common-password:1", // minlen=8 argument beats the file
                "/etc/pam.d/common-password:2", // remember=2
                "/etc/security/pwquality.conf", // no enforce_for_root
                "/etc/security/pwquality.conf.d/10-site.conf:2", // dictcheck=0
                "/etc/security/pwquality.conf:2", // minclass=1
            ]
        );
    }

    #[test]
    fn credits_order_and_control() {
        let r = run(&[
            (
                "/etc/pam.d/system-auth",
                "password [success=1 default=ignore] pam_unix.so use_authtok yescrypt remember=5\n\
                 password optional pam_pwquality.so\n",
            ),
            (
                "/etc/security/pwquality.conf",
                "minlen = 12\ndcredit = 2\nucredit = -1\nlcredit = -1\nocredit = -1\nenforce_for_root\n",
            ),
        ]);
        let got = locs(&r.findings);
        assert!(got.contains(&(
            "/etc/pam.d/system-auth:2".to_owned(),
            "pam_pwquality does not make a weak password fail the stack".to_owned()
        )));
        assert!(got.contains(&(
            "/etc/pam.d/system-auth:1".to_owned(),
            "pam_unix stores the new password before pam_pwquality checks it".to_owned()
        )));
        let credit = finding_at(&r, "/etc/security/pwquality.conf:2");
        assert_eq!(credit.severity, Severity::Low);
        assert!(observed(credit).contains("10-character"));
        // Three negative credits satisfy minclass 3; remember=5 on pam_unix counts.
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn cracklib_uses_its_own_defaults_and_no_file() {
        let r = run(&[
            (
                "/etc/pam.d/common-password",
                "password requisite pam_cracklib.so minlen=14 minclass=3 enforce_for_root\n\
                 password required pam_pwhistory.so\n\
                 password [success=1 default=ignore] pam_unix.so use_authtok yescrypt\n",
            ),
            ("/etc/security/pwquality.conf", "minlen = 20\n"),
        ]);
        // Credits default to 1 each: a 10-character password passes.
        assert_eq!(places(&r.findings), vec!["/etc/pam.d/common-password:1"]);
        assert_eq!(r.findings[0].severity, Severity::Low);
    }

    #[test]
    fn the_policy_comes_from_the_configuration() {
        let mut cfg = Config::default();
        cfg.password.min_length = 16;
        cfg.password.history = 24;
        let r = audit_with(
            &[
                ("/etc/pam.d/common-password", COMMON),
                ("/etc/security/pwquality.conf", CONF),
            ],
            "ACC-06",
            acc06_quality,
            &cfg,
        );
        assert_eq!(
            places(&r.findings),
            vec![
                "/etc/security/pwquality.conf:1",
                "/etc/pam.d/common-password:2"
            ]
        );
    }

    #[test]
    fn bad_numbers_warn_and_fall_back_to_defaults() {
        let r = run(&[
            ("/etc/pam.d/common-password", COMMON),
            ("/etc/pam.d/passwd", "@include common-password\n"),
            (
                "/etc/security/pwquality.conf",
                "minlen = fourteen\nminclass = 3\nenforce_for_root\n",
            ),
        ]);
        assert_eq!(places(&r.findings), vec!["/etc/security/pwquality.conf:1"]);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].field.as_deref(), Some("minlen"));
    }

    #[test]
    fn no_password_stack_is_not_applicable() {
        let r = run(&[("/etc/pam.d/sshd", "auth required pam_unix.so\n")]);
        assert!(not_applicable(&r));
    }
}
