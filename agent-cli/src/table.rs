//! The audit report as a table for a person: who was audited, the findings
//! gravest first with their evidence and remedy, the counts and the verdict,
//! then what did not apply and what could not be read.

use crate::outcome::{FailOn, Verdict};
use crate::term::{Palette, clean, pack, pad, width_of, wrap};
use anstyle::Style;
use dha_core::{CheckStatus, Finding, Report, Severity};
use std::cmp::Reverse;

/// How the table is laid out.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Colours (or none).
    pub palette: Palette,
    /// Columns to fit in.
    pub width: usize,
}

/// Width of the severity column: the longest name, `critical`.
const SEV_W: usize = 8;
/// Space between columns.
const GAP: usize = 2;
/// Bounds on the location column; a longer location gets a line of its own.
const LOC_MIN: usize = 8;
const LOC_MAX: usize = 36;
/// Below this many columns for the title, titles go on their own lines.
const TITLE_MIN: usize = 24;
/// The title column's width that the location column leaves when it can.
const TITLE_PREFERRED: usize = 36;
/// Width of the labels under a finding (`observed`, `expected`, …).
const LABEL_W: usize = 9;

/// The findings, gravest first, then by check id; findings of one check keep
/// their report order (file order), since the sort is stable.
pub fn sorted(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| (Reverse(a.severity), &a.check_id).cmp(&(Reverse(b.severity), &b.check_id)));
    v
}

/// Renders the whole report.
pub fn render(report: &Report, fail_on: FailOn, layout: Layout) -> String {
    let mut out = Vec::new();
    header(&mut out, report, layout);
    findings(&mut out, report, layout);
    summary(&mut out, report, fail_on, layout);
    not_applicable(&mut out, report, layout);
    warnings(&mut out, report, layout);
    let mut s = out.join("\n");
    s.push('\n');
    s
}

fn heading(out: &mut Vec<String>, layout: Layout, text: &str) {
    out.push(String::new());
    out.push(layout.palette.paint(Palette::heading(), text));
}

/// `  label   value`, the value wrapped under itself.
fn field(out: &mut Vec<String>, layout: Layout, indent: usize, label: &str, value: &str) {
    field_styled(out, layout, indent, label, value, None);
}

/// [`field`] with the value in `style`, painted line by line so that escape
/// sequences never count towards the width and never span a line break.
fn field_styled(
    out: &mut Vec<String>,
    layout: Layout,
    indent: usize,
    label: &str,
    value: &str,
    style: Option<Style>,
) {
    let lead = indent.saturating_add(LABEL_W);
    let lines = wrap(value, layout.width.saturating_sub(lead).max(16));
    for (i, line) in lines.iter().enumerate() {
        let label = if i == 0 { label } else { "" };
        let line = match style {
            Some(st) => layout.palette.paint(st, line),
            None => line.clone(),
        };
        out.push(format!(
            "{}{}{line}",
            " ".repeat(indent),
            layout.palette.paint(Palette::quiet(), &pad(label, LABEL_W))
        ));
    }
}

fn header(out: &mut Vec<String>, report: &Report, layout: Layout) {
    out.push(layout.palette.paint(
        Palette::heading(),
        &format!("dha {} audit report", clean(&report.agent.version)),
    ));
    let host = report.device.hostname.as_deref().unwrap_or("(unknown)");
    let os = report
        .device
        .os_release
        .get("PRETTY_NAME")
        .cloned()
        .or_else(|| {
            let name = report.device.os_release.get("NAME")?;
            Some(match report.device.os_release.get("VERSION") {
                Some(v) => format!("{name} {v}"),
                None => name.clone(),
            })
        });
    field(out, layout, 2, "device", &clean(host));
    field(
        out,
        layout,
        2,
        "os",
        &clean(os.as_deref().unwrap_or("(unknown)")),
    );
    field(out, layout, 2, "root", &clean(&report.root));
    let (started, finished) = (to_seconds(&report.started), to_seconds(&report.finished));
    let time = if started == finished {
        started.to_owned()
    } else {
        format!("{started} to {finished}")
    };
    field(out, layout, 2, "time", &clean(&time));
}

/// An RFC 3339 time without its fraction of a second (`…:01.3171Z` → `…:01Z`):
/// a person reading the table needs the second, the JSON keeps the rest.
fn to_seconds(t: &str) -> String {
    if let (Some(dot), Some(zone)) = (t.find('.'), t.rfind(['Z', '+', '-'])) {
        if let (true, Some(head), Some(tail)) = (zone > dot, t.get(..dot), t.get(zone..)) {
            return format!("{head}{tail}");
        }
    }
    t.to_owned()
}

fn findings(out: &mut Vec<String>, report: &Report, layout: Layout) {
    let p = layout.palette;
    heading(
        out,
        layout,
        &format!("FINDINGS ({})", report.findings.len()),
    );
    if report.findings.is_empty() {
        out.push(format!("  {}", p.paint(Palette::good(), "No findings.")));
        return;
    }
    let list = sorted(&report.findings);
    let locations: Vec<String> = list
        .iter()
        .map(|f| {
            let l = f.location();
            if l.is_empty() {
                "-".to_owned()
            } else {
                clean(&l).into_owned()
            }
        })
        .collect();
    let id_w = list
        .iter()
        .map(|f| width_of(&clean(&f.check_id)))
        .chain([width_of("CHECK")])
        .max()
        .unwrap_or(6);
    let detail_col = SEV_W + GAP;
    // The location column gives way to the title: a longer location moves the
    // title to the next line rather than squeezing it into a narrow column.
    let loc_cap = layout
        .width
        .saturating_sub(detail_col + id_w + 2 * GAP + TITLE_PREFERRED)
        .clamp(LOC_MIN, LOC_MAX);
    let loc_w = locations
        .iter()
        .map(|l| width_of(l))
        .max()
        .unwrap_or(LOC_MIN)
        .clamp(LOC_MIN, loc_cap);
    let title_col = detail_col + id_w + GAP + loc_w + GAP;
    let title_w = layout.width.saturating_sub(title_col);
    let titles_inline = title_w >= TITLE_MIN;

    out.push(String::new());
    out.push(
        p.paint(
            Palette::quiet(),
            format!(
                "{}{}{}{}",
                pad("SEVERITY", detail_col),
                pad("CHECK", id_w + GAP),
                pad("LOCATION", loc_w + GAP),
                if titles_inline { "TITLE" } else { "" }
            )
            .trim_end(),
        ),
    );
    for (i, (f, loc)) in list.iter().zip(&locations).enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        let sev = p.paint(
            Palette::severity_style(f.severity),
            &pad(f.severity.as_str(), SEV_W),
        );
        let lead = format!(
            "{sev}{}{}",
            " ".repeat(GAP),
            pad(&clean(&f.check_id), id_w + GAP)
        );
        let title = clean(&f.title);
        if titles_inline && width_of(loc) <= loc_w {
            let lines = wrap(&title, title_w);
            for (j, line) in lines.iter().enumerate() {
                if j == 0 {
                    out.push(format!("{lead}{}{line}", pad(loc, loc_w + GAP)));
                } else {
                    out.push(format!("{}{line}", " ".repeat(title_col)));
                }
            }
        } else {
            // A long path, or a narrow terminal: the location ends the first
            // line (cut when even that is too narrow) and the title goes
            // below it, under the check id.
            let loc_col = detail_col + id_w + GAP;
            for (j, piece) in wrap(loc, layout.width.saturating_sub(loc_col))
                .iter()
                .enumerate()
            {
                if j == 0 {
                    out.push(format!("{lead}{piece}"));
                } else {
                    out.push(format!("{}{piece}", " ".repeat(loc_col)));
                }
            }
            for line in wrap(&title, layout.width.saturating_sub(detail_col)) {
                out.push(format!("{}{line}", " ".repeat(detail_col)));
            }
        }
        if let Some(v) = &f.evidence.observed {
            field(out, layout, detail_col, "observed", &clean(v));
        }
        if let Some(v) = &f.evidence.expected {
            field(out, layout, detail_col, "expected", &clean(v));
        }
        if !f.remediation.trim().is_empty() {
            field(out, layout, detail_col, "remedy", &clean(&f.remediation));
        }
        let refs = references(f);
        if !refs.is_empty() {
            let lines = pack(
                &refs,
                "; ",
                layout.width.saturating_sub(detail_col + LABEL_W),
            );
            for (i, line) in lines.iter().enumerate() {
                out.push(format!(
                    "{}{}{}",
                    " ".repeat(detail_col),
                    p.paint(
                        Palette::quiet(),
                        &pad(if i == 0 { "refs" } else { "" }, LABEL_W)
                    ),
                    p.paint(Palette::quiet(), line)
                ));
            }
        }
    }
}

/// The standards a finding answers, one group per standard, cleaned.
fn references(f: &Finding) -> Vec<String> {
    let r = &f.references;
    [
        ("IEC 62443-4-2", &r.iec62443),
        ("MDS2", &r.mds2),
        ("SSG", &r.ssg),
        ("Lynis", &r.lynis),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(name, v)| clean(&format!("{name} {}", v.join(", "))).into_owned())
    .collect()
}

fn summary(out: &mut Vec<String>, report: &Report, fail_on: FailOn, layout: Layout) {
    let p = layout.palette;
    heading(out, layout, "SUMMARY");
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let n = report.counts.get(*s);
            let text = format!("{n} {s}");
            if n > 0 {
                p.paint(Palette::severity_style(*s), &text)
            } else {
                text
            }
        })
        .collect();
    out.push(format!(
        "  {}{}",
        p.paint(Palette::quiet(), &pad("findings", LABEL_W)),
        counts.join(", ")
    ));
    let count = |st: CheckStatus| report.checks.iter().filter(|c| c.status == st).count();
    field(
        out,
        layout,
        2,
        "checks",
        &format!(
            "{} passed, {} failed, {} not applicable, {} disabled",
            count(CheckStatus::Pass),
            count(CheckStatus::Fail),
            count(CheckStatus::NotApplicable),
            count(CheckStatus::Disabled)
        ),
    );
    let (style, result) = match Verdict::of(report, fail_on.threshold()) {
        Verdict::Pass => (
            Palette::good(),
            match fail_on.threshold() {
                Some(t) => format!("PASS: no finding at or above {t} (--fail-on {t})"),
                None => "PASS: findings do not fail this run (--fail-on none)".to_owned(),
            },
        ),
        Verdict::Fail(n) => (
            Palette::bad(),
            format!(
                "FAIL: {n} finding{} at or above {} (--fail-on {})",
                if n == 1 { "" } else { "s" },
                fail_on.as_str(),
                fail_on.as_str()
            ),
        ),
        Verdict::NothingAudited => (
            Palette::bad(),
            "ERROR: no check could run against this root; is it a device's root directory?"
                .to_owned(),
        ),
    };
    field_styled(out, layout, 2, "result", &result, Some(style));
}

fn not_applicable(out: &mut Vec<String>, report: &Report, layout: Layout) {
    let na: Vec<_> = report.not_applicable().collect();
    if !na.is_empty() {
        heading(out, layout, &format!("NOT APPLICABLE ({})", na.len()));
        let id_w = na
            .iter()
            .map(|c| width_of(&clean(&c.id)))
            .max()
            .unwrap_or(6);
        for c in na {
            let reason = c.reason.as_deref().unwrap_or("no reason given");
            let indent = 2 + id_w + GAP;
            for (i, line) in wrap(&clean(reason), layout.width.saturating_sub(indent))
                .iter()
                .enumerate()
            {
                let id = if i == 0 {
                    clean(&c.id).into_owned()
                } else {
                    String::new()
                };
                out.push(format!("  {}{line}", pad(&id, id_w + GAP)));
            }
        }
    }
    let disabled: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Disabled)
        .map(|c| clean(&c.id).into_owned())
        .collect();
    if !disabled.is_empty() {
        heading(
            out,
            layout,
            &format!("DISABLED BY CONFIGURATION ({})", disabled.len()),
        );
        for line in wrap(&disabled.join(", "), layout.width.saturating_sub(2)) {
            out.push(format!("  {line}"));
        }
    }
}

fn warnings(out: &mut Vec<String>, report: &Report, layout: Layout) {
    if report.warnings.is_empty() {
        return;
    }
    heading(
        out,
        layout,
        &format!("WARNINGS ({})", report.warnings.len()),
    );
    for w in &report.warnings {
        let text = clean(&w.to_string()).into_owned();
        for (i, line) in wrap(&text, layout.width.saturating_sub(4))
            .iter()
            .enumerate()
        {
            out.push(format!("{}{line}", if i == 0 { "  " } else { "    " }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::{check, finding, report};
    use dha_core::Diagnostic;

    fn plain(width: usize) -> Layout {
        Layout {
            palette: Palette::new(false),
            width,
        }
    }

    fn sample() -> Report {
        let mut crit = finding("ACC-01", Severity::Critical);
        crit.title = "an account other than root has UID 0".to_owned();
        crit.evidence.file = Some("/etc/passwd".to_owned());
        crit.evidence.line = Some(11);
        crit.evidence.observed = Some("toor has UID 0".to_owned());
        crit.evidence.expected = Some("only root has UID 0".to_owned());
        crit.remediation = "Remove the account, or give it a UID of its own.".to_owned();
        crit.references.iec62443 = vec!["CR 1.3".to_owned(), "CR 2.1".to_owned()];
        crit.references.lynis = vec!["AUTH-9204".to_owned()];
        let mut med = finding("ACC-05", Severity::Medium);
        med.evidence.file = Some("/etc/login.defs".to_owned());
        let low = finding("ACC-12", Severity::Low);
        let mut r = report(
            vec![med, low, crit],
            vec![
                check("ACC-01", CheckStatus::Fail),
                check("ACC-05", CheckStatus::Fail),
                check("ACC-12", CheckStatus::Fail),
                check("ACC-15", CheckStatus::NotApplicable),
                check("SSH-01", CheckStatus::Disabled),
            ],
        );
        r.device.hostname = Some("ct-console-07\u{1b}]0;pwned\u{7}".to_owned());
        r.device.os_release.insert(
            "PRETTY_NAME".to_owned(),
            "Debian GNU/Linux 12 (bookworm)".to_owned(),
        );
        r.warnings.push(Diagnostic {
            file: "/etc/shadow".to_owned(),
            line: Some(4),
            field: Some("last_change".to_owned()),
            message: "not a number".to_owned(),
        });
        r
    }

    #[test]
    fn findings_sort_gravest_first_then_by_id_keeping_file_order() {
        let mut a = finding("ACC-05", Severity::High);
        a.evidence.line = Some(1);
        let mut b = finding("ACC-05", Severity::High);
        b.evidence.line = Some(2);
        let c = finding("ACC-02", Severity::High);
        let d = finding("ACC-01", Severity::Low);
        let e = finding("SSH-01", Severity::Critical);
        let all = [a, d, b, c, e];
        let order: Vec<(String, Option<u32>)> = sorted(&all)
            .iter()
            .map(|f| (f.check_id.clone(), f.evidence.line))
            .collect();
        assert_eq!(
            order,
            vec![
                ("SSH-01".to_owned(), None),
                ("ACC-02".to_owned(), None),
                ("ACC-05".to_owned(), Some(1)),
                ("ACC-05".to_owned(), Some(2)),
                ("ACC-01".to_owned(), None),
            ]
        );
    }

    #[test]
    fn table_has_every_part_in_order() {
        let t = render(&sample(), FailOn::High, plain(100));
        let at = |s: &str| {
            t.find(s)
                .unwrap_or_else(|| panic!("{s:?} missing from\n{t}"))
        };
        assert!(at("dha 0.1.0 audit report") < at("device   ct-console-07"));
        assert!(at("os       Debian GNU/Linux 12 (bookworm)") < at("FINDINGS (3)"));
        assert!(at("critical  ACC-01  /etc/passwd:11") < at("medium    ACC-05  /etc/login.defs"));
        assert!(at("medium    ACC-05") < at("low       ACC-12  -"));
        assert!(at("observed toor has UID 0") < at("expected only root has UID 0"));
        assert!(
            at("remedy   Remove the account")
                < at("refs     IEC 62443-4-2 CR 1.3, CR 2.1; Lynis AUTH-9204")
        );
        assert!(
            at("findings 1 critical, 0 high, 1 medium, 1 low, 0 info") < at("NOT APPLICABLE (1)")
        );
        assert!(at("checks   0 passed, 3 failed, 1 not applicable, 1 disabled") < at("result"));
        assert!(
            at("FAIL: 1 finding at or above high (--fail-on high)")
                < at("ACC-15  ACC-15 inputs absent")
        );
        assert!(at("DISABLED BY CONFIGURATION (1)") < at("WARNINGS (1)"));
        at("/etc/shadow:4: field last_change: not a number");
    }

    #[test]
    fn device_text_cannot_inject_escapes_and_plain_output_has_none() {
        let t = render(&sample(), FailOn::High, plain(100));
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t}");
        assert!(t.contains("ct-console-07\\x1b]0;pwned\\x07"), "{t}");
        let coloured = render(
            &sample(),
            FailOn::High,
            Layout {
                palette: Palette::new(true),
                width: 100,
            },
        );
        assert!(coloured.contains("\u{1b}["));
        // The only escapes are the palette's (SGR, ending in `m`): the OSC from the hostname stays escaped.
        assert!(!coloured.contains("\u{1b}]"), "{coloured}");
    }

    #[test]
    fn lines_fit_the_width_and_narrow_layout_moves_titles_down() {
        let mut r = sample();
        r.findings[2].title = "word ".repeat(60);
        r.findings[2].evidence.file =
            Some("/etc/ssh/sshd_config.d/99-very-long-drop-in-name.conf".to_owned());
        for width in [60, 80, 100, 160] {
            let t = render(&r, FailOn::High, plain(width));
            for line in t.lines() {
                assert!(
                    width_of(line) <= width,
                    "width {width}: {line:?} is {} wide",
                    width_of(line)
                );
            }
        }
        let long_path = render(&r, FailOn::High, plain(80));
        assert!(
            long_path.contains(
                "critical  ACC-01  /etc/ssh/sshd_config.d/99-very-long-drop-in-name.conf:11\n          word word"
            ),
            "{long_path}"
        );
        let narrow = render(&r, FailOn::High, plain(60));
        assert!(
            narrow.contains(
                "critical  ACC-01  /etc/ssh/sshd_config.d/99-very-long-drop-i\n                  n-name.conf:11\n          word word"
            ),
            "{narrow}"
        );
    }

    #[test]
    fn times_are_shown_to_the_second() {
        assert_eq!(
            to_seconds("2026-11-29T08:11:01.317147347Z"),
            "2026-11-29T08:11:01Z"
        );
        assert_eq!(
            to_seconds("2026-11-29T08:11:01.5+01:00"),
            "2026-11-29T08:11:01+01:00"
        );
        assert_eq!(to_seconds("2026-11-29T08:11:01Z"), "2026-11-29T08:11:01Z");
        assert_eq!(to_seconds("garbage."), "garbage.");
    }

    #[test]
    fn clean_report_says_so() {
        let r = report(vec![], vec![check("ACC-01", CheckStatus::Pass)]);
        let t = render(&r, FailOn::High, plain(80));
        assert!(t.contains("FINDINGS (0)\n  No findings."), "{t}");
        assert!(
            t.contains("PASS: no finding at or above high (--fail-on high)"),
            "{t}"
        );
        assert!(
            !t.contains("NOT APPLICABLE") && !t.contains("WARNINGS"),
            "{t}"
        );
        let none = render(&sample(), FailOn::None, plain(80));
        assert!(
            none.contains("PASS: findings do not fail this run (--fail-on none)"),
            "{none}"
        );
    }

    #[test]
    fn nothing_audited_is_called_an_error() {
        let r = report(vec![], vec![check("ACC-01", CheckStatus::NotApplicable)]);
        let t = render(&r, FailOn::High, plain(80));
        assert!(
            t.contains("ERROR: no check could run against this root"),
            "{t}"
        );
    }
}
