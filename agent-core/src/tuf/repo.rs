//! The repository side of TUF (issue 3, "Repository side"): build, sign and
//! publish TUF 1.0.34 metadata that dha's client and the reference client
//! (python-tuf's ngclient) accept, for manufacturers and test rigs.
//!
//! A repository is a directory:
//!
//! ```text
//! keys/NAME.pem         private keys, PKCS#8 PEM, mode 0600 (keys/ is 0700)
//! keys/NAME.pub.json    the public half as metadata lists it (keytype, scheme, keyval)
//! staged/               the working state: root, targets and delegated roles as
//!                       edited since the last publish, and state.json
//! metadata/             as served (TUF 1.0.34 §5.3–§5.6): N.root.json for every root
//!                       version, timestamp.json, and snapshot.json, targets.json,
//!                       <role>.json (or V.snapshot.json, V.targets.json, V.<role>.json
//!                       with consistent snapshots, §5.5, §5.6); role names are
//!                       percent-encoded as the client's store encodes them
//! targets/              the target files under their target paths; with consistent
//!                       snapshots also <dir>/<sha256>.<base> and <dir>/<sha512>.<base>
//!                       (hard links when the file system allows, §5.7.2)
//! ```
//!
//! Editing ([`Repository::add_target`], [`Repository::delegate`],
//! [`Repository::rotate_key`]) changes `staged/` only: the first edit of a
//! role after a publish raises its version by one, every edit renews its
//! expiry and drops its signatures. [`Repository::sign`] adds a signature
//! (a key held elsewhere, for thresholds above 1). [`Repository::publish`]
//! signs every changed role with the keys in `keys/` that the role trusts,
//! checks every threshold with the client's own verifier (§5.3.4: a new root
//! needs the threshold of the old root and of itself), makes a new snapshot
//! and timestamp, and only then writes `metadata/` — the roles first, the
//! timestamp last — through [`crate::durable::write_atomic`].
//!
//! Metadata is written as python-tuf writes it (sorted keys, one-space
//! indent); signatures are over the canonical JSON of `signed` (§4.2), so
//! the layout does not matter to a verifier.

use super::TufError;
use super::cjson::canonicalize;
use super::hex::encode as hex;
use super::keys::{PrivateKey, PublicKey, Signature, verify_threshold};
use super::metadata::{Metadata, Root, TOP_LEVEL_ROLES, Targets};
use super::store::{percent_encode, role_file_name};
use crate::durable;
use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The `spec_version` written into every role.
pub const SPEC_VERSION: &str = "1.0.34";

/// Largest key or metadata file read back from the repository (bytes).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Most keys per top-level role that [`Repository::init`] makes.
pub const MAX_INIT_KEYS: u64 = 16;

/// Largest `bit_length` of a hash-bin delegation (65,536 bins).
pub const MAX_BIT_LENGTH: u32 = 16;

/// What went wrong in a repository operation. Messages name the file, role
/// or key (by name or key id), never key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// A TUF failure (bad key, malformed metadata, unsafe name, a threshold
    /// the repository's own check found unmet).
    #[error(transparent)]
    Tuf(#[from] TufError),
    /// A file or directory of the repository could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A request that cannot be carried out as asked (unknown role, a key
    /// that already exists, a target path that would escape `targets/`).
    #[error("{0}")]
    Invalid(String),
    /// A role lacks signatures: sign it with more of its keys.
    #[error(
        "{role}: {valid} valid signature(s), threshold {threshold}: add signatures with `dha repo sign --role {role}`"
    )]
    Unsigned {
        /// The role.
        role: String,
        /// Valid signatures from distinct authorised keys.
        valid: u32,
        /// The threshold to reach.
        threshold: u32,
    },
}

fn io_err(path: &Path, e: &io::Error) -> RepoError {
    RepoError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn invalid(message: impl Into<String>) -> RepoError {
    RepoError::Invalid(message.into())
}

/// The key types `dha repo keygen` makes (TUF 1.0.34 §4.2; the names
/// securesystemslib writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Ed25519, scheme `ed25519`.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, scheme `ecdsa-sha2-nistp256`.
    Ecdsa,
    /// RSA 3072 bits, scheme `rsassa-pss-sha256`.
    Rsa,
}

impl KeyType {
    /// The metadata `keytype`.
    pub fn keytype(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::Ecdsa => "ecdsa",
            KeyType::Rsa => "rsa",
        }
    }

    /// The metadata `scheme`.
    pub fn scheme(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::Ecdsa => "ecdsa-sha2-nistp256",
            KeyType::Rsa => "rsassa-pss-sha256",
        }
    }
}

/// RSA modulus size made by [`generate_pkcs8_pem`].
pub const RSA_BITS: usize = 3072;

/// A new private key as unencrypted PKCS#8 PEM (`PRIVATE KEY`), the form
/// [`PrivateKey::from_pkcs8_pem`] and securesystemslib read. Ed25519 and
/// ECDSA keys come from ring; RSA keys from the `rsa` crate (ring cannot
/// generate RSA keys; the key is then used through ring like any other).
pub fn generate_pkcs8_pem(kind: KeyType) -> Result<String, RepoError> {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
    use spki::der::SecretDocument;
    use spki::der::pem::LineEnding;
    let fail = |what: &str| {
        RepoError::Tuf(TufError::BadKey {
            keyid: "(new key)".to_owned(),
            message: format!("cannot generate a {what} key"),
        })
    };
    let rng = ring::rand::SystemRandom::new();
    let doc = match kind {
        KeyType::Ed25519 => {
            let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| fail("ed25519"))?;
            SecretDocument::try_from(der.as_ref()).map_err(|_| fail("ed25519"))?
        }
        KeyType::Ecdsa => {
            let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .map_err(|_| fail("ecdsa"))?;
            SecretDocument::try_from(der.as_ref()).map_err(|_| fail("ecdsa"))?
        }
        KeyType::Rsa => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
                .map_err(|_| fail("rsa"))?;
            key.to_pkcs8_der().map_err(|_| fail("rsa"))?
        }
    };
    let pem = doc
        .to_pem("PRIVATE KEY", LineEnding::LF)
        .map_err(|_| fail(kind.keytype()))?;
    Ok(pem.as_str().to_owned())
}

/// A key file pair of the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The file name without extension (`targets-1`), or the path given.
    pub name: String,
    /// The TUF key id (TUF 1.0.34 §4.2).
    pub keyid: String,
    /// The metadata `keytype`.
    pub keytype: String,
    /// The metadata `scheme`.
    pub scheme: String,
}

/// How long each role stays valid after it is signed. Delegated roles use
/// the targets duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// Root (default 365 days).
    pub root: Duration,
    /// Targets and delegated roles (default 90 days).
    pub targets: Duration,
    /// Snapshot (default 7 days).
    pub snapshot: Duration,
    /// Timestamp (default 1 day).
    pub timestamp: Duration,
}

const DAY: u64 = 86_400;

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            root: Duration::from_secs(365 * DAY),
            targets: Duration::from_secs(90 * DAY),
            snapshot: Duration::from_secs(7 * DAY),
            timestamp: Duration::from_secs(DAY),
        }
    }
}

impl Expiry {
    /// The duration for `role` (a delegated role counts as targets).
    pub fn for_role(&self, role: &str) -> Duration {
        match role {
            "root" => self.root,
            "snapshot" => self.snapshot,
            "timestamp" => self.timestamp,
            _ => self.targets,
        }
    }

    /// Sets the duration of a top-level role; unknown names are refused.
    pub fn set(&mut self, role: &str, d: Duration) -> Result<(), RepoError> {
        match role {
            "root" => self.root = d,
            "targets" => self.targets = d,
            "snapshot" => self.snapshot = d,
            "timestamp" => self.timestamp = d,
            other => return Err(invalid(format!("no top-level role {other:?}"))),
        }
        Ok(())
    }
}

/// What [`Repository::init`] makes.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The type of the keys made for the top-level roles.
    pub key_type: KeyType,
    /// TUF 1.0.34 §4.3 `consistent_snapshot`.
    pub consistent_snapshot: bool,
    /// Threshold per top-level role (absent: 1); that many keys are made.
    pub thresholds: BTreeMap<String, u64>,
    /// Expiry durations.
    pub expiry: Expiry,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            key_type: KeyType::Ed25519,
            consistent_snapshot: false,
            thresholds: BTreeMap::new(),
            expiry: Expiry::default(),
        }
    }
}

/// A delegation for [`Repository::delegate`] (TUF 1.0.34 §4.5; TAP 15).
#[derive(Debug, Clone)]
pub enum DelegationKind {
    /// One role trusted for target paths matching `paths` (TUF glob patterns).
    Paths {
        /// The delegated role's name.
        name: String,
        /// The path patterns.
        paths: Vec<String>,
        /// Whether the search stops after this role (§5.6.7.2.2).
        terminating: bool,
    },
    /// Succinct hash bins (TAP 15): `2^bit_length` roles
    /// `{name_prefix}-{index in hex}`, each trusted for the targets whose
    /// path's SHA-256 starts with its index.
    HashBins {
        /// The bins' name prefix.
        name_prefix: String,
        /// Bits of the hash that pick the bin, 1 to [`MAX_BIT_LENGTH`].
        bit_length: u32,
    },
}

/// What [`Repository::publish`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Each role written with its new version, in the order written.
    pub written: Vec<(String, u64)>,
}

/// The working state kept in `staged/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    /// Format of this file.
    format: u32,
    expiry: Expiry,
    /// Delegated role → the role that delegates it.
    parents: BTreeMap<String, String>,
    /// Roles edited since the last publish (root and targets roles).
    dirty: BTreeSet<String>,
    /// The published versions of root, snapshot and timestamp (0: never).
    root_version: u64,
    snapshot_version: u64,
    timestamp_version: u64,
}

/// One metadata document being edited.
#[derive(Debug, Clone)]
struct Doc {
    signed: Map<String, Value>,
    signatures: Vec<Signature>,
}

impl Doc {
    fn new(signed: Value) -> Result<Self, RepoError> {
        match signed {
            Value::Object(signed) => Ok(Doc {
                signed,
                signatures: Vec::new(),
            }),
            _ => Err(invalid("metadata signed part is not an object")),
        }
    }

    fn from_bytes(role: &str, bytes: &[u8]) -> Result<Self, RepoError> {
        #[derive(Deserialize)]
        struct Raw {
            signatures: Vec<Signature>,
            signed: Map<String, Value>,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| TufError::Malformed {
            role: role.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Doc {
            signed: raw.signed,
            signatures: raw.signatures,
        })
    }

    /// As python-tuf's JSONSerializer writes it: sorted keys, indent 1.
    fn to_bytes(&self) -> Result<Vec<u8>, RepoError> {
        let doc = json!({ "signatures": self.signatures, "signed": self.signed });
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        doc.serialize(&mut ser)
            .map_err(|e| TufError::Canonical(e.to_string()))?;
        Ok(out)
    }

    fn canonical(&self) -> Result<Vec<u8>, RepoError> {
        Ok(canonicalize(&Value::Object(self.signed.clone()))?)
    }

    fn version(&self) -> u64 {
        self.signed
            .get("version")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// Adds `key`'s signature, replacing an earlier one by the same key.
    fn sign(&mut self, key: &PrivateKey) -> Result<(), RepoError> {
        let sig = key.sign(&self.canonical()?)?;
        self.signatures.retain(|s| s.keyid != sig.keyid);
        self.signatures.push(sig);
        Ok(())
    }

    fn object_mut(&mut self, field: &str) -> Result<&mut Map<String, Value>, RepoError> {
        let v = self
            .signed
            .entry(field.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        v.as_object_mut()
            .ok_or_else(|| invalid(format!("signed.{field} is not an object")))
    }
}

/// `expires` as TUF 1.0.34 §4.2 writes it: `YYYY-MM-DDTHH:MM:SSZ`.
fn format_expires(t: SystemTime) -> Result<String, RepoError> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from(t)
        .format(&format)
        .map_err(|e| invalid(format!("expiry date cannot be written: {e}")))
}

fn expires_at(now: SystemTime, d: Duration) -> Result<String, RepoError> {
    let t = now
        .checked_add(d)
        .ok_or_else(|| invalid("expiry date out of range"))?;
    format_expires(t)
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, RepoError> {
    let file = File::open(path).map_err(|e| io_err(path, &e))?;
    let mut out = Vec::new();
    file.take(MAX_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| io_err(path, &e))?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(invalid(format!(
            "{}: more than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(out)
}

fn write_file(path: &Path, data: &[u8], mode: Option<u32>) -> Result<(), RepoError> {
    durable::write_atomic(path, data, mode).map_err(|e| io_err(path, &e))
}

/// A key or role name used as a file name: letters, digits, `_.-`, not
/// starting with `.`.
fn check_key_name(name: &str) -> Result<(), RepoError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "key name {name:?}: use letters, digits, '_', '.', '-', not starting with '.'"
        )))
    }
}

/// A target path that stays inside `targets/`: relative, `/`-separated,
/// without empty, `.` or `..` components (the client refuses such names
/// too).
fn check_target_name(name: &str) -> Result<(), RepoError> {
    let bad = |reason: &str| {
        RepoError::Tuf(TufError::UnsafeName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() || name.starts_with('/') || name.contains('\0') || name.contains('\\') {
        return Err(bad("a target path is relative, '/'-separated, not empty"));
    }
    if name
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == ".." || p.starts_with(durable::TEMP_PREFIX))
    {
        return Err(bad("empty, '.', '..' or temporary-file component"));
    }
    Ok(())
}

/// Copies `src` to `dest` durably (temporary file, fsync, rename, fsync of
/// the directory) while hashing it; memory stays flat whatever the size.
/// Returns the length, SHA-256 and SHA-512 (hex).
fn copy_and_hash(src: &Path, dest: &Path) -> Result<(u64, String, String), RepoError> {
    let dir = dest
        .parent()
        .ok_or_else(|| invalid(format!("{}: no parent directory", dest.display())))?;
    fs::create_dir_all(dir).map_err(|e| io_err(dir, &e))?;
    let mut input = File::open(src).map_err(|e| io_err(src, &e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(durable::TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, &e))?;
    let mut s256 = digest::Context::new(&digest::SHA256);
    let mut s512 = digest::Context::new(&digest::SHA512);
    let mut buf = vec![0u8; 64 * 1024];
    let mut len: u64 = 0;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(src, &e)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        s256.update(chunk);
        s512.update(chunk);
        tmp.write_all(chunk).map_err(|e| io_err(dest, &e))?;
        len = len
            .checked_add(u64::try_from(n).unwrap_or(u64::MAX))
            .ok_or_else(|| invalid("target too large"))?;
    }
    tmp.as_file().sync_all().map_err(|e| io_err(dest, &e))?;
    tmp.persist(dest).map_err(|e| io_err(dest, &e.error))?;
    durable::sync_dir(dir).map_err(|e| io_err(dir, &e))?;
    Ok((
        len,
        hex(s256.finish().as_ref()),
        hex(s512.finish().as_ref()),
    ))
}

/// Where the signing keys and thresholds of a role come from.
struct Authority {
    keys: BTreeMap<String, Value>,
    keyids: Vec<String>,
    threshold: u64,
}

/// A TUF repository directory (see the module documentation).
#[derive(Debug)]
pub struct Repository {
    dir: PathBuf,
    state: State,
}

impl Repository {
    /// Creates a repository in `dir` (created if needed; refused if it
    /// already holds one): keys for each top-level role (as many as the
    /// role's threshold, named `ROLE-1`, `ROLE-2`, …), a staged root
    /// version 1 and an empty staged targets version 1. Nothing is served
    /// until [`Repository::publish`].
    pub fn init(dir: &Path, opts: &InitOptions, now: SystemTime) -> Result<Self, RepoError> {
        for role in opts.thresholds.keys() {
            if !TOP_LEVEL_ROLES.contains(&role.as_str()) {
                return Err(invalid(format!("no top-level role {role:?}")));
            }
        }
        let state_path = dir.join("staged").join("state.json");
        if state_path.exists() {
            return Err(invalid(format!(
                "{}: a repository is already there",
                dir.display()
            )));
        }
        for sub in ["keys", "staged", "metadata", "targets"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).map_err(|e| io_err(&d, &e))?;
        }
        set_mode(&dir.join("keys"), 0o700)?;
        let mut repo = Repository {
            dir: dir.to_path_buf(),
            state: State {
                format: 1,
                expiry: opts.expiry,
                parents: BTreeMap::new(),
                dirty: BTreeSet::new(),
                root_version: 0,
                snapshot_version: 0,
                timestamp_version: 0,
            },
        };
        let mut keys = Map::new();
        let mut roles = Map::new();
        for role in TOP_LEVEL_ROLES {
            let threshold = opts.thresholds.get(role).copied().unwrap_or(1);
            if !(1..=MAX_INIT_KEYS).contains(&threshold) {
                return Err(TufError::InvalidThreshold {
                    role: role.to_owned(),
                    threshold: i64::try_from(threshold).unwrap_or(i64::MAX),
                }
                .into());
            }
            let mut keyids = Vec::new();
            for i in 1..=threshold {
                let info = repo.keygen(&format!("{role}-{i}"), opts.key_type)?;
                keys.insert(info.keyid.clone(), repo.public_json(&info.name)?);
                keyids.push(Value::String(info.keyid));
            }
            roles.insert(
                role.to_owned(),
                json!({ "keyids": keyids, "threshold": threshold }),
            );
        }
        let root = Doc::new(json!({
            "_type": "root",
            "spec_version": SPEC_VERSION,
            "version": 1,
            "expires": expires_at(now, opts.expiry.root)?,
            "consistent_snapshot": opts.consistent_snapshot,
            "keys": keys,
            "roles": roles,
        }))?;
        repo.save_doc("root", &root)?;
        repo.save_doc("targets", &empty_targets(now, opts.expiry.targets)?)?;
        repo.state.dirty.insert("root".to_owned());
        repo.state.dirty.insert("targets".to_owned());
        repo.save_state()?;
        Ok(repo)
    }

    /// Opens the repository in `dir`.
    pub fn open(dir: &Path) -> Result<Self, RepoError> {
        let path = dir.join("staged").join("state.json");
        if !path.exists() {
            return Err(invalid(format!(
                "{}: no repository (run `dha repo init` first)",
                dir.display()
            )));
        }
        let state: State = serde_json::from_slice(&read_bounded(&path)?)
            .map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        if state.format != 1 {
            return Err(invalid(format!(
                "{}: unknown format {}",
                path.display(),
                state.format
            )));
        }
        Ok(Repository {
            dir: dir.to_path_buf(),
            state,
        })
    }

    /// The repository directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory served as the metadata base (`metadata/`).
    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.join("metadata")
    }

    /// The directory served as the targets base (`targets/`).
    pub fn targets_dir(&self) -> PathBuf {
        self.dir.join("targets")
    }

    /// Makes a key pair `keys/NAME.pem` (mode 0600) and `keys/NAME.pub.json`.
    /// An existing key of that name is never overwritten.
    pub fn keygen(&self, name: &str, kind: KeyType) -> Result<KeyInfo, RepoError> {
        check_key_name(name)?;
        let keys = self.dir.join("keys");
        fs::create_dir_all(&keys).map_err(|e| io_err(&keys, &e))?;
        let pem_path = keys.join(format!("{name}.pem"));
        let pub_path = keys.join(format!("{name}.pub.json"));
        if pem_path.exists() || pub_path.exists() {
            return Err(invalid(format!("key {name:?} exists already")));
        }
        let pem = generate_pkcs8_pem(kind)?;
        let key = PrivateKey::from_pkcs8_pem(&pem, kind.keytype(), kind.scheme())?;
        let public = key.public_key().to_json();
        let public_bytes =
            serde_json::to_vec_pretty(&public).map_err(|e| TufError::Canonical(e.to_string()))?;
        write_file(&pem_path, pem.as_bytes(), Some(0o600))?;
        write_file(&pub_path, &public_bytes, Some(0o644))?;
        Ok(KeyInfo {
            name: name.to_owned(),
            keyid: key.public_key().listed_id().to_owned(),
            keytype: kind.keytype().to_owned(),
            scheme: kind.scheme().to_owned(),
        })
    }

    /// The files of a key: a name in `keys/`, or a path to `X.pem` or
    /// `X.pub.json` (a key kept outside the repository).
    fn key_paths(&self, key: &str) -> Result<(PathBuf, PathBuf), RepoError> {
        if key.contains('/') {
            if let Some(stem) = key.strip_suffix(".pem") {
                return Ok((
                    PathBuf::from(key),
                    PathBuf::from(format!("{stem}.pub.json")),
                ));
            }
            if let Some(stem) = key.strip_suffix(".pub.json") {
                return Ok((PathBuf::from(format!("{stem}.pem")), PathBuf::from(key)));
            }
            return Err(invalid(format!(
                "key {key:?}: give a key name in keys/, or a path ending in .pem or .pub.json"
            )));
        }
        check_key_name(key)?;
        let keys = self.dir.join("keys");
        Ok((
            keys.join(format!("{key}.pem")),
            keys.join(format!("{key}.pub.json")),
        ))
    }

    /// The public key `{keytype, scheme, keyval}` of a key name or path.
    fn public_json(&self, key: &str) -> Result<Value, RepoError> {
        let (_, pub_path) = self.key_paths(key)?;
        let v: Value = serde_json::from_slice(&read_bounded(&pub_path)?)
            .map_err(|e| invalid(format!("{}: {e}", pub_path.display())))?;
        // Parsed as the client would, so an unusable key is refused now.
        PublicKey::from_json(key, &v)?;
        Ok(v)
    }

    /// The public key and its key id.
    fn public_key(&self, key: &str) -> Result<(String, Value), RepoError> {
        let v = self.public_json(key)?;
        let id = PublicKey::from_json(key, &v)?.key_id()?;
        Ok((id, v))
    }

    /// Loads a private key (PEM and its `.pub.json` for the type and scheme).
    fn private_key(&self, key: &str) -> Result<PrivateKey, RepoError> {
        let (pem_path, _) = self.key_paths(key)?;
        let public = self.public_json(key)?;
        let field = |f: &str| {
            public
                .get(f)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("key {key:?}: no {f} in its .pub.json")))
        };
        let pem_bytes = read_bounded(&pem_path)?;
        let pem = std::str::from_utf8(&pem_bytes)
            .map_err(|_| invalid(format!("{}: not UTF-8 PEM", pem_path.display())))?;
        let private = PrivateKey::from_pkcs8_pem(pem, &field("keytype")?, &field("scheme")?)?;
        if private.public_key().to_json() != public {
            return Err(invalid(format!(
                "key {key:?}: the .pem and .pub.json are not the same key"
            )));
        }
        Ok(private)
    }

    /// Every private key in `keys/`, by key id.
    fn available_keys(&self) -> Result<BTreeMap<String, PrivateKey>, RepoError> {
        let keys = self.dir.join("keys");
        let mut out = BTreeMap::new();
        let entries = fs::read_dir(&keys).map_err(|e| io_err(&keys, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&keys, &e))?;
            let file = entry.file_name();
            let Some(name) = file.to_str().and_then(|n| n.strip_suffix(".pem")) else {
                continue;
            };
            if check_key_name(name).is_err() {
                continue;
            }
            let key = self.private_key(name)?;
            out.insert(key.public_key().listed_id().to_owned(), key);
        }
        Ok(out)
    }

    fn doc_path(&self, role: &str) -> Result<PathBuf, RepoError> {
        Ok(self.dir.join("staged").join(role_file_name(role)?))
    }

    fn load_doc(&self, role: &str) -> Result<Doc, RepoError> {
        let path = self.doc_path(role)?;
        if !path.exists() {
            return Err(invalid(format!("no role {role:?} in this repository")));
        }
        Doc::from_bytes(role, &read_bounded(&path)?)
    }

    fn save_doc(&self, role: &str, doc: &Doc) -> Result<(), RepoError> {
        write_file(&self.doc_path(role)?, &doc.to_bytes()?, None)
    }

    fn save_state(&self) -> Result<(), RepoError> {
        let bytes = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| TufError::Canonical(e.to_string()))?;
        write_file(&self.dir.join("staged").join("state.json"), &bytes, None)
    }

    /// Every targets role: `targets` and the delegated ones.
    fn targets_roles(&self) -> Vec<String> {
        std::iter::once("targets".to_owned())
            .chain(self.state.parents.keys().cloned())
            .collect()
    }

    fn is_targets_role(&self, role: &str) -> bool {
        role == "targets" || self.state.parents.contains_key(role)
    }

    /// Starts (or continues) an edit of `role`: the first edit after a
    /// publish raises the version by one; every edit renews the expiry and
    /// drops the signatures (they were over the old content).
    fn edit(&mut self, role: &str, now: SystemTime) -> Result<Doc, RepoError> {
        let mut doc = self.load_doc(role)?;
        if !self.state.dirty.contains(role) {
            let next = doc
                .version()
                .checked_add(1)
                .ok_or_else(|| invalid(format!("{role}: version overflow")))?;
            doc.signed.insert("version".to_owned(), json!(next));
            self.state.dirty.insert(role.to_owned());
        }
        let expires = expires_at(now, self.state.expiry.for_role(role))?;
        doc.signed.insert("expires".to_owned(), json!(expires));
        doc.signatures.clear();
        Ok(doc)
    }

    fn staged_root(&self) -> Result<Metadata<Root>, RepoError> {
        let doc = self.load_doc("root")?;
        Ok(Metadata::<Root>::from_bytes("root", &doc.to_bytes()?)?)
    }

    fn staged_targets(&self, role: &str) -> Result<Metadata<Targets>, RepoError> {
        let doc = self.load_doc(role)?;
        Ok(Metadata::<Targets>::from_bytes(role, &doc.to_bytes()?)?)
    }

    /// The keys and threshold that `role` (not root) must be signed by,
    /// from the staged root or the staged delegating role.
    fn authority(&self, role: &str) -> Result<Authority, RepoError> {
        if TOP_LEVEL_ROLES.contains(&role) {
            let root = self.staged_root()?;
            let r = root
                .signed
                .role(role)
                .ok_or_else(|| invalid(format!("root lists no role {role:?}")))?;
            return Ok(Authority {
                keys: root.signed.keys.clone(),
                keyids: r.keyids.clone(),
                threshold: r.threshold,
            });
        }
        let parent = self
            .state
            .parents
            .get(role)
            .ok_or_else(|| invalid(format!("no role {role:?} in this repository")))?;
        let parent = self.staged_targets(parent)?;
        let delegations = parent
            .signed
            .delegations
            .ok_or_else(|| invalid(format!("the parent of {role:?} delegates nothing")))?;
        if let Some(d) = delegations.roles.iter().find(|d| d.name == role) {
            return Ok(Authority {
                keys: delegations.keys.clone(),
                keyids: d.keyids.clone(),
                threshold: d.threshold,
            });
        }
        match &delegations.succinct_roles {
            Some(s) if s.is_bin(role) => Ok(Authority {
                keys: delegations.keys.clone(),
                keyids: s.keyids.clone(),
                threshold: s.threshold,
            }),
            _ => Err(invalid(format!("{role:?} is not delegated by its parent"))),
        }
    }

    /// Root's authority for signing a new version: its own root keys and,
    /// after the first version, the previous root's (TUF 1.0.34 §5.3.4).
    fn root_authorities(&self) -> Result<Vec<Authority>, RepoError> {
        let root = self.staged_root()?;
        let mut out = Vec::new();
        let own = root
            .signed
            .role("root")
            .ok_or_else(|| invalid("root lists no root role"))?;
        out.push(Authority {
            keys: root.signed.keys.clone(),
            keyids: own.keyids.clone(),
            threshold: own.threshold,
        });
        if self.state.root_version > 0 {
            let prev = self.published_root()?;
            let r = prev
                .signed
                .role("root")
                .ok_or_else(|| invalid("the published root lists no root role"))?;
            out.push(Authority {
                keys: prev.signed.keys.clone(),
                keyids: r.keyids.clone(),
                threshold: r.threshold,
            });
        }
        Ok(out)
    }

    fn published_root(&self) -> Result<Metadata<Root>, RepoError> {
        let path = self
            .metadata_dir()
            .join(format!("{}.root.json", self.state.root_version));
        Ok(Metadata::<Root>::from_bytes("root", &read_bounded(&path)?)?)
    }

    fn consistent_snapshot(&self) -> Result<bool, RepoError> {
        Ok(self.staged_root()?.signed.consistent_snapshot)
    }

    /// Adds (or replaces) the target `name` (a relative path) with the bytes
    /// of `file`: copied to `targets/NAME` (and, with consistent snapshots,
    /// linked as `<sha256>.<base>` and `<sha512>.<base>`), and listed with
    /// its length, SHA-256 and SHA-512 and `custom` (a JSON object, for
    /// example `{"hardware_id": "ct-7", "release_counter": 3}`) in `role`.
    ///
    /// Without `role`: the hash bin for `name` when `targets` delegates to
    /// hash bins, else `targets`. A delegated role must be trusted for the
    /// path by its parent, or no client would find the target.
    pub fn add_target(
        &mut self,
        file: &Path,
        name: &str,
        role: Option<&str>,
        custom: Option<Value>,
        now: SystemTime,
    ) -> Result<String, RepoError> {
        check_target_name(name)?;
        if let Some(c) = &custom {
            if !c.is_object() {
                return Err(invalid("custom must be a JSON object"));
            }
        }
        let role = match role {
            Some(r) => r.to_owned(),
            None => match self.staged_targets("targets")?.signed.delegations {
                Some(d) => match &d.succinct_roles {
                    Some(s) => s.role_for_target(name),
                    None => "targets".to_owned(),
                },
                None => "targets".to_owned(),
            },
        };
        if !self.is_targets_role(&role) {
            return Err(invalid(format!(
                "no targets role {role:?} in this repository"
            )));
        }
        if let Some(parent) = self.state.parents.get(&role) {
            let trusted = self
                .staged_targets(parent)?
                .signed
                .delegations
                .is_some_and(|d| d.roles_for_target(name).iter().any(|c| c.name == role));
            if !trusted {
                return Err(invalid(format!(
                    "{role:?} is not trusted for {name:?} by {parent:?}"
                )));
            }
        }
        let dest = self.targets_dir().join(name);
        let (length, sha256, sha512) = copy_and_hash(file, &dest)?;
        if self.consistent_snapshot()? {
            // TUF 1.0.34 §5.7.2: clients fetch `<dir>/<hash>.<base>`.
            for h in [&sha256, &sha512] {
                let base = dest
                    .file_name()
                    .and_then(|b| b.to_str())
                    .ok_or_else(|| invalid(format!("target {name:?}: no file name")))?;
                let linked = dest.with_file_name(format!("{h}.{base}"));
                if linked.exists() {
                    continue;
                }
                if fs::hard_link(&dest, &linked).is_err() {
                    copy_and_hash(&dest, &linked)?;
                }
            }
        }
        let mut doc = self.edit(&role, now)?;
        let mut entry = json!({
            "length": length,
            "hashes": { "sha256": sha256, "sha512": sha512 },
        });
        if let (Some(c), Some(obj)) = (custom, entry.as_object_mut()) {
            obj.insert("custom".to_owned(), c);
        }
        doc.object_mut("targets")?.insert(name.to_owned(), entry);
        self.save_doc(&role, &doc)?;
        self.save_state()?;
        Ok(role)
    }

    /// Delegates from the targets role `parent` (TUF 1.0.34 §4.5) to a new
    /// role trusted for path patterns, or to hash bins (TAP 15), with the
    /// public keys `keys` (names in `keys/` or paths) and `threshold`. The
    /// new roles start empty at version 1. A role delegates either by
    /// paths or by hash bins, not both (TAP 15).
    pub fn delegate(
        &mut self,
        parent: &str,
        kind: &DelegationKind,
        keys: &[String],
        threshold: u64,
        now: SystemTime,
    ) -> Result<Vec<String>, RepoError> {
        if !self.is_targets_role(parent) {
            return Err(invalid(format!(
                "no targets role {parent:?} in this repository"
            )));
        }
        if keys.is_empty() {
            return Err(invalid("a delegation needs at least one key"));
        }
        let count = u64::try_from(keys.len()).unwrap_or(u64::MAX);
        if threshold < 1 || threshold > count {
            return Err(invalid(format!(
                "threshold {threshold} with {count} key(s): it must be 1 to {count}"
            )));
        }
        let mut keyids = Vec::new();
        let mut key_objects = Vec::new();
        for k in keys {
            let (id, v) = self.public_key(k)?;
            if keyids.contains(&Value::String(id.clone())) {
                return Err(invalid(format!("key {k:?} is given twice")));
            }
            keyids.push(Value::String(id.clone()));
            key_objects.push((id, v));
        }
        let existing = self.staged_targets(parent)?.signed.delegations;
        let (new_roles, entry) = match kind {
            DelegationKind::Paths {
                name,
                paths,
                terminating,
            } => {
                if existing
                    .as_ref()
                    .is_some_and(|d| d.succinct_roles.is_some())
                {
                    return Err(invalid(format!(
                        "{parent:?} delegates to hash bins; it cannot also delegate by paths"
                    )));
                }
                if paths.is_empty() {
                    return Err(invalid("a path delegation needs at least one pattern"));
                }
                (
                    vec![name.clone()],
                    json!({
                        "name": name,
                        "keyids": keyids,
                        "threshold": threshold,
                        "terminating": terminating,
                        "paths": paths,
                    }),
                )
            }
            DelegationKind::HashBins {
                name_prefix,
                bit_length,
            } => {
                if existing.is_some() {
                    return Err(invalid(format!(
                        "{parent:?} already delegates; hash bins must be its only delegation"
                    )));
                }
                if !(1..=MAX_BIT_LENGTH).contains(bit_length) {
                    return Err(invalid(format!(
                        "bit length {bit_length}: it must be 1 to {MAX_BIT_LENGTH}"
                    )));
                }
                let width = usize::try_from(bit_length.div_ceil(4)).unwrap_or(4);
                let bins = 1u32
                    .checked_shl(*bit_length)
                    .ok_or_else(|| invalid("bit length out of range"))?;
                let names = (0..bins)
                    .map(|i| format!("{name_prefix}-{i:0width$x}"))
                    .collect();
                (
                    names,
                    json!({
                        "keyids": keyids,
                        "threshold": threshold,
                        "bit_length": bit_length,
                        "name_prefix": name_prefix,
                    }),
                )
            }
        };
        for name in &new_roles {
            check_role_name(name)?;
            if self.is_targets_role(name) || self.doc_path(name)?.exists() {
                return Err(invalid(format!("role {name:?} exists already")));
            }
        }
        let mut doc = self.edit(parent, now)?;
        let delegations = doc.object_mut("delegations")?;
        let dkeys = delegations
            .entry("keys".to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| invalid("delegations.keys is not an object"))?;
        for (id, v) in key_objects {
            dkeys.insert(id, v);
        }
        match kind {
            DelegationKind::Paths { .. } => {
                let roles = delegations
                    .entry("roles".to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()))
                    .as_array_mut()
                    .ok_or_else(|| invalid("delegations.roles is not an array"))?;
                roles.push(entry);
            }
            DelegationKind::HashBins { .. } => {
                delegations.insert("succinct_roles".to_owned(), entry);
            }
        }
        let child = empty_targets(now, self.state.expiry.targets)?;
        for name in &new_roles {
            self.save_doc(name, &child)?;
            self.state.parents.insert(name.clone(), parent.to_owned());
            self.state.dirty.insert(name.clone());
        }
        self.save_doc(parent, &doc)?;
        self.save_state()?;
        Ok(new_roles)
    }

    /// Adds the signature of `key` (a name in `keys/` or a path to a key
    /// kept elsewhere) to the staged `role` (root, targets or a delegated
    /// role), for thresholds above one. The key must be one the role trusts
    /// (for root: a root key of the new or of the published root, §5.3.4).
    /// Snapshot and timestamp are signed by [`Repository::publish`].
    pub fn sign(&mut self, role: &str, key: &str) -> Result<KeyInfo, RepoError> {
        if role == "snapshot" || role == "timestamp" {
            return Err(invalid(format!(
                "{role} is made and signed by `dha repo publish` with its keys in keys/"
            )));
        }
        let authorities = if role == "root" {
            self.root_authorities()?
        } else {
            vec![self.authority(role)?]
        };
        let private = self.private_key(key)?;
        let id = private.public_key().listed_id().to_owned();
        if !authorities.iter().any(|a| a.keyids.contains(&id)) {
            return Err(invalid(format!(
                "key {key:?} ({id}) is not a key of {role}"
            )));
        }
        let mut doc = self.load_doc(role)?;
        doc.sign(&private)?;
        self.save_doc(role, &doc)?;
        Ok(KeyInfo {
            name: key.to_owned(),
            keyid: id,
            keytype: private.public_key().keytype().to_owned(),
            scheme: private.public_key().scheme().to_owned(),
        })
    }

    /// Replaces `old` (a key name, path or key id; `None`: add only) by
    /// `new` (a key name or path) among the keys of the top-level `role`,
    /// optionally with a new threshold, in a new root version (TUF 1.0.34
    /// §5.3.4: [`Repository::publish`] signs it with the keys of the old
    /// root and of the new one, and checks both thresholds). A rotated
    /// targets role is re-signed at publish; snapshot and timestamp always
    /// are.
    pub fn rotate_key(
        &mut self,
        role: &str,
        old: Option<&str>,
        new: &str,
        threshold: Option<u64>,
        now: SystemTime,
    ) -> Result<(), RepoError> {
        if !TOP_LEVEL_ROLES.contains(&role) {
            return Err(invalid(format!("no top-level role {role:?}")));
        }
        let (new_id, new_key) = self.public_key(new)?;
        let old_id = match old {
            None => None,
            Some(k) if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(k.to_owned())
            }
            Some(k) => Some(self.public_key(k)?.0),
        };
        let mut doc = self.edit("root", now)?;
        let roles = doc.object_mut("roles")?;
        let entry = roles
            .get_mut(role)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| invalid(format!("root lists no role {role:?}")))?;
        let mut keyids: Vec<String> = entry
            .get("keyids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if keyids.contains(&new_id) {
            return Err(invalid(format!("{role} already has key {new_id}")));
        }
        if let Some(old_id) = &old_id {
            let before = keyids.len();
            keyids.retain(|k| k != old_id);
            if keyids.len() == before {
                return Err(invalid(format!("{role} has no key {old_id}")));
            }
        }
        keyids.push(new_id.clone());
        let threshold = match threshold {
            Some(t) => t,
            None => entry.get("threshold").and_then(Value::as_u64).unwrap_or(1),
        };
        let count = u64::try_from(keyids.len()).unwrap_or(u64::MAX);
        if threshold < 1 || threshold > count {
            return Err(invalid(format!(
                "{role}: threshold {threshold} with {count} key(s): it must be 1 to {count}"
            )));
        }
        entry.insert("keyids".to_owned(), json!(keyids));
        entry.insert("threshold".to_owned(), json!(threshold));
        // Keys no role lists any more leave the root's key list.
        let used: BTreeSet<String> = roles
            .values()
            .filter_map(|r| r.get("keyids").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let keys = doc.object_mut("keys")?;
        keys.insert(new_id, new_key);
        keys.retain(|id, _| used.contains(id));
        self.save_doc("root", &doc)?;
        if role == "targets" {
            let targets = self.edit("targets", now)?;
            self.save_doc("targets", &targets)?;
        }
        self.save_state()?;
        Ok(())
    }

    /// Signs `doc` with every key in `available` that `authorities` trust.
    fn auto_sign(
        doc: &mut Doc,
        available: &BTreeMap<String, PrivateKey>,
        authorities: &[Authority],
    ) -> Result<(), RepoError> {
        for (id, key) in available {
            if authorities.iter().any(|a| a.keyids.contains(id)) {
                doc.sign(key)?;
            }
        }
        Ok(())
    }

    /// The client's own threshold check (TUF 1.0.34 §5.3.4, §5.4.2 …).
    fn check_threshold(role: &str, doc: &Doc, a: &Authority) -> Result<(), RepoError> {
        match verify_threshold(
            role,
            &doc.canonical()?,
            &doc.signatures,
            &a.keys,
            &a.keyids,
            a.threshold,
        ) {
            Ok(()) => Ok(()),
            Err(TufError::Threshold {
                role,
                valid,
                threshold,
            }) => Err(RepoError::Unsigned {
                role,
                valid,
                threshold,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Publishes: signs the changed roles with their keys in `keys/`,
    /// checks every threshold, makes snapshot version N+1 (listing every
    /// targets role's version, TUF 1.0.34 §4.4) and timestamp version N+1
    /// (listing the snapshot's version, length and hashes, §4.6), and
    /// writes them to `metadata/`: root first, then the targets roles,
    /// the snapshot, and the timestamp last, so a client reading the
    /// directory meanwhile sees the old timestamp or a complete new set.
    /// Nothing is written when a check fails.
    pub fn publish(&mut self, now: SystemTime) -> Result<PublishReport, RepoError> {
        let available = self.available_keys()?;
        let consistent = self.consistent_snapshot()?;
        let mut outputs: Vec<(String, u64, PathBuf, Vec<u8>)> = Vec::new();
        let mut signed_docs: Vec<(String, Doc)> = Vec::new();
        let md = self.metadata_dir();
        fs::create_dir_all(&md).map_err(|e| io_err(&md, &e))?;

        if self.state.dirty.contains("root") {
            let mut doc = self.load_doc("root")?;
            let want = self
                .state
                .root_version
                .checked_add(1)
                .ok_or_else(|| invalid("root: version overflow"))?;
            if doc.version() != want {
                return Err(invalid(format!(
                    "root: staged version {} but the next is {want}",
                    doc.version()
                )));
            }
            let authorities = self.root_authorities()?;
            Self::auto_sign(&mut doc, &available, &authorities)?;
            for a in &authorities {
                Self::check_threshold("root", &doc, a)?;
            }
            let bytes = doc.to_bytes()?;
            Metadata::<Root>::from_bytes("root", &bytes)?;
            outputs.push((
                "root".to_owned(),
                want,
                md.join(format!("{want}.root.json")),
                bytes,
            ));
            signed_docs.push(("root".to_owned(), doc));
        }
        // Targets roles are checked against the staged root and parents
        // (the keys clients will trust once the new root is in place).
        let mut meta = Map::new();
        for role in self.targets_roles() {
            let mut doc = self.load_doc(&role)?;
            let version = doc.version();
            // Snapshot keys are `ROLE.json` with the name as it is (only
            // file names and URLs are percent-encoded), as python-tuf lists them.
            meta.insert(format!("{role}.json"), json!({ "version": version }));
            if !self.state.dirty.contains(&role) {
                continue;
            }
            let authority = self.authority(&role)?;
            Self::auto_sign(&mut doc, &available, std::slice::from_ref(&authority))?;
            Self::check_threshold(&role, &doc, &authority)?;
            let bytes = doc.to_bytes()?;
            Metadata::<Targets>::from_bytes(&role, &bytes)?;
            let file = versioned_name(&role, version, consistent);
            outputs.push((role.clone(), version, md.join(file), bytes));
            signed_docs.push((role, doc));
        }
        // TUF 1.0.34 §4.4: the snapshot lists every targets role.
        let snapshot_version = self
            .state
            .snapshot_version
            .checked_add(1)
            .ok_or_else(|| invalid("snapshot: version overflow"))?;
        let mut snapshot = Doc::new(json!({
            "_type": "snapshot",
            "spec_version": SPEC_VERSION,
            "version": snapshot_version,
            "expires": expires_at(now, self.state.expiry.snapshot)?,
            "meta": meta,
        }))?;
        let authority = self.authority("snapshot")?;
        Self::auto_sign(&mut snapshot, &available, std::slice::from_ref(&authority))?;
        Self::check_threshold("snapshot", &snapshot, &authority)?;
        let snapshot_bytes = snapshot.to_bytes()?;
        outputs.push((
            "snapshot".to_owned(),
            snapshot_version,
            md.join(versioned_name("snapshot", snapshot_version, consistent)),
            snapshot_bytes.clone(),
        ));
        // §4.6: the timestamp lists the snapshot's version, length and hashes.
        let timestamp_version = self
            .state
            .timestamp_version
            .checked_add(1)
            .ok_or_else(|| invalid("timestamp: version overflow"))?;
        let mut timestamp = Doc::new(json!({
            "_type": "timestamp",
            "spec_version": SPEC_VERSION,
            "version": timestamp_version,
            "expires": expires_at(now, self.state.expiry.timestamp)?,
            "meta": { "snapshot.json": {
                "version": snapshot_version,
                "length": snapshot_bytes.len(),
                "hashes": {
                    "sha256": hex(digest::digest(&digest::SHA256, &snapshot_bytes).as_ref()),
                },
            }},
        }))?;
        let authority = self.authority("timestamp")?;
        Self::auto_sign(&mut timestamp, &available, std::slice::from_ref(&authority))?;
        Self::check_threshold("timestamp", &timestamp, &authority)?;
        outputs.push((
            "timestamp".to_owned(),
            timestamp_version,
            md.join("timestamp.json"),
            timestamp.to_bytes()?,
        ));

        // Every check passed: write, the timestamp last.
        let mut report = PublishReport::default();
        for (role, version, path, bytes) in outputs {
            write_file(&path, &bytes, Some(0o644))?;
            report.written.push((role, version));
        }
        for (role, doc) in &signed_docs {
            self.save_doc(role, doc)?;
        }
        if self.state.dirty.contains("root") {
            self.state.root_version = self.state.root_version.saturating_add(1);
        }
        self.state.snapshot_version = snapshot_version;
        self.state.timestamp_version = timestamp_version;
        self.state.dirty.clear();
        self.save_state()?;
        Ok(report)
    }
}

/// The served file name of a role (TUF 1.0.34 §5.5.1, §5.6.1).
fn versioned_name(role: &str, version: u64, consistent: bool) -> String {
    let file = format!("{}.json", percent_encode(role));
    if consistent {
        format!("{version}.{file}")
    } else {
        file
    }
}

/// A delegated role's name: not empty, not a top-level role's name, no
/// control characters (it is percent-encoded in file names and URLs).
fn check_role_name(name: &str) -> Result<(), RepoError> {
    if name.is_empty() || TOP_LEVEL_ROLES.contains(&name) || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "role name {name:?}: not empty, not a top-level role, no control characters"
        )));
    }
    role_file_name(name)?;
    Ok(())
}

fn empty_targets(now: SystemTime, d: Duration) -> Result<Doc, RepoError> {
    Doc::new(json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires_at(now, d)?,
        "targets": {},
    }))
}

fn set_mode(path: &Path, mode: u32) -> Result<(), RepoError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| io_err(path, &e))
}

#[cfg(test)]
mod tests;
