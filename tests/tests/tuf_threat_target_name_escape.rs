//! Past client bug: writing a target to its name joined to the download
//! directory, so `../../etc/passwd` listed in signed metadata overwrote a
//! file outside it. TUF 1.0.34 §5.7 treats the target path as a
//! path-relative URL, not a file path; dha refuses such a name before
//! fetching anything (issue 3 threat list).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

const S: &str = "target-path-escape";

#[test]
fn dot_dot_name_is_refused_and_nothing_is_written() {
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "../../etc/passwd"));
    assert!(matches!(err, TufError::UnsafeName { .. }), "{err:?}");
    assert!(d.outside_files().is_empty(), "{:?}", d.outside_files());
    assert_eq!(std::fs::read_dir(d.targets()).unwrap().count(), 0);
}

#[test]
fn positive_control() {
    let d = Device::for_scenario(S);
    let repo = repository(S, ".");
    assert_eq!(d.download(&repo, "files/ok.txt").unwrap().len(), 5);
    assert!(d.outside_files().is_empty());
}
