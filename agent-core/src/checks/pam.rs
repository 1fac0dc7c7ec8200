//! PAM-based checks: ACC-04 (password hashes), ACC-06 (password quality),
//! ACC-07 (lock-out) and ACC-08 (`nullok`).
//!
//! Each check reads the expanded stacks of the services that carry a policy
//! on the distributions dha meets: Debian's `common-*` files, Red Hat's
//! `system-auth` / `password-auth`, and the services that include them. A
//! weakness met through several stacks (a line of `common-password` that
//! `passwd` includes) is reported once, at the line that causes it.

use crate::audit::{AuditContext, CheckOutcome, FindingBuilder};
use crate::finding::{Finding, Severity};
use crate::parse::pam::{PamControl, PamRule, PamStacks};
use crate::parse::pamconf::ConfValues;
use std::collections::HashSet;
use std::rc::Rc;

mod hashes;
mod lockout;
mod quality;

pub use hashes::acc04_hashes;
pub use lockout::acc07_lockout;
pub use quality::acc06_quality;

/// ACC-08: no `nullok` / `nullok_secure` on any pam_unix line, in any PAM file.
///
/// pam_unix(8): "nullok: The default action of this module is to not permit
/// the user access to a service if their official password is blank. The
/// nullok argument overrides this default." An account whose shadow field is
/// empty (or becomes empty) then logs in with no password at all. SSG
/// `no_empty_passwords`; IEC 62443-4-2 CR 1.1. Every file is examined, not
/// only the stacks in use, because a file that no service includes today is
/// one `@include` away from being live.
pub fn acc08_nullok(ctx: &AuditContext<'_>) -> CheckOutcome {
    let pam = match pam_stacks(ctx) {
        Ok(p) => p,
        Err(na) => return na,
    };
    let mut out = Findings::default();
    for file in pam.files() {
        for r in &file.rules {
            if !is_pam_unix(r) {
                continue;
            }
            // Debian's pam_unix also knows nullok_secure (empty passwords
            // allowed on the terminals of /etc/securetty): still no password.
            for opt in ["nullok", "nullok_secure"] {
                if !r.has_arg(opt) {
                    continue;
                }
                out.push(
                    ctx.finding(
                        "ACC-08",
                        format!("pam_unix accepts an empty password ({opt})"),
                    )
                    .at(&r.file, r.line)
                    .observed(format!(
                        "{} {} {} {}",
                        r.kind,
                        r.control,
                        r.module,
                        r.args.join(" ")
                    ))
                    .expected(format!("no {opt} argument on pam_unix"))
                    .remediation(format!(
                        "Remove {opt} from this pam_unix line so that an account with an empty password field cannot log in; give every interactive account a password or lock it."
                    ))
                    .ssg(&["no_empty_passwords"]),
                );
            }
        }
    }
    CheckOutcome::Ran(out.into_vec())
}

/// The PAM configuration, or the check's "not applicable" outcome when the
/// root has none.
fn pam_stacks(ctx: &AuditContext<'_>) -> Result<Rc<PamStacks>, CheckOutcome> {
    let pam = ctx.get::<PamStacks>();
    if pam.present() {
        Ok(pam)
    } else {
        Err(CheckOutcome::NotApplicable(
            "/etc/pam.d and /etc/pam.conf are absent: the image does not use PAM, so no PAM stack can be examined".to_owned(),
        ))
    }
}

/// True for pam_unix (and the split `pam_unix_auth`, `pam_unix_passwd`, …
/// modules of old Linux-PAM releases, which take the same arguments).
fn is_pam_unix(r: &PamRule) -> bool {
    let m = r.module_name();
    m == "pam_unix" || m.starts_with("pam_unix_")
}

/// The services that exist among `names`, in that order, with their stacks.
fn existing<'p>(pam: &'p PamStacks, names: &[&'static str]) -> Vec<(&'static str, &'p [PamRule])> {
    names
        .iter()
        .filter_map(|n| pam.service(n).map(|s| (*n, s)))
        .collect()
}

/// True when a failure of the rule (the module returning `failure`, e.g.
/// `authtok_err`) fails the stack: `required`, `requisite`, or a complex
/// control whose action for that value is `bad` or `die` (pam.conf(5)).
fn enforces(r: &PamRule, failure: &str) -> bool {
    match &r.control {
        PamControl::Required | PamControl::Requisite => true,
        c @ PamControl::Complex(_) => matches!(c.action(failure), Some("bad" | "die")),
        _ => false,
    }
}

/// Where a setting's effective value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A line of a file (a module argument or a configuration line).
    Line(String, u32),
    /// A file that lacks the setting (where it should be written).
    File(String),
}

impl Place {
    fn of_rule(r: &PamRule) -> Place {
        Place::Line(r.file.clone(), r.line)
    }

    fn apply(&self, b: FindingBuilder) -> FindingBuilder {
        match self {
            Place::Line(f, l) => b.at(f, *l),
            Place::File(f) => b.file(f),
        }
    }
}

/// A module setting with its source: the module argument, which overrides the
/// module's configuration file, which overrides the built-in default.
#[derive(Debug, Clone)]
struct Setting {
    /// The value, `None` when neither the arguments nor the file set it.
    value: Option<String>,
    /// Where it comes from (the file to fix when it is not set).
    place: Place,
    /// "argument", the file name, or "default", for evidence.
    origin: String,
}

impl Setting {
    fn of(r: &PamRule, key: &str, conf: Option<&ConfValues>, unset: &Place) -> Setting {
        if let Some(v) = r.arg(key) {
            return Setting {
                value: Some(v.to_owned()),
                place: Place::of_rule(r),
                origin: format!("module argument on {}", r.location()),
            };
        }
        if let Some(s) = conf.and_then(|c| c.get(key)) {
            return Setting {
                value: Some(s.value.clone()),
                place: Place::Line(s.file.clone(), s.line),
                origin: format!("{}:{}", s.file, s.line),
            };
        }
        Setting {
            value: None,
            place: unset.clone(),
            origin: "not set".to_owned(),
        }
    }

    /// `key=value (origin)` or `key not set (default D)`, for evidence.
    fn describe(&self, key: &str, default: &str) -> String {
        match &self.value {
            Some(v) if v.is_empty() => format!("{key} ({})", self.origin),
            Some(v) => format!("{key}={v} ({})", self.origin),
            None => format!("{key} not set (default {default})"),
        }
    }
}

/// Findings without repeats: the same weakness reached through several
/// stacks (a line of common-auth included by login, sshd, su…) counts once.
#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
    seen: HashSet<(String, String)>,
}

impl Findings {
    fn push(&mut self, b: FindingBuilder) {
        let f = b.build();
        if self.seen.insert((f.title.clone(), f.location())) {
            self.list.push(f);
        }
    }

    fn push_with(&mut self, b: FindingBuilder, sev: Severity) {
        self.push(b.severity(sev));
    }

    fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A root built in a temporary directory, audited with one check:
    //! thin PAM-specific wrappers over [`crate::testing`].

    use crate::audit::CheckFn;
    use crate::config::Config;
    use crate::finding::Finding;
    use crate::report::{CheckStatus, Report};

    /// Writes `files` (device path, content) under a temporary root and
    /// audits it with `check` registered as `id`.
    pub fn audit(files: &[(&str, &str)], id: &'static str, check: CheckFn) -> Report {
        audit_with(files, id, check, &Config::default())
    }

    /// Same, with a configuration.
    pub fn audit_with(
        files: &[(&str, &str)],
        id: &'static str,
        check: CheckFn,
        cfg: &Config,
    ) -> Report {
        let mut t = crate::testing::TestRoot::new(files);
        t.cfg = cfg.clone();
        t.audit(id, check)
    }

    /// True when the check was not applicable.
    pub fn not_applicable(r: &Report) -> bool {
        r.checks
            .iter()
            .all(|c| c.status == CheckStatus::NotApplicable)
    }

    /// `(location, title)` pairs, for compact assertions.
    pub fn locs(f: &[Finding]) -> Vec<(String, String)> {
        f.iter().map(|f| (f.location(), f.title.clone())).collect()
    }

    /// The locations alone.
    pub fn places(f: &[Finding]) -> Vec<String> {
        f.iter().map(Finding::location).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn nullok_is_found_in_every_file_with_its_line() {
        let r = audit(
            &[
                (
                    "/etc/pam.d/common-auth",
                    "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n",
                ),
                ("/etc/pam.d/login", "@include common-auth\n"),
                (
                    "/etc/pam.d/unused-old",
                    "# not included anywhere\nauth sufficient /lib/security/pam_unix.so nullok_secure try_first_pass\n",
                ),
                ("/etc/pam.d/other", "auth required pam_deny.so nullok\n"),
            ],
            "ACC-08",
            acc08_nullok,
        );
        assert_eq!(
            places(&r.findings),
            vec!["/etc/pam.d/common-auth:1", "/etc/pam.d/unused-old:2"]
        );
        assert_eq!(r.findings[0].severity, Severity::High);
        assert_eq!(r.findings[0].references.ssg, vec!["no_empty_passwords"]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn no_pam_is_not_applicable_and_clean_pam_passes() {
        let r = audit(
            &[("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")],
            "ACC-08",
            acc08_nullok,
        );
        assert!(not_applicable(&r));
        let r = audit(
            &[("/etc/pam.d/common-auth", "auth required pam_unix.so\n")],
            "ACC-08",
            acc08_nullok,
        );
        assert!(r.findings.is_empty());
        assert!(!not_applicable(&r));
    }
}
