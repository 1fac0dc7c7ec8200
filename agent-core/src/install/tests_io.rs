//! Installer tests of the lock, hook timeouts, events, a full disk and an
//! I/O error mid-write, on real files, real processes and a real tmpfs.

use super::tests::{MemBoot, Rig, image, reopen};
use super::*;
use crate::Severity;
use crate::events::EventKind;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// Slot B is bad and never booted, A untouched and first: the state a
/// failed install must leave.
fn assert_b_bad(rig: &Rig) {
    let state = rig.boot.get();
    assert_eq!(first_bootable(&state), Some(SlotId("A".into())));
    assert_eq!(state.tries_left[&SlotId("B".into())], 0);
    let journal = rig.journal().unwrap();
    assert_eq!(journal.in_progress, None);
    assert_eq!(journal.slots["B"].state, ContentState::Bad);
    assert_eq!(floor::read_floor(&rig.policy.floor).unwrap(), 0);
    rig.assert_bootable();
}

#[test]
fn a_second_installer_is_refused_naming_the_lock_file() {
    let rig = Rig::new();
    let lock = rig.policy.lock_path();
    assert!(lock.to_string_lossy().ends_with("install.journal.lock"));
    let (first, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    // A second open file description in this process.
    let e = Installer::open(&rig.policy, &rig.boot).err().unwrap();
    assert!(
        matches!(&e, InstallError::Locked { path } if *path == lock.display().to_string()),
        "{e}"
    );
    assert!(e.to_string().contains("install.journal.lock"), "{e}");
    // Another process sees the lock held (flock(1), the same flock(2)).
    let held = Command::new("flock")
        .arg("-n")
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap();
    assert_eq!(held.code(), Some(1), "flock -n got the lock");
    drop(first);
    let free = Command::new("flock")
        .arg("-n")
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap();
    assert!(free.success());
    // A lock held by another process refuses this one, until it exits.
    // flock(1) holds it while `cat` runs, until cat's input ends.
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["-c", "echo locked; exec cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "locked\n");
    let e = Installer::open(&rig.policy, &rig.boot).err().unwrap();
    assert!(matches!(e, InstallError::Locked { .. }), "{e}");
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let (src, target) = rig.source(&image(3000, 1), 1);
    installer.install(&target, &src, None).unwrap();
}

#[test]
fn a_hook_that_does_not_exit_in_time_is_killed_and_vetoes() {
    let mut rig = Rig::new();
    let pid_file = rig.dir.path().join("hook.pid");
    let hook = rig.dir.path().join("pre-install");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 600\n",
            pid_file.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    rig.policy.pre_install_hook = Some(hook);
    rig.policy.hook_timeout_secs = 1;
    let (src, target) = rig.source(&image(5000, 5), 2);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(&e, InstallError::Vetoed { phase: "pre-install", reason, .. }
            if reason.contains("install.hook_timeout_secs") && reason.contains("killed")),
        "{e}"
    );
    // The hook process was killed and reaped.
    let pid = fs::read_to_string(&pid_file).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "hook {pid} still running"
    );
    assert_eq!(rig.slot_b(), b"stale");
    assert_eq!(rig.boot.writes.get(), 0);
    let event = e.event("os.img");
    assert_eq!(event.kind, EventKind::UpdateRejected);
    assert_eq!(event.payload["reason"], "veto");
}

#[test]
fn the_timeout_is_checked_in_the_config() {
    let e = crate::Config::from_toml_str(
        "[install]\nhook_timeout_secs = 0\nslots = [\n { name = \"A\", kind = \"image\", path = \"/s/a\" },\n \
         { name = \"B\", kind = \"image\", path = \"/s/b\" },\n]\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("install.hook_timeout_secs"), "{e}");
    assert_eq!(InstallPolicy::default().hook_timeout_secs, 300);
}

#[test]
fn reports_and_errors_become_events() {
    let rig = Rig::new();
    let content = image(100_000, 4);
    let (src, target) = rig.source(&content, 7);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let report = installer.install(&target, &src, None).unwrap();
    let ev = report.event();
    assert_eq!(ev.kind, EventKind::UpdateInstalled);
    assert_eq!(ev.severity, Severity::Info);
    assert_eq!(ev.payload["slot"], "B");
    assert_eq!(ev.payload["target"], "os.img");
    assert_eq!(ev.payload["version"], 7);
    assert_eq!(ev.payload["sha256"], sha256_hex(&content).as_str());
    assert_eq!(ev.payload["bytes"], 100_000);
    assert_eq!(ev.payload["read_back"], report.read_back.as_str());
    drop(installer);
    // A rollback, from a real refusal.
    let boot = MemBoot::ab("A");
    let (installer, _) = reopen(&rig.policy, &boot);
    let (src, old) = rig.source(&image(1000, 1), 3);
    let e = installer.install(&old, &src, None).unwrap_err();
    let ev = e.event(old.name());
    assert_eq!(ev.kind, EventKind::UpdateRejected);
    assert_eq!(ev.severity, Severity::High);
    assert_eq!(ev.payload["reason"], "rollback");
    assert_eq!(ev.payload["floor"], 7);
    assert_eq!(ev.payload["offered"], 3);
    assert!(ev.payload["error"].as_str().unwrap().contains("below"));
    // A file that is not the verified target.
    let (src, target) = rig.source(&image(1000, 1), 8);
    fs::write(&src, image(1000, 2)).unwrap();
    let ev = installer
        .install(&target, &src, None)
        .unwrap_err()
        .event("os.img");
    assert_eq!(
        (ev.kind, ev.severity),
        (EventKind::UpdateRejected, Severity::High)
    );
    assert_eq!(ev.payload["reason"], "source-mismatch");
    // Failures of the device are install.failed.
    let io = InstallError::Io {
        what: "writing slot B".into(),
        path: "/dev/sdb3".into(),
        source: io::Error::from_raw_os_error(libc::EIO),
    };
    let ev = io.event("os.img");
    assert_eq!(
        (ev.kind, ev.severity),
        (EventKind::InstallFailed, Severity::High)
    );
    assert_eq!(ev.payload["path"], "/dev/sdb3");
    let ev = InstallError::ReadBack {
        slot: "B".into(),
        expected: "ab".repeat(32),
        found: "cd".repeat(32),
    }
    .event("os.img");
    assert_eq!(ev.kind, EventKind::InstallFailed);
    assert_eq!(ev.payload["found"], "cd".repeat(32).as_str());
    let ev = InstallError::Locked { path: "/x".into() }.event("os.img");
    assert_eq!(
        (ev.kind, ev.severity),
        (EventKind::InstallFailed, Severity::Low)
    );
}

/// An injected `EIO` on the second chunk written: reported naming the
/// slot, the slot left bad, A untouched, and the next install succeeds.
#[test]
fn an_io_error_mid_write_leaves_the_slot_bad_and_a_later_install_succeeds() {
    let rig = Rig::new();
    let content = image(3 * 1024 * 1024, 3);
    let (src, target) = rig.source(&content, 2);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    installer.faults.set_errno(libc::EIO);
    // journal write, boot write, then the chunks: the second chunk.
    installer.faults.set(4, false);
    let e = installer.install(&target, &src, None).unwrap_err();
    assert_eq!(installer.faults.fired_what().as_deref(), Some("slot write"));
    assert!(
        matches!(&e, InstallError::Io { what, source, .. }
            if what == "writing slot B" && source.raw_os_error() == Some(libc::EIO)),
        "{e}"
    );
    assert_eq!(e.event("os.img").kind, EventKind::InstallFailed);
    assert_b_bad(&rig);
    drop(installer);
    let (installer, recovery) = reopen(&rig.policy, &rig.boot);
    assert_eq!(recovery, Recovery::Clean);
    installer.install(&target, &src, None).unwrap();
    assert_eq!(rig.slot_b(), content);
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("B".into())));
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` at `dir`; `None` when mounting is not
    /// permitted here.
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs at {} ({}): {}",
                dir.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A real full disk: slot B is an image file on a 2 MiB tmpfs and the
/// image is 4 MiB. The write fails with ENOSPC naming the slot; B is bad,
/// A untouched and booted; an image that fits then installs.
#[test]
fn a_full_disk_mid_write_leaves_the_slot_bad_and_a_later_install_succeeds() {
    let mut rig = Rig::new();
    let small = rig.dir.path().join("small");
    let Some(_mount) = Mount::tmpfs(&small, "2m") else {
        return;
    };
    rig.policy.slots[1].path = small.join("b.img");
    let content = image(4 * 1024 * 1024, 6);
    let (src, target) = rig.source(&content, 2);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(&e, InstallError::Io { path, source, .. }
            if *path == small.join("b.img").display().to_string()
                && source.raw_os_error() == Some(libc::ENOSPC)),
        "{e}"
    );
    assert_eq!(e.event("os.img").kind, EventKind::InstallFailed);
    assert_b_bad(&rig);
    drop(installer);
    let (installer, _) = reopen(&rig.policy, &rig.boot);
    let fits = image(1024 * 1024, 7);
    let (src, target) = rig.source(&fits, 3);
    let report = installer.install(&target, &src, None).unwrap();
    assert_eq!(report.bytes, 1024 * 1024);
    let b = fs::read(small.join("b.img")).unwrap();
    assert_eq!(&b[..fits.len()], &fits[..]);
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("B".into())));
}

/// The read-back reads the slot from the device (`O_DIRECT`: the test
/// directory is on a disk file system here) and sees a flipped byte, and a
/// slot shorter than the image is an error, not a pass.
#[test]
fn the_read_back_reads_the_slot_and_sees_a_flipped_byte() {
    let rig = Rig::new();
    let slot = &rig.policy.slots[1];
    let written = image(3 * stream::DIRECT_ALIGN + 10, 1);
    let len = u64::try_from(written.len()).unwrap();
    fs::write(&slot.path, &written).unwrap();
    let (hash, source) = stream::hash_file(slot, len).unwrap();
    assert_eq!(hash, sha256_hex(&written));
    if source == ReadBackSource::PageCache {
        eprintln!("NOTE: O_DIRECT refused on {}", slot.path.display());
    }
    let mut on_disk = written.clone();
    on_disk[2 * stream::DIRECT_ALIGN + 3] ^= 0x40;
    fs::write(&slot.path, &on_disk).unwrap();
    let (hash, _) = stream::hash_file(slot, len).unwrap();
    assert_ne!(hash, sha256_hex(&written));
    fs::write(&slot.path, &written[..100]).unwrap();
    let e = stream::hash_file(slot, len).unwrap_err();
    assert!(e.to_string().contains("reading back slot B"), "{e}");
}
