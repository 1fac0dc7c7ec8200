//! Threat: fast-forward attacks (TUF 1.0.34 §1.5.2: "An attacker can
//! arbitrarily increase the version numbers of project metadata files in the
//! snapshot metadata well beyond the current value, thus tricking a software
//! update system into thinking any subsequent updates are trying to
//! rollback the package to a previous, out-of-date version"). Defended by
//! root versions N+1 only (§5.3.3, §5.3.5) and, after a forged timestamp
//! was trusted, by the recovery of §5.3.11 (a rotated timestamp key
//! deletes the trusted timestamp and snapshot).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn root_version_jump_is_refused() {
    let d = Device::for_scenario("root-version-skip");
    let repo = repository("root-version-skip", "state2");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::VersionMismatch { role, .. } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
}

#[test]
fn missing_intermediate_root_keeps_v1() {
    let d = Device::for_scenario("root-version-skip");
    let repo = repository("root-version-skip", "state1");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
    assert_eq!(d.stored_version("timestamp"), None);
}

#[test]
fn forged_timestamp_then_recovery_by_key_rotation() {
    const S: &str = "timestamp-fast-forward-recovery";
    let d = Device::for_scenario(S);
    d.refresh(&repository(S, "state1")).unwrap();
    assert_eq!(d.stored_version("timestamp"), Some(1000));
    let err = assert_rejected_unchanged(&d, || d.refresh(&repository(S, "state2")));
    assert!(
        matches!(&err, TufError::Rollback { role, trusted: 1000, .. } if role == "timestamp"),
        "{err:?}"
    );
    d.download(&repository(S, "state3"), "files/fw.bin")
        .unwrap();
    assert_eq!(d.stored_version("root"), Some(2));
    assert_eq!(d.stored_version("timestamp"), Some(2));
    assert_eq!(d.stored_version("snapshot"), Some(2));
}
