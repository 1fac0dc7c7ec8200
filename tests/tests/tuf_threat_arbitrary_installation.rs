//! Threat: arbitrary installation (TUF 1.0.34 §1.5.2: "An attacker can
//! install anything they want on the client system"). Defended by the
//! signature thresholds of §5.3.4 (a new root signed by the old and the new
//! root's keys) and the target checks of §5.7.3 (length and hashes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn root_signed_only_by_new_key_is_refused() {
    let d = Device::for_scenario("root-rotation-bad");
    let repo = repository("root-rotation-bad", "state1");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
}

#[test]
fn root_signed_only_by_old_key_is_refused() {
    let d = Device::for_scenario("root-rotation-bad");
    let repo = repository("root-rotation-bad", "state2");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
    assert_eq!(d.stored_version("timestamp"), None);
}

#[test]
fn target_with_other_bytes_is_refused() {
    let d = Device::for_scenario("wrong-hash");
    let repo = repository("wrong-hash", ".");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "files/app.bin"));
    assert!(matches!(err, TufError::TargetHash { .. }), "{err:?}");
    assert!(!d.targets().join("files/app.bin").exists());
}

#[test]
fn target_shorter_than_listed_is_refused() {
    let d = Device::for_scenario("wrong-hash");
    let repo = repository("wrong-hash", ".");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "files/short.bin"));
    assert!(matches!(err, TufError::TargetLength { .. }), "{err:?}");
    assert!(!d.targets().join("files/short.bin").exists());
}

#[test]
fn positive_control_signed_target_installs() {
    let d = Device::for_scenario("basic-ed25519");
    let repo = repository("basic-ed25519", ".");
    assert_eq!(d.download(&repo, "files/hello.txt").unwrap().len(), 25);
}
