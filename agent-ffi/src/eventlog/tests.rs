use super::*;
use crate::error::last_error;
use std::ffi::{CStr, CString};
use std::ptr;

fn c_path(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

struct Files {
    _dir: tempfile::TempDir,
    log: CString,
    key: CString,
    initial: CString,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let f = Files {
        log: c_path(&dir.path().join("events.log")),
        key: c_path(&dir.path().join("events.key")),
        initial: c_path(&dir.path().join("initial.key")),
        _dir: dir,
    };
    // SAFETY: a NUL-terminated path.
    let rc = unsafe { dha_eventlog_keygen(f.initial.as_ptr()) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    f
}

fn append(log: *mut dha_eventlog, kind: &CStr, payload: Option<&CStr>) -> Result<u64, dha_result> {
    let mut seq = u64::MAX;
    // SAFETY: live handle, NUL-terminated strings, a valid out pointer.
    let rc = unsafe {
        dha_eventlog_append(
            log,
            kind.as_ptr(),
            3,
            payload.map_or(ptr::null(), CStr::as_ptr),
            &mut seq,
        )
    };
    if rc == dha_result::DHA_OK {
        Ok(seq)
    } else {
        Err(rc)
    }
}

fn head(log: *const dha_eventlog) -> String {
    let mut buf = [0 as c_char; 128];
    let mut needed = 0;
    // SAFETY: live handle, 128 writable bytes.
    let rc = unsafe { dha_eventlog_head(log, buf.as_mut_ptr(), buf.len(), &mut needed) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    // SAFETY: the buffer is NUL-terminated on success.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

fn verify_json(f: &Files, head: Option<&str>) -> serde_json::Value {
    let head = head.map(|h| CString::new(h).unwrap());
    let head_ptr = head.as_ref().map_or(ptr::null(), |h| h.as_ptr());
    let mut needed = 0;
    // SAFETY: a size query.
    let rc = unsafe {
        dha_eventlog_verify(
            f.log.as_ptr(),
            f.initial.as_ptr(),
            head_ptr,
            ptr::null_mut(),
            0,
            &mut needed,
        )
    };
    assert_eq!(
        rc,
        dha_result::DHA_ERR_INSUFFICIENT_SIZE,
        "{}",
        last_error()
    );
    let mut buf = vec![0 as c_char; needed];
    // SAFETY: `needed` writable bytes.
    let rc = unsafe {
        dha_eventlog_verify(
            f.log.as_ptr(),
            f.initial.as_ptr(),
            head_ptr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut needed,
        )
    };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    // SAFETY: NUL-terminated on success.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
    serde_json::from_str(text).unwrap()
}

#[test]
fn append_commit_reopen_and_verify() {
    let f = files();
    let mut log = ptr::null_mut();
    // SAFETY: NUL-terminated paths, a valid out pointer.
    let rc = unsafe {
        dha_eventlog_create(f.log.as_ptr(), f.key.as_ptr(), f.initial.as_ptr(), &mut log)
    };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(head(log), "", "nothing committed yet");
    assert_eq!(
        append(
            log,
            c"integrity.change",
            Some(c"{\"path\":\"/etc/passwd\"}")
        ),
        Ok(0)
    );
    assert_eq!(append(log, c"boot.marked_good", None), Ok(1));
    assert_eq!(head(log), "", "records pending");
    // SAFETY: live handle.
    assert_eq!(unsafe { dha_eventlog_commit(log) }, dha_result::DHA_OK);
    let h = head(log);
    assert!(h.starts_with("1:") && h.len() == 66, "{h}");
    // Bad input.
    assert_eq!(
        append(log, c"no.such.kind", None),
        Err(dha_result::DHA_ERR_EVENT_UNKNOWN_KIND)
    );
    assert!(
        last_error().contains("integrity.change"),
        "{}",
        last_error()
    );
    assert_eq!(
        append(log, c"audit.regression", Some(c"[1]")),
        Err(dha_result::DHA_ERR_INVALID_ARGUMENT)
    );
    assert_eq!(
        append(log, c"audit.regression", Some(c"{")),
        Err(dha_result::DHA_ERR_INVALID_ARGUMENT)
    );
    let mut seq = 0;
    // SAFETY: live handle; severity 9 is not a dha_severity.
    let rc =
        unsafe { dha_eventlog_append(log, c"audit.regression".as_ptr(), 9, ptr::null(), &mut seq) };
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
    // SAFETY: freed once.
    unsafe { dha_eventlog_free(log) };

    // Reopened, it continues the chain.
    let mut log = ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { dha_eventlog_open(f.log.as_ptr(), f.key.as_ptr(), &mut log) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(head(log), h);
    assert_eq!(append(log, c"hook.outcome", Some(c"{}")), Ok(2));
    // SAFETY: live handle, then freed once.
    unsafe {
        assert_eq!(dha_eventlog_commit(log), dha_result::DHA_OK);
        dha_eventlog_free(log);
    }

    let v = verify_json(&f, Some(&h));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["records"], 3);
    assert!(v["problem"].is_null());

    // A flipped byte in record 1's payload: its tag no longer verifies.
    let path = Path::new(f.log.to_str().unwrap());
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(5).position(|w| w == b"/etc/").unwrap();
    bytes[at + 1] ^= 0x20;
    std::fs::write(path, &bytes).unwrap();
    let v = verify_json(&f, None);
    assert_eq!(v["verified"], false, "{v}");
    assert_eq!(v["problem"]["index"], 0, "{v}");
    assert!(
        v["problem"]["message"]
            .as_str()
            .unwrap()
            .contains("wrong tag"),
        "{v}"
    );
}

#[test]
fn torn_tail_is_reported_then_cut_and_recorded() {
    let f = files();
    let key = [7u8; 32];
    let mut log = ptr::null_mut();
    // SAFETY: NUL-terminated paths, 32 readable bytes, a valid out pointer.
    let rc = unsafe {
        dha_eventlog_create_from_bytes(f.log.as_ptr(), f.key.as_ptr(), key.as_ptr(), 32, &mut log)
    };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(append(log, c"update.installed", None), Ok(0));
    // SAFETY: live handle, then freed once.
    unsafe {
        assert_eq!(dha_eventlog_commit(log), dha_result::DHA_OK);
        dha_eventlog_free(log);
    }
    // A torn write: half a record's length prefix.
    let path = Path::new(f.log.to_str().unwrap());
    let len = std::fs::metadata(path).unwrap().len();
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    std::io::Write::write_all(&mut file, &[0, 0]).unwrap();
    drop(file);

    let mut log = ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { dha_eventlog_open(f.log.as_ptr(), f.key.as_ptr(), &mut log) };
    assert_eq!(rc, dha_result::DHA_ERR_EVENTLOG_TORN_TAIL);
    assert!(log.is_null());
    let d = last_error();
    assert!(
        d.contains(&format!("from byte {len}")) && d.contains("last 2 bytes"),
        "{d}"
    );
    assert_eq!(
        std::fs::metadata(path).unwrap().len(),
        len + 2,
        "nothing changed"
    );

    let (mut offset, mut bytes) = (0u64, 0u64);
    // SAFETY: as above, and valid out pointers.
    let rc = unsafe {
        dha_eventlog_truncate_and_record(
            f.log.as_ptr(),
            f.key.as_ptr(),
            &mut log,
            &mut offset,
            &mut bytes,
        )
    };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!((offset, bytes), (len, 2));
    assert!(head(log).starts_with("1:"), "the tampering was recorded");
    // SAFETY: freed once.
    unsafe { dha_eventlog_free(log) };

    // Verified from the same 32 bytes written as a key file.
    let initial = Path::new(f.initial.to_str().unwrap());
    std::fs::remove_file(initial).unwrap();
    InitialKey::from_bytes(key).write(initial).unwrap();
    let v = verify_json(&f, None);
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["records"], 2);
}

#[test]
fn creation_never_overwrites_and_null_arguments_are_refused() {
    let f = files();
    let mut log = ptr::null_mut();
    // SAFETY: NUL-terminated paths, valid out pointers; NULLs refused first.
    unsafe {
        assert_eq!(
            dha_eventlog_keygen(f.initial.as_ptr()),
            dha_result::DHA_ERR_EVENTLOG_EXISTS
        );
        assert_eq!(
            dha_eventlog_create(f.log.as_ptr(), f.key.as_ptr(), f.initial.as_ptr(), &mut log),
            dha_result::DHA_OK
        );
        dha_eventlog_free(log);
        log = ptr::null_mut();
        assert_eq!(
            dha_eventlog_create(f.log.as_ptr(), f.key.as_ptr(), f.initial.as_ptr(), &mut log),
            dha_result::DHA_ERR_EVENTLOG_EXISTS
        );
        assert!(log.is_null());
        let key = [0u8; 31];
        assert_eq!(
            dha_eventlog_create_from_bytes(
                c"/x".as_ptr(),
                c"/y".as_ptr(),
                key.as_ptr(),
                31,
                &mut log
            ),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            dha_eventlog_create_from_bytes(
                c"/x".as_ptr(),
                c"/y".as_ptr(),
                ptr::null(),
                32,
                &mut log
            ),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_eventlog_open(ptr::null(), f.key.as_ptr(), &mut log),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_eventlog_commit(ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        let mut seq = 0;
        assert_eq!(
            dha_eventlog_append(
                ptr::null_mut(),
                c"hook.outcome".as_ptr(),
                0,
                ptr::null(),
                &mut seq
            ),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        let mut needed = 0;
        assert_eq!(
            dha_eventlog_verify(
                f.log.as_ptr(),
                f.initial.as_ptr(),
                c"not-a-head".as_ptr(),
                ptr::null_mut(),
                0,
                &mut needed
            ),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        dha_eventlog_free(ptr::null_mut());
    }
    // A key file that is not one.
    let bad = Path::new(f.initial.to_str().unwrap()).with_file_name("bad.key");
    std::fs::write(&bad, "xyz\n").unwrap();
    let dir = bad.parent().unwrap();
    // SAFETY: NUL-terminated paths and a valid out pointer.
    let rc = unsafe {
        dha_eventlog_create(
            c_path(&dir.join("l2")).as_ptr(),
            c_path(&dir.join("k2")).as_ptr(),
            c_path(&bad).as_ptr(),
            &mut log,
        )
    };
    assert_eq!(rc, dha_result::DHA_ERR_EVENTLOG_KEY_FILE);
    assert!(!last_error().contains("xyz"));
}
