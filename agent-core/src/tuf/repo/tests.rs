//! Repositories built by [`Repository`], served by [`LocalDirTransport`],
//! refreshed and downloaded by the client ([`Updater`]).

use super::*;
use crate::FixedClock;
use crate::tuf::Limits;
use crate::tuf::client::Updater;
use crate::tuf::transport::LocalDirTransport;
use std::os::unix::fs::PermissionsExt;

/// 2026-11-29T00:00:00Z.
const NOW: u64 = 1_795_910_400;

fn now() -> SystemTime {
    FixedClock::from_unix_secs(NOW).0
}

struct Rig {
    tmp: tempfile::TempDir,
    repo: Repository,
}

impl Rig {
    fn new(opts: &InitOptions) -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(&tmp.path().join("repo"), opts, now()).unwrap();
        Rig { tmp, repo }
    }

    /// Writes `content` to a source file and adds it as `name`.
    fn add(&mut self, name: &str, content: &[u8], role: Option<&str>) -> String {
        let src = self.tmp.path().join("src.bin");
        fs::write(&src, content).unwrap();
        self.repo.add_target(&src, name, role, None, now()).unwrap()
    }

    /// A client store trusting `N.root.json` of the repository.
    fn client(&self, root_version: u64) -> PathBuf {
        let store = self
            .tmp
            .path()
            .join(format!("client-{}", rand_suffix(&self.tmp)));
        let root = fs::read(
            self.repo
                .metadata_dir()
                .join(format!("{root_version}.root.json")),
        )
        .unwrap();
        Updater::init(&store, &root).unwrap();
        store
    }

    /// Refreshes the client in `store` and downloads `name`; the bytes.
    fn download(&self, store: &Path, name: &str) -> Result<Vec<u8>, TufError> {
        let clock = FixedClock::from_unix_secs(NOW + 3600);
        let mut up = Updater::new(
            store,
            Box::new(LocalDirTransport::new(&self.repo.metadata_dir())?),
            Box::new(LocalDirTransport::new(&self.repo.targets_dir())?),
            Limits::default(),
            &clock,
            None,
        )?;
        up.refresh()?;
        let info = up.get_target_info(name)?;
        let out = store.join("out");
        fs::create_dir_all(&out).unwrap();
        let path = up.download_target(&info, &out)?;
        Ok(fs::read(path).unwrap())
    }
}

fn rand_suffix(tmp: &tempfile::TempDir) -> usize {
    fs::read_dir(tmp.path()).unwrap().count()
}

fn served(rig: &Rig) -> BTreeSet<String> {
    fs::read_dir(rig.repo.metadata_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn basic_repository_verifies_and_updates() {
    let mut rig = Rig::new(&InitOptions::default());
    assert_eq!(
        rig.add("files/hello.txt", b"hello world\n", None),
        "targets"
    );
    let report = rig.repo.publish(now()).unwrap();
    assert_eq!(
        report.written,
        vec![
            ("root".to_owned(), 1),
            ("targets".to_owned(), 1),
            ("snapshot".to_owned(), 1),
            ("timestamp".to_owned(), 1)
        ]
    );
    let names = served(&rig);
    for f in [
        "1.root.json",
        "targets.json",
        "snapshot.json",
        "timestamp.json",
    ] {
        assert!(names.contains(f), "{f} missing from {names:?}");
    }
    let store = rig.client(1);
    assert_eq!(
        rig.download(&store, "files/hello.txt").unwrap(),
        b"hello world\n"
    );

    // A new release: targets 2, snapshot 2, timestamp 2; the same client
    // follows.
    rig.add("files/hello.txt", b"hello again\n", None);
    rig.repo.publish(now()).unwrap();
    assert_eq!(
        rig.download(&store, "files/hello.txt").unwrap(),
        b"hello again\n"
    );
    let targets: Value =
        serde_json::from_slice(&fs::read(rig.repo.metadata_dir().join("targets.json")).unwrap())
            .unwrap();
    assert_eq!(targets["signed"]["version"], 2);
    assert_eq!(targets["signed"]["spec_version"], SPEC_VERSION);

    // A publish with nothing changed renews snapshot and timestamp only.
    let report = rig.repo.publish(now()).unwrap();
    assert_eq!(
        report.written,
        vec![("snapshot".to_owned(), 3), ("timestamp".to_owned(), 3)]
    );
}

#[test]
fn keys_are_private_files_and_init_twice_is_refused() {
    let rig = Rig::new(&InitOptions::default());
    let keys = rig.repo.dir().join("keys");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&keys), 0o700);
    for role in TOP_LEVEL_ROLES {
        assert_eq!(mode(&keys.join(format!("{role}-1.pem"))), 0o600);
        let pem = fs::read_to_string(keys.join(format!("{role}-1.pem"))).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    let again = Repository::init(rig.repo.dir(), &InitOptions::default(), now());
    assert!(matches!(again, Err(RepoError::Invalid(_))), "{again:?}");
    let dup = rig.repo.keygen("root-1", KeyType::Ed25519);
    assert!(matches!(dup, Err(RepoError::Invalid(_))), "{dup:?}");
    assert!(rig.repo.keygen("../x", KeyType::Ed25519).is_err());
}

#[test]
fn unsafe_target_names_are_refused() {
    let mut rig = Rig::new(&InitOptions::default());
    let src = rig.tmp.path().join("x");
    fs::write(&src, b"x").unwrap();
    for name in ["../x", "/etc/passwd", "a//b", "a/./b", "", "a/../../b"] {
        let r = rig.repo.add_target(&src, name, None, None, now());
        assert!(r.is_err(), "{name:?} accepted");
    }
    let r = rig
        .repo
        .add_target(&src, "x", None, Some(json!([1])), now());
    assert!(matches!(r, Err(RepoError::Invalid(_))));
}

#[test]
fn threshold_two_needs_two_signatures() {
    let mut opts = InitOptions::default();
    for role in TOP_LEVEL_ROLES {
        opts.thresholds.insert(role.to_owned(), 2);
    }
    let mut rig = Rig::new(&opts);
    rig.add("a.bin", b"threshold two", None);
    // One targets key is taken offline: publish cannot meet the threshold
    // and writes nothing.
    let keys = rig.repo.dir().join("keys");
    let offline = rig.tmp.path().join("offline");
    fs::create_dir(&offline).unwrap();
    for ext in ["pem", "pub.json"] {
        fs::rename(
            keys.join(format!("targets-2.{ext}")),
            offline.join(format!("targets-2.{ext}")),
        )
        .unwrap();
    }
    let err = rig.repo.publish(now()).unwrap_err();
    assert!(
        matches!(&err, RepoError::Unsigned { role, valid: 1, threshold: 2 } if role == "targets"),
        "{err:?}"
    );
    assert!(served(&rig).is_empty());
    // The offline key signs; publish adds the online key's signature.
    let key = offline.join("targets-2.pem");
    rig.repo.sign("targets", key.to_str().unwrap()).unwrap();
    rig.repo.publish(now()).unwrap();
    let store = rig.client(1);
    assert_eq!(rig.download(&store, "a.bin").unwrap(), b"threshold two");
    let root: Value =
        serde_json::from_slice(&fs::read(rig.repo.metadata_dir().join("1.root.json")).unwrap())
            .unwrap();
    assert_eq!(root["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(root["signed"]["roles"]["targets"]["threshold"], 2);
    // A key of another role cannot sign targets.
    let r = rig.repo.sign("targets", "snapshot-1");
    assert!(matches!(r, Err(RepoError::Invalid(_))), "{r:?}");
}

#[test]
fn consistent_snapshot_serves_versioned_names() {
    let opts = InitOptions {
        consistent_snapshot: true,
        ..InitOptions::default()
    };
    let mut rig = Rig::new(&opts);
    rig.add("files/fw.bin", b"consistent", None);
    rig.repo.publish(now()).unwrap();
    rig.add("files/fw.bin", b"consistent 2", None);
    rig.repo.publish(now()).unwrap();
    let names = served(&rig);
    for f in [
        "1.root.json",
        "1.targets.json",
        "2.targets.json",
        "1.snapshot.json",
        "2.snapshot.json",
        "timestamp.json",
    ] {
        assert!(names.contains(f), "{f} missing from {names:?}");
    }
    assert!(!names.contains("snapshot.json") && !names.contains("targets.json"));
    let sha = hex(digest::digest(&digest::SHA256, b"consistent 2").as_ref());
    assert!(
        rig.repo
            .targets_dir()
            .join(format!("files/{sha}.fw.bin"))
            .is_file()
    );
    let store = rig.client(1);
    assert_eq!(
        rig.download(&store, "files/fw.bin").unwrap(),
        b"consistent 2"
    );
}

#[test]
fn path_delegation_is_found_and_percent_encoded() {
    let mut rig = Rig::new(&InitOptions::default());
    rig.repo.keygen("vendor", KeyType::Ecdsa).unwrap();
    let made = rig
        .repo
        .delegate(
            "targets",
            &DelegationKind::Paths {
                name: "vendor/ct".to_owned(),
                paths: vec!["ct/*".to_owned()],
                terminating: true,
            },
            &["vendor".to_owned()],
            1,
            now(),
        )
        .unwrap();
    assert_eq!(made, vec!["vendor/ct".to_owned()]);
    // The role is trusted for ct/* only.
    let src = rig.tmp.path().join("s");
    fs::write(&src, b"x").unwrap();
    assert!(
        rig.repo
            .add_target(&src, "mr/fw.bin", Some("vendor/ct"), None, now())
            .is_err()
    );
    let custom = json!({"hardware_id": "ct-7", "release_counter": 3});
    fs::write(&src, b"ct firmware").unwrap();
    rig.repo
        .add_target(
            &src,
            "ct/fw.bin",
            Some("vendor/ct"),
            Some(custom.clone()),
            now(),
        )
        .unwrap();
    rig.repo.publish(now()).unwrap();
    assert!(served(&rig).contains("vendor%2Fct.json"));
    let store = rig.client(1);
    assert_eq!(rig.download(&store, "ct/fw.bin").unwrap(), b"ct firmware");
    let vendor: Value = serde_json::from_slice(
        &fs::read(rig.repo.metadata_dir().join("vendor%2Fct.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(vendor["signed"]["targets"]["ct/fw.bin"]["custom"], custom);
}

#[test]
fn hash_bins_hold_targets_by_path_hash() {
    let mut rig = Rig::new(&InitOptions::default());
    rig.repo.keygen("bins", KeyType::Ed25519).unwrap();
    let bins = rig
        .repo
        .delegate(
            "targets",
            &DelegationKind::HashBins {
                name_prefix: "bin".to_owned(),
                bit_length: 4,
            },
            &["bins".to_owned()],
            1,
            now(),
        )
        .unwrap();
    assert_eq!(bins.len(), 16);
    assert_eq!(bins.first().map(String::as_str), Some("bin-0"));
    let mut used = BTreeSet::new();
    for i in 0..6 {
        let role = rig.add(&format!("pkg/{i}.bin"), format!("bin {i}").as_bytes(), None);
        assert!(role.starts_with("bin-"), "{role}");
        used.insert(role);
    }
    // A path delegation beside hash bins is refused (TAP 15).
    let r = rig.repo.delegate(
        "targets",
        &DelegationKind::Paths {
            name: "other".to_owned(),
            paths: vec!["*".to_owned()],
            terminating: false,
        },
        &["bins".to_owned()],
        1,
        now(),
    );
    assert!(r.is_err());
    rig.repo.publish(now()).unwrap();
    let snapshot: Value =
        serde_json::from_slice(&fs::read(rig.repo.metadata_dir().join("snapshot.json")).unwrap())
            .unwrap();
    assert_eq!(snapshot["signed"]["meta"].as_object().unwrap().len(), 17);
    let store = rig.client(1);
    for i in 0..6 {
        assert_eq!(
            rig.download(&store, &format!("pkg/{i}.bin")).unwrap(),
            format!("bin {i}").as_bytes()
        );
    }
    assert!(matches!(
        rig.download(&store, "pkg/absent.bin"),
        Err(TufError::TargetNotFound { .. })
    ));
}

#[test]
fn root_rotation_is_followed_by_an_old_client() {
    let mut rig = Rig::new(&InitOptions::default());
    rig.add("a.txt", b"before", None);
    rig.repo.publish(now()).unwrap();
    let store = rig.client(1);
    assert_eq!(rig.download(&store, "a.txt").unwrap(), b"before");

    rig.repo.keygen("root-new", KeyType::Ed25519).unwrap();
    rig.repo.keygen("timestamp-new", KeyType::Ed25519).unwrap();
    rig.repo.keygen("targets-new", KeyType::Ecdsa).unwrap();
    rig.repo
        .rotate_key("root", Some("root-1"), "root-new", None, now())
        .unwrap();
    rig.repo
        .rotate_key(
            "timestamp",
            Some("timestamp-1"),
            "timestamp-new",
            None,
            now(),
        )
        .unwrap();
    rig.repo
        .rotate_key("targets", Some("targets-1"), "targets-new", None, now())
        .unwrap();
    rig.add("a.txt", b"after", None);
    let report = rig.repo.publish(now()).unwrap();
    assert_eq!(report.written.first(), Some(&("root".to_owned(), 2)));
    // §5.3.4: version 2 carries the old and the new root key's signatures.
    let root2: Value =
        serde_json::from_slice(&fs::read(rig.repo.metadata_dir().join("2.root.json")).unwrap())
            .unwrap();
    assert_eq!(root2["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(root2["signed"]["keys"].as_object().unwrap().len(), 4);
    assert_eq!(rig.download(&store, "a.txt").unwrap(), b"after");

    // The old root key alone can no longer publish a root: version 3
    // without root-new's key fails the new threshold.
    let keys = rig.repo.dir().join("keys");
    fs::rename(
        keys.join("root-new.pem"),
        rig.tmp.path().join("root-new.pem"),
    )
    .unwrap();
    rig.repo.keygen("snapshot-new", KeyType::Ed25519).unwrap();
    rig.repo
        .rotate_key("snapshot", Some("snapshot-1"), "snapshot-new", None, now())
        .unwrap();
    let err = rig.repo.publish(now()).unwrap_err();
    assert!(
        matches!(&err, RepoError::Unsigned { role, .. } if role == "root"),
        "{err:?}"
    );
}

#[test]
fn rsa_and_ecdsa_keys_sign_what_the_client_accepts() {
    let opts = InitOptions {
        key_type: KeyType::Ecdsa,
        ..InitOptions::default()
    };
    let mut rig = Rig::new(&opts);
    let rsa = rig.repo.keygen("rsa-1", KeyType::Rsa).unwrap();
    assert_eq!(
        (rsa.keytype.as_str(), rsa.scheme.as_str()),
        ("rsa", "rsassa-pss-sha256")
    );
    rig.repo
        .delegate(
            "targets",
            &DelegationKind::Paths {
                name: "rsa-role".to_owned(),
                paths: vec!["r/*".to_owned()],
                terminating: false,
            },
            &["rsa-1".to_owned()],
            1,
            now(),
        )
        .unwrap();
    rig.add("r/x", b"rsa signed", Some("rsa-role"));
    rig.add("e", b"ecdsa signed", None);
    rig.repo.publish(now()).unwrap();
    let store = rig.client(1);
    assert_eq!(rig.download(&store, "r/x").unwrap(), b"rsa signed");
    assert_eq!(rig.download(&store, "e").unwrap(), b"ecdsa signed");
}

#[test]
fn expiry_defaults_and_format() {
    let e = Expiry::default();
    assert_eq!(e.root, Duration::from_secs(365 * DAY));
    assert_eq!(e.for_role("vendor"), e.targets);
    assert_eq!(format_expires(now()).unwrap(), "2026-11-29T00:00:00Z");
    let mut rig = Rig::new(&InitOptions::default());
    rig.repo.publish(now()).unwrap();
    let ts: Value =
        serde_json::from_slice(&fs::read(rig.repo.metadata_dir().join("timestamp.json")).unwrap())
            .unwrap();
    assert_eq!(ts["signed"]["expires"], "2026-11-30T00:00:00Z");
    assert!(ts["signed"]["meta"]["snapshot.json"]["hashes"]["sha256"].is_string());
}
