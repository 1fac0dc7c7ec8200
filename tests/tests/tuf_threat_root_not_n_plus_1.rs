//! Past client bug: accepting a new root whose version is not N+1 (a
//! served `N+1.root.json` carrying version N+2 was trusted, skipping the
//! intermediate root's key changes). TUF 1.0.34 §5.3.5: "The version number
//! of the trusted root metadata file (version N) MUST be less than or equal
//! to the version number of the new root metadata file (version N+1)" —
//! exactly N+1, as fetched by that name (§5.3.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

const S: &str = "root-version-skip";

#[test]
fn v3_served_as_2_root_json_is_refused() {
    let d = Device::for_scenario(S);
    let repo = repository(S, "state2");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(&err, TufError::VersionMismatch { role, expected: 2, got: 3 } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
}

#[test]
fn v3_without_v2_is_not_fetched() {
    let d = Device::for_scenario(S);
    let repo = repository(S, "state1");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    // 2.root.json is absent, so root stays at v1, whose timestamp key no
    // longer signs the timestamp.
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "timestamp"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
}
