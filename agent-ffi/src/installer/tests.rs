use super::*;
use crate::boot::{dha_boot_free, dha_boot_new_file};
use crate::config::{dha_config_free, dha_config_new_from_toml};
use crate::error::last_error;
use crate::hooks::{DHA_EVENT_INSTALL, DHA_EVENT_UPDATE, dha_hooks_register};
use crate::report::dha_severity;
use crate::updater::{dha_updater_free, dha_updater_init_root, dha_updater_new};
use dha_core::Clock as _;
use dha_core::tuf::repo::{InitOptions, Repository};
use std::ffi::{CStr, CString, c_int, c_void};
use std::path::PathBuf;
use std::ptr;

fn c(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

/// A signed repository with `firmware.img` (release 5) and `old.img`
/// (release 3), and the device's files: two image slots, the boot
/// environment (A running), the journal and the floor.
struct Rig {
    dir: tempfile::TempDir,
    repo: Repository,
    firmware: Vec<u8>,
}

impl Rig {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let now = dha_core::SystemClock.now();
    let mut repo =
        Repository::init(&dir.path().join("repo"), &InitOptions::default(), now).unwrap();
    let firmware: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    for (name, bytes, release) in [
        ("firmware.img", firmware.clone(), 5),
        ("old.img", b"an older image".to_vec(), 3),
    ] {
        let src = dir.path().join(name);
        std::fs::write(&src, &bytes).unwrap();
        repo.add_target(
            &src,
            name,
            None,
            Some(serde_json::json!({ "release_counter": release })),
            now,
        )
        .unwrap();
    }
    repo.publish(now).unwrap();
    std::fs::write(
        dir.path().join("bootenv"),
        "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("slot-a.img"), b"the running image").unwrap();
    Rig {
        dir,
        repo,
        firmware,
    }
}

fn config(r: &Rig) -> *mut dha_config {
    let toml = format!(
        "[eventlog]\npath = {:?}\nkey = {:?}\n[install]\njournal = {:?}\nfloor = {:?}\nslots = [\n  {{ name = \"A\", kind = \"image\", path = {:?} }},\n  {{ name = \"B\", kind = \"image\", path = {:?} }},\n]\n",
        r.path("events.log"),
        r.path("events.key"),
        r.path("install.journal"),
        r.path("install.floor"),
        r.path("slot-a.img"),
        r.path("slot-b.img"),
    );
    let toml = CString::new(toml).unwrap();
    let mut cfg = ptr::null_mut();
    // SAFETY: a NUL-terminated document and a valid out pointer.
    let rc = unsafe { dha_config_new_from_toml(toml.as_ptr(), &mut cfg) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    cfg
}

fn updater(r: &Rig, cfg: *const dha_config) -> *mut dha_updater {
    let store = r.path("metadata");
    let root = std::fs::read(r.repo.metadata_dir().join("1.root.json")).unwrap();
    let mut u = ptr::null_mut();
    // SAFETY: NUL-terminated strings, a live buffer, a valid out pointer.
    unsafe {
        let rc = dha_updater_init_root(c(&store).as_ptr(), root.as_ptr(), root.len());
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        let rc = dha_updater_new(
            cfg,
            c(&store).as_ptr(),
            c(&r.repo.metadata_dir()).as_ptr(),
            c(&r.repo.targets_dir()).as_ptr(),
            &mut u,
        );
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    }
    u
}

fn status(inst: *const dha_installer) -> serde_json::Value {
    let mut buf = vec![0 as c_char; 4096];
    let mut needed = 0;
    // SAFETY: a live handle and 4096 writable bytes.
    let rc = unsafe { dha_installer_status_json(inst, buf.as_mut_ptr(), buf.len(), &mut needed) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    // SAFETY: NUL-terminated on success.
    serde_json::from_str(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap()).unwrap()
}

unsafe extern "C" fn on_event(
    userdata: *mut c_void,
    kind: *const c_char,
    _severity: dha_severity,
    payload: *const c_char,
    _logged: bool,
    _seq: u64,
) -> c_int {
    // SAFETY: the test passes a live Vec; the strings are live during the call.
    let seen = unsafe { &mut *userdata.cast::<Vec<(String, String)>>() };
    // SAFETY: as above.
    let (kind, payload) = unsafe { (CStr::from_ptr(kind), CStr::from_ptr(payload)) };
    seen.push((
        kind.to_str().unwrap().to_owned(),
        payload.to_str().unwrap().to_owned(),
    ));
    0
}

/// Records `phase slot target version`; vetoes when the list starts with
/// "veto".
unsafe extern "C" fn on_hook(
    userdata: *mut c_void,
    phase: *const c_char,
    slot: *const c_char,
    slot_path: *const c_char,
    target: *const c_char,
    version: u64,
    sha256: *const c_char,
) -> c_int {
    // SAFETY: the test passes a live Vec; the strings are live during the call.
    let seen = unsafe { &mut *userdata.cast::<Vec<String>>() };
    // SAFETY: as above.
    let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    assert!(s(slot_path).ends_with(".img"));
    assert_eq!(s(sha256).len(), 64);
    if seen.first().is_some_and(|v| v == "veto") {
        return 1;
    }
    seen.push(format!("{} {} {} {version}", s(phase), s(slot), s(target)));
    0
}

#[test]
fn installs_a_verified_target_into_the_other_slot_and_refuses_older_ones() {
    let r = rig();
    let cfg = config(&r);
    let mut seen: Vec<(String, String)> = Vec::new();
    let (mut boot, mut inst) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: live config, valid strings and out pointers, `seen` outlives
    // the installs.
    unsafe {
        let rc = dha_hooks_register(
            cfg,
            DHA_EVENT_UPDATE | DHA_EVENT_INSTALL,
            Some(on_event),
            (&raw mut seen).cast(),
        );
        assert_eq!(rc, dha_result::DHA_OK);
        assert_eq!(
            dha_boot_new_file(c(&r.path("bootenv")).as_ptr(), &mut boot),
            dha_result::DHA_OK
        );
        let rc = dha_installer_new(cfg, boot, &mut inst);
        assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
        // The installer keeps copies.
        dha_boot_free(boot);
    }
    let upd = updater(&r, cfg);
    // SAFETY: freed once; the updater and installer keep copies.
    unsafe { dha_config_free(cfg) };
    let st = status(inst);
    assert!(st["recovered"].is_null());
    assert_eq!(st["slots"][0]["booted"], true);

    let mut phases: Vec<String> = Vec::new();
    // SAFETY: live handle; `phases` outlives the installs.
    let rc = unsafe { dha_installer_set_hook(inst, Some(on_hook), (&raw mut phases).cast()) };
    assert_eq!(rc, dha_result::DHA_OK);
    let file = r.repo.targets_dir().join("firmware.img");
    // SAFETY: live handles, NUL-terminated strings.
    let rc =
        unsafe { dha_installer_install(inst, upd, c"firmware.img".as_ptr(), c(&file).as_ptr()) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(std::fs::read(r.path("slot-b.img")).unwrap(), r.firmware);
    let env = std::fs::read_to_string(r.path("bootenv")).unwrap();
    assert!(
        env.contains("BOOT_ORDER=B A") && env.contains("BOOT_B_LEFT=3"),
        "{env}"
    );
    let st = status(inst);
    assert_eq!(st["slots"][1]["name"], "B");
    assert_eq!(st["slots"][1]["content"], "good");
    assert_eq!(st["slots"][1]["active"], true);
    assert_eq!(st["slots"][1]["image"]["release_counter"], 5);
    assert_eq!(
        phases,
        [
            "pre-install B firmware.img 5",
            "post-install B firmware.img 5"
        ]
    );
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, "update.installed");
    assert!(seen[0].1.contains("\"slot\":\"B\""), "{}", seen[0].1);

    // Older than the floor (5): refused before anything is written.
    let old = r.repo.targets_dir().join("old.img");
    // SAFETY: as above.
    let rc = unsafe { dha_installer_install(inst, upd, c"old.img".as_ptr(), c(&old).as_ptr()) };
    assert_eq!(rc, dha_result::DHA_ERR_INSTALL_ROLLBACK, "{}", last_error());
    assert_eq!(seen.last().unwrap().0, "update.rejected");
    // Not the verified bytes.
    // SAFETY: as above.
    let rc =
        unsafe { dha_installer_install(inst, upd, c"firmware.img".as_ptr(), c(&old).as_ptr()) };
    assert_eq!(
        rc,
        dha_result::DHA_ERR_INSTALL_SOURCE_MISMATCH,
        "{}",
        last_error()
    );
    // A veto: nothing written at pre-install.
    phases.clear();
    phases.push("veto".to_owned());
    let before = std::fs::read(r.path("slot-b.img")).unwrap();
    // SAFETY: as above.
    let rc =
        unsafe { dha_installer_install(inst, upd, c"firmware.img".as_ptr(), c(&file).as_ptr()) };
    assert_eq!(rc, dha_result::DHA_ERR_INSTALL_VETOED, "{}", last_error());
    assert!(last_error().contains("pre-install"), "{}", last_error());
    assert_eq!(std::fs::read(r.path("slot-b.img")).unwrap(), before);
    // SAFETY: live handle; NULL removes the hook.
    let rc = unsafe { dha_installer_set_hook(inst, None, ptr::null_mut()) };
    assert_eq!(rc, dha_result::DHA_OK);
    // Not listed.
    // SAFETY: as above.
    let rc = unsafe { dha_installer_install(inst, upd, c"nope.img".as_ptr(), c(&old).as_ptr()) };
    assert_eq!(rc, dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND);
    let (kind, payload) = seen.last().unwrap();
    assert_eq!(kind, "update.rejected");
    assert!(payload.contains("\"reason\":\"verification\""), "{payload}");
    assert!(payload.contains("nope.img"), "{payload}");
    // SAFETY: NULLs are refused before any access; then each freed once.
    unsafe {
        assert_eq!(
            dha_installer_install(ptr::null_mut(), upd, c"x".as_ptr(), c"/x".as_ptr()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_installer_install(inst, ptr::null_mut(), c"x".as_ptr(), c"/x".as_ptr()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        dha_installer_free(inst);
        dha_installer_free(ptr::null_mut());
        dha_updater_free(upd);
    }
}

#[test]
fn an_installer_needs_an_ab_pair() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("env"), "BOOT_ORDER=A\nBOOT_A_LEFT=3\n").unwrap();
    let (mut cfg, mut boot, mut inst) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: valid strings and out pointers; each freed once.
    unsafe {
        assert_eq!(
            dha_config_new_from_toml(c"".as_ptr(), &mut cfg),
            dha_result::DHA_OK
        );
        assert_eq!(
            dha_boot_new_file(c(&dir.path().join("env")).as_ptr(), &mut boot),
            dha_result::DHA_OK
        );
        assert_eq!(
            dha_installer_new(cfg, boot, &mut inst),
            dha_result::DHA_ERR_INSTALL_CONFIG
        );
        assert!(last_error().contains("install.slots"), "{}", last_error());
        assert!(inst.is_null());
        assert_eq!(
            dha_installer_new(cfg, ptr::null(), &mut inst),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        dha_boot_free(boot);
        dha_config_free(cfg);
    }
}
