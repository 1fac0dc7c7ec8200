//! What the checks' unit tests share: a device root built in a temporary
//! directory, audited with one check at the fixtures' time through the
//! [`Auditor`] (so warnings and not-applicable reasons are seen as a report
//! shows them), and short summaries of the report for compact assertions.
//!
//! Fixtures, and helpers that only one area needs, stay with that area's
//! tests.

use crate::audit::{Auditor, CheckFn};
use crate::clock::FixedClock;
use crate::config::Config;
use crate::finding::{Finding, Severity};
use crate::report::{CheckStatus, Report};
use crate::root::Root;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::PathBuf;

/// 2026-11-29T00:00:00Z (shadow day 20786): the clock of the unit tests and
/// of the fixtures.
pub(crate) const NOW: u64 = 1_795_910_400;

/// A device root in a temporary directory, and the configuration its audits
/// use.
pub(crate) struct TestRoot {
    dir: tempfile::TempDir,
    /// The configuration [`TestRoot::audit`] runs with: the default until a
    /// test changes it.
    pub(crate) cfg: Config,
}

impl TestRoot {
    /// A root holding `files` (device path, content).
    pub(crate) fn new(files: &[(&str, &str)]) -> TestRoot {
        let t = TestRoot {
            dir: tempfile::tempdir().unwrap(),
            cfg: Config::default(),
        };
        for (p, text) in files {
            t.write(p, text);
        }
        t
    }

    /// Where the device path `p` is on this machine.
    pub(crate) fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    /// Writes `text` to `p`, making its parent directories.
    pub(crate) fn write(&self, p: &str, text: &str) {
        let p = self.path(p);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// Sets the permission bits of `p`.
    pub(crate) fn mode(&self, p: &str, mode: u32) {
        fs::set_permissions(self.path(p), fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Makes the directory `p` (and its parents) and sets its mode.
    pub(crate) fn mkdir(&self, p: &str, mode: u32) {
        fs::create_dir_all(self.path(p)).unwrap();
        self.mode(p, mode);
    }

    /// Makes `p` a symbolic link to `target`, making its parent directories.
    pub(crate) fn link(&self, p: &str, target: &str) {
        let p = self.path(p);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }

    /// True when the tests may chown (they run as root in CI, like the
    /// fixtures).
    pub(crate) fn can_chown(&self) -> bool {
        fs::metadata(self.dir.path()).unwrap().uid() == 0
    }

    /// Sets an owner where possible; tests that depend on it check
    /// [`TestRoot::can_chown`].
    pub(crate) fn own(&self, p: &str, uid: u32, gid: u32) {
        if self.can_chown() {
            lchown(self.path(p), Some(uid), Some(gid)).unwrap();
        }
    }

    /// Audits the root at [`NOW`] with `check` alone, registered as `id`.
    pub(crate) fn audit(&self, id: &'static str, check: CheckFn) -> Report {
        let root = Root::open(self.dir.path()).unwrap();
        let clock = FixedClock::from_unix_secs(NOW);
        Auditor::new(&self.cfg, &clock).run_checks(&root, &[(id, check)])
    }
}

/// `(location, severity, first SSG rule)` of each finding, in report order.
pub(crate) fn found(r: &Report) -> Vec<(String, Severity, String)> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.location(),
                f.severity,
                f.references.ssg.first().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// `(location, severity)` of each finding, in report order.
pub(crate) fn located(r: &Report) -> Vec<(String, Severity)> {
    r.findings
        .iter()
        .map(|f| (f.location(), f.severity))
        .collect()
}

/// The location of each finding, in report order.
pub(crate) fn locations(r: &Report) -> Vec<String> {
    r.findings.iter().map(Finding::location).collect()
}

/// True when a finding at `location` names `ssg` as its first SSG rule.
pub(crate) fn has(r: &Report, location: &str, ssg: &str) -> bool {
    found(r).iter().any(|(l, _, s)| l == location && s == ssg)
}

/// The severities of the findings at `location`, in report order.
pub(crate) fn severities_at(r: &Report, location: &str) -> Vec<Severity> {
    found(r)
        .into_iter()
        .filter(|(l, _, _)| l == location)
        .map(|(_, s, _)| s)
        .collect()
}

/// The first finding at `location` (the test fails if there is none).
pub(crate) fn finding_at<'r>(r: &'r Report, location: &str) -> &'r Finding {
    r.findings
        .iter()
        .find(|f| f.location() == location)
        .unwrap()
}

/// The value a finding observed (the test fails if it records none).
pub(crate) fn observed(f: &Finding) -> &str {
    f.evidence.observed.as_deref().unwrap()
}

/// The reason the first check gives for its status (the test fails if it
/// gives none).
pub(crate) fn reason(r: &Report) -> &str {
    r.checks[0].reason.as_deref().unwrap()
}

/// True when every check was not applicable and says why.
pub(crate) fn not_applicable(r: &Report) -> bool {
    r.checks
        .iter()
        .all(|c| c.status == CheckStatus::NotApplicable && c.reason.is_some())
}

/// True when every check passed with no finding and no warning.
pub(crate) fn is_clean(r: &Report) -> bool {
    r.findings.is_empty()
        && r.warnings.is_empty()
        && r.checks.iter().all(|c| c.status == CheckStatus::Pass)
}
