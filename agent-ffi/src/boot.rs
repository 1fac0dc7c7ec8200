//! `dha_boot`: boot control through the C ABI (issue 5, "Boot control"),
//! over `dha_core::boot` and the back ends of `dha_linux::boot`.
//!
//! The integrator picks the back end when making the handle, or names it
//! in the configuration's `[boot]` section (`dha_boot_new_from_config`):
//! - `dha_boot_new_file`: a text file of `KEY=VALUE` lines (test rigs);
//! - `dha_boot_new_uboot`: the U-Boot environment through `fw_printenv` /
//!   `fw_setenv` (libubootenv's own configuration says where it is);
//! - `dha_boot_new_grub`: a GRUB environment block through `grub-editenv`.
//!
//! All three keep RAUC's variables (`BOOT_ORDER`, `BOOT_<slot>_LEFT`), and
//! every write is read back and compared with what was written
//! (`DHA_ERR_BOOT_WRITE` when they differ: a "mark good" that silently did
//! not stick is a known field failure of other tools). No request may leave
//! the device without a slot with tries left (`DHA_ERR_BOOT_REFUSED`).
//!
//! Every [`BootError`] variant has its own `dha_result` number in 500–519
//! (`DHA_ERR_BOOT_*`); a variant added later gets the generic
//! `DHA_ERR_BOOT` (500).

use crate::boundary::{
    OutBuf, ffi_free, ffi_result, free_box, str_from_c, try_out, try_ref, try_str,
};
use crate::config::dha_config;
use crate::error::Error;
use crate::result::dha_result;
use dha_core::boot::{
    self, BootBackend, BootConfig, BootControl, BootError, BootPolicy, BootStatus, SlotId,
};
use dha_linux::boot::{FileBootControl, GrubEnv, UBootEnv, valid_slot_name};
use std::ffi::c_char;
use std::path::PathBuf;

/// The longest path, program name or slot name accepted by the
/// `dha_boot_*` functions, in bytes (NUL excluded): Linux's `PATH_MAX`
/// (4096) less its NUL.
pub const DHA_BOOT_ARG_MAX: usize = 4095;

/// The number of a boot-control failure.
pub(crate) fn boot_code(e: &BootError) -> dha_result {
    match e {
        BootError::Read { .. } => dha_result::DHA_ERR_BOOT_READ,
        BootError::Write { .. } => dha_result::DHA_ERR_BOOT_WRITE,
        BootError::Refused(_) => dha_result::DHA_ERR_BOOT_REFUSED,
        // BootError is non-exhaustive: a failure added later is still a
        // boot-control failure, with its detail.
        _ => dha_result::DHA_ERR_BOOT,
    }
}

impl From<BootError> for Error {
    fn from(e: BootError) -> Self {
        Error::new(boot_code(&e), e.to_string())
    }
}

/// The boot loader's environment, behind one of the back ends. Each is a
/// few paths, so the handle can be copied into a `dha_installer`.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// `dha_boot_new_file`.
    File(FileBootControl),
    /// `dha_boot_new_uboot`.
    UBoot(UBootEnv),
    /// `dha_boot_new_grub`.
    Grub(GrubEnv),
}

impl Backend {
    /// The back end as `dha_core` uses it.
    pub(crate) fn control(&self) -> &dyn BootControl {
        match self {
            Backend::File(b) => b,
            Backend::UBoot(b) => b,
            Backend::Grub(b) => b,
        }
    }
}

/// Boot control (opaque): the boot loader's environment behind the back
/// end chosen by `dha_boot_new_file`, `dha_boot_new_uboot` or
/// `dha_boot_new_grub`; released by `dha_boot_free`.
///
/// The handle itself holds only paths, but every call reads (and the
/// marking calls rewrite) the boot loader's environment: serialise the
/// calls that change it (one thread at a time, and no other program
/// writing the environment meanwhile), as with `fw_setenv`.
pub struct dha_boot {
    pub(crate) backend: Backend,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<dha_boot>();
};

/// A `&str` from an optional string argument: `None` for NULL.
///
/// # Safety
///
/// As [`str_from_c`]: `p` is NULL or a NUL-terminated string (read up to
/// its NUL or `max + 1` bytes) unchanged while the result lives.
pub(crate) unsafe fn opt_str<'a>(
    p: *const c_char,
    max: usize,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: this function's contract.
    unsafe { str_from_c(p, max, name) }.map(Some)
}

/// The slot named `name`, refused unless it can be spelled in a boot-loader
/// variable.
fn slot_id(name: &str, arg: &str) -> Result<SlotId, Error> {
    if valid_slot_name(name) {
        Ok(SlotId(name.to_owned()))
    } else {
        Err(Error::new(
            dha_result::DHA_ERR_INVALID_ARGUMENT,
            format!("argument `{arg}` ({name:?}) is not 1 to 32 letters, digits, '_' or '-'"),
        ))
    }
}

/// The slot named by `name`, or the running slot when `name` is `None`.
fn slot_or_booted(bc: &dyn BootControl, name: Option<&str>) -> Result<SlotId, Error> {
    match name {
        Some(n) => slot_id(n, "slot"),
        None => bc.booted().ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                "slot is NULL and the running slot is not known (no rauc.slot= or dha.slot= on \
                 the kernel command line, no BOOTED= line in the file): name the slot",
            )
        }),
    }
}

/// The status as JSON (the `dha boot status --format json` document
/// without its `action` and `slot`).
pub(crate) fn status_json(st: &BootStatus) -> String {
    st.to_json_value().to_string()
}

/// Writes a new handle over `backend` to `out`.
fn make(backend: Backend, out: crate::boundary::Out<'_, *mut dha_boot>) {
    out.write(Box::into_raw(Box::new(dha_boot { backend })));
}

/// Makes boot control over the text file at `env_path` (test rigs), which
/// holds RAUC's variables as lines:
///
/// ```text
/// BOOT_ORDER=A B
/// BOOT_A_LEFT=3
/// BOOT_B_LEFT=0
/// BOOTED=A
/// ```
///
/// The optional `BOOTED=` line names the running slot. Writes replace the
/// file atomically (a power cut leaves the old file or the new one),
/// keeping its other lines. The file is not read here: a missing or
/// malformed file fails the calls that read it (`DHA_ERR_BOOT_READ`). On
/// success `*out` receives a new handle, to release with `dha_boot_free`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (empty, or longer than `DHA_BOOT_ARG_MAX`).
///
/// # Safety
///
/// `env_path` is NULL or a NUL-terminated string (read up to its NUL or
/// `DHA_BOOT_ARG_MAX + 1` bytes) unchanged during the call; `out` is NULL
/// or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_new_file(
    env_path: *const c_char,
    out: *mut *mut dha_boot,
) -> dha_result {
    ffi_result("dha_boot_new_file", || {
        let path = non_empty(try_str!(env_path, DHA_BOOT_ARG_MAX), "env_path")?;
        let out = try_out!(out);
        make(Backend::File(FileBootControl::new(path)), out);
        Ok(())
    })
}

/// Makes boot control over the U-Boot environment, read with
/// `fw_printenv` and written with one `fw_setenv -s SCRIPT` call (so that
/// the tool writes every variable in one environment update, as RAUC
/// does), then read back. `fw_printenv` and `fw_setenv` are the programs
/// (absolute paths, or names looked up on `PATH`); NULL means
/// `"fw_printenv"` and `"fw_setenv"`. The running slot is the kernel
/// command line's `rauc.slot=` or `dha.slot=`, read from `cmdline_path`
/// (NULL: `/proc/cmdline`). Nothing is run here. On success `*out`
/// receives a new handle, to release with `dha_boot_free`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`out`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (empty, or longer than `DHA_BOOT_ARG_MAX`).
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_BOOT_ARG_MAX + 1` bytes) and unchanged during the call; `out` is
/// NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_new_uboot(
    fw_printenv: *const c_char,
    fw_setenv: *const c_char,
    cmdline_path: *const c_char,
    out: *mut *mut dha_boot,
) -> dha_result {
    ffi_result("dha_boot_new_uboot", || {
        // SAFETY: the caller guarantees each string is NULL or a
        // NUL-terminated string unchanged during the call.
        let printenv = unsafe { opt_str(fw_printenv, DHA_BOOT_ARG_MAX, "fw_printenv") }?;
        // SAFETY: as above.
        let setenv = unsafe { opt_str(fw_setenv, DHA_BOOT_ARG_MAX, "fw_setenv") }?;
        // SAFETY: as above.
        let cmdline = unsafe { opt_str(cmdline_path, DHA_BOOT_ARG_MAX, "cmdline_path") }?;
        let out = try_out!(out);
        let mut env = UBootEnv::new(
            non_empty(printenv.unwrap_or("fw_printenv"), "fw_printenv")?,
            non_empty(setenv.unwrap_or("fw_setenv"), "fw_setenv")?,
        );
        if let Some(c) = cmdline {
            env = env.with_cmdline(non_empty(c, "cmdline_path")?);
        }
        make(Backend::UBoot(env), out);
        Ok(())
    })
}

/// Makes boot control over the GRUB environment block `grubenv_path`
/// (e.g. `/boot/grub/grubenv`, which `grub.cfg` reads with `load_env`),
/// read with `grub-editenv FILE list` and written with one
/// `grub-editenv FILE set K=V …` call, then read back. `grub_editenv` is
/// the program (absolute path, or a name looked up on `PATH`; NULL means
/// `"grub-editenv"`). The running slot is the kernel command line's
/// `rauc.slot=` or `dha.slot=`, read from `cmdline_path` (NULL:
/// `/proc/cmdline`). Nothing is run here. On success `*out` receives a new
/// handle, to release with `dha_boot_free`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`grubenv_path`, `out`),
/// `DHA_ERR_INVALID_UTF8`, `DHA_ERR_INVALID_ARGUMENT` (empty, or longer
/// than `DHA_BOOT_ARG_MAX`).
///
/// # Safety
///
/// Each string is NULL or NUL-terminated (read up to its NUL or
/// `DHA_BOOT_ARG_MAX + 1` bytes) and unchanged during the call; `out` is
/// NULL or valid for a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_new_grub(
    grubenv_path: *const c_char,
    grub_editenv: *const c_char,
    cmdline_path: *const c_char,
    out: *mut *mut dha_boot,
) -> dha_result {
    ffi_result("dha_boot_new_grub", || {
        let file = non_empty(try_str!(grubenv_path, DHA_BOOT_ARG_MAX), "grubenv_path")?;
        // SAFETY: the caller guarantees each string is NULL or a
        // NUL-terminated string unchanged during the call.
        let tool = unsafe { opt_str(grub_editenv, DHA_BOOT_ARG_MAX, "grub_editenv") }?;
        // SAFETY: as above.
        let cmdline = unsafe { opt_str(cmdline_path, DHA_BOOT_ARG_MAX, "cmdline_path") }?;
        let out = try_out!(out);
        let mut env = GrubEnv::new(file);
        if let Some(t) = tool {
            env = env.with_tool(non_empty(t, "grub_editenv")?);
        }
        if let Some(c) = cmdline {
            env = env.with_cmdline(non_empty(c, "cmdline_path")?);
        }
        make(Backend::Grub(env), out);
        Ok(())
    })
}

/// The back end the `[boot]` section names (as
/// `dha_linux::boot::from_config`, which gives a boxed trait object where
/// this handle keeps a copyable value).
pub(crate) fn backend_from_config(config: &BootConfig) -> Result<Backend, Error> {
    let refused = |why: String| Error::from(BootError::Refused(why));
    config
        .validate()
        .map_err(|(key, why)| refused(format!("{key}: {why}")))?;
    let env = || {
        config.env.clone().ok_or_else(|| {
            refused(format!(
                "boot.env: backend {:?} needs the environment file",
                config.backend.name()
            ))
        })
    };
    Ok(match config.backend {
        BootBackend::File => Backend::File(FileBootControl::new(env()?)),
        BootBackend::Grub => Backend::Grub(GrubEnv::new(env()?).with_tool(&config.grub_editenv)),
        BootBackend::Uboot => Backend::UBoot(UBootEnv::new(&config.fw_printenv, &config.fw_setenv)),
        // BootBackend::None, and any back end added later that this
        // version of the C ABI cannot build.
        _ => {
            return Err(refused(
                "no boot loader configured: set boot.backend to \"uboot\", \"grub\" or \"file\" \
                 in the [boot] section of the configuration"
                    .to_owned(),
            ));
        }
    })
}

/// Makes boot control over the back end that the `[boot]` section of
/// `config` names (see `dha.example.toml`): `backend = "file"` with `env`,
/// `"grub"` with `env` and `grub_editenv`, or `"uboot"` with `fw_printenv`
/// and `fw_setenv`; the running slot comes from `/proc/cmdline` (U-Boot,
/// GRUB) or the file's `BOOTED=` line. The section is copied: `config` may
/// be freed as soon as this returns. On success `*out` receives a new
/// handle, to release with `dha_boot_free`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_BOOT_REFUSED` (no back end
/// configured, or a back end without what it needs; the detail names the
/// dotted key).
///
/// # Safety
///
/// `config` is NULL or a live `dha_config`; `out` is NULL or valid for a
/// write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_new_from_config(
    config: *const dha_config,
    out: *mut *mut dha_boot,
) -> dha_result {
    ffi_result("dha_boot_new_from_config", || {
        let config = try_ref!(config);
        let out = try_out!(out);
        make(backend_from_config(&config.config.boot)?, out);
        Ok(())
    })
}

/// `s` as a path, refusing the empty string.
fn non_empty(s: &str, arg: &str) -> Result<PathBuf, Error> {
    if s.is_empty() {
        return Err(Error::new(
            dha_result::DHA_ERR_INVALID_ARGUMENT,
            format!("argument `{arg}` is empty"),
        ));
    }
    Ok(PathBuf::from(s))
}

/// Releases boot control. NULL is accepted and ignored. The boot loader's
/// environment is not touched.
///
/// # Safety
///
/// `boot` is NULL or a handle from a `dha_boot_new_*` function not yet
/// freed, and no other thread is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_free(boot: *mut dha_boot) {
    ffi_free("dha_boot_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(boot) }
    })
}

/// Reads the boot loader's environment and copies what it means as compact
/// JSON, and a NUL, into `buf`:
///
/// ```json
/// {"schema_version":1,"boot_order":["B","A"],"booted":"A","next_boot":"B",
///  "slots":[{"slot":"B","position":1,"tries_left":3,"booted":false},
///           {"slot":"A","position":2,"tries_left":3,"booted":true}]}
/// ```
///
/// `boot_order` is `BOOT_ORDER`; `booted` the running slot (null when not
/// known); `next_boot` the slot the boot loader starts next (the first in
/// the order with tries left; null when every slot in the order is
/// exhausted); `slots` every slot the environment names, those in the
/// order first (`position` from 1; null for a slot out of the order, i.e.
/// marked bad), with its tries left (`BOOT_<slot>_LEFT`).
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size of buffer needed, NUL included; when `len` is smaller nothing of
/// the JSON is copied, `buf` (if `len > 0`) holds the empty string, and the
/// result is `DHA_ERR_INSUFFICIENT_SIZE`; `buf == NULL, len == 0` asks for
/// the size. Each call reads the environment again.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`boot` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_BOOT_READ`, `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `boot` is NULL or a live `dha_boot`; `buf` is NULL or valid for writes
/// of `len` bytes; `out_needed` is NULL or valid for a write of one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_status_json(
    boot: *const dha_boot,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_boot_status_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let boot = try_ref!(boot);
        let out_needed = try_out!(out_needed);
        let st = boot::status(boot.backend.control())?;
        buf.copy_whole_or_size_error(&status_json(&st), out_needed, "the boot status JSON")
    })
}

/// Marks `slot` good after a healthy boot (NULL: the running slot): its
/// tries are re-armed to `max_tries` (at least 1; RAUC's default is 3) and
/// it is put back in the boot order (at its end) if it was not there. A
/// slot ahead of it in the order with no tries left, the one the boot
/// loader fell back from, is taken out of the order (as
/// `dha_boot_mark_bad` does), so that no re-arming starts it again.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`boot`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a slot name that is not 1 to 32 letters,
/// digits, `_` or `-`; or NULL when the running slot is not known),
/// `DHA_ERR_BOOT_READ`, `DHA_ERR_BOOT_WRITE` (also when the environment did
/// not read back as written), `DHA_ERR_BOOT_REFUSED` (a slot the
/// environment does not name; nothing was written).
///
/// # Safety
///
/// `boot` is NULL or a live `dha_boot`; `slot` is NULL or a NUL-terminated
/// string (read up to its NUL or `DHA_BOOT_ARG_MAX + 1` bytes) unchanged
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_mark_good(
    boot: *const dha_boot,
    slot: *const c_char,
    max_tries: u32,
) -> dha_result {
    ffi_result("dha_boot_mark_good", || {
        let boot = try_ref!(boot);
        // SAFETY: the caller guarantees `slot` is NULL or a NUL-terminated
        // string unchanged during the call.
        let name = unsafe { opt_str(slot, DHA_BOOT_ARG_MAX, "slot") }?;
        let bc = boot.backend.control();
        let slot = slot_or_booted(bc, name)?;
        boot::mark_good(bc, BootPolicy { max_tries }, &slot)?;
        log::info!("boot: slot {slot} marked good ({max_tries} tries)");
        Ok(())
    })
}

/// Marks `slot` bad (NULL: the running slot): no tries left
/// (`BOOT_<slot>_LEFT=0`) and out of the boot order, so that the boot
/// loader never starts it until it is switched to. Refused, writing
/// nothing, when no other slot would have tries left: the device is never
/// left unbootable.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`boot`), `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (a bad slot name; or NULL when the running
/// slot is not known), `DHA_ERR_BOOT_READ`, `DHA_ERR_BOOT_WRITE`,
/// `DHA_ERR_BOOT_REFUSED` (an unknown slot, or no bootable slot would
/// remain).
///
/// # Safety
///
/// As `dha_boot_mark_good`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_mark_bad(
    boot: *const dha_boot,
    slot: *const c_char,
) -> dha_result {
    ffi_result("dha_boot_mark_bad", || {
        let boot = try_ref!(boot);
        // SAFETY: as in dha_boot_mark_good.
        let name = unsafe { opt_str(slot, DHA_BOOT_ARG_MAX, "slot") }?;
        let bc = boot.backend.control();
        let slot = slot_or_booted(bc, name)?;
        boot::mark_bad(bc, &slot)?;
        log::info!("boot: slot {slot} marked bad");
        Ok(())
    })
}

/// Makes `slot` the one the boot loader starts next: first in the boot
/// order, with `max_tries` tries (at least 1). This is what an install does
/// after writing a slot (RAUC's "mark active").
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`boot`, `slot`),
/// `DHA_ERR_INVALID_UTF8`, `DHA_ERR_INVALID_ARGUMENT` (a bad slot name),
/// `DHA_ERR_BOOT_READ`, `DHA_ERR_BOOT_WRITE`, `DHA_ERR_BOOT_REFUSED` (a
/// slot the environment does not name; nothing was written).
///
/// # Safety
///
/// `boot` is NULL or a live `dha_boot`; `slot` is NULL or a NUL-terminated
/// string (read up to its NUL or `DHA_BOOT_ARG_MAX + 1` bytes) unchanged
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_boot_switch(
    boot: *const dha_boot,
    slot: *const c_char,
    max_tries: u32,
) -> dha_result {
    ffi_result("dha_boot_switch", || {
        let boot = try_ref!(boot);
        let slot = slot_id(try_str!(slot, DHA_BOOT_ARG_MAX), "slot")?;
        boot::switch(boot.backend.control(), BootPolicy { max_tries }, &slot)?;
        log::info!("boot: switched to slot {slot} ({max_tries} tries)");
        Ok(())
    })
}

#[cfg(test)]
mod tests;
