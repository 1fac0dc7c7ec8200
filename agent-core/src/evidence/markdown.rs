//! The evidence as Markdown: CommonMark with GitHub-flavoured tables.
//!
//! Text from the device (finding titles, paths, values, host names) is
//! escaped by [`md`]: a renderer shows it as text, never as markup, a link,
//! an image or raw HTML.

use super::{Answer, Entry, EvidenceReport};
use crate::report::CheckStatus;
use std::fmt::Write as _;

/// Escapes `s` for Markdown inline text and table cells.
///
/// CommonMark 0.31 §2.4: any ASCII punctuation may be backslash-escaped and
/// then stands for itself. The characters escaped are those that can start
/// markup inline (emphasis, code, links, images, autolinks, raw HTML,
/// entities) or end a table cell (`|`, GFM §4.10); `\` itself first. Line
/// breaks and other control characters become spaces, so a value cannot
/// start a new block. Written by hand: the set is small and fixed, and no
/// Markdown crate offers exactly this escape.
pub(super) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn status(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::NotApplicable => "not applicable",
        CheckStatus::Disabled => "disabled",
    }
}

fn answer(a: Answer) -> String {
    format!("**{}**", a.label())
}

fn summary_table(out: &mut String, head: &str, entries: &[Entry]) {
    let _ = writeln!(out, "| {head} | Title | Answer | Checks | Findings |");
    out.push_str("|---|---|---|---:|---:|\n");
    for e in entries {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&e.id),
            md(&e.title),
            answer(e.answer),
            e.checks.len(),
            e.findings.len()
        );
    }
    out.push('\n');
}

fn section(out: &mut String, e: &Entry) {
    let _ = writeln!(
        out,
        "### {}: {} ({})\n",
        md(&e.id),
        md(&e.title),
        e.answer.label()
    );
    let _ = writeln!(out, "Answer: {}. {}.\n", answer(e.answer), md(&e.basis));
    if let Some(p) = &e.partly {
        let _ = writeln!(out, "Partly measured: {}\n", md(p));
    }
    match &e.measured {
        Some(m) => {
            let _ = writeln!(out, "Measured: {} to {}\n", md(&m.started), md(&m.finished));
        }
        None => out.push_str("Measured: not measured\n\n"),
    }
    if !e.checks.is_empty() {
        out.push_str("| Check | Title | Status | Findings | Reason |\n");
        out.push_str("|---|---|---|---:|---|\n");
        for c in &e.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md(&c.id),
                md(&c.title),
                status(c.status),
                c.findings,
                md(c.reason.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    if e.findings.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    out.push_str("| Severity | Check | Finding | Location | Observed | Expected |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for f in &e.findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            f.severity,
            md(&f.check_id),
            md(&f.title),
            md(&f.location),
            md(f.observed.as_deref().unwrap_or("")),
            md(f.expected.as_deref().unwrap_or(""))
        );
    }
    out.push('\n');
}

/// Renders the evidence.
pub(super) fn render(ev: &EvidenceReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Security evidence: {}\n\nMDS2 (2019) and IEC 62443-4-2, from measurements by {} {}.\n",
        md(ev.device_name()),
        md(&ev.agent.name),
        md(&ev.agent.version)
    );
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(
        out,
        "| Device | {} |",
        md(ev.device.hostname.as_deref().unwrap_or("(no host name)"))
    );
    if let Some(os) = ev.device.os_release.get("PRETTY_NAME") {
        let _ = writeln!(out, "| Operating system | {} |", md(os));
    }
    let _ = writeln!(out, "| Audited root | {} |", md(&ev.root));
    let _ = writeln!(
        out,
        "| Measured | {} to {} |",
        md(&ev.measured.started),
        md(&ev.measured.finished)
    );
    let counts = |c: &super::AnswerCounts| {
        Answer::ALL
            .iter()
            .map(|a| format!("{} {}", c.get(*a), a.label()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "| MDS2 sections | {} |", counts(&ev.summary.mds2));
    let _ = writeln!(
        out,
        "| IEC 62443-4-2 requirements | {} |",
        counts(&ev.summary.iec62443)
    );
    let f = &ev.summary.findings;
    let _ = writeln!(
        out,
        "| Findings | {} critical, {} high, {} medium, {} low, {} info |",
        f.critical, f.high, f.medium, f.low, f.info
    );
    let _ = writeln!(out, "| Warnings | {} |\n", ev.summary.warnings);

    out.push_str("## Summary\n\n");
    summary_table(&mut out, "MDS2", &ev.mds2);
    summary_table(&mut out, "IEC 62443-4-2", &ev.iec62443);

    out.push_str("## How the answers are derived\n\n");
    for r in &ev.rules {
        let _ = writeln!(out, "- {}: {}.", answer(r.answer), md(&r.rule));
    }
    out.push('\n');

    out.push_str("## MDS2 (2019) sections\n\n");
    for e in &ev.mds2 {
        section(&mut out, e);
    }
    out.push_str("## IEC 62443-4-2 requirements\n\n");
    for e in &ev.iec62443 {
        section(&mut out, e);
    }
    out
}
