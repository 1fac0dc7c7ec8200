//! The event log's byte layout, and a bounded reader of it.
//!
//! A log file is an 8-byte magic, `DHAELOG1`, then records back to back.
//! Every integer is big-endian. One record:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | `L`: length of the body (bytes 4 .. 4+L), [`MIN_BODY`] ..= [`MAX_BODY`] |
//! | 4 | 8 | sequence number (0 for the first record, then +1 each) |
//! | 12 | 32 | SHA-256 of the previous record's bytes (all of them, tag included); zeros for record 0 |
//! | 44 | 16 | boot id ([`BootId`]) |
//! | 60 | 8 | wall-clock time: seconds since the Unix epoch (signed) |
//! | 68 | 4 | wall-clock time: nanoseconds (< 10⁹) |
//! | 72 | 8 | monotonic time, nanoseconds ([`super::Monotonic`]) |
//! | 80 | 1 | severity: 0 info, 1 low, 2 medium, 3 high, 4 critical |
//! | 81 | 1 | `K`: length of the kind's name, 1 ..= 64 |
//! | 82 | K | the kind's dotted name, ASCII (`integrity.change`) |
//! | 82+K | 4 | `P`: length of the payload |
//! | 86+K | P | the payload: a JSON object, UTF-8 |
//! | 4+L | 32 | tag: HMAC-SHA-256 (RFC 2104) of bytes 0 .. 4+L under the record's key |
//!
//! `L` must equal `82 + K + P`. The record's hash, which the next record
//! and a [`Head`] carry, is SHA-256 of all its `4 + L + 32` bytes. Binary
//! with a length prefix rather than JSON lines: the length bounds every
//! read before anything is allocated, and a torn last record is recognised
//! by its length alone.

use super::BootId;
use crate::Severity;
use serde_json::{Map, Value};
use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The magic at the start of every log file (its format version is the `1`).
pub const MAGIC: &[u8; 8] = b"DHAELOG1";
/// Bytes of a body without kind and payload.
const FIXED_BODY: usize = 82;
/// The smallest body: a one-byte kind and an empty payload (`{}` is 2 bytes;
/// the bound is structural, the JSON check comes after).
pub const MIN_BODY: usize = FIXED_BODY + 1;
/// The largest body: 64 KiB. An event's payload is a few fields; a larger
/// length is corruption, refused before anything is allocated.
pub const MAX_BODY: usize = 64 * 1024;
/// The longest kind name.
pub const MAX_KIND: usize = 64;
/// Bytes of the tag (HMAC-SHA-256).
pub const TAG_LEN: usize = 32;

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Sequence number, from 0.
    pub seq: u64,
    /// The previous record's hash (zeros for record 0).
    pub prev_hash: Digest,
    /// The boot the record was written in.
    pub boot_id: BootId,
    /// Wall-clock time, seconds since the Unix epoch.
    pub wall_secs: i64,
    /// Wall-clock time, nanoseconds within the second.
    pub wall_nanos: u32,
    /// Monotonic time, nanoseconds.
    pub mono_nanos: u64,
    /// Severity.
    pub severity: Severity,
    /// The kind's dotted name (kept as written: a newer dha may know more
    /// kinds than [`super::EventKind`]; see [`Record::event_kind`]).
    pub kind: String,
    /// The payload.
    pub payload: Map<String, Value>,
}

impl Record {
    /// The kind, when this version of dha knows it.
    pub fn event_kind(&self) -> Option<super::EventKind> {
        self.kind.parse().ok()
    }

    /// The wall-clock time, when representable.
    pub fn wall_time(&self) -> Option<SystemTime> {
        let nanos = Duration::from_nanos(u64::from(self.wall_nanos));
        match u64::try_from(self.wall_secs) {
            Ok(s) => UNIX_EPOCH
                .checked_add(Duration::from_secs(s))?
                .checked_add(nanos),
            Err(_) => UNIX_EPOCH
                .checked_sub(Duration::from_secs(self.wall_secs.unsigned_abs()))?
                .checked_add(nanos),
        }
    }
}

/// The last record of a log, kept elsewhere (by the console, a server) so
/// that a truncated log can be recognised: `SEQ:SHA256HEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The last record's sequence number.
    pub seq: u64,
    /// The last record's hash.
    pub hash: Digest,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, hex(&self.hash))
    }
}

impl FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("head {s:?}: expected SEQ:SHA256 (a number, a colon, 64 hex digits)");
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq.parse().map_err(|_| bad())?;
        let hash = from_hex(hash)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        Ok(Head { seq, hash })
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Decodes hex (either case); `None` for an odd length or another character.
pub(crate) fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            let (hi, lo) = match pair {
                [a, b] => (digit(*a)?, digit(*b)?),
                _ => return None,
            };
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

fn severity_code(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn severity_of(code: u8) -> Option<Severity> {
    Severity::ALL.get(usize::from(code)).copied()
}

/// The fields of a record before it is tagged.
pub(crate) struct Fields<'a> {
    pub seq: u64,
    pub prev_hash: &'a Digest,
    pub boot_id: BootId,
    pub wall: SystemTime,
    pub mono_nanos: u64,
    pub event: &'a super::Event,
}

/// Encodes bytes 0 .. 4+L of a record (everything but the tag); `Err` names
/// what does not fit.
pub(crate) fn encode_untagged(f: &Fields<'_>) -> Result<Vec<u8>, String> {
    let kind = f.event.kind.name().as_bytes();
    let payload = serde_json::to_vec(&f.event.payload).map_err(|e| format!("payload: {e}"))?;
    let body_len = FIXED_BODY
        .checked_add(kind.len())
        .and_then(|n| n.checked_add(payload.len()))
        .filter(|n| *n <= MAX_BODY)
        .ok_or_else(|| {
            format!(
                "payload of {} bytes: a record's body is at most {MAX_BODY} bytes",
                payload.len()
            )
        })?;
    let (wall_secs, wall_nanos) = match f.wall.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        // Before 1970: whole seconds back, rounded down, plus forward nanos.
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                (-secs, 0)
            } else {
                (-secs - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    };
    let mut out = Vec::with_capacity(body_len + 4 + TAG_LEN);
    out.extend_from_slice(
        &u32::try_from(body_len)
            .map_err(|_| "body length")?
            .to_be_bytes(),
    );
    out.extend_from_slice(&f.seq.to_be_bytes());
    out.extend_from_slice(f.prev_hash);
    out.extend_from_slice(&f.boot_id.0);
    out.extend_from_slice(&wall_secs.to_be_bytes());
    out.extend_from_slice(&wall_nanos.to_be_bytes());
    out.extend_from_slice(&f.mono_nanos.to_be_bytes());
    out.push(severity_code(f.event.severity));
    out.push(u8::try_from(kind.len()).map_err(|_| "kind length")?);
    out.extend_from_slice(kind);
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .map_err(|_| "payload length")?
            .to_be_bytes(),
    );
    out.extend_from_slice(&payload);
    Ok(out)
}

/// One record as read: its bytes (tag included), where it starts, and its
/// fields.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// All the record's bytes, `4 + L + 32`.
    pub bytes: Vec<u8>,
    /// The decoded fields.
    pub record: Record,
}

impl RawRecord {
    /// The bytes the tag authenticates (all but the tag).
    pub fn tagged_bytes(&self) -> &[u8] {
        self.bytes
            .get(..self.bytes.len().saturating_sub(TAG_LEN))
            .unwrap_or(&[])
    }

    /// The tag.
    pub fn tag(&self) -> &[u8] {
        self.bytes
            .get(self.bytes.len().saturating_sub(TAG_LEN)..)
            .unwrap_or(&[])
    }

    /// The record's hash (SHA-256 of all its bytes).
    pub fn hash(&self) -> Digest {
        sha256(&self.bytes)
    }
}

/// SHA-256 through ring.
pub(crate) fn sha256(bytes: &[u8]) -> Digest {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Why a record could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file ends inside a record: `bytes` bytes from `offset` on do not
    /// make a whole record (a torn write, or a cut).
    Torn {
        /// Where the incomplete record starts.
        offset: u64,
        /// How many bytes it has.
        bytes: u64,
    },
    /// The bytes at `offset` are not a record.
    Malformed {
        /// Where the record starts.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The file could not be read.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Torn { offset, bytes } => write!(
                f,
                "torn record at byte {offset}: the file ends after {bytes} of its bytes"
            ),
            ReadError::Malformed { offset, what } => write!(f, "record at byte {offset}: {what}"),
            ReadError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// Reads records one at a time from a log file's bytes, never holding more
/// than one record ([`MAX_BODY`] bounds it).
pub struct Reader<R> {
    inner: R,
    offset: u64,
}

impl<R: Read> Reader<R> {
    /// Reads and checks the magic (an input shorter than the magic is
    /// [`ReadError::Torn`] at offset 0).
    pub fn new(mut inner: R) -> Result<Self, ReadError> {
        let mut magic = [0u8; 8];
        let got = read_full(&mut inner, &mut magic).map_err(ReadError::Io)?;
        if got < magic.len() {
            return Err(ReadError::Torn {
                offset: 0,
                bytes: got as u64,
            });
        }
        if &magic != MAGIC {
            return Err(ReadError::Malformed {
                offset: 0,
                what: "not a dha event log (no DHAELOG1 magic)".to_owned(),
            });
        }
        Ok(Reader {
            inner,
            offset: MAGIC.len() as u64,
        })
    }

    /// A reader positioned at `offset` of a log (the bytes from there on).
    pub fn at(inner: R, offset: u64) -> Self {
        Reader { inner, offset }
    }

    /// The offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record; `Ok(None)` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<RawRecord>, ReadError> {
        let offset = self.offset;
        let mut len = [0u8; 4];
        let got = read_full(&mut self.inner, &mut len).map_err(ReadError::Io)?;
        if got == 0 {
            return Ok(None);
        }
        if got < len.len() {
            return Err(ReadError::Torn {
                offset,
                bytes: got as u64,
            });
        }
        let body_len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
        if !(MIN_BODY..=MAX_BODY).contains(&body_len) {
            return Err(ReadError::Malformed {
                offset,
                what: format!("body length {body_len} outside {MIN_BODY}..={MAX_BODY}"),
            });
        }
        let total = 4 + body_len + TAG_LEN;
        let mut bytes = vec![0u8; total];
        bytes
            .get_mut(..4)
            .ok_or_else(|| malformed(offset, "length"))?
            .copy_from_slice(&len);
        let rest = bytes
            .get_mut(4..)
            .ok_or_else(|| malformed(offset, "length"))?;
        let got = read_full(&mut self.inner, rest).map_err(ReadError::Io)?;
        if got < rest.len() {
            return Err(ReadError::Torn {
                offset,
                bytes: (4 + got) as u64,
            });
        }
        let record = decode(&bytes).map_err(|what| ReadError::Malformed { offset, what })?;
        self.offset = offset.saturating_add(total as u64);
        Ok(Some(RawRecord {
            offset,
            bytes,
            record,
        }))
    }
}

fn malformed(offset: u64, what: &str) -> ReadError {
    ReadError::Malformed {
        offset,
        what: what.to_owned(),
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..) {
        if rest.is_empty() {
            break;
        }
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A cursor over a record's bytes.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("{what}: record too short"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let b = self.take(N, what)?;
        b.try_into()
            .map_err(|_| format!("{what}: record too short"))
    }
}

/// Decodes a whole record (length, body, tag); does not check the tag.
fn decode(bytes: &[u8]) -> Result<Record, String> {
    let mut c = Cursor(bytes);
    let body_len = u32::from_be_bytes(c.array("length")?);
    if usize::try_from(body_len).ok() != Some(bytes.len().saturating_sub(4 + TAG_LEN)) {
        return Err("length does not match the record".to_owned());
    }
    let seq = u64::from_be_bytes(c.array("sequence number")?);
    let prev_hash = c.array("previous hash")?;
    let boot_id = BootId(c.array("boot id")?);
    let wall_secs = i64::from_be_bytes(c.array("wall-clock seconds")?);
    let wall_nanos = u32::from_be_bytes(c.array("wall-clock nanoseconds")?);
    if wall_nanos >= 1_000_000_000 {
        return Err(format!("wall-clock nanoseconds {wall_nanos} ≥ 10⁹"));
    }
    let mono_nanos = u64::from_be_bytes(c.array("monotonic time")?);
    let [sev] = c.array::<1>("severity")?;
    let severity = severity_of(sev).ok_or_else(|| format!("severity code {sev} unknown"))?;
    let [kind_len] = c.array::<1>("kind length")?;
    let kind_len = usize::from(kind_len);
    if !(1..=MAX_KIND).contains(&kind_len) {
        return Err(format!("kind length {kind_len} outside 1..={MAX_KIND}"));
    }
    let kind = c.take(kind_len, "kind")?;
    if !kind
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_'))
    {
        return Err("kind name is not [a-z0-9._]".to_owned());
    }
    let kind = String::from_utf8(kind.to_vec()).map_err(|_| "kind name is not ASCII")?;
    let payload_len = u32::from_be_bytes(c.array("payload length")?);
    let payload_len = usize::try_from(payload_len).map_err(|_| "payload length")?;
    if c.0.len() != payload_len.saturating_add(TAG_LEN) {
        return Err("payload length does not match the body length".to_owned());
    }
    let payload = c.take(payload_len, "payload")?;
    let payload: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not a JSON object: {e}"))?;
    Ok(Record {
        seq,
        prev_hash,
        boot_id,
        wall_secs,
        wall_nanos,
        mono_nanos,
        severity,
        kind,
        payload,
    })
}
