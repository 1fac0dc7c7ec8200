//! Keys and signatures (TUF 1.0.34 §4.2, §4.3): being written.

use super::TufError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry of a metadata file's `signatures` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The key id the signature claims.
    pub keyid: String,
    /// The signature, hex-encoded.
    pub sig: String,
}

/// Checks that at least `threshold` distinct keys among `authorised` (each
/// described in `keys` as the metadata lists it) made a valid signature over
/// `signed_canonical` (the canonical JSON of the `signed` object).
pub fn verify_threshold(
    role: &str,
    signed_canonical: &[u8],
    signatures: &[Signature],
    keys: &BTreeMap<String, serde_json::Value>,
    authorised: &[String],
    threshold: u64,
) -> Result<(), TufError> {
    let _ = (signed_canonical, signatures, keys, authorised);
    Err(TufError::Threshold {
        role: role.to_owned(),
        valid: 0,
        threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
    })
}
