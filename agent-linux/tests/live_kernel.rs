//! KRN-01, KRN-02 and FS-01 on this machine's live `/`, compared with what
//! the kernel and the filesystem really hold (the tests run as root, as CI does).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use dha_core::checks::{fs, kernel};
use dha_core::{Auditor, Config, FixedClock, Report, Root};
use dha_linux::LinuxHost;
use std::os::unix::fs::PermissionsExt;

fn audit(id: &'static str, check: dha_core::CheckFn) -> Report {
    let cfg = Config::default();
    let clock = FixedClock::from_unix_secs(1_795_910_400);
    let root = Root::open("/").unwrap();
    Auditor::new(&cfg, &clock)
        .with_host(&LinuxHost)
        .run_checks(&root, &[(id, check)])
}

#[test]
fn krn01_reports_the_running_values_of_proc_sys() {
    let r = audit("KRN-01", kernel::krn01_sysctl);
    for f in &r.findings {
        let Some(file) = f.evidence.file.as_deref() else {
            continue;
        };
        if let Some(rel) = file.strip_prefix("/proc/sys/") {
            let observed = f.evidence.observed.as_deref().unwrap();
            match std::fs::read_to_string(format!("/proc/sys/{rel}")) {
                Ok(v) => assert!(
                    observed.contains(&format!("running {:?}", v.trim())),
                    "{observed} vs {v:?}"
                ),
                Err(_) => assert!(observed.contains("does not exist"), "{observed}"),
            }
        }
    }
    // Every rule whose running value is weak is reported, here or at its file.
    let cfg = Config::default();
    for rule in cfg.kernel.sysctl_rules() {
        let path = format!("/proc/sys/{}", rule.key.replace('.', "/"));
        let Ok(v) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !rule.wanted.accepts_raw(&v) {
            let expected = format!("{} {}", rule.key, rule.wanted);
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.evidence.expected.as_deref() == Some(expected.as_str())),
                "{path} = {} is weak and not reported",
                v.trim()
            );
        }
    }
}

#[test]
fn krn02_reports_every_listed_module_that_is_loaded() {
    let r = audit("KRN-02", kernel::krn02_modules);
    let loaded: Vec<String> = std::fs::read_to_string("/proc/modules")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').next().map(str::to_owned))
        .collect();
    for m in &Config::default().kernel.disabled_modules {
        let is_loaded = loaded.iter().any(|l| *l == m.replace('-', "_"));
        let reported = r.findings.iter().any(|f| {
            f.evidence.file.as_deref() == Some("/proc/modules") && f.title.starts_with(m.as_str())
        });
        assert_eq!(is_loaded, reported, "{m}");
    }
}

#[test]
fn fs01_finds_what_is_planted_on_the_live_root_and_reads_the_mount_table() {
    // /var/tmp is on a local filesystem on Debian (not a tmpfs skipped by type).
    let dir = tempfile::Builder::new()
        .prefix("dha-fs01-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let ww = dir.path().join("world-writable");
    std::fs::write(&ww, "x").unwrap();
    std::fs::set_permissions(&ww, std::fs::Permissions::from_mode(0o666)).unwrap();
    let suid = dir.path().join("helper");
    std::fs::write(&suid, "").unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();

    let r = audit("FS-01", fs::fs01_permissions);
    let at = |p: &std::path::Path| {
        r.findings
            .iter()
            .any(|f| f.evidence.file.as_deref() == Some(p.to_str().unwrap()))
    };
    assert!(at(&ww), "{:#?}", r.findings);
    assert!(at(&suid));
    assert!(at(&open));
    // Nothing below the pseudo filesystems was walked.
    assert!(
        !r.findings.iter().any(|f| f
            .evidence
            .file
            .as_deref()
            .is_some_and(
                |p| (p.starts_with("/proc/") && p != "/proc/self/mounts") || p.starts_with("/sys/")
            )),
        "{:#?}",
        r.findings
    );
    // /dev/shm as mounted now: a live finding exactly when an option is missing.
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let shm = mounts
        .lines()
        .rfind(|l| l.split(' ').nth(1) == Some("/dev/shm"))
        .map(|l| l.split(' ').nth(3).unwrap().to_owned());
    if let Some(opts) = shm {
        let o: Vec<&str> = opts.split(',').collect();
        let all = ["nodev", "nosuid", "noexec"].iter().all(|f| o.contains(f));
        if !all {
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.evidence.file.as_deref() == Some("/proc/self/mounts")
                        || f.evidence.file.as_deref() == Some("/etc/fstab")),
                "{:#?}",
                r.findings
            );
        }
    }
}
