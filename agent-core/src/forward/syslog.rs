//! RFC 5424 syslog messages from event-log records, and octet-counting
//! framing (RFC 6587 §3.4.1, RFC 5425 §4.3).
//!
//! [`format_record`] turns one [`Record`] of the event log into
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME dha PROCID MSGID [dha@PEN seq="…" head="…" …] BOM MSG
//! ```
//!
//! * PRI (RFC 5424 §6.2.1) is `facility * 8 + severity`, with dha's
//!   [`Severity`] mapped by [`syslog_severity`]:
//!
//!   | dha        | syslog severity     | code |
//!   |------------|---------------------|-----:|
//!   | `critical` | Critical            | 2 |
//!   | `high`     | Error               | 3 |
//!   | `medium`   | Warning             | 4 |
//!   | `low`      | Notice              | 5 |
//!   | `info`     | Informational       | 6 |
//!
//!   Emergency (0) and Alert (1) are never used: they mean the system is
//!   unusable or needs immediate action, which an agent's event does not
//!   claim; Debug (7) is not used either.
//! * TIMESTAMP (§6.2.3) is the record's own wall-clock time, in UTC (`Z`)
//!   with microseconds (TIME-SECFRAC, at most 6 digits), never the time it
//!   is sent. A time outside the years 0000–9999 is sent as NILVALUE `-`.
//! * HOSTNAME (§6.2.4), APP-NAME `dha` (§6.2.5), PROCID (§6.2.6): NILVALUE
//!   `-` when unknown or not 1–255 (1–128 for PROCID) printable US-ASCII
//!   characters (`%d33-126`).
//! * MSGID (§6.2.7) is the kind's dotted name (`integrity.change`), cut to
//!   32 characters; NILVALUE if it holds anything but printable US-ASCII.
//! * STRUCTURED-DATA (§6.3) is one SD-ELEMENT with the SD-ID `dha@PEN`
//!   (§6.3.2, an enterprise number from [`SyslogFormat::pen`]): `seq` (the
//!   record's sequence number), `head` and `head_seq` (the event log's chain
//!   head: the last record's SHA-256 in lower-case hex and its sequence
//!   number; absent when not known), `severity` (dha's name), `boot` (the
//!   boot id), then every payload field. A field's PARAM-NAME (§6.3.3: 1–32
//!   printable US-ASCII except `=`, SP, `]`, `"`) is its key with every
//!   other character replaced by `_` and cut to 32; a name already used
//!   gets a `~N` suffix. A string value is sent as is, any other JSON value
//!   as compact JSON; `"`, `\` and `]` are escaped with `\` (§6.3.3).
//! * MSG (§6.4) is UTF-8 preceded by the BOM: a one-line summary, the kind,
//!   severity and the payload's fields as `key=value`.
//!
//! The whole message is at most [`MAX_MESSAGE`] octets: MSG is cut (at a
//! character boundary) to fit; STRUCTURED-DATA is never cut, so a record
//! whose structured data alone exceeds the bound gives a longer message
//! without MSG (at most a few times the event log's
//! [`MAX_BODY`](crate::events::record::MAX_BODY)).

use crate::Severity;
use crate::events::record::{Head, Record, hex};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

#[cfg(test)]
mod tests;

/// The largest message [`format_record`] produces when its structured data
/// fits: 8192 octets, the size RFC 5425 §4.3.1 says receivers SHOULD accept
/// (2048 is the MUST; rsyslog's default `maxMessageSize` is 8 KiB).
pub const MAX_MESSAGE: usize = 8192;

/// The byte-order mark that starts a UTF-8 MSG (RFC 5424 §6.4).
pub const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// The APP-NAME of every message (RFC 5424 §6.2.5).
pub const APP_NAME: &str = "dha";

/// A syslog facility, 0–23 (RFC 5424 §6.2.1, table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Facility(u8);

impl Facility {
    /// Security/authorization messages (code 4, RFC 5424 §6.2.1).
    pub const AUTH: Facility = Facility(4);
    /// Security/authorization messages, private (code 10, RFC 5424 §6.2.1).
    pub const AUTHPRIV: Facility = Facility(10);
    /// Log audit (code 13, RFC 5424 §6.2.1).
    pub const AUDIT: Facility = Facility(13);
    /// Local use 0 (code 16, RFC 5424 §6.2.1).
    pub const LOCAL0: Facility = Facility(16);

    /// The facility with numerical code `code`, when it is one of RFC 5424
    /// §6.2.1's 0–23.
    pub fn new(code: u8) -> Option<Self> {
        (code <= 23).then_some(Facility(code))
    }

    /// The numerical code (RFC 5424 §6.2.1).
    pub fn code(self) -> u8 {
        self.0
    }
}

/// What a message says about its sender (RFC 5424 §6.2): the parts that do
/// not come from the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogFormat {
    /// The facility of PRI (RFC 5424 §6.2.1).
    pub facility: Facility,
    /// HOSTNAME (RFC 5424 §6.2.4): the device's FQDN, hostname or IP
    /// address; `None` (or a value that is not 1–255 printable US-ASCII)
    /// gives NILVALUE.
    pub hostname: Option<String>,
    /// PROCID (RFC 5424 §6.2.6), usually the process id; `None` (or a value
    /// that is not 1–128 printable US-ASCII) gives NILVALUE.
    pub procid: Option<String>,
    /// The private enterprise number of the SD-ID `dha@PEN` (RFC 5424
    /// §6.3.2, §7.2.2; assigned by IANA).
    pub pen: u32,
}

/// The syslog severity code (RFC 5424 §6.2.1, table 2) of a dha severity;
/// the table is in the [module documentation](self).
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// PRI's value (RFC 5424 §6.2.1): `facility * 8 + severity`, 0–191.
pub fn pri(facility: Facility, severity: Severity) -> u8 {
    facility
        .code()
        .saturating_mul(8)
        .saturating_add(syslog_severity(severity))
}

/// Formats `record` as one RFC 5424 message (SYSLOG-MSG, RFC 5424 §6),
/// with `head` the event log's chain head when known. See the
/// [module documentation](self) for every field.
pub fn format_record(record: &Record, head: Option<&Head>, fmt: &SyslogFormat) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    // HEADER (§6.2). Writing to a String cannot fail.
    let _ = write!(
        out,
        "<{}>1 {} {} {} {} {} ",
        pri(fmt.facility, record.severity),
        timestamp(record.wall_secs, record.wall_nanos)
            .as_deref()
            .unwrap_or("-"),
        header_field(fmt.hostname.as_deref(), 255),
        APP_NAME,
        header_field(fmt.procid.as_deref(), 128),
        msgid(&record.kind),
    );
    // STRUCTURED-DATA (§6.3).
    let _ = write!(out, "[dha@{}", fmt.pen);
    let mut names = BTreeSet::new();
    param(
        &mut out,
        &mut names,
        "seq".to_owned(),
        &record.seq.to_string(),
    );
    if let Some(h) = head {
        param(&mut out, &mut names, "head".to_owned(), &hex(&h.hash));
        param(
            &mut out,
            &mut names,
            "head_seq".to_owned(),
            &h.seq.to_string(),
        );
    }
    param(
        &mut out,
        &mut names,
        "severity".to_owned(),
        record.severity.as_str(),
    );
    param(
        &mut out,
        &mut names,
        "boot".to_owned(),
        &record.boot_id.to_string(),
    );
    for (key, value) in &record.payload {
        let name = unique_name(&names, &param_name(key));
        param(&mut out, &mut names, name, &value_text(value));
    }
    out.push(']');
    // MSG (§6.4), cut to fit MAX_MESSAGE.
    let summary = summary(record);
    let room = MAX_MESSAGE
        .saturating_sub(out.len())
        .saturating_sub(1 + BOM.len());
    let mut bytes = out.into_bytes();
    if room > 0 {
        bytes.push(b' ');
        bytes.extend_from_slice(BOM);
        bytes.extend_from_slice(cut(&summary, room).as_bytes());
    }
    bytes
}

/// Appends ` name="value"` (RFC 5424 §6.3.3) and records the name.
fn param(out: &mut String, names: &mut BTreeSet<String>, name: String, value: &str) {
    out.push(' ');
    out.push_str(&name);
    out.push_str("=\"");
    escape_param_value(out, value);
    out.push('"');
    names.insert(name);
}

/// TIMESTAMP (RFC 5424 §6.2.3): `YYYY-MM-DDTHH:MM:SS.ffffffZ`, or `None`
/// outside the years 0000–9999.
fn timestamp(secs: i64, nanos: u32) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    if !(0..=9999).contains(&t.year()) || nanos >= 1_000_000_000 {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        nanos / 1000
    ))
}

/// Printable US-ASCII (`PRINTUSASCII`, RFC 5424 §6).
fn printable(c: char) -> bool {
    ('!'..='~').contains(&c)
}

/// A header field of 1..=`max` printable US-ASCII characters, else NILVALUE.
fn header_field(value: Option<&str>, max: usize) -> &str {
    match value {
        Some(v) if !v.is_empty() && v.len() <= max && v.chars().all(printable) => v,
        _ => "-",
    }
}

/// MSGID (RFC 5424 §6.2.7): the kind's name cut to 32, or NILVALUE.
fn msgid(kind: &str) -> &str {
    if kind.is_empty() || !kind.chars().all(printable) {
        return "-";
    }
    // ASCII only: every index is a character boundary.
    kind.get(..kind.len().min(32)).unwrap_or("-")
}

/// A PARAM-NAME (RFC 5424 §6.3.3, SD-NAME): 1–32 printable US-ASCII except
/// `=`, SP, `]` and `"`; other characters become `_`.
fn param_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if printable(c) && !matches!(c, '=' | ']' | '"') {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    if name.is_empty() {
        name.push('_');
    }
    name
}

/// `name`, or `name~N` (cut so that it stays within 32) when taken.
fn unique_name(taken: &BTreeSet<String>, name: &str) -> String {
    if !taken.contains(name) {
        return name.to_owned();
    }
    (2u32..)
        .map(|n| {
            let suffix = format!("~{n}");
            let keep = 32usize.saturating_sub(suffix.len()).min(name.len());
            // ASCII only (param_name): every index is a character boundary.
            format!("{}{suffix}", name.get(..keep).unwrap_or(""))
        })
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| "_".to_owned())
}

/// Appends `value` as a PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]`
/// escaped with `\`.
fn escape_param_value(out: &mut String, value: &str) {
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A payload value as text: strings as they are, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The human-readable MSG: `kind (severity): key=value …`, on one line.
fn summary(record: &Record) -> String {
    let mut s = format!("{} ({})", record.kind, record.severity.as_str());
    for (i, (k, v)) in record.payload.iter().enumerate() {
        s.push_str(if i == 0 { ": " } else { " " });
        let _ = write!(s, "{k}={}", value_text(v));
    }
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The longest prefix of `s` of at most `max` bytes ending at a character
/// boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or("")
}

/// Appends `msg` framed by octet counting (RFC 6587 §3.4.1, RFC 5425
/// §4.3): `MSG-LEN SP SYSLOG-MSG`, MSG-LEN the octets of `msg` in decimal.
pub fn write_frame(out: &mut Vec<u8>, msg: &[u8]) {
    out.extend_from_slice(msg.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(msg);
}

/// Why [`FrameReader`] stopped (RFC 5425 §4.3, RFC 6587 §3.4.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// MSG-LEN is not `NONZERO-DIGIT *DIGIT` followed by SP.
    #[error("frame at byte {offset}: MSG-LEN is not a decimal number followed by a space")]
    BadLength {
        /// Where the frame starts in the stream.
        offset: usize,
    },
    /// MSG-LEN is larger than the reader's maximum.
    #[error("frame at byte {offset}: MSG-LEN {len} exceeds the maximum {max}")]
    TooLong {
        /// Where the frame starts in the stream.
        offset: usize,
        /// The announced length (saturated).
        len: usize,
        /// The reader's maximum.
        max: usize,
    },
    /// The stream ends inside a frame.
    #[error("frame at byte {offset}: the stream ends inside the frame")]
    Truncated {
        /// Where the frame starts in the stream.
        offset: usize,
    },
}

/// Splits a byte stream of octet-counted frames (RFC 6587 §3.4.1, RFC 5425
/// §4.3) back into messages, each at most `max` octets. It yields
/// `Ok(message)` per frame, and after the first error yields that error once
/// and then nothing: a broken stream cannot be resynchronised. Never panics.
#[derive(Debug, Clone)]
pub struct FrameReader<'a> {
    rest: &'a [u8],
    offset: usize,
    max: usize,
    failed: bool,
}

impl<'a> FrameReader<'a> {
    /// A reader of `stream` accepting messages of at most `max` octets.
    pub fn new(stream: &'a [u8], max: usize) -> Self {
        FrameReader {
            rest: stream,
            offset: 0,
            max,
            failed: false,
        }
    }

    fn next_frame(&mut self) -> Result<&'a [u8], FrameError> {
        let offset = self.offset;
        let digits = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (len_bytes, after) = self.rest.split_at_checked(digits).unwrap_or((&[], &[]));
        if digits == 0 {
            return Err(if self.rest.is_empty() {
                FrameError::Truncated { offset }
            } else {
                FrameError::BadLength { offset }
            });
        }
        if len_bytes.first() == Some(&b'0') {
            return Err(FrameError::BadLength { offset });
        }
        let len = len_bytes.iter().fold(0usize, |n, d| {
            n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
        });
        if len > self.max {
            return Err(FrameError::TooLong {
                offset,
                len,
                max: self.max,
            });
        }
        let body = match after.split_first() {
            Some((b' ', body)) => body,
            Some(_) => return Err(FrameError::BadLength { offset }),
            None => return Err(FrameError::Truncated { offset }),
        };
        let (msg, rest) = body
            .split_at_checked(len)
            .ok_or(FrameError::Truncated { offset })?;
        self.rest = rest;
        self.offset = offset
            .saturating_add(digits)
            .saturating_add(1)
            .saturating_add(len);
        Ok(msg)
    }
}

impl<'a> Iterator for FrameReader<'a> {
    type Item = Result<&'a [u8], FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let r = self.next_frame();
        self.failed = r.is_err();
        Some(r)
    }
}
