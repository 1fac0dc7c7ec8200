//! The C API from C: the programs in `tests/c/` are compiled with
//! `cc -std=c11 -Wall -Wextra -Werror -pedantic` against `include/dha.h` and
//! the static library `libdha.a`, and run, under Valgrind when it is
//! installed (DESIGN.md "Testing"). Also: every symbol the libraries export
//! carries the `dha_` prefix (STYLE.md, after ring and rustls-ffi).
//!
//! Environment: `CC` picks the C compiler (default `cc`);
//! `DHA_REQUIRE_VALGRIND=1` makes a missing `valgrind` a failure (CI sets it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::{Auditor, Config, Root, SystemClock};
use dha_tests::{expectations, materialise, repo_dir, root_names};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Every C program of `tests/c/`, each run by one test below.
const PROGRAMS: [&str; 13] = [
    "api_contract",
    "audit",
    "boot",
    "eventlog",
    "evidence",
    "hooks",
    "installer",
    "integrity",
    "log_callback",
    "sbom",
    "threads",
    "updater",
    "updater_config",
];

/// The directory holding a fresh `libdha.a` and `libdha.so`, built once per
/// test process (see [`dha_tests::build_ffi_lib`]).
fn ffi_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| dha_tests::build_ffi_lib(Path::new(env!("CARGO_TARGET_TMPDIR"))))
}

/// Compiles `tests/c/NAME.c` against the header and `libdha.a`.
fn compile(name: &str) -> PathBuf {
    let lib = ffi_lib_dir().join("libdha.a");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dha-c");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg("-I")
        .arg(repo_dir().join("include"))
        .arg(repo_dir().join(format!("tests/c/{name}.c")))
        .arg(&lib)
        // What Rust's std needs from the C library (rustc --print native-static-libs).
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(
        out.status.success(),
        "{cc} failed on tests/c/{name}.c:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// True when `prog` is an executable file on PATH.
fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(d.join(prog))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Runs a compiled program, under Valgrind when available: invalid reads and
/// writes, uses of uninitialised memory and definite or indirect leaks fail
/// it. (Rust's std keeps some memory "still reachable" until exit; that is
/// not a leak and is not counted.)
fn run(exe: &Path, args: &[&Path]) -> Output {
    let valgrind = on_path("valgrind");
    if !valgrind && std::env::var_os("DHA_REQUIRE_VALGRIND").is_some_and(|v| v == "1") {
        panic!("DHA_REQUIRE_VALGRIND=1 but valgrind is not on PATH");
    }
    let mut cmd = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            "--track-origins=yes",
        ])
        .arg(exe);
        c
    } else {
        eprintln!(
            "note: valgrind is not on PATH; running {} without it",
            exe.display()
        );
        Command::new(exe)
    };
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}){}:\n--- stdout\n{}\n--- stderr\n{}",
        exe.display(),
        out.status,
        if valgrind { " under valgrind" } else { "" },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One finding as the C program printed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Printed {
    id: String,
    severity: String,
    file: Option<String>,
    line: u32,
    title: String,
}

impl Printed {
    /// `file:line`, `file` or "" (as `dha_core::Finding::location`).
    fn location(&self) -> String {
        match (&self.file, self.line) {
            (Some(f), 0) => f.clone(),
            (Some(f), l) => format!("{f}:{l}"),
            (None, _) => String::new(),
        }
    }
}

/// Audits fixture root `name` from C and checks the output against the JSON
/// the program wrote and against the same audit made in Rust.
fn audit_from_c(name: &str) -> Vec<Printed> {
    let exe = compile("audit");
    let fx = materialise(name);
    // Not inside the root: the file is written after the audit, but a root
    // is better left as it was materialised.
    let json_dir = tempfile::tempdir().unwrap();
    let json_path = json_dir.path().join("report-from-c.json");
    let out = run(&exe, &[fx.path(), &json_path]);
    let stdout = String::from_utf8(out.stdout).unwrap();

    let mut printed = Vec::new();
    let mut count = None;
    for line in stdout.lines() {
        let f: Vec<&str> = line.splitn(6, '\t').collect();
        match f[0] {
            "version" => assert_eq!(f[1], dha_core::VERSION),
            "finding" => printed.push(Printed {
                id: f[1].to_owned(),
                severity: f[2].to_owned(),
                file: (f[3] != "-").then(|| f[3].to_owned()),
                line: f[4].parse().unwrap(),
                title: f[5].to_owned(),
            }),
            "count" => count = Some(f[1].parse::<usize>().unwrap()),
            _ => {}
        }
    }
    assert_eq!(count, Some(printed.len()), "{stdout}");

    // The JSON the C program fetched says the same, in the same order.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    let from_json: Vec<Printed> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Printed {
            id: f["check_id"].as_str().unwrap().to_owned(),
            severity: f["severity"].as_str().unwrap().to_owned(),
            file: f["evidence"]["file"].as_str().map(str::to_owned),
            line: f["evidence"]["line"]
                .as_u64()
                .map_or(0, |l| u32::try_from(l).unwrap()),
            title: f["title"].as_str().unwrap().to_owned(),
        })
        .collect();
    assert_eq!(printed, from_json, "the C accessors and the JSON disagree");

    // The same audit in Rust (same clock, same defaults) finds the same.
    let cfg = Config::default();
    let root = Root::with_limits(fx.path(), cfg.read_limits()).unwrap();
    let rust = Auditor::new(&cfg, &SystemClock).run(&root);
    let rust_set: BTreeSet<(String, String)> = rust
        .findings
        .iter()
        .map(|f| (f.check_id.clone(), f.location()))
        .collect();
    let c_set: BTreeSet<(String, String)> = printed
        .iter()
        .map(|p| (p.id.clone(), p.location()))
        .collect();
    assert_eq!(
        c_set, rust_set,
        "the C API and the Rust API disagree on {name}"
    );
    printed
}

#[test]
fn audit_of_the_hardened_root_from_c() {
    audit_from_c("hardened");
}

#[test]
fn audit_of_weak_roots_from_c_reports_their_planted_weaknesses() {
    // weak-accounts is the first weak root; once its .expect exists, at least
    // one planted weakness must come through the C API with its location.
    // (Other areas' exact results are their own fixture tests' business; the
    // full comparison with the Rust audit above covers the rest.)
    let names: Vec<String> = root_names()
        .into_iter()
        .filter(|n| n == "weak-accounts")
        .collect();
    for name in names {
        let printed = audit_from_c(&name);
        let expected = expectations(&name);
        if expected.is_empty() {
            continue;
        }
        let hits = expected
            .iter()
            .filter(|e| {
                printed
                    .iter()
                    .any(|p| p.id == e.check_id && p.location() == e.location)
            })
            .count();
        assert!(
            hits > 0,
            "none of {name}.expect's {} weaknesses came through the C API: {printed:#?}",
            expected.len()
        );
    }
}

#[test]
fn api_contract_from_c() {
    let exe = compile("api_contract");
    let fx = materialise("hardened");
    let file = fx.path().join("etc/hostname");
    let out = run(&exe, &[fx.path(), &file]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok api_contract"));
}

#[test]
fn log_callback_from_c() {
    let exe = compile("log_callback");
    let fx = materialise("hardened");
    let out = run(&exe, &[fx.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok log_callback"), "{stdout}");
    // The lines are dha's own: each check announces itself at DEBUG (4).
    assert!(
        stdout.lines().any(|l| l.starts_with("log\t4\trunning ")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("log\t3\taudit of ")),
        "{stdout}"
    );
}

#[test]
fn threads_from_c() {
    let exe = compile("threads");
    let fx = materialise("hardened");
    let out = run(&exe, &[fx.path()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok threads"));
}

#[test]
fn updater_from_c() {
    // Repositories made by python-tuf (tests/data/tuf/reference/README.md).
    // The updater judges expiry by the system clock (as the C ABI does):
    // basic-ed25519's metadata is valid until 2099-11-29 (the generator
    // gives valid roles far-future expiry so this test has no time bomb).
    let exe = compile("updater");
    let reference = repo_dir().join("tests/data/tuf/reference");
    let good = reference.join("basic-ed25519");
    let expired = reference.join("expired-timestamp");
    let good_store = tempfile::tempdir().unwrap();
    let expired_store = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    // A target of several MiB, in a repository signed now (the updater's
    // clock is the system's), to see progress reported in between.
    let large = tempfile::tempdir().unwrap();
    let large_store = tempfile::tempdir().unwrap();
    let large_bytes: Vec<u8> = (0..3 * 1024 * 1024 + 12345u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let large_repo = {
        use dha_core::Clock as _;
        use dha_core::tuf::repo::{InitOptions, Repository};
        let now = SystemClock.now();
        let mut repo =
            Repository::init(&large.path().join("repo"), &InitOptions::default(), now).unwrap();
        let src = large.path().join("large.bin");
        std::fs::write(&src, &large_bytes).unwrap();
        repo.add_target(&src, "files/large.bin", None, None, now)
            .unwrap();
        repo.publish(now).unwrap();
        repo
    };
    let out = run(
        &exe,
        &[
            &good.join("client/root.json"),
            good_store.path(),
            &good.join("metadata"),
            &good.join("targets"),
            dest.path(),
            &expired.join("client/root.json"),
            expired_store.path(),
            &expired.join("metadata"),
            &expired.join("targets"),
            &large_repo.metadata_dir().join("1.root.json"),
            large_store.path(),
            &large_repo.metadata_dir(),
            &large_repo.targets_dir(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok updater"));
    assert_eq!(
        std::fs::read(dest.path().join("files/large.bin")).unwrap(),
        large_bytes
    );
    // The verified target, byte for byte, and the trusted metadata kept.
    assert_eq!(
        std::fs::read(dest.path().join("files/hello.txt")).unwrap(),
        std::fs::read(good.join("targets/files/hello.txt")).unwrap()
    );
    for role in ["root", "timestamp", "snapshot", "targets"] {
        assert!(
            good_store.path().join(format!("{role}.json")).is_file(),
            "{role}"
        );
    }
    // An expired timestamp is never stored (TUF 1.0.34 §5.4.4).
    assert!(!expired_store.path().join("snapshot.json").exists());
}

#[test]
fn updater_config_from_c() {
    // The [update] section of the configuration document reaches the
    // updater: a hardware id makes a target for other hardware refused
    // (tests/data/tuf/reference/hardware-id, made by python-tuf).
    let exe = compile("updater_config");
    let scenario = repo_dir().join("tests/data/tuf/reference/hardware-id");
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let out = run(
        &exe,
        &[
            &scenario.join("client/root.json"),
            &scenario.join("metadata"),
            &scenario.join("targets"),
            dirs[0].path(),
            dirs[1].path(),
            dirs[2].path(),
            dirs[3].path(),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok updater_config"));
    // Refused for the configured hardware, accepted with the defaults.
    assert!(!dirs[1].path().join("firmware/ct.bin").exists());
    assert_eq!(
        std::fs::read(dirs[1].path().join("firmware/mr.bin")).unwrap(),
        std::fs::read(scenario.join("targets/firmware/mr.bin")).unwrap()
    );
    assert!(dirs[3].path().join("firmware/ct.bin").is_file());
}

#[test]
fn integrity_from_c() {
    // tests/c/integrity.c: keygen, init over a tree, checks, the change and
    // progress callbacks, a tampered baseline, NULL arguments (its header
    // comment lists the cases). The tree: a.txt (0644), sub/b.bin.
    use std::os::unix::fs::PermissionsExt as _;
    let exe = compile("integrity");
    let tree = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let a = tree.path().join("a.txt");
    std::fs::write(&a, b"alpha\n").unwrap();
    std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir(tree.path().join("sub")).unwrap();
    std::fs::write(tree.path().join("sub/b.bin"), [0u8, 1, 2, 0xff]).unwrap();
    let out = run(&exe, &[tree.path(), work.path()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok integrity"));
    // Restored from the known-good store that init filled.
    assert_eq!(std::fs::read(&a).unwrap(), b"alpha\n");
    assert!(work.path().join("store/objects").is_dir());

    // The JSON of the check that found the change, as the C program saved it.
    let json = std::fs::read_to_string(work.path().join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(report["schema_version"].is_u64(), "{report}");
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{report}");
    assert_eq!(changes[0]["path"], a.to_str().unwrap());
    assert_eq!(changes[0]["kind"], "modified");
    let attrs: BTreeSet<&str> = changes[0]["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attr"].as_str().unwrap())
        .collect();
    assert!(
        attrs.contains("perm") && attrs.contains("sha256"),
        "{attrs:?}"
    );
    // The key files: private keys 0600.
    for key in ["seal.key", "device.key", "other.key"] {
        let mode = std::fs::metadata(work.path().join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
}

#[test]
fn boot_from_c() {
    // tests/c/boot.c: the file back end; A running and good, B empty.
    let exe = compile("boot");
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bootenv");
    std::fs::write(
        &env,
        "# a test rig's boot environment\nBOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    let out = run(&exe, &[&env]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok boot"));
    // B marked bad, A good with 5 tries; the other lines kept.
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        "BOOT_ORDER=A\nBOOT_A_LEFT=5\nBOOT_B_LEFT=0\n# a test rig's boot environment\nBOOTED=A\n"
    );
}

#[test]
fn eventlog_from_c() {
    // tests/c/eventlog.c: create, append, reopen, verify, a torn tail, a
    // flipped byte.
    let exe = compile("eventlog");
    let work = tempfile::tempdir().unwrap();
    let out = run(&exe, &[work.path()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok eventlog"));
    // The log the C program made, read in Rust: 5 records, the fifth the
    // record of the torn tail it cut; record 0 as the program flipped it.
    let log = work.path().join("events.log");
    let key = dha_core::events::InitialKey::read(&work.path().join("initial.key")).unwrap();
    let report = dha_core::events::verify(&log, &key, None).unwrap();
    assert_eq!(report.records, 0, "{report:?}");
    assert_eq!(report.problem.as_ref().and_then(|p| p.index()), Some(0));
    let mut reader = dha_core::events::record::Reader::new(std::io::BufReader::new(
        std::fs::File::open(&log).unwrap(),
    ))
    .unwrap();
    let mut kinds = Vec::new();
    while let Some(r) = reader.next_record().unwrap() {
        kinds.push(r.record.kind);
    }
    assert_eq!(
        kinds,
        [
            "integrity.change",
            "boot.marked_good",
            "update.installed",
            "audit.regression",
            "eventlog.tampered"
        ]
    );
    for (name, mode) in [
        ("initial.key", 0o600),
        ("events.key", 0o600),
        ("events.log", 0o600),
    ] {
        use std::os::unix::fs::PermissionsExt as _;
        let m = std::fs::metadata(work.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, mode, "{name}");
    }
}

#[test]
fn hooks_from_c() {
    // tests/c/hooks.c (issue 5: "register a callback, trigger an integrity
    // event, receive it with its userdata; clean under Valgrind").
    let exe = compile("hooks");
    let tree = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let watched = tree.path().join("watched.txt");
    std::fs::write(&watched, b"as shipped\n").unwrap();
    let out = run(&exe, &[tree.path(), work.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ok hooks"), "{stdout}");
    // The payload the callback received, as JSON.
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("event\tintegrity.change\t"))
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(payload["path"], watched.to_str().unwrap());
    assert_eq!(payload["change"], "modified");
    assert_eq!(
        payload["baseline"],
        work.path().join("baseline").to_str().unwrap()
    );
}

#[test]
fn installer_from_c() {
    // tests/c/installer.c: a repository signed now with dha's tooling (the
    // updater's clock is the system's); two image-file slots and the
    // file-backed boot control.
    use dha_core::Clock as _;
    use dha_core::tuf::repo::{InitOptions, Repository};
    let exe = compile("installer");
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let store = dir.path().join("metadata");
    std::fs::create_dir_all(&work).unwrap();
    let now = SystemClock.now();
    let mut repo =
        Repository::init(&dir.path().join("repo"), &InitOptions::default(), now).unwrap();
    let image: Vec<u8> = (0..1024 * 1024 + 777u32)
        .map(|i| u8::try_from(i % 241).unwrap())
        .collect();
    for (name, bytes, release) in [
        ("images/console.img", image.clone(), 5),
        ("images/old.img", b"an older console image".to_vec(), 3),
    ] {
        let src = dir.path().join("src.bin");
        std::fs::write(&src, &bytes).unwrap();
        repo.add_target(
            &src,
            name,
            None,
            Some(serde_json::json!({ "release_counter": release })),
            now,
        )
        .unwrap();
    }
    repo.publish(now).unwrap();
    std::fs::write(
        work.join("bootenv"),
        "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    std::fs::write(work.join("slot-a.img"), b"the image running now").unwrap();
    let out = run(
        &exe,
        &[
            &repo.metadata_dir().join("1.root.json"),
            &store,
            &repo.metadata_dir(),
            &repo.targets_dir(),
            &work,
            Path::new("images/console.img"),
            Path::new("images/old.img"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok installer"));
    assert_eq!(std::fs::read(work.join("slot-b.img")).unwrap(), image);
    assert_eq!(
        std::fs::read(work.join("slot-a.img")).unwrap(),
        b"the image running now",
        "the running slot is never written"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("bootenv")).unwrap(),
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=A\n"
    );
    let floor: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("install.floor")).unwrap()).unwrap();
    assert_eq!(floor["release_counter"], 5, "the floor was raised");
}

#[test]
fn evidence_from_c() {
    // tests/c/evidence.c: size query, a buffer one byte short, the JSON with
    // and without a configuration, nothing audited, NULL and bad arguments.
    let exe = compile("evidence");
    let fx = materialise("weak-accounts");
    let json_dir = tempfile::tempdir().unwrap();
    let json_path = json_dir.path().join("evidence-from-c.json");
    let all_off: String = dha_core::CATALOGUE
        .iter()
        .map(|c| format!("[checks.{}]\nenabled = false\n", c.id))
        .collect();
    let out = run(&exe, &[fx.path(), &json_path, Path::new(&all_off)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok evidence"));
    // The same answers as the evidence made in Rust from the same audit.
    let from_c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let root = Root::open(fx.path()).unwrap();
    let report = Auditor::new(&Config::default(), &SystemClock).run(&root);
    let rust = dha_core::EvidenceReport::from_report(&report);
    let answers = |v: &serde_json::Value, list: &str| -> Vec<(String, String)> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].to_string(), e["answer"].to_string()))
            .collect()
    };
    let rust: serde_json::Value = serde_json::from_str(&rust.to_json()).unwrap();
    assert_eq!(answers(&from_c, "mds2"), answers(&rust, "mds2"));
    assert_eq!(answers(&from_c, "iec62443"), answers(&rust, "iec62443"));
    assert_eq!(from_c["summary"]["findings"], rust["summary"]["findings"]);
}

#[test]
fn sbom_from_c() {
    let exe = compile("sbom");
    let fx = materialise("hardened");
    // The hardened root with an install journal that is not one.
    let broken = materialise("hardened");
    let dha_dir = broken.path().join("var/lib/dha");
    std::fs::create_dir_all(&dha_dir).unwrap();
    std::fs::write(
        dha_dir.join("install.journal"),
        "{\"schema_version\": 1, \"slots\": 7}",
    )
    .unwrap();
    let json_dir = tempfile::tempdir().unwrap();
    let json_path = json_dir.path().join("sbom-from-c.json");
    let out = run(&exe, &[fx.path(), broken.path(), &json_path]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok sbom"));
    // The same components as the SBOM made in Rust.
    let from_c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let root = Root::open(fx.path()).unwrap();
    let rust = dha_core::sbom::build(&root, &Config::default(), &SystemClock, None).unwrap();
    let rust: serde_json::Value = serde_json::from_str(&rust.to_json()).unwrap();
    assert_eq!(from_c["specVersion"], "1.5");
    assert_eq!(from_c["components"], rust["components"]);
    assert_eq!(
        from_c["metadata"]["component"],
        rust["metadata"]["component"]
    );
}

#[test]
fn every_c_program_is_run_by_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(repo_dir().join("tests/c"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "c").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    found.sort();
    assert_eq!(found, PROGRAMS, "tests/c/*.c and PROGRAMS differ");
}

/// The defined global symbols of a library, as `nm` lists them.
fn defined_symbols(lib: &Path, dynamic: bool) -> Vec<String> {
    let mut cmd = Command::new("nm");
    cmd.args(["-g", "--defined-only", "--format=posix"]);
    if dynamic {
        cmd.arg("-D");
    }
    let out = cmd.arg(lib).output().expect("cannot run nm (binutils)");
    assert!(
        out.status.success(),
        "nm {}: {}",
        lib.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // posix format: "name type value [size]", the type one letter. Other
        // lines are archive member headers ("lib.a[x.o]:") and notes of the
        // linker plugin about the LLVM bitcode that rustc embeds ("bfd
        // plugin: ..."), which nm prints on stdout.
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?;
            let kind = f.next()?;
            (kind.len() == 1 && f.next().is_some()).then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn the_shared_library_exports_only_dha_symbols() {
    // rustc exports exactly the `#[no_mangle]` functions of a cdylib, so here
    // no filtering is needed: anything else would be a leak of a name into
    // the integrator's namespace.
    let syms = defined_symbols(&ffi_lib_dir().join("libdha.so"), true);
    let foreign: Vec<&String> = syms.iter().filter(|s| !s.starts_with("dha_")).collect();
    assert!(foreign.is_empty(), "libdha.so exports {foreign:?}");
    for f in [
        "dha_audit_run",
        "dha_result_message",
        "dha_last_error_detail",
        "dha_version",
    ] {
        assert!(syms.iter().any(|s| s == f), "libdha.so lacks {f}");
    }
}

#[test]
fn the_static_library_defines_no_unprefixed_c_symbols() {
    // A static library carries all of Rust's std and dependencies. Their
    // symbols cannot clash with an integrator's C names when they are in the
    // space C11 7.1.3 reserves to the implementation (beginning with `__`, or
    // `_` and a capital: Rust's mangled `_ZN...` and `_R...`, compiler-builtins'
    // `__udivti3`, the runtime's `__rustc...`, `__rust_...`), or when they are
    // not C identifiers at all (`DW.ref.rust_eh_personality`, the weak DWARF
    // reference LLVM puts in every object with landing pads). ring's C and
    // assembly code is the one dependency that defines C symbols; ring gives
    // every one of them a prefix with its exact version
    // (`ring_core_0_17_14__…`) precisely so that they can never clash. Every
    // other defined global must be dha's own.
    let syms = defined_symbols(&ffi_lib_dir().join("libdha.a"), false);
    let ring_prefix = |s: &str| {
        s.strip_prefix("ring_core_")
            .and_then(|rest| rest.split_once("__"))
            .is_some_and(|(version, _)| {
                !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '_')
            })
    };
    let reserved = |s: &str| {
        let mut c = s.chars();
        match (c.next(), c.next()) {
            (Some('_'), Some(second)) => second == '_' || second.is_ascii_uppercase(),
            _ => false,
        }
    };
    let foreign: BTreeSet<&String> = syms
        .iter()
        .filter(|s| !(s.starts_with("dha_") || reserved(s) || ring_prefix(s) || s.contains('.')))
        .collect();
    assert!(foreign.is_empty(), "libdha.a defines {foreign:?}");
    assert!(syms.iter().any(|s| s == "dha_audit_run"));
}
