//! ACC-04: strong password hashes, stored (`/etc/shadow`) and configured
//! (`ENCRYPT_METHOD` in `/etc/login.defs`, the hash option of pam_unix).
//!
//! Lynis AUTH-9229 / AUTH-9230; SSG `set_password_hashing_algorithm_logindefs`,
//! `set_password_hashing_algorithm_systemauth`; IEC 62443-4-2 CR 1.5.

use super::{Findings, Place, existing, is_pam_unix};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use crate::parse::accounts::{Accounts, HashKind};
use crate::parse::logindefs::{KeyValues, LoginDefs};
use crate::parse::pam::{PamRule, PamStacks, PamType};

const LOGIN_DEFS: &str = "/etc/login.defs";
const SSG_LOGINDEFS: &str = "set_password_hashing_algorithm_logindefs";
const SSG_SYSTEMAUTH: &str = "set_password_hashing_algorithm_systemauth";

/// The smallest bcrypt cost accepted for a stored hash (OWASP Password
/// Storage Cheat Sheet: "a work factor of 10 or more"; libxcrypt's default
/// when none is asked for is 5).
pub const BCRYPT_MIN_COST: u32 = 10;

/// glibc's and libxcrypt's SHA-crypt rounds when none are given
/// (crypt(5): "rounds=5000" is the default).
const SHA_DEFAULT_ROUNDS: i64 = 5000;

/// The services whose password stack stores new passwords: Debian's
/// common-password, Red Hat's system-auth / password-auth, and the programs
/// that change passwords.
const PASSWORD_SERVICES: &[&str] = &[
    "common-password",
    "system-auth",
    "password-auth",
    "passwd",
    "chpasswd",
    "newusers",
];

/// ACC-04: every stored hash is yescrypt or SHA-512 with enough rounds, and
/// the tools that write new hashes are configured to do so.
pub fn acc04_hashes(ctx: &AuditContext<'_>) -> CheckOutcome {
    let accounts = ctx.get::<Accounts>();
    let defs = ctx.get::<LoginDefs>();
    let pam = ctx.get::<PamStacks>();
    if !accounts.shadow.present() && !defs.0.present() && !pam.present() {
        return CheckOutcome::NotApplicable(
            "/etc/shadow, /etc/login.defs and the PAM configuration are all absent: nothing stores or configures password hashes".to_owned(),
        );
    }
    let mut out = Findings::default();
    stored(ctx, &accounts, &mut out);
    if defs.0.present() {
        login_defs(ctx, &defs.0, &mut out);
    }
    pam_unix(ctx, &pam, &defs.0, &mut out);
    CheckOutcome::Ran(out.into_vec())
}

/// Why a stored hash is weak, with how much it matters; `None` when strong.
fn stored_weakness(kind: &HashKind, min_rounds: u32) -> Option<(Severity, String)> {
    match kind {
        HashKind::Empty | HashKind::Locked | HashKind::Yescrypt | HashKind::GostYescrypt => None,
        HashKind::Sha512 { rounds } if *rounds >= min_rounds => None,
        HashKind::Sha512 { rounds } => Some((
            Severity::Medium,
            format!("SHA-512 crypt with {rounds} rounds, fewer than {min_rounds}"),
        )),
        HashKind::Bcrypt { cost } if *cost >= BCRYPT_MIN_COST => None,
        HashKind::Bcrypt { cost } => Some((
            Severity::Medium,
            format!("bcrypt with cost {cost}, below {BCRYPT_MIN_COST}"),
        )),
        HashKind::Sha256 { .. } => Some((
            Severity::Medium,
            "SHA-256 crypt, weaker than the SHA-512 or yescrypt the policy asks for".to_owned(),
        )),
        // Both fall to commodity hardware: DES keeps only 8 characters and
        // MD5 crypt is a fixed 1000 rounds of MD5.
        HashKind::Md5 => Some((Severity::High, "MD5 crypt ($1$), broken".to_owned())),
        HashKind::Des => Some((
            Severity::High,
            "traditional DES crypt, broken (only 8 characters count)".to_owned(),
        )),
        HashKind::Other(p) => Some((
            Severity::Medium,
            format!("an unknown scheme ({p}) that cannot be shown to be strong"),
        )),
    }
}

fn stored(ctx: &AuditContext<'_>, accounts: &Accounts, out: &mut Findings) {
    let Some(path) = accounts.shadow.path.as_deref() else {
        return;
    };
    let min_rounds = ctx.config.password.sha512_min_rounds;
    let expected = format!("yescrypt ($y$) or SHA-512 ($6$) with at least {min_rounds} rounds");
    for e in &accounts.shadow.entries {
        // A password field behind `!` is locked (usermod -L / passwd -l) but
        // comes back as it is on unlock; `*` never held a password.
        let (kind, locked) = match e.hash_kind() {
            HashKind::Locked => (HashKind::of(e.password.trim_start_matches('!')), true),
            k => (k, false),
        };
        let Some((sev, why)) = stored_weakness(&kind, min_rounds) else {
            continue;
        };
        let (title, sev) = if locked {
            (
                format!(
                    "the locked password of {} is stored with a weak hash (it is usable again once unlocked)",
                    e.name
                ),
                Severity::Low,
            )
        } else {
            (
                format!("the password of {} is stored with a weak hash", e.name),
                sev,
            )
        };
        // Evidence describes the scheme only; the hash is never copied.
        out.push_with(
            ctx.finding("ACC-04", title)
                .at(path, e.line)
                .observed(why)
                .expected(expected.clone())
                .remediation(format!(
                    "Make sure the hashing is configured strongly (ENCRYPT_METHOD YESCRYPT in /etc/login.defs, yescrypt on pam_unix), then have {} set a new password (passwd -e {} forces it at the next login); a hash cannot be upgraded without the password.",
                    e.name, e.name
                ))
                .ssg(&[SSG_LOGINDEFS]),
            sev,
        );
    }
}

/// What shadow-utils will hash new passwords with (login.defs(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
enum DefsMethod {
    Yescrypt,
    Sha512,
    /// Another valid method (`SHA256`, `BCRYPT`, `MD5`, `DES`), upper case.
    Other(String),
    /// ENCRYPT_METHOD not set: MD5 when MD5_CRYPT_ENAB is yes, else DES.
    Unset {
        md5: bool,
    },
    /// A value shadow-utils does not recognise: it falls back to DES.
    Invalid(String),
}

fn defs_method(defs: &KeyValues) -> DefsMethod {
    let Some(s) = defs.get("ENCRYPT_METHOD") else {
        // shadow-utils lib/salt.c: with no ENCRYPT_METHOD, `MD5_CRYPT_ENAB`
        // picks MD5, otherwise DES.
        let md5 = defs
            .get("MD5_CRYPT_ENAB")
            .is_some_and(|v| v.value.eq_ignore_ascii_case("yes"));
        return DefsMethod::Unset { md5 };
    };
    // lib/salt.c compares with strcmp: "sha512" is not "SHA512", and an
    // unrecognised method makes it print "Defaulting to DES".
    match s.value.as_str() {
        "YESCRYPT" => DefsMethod::Yescrypt,
        "SHA512" => DefsMethod::Sha512,
        v @ ("SHA256" | "BCRYPT" | "MD5" | "DES" | "GOST_YESCRYPT") => {
            DefsMethod::Other(v.to_owned())
        }
        v => DefsMethod::Invalid(v.to_owned()),
    }
}

/// The fewest rounds shadow-utils may choose for SHA-crypt (lib/salt.c
/// `SHA_get_salt_rounds`): unset bounds default to each other, a minimum
/// above the maximum wins, and the result is clamped to 1000..=999999999.
/// Returns the rounds and the line that decides them, if any.
fn sha_min_rounds(defs: &KeyValues) -> (i64, Option<(String, u32)>) {
    let min = defs.get_i64("SHA_CRYPT_MIN_ROUNDS");
    let max = defs.get_i64("SHA_CRYPT_MAX_ROUNDS");
    let (rounds, at) = match (min, max) {
        (None, None) => (SHA_DEFAULT_ROUNDS, None),
        (Some((v, s)), _) | (None, Some((v, s))) => (v, Some((s.file.clone(), s.line))),
    };
    (rounds.clamp(1000, 999_999_999), at)
}

fn login_defs(ctx: &AuditContext<'_>, defs: &KeyValues, out: &mut Findings) {
    let path = defs.path.as_deref().unwrap_or(LOGIN_DEFS);
    let line = defs.get("ENCRYPT_METHOD").map(|s| (s.file.clone(), s.line));
    let place = line.map_or_else(|| Place::File(path.to_owned()), |(f, l)| Place::Line(f, l));
    let min_rounds = ctx.config.password.sha512_min_rounds;
    let weak = |observed: String, sev: Severity| {
        place
            .apply(ctx.finding(
                "ACC-04",
                "login.defs does not hash new passwords with yescrypt or SHA-512",
            ))
            .observed(observed)
            .expected("ENCRYPT_METHOD YESCRYPT (or SHA512)")
            .remediation("Set `ENCRYPT_METHOD YESCRYPT` in /etc/login.defs (upper case: shadow-utils compares it exactly), then have users with older hashes change their passwords.")
            .ssg(&[SSG_LOGINDEFS])
            .severity(sev)
    };
    match defs_method(defs) {
        DefsMethod::Yescrypt => {}
        DefsMethod::Sha512 => {
            let (rounds, at) = sha_min_rounds(defs);
            if rounds < i64::from(min_rounds) {
                let place = at.map_or(place.clone(), |(f, l)| Place::Line(f, l));
                out.push(
                    place
                        .apply(ctx.finding(
                            "ACC-04",
                            "login.defs hashes new passwords with too few SHA-512 rounds",
                        ))
                        .severity(Severity::Medium)
                        .observed(format!("SHA-512 crypt with as few as {rounds} rounds"))
                        .expected(format!("SHA_CRYPT_MIN_ROUNDS of at least {min_rounds}"))
                        .remediation(format!(
                            "Set SHA_CRYPT_MIN_ROUNDS and SHA_CRYPT_MAX_ROUNDS to {min_rounds} or more in /etc/login.defs, or switch to ENCRYPT_METHOD YESCRYPT."
                        ))
                        .ssg(&[SSG_LOGINDEFS]),
                );
            }
        }
        DefsMethod::Other(m) => {
            let sev = if m == "MD5" || m == "DES" {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(weak(format!("ENCRYPT_METHOD {m}"), sev));
        }
        DefsMethod::Unset { md5 } => out.push(weak(
            format!(
                "ENCRYPT_METHOD not set: shadow-utils falls back to {}",
                if md5 { "MD5 (MD5_CRYPT_ENAB yes)" } else { "DES" }
            ),
            Severity::High,
        )),
        DefsMethod::Invalid(v) => out.push(weak(
            format!(
                "ENCRYPT_METHOD {v:?} is not a method shadow-utils knows (the comparison is case-sensitive): it falls back to DES"
            ),
            Severity::High,
        )),
    }
}

/// The hash options of pam_unix (pam_unix(8)); they exclude each other and
/// the last one on the line wins (support.c masks out the others).
const PAM_UNIX_HASHES: &[&str] = &[
    "md5",
    "bigcrypt",
    "sha256",
    "sha512",
    "blowfish",
    "gost_yescrypt",
    "yescrypt",
];

/// The hash a pam_unix line writes, and what decides it.
fn pam_unix_method(r: &PamRule, defs: &KeyValues) -> (String, String) {
    if let Some(opt) = r
        .args
        .iter()
        .rev()
        .find(|a| PAM_UNIX_HASHES.contains(&a.as_str()))
    {
        return (opt.clone(), format!("{opt} option"));
    }
    // pam_unix(8): with no hash option the ENCRYPT_METHOD of login.defs is
    // used; support.c matches it case-insensitively against the option names
    // and, when nothing matches (or it is unset), hashes with DES/bigcrypt.
    match defs.get("ENCRYPT_METHOD") {
        Some(s) => {
            let v = s.value.to_ascii_lowercase();
            let m = PAM_UNIX_HASHES
                .iter()
                .find(|h| v.starts_with(**h))
                .map_or("des", |h| *h);
            (
                m.to_owned(),
                format!(
                    "no hash option: ENCRYPT_METHOD {} of {}:{}",
                    s.value, s.file, s.line
                ),
            )
        }
        None => (
            "des".to_owned(),
            "no hash option and no ENCRYPT_METHOD in /etc/login.defs".to_owned(),
        ),
    }
}

fn pam_unix(ctx: &AuditContext<'_>, pam: &PamStacks, defs: &KeyValues, out: &mut Findings) {
    let min_rounds = ctx.config.password.sha512_min_rounds;
    for (_, stack) in existing(pam, PASSWORD_SERVICES) {
        for r in stack
            .iter()
            .filter(|r| r.kind == PamType::Password && is_pam_unix(r))
        {
            let (method, why) = pam_unix_method(r, defs);
            let (sev, observed) = match method.as_str() {
                "yescrypt" | "gost_yescrypt" => continue,
                "sha512" => {
                    // `rounds=` on the line; otherwise pam_unix takes
                    // SHA_CRYPT_MAX_ROUNDS from login.defs, else crypt's 5000.
                    let rounds = r
                        .arg("rounds")
                        .and_then(|v| v.parse::<i64>().ok())
                        .or_else(|| defs.get_i64("SHA_CRYPT_MAX_ROUNDS").map(|(v, _)| v))
                        .unwrap_or(SHA_DEFAULT_ROUNDS)
                        .clamp(1000, 999_999_999);
                    if rounds >= i64::from(min_rounds) {
                        continue;
                    }
                    (
                        Severity::Medium,
                        format!("SHA-512 crypt with {rounds} rounds ({why})"),
                    )
                }
                "md5" | "bigcrypt" | "des" => (Severity::High, format!("{method} ({why})")),
                _ => (Severity::Medium, format!("{method} ({why})")),
            };
            out.push_with(
                ctx.finding(
                    "ACC-04",
                    "pam_unix does not hash new passwords with yescrypt or SHA-512",
                )
                .at(&r.file, r.line)
                .observed(observed)
                .expected(format!(
                    "yescrypt (or sha512 with rounds of at least {min_rounds})"
                ))
                .remediation(
                    "Put `yescrypt` on the pam_unix password line (and remove md5, bigcrypt, sha256 or blowfish), e.g. `password [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt`.",
                )
                .ssg(&[SSG_SYSTEMAUTH]),
                sev,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::testing::{located, observed};

    const DEFS_OK: &str = "ENCRYPT_METHOD YESCRYPT\n";

    #[test]
    fn weak_stored_hashes_are_reported_without_the_hash() {
        let shadow = "root:$y$j9T$salt$hash:20000:0:90:7:::\n\
                      a:$1$saltsalt$SECRETmd5hashvalue:20000:0:90:7:::\n\
                      b:abcdefghijklm:20000:0:90:7:::\n\
                      c:$6$rounds=1000$salt$SECRET:20000:0:90:7:::\n\
                      d:$6$salt$SECRET:20000:0:90:7:::\n\
                      e:$5$salt$SECRET:20000:0:90:7:::\n\
                      f:$2b$05$SECRETSECRETSECRETSECRE:20000:0:90:7:::\n\
                      g:$2b$12$SECRETSECRETSECRETSECRE:20000:0:90:7:::\n\
                      h:!$1$salt$SECRET:20000:0:90:7:::\n\
                      i:*:20000:0:90:7:::\n\
                      j:!:20000:0:90:7:::\n\
                      k:$7$SECRET:20000:0:90:7:::\n";
        let r = audit(
            &[("/etc/shadow", shadow), ("/etc/login.defs", DEFS_OK)],
            "ACC-04",
            acc04_hashes,
        );
        let got = located(&r);
        assert_eq!(
            got,
            vec![
                ("/etc/shadow:2".to_owned(), Severity::High),
                ("/etc/shadow:3".to_owned(), Severity::High),
                ("/etc/shadow:4".to_owned(), Severity::Medium),
                ("/etc/shadow:6".to_owned(), Severity::Medium),
                ("/etc/shadow:7".to_owned(), Severity::Medium),
                ("/etc/shadow:9".to_owned(), Severity::Low),
                ("/etc/shadow:12".to_owned(), Severity::Medium),
            ]
        );
        let json = serde_json::to_string(&r.findings).unwrap();
        assert!(!json.contains("SECRET"), "a hash leaked: {json}");
        assert!(!json.contains("saltsalt"));
    }

    #[test]
    fn login_defs_method_and_rounds() {
        let cases: &[(&str, Option<&str>)] = &[
            ("ENCRYPT_METHOD YESCRYPT\n", None),
            ("ENCRYPT_METHOD SHA512\n", None),
            (
                "ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS 1000\n",
                Some("/etc/login.defs:2"),
            ),
            ("ENCRYPT_METHOD SHA512\nSHA_CRYPT_MAX_ROUNDS 65536\n", None),
            ("ENCRYPT_METHOD MD5\n", Some("/etc/login.defs:1")),
            ("ENCRYPT_METHOD sha512\n", Some("/etc/login.defs:1")),
            ("UMASK 027\n", Some("/etc/login.defs")),
        ];
        for (defs, want) in cases {
            let r = audit(&[("/etc/login.defs", defs)], "ACC-04", acc04_hashes);
            assert_eq!(
                places(&r.findings),
                want.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                "{defs}"
            );
        }
        let r = audit(
            &[("/etc/login.defs", "ENCRYPT_METHOD sha512\n")],
            "ACC-04",
            acc04_hashes,
        );
        assert!(observed(&r.findings[0]).contains("DES"));
    }

    #[test]
    fn pam_unix_hash_options_and_login_defs_fallback() {
        let common = "password requisite pam_pwquality.so retry=3\n\
                      password [success=1 default=ignore] pam_unix.so obscure use_authtok md5 sha512\n\
                      password [success=1 default=ignore] pam_unix.so use_authtok sha512 rounds=2000\n\
                      password [success=1 default=ignore] pam_unix.so use_authtok yescrypt\n\
                      password [success=1 default=ignore] pam_unix.so use_authtok\n\
                      password [success=1 default=ignore] pam_unix.so use_authtok yescrypt md5\n\
                      auth required pam_unix.so md5\n";
        let r = audit(
            &[
                ("/etc/pam.d/common-password", common),
                ("/etc/pam.d/passwd", "@include common-password\n"),
                ("/etc/login.defs", "ENCRYPT_METHOD MD5\n"),
            ],
            "ACC-04",
            acc04_hashes,
        );
        let pam: Vec<_> = places(&r.findings)
            .into_iter()
            .filter(|p| p.starts_with("/etc/pam.d"))
            .collect();
        // Line 2 (sha512 wins over md5) passes; line 5 falls back to MD5;
        // reported once although passwd includes the file.
        assert_eq!(
            pam,
            vec![
                "/etc/pam.d/common-password:3",
                "/etc/pam.d/common-password:5",
                "/etc/pam.d/common-password:6"
            ]
        );
        let r = audit(
            &[
                (
                    "/etc/pam.d/common-password",
                    "password required pam_unix.so\n",
                ),
                ("/etc/login.defs", DEFS_OK),
            ],
            "ACC-04",
            acc04_hashes,
        );
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn nothing_to_read_is_not_applicable() {
        let r = audit(&[("/etc/hostname", "x\n")], "ACC-04", acc04_hashes);
        assert!(not_applicable(&r));
    }
}
