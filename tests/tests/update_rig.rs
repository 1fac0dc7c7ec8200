//! The end-to-end update rig of issue 5 ("Done when", first item), driving
//! the real `dha` program as a service engineer and a device would:
//!
//! - two slot image files in a temporary directory (A holds v1 and runs),
//!   the file-backed boot control (`[boot] backend = "file"`), a health
//!   check executable, the tamper-evident event log;
//! - `dha repo` builds and signs v2, `dha update` downloads it (from a
//!   local directory, as from removable media), `dha install` writes it
//!   into B and switches (the target looked up offline in the metadata
//!   `dha update` verified);
//! - the test plays the boot loader ([`boot_attempt`] on the environment
//!   file, then `BOOTED=`): v2's health check fails on three boots, the
//!   fourth starts A (the fall back), `dha boot confirm` on A marks it good;
//! - v3 is published, downloaded, installed, booted, confirmed: marked good;
//! - an older update (v2 again) is refused by `dha install` before
//!   anything is written;
//! - the event log holds the events in order and verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::boot::{BootControl, BootPolicy, SlotId, boot_attempt};
use dha_linux::boot::FileBootControl;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `dha` program, built once per test process into a target directory
/// of its own (as [`dha_tests::build_ffi_lib`] builds the C library, and
/// for the same reason: `CARGO_BIN_EXE_dha` exists only for agent-cli's own
/// tests, and a nested build in the outer target directory would wait on
/// its lock forever).
fn dha_program() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap()
            .to_owned();
        let profile = if profile_dir == "debug" {
            "dev".to_owned()
        } else {
            profile_dir.clone()
        };
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dha-cli-target");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--locked", "-p", "agent-cli", "--bin", "dha"])
            .args(["--profile", &profile])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(dha_tests::repo_dir())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo build -p agent-cli failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exe = target_dir.join(&profile_dir).join("dha");
        assert!(exe.is_file(), "no {}", exe.display());
        exe
    })
}

/// The device and the repository, in one temporary directory.
struct Rig {
    tmp: tempfile::TempDir,
}

/// The boot policy of the rig's boot loader (RAUC's default of 3 tries,
/// `install.boot_tries`).
const POLICY: BootPolicy = BootPolicy { max_tries: 3 };

/// A slot image: a first line saying what it is, then filler.
fn image(first_line: &str) -> Vec<u8> {
    let mut v = format!("{first_line}\n").into_bytes();
    v.extend((0..200_000_u32).map(|i| u8::try_from(i % 251).unwrap()));
    v
}

impl Rig {
    fn new() -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let rig = Rig { tmp };
        let p = rig.dir().to_path_buf();
        fs::write(p.join("a.img"), image("system v1")).unwrap();
        fs::write(p.join("b.img"), vec![0u8; 4096]).unwrap();
        fs::write(
            p.join("bootenv"),
            "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
        )
        .unwrap();
        // The health check: a slot whose image says "broken" fails its
        // self-test (v2); any other is healthy.
        let check = p.join("selftest");
        fs::write(
            &check,
            format!(
                "#!/bin/sh\nimg='{}'/$(echo \"$DHA_SLOT\" | tr AB ab).img\n\
                 if head -n 1 \"$img\" | grep -q broken; then\n\
                 echo \"slot $DHA_SLOT: self-test failed\" >&2\nexit 1\nfi\nexit 0\n",
                p.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&check, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(
            p.join("dha.toml"),
            format!(
                "[install]\njournal = \"{d}/install.journal\"\nfloor = \"{d}/install.floor\"\n\
                 boot_tries = 3\nslots = [\n\
                 {{ name = \"A\", kind = \"image\", path = \"{d}/a.img\" }},\n\
                 {{ name = \"B\", kind = \"image\", path = \"{d}/b.img\" }},\n]\n\
                 [boot]\nbackend = \"file\"\nenv = \"{d}/bootenv\"\n\
                 health_checks = [ {{ path = \"{d}/selftest\", timeout_secs = 30 }} ]\n\
                 [eventlog]\npath = \"{d}/events.log\"\nkey = \"{d}/events.key\"\n",
                d = p.display()
            ),
        )
        .unwrap();
        fs::create_dir(p.join("downloads")).unwrap();
        rig.ok(&["log", "keygen", "initial.key"]);
        rig.ok(&[
            "log",
            "init",
            "--key",
            "initial.key",
            "--config",
            "dha.toml",
        ]);
        // The repository, published once (root version 1, no targets):
        // the device ships its root.
        rig.ok(&["repo", "--repo", "repo", "init"]);
        rig.ok(&["repo", "--repo", "repo", "publish"]);
        rig.ok(&[
            "update",
            "init",
            "--metadata-dir",
            "store",
            "repo/metadata/1.root.json",
        ]);
        rig
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// Runs `dha ARGS` in the rig's directory.
    fn dha(&self, args: &[&str]) -> Output {
        Command::new(dha_program())
            .args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `dha ARGS`, which must exit with `want`; returns its output.
    #[track_caller]
    fn exit(&self, args: &[&str], want: i32) -> Output {
        let o = self.dha(args);
        assert_eq!(
            o.status.code(),
            Some(want),
            "dha {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> Output {
        self.exit(args, 0)
    }

    /// `dha repo` adds `name` (content `first_line`…) with release counter
    /// `counter` and publishes.
    fn publish(&self, name: &str, first_line: &str, counter: u64) {
        let src = self.path(&format!("build-{name}"));
        fs::write(&src, image(first_line)).unwrap();
        let counter = counter.to_string();
        let src = src.to_str().unwrap().to_owned();
        self.ok(&[
            "repo",
            "--repo",
            "repo",
            "add-target",
            &src,
            "--name",
            name,
            "--release-counter",
            &counter,
        ]);
        self.ok(&["repo", "--repo", "repo", "publish"]);
    }

    /// `dha update download NAME` from the repository's directories.
    fn download(&self, name: &str) {
        self.ok(&[
            "update",
            "download",
            "--target-name",
            name,
            "--metadata-url",
            "repo/metadata",
            "--metadata-dir",
            "store",
            "--target-dir",
            "downloads",
            "--target-base-url",
            "repo/targets",
        ]);
        assert!(self.path("downloads").join(name).is_file());
    }

    /// `dha install downloads/NAME` (offline lookup, boot loader from
    /// `[boot]`), expecting exit `want`.
    #[track_caller]
    fn install(&self, name: &str, want: i32) -> Output {
        let file = format!("downloads/{name}");
        self.exit(
            &[
                "install",
                &file,
                "--metadata-dir",
                "store",
                "--target-name",
                name,
                "--config",
                "dha.toml",
            ],
            want,
        )
    }

    /// The boot loader at power-on: it starts the first slot of the
    /// order with tries left and takes one ([`boot_attempt`]), and the
    /// started system names itself (`BOOTED=`).
    fn power_on(&self) -> SlotId {
        let env = self.path("bootenv");
        let bc = FileBootControl::new(&env);
        let mut state = bc.read().unwrap();
        let slot = boot_attempt(&mut state, POLICY).expect("a slot to boot");
        bc.write(&state).unwrap();
        let text = fs::read_to_string(&env).unwrap();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with("BOOTED="))
            .map(str::to_owned)
            .collect();
        lines.push(format!("BOOTED={slot}"));
        fs::write(&env, lines.join("\n") + "\n").unwrap();
        slot
    }

    /// The slot image `x.img` begins with the image `first_line` makes (a
    /// slot is written like a partition: over the length of the image, not
    /// truncated).
    #[track_caller]
    fn assert_slot_holds(&self, slot: &str, first_line: &str) {
        let got = fs::read(self.path(&format!("{slot}.img"))).unwrap();
        let want = image(first_line);
        assert!(
            got.starts_with(&want),
            "slot {slot}: {} bytes starting {:?}, not the image of {first_line:?}",
            got.len(),
            String::from_utf8_lossy(got.get(..20).unwrap_or(&got))
        );
    }

    fn env(&self) -> String {
        fs::read_to_string(self.path("bootenv")).unwrap()
    }

    fn confirm(&self, want: i32) -> String {
        let o = self.exit(&["boot", "confirm", "--config", "dha.toml"], want);
        String::from_utf8(o.stdout).unwrap() + &String::from_utf8(o.stderr).unwrap()
    }
}

fn id(s: &str) -> SlotId {
    SlotId(s.to_owned())
}

#[test]
fn update_fall_back_recovery_and_refused_rollback() {
    let rig = Rig::new();

    // v2 built, signed and published; downloaded; installed into B.
    rig.publish("os-v2.img", "system v2 broken", 2);
    rig.download("os-v2.img");
    let o = rig.install("os-v2.img", 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("into slot B"), "{out}");
    rig.assert_slot_holds("b", "system v2 broken");
    rig.assert_slot_holds("a", "system v1");
    assert!(rig.env().starts_with("BOOT_ORDER=B A\n"), "{}", rig.env());

    // Three boots of B, each unhealthy: no mark-good, the counter runs out.
    for left in [2, 1, 0] {
        assert_eq!(rig.power_on(), id("B"));
        let said = rig.confirm(1);
        assert!(
            said.contains("slot B unhealthy") && said.contains("slot B: self-test failed"),
            "{said}"
        );
        assert!(
            rig.env().contains(&format!("BOOT_B_LEFT={left}\n")),
            "{}",
            rig.env()
        );
    }
    // The fourth boot starts A: the fall back. Confirmed healthy, A is
    // marked good and B leaves the boot order.
    assert_eq!(rig.power_on(), id("A"));
    let said = rig.confirm(0);
    assert!(
        said.contains("fell back: slot B ran out of tries; running A"),
        "{said}"
    );
    assert!(said.contains("confirm A: healthy, marked good"), "{said}");
    assert_eq!(
        rig.env(),
        "BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n"
    );
    // It stays on A.
    assert_eq!(rig.power_on(), id("A"));
    rig.confirm(0);

    // v3, healthy: published, downloaded, installed into B, booted and
    // confirmed.
    rig.publish("os-v3.img", "system v3", 3);
    rig.download("os-v3.img");
    rig.install("os-v3.img", 0);
    rig.assert_slot_holds("b", "system v3");
    assert_eq!(rig.power_on(), id("B"));
    let said = rig.confirm(0);
    assert!(said.contains("confirm B: healthy, marked good"), "{said}");
    assert!(!said.contains("fell back"), "{said}");
    assert_eq!(
        rig.env(),
        "BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=B\n"
    );
    assert_eq!(rig.power_on(), id("B"));
    rig.confirm(0);

    // An older update (v2 again, still in the verified metadata) is refused
    // before anything is written: slot A (the inactive one) keeps its
    // bytes, the boot order is untouched.
    let env_before = rig.env();
    let slots_before = (
        fs::read(rig.path("a.img")).unwrap(),
        fs::read(rig.path("b.img")).unwrap(),
    );
    let o = rig.install("os-v2.img", 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("below the installed floor 3"), "{err}");
    assert!(
        slots_before
            == (
                fs::read(rig.path("a.img")).unwrap(),
                fs::read(rig.path("b.img")).unwrap(),
            ),
        "a slot was written by a refused install"
    );
    rig.assert_slot_holds("a", "system v1");
    assert_eq!(rig.env(), env_before);

    // The event log: every step, in order, and intact.
    let o = rig.ok(&["log", "show", "--config", "dha.toml", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let records = v["records"].as_array().expect("records");
    let steps: Vec<String> = records
        .iter()
        .filter(|r| r["kind"] != "hook.outcome")
        .map(|r| {
            let p = &r["payload"];
            let detail = [&p["slot"], &p["from"], &p["target"], &p["reason"]]
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            format!("{} {detail}", r["kind"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        steps,
        [
            "update.installed B os-v2.img",
            "boot.unhealthy B exited with status 1: slot B: self-test failed",
            "boot.unhealthy B exited with status 1: slot B: self-test failed",
            "boot.unhealthy B exited with status 1: slot B: self-test failed",
            "boot.fell_back A B",
            "boot.marked_good A",
            "boot.marked_good A",
            "update.installed B os-v3.img",
            "boot.marked_good B",
            "boot.marked_good B",
            "update.rejected os-v2.img rollback",
        ],
        "{v:#}"
    );
    rig.ok(&[
        "log",
        "verify",
        "--key",
        "initial.key",
        "--config",
        "dha.toml",
    ]);
}
