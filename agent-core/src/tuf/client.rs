//! The client workflow of TUF 1.0.34 §5 ("Detailed client workflow"),
//! §5.1 to §5.7, over the building blocks of this module's siblings.
//!
//! An [`Updater`] runs one update cycle per [`Updater::refresh`]:
//! - §5.1: the update start time is read once from the clock; every expiry
//!   in the cycle (delegated roles and target lookups included) is judged
//!   against it;
//! - §5.2: the trusted root is loaded from the [`TrustedStore`], which
//!   [`Updater::init`] seeds with the root the device ships;
//! - §5.3: root versions N+1, N+2, … are applied one at a time (each signed
//!   by the threshold of the trusted root and of itself, each exactly N+1,
//!   at most [`Limits::max_root_rotations`]), then the freeze check and the
//!   fast-forward recovery;
//! - §5.4 to §5.6: timestamp, snapshot and top-level targets with their
//!   hash, length, signature, version, rollback and expiry checks, in the
//!   order the specification gives;
//! - without network, [`Updater::load_from_store`] re-verifies the chain
//!   already in the store (§5.2's trusted root, then the stored timestamp,
//!   snapshot and targets with their signatures, versions, hashes and
//!   expiry) so that a target can be looked up offline;
//! - §5.6.7: [`Updater::get_target_info`] searches the delegations
//!   depth-first, pre-order, with a visited set and a cap on roles visited;
//! - §5.7: [`Updater::download_target`] refuses unsafe names, wrong
//!   hardware and releases below the anti-rollback floor before writing
//!   anything, then streams the target through
//!   [`target::download_target`].
//!
//! Nothing reaches the store before every check of its role has passed
//! (DESIGN.md "Nothing already trusted is overwritten by something not yet
//! verified").
//!
//! ## Trusted copies are re-checked, not re-downloaded
//!
//! As the reference client does (python-tuf `ngclient.Updater._load_snapshot`,
//! `_load_targets`), the snapshot, targets and delegated roles already in the
//! store are used for the current cycle when they pass every check the
//! fresh download would have to pass (length and hashes from the referring
//! metadata, signatures, exact version, expiry); otherwise they are fetched.
//! Trusted copies that no longer verify under the current root are ignored
//! for rollback checks (with a warning), as the reference does.
//!
//! ## Device additions (issue 3, in the spirit of Uptane)
//!
//! - [`HARDWARE_ID_FIELD`]: a target whose `custom.hardware_id` names other
//!   hardware than the device's is refused ([`TufError::HardwareIdMismatch`])
//!   when the updater knows the device's hardware id. A target without the
//!   field is meant for any hardware.
//! - [`RELEASE_COUNTER_FIELD`]: `custom.release_counter`, a non-negative
//!   integer. The device keeps, per target name, the highest counter it
//!   installed ([`TargetFloors`]); a lower one is refused
//!   ([`TufError::FloorRollback`]) and, once a floor exists, so is a target
//!   that lists no counter ([`TufError::ReleaseCounterMissing`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ring::digest;
use serde_json::Value;

use super::TufError;
use super::hex::eq as hex_eq;
use super::limits::Limits;
use super::metadata::{MetaFile, Metadata, Root, Signed, Snapshot, TargetFile, Targets, Timestamp};
use super::store::{TargetFloors, TrustedStore, percent_encode};
use super::target::{self, target_components};
use super::transport::{Transport, fetch_bytes};
use crate::Clock;

/// The custom field of a target naming the hardware it is built for.
pub const HARDWARE_ID_FIELD: &str = "hardware_id";

/// The custom field of a target holding its release counter: a
/// non-negative integer that the device's anti-rollback floor for the
/// target name may never exceed.
pub const RELEASE_COUNTER_FIELD: &str = "release_counter";

/// A target found in verified targets metadata (TUF 1.0.34 §5.7.1): what
/// [`Updater::download_target`] needs. Only [`Updater::get_target_info`]
/// makes one, so its length and hashes always come from verified metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInfo {
    name: String,
    file: TargetFile,
    role: String,
    consistent_snapshot: bool,
}

impl TargetInfo {
    /// The target's name (its path in the repository).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its length in bytes.
    pub fn length(&self) -> u64 {
        self.file.length
    }

    /// Its hashes: algorithm → lowercase hex digest.
    pub fn hashes(&self) -> &BTreeMap<String, String> {
        &self.file.hashes
    }

    /// Its `custom` object, as listed.
    pub fn custom(&self) -> Option<&Value> {
        self.file.custom.as_ref()
    }

    /// The role whose metadata listed it (`targets` or a delegated role).
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The `hardware_id` custom field ([`HARDWARE_ID_FIELD`]), if listed.
    /// A value that is not a string is [`TufError::Malformed`].
    pub fn hardware_id(&self) -> Result<Option<&str>, TufError> {
        match self.custom_field(HARDWARE_ID_FIELD) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad_custom(HARDWARE_ID_FIELD, "must be a string")),
        }
    }

    /// The `release_counter` custom field ([`RELEASE_COUNTER_FIELD`]), if
    /// listed. A value that is not a non-negative integer is
    /// [`TufError::Malformed`].
    pub fn release_counter(&self) -> Result<Option<u64>, TufError> {
        match self.custom_field(RELEASE_COUNTER_FIELD) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                self.bad_custom(RELEASE_COUNTER_FIELD, "must be a non-negative integer")
            }),
        }
    }

    fn custom_field(&self, field: &str) -> Option<&Value> {
        self.file.custom.as_ref().and_then(|c| c.get(field))
    }

    fn bad_custom(&self, field: &str, why: &str) -> TufError {
        TufError::Malformed {
            role: self.role.clone(),
            message: format!("signed.targets.{}.custom.{field}: {why}", self.name),
        }
    }

    /// The path of the target relative to the targets base (TUF 1.0.34
    /// §5.7.2): with consistent snapshots `<dir>/<hash>.<base name>`, with
    /// the SHA-256 digest when listed, else the first listed one.
    fn url_path(&self) -> String {
        if !self.consistent_snapshot {
            return self.name.clone();
        }
        let hash = self
            .file
            .hashes
            .get("sha256")
            .or_else(|| self.file.hashes.values().next());
        match (hash, self.name.rsplit_once('/')) {
            (None, _) => self.name.clone(),
            (Some(h), Some((dir, base))) => format!("{dir}/{h}.{base}"),
            (Some(h), None) => format!("{h}.{}", self.name),
        }
    }
}

/// The state verified by one update cycle.
#[derive(Debug)]
struct Cycle {
    /// §5.1: the fixed update start time.
    start: SystemTime,
    snapshot: Metadata<Snapshot>,
    targets: Metadata<Targets>,
    /// Delegated roles loaded in this cycle, by (delegating role, role):
    /// a role is trusted only with the keys of the role that delegated it.
    delegated: BTreeMap<(String, String), Metadata<Targets>>,
}

/// The keys allowed to sign a role and how many must: from root for a
/// top-level role, from the delegating role for a delegated one.
#[derive(Clone, Copy)]
struct Signers<'a> {
    keys: &'a BTreeMap<String, Value>,
    keyids: &'a [String],
    threshold: u64,
}

impl<'a> Signers<'a> {
    /// The signers root gives a top-level role.
    fn top_level(root: &'a Root, role: &str) -> Result<Self, TufError> {
        let (keyids, threshold) = top_role(root, role)?;
        Ok(Signers {
            keys: &root.keys,
            keyids,
            threshold,
        })
    }
}

/// What a role's metadata must be, as its referring metadata says.
struct Expected<'a> {
    role: &'a str,
    meta: &'a MetaFile,
    /// The bound when `meta` gives no length.
    limit: u64,
    signers: Signers<'a>,
}

/// A stored role's bytes and its metadata, parsed and signature-checked.
type Stored<T> = (Vec<u8>, Metadata<T>);

/// A delegated role waiting to be visited in the search of §5.6.7.
struct Pending {
    name: String,
    parent: String,
    keys: BTreeMap<String, Value>,
    keyids: Vec<String>,
    threshold: u64,
}

/// A blocking TUF client over a trusted metadata store and two transports
/// (metadata and targets).
pub struct Updater<'c> {
    store: TrustedStore,
    floors: TargetFloors,
    metadata: Box<dyn Transport>,
    targets: Box<dyn Transport>,
    limits: Limits,
    clock: &'c dyn Clock,
    hardware_id: Option<String>,
    /// The trusted root (TUF 1.0.34 §5.2): loaded from the store and checked
    /// once, in [`Updater::new`], then replaced by each root §5.3 accepts
    /// and persists, so it is always the root the store holds.
    root: Metadata<Root>,
    cycle: Option<Cycle>,
    /// Made by [`Updater::offline`]: lookups load the stored chain instead
    /// of refreshing.
    offline: bool,
}

impl std::fmt::Debug for Updater<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("store", &self.store.dir())
            .field("limits", &self.limits)
            .field("hardware_id", &self.hardware_id)
            .field("refreshed", &self.cycle.is_some())
            .finish_non_exhaustive()
    }
}

/// The bound the store reads and writes with: the largest of the metadata
/// limits (metadata longer than that is never accepted by a download either,
/// unless a parent lists a larger length, which then fails to store).
fn store_bound(limits: &Limits) -> u64 {
    limits
        .max_root_bytes
        .max(limits.max_timestamp_bytes)
        .max(limits.max_snapshot_bytes)
        .max(limits.max_targets_bytes)
}

fn malformed(role: &str, message: impl Into<String>) -> TufError {
    TufError::Malformed {
        role: role.to_owned(),
        message: message.into(),
    }
}

/// Checks that `root` is signed by the threshold of its own root keys.
fn verify_self_signed(root: &Metadata<Root>) -> Result<(), TufError> {
    let rk = root
        .signed
        .role("root")
        .ok_or_else(|| malformed("root", "signed.roles.root: missing"))?;
    root.verify("root", &root.signed.keys, &rk.keyids, rk.threshold)
}

/// TUF 1.0.34 §5.2: the trusted root of `store`, checked to be signed by its
/// own threshold (the store could have been damaged since it was written).
/// Done once per [`Updater`], in [`Updater::new`].
fn load_trusted_root(store: &TrustedStore) -> Result<Metadata<Root>, TufError> {
    let bytes = store.load("root")?.ok_or_else(|| TufError::NoTrustedRoot {
        path: store.dir().display().to_string(),
    })?;
    let root = Metadata::<Root>::from_bytes("root", &bytes)?;
    verify_self_signed(&root)?;
    Ok(root)
}

/// The keys and threshold root gives a top-level role, or an error naming it.
fn top_role<'r>(root: &'r Root, role: &str) -> Result<(&'r [String], u64), TufError> {
    root.role(role)
        .map(|r| (r.keyids.as_slice(), r.threshold))
        .ok_or_else(|| malformed("root", format!("signed.roles.{role}: missing")))
}

/// Whether a top-level role's keys or threshold differ between two roots
/// (TUF 1.0.34 §5.3.11 "if the timestamp and / or snapshot keys have been
/// rotated").
fn role_keys_changed(old: &Root, new: &Root, role: &str) -> bool {
    let describe = |root: &Root| {
        root.role(role).map(|r| {
            let mut keys: Vec<(String, Option<Value>)> = r
                .keyids
                .iter()
                .map(|id| (id.clone(), root.keys.get(id).cloned()))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            (keys, r.threshold)
        })
    };
    describe(old) != describe(new)
}

/// Checks the length and the supported hashes (`sha256`, `sha384`,
/// `sha512`) that the referring metadata lists for a role's bytes
/// (TUF 1.0.34 §5.5.2, §5.6.2). Unknown algorithms are skipped, but at
/// least one listed algorithm must be supported.
fn check_length_and_hashes(role: &str, bytes: &[u8], meta: &MetaFile) -> Result<(), TufError> {
    if let Some(length) = meta.length {
        if u64::try_from(bytes.len()).ok() != Some(length) {
            return Err(TufError::MetadataLength {
                role: role.to_owned(),
                expected: length,
            });
        }
    }
    let Some(hashes) = &meta.hashes else {
        return Ok(());
    };
    let mut checked = 0usize;
    for (algorithm, want) in hashes {
        let alg = match algorithm.as_str() {
            "sha256" => &digest::SHA256,
            "sha384" => &digest::SHA384,
            "sha512" => &digest::SHA512,
            _ => continue,
        };
        let got = digest::digest(alg, bytes);
        if !hex_eq(got.as_ref(), want) {
            return Err(TufError::MetadataHash {
                role: role.to_owned(),
                algorithm: algorithm.clone(),
            });
        }
        checked = checked.saturating_add(1);
    }
    if checked == 0 {
        return Err(TufError::MetadataHash {
            role: role.to_owned(),
            algorithm: format!(
                "no supported algorithm among {}",
                hashes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok(())
}

impl<'c> Updater<'c> {
    /// Seeds the trusted store in `store_dir` with the root the device ships
    /// (TUF 1.0.34 §5.2: "a good, trusted copy of this file was shipped …
    /// using an out-of-band process"). The root must parse and be signed by
    /// the threshold of its own root keys; its expiry does not matter (§5.2:
    /// it is updated in §5.3). A store that already trusts the same bytes is
    /// left as it is; one that trusts other bytes is
    /// [`TufError::AlreadyInitialised`] (re-seeding could roll it back).
    pub fn init(store_dir: &Path, root_bytes: &[u8]) -> Result<(), TufError> {
        let limits = Limits::default();
        if u64::try_from(root_bytes.len()).unwrap_or(u64::MAX) > limits.max_root_bytes {
            return Err(TufError::MetadataTooLarge {
                role: "root".to_owned(),
                limit: limits.max_root_bytes,
            });
        }
        let root = Metadata::<Root>::from_bytes("root", root_bytes)?;
        verify_self_signed(&root)?;
        let store = TrustedStore::open(store_dir, store_bound(&limits))?;
        if let Some(existing) = store.load("root")? {
            if existing == root_bytes {
                return Ok(());
            }
            let version = Metadata::<Root>::from_bytes("root", &existing)
                .map(|m| m.version())
                .unwrap_or(0);
            return Err(TufError::AlreadyInitialised {
                path: store_dir.display().to_string(),
                version,
            });
        }
        store.store("root", root_bytes)
    }

    /// An updater over the store in `store_dir` (seeded by
    /// [`Updater::init`]), fetching metadata through `transport_metadata`
    /// and targets through `transport_targets`, bounded by `limits`, taking
    /// the time from `clock`. With `device_hardware_id`, targets declared
    /// for other hardware are refused (see the module documentation).
    ///
    /// The trusted root is loaded and checked here, so a store that was
    /// never initialised fails now ([`TufError::NoTrustedRoot`]).
    pub fn new(
        store_dir: &Path,
        transport_metadata: Box<dyn Transport>,
        transport_targets: Box<dyn Transport>,
        limits: Limits,
        clock: &'c dyn Clock,
        device_hardware_id: Option<String>,
    ) -> Result<Self, TufError> {
        let store = TrustedStore::open(store_dir, store_bound(&limits))?;
        let floors = TargetFloors::open(store_dir)?;
        let root = load_trusted_root(&store)?;
        // A rotation a power cut interrupted (§5.3.11, see update_root).
        store.settle_rotation(root.version())?;
        Ok(Updater {
            store,
            floors,
            metadata: transport_metadata,
            targets: transport_targets,
            limits,
            clock,
            hardware_id: device_hardware_id,
            root,
            cycle: None,
            offline: false,
        })
    }

    /// An updater that never uses the network: [`Updater::get_target_info`]
    /// finds targets in the metadata already in the store (see
    /// [`Updater::load_from_store`]); [`Updater::refresh`] and downloads
    /// fail with [`TufError::Io`] naming the offline mode.
    pub fn offline(
        store_dir: &Path,
        limits: Limits,
        clock: &'c dyn Clock,
        device_hardware_id: Option<String>,
    ) -> Result<Self, TufError> {
        let mut updater = Updater::new(
            store_dir,
            Box::new(Offline),
            Box::new(Offline),
            limits,
            clock,
            device_hardware_id,
        )?;
        updater.offline = true;
        Ok(updater)
    }

    /// Makes the trusted metadata already in the store the verified state
    /// for [`Updater::get_target_info`], without fetching anything: the
    /// chain is re-verified as an update cycle would verify fresh copies,
    /// against the clock's time now (the start time, TUF 1.0.34 §5.1).
    ///
    /// - §5.2: the trusted root (loaded and checked to be signed by its own
    ///   threshold when this updater was made); §5.3.10: not expired.
    /// - the stored timestamp: signed by the threshold of the root's
    ///   timestamp keys (§5.4.2); §5.4.4: not expired.
    /// - the stored snapshot: the length, hashes and version the timestamp
    ///   lists (§5.5.2, §5.5.4), signed by the root's snapshot keys
    ///   (§5.5.3); §5.5.6: not expired.
    /// - the stored top-level targets: the same against the snapshot's
    ///   entry and the root's targets keys (§5.6.2 to §5.6.4); §5.6.5: not
    ///   expired.
    ///
    /// The copies were checked when they were stored; they are checked
    /// again because the store could have been damaged since, and because
    /// time has passed (an expired copy is refused: a device offline for
    /// too long must not install what may since have been revoked). A role
    /// with no stored copy is [`TufError::NotStored`]. Delegated roles are
    /// loaded during the search, from the store, with the checks of
    /// §5.6.1 to §5.6.6.
    pub fn load_from_store(&mut self) -> Result<(), TufError> {
        self.cycle = None;
        let start = self.clock.now();
        let root = &self.root;
        // §5.3.10: the trusted root must not be expired.
        if root.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "root".to_owned(),
            });
        }
        let stored = |role: &str| -> Result<Vec<u8>, TufError> {
            self.store.load(role)?.ok_or_else(|| TufError::NotStored {
                role: role.to_owned(),
                path: self.store.dir().display().to_string(),
            })
        };
        // The timestamp: §5.4.2 signatures, §5.4.4 expiry.
        let signers = Signers::top_level(&root.signed, "timestamp")?;
        let bytes = stored("timestamp")?;
        let timestamp = Metadata::<Timestamp>::from_bytes("timestamp", &bytes)?;
        timestamp.verify("timestamp", signers.keys, signers.keyids, signers.threshold)?;
        if timestamp.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "timestamp".to_owned(),
            });
        }
        // The snapshot: §5.5.2 to §5.5.4 against the timestamp, §5.5.6.
        let want = Expected {
            role: "snapshot",
            meta: &timestamp.signed.snapshot_meta,
            limit: self.limits.max_snapshot_bytes,
            signers: Signers::top_level(&root.signed, "snapshot")?,
        };
        let snapshot = Self::check_role_bytes::<Snapshot>(&stored("snapshot")?, &want)?;
        if snapshot.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "snapshot".to_owned(),
            });
        }
        // The top-level targets: §5.6.2 to §5.6.4 against the snapshot, §5.6.5.
        let meta = snapshot
            .signed
            .meta
            .get("targets.json")
            .ok_or_else(|| TufError::NotListed {
                role: "targets".to_owned(),
                listed_in: "snapshot".to_owned(),
            })?;
        let want = Expected {
            role: "targets",
            meta,
            limit: self.limits.max_targets_bytes,
            signers: Signers::top_level(&root.signed, "targets")?,
        };
        let targets = Self::check_role_bytes::<Targets>(&stored("targets")?, &want)?;
        if targets.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "targets".to_owned(),
            });
        }
        self.cycle = Some(Cycle {
            start,
            snapshot,
            targets,
            delegated: BTreeMap::new(),
        });
        Ok(())
    }

    /// The trusted copy of `role` if it parses and is signed by the
    /// threshold given; `None` (with a warning) if it does not, as the
    /// reference ignores local metadata that no longer verifies. Read errors
    /// of the store are errors.
    fn load_trusted<T: Signed>(
        &self,
        role: &str,
        signers: Signers<'_>,
    ) -> Result<Option<Metadata<T>>, TufError> {
        Ok(self.load_stored(role, signers)?.map(|(_, md)| md))
    }

    /// [`Updater::load_trusted`], with the bytes read: the stored copy of
    /// `role`, read, parsed and its signatures checked once.
    fn load_stored<T: Signed>(
        &self,
        role: &str,
        signers: Signers<'_>,
    ) -> Result<Option<Stored<T>>, TufError> {
        let Some(bytes) = self.store.load(role)? else {
            return Ok(None);
        };
        let checked = Metadata::<T>::from_bytes(role, &bytes).and_then(|md| {
            md.verify(role, signers.keys, signers.keyids, signers.threshold)
                .map(|()| md)
        });
        match checked {
            Ok(md) => Ok(Some((bytes, md))),
            Err(e) => {
                log::warn!("ignoring the trusted {role} metadata: {e}");
                Ok(None)
            }
        }
    }

    /// Fetches metadata at `path`, bounded by `bound`; a longer file is
    /// [`TufError::MetadataLength`] when the bound is a length the referring
    /// metadata gives, [`TufError::MetadataTooLarge`] when it is a limit.
    fn fetch_metadata(
        &self,
        role: &str,
        path: &str,
        bound: u64,
        bound_is_length: bool,
    ) -> Result<Vec<u8>, TufError> {
        fetch_bytes(self.metadata.as_ref(), path, bound).map_err(|e| match e {
            TufError::TooLarge { .. } if bound_is_length => TufError::MetadataLength {
                role: role.to_owned(),
                expected: bound,
            },
            TufError::TooLarge { .. } => TufError::MetadataTooLarge {
                role: role.to_owned(),
                limit: bound,
            },
            other => other,
        })
    }

    /// The checks of a role's bytes against what the referring metadata
    /// says, in the order of TUF 1.0.34 §5.5.2–§5.5.4 and §5.6.2–§5.6.4:
    /// length and hashes, then signatures, then the exact version. Rollback
    /// and expiry are the caller's (they come after, §5.5.5, §5.5.6, §5.6.5).
    fn check_role_bytes<T: Signed>(
        bytes: &[u8],
        want: &Expected<'_>,
    ) -> Result<Metadata<T>, TufError> {
        check_length_and_hashes(want.role, bytes, want.meta)?;
        let md = Metadata::<T>::from_bytes(want.role, bytes)?;
        let s = want.signers;
        md.verify(want.role, s.keys, s.keyids, s.threshold)?;
        if md.version() != want.meta.version {
            return Err(TufError::VersionMismatch {
                role: want.role.to_owned(),
                expected: want.meta.version,
                got: md.version(),
            });
        }
        Ok(md)
    }

    /// The trusted copy of a role if it passes every check a fresh download
    /// would (including expiry at `start`), so it need not be fetched again.
    fn reusable<T: Signed>(
        &self,
        want: &Expected<'_>,
        start: SystemTime,
    ) -> Result<Option<Metadata<T>>, TufError> {
        let Some(bytes) = self.store.load(want.role)? else {
            return Ok(None);
        };
        match Self::check_role_bytes::<T>(&bytes, want) {
            Ok(md) if !md.is_expired_at(start) => Ok(Some(md)),
            Ok(_) => Ok(None),
            Err(e) => {
                log::debug!("trusted {} not reused: {e}", want.role);
                Ok(None)
            }
        }
    }

    /// Fetches a role's metadata as the referring metadata describes it
    /// (TUF 1.0.34 §5.5.1, §5.6.1: bounded by the listed length or the
    /// limit; with consistent snapshots under `VERSION.NAME.json`).
    fn fetch_role(&self, want: &Expected<'_>, consistent: bool) -> Result<Vec<u8>, TufError> {
        let file = format!("{}.json", percent_encode(want.role));
        let path = if consistent {
            format!("{}.{file}", want.meta.version)
        } else {
            file
        };
        match want.meta.length {
            Some(length) => self.fetch_metadata(want.role, &path, length, true),
            None => self.fetch_metadata(want.role, &path, want.limit, false),
        }
    }

    /// Runs one update cycle (TUF 1.0.34 §5.1 to §5.6.6): root, timestamp,
    /// snapshot and top-level targets. On success the verified state is
    /// kept for [`Updater::get_target_info`]; on error none is, and the store
    /// keeps only what passed every check.
    pub fn refresh(&mut self) -> Result<(), TufError> {
        let cycle = self.run_cycle();
        // The roles stored in the cycle become durable here, in one
        // directory sync, before the cycle reports anything (store module
        // documentation, "When the directory is synced").
        let synced = self.store.sync();
        cycle.and(synced)
    }

    /// [`Updater::refresh`] before its final directory sync.
    fn run_cycle(&mut self) -> Result<(), TufError> {
        self.cycle = None;
        // §5.1: "Record the time at which the update began as the fixed
        // update start time", read once for the whole cycle.
        let start = self.clock.now();
        self.update_root(start)?;
        let root = &self.root;
        let timestamp = self.update_timestamp(root, start)?;
        let snapshot = self.update_snapshot(root, &timestamp, start)?;
        let targets = self.update_targets(root, &snapshot, start)?;
        self.cycle = Some(Cycle {
            start,
            snapshot,
            targets,
            delegated: BTreeMap::new(),
        });
        Ok(())
    }

    /// TUF 1.0.34 §5.2 and §5.3: starts from the trusted root and applies
    /// every newer root one version at a time, each becoming `self.root` as
    /// it is persisted (so `self.root` stays the stored root on error).
    fn update_root(&mut self, start: SystemTime) -> Result<(), TufError> {
        // §5.2: the trusted root metadata file, loaded from the store and
        // checked (signed by its own threshold) in `Updater::new`; after a
        // previous cycle, the last root §5.3 persisted.
        let mut rotations: u32 = 0;
        loop {
            if rotations >= self.limits.max_root_rotations {
                // §5.3.3: a fixed cap on root versions applied in one cycle
                // (the reference stops looking, without error).
                log::warn!(
                    "stopped after {rotations} root rotations (limit); root {} is trusted",
                    self.root.version()
                );
                break;
            }
            // §5.3.2: N is the trusted version; §5.3.3: try N+1.root.json,
            // bounded by the root limit; none means no newer root.
            let next = self
                .root
                .version()
                .checked_add(1)
                .ok_or_else(|| malformed("root", "signed.version: cannot be incremented"))?;
            let path = format!("{next}.root.json");
            let bytes = match self.fetch_metadata("root", &path, self.limits.max_root_bytes, false)
            {
                Ok(bytes) => bytes,
                Err(TufError::NotFound { .. }) => break,
                Err(e) => return Err(e),
            };
            let new = Metadata::<Root>::from_bytes("root", &bytes)?;
            // §5.3.4: signed by a threshold of the keys of the trusted root
            // and by a threshold of its own keys.
            let (keyids, threshold) = top_role(&self.root.signed, "root")?;
            new.verify("root", &self.root.signed.keys, keyids, threshold)?;
            verify_self_signed(&new)?;
            // §5.3.5: the version must be exactly N+1.
            if new.version() != next {
                return Err(TufError::VersionMismatch {
                    role: "root".to_owned(),
                    expected: next,
                    got: new.version(),
                });
            }
            // §5.3.11, applied at each rotation rather than once after the
            // loop: if the timestamp or snapshot keys changed, delete the
            // trusted timestamp and snapshot (fast-forward recovery). Done
            // here so that a freeze error below (§5.3.10) cannot leave a
            // fast-forwarded timestamp behind a stored root; and a durable
            // marker written before the root is stored makes the next start
            // finish the deletions if a power cut comes in between.
            let rotated = role_keys_changed(&self.root.signed, &new.signed, "timestamp")
                || role_keys_changed(&self.root.signed, &new.signed, "snapshot");
            if rotated {
                self.store.begin_rotation(new.version())?;
            }
            // §5.3.6: the expiry of an intermediate root does not matter.
            // §5.3.7, §5.3.8: it becomes the trusted root and is persisted.
            self.store.store("root", &bytes)?;
            if rotated {
                log::info!(
                    "root {}: timestamp or snapshot keys rotated; deleting the trusted timestamp and snapshot",
                    new.version()
                );
                self.store.finish_rotation()?;
            }
            self.root = new;
            rotations = rotations.saturating_add(1);
        }
        // §5.3.10: check for a freeze attack on the final root.
        if self.root.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "root".to_owned(),
            });
        }
        // §5.3.12: `consistent_snapshot` of this root decides the file names
        // used below.
        Ok(())
    }

    /// TUF 1.0.34 §5.4: the timestamp role.
    fn update_timestamp(
        &self,
        root: &Metadata<Root>,
        start: SystemTime,
    ) -> Result<Metadata<Timestamp>, TufError> {
        let signers = Signers::top_level(&root.signed, "timestamp")?;
        let trusted = self.load_trusted::<Timestamp>("timestamp", signers)?;
        // §5.4.1: download timestamp.json, bounded by the timestamp limit.
        let bytes = self.fetch_metadata(
            "timestamp",
            "timestamp.json",
            self.limits.max_timestamp_bytes,
            false,
        )?;
        let new = Metadata::<Timestamp>::from_bytes("timestamp", &bytes)?;
        // §5.4.2: signed by the threshold of timestamp keys of the trusted root.
        new.verify("timestamp", signers.keys, signers.keyids, signers.threshold)?;
        // §5.4.3: rollback.
        if let Some(old) = trusted {
            // §5.4.3.1: not lower than the trusted version…
            if new.version() < old.version() {
                return Err(TufError::Rollback {
                    role: "timestamp".to_owned(),
                    trusted: old.version(),
                    offered: new.version(),
                });
            }
            // …and if equal, the new file is discarded and the trusted
            // state kept, quietly. The cycle goes on with the trusted
            // timestamp: the trusted snapshot and targets then pass the
            // reuse checks and nothing more is downloaded, unless a previous
            // cycle was cut short (then they are fetched, as the reference
            // does). The trusted timestamp must still be unexpired (§5.4.4).
            if new.version() == old.version() {
                if old.is_expired_at(start) {
                    return Err(TufError::Expired {
                        role: "timestamp".to_owned(),
                    });
                }
                return Ok(old);
            }
            // §5.4.3.2: the snapshot version it lists must not go down.
            let (was, now) = (
                old.signed.snapshot_meta.version,
                new.signed.snapshot_meta.version,
            );
            if now < was {
                return Err(TufError::Rollback {
                    role: "snapshot".to_owned(),
                    trusted: was,
                    offered: now,
                });
            }
        }
        // §5.4.4: freeze.
        if new.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "timestamp".to_owned(),
            });
        }
        // §5.4.5: persist, only now that every check passed (the directory
        // is synced once at the end of the cycle: `TrustedStore::sync`).
        self.store.store_deferred("timestamp", &bytes)?;
        Ok(new)
    }

    /// TUF 1.0.34 §5.5: the snapshot role.
    fn update_snapshot(
        &self,
        root: &Metadata<Root>,
        timestamp: &Metadata<Timestamp>,
        start: SystemTime,
    ) -> Result<Metadata<Snapshot>, TufError> {
        let signers = Signers::top_level(&root.signed, "snapshot")?;
        let want = Expected {
            role: "snapshot",
            meta: &timestamp.signed.snapshot_meta,
            limit: self.limits.max_snapshot_bytes,
            signers,
        };
        // The trusted snapshot, read, parsed and checked once: reused for
        // this cycle when it passes every check a fresh download would
        // (length, hashes and version as the timestamp lists them, expiry;
        // the same verdict as `reusable`), else kept for §5.5.5.
        let trusted = self.load_stored::<Snapshot>("snapshot", signers)?;
        let trusted = match trusted {
            Some((bytes, md))
                if check_length_and_hashes("snapshot", &bytes, want.meta).is_ok()
                    && md.version() == want.meta.version
                    && !md.is_expired_at(start) =>
            {
                return Ok(md);
            }
            other => other.map(|(_, md)| md),
        };
        // §5.5.1: download (V.snapshot.json with consistent snapshots),
        // bounded by the length the timestamp gives or the snapshot limit.
        let bytes = self.fetch_role(&want, root.signed.consistent_snapshot)?;
        // §5.5.2 hashes and length, §5.5.3 signatures, §5.5.4 version.
        let new = Self::check_role_bytes::<Snapshot>(&bytes, &want)?;
        // §5.5.5: no targets or delegated role listed by the trusted snapshot
        // may go down in version or disappear.
        if let Some(old) = trusted {
            for (file, was) in &old.signed.meta {
                let role = file.strip_suffix(".json").unwrap_or(file);
                let Some(now) = new.signed.meta.get(file) else {
                    return Err(TufError::RoleRemoved {
                        role: role.to_owned(),
                    });
                };
                if now.version < was.version {
                    return Err(TufError::Rollback {
                        role: role.to_owned(),
                        trusted: was.version,
                        offered: now.version,
                    });
                }
            }
        }
        // §5.5.6: freeze.
        if new.is_expired_at(start) {
            return Err(TufError::Expired {
                role: "snapshot".to_owned(),
            });
        }
        // §5.5.7: persist.
        self.store.store_deferred("snapshot", &bytes)?;
        Ok(new)
    }

    /// TUF 1.0.34 §5.6.1 to §5.6.6 for the top-level targets role, and the
    /// same checks for a delegated role (§5.6.7.2 loads each with them),
    /// whose keys come from its delegating role.
    fn load_targets_role(
        &self,
        snapshot: &Metadata<Snapshot>,
        role: &str,
        signers: Signers<'_>,
        consistent: bool,
        start: SystemTime,
    ) -> Result<Metadata<Targets>, TufError> {
        let meta = snapshot
            .signed
            .meta
            .get(&format!("{role}.json"))
            .ok_or_else(|| TufError::NotListed {
                role: role.to_owned(),
                listed_in: "snapshot".to_owned(),
            })?;
        let want = Expected {
            role,
            meta,
            limit: self.limits.max_targets_bytes,
            signers,
        };
        if let Some(md) = self.reusable::<Targets>(&want, start)? {
            return Ok(md);
        }
        // §5.6.1: download (V.NAME.json with consistent snapshots), bounded
        // by the length the snapshot gives or the targets limit.
        let bytes = self.fetch_role(&want, consistent)?;
        // §5.6.2 hashes and length, §5.6.3 signatures, §5.6.4 version.
        // Rollback of targets and delegated roles is §5.5.5's check of the
        // snapshot, which lists every one of them.
        let new = Self::check_role_bytes::<Targets>(&bytes, &want)?;
        // §5.6.5: freeze.
        if new.is_expired_at(start) {
            return Err(TufError::Expired {
                role: role.to_owned(),
            });
        }
        // §5.6.6: persist.
        self.store.store_deferred(role, &bytes)?;
        Ok(new)
    }

    /// TUF 1.0.34 §5.6: the top-level targets role.
    fn update_targets(
        &self,
        root: &Metadata<Root>,
        snapshot: &Metadata<Snapshot>,
        start: SystemTime,
    ) -> Result<Metadata<Targets>, TufError> {
        self.load_targets_role(
            snapshot,
            "targets",
            Signers::top_level(&root.signed, "targets")?,
            root.signed.consistent_snapshot,
            start,
        )
    }

    /// Finds target `name` in the verified metadata (TUF 1.0.34 §5.6.7),
    /// refreshing first if this updater has not completed a cycle (an
    /// [`Updater::offline`] one loads the store instead:
    /// [`Updater::load_from_store`]).
    ///
    /// The search is depth-first and pre-order over the delegations, in
    /// their order of appearance, skipping roles already visited (cycles),
    /// visiting at most [`Limits::max_delegations`] roles (the top-level
    /// targets role included, as the reference counts), and stopping after
    /// a terminating delegation's subtree. Each delegated role is loaded
    /// with the checks of §5.6.1 to §5.6.6 under the keys and threshold of
    /// the role that delegated it; a role that fails them ends the search
    /// with that failure, so a target is never found past a role that could
    /// not be verified. No role listing the target is
    /// [`TufError::TargetNotFound`].
    ///
    /// With a device hardware id, a target declared for other hardware is
    /// [`TufError::HardwareIdMismatch`].
    pub fn get_target_info(&mut self, name: &str) -> Result<TargetInfo, TufError> {
        if self.offline {
            // Offline, every lookup re-verifies the stored chain against the
            // clock now: a lookup long after the last one must not pass on
            // metadata that has expired since (§5.4.4, §5.5.6, §5.6.5).
            self.load_from_store()?;
        } else if self.cycle.is_none() {
            self.refresh()?;
        }
        let mut cycle = self.cycle.take().ok_or_else(|| TufError::TargetNotFound {
            target: name.to_owned(),
        })?;
        let found = self.search(&mut cycle, name);
        // Delegated roles stored by the search become durable before the
        // lookup reports anything.
        let synced = self.store.sync();
        let consistent_snapshot = self.root.signed.consistent_snapshot;
        self.cycle = Some(cycle);
        let found = found.and_then(|f| synced.map(|()| f));
        let (file, role) = found?.ok_or_else(|| TufError::TargetNotFound {
            target: name.to_owned(),
        })?;
        let info = TargetInfo {
            name: name.to_owned(),
            file,
            role,
            consistent_snapshot,
        };
        self.check_hardware(&info)?;
        Ok(info)
    }

    /// §5.6.7: the delegation search; the target's description and the
    /// role listing it, or `None`.
    fn search(
        &self,
        cycle: &mut Cycle,
        target: &str,
    ) -> Result<Option<(TargetFile, String)>, TufError> {
        const TOP: &str = "targets";
        // The top-level role is already verified; it is the first visited.
        let mut stack: Vec<Option<Pending>> = vec![None];
        let mut visited: BTreeSet<String> = BTreeSet::new();
        let mut budget = self.limits.max_delegations;
        let consistent = self.root.signed.consistent_snapshot;
        while budget > 0 {
            let Some(entry) = stack.pop() else {
                break;
            };
            let name = entry.as_ref().map_or(TOP, |p| p.name.as_str()).to_owned();
            // §5.6.7.1: a role visited before is skipped (cycles).
            if visited.contains(&name) {
                continue;
            }
            let role: &Metadata<Targets> = match &entry {
                None => &cycle.targets,
                Some(p) => {
                    let key = (p.parent.clone(), p.name.clone());
                    if !cycle.delegated.contains_key(&key) {
                        let md = self.load_targets_role(
                            &cycle.snapshot,
                            &p.name,
                            Signers {
                                keys: &p.keys,
                                keyids: &p.keyids,
                                threshold: p.threshold,
                            },
                            consistent,
                            cycle.start,
                        )?;
                        cycle.delegated.insert(key.clone(), md);
                    }
                    cycle
                        .delegated
                        .get(&key)
                        .ok_or_else(|| TufError::TargetNotFound {
                            target: target.to_owned(),
                        })?
                }
            };
            // §5.6.7.1: this role lists the target: go to §5.7.
            if let Some(file) = role.signed.targets.get(target) {
                return Ok(Some((file.clone(), name)));
            }
            visited.insert(name.clone());
            budget = budget.saturating_sub(1);
            // §5.6.7.2: the delegations trusted for the path, in order of
            // appearance; pushed reversed so the first is visited first.
            if let Some(delegations) = &role.signed.delegations {
                let mut children = Vec::new();
                for child in delegations.roles_for_target(target) {
                    let terminating = child.terminating;
                    children.push(Some(Pending {
                        name: child.name,
                        parent: name.clone(),
                        keys: delegations.keys.clone(),
                        keyids: child.keyids.to_vec(),
                        threshold: child.threshold,
                    }));
                    // §5.6.7.2.2: after a terminating delegation nothing
                    // else is searched but its own subtree.
                    if terminating {
                        stack.clear();
                        break;
                    }
                }
                children.reverse();
                stack.extend(children);
            }
        }
        if budget == 0 && !stack.is_empty() {
            log::warn!(
                "target {target}: search stopped after {} roles (limit)",
                self.limits.max_delegations
            );
        }
        Ok(None)
    }

    /// The wrong-software check: the target's `hardware_id`, if listed,
    /// must be the device's, when the device's is known.
    fn check_hardware(&self, info: &TargetInfo) -> Result<(), TufError> {
        let listed = info.hardware_id()?;
        match (&self.hardware_id, listed) {
            (Some(device), Some(listed)) if device != listed => Err(TufError::HardwareIdMismatch {
                target: info.name.clone(),
                listed: listed.to_owned(),
                device: device.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Downloads and verifies a target into `dest_dir` (TUF 1.0.34 §5.7),
    /// returning the path of the verified file (`dest_dir/<name>`).
    ///
    /// Before anything is fetched or written: the name must stay inside
    /// `dest_dir` ([`TufError::UnsafeName`]), the hardware id must fit the
    /// device, and the release counter must not be below the device's floor
    /// for this name. The bytes are then streamed through
    /// [`target::download_target`] (length and every supported hash
    /// checked; with consistent snapshots fetched as `<hash>.<name>`, §5.7.2).
    /// After a verified download the floor is raised to the target's
    /// release counter, durably.
    pub fn download_target(
        &mut self,
        info: &TargetInfo,
        dest_dir: &Path,
    ) -> Result<PathBuf, TufError> {
        self.download_target_with_progress(info, dest_dir, &mut |_, _| {})
    }

    /// [`Updater::download_target`], reporting progress to
    /// `progress(done, total)` as [`target::download_target_with_progress`]
    /// describes: on the calling thread, at most once per
    /// [`target::PROGRESS_STEP`] bytes received with `done < total`, and once
    /// with `done == total` when the verified file is in place (before the
    /// release-counter floor is raised; if that fails, the call still
    /// fails). Nothing is reported when a check refuses the target before
    /// the download.
    pub fn download_target_with_progress(
        &mut self,
        info: &TargetInfo,
        dest_dir: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<PathBuf, TufError> {
        // Issue 3 threat list: a target name escaping the output directory.
        target_components(&info.name)?;
        self.check_hardware(info)?;
        let counter = info.release_counter()?;
        match (self.floors.floor(&info.name), counter) {
            (Some(floor), Some(offered)) if offered < floor => {
                return Err(TufError::FloorRollback {
                    target: info.name.clone(),
                    floor,
                    offered,
                });
            }
            (Some(floor), None) => {
                return Err(TufError::ReleaseCounterMissing {
                    target: info.name.clone(),
                    floor,
                });
            }
            _ => {}
        }
        // §5.7.2, §5.7.3: fetch up to the listed length, check every hash.
        let outcome = target::download_target_with_progress(
            self.targets.as_ref(),
            &info.url_path(),
            dest_dir,
            &info.name,
            info.file.length,
            &info.file.hashes,
            progress,
        )?;
        if let Some(offered) = counter {
            self.floors.raise_floor(&info.name, offered)?;
        }
        Ok(outcome.path)
    }
}

/// The transport of an [`Updater::offline`]: every fetch fails, naming
/// the offline mode (a delegated role missing from the store, a download).
struct Offline;

impl Transport for Offline {
    fn fetch(&self, path: &str, _max_len: u64) -> Result<Box<dyn std::io::Read + '_>, TufError> {
        Err(TufError::Io {
            path: path.to_owned(),
            message: "not fetched: this lookup uses only the trusted metadata store (offline)"
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod offline_tests;
#[cfg(test)]
mod tests;
