//! Tests of KRN-01 and KRN-02 on small roots, and of the live comparison.

use super::*;
use crate::audit::AuditContext;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::finding::Severity;
use crate::parse::sysctl::Assignment;
use crate::root::Root;
use crate::testing::{NOW, TestRoot, finding_at, is_clean, located, locations, observed};

/// Every key of the table at its wanted value, as a hardened device sets it.
fn hardened_sysctl() -> String {
    SYSCTL_TABLE
        .iter()
        .map(|r| format!("{} = {}\n", r.key, r.wanted.value))
        .collect()
}

const LIMITS: &str = "# /etc/security/limits.conf\n*               hard    core            0\n";
const MODPROBE: &str = "install usb-storage /bin/false\nblacklist usb-storage\n\
    install cramfs /bin/false\ninstall freevxfs /bin/false\ninstall hfs /bin/false\n\
    install hfsplus /bin/false\ninstall jffs2 /bin/false\ninstall udf /bin/false\n";

fn hardened() -> TestRoot {
    TestRoot::new(&[
        ("/etc/sysctl.d/90-hardening.conf", &hardened_sysctl()),
        ("/etc/security/limits.conf", LIMITS),
        ("/etc/modprobe.d/dha-hardening.conf", MODPROBE),
    ])
}

#[test]
fn the_hardened_settings_pass() {
    let t = hardened();
    let r = t.audit("KRN-01", krn01_sysctl);
    assert!(is_clean(&r), "{r:#?}");
    let r = t.audit("KRN-02", krn02_modules);
    assert!(is_clean(&r), "{r:#?}");
}

#[test]
fn the_effective_value_decides_across_directories() {
    let t = hardened();
    // A weak packaged value overridden well in /etc: not reported.
    t.write(
        "/usr/lib/sysctl.d/10-vendor.conf",
        "kernel.kptr_restrict = 0\n",
    );
    // A good packaged value overridden weakly in /etc: reported at /etc.
    t.write(
        "/usr/lib/sysctl.d/50-net.conf",
        "net.ipv4.tcp_syncookies = 1\n",
    );
    t.write(
        "/etc/sysctl.d/95-vendor-net.conf",
        "# vendor tuning\nnet.ipv4.tcp_syncookies = 0\nnet.ipv4.conf.*.log_martians = 0\n",
    );
    let r = t.audit("KRN-01", krn01_sysctl);
    // The glob does not beat the explicit keys of 90-hardening.conf.
    assert_eq!(
        located(&r),
        [(
            "/etc/sysctl.d/95-vendor-net.conf:2".to_owned(),
            Severity::Medium
        )]
    );
    let f = finding_at(&r, "/etc/sysctl.d/95-vendor-net.conf:2");
    assert_eq!(f.references.ssg, ["sysctl_net_ipv4_tcp_syncookies"]);
    assert_eq!(
        f.evidence.expected.as_deref(),
        Some("net.ipv4.tcp_syncookies 1")
    );
}

#[test]
fn a_glob_applies_where_no_explicit_key_is_set() {
    let t = TestRoot::new(&[(
        "/etc/sysctl.d/10-net.conf",
        "net.ipv4.conf.*.send_redirects = 1\n-net.ipv4.conf.default.send_redirects\n",
    )]);
    let r = t.audit("KRN-01", krn01_sysctl);
    let l = locations(&r);
    assert!(
        l.contains(&"/etc/sysctl.d/10-net.conf:1".to_owned()),
        "{l:?}"
    );
    // Excluded from the glob: judged by the kernel default (1, weak) instead.
    let unset: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.location() == "/etc/sysctl.d")
        .map(|f| f.evidence.expected.clone().unwrap())
        .collect();
    assert!(
        unset.contains(&"net.ipv4.conf.default.send_redirects 0".to_owned()),
        "{unset:?}"
    );
}

#[test]
fn unset_keys_are_judged_by_the_kernel_default() {
    let r = TestRoot::new(&[("/etc/hostname", "x\n")]).audit("KRN-01", krn01_sysctl);
    let unset: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.location() == "/etc/sysctl.d")
        .map(|f| f.title.clone())
        .collect();
    // Weak defaults are findings; good ones (randomize_va_space 2,
    // dmesg_restrict 1, syncookies 1, suid_dumpable 0) are not.
    let weak = SYSCTL_TABLE
        .iter()
        .filter(|r| !r.wanted.accepts(r.kernel_default))
        .count();
    assert_eq!(unset.len(), weak, "{unset:#?}");
    assert!(unset.iter().any(|t| t.starts_with("kernel.kptr_restrict ")));
    assert!(!unset.iter().any(|t| t.contains("randomize_va_space")));
    let f = r
        .findings
        .iter()
        .find(|f| f.title.starts_with("kernel.kptr_restrict"))
        .unwrap();
    assert!(
        observed(f)
            .contains("kernel default 0 assumed (Documentation/admin-guide/sysctl/kernel.rst)")
    );
    // And no limits.conf: users may dump core.
    assert!(locations(&r).contains(&"/etc/security/limits.conf".to_owned()));
}

#[test]
fn the_table_is_configurable() {
    let mut t = hardened();
    t.cfg = Config::from_toml_str(
        "[kernel]\nsysctl = { \"fs.protected_regular\" = \"2\", \"kernel.sysrq\" = \"0\" }\n\
         skip_sysctl = [\"net.ipv4.tcp_syncookies\"]\n",
    )
    .unwrap();
    t.write(
        "/etc/sysctl.d/95-weak.conf",
        "net.ipv4.tcp_syncookies = 0\nfs.protected_regular = 1\n",
    );
    let r = t.audit("KRN-01", krn01_sysctl);
    assert_eq!(
        locations(&r),
        ["/etc/sysctl.d/95-weak.conf:2", "/etc/sysctl.d"],
        "{r:#?}"
    );
    assert!(r.findings[1].title.starts_with("kernel.sysrq"));
    assert!(r.findings[1].references.ssg.is_empty());
    for bad in [
        "[kernel]\nsysctl = { \"kernel.sysrq\" = \"yes\" }\n",
        "[kernel]\nsysctl = { \"../x\" = \"1\" }\n",
        "[kernel]\ndisabled_modules = [\"usb storage\"]\n",
    ] {
        let e = Config::from_toml_str(bad).unwrap_err().to_string();
        assert!(e.contains("kernel."), "{e}");
    }
}

#[test]
fn core_dumps_are_judged_by_limits_and_coredump_conf() {
    let t = hardened();
    t.write(
        "/etc/security/limits.d/90-dev.conf",
        "# developers\n*  -  core  unlimited\n",
    );
    t.write("/usr/lib/systemd/systemd-coredump", "");
    t.write(
        "/etc/systemd/coredump.conf",
        "[Coredump]\nStorage=external\n",
    );
    t.write(
        "/etc/systemd/coredump.conf.d/10-none.conf",
        "[Coredump]\n#Storage=none\n",
    );
    let r = t.audit("KRN-01", krn01_sysctl);
    assert_eq!(
        locations(&r),
        [
            "/etc/security/limits.d/90-dev.conf:2",
            "/etc/systemd/coredump.conf:2"
        ]
    );
    t.write(
        "/etc/systemd/coredump.conf.d/10-none.conf",
        "[Coredump]\nStorage=none\n",
    );
    t.write("/etc/security/limits.d/90-dev.conf", "*  hard  core  0\n");
    assert!(is_clean(&t.audit("KRN-01", krn01_sysctl)));
}

#[test]
fn user_and_group_core_lines_beat_the_wildcard() {
    // limits.conf(5): user and @group lines have priority over `*`, so
    // `* hard core 0` does not cap the members of @staff here.
    let t = hardened();
    t.write(
        "/etc/security/limits.d/50-staff.conf",
        "# staff debug\n@staff  hard  core  unlimited\n\
         *  soft  core  unlimited\n\
         alice  -  core  1024\n\
         bob  hard  core  unlimited\n\
         bob  hard  core  0\n\
         @ops  soft  core  unlimited\n",
    );
    let r = t.audit("KRN-01", krn01_sysctl);
    assert_eq!(
        locations(&r),
        [
            "/etc/security/limits.d/50-staff.conf:2",
            "/etc/security/limits.d/50-staff.conf:4",
        ],
        "{r:#?}"
    );
    let f = finding_at(&r, "/etc/security/limits.d/50-staff.conf:2");
    assert!(observed(f).contains("\"unlimited\" for @staff"), "{f:#?}");
    // Only soft lines above the hard 0: harmless, the hard limit caps them.
    t.write(
        "/etc/security/limits.d/50-staff.conf",
        "@staff  soft  core  unlimited\n*  soft  core  unlimited\n@ops  hard  core  0\n",
    );
    assert!(is_clean(&t.audit("KRN-01", krn01_sysctl)));
}

#[test]
fn with_systemd_sysctl_conf_counts_only_through_a_drop_in_link() {
    // The hardening lives in /etc/sysctl.conf alone, on a systemd root.
    let t = TestRoot::new(&[
        ("/etc/sysctl.conf", &hardened_sysctl()),
        ("/etc/security/limits.conf", LIMITS),
        ("/usr/lib/systemd/systemd-sysctl", ""),
    ]);
    t.link("/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
    assert!(is_clean(&t.audit("KRN-01", krn01_sysctl)));
    // A later drop-in beats it: 99-zz.conf sorts after 99-sysctl.conf.
    t.write("/etc/sysctl.d/99-zz.conf", "kernel.kptr_restrict = 0\n");
    let r = t.audit("KRN-01", krn01_sysctl);
    assert_eq!(locations(&r), ["/etc/sysctl.d/99-zz.conf:1"], "{r:#?}");
    // Without the link (Debian 13) systemd-sysctl never reads it: the weak
    // kernel defaults are reported, and so is the ignored file.
    std::fs::remove_file(t.path("/etc/sysctl.d/99-zz.conf")).unwrap();
    std::fs::remove_file(t.path("/etc/sysctl.d/99-sysctl.conf")).unwrap();
    let r = t.audit("KRN-01", krn01_sysctl);
    assert!(
        locations(&r).contains(&"/etc/sysctl.d".to_owned()),
        "{r:#?}"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.file == "/etc/sysctl.conf" && w.message.contains("not applied at boot")),
        "{r:#?}"
    );
}

/// Runs `judge` for the rule of `key` with a configured and a running value.
fn judged(
    key: &str,
    configured: Option<&str>,
    running: Option<Option<&str>>,
) -> Option<crate::finding::Finding> {
    let t = TestRoot::new(&[]);
    let root = Root::open(t.path("/")).unwrap();
    let cfg = Config::default();
    let clock = FixedClock::from_unix_secs(NOW);
    let ctx = AuditContext::new(&root, &cfg, &clock);
    let rule = cfg
        .kernel
        .sysctl_rules()
        .into_iter()
        .find(|r| r.key == key)
        .unwrap();
    let a = configured.map(|v| Assignment {
        key: crate::parse::sysctl::normalize_key(key),
        raw_key: key.to_owned(),
        value: v.to_owned(),
        ignore_failure: false,
        glob: false,
        file: "/etc/sysctl.d/90-h.conf".to_owned(),
        line: 7,
    });
    sysctl::judge(
        &ctx,
        &rule,
        a.as_ref(),
        running.map(|r| r.map(str::to_owned)),
    )
}

#[test]
fn configured_and_running_values_are_reported_together_when_they_disagree() {
    const K: &str = "kernel.kptr_restrict";
    // Configured well, running weak: the live source is the location.
    let f = judged(K, Some("1"), Some(Some("0"))).unwrap();
    assert_eq!(f.location(), "/proc/sys/kernel/kptr_restrict");
    assert_eq!(
        observed(&f),
        "configured \"1\" at /etc/sysctl.d/90-h.conf:7, running \"0\" (/proc/sys/kernel/kptr_restrict): not applied, or changed since boot"
    );
    // Configured weak, running well (until the next boot): the file is the location.
    let f = judged(K, Some("0"), Some(Some("2"))).unwrap();
    assert_eq!(f.location(), "/etc/sysctl.d/90-h.conf:7");
    assert!(
        observed(&f).contains("running \"2\" (/proc/sys/kernel/kptr_restrict) until the next boot")
    );
    // Both weak and equal.
    let f = judged(K, Some("0"), Some(Some("0"))).unwrap();
    assert!(observed(&f).ends_with("running \"0\" too (/proc/sys/kernel/kptr_restrict)"));
    // Both acceptable but different: worth knowing only.
    let f = judged(K, Some("2"), Some(Some("1"))).unwrap();
    assert_eq!(f.severity, Severity::Info);
    assert!(judged(K, Some("1"), Some(Some("1"))).is_none());
    // Unset: the running value decides when it is known.
    assert!(judged(K, None, Some(Some("1"))).is_none());
    let f = judged(K, None, Some(Some("0"))).unwrap();
    assert_eq!(f.location(), "/proc/sys/kernel/kptr_restrict");
    // Yama not built in: no ptrace restriction at all.
    let f = judged("kernel.yama.ptrace_scope", Some("1"), Some(None)).unwrap();
    assert!(observed(&f).contains("does not exist"), "{f:?}");
    // No IPv6: nothing to redirect.
    assert!(judged("net.ipv6.conf.all.accept_redirects", None, Some(None)).is_none());
    // A value that is not a number is weak.
    assert!(judged(K, Some("one"), None).is_some());
}

#[test]
fn modules_install_false_blacklist_and_nothing() {
    let t = TestRoot::new(&[
        (
            "/etc/modprobe.d/usb.conf",
            "# only blacklisted\nblacklist usb_storage\n",
        ),
        (
            "/usr/lib/modprobe.d/fs.conf",
            "install cramfs /bin/true\ninstall hfs /sbin/modprobe --ignore-install hfs\n",
        ),
    ]);
    t.write(
        "/etc/modprobe.d/fs2.conf",
        "install freevxfs /bin/false\ninstall jffs2 /bin/false\ninstall udf /usr/bin/false\n",
    );
    let r = t.audit("KRN-02", krn02_modules);
    assert_eq!(
        located(&r),
        [
            ("/etc/modprobe.d/usb.conf:2".to_owned(), Severity::Low),
            ("/usr/lib/modprobe.d/fs.conf:2".to_owned(), Severity::Low),
            ("/etc/modprobe.d".to_owned(), Severity::Low),
        ],
        "{r:#?}"
    );
    assert_eq!(
        r.findings[0].references.ssg,
        ["kernel_module_usb-storage_disabled"]
    );
    assert_eq!(
        r.findings[2].references.ssg,
        ["kernel_module_hfsplus_disabled"]
    );
    // Nothing at all: usb-storage is a medium finding.
    let r = TestRoot::new(&[]).audit("KRN-02", krn02_modules);
    assert_eq!(r.findings[0].severity, Severity::Medium);
    assert_eq!(r.findings.len(), DEFAULT_DISABLED_MODULES.len());
}
