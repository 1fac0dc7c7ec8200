use super::*;
use crate::config::{dha_config_free, dha_config_new_default};
use crate::error::last_error;
use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt as _;
use std::sync::atomic::{AtomicU64, Ordering};

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn handle_for(tree: &Path) -> *mut dha_integrity {
    let mut cfg = ptr::null_mut();
    let mut h = ptr::null_mut();
    let tree = c(tree);
    let paths = [tree.as_ptr()];
    // SAFETY: valid out pointers and strings; cfg freed once.
    unsafe {
        assert_eq!(dha_config_new_default(&mut cfg), dha_result::DHA_OK);
        assert_eq!(dha_integrity_new(cfg, &mut h), dha_result::DHA_OK);
        dha_config_free(cfg);
        assert_eq!(
            dha_integrity_set_paths(h, paths.as_ptr(), 1),
            dha_result::DHA_OK
        );
    }
    h
}

unsafe extern "C" fn count_progress(userdata: *mut c_void, files: u64, _bytes: u64) {
    // SAFETY: the test passes a live AtomicU64.
    let max = unsafe { &*userdata.cast::<AtomicU64>() };
    max.fetch_max(files, Ordering::Relaxed);
}

unsafe extern "C" fn collect(userdata: *mut c_void, change: *const dha_change) {
    // SAFETY: the test passes a live Vec; change is live during the call.
    let seen = unsafe { &mut *userdata.cast::<Vec<Vec<u8>>>() };
    // SAFETY: as above.
    seen.push(
        unsafe { CStr::from_ptr(dha_change_path(change)) }
            .to_bytes()
            .to_vec(),
    );
}

#[test]
fn byte_paths_and_type_changes_come_through_exactly() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let odd = tree.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&odd, b"latin-1 name").unwrap();
    std::fs::write(tree.join("plain"), b"file").unwrap();
    let key = work.path().join("k");
    let baseline = work.path().join("b");
    let (key_c, baseline_c) = (c(&key), c(&baseline));
    let h = handle_for(&tree);
    let progress = AtomicU64::new(0);
    let mut seen: Vec<Vec<u8>> = Vec::new();
    // SAFETY: a live handle and report, valid strings and out pointers,
    // callbacks with userdata that outlive the calls; each freed once.
    unsafe {
        assert_eq!(
            dha_integrity_keygen(key_c.as_ptr(), DHA_SEAL_HMAC_SHA256),
            dha_result::DHA_OK
        );
        let userdata = (&raw const progress).cast_mut().cast::<c_void>();
        dha_integrity_set_progress_callback(h, Some(count_progress), userdata);
        let mut records = 0u64;
        let rc = dha_integrity_init(h, baseline_c.as_ptr(), key_c.as_ptr(), &mut records);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        assert_eq!(records, 3);
        assert_eq!(progress.load(Ordering::Relaxed), 3);

        std::fs::write(&odd, b"LATIN-1 NAME").unwrap();
        std::fs::remove_file(tree.join("plain")).unwrap();
        std::fs::create_dir(tree.join("plain")).unwrap();
        let userdata = (&raw mut seen).cast::<c_void>();
        dha_integrity_set_change_callback(h, Some(collect), userdata);
        let mut report = ptr::null_mut();
        let rc = dha_integrity_check(h, baseline_c.as_ptr(), key_c.as_ptr(), false, &mut report);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let n = dha_integrity_report_change_count(report);
        let mut by_path = std::collections::BTreeMap::new();
        for i in 0..n {
            let mut ch = ptr::null();
            assert_eq!(
                dha_integrity_report_change(report, i, &mut ch),
                dha_result::DHA_OK
            );
            let path = CStr::from_ptr(dha_change_path(ch)).to_bytes().to_vec();
            let mut kind = dha_change_kind::DHA_CHANGE_ADDED;
            dha_change_kind_of(ch, &mut kind);
            by_path.insert(path, (kind, ch));
        }
        assert_eq!(seen, by_path.keys().cloned().collect::<Vec<_>>());
        let (kind, _) = by_path[odd.as_os_str().as_bytes()];
        assert_eq!(kind, dha_change_kind::DHA_CHANGE_MODIFIED);
        let (kind, ch) = by_path[tree.join("plain").as_os_str().as_bytes()];
        assert_eq!(kind, dha_change_kind::DHA_CHANGE_TYPE_CHANGED);
        assert_eq!(CStr::from_ptr(dha_change_old_type(ch)), c"file");
        assert_eq!(CStr::from_ptr(dha_change_new_type(ch)), c"directory");
        dha_integrity_report_free(report);
        dha_integrity_free(h);
    }
}

#[test]
fn errors_have_their_numbers_and_no_output() {
    let work = tempfile::tempdir().unwrap();
    let h = handle_for(work.path());
    let missing = c(&work.path().join("missing.key"));
    let junk = work.path().join("junk.baseline");
    std::fs::write(&junk, b"not a baseline").unwrap();
    let key = work.path().join("k");
    let (junk_c, key_c) = (c(&junk), c(&key));
    // SAFETY: a live handle, valid strings and out pointers; freed once.
    unsafe {
        let mut report = ptr::null_mut();
        let rc = dha_integrity_check(h, junk_c.as_ptr(), missing.as_ptr(), true, &mut report);
        assert_eq!(rc, dha_result::DHA_ERR_INTEGRITY_IO, "{}", last_error());
        assert!(last_error().contains("missing.key"), "{}", last_error());
        assert_eq!(
            dha_integrity_keygen(key_c.as_ptr(), DHA_SEAL_ED25519),
            dha_result::DHA_OK
        );
        let rc = dha_integrity_check(h, junk_c.as_ptr(), key_c.as_ptr(), true, &mut report);
        assert!(
            matches!(
                rc,
                dha_result::DHA_ERR_INTEGRITY_BASELINE_FORMAT
                    | dha_result::DHA_ERR_INTEGRITY_BASELINE_SEAL
            ),
            "{rc:?}: {}",
            last_error()
        );
        assert!(report.is_null(), "no output on failure");
        let mut n = 7u64;
        let rc = dha_integrity_verify_baseline(junk_c.as_ptr(), key_c.as_ptr(), &mut n);
        assert_eq!(rc as u32 / 100, 4);
        assert_eq!(n, 7, "no output on failure");
        let paths = [ptr::null::<c_char>()];
        let rc = dha_integrity_set_paths(h, paths.as_ptr(), 1);
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        assert!(last_error().contains("`paths[0]`"), "{}", last_error());
        let rc = dha_integrity_set_paths(h, ptr::null(), 1);
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        let rc = dha_integrity_set_paths(h, paths.as_ptr(), DHA_INTEGRITY_PATHS_MAX + 1);
        assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
        dha_integrity_free(h);
    }
}
