//! The evidence as one self-contained HTML page.
//!
//! Inline CSS only: no script, no font, no image, no external resource of
//! any kind, so the file can be mailed, archived and opened offline. A
//! Content-Security-Policy of `default-src 'none'` says so to the browser
//! too: were an escape ever missed, nothing could load or run.
//!
//! Every string that comes from the device (finding titles, paths, observed
//! values, host names, os-release fields, reasons) goes through [`h`].

use super::{Answer, AnswerCounts, Entry, EvidenceReport};
use crate::finding::Severity;
use crate::report::CheckStatus;
use std::fmt::Write as _;

/// Escapes `s` for HTML text and for quoted attribute values.
///
/// `html_escape::encode_safe` escapes `& < > " ' /` (OWASP's rule for text
/// and attributes). Control characters other than tab and line feed are
/// replaced by U+FFFD first: HTML 5 §13.2.5 makes them parse errors, and a
/// NUL read from a device file would otherwise be dropped or mangled.
pub(super) fn h(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    html_escape::encode_safe(&cleaned).into_owned()
}

/// An element id for an entry: `mds2-PAUT`, `iec-CR-1.1-RE1` (only ASCII
/// letters, digits, `.` and `-`, whatever the catalogue holds).
fn anchor(prefix: &str, id: &str) -> String {
    let mut out = String::from(prefix);
    out.push('-');
    for c in id.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        });
    }
    out
}

fn badge(a: Answer) -> String {
    format!(
        "<span class=\"badge a-{}\">{}</span>",
        a.as_str(),
        a.label()
    )
}

fn severity_badge(s: Severity) -> String {
    format!("<span class=\"sev s-{s}\">{s}</span>")
}

fn status(s: CheckStatus) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Pass => ("pass", "pass"),
        CheckStatus::Fail => ("fail", "fail"),
        CheckStatus::NotApplicable => ("na", "not applicable"),
        CheckStatus::Disabled => ("disabled", "disabled"),
    }
}

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
  color: #1b1f24; background: #fff; margin: 0 auto; max-width: 76rem; padding: 1.5rem 1.5rem 3rem;
  line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 2px solid #d0d7de; }
h3 { font-size: 1.08rem; margin: 0 0 .5rem; display: flex; gap: .6rem; align-items: baseline; flex-wrap: wrap; }
.subtitle { color: #57606a; margin: 0 0 1.2rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; margin: 0 0 1.2rem;
  padding: .9rem 1.1rem; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
dl.facts dt { font-weight: 600; color: #57606a; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.totals { display: flex; flex-wrap: wrap; gap: 1rem; margin: 0 0 1rem; }
.total { border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem .9rem; min-width: 17rem; }
.total h4 { margin: 0 0 .4rem; font-size: .95rem; }
.total .badge { margin-right: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.id { white-space: nowrap; font-weight: 600; }
td.loc, td.val { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: .85rem; overflow-wrap: anywhere; }
td.loc { min-width: 15rem; }
a { color: #0969da; text-decoration: none; }
.badge, .sev, .st { display: inline-block; border-radius: 999px; padding: .05rem .6rem; font-size: .8rem;
  font-weight: 700; white-space: nowrap; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.a-yes { background: #1a7f37; color: #fff; }
.a-no { background: #cf222e; color: #fff; }
.a-not_applicable { background: #6e7781; color: #fff; }
.a-not_measurable { background: #bf8700; color: #fff; }
.s-critical { background: #82071e; color: #fff; }
.s-high { background: #cf222e; color: #fff; }
.s-medium { background: #fb8500; color: #fff; }
.s-low { background: #ddf4ff; color: #0550ae; }
.s-info { background: #eaeef2; color: #424a53; }
.st { font-weight: 600; border: 1px solid #d0d7de; }
.st-pass { color: #1a7f37; } .st-fail { color: #cf222e; } .st-na, .st-disabled { color: #57606a; }
section.entry { border: 1px solid #d0d7de; border-left: 6px solid #6e7781; border-radius: 6px;
  padding: .8rem 1rem .4rem; margin: 0 0 1rem; break-inside: avoid-page; }
section.entry.e-yes { border-left-color: #1a7f37; }
section.entry.e-no { border-left-color: #cf222e; }
section.entry.e-not_measurable { border-left-color: #bf8700; }
.entry .eid { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.basis { margin: .2rem 0 .5rem; }
.partly { margin: .2rem 0 .5rem; padding: .4rem .7rem; background: #fff8c5; border-radius: 4px; }
.meta { color: #57606a; font-size: .85rem; margin: 0 0 .5rem; }
.rules li { margin: .2rem 0; }
footer { margin-top: 2rem; color: #57606a; font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  a { color: inherit; }
  h2 { break-after: avoid-page; }
  tr { break-inside: avoid; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

fn totals(out: &mut String, name: &str, c: &AnswerCounts) {
    let _ = write!(out, "<div class=\"total\"><h4>{}</h4>", h(name));
    for a in Answer::ALL {
        let _ = write!(
            out,
            "<span class=\"badge a-{}\">{} {}</span>",
            a.as_str(),
            c.get(a),
            a.label()
        );
    }
    out.push_str("</div>\n");
}

fn summary_table(out: &mut String, head: &str, prefix: &str, entries: &[Entry]) {
    let _ = writeln!(
        out,
        "<table class=\"summary\"><thead><tr><th>{}</th><th>Title</th><th>Answer</th>\
         <th class=\"num\">Checks</th><th class=\"num\">Findings</th></tr></thead><tbody>",
        h(head)
    );
    for e in entries {
        let _ = writeln!(
            out,
            "<tr><td class=\"id\"><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            anchor(prefix, &e.id),
            h(&e.id),
            h(&e.title),
            badge(e.answer),
            e.checks.len(),
            e.findings.len()
        );
    }
    out.push_str("</tbody></table>\n");
}

fn entry(out: &mut String, prefix: &str, e: &Entry) {
    let _ = writeln!(
        out,
        "<section class=\"entry e-{}\" id=\"{}\">\n<h3><span class=\"eid\">{}</span> \
         <span class=\"etitle\">{}</span> {}</h3>",
        e.answer.as_str(),
        anchor(prefix, &e.id),
        h(&e.id),
        h(&e.title),
        badge(e.answer)
    );
    let _ = writeln!(out, "<p class=\"basis\">{}.</p>", h(&e.basis));
    if let Some(p) = &e.partly {
        let _ = writeln!(
            out,
            "<p class=\"partly\"><strong>Partly measured.</strong> {}</p>",
            h(p)
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">{}</p>",
        match &e.measured {
            Some(m) => format!("Measured {} to {}", h(&m.started), h(&m.finished)),
            None => "Not measured".to_owned(),
        }
    );
    if !e.checks.is_empty() {
        out.push_str(
            "<table class=\"checks\"><thead><tr><th>Check</th><th>What it verifies</th>\
             <th>Status</th><th class=\"num\">Findings</th><th>Reason</th></tr></thead><tbody>\n",
        );
        for c in &e.checks {
            let (class, label) = status(c.status);
            let _ = writeln!(
                out,
                "<tr><td class=\"id\">{}</td><td>{}</td><td><span class=\"st st-{class}\">{label}\
                 </span></td><td class=\"num\">{}</td><td>{}</td></tr>",
                h(&c.id),
                h(&c.title),
                c.findings,
                h(c.reason.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if e.findings.is_empty() {
        out.push_str("<p class=\"meta\">No findings.</p>\n");
    } else {
        out.push_str(
            "<table class=\"findings\"><thead><tr><th>Severity</th><th>Check</th>\
             <th>Finding</th><th>Location</th><th>Observed</th><th>Expected</th></tr>\
             </thead><tbody>\n",
        );
        for f in &e.findings {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"id\">{}</td><td class=\"ftitle\">{}</td>\
                 <td class=\"loc\">{}</td><td class=\"val\">{}</td><td class=\"val\">{}</td></tr>",
                severity_badge(f.severity),
                h(&f.check_id),
                h(&f.title),
                h(&f.location),
                h(f.observed.as_deref().unwrap_or("")),
                h(f.expected.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

/// Renders the evidence.
pub(super) fn render(ev: &EvidenceReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let device = h(ev.device_name());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Security evidence: {device}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    let _ = writeln!(
        out,
        "<header>\n<h1>Security evidence: <span class=\"device\">{device}</span></h1>\n\
         <p class=\"subtitle\">MDS2 (2019) and IEC 62443-4-2, from measurements by {} {}</p>",
        h(&ev.agent.name),
        h(&ev.agent.version)
    );
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |k: &str, v: &str| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", h(k), h(v));
    };
    fact(
        "Device",
        ev.device.hostname.as_deref().unwrap_or("(no host name)"),
    );
    if let Some(os) = ev.device.os_release.get("PRETTY_NAME") {
        fact("Operating system", os);
    }
    fact("Audited root", &ev.root);
    fact(
        "Measured",
        &format!("{} to {}", ev.measured.started, ev.measured.finished),
    );
    let f = &ev.summary.findings;
    fact(
        "Findings",
        &format!(
            "{} critical, {} high, {} medium, {} low, {} info",
            f.critical, f.high, f.medium, f.low, f.info
        ),
    );
    fact("Warnings", &ev.summary.warnings.to_string());
    out.push_str("</dl>\n</header>\n<main>\n<h2 id=\"summary\">Summary</h2>\n");
    out.push_str("<div class=\"totals\">\n");
    totals(&mut out, "MDS2 (2019) sections", &ev.summary.mds2);
    totals(&mut out, "IEC 62443-4-2 requirements", &ev.summary.iec62443);
    out.push_str("</div>\n");
    summary_table(&mut out, "MDS2", "mds2", &ev.mds2);
    summary_table(&mut out, "IEC 62443-4-2", "iec", &ev.iec62443);

    out.push_str("<h2 id=\"rules\">How the answers are derived</h2>\n<ul class=\"rules\">\n");
    for r in &ev.rules {
        let _ = writeln!(out, "<li>{}: {}.</li>", badge(r.answer), h(&r.rule));
    }
    out.push_str("</ul>\n");

    out.push_str("<h2 id=\"mds2\">MDS2 (2019) sections</h2>\n");
    for e in &ev.mds2 {
        entry(&mut out, "mds2", e);
    }
    out.push_str("<h2 id=\"iec62443\">IEC 62443-4-2 requirements</h2>\n");
    for e in &ev.iec62443 {
        entry(&mut out, "iec", e);
    }
    let _ = writeln!(
        out,
        "</main>\n<footer>Evidence schema version {}; made by {} {} from the audit of {} \
         ({}).</footer>\n</body>\n</html>",
        ev.schema_version,
        h(&ev.agent.name),
        h(&ev.agent.version),
        h(&ev.root),
        h(&ev.measured.finished)
    );
    out
}
