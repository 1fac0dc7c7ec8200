//! Verifying an event log from its initial key (`dha log verify`).
//!
//! Every record's key is recomputed from `K_0` ([`super::log`]); each
//! record must carry the next sequence number, the previous record's hash
//! and a valid tag. Without the device's help this detects a modified
//! record (its tag), a deleted, reordered or inserted record (its sequence
//! number, chain link or tag), and, given a [`Head`] kept elsewhere, a log
//! cut after a whole record. Reading is streaming: one record in memory.

use super::keys::{InitialKey, evolve, tag_ok};
use super::log::EventLogError;
use super::record::{Head, ReadError, Reader};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;
use zeroize::Zeroizing;

/// The first thing wrong with a log. `index` is the record's position
/// (counting from 0, so the sequence number it should have).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The bytes are not a record (or the file not a log).
    Malformed {
        /// Position of the record.
        index: u64,
        /// Its byte offset.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The file ends inside a record.
    TornTail {
        /// Position of the incomplete record.
        index: u64,
        /// Its byte offset.
        offset: u64,
        /// How many bytes it has.
        bytes: u64,
    },
    /// The record carries another sequence number: a record was deleted,
    /// reordered or inserted before it.
    Sequence {
        /// Position of the record.
        index: u64,
        /// Its byte offset.
        offset: u64,
        /// The sequence number it carries.
        found: u64,
    },
    /// The record does not carry the previous record's hash.
    Chain {
        /// Position of the record.
        index: u64,
        /// Its byte offset.
        offset: u64,
    },
    /// The record's tag is wrong: it was modified or forged.
    Tag {
        /// Position of the record.
        index: u64,
        /// Its byte offset.
        offset: u64,
    },
    /// The log ends before the head kept elsewhere: records were cut off.
    Truncated {
        /// Records in the log.
        records: u64,
        /// The head's sequence number.
        head_seq: u64,
    },
    /// The record at the head's sequence number has another hash.
    HeadMismatch {
        /// The head's sequence number.
        seq: u64,
    },
}

impl Problem {
    /// The position of the first bad record, when one is named.
    pub fn index(&self) -> Option<u64> {
        match self {
            Problem::Malformed { index, .. }
            | Problem::TornTail { index, .. }
            | Problem::Sequence { index, .. }
            | Problem::Chain { index, .. }
            | Problem::Tag { index, .. } => Some(*index),
            Problem::Truncated { records, .. } => Some(*records),
            Problem::HeadMismatch { seq } => Some(*seq),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Malformed {
                index,
                offset,
                what,
            } => write!(f, "record {index} (byte {offset}) is malformed: {what}"),
            Problem::TornTail {
                index,
                offset,
                bytes,
            } => write!(
                f,
                "record {index} (byte {offset}) is torn: the log ends after {bytes} of its bytes"
            ),
            Problem::Sequence {
                index,
                offset,
                found,
            } => write!(
                f,
                "record {index} (byte {offset}) has sequence number {found}: a record was deleted, reordered or inserted"
            ),
            Problem::Chain { index, offset } => write!(
                f,
                "record {index} (byte {offset}) does not chain to the previous record: a record was replaced or inserted"
            ),
            Problem::Tag { index, offset } => write!(
                f,
                "record {index} (byte {offset}) has a wrong tag: it was modified or forged"
            ),
            Problem::Truncated { records, head_seq } => write!(
                f,
                "the log holds {records} records but the head is record {head_seq}: records {records}..={head_seq} were cut off"
            ),
            Problem::HeadMismatch { seq } => write!(
                f,
                "record {seq} differs from the head kept elsewhere: it was replaced"
            ),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records verified (before the problem, if any).
    pub records: u64,
    /// The last verified record (keep it to detect a later truncation).
    pub head: Option<Head>,
    /// The first thing wrong; `None` when the log verified.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the log verified.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies the log at `path` from its initial key, and against `head` when
/// one was kept elsewhere. `Err` only when the file cannot be read.
pub fn verify(
    path: &Path,
    initial: &InitialKey,
    head: Option<&Head>,
) -> Result<VerifyReport, EventLogError> {
    let io_err = |source: io::Error| EventLogError::Io {
        path: path.to_path_buf(),
        what: "cannot read the event log",
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut report = VerifyReport {
        records: 0,
        head: None,
        problem: None,
    };
    let mut reader = match Reader::new(BufReader::with_capacity(1 << 16, file)) {
        Ok(r) => r,
        Err(ReadError::Io(e)) => return Err(io_err(e)),
        Err(e) => {
            report.problem = Some(Problem::Malformed {
                index: 0,
                offset: 0,
                what: e.to_string(),
            });
            return Ok(report);
        }
    };
    let mut key = Zeroizing::new(*initial.as_bytes());
    let mut prev = [0u8; 32];
    let mut index = 0u64;
    let problem = loop {
        let r = match reader.next_record() {
            Ok(Some(r)) => r,
            Ok(None) => break None,
            Err(ReadError::Io(e)) => return Err(io_err(e)),
            Err(ReadError::Torn { offset, bytes }) => {
                break Some(Problem::TornTail {
                    index,
                    offset,
                    bytes,
                });
            }
            Err(ReadError::Malformed { offset, what }) => {
                break Some(Problem::Malformed {
                    index,
                    offset,
                    what,
                });
            }
        };
        let offset = r.offset;
        if r.record.seq != index {
            break Some(Problem::Sequence {
                index,
                offset,
                found: r.record.seq,
            });
        }
        if r.record.prev_hash != prev {
            break Some(Problem::Chain { index, offset });
        }
        if !tag_ok(&key, r.tagged_bytes(), r.tag()) {
            break Some(Problem::Tag { index, offset });
        }
        prev = r.hash();
        if let Some(h) = head {
            if h.seq == index && h.hash != prev {
                break Some(Problem::HeadMismatch { seq: index });
            }
        }
        report.head = Some(Head {
            seq: index,
            hash: prev,
        });
        key = evolve(&key);
        index = index.saturating_add(1);
        report.records = index;
    };
    report.problem = problem.or_else(|| {
        head.filter(|h| report.head.is_none_or(|mine| mine.seq < h.seq))
            .map(|h| Problem::Truncated {
                records: report.records,
                head_seq: h.seq,
            })
    });
    Ok(report)
}
