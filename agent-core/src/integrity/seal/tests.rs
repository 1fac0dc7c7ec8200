use super::*;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn both_kinds_sign_and_verify_and_refuse_altered_messages() {
    for kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let key = SealKey::generate(kind).unwrap();
        let seal = key.sign(b"baseline bytes");
        assert_eq!(seal.kind, kind);
        assert_eq!(seal.bytes.len(), kind.seal_len());
        assert_eq!(seal.key_id, key.key_id());
        key.public().verify(b"baseline bytes", &seal).unwrap();
        assert_eq!(
            key.public().verify(b"baseline bytez", &seal),
            Err(SealError::Invalid)
        );
        let mut bad = seal.clone();
        bad.bytes[0] ^= 1;
        assert_eq!(key.verify(b"baseline bytes", &bad), Err(SealError::Invalid));
        bad.bytes.truncate(10);
        assert_eq!(key.verify(b"baseline bytes", &bad), Err(SealError::Invalid));
    }
}

#[test]
fn another_key_of_either_kind_is_named_as_such() {
    let ed = SealKey::generate(SealKind::Ed25519).unwrap();
    let ed2 = SealKey::generate(SealKind::Ed25519).unwrap();
    let hm = SealKey::generate(SealKind::HmacSha256).unwrap();
    let hm2 = SealKey::generate(SealKind::HmacSha256).unwrap();
    assert_ne!(ed.key_id(), ed2.key_id());
    assert_ne!(hm.key_id(), hm2.key_id());
    for (signer, verifier) in [(&ed, &ed2), (&ed, &hm), (&hm, &hm2), (&hm, &ed)] {
        let seal = signer.sign(b"m");
        let err = verifier.public().verify(b"m", &seal).unwrap_err();
        assert!(matches!(err, SealError::OtherKey { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("sealed with another key (key id "),
            "{text}"
        );
        assert!(text.contains(&signer.key_id().to_string()), "{text}");
    }
}

#[test]
fn key_files_round_trip_with_mode_0600_and_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let key = SealKey::generate(kind).unwrap();
        let path = dir.path().join(format!("{kind}.key"));
        key.write(&path).unwrap();
        assert_eq!(mode(&path), 0o600, "{kind}");
        let again = SealKey::load(&path).unwrap();
        assert_eq!(again.key_id(), key.key_id());
        let seal = again.sign(b"x");
        key.verify(b"x", &seal).unwrap();
        // VerifyKey::load accepts the private (or HMAC) key file too.
        let vk = VerifyKey::load(&path).unwrap();
        vk.verify(b"x", &seal).unwrap();
        // A second write does not replace the key.
        let other = SealKey::generate(kind).unwrap();
        let err = other.write(&path).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(SealKey::load(&path).unwrap().key_id(), key.key_id());
    }
}

#[test]
fn the_hmac_file_format_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.key");
    let raw = [0xabu8; 32];
    fs::write(
        &path,
        format!("dha-hmac-sha256-key v1\n{}\n", hex(&raw).to_uppercase()),
    )
    .unwrap();
    let key = SealKey::load(&path).unwrap();
    assert_eq!(key.kind(), SealKind::HmacSha256);
    let out = dir.path().join("copy.key");
    key.write(&out).unwrap();
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        format!("dha-hmac-sha256-key v1\n{}\n", hex(&raw))
    );
    // The tag is plain HMAC-SHA-256 (RFC 2104) with that key.
    let seal = key.sign(b"msg");
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw);
    assert_eq!(seal.bytes, ring::hmac::sign(&k, b"msg").as_ref());
    assert_eq!(
        seal.key_id.0.as_slice(),
        ring::hmac::sign(&k, b"dha-baseline-key-id v1").as_ref()
    );
}

#[test]
fn public_key_file_verifies_but_cannot_seal() {
    let dir = tempfile::tempdir().unwrap();
    let key = SealKey::generate(SealKind::Ed25519).unwrap();
    let public = dir.path().join("vendor.pub");
    key.public().write(&public).unwrap();
    assert_eq!(mode(&public), 0o644);
    let text = fs::read_to_string(&public).unwrap();
    assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{text}");
    let vk = VerifyKey::load(&public).unwrap();
    assert_eq!(vk.key_id(), key.key_id());
    vk.verify(b"m", &key.sign(b"m")).unwrap();
    let err = SealKey::load(&public).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IntegrityError::Key { .. }));
    assert!(
        msg.contains("vendor.pub") && msg.contains("public key"),
        "{msg}"
    );
}

#[test]
fn a_tuf_repository_ed25519_key_is_a_sealing_key() {
    use crate::tuf::repo::{KeyType, generate_pkcs8_pem};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo.pem");
    fs::write(&path, generate_pkcs8_pem(KeyType::Ed25519).unwrap()).unwrap();
    let key = SealKey::load(&path).unwrap();
    assert_eq!(key.kind(), SealKind::Ed25519);
    key.verify(b"m", &key.sign(b"m")).unwrap();
}

#[test]
fn wrong_kind_and_malformed_key_files_name_the_file() {
    use crate::tuf::repo::{KeyType, generate_pkcs8_pem};
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "ecdsa.pem",
            generate_pkcs8_pem(KeyType::Ecdsa).unwrap().into_bytes(),
            "not a well-formed Ed25519 key",
        ),
        (
            "ec.pem",
            b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n".to_vec(),
            "another kind",
        ),
        (
            "hmac-short.key",
            b"dha-hmac-sha256-key v1\nabcd\n".to_vec(),
            "64 hex digits",
        ),
        (
            "hmac-nothex.key",
            format!("dha-hmac-sha256-key v1\n{}\n", "zz".repeat(32)).into_bytes(),
            "64 hex digits",
        ),
        ("binary.key", vec![0xff, 0xfe, 0x00], "not a text file"),
        ("text.key", b"hello\n".to_vec(), "not a sealing key"),
        ("big.key", vec![b'a'; 70_000], "larger than"),
    ];
    for (name, content, want) in cases {
        let path = dir.path().join(name);
        fs::write(&path, &content).unwrap();
        for err in [
            SealKey::load(&path).map(|_| ()).unwrap_err(),
            VerifyKey::load(&path).map(|_| ()).unwrap_err(),
        ] {
            assert!(matches!(err, IntegrityError::Key { .. }), "{name}: {err:?}");
            let msg = err.to_string();
            assert!(msg.contains(name) && msg.contains(want), "{name}: {msg}");
        }
    }
    let missing = dir.path().join("missing.key");
    let err = SealKey::load(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.key"), "{err}");
}

#[test]
fn debug_and_display_never_print_key_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let key = SealKey::generate(kind).unwrap();
        let path = dir.path().join(format!("{kind}.key"));
        key.write(&path).unwrap();
        let file = fs::read_to_string(&path).unwrap();
        // The secret as it appears in the file (hex line or PEM base64 body)
        // and as raw hex.
        let secret_lines: Vec<&str> = file
            .lines()
            .filter(|l| !l.starts_with("-----") && !l.starts_with("dha-hmac"))
            .collect();
        let raw_hex = match &key.inner {
            SealInner::Ed25519 { key, .. } => hex(&key.to_bytes()),
            SealInner::Hmac(k) => hex(k.raw.as_ref()),
        };
        let seal = key.sign(b"m");
        let other = SealKey::generate(kind).unwrap();
        let shown = [
            format!("{key:?}"),
            format!("{:?}", key.public()),
            format!("{seal:?}"),
            format!("{:?}", other.verify(b"m", &seal)),
            other.verify(b"m", &seal).unwrap_err().to_string(),
        ];
        for s in shown {
            assert!(!s.contains(&raw_hex), "{s}");
            for l in &secret_lines {
                assert!(!s.contains(l), "{s}");
            }
            assert!(s.len() < 400, "{s}");
        }
        let dbg = format!("{key:?}");
        assert!(dbg.contains(&key.key_id().to_string()), "{dbg}");
    }
}
