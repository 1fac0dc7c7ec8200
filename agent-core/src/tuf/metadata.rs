//! The typed model of TUF metadata (TUF 1.0.34 §4 "Document formats"): root
//! (§4.3), snapshot (§4.4), targets with delegations (§4.5, TAP 15 succinct
//! hash bins) and timestamp (§4.6).
//!
//! A role's bytes are parsed into a [`Metadata<T>`] holding three things:
//! - the typed, validated `signed` object ([`Root`], [`Timestamp`],
//!   [`Snapshot`], [`Targets`]);
//! - the raw `signed` JSON value as received, unknown fields included,
//!   because signatures are checked over its canonical form (§4.2: "the
//!   signature is over the canonical JSON of the signed object"), not over
//!   a re-serialisation of the typed model;
//! - the `signatures` list.
//!
//! Validation follows the reference implementation (python-tuf
//! `tuf.api.metadata`) and refuses what it refuses, with an error naming the
//! role and the field ([`TufError::Malformed`], [`TufError::InvalidThreshold`]).
//! Duplicate keys in a JSON object are refused too (serde_json would keep
//! the last one silently, letting two readers see two different documents).
//! The caller bounds the size of the bytes ([`crate::tuf::Limits`]);
//! serde_json bounds the nesting depth.

use super::TufError;
use super::cjson;
use super::keys::{self, Signature};
use crate::Clock;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::SystemTime;

/// The major version of the specification this client implements; metadata
/// with another major `spec_version` is refused (TUF 1.0.34 §4.1).
pub const SPEC_MAJOR_VERSION: &str = "1";

/// The names of the four top-level roles (TUF 1.0.34 §2.1.1).
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "snapshot", "targets", "timestamp"];

/// The fields every `signed` object has (TUF 1.0.34 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// `spec_version`, as written (major version checked to be 1).
    pub spec_version: String,
    /// `version`, at least 1.
    pub version: u64,
    /// `expires`, parsed from `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires: SystemTime,
}

/// A role's typed `signed` object: one of [`Root`], [`Timestamp`],
/// [`Snapshot`] and [`Targets`].
pub trait Signed: Sized {
    /// The `_type` the object must carry.
    const TYPE: &'static str;

    /// Parses and validates the `signed` value of the metadata of role `role`
    /// (the role name is used in errors; a delegated targets role has its
    /// own name but `_type` `targets`).
    fn from_signed(role: &str, signed: &Value) -> Result<Self, TufError>;

    /// The fields every role has.
    fn common(&self) -> &Common;
}

/// The metadata of one role: the typed `signed` object, the raw `signed`
/// value as received, and the signatures.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata<T> {
    /// The typed, validated `signed` object.
    pub signed: T,
    /// The `signed` object exactly as received (unknown fields included);
    /// signatures are over its canonical JSON.
    pub signed_raw: Value,
    /// The `signatures` list, in the order received.
    pub signatures: Vec<Signature>,
}

impl<T: Signed> Metadata<T> {
    /// Parses the bytes of role `role`'s metadata,
    /// `{"signed": {...}, "signatures": [...]}`, and validates `signed`
    /// (TUF 1.0.34 §4.2). Signatures are not checked here: see
    /// [`Metadata::verify`].
    pub fn from_bytes(role: &str, bytes: &[u8]) -> Result<Self, TufError> {
        let top = serde_json::from_slice::<StrictValue>(bytes)
            .map_err(|e| malformed(role, format!("not valid JSON: {e}")))?
            .0;
        let Value::Object(mut top) = top else {
            return Err(malformed(role, "metadata: must be an object"));
        };
        as_object(role, "signed", get(role, "", &top, "signed")?)?;
        let signatures = parse_signatures(role, get(role, "", &top, "signatures")?)?;
        // Moved out of the parsed document, not copied: `signed` is the
        // larger part of the metadata (a snapshot lists every role).
        let signed_raw = top
            .remove("signed")
            .ok_or_else(|| malformed(role, "signed: missing"))?;
        let signed = T::from_signed(role, &signed_raw)?;
        Ok(Metadata {
            signed,
            signed_raw,
            signatures,
        })
    }

    /// The canonical JSON of `signed` as received: the bytes signatures are
    /// made over (TUF 1.0.34 §4.2).
    pub fn canonical_signed(&self) -> Result<Vec<u8>, TufError> {
        cjson::canonicalize(&self.signed_raw)
    }

    /// Checks that `threshold` distinct keys among `keyids` (described in
    /// `keys`) signed this metadata (TUF 1.0.34 §5.3.4, §5.4.2, §5.5.3,
    /// §5.6.3), through [`keys::verify_threshold`].
    pub fn verify(
        &self,
        role: &str,
        keys: &BTreeMap<String, Value>,
        keyids: &[String],
        threshold: u64,
    ) -> Result<(), TufError> {
        let canonical = self.canonical_signed()?;
        keys::verify_threshold(role, &canonical, &self.signatures, keys, keyids, threshold)
    }

    /// Whether the metadata has expired at `now`: expired when `now` is at
    /// or after `expires` (TUF 1.0.34 §5.3.10, §5.4.4, §5.5.6, §5.6.6: the
    /// expiry must be "higher than the fixed update start time").
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now >= self.signed.common().expires
    }

    /// [`Metadata::is_expired_at`] at the clock's current time. The client
    /// workflow reads the clock once, at the start of an update (§5.1).
    pub fn is_expired(&self, clock: &dyn Clock) -> bool {
        self.is_expired_at(clock.now())
    }

    /// `version` of the `signed` object.
    pub fn version(&self) -> u64 {
        self.signed.common().version
    }
}

/// The keys and threshold of one role listed in root (TUF 1.0.34 §4.3 "ROLE").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeys {
    /// The key ids allowed to sign the role, each listed once.
    pub keyids: Vec<String>,
    /// How many of them must sign, at least 1.
    pub threshold: u64,
}

/// The root role (TUF 1.0.34 §4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    /// `spec_version`, `version`, `expires`.
    pub common: Common,
    /// `consistent_snapshot` (false when absent, as the reference reads it).
    pub consistent_snapshot: bool,
    /// `keys`: key id → the key object as received (checked to have
    /// `keytype`, `scheme` and an object `keyval`), for
    /// [`keys::verify_threshold`].
    pub keys: BTreeMap<String, Value>,
    /// `roles`: exactly the four top-level roles.
    pub roles: BTreeMap<String, RoleKeys>,
}

impl Root {
    /// The keys and threshold root gives a top-level role.
    pub fn role(&self, name: &str) -> Option<&RoleKeys> {
        self.roles.get(name)
    }
}

impl Signed for Root {
    const TYPE: &'static str = "root";

    fn from_signed(role: &str, signed: &Value) -> Result<Self, TufError> {
        let m = as_object(role, "signed", signed)?;
        let common = parse_common(role, m, Self::TYPE)?;
        let consistent_snapshot = match m.get("consistent_snapshot") {
            None => false,
            Some(v) => v.as_bool().ok_or_else(|| {
                malformed(role, "signed.consistent_snapshot: must be true or false")
            })?,
        };
        let keys = parse_keys(role, "signed.keys", get(role, "signed", m, "keys")?)?;
        let roles_value = as_object(role, "signed.roles", get(role, "signed", m, "roles")?)?;
        let mut roles = BTreeMap::new();
        for (name, v) in roles_value {
            let path = format!("signed.roles.{name}");
            let r = as_object(role, &path, v)?;
            roles.insert(name.clone(), parse_role_keys(role, name, &path, r)?);
        }
        // TUF 1.0.34 §4.3: root lists the keys of the four top-level roles;
        // the reference refuses any other set.
        let have: BTreeSet<&str> = roles.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = TOP_LEVEL_ROLES.into_iter().collect();
        if have != want {
            return Err(malformed(
                role,
                format!(
                    "signed.roles: must list exactly {}, found {}",
                    TOP_LEVEL_ROLES.join(", "),
                    have.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        Ok(Root {
            common,
            consistent_snapshot,
            keys,
            roles,
        })
    }

    fn common(&self) -> &Common {
        &self.common
    }
}

/// What snapshot or timestamp says about another metadata file
/// (TUF 1.0.34 §4.4 "METAFILES").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFile {
    /// `version`, at least 1.
    pub version: u64,
    /// `length` in bytes, when given.
    pub length: Option<u64>,
    /// `hashes`: algorithm → hex digest, when given (never empty).
    pub hashes: Option<BTreeMap<String, String>>,
}

/// The timestamp role (TUF 1.0.34 §4.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Timestamp {
    /// `spec_version`, `version`, `expires`.
    pub common: Common,
    /// `meta["snapshot.json"]` (other entries are ignored, as the reference
    /// does; they stay in the raw value).
    pub snapshot_meta: MetaFile,
}

impl Signed for Timestamp {
    const TYPE: &'static str = "timestamp";

    fn from_signed(role: &str, signed: &Value) -> Result<Self, TufError> {
        let m = as_object(role, "signed", signed)?;
        let common = parse_common(role, m, Self::TYPE)?;
        let meta = as_object(role, "signed.meta", get(role, "signed", m, "meta")?)?;
        let snapshot = get(role, "signed.meta", meta, "snapshot.json")?;
        let snapshot_meta = parse_meta_file(role, "signed.meta.snapshot.json", snapshot)?;
        Ok(Timestamp {
            common,
            snapshot_meta,
        })
    }

    fn common(&self) -> &Common {
        &self.common
    }
}

/// The snapshot role (TUF 1.0.34 §4.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `spec_version`, `version`, `expires`.
    pub common: Common,
    /// `meta`: file name (`targets.json`, `<delegated role>.json`) → what it must be.
    pub meta: BTreeMap<String, MetaFile>,
}

impl Signed for Snapshot {
    const TYPE: &'static str = "snapshot";

    fn from_signed(role: &str, signed: &Value) -> Result<Self, TufError> {
        let m = as_object(role, "signed", signed)?;
        let common = parse_common(role, m, Self::TYPE)?;
        let meta_value = as_object(role, "signed.meta", get(role, "signed", m, "meta")?)?;
        let mut meta = BTreeMap::new();
        for (name, v) in meta_value {
            let file = parse_meta_file(role, Sub("signed.meta", name), v)?;
            meta.insert(name.clone(), file);
        }
        Ok(Snapshot { common, meta })
    }

    fn common(&self) -> &Common {
        &self.common
    }
}

/// One target file (TUF 1.0.34 §4.5 "TARGETS").
#[derive(Debug, Clone, PartialEq)]
pub struct TargetFile {
    /// `length` in bytes.
    pub length: u64,
    /// `hashes`: algorithm → hex digest (never empty).
    pub hashes: BTreeMap<String, String>,
    /// `custom`, as received, when present.
    pub custom: Option<Value>,
}

/// A delegation to a named role (TUF 1.0.34 §4.5 "DELEGATIONS").
/// Exactly one of `paths` and `path_hash_prefixes` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedRole {
    /// `name`: neither empty nor a top-level role name.
    pub name: String,
    /// `keyids`, each listed once.
    pub keyids: Vec<String>,
    /// `threshold`, at least 1.
    pub threshold: u64,
    /// `terminating`: when true, a search that reaches this role does not
    /// go on to the delegating role's later delegations (§5.6.7.2.1).
    pub terminating: bool,
    /// `paths`: target path patterns (see [`DelegatedRole::matches`]).
    pub paths: Option<Vec<String>>,
    /// `path_hash_prefixes`: prefixes of the hex SHA-256 of target paths.
    pub path_hash_prefixes: Option<Vec<String>>,
}

/// A succinct hash-bin delegation (TAP 15): `2^bit_length` terminating
/// roles named `{name_prefix}-{index in hex}`, all with the same keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccinctRoles {
    /// `keyids` every bin is signed with.
    pub keyids: Vec<String>,
    /// `threshold` of every bin, at least 1.
    pub threshold: u64,
    /// `bit_length`, 1 to 32.
    pub bit_length: u32,
    /// `name_prefix` of the bins' names.
    pub name_prefix: String,
}

/// The `delegations` of a targets role (TUF 1.0.34 §4.5; TAP 15).
#[derive(Debug, Clone, PartialEq)]
pub struct Delegations {
    /// `keys`: key id → key object as received.
    pub keys: BTreeMap<String, Value>,
    /// `roles`, in their order of priority (empty when `succinct_roles` is set).
    pub roles: Vec<DelegatedRole>,
    /// `succinct_roles` (TAP 15), exclusive with `roles`.
    pub succinct_roles: Option<SuccinctRoles>,
}

/// The targets role, top-level or delegated (TUF 1.0.34 §4.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// `spec_version`, `version`, `expires`.
    pub common: Common,
    /// `targets`: target path → file description.
    pub targets: BTreeMap<String, TargetFile>,
    /// `delegations`, when present.
    pub delegations: Option<Delegations>,
}

impl Signed for Targets {
    const TYPE: &'static str = "targets";

    fn from_signed(role: &str, signed: &Value) -> Result<Self, TufError> {
        let m = as_object(role, "signed", signed)?;
        let common = parse_common(role, m, Self::TYPE)?;
        let tv = as_object(role, "signed.targets", get(role, "signed", m, "targets")?)?;
        let mut targets = BTreeMap::new();
        for (name, v) in tv {
            // Field paths are formatted only for an error message: a bin
            // can list thousands of targets.
            let path = Sub("signed.targets", name);
            let t = as_object(role, path, v)?;
            let length = parse_u64(role, Sub(path, "length"), get(role, path, t, "length")?)?;
            let hashes = parse_hashes(role, Sub(path, "hashes"), get(role, path, t, "hashes")?)?;
            targets.insert(
                name.clone(),
                TargetFile {
                    length,
                    hashes,
                    custom: t.get("custom").cloned(),
                },
            );
        }
        let delegations = match m.get("delegations") {
            None => None,
            Some(v) => Some(parse_delegations(role, v)?),
        };
        Ok(Targets {
            common,
            targets,
            delegations,
        })
    }

    fn common(&self) -> &Common {
        &self.common
    }
}

// --- parsing helpers ---------------------------------------------------------

fn malformed(role: &str, message: impl Into<String>) -> TufError {
    TufError::Malformed {
        role: role.to_owned(),
        message: message.into(),
    }
}

/// The path of a field below `self.0`, `parent.key`, formatted only when an
/// error message needs it.
#[derive(Clone, Copy)]
struct Sub<'k, P>(P, &'k str);

impl<P: fmt::Display> fmt::Display for Sub<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// The path of item `self.1` of the list at `self.0`, `list[index]`,
/// formatted only when an error message needs it.
#[derive(Clone, Copy)]
struct At<P>(P, usize);

impl<P: fmt::Display> fmt::Display for At<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

fn as_object<'v>(
    role: &str,
    path: impl fmt::Display,
    v: &'v Value,
) -> Result<&'v Map<String, Value>, TufError> {
    v.as_object()
        .ok_or_else(|| malformed(role, format!("{path}: must be an object")))
}

fn as_array<'v>(
    role: &str,
    path: impl fmt::Display,
    v: &'v Value,
) -> Result<&'v Vec<Value>, TufError> {
    v.as_array()
        .ok_or_else(|| malformed(role, format!("{path}: must be a list")))
}

fn as_str<'v>(role: &str, path: impl fmt::Display, v: &'v Value) -> Result<&'v str, TufError> {
    v.as_str()
        .ok_or_else(|| malformed(role, format!("{path}: must be a string")))
}

fn get<'v>(
    role: &str,
    parent: impl fmt::Display,
    m: &'v Map<String, Value>,
    key: &str,
) -> Result<&'v Value, TufError> {
    m.get(key).ok_or_else(|| {
        let parent = parent.to_string();
        let path = if parent.is_empty() {
            key.to_owned()
        } else {
            format!("{parent}.{key}")
        };
        malformed(role, format!("{path}: missing"))
    })
}

/// A non-negative JSON integer (TUF lengths and versions).
fn parse_u64(role: &str, path: impl fmt::Display, v: &Value) -> Result<u64, TufError> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    let why = if v.as_i64().is_some() {
        "must not be negative"
    } else {
        "must be an integer"
    };
    Err(malformed(role, format!("{path}: {why}, found {v}")))
}

/// A version: an integer of at least 1 (TUF 1.0.34 §4.2, §4.4).
fn parse_version(role: &str, path: impl fmt::Display + Copy, v: &Value) -> Result<u64, TufError> {
    match parse_u64(role, path, v)? {
        0 => Err(malformed(
            role,
            format!("{path}: must be at least 1, found 0"),
        )),
        n => Ok(n),
    }
}

/// A threshold: an integer of at least 1 (TUF 1.0.34 §4.3). `owner` is the
/// role the threshold belongs to.
fn parse_threshold(
    role: &str,
    owner: &str,
    path: impl fmt::Display,
    v: &Value,
) -> Result<u64, TufError> {
    if let Some(n) = v.as_i64() {
        if n < 1 {
            return Err(TufError::InvalidThreshold {
                role: owner.to_owned(),
                threshold: n,
            });
        }
    }
    parse_u64(role, path, v)
}

fn parse_string_list(
    role: &str,
    path: impl fmt::Display + Copy,
    v: &Value,
) -> Result<Vec<String>, TufError> {
    as_array(role, path, v)?
        .iter()
        .enumerate()
        .map(|(i, item)| as_str(role, At(path, i), item).map(str::to_owned))
        .collect()
}

/// `keyids` and `threshold` of a role; each key id counts once, so a list
/// naming one twice is refused (as the reference does).
fn parse_role_keys(
    role: &str,
    owner: &str,
    path: &str,
    m: &Map<String, Value>,
) -> Result<RoleKeys, TufError> {
    let keyids_path = format!("{path}.keyids");
    let keyids = parse_string_list(role, &keyids_path, get(role, path, m, "keyids")?)?;
    let mut seen = BTreeSet::new();
    for id in &keyids {
        if !seen.insert(id.as_str()) {
            return Err(malformed(
                role,
                format!("{keyids_path}: key id {id} is listed twice"),
            ));
        }
    }
    let threshold = parse_threshold(
        role,
        owner,
        Sub(&path, "threshold"),
        get(role, path, m, "threshold")?,
    )?;
    Ok(RoleKeys { keyids, threshold })
}

/// `spec_version`: `MAJOR.MINOR` or `MAJOR.MINOR.PATCH` of ASCII digits with
/// major 1 (TUF 1.0.34 §4.1; the reference also accepts two parts).
fn parse_spec_version(role: &str, v: &Value) -> Result<String, TufError> {
    let s = as_str(role, "signed.spec_version", v)?;
    let parts: Vec<&str> = s.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !(2..=3).contains(&parts.len()) || !numeric {
        return Err(malformed(
            role,
            format!("signed.spec_version: {s:?} is not a version number"),
        ));
    }
    if parts.first() != Some(&SPEC_MAJOR_VERSION) {
        return Err(malformed(
            role,
            format!(
                "signed.spec_version: {s:?} is not supported (major version {SPEC_MAJOR_VERSION} is)"
            ),
        ));
    }
    Ok(s.to_owned())
}

/// `expires`: exactly `YYYY-MM-DDTHH:MM:SSZ` in UTC (TUF 1.0.34 §4.2,
/// ISO 8601 as the reference writes and reads it).
pub fn parse_expires(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let dt = time::PrimitiveDateTime::parse(s, &format).ok()?;
    Some(SystemTime::from(dt.assume_utc()))
}

fn parse_common(role: &str, m: &Map<String, Value>, want_type: &str) -> Result<Common, TufError> {
    let ty = as_str(role, "signed._type", get(role, "signed", m, "_type")?)?;
    if ty != want_type {
        return Err(malformed(
            role,
            format!("signed._type: expected {want_type:?}, found {ty:?}"),
        ));
    }
    let spec_version = parse_spec_version(role, get(role, "signed", m, "spec_version")?)?;
    let version = parse_version(role, "signed.version", get(role, "signed", m, "version")?)?;
    let expires_s = as_str(role, "signed.expires", get(role, "signed", m, "expires")?)?;
    let expires = parse_expires(expires_s).ok_or_else(|| {
        malformed(
            role,
            format!("signed.expires: {expires_s:?} is not YYYY-MM-DDTHH:MM:SSZ"),
        )
    })?;
    Ok(Common {
        spec_version,
        version,
        expires,
    })
}

/// `keys`: each a `{keytype, scheme, keyval: {...}}` object (TUF 1.0.34
/// §4.2 "KEY"), kept as received.
fn parse_keys(role: &str, path: &str, v: &Value) -> Result<BTreeMap<String, Value>, TufError> {
    let m = as_object(role, path, v)?;
    let mut keys = BTreeMap::new();
    for (id, key) in m {
        let kpath = format!("{path}.{id}");
        let k = as_object(role, &kpath, key)?;
        as_str(
            role,
            Sub(&kpath, "keytype"),
            get(role, &kpath, k, "keytype")?,
        )?;
        as_str(role, Sub(&kpath, "scheme"), get(role, &kpath, k, "scheme")?)?;
        as_object(role, Sub(&kpath, "keyval"), get(role, &kpath, k, "keyval")?)?;
        keys.insert(id.clone(), key.clone());
    }
    Ok(keys)
}

/// `hashes`: a non-empty object of algorithm → hex digest (TUF 1.0.34 §4.4, §4.5).
fn parse_hashes(
    role: &str,
    path: impl fmt::Display + Copy,
    v: &Value,
) -> Result<BTreeMap<String, String>, TufError> {
    let m = as_object(role, path, v)?;
    if m.is_empty() {
        return Err(malformed(role, format!("{path}: must not be empty")));
    }
    let mut hashes = BTreeMap::new();
    for (alg, h) in m {
        let hpath = Sub(path, alg);
        let h = as_str(role, hpath, h)?;
        if h.is_empty() || h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed(
                role,
                format!("{hpath}: {h:?} is not a hex digest"),
            ));
        }
        hashes.insert(alg.clone(), h.to_owned());
    }
    Ok(hashes)
}

fn parse_meta_file(
    role: &str,
    path: impl fmt::Display + Copy,
    v: &Value,
) -> Result<MetaFile, TufError> {
    let m = as_object(role, path, v)?;
    let version = parse_version(role, Sub(path, "version"), get(role, path, m, "version")?)?;
    let length = match m.get("length") {
        None => None,
        Some(l) => Some(parse_u64(role, Sub(path, "length"), l)?),
    };
    let hashes = match m.get("hashes") {
        None => None,
        Some(h) => Some(parse_hashes(role, Sub(path, "hashes"), h)?),
    };
    Ok(MetaFile {
        version,
        length,
        hashes,
    })
}

fn parse_delegations(role: &str, v: &Value) -> Result<Delegations, TufError> {
    let path = "signed.delegations";
    let m = as_object(role, path, v)?;
    let keys = parse_keys(role, "signed.delegations.keys", get(role, path, m, "keys")?)?;
    // TAP 15: `roles` and `succinct_roles` are exclusive; the reference
    // requires exactly one of them.
    let (roles, succinct_roles) = match (m.get("roles"), m.get("succinct_roles")) {
        (Some(_), Some(_)) => {
            return Err(malformed(
                role,
                "signed.delegations: roles and succinct_roles are exclusive",
            ));
        }
        (None, None) => {
            return Err(malformed(
                role,
                "signed.delegations: one of roles and succinct_roles must be given",
            ));
        }
        (Some(r), None) => (parse_delegated_roles(role, r)?, None),
        (None, Some(s)) => (Vec::new(), Some(parse_succinct(role, s)?)),
    };
    Ok(Delegations {
        keys,
        roles,
        succinct_roles,
    })
}

fn parse_delegated_roles(role: &str, v: &Value) -> Result<Vec<DelegatedRole>, TufError> {
    let list = as_array(role, "signed.delegations.roles", v)?;
    let mut names = BTreeSet::new();
    let mut roles = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("signed.delegations.roles[{i}]");
        let m = as_object(role, &path, item)?;
        let name = as_str(role, Sub(&path, "name"), get(role, &path, m, "name")?)?;
        if name.is_empty() || TOP_LEVEL_ROLES.contains(&name) {
            return Err(malformed(
                role,
                format!("{path}.name: {name:?} is empty or a top-level role name"),
            ));
        }
        if !names.insert(name) {
            return Err(malformed(
                role,
                format!("{path}.name: role {name:?} is delegated twice"),
            ));
        }
        let RoleKeys { keyids, threshold } = parse_role_keys(role, name, &path, m)?;
        let terminating = get(role, &path, m, "terminating")?
            .as_bool()
            .ok_or_else(|| malformed(role, format!("{path}.terminating: must be true or false")))?;
        // TUF 1.0.34 §4.5: a delegation gives `paths` or
        // `path_hash_prefixes`, never both; the reference also requires one.
        let paths = match m.get("paths") {
            None => None,
            Some(p) => Some(parse_string_list(role, Sub(&path, "paths"), p)?),
        };
        let path_hash_prefixes = match m.get("path_hash_prefixes") {
            None => None,
            Some(p) => Some(parse_string_list(
                role,
                Sub(&path, "path_hash_prefixes"),
                p,
            )?),
        };
        if paths.is_some() == path_hash_prefixes.is_some() {
            return Err(malformed(
                role,
                format!("{path}: exactly one of paths and path_hash_prefixes must be given"),
            ));
        }
        roles.push(DelegatedRole {
            name: name.to_owned(),
            keyids,
            threshold,
            terminating,
            paths,
            path_hash_prefixes,
        });
    }
    Ok(roles)
}

fn parse_succinct(role: &str, v: &Value) -> Result<SuccinctRoles, TufError> {
    let path = "signed.delegations.succinct_roles";
    let m = as_object(role, path, v)?;
    let name_prefix = as_str(
        role,
        "signed.delegations.succinct_roles.name_prefix",
        get(role, path, m, "name_prefix")?,
    )?;
    let RoleKeys { keyids, threshold } = parse_role_keys(role, name_prefix, path, m)?;
    let bits_path = "signed.delegations.succinct_roles.bit_length";
    let bits = parse_u64(role, bits_path, get(role, path, m, "bit_length")?)?;
    // TAP 15: between 1 and 32 bits of the target path's SHA-256.
    let bit_length = u32::try_from(bits)
        .ok()
        .filter(|b| (1..=32).contains(b))
        .ok_or_else(|| malformed(role, format!("{bits_path}: must be 1 to 32, found {bits}")))?;
    Ok(SuccinctRoles {
        keyids,
        threshold,
        bit_length,
        name_prefix: name_prefix.to_owned(),
    })
}

fn parse_signatures(role: &str, v: &Value) -> Result<Vec<Signature>, TufError> {
    let list = as_array(role, "signatures", v)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("signatures[{i}]");
        let m = as_object(role, &path, item)?;
        let keyid = as_str(role, Sub(&path, "keyid"), get(role, &path, m, "keyid")?)?;
        let sig = as_str(role, Sub(&path, "sig"), get(role, &path, m, "sig")?)?;
        // The reference refuses two signatures claiming one key id.
        if !seen.insert(keyid) {
            return Err(malformed(
                role,
                format!("{path}.keyid: key id {keyid} signs twice"),
            ));
        }
        out.push(Signature {
            keyid: keyid.to_owned(),
            sig: sig.to_owned(),
        });
    }
    Ok(out)
}

// --- JSON without duplicate keys ---------------------------------------------

/// A JSON value whose objects have no duplicate keys.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // Kept so the typed parser can name the field; canonical JSON
        // refuses floats later.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format!("duplicate key {:?}", slot.key())));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests;
