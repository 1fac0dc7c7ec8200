//! Past client bug: counting the same key (or the same signature) more than
//! once toward a threshold, so one compromised key met a threshold of two.
//! TUF 1.0.34 §4.2 / §5.6.3: a threshold of *distinct* keys must sign;
//! python-tuf rejects a duplicate signature as malformed, dha counts the
//! key once (both refuse the file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

#[test]
fn same_signature_twice_does_not_meet_threshold_two() {
    const S: &str = "threshold-2-of-3-one-key";
    let d = Device::for_scenario(S);
    let repo = repository(S, "state2");
    let err = d.download(&repo, "files/fw.bin").unwrap_err();
    assert!(
        matches!(&err, TufError::Threshold { role, .. } | TufError::Malformed { role, .. } if role == "targets"),
        "{err:?}"
    );
    assert_eq!(d.role_bytes("targets"), None);
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "files/fw.bin"));
    assert!(
        matches!(err, TufError::Threshold { .. } | TufError::Malformed { .. }),
        "{err:?}"
    );
}

/// `targets` lists the same key id twice for delegated role A, with
/// threshold 2, so one signature would count twice. Built here with
/// `dha_core::tuf::repo` (the staged targets edited), since the fixtures do
/// not have it. The client's parser, which every downloaded targets role
/// goes through (§5.6.7.2), refuses it, and so does the publish.
#[test]
fn same_key_listed_twice_is_refused() {
    use dha_core::tuf::metadata::{Metadata, Targets};
    use dha_tests::tuf_support::{BuiltRepo, reference_time};
    let mut r = BuiltRepo::new();
    r.delegate("targets", "A", &["a/*"], false);
    r.add("A", "a/x.bin", b"signed once");
    let staged = r.dir().join("staged/targets.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&staged).unwrap()).unwrap();
    let role = &mut doc["signed"]["delegations"]["roles"][0];
    let id = role["keyids"][0].clone();
    role["keyids"] = serde_json::json!([id.clone(), id]);
    role["threshold"] = serde_json::json!(2);
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    let err = Metadata::<Targets>::from_bytes("targets", &bytes).unwrap_err();
    assert!(
        matches!(&err, TufError::Malformed { role, .. } if role == "targets"),
        "{err:?}"
    );
    std::fs::write(&staged, &bytes).unwrap();
    assert!(r.repo.publish(reference_time()).is_err());
    assert!(!r.repo.metadata_dir().join("A.json").exists());
}
