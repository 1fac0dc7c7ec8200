use super::*;
use crate::config::{dha_config_free, dha_config_new_from_toml};
use crate::error::last_error;
use std::collections::BTreeSet;
use std::ffi::CStr;
use std::sync::Mutex;

fn reference(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/tuf/reference")
        .join(scenario)
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn c_path(p: &Path) -> CString {
    c(p.to_str().unwrap())
}

/// A metadata directory seeded with `scenario`'s shipped root.
fn seeded(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::read(reference(scenario).join("client/root.json")).unwrap();
    // SAFETY: a NUL-terminated path and a live buffer of root.len() bytes.
    let rc =
        unsafe { dha_updater_init_root(c_path(dir.path()).as_ptr(), root.as_ptr(), root.len()) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    dir
}

/// An updater over `store` and `scenario`'s repository, or the result.
fn open(store: &Path, metadata: &str, targets: &str) -> Result<*mut dha_updater, dha_result> {
    open_configured(store, metadata, targets, c"")
}

/// As [`open`], with the configuration document `toml`.
fn open_configured(
    store: &Path,
    metadata: &str,
    targets: &str,
    toml: &CStr,
) -> Result<*mut dha_updater, dha_result> {
    let mut config = ptr::null_mut();
    // SAFETY: a NUL-terminated document and a valid out pointer.
    let rc = unsafe { dha_config_new_from_toml(toml.as_ptr(), &mut config) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    let mut updater = ptr::null_mut();
    // SAFETY: live config, NUL-terminated strings, a valid out pointer.
    let rc = unsafe {
        dha_updater_new(
            config,
            c_path(store).as_ptr(),
            c(metadata).as_ptr(),
            c(targets).as_ptr(),
            &mut updater,
        )
    };
    // SAFETY: made above, freed once; the updater keeps a copy of its [update] section.
    unsafe { dha_config_free(config) };
    if rc == dha_result::DHA_OK {
        Ok(updater)
    } else {
        assert!(updater.is_null(), "no output on failure");
        Err(rc)
    }
}

fn open_scenario(store: &Path, scenario: &str) -> *mut dha_updater {
    let base = reference(scenario);
    let metadata = base.join("metadata");
    let targets = format!("file://{}", base.join("targets").display());
    open(store, metadata.to_str().unwrap(), &targets).unwrap()
}

/// Every variant of TufError today, one of each.
fn every_tuf_error() -> Vec<TufError> {
    let s = || "x".to_owned();
    vec![
        TufError::Malformed {
            role: s(),
            message: s(),
        },
        TufError::Canonical(s()),
        TufError::BadKey {
            keyid: s(),
            message: s(),
        },
        TufError::Threshold {
            role: s(),
            valid: 0,
            threshold: 1,
        },
        TufError::InvalidThreshold {
            role: s(),
            threshold: 0,
        },
        TufError::Io {
            path: s(),
            message: s(),
        },
        TufError::NotFound { path: s() },
        TufError::TooLarge {
            path: s(),
            limit: 1,
        },
        TufError::UnsafeName {
            name: s(),
            reason: s(),
        },
        TufError::TargetLength {
            target: s(),
            expected: 2,
            got: 1,
        },
        TufError::TargetTooLong {
            target: s(),
            expected: 1,
        },
        TufError::TargetHash {
            target: s(),
            algorithm: s(),
        },
        TufError::NoSupportedHash { target: s() },
        TufError::FloorRollback {
            target: s(),
            floor: 2,
            offered: 1,
        },
        TufError::HttpStatus {
            url: s(),
            status: 500,
        },
        TufError::Certificate {
            url: s(),
            message: s(),
        },
        TufError::Expired { role: s() },
        TufError::Rollback {
            role: s(),
            trusted: 2,
            offered: 1,
        },
        TufError::RoleRemoved { role: s() },
        TufError::VersionMismatch {
            role: s(),
            expected: 2,
            got: 3,
        },
        TufError::MetadataTooLarge {
            role: s(),
            limit: 1,
        },
        TufError::MetadataLength {
            role: s(),
            expected: 1,
        },
        TufError::MetadataHash {
            role: s(),
            algorithm: s(),
        },
        TufError::NotListed {
            role: s(),
            listed_in: s(),
        },
        TufError::NoTrustedRoot { path: s() },
        TufError::AlreadyInitialised {
            path: s(),
            version: 1,
        },
        TufError::TargetNotFound { target: s() },
        TufError::HardwareIdMismatch {
            target: s(),
            listed: s(),
            device: s(),
        },
        TufError::ReleaseCounterMissing {
            target: s(),
            floor: 1,
        },
    ]
}

#[test]
fn every_tuf_error_has_its_own_documented_number() {
    let errors = every_tuf_error();
    let mut seen = BTreeSet::new();
    for e in errors {
        let text = e.to_string();
        let mapped = Error::from(e.clone());
        let n = mapped.code as u32;
        assert!((301..=399).contains(&n), "{e:?} maps to {n}");
        assert!(seen.insert(n), "{e:?} shares number {n}");
        assert_eq!(mapped.detail, text, "the detail is the error's text");
        assert_eq!(dha_result::from_u32(n), Some(mapped.code));
        assert!(!mapped.code.message().is_empty());
    }
    assert_eq!(seen.len(), 29);
}

#[test]
fn locations_are_directories_file_urls_or_https() {
    let parse = |s: &str| Location::parse(s, "metadata_url", false);
    assert_eq!(
        parse("https://u.example/m").unwrap(),
        Location::Https("https://u.example/m".to_owned())
    );
    assert_eq!(
        parse("file:///media/usb/metadata").unwrap(),
        Location::Local(PathBuf::from("/media/usb/metadata"))
    );
    assert_eq!(
        parse("relative/dir").unwrap(),
        Location::Local(PathBuf::from("relative/dir"))
    );
    for bad in [
        "",
        "http://u.example/m",
        "ftp://x/y",
        "file://relative",
        "HTTP://x",
    ] {
        let e = parse(bad).unwrap_err();
        assert_eq!(e.code, dha_result::DHA_ERR_INVALID_ARGUMENT, "{bad}");
        assert!(e.detail.contains("`metadata_url`"), "{}", e.detail);
    }
    // Plain http only with the configuration's switch.
    assert_eq!(
        Location::parse("http://10.0.0.5:8000/m", "metadata_url", true).unwrap(),
        Location::PlainHttp("http://10.0.0.5:8000/m".to_owned())
    );
    let e = parse("http://10.0.0.5:8000/m").unwrap_err();
    assert!(e.detail.contains("allow_plain_http"), "{}", e.detail);
    assert!(Location::parse("ftp://x/y", "metadata_url", true).is_err());
}

static PROGRESS: Mutex<Vec<(usize, String, u64, u64)>> = Mutex::new(Vec::new());

unsafe extern "C" fn record(userdata: *mut c_void, target: *const c_char, done: u64, total: u64) {
    // SAFETY: dha passes a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(target) }
        .to_str()
        .unwrap()
        .to_owned();
    PROGRESS
        .lock()
        .unwrap()
        .push((userdata as usize, name, done, total));
}

#[test]
fn a_reference_repository_refreshes_and_downloads() {
    let store = seeded("basic-ed25519");
    let dest = tempfile::tempdir().unwrap();
    let updater = open_scenario(store.path(), "basic-ed25519");
    // SAFETY: a live updater, used by this thread only; `record` ignores
    // userdata's pointee.
    unsafe {
        assert_eq!(
            dha_updater_set_progress_callback(updater, Some(record), 0x5a as *mut c_void),
            dha_result::DHA_OK
        );
        assert_eq!(
            dha_updater_refresh(updater),
            dha_result::DHA_OK,
            "{}",
            last_error()
        );
    }
    let mut target = ptr::null_mut();
    // SAFETY: as above; NUL-terminated name; valid out pointer.
    let rc = unsafe { dha_updater_get_target(updater, c"files/hello.txt".as_ptr(), &mut target) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    // SAFETY: `target` is live until freed below.
    unsafe {
        assert_eq!(dha_target_length(target), 25);
        assert_eq!(CStr::from_ptr(dha_target_name(target)), c"files/hello.txt");
        let mut hex = [0 as c_char; 129];
        let mut n = 0usize;
        let rc = dha_target_hash(
            target,
            c"sha256".as_ptr(),
            hex.as_mut_ptr(),
            hex.len(),
            &mut n,
        );
        assert_eq!(rc, dha_result::DHA_OK);
        assert_eq!(n, 64);
        assert_eq!(
            CStr::from_ptr(hex.as_ptr()).to_str().unwrap(),
            "8346c3ce8634e3cb68d01bce3a186376bab5f4ea6c2fccab4bab2fea069c6963"
        );
        // Too small: nothing of the digest, the size still told.
        let rc = dha_target_hash(target, c"sha512".as_ptr(), hex.as_mut_ptr(), 128, &mut n);
        assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
        assert_eq!((n, hex[0]), (128, 0));
        let rc = dha_target_hash(target, c"md5".as_ptr(), hex.as_mut_ptr(), hex.len(), &mut n);
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED);
        assert!(last_error().contains("sha256, sha512"), "{}", last_error());

        let mut needed = 0usize;
        let rc = dha_target_custom_json(target, ptr::null_mut(), 0, &mut needed);
        assert_eq!((rc, needed), (dha_result::DHA_ERR_INSUFFICIENT_SIZE, 5));
        let mut json = [0x55 as c_char; 5];
        let rc = dha_target_custom_json(target, json.as_mut_ptr(), 5, &mut needed);
        assert_eq!(rc, dha_result::DHA_OK);
        assert_eq!(CStr::from_ptr(json.as_ptr()), c"null");

        let rc = dha_updater_download_target(updater, target, c_path(dest.path()).as_ptr());
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        dha_target_free(target);
    }
    let got = std::fs::read(dest.path().join("files/hello.txt")).unwrap();
    assert_eq!(got.len(), 25);
    let progress = PROGRESS.lock().unwrap().clone();
    assert_eq!(
        progress,
        [
            (0x5a, "files/hello.txt".to_owned(), 0, 25),
            (0x5a, "files/hello.txt".to_owned(), 25, 25)
        ]
    );

    let mut absent = ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { dha_updater_get_target(updater, c"files/absent.txt".as_ptr(), &mut absent) };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND);
    assert!(absent.is_null());
    // SAFETY: freed once.
    unsafe { dha_updater_free(updater) };
}

#[test]
fn a_custom_field_comes_out_as_json() {
    let store = seeded("hardware-id");
    let updater = open_scenario(store.path(), "hardware-id");
    let mut target = ptr::null_mut();
    // SAFETY: a live updater; valid name and out pointer; freed once.
    unsafe {
        let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut target);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let mut json = [0 as c_char; 64];
        let mut needed = 0usize;
        let rc = dha_target_custom_json(target, json.as_mut_ptr(), json.len(), &mut needed);
        assert_eq!(rc, dha_result::DHA_OK);
        assert_eq!(
            CStr::from_ptr(json.as_ptr()),
            c"{\"hardware_id\":\"ct-console-07\"}"
        );
        dha_target_free(target);
        dha_updater_free(updater);
    }
}

/// The repository directories of `scenario`, as `open` takes them.
fn repository(scenario: &str) -> (String, String) {
    let base = reference(scenario);
    let metadata = base.join("metadata").to_str().unwrap().to_owned();
    let targets = base.join("targets").to_str().unwrap().to_owned();
    (metadata, targets)
}

#[test]
fn the_configured_hardware_id_refuses_targets_for_other_hardware() {
    // tests/data/tuf/reference/hardware-id: firmware/ct.bin is for
    // ct-console-07, firmware/mr.bin for mr-scanner-03.
    let store = seeded("hardware-id");
    let dest = tempfile::tempdir().unwrap();
    let (metadata, targets) = repository("hardware-id");
    let toml = c"[update]\nhardware_id = \"mr-scanner-03\"\n";
    let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
    let dest_c = c_path(dest.path());
    // SAFETY: a live updater; valid names, directory and out pointers;
    // each handle freed once.
    unsafe {
        // Refused at the lookup already, before anything is fetched.
        let mut ct = ptr::null_mut();
        let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut ct);
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH);
        assert_eq!(rc as u32, 328, "the documented number");
        assert!(ct.is_null(), "no output on failure");
        let detail = last_error();
        assert!(
            detail.contains("firmware/ct.bin")
                && detail.contains("ct-console-07")
                && detail.contains("mr-scanner-03"),
            "{detail}"
        );
        let mut mr = ptr::null_mut();
        let rc = dha_updater_get_target(updater, c"firmware/mr.bin".as_ptr(), &mut mr);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let rc = dha_updater_download_target(updater, mr, dest_c.as_ptr());
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        dha_target_free(mr);
        dha_updater_free(updater);
    }
    assert!(!dest.path().join("firmware/ct.bin").exists());
    assert!(dest.path().join("firmware/mr.bin").is_file());

    // Without the configured id the same target is accepted.
    let store = seeded("hardware-id");
    let updater = open_configured(store.path(), &metadata, &targets, c"").unwrap();
    // SAFETY: as above.
    unsafe {
        let mut ct = ptr::null_mut();
        let rc = dha_updater_get_target(updater, c"firmware/ct.bin".as_ptr(), &mut ct);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let rc = dha_updater_download_target(updater, ct, dest_c.as_ptr());
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        dha_target_free(ct);
        dha_updater_free(updater);
    }
}

#[test]
fn the_configured_limits_and_transport_settings_apply() {
    // A timestamp bound below basic-ed25519's timestamp.json.
    let store = seeded("basic-ed25519");
    let (metadata, targets) = repository("basic-ed25519");
    let toml = c"[update]\nmax_timestamp_bytes = 100\n";
    let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
    // SAFETY: a live updater, freed once.
    let rc = unsafe { dha_updater_refresh(updater) };
    // SAFETY: as above.
    unsafe { dha_updater_free(updater) };
    assert!(
        matches!(
            rc,
            dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE | dha_result::DHA_ERR_UPDATE_TOO_LARGE
        ),
        "{rc:?}: {}",
        last_error()
    );
    assert!(last_error().contains("timestamp"), "{}", last_error());
    assert!(!store.path().join("timestamp.json").exists());

    // One delegated role per search: delegation-depth's target at depth
    // 10 is out of reach (it is found with the default of 32).
    let store = seeded("delegation-depth");
    let (metadata, targets) = repository("delegation-depth");
    let toml = c"[update]\nmax_delegations = 1\n";
    let updater = open_configured(store.path(), &metadata, &targets, toml).unwrap();
    let found = "deep/shallow.bin"; // in d10 (scenario.json)
    let mut target = ptr::null_mut();
    // SAFETY: a live updater, a valid name and out pointer, freed once.
    let rc = unsafe { dha_updater_get_target(updater, c(found).as_ptr(), &mut target) };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND, "{found}");
    // SAFETY: as above.
    unsafe { dha_updater_free(updater) };
    let updater = open(store.path(), &metadata, &targets).unwrap();
    // SAFETY: as above.
    unsafe {
        let rc = dha_updater_get_target(updater, c(found).as_ptr(), &mut target);
        assert_eq!(rc, dha_result::DHA_OK, "{found}: {}", last_error());
        dha_target_free(target);
        dha_updater_free(updater);
    }

    // Plain http only with the switch; a configured CA bundle is read
    // when the updater is made, and named when it cannot be.
    let store = seeded("basic-ed25519");
    let http = "http://127.0.0.1:9/metadata";
    let rc = open(store.path(), http, &targets).unwrap_err();
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
    assert!(
        last_error().contains("allow_plain_http"),
        "{}",
        last_error()
    );
    let toml = c"[update]\nallow_plain_http = true\nconnect_timeout_secs = 1\n";
    let updater = open_configured(store.path(), http, &targets, toml).unwrap();
    // SAFETY: a live updater, freed once.
    unsafe { dha_updater_free(updater) };
    let toml = c"[update]\nca_bundle = \"/nonexistent/dha-ca.pem\"\n";
    let rc = open_configured(store.path(), "https://127.0.0.1:9/m", &targets, toml).unwrap_err();
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
    assert!(
        last_error().contains("/nonexistent/dha-ca.pem"),
        "{}",
        last_error()
    );
}

#[test]
fn an_expired_timestamp_has_its_own_number_and_names_the_role() {
    let store = seeded("expired-timestamp");
    let updater = open_scenario(store.path(), "expired-timestamp");
    // SAFETY: a live updater, freed once.
    unsafe {
        assert_eq!(
            dha_updater_refresh(updater),
            dha_result::DHA_ERR_UPDATE_EXPIRED
        );
        dha_updater_free(updater);
    }
    assert_eq!(
        last_error(),
        "dha_updater_refresh: timestamp: metadata has expired"
    );
}

#[test]
fn setup_errors_are_named() {
    // A directory never initialised.
    let empty = tempfile::tempdir().unwrap();
    let repo = reference("basic-ed25519");
    let m = repo.join("metadata");
    let rc = open(empty.path(), m.to_str().unwrap(), m.to_str().unwrap()).unwrap_err();
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT);
    // A repository directory that does not exist.
    let store = seeded("basic-ed25519");
    let rc = open(
        store.path(),
        "/nonexistent/dha/metadata",
        m.to_str().unwrap(),
    )
    .unwrap_err();
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
    assert!(
        last_error().contains("/nonexistent/dha/metadata"),
        "{}",
        last_error()
    );
    let rc = open(store.path(), "http://127.0.0.1/m", m.to_str().unwrap()).unwrap_err();
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);

    // Re-seeding with another root is refused; with the same one it is not.
    let other = std::fs::read(reference("ecdsa-keys").join("client/root.json")).unwrap();
    // SAFETY: NUL-terminated path, live buffer.
    let rc = unsafe {
        dha_updater_init_root(c_path(store.path()).as_ptr(), other.as_ptr(), other.len())
    };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED);
    let junk = b"{not json";
    let fresh = tempfile::tempdir().unwrap();
    // SAFETY: as above.
    let rc =
        unsafe { dha_updater_init_root(c_path(fresh.path()).as_ptr(), junk.as_ptr(), junk.len()) };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_MALFORMED);
    // SAFETY: the length is refused before the pointer is read.
    let rc =
        unsafe { dha_updater_init_root(c_path(fresh.path()).as_ptr(), junk.as_ptr(), 512_001) };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE);

    // https needs a CA bundle before any fetch; a missing bundle file is
    // refused and leaves the updater as it was.
    let updater = open(
        store.path(),
        "https://127.0.0.1:9/metadata",
        m.to_str().unwrap(),
    )
    .unwrap();
    // SAFETY: a live updater, freed once.
    unsafe {
        assert_eq!(
            dha_updater_refresh(updater),
            dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE
        );
        let rc = dha_updater_set_ca_bundle(updater, c"/nonexistent/ca.pem".as_ptr());
        assert_eq!(rc, dha_result::DHA_ERR_UPDATE_IO);
        assert!(
            last_error().contains("/nonexistent/ca.pem"),
            "{}",
            last_error()
        );
        assert_eq!(
            dha_updater_refresh(updater),
            dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE
        );
        dha_updater_free(updater);
    }
}

#[test]
fn null_arguments_are_refused_and_frees_accept_null() {
    let mut n = 0usize;
    // SAFETY: NULL pointers are refused before any access.
    unsafe {
        assert_eq!(
            dha_updater_init_root(ptr::null(), c"{}".as_ptr().cast(), 2),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_updater_init_root(c"/tmp".as_ptr(), ptr::null(), 0),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert!(last_error().contains("`root_json`"));
        assert_eq!(
            dha_updater_new(
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null_mut()
            ),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_updater_refresh(ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert!(last_error().contains("`updater`"));
        assert_eq!(
            dha_updater_get_target(ptr::null_mut(), c"x".as_ptr(), &mut ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_updater_download_target(ptr::null_mut(), ptr::null(), ptr::null()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_updater_set_ca_bundle(ptr::null_mut(), c"x".as_ptr()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_updater_set_progress_callback(ptr::null_mut(), None, ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert!(dha_target_name(ptr::null()).is_null());
        assert_eq!(dha_target_length(ptr::null()), 0);
        assert_eq!(
            dha_target_hash(ptr::null(), c"sha256".as_ptr(), ptr::null_mut(), 0, &mut n),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_target_custom_json(ptr::null(), ptr::null_mut(), 0, &mut n),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        dha_updater_free(ptr::null_mut());
        dha_target_free(ptr::null_mut());
    }
}
