//! `dha_audit_run` and what it returns: the `dha_report` handle and the
//! `dha_finding`s it owns.
//!
//! A report is immutable. Every string handed to C is built once, when the
//! report is made, and owned by it: accessors return borrowed pointers that
//! stay valid until `dha_report_free`, and C never frees them.

use crate::boundary::{
    OutBuf, ffi_free, ffi_result, ffi_value, free_box, try_out, try_ref, try_str,
};
use crate::config::dha_config;
use crate::error::Error;
use crate::result::dha_result;
use dha_core::{Auditor, Finding, Report, Root, Severity, SeverityCounts, SystemClock};
use std::ffi::{CString, c_char};
use std::ptr;

/// The longest `root_path` accepted, in bytes: Linux's `PATH_MAX` (4096,
/// `<linux/limits.h>`) less its NUL.
pub const DHA_ROOT_PATH_MAX: usize = 4095;

/// How much a finding matters, lowest first. The numbers are fixed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum dha_severity {
    /// Worth knowing; not a weakness by itself.
    DHA_SEVERITY_INFO = 0,
    /// A weakness with little direct risk.
    DHA_SEVERITY_LOW = 1,
    /// A weakness an attacker could use together with others.
    DHA_SEVERITY_MEDIUM = 2,
    /// A weakness that directly weakens authentication or authorisation.
    DHA_SEVERITY_HIGH = 3,
    /// A weakness that gives access without a credential.
    DHA_SEVERITY_CRITICAL = 4,
}

impl From<Severity> for dha_severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Info => dha_severity::DHA_SEVERITY_INFO,
            Severity::Low => dha_severity::DHA_SEVERITY_LOW,
            Severity::Medium => dha_severity::DHA_SEVERITY_MEDIUM,
            Severity::High => dha_severity::DHA_SEVERITY_HIGH,
            Severity::Critical => dha_severity::DHA_SEVERITY_CRITICAL,
        }
    }
}

impl dha_severity {
    /// The severity with number `n`, or `None` for a number this library does not know.
    pub fn from_u32(n: u32) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| dha_severity::from(*s) as u32 == n)
    }
}

/// One finding of a report (opaque), borrowed from its `dha_report`: valid
/// until `dha_report_free`, never freed on its own.
pub struct dha_finding {
    check_id: CString,
    severity: dha_severity,
    title: CString,
    file: Option<CString>,
    line: u32,
    observed: Option<CString>,
    expected: Option<CString>,
    remediation: CString,
}

/// The result of one audit (opaque). Made by `dha_audit_run`, released by
/// `dha_report_free`. Immutable: it may be read by several threads at once.
pub struct dha_report {
    findings: Vec<dha_finding>,
    counts: SeverityCounts,
    json: CString,
}

// The header promises that a report, and the findings and strings borrowed
// from it, may be read by several threads at once.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<dha_report>();
};

/// A C string copy of `s`. A NUL cannot be inside a C string; one inside `s`
/// (a NUL byte read from an audited file) is shown as U+FFFD instead of
/// silently cutting the text.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl dha_finding {
    fn new(f: &Finding) -> Self {
        dha_finding {
            check_id: c_string(&f.check_id),
            severity: f.severity.into(),
            title: c_string(&f.title),
            file: f.evidence.file.as_deref().map(c_string),
            line: f.evidence.line.unwrap_or(0),
            observed: f.evidence.observed.as_deref().map(c_string),
            expected: f.evidence.expected.as_deref().map(c_string),
            remediation: c_string(&f.remediation),
        }
    }
}

impl dha_report {
    /// Builds the C view of a report (every string copied once, here).
    pub fn new(report: &Report) -> Self {
        dha_report {
            findings: report.findings.iter().map(dha_finding::new).collect(),
            counts: report.counts,
            // serde_json escapes control characters, so the JSON holds no NUL.
            json: c_string(&report.to_json()),
        }
    }
}

/// Audits the root directory `root_path` with `config` and, on success,
/// stores a new report in `*out` (release it with `dha_report_free`).
///
/// `root_path` is a NUL-terminated UTF-8 path of at most `DHA_ROOT_PATH_MAX`
/// bytes: `"/"` audits the running system (with its live host facts), any
/// other directory is audited as an extracted device image whose own `/` it
/// is (symlinks in it never lead out of it). The audit only reads; it never
/// changes a file. It blocks the calling thread until done (reading a few
/// hundred small files) and may run on several threads at once, also with
/// the same `config`. Log lines go to the log callback from the calling
/// thread.
///
/// `config` is required: pass the handle of `dha_config_new_default` for the
/// defaults. (NULL is refused rather than read as "defaults", so that a
/// configuration that failed to load can never silently be replaced by a
/// laxer one.)
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INVALID_UTF8`,
/// `DHA_ERR_INVALID_ARGUMENT` (path too long), `DHA_ERR_ROOT_NOT_FOUND`,
/// `DHA_ERR_ROOT_NOT_A_DIRECTORY`, `DHA_ERR_ROOT_PERMISSION_DENIED`,
/// `DHA_ERR_IO`. Unreadable or malformed files inside the root are not errors:
/// they are warnings in the report (see its JSON).
///
/// # Safety
///
/// `config` is NULL or a live `dha_config` handle; `root_path` is NULL or a
/// NUL-terminated string (read up to its NUL or `DHA_ROOT_PATH_MAX + 1`
/// bytes) unchanged during the call; `out` is NULL or valid for a write of
/// one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_audit_run(
    config: *const dha_config,
    root_path: *const c_char,
    out: *mut *mut dha_report,
) -> dha_result {
    ffi_result("dha_audit_run", || {
        let config = &try_ref!(config).config;
        let root_path = try_str!(root_path, DHA_ROOT_PATH_MAX);
        let out = try_out!(out);
        let root = Root::with_limits(root_path, config.read_limits())?;
        let auditor = Auditor::new(config, &SystemClock);
        // The live probe is used only when the root is the live `/`.
        let report = auditor.with_host(&dha_linux::LinuxHost).run(&root);
        log::info!(
            "audit of {} finished: {} findings, {} warnings",
            report.root,
            report.findings.len(),
            report.warnings.len()
        );
        out.write(Box::into_raw(Box::new(dha_report::new(&report))));
        Ok(())
    })
}

/// The number of findings of `report` (0 when `report` is NULL).
///
/// # Safety
///
/// `report` is NULL or a live `dha_report` handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_report_finding_count(report: *const dha_report) -> usize {
    ffi_value("dha_report_finding_count", 0, || {
        Ok(try_ref!(report).findings.len())
    })
}

/// Stores in `*out` the finding at `index` (0-based, below
/// `dha_report_finding_count`), in report order (catalogue order, then file
/// order). The finding is borrowed from `report`: valid until
/// `dha_report_free(report)`; do not free it.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT`, `DHA_ERR_INDEX_OUT_OF_RANGE`.
///
/// # Safety
///
/// `report` is NULL or a live `dha_report` handle; `out` is NULL or valid for
/// a write of one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_report_finding(
    report: *const dha_report,
    index: usize,
    out: *mut *const dha_finding,
) -> dha_result {
    ffi_result("dha_report_finding", || {
        let report = try_ref!(report);
        let out = try_out!(out);
        let finding = report.findings.get(index).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INDEX_OUT_OF_RANGE,
                format!(
                    "index {index} is not below the finding count {}",
                    report.findings.len()
                ),
            )
        })?;
        out.write(finding);
        Ok(())
    })
}

/// Stores in `*out_count` the number of findings of `report` whose severity
/// is `min_severity` or higher (`DHA_SEVERITY_INFO` counts them all).
///
/// `min_severity` is a `dha_severity` number; others give
/// `DHA_ERR_INVALID_ARGUMENT`. Errors: `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `report` is NULL or a live `dha_report` handle; `out_count` is NULL or
/// valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_report_count_at_least(
    report: *const dha_report,
    min_severity: u32,
    out_count: *mut usize,
) -> dha_result {
    ffi_result("dha_report_count_at_least", || {
        let report = try_ref!(report);
        let out_count = try_out!(out_count);
        let min = dha_severity::from_u32(min_severity).ok_or_else(|| {
            Error::new(
                dha_result::DHA_ERR_INVALID_ARGUMENT,
                format!("min_severity {min_severity} is not a dha_severity"),
            )
        })?;
        let count = Severity::ALL
            .into_iter()
            .filter(|s| *s >= min)
            .map(|s| report.counts.get(s))
            .fold(0usize, usize::saturating_add);
        out_count.write(count);
        Ok(())
    })
}

/// Copies the report as JSON (the format of `dha audit --json`, with a
/// `schema_version`) and a NUL into `buf`.
///
/// `*out_needed` always receives the size of buffer needed, NUL included
/// (the JSON's length is `*out_needed - 1`). When `len` is smaller, nothing
/// of the JSON is copied, `buf` (if `len > 0`) holds the empty string, and the
/// result is `DHA_ERR_INSUFFICIENT_SIZE`: call again with a buffer of
/// `*out_needed` bytes. `buf == NULL, len == 0` is the way to ask for the
/// size. The JSON is made once with the report, so every call gives the same
/// bytes.
///
/// Errors: `DHA_ERR_NULL_ARGUMENT` (`report` or `out_needed` NULL, or `buf`
/// NULL with `len > 0`), `DHA_ERR_INSUFFICIENT_SIZE`.
///
/// # Safety
///
/// `report` is NULL or a live `dha_report` handle; `buf` is NULL or valid for
/// writes of `len` bytes; `out_needed` is NULL or valid for a write of one
/// `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_report_to_json(
    report: *const dha_report,
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> dha_result {
    ffi_result("dha_report_to_json", || {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut buf = unsafe { OutBuf::new(buf, len) }?;
        let report = try_ref!(report);
        let out_needed = try_out!(out_needed);
        let json = report.json.to_bytes();
        // A `CString` holds only UTF-8 here (it was made from a `String`).
        let json = std::str::from_utf8(json).unwrap_or_default();
        buf.copy_whole_or_size_error(json, out_needed, "the JSON")
    })
}

/// Releases a report and every finding and string borrowed from it. NULL is
/// accepted and ignored.
///
/// # Safety
///
/// `report` is NULL or a handle from `dha_audit_run` not yet freed, and no
/// other thread is using it or anything borrowed from it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_report_free(report: *mut dha_report) {
    ffi_free("dha_report_free", || {
        // SAFETY: this function's contract.
        unsafe { free_box(report) }
    })
}

/// A borrowed string of a finding, or NULL.
fn borrowed(s: Option<&CString>) -> *const c_char {
    s.map_or(ptr::null(), |s| s.as_ptr())
}

/// The check id of `finding` (`"ACC-01"`, see CHECKS.md): a NUL-terminated
/// string borrowed from its report. NULL when `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_check_id(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_check_id", ptr::null(), || {
        Ok(try_ref!(finding).check_id.as_ptr())
    })
}

/// Stores the severity of `finding` (after any override of the
/// configuration) in `*out_severity`. Errors: `DHA_ERR_NULL_ARGUMENT`.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`; `out_severity` is
/// NULL or valid for a write of one `dha_severity`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_severity(
    finding: *const dha_finding,
    out_severity: *mut dha_severity,
) -> dha_result {
    ffi_result("dha_finding_severity", || {
        let finding = try_ref!(finding);
        let out_severity = try_out!(out_severity);
        out_severity.write(finding.severity);
        Ok(())
    })
}

/// The one-line title of `finding`: a NUL-terminated string borrowed from its
/// report. NULL when `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_title(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_title", ptr::null(), || {
        Ok(try_ref!(finding).title.as_ptr())
    })
}

/// The file the finding comes from, as an absolute path inside the audited
/// root (`"/etc/shadow"`): a NUL-terminated string borrowed from its report.
/// NULL when the finding names no file, or `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_file(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_file", ptr::null(), || {
        Ok(borrowed(try_ref!(finding).file.as_ref()))
    })
}

/// The 1-based line in `dha_finding_file` the finding comes from; 0 when it
/// names no line (the finding is about a whole file, or a setting that is
/// absent), or `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_line(finding: *const dha_finding) -> u32 {
    ffi_value("dha_finding_line", 0, || Ok(try_ref!(finding).line))
}

/// The value seen (never a secret: password hashes are described, not
/// copied): a NUL-terminated string borrowed from its report. NULL when none
/// was recorded, or `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_observed(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_observed", ptr::null(), || {
        Ok(borrowed(try_ref!(finding).observed.as_ref()))
    })
}

/// The value wanted: a NUL-terminated string borrowed from its report. NULL
/// when none was recorded, or `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_expected(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_expected", ptr::null(), || {
        Ok(borrowed(try_ref!(finding).expected.as_ref()))
    })
}

/// What to do about the finding: a NUL-terminated string (possibly empty)
/// borrowed from its report. NULL when `finding` is NULL.
///
/// # Safety
///
/// `finding` is NULL or a finding from a live `dha_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_finding_remediation(finding: *const dha_finding) -> *const c_char {
    ffi_value("dha_finding_remediation", ptr::null(), || {
        Ok(try_ref!(finding).remediation.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{dha_config_free, dha_config_new_default};
    use dha_core::{Evidence, References};
    use std::ffi::CStr;

    fn finding(id: &str, severity: Severity, file: Option<&str>, line: Option<u32>) -> Finding {
        Finding {
            check_id: id.to_owned(),
            severity,
            title: format!("title of {id}"),
            evidence: Evidence {
                file: file.map(str::to_owned),
                line,
                observed: Some("a\0b".to_owned()),
                expected: None,
            },
            remediation: String::new(),
            references: References::default(),
        }
    }

    fn report() -> Report {
        let findings = vec![
            finding("ACC-01", Severity::Critical, Some("/etc/passwd"), Some(3)),
            finding("ACC-13", Severity::Medium, Some("/etc/shadow"), None),
            finding("SES-01", Severity::Low, None, None),
        ];
        Report {
            schema_version: 1,
            agent: dha_core::report::AgentInfo {
                name: "dha".to_owned(),
                version: "0".to_owned(),
            },
            device: Default::default(),
            root: "/tmp/x".to_owned(),
            started: String::new(),
            finished: String::new(),
            counts: SeverityCounts::of(&findings),
            findings,
            checks: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn s(p: *const c_char) -> Option<String> {
        // SAFETY: the accessors return NULL or NUL-terminated strings.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
    }

    #[test]
    fn accessors_borrow_from_the_report() {
        let r = Box::into_raw(Box::new(dha_report::new(&report())));
        // SAFETY: r is live until the free at the end; out pointers are locals.
        unsafe {
            assert_eq!(dha_report_finding_count(r), 3);
            let mut f = ptr::null();
            assert_eq!(dha_report_finding(r, 0, &mut f), dha_result::DHA_OK);
            assert_eq!(s(dha_finding_check_id(f)).unwrap(), "ACC-01");
            assert_eq!(s(dha_finding_title(f)).unwrap(), "title of ACC-01");
            assert_eq!(s(dha_finding_file(f)).unwrap(), "/etc/passwd");
            assert_eq!(dha_finding_line(f), 3);
            assert_eq!(s(dha_finding_observed(f)).unwrap(), "a\u{fffd}b");
            assert_eq!(s(dha_finding_expected(f)), None);
            assert_eq!(s(dha_finding_remediation(f)).unwrap(), "");
            let mut sev = dha_severity::DHA_SEVERITY_INFO;
            assert_eq!(dha_finding_severity(f, &mut sev), dha_result::DHA_OK);
            assert_eq!(sev, dha_severity::DHA_SEVERITY_CRITICAL);

            assert_eq!(dha_report_finding(r, 2, &mut f), dha_result::DHA_OK);
            assert_eq!(s(dha_finding_file(f)), None);
            assert_eq!(dha_finding_line(f), 0);

            let before = f;
            assert_eq!(
                dha_report_finding(r, 3, &mut f),
                dha_result::DHA_ERR_INDEX_OUT_OF_RANGE
            );
            assert_eq!(f, before, "no output on failure");

            let mut n = 0;
            for (min, want) in [(0, 3), (1, 3), (2, 2), (3, 1), (4, 1)] {
                assert_eq!(
                    dha_report_count_at_least(r, min, &mut n),
                    dha_result::DHA_OK
                );
                assert_eq!(n, want, "at least {min}");
            }
            assert_eq!(
                dha_report_count_at_least(r, 5, &mut n),
                dha_result::DHA_ERR_INVALID_ARGUMENT
            );

            assert_eq!(dha_finding_check_id(ptr::null()), ptr::null());
            assert_eq!(dha_finding_line(ptr::null()), 0);
            assert_eq!(dha_report_finding_count(ptr::null()), 0);
            dha_report_free(r);
        }
    }

    #[test]
    fn json_goes_into_a_caller_buffer_or_says_what_it_needs() {
        let r = Box::into_raw(Box::new(dha_report::new(&report())));
        // SAFETY: r is live until the free at the end; buffers are locals.
        unsafe {
            let mut needed = 0;
            let rc = dha_report_to_json(r, ptr::null_mut(), 0, &mut needed);
            assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
            let mut small = vec![0x55 as c_char; needed - 1];
            let rc = dha_report_to_json(r, small.as_mut_ptr(), small.len(), &mut needed);
            assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
            assert_eq!(small[0], 0, "a short buffer holds the empty string");
            let mut buf = vec![0x55 as c_char; needed];
            let mut again = 0;
            let rc = dha_report_to_json(r, buf.as_mut_ptr(), buf.len(), &mut again);
            assert_eq!(rc, dha_result::DHA_OK);
            assert_eq!(again, needed);
            let json = s(buf.as_ptr()).unwrap();
            assert_eq!(json.len(), needed - 1);
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["findings"][1]["check_id"], "ACC-13");
            dha_report_free(r);
        }
    }

    #[test]
    fn audit_run_checks_its_arguments() {
        let mut cfg = ptr::null_mut();
        // SAFETY: all pointers are NULL, literals or locals.
        unsafe {
            assert_eq!(dha_config_new_default(&mut cfg), dha_result::DHA_OK);
            let mut r = ptr::null_mut();
            let cases: [(*const dha_config, &CStr, dha_result); 4] = [
                (ptr::null(), c"/", dha_result::DHA_ERR_NULL_ARGUMENT),
                (
                    cfg,
                    c"/nonexistent/dha-root",
                    dha_result::DHA_ERR_ROOT_NOT_FOUND,
                ),
                (
                    cfg,
                    c"/proc/self/status",
                    dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY,
                ),
                (cfg, c"/tmp/\xff", dha_result::DHA_ERR_INVALID_UTF8),
            ];
            for (c, path, want) in cases {
                assert_eq!(dha_audit_run(c, path.as_ptr(), &mut r), want, "{path:?}");
                assert!(r.is_null());
            }
            assert_eq!(
                dha_audit_run(cfg, ptr::null(), &mut r),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            assert_eq!(
                dha_audit_run(cfg, c"/".as_ptr(), ptr::null_mut()),
                dha_result::DHA_ERR_NULL_ARGUMENT
            );
            // An empty directory is a root with no account database: the
            // audit runs (checks such as KRN-01 judge the absent files by
            // the built-in defaults) and the user-management checks are n/a.
            let dir = std::env::temp_dir().join(format!("dha-ffi-empty-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let c_dir = CString::new(dir.to_str().unwrap()).unwrap();
            assert_eq!(
                dha_audit_run(cfg, c_dir.as_ptr(), &mut r),
                dha_result::DHA_OK
            );
            std::fs::remove_dir(&dir).unwrap();
            assert!(!r.is_null());
            for f in &(*r).findings {
                let id = f.check_id.to_str().unwrap();
                let area = dha_core::catalogue::lookup(id).unwrap().area;
                assert_ne!(area, "user-management", "{id} on an empty root");
            }
            dha_report_free(r);
            dha_config_free(cfg);
        }
    }
}
