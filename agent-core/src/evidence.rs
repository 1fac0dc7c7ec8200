//! Disclosure evidence: an audit [`Report`] turned into answers for the MDS2
//! (2019) form and for an IEC 62443-4-2 file.
//!
//! Every answer is derived from the catalogue ([`CATALOGUE`]): a section or
//! requirement is answered by the checks whose catalogue entry names it, and
//! by nothing else. Nothing here is specific to one check.
//!
//! # How an answer is derived ([`Answer`])
//!
//! Each check mapped to the section is put in one of three classes by how it
//! ended in the report:
//! - *ran*: `pass` or `fail`;
//! - *absent*: `not_applicable` from a check that can run offline: it read
//!   the device (or the image) and found that what it audits is not there
//!   (no SSH server, no graphical login): the device says the feature is
//!   absent;
//! - *unmeasured*: `not_applicable` from a live-only check (an image has no
//!   running kernel to ask), `disabled` in the configuration (a disabled
//!   check says nothing about the device), or not run at all.
//!
//! Then, in this order:
//! 1. **no** when a mapped check reported a finding above `info`;
//! 2. **yes** when at least one mapped check ran and none reported a finding
//!    above `info` (info findings are listed, but do not make a weakness).
//!    The entry's [`Coverage`] is `partial` when some mapped check was
//!    unmeasured, and its basis names them: "yes" then speaks only for what
//!    was measured;
//! 3. **not applicable** when no mapped check ran and every one of them found
//!    its subject absent;
//! 4. **not measurable** otherwise: no mapped check could run, or no check of
//!    the catalogue maps to the section at all (MPII: see its note).
//!
//! The JSON ([`EvidenceReport::to_json`], with [`EVIDENCE_SCHEMA_VERSION`])
//! carries these rules in its `rules` field, so that a reader of the file
//! alone knows what "yes" means. Markdown and a self-contained HTML page are
//! rendered from the same value.

mod html;
mod markdown;
pub mod titles;

use crate::catalogue::{CATALOGUE, CheckInfo};
use crate::finding::{Finding, Severity};
use crate::report::{AgentInfo, CheckResult, CheckStatus, DeviceIdentity, Report, SeverityCounts};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the evidence JSON format. Raised on any incompatible change.
pub const EVIDENCE_SCHEMA_VERSION: u32 = 1;

/// The answer to one MDS2 section or one IEC 62443-4-2 requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The measured controls are in place.
    Yes,
    /// A measured control is missing or weak: see the findings.
    No,
    /// The device does not have the feature the section is about.
    NotApplicable,
    /// dha could not measure it here.
    NotMeasurable,
}

impl Answer {
    /// Every answer, in the order of the summary.
    pub const ALL: [Answer; 4] = [
        Answer::Yes,
        Answer::No,
        Answer::NotApplicable,
        Answer::NotMeasurable,
    ];

    /// The name used in JSON (`not_applicable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::NotApplicable => "not_applicable",
            Answer::NotMeasurable => "not_measurable",
        }
    }

    /// The name for a person (`not applicable`).
    pub fn label(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::NotApplicable => "not applicable",
            Answer::NotMeasurable => "not measurable",
        }
    }

    /// The rule that gives this answer (see the module documentation).
    pub fn rule(self) -> &'static str {
        match self {
            Answer::No => "a check mapped to it reported a finding above info",
            Answer::Yes => {
                "at least one mapped check ran and none reported a finding above info (info \
                 findings are listed but allowed); coverage \"partial\" when some mapped check \
                 could not run, and the basis names it"
            }
            Answer::NotApplicable => {
                "no mapped check ran, and every one of them read the device and found what it \
                 audits absent (it ended not_applicable although it can run offline)"
            }
            Answer::NotMeasurable => {
                "no mapped check could run (live-only checks on an image, checks disabled in \
                 the configuration), or no check maps to it"
            }
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How much of what maps to an entry was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Every mapped check ran or found its subject absent.
    Complete,
    /// Some mapped checks could not run.
    Partial,
    /// Nothing was measured (no mapped check ran, or none maps).
    None,
}

/// The counts of entries per answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCounts {
    /// Entries answered yes.
    pub yes: usize,
    /// Entries answered no.
    pub no: usize,
    /// Entries answered not applicable.
    pub not_applicable: usize,
    /// Entries answered not measurable.
    pub not_measurable: usize,
}

impl AnswerCounts {
    /// Counts the answers of `entries`.
    pub fn of(entries: &[Entry]) -> Self {
        let mut c = AnswerCounts::default();
        for e in entries {
            let slot = match e.answer {
                Answer::Yes => &mut c.yes,
                Answer::No => &mut c.no,
                Answer::NotApplicable => &mut c.not_applicable,
                Answer::NotMeasurable => &mut c.not_measurable,
            };
            *slot = slot.saturating_add(1);
        }
        c
    }

    /// The count for one answer.
    pub fn get(&self, a: Answer) -> usize {
        match a {
            Answer::Yes => self.yes,
            Answer::No => self.no,
            Answer::NotApplicable => self.not_applicable,
            Answer::NotMeasurable => self.not_measurable,
        }
    }
}

/// When the measurements were made (the audit's start and end, RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measured {
    /// When the audit started.
    pub started: String,
    /// When it ended.
    pub finished: String,
}

/// A check that supports an entry, with its outcome in the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportingCheck {
    /// The check id (`ACC-03`).
    pub id: String,
    /// The catalogue title.
    pub title: String,
    /// How it ended.
    pub status: CheckStatus,
    /// Its number of findings (all severities).
    pub findings: usize,
    /// Why it did not apply or was not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A finding as evidence: what was seen, where, and what was wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFinding {
    /// The check that reported it.
    pub check_id: String,
    /// How much it matters.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub title: String,
    /// `file:line`, `file`, or empty.
    pub location: String,
    /// The value seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    /// The value wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What to do about it.
    pub remediation: String,
}

impl From<&Finding> for EvidenceFinding {
    fn from(f: &Finding) -> Self {
        EvidenceFinding {
            check_id: f.check_id.clone(),
            severity: f.severity,
            title: f.title.clone(),
            location: f.location(),
            observed: f.evidence.observed.clone(),
            expected: f.evidence.expected.clone(),
            remediation: f.remediation.clone(),
        }
    }
}

/// The answer to one MDS2 section or one IEC 62443-4-2 requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `PAUT`, or `CR 1.5`.
    pub id: String,
    /// Its title in the form or the standard.
    pub title: String,
    /// The answer.
    pub answer: Answer,
    /// Why this answer, in one sentence naming the checks.
    pub basis: String,
    /// How much was measured.
    pub coverage: Coverage,
    /// Set when dha answers only part of the section: what it measures and
    /// what the manufacturer must answer from the design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partly: Option<String>,
    /// The checks mapped to it by the catalogue, in catalogue order.
    pub checks: Vec<SupportingCheck>,
    /// Their findings (every severity), in report order.
    pub findings: Vec<EvidenceFinding>,
    /// When it was measured; `None` when nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measured>,
}

/// One answer and the rule that gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRule {
    /// The answer.
    pub answer: Answer,
    /// When it is given.
    pub rule: String,
}

/// The totals shown first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// MDS2 sections per answer.
    pub mds2: AnswerCounts,
    /// IEC 62443-4-2 requirements per answer.
    pub iec62443: AnswerCounts,
    /// The audit's findings per severity.
    pub findings: SeverityCounts,
    /// The audit's warnings (inputs that could not be read or parsed).
    pub warnings: usize,
}

/// The disclosure evidence of one audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceReport {
    /// [`EVIDENCE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The agent that measured.
    pub agent: AgentInfo,
    /// The device.
    pub device: DeviceIdentity,
    /// The audited root, as a path on the auditing machine.
    pub root: String,
    /// When the audit ran.
    pub measured: Measured,
    /// Totals.
    pub summary: Summary,
    /// What each answer means.
    pub rules: Vec<AnswerRule>,
    /// One entry per MDS2 section an on-device agent can measure, and per
    /// other section a check maps to, in the form's order.
    pub mds2: Vec<Entry>,
    /// One entry per IEC 62443-4-2 requirement a check maps to, in
    /// numerical order (CR 1.7 before CR 1.11).
    pub iec62443: Vec<Entry>,
}

impl EvidenceReport {
    /// The evidence of `report`, with the mapping of [`CATALOGUE`].
    pub fn from_report(report: &Report) -> Self {
        Self::with_catalogue(report, CATALOGUE)
    }

    /// The evidence of `report` with the mapping of `catalogue` (a report's
    /// check that `catalogue` does not list maps to nothing).
    pub fn with_catalogue(report: &Report, catalogue: &[CheckInfo]) -> Self {
        let measured = Measured {
            started: report.started.clone(),
            finished: report.finished.clone(),
        };

        let mut mds2_ids: Vec<&str> = titles::MEASURABLE_MDS2.to_vec();
        for c in catalogue {
            mds2_ids.extend(c.mds2.iter().copied());
        }
        mds2_ids.sort_by_key(|id| (titles::mds2_position(id), *id));
        mds2_ids.dedup();
        let mds2: Vec<Entry> = mds2_ids
            .into_iter()
            .map(|id| {
                let section = titles::mds2_section(id);
                let mapped = catalogue.iter().filter(|c| c.mds2.contains(&id));
                entry(
                    id,
                    section.map_or("(not an MDS2 2019 section)", |s| s.title),
                    section.and_then(|s| s.partly),
                    mapped,
                    report,
                    &measured,
                )
            })
            .collect();

        let mut req_ids: Vec<&str> = catalogue
            .iter()
            .flat_map(|c| c.iec62443.iter().copied())
            .collect();
        req_ids.sort_by(|a, b| titles::cmp_requirements(a, b));
        req_ids.dedup();
        let iec62443: Vec<Entry> = req_ids
            .into_iter()
            .map(|id| {
                let title = titles::iec62443_title(id)
                    .unwrap_or_else(|| "(not an IEC 62443-4-2 requirement)".to_owned());
                let mapped = catalogue.iter().filter(|c| c.iec62443.contains(&id));
                entry(id, &title, None, mapped, report, &measured)
            })
            .collect();

        EvidenceReport {
            schema_version: EVIDENCE_SCHEMA_VERSION,
            agent: report.agent.clone(),
            device: report.device.clone(),
            root: report.root.clone(),
            summary: Summary {
                mds2: AnswerCounts::of(&mds2),
                iec62443: AnswerCounts::of(&iec62443),
                findings: report.counts,
                warnings: report.warnings.len(),
            },
            measured,
            rules: Answer::ALL
                .into_iter()
                .map(|answer| AnswerRule {
                    answer,
                    rule: answer.rule().to_owned(),
                })
                .collect(),
            mds2,
            iec62443,
        }
    }

    /// The evidence as pretty JSON.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and lists: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The evidence as Markdown (CommonMark with GitHub tables): a summary
    /// table, then each section. Text from the device is escaped.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The evidence as one self-contained HTML page: inline CSS, no script,
    /// no external resource; every string from the device is escaped.
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// The MDS2 entry with id `id`.
    pub fn mds2_entry(&self, id: &str) -> Option<&Entry> {
        self.mds2.iter().find(|e| e.id == id)
    }

    /// The IEC 62443-4-2 entry with id `id`.
    pub fn iec62443_entry(&self, id: &str) -> Option<&Entry> {
        self.iec62443.iter().find(|e| e.id == id)
    }

    /// A short description of the device for headings: its host name, or
    /// the audited root.
    pub fn device_name(&self) -> &str {
        self.device.hostname.as_deref().unwrap_or(&self.root)
    }
}

/// How a mapped check's outcome counts (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Ran,
    Absent,
    Unmeasured,
}

fn classify(info: &CheckInfo, result: Option<&CheckResult>) -> Class {
    match result.map(|r| r.status) {
        Some(CheckStatus::Pass | CheckStatus::Fail) => Class::Ran,
        Some(CheckStatus::NotApplicable) if info.offline => Class::Absent,
        Some(CheckStatus::NotApplicable | CheckStatus::Disabled) | None => Class::Unmeasured,
    }
}

/// "ACC-01, ACC-02".
fn ids(v: &[&str]) -> String {
    v.join(", ")
}

/// "ACC-01 (why), SSH-01 (why)".
fn ids_with_reasons(v: &[(&str, String)]) -> String {
    v.iter()
        .map(|(id, why)| {
            if why.is_empty() {
                (*id).to_owned()
            } else {
                format!("{id} ({why})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn entry<'c>(
    id: &str,
    title: &str,
    partly: Option<&str>,
    mapped: impl Iterator<Item = &'c CheckInfo>,
    report: &Report,
    measured: &Measured,
) -> Entry {
    let mut checks = Vec::new();
    let mut ran = Vec::new();
    let mut absent = Vec::new();
    let mut unmeasured = Vec::new();
    let mut adverse_checks = Vec::new();
    let mut findings = Vec::new();
    for info in mapped {
        let result = report.checks.iter().find(|r| r.id == info.id);
        let why = |r: Option<&CheckResult>| -> String {
            match r {
                None => "not run in this audit".to_owned(),
                Some(r) if r.status == CheckStatus::Disabled => {
                    "disabled in the configuration".to_owned()
                }
                Some(r) if r.status == CheckStatus::NotApplicable && !info.offline => r
                    .reason
                    .clone()
                    .unwrap_or_else(|| "needs the live system".to_owned()),
                Some(r) => r.reason.clone().unwrap_or_default(),
            }
        };
        match classify(info, result) {
            Class::Ran => ran.push(info.id),
            Class::Absent => absent.push((info.id, why(result))),
            Class::Unmeasured => unmeasured.push((info.id, why(result))),
        }
        let own: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check_id == info.id)
            .collect();
        if own.iter().any(|f| f.severity > Severity::Info) {
            adverse_checks.push(info.id);
        }
        findings.extend(own.into_iter().map(EvidenceFinding::from));
        checks.push(SupportingCheck {
            id: info.id.to_owned(),
            title: info.title.to_owned(),
            status: result.map_or(CheckStatus::NotApplicable, |r| r.status),
            findings: result.map_or(0, |r| r.findings),
            reason: match result {
                Some(r) if r.status == CheckStatus::Disabled => {
                    Some("disabled in the configuration".to_owned())
                }
                Some(r) => r.reason.clone(),
                None => Some("not run in this audit".to_owned()),
            },
        });
    }
    let adverse = findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .count();
    let total = checks.len();

    let (answer, coverage, basis) = if total == 0 {
        (
            Answer::NotMeasurable,
            Coverage::None,
            "no check of the catalogue maps to it".to_owned(),
        )
    } else if adverse > 0 {
        let coverage = if unmeasured.is_empty() {
            Coverage::Complete
        } else {
            Coverage::Partial
        };
        (
            Answer::No,
            coverage,
            format!(
                "{adverse} finding{} above info from {}",
                if adverse == 1 { "" } else { "s" },
                ids(&adverse_checks)
            ),
        )
    } else if !ran.is_empty() {
        let mut basis = if ran.len() == total {
            format!(
                "every mapped check ran ({}) without a finding above info",
                ids(&ran)
            )
        } else {
            format!(
                "{} of {total} mapped checks ran ({}) without a finding above info",
                ran.len(),
                ids(&ran)
            )
        };
        if !absent.is_empty() {
            basis.push_str(&format!("; found absent: {}", ids_with_reasons(&absent)));
        }
        let coverage = if unmeasured.is_empty() {
            Coverage::Complete
        } else {
            basis.push_str(&format!(
                "; not measured, so \"yes\" speaks only for the rest: {}",
                ids_with_reasons(&unmeasured)
            ));
            Coverage::Partial
        };
        (Answer::Yes, coverage, basis)
    } else if unmeasured.is_empty() {
        (
            Answer::NotApplicable,
            Coverage::Complete,
            format!(
                "every mapped check found what it audits absent: {}",
                ids_with_reasons(&absent)
            ),
        )
    } else {
        let mut basis = format!(
            "no mapped check could run: {}",
            ids_with_reasons(&unmeasured)
        );
        if !absent.is_empty() {
            basis.push_str(&format!("; found absent: {}", ids_with_reasons(&absent)));
        }
        (Answer::NotMeasurable, Coverage::None, basis)
    };
    let measured_anything = !ran.is_empty() || !absent.is_empty();
    Entry {
        id: id.to_owned(),
        title: title.to_owned(),
        answer,
        basis,
        coverage,
        partly: partly.map(str::to_owned),
        checks,
        findings,
        measured: measured_anything.then(|| measured.clone()),
    }
}

#[cfg(test)]
mod tests;
