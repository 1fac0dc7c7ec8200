//! ACC-15: a multi-factor or device-bound login path (IEC 62443-4-2 CR 1.1
//! RE2). The SSH path is judged by sshd's `AuthenticationMethods`, the local
//! paths by the PAM `auth` stacks of the login services.

use super::{auth_method_lists, flag_value};
use crate::audit::{AuditContext, CheckOutcome};
use crate::parse::pam::{PamControl, PamRule, PamStacks, PamType};
use crate::parse::sshd::{SSHD_CONFIG, SshdConfig};

const ACC15: &str = "ACC-15";

/// The PAM services of local interactive logins (text console, GDM, LightDM).
/// `sshd` is judged as the SSH path instead (see [`acc15_mfa`]).
pub const LOCAL_LOGIN_SERVICES: &[&str] = &[
    "login",
    "gdm-password",
    "gdm-fingerprint",
    "gdm-smartcard",
    "lightdm",
];

/// PAM modules that add a factor bound to a device or a person: a FIDO/U2F
/// token, an OATH/TOTP code, a smart card, a fingerprint, a YubiKey.
pub const SECOND_FACTOR_MODULES: &[&str] = &[
    "pam_u2f",
    "pam_oath",
    "pam_pkcs11",
    "pam_p11",
    "pam_fprintd",
    "pam_google_authenticator",
    "pam_yubico",
];

/// What a service's `auth` stack does with a second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PamFactor<'a> {
    /// A second-factor module every successful authentication must pass.
    Required(&'a PamRule),
    /// A second-factor module that can be skipped or whose failure is ignored, and why.
    Skippable(&'a PamRule, String),
    /// No second-factor module.
    Absent,
}

/// Finds the first second-factor module that the expanded `auth` stack cannot
/// succeed without: its control fails the stack when it fails (`required`,
/// `requisite`, or a `[...]` control whose action for a failure is `bad` or
/// `die`), it is not a `-auth` line (libpam skips those silently when the
/// module is missing), and no rule before it can end the stack with success
/// (`sufficient`, or `success=done`) or jump over it (`success=N`).
fn pam_second_factor(stack: &[PamRule]) -> PamFactor<'_> {
    let auth: Vec<&PamRule> = stack.iter().filter(|r| r.kind == PamType::Auth).collect();
    let mut skippable: Option<(&PamRule, String)> = None;
    for (i, r) in auth.iter().enumerate() {
        if !SECOND_FACTOR_MODULES.contains(&r.module_name()) {
            continue;
        }
        let why = if r.dash {
            Some(
                "it is a -auth line, which libpam skips silently when the module is missing"
                    .to_owned(),
            )
        } else if !fails_the_stack(&r.control) {
            Some(format!(
                "its control `{}` lets authentication succeed when the module fails",
                r.control
            ))
        } else {
            bypass_before(&auth, i).map(|b| {
                format!(
                    "the rule at {} (`{} {}`) can end authentication with success before it runs",
                    b.location(),
                    b.control,
                    b.module_name()
                )
            })
        };
        match why {
            None => return PamFactor::Required(r),
            Some(w) => {
                skippable.get_or_insert((r, w));
            }
        }
    }
    match skippable {
        Some((r, w)) => PamFactor::Skippable(r, w),
        None => PamFactor::Absent,
    }
}

/// True when a failure of the module fails the whole stack (pam.conf(5)).
fn fails_the_stack(c: &PamControl) -> bool {
    match c {
        PamControl::Required | PamControl::Requisite => true,
        // `auth_err` is what an authentication module returns on a wrong
        // factor; `action` falls back to `default`.
        PamControl::Complex(_) => matches!(c.action("auth_err"), Some("bad" | "die")),
        _ => false,
    }
}

/// The first rule before index `i` that can end the stack with success or
/// jump past rule `i` when it succeeds.
fn bypass_before<'a>(auth: &[&'a PamRule], i: usize) -> Option<&'a PamRule> {
    auth.iter().take(i).enumerate().find_map(|(j, r)| {
        let skips = match &r.control {
            PamControl::Sufficient => true,
            PamControl::Complex(_) => match r.control.action("success") {
                Some("done") => true,
                // `success=N` skips the next N rules: it lands on j + 1 + N.
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| j.checked_add(1)?.checked_add(n))
                    .is_some_and(|land| land > i),
                None => false,
            },
            _ => false,
        };
        skips.then_some(*r)
    })
}

/// Why an `AuthenticationMethods` value lets one factor open a session, or
/// `None` when every method list needs two or more methods (sshd_config(5):
/// "each list must succeed"). A list of keyboard-interactive alone counts as
/// two factors when `pam_kbd_mfa` (UsePAM yes and the `sshd` PAM stack
/// requires a second factor).
pub(super) fn sshd_single_factor(value: &str, pam_kbd_mfa: bool) -> Option<String> {
    for list in auth_method_lists(value) {
        if list.iter().any(|m| m == "any") {
            return Some(
                "any single method (a key or a password alone) opens a session".to_owned(),
            );
        }
        let kbd_only = list.iter().all(|m| m == "keyboard-interactive");
        if list.len() < 2 && !(kbd_only && pam_kbd_mfa) {
            return Some(format!(
                "the method list `{}` needs one factor only",
                list.join(",")
            ));
        }
    }
    None
}

/// ACC-15: some login path requires a second factor (IEC 62443-4-2 CR 1.1
/// RE2); each interactive path that does not is reported at low severity.
///
/// Paths: SSH (when `/etc/ssh/sshd_config` exists), judged by
/// `AuthenticationMethods` (global and per `Match` block), and each local login
/// service of [`LOCAL_LOGIN_SERVICES`] configured in PAM, judged by its
/// expanded `auth` stack.
pub fn acc15_mfa(ctx: &AuditContext<'_>) -> CheckOutcome {
    let pam = ctx.get::<PamStacks>();
    let sshd = ctx.get::<SshdConfig>();
    if !pam.present() && !sshd.present() {
        return CheckOutcome::NotApplicable(format!(
            "neither /etc/pam.d (or /etc/pam.conf) nor {SSHD_CONFIG} exists: the image configures no login"
        ));
    }
    let mut out = Vec::new();
    let mut paths = 0usize;
    if sshd.present() {
        paths += 1;
        let pam_kbd_mfa = flag_value(&sshd, None, "usepam")
            && pam
                .service("sshd")
                .is_some_and(|s| matches!(pam_second_factor(s), PamFactor::Required(_)));
        let global = sshd.get("authenticationmethods");
        if let Some(why) =
            sshd_single_factor(global.map_or("any", |s| s.value.as_str()), pam_kbd_mfa)
        {
            let b = ctx
                .finding(ACC15, "SSH login needs a single factor")
                .expected("AuthenticationMethods with two methods in every list, e.g. publickey,keyboard-interactive")
                .remediation(SSH_MFA_REMEDIATION);
            out.push(
                match global {
                    Some(s) => b
                        .at(s.file.clone(), s.line)
                        .observed(format!("AuthenticationMethods {}: {why}", s.value)),
                    None => b.file(SSHD_CONFIG).observed(format!(
                        "AuthenticationMethods not set; OpenSSH default any: {why}"
                    )),
                }
                .build(),
            );
        }
        for b in sshd.match_blocks().iter().filter(|b| !b.always) {
            let Some(s) = b.get("authenticationmethods") else {
                continue;
            };
            if let Some(why) = sshd_single_factor(&s.value, pam_kbd_mfa) {
                out.push(
                    ctx.finding(
                        ACC15,
                        format!(
                            "SSH login needs a single factor for connections matching `Match {}`",
                            b.criteria_text()
                        ),
                    )
                    .at(s.file.clone(), s.line)
                    .observed(format!(
                        "AuthenticationMethods {} in {}: {why}",
                        s.value,
                        b.describe()
                    ))
                    .expected("AuthenticationMethods with two methods in every list")
                    .remediation(SSH_MFA_REMEDIATION)
                    .build(),
                );
            }
        }
    }
    for name in LOCAL_LOGIN_SERVICES {
        let Some(stack) = pam.service(name) else {
            continue;
        };
        paths += 1;
        let expected = format!(
            "an auth rule that cannot be skipped for one of {}",
            SECOND_FACTOR_MODULES.join(", ")
        );
        let title = format!("local login through PAM service {name} needs a single factor");
        match pam_second_factor(stack) {
            PamFactor::Required(_) => {}
            PamFactor::Skippable(r, why) => out.push(
                ctx.finding(ACC15, title)
                    .at(r.file.clone(), r.line)
                    .observed(format!("{} is in the auth stack, but {why}", r.module_name()))
                    .expected(expected)
                    .remediation(PAM_MFA_REMEDIATION)
                    .build(),
            ),
            PamFactor::Absent => out.push(
                ctx.finding(ACC15, title)
                    .file(pam.service_path(name))
                    .observed("the expanded auth stack has no second-factor module: one factor (usually the password) logs in")
                    .expected(expected)
                    .remediation(PAM_MFA_REMEDIATION)
                    .build(),
            ),
        }
    }
    if paths == 0 {
        return CheckOutcome::NotApplicable(format!(
            "no interactive login is configured: {SSHD_CONFIG} is absent and PAM has none of the services {}",
            LOCAL_LOGIN_SERVICES.join(", ")
        ));
    }
    CheckOutcome::Ran(out)
}

const SSH_MFA_REMEDIATION: &str = "Require a device-bound key and a second factor: `AuthenticationMethods publickey,keyboard-interactive` with `UsePAM yes` and a one-time-code or token module (pam_oath, pam_u2f) required in /etc/pam.d/sshd.";

const PAM_MFA_REMEDIATION: &str = "Add a second factor that every login must pass, e.g. `auth required pam_u2f.so` (a FIDO token) or pam_oath / pam_pkcs11, after the password rule and with no `sufficient` rule before it.";
