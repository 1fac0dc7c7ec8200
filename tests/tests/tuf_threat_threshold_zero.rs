//! Past client bug: accepting a role threshold of 0, which lets metadata
//! with no valid signature at all be trusted. TUF 1.0.34 §4.3: "threshold
//! … MUST be at least 1"; checked on the new root of §5.3.4.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn root_setting_targets_threshold_zero_is_refused() {
    const S: &str = "threshold-zero";
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    let err = assert_rejected_unchanged(&d, || d.refresh(&repo));
    assert!(
        matches!(
            err,
            TufError::InvalidThreshold { .. }
                | TufError::Malformed { .. }
                | TufError::Threshold { .. }
        ),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));
    assert_eq!(d.stored_version("timestamp"), None);
}
