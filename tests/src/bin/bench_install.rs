//! Installing a 256 MiB image into an image-file slot with
//! `dha_core::install::Installer` (write, read back from the device and
//! hashed, overlapped; fsync) side by side with
//! `dd bs=1M conv=fsync` of the same image into a slot file (issue 5
//! "Benchmarks": throughput ratio, goal at least 0.8).
//!
//! ```sh
//! cargo run --release -p dha-tests --bin bench-install [-- [--block] MIB [RUNS]]
//! ```
//!
//! With `--block` (root; needs `losetup`) the slots and dd's output are
//! loop devices over files in the bench directory (`losetup -f --show`),
//! detached at the end whatever happens.
//!
//! The image is a target of a TUF repository built here and found with the
//! TUF client, as on a device. The dha side includes what dd does not do:
//! the read-back from the device (buffered after `POSIX_FADV_DONTNEED`,
//! `agent-core/src/install/stream.rs`) with its SHA-256, and the
//! journal and floor writes (each a durable write with two fsyncs). Both
//! sides read the image from the page cache (it was just written); each
//! side's time is the median of RUNS
//! (default 3) runs. Set `DHA_BENCH_DIR` to run on another file system
//! (default: a temporary directory under `/var/tmp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]

use dha_core::boot::{BootControl, BootError, BootState, SlotId};
use dha_core::install::{InstallPolicy, InstallTarget, Installer, SlotConfig, SlotKind};
use dha_core::tuf::client::Updater;
use dha_core::tuf::repo::{InitOptions, Repository};
use dha_core::tuf::transport::LocalDirTransport;
use dha_core::{Clock, SystemClock};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

/// The boot environment in memory (the bench measures the slot write).
struct MemBoot(RefCell<BootState>);

impl BootControl for MemBoot {
    fn read(&self) -> Result<BootState, BootError> {
        Ok(self.0.borrow().clone())
    }
    fn write(&self, state: &BootState) -> Result<(), BootError> {
        *self.0.borrow_mut() = state.clone();
        Ok(())
    }
    fn booted(&self) -> Option<SlotId> {
        Some(SlotId("A".into()))
    }
}

/// A loop device over a file of the given size, detached on drop (also
/// when the bench panics: the release profile unwinds).
struct Loop(std::path::PathBuf);

impl Loop {
    fn new(backing: &std::path::Path, bytes: u64) -> Loop {
        fs::File::create(backing).unwrap().set_len(bytes).unwrap();
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(backing)
            .output()
            .unwrap();
        assert!(out.status.success(), "losetup: {out:?}");
        Loop(String::from_utf8(out.stdout).unwrap().trim().into())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let block = args.next_if(|a| a == "--block").is_some();
    let mib: usize = args.next().map_or(256, |a| a.parse().expect("MIB"));
    let runs: usize = args.next().map_or(3, |a| a.parse().expect("RUNS"));
    let base: std::path::PathBuf =
        std::env::var_os("DHA_BENCH_DIR").map_or_else(|| "/var/tmp".into(), Into::into);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let dir = tmp.path();
    println!(
        "bench-install: {mib} MiB image, {runs} runs, in {}",
        dir.display()
    );

    // The image: pseudo-random bytes (xorshift), not compressible.
    let image = dir.join("image.bin");
    {
        let mut f = fs::File::create(&image).unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut buf = vec![0_u8; 1 << 20];
        for _ in 0..mib {
            for chunk in buf.chunks_exact_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            f.write_all(&buf).unwrap();
        }
        f.sync_all().unwrap();
    }

    // A repository listing it, and the device's verified view of it.
    let clock = SystemClock;
    let now = clock.now();
    let mut repo = Repository::init(&dir.join("repo"), &InitOptions::default(), now).unwrap();
    repo.add_target(
        &image,
        "os.img",
        None,
        Some(serde_json::json!({"release_counter": 1})),
        now,
    )
    .unwrap();
    repo.publish(now).unwrap();
    fs::remove_file(&image).unwrap();
    let store = dir.join("store");
    fs::create_dir(&store).unwrap();
    Updater::init(
        &store,
        &fs::read(repo.metadata_dir().join("1.root.json")).unwrap(),
    )
    .unwrap();
    let mut updater = Updater::new(
        &store,
        Box::new(LocalDirTransport::new(&repo.metadata_dir()).unwrap()),
        Box::new(LocalDirTransport::new(&repo.targets_dir()).unwrap()),
        dha_core::tuf::Limits::default(),
        &clock,
        None,
    )
    .unwrap();
    let info = updater.get_target_info("os.img").unwrap();
    let target = InstallTarget::from_verified(&info).unwrap();
    let file = repo.targets_dir().join("os.img");
    // Warm the page cache for both sides.
    let _ = fs::read(&file).unwrap();

    // Locals drop in reverse order: the loop devices are detached before
    // `tmp` removes their backing files.
    let bytes = u64::try_from(mib).unwrap() << 20;
    let loops = block.then(|| {
        [
            Loop::new(&dir.join("a.img"), bytes),
            Loop::new(&dir.join("b.img"), bytes),
            Loop::new(&dir.join("dd.img"), bytes),
        ]
    });
    let (kind, a_path, b_path, dd_path) = match &loops {
        Some([a, b, d]) => (SlotKind::Block, a.0.clone(), b.0.clone(), d.0.clone()),
        None => (
            SlotKind::Image,
            dir.join("a.img"),
            dir.join("b.img"),
            dir.join("dd.img"),
        ),
    };
    println!(
        "slots: {} and {}; dd writes {}",
        a_path.display(),
        b_path.display(),
        dd_path.display()
    );
    let policy = InstallPolicy {
        slots: vec![
            SlotConfig {
                name: "A".into(),
                kind,
                path: a_path,
            },
            SlotConfig {
                name: "B".into(),
                kind,
                path: b_path.clone(),
            },
        ],
        journal: dir.join("install.journal"),
        floor: dir.join("install.floor"),
        ..InstallPolicy::default()
    };
    let mut tries = BTreeMap::new();
    tries.insert(SlotId("A".into()), 3);
    tries.insert(SlotId("B".into()), 3);
    let fresh = BootState {
        order: vec![SlotId("A".into()), SlotId("B".into())],
        tries_left: tries,
    };

    let mut read_back = None;
    let mut dha_times = Vec::new();
    let mut dd_times = Vec::new();
    for _ in 0..runs {
        // dha: a fresh slot file each run (created by the installer).
        if !block {
            let _ = fs::remove_file(&b_path);
        }
        let boot = MemBoot(RefCell::new(fresh.clone()));
        let (installer, _) = Installer::open(&policy, &boot).unwrap();
        let t = Instant::now();
        let report = installer.install(&target, &file, None).unwrap();
        dha_times.push(t.elapsed());
        read_back = Some(report.read_back);
        drop(installer);

        let slot = &dd_path;
        if !block {
            let _ = fs::remove_file(slot);
        }
        let t = Instant::now();
        let status = Command::new("dd")
            .arg(format!("if={}", file.display()))
            .arg(format!("of={}", slot.display()))
            .args(["bs=1M", "conv=fsync", "status=none"])
            .status()
            .unwrap();
        dd_times.push(t.elapsed());
        assert!(status.success());
    }
    let bytes = (mib as f64) * 1024.0 * 1024.0;
    let dha = median(dha_times);
    let dd = median(dd_times);
    let mbps = |d: Duration| bytes / d.as_secs_f64() / 1e6;
    println!(
        "dha install (write, fsync, read back): {:.3} s, {:.0} MB/s (read back from {})",
        dha.as_secs_f64(),
        mbps(dha),
        read_back.map_or("-", |r| r.as_str())
    );
    println!(
        "dd bs=1M conv=fsync:                   {:.3} s, {:.0} MB/s",
        dd.as_secs_f64(),
        mbps(dd)
    );
    println!(
        "throughput ratio dha/dd: {:.2} (goal >= 0.80)",
        dd.as_secs_f64() / dha.as_secs_f64()
    );
}
