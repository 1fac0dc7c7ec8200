//! The `dha` program end to end: exit statuses for the right reasons, JSON a
//! machine can read, errors that name what is wrong, and a table that a
//! crafted device image cannot turn into terminal commands.
//!
//! The checks themselves are tested elsewhere (agent-core, tests/tests/fixtures.rs);
//! here the assertions are on the program's mechanics and on weaknesses these
//! tests plant themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::CATALOGUE;
use dha_tests::{Fixture, materialise};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn dha(args: &[&str]) -> Output {
    Command::new(DHA)
        .args(args)
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .output()
        .expect("run dha")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("dha ended by a signal")
}

/// Asserts the exit status, showing both streams when it differs.
#[track_caller]
fn assert_exit(o: &Output, want: i32) {
    assert_eq!(
        code(o),
        want,
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(o)))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The hardened root with a second UID-0 account appended to /etc/passwd;
/// returns the fixture and the account's line.
fn with_second_uid0() -> (Fixture, u32) {
    let fx = materialise("hardened");
    let passwd = fx.path().join("etc/passwd");
    let mut text = fs::read_to_string(&passwd).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("toor:x:0:0:maintenance:/root:/bin/bash\n");
    fs::write(&passwd, &text).unwrap();
    let line = u32::try_from(text.lines().count()).unwrap();
    (fx, line)
}

/// A configuration that runs ACC-01 alone, its findings at `severity`.
fn acc01_only_config(dir: &Path, severity: &str) -> std::path::PathBuf {
    let mut doc = format!("[checks.ACC-01]\nseverity = \"{severity}\"\n");
    for c in CATALOGUE.iter().filter(|c| c.id != "ACC-01") {
        doc.push_str(&format!("[checks.{}]\nenabled = false\n", c.id));
    }
    let p = dir.join("acc01-only.toml");
    fs::write(&p, doc).unwrap();
    p
}

#[test]
fn version_and_help_are_complete() {
    let o = dha(&["--version"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).trim(), format!("dha {}", dha_core::VERSION));

    let o = dha(&["--help"]);
    assert_exit(&o, 0);
    let h = stdout(&o);
    for needle in [
        "audit",
        "checks",
        "Examples:",
        "--verbose",
        "--quiet",
        "--color",
    ] {
        assert!(h.contains(needle), "{needle} missing from dha --help:\n{h}");
    }

    let o = dha(&["audit", "--help"]);
    assert_exit(&o, 0);
    let h = stdout(&o);
    for needle in [
        "Exit status:",
        "0  no finding at or above --fail-on",
        "1  at least one finding",
        "2  usage error",
        "--root <DIR>",
        "--config <FILE>",
        "--format <FORMAT>",
        "--fail-on <SEVERITY>",
        "[default: high]",
        "Example:",
        "NO_COLOR",
    ] {
        assert!(
            h.contains(needle),
            "{needle} missing from dha audit --help:\n{h}"
        );
    }

    let o = dha(&["checks", "--help"]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("--format <FORMAT>") && stdout(&o).contains("Example:"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["audit", "--fail-on", "severe"],
        &["audit", "--format", "xml"],
        &["audit", "--root"],
        &["-q", "-v", "checks"],
    ] {
        let o = dha(args);
        assert_exit(&o, 2);
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("error: ") || e.contains("Usage: dha"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn a_missing_root_exits_2_with_a_clear_message() {
    let o = dha(&["audit", "--root", "/nonexistent/dha-image"]);
    assert_exit(&o, 2);
    assert!(stdout(&o).is_empty());
    let e = stderr(&o);
    assert!(
        e.starts_with("dha: error: cannot audit: root /nonexistent/dha-image:"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    let f = tempfile::NamedTempFile::new().unwrap();
    let o = dha(&["audit", "--root", path(f.path())]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("is not a directory"), "{}", stderr(&o));
}

#[test]
fn a_bad_configuration_exits_2_naming_the_key() {
    let d = tempfile::tempdir().unwrap();
    let root = materialise("hardened");
    let cfg = d.path().join("dha.toml");

    fs::write(&cfg, "[password]\nmax_days = 60\nmin_lenght = 14\n").unwrap();
    let o = dha(&["audit", "--root", path(root.path()), "--config", path(&cfg)]);
    assert_exit(&o, 2);
    assert!(stdout(&o).is_empty(), "no report from a bad configuration");
    let e = stderr(&o);
    assert!(e.contains("dha: error: configuration:"), "{e}");
    assert!(
        e.contains(path(&cfg)) && e.contains("min_lenght") && e.contains("line 3"),
        "{e}"
    );

    fs::write(&cfg, "[checks.ACC-99]\nenabled = false\n").unwrap();
    let o = dha(&["audit", "--root", path(root.path()), "--config", path(&cfg)]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("checks.ACC-99"), "{}", stderr(&o));

    fs::write(&cfg, "[accounts]\numask = \"999\"\n").unwrap();
    let o = dha(&["audit", "--root", path(root.path()), "--config", path(&cfg)]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("accounts.umask"), "{}", stderr(&o));

    let missing = d.path().join("absent.toml");
    let o = dha(&[
        "audit",
        "--root",
        path(root.path()),
        "--config",
        path(&missing),
    ]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains(path(&missing)), "{}", stderr(&o));
}

#[test]
fn a_root_where_no_check_applies_exits_2_after_reporting_why() {
    let empty = tempfile::tempdir().unwrap();
    let o = dha(&["audit", "--root", path(empty.path()), "--fail-on", "none"]);
    assert_exit(&o, 2);
    assert!(stdout(&o).contains("NOT APPLICABLE"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("no check could run there"),
        "{}",
        stderr(&o)
    );

    let o = dha(&["audit", "--root", path(empty.path()), "--format", "json"]);
    assert_exit(&o, 2);
    let r = json(&o);
    // No account database: every user-management check says why it could
    // not run. (Checks such as KRN-01 judge absent files by the built-in
    // defaults, so they may report; the verdict is still "nothing audited".)
    for c in r["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if dha_core::catalogue::lookup(id).unwrap().area == "user-management" {
            assert_eq!(c["status"], "not_applicable", "{id}");
        }
    }
}

#[test]
fn the_hardened_root_passes() {
    let fx = materialise("hardened");
    let o = dha(&["audit", "--root", path(fx.path())]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    assert!(t.contains("device   ct-console-07"), "{t}");
    assert!(t.contains("PASS: no finding at or above high"), "{t}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn a_second_uid0_account_fails_the_run_with_its_location() {
    let (fx, line) = with_second_uid0();
    let loc = format!("/etc/passwd:{line}");

    let o = dha(&["audit", "--root", path(fx.path()), "--format", "json"]);
    assert_exit(&o, 1);
    let r = json(&o);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["root"], path(&fx.path().canonicalize().unwrap()));
    assert_eq!(r["device"]["hostname"], "ct-console-07");
    let acc01: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == "ACC-01")
        .collect();
    assert!(
        acc01.iter().any(|f| f["evidence"]["file"] == "/etc/passwd"
            && f["evidence"]["line"] == line
            && f["severity"] == "critical"),
        "no ACC-01 finding at {loc}: {acc01:#?}"
    );
    let ids: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, CATALOGUE.iter().map(|c| c.id).collect::<Vec<_>>());

    let o = dha(&["audit", "--root", path(fx.path())]);
    assert_exit(&o, 1);
    let t = stdout(&o);
    assert!(t.contains(&format!("critical  ACC-01  {loc}")), "{t}");
    assert!(t.contains("FAIL: "), "{t}");
    // Gravest first: nothing is listed above the critical finding.
    let first = t
        .lines()
        .skip_while(|l| !l.starts_with("SEVERITY"))
        .nth(1)
        .unwrap_or_default();
    assert!(first.starts_with("critical  "), "{t}");
}

#[test]
fn fail_on_sets_the_threshold() {
    let (fx, _) = with_second_uid0();
    let d = tempfile::tempdir().unwrap();
    // ACC-01 alone, its finding turned down to low by the configuration: the
    // outcome depends only on this test's planted account and --fail-on.
    let cfg = acc01_only_config(d.path(), "low");
    let run = |fail_on: &str| {
        dha(&[
            "audit",
            "--root",
            path(fx.path()),
            "--config",
            path(&cfg),
            "--format",
            "json",
            "--fail-on",
            fail_on,
        ])
    };
    for (fail_on, want) in [
        ("none", 0),
        ("critical", 0),
        ("high", 0),
        ("medium", 0),
        ("low", 1),
        ("info", 1),
    ] {
        let o = run(fail_on);
        assert_exit(&o, want);
        let r = json(&o);
        assert!(
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["check_id"] == "ACC-01" && f["severity"] == "low"),
            "--fail-on {fail_on}: {:#}",
            r["findings"]
        );
        assert_eq!(r["counts"]["low"].as_u64().map(|n| n > 0), Some(true));
    }
    // Without --fail-on the default is high, so a low finding passes.
    let o = dha(&["audit", "--root", path(fx.path()), "--config", path(&cfg)]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!(
            "DISABLED BY CONFIGURATION ({})",
            dha_core::CATALOGUE.len() - 1
        )),
        "{}",
        stdout(&o)
    );
}

#[test]
fn checks_lists_every_catalogue_id() {
    let o = dha(&["checks"]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    for c in CATALOGUE {
        assert!(
            t.lines()
                .any(|l| l.starts_with(c.id) && l.contains(c.default_severity.as_str())),
            "{} missing:\n{t}",
            c.id
        );
    }
    assert!(t.contains("IEC 62443-4-2") && t.contains("MDS2") && t.contains("Lynis"));

    let o = dha(&["checks", "--format", "json"]);
    assert_exit(&o, 0);
    let v = json(&o);
    assert_eq!(v["schema_version"], 1);
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, CATALOGUE.iter().map(|c| c.id).collect::<Vec<_>>());
}

#[test]
fn this_machine_can_be_audited() {
    let o = dha(&["audit"]);
    let c = code(&o);
    assert!(
        c == 0 || c == 1,
        "dha audit of / exited {c}\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let t = stdout(&o);
    assert!(t.starts_with("dha ") && t.contains("audit report"), "{t}");
    assert!(t.contains("  root     /\n"), "{t}");
    assert!(t.contains("SUMMARY") && t.contains("result   "), "{t}");

    let o = dha(&[
        "audit",
        "--root",
        "/",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_exit(&o, 0);
    let r = json(&o);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["root"], "/");
    let kernel = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        r["device"]["hostname"],
        kernel.trim(),
        "live hostname, not the file's"
    );
}

#[test]
fn output_is_plain_unless_asked_or_on_a_terminal() {
    let o = dha(&["checks"]);
    assert!(
        !o.stdout.contains(&0x1b),
        "piped output must not be coloured"
    );
    let o = dha(&["checks", "--color", "always"]);
    assert!(stdout(&o).contains("\u{1b}["), "--color always colours");
    let o = Command::new(DHA)
        .args(["checks", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(stdout(&o).contains("\u{1b}["), "a flag overrides NO_COLOR");

    // On a real terminal (a pseudo-terminal from script(1)): coloured unless NO_COLOR.
    let script = Path::new("/usr/bin/script");
    assert!(
        script.exists(),
        "script(1) from util-linux is needed (apt-get install bsdutils)"
    );
    let on_pty = |no_color: Option<&str>| {
        let mut cmd = Command::new(script);
        cmd.args(["--quiet", "--return", "--command"])
            .arg(format!("'{DHA}' checks"))
            .arg("/dev/null")
            .stdin(Stdio::null())
            .env("TERM", "xterm");
        match no_color {
            Some(v) => cmd.env("NO_COLOR", v),
            None => cmd.env_remove("NO_COLOR"),
        };
        let o = cmd.output().unwrap();
        assert_exit(&o, 0);
        stdout(&o)
    };
    assert!(on_pty(None).contains("\u{1b}["), "a terminal gets colour");
    assert!(
        !on_pty(Some("1")).contains('\u{1b}'),
        "NO_COLOR is honoured"
    );
}

#[test]
fn device_text_cannot_drive_the_terminal() {
    let fx = materialise("hardened");
    // An image's hostname carrying an OSC window-title sequence and a
    // clear-screen CSI, and a bidirectional override.
    fs::write(
        fx.path().join("etc/hostname"),
        "ct\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}07\n",
    )
    .unwrap();
    let o = dha(&["audit", "--root", path(fx.path()), "--fail-on", "none"]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    assert!(
        !t.contains('\u{1b}') && !t.contains('\u{7}') && !t.contains('\u{202e}'),
        "{t:?}"
    );
    assert!(
        t.contains("device   ct\\x1b]0;owned\\x07\\x1b[2J\\u{202e}07"),
        "{t}"
    );
    // JSON keeps the value exactly (escaped by JSON itself).
    let o = dha(&[
        "audit",
        "--root",
        path(fx.path()),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(
        json(&o)["device"]["hostname"],
        "ct\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}07"
    );
}

#[test]
fn logging_goes_to_stderr_and_leaves_json_intact() {
    let fx = materialise("hardened");
    let o = dha(&[
        "audit",
        "--root",
        path(fx.path()),
        "--format",
        "json",
        "-vv",
    ]);
    assert_exit(&o, 0);
    json(&o);
    assert!(stderr(&o).contains("dha: auditing "), "{}", stderr(&o));
    let o = dha(&["audit", "--root", path(fx.path()), "--format", "json", "-q"]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let mut child = Command::new(DHA)
        .args(["checks"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let c = code(&o);
    assert!(c == 0 || c == 2, "exit {c}: {}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn an_unprivileged_audit_of_this_machine_says_it_is_incomplete() {
    // setpriv(1) (util-linux) drops to nobody; the binary is copied to a
    // directory nobody can reach, as the build directory may not be.
    let d = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let copy = d.path().join("dha");
    fs::copy(DHA, &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .args(["audit", "--format", "json", "--fail-on", "none"])
        .stdin(Stdio::null())
        .output()
        .expect("setpriv(1) from util-linux");
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains("dha: note: not running as root"),
        "{}",
        stderr(&o)
    );
    let r = json(&o);
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["file"] == "/etc/shadow"),
        "the unreadable /etc/shadow is a warning: {:#}",
        r["warnings"]
    );
    // -q silences the note too.
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .args(["audit", "-q", "--format", "json", "--fail-on", "none"])
        .output()
        .unwrap();
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}
