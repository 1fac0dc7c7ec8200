use super::*;
use crate::finding::{Evidence as FindingEvidence, References};
use crate::report::{AgentInfo, CheckResult, SCHEMA_VERSION};
use std::collections::BTreeMap;

/// A report in which every catalogue check ended with `status`, except the
/// overrides, with `findings`.
fn report(overrides: &[(&str, CheckStatus)], findings: Vec<Finding>) -> Report {
    let checks = CATALOGUE
        .iter()
        .map(|c| {
            let status = overrides
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(CheckStatus::Pass, |(_, s)| *s);
            let n = findings.iter().filter(|f| f.check_id == c.id).count();
            CheckResult {
                id: c.id.to_owned(),
                title: c.title.to_owned(),
                status: if n > 0 { CheckStatus::Fail } else { status },
                findings: n,
                reason: (status == CheckStatus::NotApplicable).then(|| format!("{} absent", c.id)),
            }
        })
        .collect();
    Report {
        schema_version: SCHEMA_VERSION,
        agent: AgentInfo {
            name: "dha".to_owned(),
            version: crate::VERSION.to_owned(),
        },
        device: DeviceIdentity {
            hostname: Some("ct-console-07".to_owned()),
            os_release: BTreeMap::from([(
                "PRETTY_NAME".to_owned(),
                "Debian GNU/Linux 13 (trixie)".to_owned(),
            )]),
        },
        root: "/images/ct".to_owned(),
        started: "2026-11-29T00:00:00Z".to_owned(),
        finished: "2026-11-29T00:00:01Z".to_owned(),
        counts: SeverityCounts::of(&findings),
        findings,
        checks,
        warnings: Vec::new(),
    }
}

fn finding(id: &str, severity: Severity, title: &str) -> Finding {
    Finding {
        check_id: id.to_owned(),
        severity,
        title: title.to_owned(),
        evidence: FindingEvidence {
            file: Some("/etc/shadow".to_owned()),
            line: Some(4),
            observed: Some("empty".to_owned()),
            expected: Some("a hash".to_owned()),
        },
        remediation: "lock it".to_owned(),
        references: References::default(),
    }
}

fn answers(ev: &EvidenceReport) -> Vec<(&str, Answer)> {
    ev.mds2.iter().map(|e| (e.id.as_str(), e.answer)).collect()
}

#[test]
fn covers_every_measurable_section_and_every_mapped_one_in_form_order() {
    let ev = EvidenceReport::from_report(&report(&[], vec![]));
    let ids: Vec<&str> = ev.mds2.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "MPII", "ALOF", "AUDT", "AUTH", "CSUP", "DTBK", "EMRG", "IGAU", "MLDP", "NAUT", "CONN",
            "PAUT", "PLOK", "RDMP", "SBOM", "SAHD", "STCF", "TXCF", "RMOT"
        ]
    );
    for e in &ev.mds2 {
        assert!(!e.title.is_empty() && !e.title.starts_with('('), "{}", e.id);
    }
    // Every requirement the catalogue names, once, in numerical order.
    let mut want: Vec<&str> = CATALOGUE
        .iter()
        .flat_map(|c| c.iec62443.iter().copied())
        .collect();
    want.sort_by(|a, b| titles::cmp_requirements(a, b));
    want.dedup();
    let got: Vec<&str> = ev.iec62443.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(got, want);
    let pos = |id: &str| got.iter().position(|g| *g == id).unwrap();
    assert!(pos("CR 1.7") < pos("CR 1.11"));
    assert!(pos("CR 3.9") < pos("HDR 3.10 RE1"));
    assert_eq!(ev.schema_version, EVIDENCE_SCHEMA_VERSION);
    assert_eq!(ev.rules.len(), 4);
}

#[test]
fn all_checks_passing_answers_yes_except_where_nothing_maps() {
    let ev = EvidenceReport::from_report(&report(&[], vec![]));
    for (id, a) in answers(&ev) {
        let want = if id == "MPII" {
            Answer::NotMeasurable
        } else {
            Answer::Yes
        };
        assert_eq!(a, want, "{id}");
    }
    let mpii = ev.mds2_entry("MPII").unwrap();
    assert_eq!(mpii.coverage, Coverage::None);
    assert!(mpii.checks.is_empty() && mpii.measured.is_none());
    assert!(mpii.partly.as_deref().unwrap().contains("STCF"));
    assert!(ev.mds2_entry("NAUT").unwrap().partly.is_some());
    let paut = ev.mds2_entry("PAUT").unwrap();
    assert_eq!(paut.coverage, Coverage::Complete);
    assert!(paut.basis.starts_with("every mapped check ran"));
    assert_eq!(
        paut.measured.as_ref().unwrap().finished,
        "2026-11-29T00:00:01Z"
    );
    // The checks are those the catalogue maps, in catalogue order.
    let want: Vec<&str> = CATALOGUE
        .iter()
        .filter(|c| c.mds2.contains(&"PAUT"))
        .map(|c| c.id)
        .collect();
    let got: Vec<&str> = paut.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(got, want);
    assert_eq!(ev.summary.mds2.yes, 18);
    assert_eq!(ev.summary.mds2.not_measurable, 1);
    assert_eq!(ev.summary.iec62443.yes, ev.iec62443.len());
}

#[test]
fn a_finding_above_info_answers_no_where_its_check_maps() {
    let ev = EvidenceReport::from_report(&report(
        &[],
        vec![
            finding("ACC-03", Severity::Critical, "root has an empty password"),
            finding("ACC-04", Severity::Info, "a note only"),
        ],
    ));
    let paut = ev.mds2_entry("PAUT").unwrap();
    assert_eq!(paut.answer, Answer::No);
    assert_eq!(paut.basis, "1 finding above info from ACC-03");
    assert_eq!(paut.findings.len(), 2, "info findings are listed too");
    let f = &paut.findings[0];
    assert_eq!(f.title, "root has an empty password");
    assert_eq!(f.location, "/etc/shadow:4");
    assert_eq!(f.observed.as_deref(), Some("empty"));
    // ACC-04 maps to STCF too: an info finding leaves it "yes".
    assert_eq!(ev.mds2_entry("STCF").unwrap().answer, Answer::Yes);
    assert_eq!(ev.iec62443_entry("CR 1.5").unwrap().answer, Answer::No);
    assert_eq!(ev.mds2_entry("AUTH").unwrap().answer, Answer::Yes);
    assert_eq!(ev.summary.mds2.no, 1);
    assert_eq!(ev.summary.findings.critical, 1);
}

#[test]
fn live_only_and_disabled_checks_are_not_measured() {
    // On an image: PRC-01 (live only) cannot run; INT-01 ran: MLDP is "yes"
    // for what was measured, and says so.
    let ev =
        EvidenceReport::from_report(&report(&[("PRC-01", CheckStatus::NotApplicable)], vec![]));
    let mldp = ev.mds2_entry("MLDP").unwrap();
    assert_eq!(mldp.answer, Answer::Yes);
    assert_eq!(mldp.coverage, Coverage::Partial);
    assert!(
        mldp.basis.contains("PRC-01 (PRC-01 absent)"),
        "{}",
        mldp.basis
    );
    assert!(
        mldp.basis.contains("1 of 2 mapped checks ran"),
        "{}",
        mldp.basis
    );
    // CR 6.2 rests on PRC-01 alone.
    let cr62 = ev.iec62443_entry("CR 6.2").unwrap();
    assert_eq!(cr62.answer, Answer::NotMeasurable);
    assert!(cr62.measured.is_none());

    // INT-01 disabled too: nothing measured MLDP.
    let ev = EvidenceReport::from_report(&report(
        &[
            ("PRC-01", CheckStatus::NotApplicable),
            ("INT-01", CheckStatus::Disabled),
        ],
        vec![],
    ));
    let mldp = ev.mds2_entry("MLDP").unwrap();
    assert_eq!(mldp.answer, Answer::NotMeasurable);
    assert!(
        mldp.basis
            .contains("INT-01 (disabled in the configuration)")
    );
    assert_eq!(
        mldp.checks[1].reason.as_deref(),
        Some("disabled in the configuration")
    );
}

#[test]
fn an_absent_feature_is_not_applicable() {
    // SSH-01 can run offline; not applicable means no SSH server: RMOT, NAUT
    // and TXCF rest on it alone.
    let ev =
        EvidenceReport::from_report(&report(&[("SSH-01", CheckStatus::NotApplicable)], vec![]));
    for id in ["RMOT", "NAUT", "TXCF"] {
        let e = ev.mds2_entry(id).unwrap();
        assert_eq!(e.answer, Answer::NotApplicable, "{id}");
        assert!(e.measured.is_some());
    }
    // A check missing from the report maps to "not run".
    let mut r = report(&[], vec![]);
    r.checks.retain(|c| c.id != "SES-01" && c.id != "SES-02");
    let ev = EvidenceReport::from_report(&r);
    let alof = ev.mds2_entry("ALOF").unwrap();
    assert_eq!(alof.answer, Answer::NotMeasurable);
    assert_eq!(
        alof.checks[0].reason.as_deref(),
        Some("not run in this audit")
    );
}

#[test]
fn json_round_trips_with_its_schema_version() {
    let ev = EvidenceReport::from_report(&report(
        &[],
        vec![finding("SSH-01", Severity::High, "PermitRootLogin yes")],
    ));
    let json = ev.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["mds2"][0]["id"], "MPII");
    assert_eq!(v["mds2"][0]["answer"], "not_measurable");
    assert_eq!(v["rules"][0]["answer"], "yes");
    let rmot = v["mds2"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "RMOT")
        .unwrap();
    assert_eq!(rmot["answer"], "no");
    assert_eq!(rmot["findings"][0]["severity"], "high");
    assert_eq!(rmot["checks"][0]["status"], "fail");
    let back: EvidenceReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ev);
}

const HOSTILE: &str =
    "<script>alert(1)</script> & \"quoted\" 'single' `tick` [x](http://evil) |pipe| \u{0}nul\nline";

#[test]
fn html_escapes_device_text_and_loads_nothing() {
    let mut r = report(&[], vec![finding("ACC-03", Severity::High, HOSTILE)]);
    r.device.hostname = Some("<img src=x onerror=alert(2)>".to_owned());
    r.findings[0].evidence.observed = Some("</td></tr></table><script>x()</script>".to_owned());
    let html = EvidenceReport::from_report(&r).to_html();
    assert!(!html.contains("<script"), "unescaped script");
    assert!(!html.contains("<img"), "unescaped img");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(!html.contains('\0'));
    // Nothing to load: every tag is one of the page's own, none has a
    // source or an event handler, and the style imports nothing.
    const TAGS: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
        "h4", "p", "span", "dl", "dt", "dd", "main", "div", "table", "thead", "tbody", "tr", "th",
        "td", "a", "section", "ul", "li", "strong", "footer",
    ];
    for (i, _) in html.match_indices('<') {
        let tag = &html[i + 1..];
        let tag = &tag[..tag.find('>').unwrap()];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '>'])
            .next()
            .unwrap();
        assert!(TAGS.contains(&name), "unexpected tag <{tag}>");
        for attr in ["src=", "srcset=", " on", "style=", "url("] {
            assert!(!tag.contains(attr), "<{tag}>");
        }
    }
    for needle in ["@import", "url(", "http://", "https://"] {
        assert!(!html.contains(needle), "{needle}");
    }
    for (i, _) in html.match_indices("href=\"") {
        assert_eq!(html.as_bytes()[i + 6], b'#', "only in-page links");
    }
    assert!(html.contains("default-src 'none'"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn markdown_escapes_device_text() {
    let r = report(&[], vec![finding("ACC-03", Severity::High, HOSTILE)]);
    let md = EvidenceReport::from_report(&r).to_markdown();
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
    assert!(md.contains("\\[x\\](http://evil)"));
    assert!(md.contains("\\|pipe\\|"));
    assert!(md.contains("\\`tick\\`"));
    assert!(md.contains("nul line"), "control characters become spaces");
    assert!(md.contains("| PAUT | Person authentication | **no** |"));
    assert!(
        md.contains("### MPII: Management of personally identifiable information (not measurable)")
    );
    assert_eq!(markdown::md("a\\b"), "a\\\\b");
}
