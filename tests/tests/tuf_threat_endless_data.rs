//! Threat: endless data (TUF 1.0.34 §1.5.2: "An attacker can respond to a
//! file download request with an endless stream of data, causing harm to
//! clients"). Defended by the upper bound on the timestamp's length
//! (§5.4.1, our limit 16,384 bytes), the listed target length (§5.7.2) and
//! the cap on delegations visited in one search (§5.6.7).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn oversized_timestamp_is_refused() {
    let mut d = Device::for_scenario("endless-data");
    d.limits.max_timestamp_bytes = 16_384;
    let repo = repository("endless-data", "state1");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::MetadataTooLarge { role, limit: 16_384 } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("timestamp"), None);
}

#[test]
fn target_longer_than_listed_is_refused() {
    let d = Device::for_scenario("endless-data");
    let repo = repository("endless-data", "state2");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "files/big.bin"));
    assert!(
        matches!(
            err,
            TufError::TargetTooLong { .. } | TufError::TargetLength { .. }
        ),
        "{err:?}"
    );
    assert!(!d.targets().join("files/big.bin").exists());
}

#[test]
fn delegation_chain_beyond_the_cap_is_not_searched() {
    let mut d = Device::for_scenario("delegation-depth");
    d.limits.max_delegations = 32;
    let repo = repository("delegation-depth", ".");
    assert_eq!(d.download(&repo, "deep/shallow.bin").unwrap().len(), 12);
    let err = d.lookup(&repo, "deep/bottom.bin").unwrap_err();
    assert!(matches!(err, TufError::TargetNotFound { .. }), "{err:?}");
}
