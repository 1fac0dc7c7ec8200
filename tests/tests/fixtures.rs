//! The audit against the fixture roots in `tests/data/roots`: the hardened
//! root passes every check, and every weakness planted in a weak root is
//! reported with its check id and file:line evidence.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use dha_core::{Auditor, CheckStatus, Config, FixedClock, Report, Root, Severity};
use dha_tests::{expectations, materialise, root_names};

/// 2026-11-29T00:00:00Z: the fixtures' "today" (shadow day 20786).
const NOW: u64 = 1_795_910_400;

fn audit(name: &str) -> Report {
    let fx = materialise(name);
    let cfg = Config::default();
    let root = Root::with_limits(fx.path(), cfg.read_limits()).unwrap();
    Auditor::new(&cfg, &FixedClock::from_unix_secs(NOW)).run(&root)
}

fn summary(r: &Report) -> String {
    let mut s = String::new();
    for f in &r.findings {
        s.push_str(&format!(
            "  {} {} {} {} (observed {:?})\n",
            f.check_id,
            f.severity,
            f.location(),
            f.title,
            f.evidence.observed
        ));
    }
    for c in &r.checks {
        if c.status != CheckStatus::Pass {
            s.push_str(&format!("  [{}] {:?} {:?}\n", c.id, c.status, c.reason));
        }
    }
    for w in &r.warnings {
        s.push_str(&format!("  warning: {w}\n"));
    }
    s
}

#[test]
fn the_clock_is_the_29th_of_november_2026() {
    assert_eq!(
        dha_core::clock::rfc3339(FixedClock::from_unix_secs(NOW).0),
        "2026-11-29T00:00:00Z"
    );
}

#[test]
fn hardened_root_passes_every_check() {
    let r = audit("hardened");
    let above_info: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert!(
        above_info.is_empty(),
        "hardened root has findings:\n{}",
        summary(&r)
    );
    for c in &r.checks {
        assert!(
            matches!(c.status, CheckStatus::Pass | CheckStatus::Fail),
            "{} is {:?} on the hardened root: {:?}\n{}",
            c.id,
            c.status,
            c.reason,
            summary(&r)
        );
    }
    assert!(
        r.warnings.is_empty(),
        "hardened root has warnings:\n{}",
        summary(&r)
    );
    assert_eq!(r.device.hostname.as_deref(), Some("ct-console-07"));
    assert_eq!(
        r.device.os_release.get("ID").map(String::as_str),
        Some("debian")
    );
}

#[test]
fn every_planted_weakness_is_reported_with_its_location() {
    let mut missing = Vec::new();
    for name in root_names().into_iter().filter(|n| n.starts_with("weak")) {
        let expected = expectations(&name);
        assert!(
            !expected.is_empty(),
            "weak root {name} has no {name}.expect"
        );
        let r = audit(&name);
        for e in &expected {
            let hit = r
                .findings
                .iter()
                .any(|f| f.check_id == e.check_id && f.location() == e.location);
            if !hit {
                missing.push(format!(
                    "{name}.expect:{}: {} {} not reported",
                    e.source_line, e.check_id, e.location
                ));
            }
        }
        if !missing.is_empty() {
            missing.push(format!("findings of {name}:\n{}", summary(&r)));
        }
        // A finding cites only references its check's catalogue entry lists,
        // so `dha checks` shows every rule a report can name.
        for f in &r.findings {
            let info = dha_core::catalogue::lookup(&f.check_id).unwrap();
            for rule in &f.references.ssg {
                if !info.ssg.contains(&rule.as_str()) {
                    missing.push(format!(
                        "{name}: {} cites SSG rule {rule}, absent from its catalogue entry",
                        f.check_id
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_check_has_a_planted_weakness() {
    let names: Vec<String> = root_names()
        .into_iter()
        .filter(|n| n.starts_with("weak"))
        .collect();
    for c in dha_core::CATALOGUE
        .iter()
        .filter(|c| c.area == "user-management")
    {
        let n = names
            .iter()
            .flat_map(|n| expectations(n))
            .filter(|e| e.check_id == c.id)
            .count();
        assert!(n > 0, "no weak root plants a weakness for {}", c.id);
    }
}
