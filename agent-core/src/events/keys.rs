//! The event log's keys: the initial key `K_0` and its file, the
//! forward evolution `K_{i+1} = HKDF(K_i)` and the record tags (see
//! "Keys" in [`super::log`]).

use super::log::{EventLogError, io_err};
use super::record::{self, TAG_LEN};
use ring::{hkdf, hmac};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroizing;

/// The HKDF `info` label of the key evolution (domain separation).
const EVOLVE_INFO: &[u8] = b"dha eventlog key evolution v1";

/// A 32-byte key, erased from memory when dropped.
pub(crate) type RawKey = Zeroizing<[u8; 32]>;

/// The initial key `K_0` of a log. Kept by the integrator away from the
/// device; needed to verify the log from its first record.
///
/// Its file is 64 lower-case hex digits and a newline, mode 0600.
pub struct InitialKey(RawKey);

impl std::fmt::Debug for InitialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitialKey(..)")
    }
}

impl InitialKey {
    /// A new random key (ring's system random generator).
    pub fn generate() -> Result<Self, EventLogError> {
        let mut k = Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), k.as_mut())
            .map_err(|_| EventLogError::Random)?;
        Ok(InitialKey(k))
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        InitialKey(Zeroizing::new(bytes))
    }

    /// The key's bytes (to keep them elsewhere).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a key file (64 hex digits, surrounding white space allowed).
    pub fn read(path: &Path) -> Result<Self, EventLogError> {
        let mut text = Zeroizing::new(String::new());
        File::open(path)
            .and_then(|f| f.take(1024).read_to_string(&mut text))
            .map_err(io_err(path, "cannot read the key file"))?;
        let bytes = Zeroizing::new(record::from_hex(text.trim()).unwrap_or_default());
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| EventLogError::KeyFile {
                path: path.to_path_buf(),
                what: "not an event-log key (expected 64 hex digits)".to_owned(),
            })?;
        Ok(InitialKey::from_bytes(key))
    }

    /// Writes the key file, mode 0600; refuses to overwrite an existing file.
    pub fn write(&self, path: &Path) -> Result<(), EventLogError> {
        if path.symlink_metadata().is_ok() {
            return Err(EventLogError::Exists {
                path: path.to_path_buf(),
            });
        }
        let mut text = Zeroizing::new(record::hex(self.0.as_ref()));
        text.push('\n');
        crate::durable::write_atomic(path, text.as_bytes(), Some(0o600))
            .map_err(io_err(path, "cannot write the key file"))
    }
}

/// `K_{i+1}` from `K_i` (RFC 5869 through ring; see the module docs).
pub(crate) fn evolve(key: &[u8; 32]) -> RawKey {
    let mut next = Zeroizing::new([0u8; 32]);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(key);
    // expand and fill fail only for an output longer than 255 hash
    // lengths; 32 bytes cannot.
    let _ = prk
        .expand(&[EVOLVE_INFO], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(next.as_mut()));
    next
}

/// The tag of `bytes` under `key`.
pub(crate) fn tag(key: &[u8; 32], bytes: &[u8]) -> [u8; TAG_LEN] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(hmac::sign(&k, bytes).as_ref());
    out
}

/// Checks a tag in constant time.
pub(crate) fn tag_ok(key: &[u8; 32], bytes: &[u8], tag: &[u8]) -> bool {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, bytes, tag).is_ok()
}
