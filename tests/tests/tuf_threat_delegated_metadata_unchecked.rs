//! Past client bug: checking the hash, length and expiry of top-level
//! metadata but not of delegated targets metadata. TUF 1.0.34 §5.6.2 (hashes
//! and length the snapshot lists), §5.6.4 (version) and §5.6.6 (expiry)
//! apply to every targets role loaded by the search of §5.6.7.2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

const S: &str = "delegated-metadata-checks";

fn refused(state: &str) -> TufError {
    let d = Device::for_scenario(S);
    let repo = repository(S, state);
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.lookup(&repo, "a/x.bin"));
    assert_eq!(d.role_bytes("A"), None);
    assert!(!d.targets().join("a/x.bin").exists());
    err
}

#[test]
fn positive_control() {
    let d = Device::for_scenario(S);
    assert_eq!(
        d.download(&repository(S, "state1"), "a/x.bin")
            .unwrap()
            .len(),
        11
    );
}

#[test]
fn wrong_hash_is_refused() {
    let err = refused("state2");
    assert!(
        matches!(&err, TufError::MetadataHash { role, .. } if role == "A"),
        "{err:?}"
    );
}

#[test]
fn wrong_length_is_refused() {
    let err = refused("state3");
    assert!(
        matches!(&err, TufError::MetadataLength { role, .. } if role == "A"),
        "{err:?}"
    );
}

#[test]
fn expired_is_refused() {
    let err = refused("state4");
    assert!(
        matches!(&err, TufError::Expired { role } if role == "A"),
        "{err:?}"
    );
}
