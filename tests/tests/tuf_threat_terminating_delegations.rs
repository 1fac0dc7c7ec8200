//! Past client bug: a terminating delegation below the top level ended only
//! its own parent's loop, so the search went on with a later sibling of an
//! ancestor, and a role the terminating one was meant to shadow supplied
//! the target. TUF 1.0.34 §5.6.7.2.2: if the delegation is terminating,
//! "jump to step §5.7" (stop searching) once its subtree has been searched.
//!
//! The repository, built here with `dha_core::tuf::repo` (the reference
//! fixture `delegations-paths` has the terminating role one level down):
//!
//! ```text
//! targets -> A (n/*, m/*) -> B (n/*) -> T (n/*, terminating) -> T2 (n/*)
//!                                     -> U (n/*)
//!         -> C (n/*, m/*)
//! ```
//!
//! T lists `n/in-t.bin`, T2 `n/in-t2.bin`, U `n/in-u.bin`, C `n/in-c.bin`
//! and `m/in-c.bin`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{BuiltRepo, Device, assert_rejected_unchanged};

fn build() -> BuiltRepo {
    let mut r = BuiltRepo::new();
    r.delegate("targets", "A", &["n/*", "m/*"], false);
    r.delegate("targets", "C", &["n/*", "m/*"], false);
    r.delegate("A", "B", &["n/*"], false);
    r.delegate("B", "T", &["n/*"], true);
    r.delegate("B", "U", &["n/*"], false);
    r.delegate("T", "T2", &["n/*"], false);
    r.add("T", "n/in-t.bin", b"in t");
    r.add("T2", "n/in-t2.bin", b"in t2");
    r.add("U", "n/in-u.bin", b"in u");
    r.add("C", "n/in-c.bin", b"in c");
    r.add("C", "m/in-c.bin", b"m in c");
    r.publish();
    r
}

fn not_found(d: &Device, r: &BuiltRepo, name: &str) {
    d.refresh(r.dir()).unwrap();
    // The first search loads A, B, T and T2; the second changes nothing.
    let _ = d.lookup(r.dir(), name);
    let err = assert_rejected_unchanged(d, || d.lookup(r.dir(), name));
    assert!(
        matches!(&err, TufError::TargetNotFound { target } if target == name),
        "{err:?}"
    );
}

#[test]
fn later_sibling_of_an_ancestor_is_not_visited() {
    let r = build();
    let d = r.device();
    not_found(&d, &r, "n/in-c.bin");
    // C was never loaded: the search did not reach it.
    assert_eq!(d.role_bytes("C"), None);
    assert_eq!(d.stored_version("T"), Some(1));
}

#[test]
fn later_sibling_of_the_terminating_role_is_not_visited() {
    let r = build();
    let d = r.device();
    not_found(&d, &r, "n/in-u.bin");
    assert_eq!(d.role_bytes("U"), None);
    assert_eq!(d.role_bytes("C"), None);
}

#[test]
fn terminating_role_and_its_subtree_are_searched() {
    let r = build();
    let d = r.device();
    let info = d.lookup(r.dir(), "n/in-t.bin").unwrap();
    assert_eq!(info.role(), "T");
    let info = d.lookup(r.dir(), "n/in-t2.bin").unwrap();
    assert_eq!(info.role(), "T2");
    assert_eq!(d.download(r.dir(), "n/in-t2.bin").unwrap(), b"in t2");
}

#[test]
fn terminating_role_not_trusted_for_the_path_does_not_stop_the_search() {
    let r = build();
    let d = r.device();
    let info = d.lookup(r.dir(), "m/in-c.bin").unwrap();
    assert_eq!(info.role(), "C");
    assert_eq!(d.role_bytes("B"), None);
}
