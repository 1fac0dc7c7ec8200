//! Sealing keys: what makes a baseline tamper-evident (issue 4 "Sealed";
//! IEC 62443-4-2 CR 3.4).
//!
//! Two kinds of key:
//! - **Ed25519** (RFC 8032), through ed25519-dalek: the manufacturer seals a
//!   baseline shipped inside the device image with its private key, and the
//!   device verifies it with the public key only.
//! - **HMAC-SHA-256** (RFC 2104) with a 32-byte device key, through ring: a
//!   baseline made on the device itself, sealed and checked with a key that
//!   never leaves it.
//!
//! # Key files
//!
//! | kind | file | content |
//! |---|---|---|
//! | Ed25519 private | [`SealKey::write`], mode 0600 | PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, RFC 8410); v1 or v2, so a key from `dha repo keygen --type ed25519` works too |
//! | Ed25519 public | [`VerifyKey::write`], mode 0644 | SPKI PEM (`-----BEGIN PUBLIC KEY-----`, RFC 8410) |
//! | HMAC-SHA-256 | [`SealKey::write`], mode 0600 | two text lines: `dha-hmac-sha256-key v1`, then the 32-byte key as 64 lower-case hex digits (upper case is accepted on reading) |
//!
//! Key files are created, never overwritten (`O_CREAT|O_EXCL`), with their
//! mode set before any key byte is written, then fsynced with their
//! directory. A key file is read up to [`MAX_KEY_FILE_BYTES`].
//!
//! # Key ids
//!
//! Every seal carries the id of the key that made it, so that a baseline
//! sealed with another key gets its own error rather than a bare "does not
//! verify". An Ed25519 key's id is the SHA-256 of its 32-byte public key;
//! an HMAC key's id is `HMAC-SHA-256(key, "dha-baseline-key-id v1")`, which
//! names the key without revealing it.
//!
//! Neither the `Debug` nor the `Display` of a key, a seal or an error
//! prints key bytes: only the kind and the key id.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use ring::rand::SecureRandom as _;
use zeroize::Zeroizing;

use crate::integrity::error::IntegrityError;

/// The largest key file read (a PEM Ed25519 key is about 120 bytes).
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The first line of an HMAC key file.
const HMAC_HEADER: &str = "dha-hmac-sha256-key v1";

/// The message whose HMAC is an HMAC key's id.
const HMAC_KEY_ID_LABEL: &[u8] = b"dha-baseline-key-id v1";

/// Length of an HMAC device key in bytes (the SHA-256 block output size,
/// RFC 2104 §3's recommended minimum).
pub const HMAC_KEY_LEN: usize = 32;

/// The kind of a sealing key, and of the seal it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SealKind {
    /// An Ed25519 signature (64 bytes).
    Ed25519,
    /// An HMAC-SHA-256 tag (32 bytes).
    HmacSha256,
}

impl SealKind {
    /// The code stored in a baseline's seal trailer.
    pub fn code(self) -> u8 {
        match self {
            SealKind::Ed25519 => 1,
            SealKind::HmacSha256 => 2,
        }
    }

    /// The kind with this stored code.
    pub fn from_code(code: u8) -> Option<SealKind> {
        match code {
            1 => Some(SealKind::Ed25519),
            2 => Some(SealKind::HmacSha256),
            _ => None,
        }
    }

    /// The length of the signature or tag this kind makes.
    pub fn seal_len(self) -> usize {
        match self {
            SealKind::Ed25519 => ed25519_dalek::SIGNATURE_LENGTH,
            SealKind::HmacSha256 => 32,
        }
    }

    /// The name used in messages and on the command line
    /// (`ed25519`, `hmac-sha256`).
    pub fn name(self) -> &'static str {
        match self {
            SealKind::Ed25519 => "ed25519",
            SealKind::HmacSha256 => "hmac-sha256",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<SealKind> {
        match name {
            "ed25519" => Some(SealKind::Ed25519),
            "hmac-sha256" | "hmac" => Some(SealKind::HmacSha256),
            _ => None,
        }
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The id of a sealing key (see the module documentation): not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 32]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A seal: the kind, the id of the key that made it, and the signature or
/// tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Seal {
    /// The kind of key that made it.
    pub kind: SealKind,
    /// The id of the key that made it.
    pub key_id: KeyId,
    /// The Ed25519 signature (64 bytes) or HMAC tag (32 bytes).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Seal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seal")
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Why a seal was refused (never carries key material).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The seal was made by another key (or another kind of key).
    OtherKey {
        /// The kind of key that made the seal.
        seal_kind: SealKind,
        /// The id of the key that made the seal.
        seal_key_id: KeyId,
        /// The kind of the key given.
        key_kind: SealKind,
        /// The id of the key given.
        key_id: KeyId,
    },
    /// The seal names this key but does not verify over the bytes.
    Invalid,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::OtherKey {
                seal_kind,
                seal_key_id,
                key_kind,
                key_id,
            } => write!(
                f,
                "sealed with another key (key id {seal_key_id}, {seal_kind}); \
                 the key given is {key_id} ({key_kind})"
            ),
            SealError::Invalid => {
                f.write_str("seal does not verify: the baseline was altered or truncated")
            }
        }
    }
}

impl std::error::Error for SealError {}

/// An HMAC device key: the raw bytes (wiped on drop) and ring's key.
#[derive(Clone)]
struct HmacKey {
    raw: Zeroizing<[u8; HMAC_KEY_LEN]>,
    key: ring::hmac::Key,
    id: KeyId,
}

impl HmacKey {
    fn new(raw: [u8; HMAC_KEY_LEN]) -> HmacKey {
        let raw = Zeroizing::new(raw);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, raw.as_ref());
        let tag = ring::hmac::sign(&key, HMAC_KEY_ID_LABEL);
        let mut id = [0u8; 32];
        id.copy_from_slice(tag.as_ref());
        HmacKey {
            raw,
            key,
            id: KeyId(id),
        }
    }

    fn file_text(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(HMAC_HEADER.len() + 66));
        s.push_str(HMAC_HEADER);
        s.push('\n');
        for b in self.raw.iter() {
            s.push(hex_digit(b >> 4));
            s.push(hex_digit(b & 0x0f));
        }
        s.push('\n');
        s
    }
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

fn ed25519_key_id(vk: &VerifyingKey) -> KeyId {
    let d = ring::digest::digest(&ring::digest::SHA256, vk.as_bytes());
    let mut id = [0u8; 32];
    id.copy_from_slice(d.as_ref());
    KeyId(id)
}

/// A key that seals baselines: an Ed25519 private key or an HMAC-SHA-256
/// device key.
#[derive(Clone)]
pub struct SealKey {
    inner: SealInner,
}

#[derive(Clone)]
enum SealInner {
    Ed25519 { key: SigningKey, id: KeyId },
    Hmac(HmacKey),
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKey")
            .field("kind", &self.kind())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// A new random key of `kind`, from the operating system's random
    /// source (ring's `SystemRandom`).
    pub fn generate(kind: SealKind) -> Result<SealKey, IntegrityError> {
        let rng = ring::rand::SystemRandom::new();
        let mut raw = Zeroizing::new([0u8; 32]);
        rng.fill(raw.as_mut()).map_err(|_| IntegrityError::Key {
            path: "(new key)".into(),
            reason: "the system random source failed".to_owned(),
        })?;
        Ok(match kind {
            // RFC 8032 §5.1.5: the private key is 32 random bytes.
            SealKind::Ed25519 => SealKey::from_signing_key(SigningKey::from_bytes(&raw)),
            SealKind::HmacSha256 => SealKey {
                inner: SealInner::Hmac(HmacKey::new(*raw)),
            },
        })
    }

    fn from_signing_key(key: SigningKey) -> SealKey {
        let id = ed25519_key_id(&key.verifying_key());
        SealKey {
            inner: SealInner::Ed25519 { key, id },
        }
    }

    /// The kind of this key.
    pub fn kind(&self) -> SealKind {
        match &self.inner {
            SealInner::Ed25519 { .. } => SealKind::Ed25519,
            SealInner::Hmac(_) => SealKind::HmacSha256,
        }
    }

    /// The id of this key (stored in every seal it makes).
    pub fn key_id(&self) -> KeyId {
        match &self.inner {
            SealInner::Ed25519 { id, .. } => *id,
            SealInner::Hmac(k) => k.id,
        }
    }

    /// The key that verifies this key's seals: the Ed25519 public key, or
    /// the HMAC key itself.
    pub fn public(&self) -> VerifyKey {
        match &self.inner {
            SealInner::Ed25519 { key, id } => VerifyKey {
                inner: VerifyInner::Ed25519 {
                    key: key.verifying_key(),
                    id: *id,
                },
            },
            SealInner::Hmac(k) => VerifyKey {
                inner: VerifyInner::Hmac(k.clone()),
            },
        }
    }

    /// Seals `message`.
    pub fn sign(&self, message: &[u8]) -> Seal {
        match &self.inner {
            SealInner::Ed25519 { key, id } => Seal {
                kind: SealKind::Ed25519,
                key_id: *id,
                bytes: key.sign(message).to_bytes().to_vec(),
            },
            SealInner::Hmac(k) => Seal {
                kind: SealKind::HmacSha256,
                key_id: k.id,
                bytes: ring::hmac::sign(&k.key, message).as_ref().to_vec(),
            },
        }
    }

    /// Verifies a seal made by this key (see [`VerifyKey::verify`]).
    pub fn verify(&self, message: &[u8], seal: &Seal) -> Result<(), SealError> {
        self.public().verify(message, seal)
    }

    /// Writes the private key to a new file `path` with mode 0600 (see the
    /// module documentation for the formats). Refuses to overwrite a file.
    pub fn write(&self, path: &Path) -> Result<(), IntegrityError> {
        let text = match &self.inner {
            SealInner::Ed25519 { key, .. } => {
                key.to_pkcs8_pem(LineEnding::LF)
                    .map_err(|_| IntegrityError::Key {
                        path: path.to_owned(),
                        reason: "cannot encode the Ed25519 key as PKCS#8".to_owned(),
                    })?
            }
            SealInner::Hmac(k) => k.file_text(),
        };
        write_new(path, text.as_bytes(), 0o600)
    }

    /// Reads a private key file: an Ed25519 PKCS#8 PEM key or an HMAC key
    /// file.
    pub fn load(path: &Path) -> Result<SealKey, IntegrityError> {
        match read_key_file(path)? {
            Loaded::Seal(k) => Ok(k),
            Loaded::Public(_) => Err(key_err(
                path,
                "an Ed25519 public key: sealing needs the private key",
            )),
        }
    }
}

/// A key that verifies seals: an Ed25519 public key, or the HMAC key.
#[derive(Clone)]
pub struct VerifyKey {
    inner: VerifyInner,
}

#[derive(Clone)]
enum VerifyInner {
    Ed25519 { key: VerifyingKey, id: KeyId },
    Hmac(HmacKey),
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kind", &self.kind())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// The kind of this key.
    pub fn kind(&self) -> SealKind {
        match &self.inner {
            VerifyInner::Ed25519 { .. } => SealKind::Ed25519,
            VerifyInner::Hmac(_) => SealKind::HmacSha256,
        }
    }

    /// The id of this key.
    pub fn key_id(&self) -> KeyId {
        match &self.inner {
            VerifyInner::Ed25519 { id, .. } => *id,
            VerifyInner::Hmac(k) => k.id,
        }
    }

    /// Checks that `seal` was made over `message` by this key: first that
    /// the seal names this key (kind and key id), then the signature
    /// (Ed25519 strict verification, RFC 8032 §5.1.7) or the tag (compared
    /// in constant time by `ring::hmac::verify`).
    pub fn verify(&self, message: &[u8], seal: &Seal) -> Result<(), SealError> {
        if seal.kind != self.kind() || seal.key_id != self.key_id() {
            return Err(SealError::OtherKey {
                seal_kind: seal.kind,
                seal_key_id: seal.key_id,
                key_kind: self.kind(),
                key_id: self.key_id(),
            });
        }
        match &self.inner {
            VerifyInner::Ed25519 { key, .. } => {
                let sig = ed25519_dalek::Signature::from_slice(&seal.bytes)
                    .map_err(|_| SealError::Invalid)?;
                key.verify_strict(message, &sig)
                    .map_err(|_| SealError::Invalid)
            }
            VerifyInner::Hmac(k) => {
                ring::hmac::verify(&k.key, message, &seal.bytes).map_err(|_| SealError::Invalid)
            }
        }
    }

    /// Writes the key to a new file `path`: an Ed25519 public key as SPKI
    /// PEM (mode 0644), an HMAC key as a key file (mode 0600). Refuses to
    /// overwrite a file.
    pub fn write(&self, path: &Path) -> Result<(), IntegrityError> {
        match &self.inner {
            VerifyInner::Ed25519 { key, .. } => {
                let pem = key
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|_| key_err(path, "cannot encode the Ed25519 public key"))?;
                write_new(path, pem.as_bytes(), 0o644)
            }
            VerifyInner::Hmac(k) => write_new(path, k.file_text().as_bytes(), 0o600),
        }
    }

    /// Reads a key file that can verify seals: an Ed25519 public key (SPKI
    /// PEM), an Ed25519 private key (PKCS#8 PEM) or an HMAC key file.
    pub fn load(path: &Path) -> Result<VerifyKey, IntegrityError> {
        match read_key_file(path)? {
            Loaded::Seal(k) => Ok(k.public()),
            Loaded::Public(k) => Ok(k),
        }
    }
}

fn key_err(path: &Path, reason: &str) -> IntegrityError {
    IntegrityError::Key {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

enum Loaded {
    Seal(SealKey),
    Public(VerifyKey),
}

/// Reads and recognises a key file. Messages say what the file looks like,
/// never what it holds.
fn read_key_file(path: &Path) -> Result<Loaded, IntegrityError> {
    let file = File::open(path).map_err(|e| IntegrityError::io(path, e))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IntegrityError::io(path, e))?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(key_err(
            path,
            &format!("larger than {MAX_KEY_FILE_BYTES} bytes: not a key file"),
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        key_err(
            path,
            "not a text file: expected a PEM Ed25519 key or a dha HMAC key file",
        )
    })?;
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    match first {
        "-----BEGIN PRIVATE KEY-----" => {
            let key = SigningKey::from_pkcs8_pem(text).map_err(|_| {
                key_err(
                    path,
                    "a PKCS#8 private key that is not a well-formed Ed25519 key \
                     (dha seals with Ed25519 or HMAC-SHA-256 keys)",
                )
            })?;
            Ok(Loaded::Seal(SealKey::from_signing_key(key)))
        }
        "-----BEGIN PUBLIC KEY-----" => {
            let key = VerifyingKey::from_public_key_pem(text).map_err(|_| {
                key_err(
                    path,
                    "a public key that is not a well-formed Ed25519 key \
                     (dha seals with Ed25519 or HMAC-SHA-256 keys)",
                )
            })?;
            let id = ed25519_key_id(&key);
            Ok(Loaded::Public(VerifyKey {
                inner: VerifyInner::Ed25519 { key, id },
            }))
        }
        HMAC_HEADER => parse_hmac(path, text).map(|k| {
            Loaded::Seal(SealKey {
                inner: SealInner::Hmac(k),
            })
        }),
        l if l.starts_with("-----BEGIN ") => Err(key_err(
            path,
            "a PEM document of another kind (EC, RSA, OpenSSH or encrypted key?): \
             dha reads PKCS#8 Ed25519 private keys, SPKI Ed25519 public keys \
             and dha HMAC key files",
        )),
        _ => Err(key_err(
            path,
            "not a sealing key: expected a PEM Ed25519 key or a dha HMAC key file \
             (first line `dha-hmac-sha256-key v1`)",
        )),
    }
}

/// The HMAC key file: the header line, then 64 hex digits, then nothing but
/// white space.
fn parse_hmac(path: &Path, text: &str) -> Result<HmacKey, IntegrityError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let _header = lines.next();
    let hex = lines.next().unwrap_or("");
    if lines.next().is_some() {
        return Err(key_err(path, "HMAC key file: more than two lines"));
    }
    let bad = || {
        key_err(
            path,
            "HMAC key file: the second line must be 64 hex digits (a 32-byte key)",
        )
    };
    if hex.len() != HMAC_KEY_LEN * 2 {
        return Err(bad());
    }
    let mut raw = Zeroizing::new([0u8; HMAC_KEY_LEN]);
    for (out, pair) in raw.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).map_err(|_| bad())?;
        *out = u8::from_str_radix(digits, 16).map_err(|_| bad())?;
    }
    Ok(HmacKey::new(*raw))
}

/// Creates `path` (never overwriting) with `mode` set before the content is
/// written, writes `data`, and fsyncs the file and its directory. On error
/// a partly written file is removed.
fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), IntegrityError> {
    let io = |e| IntegrityError::io(path, e);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                key_err(path, "already exists: a key file is never overwritten")
            } else {
                io(e)
            }
        })?;
    let written = (|| {
        // The umask may have taken bits away from `mode`; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(data)?;
        file.sync_all()?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        crate::durable::sync_dir(dir)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
