//! The whole verification of one role's bytes (TUF 1.0.34 §5.3.4–§5.3.5,
//! §5.4.2, §5.5.3, §5.6.3): parse, canonicalise `signed`, check signatures
//! and thresholds. The bytes are read as a new root and verified against a
//! fixed trusted root (the `basic-ed25519` reference fixture) and against
//! their own keys (self-signed), as timestamp / snapshot / targets verified
//! against the trusted root's keys for that role, as a delegated targets role
//! against its own delegations' keys, and through
//! `keys::verify_threshold` with every signature it carries.
#![no_main]

use dha_core::tuf::keys;
use dha_core::tuf::metadata::{Metadata, Root, Signed, Snapshot, Targets, Timestamp};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The trusted root: version 1 of the `basic-ed25519` reference repository.
static TRUSTED_ROOT: &[u8] =
    include_bytes!("../../tests/data/tuf/reference/basic-ed25519/client/root.json");

fn trusted() -> &'static Metadata<Root> {
    static ROOT: OnceLock<Metadata<Root>> = OnceLock::new();
    ROOT.get_or_init(|| {
        Metadata::<Root>::from_bytes("root", TRUSTED_ROOT).expect("the trusted root fixture parses")
    })
}

/// Checks role `role` of `m` with the keys and threshold `root` gives it.
fn verify_as<T: Signed>(m: &Metadata<T>, root: &Root, role: &str) {
    if let Some(rk) = root.role(role) {
        let _ = m.verify(role, &root.keys, &rk.keyids, rk.threshold);
    }
}

/// `keys::verify_threshold` with the key ids of every signature `m` carries,
/// a threshold of all of them, against `keys`.
fn verify_all_signatures<T: Signed>(m: &Metadata<T>, role: &str, keys: &BTreeMap<String, Value>) {
    let Ok(canonical) = m.canonical_signed() else {
        return;
    };
    let ids: Vec<String> = m.signatures.iter().map(|s| s.keyid.clone()).collect();
    let threshold = u64::try_from(ids.len()).unwrap_or(u64::MAX).max(1);
    let _ = keys::verify_threshold(role, &canonical, &m.signatures, keys, &ids, threshold);
    // A threshold of 0 is always refused, whatever the signatures.
    assert!(keys::verify_threshold(role, &canonical, &m.signatures, keys, &ids, 0).is_err());
}

fuzz_target!(|data: &[u8]| {
    let trusted = trusted();
    // 2026-11-29T00:00:00Z, the fixtures' clock.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_910_400);

    if let Ok(new_root) = Metadata::<Root>::from_bytes("root", data) {
        // §5.3.4: signed by a threshold of the trusted root's root keys.
        verify_as(&new_root, &trusted.signed, "root");
        // §5.3.5: and by a threshold of its own root keys.
        verify_as(&new_root, &new_root.signed, "root");
        let _ = new_root.is_expired_at(now);
        verify_all_signatures(&new_root, "root", &trusted.signed.keys);
        verify_all_signatures(&new_root, "root", &new_root.signed.keys);
    }
    if let Ok(m) = Metadata::<Timestamp>::from_bytes("timestamp", data) {
        verify_as(&m, &trusted.signed, "timestamp");
        verify_all_signatures(&m, "timestamp", &trusted.signed.keys);
        let _ = m.is_expired_at(now);
    }
    if let Ok(m) = Metadata::<Snapshot>::from_bytes("snapshot", data) {
        verify_as(&m, &trusted.signed, "snapshot");
        verify_all_signatures(&m, "snapshot", &trusted.signed.keys);
        let _ = m.is_expired_at(now);
    }
    if let Ok(m) = Metadata::<Targets>::from_bytes("targets", data) {
        verify_as(&m, &trusted.signed, "targets");
        verify_all_signatures(&m, "targets", &trusted.signed.keys);
        let _ = m.is_expired_at(now);
        // §5.6.3 for a delegated role: the delegating role's keys for it
        // (here the role's own delegations, so that the key types they
        // list are exercised).
        if let Some(d) = &m.signed.delegations {
            for r in d.roles.iter().take(4) {
                let _ = m.verify(&r.name, &d.keys, &r.keyids, r.threshold);
            }
            if let Some(s) = &d.succinct_roles {
                let _ = m.verify(&s.name_prefix, &d.keys, &s.keyids, s.threshold);
            }
            verify_all_signatures(&m, "targets", &d.keys);
        }
    }
});
