//! The baseline: the sealed record of what every watched file looked like
//! (issue 4 "Baseline"; IEC 62443-4-2 CR 3.4).
//!
//! A compact, versioned binary format that loads fast and stays small (the
//! goal is at most 250 bytes per file on disk and in memory), sealed with an
//! Ed25519 signature or an HMAC-SHA-256 tag ([`seal`](super::seal)), written
//! with the durable-write helper ([`crate::durable::write_atomic`]).
//!
//! # Format, version 1
//!
//! All fixed-width integers are little-endian. A *varint* is an unsigned
//! LEB128 number (7 bits a byte, low group first, high bit set on every
//! byte but the last) of at most 10 bytes, in its shortest form: an overlong
//! encoding (a last byte of zero after the first) or one that does not fit
//! 64 bits is refused, so every value has exactly one encoding. A *zigzag*
//! varint holds a signed number `n` as the varint `(n << 1) ^ (n >> 63)`.
//!
//! Header, 68 bytes:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 6 | magic `DHAIB\0` (`44 48 41 49 42 00`) |
//! | 6 | 1 | format version, 1 |
//! | 7 | 1 | flags: none defined, must be 0 |
//! | 8 | 8 | created, seconds since the epoch (i64) |
//! | 16 | 4 | created, nanoseconds (u32, below 10⁹) |
//! | 20 | 32 | policy digest (given by the caller: the SHA-256 of the compiled policy) |
//! | 52 | 8 | record count (u64) |
//! | 60 | 8 | body length (u64): the offset of the seal trailer, i.e. 68 + the length of the records |
//!
//! Then the records, in strictly increasing order of their path bytes,
//! each:
//!
//! | field | encoding |
//! |---|---|
//! | shared prefix | varint: how many leading bytes the path shares with the previous record's path (0 for the first); it must be the longest such prefix |
//! | suffix | varint length (at least 1), then the bytes of the path after the prefix |
//! | attrs | varint: the [`AttrSet`] bits (an unknown bit is refused) |
//! | type | 1 byte: the [`EntryType`] code (1 to 7) |
//! | presence | 1 byte: bit 0 SHA-256, bit 1 SHA-512, bit 2 file flags, bit 3 link target, bit 4 extended attributes; other bits must be 0 |
//! | mode, uid, gid | 3 varints (each at most 2³²−1) |
//! | size | varint |
//! | mtime | zigzag varint seconds, varint nanoseconds (below 10⁹) |
//! | ctime | zigzag varint seconds, varint nanoseconds (below 10⁹) |
//! | inode, dev, nlink | 3 varints |
//! | file flags | if bit 2: varint (at most 2³²−1) |
//! | SHA-256 | if bit 0: 32 bytes |
//! | SHA-512 | if bit 1: 64 bytes |
//! | link target | if bit 3: varint length (at most [`MAX_PATH_BYTES`]), bytes |
//! | extended attributes | if bit 4: varint count (at least 1), then each: varint name length (at most 255), name, varint value length (at most 65,536), value; names strictly increasing |
//!
//! A record whose [`RecordExtra`] holds nothing is stored like one without
//! (and read back with `extra: None`). A path is at most [`MAX_PATH_BYTES`].
//!
//! Seal trailer, at the body length:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | +0 | 1 | seal kind: 1 Ed25519, 2 HMAC-SHA-256 |
//! | +1 | 32 | key id ([`KeyId`]) |
//! | +33 | 64 or 32 | the Ed25519 signature or HMAC-SHA-256 tag over every byte before it (header, records, kind, key id) |
//!
//! and the file ends there.
//!
//! # Reading
//!
//! [`read_baseline`] reads at most [`MAX_BASELINE_BYTES`] (or the limit
//! given to [`read_baseline_with_limit`]), checks the magic and the
//! version, finds the trailer through the header's body length, and
//! verifies the seal over the bytes before it *before* it decodes any
//! record: nothing unverified reaches the decoder. A baseline without a
//! trailer is refused as unsealed, one whose length does not match its
//! header as altered or truncated, one sealed by another key with that key's
//! id. The decoder then bounds every count and length by the bytes left
//! (a hostile count cannot make it allocate more than the file's size) and
//! refuses records out of order.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

use crate::integrity::attrs::AttrSet;
use crate::integrity::error::IntegrityError;
use crate::integrity::record::{EntryType, FileRecord, FileTime, RecordExtra, Xattr};
use crate::integrity::seal::{KeyId, Seal, SealError, SealKey, SealKind, VerifyKey};

/// The magic bytes a baseline starts with.
pub const MAGIC: [u8; 6] = *b"DHAIB\0";

/// The format version this module writes and reads.
pub const FORMAT_VERSION: u8 = 1;

/// The length of the header.
pub const HEADER_LEN: usize = 68;

/// The largest baseline [`read_baseline`] reads: 1 GiB, about four million
/// files at the format's typical 90 bytes a file, with room to spare.
pub const MAX_BASELINE_BYTES: u64 = 1 << 30;

/// The longest path or link target stored (Linux's `PATH_MAX` is 4,096; a
/// scan of a deep tree may record longer full paths).
pub const MAX_PATH_BYTES: usize = 64 * 1024;

/// The longest extended attribute name (Linux `XATTR_NAME_MAX`).
pub const MAX_XATTR_NAME_BYTES: usize = 255;

/// The longest extended attribute value (Linux `XATTR_SIZE_MAX`).
pub const MAX_XATTR_VALUE_BYTES: usize = 65_536;

/// The fewest bytes a record takes (prefix, suffix length, one suffix
/// byte, attrs, type, presence, and 11 one-byte numbers): what a record
/// count is checked against.
const MIN_RECORD_BYTES: usize = 17;

/// The length of the trailer before the signature: kind and key id.
const TRAILER_FIXED: usize = 33;

const P_SHA256: u8 = 1;
const P_SHA512: u8 = 2;
const P_FFLAGS: u8 = 4;
const P_LINK: u8 = 8;
const P_XATTRS: u8 = 16;
const P_ALL: u8 = 31;

/// A baseline: when it was made, from which policy, and one record a file,
/// sorted by path bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Baseline {
    /// When the baseline was made.
    pub created: FileTime,
    /// The digest of the policy the baseline was made with (the caller's:
    /// a check compares it with the current policy's).
    pub policy_digest: [u8; 32],
    /// The records, in strictly increasing order of path bytes.
    pub records: Vec<FileRecord>,
}

impl fmt::Debug for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Baseline")
            .field("created", &self.created)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Baseline {
    /// A baseline of `records` in any order: sorts them by path and refuses
    /// a path given twice (as [`IntegrityError::InvalidRecords`]). A record
    /// whose `extra` holds nothing gets `extra: None`, as it reads back.
    pub fn from_records(
        created: FileTime,
        policy_digest: [u8; 32],
        mut records: Vec<FileRecord>,
    ) -> Result<Baseline, IntegrityError> {
        records.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        for pair in records.windows(2) {
            if let [a, b] = pair {
                if a.path == b.path {
                    return Err(IntegrityError::InvalidRecords {
                        reason: format!("the path {:?} is recorded twice", a.path_lossy()),
                    });
                }
            }
        }
        for r in &mut records {
            if r.extra.as_ref().is_some_and(|e| {
                e.link_target.is_none() && e.xattrs.is_empty() && e.sha512.is_none()
            }) {
                r.extra = None;
            }
        }
        Ok(Baseline {
            created,
            policy_digest,
            records,
        })
    }

    /// The record of `path`, by binary search.
    pub fn get(&self, path: &[u8]) -> Option<&FileRecord> {
        self.records
            .binary_search_by(|r| r.path.as_ref().cmp(path))
            .ok()
            .and_then(|i| self.records.get(i))
    }

    /// The header and the records in the format above, without the seal
    /// trailer. Refuses records out of order, a path that is empty or longer
    /// than [`MAX_PATH_BYTES`], extended attributes out of order or too
    /// long, nanoseconds of 10⁹ or more: everything the decoder refuses.
    pub fn encode(&self) -> Result<Vec<u8>, IntegrityError> {
        let invalid = |reason: String| IntegrityError::InvalidRecords { reason };
        check_nanos(self.created.nanos).map_err(|r| invalid(format!("created: {r}")))?;
        let mut out =
            Vec::with_capacity(HEADER_LEN.saturating_add(self.records.len().saturating_mul(96)));
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT_VERSION);
        out.push(0);
        out.extend_from_slice(&self.created.secs.to_le_bytes());
        out.extend_from_slice(&self.created.nanos.to_le_bytes());
        out.extend_from_slice(&self.policy_digest);
        out.extend_from_slice(&(self.records.len() as u64).to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // body length, below
        let mut prev: &[u8] = &[];
        for r in &self.records {
            encode_record(&mut out, prev, r)
                .map_err(|e| invalid(format!("{:?}: {e}", r.path_lossy())))?;
            prev = &r.path;
        }
        let body_len = (out.len() as u64).to_le_bytes();
        if let Some(slot) = out.get_mut(60..HEADER_LEN) {
            slot.copy_from_slice(&body_len);
        }
        Ok(out)
    }

    /// The complete sealed file: [`encode`](Baseline::encode), then the
    /// trailer sealed by `key`.
    pub fn to_sealed_bytes(&self, key: &SealKey) -> Result<Vec<u8>, IntegrityError> {
        let mut out = self.encode()?;
        out.push(key.kind().code());
        out.extend_from_slice(&key.key_id().0);
        let seal = key.sign(&out);
        out.extend_from_slice(&seal.bytes);
        Ok(out)
    }

    /// Reads a sealed baseline from its bytes: the checks of
    /// [`read_baseline`], with `path` named in errors.
    pub fn from_sealed_bytes(
        bytes: &[u8],
        key: &VerifyKey,
        path: &Path,
    ) -> Result<Baseline, IntegrityError> {
        let (body, signed, seal) = split_sealed(bytes, path)?;
        key.verify(signed, &seal).map_err(|e| seal_err(path, &e))?;
        decode_body(body, path)
    }

    /// Decodes a whole baseline file *without verifying its seal* (the
    /// trailer's structure is still checked): for the fuzz target and for
    /// inspecting a damaged file. Never trust what it returns.
    pub fn decode_unverified(bytes: &[u8]) -> Result<(Baseline, Seal), IntegrityError> {
        let path = Path::new("(unverified bytes)");
        let (body, _, seal) = split_sealed(bytes, path)?;
        Ok((decode_body(body, path)?, seal))
    }
}

/// Encodes, seals and writes `baseline` to `path` atomically and durably
/// (mode 0644: a baseline holds no secret, and its seal protects it).
pub fn write_baseline(
    path: &Path,
    baseline: &Baseline,
    key: &SealKey,
) -> Result<(), IntegrityError> {
    let bytes = baseline.to_sealed_bytes(key)?;
    crate::durable::write_atomic(path, &bytes, Some(0o644)).map_err(|e| IntegrityError::io(path, e))
}

/// Reads the baseline at `path`, refusing it unless its seal verifies with
/// `key`; at most [`MAX_BASELINE_BYTES`].
pub fn read_baseline(path: &Path, key: &VerifyKey) -> Result<Baseline, IntegrityError> {
    read_baseline_with_limit(path, key, MAX_BASELINE_BYTES)
}

/// [`read_baseline`] with another size limit.
pub fn read_baseline_with_limit(
    path: &Path,
    key: &VerifyKey,
    max_bytes: u64,
) -> Result<Baseline, IntegrityError> {
    let file = std::fs::File::open(path).map_err(|e| IntegrityError::io(path, e))?;
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
    if hint > max_bytes {
        return Err(too_big(path, max_bytes));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| IntegrityError::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big(path, max_bytes));
    }
    Baseline::from_sealed_bytes(&bytes, key, path)
}

fn too_big(path: &Path, max: u64) -> IntegrityError {
    IntegrityError::BaselineFormat {
        path: path.to_owned(),
        offset: max,
        reason: format!("larger than the limit of {max} bytes"),
    }
}

fn format_err(path: &Path, offset: usize, reason: impl Into<String>) -> IntegrityError {
    IntegrityError::BaselineFormat {
        path: path.to_owned(),
        offset: offset as u64,
        reason: reason.into(),
    }
}

fn seal_err(path: &Path, e: &SealError) -> IntegrityError {
    IntegrityError::BaselineSeal {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn seal_reason(path: &Path, reason: &str) -> IntegrityError {
    IntegrityError::BaselineSeal {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

const ALTERED: &str = "seal does not verify: the baseline was altered or truncated";

/// Checks the magic and version, and splits the file into the body (header
/// and records), the signed bytes (body and trailer up to the signature) and
/// the seal.
fn split_sealed<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<(&'a [u8], &'a [u8], Seal), IntegrityError> {
    match bytes.get(..MAGIC.len()) {
        Some(m) if m == MAGIC => {}
        _ if MAGIC.starts_with(bytes) => {
            return Err(format_err(
                path,
                bytes.len(),
                "truncated before the end of the magic",
            ));
        }
        _ => return Err(format_err(path, 0, "not a dha baseline (bad magic)")),
    }
    match bytes.get(MAGIC.len()) {
        Some(&FORMAT_VERSION) => {}
        Some(v) => {
            return Err(format_err(
                path,
                MAGIC.len(),
                format!("format version {v}: this dha reads version {FORMAT_VERSION}"),
            ));
        }
        None => {
            return Err(format_err(
                path,
                bytes.len(),
                "truncated before the version",
            ));
        }
    }
    let Some(len_bytes) = bytes.get(60..HEADER_LEN) else {
        return Err(seal_reason(path, ALTERED));
    };
    let mut b8 = [0u8; 8];
    b8.copy_from_slice(len_bytes);
    let body_len = u64::from_le_bytes(b8);
    let body_len = match usize::try_from(body_len) {
        Ok(n) if n >= HEADER_LEN && n <= bytes.len() => n,
        Ok(n) if n >= HEADER_LEN => return Err(seal_reason(path, ALTERED)),
        _ => {
            return Err(format_err(
                path,
                60,
                format!("body length {body_len} is impossible"),
            ));
        }
    };
    if body_len == bytes.len() {
        return Err(seal_reason(path, "no seal: the baseline is unsealed"));
    }
    let body = bytes.get(..body_len).unwrap_or_default();
    let trailer = bytes.get(body_len..).unwrap_or_default();
    let kind = match trailer.first().map(|&c| (c, SealKind::from_code(c))) {
        Some((_, Some(kind))) => kind,
        Some((c, None)) => {
            return Err(seal_reason(
                path,
                &format!("unknown seal kind {c}: the baseline was altered"),
            ));
        }
        None => return Err(seal_reason(path, "no seal: the baseline is unsealed")),
    };
    if trailer.len() != TRAILER_FIXED.saturating_add(kind.seal_len()) {
        return Err(seal_reason(path, ALTERED));
    }
    let mut key_id = [0u8; 32];
    key_id.copy_from_slice(trailer.get(1..TRAILER_FIXED).unwrap_or(&[0; 32]));
    let signed_len = body_len.saturating_add(TRAILER_FIXED);
    let signed = bytes.get(..signed_len).unwrap_or_default();
    let sig = bytes.get(signed_len..).unwrap_or_default();
    Ok((
        body,
        signed,
        Seal {
            kind,
            key_id: KeyId(key_id),
            bytes: sig.to_vec(),
        },
    ))
}

/// A cursor over the body that knows its offset for error messages.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type Res<T> = Result<T, (usize, String)>;

impl<'a> Reader<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Res<T> {
        Err((self.pos, reason.into()))
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, what: &str) -> Res<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(s) => {
                self.pos = self.pos.saturating_add(n);
                Ok(s)
            }
            None => self.err(format!("truncated in {what}")),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Res<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u8(&mut self, what: &str) -> Res<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// One canonical varint. unsigned-varint decodes; it refuses a last
    /// byte of zero but silently drops bits past 64 in a 10-byte encoding,
    /// so the value is re-encoded and must give back the same bytes.
    fn varint(&mut self, what: &str) -> Res<u64> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let (n, after) = match unsigned_varint::decode::u64(rest) {
            Ok(v) => v,
            Err(unsigned_varint::decode::Error::Insufficient) => {
                return self.err(format!("{what}: truncated in a number"));
            }
            Err(_) => return self.err(format!("{what}: an overlong or out-of-range number")),
        };
        let used = rest.len().saturating_sub(after.len());
        let mut buf = unsigned_varint::encode::u64_buffer();
        if unsigned_varint::encode::u64(n, &mut buf) != rest.get(..used).unwrap_or_default() {
            return self.err(format!("{what}: an overlong or out-of-range number"));
        }
        self.pos = self.pos.saturating_add(used);
        Ok(n)
    }

    fn varint_u32(&mut self, what: &str) -> Res<u32> {
        let at = self.pos;
        let n = self.varint(what)?;
        u32::try_from(n).map_err(|_| (at, format!("{what}: {n} does not fit 32 bits")))
    }

    fn varint_len(&mut self, what: &str, max: usize) -> Res<usize> {
        let at = self.pos;
        let n = self.varint(what)?;
        match usize::try_from(n) {
            Ok(n) if n <= max && n <= self.remaining() => Ok(n),
            Ok(n) if n <= max => Err((at, format!("{what}: length {n} runs past the end"))),
            _ => Err((at, format!("{what}: length {n} is over the limit of {max}"))),
        }
    }

    fn zigzag(&mut self, what: &str) -> Res<i64> {
        let n = self.varint(what)?;
        // Zigzag (as in Protocol Buffers): 0, -1, 1, -2 … ↔ 0, 1, 2, 3 …
        #[allow(clippy::cast_possible_wrap)]
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    fn time(&mut self, what: &str) -> Res<FileTime> {
        let secs = self.zigzag(what)?;
        let at = self.pos;
        let nanos = self.varint_u32(what)?;
        check_nanos(nanos).map_err(|r| (at, format!("{what}: {r}")))?;
        Ok(FileTime { secs, nanos })
    }
}

fn check_nanos(nanos: u32) -> Result<(), String> {
    if nanos < 1_000_000_000 {
        Ok(())
    } else {
        Err(format!("{nanos} nanoseconds is not below one second"))
    }
}

fn zigzag_encode(n: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let z = ((n << 1) ^ (n >> 63)) as u64;
    z
}

fn put_varint(out: &mut Vec<u8>, n: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_time(out: &mut Vec<u8>, t: FileTime) -> Result<(), String> {
    check_nanos(t.nanos)?;
    put_varint(out, zigzag_encode(t.secs));
    put_varint(out, u64::from(t.nanos));
    Ok(())
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn encode_record(out: &mut Vec<u8>, prev: &[u8], r: &FileRecord) -> Result<(), String> {
    if r.path.is_empty() || r.path.len() > MAX_PATH_BYTES {
        return Err(format!("a path must be 1 to {MAX_PATH_BYTES} bytes"));
    }
    if r.path.as_ref() <= prev {
        return Err("records are not in strictly increasing order of path".to_owned());
    }
    let shared = common_prefix(prev, &r.path);
    put_varint(out, shared as u64);
    put_bytes(out, r.path.get(shared..).unwrap_or_default());
    put_varint(out, u64::from(r.attrs.bits()));
    out.push(r.entry_type as u8);
    let link = r.link_target();
    let xattrs = r.xattrs();
    let mut presence = 0u8;
    for (bit, on) in [
        (P_SHA256, r.sha256.is_some()),
        (P_SHA512, r.sha512().is_some()),
        (P_FFLAGS, r.fflags.is_some()),
        (P_LINK, link.is_some()),
        (P_XATTRS, !xattrs.is_empty()),
    ] {
        if on {
            presence |= bit;
        }
    }
    out.push(presence);
    for n in [r.mode, r.uid, r.gid] {
        put_varint(out, u64::from(n));
    }
    put_varint(out, r.size);
    put_time(out, r.mtime)?;
    put_time(out, r.ctime)?;
    for n in [r.inode, r.dev, r.nlink] {
        put_varint(out, n);
    }
    if let Some(f) = r.fflags {
        put_varint(out, u64::from(f));
    }
    if let Some(h) = &r.sha256 {
        out.extend_from_slice(h);
    }
    if let Some(h) = r.sha512() {
        out.extend_from_slice(h.as_slice());
    }
    if let Some(l) = link {
        if l.len() > MAX_PATH_BYTES {
            return Err(format!("a link target is over {MAX_PATH_BYTES} bytes"));
        }
        put_bytes(out, l);
    }
    if !xattrs.is_empty() {
        put_varint(out, xattrs.len() as u64);
        let mut prev_name: Option<&[u8]> = None;
        for x in xattrs {
            if prev_name.is_some_and(|p| p >= x.name.as_ref()) {
                return Err(
                    "extended attributes are not in strictly increasing order of name".to_owned(),
                );
            }
            if x.name.len() > MAX_XATTR_NAME_BYTES || x.value.len() > MAX_XATTR_VALUE_BYTES {
                return Err("an extended attribute name or value is too long".to_owned());
            }
            put_bytes(out, &x.name);
            put_bytes(out, &x.value);
            prev_name = Some(&x.name);
        }
    }
    Ok(())
}

/// Decodes the header and the records of `body` (the bytes before the seal
/// trailer). Called only after the seal has been verified, or by
/// [`Baseline::decode_unverified`].
fn decode_body(body: &[u8], path: &Path) -> Result<Baseline, IntegrityError> {
    decode_inner(body).map_err(|(offset, reason)| format_err(path, offset, reason))
}

fn decode_inner(body: &[u8]) -> Res<Baseline> {
    let mut r = Reader {
        bytes: body,
        pos: MAGIC.len().saturating_add(1),
    };
    if r.u8("the flags")? != 0 {
        r.pos = r.pos.saturating_sub(1);
        return r.err("unknown flags in the header");
    }
    let secs = i64::from_le_bytes(r.array("the created time")?);
    let at = r.pos;
    let nanos = u32::from_le_bytes(r.array("the created time")?);
    check_nanos(nanos).map_err(|e| (at, format!("the created time: {e}")))?;
    let policy_digest = r.array::<32>("the policy digest")?;
    let at = r.pos;
    let count = u64::from_le_bytes(r.array("the record count")?);
    let _body_len = r.array::<8>("the body length")?;
    let fits = usize::try_from(count)
        .ok()
        .filter(|&c| c <= r.remaining() / MIN_RECORD_BYTES);
    let Some(count) = fits else {
        return Err((
            at,
            format!("a record count of {count} is more than the file can hold"),
        ));
    };
    let mut records = Vec::with_capacity(count);
    let mut prev: Box<[u8]> = Box::default();
    for _ in 0..count {
        let rec = decode_record(&mut r, &prev)?;
        prev = rec.path.clone();
        records.push(rec);
    }
    if r.remaining() != 0 {
        return r.err(format!("{} bytes after the last record", r.remaining()));
    }
    Ok(Baseline {
        created: FileTime { secs, nanos },
        policy_digest,
        records,
    })
}

fn decode_record(r: &mut Reader<'_>, prev: &[u8]) -> Res<FileRecord> {
    let at = r.pos;
    let shared = r.varint("the shared path prefix")?;
    let shared = match usize::try_from(shared) {
        Ok(s) if s <= prev.len() => s,
        _ => {
            return Err((
                at,
                format!("a shared prefix of {shared} is longer than the previous path"),
            ));
        }
    };
    let at = r.pos;
    let suffix_len = r.varint_len("the path", MAX_PATH_BYTES)?;
    let suffix = r.take(suffix_len, "the path")?;
    // Strictly increasing, with the longest shared prefix: the first suffix
    // byte exists and sorts after the previous path's byte at that place.
    let ordered = match (suffix.first(), prev.get(shared)) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(a), Some(b)) => a > b,
    };
    if !ordered {
        return Err((at, "a path not strictly after the previous one (or not front-coded to the longest shared prefix)".to_owned()));
    }
    let total = shared.saturating_add(suffix_len);
    if total > MAX_PATH_BYTES {
        return Err((
            at,
            format!("a path of {total} bytes is over the limit of {MAX_PATH_BYTES}"),
        ));
    }
    let mut path = Vec::with_capacity(total);
    path.extend_from_slice(prev.get(..shared).unwrap_or_default());
    path.extend_from_slice(suffix);

    let at = r.pos;
    let bits = r.varint_u32("the attribute set")?;
    let attrs = AttrSet::from_bits_truncate(bits);
    if attrs.bits() != bits {
        return Err((at, format!("unknown attribute bits {bits:#x}")));
    }
    let at = r.pos;
    let code = r.u8("the type")?;
    let Some(entry_type) = EntryType::from_code(code) else {
        return Err((at, format!("unknown file type code {code}")));
    };
    let at = r.pos;
    let presence = r.u8("the presence byte")?;
    if presence & !P_ALL != 0 {
        return Err((at, format!("unknown presence bits {presence:#04x}")));
    }
    let mode = r.varint_u32("the mode")?;
    let uid = r.varint_u32("the uid")?;
    let gid = r.varint_u32("the gid")?;
    let size = r.varint("the size")?;
    let mtime = r.time("the mtime")?;
    let ctime = r.time("the ctime")?;
    let inode = r.varint("the inode")?;
    let dev = r.varint("the device")?;
    let nlink = r.varint("the link count")?;
    let fflags = if presence & P_FFLAGS != 0 {
        Some(r.varint_u32("the file flags")?)
    } else {
        None
    };
    let sha256 = if presence & P_SHA256 != 0 {
        Some(r.array::<32>("the SHA-256")?)
    } else {
        None
    };
    let sha512 = if presence & P_SHA512 != 0 {
        Some(Box::new(r.array::<64>("the SHA-512")?))
    } else {
        None
    };
    let link_target = if presence & P_LINK != 0 {
        let n = r.varint_len("the link target", MAX_PATH_BYTES)?;
        Some(Box::from(r.take(n, "the link target")?))
    } else {
        None
    };
    let mut xattrs = Vec::new();
    if presence & P_XATTRS != 0 {
        let at = r.pos;
        let n = r.varint("the extended attribute count")?;
        // Each takes at least two bytes (two lengths).
        let fits = usize::try_from(n)
            .ok()
            .filter(|&c| c >= 1 && c <= r.remaining() / 2);
        let Some(n) = fits else {
            return Err((
                at,
                format!("an extended attribute count of {n} is impossible here"),
            ));
        };
        xattrs.reserve_exact(n);
        for _ in 0..n {
            let at = r.pos;
            let len = r.varint_len("an extended attribute name", MAX_XATTR_NAME_BYTES)?;
            let name: Box<[u8]> = Box::from(r.take(len, "an extended attribute name")?);
            let len = r.varint_len("an extended attribute value", MAX_XATTR_VALUE_BYTES)?;
            let value: Box<[u8]> = Box::from(r.take(len, "an extended attribute value")?);
            if xattrs.last().is_some_and(|p: &Xattr| p.name >= name) {
                return Err((
                    at,
                    "extended attributes not in strictly increasing order of name".to_owned(),
                ));
            }
            xattrs.push(Xattr { name, value });
        }
    }
    let extra = if link_target.is_some() || sha512.is_some() || !xattrs.is_empty() {
        Some(Box::new(RecordExtra {
            link_target,
            xattrs,
            sha512,
        }))
    } else {
        None
    };
    Ok(FileRecord {
        path: path.into_boxed_slice(),
        attrs,
        entry_type,
        mode,
        uid,
        gid,
        size,
        mtime,
        ctime,
        inode,
        dev,
        nlink,
        fflags,
        sha256,
        extra,
    })
}

#[cfg(test)]
mod tests;
