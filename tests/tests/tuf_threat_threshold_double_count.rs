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

/// Root version 2 lists its root key under two key ids (the key object
/// copied under a second id) with threshold 2, and carries the one key's
/// signature under both ids. Each key counts once toward a threshold
/// whatever id names it (TUF 1.0.34 §4.2 "a threshold of distinct keys";
/// §5.3.5: the new root must be signed by its own threshold), so the
/// updater refuses the rotation and keeps root 1. With threshold 1 the
/// same document is accepted, so the refusal is the double count's.
#[test]
fn one_key_under_two_key_ids_counts_once() {
    use dha_core::tuf::cjson::canonicalize;
    use dha_core::tuf::keys::PrivateKey;
    use dha_tests::tuf_support::BuiltRepo;
    use serde_json::{Value, json};

    /// `2.root.json` of `r`: root 1 with version 2, the root key also
    /// listed as `alias`, root keyids `[id, alias]` with `threshold`,
    /// signed once by the root key and the same signature under `alias`.
    fn alias_root(r: &BuiltRepo, threshold: u64) -> Vec<u8> {
        let meta = r.repo.metadata_dir();
        let v1: Value =
            serde_json::from_slice(&std::fs::read(meta.join("1.root.json")).unwrap()).unwrap();
        let mut signed = v1["signed"].clone();
        let id = signed["roles"]["root"]["keyids"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let alias = "a".repeat(64);
        let key = signed["keys"][&id].clone();
        signed["keys"][&alias] = key;
        signed["roles"]["root"] = json!({"keyids": [id, alias], "threshold": threshold});
        signed["version"] = json!(2);
        let pem = std::fs::read_to_string(r.dir().join("keys/root-1.pem")).unwrap();
        let signer = PrivateKey::from_pkcs8_pem(&pem, "ed25519", "ed25519").unwrap();
        assert_eq!(signer.public_key().listed_id(), id);
        let sig = signer.sign(&canonicalize(&signed).unwrap()).unwrap();
        let doc = json!({
            "signed": signed,
            "signatures": [
                {"keyid": id, "sig": sig.sig},
                {"keyid": alias, "sig": sig.sig},
            ],
        });
        serde_json::to_vec_pretty(&doc).unwrap()
    }

    let mut r = BuiltRepo::new();
    r.publish();
    let d = r.device();
    let v2 = r.repo.metadata_dir().join("2.root.json");
    std::fs::write(&v2, alias_root(&r, 2)).unwrap();
    let err = assert_rejected_unchanged(&d, || d.refresh(r.dir()));
    assert!(
        matches!(&err, TufError::Threshold { role, valid: 1, threshold: 2 } if role == "root"),
        "{err:?}"
    );
    assert_eq!(d.stored_version("root"), Some(1));

    // The control: the same aliasing with threshold 1 is a valid root 2.
    std::fs::write(&v2, alias_root(&r, 1)).unwrap();
    let _ = d.refresh(r.dir());
    assert_eq!(d.stored_version("root"), Some(2));
}
