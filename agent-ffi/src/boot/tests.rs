use super::*;
use crate::error::last_error;
use std::ffi::CString;
use std::path::Path;
use std::ptr;

fn c_path(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

/// A file-backed handle over `path`.
fn file_boot(path: &Path) -> *mut dha_boot {
    let mut boot = ptr::null_mut();
    // SAFETY: a NUL-terminated path and a valid out pointer.
    let rc = unsafe { dha_boot_new_file(c_path(path).as_ptr(), &mut boot) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    boot
}

fn status(boot: *const dha_boot) -> serde_json::Value {
    let mut needed = 0usize;
    // SAFETY: a size query: NULL with length 0.
    let rc = unsafe { dha_boot_status_json(boot, ptr::null_mut(), 0, &mut needed) };
    assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
    let mut buf = vec![0x55 as c_char; needed];
    // SAFETY: buf holds `needed` writable bytes.
    let rc = unsafe { dha_boot_status_json(boot, buf.as_mut_ptr(), buf.len(), &mut needed) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(buf[needed - 1], 0);
    // SAFETY: NUL-terminated on success.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    serde_json::from_slice(text.to_bytes()).unwrap()
}

#[test]
fn mark_good_bad_and_switch_over_the_file_back_end() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bootenv");
    std::fs::write(
        &env,
        "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOTED=A\n",
    )
    .unwrap();
    let boot = file_boot(&env);

    let st = status(boot);
    assert_eq!(st["schema_version"], 1);
    assert_eq!(st["boot_order"], serde_json::json!(["A", "B"]));
    assert_eq!(st["booted"], "A");
    assert_eq!(st["next_boot"], "A");

    // SAFETY: live handle, NUL-terminated slot name.
    let rc = unsafe { dha_boot_switch(boot, c"B".as_ptr(), 3) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(status(boot)["next_boot"], "B");

    // NULL: the running slot (BOOTED=A) is marked good; B stays first.
    // SAFETY: live handle; NULL slot is allowed.
    let rc = unsafe { dha_boot_mark_good(boot, ptr::null(), 2) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(
        text.contains("BOOT_A_LEFT=2") && text.contains("BOOTED=A"),
        "{text}"
    );

    // SAFETY: live handle, NUL-terminated slot name.
    let rc = unsafe { dha_boot_mark_bad(boot, c"B".as_ptr()) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    let st = status(boot);
    assert_eq!(st["boot_order"], serde_json::json!(["A"]));
    assert_eq!(st["slots"][1]["slot"], "B");
    assert!(st["slots"][1]["position"].is_null());

    // Marking A bad too would leave nothing to boot: refused, unchanged.
    let before = std::fs::read(&env).unwrap();
    // SAFETY: as above.
    let rc = unsafe { dha_boot_mark_bad(boot, c"A".as_ptr()) };
    assert_eq!(rc, dha_result::DHA_ERR_BOOT_REFUSED);
    assert!(
        last_error().contains("no slot with tries left"),
        "{}",
        last_error()
    );
    assert_eq!(std::fs::read(&env).unwrap(), before);

    // Unknown and unspellable slots.
    // SAFETY: as above.
    let rc = unsafe { dha_boot_switch(boot, c"C".as_ptr(), 3) };
    assert_eq!(rc, dha_result::DHA_ERR_BOOT_REFUSED);
    // SAFETY: as above.
    let rc = unsafe { dha_boot_switch(boot, c"A B".as_ptr(), 3) };
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
    // SAFETY: as above; not UTF-8.
    let rc = unsafe { dha_boot_mark_bad(boot, c"\xff".as_ptr()) };
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_UTF8);
    // SAFETY: made above, freed once.
    unsafe { dha_boot_free(boot) };
}

#[test]
fn unreadable_environments_and_null_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("missing");
    let boot = file_boot(&env);
    let mut needed = 0usize;
    let mut buf = [0 as c_char; 16];
    // SAFETY: live handle, buf of 16 bytes.
    let rc = unsafe { dha_boot_status_json(boot, buf.as_mut_ptr(), buf.len(), &mut needed) };
    assert_eq!(rc, dha_result::DHA_ERR_BOOT_READ);
    assert!(last_error().contains("missing"), "{}", last_error());
    // No running slot known and none named.
    std::fs::write(&env, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
    // SAFETY: live handle, NULL slot allowed.
    let rc = unsafe { dha_boot_mark_good(boot, ptr::null(), 3) };
    assert_eq!(rc, dha_result::DHA_ERR_INVALID_ARGUMENT);
    assert!(last_error().contains("name the slot"), "{}", last_error());
    // SAFETY: made above, freed once.
    unsafe { dha_boot_free(boot) };

    let mut out = ptr::null_mut();
    // SAFETY: NULL arguments are refused before any access.
    unsafe {
        assert_eq!(
            dha_boot_new_file(ptr::null(), &mut out),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_boot_new_file(c"".as_ptr(), &mut out),
            dha_result::DHA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            dha_boot_new_file(c"/x".as_ptr(), ptr::null_mut()),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_boot_new_grub(ptr::null(), ptr::null(), ptr::null(), &mut out),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_boot_switch(ptr::null(), c"A".as_ptr(), 3),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            dha_boot_mark_good(ptr::null(), ptr::null(), 3),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        dha_boot_free(ptr::null_mut());
    }
    assert!(out.is_null(), "no output on failure");
}

/// A fake `grub-editenv` (RAUC's test approach: fake boot-loader tools):
/// `FILE list` prints the file, `FILE set K=V…` replaces those variables.
#[test]
fn grub_back_end_runs_its_tool_and_reads_back() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("grub-editenv");
    std::fs::write(
        &tool,
        "#!/bin/sh\nf=\"$1\"; shift; cmd=\"$1\"; shift\n\
         case \"$cmd\" in\n\
         list) cat \"$f\" ;;\n\
         set) for kv in \"$@\"; do k=\"${kv%%=*}\"; grep -v \"^$k=\" \"$f\" > \"$f.new\"; \
         echo \"$kv\" >> \"$f.new\"; mv \"$f.new\" \"$f\"; done ;;\n\
         *) exit 2 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = dir.path().join("grubenv");
    std::fs::write(&env, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
    let cmdline = dir.path().join("cmdline");
    std::fs::write(&cmdline, "root=/dev/sda2 rauc.slot=B quiet\n").unwrap();
    let mut boot = ptr::null_mut();
    // SAFETY: NUL-terminated strings, a valid out pointer.
    let rc = unsafe {
        dha_boot_new_grub(
            c_path(&env).as_ptr(),
            c_path(&tool).as_ptr(),
            c_path(&cmdline).as_ptr(),
            &mut boot,
        )
    };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    assert_eq!(status(boot)["booted"], "B");
    // SAFETY: live handle, NULL slot: the running one (B).
    let rc = unsafe { dha_boot_mark_bad(boot, ptr::null()) };
    assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
    let st = status(boot);
    assert_eq!(st["boot_order"], serde_json::json!(["A"]));
    assert_eq!(st["next_boot"], "A");
    // SAFETY: made above, freed once.
    unsafe { dha_boot_free(boot) };
}

#[test]
fn the_back_end_can_come_from_the_configuration() {
    use crate::config::{dha_config_free, dha_config_new_default, dha_config_new_from_toml};
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bootenv");
    std::fs::write(&env, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
    let toml = CString::new(format!(
        "[boot]\nbackend = \"file\"\nenv = {:?}\n",
        env.to_str().unwrap()
    ))
    .unwrap();
    let (mut cfg, mut boot) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: valid strings and out pointers; each handle freed once.
    unsafe {
        assert_eq!(
            dha_config_new_from_toml(toml.as_ptr(), &mut cfg),
            dha_result::DHA_OK
        );
        assert_eq!(dha_boot_new_from_config(cfg, &mut boot), dha_result::DHA_OK);
        dha_config_free(cfg);
        assert_eq!(status(boot)["boot_order"], serde_json::json!(["A", "B"]));
        dha_boot_free(boot);
        boot = ptr::null_mut();
        assert_eq!(dha_config_new_default(&mut cfg), dha_result::DHA_OK);
        assert_eq!(
            dha_boot_new_from_config(cfg, &mut boot),
            dha_result::DHA_ERR_BOOT_REFUSED
        );
        assert!(last_error().contains("boot.backend"), "{}", last_error());
        assert!(boot.is_null());
        assert_eq!(
            dha_boot_new_from_config(ptr::null(), &mut boot),
            dha_result::DHA_ERR_NULL_ARGUMENT
        );
        dha_config_free(cfg);
    }
}
