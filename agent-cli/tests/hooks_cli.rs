//! `dha hooks test`, `dha log init` and the events the commands record
//! (issue 5, "Recovery hooks and escalation"): the built program, real
//! commands, real flag files and real event logs in temporary directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};
use tempfile::TempDir;

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn dha(args: &[&str]) -> Output {
    Command::new(DHA).args(args).output().expect("run dha")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// A temporary directory with a dha.toml whose `[eventlog]` lives in it.
struct Rig {
    dir: TempDir,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            dir: tempfile::Builder::new()
                .prefix("dha-hooks-")
                .tempdir_in("/tmp")
                .unwrap(),
        }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.p(name).display().to_string()
    }

    /// Writes dha.toml: `[eventlog]` here, then `rest`.
    fn config(&self, rest: &str) -> String {
        let doc = format!(
            "[eventlog]\npath = \"{}\"\nkey = \"{}\"\n\n{rest}",
            self.s("events.log"),
            self.s("events.key")
        );
        fs::write(self.p("dha.toml"), doc).unwrap();
        self.s("dha.toml")
    }

    /// `dha log keygen` then `dha log init`.
    fn init_log(&self, cfg: &str) {
        assert_exit(&dha(&["log", "keygen", &self.s("k0")]), 0);
        let o = dha(&["log", "init", "--key", &self.s("k0"), "--config", cfg]);
        assert_exit(&o, 0);
        assert!(self.p("events.log").is_file() && self.p("events.key").is_file());
    }

    /// `dha log show --config --format json`: the records.
    fn records(&self, cfg: &str) -> Vec<Value> {
        let o = dha(&["log", "show", "--config", cfg, "--format", "json"]);
        assert_exit(&o, 0);
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        doc["records"].as_array().unwrap().clone()
    }

    fn verify(&self, cfg: &str) {
        let o = dha(&["log", "verify", "--config", cfg, "--key", &self.s("k0")]);
        assert_exit(&o, 0);
        assert!(text(&o.stdout).contains("intact"), "{}", text(&o.stdout));
    }
}

fn kinds(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect()
}

#[test]
fn hooks_test_runs_the_actions_writes_the_flag_and_records_every_outcome() {
    let rig = Rig::new();
    let cfg = rig.config(&format!(
        "[recovery]\nmaintenance_flag = \"{flag}\"\n\n[[recovery.rules]]\n\
         events = [\"integrity\"]\nmin_severity = \"high\"\nactions = [\n\
         {{ action = \"command\", argv = [\"/bin/sh\", \"-c\", \"echo $DHA_EVENT $DHA_SEVERITY \
         $DHA_PATH $DHA_SEQ > {out}\"] }},\n\
         {{ action = \"maintenance\", reason = \"integrity violated\" }},\n]\n",
        flag = rig.s("maintenance"),
        out = rig.s("command.out")
    ));
    rig.init_log(&cfg);
    let o = dha(&[
        "hooks",
        "test",
        "integrity.change",
        "--severity",
        "critical",
        "--payload",
        r#"{"path":"/etc/app.conf","change":"modified"}"#,
        "--config",
        &cfg,
    ]);
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    assert!(out.contains("rule 0, 2 action(s)"), "{out}");
    assert!(out.contains("[0] command attempt 1: ok"), "{out}");
    assert!(out.contains("[1] maintenance attempt 1: ok"), "{out}");
    // The command ran with the documented environment.
    assert_eq!(
        fs::read_to_string(rig.p("command.out")).unwrap(),
        "integrity.change critical /etc/app.conf 0\n"
    );
    // The flag is a JSON document the console can read.
    let flag: Value =
        serde_json::from_str(&fs::read_to_string(rig.p("maintenance")).unwrap()).unwrap();
    assert_eq!(flag["reason"], "integrity violated");
    assert_eq!(flag["event"], "integrity.change");
    assert_eq!(flag["severity"], "critical");
    assert_eq!(flag["seq"], 0);
    assert_eq!(flag["payload"]["path"], "/etc/app.conf");
    assert_eq!(flag["payload"]["synthetic"], true);
    let records = rig.records(&cfg);
    assert_eq!(
        kinds(&records),
        [
            "integrity.change",
            "hook.outcome",
            "hook.maintenance_set",
            "hook.outcome"
        ]
    );
    assert_eq!(records[1]["payload"]["action"], "command");
    assert_eq!(records[1]["payload"]["ok"], true);
    assert_eq!(records[3]["payload"]["action"], "maintenance");
    rig.verify(&cfg);

    // Below the rule's severity: the default actions (callbacks, none
    // registered in the program), nothing run.
    let o = dha(&["hooks", "test", "integrity.change", "--config", &cfg]);
    assert_exit(&o, 0);
    assert!(
        text(&o.stdout).contains("no rule matches"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(rig.records(&cfg).len(), 5);
}

#[test]
fn a_failing_command_is_retried_and_every_attempt_is_in_the_log() {
    let rig = Rig::new();
    let cfg = rig.config(&format!(
        "[recovery.retry]\nattempts = 4\ninitial_delay_ms = 1\nmax_delay_ms = 4\n\n\
         [[recovery.rules]]\nevents = [\"update.rejected\"]\nactions = [\n\
         {{ action = \"command\", argv = [\"/bin/sh\", \"-c\", \"echo try >> {count}; echo \
         no-network >&2; exit 3\"] }},\n]\n",
        count = rig.s("count")
    ));
    rig.init_log(&cfg);
    let o = dha(&[
        "hooks",
        "test",
        "update.rejected",
        "--severity",
        "high",
        "--config",
        &cfg,
    ]);
    assert_exit(&o, 1);
    assert_eq!(
        fs::read_to_string(rig.p("count")).unwrap(),
        "try\n".repeat(4)
    );
    let out = text(&o.stdout);
    assert!(out.contains("[0] command attempt 4: FAILED"), "{out}");
    let records = rig.records(&cfg);
    let outcomes: Vec<(u64, bool, String)> = records
        .iter()
        .filter(|r| r["kind"] == "hook.outcome")
        .map(|r| {
            (
                r["payload"]["attempt"].as_u64().unwrap(),
                r["payload"]["ok"].as_bool().unwrap(),
                r["payload"]["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 4);
    for (i, (attempt, ok, error)) in outcomes.iter().enumerate() {
        assert_eq!(*attempt, i as u64 + 1);
        assert!(!ok);
        assert!(error.contains("exit status: 3"), "{error}");
        assert!(error.contains("no-network"), "{error}");
    }
    rig.verify(&cfg);
}

#[test]
fn dry_run_prints_the_plan_and_does_nothing() {
    let rig = Rig::new();
    let cfg = rig.config(&format!(
        "[[recovery.rules]]\nevents = [\"boot\"]\nactions = [\n\
         {{ action = \"command\", argv = [\"/bin/touch\", \"{touched}\"], timeout_ms = 500 }},\n\
         {{ action = \"rollback\" }},\n\
         {{ action = \"escalate\", severity = \"critical\" }},\n]\n",
        touched = rig.s("touched")
    ));
    let o = dha(&[
        "hooks",
        "test",
        "boot.fell_back",
        "--config",
        &cfg,
        "--dry-run",
    ]);
    assert_exit(&o, 0);
    let out = text(&o.stdout);
    for want in [
        "event boot.fell_back (medium): rule 0, 3 action(s)",
        "[0] command: [\"/bin/touch\"",
        "killed after 500 ms",
        "[1] rollback",
        "[2] escalate: raise to critical",
        "retries: 3 attempt(s)",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
    assert!(!rig.p("touched").exists());
    assert!(!rig.p("events.log").exists());
}

#[test]
fn without_an_event_log_the_actions_run_with_one_warning() {
    let rig = Rig::new();
    let cfg = rig.config(&format!(
        "[[recovery.rules]]\nactions = [{{ action = \"command\", argv = [\"/bin/touch\", \
         \"{}\"] }}]\n",
        rig.s("touched")
    ));
    let o = dha(&["hooks", "test", "audit.regression", "--config", &cfg]);
    assert_exit(&o, 0);
    assert!(rig.p("touched").exists());
    let out = text(&o.stdout);
    assert!(out.contains("warning: 1 event(s) not recorded"), "{out}");
    assert!(out.contains("dha log init"), "{out}");
    // A command that records events says so as a warning of the logger (-v).
    fs::write(rig.p("root.json"), "{}").unwrap();
    fs::create_dir(rig.p("tuf")).unwrap();
    let init = |v: &[&str]| {
        let mut a = vec!["update", "init", "--metadata-dir"];
        let tuf = rig.s("tuf");
        let root = rig.s("root.json");
        a.extend([tuf.as_str(), "--config", &cfg, root.as_str()]);
        a.extend(v);
        dha(&a)
    };
    let o = init(&[]);
    assert_exit(&o, 1);
    assert!(
        !text(&o.stderr).contains("dha log init"),
        "{}",
        text(&o.stderr)
    );
    let o = init(&["-v"]);
    assert_exit(&o, 1);
    let err = text(&o.stderr);
    assert_eq!(err.matches("dha log init").count(), 1, "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let rig = Rig::new();
    let cfg = rig.config("");
    for (args, want) in [
        (vec!["integrity.chnage"], "unknown event kind"),
        (vec!["boot.fell_back", "--severity", "severe"], "--severity"),
        (
            vec!["boot.fell_back", "--payload", "[1]"],
            "not a JSON object",
        ),
        (vec!["boot.fell_back", "--payload", "{"], "not JSON"),
    ] {
        let mut a = vec!["hooks", "test"];
        a.extend(args);
        a.extend(["--config", &cfg]);
        let o = dha(&a);
        assert_exit(&o, 2);
        assert!(text(&o.stderr).contains(want), "{}", text(&o.stderr));
    }
    // A bad [recovery] names its key.
    let bad = rig
        .config("[[recovery.rules]]\nactions = [{ action = \"command\", argv = [\"touch\"] }]\n");
    let o = dha(&["hooks", "test", "boot.fell_back", "--config", &bad]);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("recovery.rules[0].actions[0].argv"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn log_init_refuses_to_overwrite() {
    let rig = Rig::new();
    let cfg = rig.config("");
    rig.init_log(&cfg);
    let before = fs::read(rig.p("events.key")).unwrap();
    let o = dha(&["log", "init", "--key", &rig.s("k0"), "--config", &cfg]);
    assert_exit(&o, 2);
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(fs::read(rig.p("events.key")).unwrap(), before);
    // A missing initial key is an error naming it.
    let o = dha(&["log", "init", "--key", &rig.s("nope"), "--config", &cfg]);
    assert_exit(&o, 2);
    assert!(text(&o.stderr).contains("nope"), "{}", text(&o.stderr));
}

/// A tree watched by `[integrity]` with a known-good store.
fn integrity_rig(rig: &Rig, recovery: &str) -> String {
    fs::create_dir(rig.p("tree")).unwrap();
    fs::write(rig.p("tree/app.conf"), "good = 1\n").unwrap();
    fs::write(rig.p("tree/other.conf"), "x\n").unwrap();
    assert_exit(&dha(&["integrity", "keygen", &rig.s("ikey")]), 0);
    let cfg = rig.config(&format!(
        "[integrity]\nbaseline = \"{}\"\nkey = \"{}\"\nstore = \"{}\"\nexclude = []\n\n\
         [[integrity.rules]]\npath = \"{}\"\nseverity = \"high\"\n\n{recovery}",
        rig.s("baseline"),
        rig.s("ikey"),
        rig.s("store"),
        rig.s("tree"),
    ));
    assert_exit(&dha(&["integrity", "init", "--config", &cfg]), 0);
    cfg
}

#[test]
fn integrity_check_records_changes_and_the_policy_restores_the_file() {
    let rig = Rig::new();
    let cfg = integrity_rig(
        &rig,
        &format!(
            "[recovery]\nmaintenance_flag = \"{}\"\n\n[[recovery.rules]]\n\
             events = [\"integrity.change\"]\nactions = [{{ action = \"restore\" }}, \
             {{ action = \"maintenance\" }}]\n",
            rig.s("maintenance")
        ),
    );
    rig.init_log(&cfg);
    // Overwritten in place: only the file changes, not its directory.
    fs::write(rig.p("tree/app.conf"), "good = 0; evil = 1\n").unwrap();
    let o = dha(&["integrity", "check", "--config", &cfg]);
    assert_exit(&o, 1);
    assert_eq!(text(&o.stderr), "");
    assert_eq!(
        fs::read_to_string(rig.p("tree/app.conf")).unwrap(),
        "good = 1\n"
    );
    let flag: Value =
        serde_json::from_str(&fs::read_to_string(rig.p("maintenance")).unwrap()).unwrap();
    assert_eq!(flag["reason"], "integrity.change (high)");
    let records = rig.records(&cfg);
    assert_eq!(
        kinds(&records),
        [
            "integrity.change",
            "hook.outcome",
            "hook.maintenance_set",
            "hook.outcome"
        ]
    );
    assert_eq!(records[0]["severity"], "high");
    assert_eq!(
        records[0]["payload"]["path"],
        rig.s("tree/app.conf").as_str()
    );
    assert_eq!(records[0]["payload"]["change"], "modified");
    assert_eq!(records[1]["payload"]["action"], "restore");
    assert_eq!(records[1]["payload"]["ok"], true);
    rig.verify(&cfg);
    // Restored: the content is the baseline's again (the restore's rename
    // leaves a new inode and ctime, which the next check still reports).
    let o = dha(&["integrity", "check", "--config", &cfg, "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    for c in report["changes"].as_array().unwrap() {
        let attrs: Vec<&str> = c["attrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["attr"].as_str().unwrap())
            .collect();
        assert!(!attrs.contains(&"sha256"), "{c}");
    }

    // An accepted change is recorded as integrity.accepted.
    fs::write(rig.p("tree/other.conf"), "y\n").unwrap();
    let o = dha(&[
        "integrity",
        "update",
        "--config",
        &cfg,
        "--accepted-by",
        "service engineer",
    ]);
    assert_exit(&o, 0);
    let records = rig.records(&cfg);
    let last = records.last().unwrap();
    assert_eq!(last["kind"], "integrity.accepted");
    assert_eq!(last["payload"]["accepted_by"], "service engineer");
    let paths = last["payload"]["paths"].as_array().unwrap();
    assert!(
        paths.contains(&Value::from(rig.s("tree/other.conf"))),
        "{paths:?}"
    );
    rig.verify(&cfg);
}

#[test]
fn a_refused_update_is_recorded_as_update_rejected() {
    let rig = Rig::new();
    let cfg = rig.config("");
    rig.init_log(&cfg);
    fs::create_dir(rig.p("tuf")).unwrap();
    // Not a signed root: refused (exit 1).
    fs::write(rig.p("root.json"), "{\"signed\": {}, \"signatures\": []}").unwrap();
    let o = dha(&[
        "update",
        "init",
        "--metadata-dir",
        &rig.s("tuf"),
        "--config",
        &cfg,
        &rig.s("root.json"),
    ]);
    assert_exit(&o, 1);
    let records = rig.records(&cfg);
    assert_eq!(kinds(&records), ["update.rejected"]);
    assert_eq!(records[0]["severity"], "high");
    assert_eq!(records[0]["payload"]["action"], "init");
    assert!(records[0]["payload"]["reason"].as_str().unwrap() != "");
    rig.verify(&cfg);
}

#[test]
fn rollback_switches_the_file_boot_control_of_the_configuration() {
    let rig = Rig::new();
    fs::write(
        rig.p("bootenv"),
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=2\nBOOTED=B\n",
    )
    .unwrap();
    let cfg = rig.config(&format!(
        "[boot]\nbackend = \"file\"\nenv = \"{}\"\n\n[[recovery.rules]]\n\
         events = [\"integrity\"]\nmin_severity = \"critical\"\n\
         actions = [{{ action = \"rollback\" }}]\n",
        rig.s("bootenv")
    ));
    rig.init_log(&cfg);
    let o = dha(&[
        "hooks",
        "test",
        "integrity.change",
        "--severity",
        "critical",
        "--config",
        &cfg,
    ]);
    assert_exit(&o, 0);
    let env = fs::read_to_string(rig.p("bootenv")).unwrap();
    assert!(env.contains("BOOT_ORDER=A\n"), "{env}");
    assert!(env.contains("BOOT_B_LEFT=0\n"), "{env}");
    let records = rig.records(&cfg);
    assert_eq!(records[1]["payload"]["action"], "rollback");
    assert_eq!(records[1]["payload"]["from"], "B");
    assert_eq!(records[1]["payload"]["to"], "A");
    // Running A, with B marked bad: nothing to roll back to (refused, the
    // environment untouched).
    fs::write(
        rig.p("bootenv"),
        "BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    let o = dha(&[
        "hooks",
        "test",
        "integrity.change",
        "--severity",
        "critical",
        "--config",
        &cfg,
    ]);
    assert_exit(&o, 1);
    assert!(
        text(&o.stdout).contains("no other good slot"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(
        fs::read_to_string(rig.p("bootenv")).unwrap(),
        "BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n"
    );
    rig.verify(&cfg);
}

#[test]
fn concurrent_recorders_take_turns_and_the_log_stays_intact() {
    let rig = Rig::new();
    let cfg = rig.config(
        "[[recovery.rules]]\nactions = [{ action = \"command\", argv = [\"/bin/true\"] }]\n",
    );
    rig.init_log(&cfg);
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(DHA)
                .args(["hooks", "test", "audit.regression", "--config", &cfg])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let records = rig.records(&cfg);
    assert_eq!(records.len(), 16);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i);
    }
    rig.verify(&cfg);
}
