//! KRN-01 (hardening sysctls and core dumps) and KRN-02 (modules that must
//! not load).
//!
//! KRN-01 judges the sysctl values the way systemd-sysctl applies them at
//! boot ([`crate::parse::sysctl`]), against the table [`SYSCTL_TABLE`]
//! (overridable in `[kernel]`), and core dumps (`limits.conf(5)`,
//! `coredump.conf(5)`); on the live `/` it also reads `/proc/sys` and reports
//! a running value that differs from the configured one in the same finding.
//! KRN-02 reads `modprobe.d(5)` ([`crate::parse::modprobe`]) and, live,
//! `/proc/modules`.
//!
//! A key no file sets is judged offline by the value Debian 12's kernel
//! starts with ([`TableEntry::kernel_default`], each one citing the kernel
//! document that states it): a weak default is a finding at `/etc/sysctl.d`
//! (no line) with the rule's severity, a good one is none. On the live `/`
//! the running value replaces that assumption. A key the running kernel
//! lacks is a finding unless the missing feature is itself the safe state
//! (no IPv6, no BPF); Yama missing means no ptrace restriction at all.

use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod coredump;
mod modules;
mod sysctl;

#[cfg(test)]
mod tests;

pub use modules::{MODULE_DEFAULT_SEVERITY, module_severity};
pub use sysctl::{Cmp, SYSCTL_TABLE, SysctlRule, TableEntry, Wanted, effective_for};

/// The modules KRN-02 wants disabled by default: `usb-storage` (removable
/// media, MDS2 PLOK) and the filesystems SSG lists as unused on servers.
/// `squashfs` is left out: Debian needs it for snap packages and many
/// device images boot from it (add it to `[kernel] disabled_modules` when
/// the device does not).
pub const DEFAULT_DISABLED_MODULES: &[&str] = &[
    "usb-storage",
    "cramfs",
    "freevxfs",
    "hfs",
    "hfsplus",
    "jffs2",
    "udf",
];

/// What the kernel checks want (`[kernel]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelPolicy {
    /// Wanted sysctl values that replace the built-in table's or add keys to
    /// it (KRN-01): dotted key → `"N"` (exactly N), `">=N"` or `"<=N"`.
    /// Default: none (the built-in table alone).
    pub sysctl: BTreeMap<String, String>,
    /// Keys of the built-in table not checked (dotted). Default: none.
    pub skip_sysctl: Vec<String>,
    /// Modules that must not load (KRN-02). Default: [`DEFAULT_DISABLED_MODULES`].
    pub disabled_modules: Vec<String>,
}

impl Default for KernelPolicy {
    fn default() -> Self {
        KernelPolicy {
            sysctl: BTreeMap::new(),
            skip_sysctl: Vec::new(),
            disabled_modules: DEFAULT_DISABLED_MODULES
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
        }
    }
}

impl KernelPolicy {
    /// Checks the values: every wanted expression parses, every key and
    /// module name is plausible. Returns `(dotted field, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (k, v) in &self.sysctl {
            if !plausible_key(k) {
                return Err((format!("kernel.sysctl.{k}"), "not a sysctl name".to_owned()));
            }
            if Wanted::parse(v).is_none() {
                return Err((
                    format!("kernel.sysctl.{k}"),
                    format!("{v:?} is not \"N\", \">=N\" or \"<=N\""),
                ));
            }
        }
        for k in &self.skip_sysctl {
            if !plausible_key(k) {
                return Err((
                    "kernel.skip_sysctl".to_owned(),
                    format!("{k:?} is not a sysctl name"),
                ));
            }
        }
        for m in &self.disabled_modules {
            if m.is_empty()
                || !m
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err((
                    "kernel.disabled_modules".to_owned(),
                    format!("{m:?} is not a module name"),
                ));
            }
        }
        Ok(())
    }

    /// The rules KRN-01 applies: the built-in table without the skipped
    /// keys, with the configured values replacing or adding rules.
    pub fn sysctl_rules(&self) -> Vec<SysctlRule> {
        let skipped = |k: &str| {
            self.skip_sysctl.iter().any(|s| {
                crate::parse::sysctl::normalize_key(s) == crate::parse::sysctl::normalize_key(k)
            })
        };
        let mut out: Vec<SysctlRule> = SYSCTL_TABLE
            .iter()
            .filter(|r| !skipped(r.key))
            .map(SysctlRule::from_table)
            .collect();
        for (k, v) in &self.sysctl {
            let Some(w) = Wanted::parse(v) else {
                continue;
            };
            let norm = crate::parse::sysctl::normalize_key(k);
            if let Some(r) = out
                .iter_mut()
                .find(|r| crate::parse::sysctl::normalize_key(&r.key) == norm)
            {
                r.wanted = w;
            } else if !skipped(k) {
                out.push(SysctlRule {
                    key: crate::parse::sysctl::dotted(&norm),
                    wanted: w,
                    severity: Severity::Medium,
                    kernel_default: None,
                });
            }
        }
        out
    }
}

fn plausible_key(k: &str) -> bool {
    !k.is_empty()
        && !k.contains("..")
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

/// A value read from an input, quoted for a report.
fn q(s: &str) -> String {
    format!("{s:?}")
}

/// KRN-01: the effective sysctl values (offline and, on `/`, live) and core dumps.
pub fn krn01_sysctl(ctx: &AuditContext<'_>) -> CheckOutcome {
    let mut findings = sysctl::findings(ctx);
    findings.extend(coredump::findings(ctx));
    CheckOutcome::Ran(findings)
}

/// KRN-02: modules that must not load are disabled in modprobe.d and, on
/// `/`, not loaded.
pub fn krn02_modules(ctx: &AuditContext<'_>) -> CheckOutcome {
    CheckOutcome::Ran(modules::findings(ctx))
}
