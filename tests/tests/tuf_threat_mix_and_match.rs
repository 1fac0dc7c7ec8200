//! Threat: mix-and-match attacks (TUF 1.0.34 §1.5.2: "An attacker can trick
//! clients into using a combination of metadata that never existed together
//! on the repository at the same time"). Defended by the snapshot listing
//! the version of every targets role, checked on download (§5.6.4; §5.5.4
//! for the snapshot the timestamp lists), and by consistent snapshots
//! (§5.3.3 … §5.7.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, repository};

#[test]
fn targets_other_than_snapshot_lists_is_refused() {
    let d = Device::for_scenario("mix-and-match");
    let repo = repository("mix-and-match", ".");
    let before = d.role_bytes("targets");
    let err = d.download(&repo, "files/fw.bin").unwrap_err();
    assert!(
        matches!(&err, TufError::VersionMismatch { role, expected: 2, got: 1 } if role == "targets"),
        "{err:?}"
    );
    assert_eq!(before, None);
    assert_eq!(d.role_bytes("targets"), None);
    assert_eq!(d.stored_version("snapshot"), Some(2));
    assert!(!d.targets().join("files/fw.bin").exists());
}

#[test]
fn consistent_snapshot_gives_a_coherent_view() {
    let d = Device::for_scenario("consistent-snapshot");
    let repo = repository("consistent-snapshot", ".");
    assert_eq!(d.download(&repo, "files/hello.txt").unwrap().len(), 12);
    assert_eq!(d.download(&repo, "vendor/blob.bin").unwrap().len(), 13);
    assert_eq!(d.stored_version("targets"), Some(2));
    assert_eq!(d.stored_version("vendor"), Some(2));
}
