use super::*;
use crate::integrity::attrs::Attr;
use std::fs;

fn rec(path: &[u8]) -> FileRecord {
    FileRecord {
        path: path.into(),
        attrs: AttrSet::default_set(),
        entry_type: EntryType::Regular,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 1234,
        mtime: FileTime {
            secs: 1_795_910_400,
            nanos: 123_456_789,
        },
        ctime: FileTime {
            secs: 1_795_910_401,
            nanos: 999_999_999,
        },
        inode: 131_073,
        dev: 0xfd01,
        nlink: 1,
        fflags: None,
        sha256: Some([7; 32]),
        extra: None,
    }
}

/// Records with every field kind: non-UTF-8 paths, binary xattrs, a
/// symlink, SHA-512, no hash, extreme numbers, file flags.
fn sample_records() -> Vec<FileRecord> {
    let mut v = Vec::new();
    v.push(rec(b"/etc/passwd"));
    let mut r = rec(b"/etc/shadow");
    r.mode = 0o640;
    r.gid = 42;
    r.fflags = Some(0x10); // FS_IMMUTABLE_FL
    r.extra = Some(Box::new(RecordExtra {
        link_target: None,
        xattrs: vec![
            Xattr {
                name: b"security.selinux".as_slice().into(),
                value: b"system_u:object_r:shadow_t:s0\0".as_slice().into(),
            },
            Xattr {
                name: b"user.bin".as_slice().into(),
                value: vec![0u8, 0xff, 0x80, 0x00, 0x7f].into(),
            },
        ],
        sha512: Some(Box::new([0xa5; 64])),
    }));
    v.push(r);
    let mut r = rec(b"/usr/bin/\xff\xfename");
    r.attrs = AttrSet::all();
    r.mode = 0o4755;
    r.size = u64::MAX;
    r.inode = u64::MAX;
    r.dev = u64::MAX;
    r.nlink = u64::MAX;
    r.uid = u32::MAX;
    r.mtime = FileTime {
        secs: i64::MIN,
        nanos: 0,
    };
    r.ctime = FileTime {
        secs: i64::MAX,
        nanos: 1,
    };
    r.fflags = Some(u32::MAX);
    r.extra = Some(Box::new(RecordExtra {
        link_target: None,
        xattrs: vec![Xattr {
            name: b"security.capability".as_slice().into(),
            value: vec![
                1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]
            .into(),
        }],
        sha512: None,
    }));
    v.push(r);
    let mut r = rec(b"/usr/lib/os-release");
    r.entry_type = EntryType::Symlink;
    r.mode = 0o777;
    r.sha256 = None;
    r.extra = Some(Box::new(RecordExtra {
        link_target: Some(b"../../etc/os-release\x01\xff".as_slice().into()),
        xattrs: Vec::new(),
        sha512: None,
    }));
    v.push(r);
    let mut r = rec(b"/usr/lib");
    r.entry_type = EntryType::Directory;
    r.sha256 = None;
    r.attrs = AttrSet::EMPTY.with(Attr::Perm).with(Attr::Uid);
    v.push(r);
    let mut r = rec(b"/dev/null");
    r.entry_type = EntryType::CharDevice;
    r.sha256 = None;
    r.mtime = FileTime { secs: -1, nanos: 5 };
    v.push(r);
    let mut r = rec(b"/var/log/x");
    r.sha256 = None; // a file whose hash is not watched
    r.attrs = AttrSet::EMPTY.with(Attr::Size);
    v.push(r);
    v
}

fn sample() -> Baseline {
    Baseline::from_records(
        FileTime {
            secs: 1_795_910_400,
            nanos: 42,
        },
        [0x5a; 32],
        sample_records(),
    )
    .unwrap()
}

#[test]
fn round_trip_of_every_field_kind_on_real_files() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let key = SealKey::generate(kind).unwrap();
        let b = sample();
        let path = dir.path().join(format!("{kind}.baseline"));
        write_baseline(&path, &b, &key).unwrap();
        let again = read_baseline(&path, &key.public()).unwrap();
        assert_eq!(again, b);
        assert_eq!(again.records.len(), 7);
        assert!(again.records.windows(2).all(|w| w[0].path < w[1].path));
        let shadow = again.get(b"/etc/shadow").unwrap();
        assert_eq!(shadow.xattrs().len(), 2);
        assert_eq!(shadow.sha512(), Some(&[0xa5; 64]));
        assert_eq!(
            again.get(b"/usr/lib/os-release").unwrap().link_target(),
            Some(b"../../etc/os-release\x01\xff".as_slice())
        );
        assert!(again.get(b"/usr/bin/\xff\xfename").is_some());
        assert!(again.get(b"/usr/bin").is_none());
        assert!(again.get(b"").is_none());
        // The file starts with the magic and version.
        let bytes = fs::read(&path).unwrap();
        assert_eq!(&bytes[..7], b"DHAIB\0\x01");
    }
}

#[test]
fn an_empty_baseline_round_trips() {
    let key = SealKey::generate(SealKind::HmacSha256).unwrap();
    let b = Baseline::from_records(FileTime::default(), [0; 32], Vec::new()).unwrap();
    let bytes = b.to_sealed_bytes(&key).unwrap();
    assert_eq!(bytes.len(), HEADER_LEN + 33 + 32);
    let again = Baseline::from_sealed_bytes(&bytes, &key.public(), Path::new("b")).unwrap();
    assert_eq!(again, b);
}

#[test]
fn from_records_sorts_and_refuses_duplicates() {
    let mut v = sample_records();
    v.reverse();
    let b = Baseline::from_records(FileTime::default(), [0; 32], v).unwrap();
    assert!(b.records.windows(2).all(|w| w[0].path < w[1].path));
    let err = Baseline::from_records(
        FileTime::default(),
        [0; 32],
        vec![rec(b"/a"), rec(b"/b"), rec(b"/a")],
    )
    .unwrap_err();
    assert!(
        matches!(err, IntegrityError::InvalidRecords { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("\"/a\" is recorded twice"),
        "{err}"
    );
    // An empty extra is dropped, as it reads back.
    let mut r = rec(b"/x");
    r.extra = Some(Box::default());
    let b = Baseline::from_records(FileTime::default(), [0; 32], vec![r]).unwrap();
    assert!(b.records[0].extra.is_none());
}

#[test]
fn encode_refuses_what_decode_would_refuse() {
    let key = SealKey::generate(SealKind::HmacSha256).unwrap();
    let bad = |records: Vec<FileRecord>| Baseline {
        created: FileTime::default(),
        policy_digest: [0; 32],
        records,
    };
    let mut nanos = rec(b"/n");
    nanos.mtime.nanos = 1_000_000_000;
    let mut xa = rec(b"/x");
    xa.extra = Some(Box::new(RecordExtra {
        xattrs: vec![
            Xattr {
                name: b"user.b".as_slice().into(),
                value: Box::default(),
            },
            Xattr {
                name: b"user.a".as_slice().into(),
                value: Box::default(),
            },
        ],
        ..RecordExtra::default()
    }));
    for (records, want) in [
        (
            vec![rec(b"/b"), rec(b"/a")],
            "strictly increasing order of path",
        ),
        (
            vec![rec(b"/a"), rec(b"/a")],
            "strictly increasing order of path",
        ),
        (vec![rec(b"")], "a path must be"),
        (vec![nanos], "not below one second"),
        (
            vec![xa],
            "extended attributes are not in strictly increasing",
        ),
    ] {
        let err = bad(records).to_sealed_bytes(&key).unwrap_err();
        assert!(matches!(err, IntegrityError::InvalidRecords { .. }));
        assert!(err.to_string().contains(want), "{err}");
    }
}

fn small_sealed(key: &SealKey) -> Vec<u8> {
    let records = vec![rec(b"/etc/a"), {
        let mut r = rec(b"/etc/b");
        r.extra = Some(Box::new(RecordExtra {
            link_target: Some(b"a".as_slice().into()),
            xattrs: vec![Xattr {
                name: b"user.k".as_slice().into(),
                value: b"\0v".as_slice().into(),
            }],
            sha512: None,
        }));
        r.fflags = Some(0x20);
        r
    }];
    Baseline::from_records(FileTime::default(), [1; 32], records)
        .unwrap()
        .to_sealed_bytes(key)
        .unwrap()
}

#[test]
fn every_flipped_byte_is_refused_on_a_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    for kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let key = SealKey::generate(kind).unwrap();
        let good = small_sealed(&key);
        // Ed25519 verification is slow in a debug build: one flip a byte.
        let masks: &[u8] = match kind {
            SealKind::Ed25519 => &[0x01],
            _ => &[0x01, 0x80, 0xff],
        };
        for i in 0..good.len() {
            for &mask in masks {
                let mut bad = good.clone();
                bad[i] ^= mask;
                fs::write(&path, &bad).unwrap();
                let err = read_baseline(&path, &key.public()).unwrap_err();
                assert!(
                    matches!(
                        err,
                        IntegrityError::BaselineSeal { .. } | IntegrityError::BaselineFormat { .. }
                    ),
                    "{kind} byte {i}: {err:?}"
                );
                assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
                // Inside the records or the signature, it is the seal that
                // refuses it.
                if (HEADER_LEN..good.len()).contains(&i) && i != HEADER_LEN {
                    assert!(
                        matches!(err, IntegrityError::BaselineSeal { .. }),
                        "{i}: {err}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    let key = SealKey::generate(SealKind::Ed25519).unwrap();
    let good = small_sealed(&key);
    let body_len = good.len() - 33 - 64;
    for len in 0..good.len() {
        fs::write(&path, &good[..len]).unwrap();
        let err = read_baseline(&path, &key.public()).unwrap_err();
        let msg = err.to_string();
        if len == body_len {
            assert!(msg.contains("no seal"), "{len}: {msg}");
        } else if len >= HEADER_LEN {
            assert!(msg.contains("altered or truncated"), "{len}: {msg}");
        } else {
            assert!(
                matches!(
                    err,
                    IntegrityError::BaselineSeal { .. } | IntegrityError::BaselineFormat { .. }
                ),
                "{len}: {msg}"
            );
        }
    }
    // Bytes appended after the seal are refused too.
    let mut long = good.clone();
    long.push(0);
    fs::write(&path, &long).unwrap();
    let msg = read_baseline(&path, &key.public()).unwrap_err().to_string();
    assert!(msg.contains("altered or truncated"), "{msg}");
}

#[test]
fn resealed_with_another_key_of_either_kind_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    let b = sample();
    for trusted_kind in [SealKind::Ed25519, SealKind::HmacSha256] {
        let trusted = SealKey::generate(trusted_kind).unwrap();
        for other_kind in [SealKind::Ed25519, SealKind::HmacSha256] {
            let other = SealKey::generate(other_kind).unwrap();
            write_baseline(&path, &b, &other).unwrap();
            let err = read_baseline(&path, &trusted.public()).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, IntegrityError::BaselineSeal { .. }), "{msg}");
            assert!(
                msg.contains(&format!(
                    "sealed with another key (key id {}",
                    other.key_id()
                )),
                "{msg}"
            );
        }
    }
}

#[test]
fn an_unsealed_baseline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    let b = sample();
    fs::write(&path, b.encode().unwrap()).unwrap();
    let key = SealKey::generate(SealKind::HmacSha256).unwrap();
    let err = read_baseline(&path, &key.public()).unwrap_err();
    assert!(matches!(err, IntegrityError::BaselineSeal { .. }), "{err}");
    assert!(err.to_string().contains("no seal"), "{err}");
}

#[test]
fn public_key_only_verification_from_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = SealKey::generate(SealKind::Ed25519).unwrap();
    key.write(&dir.path().join("vendor.key")).unwrap();
    key.public().write(&dir.path().join("vendor.pub")).unwrap();
    let signer = SealKey::load(&dir.path().join("vendor.key")).unwrap();
    let path = dir.path().join("image.baseline");
    write_baseline(&path, &sample(), &signer).unwrap();
    let vk = VerifyKey::load(&dir.path().join("vendor.pub")).unwrap();
    assert_eq!(read_baseline(&path, &vk).unwrap(), sample());
    // HMAC: the device key file verifies too.
    let hk = SealKey::generate(SealKind::HmacSha256).unwrap();
    hk.write(&dir.path().join("device.key")).unwrap();
    write_baseline(&path, &sample(), &hk).unwrap();
    let vk = VerifyKey::load(&dir.path().join("device.key")).unwrap();
    assert_eq!(read_baseline(&path, &vk).unwrap(), sample());
}

#[test]
fn the_size_limit_is_applied_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    let key = SealKey::generate(SealKind::HmacSha256).unwrap();
    write_baseline(&path, &sample(), &key).unwrap();
    let len = fs::metadata(&path).unwrap().len();
    read_baseline_with_limit(&path, &key.public(), len).unwrap();
    let err = read_baseline_with_limit(&path, &key.public(), len - 1).unwrap_err();
    assert!(err.to_string().contains("larger than the limit"), "{err}");
}

/// A body with a valid header and arbitrary record bytes, sealed by `key`:
/// the decoder's checks behind a good seal.
fn seal_raw(key: &SealKey, count: u64, records: &[u8]) -> Vec<u8> {
    let mut out = Baseline::from_records(FileTime::default(), [0; 32], Vec::new())
        .unwrap()
        .encode()
        .unwrap();
    out[52..60].copy_from_slice(&count.to_le_bytes());
    out.extend_from_slice(records);
    let len = (out.len() as u64).to_le_bytes();
    out[60..68].copy_from_slice(&len);
    out.push(key.kind().code());
    out.extend_from_slice(&key.key_id().0);
    let seal = key.sign(&out);
    out.extend_from_slice(&seal.bytes);
    out
}

#[test]
fn a_well_sealed_but_malformed_body_is_refused_with_its_offset() {
    let key = SealKey::generate(SealKind::HmacSha256).unwrap();
    let good_record = {
        let b = Baseline::from_records(FileTime::default(), [0; 32], vec![rec(b"/a")]).unwrap();
        b.encode().unwrap()[HEADER_LEN..].to_vec()
    };
    let mut two = good_record.clone();
    two.extend_from_slice(&good_record); // "/a" twice
    let mut overlong = good_record.clone();
    overlong[0] = 0x80; // shared prefix 0 written in two bytes
    overlong.insert(1, 0x00);
    let mut bad_type = good_record.clone();
    bad_type[7] = 9; // prefix, len, "/a", attrs (3 bytes), type
    let cases: Vec<(u64, Vec<u8>, &str)> = vec![
        (u64::MAX, good_record.clone(), "more than the file can hold"),
        (1_000_000, vec![0; 100], "more than the file can hold"),
        (2, two, "not strictly after the previous one"),
        (1, overlong, "overlong"),
        (1, bad_type, "unknown file type code 9"),
        (0, good_record.clone(), "bytes after the last record"),
        (1, good_record[..20].to_vec(), "truncated"),
    ];
    for (count, body, want) in cases {
        let bytes = seal_raw(&key, count, &body);
        let err = Baseline::from_sealed_bytes(&bytes, &key.public(), Path::new("x.baseline"))
            .unwrap_err();
        assert!(
            matches!(err, IntegrityError::BaselineFormat { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(want) && msg.contains("x.baseline"),
            "{want}: {msg}"
        );
    }
}

#[test]
fn decode_unverified_reads_without_a_key_and_reencodes_identically() {
    let key = SealKey::generate(SealKind::Ed25519).unwrap();
    let bytes = sample().to_sealed_bytes(&key).unwrap();
    let (b, seal) = Baseline::decode_unverified(&bytes).unwrap();
    assert_eq!(b, sample());
    assert_eq!(seal.key_id, key.key_id());
    let body = b.encode().unwrap();
    assert_eq!(body, bytes[..body.len()]);
}

#[test]
fn debug_of_a_baseline_is_short() {
    let s = format!("{:?}", sample());
    assert!(s.contains("records: 7") && s.len() < 200, "{s}");
}

#[test]
fn bytes_per_record_are_small() {
    // Realistic records: front-coded paths, SHA-256, no xattrs.
    let records: Vec<FileRecord> = (0..1000u32)
        .map(|i| {
            let mut r =
                rec(format!("/usr/share/doc/pkg{:04}/file{:03}.txt", i / 10, i % 10).as_bytes());
            r.inode = 1_000_000 + u64::from(i);
            r
        })
        .collect();
    let b = Baseline::from_records(FileTime::default(), [0; 32], records).unwrap();
    let per = b.encode().unwrap().len() / 1000;
    assert!(per <= 100, "{per} bytes per record");
}

/// Writes the seed corpus of the `integrity_baseline` fuzz target (see
/// fuzz/README.md): `DHA_FUZZ_SEED_DIR=fuzz/corpus/integrity_baseline
/// cargo test -p agent-core --lib write_fuzz_seeds -- --ignored`.
#[test]
#[ignore = "writes the fuzz seed corpus when asked"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("DHA_FUZZ_SEED_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    let ed = SealKey::generate(SealKind::Ed25519).unwrap();
    let hm = SealKey::generate(SealKind::HmacSha256).unwrap();
    let empty = Baseline::from_records(FileTime::default(), [0; 32], Vec::new()).unwrap();
    let seeds = [
        ("empty-hmac.dhaib", empty.to_sealed_bytes(&hm).unwrap()),
        (
            "every-field-ed25519.dhaib",
            sample().to_sealed_bytes(&ed).unwrap(),
        ),
        (
            "every-field-hmac.dhaib",
            sample().to_sealed_bytes(&hm).unwrap(),
        ),
        ("two-records-hmac.dhaib", small_sealed(&hm)),
        ("unsealed.dhaib", sample().encode().unwrap()),
    ];
    for (name, bytes) in seeds {
        fs::write(dir.join(name), bytes).unwrap();
    }
}
