//! Threat: extraneous dependencies (TUF 1.0.34 §1.5.2: "An attacker can
//! cause clients to download or install software dependencies that are not
//! the intended dependencies"), here through a delegated role acting outside
//! the paths it is trusted for. Defended by the delegation search of
//! §5.6.7.2 (only delegations whose paths or path_hash_prefixes match the
//! target; a terminating delegation ends the search, §5.6.7.2.2; `*` does
//! not match `/`, §4.5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, repository};

const S: &str = "delegations-paths";

#[test]
fn role_listing_a_target_outside_its_paths_is_ignored() {
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    let err = d.lookup(&repo, "etc/evil.bin").unwrap_err();
    assert!(
        matches!(&err, TufError::TargetNotFound { target } if target == "etc/evil.bin"),
        "{err:?}"
    );
}

#[test]
fn role_after_a_terminating_delegation_is_not_visited() {
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    let err = d.lookup(&repo, "files/only-in-c.bin").unwrap_err();
    assert!(matches!(err, TufError::TargetNotFound { .. }), "{err:?}");
    assert!(!d.targets().join("files/only-in-c.bin").exists());
}

#[test]
fn positive_controls_in_their_paths_are_found() {
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    assert_eq!(d.download(&repo, "files/in-b.bin").unwrap().len(), 7);
    // `files/*` does not match `files/sub/in-c.bin`, so C is reached.
    assert_eq!(d.download(&repo, "files/sub/in-c.bin").unwrap().len(), 21);
    assert_eq!(d.download(&repo, "vendor/hashed.bin").unwrap().len(), 33);
}
