//! Directory slots: tar archives built here (good and malicious), unpacked
//! into a real directory, and a fault at every durable step.

use super::tests::{Rig, reopen};
use super::*;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

/// One archive entry to build; names and link targets are written into the
/// header as raw bytes, so malicious ones can be made.
enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, u32, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Char(&'a str, u32, u32),
    Fifo(&'a str),
}

fn archive(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        let (name, kind, mode, link, data): (&str, _, u32, &str, &[u8]) = match e {
            E::Dir(n, m) => (n, tar::EntryType::Directory, *m, "", b""),
            E::File(n, m, d) => (n, tar::EntryType::Regular, *m, "", d),
            E::Symlink(n, t) => (n, tar::EntryType::Symlink, 0o777, t, b""),
            E::Hard(n, t) => (n, tar::EntryType::Link, 0o644, t, b""),
            E::Char(n, _, _) => (n, tar::EntryType::Char, 0o666, "", b""),
            E::Fifo(n) => (n, tar::EntryType::Fifo, 0o644, "", b""),
        };
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(data.len() as u64);
        if let E::Char(_, major, minor) = e {
            h.set_device_major(*major).unwrap();
            h.set_device_minor(*minor).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The rig with slot B a directory holding an old file.
fn dir_rig() -> Rig {
    let mut rig = Rig::new();
    let b = rig.dir.path().join("b");
    fs::create_dir(&b).unwrap();
    fs::write(b.join("stale.txt"), b"old").unwrap();
    rig.policy.slots[1] = SlotConfig {
        name: "B".into(),
        kind: SlotKind::Directory,
        path: b,
    };
    rig
}

fn b(rig: &Rig) -> PathBuf {
    rig.dir.path().join("b")
}

fn good() -> Vec<u8> {
    archive(&[
        E::Dir("etc/", 0o755),
        E::File("etc/os-release", 0o644, b"NAME=dha-test\n"),
        E::File("usr/bin/tool", 0o4755, b"#!/bin/sh\necho hi\n"),
        E::Dir("var/empty/", 0o700),
        E::Symlink("bin", "usr/bin"),
        E::Symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
        E::Symlink("usr/bin/up", "../../etc/os-release"),
        E::Hard("usr/bin/tool2", "usr/bin/tool"),
    ])
}

#[test]
fn a_tar_archive_is_unpacked_into_a_directory_slot_and_checked() {
    let rig = dir_rig();
    let tar = good();
    let (src, target) = rig.source(&tar, 3);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let report = installer.install(&target, &src, None).unwrap();
    assert_eq!(report.slot, "B");
    assert_eq!(report.bytes, tar.len() as u64);
    assert_eq!(report.read_back, ReadBackSource::PageCache);
    let b = b(&rig);
    assert!(!b.join("stale.txt").exists(), "old content replaced");
    assert_eq!(
        fs::read(b.join("etc/os-release")).unwrap(),
        b"NAME=dha-test\n"
    );
    let tool = fs::metadata(b.join("usr/bin/tool")).unwrap();
    assert_eq!(tool.mode() & 0o7777, 0o4755);
    assert_eq!(tool.nlink(), 2, "hard link");
    assert_eq!(
        fs::metadata(b.join("var/empty")).unwrap().mode() & 0o7777,
        0o700
    );
    assert_eq!(
        fs::read_link(b.join("etc/localtime")).unwrap(),
        Path::new("/usr/share/zoneinfo/UTC")
    );
    assert_eq!(fs::read_link(b.join("bin")).unwrap(), Path::new("usr/bin"));
    // No staging or old directory is left beside the slot.
    let names: Vec<_> = fs::read_dir(rig.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("dha-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let journal = rig.journal().unwrap();
    assert_eq!(journal.slots["B"].state, ContentState::Good);
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("B".into())));
    // Installing again over it works (the old content is swapped out).
    drop(installer);
    let boot = super::tests::MemBoot::ab("A");
    let (installer, _) = reopen(&rig.policy, &boot);
    let tar2 = archive(&[E::File("only", 0o600, b"x")]);
    let (src, target) = rig.source(&tar2, 4);
    installer.install(&target, &src, None).unwrap();
    let left: Vec<_> = fs::read_dir(&b)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["only"]);
}

#[test]
fn unsafe_archives_are_refused_naming_the_entry() {
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            archive(&[E::File("/abs/evil", 0o644, b"x")]),
            "/abs/evil",
            "absolute",
        ),
        (archive(&[E::File("../evil", 0o644, b"x")]), "../evil", ".."),
        (
            archive(&[E::File("sub/../../evil", 0o644, b"x")]),
            "sub/../../evil",
            "..",
        ),
        (
            archive(&[E::Symlink("link", "../../outside")]),
            "link",
            "leads out of the slot",
        ),
        (
            archive(&[E::Dir("sub/", 0o755), E::Symlink("sub/up", "../..")]),
            "sub/up",
            "leads out of the slot",
        ),
        (archive(&[E::Hard("hl", "../x")]), "hl", ".."),
        (
            archive(&[E::Symlink("s", "etc"), E::Hard("hl", "s")]),
            "hl",
            "not a regular file",
        ),
        (
            archive(&[E::Char("dev/null", 1, 3)]),
            "dev/null",
            "install.allow_devices",
        ),
        (archive(&[E::Fifo("fifo")]), "fifo", "install.allow_devices"),
        // A link inside the slot to the host's /etc, then a file through
        // it: the link is kept as the slot's own /etc, never followed.
        (
            archive(&[E::Symlink("l", "/etc"), E::File("l/passwd", 0o644, b"x")]),
            "l/passwd",
            "not a directory",
        ),
        (
            archive(&[E::File("twice", 0o644, b"1"), E::File("twice", 0o644, b"2")]),
            "twice",
            "second entry",
        ),
        // Links followed through the archive's other links: each of these
        // passes the lexical reading but climbs out when followed, in
        // either order in the archive.
        (
            archive(&[
                E::Symlink("s", "."),
                E::Symlink("t", "s/s/s/s/../../../../etc/shadow"),
            ]),
            "t",
            "followed through the archive's links",
        ),
        (
            archive(&[
                E::Symlink("t", "s/s/s/s/../../../../etc/shadow"),
                E::Symlink("s", "."),
            ]),
            "t",
            "followed through the archive's links",
        ),
        // An absolute target, chained the same way.
        (
            archive(&[E::Symlink("a", "/s/s/../../etc"), E::Symlink("s", ".")]),
            "a",
            "followed through the archive's links",
        ),
        // Through a link to a subdirectory holding a link back up.
        (
            archive(&[
                E::Symlink("x", "lib/up/../etc/shadow"),
                E::Dir("usr/lib/", 0o755),
                E::Symlink("lib", "usr/lib"),
                E::Symlink("usr/lib/up", "../.."),
            ]),
            "x",
            "followed through the archive's links",
        ),
        // A link in a subdirectory pointing up, used twice.
        (
            archive(&[
                E::Dir("d/", 0o755),
                E::Symlink("d/up", ".."),
                E::Symlink("x", "d/up/d/up/../.."),
            ]),
            "x",
            "followed through the archive's links",
        ),
        // A loop (the kernel's ELOOP).
        (
            archive(&[E::Symlink("a", "b"), E::Symlink("b", "a")]),
            "a",
            "more than 40 links",
        ),
        // A hard link through a symbolic link.
        (
            archive(&[
                E::File("usr/f", 0o644, b"x"),
                E::Symlink("s", "usr"),
                E::Hard("hl", "s/f"),
            ]),
            "hl",
            "not a regular file",
        ),
    ];
    let mut refused = 0;
    for (tar, entry, why) in cases {
        let rig = dir_rig();
        let (src, target) = rig.source(&tar, 1);
        let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
        let e = installer.install(&target, &src, None).unwrap_err();
        assert!(
            matches!(&e, InstallError::UnsafeArchive { entry: en, reason, .. }
                if en == entry && reason.contains(why)),
            "{entry}: {e}"
        );
        let ev = e.event("rootfs.tar");
        assert_eq!(ev.payload["entry"], entry);
        assert_eq!(ev.payload["reason"], "unsafe-archive");
        // The slot's content is unchanged, nothing escaped, no staging
        // directory is left, the slot is bad and A still boots.
        let listing: Vec<_> = fs::read_dir(b(&rig))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(listing, ["stale.txt"], "{entry}");
        assert!(!rig.dir.path().join("evil").exists());
        assert!(!rig.dir.path().join("outside").exists());
        assert!(!rig.dir.path().join(".b.dha-staging").exists());
        assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("A".into())));
        rig.assert_bootable();
        refused += 1;
    }
    assert_eq!(refused, 18);
}

#[test]
fn devices_and_fifos_are_created_when_allowed() {
    let mut rig = dir_rig();
    rig.policy.allow_devices = true;
    let tar = archive(&[E::Char("dev/null", 1, 3), E::Fifo("run/fifo")]);
    let (src, target) = rig.source(&tar, 1);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    installer.install(&target, &src, None).unwrap();
    let null = fs::symlink_metadata(b(&rig).join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
    let fifo = fs::symlink_metadata(b(&rig).join("run/fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.permissions().mode() & 0o7777, 0o644);
}

#[test]
fn a_swapped_archive_is_refused_before_the_swap() {
    let rig = dir_rig();
    let (src, target) = rig.source(&good(), 2);
    fs::write(
        &src,
        archive(&[E::File("etc/os-release", 0o644, b"EVIL\n")]),
    )
    .unwrap();
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(matches!(e, InstallError::SourceMismatch { .. }), "{e}");
    let listing: Vec<_> = fs::read_dir(b(&rig))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(listing, ["stale.txt"]);
}

/// Legitimate links, relative and absolute, chained or not, pass the check
/// of links followed through the archive.
#[test]
fn links_that_stay_inside_when_followed_are_accepted() {
    let rig = dir_rig();
    let tar = archive(&[
        E::Dir("usr/lib/", 0o755),
        E::File("usr/y", 0o644, b"y"),
        E::Symlink("usr/lib/x", "../y"),
        E::Symlink("lib", "usr/lib"),
        E::Symlink("lib64", "lib"),
        E::Symlink("z", "lib64/x"),
        E::Symlink("abs", "/lib/x"),
        E::Symlink("etc/mtab", "/proc/self/mounts"),
        E::Symlink("dangling", "not/in/the/archive/.."),
    ]);
    let (src, target) = rig.source(&tar, 1);
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    installer.install(&target, &src, None).unwrap();
    let b = b(&rig);
    assert_eq!(fs::read(b.join("z")).unwrap(), b"y", "followed on disk");
    assert_eq!(fs::read(b.join("usr/lib/x")).unwrap(), b"y");
    assert_eq!(fs::read_link(b.join("lib64")).unwrap(), Path::new("lib"));
    assert_eq!(fs::read_link(b.join("abs")).unwrap(), Path::new("/lib/x"));
}

/// A swapped archive of the verified length is refused before the first
/// durable step of the unpacking (creating the staging directory would be
/// the third, after the journal and boot writes): the tar parser never
/// sees it.
#[test]
fn a_swapped_archive_of_the_right_length_is_refused_before_unpacking() {
    let rig = dir_rig();
    let tar = good();
    let (src, target) = rig.source(&tar, 2);
    let evil = String::from_utf8_lossy(&tar).replace("dha-test", "dha-evil");
    let evil = evil.into_bytes();
    assert_eq!(evil.len(), tar.len());
    fs::write(&src, &evil).unwrap();
    let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
    installer.faults.set(3, false);
    let e = installer.install(&target, &src, None).unwrap_err();
    assert!(
        matches!(&e, InstallError::SourceMismatch { reason, .. } if reason.contains("SHA-256")),
        "{e}"
    );
    // The third durable step is the journal settling the failure, not the
    // staging directory's creation.
    assert_eq!(
        installer.faults.fired_what().as_deref(),
        Some("journal write")
    );
    assert!(!rig.dir.path().join(".b.dha-staging").exists());
    let listing: Vec<_> = fs::read_dir(b(&rig))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(listing, ["stale.txt"]);
    assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("A".into())));
}

/// A fault at every durable step of a directory install (directory and
/// file creation, file writes and fsyncs, directory fsyncs, both renames
/// of the swap, journal, boot and floor writes), as an error and as a
/// crash; after each a restart finds A bootable, B never booted unless
/// verified, and a new install succeeds and reads back.
#[test]
fn a_fault_at_every_durable_step_of_a_directory_install() {
    let tar = good();
    let mut points = 0_u32;
    for crash in [true, false] {
        for at in 1_u32.. {
            let rig = dir_rig();
            let (src, target) = rig.source(&tar, 2);
            let (installer, _) = Installer::open(&rig.policy, &rig.boot).unwrap();
            installer.faults.set(at, crash);
            let result = installer.install(&target, &src, None);
            if !installer.faults.fired() {
                result.unwrap();
                assert!(at > 20, "only {at} durable operations");
                break;
            }
            points += 1;
            let what = installer.faults.fired_what().unwrap();
            assert!(result.is_err(), "fault {at} ({what}) not reported");
            drop(installer);
            let (reopened, recovery) = reopen(&rig.policy, &rig.boot);
            let journal = rig.journal().unwrap_or_default();
            assert_eq!(journal.in_progress, None, "{at} {what} {recovery:?}");
            let state = rig.boot.get();
            assert!(state.tries_left[&SlotId("A".into())] > 0);
            if first_bootable(&state) == Some(SlotId("B".into())) {
                assert_eq!(journal.slots["B"].state, ContentState::Good, "{at} {what}");
            } else {
                assert_eq!(first_bootable(&state), Some(SlotId("A".into())));
            }
            reopened.install(&target, &src, None).unwrap();
            assert_eq!(
                fs::read(b(&rig).join("etc/os-release")).unwrap(),
                b"NAME=dha-test\n",
                "{at} {what}"
            );
            assert_eq!(first_bootable(&rig.boot.get()), Some(SlotId("B".into())));
        }
    }
    // 31 durable steps for this archive (journal, boot, 3 + 4 directory
    // creations, 4 file writes and fsyncs, 3 link creations, 7 directory
    // fsyncs, 2 renames, then journal, boot, journal, floor, journal),
    // each as an error and as a crash.
    assert_eq!(points, 2 * 31, "crash points tested");
}
