//! Formatting real event-log records as RFC 5424 messages, checked with an
//! independent parser (`syslog_loose`), and octet-counting framing.

use super::*;
use crate::FixedClock;
use crate::events::record::Reader;
use crate::events::{BootId, Event, EventKind, EventLog, FixedMonotonic, InitialKey, Stamps};
use std::time::{Duration, UNIX_EPOCH};
use syslog_loose::{Protocol, SyslogSeverity, Variant, parse_message};
use tempfile::TempDir;

fn format() -> SyslogFormat {
    SyslogFormat {
        facility: Facility::AUTHPRIV,
        hostname: Some("ct-scanner-7.radiology.example".to_owned()),
        procid: Some("4242".to_owned()),
        pen: 32473,
    }
}

/// Writes `events` through the event log and reads the records back, with
/// the log's head.
fn records(events: &[Event]) -> (Vec<Record>, Head) {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("events.log");
    let key = dir.path().join("events.key");
    let stamps = Stamps {
        boot_id: BootId([7; 16]),
        clock: Box::new(FixedClock(
            UNIX_EPOCH + Duration::new(1_780_000_000, 123_456_789),
        )),
        monotonic: Box::new(FixedMonotonic(1)),
    };
    let mut l = EventLog::create(&log, &key, &InitialKey::from_bytes([1; 32]), stamps).unwrap();
    for e in events {
        l.append(e).unwrap();
    }
    l.commit().unwrap();
    let head = l.head().unwrap();
    let bytes = std::fs::read(&log).unwrap();
    let mut r = Reader::new(&bytes[..]).unwrap();
    let mut out = Vec::new();
    while let Some(raw) = r.next_record().unwrap() {
        out.push(raw.record);
    }
    (out, head)
}

fn params(m: &syslog_loose::Message<&str>) -> Vec<(String, String)> {
    assert_eq!(m.structured_data.len(), 1);
    assert_eq!(m.structured_data[0].id, "dha@32473");
    m.structured_data[0]
        .params()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn param<'a>(ps: &'a [(String, String)], name: &str) -> &'a str {
    ps.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no param {name} in {ps:?}"))
}

#[test]
fn every_kind_and_severity_parses_as_rfc5424_with_its_fields() {
    let events: Vec<Event> = EventKind::ALL
        .iter()
        .zip(Severity::ALL.iter().cycle())
        .enumerate()
        .map(|(i, (k, s))| {
            Event::new(*k, *s)
                .with("n", i as u64)
                .with("path", format!("/etc/file{i}"))
        })
        .collect();
    let (recs, head) = records(&events);
    assert_eq!(recs.len(), EventKind::ALL.len());
    for rec in &recs {
        let bytes = format_record(rec, Some(&head), &format());
        let text = std::str::from_utf8(&bytes).unwrap();
        let m = parse_message(text, Variant::RFC5424);
        assert_eq!(m.protocol, Protocol::RFC5424(1), "{text}");
        let pri_text = format!("<{}>", 10 * 8 + syslog_severity(rec.severity));
        assert!(text.starts_with(&pri_text), "{text}");
        let sev = m.severity.unwrap() as u8;
        assert_eq!(sev, syslog_severity(rec.severity));
        assert_eq!(m.facility.unwrap() as u8, 10);
        let ts = m.timestamp.unwrap();
        assert_eq!(ts.timestamp(), 1_780_000_000);
        assert_eq!(ts.timestamp_subsec_micros(), 123_456);
        assert_eq!(ts.offset().local_minus_utc(), 0);
        assert!(text.contains(".123456Z "), "{text}");
        assert_eq!(m.hostname, Some("ct-scanner-7.radiology.example"));
        assert_eq!(m.appname, Some("dha"));
        assert_eq!(m.msgid, Some(rec.kind.as_str()));
        let ps = params(&m);
        assert_eq!(param(&ps, "seq"), rec.seq.to_string());
        assert_eq!(param(&ps, "head"), hex(&head.hash));
        assert_eq!(param(&ps, "head_seq"), head.seq.to_string());
        assert_eq!(param(&ps, "severity"), rec.severity.as_str());
        assert_eq!(param(&ps, "boot"), rec.boot_id.to_string());
        assert_eq!(param(&ps, "n"), rec.seq.to_string());
        assert_eq!(param(&ps, "path"), format!("/etc/file{}", rec.seq));
        let msg = m.msg.strip_prefix('\u{feff}').unwrap();
        assert_eq!(
            msg,
            format!(
                "{} ({}): n={} path=/etc/file{}",
                rec.kind,
                rec.severity.as_str(),
                rec.seq,
                rec.seq
            )
        );
    }
    assert!(matches!(
        parse_message("<0>1 - - - - - -", Variant::RFC5424).severity,
        Some(SyslogSeverity::SEV_EMERG)
    ));
}

#[test]
fn param_values_with_quotes_backslashes_brackets_and_non_ascii_round_trip() {
    let nasty = r#"a "quoted" \path\ [x] ]] Ünïcödé 画像 \n"#;
    let events = [Event::new(EventKind::IntegrityChange, Severity::High)
        .with("path", nasty)
        .with("bad key=\"]x", "v")
        .with("seq", "payload seq")
        .with("nested", serde_json::json!({"a": [1, "]"]}))
        .with("a_very_long_key_name_that_exceeds_thirty_two_chars", 1)];
    let (recs, head) = records(&events);
    let bytes = format_record(&recs[0], Some(&head), &format());
    let text = std::str::from_utf8(&bytes).unwrap();
    let m = parse_message(text, Variant::RFC5424);
    let ps = params(&m);
    assert_eq!(param(&ps, "path"), nasty);
    assert_eq!(param(&ps, "bad_key___x"), "v");
    assert_eq!(param(&ps, "seq"), "0");
    assert_eq!(param(&ps, "seq~2"), "payload seq");
    assert_eq!(param(&ps, "nested"), r#"{"a":[1,"]"]}"#);
    assert_eq!(param(&ps, "a_very_long_key_name_that_exceed"), "1");
    for (k, _) in &ps {
        assert!((1..=32).contains(&k.len()), "{k}");
        assert!(
            k.chars().all(|c| printable(c) && !"= ]\"".contains(c)),
            "{k}"
        );
    }
    let msg = m.msg.strip_prefix('\u{feff}').unwrap();
    assert!(msg.contains("Ünïcödé 画像"), "{msg}");
}

#[test]
fn unknown_or_invalid_header_fields_are_nilvalue() {
    let (recs, _) = records(&[Event::new(EventKind::BootFellBack, Severity::Critical)]);
    let f = SyslogFormat {
        facility: Facility::new(23).unwrap(),
        hostname: Some("host name with spaces".to_owned()),
        procid: None,
        pen: 1,
    };
    let bytes = format_record(&recs[0], None, &f);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(
        text.starts_with("<186>1 2026-05-28T20:26:40.123456Z - dha - boot.fell_back [dha@1 seq=\"0\" severity=\"critical\""),
        "{text}"
    );
    assert!(!text.contains("head="), "{text}");
    assert_eq!(Facility::new(24), None);
    let m = parse_message(text, Variant::RFC5424);
    assert_eq!(m.hostname, None);
    assert_eq!(m.procid, None);
    let long = SyslogFormat {
        hostname: Some("h".repeat(256)),
        ..format()
    };
    assert!(
        format_record(&recs[0], None, &long)
            .starts_with(b"<82>1 2026-05-28T20:26:40.123456Z - dha 4242 ")
    );
    assert_eq!(timestamp(i64::MAX, 0), None);
    assert_eq!(
        timestamp(0, 0).as_deref(),
        Some("1970-01-01T00:00:00.000000Z")
    );
    assert_eq!(msgid(&"k".repeat(64)).len(), 32);
    assert_eq!(msgid("bad kind"), "-");
}

#[test]
fn msg_is_cut_at_a_char_boundary_and_structured_data_never() {
    let long = "画".repeat(5000); // 15000 bytes, 3 per char
    let (recs, head) = records(&[Event::new(EventKind::AuditRegression, Severity::Low)
        .with("short", "x")
        .with("z_long", long.clone())]);
    let bytes = format_record(&recs[0], Some(&head), &format());
    // The SD alone exceeds MAX_MESSAGE: it is kept whole, MSG is dropped.
    assert!(bytes.len() > MAX_MESSAGE);
    let text = std::str::from_utf8(&bytes).unwrap();
    let m = parse_message(text, Variant::RFC5424);
    assert_eq!(param(&params(&m), "z_long"), long);
    assert!(!text.contains('\u{feff}'));

    // Many short fields: SD fits, the summary in MSG is cut to fit.
    let (recs, head) =
        records(&[Event::new(EventKind::AuditRegression, Severity::Low).with("z", "y")]);
    let mut rec2 = recs[0].clone();
    rec2.payload.clear();
    for i in 0..100 {
        rec2.payload
            .insert(format!("k{i:03}"), serde_json::Value::from("ü".repeat(20)));
    }
    let bytes = format_record(&rec2, Some(&head), &format());
    assert!(bytes.len() <= MAX_MESSAGE, "{}", bytes.len());
    assert!(bytes.len() > MAX_MESSAGE - 3, "{}", bytes.len());
    let text = std::str::from_utf8(&bytes).unwrap(); // cut at a boundary
    let m = parse_message(text, Variant::RFC5424);
    assert_eq!(params(&m).len(), 105);
    let msg = m.msg.strip_prefix('\u{feff}').unwrap();
    assert!(msg.starts_with("audit.regression (low): k000=üüü"), "{msg}");
}

#[test]
fn frames_round_trip_and_bad_streams_stop_without_panicking() {
    let (recs, head) = records(&[
        Event::new(EventKind::UpdateRejected, Severity::High).with("target", "a b"),
        Event::new(EventKind::UpdateInstalled, Severity::Info),
    ]);
    let msgs: Vec<Vec<u8>> = recs
        .iter()
        .map(|r| format_record(r, Some(&head), &format()))
        .collect();
    let mut stream = Vec::new();
    for m in &msgs {
        write_frame(&mut stream, m);
    }
    assert!(stream.starts_with(format!("{} <", msgs[0].len()).as_bytes()));
    let back: Vec<&[u8]> = FrameReader::new(&stream, MAX_MESSAGE)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back, msgs.iter().map(Vec::as_slice).collect::<Vec<_>>());

    // Truncated anywhere: the whole frames before, then Truncated once.
    let first = msgs[0].len() + msgs[0].len().to_string().len() + 1;
    for cut in 1..stream.len() {
        let got: Vec<_> = FrameReader::new(&stream[..cut], MAX_MESSAGE).collect();
        let whole = usize::from(cut >= first);
        if cut == first {
            assert_eq!(got.len(), 1);
            continue;
        }
        assert_eq!(got.len(), whole + 1, "cut {cut}");
        assert!(
            matches!(got[whole], Err(FrameError::Truncated { .. })),
            "cut {cut}: {got:?}"
        );
    }

    // Bogus lengths.
    fn bad(s: &[u8]) -> Vec<Result<&[u8], FrameError>> {
        FrameReader::new(s, 100).collect()
    }
    assert_eq!(bad(b"x 1"), [Err(FrameError::BadLength { offset: 0 })]);
    assert_eq!(bad(b"05 hello"), [Err(FrameError::BadLength { offset: 0 })]);
    assert_eq!(bad(b"5hello"), [Err(FrameError::BadLength { offset: 0 })]);
    assert_eq!(
        bad(b"3 abc-1 x"),
        [Ok(&b"abc"[..]), Err(FrameError::BadLength { offset: 5 })]
    );
    assert_eq!(
        bad(b"101 x"),
        [Err(FrameError::TooLong {
            offset: 0,
            len: 101,
            max: 100
        })]
    );
    let huge = bad(b"99999999999999999999999999999999 x");
    assert!(matches!(
        huge[..],
        [Err(FrameError::TooLong {
            len: usize::MAX,
            ..
        })]
    ));
    assert_eq!(bad(b"12"), [Err(FrameError::Truncated { offset: 0 })]);
    assert_eq!(bad(b""), []);
    // Arbitrary bytes never panic.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let junk: Vec<u8> = (0..(x % 40))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"0123456789 x"[(x % 12) as usize]
            })
            .collect();
        x = x.wrapping_add(1);
        let got: Vec<_> = FrameReader::new(&junk, 16).collect();
        let errors = got.iter().filter(|r| r.is_err()).count();
        assert!(errors <= 1 && (errors == 0 || got.last().unwrap().is_err()));
        assert!(got.iter().flatten().all(|m| m.len() <= 16));
    }
}
