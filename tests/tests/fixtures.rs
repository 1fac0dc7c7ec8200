//! The audit against the fixture roots in `tests/data/roots`: the hardened
//! root passes every check, and every weakness planted in a weak root is
//! reported with its check id and file:line evidence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use dha_core::{Auditor, CheckStatus, Config, FixedClock, Report, Root, Severity};
use dha_tests::{expectations, materialise, root_names};

/// 2026-11-29T00:00:00Z: the fixtures' "today" (shadow day 20786).
const NOW: u64 = 1_795_910_400;

/// The configuration a fixture root is audited with: `<name>.dha.toml`
/// beside the root when there is one (paths in it are inside the root, as
/// for any audit of an image), else the defaults.
fn fixture_config(name: &str) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/roots")
        .join(format!("{name}.dha.toml"));
    match std::fs::read_to_string(&path) {
        Ok(doc) => {
            Config::from_toml_str(&doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }
        Err(_) => Config::default(),
    }
}

fn audit(name: &str) -> Report {
    let fx = materialise(name);
    let cfg = fixture_config(name);
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
        // A live-only check (BOOT-02, NET-01, PRC-01) cannot measure an image.
        let live_only = !dha_core::catalogue::lookup(&c.id).is_some_and(|i| i.offline);
        assert!(
            matches!(c.status, CheckStatus::Pass | CheckStatus::Fail)
                || (live_only && c.status == CheckStatus::NotApplicable),
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
    for c in dha_core::CATALOGUE.iter().filter(|c| c.offline) {
        let n = names
            .iter()
            .flat_map(|n| expectations(n))
            .filter(|e| e.check_id == c.id)
            .count();
        assert!(n > 0, "no weak root plants a weakness for {}", c.id);
    }
}

/// Hostile and broken inputs: binary junk, CRLF line ends, no final newline,
/// bytes that are not UTF-8, a file over the read limit, a FIFO where a file
/// should be, and include loops. The audit completes, and every problem is a
/// warning or a finding that names its file (and line where there is one).
#[test]
fn broken_inputs_are_reported_never_fatal() {
    use std::os::unix::fs::symlink;
    let fx = materialise("hardened");
    let etc = fx.path().join("etc");
    // Binary junk in shadow, with a good line after it.
    let mut junk = vec![0u8, 159, 146, 150, 0xff, b':', b'\n'];
    junk.extend_from_slice(b"root:$y$j9T$a$b:20700:1:90:7:30::\n");
    std::fs::write(etc.join("shadow"), &junk).unwrap();
    // CRLF and a missing final newline in passwd, plus a malformed line and a UID that is not a number.
    let passwd = std::fs::read_to_string(etc.join("passwd"))
        .unwrap()
        .replace('\n', "\r\n");
    let passwd = format!("{passwd}broken-line\r\nmallory:x:notanumber:0::/root:/bin/sh");
    std::fs::write(etc.join("passwd"), passwd).unwrap();
    // A sudoers include loop and a PAM include loop.
    std::fs::write(etc.join("sudoers.d/loop"), "@include /etc/sudoers.d/loop\n").unwrap();
    std::fs::write(
        etc.join("pam.d/loop"),
        "@include loop\nauth required pam_unix.so\n",
    )
    .unwrap();
    // An sshd_config that includes itself.
    let sshd = std::fs::read_to_string(etc.join("ssh/sshd_config")).unwrap();
    std::fs::write(
        etc.join("ssh/sshd_config"),
        format!("Include /etc/ssh/sshd_config\n{sshd}"),
    )
    .unwrap();
    // A FIFO where a profile script should be: reading it must not block.
    let fifo = etc.join("profile.d/zz-fifo.sh");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // login.defs over a small read limit.
    let mut big = std::fs::read_to_string(etc.join("login.defs")).unwrap();
    big.push_str(&"# padding\n".repeat(2000));
    std::fs::write(etc.join("login.defs"), big).unwrap();
    // A link that climbs above the root: resolved inside it, it points at itself (a loop).
    std::fs::remove_file(etc.join("shells")).unwrap();
    symlink("../../../../../../etc/shells", etc.join("shells")).unwrap();

    let mut cfg = Config::default();
    cfg.limits.max_file_bytes = 8 * 1024;
    let root = Root::with_limits(fx.path(), cfg.read_limits()).unwrap();
    let r = Auditor::new(&cfg, &FixedClock::from_unix_secs(NOW)).run(&root);
    let warned = |file: &str, line: Option<u32>| {
        r.warnings
            .iter()
            .any(|w| w.file == file && (line.is_none() || w.line == line))
    };
    let text = summary(&r);
    assert!(
        warned("/etc/shadow", Some(1)),
        "junk shadow line not reported:\n{text}"
    );
    assert!(
        warned("/etc/shadow", None),
        "non-UTF-8 shadow not reported:\n{text}"
    );
    let n = u32::try_from(
        std::fs::read_to_string(etc.join("passwd"))
            .unwrap()
            .lines()
            .count(),
    )
    .unwrap();
    assert!(
        warned("/etc/passwd", Some(n - 1)),
        "malformed passwd line not reported:\n{text}"
    );
    assert!(
        r.warnings.iter().any(|w| w.file == "/etc/passwd"
            && w.line == Some(n)
            && w.field.as_deref() == Some("uid")),
        "bad uid not reported with its field:\n{text}"
    );
    assert!(
        warned("/etc/login.defs", None),
        "truncation not reported:\n{text}"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.file.starts_with("/etc/sudoers.d/loop")),
        "sudoers include loop not reported:\n{text}"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.file.starts_with("/etc/pam.d/loop")),
        "PAM include loop not reported:\n{text}"
    );
    assert!(
        r.warnings.iter().any(|w| w.file == "/etc/ssh/sshd_config"),
        "sshd include loop not reported:\n{text}"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.file == "/etc/profile.d/zz-fifo.sh"),
        "FIFO not reported:\n{text}"
    );
    // The shadow line after the junk is still parsed: root has its password, so ACC-10 finds nothing critical.
    assert!(
        !r.findings
            .iter()
            .any(|f| f.check_id == "ACC-10" && f.severity == Severity::Critical),
        "{text}"
    );
    // Every check still ran or said why not.
    assert_eq!(r.checks.len(), dha_core::CATALOGUE.len());
}
