//! Support for the per-threat TUF tests (`tests/tests/tuf_threat_*.rs`,
//! issue 3): a device with a trusted store seeded from a reference
//! scenario's `client/root.json`, an [`Updater`] over one of the
//! scenario's repository directories (through [`LocalDirTransport`]s, at
//! the scenarios' reference time), and the store's bytes and versions so a
//! test can show that rejected metadata changed nothing.
//!
//! The reference repositories are described in
//! `tests/data/tuf/reference/README.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::repo_dir;
use dha_core::FixedClock;
use dha_core::tuf::client::{TargetInfo, Updater};
use dha_core::tuf::repo::{DelegationKind, InitOptions, KeyType, Repository};
use dha_core::tuf::store::role_file_name;
use dha_core::tuf::transport::LocalDirTransport;
use dha_core::tuf::{Limits, TufError};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The scenarios' reference time, 2026-11-29T00:00:00Z, in Unix seconds.
pub const REFERENCE_TIME: u64 = 1_795_910_400;

/// The reference time as a [`SystemTime`].
pub fn reference_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(REFERENCE_TIME)
}

/// `tests/data/tuf/reference`.
pub fn reference_dir() -> PathBuf {
    repo_dir().join("tests/data/tuf/reference")
}

/// The repository directory of `scenario` in `state` (`"."` for the
/// scenarios with one state): it holds `metadata/` and `targets/`.
pub fn repository(scenario: &str, state: &str) -> PathBuf {
    let dir = reference_dir().join(scenario).join(state);
    assert!(
        dir.join("metadata").is_dir(),
        "no repository {}",
        dir.display()
    );
    dir
}

/// A device: a trusted store and a target directory in a temporary
/// directory, a clock at [`REFERENCE_TIME`], limits and a hardware id.
///
/// The store is `<tmp>/a/b/store` and the targets `<tmp>/a/b/targets`, so a
/// file escaping by `../..` lands inside `<tmp>`, where
/// [`Device::outside_files`] sees it.
pub struct Device {
    tmp: tempfile::TempDir,
    /// The clock every updater of this device uses.
    pub clock: FixedClock,
    /// The limits every updater of this device uses.
    pub limits: Limits,
    /// The device's hardware id, if it has one.
    pub hardware_id: Option<String>,
}

impl Device {
    /// A device whose store is seeded with `root_bytes` (§5.2).
    pub fn with_root(root_bytes: &[u8]) -> Device {
        let device = Device {
            tmp: tempfile::tempdir().unwrap(),
            clock: FixedClock::from_unix_secs(REFERENCE_TIME),
            limits: Limits::default(),
            hardware_id: None,
        };
        fs::create_dir_all(device.targets()).unwrap();
        Updater::init(&device.store(), root_bytes).unwrap();
        device
    }

    /// A device seeded with `scenario`'s `client/root.json`.
    pub fn for_scenario(scenario: &str) -> Device {
        let root = reference_dir().join(scenario).join("client/root.json");
        Device::with_root(&fs::read(&root).unwrap())
    }

    /// The trusted metadata store.
    pub fn store(&self) -> PathBuf {
        self.tmp.path().join("a/b/store")
    }

    /// The directory targets are downloaded to.
    pub fn targets(&self) -> PathBuf {
        self.tmp.path().join("a/b/targets")
    }

    /// An updater over `repo` (a directory holding `metadata/` and
    /// `targets/`): one update cycle, as each scenario step is.
    pub fn updater(&self, repo: &Path) -> Result<Updater<'_>, TufError> {
        let metadata = LocalDirTransport::new(&repo.join("metadata"))?;
        let targets = LocalDirTransport::new(&repo.join("targets"))?;
        Updater::new(
            &self.store(),
            Box::new(metadata),
            Box::new(targets),
            self.limits,
            &self.clock,
            self.hardware_id.clone(),
        )
    }

    /// A refresh (§5.3 to §5.6) against `repo`.
    pub fn refresh(&self, repo: &Path) -> Result<(), TufError> {
        self.updater(repo)?.refresh()
    }

    /// A refresh, then the delegation search for `target` (§5.6.7).
    pub fn lookup(&self, repo: &Path, target: &str) -> Result<TargetInfo, TufError> {
        let mut updater = self.updater(repo)?;
        updater.refresh()?;
        updater.get_target_info(target)
    }

    /// A lookup, then the download of `target` (§5.7); its bytes.
    pub fn download(&self, repo: &Path, target: &str) -> Result<Vec<u8>, TufError> {
        let mut updater = self.updater(repo)?;
        updater.refresh()?;
        let info = updater.get_target_info(target)?;
        let path = updater.download_target(&info, &self.targets())?;
        Ok(fs::read(path).unwrap())
    }

    /// Every file of the store with its bytes.
    pub fn store_bytes(&self) -> BTreeMap<String, Vec<u8>> {
        fs::read_dir(self.store())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    /// The stored bytes of `role`, if any.
    pub fn role_bytes(&self, role: &str) -> Option<Vec<u8>> {
        fs::read(self.store().join(role_file_name(role).unwrap())).ok()
    }

    /// The version of the stored `role`, if it is stored.
    pub fn stored_version(&self, role: &str) -> Option<u64> {
        let bytes = self.role_bytes(role)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        Some(v["signed"]["version"].as_u64().unwrap())
    }

    /// Files that appeared around the store and target directories (a
    /// target escaping them), empty when there are none.
    pub fn outside_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for (dir, allowed) in [
            (self.tmp.path().to_path_buf(), "a"),
            (self.tmp.path().join("a"), "b"),
        ] {
            for e in fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                if e.file_name() != allowed {
                    out.push(e.path());
                }
            }
        }
        for e in fs::read_dir(self.tmp.path().join("a/b")).unwrap() {
            let e = e.unwrap();
            if e.file_name() != "store" && e.file_name() != "targets" {
                out.push(e.path());
            }
        }
        out
    }
}

/// Runs `step` and asserts that it fails and that the store's bytes are the
/// same afterwards as before: the rejected metadata was not trusted.
pub fn assert_rejected_unchanged<T: std::fmt::Debug>(
    device: &Device,
    step: impl FnOnce() -> Result<T, TufError>,
) -> TufError {
    let before = device.store_bytes();
    let err = match step() {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(
        before,
        device.store_bytes(),
        "the store changed although the step failed with {err}"
    );
    err
}

/// A repository built in the test with [`Repository`] (ed25519 keys, one
/// delegation key `delegate`), for the past bugs the reference fixtures do
/// not cover. Signed at [`reference_time`].
pub struct BuiltRepo {
    tmp: tempfile::TempDir,
    /// The repository.
    pub repo: Repository,
}

impl BuiltRepo {
    /// A fresh repository with a delegation key named `delegate`.
    pub fn new() -> BuiltRepo {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(
            &tmp.path().join("repo"),
            &InitOptions::default(),
            reference_time(),
        )
        .unwrap();
        repo.keygen("delegate", KeyType::Ed25519).unwrap();
        BuiltRepo { tmp, repo }
    }

    /// The directory holding `metadata/` and `targets/`.
    pub fn dir(&self) -> &Path {
        self.repo.dir()
    }

    /// `parent` delegates `paths` to a new role `name` (key `delegate`,
    /// threshold 1).
    pub fn delegate(&mut self, parent: &str, name: &str, paths: &[&str], terminating: bool) {
        let kind = DelegationKind::Paths {
            name: name.to_owned(),
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            terminating,
        };
        self.repo
            .delegate(parent, &kind, &["delegate".to_owned()], 1, reference_time())
            .unwrap();
    }

    /// Adds target `name` with `content`, listed by `role`.
    pub fn add(&mut self, role: &str, name: &str, content: &[u8]) {
        let src = self.tmp.path().join("source.bin");
        fs::write(&src, content).unwrap();
        self.repo
            .add_target(&src, name, Some(role), None, reference_time())
            .unwrap();
    }

    /// Makes the staged `from` delegate (its paths, keys and threshold as
    /// `via` delegates it) to the existing role `to` as well: something
    /// [`Repository::delegate`] refuses (the role exists), needed to close
    /// a delegation cycle. Call before [`BuiltRepo::publish`], while `from`
    /// is still unpublished (it is then signed by the publish).
    pub fn delegate_existing(&mut self, via: &str, to: &str, from: &str) {
        let staged = self.repo.dir().join("staged");
        let read = |role: &str| -> serde_json::Value {
            serde_json::from_slice(&fs::read(staged.join(role_file_name(role).unwrap())).unwrap())
                .unwrap()
        };
        let parent = read(via);
        let entry = parent["signed"]["delegations"]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == to)
            .unwrap()
            .clone();
        let keys = parent["signed"]["delegations"]["keys"].clone();
        let mut doc = read(from);
        let delegations = doc["signed"]
            .as_object_mut()
            .unwrap()
            .entry("delegations")
            .or_insert_with(|| serde_json::json!({"keys": {}, "roles": []}));
        for (id, k) in keys.as_object().unwrap() {
            delegations["keys"][id] = k.clone();
        }
        delegations["roles"].as_array_mut().unwrap().push(entry);
        fs::write(
            staged.join(role_file_name(from).unwrap()),
            serde_json::to_vec_pretty(&doc).unwrap(),
        )
        .unwrap();
    }

    /// Publishes everything staged.
    pub fn publish(&mut self) {
        self.repo.publish(reference_time()).unwrap();
    }

    /// A device trusting this repository's first root.
    pub fn device(&self) -> Device {
        Device::with_root(&fs::read(self.repo.metadata_dir().join("1.root.json")).unwrap())
    }
}

impl Default for BuiltRepo {
    fn default() -> Self {
        BuiltRepo::new()
    }
}
