//! Past client bug: a delegation cycle (A delegates to B, B back to A) was
//! searched again and again until the cap on roles visited ran out, so a
//! role after the cycle was never reached, or without a cap the client
//! never stopped (TUF 1.0.34 §1.5.2 endless data). TUF 1.0.34 §5.6.7.1: a
//! role already visited is skipped ("If this role has been visited before,
//! then skip this role"), and the search visits at most a fixed number of
//! roles (§5.6.7, our limit 32).
//!
//! The reference fixture `delegation-cycle` has the cycle but nothing after
//! it, so a client that loops until the cap also ends with "target not
//! found". The repository built here puts a sibling C after the cycle:
//!
//! ```text
//! targets -> A (loop/*) -> B (loop/*) -> A (the same role: a cycle)
//!         -> C (loop/*)
//! ```
//!
//! C lists `loop/in-c.bin`. With the visited set the search is targets, A,
//! B, C: 4 roles, so C is reached with a cap of 4; without it the cap is
//! spent going round A and B.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{BuiltRepo, Device, assert_rejected_unchanged, repository};

fn build() -> BuiltRepo {
    let mut r = BuiltRepo::new();
    r.delegate("targets", "A", &["loop/*"], false);
    r.delegate("targets", "C", &["loop/*"], false);
    r.delegate("A", "B", &["loop/*"], false);
    // B delegates back to A, as targets does.
    r.delegate_existing("targets", "A", "B");
    r.add("C", "loop/in-c.bin", b"after the cycle");
    r.publish();
    // The published B, signed by the publish, does delegate back to A.
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.repo.metadata_dir().join("B.json")).unwrap())
            .unwrap();
    assert_eq!(b["signed"]["delegations"]["roles"][0]["name"], "A");
    r
}

#[test]
fn role_after_the_cycle_is_reached_within_a_tight_cap() {
    let r = build();
    let mut d = r.device();
    d.limits.max_delegations = 4;
    let info = d.lookup(r.dir(), "loop/in-c.bin").unwrap();
    assert_eq!(info.role(), "C");
    assert_eq!(
        d.download(r.dir(), "loop/in-c.bin").unwrap(),
        b"after the cycle"
    );
}

#[test]
fn role_after_the_cycle_is_reached_with_the_default_cap() {
    let r = build();
    let d = r.device();
    assert_eq!(d.lookup(r.dir(), "loop/in-c.bin").unwrap().role(), "C");
}

#[test]
fn cap_counts_each_role_once() {
    // Three roles (targets, A, B) fit a cap of 3; C is the fourth.
    let r = build();
    let mut d = r.device();
    d.limits.max_delegations = 3;
    let err = d.lookup(r.dir(), "loop/in-c.bin").unwrap_err();
    assert!(matches!(err, TufError::TargetNotFound { .. }), "{err:?}");
    assert_eq!(d.role_bytes("C"), None);
}

#[test]
fn absent_target_ends_the_search() {
    let r = build();
    let d = r.device();
    d.refresh(r.dir()).unwrap();
    let _ = d.lookup(r.dir(), "loop/missing.bin");
    let err = assert_rejected_unchanged(&d, || d.lookup(r.dir(), "loop/missing.bin"));
    assert!(matches!(err, TufError::TargetNotFound { .. }), "{err:?}");
}

#[test]
fn reference_cycle_fixture() {
    const S: &str = "delegation-cycle";
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    assert_eq!(d.download(&repo, "loop/in-b.bin").unwrap().len(), 5);
    let err = assert_rejected_unchanged(&d, || d.lookup(&repo, "loop/missing.bin"));
    assert!(matches!(err, TufError::TargetNotFound { .. }), "{err:?}");
}
