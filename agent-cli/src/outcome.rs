//! What an audit means for the exit status (`--fail-on`).

use dha_core::{Report, Severity};

/// The exit status when no finding reaches `--fail-on`.
pub const EXIT_PASS: u8 = 0;
/// The exit status when at least one finding reaches `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// The exit status of a usage error, an unreadable root or configuration, an
/// audit in which no check could run, or a report that could not be written.
/// clap uses the same number for its own usage errors.
pub const EXIT_ERROR: u8 = 2;

/// The lowest severity that fails the run (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Findings never fail the run (errors still exit 2).
    None,
    /// Any finding fails the run.
    Info,
    /// A low, medium, high or critical finding fails the run.
    Low,
    /// A medium, high or critical finding fails the run.
    Medium,
    /// A high or critical finding fails the run (the default).
    High,
    /// Only a critical finding fails the run.
    Critical,
}

impl FailOn {
    /// The threshold, or `None` when findings never fail the run.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::None => None,
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
        }
    }

    /// The name as written on the command line.
    pub fn as_str(self) -> &'static str {
        self.threshold().map_or("none", Severity::as_str)
    }
}

/// What the audit amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// At least one check ran and no finding reaches the threshold.
    Pass,
    /// This many findings reach the threshold.
    Fail(usize),
    /// Every check was not applicable or disabled: nothing was audited.
    ///
    /// A gate must not report success for a directory that holds no device
    /// (a mistyped or empty image path): "no finding" would then mean
    /// "nothing looked at", not "hardened".
    NothingAudited,
}

impl Verdict {
    /// The verdict of `report` against `threshold` (`None`: findings never fail).
    pub fn of(report: &Report, threshold: Option<Severity>) -> Verdict {
        if !report.audited_a_device() {
            return Verdict::NothingAudited;
        }
        let failing = threshold.map_or(0, |t| {
            report.findings.iter().filter(|f| f.severity >= t).count()
        });
        if failing > 0 {
            Verdict::Fail(failing)
        } else {
            Verdict::Pass
        }
    }

    /// The process exit status.
    pub fn exit_status(self) -> u8 {
        match self {
            Verdict::Pass => EXIT_PASS,
            Verdict::Fail(_) => EXIT_FINDINGS,
            Verdict::NothingAudited => EXIT_ERROR,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dha_core::{CheckResult, CheckStatus, Evidence, Finding, References};

    pub(crate) fn finding(id: &str, severity: Severity) -> Finding {
        Finding {
            check_id: id.to_owned(),
            severity,
            title: format!("{id} title"),
            evidence: Evidence::default(),
            remediation: String::new(),
            references: References::default(),
        }
    }

    pub(crate) fn check(id: &str, status: CheckStatus) -> CheckResult {
        CheckResult {
            id: id.to_owned(),
            title: format!("{id} catalogue title"),
            status,
            findings: 0,
            reason: (status == CheckStatus::NotApplicable).then(|| format!("{id} inputs absent")),
        }
    }

    pub(crate) fn report(findings: Vec<Finding>, checks: Vec<CheckResult>) -> Report {
        let mut r: Report = serde_json::from_str(
            r#"{"schema_version":1,"agent":{"name":"dha","version":"0.1.0"},
                "device":{"os_release":{}},"root":"/img","started":"2026-11-29T00:00:00Z",
                "finished":"2026-11-29T00:00:00Z","findings":[],
                "counts":{"info":0,"low":0,"medium":0,"high":0,"critical":0},
                "checks":[],"warnings":[]}"#,
        )
        .unwrap();
        r.counts = dha_core::SeverityCounts::of(&findings);
        r.findings = findings;
        r.checks = checks;
        r
    }

    #[test]
    fn thresholds_compare_by_gravity() {
        let r = report(
            vec![
                finding("ACC-05", Severity::Medium),
                finding("ACC-12", Severity::Low),
            ],
            vec![
                check("ACC-05", CheckStatus::Fail),
                check("ACC-12", CheckStatus::Fail),
            ],
        );
        assert_eq!(Verdict::of(&r, Some(Severity::High)), Verdict::Pass);
        assert_eq!(Verdict::of(&r, Some(Severity::Medium)), Verdict::Fail(1));
        assert_eq!(Verdict::of(&r, Some(Severity::Info)), Verdict::Fail(2));
        assert_eq!(Verdict::of(&r, None), Verdict::Pass);
        assert_eq!(Verdict::Fail(2).exit_status(), 1);
        assert_eq!(Verdict::Pass.exit_status(), 0);
    }

    #[test]
    fn a_root_where_nothing_applies_is_an_error_not_a_pass() {
        let r = report(
            vec![],
            vec![
                check("ACC-01", CheckStatus::NotApplicable),
                check("ACC-05", CheckStatus::Disabled),
            ],
        );
        assert_eq!(
            Verdict::of(&r, Some(Severity::High)),
            Verdict::NothingAudited
        );
        assert_eq!(Verdict::of(&r, None), Verdict::NothingAudited);
        assert_eq!(Verdict::NothingAudited.exit_status(), 2);
        let one_ran = report(
            vec![],
            vec![
                check("ACC-01", CheckStatus::Pass),
                check("ACC-05", CheckStatus::NotApplicable),
            ],
        );
        assert_eq!(Verdict::of(&one_ran, Some(Severity::Info)), Verdict::Pass);
    }

    #[test]
    fn fail_on_names_round_trip() {
        use clap::ValueEnum;
        for v in FailOn::value_variants() {
            assert_eq!(FailOn::from_str(v.as_str(), false).unwrap(), *v);
        }
    }
}
