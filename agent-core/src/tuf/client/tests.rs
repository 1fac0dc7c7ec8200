//! The client against the repositories python-tuf built
//! (`tests/data/tuf/reference/*/scenario.json`; the format is in that
//! directory's README.md): every step of every scenario, with a
//! [`FixedClock`] at the scenario's reference time and
//! [`LocalDirTransport`]s over the scenario's repository directories.

use super::*;
use crate::FixedClock;
use crate::tuf::metadata::parse_expires;
use crate::tuf::store::role_file_name;
use crate::tuf::transport::LocalDirTransport;
use std::fs;

/// Scenarios that cannot pass yet, each with the reason. The driver reports
/// them as known gaps (never skips them silently) and fails if one of them
/// starts passing, so this list is kept exact. Empty: every scenario passes.
const KNOWN_GAPS: &[(&str, &str)] = &[];

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/tuf/reference")
}

/// The README's failure kind of an error, and the metadata role the error
/// names, when it names the role whose metadata failed.
fn kind_of(e: &TufError) -> (&'static str, Option<&str>) {
    match e {
        TufError::Expired { role } => ("expired", Some(role)),
        TufError::Threshold { role, .. } => ("threshold not met", Some(role)),
        TufError::Rollback { role, .. } | TufError::RoleRemoved { role } => {
            ("rollback", Some(role))
        }
        TufError::VersionMismatch { role, .. } => ("version mismatch", Some(role)),
        TufError::MetadataTooLarge { role, .. } => ("metadata too large", Some(role)),
        TufError::MetadataLength { role, .. } => ("length mismatch", Some(role)),
        TufError::TargetLength { .. } | TufError::TargetTooLong { .. } => ("length mismatch", None),
        TufError::MetadataHash { role, .. } => ("hash mismatch", Some(role)),
        TufError::TargetHash { .. } => ("hash mismatch", None),
        TufError::Malformed { role, .. } => ("invalid metadata", Some(role)),
        // The role it names is the one whose threshold is 0, not the
        // metadata that carried it (threshold-zero: root sets targets' to 0).
        TufError::InvalidThreshold { .. } => ("invalid metadata", None),
        TufError::TargetNotFound { .. } => ("target not found", None),
        TufError::HardwareIdMismatch { .. } => ("hardware id mismatch", None),
        TufError::UnsafeName { .. } => ("target path escape", None),
        _ => ("other", None),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::tuf::hex::encode(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// The version stored for `role`, or `None` if nothing is stored.
fn stored_version(store: &Path, role: &str) -> Option<u64> {
    let bytes = fs::read(store.join(role_file_name(role).unwrap())).ok()?;
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    Some(v["signed"]["version"].as_u64().unwrap())
}

/// The entries of a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A client's directories: `<tmp>/a/b/store` and `<tmp>/a/b/targets`,
/// nested so that a target escaping by `../..` would land inside `<tmp>`,
/// where it is seen.
struct Device {
    tmp: tempfile::TempDir,
}

impl Device {
    fn new(scenario_dir: &Path, scenario: &Value) -> Device {
        let tmp = tempfile::tempdir().unwrap();
        let device = Device { tmp };
        fs::create_dir_all(device.targets()).unwrap();
        let root = scenario_dir.join(scenario["client"]["trusted_root"].as_str().unwrap());
        Updater::init(&device.store(), &fs::read(root).unwrap()).unwrap();
        device
    }
    fn base(&self) -> PathBuf {
        self.tmp.path().join("a/b")
    }
    fn store(&self) -> PathBuf {
        self.base().join("store")
    }
    fn targets(&self) -> PathBuf {
        self.base().join("targets")
    }
    /// Nothing but the client's two directories exists around them.
    fn check_contained(&self) -> Result<(), String> {
        let outer = (
            entries(self.tmp.path()),
            entries(&self.tmp.path().join("a")),
            entries(&self.base()),
        );
        let want = (
            vec!["a".to_owned()],
            vec!["b".to_owned()],
            vec!["store".to_owned(), "targets".to_owned()],
        );
        if outer == want {
            Ok(())
        } else {
            Err(format!("files outside the client's directories: {outer:?}"))
        }
    }
}

/// What a successful step ends with: the target's info (lookup, download)
/// and bytes (download).
type StepOk = (Option<TargetInfo>, Option<Vec<u8>>);

/// Runs one step; the stage it stopped at and the error, or `None` and what
/// it ended with (the target's bytes for a download, its info for a lookup).
fn run_step(
    scenario: &Value,
    step: &Value,
    repo: &Path,
    device: &Device,
    clock: &FixedClock,
) -> Result<StepOk, (&'static str, TufError)> {
    let mut limits = Limits::default();
    if let Some(n) = scenario["max_delegations"].as_u64() {
        limits.max_delegations = u32::try_from(n).unwrap();
    }
    if let Some(n) = scenario["limits"]["timestamp_max_length"].as_u64() {
        limits.max_timestamp_bytes = n;
    }
    let hardware_id = scenario["device"]["hardware_id"]
        .as_str()
        .map(str::to_owned);
    let metadata = LocalDirTransport::new(&repo.join("metadata")).unwrap();
    let targets = LocalDirTransport::new(&repo.join("targets")).unwrap();
    let mut updater = Updater::new(
        &device.store(),
        Box::new(metadata),
        Box::new(targets),
        limits,
        clock,
        hardware_id,
    )
    .map_err(|e| ("refresh", e))?;
    updater.refresh().map_err(|e| ("refresh", e))?;
    let action = step["action"].as_str().unwrap();
    if action == "refresh" {
        return Ok((None, None));
    }
    let name = step["target"].as_str().unwrap();
    let info = updater.get_target_info(name).map_err(|e| ("lookup", e))?;
    if action == "lookup" {
        return Ok((Some(info), None));
    }
    let path = updater
        .download_target(&info, &device.targets())
        .map_err(|e| ("download", e))?;
    if path != device.targets().join(name) {
        panic!("target written to {}, not under its name", path.display());
    }
    Ok((Some(info), Some(fs::read(path).unwrap())))
}

/// Checks one step against its `expect` and `trusted_after`.
fn check_step(
    scenario_dir: &Path,
    scenario: &Value,
    step: &Value,
    device: &Device,
) -> Result<(), String> {
    let time = parse_expires(scenario["reference_time"].as_str().unwrap()).unwrap();
    let clock = FixedClock(time);
    let repo = scenario_dir.join(step["repository"].as_str().unwrap_or("."));
    let expect = &step["expect"];
    let outcome = run_step(scenario, step, &repo, device, &clock);
    match (expect["result"].as_str().unwrap(), outcome) {
        ("ok", Ok((info, bytes))) => {
            if let Some(length) = expect["length"].as_u64() {
                let info = info.ok_or("no target info")?;
                let sha = expect["sha256"].as_str().unwrap();
                if info.length() != length
                    || info.hashes().get("sha256").map(String::as_str) != Some(sha)
                {
                    return Err(format!(
                        "target info {info:?} is not length {length}, sha256 {sha}"
                    ));
                }
                if let Some(bytes) = bytes {
                    if bytes.len() as u64 != length || sha256_hex(&bytes) != sha {
                        return Err("downloaded bytes differ from the expected ones".to_owned());
                    }
                }
            }
        }
        ("ok", Err((stage, e))) => return Err(format!("expected ok, got {stage} error: {e}")),
        ("error", Ok(_)) => return Err(format!("expected error {expect}, got success")),
        ("error", Err((stage, e))) => {
            let (kind, role) = kind_of(&e);
            let mut kinds = vec![expect["kind"].as_str().unwrap()];
            if let Some(also) = expect["also_acceptable"].as_array() {
                kinds.extend(also.iter().filter_map(Value::as_str));
            }
            let want_stage = expect["stage"].as_str().unwrap();
            if stage != want_stage || !kinds.contains(&kind) {
                return Err(format!(
                    "expected {want_stage} error {kinds:?}, got {stage} error {kind:?}: {e}"
                ));
            }
            if let (Some(want_role), Some(role)) = (expect["role"].as_str(), role) {
                if want_role != role {
                    return Err(format!(
                        "expected role {want_role}, error names {role}: {e}"
                    ));
                }
            }
        }
        (other, _) => return Err(format!("unknown expected result {other}")),
    }
    if let Some(after) = step["trusted_after"].as_object() {
        for (role, want) in after {
            let got = stored_version(&device.store(), role);
            if got != want.as_u64() {
                return Err(format!("trusted {role}: version {got:?}, expected {want}"));
            }
        }
    }
    device.check_contained()
}

fn run_scenario(name: &str) -> Result<(), String> {
    let dir = reference_dir().join(name);
    let scenario: Value =
        serde_json::from_slice(&fs::read(dir.join("scenario.json")).unwrap()).unwrap();
    let fresh = scenario["fresh_client_per_step"].as_bool().unwrap_or(false);
    let mut device = Device::new(&dir, &scenario);
    for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
        if fresh && i > 0 {
            device = Device::new(&dir, &scenario);
        }
        check_step(&dir, &scenario, step, &device)
            .map_err(|e| format!("step {} ({}): {e}", i + 1, step["action"]))?;
    }
    Ok(())
}

#[test]
fn every_reference_scenario() {
    let index: Value =
        serde_json::from_slice(&fs::read(reference_dir().join("scenarios.json")).unwrap()).unwrap();
    let names: Vec<&str> = index["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 27, "the index lists every scenario");
    let mut unexpected = Vec::new();
    for name in &names {
        let gap = KNOWN_GAPS.iter().find(|(n, _)| n == name);
        match (run_scenario(name), gap) {
            (Ok(()), None) => eprintln!("PASS {name}"),
            (Ok(()), Some(_)) => {
                unexpected.push(format!("{name}: passes but is listed in KNOWN_GAPS"))
            }
            (Err(e), Some((_, why))) => eprintln!("KNOWN GAP {name}: {e} ({why})"),
            (Err(e), None) => {
                eprintln!("FAIL {name}: {e}");
                unexpected.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
}

#[test]
fn init_refuses_a_root_not_signed_by_its_own_keys() {
    let dir = reference_dir().join("root-rotation-bad/state1/metadata");
    let tmp = tempfile::tempdir().unwrap();
    // 2.root.json there is signed only by the new key, not by the key the
    // old root names; by itself it is self-signed, so it is accepted…
    let v2 = fs::read(dir.join("2.root.json")).unwrap();
    Updater::init(tmp.path(), &v2).unwrap();
    // …but a different root cannot replace it.
    let v1 = fs::read(dir.join("1.root.json")).unwrap();
    assert!(matches!(
        Updater::init(tmp.path(), &v1),
        Err(TufError::AlreadyInitialised { version: 2, .. })
    ));
    // The same bytes again are fine.
    Updater::init(tmp.path(), &v2).unwrap();
    // A root whose signature does not verify is refused.
    let mut bad: Value = serde_json::from_slice(&v1).unwrap();
    bad["signed"]["version"] = Value::from(7);
    let other = tempfile::tempdir().unwrap();
    assert!(matches!(
        Updater::init(other.path(), &serde_json::to_vec(&bad).unwrap()),
        Err(TufError::Threshold { .. })
    ));
}

#[test]
fn new_without_a_trusted_root_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = reference_dir().join("basic-ed25519");
    let clock = FixedClock::from_unix_secs(0);
    let err = Updater::new(
        &tmp.path().join("store"),
        Box::new(LocalDirTransport::new(&repo.join("metadata")).unwrap()),
        Box::new(LocalDirTransport::new(&repo.join("targets")).unwrap()),
        Limits::default(),
        &clock,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, TufError::NoTrustedRoot { .. }));
}

// --- the anti-rollback floor, on a repository built here -------------------

/// A one-key repository (every role signed by one ed25519 key, no
/// consistent snapshots) publishing one target, `fw.bin`.
struct MiniRepo {
    dir: tempfile::TempDir,
    key: crate::tuf::keys::PrivateKey,
    version: u64,
}

impl MiniRepo {
    fn new() -> MiniRepo {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let pem = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
            .to_pkcs8_pem(Default::default())
            .unwrap();
        let key = crate::tuf::keys::PrivateKey::from_pkcs8_pem(&pem, "ed25519", "ed25519").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("metadata")).unwrap();
        fs::create_dir_all(dir.path().join("targets")).unwrap();
        let repo = MiniRepo {
            dir,
            key,
            version: 0,
        };
        let kid = repo.key.public_key().key_id().unwrap();
        let role = serde_json::json!({"keyids": [kid], "threshold": 1});
        let root = serde_json::json!({
            "_type": "root", "spec_version": "1.0.31", "version": 1,
            "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": false,
            "keys": {kid.clone(): repo.key.public_key().to_json()},
            "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role},
        });
        fs::write(
            repo.dir.path().join("metadata/1.root.json"),
            repo.sign(root),
        )
        .unwrap();
        repo
    }

    fn sign(&self, signed: Value) -> Vec<u8> {
        let canonical = crate::tuf::cjson::canonicalize(&signed).unwrap();
        let sig = self.key.sign(&canonical).unwrap();
        serde_json::to_vec(&serde_json::json!({
            "signed": signed,
            "signatures": [{"keyid": sig.keyid, "sig": sig.sig}],
        }))
        .unwrap()
    }

    /// Publishes `fw.bin` with `content` and `custom`, bumping every version.
    fn publish(&mut self, content: &[u8], custom: Option<Value>) {
        self.version += 1;
        let v = self.version;
        let m = |name: &str| self.dir.path().join("metadata").join(name);
        fs::write(self.dir.path().join("targets/fw.bin"), content).unwrap();
        let mut file = serde_json::json!({
            "length": content.len(), "hashes": {"sha256": sha256_hex(content)},
        });
        if let Some(c) = custom {
            file["custom"] = c;
        }
        let common = |ty: &str| {
            serde_json::json!({"_type": ty, "spec_version": "1.0.31", "version": v,
                "expires": "2030-01-01T00:00:00Z"})
        };
        let mut targets = common("targets");
        targets["targets"] = serde_json::json!({"fw.bin": file});
        let mut snapshot = common("snapshot");
        snapshot["meta"] = serde_json::json!({"targets.json": {"version": v}});
        let mut timestamp = common("timestamp");
        timestamp["meta"] = serde_json::json!({"snapshot.json": {"version": v}});
        fs::write(m("targets.json"), self.sign(targets)).unwrap();
        fs::write(m("snapshot.json"), self.sign(snapshot)).unwrap();
        fs::write(m("timestamp.json"), self.sign(timestamp)).unwrap();
    }

    /// One update cycle and a download of `fw.bin` by a fresh updater.
    fn download(&self, store: &Path, dest: &Path) -> Result<PathBuf, TufError> {
        let clock = FixedClock(parse_expires("2026-11-29T00:00:00Z").unwrap());
        let t = |sub: &str| Box::new(LocalDirTransport::new(&self.dir.path().join(sub)).unwrap());
        let mut updater = Updater::new(
            store,
            t("metadata"),
            t("targets"),
            Limits::default(),
            &clock,
            None,
        )?;
        let info = updater.get_target_info("fw.bin")?;
        updater.download_target(&info, dest)
    }
}

#[test]
fn release_counter_floor_refuses_older_releases_before_writing() {
    let mut repo = MiniRepo::new();
    let device = tempfile::tempdir().unwrap();
    let store = device.path().join("store");
    let dest = device.path().join("targets");
    fs::create_dir_all(&dest).unwrap();
    let root = fs::read(repo.dir.path().join("metadata/1.root.json")).unwrap();
    Updater::init(&store, &root).unwrap();

    // Release 5 installs and sets the floor.
    repo.publish(
        b"release five",
        Some(serde_json::json!({"release_counter": 5})),
    );
    let path = repo.download(&store, &dest).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"release five");
    assert_eq!(TargetFloors::open(&store).unwrap().floor("fw.bin"), Some(5));

    // A validly signed, newer publication of release 4 is refused, and the
    // installed file is untouched.
    repo.publish(
        b"release four",
        Some(serde_json::json!({"release_counter": 4})),
    );
    let err = repo.download(&store, &dest).unwrap_err();
    assert_eq!(
        err,
        TufError::FloorRollback {
            target: "fw.bin".to_owned(),
            floor: 5,
            offered: 4
        }
    );
    assert_eq!(fs::read(&path).unwrap(), b"release five");

    // Once a floor exists, a target without a counter cannot prove it is
    // not older.
    repo.publish(b"no counter", None);
    assert_eq!(
        repo.download(&store, &dest).unwrap_err(),
        TufError::ReleaseCounterMissing {
            target: "fw.bin".to_owned(),
            floor: 5
        }
    );
    // A counter that is not a non-negative integer is malformed.
    repo.publish(
        b"bad counter",
        Some(serde_json::json!({"release_counter": "6"})),
    );
    assert!(matches!(
        repo.download(&store, &dest),
        Err(TufError::Malformed { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), b"release five");

    // Release 6 installs and raises the floor, durably.
    repo.publish(
        b"release six",
        Some(serde_json::json!({"release_counter": 6})),
    );
    repo.download(&store, &dest).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"release six");
    assert_eq!(TargetFloors::open(&store).unwrap().floor("fw.bin"), Some(6));
    // The trusted store followed every publication.
    assert_eq!(stored_version(&store, "timestamp"), Some(5));
}

#[test]
fn equal_timestamp_keeps_the_trusted_state_without_downloading_more() {
    let mut repo = MiniRepo::new();
    let device = tempfile::tempdir().unwrap();
    let store = device.path().join("store");
    let dest = device.path().join("targets");
    fs::create_dir_all(&dest).unwrap();
    let root = fs::read(repo.dir.path().join("metadata/1.root.json")).unwrap();
    Updater::init(&store, &root).unwrap();
    repo.publish(b"one", None);
    repo.download(&store, &dest).unwrap();
    // The server loses its snapshot and targets but still serves the same
    // timestamp: §5.4.3.1 ends the cycle on the trusted state.
    fs::remove_file(repo.dir.path().join("metadata/snapshot.json")).unwrap();
    fs::remove_file(repo.dir.path().join("metadata/targets.json")).unwrap();
    repo.download(&store, &dest).unwrap();
    assert_eq!(stored_version(&store, "snapshot"), Some(1));
}

#[test]
fn one_updater_follows_its_own_root_rotations_across_refreshes() {
    let mut repo = MiniRepo::new();
    let device = tempfile::tempdir().unwrap();
    let store = device.path().join("store");
    let v1 = fs::read(repo.dir.path().join("metadata/1.root.json")).unwrap();
    Updater::init(&store, &v1).unwrap();
    repo.publish(b"one", None);
    let clock = FixedClock(parse_expires("2026-11-29T00:00:00Z").unwrap());
    let t = |sub: &str| Box::new(LocalDirTransport::new(&repo.dir.path().join(sub)).unwrap());
    let mut updater = Updater::new(
        &store,
        t("metadata"),
        t("targets"),
        Limits::default(),
        &clock,
        None,
    )
    .unwrap();
    updater.refresh().unwrap();
    assert_eq!(stored_version(&store, "root"), Some(1));
    let root_v = |v: u64| {
        let mut signed = serde_json::from_slice::<Value>(&v1).unwrap()["signed"].clone();
        signed["version"] = v.into();
        repo.sign(signed)
    };
    let root_file = |v: u64| repo.dir.path().join(format!("metadata/{v}.root.json"));
    fs::write(root_file(2), root_v(2)).unwrap();
    updater.refresh().unwrap();
    assert_eq!(stored_version(&store, "root"), Some(2));
    // The updater now trusts root 2 (checked once, in `new`, then kept in
    // step with the store): it asks for 3.root.json, not 2.root.json again.
    fs::remove_file(root_file(2)).unwrap();
    fs::write(root_file(3), root_v(3)).unwrap();
    updater.refresh().unwrap();
    assert_eq!(stored_version(&store, "root"), Some(3));
    assert_eq!(updater.get_target_info("fw.bin").unwrap().length(), 3);
}
