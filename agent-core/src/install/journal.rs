//! The install journal: what each slot holds and which install is in
//! progress, kept durably so that a restart after a power cut knows what
//! was interrupted (issue 5, "Slot states … kept in a durable install
//! journal").
//!
//! The journal is one JSON document written with
//! [`crate::durable::write_atomic`], so a reader sees either the journal
//! before a step or after it, never a torn one. It is read with a bound
//! ([`MAX_JOURNAL_BYTES`]) and every field is checked; an error names the
//! field.
//!
//! ```json
//! {"schema_version": 1,
//!  "slots": {"A": {"state": "good",
//!                  "image": {"target": "os.img", "release_counter": 3,
//!                            "sha256": "…", "length": 4194304}},
//!            "B": {"state": "bad"}},
//!  "in_progress": {"slot": "B", "phase": "written",
//!                  "image": {"target": "os.img", "release_counter": 4,
//!                            "sha256": "…", "length": 4194304}}}
//! ```
//!
//! Slot states "active" (first bootable in the boot order) and "booted"
//! (running now) are not kept here: they come from the boot loader
//! ([`crate::boot::BootControl`]), which is their only authority.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The journal format's version.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest journal read, in bytes (a journal of a few slots is far below).
pub const MAX_JOURNAL_BYTES: u64 = 64 * 1024;

/// Most slots a journal may describe.
pub const MAX_SLOTS: usize = 16;

/// Longest target name accepted (TUF target paths are short).
pub const MAX_TARGET_NAME: usize = 1024;

/// What a slot's content is known to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentState {
    /// It holds a complete image whose SHA-256 was checked by reading the
    /// slot back (or it is the slot the device shipped with and booted).
    Good,
    /// Its content is unknown or partial (an install started writing it).
    Bad,
}

/// A slot's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotRecord {
    /// Good or bad.
    pub state: ContentState,
    /// The target whose image it holds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRecord>,
}

/// An image: which target, which release, its hash and length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRecord {
    /// The TUF target name.
    pub target: String,
    /// The target's `custom.release_counter`.
    pub release_counter: u64,
    /// Lower-case hex SHA-256 of the image, from verified metadata.
    pub sha256: String,
    /// Its length in bytes.
    pub length: u64,
}

/// How far the install in progress got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Journaled before the target slot was marked bad and written.
    Started,
    /// The image is written and fsynced.
    Written,
    /// The slot was read back and its SHA-256 matched.
    Verified,
    /// The boot order names the new slot first.
    Switched,
}

impl Phase {
    /// The name used in the journal and in hook environments.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Started => "started",
            Phase::Written => "written",
            Phase::Verified => "verified",
            Phase::Switched => "switched",
        }
    }
}

/// The install in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InProgress {
    /// The slot being written.
    pub slot: String,
    /// What is written into it.
    pub image: ImageRecord,
    /// How far it got.
    pub phase: Phase,
}

/// The journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Per slot, by name.
    pub slots: BTreeMap<String, SlotRecord>,
    /// The install in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<InProgress>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            schema_version: SCHEMA_VERSION,
            slots: BTreeMap::new(),
            in_progress: None,
        }
    }
}

/// Why a journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading or writing the file failed.
    #[error("install journal {path}: {source}")]
    Io {
        /// The journal file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The content is not a valid journal; `field` names what is wrong
    /// (`slots.B.sha256`, `in_progress.phase`, or the parser's
    /// line and column).
    #[error("install journal {path}: {field}: {reason}")]
    Invalid {
        /// The journal file (`<bytes>` for [`Journal::from_bytes`]).
        path: String,
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

impl Journal {
    /// Parses and checks a journal from bytes (at most [`MAX_JOURNAL_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Journal, JournalError> {
        Journal::parse(bytes, "<bytes>")
    }

    fn parse(bytes: &[u8], path: &str) -> Result<Journal, JournalError> {
        let invalid = |field: &str, reason: String| JournalError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            reason,
        };
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_JOURNAL_BYTES {
            return Err(invalid(
                "(file)",
                format!("larger than {MAX_JOURNAL_BYTES} bytes"),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let journal: Journal = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." {
                "(document)".to_owned()
            } else {
                path
            };
            invalid(
                &field,
                format!("line {}, column {}: {inner}", inner.line(), inner.column()),
            )
        })?;
        de.end().map_err(|e| {
            invalid(
                "(document)",
                format!("line {}, column {}: {e}", e.line(), e.column()),
            )
        })?;
        journal
            .check()
            .map_err(|(field, reason)| invalid(&field, reason))?;
        Ok(journal)
    }

    /// Checks every field; the error is `(field, why)`.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.schema_version != SCHEMA_VERSION {
            return Err((
                "schema_version".to_owned(),
                format!("{} is not {SCHEMA_VERSION}", self.schema_version),
            ));
        }
        if self.slots.len() > MAX_SLOTS {
            return Err(("slots".to_owned(), format!("more than {MAX_SLOTS} slots")));
        }
        for (name, slot) in &self.slots {
            check_slot_name(name).map_err(|why| (format!("slots.{name}"), why))?;
            if let Some(image) = &slot.image {
                check_image(image).map_err(|(f, why)| (format!("slots.{name}.{f}"), why))?;
            }
        }
        if let Some(p) = &self.in_progress {
            check_slot_name(&p.slot).map_err(|why| ("in_progress.slot".to_owned(), why))?;
            if !self.slots.contains_key(&p.slot) {
                return Err((
                    "in_progress.slot".to_owned(),
                    format!("{:?} is not among the journal's slots", p.slot),
                ));
            }
            check_image(&p.image).map_err(|(f, why)| (format!("in_progress.image.{f}"), why))?;
        }
        Ok(())
    }

    /// Reads the journal at `path`; a missing file is `Ok(None)`.
    pub fn load(path: &Path) -> Result<Option<Journal>, JournalError> {
        let shown = path.display().to_string();
        let io = |source| JournalError::Io {
            path: shown.clone(),
            source,
        };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_JOURNAL_BYTES.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Journal::parse(&bytes, &shown).map(Some)
    }

    /// The journal as written (pretty JSON, newline-terminated).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain structs of strings and integers cannot fail.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Writes the journal to `path` durably ([`crate::durable::write_atomic`],
    /// mode 0600).
    pub fn store(&self, path: &Path) -> Result<(), JournalError> {
        crate::durable::write_atomic(path, &self.to_bytes(), Some(0o600)).map_err(|source| {
            JournalError::Io {
                path: path.display().to_string(),
                source,
            }
        })
    }
}

fn check_slot_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "slot name {name:?}: must be 1 to 64 letters, digits, '_' or '-'"
        ));
    }
    Ok(())
}

fn check_image(image: &ImageRecord) -> Result<(), (String, String)> {
    if image.target.is_empty() || image.target.len() > MAX_TARGET_NAME {
        return Err((
            "target".to_owned(),
            format!("must be 1 to {MAX_TARGET_NAME} bytes"),
        ));
    }
    if !is_sha256_hex(&image.sha256) {
        return Err((
            "sha256".to_owned(),
            "must be 64 lower-case hex digits".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `s` is a lower-case hex SHA-256 digest.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Journal {
        let image = ImageRecord {
            target: "os.img".into(),
            release_counter: 4,
            sha256: "ab".repeat(32),
            length: 4096,
        };
        let mut j = Journal::default();
        j.slots.insert(
            "A".into(),
            SlotRecord {
                state: ContentState::Good,
                image: Some(ImageRecord {
                    release_counter: 3,
                    ..image.clone()
                }),
            },
        );
        j.slots.insert(
            "B".into(),
            SlotRecord {
                state: ContentState::Bad,
                image: None,
            },
        );
        j.in_progress = Some(InProgress {
            slot: "B".into(),
            image,
            phase: Phase::Written,
        });
        j
    }

    #[test]
    fn round_trips_through_a_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("journal");
        assert_eq!(Journal::load(&p).unwrap(), None);
        let j = sample();
        j.store(&p).unwrap();
        assert_eq!(Journal::load(&p).unwrap(), Some(j));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let good = String::from_utf8(sample().to_bytes()).unwrap();
        let cases = [
            (
                "\"schema_version\": 1",
                "\"schema_version\": 2",
                "schema_version",
            ),
            (
                "\"phase\": \"written\"",
                "\"phase\": \"halfway\"",
                "halfway",
            ),
            ("\"slot\": \"B\"", "\"slot\": \"C\"", "in_progress.slot"),
            ("\"slot\": \"B\"", "\"slot\": \"../x\"", "in_progress.slot"),
            ("\"state\": \"bad\"", "\"state\": \"meh\"", "meh"),
            (
                "\"release_counter\": 3",
                "\"release_counter\": -3",
                "slots.A.image.release_counter",
            ),
            (
                "\"release_counter\": 3",
                "\"release_counter\": 3, \"x\": 1",
                "unknown field `x`",
            ),
        ];
        for (from, to, want) in cases {
            assert!(good.contains(from), "{from}");
            let bad = good.replacen(from, to, 1);
            let e = Journal::from_bytes(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{to}: {e}");
        }
        let bad = good.replacen(&"ab".repeat(32), &"AB".repeat(32), 1);
        let e = Journal::from_bytes(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("slots.A.sha256"), "{e}");
        let e = Journal::from_bytes(&vec![b' '; 70_000])
            .unwrap_err()
            .to_string();
        assert!(e.contains("larger than"), "{e}");
        assert!(Journal::from_bytes(&good.as_bytes()[..good.len() / 2]).is_err());
    }

    /// Writes the fuzz seeds of the `install_journal` target:
    /// `DHA_FUZZ_SEED_DIR=$PWD/fuzz/corpus/install_journal cargo test -p
    /// agent-core --lib install::journal::tests::write_fuzz_seeds -- --ignored`.
    #[test]
    #[ignore]
    fn write_fuzz_seeds() {
        let dir = std::path::PathBuf::from(std::env::var("DHA_FUZZ_SEED_DIR").unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        let full = sample();
        std::fs::write(dir.join("in-progress.json"), full.to_bytes()).unwrap();
        let mut done = full.clone();
        done.in_progress = None;
        std::fs::write(dir.join("idle.json"), done.to_bytes()).unwrap();
        std::fs::write(dir.join("empty.json"), Journal::default().to_bytes()).unwrap();
    }
}
