//! NET-01 and PRC-01 with a probe that answers what each test sets, against
//! the live root `/` (the checks read the probe only there), and real
//! executables in temporary directories (tests run as root, like CI).

use super::*;
use crate::allow::{AllowPolicy, AllowedPort, AllowedProcess};
use crate::audit::{Auditor, CheckFn, HostProbe};
use crate::clock::FixedClock;
use crate::config::Config;
use crate::live::{ProcessInfo, SocketOwner};
use crate::parse::proc_net::Protocol;
use crate::report::{CheckStatus, Report};
use crate::root::Root;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt as _, chown};
use std::path::{Path, PathBuf};

#[derive(Default)]
struct Fake {
    sockets: Option<Vec<ListeningSocket>>,
    procs: Option<Vec<ProcessInfo>>,
    firewall: Option<Result<FirewallRuleset, String>>,
    hashes: HashMap<u32, String>,
    hash_calls: std::sync::atomic::AtomicUsize,
}

impl HostProbe for Fake {
    fn hostname(&self) -> Option<String> {
        None
    }
    fn listening_sockets(&self) -> Option<Vec<ListeningSocket>> {
        self.sockets.clone()
    }
    fn processes(&self) -> Option<Vec<ProcessInfo>> {
        self.procs.clone()
    }
    fn executable_sha256(&self, pid: u32) -> Option<String> {
        self.hash_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hashes.get(&pid).cloned()
    }
    fn firewall(&self) -> Option<Result<FirewallRuleset, String>> {
        self.firewall.clone()
    }
}

fn run(fake: &Fake, allow: AllowPolicy, id: &'static str, check: CheckFn) -> Report {
    let cfg = Config {
        allow,
        ..Config::default()
    };
    let clock = FixedClock::from_unix_secs(crate::testing::NOW);
    Auditor::new(&cfg, &clock)
        .with_host(fake)
        .run_checks(&Root::open("/").unwrap(), &[(id, check)])
}

fn sock(protocol: Protocol, addr: &str, port: u16, exe: &str) -> ListeningSocket {
    ListeningSocket {
        protocol,
        address: addr.parse().unwrap(),
        port,
        inode: u64::from(port) + 1000,
        uid: 0,
        owners: vec![SocketOwner {
            pid: 4242,
            name: "svc".to_owned(),
            exe: Some(exe.to_owned()),
        }],
    }
}

fn ruleset(json: &str) -> Option<Result<FirewallRuleset, String>> {
    Some(Ok(FirewallRuleset {
        nft_json: json.to_owned(),
    }))
}

const DROP_INET: &str = r#"{"nftables": [
  {"metainfo": {"version": "1.0.9", "json_schema_version": 1}},
  {"table": {"family": "inet", "name": "filter", "handle": 1}},
  {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1,
             "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
  {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4,
            "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}},
                     {"accept": null}]}}
]}"#;

fn titles(r: &Report) -> Vec<(String, crate::Severity)> {
    r.findings
        .iter()
        .map(|f| (f.title.clone(), f.severity))
        .collect()
}

#[test]
fn an_image_root_is_not_applicable() {
    let dir = tempfile::tempdir().unwrap();
    let root = Root::open(dir.path()).unwrap();
    let cfg = Config::default();
    let clock = FixedClock::from_unix_secs(crate::testing::NOW);
    let fake = Fake::default();
    for (id, check) in [
        ("NET-01", net01_sockets as CheckFn),
        ("PRC-01", prc01_processes),
    ] {
        let r = Auditor::new(&cfg, &clock)
            .with_host(&fake)
            .run_checks(&root, &[(id, check)]);
        let c = r.checks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, CheckStatus::NotApplicable, "{id}");
        assert!(
            c.reason
                .as_deref()
                .unwrap()
                .contains("needs the live system")
        );
    }
}

#[test]
fn without_an_allow_list_loopback_is_inventory_and_the_rest_is_medium() {
    let fake = Fake {
        sockets: Some(vec![
            sock(Protocol::Tcp, "127.0.0.1", 631, "/usr/sbin/cupsd"),
            sock(Protocol::Tcp6, "::ffff:127.0.0.1", 632, "/usr/sbin/x"),
            sock(Protocol::Tcp, "0.0.0.0", 22, "/usr/sbin/sshd"),
            sock(Protocol::Udp6, "::", 5353, "/usr/sbin/avahi-daemon"),
        ]),
        firewall: ruleset(DROP_INET),
        ..Fake::default()
    };
    let r = run(&fake, AllowPolicy::default(), "NET-01", net01_sockets);
    let t = titles(&r);
    assert_eq!(t.len(), 4, "{t:#?}");
    assert_eq!(t[0].1, crate::Severity::Info);
    assert!(
        t[0].0
            .starts_with("tcp 127.0.0.1:631 listens on loopback only")
    );
    assert_eq!(t[1].1, crate::Severity::Info);
    assert_eq!(
        t[2],
        (
            "tcp 0.0.0.0:22 listens and is not on the allow-list (none configured)".to_owned(),
            crate::Severity::Medium
        )
    );
    assert!(t[3].0.starts_with("udp6 [::]:5353 listens"));
    let f = &r.findings[2];
    assert_eq!(f.location(), "/proc/net/tcp");
    let observed = f.evidence.observed.as_deref().unwrap();
    assert!(
        observed.contains("pid 4242 svc (\"/usr/sbin/sshd\")"),
        "{observed}"
    );
    assert!(f.references.ssg.is_empty());
    assert_eq!(r.findings[3].location(), "/proc/net/udp6");
}

#[test]
fn allow_list_entries_match_protocol_family_address_and_exe() {
    let allow = AllowPolicy {
        ports: vec![
            AllowedPort {
                protocol: "tcp".to_owned(),
                address: None,
                port: 22,
                exe: Some("/usr/sbin/sshd".to_owned()),
            },
            AllowedPort {
                protocol: "udp".to_owned(),
                address: Some("127.0.0.1".to_owned()),
                port: 53,
                exe: None,
            },
        ],
        ..AllowPolicy::default()
    };
    let fake = Fake {
        sockets: Some(vec![
            sock(Protocol::Tcp, "0.0.0.0", 22, "/usr/sbin/sshd"),
            sock(Protocol::Tcp6, "::", 22, "/usr/sbin/sshd"),
            // The right port, another program: not allowed.
            sock(Protocol::Tcp, "10.0.0.5", 22, "/tmp/fake-sshd"),
            // udp 53 on loopback, also through an IPv4-mapped address.
            sock(Protocol::Udp, "127.0.0.1", 53, "/usr/sbin/dnsmasq"),
            sock(Protocol::Udp6, "::ffff:127.0.0.1", 53, "/usr/sbin/dnsmasq"),
            // udp 53 elsewhere, and tcp 53: not allowed.
            sock(Protocol::Udp, "0.0.0.0", 53, "/usr/sbin/dnsmasq"),
            sock(Protocol::Tcp, "127.0.0.1", 53, "/usr/sbin/dnsmasq"),
        ]),
        firewall: ruleset(DROP_INET),
        ..Fake::default()
    };
    let r = run(&fake, allow, "NET-01", net01_sockets);
    let t: Vec<String> = titles(&r).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        t,
        [
            "tcp 10.0.0.5:22 listens and is not on the allow-list ([allow].ports)",
            "udp 0.0.0.0:53 listens and is not on the allow-list ([allow].ports)",
            "tcp 127.0.0.1:53 listens and is not on the allow-list ([allow].ports)",
        ]
    );
    // An owner-less socket cannot match an entry that names an executable.
    let mut orphan = sock(Protocol::Tcp, "0.0.0.0", 22, "");
    orphan.owners.clear();
    let fake = Fake {
        sockets: Some(vec![orphan]),
        firewall: ruleset(DROP_INET),
        ..Fake::default()
    };
    let r = run(
        &fake,
        AllowPolicy {
            ports: vec![AllowedPort {
                protocol: "tcp".to_owned(),
                address: None,
                port: 22,
                exe: Some("/usr/sbin/sshd".to_owned()),
            }],
            ..AllowPolicy::default()
        },
        "NET-01",
        net01_sockets,
    );
    assert_eq!(r.findings.len(), 1);
    assert!(
        r.findings[0]
            .evidence
            .observed
            .as_deref()
            .unwrap()
            .contains("no owning process found")
    );
}

fn firewall_titles(fw: Option<Result<FirewallRuleset, String>>, exposed: bool) -> Report {
    let s = if exposed {
        sock(Protocol::Tcp, "0.0.0.0", 22, "/usr/sbin/sshd")
    } else {
        sock(Protocol::Tcp, "127.0.0.1", 22, "/usr/sbin/sshd")
    };
    let fake = Fake {
        sockets: Some(vec![s]),
        firewall: fw,
        ..Fake::default()
    };
    let mut r = run(&fake, AllowPolicy::default(), "NET-01", net01_sockets);
    r.findings.retain(|f| f.location() == NFT_SOURCE);
    r
}

#[test]
fn no_nft_is_medium_when_sockets_are_exposed_and_low_otherwise() {
    let r = firewall_titles(None, true);
    assert_eq!(
        titles(&r),
        [(
            "no firewall ruleset could be read (nft not installed)".to_owned(),
            crate::Severity::Medium
        )]
    );
    assert_eq!(r.findings[0].references.ssg, [SSG_DEFAULT_DENY]);
    let r = firewall_titles(None, false);
    assert_eq!(r.findings[0].severity, crate::Severity::Low);
    let r = firewall_titles(Some(Err("nft: Operation not permitted".to_owned())), true);
    assert_eq!(r.findings[0].severity, crate::Severity::Low);
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("nft: Operation not permitted")
    );
}

#[test]
fn a_drop_policy_passes_and_an_accept_policy_is_reported_per_ip_version() {
    assert!(
        firewall_titles(ruleset(DROP_INET), true)
            .findings
            .is_empty()
    );
    let accept = DROP_INET.replace(r#""policy": "drop""#, r#""policy": "accept""#);
    let r = firewall_titles(ruleset(&accept), true);
    assert_eq!(
        r.findings[0].title,
        "the firewall accepts incoming IPv4 and IPv6 traffic by default (no default-deny input policy)"
    );
    assert_eq!(r.findings[0].severity, crate::Severity::Medium);
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("inet filter input: policy accept")
    );
    // A drop policy in an ip table covers IPv4 only.
    let ip_only = DROP_INET.replace(r#""family": "inet""#, r#""family": "ip""#);
    let r = firewall_titles(ruleset(&ip_only), true);
    assert!(
        r.findings[0].title.contains("incoming IPv6 traffic"),
        "{:?}",
        r.findings
    );
    // No input chain at all (an empty ruleset).
    let r = firewall_titles(ruleset(r#"{"nftables": [{"metainfo": {}}]}"#), true);
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("no base chain on the input hook in an inet, ip or ip6 table")
    );
    // An output chain with policy drop is not an input policy.
    let output = DROP_INET.replace(r#""hook": "input""#, r#""hook": "output""#);
    assert_eq!(firewall_titles(ruleset(&output), true).findings.len(), 1);
}

#[test]
fn an_unconditional_drop_as_last_rule_counts_and_a_conditional_one_does_not() {
    let with_last = |stmts: &str| {
        DROP_INET
            .replace(r#""policy": "drop""#, r#""policy": "accept""#)
            .replace(
                "]}}\n]}",
                &format!(
                    "]}}}},\n {{\"rule\": {{\"family\": \"inet\", \"table\": \"filter\", \
                     \"chain\": \"input\", \"handle\": 9, \"expr\": {stmts}}}}}\n]}}"
                ),
            )
    };
    let counted = with_last(r#"[{"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]"#);
    assert!(
        firewall_titles(ruleset(&counted), true).findings.is_empty(),
        "{counted}"
    );
    let reject = with_last(r#"[{"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]"#);
    assert!(firewall_titles(ruleset(&reject), true).findings.is_empty());
    let conditional = with_last(
        r#"[{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth0"}}, {"drop": null}]"#,
    );
    assert_eq!(
        firewall_titles(ruleset(&conditional), true).findings.len(),
        1
    );
}

/// `chain input { type filter hook input priority 0; policy drop; counter
/// accept }` as `nft -j list ruleset` prints it (libnftables-json(5)).
const COUNTER_ACCEPT: &str = r#"{"nftables": [
  {"metainfo": {"version": "1.0.9", "release_name": "Old Doc Yak #3", "json_schema_version": 1}},
  {"table": {"family": "inet", "name": "filter", "handle": 1}},
  {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1,
             "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
  {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 2,
            "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}
]}"#;

#[test]
fn an_unconditional_accept_opens_a_drop_policy_chain_whatever_follows() {
    let r = firewall_titles(ruleset(COUNTER_ACCEPT), true);
    assert_eq!(
        titles(&r),
        [(
            "the firewall accepts incoming IPv4 and IPv6 traffic by default (no default-deny \
             input policy)"
                .to_owned(),
            crate::Severity::Medium
        )]
    );
    assert_eq!(
        r.findings[0].evidence.observed.as_deref(),
        Some("inet filter input: policy drop, an unconditional rule accepts everything")
    );
    // A later unconditional drop is never reached.
    let then_drop = COUNTER_ACCEPT.replace(
        "]}}\n]}",
        "]}},\n {\"rule\": {\"family\": \"inet\", \"table\": \"filter\", \"chain\": \"input\", \
         \"handle\": 3, \"expr\": [{\"drop\": null}]}}\n]}",
    );
    assert_ne!(then_drop, COUNTER_ACCEPT);
    assert_eq!(firewall_titles(ruleset(&then_drop), true).findings.len(), 1);
    // A conditional accept (DROP_INET's ssh rule) keeps the drop policy.
    assert!(
        firewall_titles(ruleset(DROP_INET), true)
            .findings
            .is_empty()
    );
    // An unconditional drop before the accept wins.
    let drop_first = COUNTER_ACCEPT.replace(
        r#"[{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]"#,
        r#"[{"log": {"prefix": "in "}}, {"drop": null}]"#,
    );
    assert!(
        firewall_titles(ruleset(&drop_first), true)
            .findings
            .is_empty()
    );
}

#[test]
fn a_ruleset_that_is_not_libnftables_json_is_a_warning_and_a_low_finding() {
    for bad in ["not json", r#"{"rules": []}"#, "[1, 2]"] {
        let r = firewall_titles(ruleset(bad), true);
        assert_eq!(r.findings.len(), 1, "{bad}");
        assert_eq!(r.findings[0].severity, crate::Severity::Low);
        assert!(r.warnings.iter().any(|w| w.file == NFT_SOURCE), "{bad}");
    }
}

fn proc_of(pid: u32, exe: &Path, uid: u32) -> ProcessInfo {
    ProcessInfo {
        pid,
        parent: Some(1),
        name: exe.file_name().unwrap().to_string_lossy().into_owned(),
        exe: Some(exe.to_string_lossy().into_owned()),
        exe_deleted: false,
        uid: Some(uid),
        kernel_thread: false,
    }
}

/// An executable file `name` in `dir` with `mode`.
fn exe_in(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, b"#!/bin/sh\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A directory outside the temporary ones, root-owned 0755 (`/run` is a
/// root-only tmpfs; the tests run as root).
fn plain_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("dha-prc-")
        .tempdir_in("/run")
        .unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn prc(procs: Vec<ProcessInfo>, allow: AllowPolicy, hashes: &[(u32, &str)]) -> Report {
    let fake = Fake {
        procs: Some(procs),
        hashes: hashes.iter().map(|(p, h)| (*p, (*h).to_owned())).collect(),
        ..Fake::default()
    };
    run(&fake, allow, "PRC-01", prc01_processes)
}

#[test]
fn clean_processes_and_kernel_threads_give_no_finding() {
    let d = plain_dir();
    let good = exe_in(d.path(), "good", 0o755);
    let mut kthread = proc_of(2, Path::new("/x"), 0);
    kthread.exe = None;
    kthread.kernel_thread = true;
    let mut zombie = proc_of(3, Path::new("/x"), 0);
    zombie.exe = None;
    let r = prc(
        vec![proc_of(10, &good, 0), kthread, zombie],
        AllowPolicy::default(),
        &[],
    );
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let c = r.checks.iter().find(|c| c.id == "PRC-01").unwrap();
    assert_eq!(c.status, CheckStatus::Pass);
}

#[test]
fn temporary_world_writable_deleted_and_writable_executables_are_reported() {
    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let in_tmp = exe_in(tmp.path(), "dropper", 0o755);
    let d = plain_dir();
    let open_dir = d.path().join("open");
    fs::create_dir(&open_dir).unwrap();
    fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o777)).unwrap();
    let in_open = exe_in(&open_dir, "tool", 0o755);
    let users = exe_in(d.path(), "users-tool", 0o755);
    chown(&users, Some(1000), Some(1000)).unwrap();
    let others = exe_in(d.path(), "others-tool", 0o757);
    let mut deleted = proc_of(14, Path::new("/usr/sbin/updated-daemon"), 0);
    deleted.exe_deleted = true;
    let r = prc(
        vec![
            proc_of(10, &in_tmp, 1000),
            proc_of(11, &in_open, 1000),
            proc_of(12, &users, 0),
            proc_of(13, &users, 1000),
            deleted,
            proc_of(15, &others, 1000),
        ],
        AllowPolicy::default(),
        &[],
    );
    let by_exe = |exe: &Path| {
        r.findings
            .iter()
            .find(|f| f.title.starts_with(&format!("{:?}", exe.to_str().unwrap())))
            .unwrap_or_else(|| panic!("{exe:?} not in {:#?}", r.findings))
    };
    let f = by_exe(&in_tmp);
    assert_eq!(f.severity, crate::Severity::High);
    assert!(f.title.contains("runs from the temporary directory /tmp"));
    assert_eq!(f.location(), "/proc/10/exe");
    let f = by_exe(&in_open);
    assert_eq!(f.severity, crate::Severity::High);
    assert!(f.title.contains("world-writable directory"), "{}", f.title);
    assert!(f.title.contains("mode 0777"));
    // Writable by uid 1000, and run by root (pid 12) once: high, one finding.
    let f = by_exe(&users);
    assert_eq!(f.severity, crate::Severity::High);
    assert!(
        f.title.contains("(uid 1000, gid 1000, mode 0755)"),
        "{}",
        f.title
    );
    assert_eq!(
        f.evidence
            .observed
            .as_deref()
            .unwrap()
            .split(" run ")
            .next(),
        Some("pids 12, 13 (\"users-tool\")")
    );
    // Writable by anyone, run by a user: medium.
    assert_eq!(by_exe(&others).severity, crate::Severity::Medium);
    let f = by_exe(Path::new("/usr/sbin/updated-daemon"));
    assert_eq!(f.severity, crate::Severity::Medium);
    assert!(f.title.contains("was deleted or replaced"));
    assert!(
        f.evidence
            .observed
            .as_deref()
            .unwrap()
            .ends_with("(deleted)")
    );
    assert_eq!(r.findings.len(), 5);
}

#[test]
fn an_executable_in_an_anonymous_memory_file_is_named_so() {
    let mut p = proc_of(30, Path::new("/memfd:sealed-1234"), 0);
    p.exe_deleted = true;
    let r = prc(vec![p], AllowPolicy::default(), &[]);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(
        r.findings[0].title,
        "\"/memfd:sealed-1234\" runs from an anonymous memory file (memfd_create(2)), not from \
         a file on disk"
    );
    assert_eq!(r.findings[0].severity, crate::Severity::Medium);
}

#[test]
fn with_an_allow_list_unlisted_executables_and_wrong_hashes_are_reported() {
    let d = plain_dir();
    let listed = exe_in(d.path(), "listed", 0o755);
    let pinned = exe_in(d.path(), "pinned", 0o755);
    let unlisted = exe_in(d.path(), "unlisted", 0o755);
    let good_hash = "ab".repeat(32);
    let allow = AllowPolicy {
        processes: vec![
            AllowedProcess {
                exe: listed.to_string_lossy().into_owned(),
                sha256: None,
            },
            AllowedProcess {
                exe: pinned.to_string_lossy().into_owned(),
                sha256: Some(good_hash.clone()),
            },
        ],
        ..AllowPolicy::default()
    };
    let procs = || {
        vec![
            proc_of(20, &listed, 0),
            proc_of(21, &pinned, 0),
            proc_of(22, &unlisted, 0),
        ]
    };
    let r = prc(procs(), allow.clone(), &[(21, &good_hash.to_uppercase())]);
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    assert!(
        r.findings[0]
            .title
            .ends_with("is not on the allow-list ([allow].processes)")
    );
    assert_eq!(r.findings[0].severity, crate::Severity::Medium);
    let bad = "cd".repeat(32);
    let r = prc(procs(), allow.clone(), &[(21, &bad)]);
    let f = r
        .findings
        .iter()
        .find(|f| f.location() == "/proc/21/exe")
        .unwrap();
    assert_eq!(f.severity, crate::Severity::High);
    assert!(
        f.title
            .contains(&format!("pinned {good_hash}, running {bad}"))
    );
    // The image cannot be hashed: a warning, no guess.
    let r = prc(procs(), allow, &[]);
    assert_eq!(r.findings.len(), 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("could not be hashed"))
    );
}

#[test]
fn many_processes_of_one_executable_are_one_finding_with_bounded_pids() {
    let tmp = tempfile::tempdir_in("/dev/shm").unwrap();
    let exe = exe_in(tmp.path(), "worker", 0o755);
    let procs: Vec<ProcessInfo> = (100..140).map(|p| proc_of(p, &exe, 1000)).collect();
    let r = prc(procs, AllowPolicy::default(), &[]);
    assert_eq!(r.findings.len(), 1);
    let observed = r.findings[0].evidence.observed.as_deref().unwrap();
    assert!(
        observed.starts_with("pids 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115 and 24 more (\"worker\") run"),
        "{observed}"
    );
    assert!(r.findings[0].title.contains("/dev/shm"));
}

#[test]
fn every_process_of_a_pinned_executable_is_compared() {
    let d = plain_dir();
    let pinned = exe_in(d.path(), "pinned", 0o755);
    let good = "ab".repeat(32);
    let bad = "cd".repeat(32);
    let allow = AllowPolicy {
        processes: vec![AllowedProcess {
            exe: pinned.to_string_lossy().into_owned(),
            sha256: Some(good.clone()),
        }],
        ..AllowPolicy::default()
    };
    // Pids above the kernel's PID_MAX_LIMIT (2^22) never exist: no
    // /proc/PID/exe to identify them by, so each is hashed on its own (the
    // second one, say, in another mount namespace).
    let (a, b) = (4_200_001, 4_200_002);
    let r = prc(
        vec![proc_of(a, &pinned, 0), proc_of(b, &pinned, 0)],
        allow,
        &[(a, &good), (b, &bad)],
    );
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    let f = &r.findings[0];
    assert_eq!(f.severity, crate::Severity::High);
    assert!(
        f.title
            .contains(&format!("pinned {good}, running {bad} in pid {b})")),
        "{}",
        f.title
    );
    assert_eq!(f.location(), format!("/proc/{b}/exe"));
}

#[test]
fn one_binary_run_by_several_processes_is_hashed_once() {
    let d = plain_dir();
    let exe = d.path().join("sleeper");
    fs::copy("/bin/sleep", &exe).unwrap();
    let mut kids: Vec<std::process::Child> = (0..3)
        .map(|_| std::process::Command::new(&exe).arg("60").spawn().unwrap())
        .collect();
    let good = "ab".repeat(32);
    let fake = Fake {
        procs: Some(kids.iter().map(|k| proc_of(k.id(), &exe, 0)).collect()),
        hashes: kids.iter().map(|k| (k.id(), good.clone())).collect(),
        ..Fake::default()
    };
    let allow = AllowPolicy {
        processes: vec![AllowedProcess {
            exe: exe.to_string_lossy().into_owned(),
            sha256: Some(good.clone()),
        }],
        ..AllowPolicy::default()
    };
    let r = run(&fake, allow, "PRC-01", prc01_processes);
    for k in &mut kids {
        let _ = k.kill();
        let _ = k.wait();
    }
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(
        fake.hash_calls.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn an_ancestor_directory_another_user_may_change_is_reported() {
    let d = plain_dir();
    // d/user (uid 1000) / bin (root 0755) / tool (root 0755)
    let user = d.path().join("user");
    let bin = user.join("bin");
    fs::create_dir_all(&bin).unwrap();
    chown(&user, Some(1000), Some(1000)).unwrap();
    let tool = exe_in(&bin, "tool", 0o755);
    // d/grp (root:1000 0775) / bin / tool
    let grp = d.path().join("grp");
    let gbin = grp.join("bin");
    fs::create_dir_all(&gbin).unwrap();
    chown(&grp, Some(0), Some(1000)).unwrap();
    fs::set_permissions(&grp, fs::Permissions::from_mode(0o775)).unwrap();
    let gtool = exe_in(&gbin, "gtool", 0o755);
    // d/open (1777, sticky) / bin / ok: root's own subdirectory is safe.
    let sticky = d.path().join("sticky");
    let sbin = sticky.join("bin");
    fs::create_dir_all(&sbin).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
    let ok = exe_in(&sbin, "ok", 0o755);
    // d/wide (0777, not sticky) / bin / wide
    let wide = d.path().join("wide");
    let wbin = wide.join("bin");
    fs::create_dir_all(&wbin).unwrap();
    fs::set_permissions(&wide, fs::Permissions::from_mode(0o777)).unwrap();
    let wtool = exe_in(&wbin, "wtool", 0o755);
    let r = prc(
        vec![
            proc_of(10, &tool, 0),
            proc_of(11, &gtool, 1000),
            proc_of(12, &ok, 0),
            proc_of(13, &wtool, 1000),
        ],
        AllowPolicy::default(),
        &[],
    );
    let by_exe = |exe: &Path| {
        r.findings
            .iter()
            .find(|f| f.title.starts_with(&format!("{:?}", exe.to_str().unwrap())))
    };
    let f = by_exe(&tool).unwrap();
    assert_eq!(f.severity, crate::Severity::High);
    assert!(
        f.title.contains(&format!(
            "lies under {}, which a user other than root may change (uid 1000, gid 1000, mode \
             0755)",
            user.display()
        )),
        "{}",
        f.title
    );
    let f = by_exe(&gtool).unwrap();
    assert_eq!(f.severity, crate::Severity::Medium);
    assert!(
        f.title.contains("(uid 0, gid 1000, mode 0775)"),
        "{}",
        f.title
    );
    assert!(by_exe(&ok).is_none(), "{:#?}", r.findings);
    let f = by_exe(&wtool).unwrap();
    assert!(
        f.title.contains(&format!(
            "world-writable directory {} (mode 0777)",
            wide.display()
        )),
        "{}",
        f.title
    );
    assert_eq!(r.findings.len(), 3);
}
