//! `dha install` end to end: a repository built with the library's
//! repository tool, a device store seeded with its root, two image-file
//! slots and the file-backed boot environment of a test rig.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::tuf::client::Updater;
use dha_core::tuf::repo::{InitOptions, Repository};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DHA: &str = env!("CARGO_BIN_EXE_dha");

struct Rig {
    tmp: tempfile::TempDir,
    repo: Repository,
}

impl Rig {
    fn new() -> Rig {
        Rig::with_size(300_000)
    }

    fn with_size(size: u32) -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let now = dha_core::Clock::now(&dha_core::SystemClock);
        let mut repo =
            Repository::init(&tmp.path().join("repo"), &InitOptions::default(), now).unwrap();
        for (name, counter, seed) in [("os-v2.img", 2, 2_u8), ("os-v1.img", 1, 1)] {
            let src = tmp.path().join(name);
            fs::write(&src, image_of(size, seed)).unwrap();
            repo.add_target(
                &src,
                name,
                None,
                Some(serde_json::json!({ "release_counter": counter })),
                now,
            )
            .unwrap();
        }
        repo.publish(now).unwrap();
        let p = tmp.path();
        fs::create_dir(p.join("store")).unwrap();
        Updater::init(
            &p.join("store"),
            &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
        )
        .unwrap();
        fs::write(p.join("a.img"), b"old system").unwrap();
        fs::write(
            p.join("boot.env"),
            "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOTED=A\n",
        )
        .unwrap();
        fs::write(
            p.join("dha.toml"),
            format!(
                "[install]\njournal = \"{d}/install.journal\"\nfloor = \"{d}/install.floor\"\n\
                 slots = [\n  {{ name = \"A\", kind = \"image\", path = \"{d}/a.img\" }},\n  \
                 {{ name = \"B\", kind = \"image\", path = \"{d}/b.img\" }},\n]\n",
                d = p.display()
            ),
        )
        .unwrap();
        // The same, with the boot loader in [boot] instead of --boot-env.
        let base = fs::read_to_string(p.join("dha.toml")).unwrap();
        fs::write(
            p.join("dha-boot.toml"),
            format!(
                "{base}[boot]\nbackend = \"file\"\nenv = \"{}\"\n",
                p.join("boot.env").display()
            ),
        )
        .unwrap();
        Rig { tmp, repo }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn install(&self, file: &Path, name: &str, boot_env: bool) -> Output {
        self.install_with(file, name, boot_env, true, "dha.toml")
    }

    /// `dha install`; `online`: with `--metadata-url`; `config`: the file
    /// in the rig's directory.
    fn install_with(
        &self,
        file: &Path,
        name: &str,
        boot_env: bool,
        online: bool,
        config: &str,
    ) -> Output {
        let mut cmd = Command::new(DHA);
        cmd.arg("install")
            .arg(file)
            .arg("--metadata-dir")
            .arg(self.path("store"))
            .arg("--target-name")
            .arg(name)
            .arg("--config")
            .arg(self.path(config));
        if online {
            cmd.arg("--metadata-url").arg(self.repo.metadata_dir());
        }
        if boot_env {
            cmd.arg("--boot-env").arg(self.path("boot.env"));
        }
        cmd.output().unwrap()
    }
}

fn image(seed: u8) -> Vec<u8> {
    image_of(300_000, seed)
}

fn image_of(size: u32, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| {
            u8::try_from(i % 256)
                .unwrap()
                .wrapping_mul(7)
                .wrapping_add(seed)
        })
        .collect()
}

fn assert_exit(o: &Output, want: i32, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(want), "stderr: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

#[test]
fn installs_a_verified_target_and_refuses_older_or_swapped_ones() {
    let rig = Rig::new();
    let v2 = rig.repo.targets_dir().join("os-v2.img");
    let v1 = rig.repo.targets_dir().join("os-v1.img");

    // No boot loader: neither [boot] backend nor --boot-env.
    let o = rig.install(&v2, "os-v2.img", false);
    assert_exit(&o, 2, "boot.backend");

    // A file that is not the named target: refused, nothing switched.
    let o = rig.install(&v1, "os-v2.img", true);
    assert_exit(&o, 1, "not the verified target");
    let env = fs::read_to_string(rig.path("boot.env")).unwrap();
    assert!(env.contains("BOOT_ORDER=A B"), "{env}");
    assert!(env.contains("BOOT_B_LEFT=0"), "{env}");

    let o = rig.install(&v2, "os-v2.img", true);
    assert_exit(&o, 0, "");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("into slot B"), "{out}");
    assert_eq!(fs::read(rig.path("b.img")).unwrap(), image(2));
    assert_eq!(fs::read(rig.path("a.img")).unwrap(), b"old system");
    let env = fs::read_to_string(rig.path("boot.env")).unwrap();
    assert!(env.contains("BOOT_ORDER=B A"), "{env}");
    assert!(env.contains("BOOT_B_LEFT=3"), "{env}");

    // Still running A (say the new slot has not booted yet): the older
    // release is refused before anything is written.
    let o = rig.install(&v1, "os-v1.img", true);
    assert_exit(&o, 1, "below the installed floor 2");
    assert_eq!(fs::read(rig.path("b.img")).unwrap(), image(2));
    let env = fs::read_to_string(rig.path("boot.env")).unwrap();
    assert!(env.contains("BOOT_ORDER=B A"), "{env}");
}

/// `dha install` killed (SIGKILL) at varying moments of an install of a
/// 16 MiB image; after each kill the journal reads, the running slot A
/// still has tries, and if the boot loader would start B first, B holds
/// the verified image; the next `dha install` settles and completes.
#[test]
fn a_killed_install_leaves_a_bootable_device() {
    let size = 16 * 1024 * 1024;
    let content = image_of(size, 2);
    let want = dha_core::install::Journal::default();
    let mut kills = 0;
    for i in 0..12_u64 {
        let rig = Rig::with_size(size);
        let v2 = rig.repo.targets_dir().join("os-v2.img");
        let mut cmd = Command::new(DHA);
        cmd.arg("install")
            .arg(&v2)
            .arg("--metadata-dir")
            .arg(rig.path("store"))
            .arg("--metadata-url")
            .arg(rig.repo.metadata_dir())
            .arg("--target-name")
            .arg("os-v2.img")
            .arg("--config")
            .arg(rig.path("dha.toml"))
            .arg("--boot-env")
            .arg(rig.path("boot.env"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(i * 15));
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let journal = dha_core::install::Journal::load(&rig.path("install.journal"))
            .unwrap()
            .unwrap_or_else(|| want.clone());
        let env = fs::read_to_string(rig.path("boot.env")).unwrap();
        assert!(!env.contains("BOOT_A_LEFT=0"), "{env}");
        assert_eq!(fs::read(rig.path("a.img")).unwrap(), b"old system");
        if env.contains("BOOT_ORDER=B") && !env.contains("BOOT_B_LEFT=0") {
            assert_eq!(
                journal.slots["B"].state,
                dha_core::install::ContentState::Good,
                "{journal:?}"
            );
            assert_eq!(fs::read(rig.path("b.img")).unwrap(), content);
        }
        let o = rig.install(&v2, "os-v2.img", true);
        assert_exit(&o, 0, "");
        assert_eq!(fs::read(rig.path("b.img")).unwrap(), content);
    }
    eprintln!("{kills} of 12 installs killed before they finished");
    assert!(kills > 0, "no install was killed before it finished");
}

/// Without `--metadata-url` the target is looked up in the metadata the
/// store already holds (re-verified, offline), and the boot loader comes
/// from `[boot]`.
#[test]
fn installs_offline_from_the_stored_metadata_with_the_configured_boot_loader() {
    let rig = Rig::new();
    let v2 = rig.repo.targets_dir().join("os-v2.img");
    let v1 = rig.repo.targets_dir().join("os-v1.img");
    // The store holds only the shipped root: nothing to look up offline.
    let o = rig.install_with(&v2, "os-v2.img", false, false, "dha-boot.toml");
    assert_exit(
        &o,
        1,
        "no trusted timestamp metadata; run an update cycle first",
    );
    assert!(!rig.path("b.img").exists());
    // One update cycle (as `dha update refresh` does) fills the store.
    let clock = dha_core::SystemClock;
    let mut u = Updater::new(
        &rig.path("store"),
        Box::new(
            dha_core::tuf::transport::LocalDirTransport::new(&rig.repo.metadata_dir()).unwrap(),
        ),
        Box::new(
            dha_core::tuf::transport::LocalDirTransport::new(&rig.repo.targets_dir()).unwrap(),
        ),
        dha_core::tuf::Limits::default(),
        &clock,
        None,
    )
    .unwrap();
    u.refresh().unwrap();
    // Offline again (no --metadata-url): the stored metadata now suffices.
    let o = rig.install_with(&v2, "os-v2.img", false, false, "dha-boot.toml");
    assert_exit(&o, 0, "");
    assert_eq!(fs::read(rig.path("b.img")).unwrap(), image(2));
    let env = fs::read_to_string(rig.path("boot.env")).unwrap();
    assert!(env.contains("BOOT_ORDER=B A"), "{env}");
    let o = rig.install_with(&v1, "os-v1.img", false, false, "dha-boot.toml");
    assert_exit(&o, 1, "below the installed floor 2");
    let o = rig.install_with(&v2, "other.img", false, false, "dha-boot.toml");
    assert_exit(&o, 1, "not found in the trusted targets metadata");
}
