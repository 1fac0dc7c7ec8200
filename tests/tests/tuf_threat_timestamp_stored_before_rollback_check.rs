//! Past client bug: persisting a new timestamp (or snapshot) before its
//! rollback checks passed, so a replayed old file became the trusted one
//! and the next check compared against it. TUF 1.0.34 §5.4.5 / §5.5.7:
//! the new file becomes the trusted one only after the checks of §5.4.1 to
//! §5.4.4 (rollback: §5.4.3) have passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn replayed_timestamp_is_not_stored() {
    const S: &str = "timestamp-rollback";
    let d = Device::for_scenario(S);
    d.refresh(&repository(S, "state1")).unwrap();
    let trusted = d.role_bytes("timestamp").unwrap();
    let err = assert_rejected_unchanged(&d, || d.refresh(&repository(S, "state2")));
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.role_bytes("timestamp").unwrap(), trusted);
    // The replay is refused again: the trusted version did not go down.
    let err = assert_rejected_unchanged(&d, || d.refresh(&repository(S, "state2")));
    assert!(
        matches!(
            err,
            TufError::Rollback {
                trusted: 2,
                offered: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn timestamp_pointing_to_old_snapshot_is_not_stored() {
    const S: &str = "snapshot-rollback";
    let d = Device::for_scenario(S);
    d.refresh(&repository(S, "state1")).unwrap();
    let err = assert_rejected_unchanged(&d, || d.refresh(&repository(S, "state2")));
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "snapshot"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), Some(2));
}

#[test]
fn forged_timestamp_is_not_replaced_by_lower_one() {
    const S: &str = "timestamp-fast-forward-recovery";
    let d = Device::for_scenario(S);
    d.refresh(&repository(S, "state1")).unwrap();
    let err = assert_rejected_unchanged(&d, || d.refresh(&repository(S, "state2")));
    assert!(
        matches!(&err, TufError::Rollback { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), Some(1000));
}
