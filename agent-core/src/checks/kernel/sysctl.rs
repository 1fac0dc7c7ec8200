//! KRN-01, the sysctl part: the wanted values, and the comparison of the
//! configured (sysctl.d(5)) and running (`/proc/sys`) values with them.

use crate::audit::AuditContext;
use crate::finding::{Finding, Severity};
use crate::parse::sysctl::{Assignment, Effective, dotted, load, normalize_key};

use super::q;

const KRN01: &str = "KRN-01";

/// How a value is compared with the wanted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Exactly the value.
    Eq,
    /// The value or more.
    AtLeast,
    /// The value or less.
    AtMost,
}

/// A wanted value: `"2"`, `">=1"`, `"<=0"` in `[kernel] sysctl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// The comparison.
    pub cmp: Cmp,
    /// The bound.
    pub value: i64,
}

impl Wanted {
    const fn eq(value: i64) -> Wanted {
        Wanted {
            cmp: Cmp::Eq,
            value,
        }
    }

    const fn at_least(value: i64) -> Wanted {
        Wanted {
            cmp: Cmp::AtLeast,
            value,
        }
    }

    /// Parses `"N"`, `">=N"` or `"<=N"` (blanks allowed around the parts).
    pub fn parse(s: &str) -> Option<Wanted> {
        let s = s.trim();
        let (cmp, n) = if let Some(n) = s.strip_prefix(">=") {
            (Cmp::AtLeast, n)
        } else if let Some(n) = s.strip_prefix("<=") {
            (Cmp::AtMost, n)
        } else {
            (Cmp::Eq, s)
        };
        n.trim().parse().ok().map(|value| Wanted { cmp, value })
    }

    /// True when `v` satisfies it.
    pub fn accepts(&self, v: i64) -> bool {
        match self.cmp {
            Cmp::Eq => v == self.value,
            Cmp::AtLeast => v >= self.value,
            Cmp::AtMost => v <= self.value,
        }
    }

    /// True when the raw value (as written or as `/proc/sys` shows it) satisfies it.
    pub fn accepts_raw(&self, raw: &str) -> bool {
        raw.trim().parse::<i64>().is_ok_and(|v| self.accepts(v))
    }
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cmp {
            Cmp::Eq => write!(f, "{}", self.value),
            Cmp::AtLeast => write!(f, ">= {}", self.value),
            Cmp::AtMost => write!(f, "<= {}", self.value),
        }
    }
}

/// One rule of KRN-01.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlRule {
    /// The dotted key (`kernel.kptr_restrict`).
    pub key: String,
    /// The wanted value.
    pub wanted: Wanted,
    /// The severity of a weak value.
    pub severity: Severity,
    /// The value the kernel has when nobody sets the key (Debian 12's
    /// kernel, see [`SYSCTL_TABLE`]); `None`: not known (a key added in
    /// `[kernel] sysctl`), so an unset key is a finding.
    pub kernel_default: Option<i64>,
}

impl SysctlRule {
    pub(super) fn from_table(t: &TableEntry) -> SysctlRule {
        SysctlRule {
            key: t.key.to_owned(),
            wanted: t.wanted,
            severity: t.severity,
            kernel_default: Some(t.kernel_default),
        }
    }

    /// The SSG rule that covers the key (`sysctl_` + the key with `.` → `_`),
    /// when KRN-01's catalogue entry lists it.
    fn ssg(&self) -> Vec<&'static str> {
        let name = format!("sysctl_{}", self.key.replace('.', "_"));
        crate::catalogue::lookup(KRN01)
            .map(|i| i.ssg.iter().copied().filter(|r| *r == name).collect())
            .unwrap_or_default()
    }

    /// True when the running kernel may lack the key without harm: the
    /// feature is not built in (no IPv6, no BPF), which is as safe as the
    /// wanted value.
    fn absent_is_fine(&self) -> bool {
        self.key.starts_with("net.ipv6.") || self.key == "kernel.unprivileged_bpf_disabled"
    }
}

/// One row of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableEntry {
    /// The dotted key.
    pub key: &'static str,
    /// The wanted value (SSG's, see the rule named `sysctl_<key>`).
    pub wanted: Wanted,
    /// The severity of a weak value.
    pub severity: Severity,
    /// The value assumed when no file sets the key: Debian 12's kernel
    /// (linux 6.1, amd64 configuration), from the kernel documentation
    /// (Documentation/admin-guide/sysctl/kernel.rst and fs.rst,
    /// Documentation/networking/ip-sysctl.rst,
    /// Documentation/admin-guide/LSM/Yama.rst) and Debian's configuration
    /// where it changes the upstream default.
    pub kernel_default: i64,
}

const fn row(key: &'static str, wanted: Wanted, severity: Severity, default: i64) -> TableEntry {
    TableEntry {
        key,
        wanted,
        severity,
        kernel_default: default,
    }
}

/// The sysctls KRN-01 checks, with SSG's wanted values (the rule is
/// `sysctl_<key with . as _>`). Where SSG lets a variable choose, the
/// weakest value it accepts is wanted (`kptr_restrict >= 1`,
/// `ptrace_scope >= 1`, `unprivileged_bpf_disabled >= 1`); `protected_fifos`
/// and `protected_regular` want `>= 1` (systemd ships 1 and 2, KSPP
/// recommends 2 for both: set 2 in `[kernel] sysctl` to demand it);
/// `rp_filter` wants 1 (strict), as SSG's default (systemd ships 2, loose).
pub const SYSCTL_TABLE: &[TableEntry] = &[
    // kernel.rst: "2 ... default if CONFIG_COMPAT_BRK is disabled" (Debian: disabled).
    row(
        "kernel.randomize_va_space",
        Wanted::eq(2),
        Severity::Medium,
        2,
    ),
    // kernel.rst: kptr_restrict defaults to 0.
    row(
        "kernel.kptr_restrict",
        Wanted::at_least(1),
        Severity::Low,
        0,
    ),
    // kernel.rst: CONFIG_SECURITY_DMESG_RESTRICT sets the default; Debian: y.
    row("kernel.dmesg_restrict", Wanted::eq(1), Severity::Low, 1),
    // Yama.rst default is 1, but Debian's kernel patches Yama to start at 0.
    row(
        "kernel.yama.ptrace_scope",
        Wanted::at_least(1),
        Severity::Medium,
        0,
    ),
    // kernel.rst: CONFIG_BPF_UNPRIV_DEFAULT_OFF gives 2; Debian: y.
    row(
        "kernel.unprivileged_bpf_disabled",
        Wanted::at_least(1),
        Severity::Medium,
        2,
    ),
    // kernel.rst: default 2; Debian's kernel patch raises it to 3.
    row(
        "kernel.perf_event_paranoid",
        Wanted::at_least(2),
        Severity::Low,
        3,
    ),
    // fs.rst: the protected_* default to 0 (systemd's 99-protect-links.conf sets them).
    row("fs.protected_hardlinks", Wanted::eq(1), Severity::Medium, 0),
    row("fs.protected_symlinks", Wanted::eq(1), Severity::Medium, 0),
    row("fs.protected_fifos", Wanted::at_least(1), Severity::Low, 0),
    row(
        "fs.protected_regular",
        Wanted::at_least(1),
        Severity::Low,
        0,
    ),
    // fs.rst: suid_dumpable defaults to 0.
    row("fs.suid_dumpable", Wanted::eq(0), Severity::Medium, 0),
    // ip-sysctl.rst: accept_redirects TRUE on a host; send_redirects TRUE.
    row(
        "net.ipv4.conf.all.accept_redirects",
        Wanted::eq(0),
        Severity::Medium,
        1,
    ),
    row(
        "net.ipv4.conf.default.accept_redirects",
        Wanted::eq(0),
        Severity::Medium,
        1,
    ),
    row(
        "net.ipv4.conf.all.send_redirects",
        Wanted::eq(0),
        Severity::Low,
        1,
    ),
    row(
        "net.ipv4.conf.default.send_redirects",
        Wanted::eq(0),
        Severity::Low,
        1,
    ),
    // net/ipv4/devinet.c: "all" starts at 0, "default" at 1 (both must be on to accept).
    row(
        "net.ipv4.conf.all.accept_source_route",
        Wanted::eq(0),
        Severity::Medium,
        0,
    ),
    row(
        "net.ipv4.conf.default.accept_source_route",
        Wanted::eq(0),
        Severity::Medium,
        1,
    ),
    // ip-sysctl.rst: rp_filter default 0 (no source validation).
    row(
        "net.ipv4.conf.all.rp_filter",
        Wanted::eq(1),
        Severity::Low,
        0,
    ),
    row(
        "net.ipv4.conf.default.rp_filter",
        Wanted::eq(1),
        Severity::Low,
        0,
    ),
    // ip-sysctl.rst: tcp_syncookies default 1 (CONFIG_SYN_COOKIES=y).
    row(
        "net.ipv4.tcp_syncookies",
        Wanted::eq(1),
        Severity::Medium,
        1,
    ),
    // ip-sysctl.rst: log_martians default FALSE.
    row(
        "net.ipv4.conf.all.log_martians",
        Wanted::eq(1),
        Severity::Low,
        0,
    ),
    row(
        "net.ipv4.conf.default.log_martians",
        Wanted::eq(1),
        Severity::Low,
        0,
    ),
    // ip-sysctl.rst (IPv6): accept_redirects on when forwarding is off;
    // accept_source_route 0 (type 2 routing headers only).
    row(
        "net.ipv6.conf.all.accept_redirects",
        Wanted::eq(0),
        Severity::Medium,
        1,
    ),
    row(
        "net.ipv6.conf.default.accept_redirects",
        Wanted::eq(0),
        Severity::Medium,
        1,
    ),
    row(
        "net.ipv6.conf.all.accept_source_route",
        Wanted::eq(0),
        Severity::Medium,
        0,
    ),
    row(
        "net.ipv6.conf.default.accept_source_route",
        Wanted::eq(0),
        Severity::Medium,
        0,
    ),
];

/// The kernel document that states a key's default.
fn default_doc(key: &str) -> &'static str {
    if key.starts_with("kernel.yama.") {
        "Documentation/admin-guide/LSM/Yama.rst"
    } else if key.starts_with("kernel.") {
        "Documentation/admin-guide/sysctl/kernel.rst"
    } else if key.starts_with("fs.") {
        "Documentation/admin-guide/sysctl/fs.rst"
    } else {
        "Documentation/networking/ip-sysctl.rst"
    }
}

/// The live source of a key (`/proc/sys/kernel/kptr_restrict`).
pub(super) fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", normalize_key(key))
}

/// The assignment in force for `slash_key`: an explicit one wins over any
/// glob (systemd-sysctl: "Not setting … (explicit setting exists)");
/// otherwise the last glob read that matches it and that no `-key` line
/// excludes (sysctl.d(5)).
pub fn effective_for<'e>(eff: &'e Effective, slash_key: &str) -> Option<&'e Assignment> {
    if let Some(a) = eff.values.get(slash_key) {
        return Some(a);
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let order = |a: &Assignment| {
        (
            eff.files.iter().position(|f| *f == a.file).unwrap_or(0),
            a.line,
        )
    };
    let excluded = eff.exclusions.iter().any(|x| {
        x.key == slash_key
            || glob::Pattern::new(&x.key).is_ok_and(|p| p.matches_with(slash_key, opts))
    });
    if excluded {
        return None;
    }
    eff.values
        .values()
        .filter(|a| a.glob)
        .filter(|a| glob::Pattern::new(&a.key).is_ok_and(|p| p.matches_with(slash_key, opts)))
        .max_by_key(|a| order(a))
}

fn remediation(rule: &SysctlRule) -> String {
    let v = rule.wanted.value;
    format!(
        "set `{} = {v}` in a file of /etc/sysctl.d (e.g. /etc/sysctl.d/90-hardening.conf, \
         read after the packaged files) and apply it with `sysctl --system`",
        rule.key
    )
}

/// The KRN-01 findings about sysctls.
pub(super) fn findings(ctx: &AuditContext<'_>) -> Vec<Finding> {
    let max = usize::try_from(ctx.config.limits.max_included_files).unwrap_or(usize::MAX);
    let eff = load(ctx.root, max, &mut |d| ctx.warn(d));
    let live = ctx.live();
    let mut out = Vec::new();
    for rule in ctx.config.kernel.sysctl_rules() {
        let slash = normalize_key(&rule.key);
        let set = effective_for(&eff, &slash);
        // Outer None: not live; inner None: the key is absent from /proc/sys.
        let running: Option<Option<String>> = live.map(|h| h.sysctl(&dotted(&slash)));
        if let Some(f) = judge(ctx, &rule, set, running) {
            out.push(f);
        }
    }
    out
}

pub(super) fn judge(
    ctx: &AuditContext<'_>,
    rule: &SysctlRule,
    set: Option<&Assignment>,
    running: Option<Option<String>>,
) -> Option<Finding> {
    let proc = proc_path(&rule.key);
    let base = |title: String| {
        ctx.finding(KRN01, title)
            .severity(rule.severity)
            .ssg(&rule.ssg())
            .expected(format!("{} {}", rule.key, rule.wanted))
            .remediation(remediation(rule))
    };
    match (set, running) {
        // Configured, and the running kernel's value is known.
        (Some(a), Some(Some(run))) => {
            let conf_ok = rule.wanted.accepts_raw(&a.value);
            let run_ok = rule.wanted.accepts_raw(&run);
            let same = a.value.trim() == run.trim();
            let at = format!("{}:{}", a.file, a.line);
            if !conf_ok {
                let running = if same {
                    format!("running {} too ({proc})", q(&run))
                } else {
                    format!("running {} ({proc}) until the next boot", q(&run))
                };
                Some(
                    base(format!("{} is configured weakly", rule.key))
                        .at(&a.file, a.line)
                        .observed(format!("configured {} at {at}, {running}", q(&a.value)))
                        .build(),
                )
            } else if !run_ok {
                Some(
                    base(format!(
                        "{} is configured well but the running kernel holds a weak value",
                        rule.key
                    ))
                    .file(&proc)
                    .observed(format!(
                        "configured {} at {at}, running {} ({proc}): not applied, or changed since boot",
                        q(&a.value),
                        q(&run)
                    ))
                    .build(),
                )
            } else if !same {
                Some(
                    base(format!("{} runs with another value than configured", rule.key))
                        .severity(Severity::Info)
                        .file(&proc)
                        .observed(format!(
                            "configured {} at {at}, running {} ({proc}); both acceptable",
                            q(&a.value),
                            q(&run)
                        ))
                        .build(),
                )
            } else {
                None
            }
        }
        // Configured; not live, or the running kernel has no such key.
        (Some(a), running) => {
            let absent_live = matches!(running, Some(None));
            if !rule.wanted.accepts_raw(&a.value) {
                let tail = if absent_live {
                    format!("; the running kernel has no {proc}")
                } else {
                    String::new()
                };
                Some(
                    base(format!("{} is configured weakly", rule.key))
                        .at(&a.file, a.line)
                        .observed(format!(
                            "configured {} at {}:{}{tail}",
                            q(&a.value),
                            a.file,
                            a.line
                        ))
                        .build(),
                )
            } else if absent_live && !rule.absent_is_fine() {
                Some(
                    base(format!("the running kernel does not provide {}", rule.key))
                        .file(&proc)
                        .observed(format!(
                            "configured {} at {}:{}, but {proc} does not exist (the feature is not built in)",
                            q(&a.value),
                            a.file,
                            a.line
                        ))
                        .build(),
                )
            } else {
                None
            }
        }
        // Nobody sets it; the running value decides.
        (None, Some(Some(run))) => (!rule.wanted.accepts_raw(&run)).then(|| {
            base(format!("{} runs with a weak value and no file sets it", rule.key))
                .file(&proc)
                .observed(format!(
                    "running {} ({proc}); not set in any sysctl.d file",
                    q(&run)
                ))
                .build()
        }),
        (None, Some(None)) => (!rule.absent_is_fine()).then(|| {
            base(format!("the running kernel does not provide {}", rule.key))
                .file(&proc)
                .observed(format!(
                    "{proc} does not exist (the feature is not built in) and no file sets it"
                ))
                .build()
        }),
        // Offline and unset: judged by the kernel's default.
        (None, None) => match rule.kernel_default {
            Some(d) if rule.wanted.accepts(d) => None,
            Some(d) => Some(
                base(format!("{} is not set; the kernel default is weak", rule.key))
                    .file("/etc/sysctl.d")
                    .observed(format!(
                        "not set in any sysctl.d file or /etc/sysctl.conf; kernel default {d} assumed ({})",
                        default_doc(&rule.key)
                    ))
                    .build(),
            ),
            None => Some(
                base(format!("{} is not set", rule.key))
                    .file("/etc/sysctl.d")
                    .observed(
                        "not set in any sysctl.d file or /etc/sysctl.conf; the kernel default is not known"
                            .to_owned(),
                    )
                    .build(),
            ),
        },
    }
}
