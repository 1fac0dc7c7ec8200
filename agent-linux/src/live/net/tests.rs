//! The live probe against this machine: sockets, processes and files the
//! tests open themselves, compared with what the kernel and df(1) say.
//! Tests run as root (CI: a fresh Debian VM).

use super::*;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt as _;

fn current_exe() -> String {
    std::env::current_exe()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_tcp_listener_of_this_test_is_found_with_this_process_as_owner() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sockets = listening_sockets().unwrap();
    let s = sockets
        .iter()
        .find(|s| s.protocol == Protocol::Tcp && s.port == port)
        .unwrap_or_else(|| panic!("port {port} not among {sockets:#?}"));
    assert_eq!(s.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(s.inode, 0);
    let me = s
        .owners
        .iter()
        .find(|o| o.pid == std::process::id())
        .unwrap_or_else(|| panic!("this process is not an owner: {s:#?}"));
    assert_eq!(me.exe.as_deref(), Some(current_exe().as_str()));
    assert!(!me.name.is_empty());
    drop(listener);
    let after = listening_sockets().unwrap();
    assert!(
        !after
            .iter()
            .any(|x| x.inode == s.inode && x.protocol == Protocol::Tcp),
        "still listed after close"
    );
}

#[test]
fn a_bound_udp_socket_is_listed_and_an_ipv6_listener_too() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let sockets = listening_sockets().unwrap();
    let s = sockets
        .iter()
        .find(|s| s.protocol == Protocol::Udp && s.port == port)
        .unwrap();
    assert!(s.owners.iter().any(|o| o.pid == std::process::id()));
    // IPv6 may be disabled on a machine; test it only where it binds.
    if let Ok(l6) = TcpListener::bind("[::1]:0") {
        let port6 = l6.local_addr().unwrap().port();
        let sockets = listening_sockets().unwrap();
        let s6 = sockets
            .iter()
            .find(|s| s.protocol == Protocol::Tcp6 && s.port == port6)
            .unwrap();
        assert_eq!(s6.address, "::1".parse::<IpAddr>().unwrap());
    }
}

#[test]
fn the_process_table_holds_this_process_with_its_executable() {
    let procs = processes().unwrap();
    let me = procs.iter().find(|p| p.pid == std::process::id()).unwrap();
    assert_eq!(me.exe.as_deref(), Some(current_exe().as_str()));
    assert!(!me.exe_deleted);
    assert!(!me.kernel_thread);
    assert_eq!(me.uid, Some(nix::unistd::getuid().as_raw()));
    assert_eq!(me.parent, Some(std::os::unix::process::parent_id()));
    // Threads of this test binary (the harness runs tests on threads) are
    // not processes of their own.
    assert_eq!(
        procs
            .iter()
            .filter(|p| p.exe.as_deref() == Some(current_exe().as_str()) && p.parent == me.parent)
            .count(),
        1
    );
    // kthreadd (pid 2) on a machine with a kernel of its own (not a container).
    if fs::read_to_string("/proc/2/comm").is_ok_and(|c| c.trim() == "kthreadd") {
        let k = procs.iter().find(|p| p.pid == 2).unwrap();
        assert!(k.kernel_thread);
        assert_eq!(k.exe, None);
    }
    assert!(procs.windows(2).all(|w| w[0].pid < w[1].pid));
}

#[test]
fn a_process_whose_executable_was_deleted_is_marked() {
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    let copy = dir.path().join("dha-sleep-copy");
    fs::copy("/bin/sleep", &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = Command::new(&copy).arg("60").spawn().unwrap();
    fs::remove_file(&copy).unwrap();
    let procs = processes().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let p = procs.iter().find(|p| p.pid == child.id()).unwrap();
    assert!(p.exe_deleted, "{p:?}");
    assert_eq!(p.exe.as_deref(), copy.to_str());
}

#[test]
fn the_executable_hash_is_the_hash_of_the_file() {
    let want = sha256_hex(&fs::read(std::env::current_exe().unwrap()).unwrap());
    assert_eq!(executable_sha256(std::process::id()), Some(want));
    assert_eq!(executable_sha256(u32::MAX), None);
}

#[test]
fn hashing_stops_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    fs::write(&f, b"abcd").unwrap();
    assert_eq!(sha256_file(&f, 4), Some(sha256_hex(b"abcd")));
    assert_eq!(sha256_file(&f, 3), None);
}

#[test]
fn fs_usage_agrees_with_df() {
    let u = fs_usage(Path::new("/tmp")).unwrap();
    let out = Command::new("df")
        .args(["-B1", "--output=size,avail", "/tmp"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let nums: Vec<u64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(u.total_bytes, nums[0]);
    // Other processes write meanwhile: within 1 % of the size.
    assert!(
        u.available_bytes.abs_diff(nums[1]) <= nums[0] / 100,
        "{u:?} {nums:?}"
    );
    assert!(u.used_percent() <= 100);
    assert_eq!(fs_usage(Path::new("/no/such/dir")), None);
}

#[test]
fn the_firewall_is_none_without_nft_and_read_with_it() {
    match find_program("nft") {
        None => assert_eq!(firewall(), None),
        Some(_) => match firewall().unwrap() {
            Ok(r) => assert!(r.nft_json.trim_start().starts_with('{'), "{r:?}"),
            Err(e) => panic!("nft is installed but failed: {e}"),
        },
    }
}

/// A fake `nft` (a shell script), after RAUC's fake boot-loader tools.
fn fake_nft(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("nft");
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn a_fake_nft_is_run_with_its_output_kept_and_its_failures_named() {
    let dir = tempfile::tempdir().unwrap();
    let ok = fake_nft(
        dir.path(),
        r#"[ "$*" = "-j list ruleset" ] || exit 9; echo '{"nftables": []}'"#,
    );
    assert_eq!(
        run_nft(&ok, NFT_TIMEOUT).unwrap().nft_json.trim(),
        r#"{"nftables": []}"#
    );
    let failing = fake_nft(dir.path(), "echo 'Operation not permitted' >&2; exit 1");
    let e = run_nft(&failing, NFT_TIMEOUT).unwrap_err();
    assert!(e.contains("Operation not permitted"), "{e}");
    let hanging = fake_nft(dir.path(), "exec sleep 30");
    let e = run_nft(&hanging, Duration::from_millis(200)).unwrap_err();
    assert!(e.contains("no answer"), "{e}");
    // Larger than a pipe's buffer: read while nft runs, never blocking it.
    let big = fake_nft(dir.path(), "head -c 1000000 /dev/zero | tr '\\0' ' '");
    assert_eq!(
        run_nft(&big, NFT_TIMEOUT).unwrap().nft_json.len(),
        1_000_000
    );
}

#[test]
fn socket_links_are_parsed() {
    assert_eq!(socket_inode(Path::new("socket:[12345]")), Some(12345));
    assert_eq!(socket_inode(Path::new("pipe:[12345]")), None);
    assert_eq!(socket_inode(Path::new("socket:[x]")), None);
    assert_eq!(socket_inode(Path::new("/dev/null")), None);
}
