//! The anti-rollback floor: the release counter of the last image
//! installed (issue 5, "Anti-rollback: a persisted floor; an older target
//! is refused before anything is written").
//!
//! One floor for the device, whatever the target's name: the slots hold
//! the device's software, and a rename must not reopen an old release. The
//! file is `{"schema_version": 1, "release_counter": N}`, written with
//! [`crate::durable::write_atomic`]; a missing file is floor 0.

use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// Largest floor file read.
const MAX_FLOOR_BYTES: u64 = 4096;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FloorFile {
    schema_version: u32,
    release_counter: u64,
}

/// Reads the floor at `path` (0 when the file does not exist); the error
/// says what is wrong with the file.
pub fn read_floor(path: &Path) -> Result<u64, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FLOOR_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FLOOR_BYTES {
        return Err(format!("larger than {MAX_FLOOR_BYTES} bytes"));
    }
    let f: FloorFile = serde_json::from_slice(&bytes)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if f.schema_version != 1 {
        return Err(format!("schema_version: {} is not 1", f.schema_version));
    }
    Ok(f.release_counter)
}

/// The bytes of a floor file holding `release_counter`.
pub(crate) fn floor_bytes(release_counter: u64) -> Vec<u8> {
    format!("{{\"schema_version\": 1, \"release_counter\": {release_counter}}}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_zero_and_bad_files_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("floor");
        assert_eq!(read_floor(&p).unwrap(), 0);
        std::fs::write(&p, floor_bytes(7)).unwrap();
        assert_eq!(read_floor(&p).unwrap(), 7);
        std::fs::write(&p, b"{\"schema_version\": 1, \"release_counter\": -1}").unwrap();
        assert!(read_floor(&p).unwrap_err().contains("line 1"));
        std::fs::write(&p, b"{\"schema_version\": 2, \"release_counter\": 1}").unwrap();
        assert!(read_floor(&p).unwrap_err().contains("schema_version"));
    }
}
