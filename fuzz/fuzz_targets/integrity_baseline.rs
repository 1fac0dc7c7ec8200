//! The integrity baseline reader on arbitrary bytes: the whole file
//! structure (magic, version, header, seal trailer) and every record through
//! `Baseline::decode_unverified`, which skips only the cryptographic check;
//! what decodes must re-encode to the same bytes (the format has one
//! encoding for each baseline). The same bytes also go through the sealed
//! reader with a fixed HMAC key, which must refuse anything it did not seal.
#![no_main]

use dha_core::integrity::baseline::Baseline;
use dha_core::integrity::seal::{SealKey, SealKind};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn key() -> &'static SealKey {
    static KEY: OnceLock<SealKey> = OnceLock::new();
    KEY.get_or_init(|| SealKey::generate(SealKind::HmacSha256).expect("random"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok((baseline, seal)) = Baseline::decode_unverified(data) {
        let body = baseline.encode().expect("a decoded baseline encodes");
        assert_eq!(
            data.get(..body.len()),
            Some(body.as_slice()),
            "not the one encoding"
        );
        assert!(seal.bytes.len() == 32 || seal.bytes.len() == 64);
        for r in baseline.records.iter().take(16) {
            assert!(baseline.get(&r.path).is_some());
        }
    }
    // A random key's seal cannot be forged: the sealed reader refuses it.
    let verify = key().public();
    assert!(Baseline::from_sealed_bytes(data, &verify, Path::new("fuzz")).is_err());
});
