//! dha's C ABI (`libdha.a`, `libdha.so`; header `include/dha.h`).
//!
//! Conventions (DESIGN.md "The C ABI", after rustls-ffi):
//! - every exported name starts with `dha_`; handles are opaque, made by
//!   `dha_*_new` (or `dha_audit_run`) and released by `dha_*_free`, which
//!   accept NULL;
//! - every fallible function returns a [`dha_result`] with a fixed number,
//!   writes its outputs only on success, takes its output pointers last and
//!   every buffer followed by its length;
//! - strings in are NUL-terminated UTF-8 (anything else is an error, never a
//!   crash); strings out are copied into the caller's buffer, always
//!   NUL-terminated, or borrowed from the handle that owns them; C never frees
//!   memory that Rust allocated;
//! - every export runs inside a panic boundary (module `boundary`), so a
//!   panic becomes `DHA_ERR_PANIC`, never an unwind into C or an abort;
//! - every export that takes a pointer is an `unsafe extern "C" fn` whose
//!   `# Safety` section says what the pointer must be.
//!
//! The header is generated from this crate by a pinned cbindgen
//! (`cbindgen.toml`); regenerate it with
//! `DHA_BLESS=1 cargo test -p dha-tests --test header`.
// The exported types carry their C names (`dha_report`), as rustls-ffi's do.
#![allow(non_camel_case_types)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

// The panic boundary rests on unwinding: with `panic = "abort"` a bug would
// abort the integrator's process (a scanner mid-exam) instead of returning
// DHA_ERR_PANIC. The workspace's profiles set `panic = "unwind"`; this keeps
// any other build from silently losing the boundary.
#[cfg(panic = "abort")]
compile_error!("dha's C ABI must be built with panic = \"unwind\" (its panic boundary needs it)");

pub mod boot;
mod boundary;
pub mod config;
mod error;
pub mod eventlog;
pub mod evidence;
pub mod hooks;
pub mod installer;
pub mod integrity;
pub mod logging;
pub mod report;
pub mod result;
pub mod sbom;
pub mod updater;
pub mod version;

pub use boot::{
    DHA_BOOT_ARG_MAX, dha_boot, dha_boot_free, dha_boot_mark_bad, dha_boot_mark_good,
    dha_boot_new_file, dha_boot_new_from_config, dha_boot_new_grub, dha_boot_new_uboot,
    dha_boot_status_json, dha_boot_switch,
};
pub use config::{
    DHA_CONFIG_MAX_BYTES, dha_config, dha_config_free, dha_config_new_default,
    dha_config_new_from_toml,
};
pub use error::{DHA_MESSAGE_MAX, dha_last_error_detail};
pub use eventlog::{
    DHA_EVENTLOG_ARG_MAX, DHA_EVENTLOG_KEY_BYTES, DHA_EVENTLOG_PAYLOAD_MAX, dha_eventlog,
    dha_eventlog_append, dha_eventlog_commit, dha_eventlog_create, dha_eventlog_create_from_bytes,
    dha_eventlog_free, dha_eventlog_head, dha_eventlog_keygen, dha_eventlog_open,
    dha_eventlog_truncate_and_record, dha_eventlog_verify,
};
pub use evidence::dha_evidence_to_json;
pub use hooks::{
    DHA_EVENT_ALL, DHA_EVENT_AUDIT, DHA_EVENT_BOOT, DHA_EVENT_EVENTLOG, DHA_EVENT_HOOK,
    DHA_EVENT_INSTALL, DHA_EVENT_INTEGRITY, DHA_EVENT_UPDATE, DHA_HOOKS_MAX, dha_event_callback,
    dha_hooks_clear, dha_hooks_register,
};
pub use installer::{
    DHA_INSTALLER_ARG_MAX, dha_install_hook_callback, dha_installer, dha_installer_free,
    dha_installer_install, dha_installer_new, dha_installer_set_hook, dha_installer_status_json,
};
pub use integrity::{
    DHA_INTEGRITY_ARG_MAX, DHA_INTEGRITY_PATHS_MAX, DHA_SEAL_ED25519, DHA_SEAL_HMAC_SHA256,
    dha_attr_change, dha_attr_change_attr, dha_attr_change_name, dha_attr_change_new,
    dha_attr_change_old, dha_change, dha_change_attr, dha_change_attr_count, dha_change_kind,
    dha_change_kind_of, dha_change_new_type, dha_change_old_type, dha_change_path,
    dha_change_severity, dha_integrity, dha_integrity_change_callback, dha_integrity_check,
    dha_integrity_free, dha_integrity_init, dha_integrity_keygen, dha_integrity_new,
    dha_integrity_progress_callback, dha_integrity_public_key, dha_integrity_report,
    dha_integrity_report_change, dha_integrity_report_change_count, dha_integrity_report_free,
    dha_integrity_report_problem_count, dha_integrity_report_to_json, dha_integrity_restore,
    dha_integrity_set_change_callback, dha_integrity_set_paths,
    dha_integrity_set_progress_callback, dha_integrity_set_store, dha_integrity_verify_baseline,
};
pub use logging::{dha_log_callback, dha_log_level, dha_set_log_callback};
pub use report::{
    DHA_ROOT_PATH_MAX, dha_audit_run, dha_finding, dha_finding_check_id, dha_finding_expected,
    dha_finding_file, dha_finding_line, dha_finding_observed, dha_finding_remediation,
    dha_finding_severity, dha_finding_title, dha_report, dha_report_count_at_least,
    dha_report_finding, dha_report_finding_count, dha_report_free, dha_report_to_json,
    dha_severity,
};
pub use result::{dha_result, dha_result_message};
pub use sbom::dha_sbom_to_json;
pub use updater::{
    DHA_UPDATER_ARG_MAX, dha_target, dha_target_custom_json, dha_target_free, dha_target_hash,
    dha_target_length, dha_target_name, dha_updater, dha_updater_download_target, dha_updater_free,
    dha_updater_get_target, dha_updater_init_root, dha_updater_new, dha_updater_progress_callback,
    dha_updater_refresh, dha_updater_set_ca_bundle, dha_updater_set_progress_callback,
};
pub use version::dha_version;
