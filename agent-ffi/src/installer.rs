//! `dha_installer`: installing a TUF-verified update into the inactive slot
//! of an A/B pair through the C ABI (issue 5, "Slots and install"), over
//! `dha_core::install::Installer`.
//!
//! The flow an integrator follows:
//! 1. `dha_updater_*` refreshes the metadata and downloads the target (it
//!    is verified there: TUF 1.0.34 §5.7);
//! 2. `dha_installer_new` takes the `[install]` section of a configuration
//!    (the slots, the journal, the anti-rollback floor, the hooks) and a
//!    `dha_boot`; an install a crash interrupted is settled first;
//! 3. `dha_installer_install` takes the updater that verified the target,
//!    the target's name and the downloaded file. The target's length,
//!    SHA-256 and release counter come from the updater's verified
//!    metadata, never from the file; the file is re-hashed while it is
//!    streamed into the slot, and the slot is read back and hashed again.
//!    Then the boot order names the new slot first;
//! 4. after the reboot, the running system's health check calls
//!    `dha_boot_mark_good` (or the boot counter runs out and the boot loader
//!    falls back).
//!
//! Every [`InstallError`] variant has its own `dha_result` number in
//! 520–599 (`DHA_ERR_INSTALL_*`; the boot loader's failures keep their
//! `DHA_ERR_BOOT_*`); a variant added later gets the generic
//! `DHA_ERR_INSTALL` (520).
//!
//! Events: an install produces `update.installed` (success) or
//! `install.failed` / `update.rejected` (failure), dispatched to the
//! callbacks registered on the configuration (`dha_hooks_register`) and
//! the `[recovery]` policy.

use crate::boot::{Backend, boot_code, dha_boot};
use crate::boundary::{OutBuf, ffi_free, ffi_result, free_box, try_out, try_ref, try_str};
use crate::config::dha_config;
use crate::error::Error;
use crate::hooks::EventSink;
use crate::result::dha_result;
use crate::updater::dha_updater;
use dha_core::Severity;
use dha_core::events::{Event, EventKind};
use dha_core::install::{
    HookContext, HookFn, InstallError, InstallPolicy, InstallTarget, Installer, Recovery,
};
use std::ffi::{CString, c_char, c_int, c_void};
use std::path::Path;

/// The longest path or target name accepted by the `dha_installer_*`
/// functions, in bytes (NUL excluded): Linux's `PATH_MAX` (4096) less its
/// NUL.
pub const DHA_INSTALLER_ARG_MAX: usize = 4095;

/// The version of the JSON that `dha_installer_status_json` writes.
const STATUS_SCHEMA_VERSION: u32 = 1;

impl From<InstallError> for Error {
    fn from(e: InstallError) -> Self {
        if let InstallError::Boot(b) = &e {
            return Error::new(boot_code(b), e.to_string());
        }
        // By the failure's stable short code (`InstallError::code`, also
        // the `reason` of its event), so that variants the installer adds
        // or merges keep their numbers; a code added later gets the
        // generic DHA_ERR_INSTALL, with its detail.
        let code = match e.code() {
            "config" => dha_result::DHA_ERR_INSTALL_CONFIG,
            "target" => dha_result::DHA_ERR_INSTALL_TARGET,
            "rollback" => dha_result::DHA_ERR_INSTALL_ROLLBACK,
            "veto" => dha_result::DHA_ERR_INSTALL_VETOED,
            "source-mismatch" => dha_result::DHA_ERR_INSTALL_SOURCE_MISMATCH,
            "read-back" => dha_result::DHA_ERR_INSTALL_READ_BACK,
            "io" => dha_result::DHA_ERR_INSTALL_IO,
            "journal" => dha_result::DHA_ERR_INSTALL_JOURNAL,
            "floor" => dha_result::DHA_ERR_INSTALL_FLOOR,
            "refused" => dha_result::DHA_ERR_INSTALL_REFUSED,
            "unsupported" => dha_result::DHA_ERR_INSTALL_UNSUPPORTED,
            "locked" => dha_result::DHA_ERR_INSTALL_LOCKED,
            "unsafe-archive" => dha_result::DHA_ERR_INSTALL_UNSAFE_ARCHIVE,
            _ => dha_result::DHA_ERR_INSTALL,
        };
        Error::new(code, e.to_string())
    }
}

/// An install hook: called before anything is written (`phase` is
/// `"pre-install"`) and after the slot was written and read back, before
/// the boot order is switched (`"post-install"`), after the hook
/// executables of the `[install]` section.
///
/// `userdata` is the pointer given to `dha_installer_set_hook`; `phase`,
/// `slot` (its name, `"B"`), `slot_path`, `target` (the TUF target name)
/// and `sha256` (its verified SHA-256, lower-case hex) are NUL-terminated
/// UTF-8 borrowed for the duration of the call only; `version` is the
/// target's release counter.
///
/// Return 0 to let the install go on; anything else vetoes it
/// (`DHA_ERR_INSTALL_VETOED`): at `pre-install` nothing was written; at
/// `post-install` the slot was written but is not switched to.
///
/// Threads: called on the thread inside `dha_installer_install`. It must
/// not throw (C++), `longjmp` out, nor call any function on the same
/// installer.
pub type dha_install_hook_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        phase: *const c_char,
        slot: *const c_char,
        slot_path: *const c_char,
        target: *const c_char,
        version: u64,
        sha256: *const c_char,
    ) -> c_int,
>;

/// The registered install hook.
#[derive(Clone, Copy)]
struct InstallHook {
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        *const c_char,
        *const c_char,
        *const c_char,
        u64,
        *const c_char,
    ) -> c_int,
    userdata: *mut c_void,
}

impl InstallHook {
    /// Calls the hook for `ctx`; `Err` is its veto.
    fn call(&self, ctx: &HookContext) -> Result<(), String> {
        // Names and hex digits hold no NUL; a path could: it is shown with
        // U+FFFD there, as dha_target_name does.
        let c = |s: &str| CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default();
        let (phase, slot, path, target, sha256) = (
            c(ctx.phase.as_str()),
            c(&ctx.slot),
            c(&ctx.slot_path.to_string_lossy()),
            c(&ctx.target),
            c(&ctx.sha256),
        );
        // SAFETY: registered together by dha_installer_set_hook, whose
        // contract makes the callback callable with that userdata on the
        // thread inside dha_installer_install (this one); the strings
        // outlive the call.
        let rc = unsafe {
            (self.callback)(
                self.userdata,
                phase.as_ptr(),
                slot.as_ptr(),
                path.as_ptr(),
                target.as_ptr(),
                ctx.version,
                sha256.as_ptr(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("the callback returned {rc}"))
        }
    }
}

/// An installer (opaque): the `[install]` section of a configuration and a
/// copy of a boot control. Made by `dha_installer_new`, released by
/// `dha_installer_free`.
///
/// Not for concurrent use: one thread at a time, and one installer per
/// device (two installs at once would race on the slots and the journal).
pub struct dha_installer {
    policy: InstallPolicy,
    boot: Backend,
    /// What `dha_installer_new` found of an interrupted install.
    recovered: Recovery,
    events: EventSink,
    hook: Option<InstallHook>,
}

// SAFETY: `dha_installer` is not `Send` only because of the hook's
// `userdata` pointer, which dha never dereferences: it is handed back to
// the hook on the thread calling `dha_installer_install`, as the header
// documents. The rest is plain data (checked below). The header forbids
// concurrent use, so only `Send` is claimed.
unsafe impl Send for dha_installer {}

const _: () = {
    const fn sendable<T: Send>() {}
    sendable::<InstallPolicy>();
    sendable::<Backend>();
    sendable::<Recovery>();
    sendable::<EventSink>();
};

/// What [`Recovery`] says, as JSON (null when nothing was interrupted).
fn recovery_json(r: &Recovery) -> serde_json::Value {
    match r {
        Recovery::Clean => serde_json::Value::Null,
        Recovery::Interrupted { slot, phase } => serde_json::json!({
            "outcome": "interrupted", "slot": slot, "phase": phase.as_str(),
        }),
        Recovery::NotSwitched { slot } => serde_json::json!({
            "outcome": "not_switched", "slot": slot,
        }),
        Recovery::Completed { slot } => serde_json::json!({
            "outcome": "completed", "slot": slot,
        }),
    }
}

/// Makes an installer over the `[install]` section of `config` (see
/// `dha.example.toml`: `slots`, the A/B pair, each an image file or a block
/// device; `recovery`; `journal`; `floor`; `boot_tries`;
/// `pre_install_hook` and `post_install_hook`) and a copy of `boot` (the
/// boot loader's environment). Both are copied: `config` and `boot` may be
/// freed as soon as this returns. The callbacks registered on `config`
/// (`dha_hooks_register`), now and later, receive its events.
///
/// An install a crash interrupted is settled now, as the journal says:
/// before its slot was verified, the slot stays bad and is never booted;
/// verified but not switched, the slot holds a good image but is not
/// booted; switched, the install is completed (the floor raised).
/// `dha_installer_status_json` reports what was found.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INSTALL_CONFIG` (no A/B pair
/// configured; the detail names the dotted key), `DHA_ERR_INSTALL_JOURNAL`,
/// `DHA_ERR_INSTALL_FLOOR`, `DHA_ERR_BOOT_READ`, `DHA_ERR_BOOT_WRITE`.
///
/// # Safety
///
/// `config` is NULL or a live `dha_config`; `boot` is NULL or a live
/// `dha_boot`; `out` is NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_installer_new(
    config: *const dha_config,
    boot: *const dha_boot,
    out: *mut *mut dha_installer,
) -> dha_result {
    ffi_result("dha_installer_new", || {
        let config = try_ref!(config);
        let boot = try_ref!(boot);
        let out = try_out!(out);
        let policy = config.config.install.clone();
        let backend = boot.backend.clone();
        let (_, recovered) = Installer::open(&policy, backend.control())?;
        if recovered != Recovery::Clean {
            log::warn!("install journal: an interrupted install was settled: {recovered:?}");
        }
        out.write(Box::into_raw(Box::new(dha_installer {
            policy,
            boot: backend,
            recovered,
            events: EventSink::new(config),
            hook: None,
        })));
        Ok(())
    })
}

/// Installs the target named `target_name`, whose bytes are in the file
/// `file_path`, into the inactive slot, and switches the boot order to it.
///
/// The target is looked up in the verified metadata of `updater`
/// (refreshing it first if it has not completed an update cycle): its
/// length, SHA-256 and release counter (`custom.release_counter`, which
/// the target must list) come from there, never from the file. Then, each
/// step journaled durably so that a power cut at any point leaves the
/// running slot untouched and bootable:
/// 1. a release counter below the device's anti-rollback floor is refused
///    before anything is written (`DHA_ERR_INSTALL_ROLLBACK`);
/// 2. the pre-install hook executable (`[install] pre_install_hook`), then
///    the hook callback (`dha_installer_set_hook`), may veto;
/// 3. the target slot's tries are set to 0 (the boot loader skips it);
/// 4. the file is streamed into the slot, re-hashed on the way, and
///    fsynced; a file that is not the verified target is refused
///    (`DHA_ERR_INSTALL_SOURCE_MISMATCH`);
/// 5. the slot is read back and its SHA-256 compared
///    (`DHA_ERR_INSTALL_READ_BACK`);
/// 6. the post-install hook executable, then the hook callback, may veto
///    the switch;
/// 7. the boot order names the new slot first with `[install] boot_tries`
///    tries (read back);
/// 8. the floor is raised to the target's release counter.
///
/// The slot written is the A/B slot that is not running (the running slot
/// is the boot control's; when unknown, the first bootable in the boot
/// order). Blocks until done. The event `update.installed` (or, on
/// failure, `install.failed` or `update.rejected`: also when the updater
/// refuses or cannot find the target) is dispatched to the callbacks
/// registered on the configuration the installer was made with.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a string longer than
/// `DHA_INSTALLER_ARG_MAX`), the updater's (`DHA_ERR_UPDATE_*`, e.g.
/// `DHA_ERR_UPDATE_TARGET_NOT_FOUND`), `DHA_ERR_INSTALL_TARGET`,
/// `DHA_ERR_INSTALL_ROLLBACK`, `DHA_ERR_INSTALL_VETOED`,
/// `DHA_ERR_INSTALL_SOURCE_MISMATCH`, `DHA_ERR_INSTALL_READ_BACK`,
/// `DHA_ERR_INSTALL_IO`, `DHA_ERR_INSTALL_JOURNAL`,
/// `DHA_ERR_INSTALL_FLOOR`, `DHA_ERR_INSTALL_REFUSED`,
/// `DHA_ERR_INSTALL_UNSUPPORTED`, `DHA_ERR_INSTALL_CONFIG`, and the boot
/// loader's `DHA_ERR_BOOT_*`.
///
/// # Safety
///
/// `installer` is NULL or a live `dha_installer` and `updater` NULL or a
/// live `dha_updater`, neither used by another thread during the call;
/// `target_name` and `file_path` are NULL or NUL-terminated strings (read
/// up to their NUL or `DHA_INSTALLER_ARG_MAX + 1` bytes) unchanged during
/// the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_installer_install(
    installer: *mut dha_installer,
    updater: *mut dha_updater,
    target_name: *const c_char,
    file_path: *const c_char,
) -> dha_result {
    ffi_result("dha_installer_install", || {
        // SAFETY: the caller guarantees exclusive use of a live installer.
        let installer = unsafe { installer.as_mut() }.ok_or_else(|| Error::null("installer"))?;
        // SAFETY: the caller guarantees exclusive use of a live updater.
        let updater = unsafe { updater.as_mut() }.ok_or_else(|| Error::null("updater"))?;
        let name = try_str!(target_name, DHA_INSTALLER_ARG_MAX);
        let file = Path::new(try_str!(file_path, DHA_INSTALLER_ARG_MAX));
        let info = match updater.verified_target_info(name) {
            Ok(info) => info,
            Err(e) => {
                // As `dha install` records it: the TUF client refused (or
                // could not find) the target.
                installer.events.dispatch(vec![
                    Event::new(EventKind::UpdateRejected, Severity::High)
                        .with("target", name)
                        .with("reason", "verification")
                        .with("error", e.detail.as_str()),
                ]);
                return Err(e);
            }
        };
        let result = InstallTarget::from_verified(&info).and_then(|target| {
            let (inst, _) = Installer::open(&installer.policy, installer.boot.control())?;
            let mut call = installer.hook.map(|h| move |ctx: &HookContext| h.call(ctx));
            let hook = call.as_mut().map(|c| c as &mut HookFn<'_>);
            let report = inst.install(&target, file, hook)?;
            Ok((target, report))
        });
        match result {
            Ok((target, report)) => {
                log::info!(
                    "installed {} (release {}, {} bytes) into slot {}; running: {}",
                    target.name(),
                    target.release_counter(),
                    report.bytes,
                    report.slot,
                    report.booted
                );
                installer.events.dispatch(vec![report.event()]);
                Ok(())
            }
            Err(e) => {
                installer.events.dispatch(vec![e.event(name)]);
                Err(e.into())
            }
        }
    })
}

/// Registers `callback` as the install hook of `installer` (see
/// `dha_install_hook_callback`: it may veto an install), replacing any
/// earlier one; `callback == NULL` removes it (then `userdata` is
/// ignored). Once this returns, the previous hook is not called any more.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`installer`).
///
/// # Safety
///
/// `installer` is NULL or a live `dha_installer` not used by another thread
/// during the call; `callback`, when not NULL, may be called with
/// `userdata` by every later `dha_installer_install` on this installer, on
/// whichever thread calls it, until it is replaced or the installer freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_installer_set_hook(
    installer: *mut dha_installer,
    callback: dha_install_hook_callback,
    userdata: *mut c_void,
) -> dha_result {
    ffi_result("dha_installer_set_hook", || {
        // SAFETY: the caller guarantees exclusive use of a live installer.
        let installer = unsafe { installer.as_mut() }.ok_or_else(|| Error::null("installer"))?;
        installer.hook = callback.map(|callback| InstallHook { callback, userdata });
        Ok(())
    })
}

/// Copies the state of the slots as compact JSON, and a NUL, into `buf`:
///
/// ```json
/// {"schema_version":1,"recovered":null,
///  "slots":[{"name":"A","kind":"image","path":"/data/slot-a.img","content":"good",
///            "image":null,"active":false,"booted":true,"tries_left":3},
///           {"name":"B","kind":"image","path":"/data/slot-b.img","content":"good",
///            "image":{"target":"firmware.img","release_counter":7,"sha256":"…","length":1048576},
///            "active":true,"booted":false,"tries_left":3}]}
/// ```
///
/// Per slot (the A/B pair, then the recovery slot if configured): its
/// configuration; `content` from the install journal (`good`: a complete
/// image read back and checked, or the slot the device shipped with;
/// `bad`: unknown or partial); `image`, the target it holds when known;
/// `active`, the boot loader tries it first (of the slots with tries left);
/// `booted`, it is running; `tries_left`, null when the boot loader does not
/// list it. `recovered` says what `dha_installer_new` found of an
/// interrupted install: null, or `{"outcome":"interrupted","slot":…,
/// "phase":…}`, `{"outcome":"not_switched","slot":…}` or
/// `{"outcome":"completed","slot":…}`.
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size needed, NUL included; when `len` is smaller nothing is copied
/// and the result is `DHA_ERR_INSUFFICIENT_SIZE`; `buf == NULL, len == 0`
/// asks for the size. Each call reads the journal and the boot loader's
/// environment again.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`installer` or `out_needed` NULL, or
/// `buf` NULL with `len > 0`), `DHA_ERR_INSTALL_JOURNAL`,
/// `DHA_ERR_BOOT_READ`, `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `installer` is NULL or a live `dha_installer` not used by another
/// thread during the call; `buf` is NULL or valid for writes of `len`
/// bytes; `out_needed` is NULL or valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_installer_status_json(
    installer: *const dha_installer,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_installer_status_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let installer = try_ref!(installer);
        let out_needed = try_out!(out_needed);
        let (inst, _) = Installer::open(&installer.policy, installer.boot.control())?;
        let slots: Vec<serde_json::Value> = inst
            .status()?
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.config.name,
                    "kind": s.config.kind.as_str(),
                    "path": s.config.path.display().to_string(),
                    "content": match s.content {
                        dha_core::install::ContentState::Good => "good",
                        dha_core::install::ContentState::Bad => "bad",
                    },
                    "image": s.image.as_ref().map(|i| serde_json::json!({
                        "target": i.target,
                        "release_counter": i.release_counter,
                        "sha256": i.sha256,
                        "length": i.length,
                    })),
                    "active": s.active,
                    "booted": s.booted,
                    "tries_left": s.tries_left,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema_version": STATUS_SCHEMA_VERSION,
            "recovered": recovery_json(&installer.recovered),
            "slots": slots,
        });
        buf.copy_whole_or_size_error(&doc.to_string(), out_needed, "the install status JSON")
    })
}

/// Releases an installer. NULL is accepted and ignored. The slots, the
/// journal and the boot loader's environment are not touched.
///
/// # Safety
///
/// `installer` is NULL or a handle from `dha_installer_new` not yet freed,
/// and no other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_installer_free(installer: *mut dha_installer) {
    ffi_free("dha_installer_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(installer) }
    })
}

#[cfg(test)]
mod tests;
