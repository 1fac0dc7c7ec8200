//! KRN-02: modules that must not load (`[kernel] disabled_modules`) are
//! disabled in modprobe.d(5) and, on the live `/`, not loaded.
//!
//! A module is disabled when its first `install` line runs `/bin/false` (or
//! `true`): every `modprobe` of it then does nothing. A `blacklist` line
//! alone stops only automatic loading through the module's aliases; an
//! explicit `modprobe usb-storage`, or a module that depends on it, still
//! loads it (modprobe.d(5)), so it is a weaker finding of its own.

use crate::audit::AuditContext;
use crate::finding::{Finding, Severity};
use crate::parse::modprobe::{self, normalize};

use super::q;

const KRN02: &str = "KRN-02";

/// The severity of a module that can load freely: usb-storage opens the
/// device to removable media (SSG `kernel_module_usb-storage_disabled`,
/// medium); the unused filesystems widen the kernel's attack surface (SSG:
/// low).
pub fn module_severity(module: &str) -> Severity {
    if normalize(module) == "usb_storage" {
        Severity::Medium
    } else {
        MODULE_DEFAULT_SEVERITY
    }
}

/// The severity of any other listed module that can load.
pub const MODULE_DEFAULT_SEVERITY: Severity = Severity::Low;

/// One step lower (a blacklist that stops automatic loading only).
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// The SSG rule for a module, when KRN-02's catalogue entry lists it.
fn ssg(module: &str) -> Vec<&'static str> {
    let name = format!("kernel_module_{}_disabled", module.replace('_', "-"));
    let alt = format!("kernel_module_{}_disabled", module.replace('-', "_"));
    crate::catalogue::lookup(KRN02)
        .map(|i| {
            i.ssg
                .iter()
                .copied()
                .filter(|r| *r == name || *r == alt)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn findings(ctx: &AuditContext<'_>) -> Vec<Finding> {
    let max = usize::try_from(ctx.config.limits.max_included_files).unwrap_or(usize::MAX);
    let cfg = modprobe::load(ctx.root, max, &mut |d| ctx.warn(d));
    let loaded: Option<Vec<String>> = ctx
        .live()
        .and_then(|h| h.loaded_modules())
        .map(|v| v.iter().map(|m| normalize(m)).collect());
    let mut out = Vec::new();
    for m in &ctx.config.kernel.disabled_modules {
        let sev = module_severity(m);
        let rules = ssg(m);
        let remediation = format!(
            "add `install {m} /bin/false` (and `blacklist {m}`) to a file of /etc/modprobe.d, \
             e.g. /etc/modprobe.d/dha-hardening.conf"
        );
        let base = |title: String| {
            ctx.finding(KRN02, title)
                .severity(sev)
                .ssg(&rules)
                .expected(format!("install {m} /bin/false"))
                .remediation(remediation.clone())
        };
        let install = cfg.install_for(m);
        let disabled = install.is_some_and(modprobe::Install::disables);
        match (install, cfg.blacklist_for(m)) {
            (Some(i), _) if i.disables() => {}
            (Some(i), _) => out.push(
                base(format!(
                    "the install command for {m} does not stop it loading"
                ))
                .at(&i.file, i.line)
                .observed(format!("install {} {}", i.module, q(&i.command)))
                .build(),
            ),
            (None, Some(b)) => out.push(
                base(format!(
                    "{m} is only blacklisted: an explicit modprobe (or a dependency) still loads it"
                ))
                .severity(lower(sev))
                .at(&b.file, b.line)
                .observed(format!("blacklist {}, no install line", b.module))
                .build(),
            ),
            (None, None) => out.push(
                base(format!("{m} can be loaded"))
                    .file("/etc/modprobe.d")
                    .observed(format!(
                        "no `install {m}` nor `blacklist {m}` in any modprobe.d file"
                    ))
                    .build(),
            ),
        }
        if let Some(loaded) = &loaded {
            let n = normalize(m);
            if loaded.contains(&n) {
                let why = match install {
                    Some(i) if disabled => format!(
                        "; disabled at {}:{} after it was loaded (or loaded with insmod)",
                        i.file, i.line
                    ),
                    _ => String::new(),
                };
                out.push(
                    base(format!("{m} is loaded"))
                        .file("/proc/modules")
                        .observed(format!("{n} listed in /proc/modules{why}"))
                        .remediation(format!(
                            "unload it (`modprobe -r {m}`) once nothing uses it, and disable it \
                             in /etc/modprobe.d (`install {m} /bin/false`)"
                        ))
                        .build(),
                );
            }
        }
    }
    out
}
