//! `dha boot` end to end over the file back end (issue 5, "Command line"):
//! the built program against a boot environment file in a temporary
//! directory, as a test rig uses it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn dha<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(DHA)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dha")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_exit(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

/// A rig: A running and good, B empty.
fn rig() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bootenv");
    fs::write(
        &env,
        "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    (dir, env)
}

fn boot(env: &Path, action: &[&str]) -> Output {
    let mut args = vec!["boot"];
    args.extend_from_slice(action);
    let env = env.to_str().unwrap();
    args.extend_from_slice(&["--backend", "file", "--env", env]);
    dha(&args)
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap()
}

#[test]
fn status_as_table_and_json() {
    let (_d, env) = rig();
    let o = boot(&env, &["status"]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    assert!(t.contains("SLOT") && t.contains("booted: A"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("A ") && l.contains("booted, next")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with("B ") && l.contains("exhausted")),
        "{t}"
    );
    let o = boot(&env, &["status", "--format", "json"]);
    assert_exit(&o, 0);
    let v = json(&o);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["boot_order"], serde_json::json!(["A", "B"]));
    assert_eq!(v["booted"], "A");
    assert_eq!(v["next_boot"], "A");
    assert_eq!(v["slots"][1]["slot"], "B");
    assert_eq!(v["slots"][1]["tries_left"], 0);
}

#[test]
fn switch_mark_good_and_mark_bad_change_the_file() {
    let (_d, env) = rig();
    let o = boot(
        &env,
        &["switch", "B", "--max-tries", "5", "--format", "json"],
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["next_boot"], "B");
    assert_eq!(
        fs::read_to_string(&env).unwrap(),
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=5\nBOOTED=A\n"
    );
    // mark-good without a slot: the running one (BOOTED=A).
    let o = boot(&env, &["mark-good"]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).starts_with("mark-good A: done"),
        "{}",
        stdout(&o)
    );
    let o = boot(&env, &["mark-bad", "B", "--format", "json"]);
    assert_exit(&o, 0);
    let v = json(&o);
    assert_eq!(v["boot_order"], serde_json::json!(["A"]));
    assert_eq!(v["slots"][1]["position"], Value::Null);
    assert!(
        fs::read_to_string(&env)
            .unwrap()
            .contains("BOOT_B_LEFT=0\n")
    );
}

#[test]
fn refusals_exit_1_with_one_line_and_leave_the_file() {
    let (_d, env) = rig();
    let before = fs::read_to_string(&env).unwrap();
    for action in [
        &["mark-bad"][..],
        &["switch", "C"][..],
        &["mark-good", "C"][..],
    ] {
        let o = boot(&env, action);
        assert_exit(&o, 1);
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.starts_with("dha: boot: boot control: "), "{e}");
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(fs::read_to_string(&env).unwrap(), before);
}

#[test]
fn usage_errors_and_unreadable_environments_exit_2() {
    let (d, env) = rig();
    let env_s = env.to_str().unwrap();
    for args in [
        vec!["boot", "status"],
        vec!["boot", "status", "--backend", "file"],
        vec!["boot", "status", "--backend", "uboot", "--env", env_s],
        vec!["boot", "switch", "--backend", "file", "--env", env_s],
        vec!["boot", "switch", "a b", "--backend", "file", "--env", env_s],
        vec![
            "boot",
            "switch",
            "B",
            "--max-tries",
            "0",
            "--backend",
            "file",
            "--env",
            env_s,
        ],
    ] {
        assert_exit(&dha(&args), 2);
    }
    let missing = d.path().join("missing");
    let o = boot(&missing, &["status"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
    // No BOOTED= line: mark-good needs the slot named.
    fs::write(&env, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\n").unwrap();
    let o = boot(&env, &["mark-good"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("name the slot"), "{}", stderr(&o));
}

#[test]
fn uboot_backend_with_fake_tools() {
    use std::os::unix::fs::PermissionsExt as _;
    let d = tempfile::tempdir().unwrap();
    let env = d.path().join("env");
    fs::write(&env, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
    let printenv = d.path().join("fw_printenv");
    let setenv = d.path().join("fw_setenv");
    fs::write(&printenv, format!("#!/bin/sh\ncat '{}'\n", env.display())).unwrap();
    // A fw_setenv that silently ignores every write.
    fs::write(&setenv, "#!/bin/sh\nexit 0\n").unwrap();
    for p in [&printenv, &setenv] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let tools = [
        "--backend",
        "uboot",
        "--fw-printenv",
        printenv.to_str().unwrap(),
        "--fw-setenv",
        setenv.to_str().unwrap(),
    ];
    let mut args = vec!["boot", "status", "--format", "json"];
    args.extend_from_slice(&tools);
    let o = dha(&args);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["next_boot"], "A");
    let mut args = vec!["boot", "switch", "B"];
    args.extend_from_slice(&tools);
    let o = dha(&args);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("read back after writing"),
        "{}",
        stderr(&o)
    );
}

/// A dha.toml naming the file back end and `checks` (executables written
/// into the rig's directory: name and shell body).
fn configured(dir: &Path, env: &Path, checks: &[(&str, &str)]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let mut list = Vec::new();
    for (name, body) in checks {
        let p = dir.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        list.push(format!(
            "{{ path = \"{}\", timeout_secs = 10 }}",
            p.display()
        ));
    }
    let config = dir.join("dha.toml");
    fs::write(
        &config,
        format!(
            "[boot]\nbackend = \"file\"\nenv = \"{}\"\nhealth_checks = [{}]\n",
            env.display(),
            list.join(", ")
        ),
    )
    .unwrap();
    config
}

#[test]
fn confirm_runs_the_health_checks_then_marks_the_running_slot_good() {
    let (d, env) = rig();
    fs::write(
        &env,
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=2\nBOOTED=B\n",
    )
    .unwrap();
    let seen = d.path().join("seen");
    let config = configured(
        d.path(),
        &env,
        &[(
            "selftest",
            &format!("echo $DHA_SLOT > '{}'\n", seen.display()),
        )],
    );
    let c = config.to_str().unwrap();
    let o = dha(&["boot", "confirm", "--config", c]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    assert!(t.contains("ok    ") && t.contains("selftest"), "{t}");
    assert!(
        t.contains("confirm B: healthy, marked good (read back)"),
        "{t}"
    );
    assert_eq!(fs::read_to_string(&seen).unwrap(), "B\n");
    assert_eq!(
        fs::read_to_string(&env).unwrap(),
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=B\n"
    );
    // JSON, and the tries from --max-tries.
    let o = dha(&[
        "boot",
        "confirm",
        "--config",
        c,
        "--max-tries",
        "5",
        "--format",
        "json",
    ]);
    assert_exit(&o, 0);
    let v = json(&o);
    assert_eq!(v["action"], "confirm");
    assert_eq!(v["confirm"]["healthy"], true);
    assert_eq!(v["confirm"]["marked_good"], true);
    assert_eq!(v["confirm"]["checks"][0]["ok"], true);
    assert!(
        fs::read_to_string(&env)
            .unwrap()
            .contains("BOOT_B_LEFT=5\n")
    );
}

#[test]
fn confirm_of_an_unhealthy_slot_exits_1_and_leaves_the_counter() {
    let (d, env) = rig();
    let before = "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=2\nBOOTED=B\n";
    fs::write(&env, before).unwrap();
    let config = configured(
        d.path(),
        &env,
        &[
            ("selftest", "exit 0\n"),
            ("detector", "echo 'detector not answering' >&2\nexit 1\n"),
        ],
    );
    let o = dha(&["boot", "confirm", "--config", config.to_str().unwrap()]);
    assert_exit(&o, 1);
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("dha: boot: slot B unhealthy: health check ")
            && e.contains("detector: exited with status 1: detector not answering"),
        "{e}"
    );
    let t = stdout(&o);
    assert!(t.contains("FAIL  ") && t.contains("not marked good"), "{t}");
    assert_eq!(fs::read_to_string(&env).unwrap(), before);
}

#[test]
fn confirm_after_a_fall_back_reports_it() {
    let (d, env) = rig();
    fs::write(
        &env,
        "BOOT_ORDER=B A\nBOOT_A_LEFT=2\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    let config = configured(d.path(), &env, &[]);
    let o = dha(&["boot", "confirm", "--config", config.to_str().unwrap()]);
    assert_exit(&o, 0);
    let t = stdout(&o);
    assert!(
        t.contains("fell back: slot B ran out of tries; running A"),
        "{t}"
    );
    assert!(t.contains("no health checks configured"), "{t}");
    assert_eq!(
        fs::read_to_string(&env).unwrap(),
        "BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n"
    );
}

#[test]
fn without_a_back_end_boot_control_is_refused_naming_boot_backend() {
    let (d, env) = rig();
    let empty = d.path().join("empty.toml");
    fs::write(&empty, "").unwrap();
    for args in [
        vec!["boot", "status"],
        vec!["boot", "confirm", "--config", empty.to_str().unwrap()],
    ] {
        let o = dha(&args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("boot.backend"), "{}", stderr(&o));
    }
    // --env alone is not a back end.
    let o = dha(&["boot", "status", "--env", env.to_str().unwrap()]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--backend"), "{}", stderr(&o));
}
