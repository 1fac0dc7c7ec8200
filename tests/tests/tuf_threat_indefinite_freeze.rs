//! Threat: indefinite freeze attacks (TUF 1.0.34 §1.5.2: "An attacker can
//! respond to all file download requests with the same outdated metadata
//! … so that clients never see that updates are available"). Defended by
//! expiry checks against the fixed update start time of §5.1: root
//! (§5.3.10), timestamp (§5.4.4), snapshot (§5.5.6), targets and delegated
//! targets (§5.6.6).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn expired_timestamp_is_refused() {
    let d = Device::for_scenario("expired-timestamp");
    let repo = repository("expired-timestamp", ".");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::Expired { role } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), None);
    assert_eq!(d.stored_version("snapshot"), None);
}

#[test]
fn expired_root_is_refused() {
    let d = Device::for_scenario("expired-root");
    let repo = repository("expired-root", ".");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::Expired { role } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
    assert_eq!(d.stored_version("timestamp"), None);
}

#[test]
fn expired_delegated_role_is_refused() {
    const S: &str = "delegated-metadata-checks";
    let d = Device::for_scenario(S);
    let repo = repository(S, "state4");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.lookup(&repo, "a/x.bin"));
    assert!(
        matches!(&err, TufError::Expired { role } if role == "A"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("A"), None);
}
