//! Threat: key compromise below the threshold (TUF 1.0.34 §1.5.2:
//! "Compromised keys should not allow an attacker to perform any of the
//! attacks … unless the attacker has compromised a threshold of keys").
//! Defended by the thresholds of §5.3.4, §5.4.2, §5.5.3, §5.6.3 and by key
//! rotation through root (§5.3.11).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn one_signature_of_two_required_is_refused() {
    const S: &str = "threshold-2-of-3-one-key";
    let d = Device::for_scenario(S);
    let repo = repository(S, "state1");
    let err = d.download(&repo, "files/fw.bin").unwrap_err();
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "targets"),
        "{err:?}"
    );
    assert_eq!(d.role_bytes("targets"), None);
    assert_eq!(d.stored_version("snapshot"), Some(1));
    // A second try changes nothing.
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "files/fw.bin"));
    assert!(matches!(err, TufError::Threshold { .. }), "{err:?}");
}

#[test]
fn positive_control_two_of_three() {
    let d = Device::for_scenario("threshold-2-of-3");
    let repo = repository("threshold-2-of-3", ".");
    assert_eq!(d.download(&repo, "files/fw.bin").unwrap().len(), 21);
}

#[test]
fn rotated_keys_recover() {
    let d = Device::for_scenario("root-rotation");
    let repo = repository("root-rotation", ".");
    assert_eq!(d.download(&repo, "files/fw.bin").unwrap().len(), 20);
    assert_eq!(d.stored_version("root"), Some(3));
}
