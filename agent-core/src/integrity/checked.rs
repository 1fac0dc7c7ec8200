//! The record of the last check against a baseline: when it ran, how, and
//! how many changes it found, kept beside the baseline as
//! `<baseline>.checked` (one small JSON document, written durably).
//!
//! It answers "was the baseline checked recently?" (INT-01; SSG
//! aide_periodic_cron_checking) for an audit, including an offline audit of
//! an image. [`crate::integrity::ops::check`] writes it after every
//! completed comparison; a failure to write it is logged, never a failed
//! check. It is a record of operation, not evidence: it is not sealed
//! (checking needs only the verifying key, which cannot seal), so whoever
//! can write the baseline's directory can also forge it.
//!
//! ```json
//! {"schema_version":1,"checked":"2026-11-29T00:00:00Z","mode":"quick","changes":0,"key_id":"…"}
//! ```

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The format's version.
pub const SCHEMA_VERSION: u32 = 1;

/// What is appended to the baseline's file name.
pub const SUFFIX: &str = ".checked";

/// Largest record read, in bytes.
pub const MAX_RECORD_BYTES: u64 = 4096;

/// The last check against a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRecord {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// When the check finished (RFC 3339, UTC).
    pub checked: String,
    /// `full` or `quick`.
    pub mode: String,
    /// Changes found (0 for a clean check).
    pub changes: u64,
    /// The id of the key the baseline's seal was verified with.
    pub key_id: String,
}

impl CheckRecord {
    /// A record of a check that finished at `when`.
    pub fn new(when: SystemTime, mode: &str, changes: usize, key_id: &str) -> CheckRecord {
        CheckRecord {
            schema_version: SCHEMA_VERSION,
            checked: crate::clock::rfc3339(when),
            mode: mode.to_owned(),
            changes: u64::try_from(changes).unwrap_or(u64::MAX),
            key_id: key_id.to_owned(),
        }
    }

    /// Parses a record (at most [`MAX_RECORD_BYTES`]); the error says what
    /// is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<CheckRecord, String> {
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_RECORD_BYTES {
            return Err(format!("larger than {MAX_RECORD_BYTES} bytes"));
        }
        let r: CheckRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not {SCHEMA_VERSION}",
                r.schema_version
            ));
        }
        r.checked_at()?;
        Ok(r)
    }

    /// [`CheckRecord::checked`] as a time.
    pub fn checked_at(&self) -> Result<SystemTime, String> {
        time::OffsetDateTime::parse(
            &self.checked,
            &time::format_description::well_known::Rfc3339,
        )
        .map(SystemTime::from)
        .map_err(|e| format!("checked: {:?} is not an RFC 3339 time: {e}", self.checked))
    }

    /// Writes the record beside `baseline`, atomically and durably (mode 0644).
    pub fn write_beside(&self, baseline: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        text.push(b'\n');
        crate::durable::write_atomic(&record_path(baseline), &text, Some(0o644))
    }

    /// Reads the record beside `baseline`; `Ok(None)` when there is none.
    pub fn read_beside(baseline: &Path) -> Result<Option<CheckRecord>, String> {
        let path = record_path(baseline);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let mut bytes = Vec::new();
        file.take(MAX_RECORD_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        CheckRecord::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// `<baseline>.checked`.
pub fn record_path(baseline: &Path) -> PathBuf {
    let mut s = baseline.as_os_str().to_owned();
    s.push(SUFFIX);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bl = dir.path().join("b.baseline");
        assert_eq!(CheckRecord::read_beside(&bl), Ok(None));
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_910_400);
        let r = CheckRecord::new(when, "quick", 2, "abcd");
        r.write_beside(&bl).unwrap();
        assert_eq!(record_path(&bl), dir.path().join("b.baseline.checked"));
        let back = CheckRecord::read_beside(&bl).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(back.checked, "2026-11-29T00:00:00Z");
        assert_eq!(back.checked_at().unwrap(), when);
        for bad in [
            &b"{}"[..],
            b"{\"schema_version\":2,\"checked\":\"2026-11-29T00:00:00Z\",\"mode\":\"full\",\"changes\":0,\"key_id\":\"\"}",
            b"{\"schema_version\":1,\"checked\":\"yesterday\",\"mode\":\"full\",\"changes\":0,\"key_id\":\"\"}",
        ] {
            assert!(CheckRecord::from_bytes(bad).is_err());
        }
        assert!(CheckRecord::from_bytes(&vec![b' '; 5000]).is_err());
    }
}
