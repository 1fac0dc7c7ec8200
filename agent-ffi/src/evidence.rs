//! `dha_evidence_to_json`: the disclosure evidence (MDS2 2019 sections,
//! IEC 62443-4-2 requirements; [`dha_core::evidence`]) of an audit, copied
//! into a caller's buffer.

use crate::boundary::{OutBuf, ffi_result, try_out, try_str};
use crate::config::dha_config;
use crate::error::Error;
use crate::report::DHA_ROOT_PATH_MAX;
use crate::result::dha_result;
use dha_core::{Auditor, Config, EvidenceReport, Root, SystemClock};
use std::ffi::c_char;

/// Audits the root directory `root` (as `dha_audit_run` does) and copies
/// the disclosure evidence made from the audit, pretty-printed JSON (the
/// format of `dha evidence --format json`, with a `schema_version`), and a
/// NUL into `buf`.
///
/// The JSON has one entry in `"mds2"` for each MDS2 (2019) section an
/// on-device agent can measure and in `"iec62443"` for each IEC 62443-4-2
/// requirement a check maps to, each with its answer (`"yes"`, `"no"`,
/// `"not_applicable"`, `"not_measurable"`), the rule it was derived by, the
/// checks and findings behind it and when they were measured; `"rules"`
/// states what each answer means.
///
/// `config` may be NULL: the safe defaults then apply (as for
/// `dha_sbom_to_json`; note that `dha_audit_run` refuses NULL). Pass the
/// device's own configuration when it has one: the answers depend on its
/// policy values and on which checks it disables. `root` is a NUL-terminated
/// UTF-8 path of at most `DHA_ROOT_PATH_MAX` bytes: `"/"` audits the running
/// system (with its live host facts), any other directory an extracted
/// device image whose own `/` it is. Nothing is written under it. Every call
/// audits again, a full audit: it blocks the calling thread for as long as
/// the audit takes and may run on several threads at once. That is more
/// than a few small files: FS-01 walks every local file of the root (up to
/// `[limits] max_walk_entries`, 2,000,000 by default; for world-writable and
/// SUID/SGID files), INT-01 hashes up to `[hardening] dpkg_verify_max_files`
/// package files (5000 by default) against their dpkg digests, and BAK-01
/// reads good image slots back (up to `[hardening] slot_verify_max_bytes`
/// each, 1 GiB by default). The README measures about 1.8 s on a live `/`
/// of 560,000 files, 1.6 s of it the walk; an image root costs the same
/// walk. Call it from a worker thread, not from a UI or real-time thread.
///
/// On `"/"` the live facts also come from `/proc`, `/sys` and, for NET-01,
/// the firewall ruleset: when an `nft` program is installed, the call starts
/// it as a child process of the integrator's process (`nft -j list ruleset`,
/// stdin from /dev/null, its output read through pipes by two short-lived
/// threads) and waits for it by polling `waitpid` on its pid with `WNOHANG`,
/// for at most 10 s; at the limit the child is killed (`SIGKILL`) and
/// reaped. dha installs no signal handler. If the host reaps children
/// itself (a `SIGCHLD` handler calling `waitpid(-1, …)`, or `SIGCHLD` set to
/// `SIG_IGN` / `SA_NOCLDWAIT`), it can take nft's exit status first: dha's
/// wait then fails (`ECHILD`), the ruleset counts as unreadable (a low
/// NET-01 finding "the firewall ruleset could not be read" instead of the
/// firewall's verdict), and dha's kill of the already-reaped pid could, if
/// that pid was reused meanwhile, reach an unrelated process (any process,
/// when the host runs as root). A host that reaps all its children should
/// reap by pid, or call this on an image root, or run the audit in a helper
/// process (the `dha evidence` program).
///
/// Buffer rules as for `dha_report_to_json`: `*out_needed` always receives
/// the size of buffer needed, NUL included; when `len` is smaller nothing of
/// the JSON is copied, `buf` (if `len > 0`) holds the empty string, and the
/// result is `DHA_ERR_INSUFFICIENT_SIZE`; `buf == NULL, len == 0` asks for
/// the size. As every call audits again, the size can change between calls
/// when the device changes (live processes and sockets, its files): allocate
/// some slack, and retry on `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`root` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INVALID_UTF8`, `DHA_ERR_INVALID_ARGUMENT`
/// (path too long), `DHA_ERR_ROOT_NOT_FOUND`, `DHA_ERR_ROOT_NOT_A_DIRECTORY`,
/// `DHA_ERR_ROOT_PERMISSION_DENIED`, `DHA_ERR_IO`,
/// `DHA_ERR_EVIDENCE_NOTHING_AUDITED` (no check could run against the root,
/// or it holds neither `/etc/passwd` nor an os-release),
/// `DHA_ERR_INSUFFICIENT_SIZE`. Unreadable or malformed files inside the
/// root are not errors: they are counted in the evidence's
/// `summary.warnings`.
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle; `root` is NULL or a
/// NUL-terminated string (read up to its NUL or `DHA_ROOT_PATH_MAX + 1`
/// bytes) unchanged during the call; `buf` is NULL or valid for writes of
/// `len` bytes; `out_needed` is NULL or valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_evidence_to_json(
    config: *const dha_config,
    root: *const c_char,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_evidence_to_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        // SAFETY: this function's contract: `config` is NULL or a live
        // handle, not freed during the call; NULL means the defaults.
        let config = unsafe { crate::config::config_or_defaults(config) };
        let config: &Config = &config;
        let root = try_str!(root, DHA_ROOT_PATH_MAX);
        let out_needed = try_out!(out_needed);
        let root = Root::with_limits(root, config.read_limits())?;
        let auditor = Auditor::new(config, &SystemClock);
        // The live probe is used only when the root is the live `/`.
        let report = auditor.with_host(&dha_linux::LinuxHost).run(&root);
        if !report.audited_a_device() {
            return Err(Error::new(
                dha_result::DHA_ERR_EVIDENCE_NOTHING_AUDITED,
                format!(
                    "nothing audited at {}: no check could run there, or it holds neither an \
                     account database (/etc/passwd) nor an os-release; is it a device's \
                     root directory?",
                    report.root
                ),
            ));
        }
        let evidence = EvidenceReport::from_report(&report);
        log::info!(
            "evidence of {}: MDS2 {} yes, {} no; IEC 62443-4-2 {} yes, {} no",
            report.root,
            evidence.summary.mds2.yes,
            evidence.summary.mds2.no,
            evidence.summary.iec62443.yes,
            evidence.summary.iec62443.no
        );
        // serde_json escapes control characters: the JSON holds no NUL.
        buf.copy_whole_or_size_error(&evidence.to_json(), out_needed, "the evidence JSON")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;
    use std::ffi::CString;
    use std::ptr;

    fn device() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\nfield:x:0:0::/home/field:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/hostname"), "ct-ffi-01\n").unwrap();
        d
    }

    #[test]
    fn evidence_to_json_sizes_copies_and_refuses() {
        let d = device();
        let root = CString::new(d.path().to_str().unwrap()).unwrap();
        let mut needed = 0usize;
        // SAFETY: every pointer below is NULL (where the test means it) or
        // points to a live local of the length passed, as documented.
        unsafe {
            let rc =
                dha_evidence_to_json(ptr::null(), root.as_ptr(), ptr::null_mut(), 0, &mut needed);
            assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
            assert!(needed > 100);
            let mut buf = vec![0x55 as c_char; needed + 64];
            let mut again = 0usize;
            let rc = dha_evidence_to_json(
                ptr::null(),
                root.as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut again,
            );
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            let json = std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap();
            assert_eq!(json.len() + 1, again);
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(v["device"]["hostname"], "ct-ffi-01");
            let auth = v["mds2"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == "AUTH")
                .unwrap();
            assert_eq!(auth["answer"], "no", "a second UID 0");

            let rc =
                dha_evidence_to_json(ptr::null(), ptr::null(), ptr::null_mut(), 0, &mut needed);
            assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
            let rc = dha_evidence_to_json(
                ptr::null(),
                root.as_ptr(),
                ptr::null_mut(),
                0,
                ptr::null_mut(),
            );
            assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);

            // Every check disabled: nothing was audited, no evidence.
            let toml: String = dha_core::CATALOGUE
                .iter()
                .map(|c| format!("[checks.{}]\nenabled = false\n", c.id))
                .collect();
            let toml = CString::new(toml).unwrap();
            let mut cfg = ptr::null_mut();
            let rc = crate::config::dha_config_new_from_toml(toml.as_ptr(), &mut cfg);
            assert_eq!(rc, dha_result::DHA_OK, "{}", last_error());
            let rc = dha_evidence_to_json(cfg, root.as_ptr(), ptr::null_mut(), 0, &mut needed);
            crate::config::dha_config_free(cfg);
            assert_eq!(rc, dha_result::DHA_ERR_EVIDENCE_NOTHING_AUDITED);
            assert!(
                last_error().contains("no check could run"),
                "{}",
                last_error()
            );
        }
    }
}
