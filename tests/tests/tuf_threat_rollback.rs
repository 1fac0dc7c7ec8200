//! Threat: rollback attacks (TUF 1.0.34 §1.5.2: "An attacker presents a
//! software update system with files older than those the client has already
//! seen"), for every role, delegated too. Defended by the version checks
//! against the trusted metadata: timestamp §5.4.3.1, the snapshot version
//! the timestamp lists §5.4.3.2, and each targets role the snapshot lists
//! §5.5.5.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn timestamp_rollback_is_refused() {
    let d = Device::for_scenario("timestamp-rollback");
    d.refresh(&repository("timestamp-rollback", "state1"))
        .unwrap();
    let err = assert_rejected_unchanged(&d, || {
        d.refresh(&repository("timestamp-rollback", "state2"))
    });
    assert!(
        matches!(&err, TufError::Rollback { role, trusted: 2, offered: 1 } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), Some(2));
}

#[test]
fn snapshot_rollback_is_refused() {
    let d = Device::for_scenario("snapshot-rollback");
    d.refresh(&repository("snapshot-rollback", "state1"))
        .unwrap();
    let err =
        assert_rejected_unchanged(&d, || d.refresh(&repository("snapshot-rollback", "state2")));
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "snapshot"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), Some(2));
    assert_eq!(d.stored_version("snapshot"), Some(2));
}

#[test]
fn targets_rollback_is_refused() {
    const S: &str = "targets-rollback";
    let d = Device::for_scenario(S);
    d.download(&repository(S, "state1"), "files/fw.bin")
        .unwrap();
    let (snapshot, targets) = (d.role_bytes("snapshot"), d.role_bytes("targets"));
    let err = d
        .download(&repository(S, "state2"), "files/fw.bin")
        .unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "targets"),
        "{err:?}"
    );
    // The snapshot listing the old targets was not trusted.
    assert_eq!(snapshot, d.role_bytes("snapshot"));
    assert_eq!(targets, d.role_bytes("targets"));
    assert_eq!(d.stored_version("targets"), Some(2));
}

#[test]
fn delegated_rollback_is_refused() {
    const S: &str = "delegated-rollback";
    let d = Device::for_scenario(S);
    d.download(&repository(S, "state1"), "a/x.bin").unwrap();
    let (snapshot, a) = (d.role_bytes("snapshot"), d.role_bytes("A"));
    let err = d.download(&repository(S, "state2"), "a/x.bin").unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "A"),
        "{err:?}"
    );
    assert_eq!(snapshot, d.role_bytes("snapshot"));
    assert_eq!(a, d.role_bytes("A"));
    assert_eq!(d.stored_version("A"), Some(2));
}
