//! Tests of FS-01 on small roots.

use super::*;
use crate::testing::{TestRoot, finding_at, is_clean, located, locations, observed};

const FSTAB_GOOD: &str = "# <file system> <mount point> <type> <options> <dump> <pass>\n\
    UUID=0a1b / ext4 errors=remount-ro 0 1\n\
    tmpfs /tmp tmpfs nodev,nosuid,noexec,mode=1777 0 0\n\
    tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n";

fn clean_root() -> TestRoot {
    let t = TestRoot::new(&[("/etc/fstab", FSTAB_GOOD), ("/usr/bin/passwd", "")]);
    t.mode("/", 0o755);
    t.mode("/usr/bin/passwd", 0o4755);
    t.mkdir("/tmp", 0o1777);
    t
}

#[test]
fn a_clean_tree_passes() {
    let r = clean_root().audit("FS-01", fs01_permissions);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn world_writable_entries_and_unexpected_suid_are_reported() {
    let t = clean_root();
    t.write("/opt/vendor/config.ini", "x\n");
    t.mode("/opt/vendor/config.ini", 0o666);
    t.mkdir("/srv/drop", 0o777);
    t.mkdir("/srv/shared", 0o1777);
    t.write("/usr/local/bin/helper", "");
    t.mode("/usr/local/bin/helper", 0o4755);
    t.write("/usr/local/bin/grouper", "");
    t.mode("/usr/local/bin/grouper", 0o2755);
    // Never followed nor judged: a link (0777 itself) to a world-writable directory.
    t.link("/var/link", "/srv/drop");
    // Skipped: kernel and runtime state.
    t.write("/proc/1/thing", "");
    t.mode("/proc/1/thing", 0o666);
    t.mkdir("/run/lock", 0o777);
    let r = t.audit("FS-01", fs01_permissions);
    let mut l = located(&r);
    l.sort();
    assert_eq!(
        l,
        [
            ("/opt/vendor/config.ini".to_owned(), Severity::Medium),
            ("/srv/drop".to_owned(), Severity::Medium),
            ("/usr/local/bin/grouper".to_owned(), Severity::Medium),
            ("/usr/local/bin/helper".to_owned(), Severity::High),
        ]
    );
    assert_eq!(
        finding_at(&r, "/usr/local/bin/grouper").references.ssg,
        ["file_permissions_unauthorized_sgid"]
    );
    assert_eq!(
        observed(finding_at(&r, "/srv/drop")).get(..9),
        Some("mode 0777")
    );
    // The allow-list is configurable.
    let mut t = t;
    t.cfg.allow.suid.push("/usr/local/bin/helper".to_owned());
    let r = t.audit("FS-01", fs01_permissions);
    assert!(!locations(&r).contains(&"/usr/local/bin/helper".to_owned()));
}

#[test]
fn the_walk_is_bounded_and_capped() {
    let mut t = clean_root();
    for i in 0..(MAX_FINDINGS_PER_KIND + 5) {
        let p = format!("/var/spool/x/{i:04}");
        t.write(&p, "");
        t.mode(&p, 0o646);
    }
    let r = t.audit("FS-01", fs01_permissions);
    assert_eq!(r.findings.len(), MAX_FINDINGS_PER_KIND + 1);
    assert!(
        r.findings
            .last()
            .unwrap()
            .title
            .starts_with("5 more world-writable files")
    );
    t.cfg.limits.max_walk_entries = 10;
    let r = t.audit("FS-01", fs01_permissions);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("stopped after 10 entries")),
        "{r:#?}"
    );
}

#[test]
fn tmp_and_dev_shm_mount_options() {
    let t = clean_root();
    t.write(
        "/etc/fstab",
        "UUID=0a1b / ext4 errors=remount-ro 0 1\n\
         tmpfs /tmp tmpfs nodev,nosuid,mode=1777 0 0\n\
         tmpfs /dev/shm tmpfs nodev,nosuid,noexec,exec 0 0\n",
    );
    let r = t.audit("FS-01", fs01_permissions);
    assert_eq!(locations(&r), ["/etc/fstab:2", "/etc/fstab:3"]);
    assert_eq!(r.findings[0].title, "/tmp is mounted without noexec");
    assert_eq!(r.findings[0].references.ssg, ["mount_option_tmp_noexec"]);
    assert_eq!(
        r.findings[1].references.ssg,
        ["mount_option_dev_shm_noexec"]
    );

    // No fstab lines: /tmp is no mount (unless tmp.mount is on the unit
    // path), /dev/shm is systemd's nosuid,nodev.
    t.write("/etc/fstab", "UUID=0a1b / ext4 errors=remount-ro 0 1\n");
    let r = t.audit("FS-01", fs01_permissions);
    assert_eq!(
        located(&r),
        [
            ("/etc/fstab".to_owned(), Severity::Low),
            ("/etc/fstab".to_owned(), Severity::Medium)
        ]
    );
    assert_eq!(r.findings[0].title, "/tmp is not a separate mount");
    assert_eq!(r.findings[1].title, "/dev/shm is mounted without noexec");
    t.write(
        "/usr/lib/systemd/system/tmp.mount",
        "[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%%\n",
    );
    let r = t.audit("FS-01", fs01_permissions);
    assert_eq!(locations(&r)[0], "/usr/lib/systemd/system/tmp.mount:5");
    assert_eq!(r.findings[0].title, "/tmp is mounted without noexec");
}

#[test]
fn a_directory_is_read_only_up_to_the_budget() {
    // An endless directory: reading it whole would never end.
    let mut pulled = 0u64;
    let (got, more) = take_capped(std::iter::repeat(()).inspect(|_| pulled += 1), 1000);
    assert_eq!((got.len(), more, pulled), (1000, true, 1001));
    let (got, more) = take_capped(0..3, 3);
    assert_eq!((got, more), (vec![0, 1, 2], false));
    let (got, more) = take_capped(0..3, 0);
    assert_eq!((got, more), (vec![], true));
    let (got, more) = take_capped(0..0, 0);
    assert_eq!((got, more), (vec![], false));

    // A real directory larger than the budget: the walk stops inside it.
    let mut t = clean_root();
    std::fs::create_dir_all(t.path("/var/big")).unwrap();
    for i in 0..3000 {
        std::fs::write(t.path(&format!("/var/big/{i:05}")), "").unwrap();
    }
    t.cfg.limits.max_walk_entries = 40;
    let r = t.audit("FS-01", fs01_permissions);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("stopped after 40 entries")),
        "{r:#?}"
    );
    // A budget that the tree exactly fills is not a truncation.
    fn count(d: &std::path::Path) -> u64 {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                1 + if e.file_type().unwrap().is_dir() {
                    count(&e.path())
                } else {
                    0
                }
            })
            .sum()
    }
    t.cfg.limits.max_walk_entries = count(&t.path("/"));
    assert!(t.cfg.limits.max_walk_entries > 3000);
    let r = t.audit("FS-01", fs01_permissions);
    assert!(is_clean(&r), "{r:#?}");
}
