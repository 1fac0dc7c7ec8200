//! Running checks against a root: the [`AuditContext`] they read through, and [`Auditor`].

use crate::catalogue::{self, CATALOGUE, CheckInfo};
use crate::clock::{Clock, rfc3339_millis};
use crate::config::Config;
use crate::finding::{Diagnostic, Evidence, Finding, Severity};
use crate::report::{
    AgentInfo, CheckResult, CheckStatus, DeviceIdentity, Report, SCHEMA_VERSION, SeverityCounts,
};
use crate::root::{Root, TextFile};
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// What a check returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The check ran; an empty list means it passed.
    Ran(Vec<Finding>),
    /// The check's inputs are absent; the string says which and why.
    NotApplicable(String),
}

/// A check: reads through the context, returns its outcome. Must not panic.
pub type CheckFn = fn(&AuditContext<'_>) -> CheckOutcome;

/// A parsed input that checks share; loaded at most once per audit.
///
/// Implement it for each parsed file set (`Accounts`, `PamStacks`, …) in the
/// module that parses it; a check then calls `ctx.get::<T>()`.
pub trait Source: Any {
    /// Loads (reads and parses) the input from the context's root, reporting
    /// malformed lines through [`AuditContext::warn`]. Must not panic.
    fn load(ctx: &AuditContext<'_>) -> Self
    where
        Self: Sized;
}

/// Host facts that only the live system knows (implemented in agent-linux).
///
/// Every method but `hostname` has a default that answers `None`: "not
/// measurable here". Checks consult a probe only when the root is live.
pub trait HostProbe {
    /// The running system's host name.
    fn hostname(&self) -> Option<String>;

    /// The value the kernel holds for a sysctl (dotted name,
    /// `kernel.randomize_va_space`), read from `/proc/sys`, trimmed.
    fn sysctl(&self, _dotted: &str) -> Option<String> {
        None
    }

    /// The names of the loaded kernel modules (`/proc/modules`).
    fn loaded_modules(&self) -> Option<Vec<String>> {
        None
    }

    /// The mounted filesystems (`/proc/self/mounts`).
    fn mounts(&self) -> Option<Vec<crate::live::Mount>> {
        None
    }

    /// The kernel command line (`/proc/cmdline`).
    fn kernel_cmdline(&self) -> Option<String> {
        None
    }

    /// UEFI Secure Boot state (the `SecureBoot` EFI variable): `None` when
    /// the system did not boot through UEFI or the variable is absent.
    fn secure_boot(&self) -> Option<bool> {
        None
    }

    /// The number of IMA measurements (`/sys/kernel/security/ima/
    /// runtime_measurements_count`): `None` when IMA is not available.
    fn ima_measurements(&self) -> Option<u64> {
        None
    }

    /// The EVM mode (`/sys/kernel/security/evm`): `None` when EVM is not available.
    fn evm_mode(&self) -> Option<u32> {
        None
    }

    /// The device-mapper devices (`/sys/block/dm-*/dm`).
    fn dm_devices(&self) -> Option<Vec<crate::live::DmDevice>> {
        None
    }

    /// The listening sockets with their owning processes.
    fn listening_sockets(&self) -> Option<Vec<crate::live::ListeningSocket>> {
        None
    }

    /// The process table.
    fn processes(&self) -> Option<Vec<crate::live::ProcessInfo>> {
        None
    }

    /// The SHA-256 (lower-case hex) of the executable a process runs, read
    /// through `/proc/PID/exe` (so a replaced file cannot hide the binary).
    fn executable_sha256(&self, _pid: u32) -> Option<String> {
        None
    }

    /// The firewall ruleset: `None` when no firewall tool is installed;
    /// `Some(Err)` when it could not be read (the message says why).
    fn firewall(&self) -> Option<Result<crate::live::FirewallRuleset, String>> {
        None
    }

    /// Space on the filesystem holding `path` (statvfs).
    fn fs_usage(&self, _path: &std::path::Path) -> Option<crate::live::FsUsage> {
        None
    }
}

/// What a check reads through: the root, the configuration, the clock, and a
/// cache of parsed inputs.
pub struct AuditContext<'a> {
    /// The audited filesystem.
    pub root: &'a Root,
    /// The configuration.
    pub config: &'a Config,
    /// The clock (shadow dates are compared with it).
    pub clock: &'a dyn Clock,
    /// The live host: `Some` only when the root is the live `/` and the
    /// caller supplied a probe.
    pub host: Option<&'a dyn HostProbe>,
    cache: RefCell<HashMap<TypeId, Rc<dyn Any>>>,
    warnings: RefCell<Vec<Diagnostic>>,
}

impl<'a> AuditContext<'a> {
    /// A context over a root.
    pub fn new(root: &'a Root, config: &'a Config, clock: &'a dyn Clock) -> Self {
        AuditContext {
            root,
            config,
            clock,
            host: None,
            cache: RefCell::new(HashMap::new()),
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// The same context with a live host probe (used only when the root is live).
    pub fn with_host(mut self, host: Option<&'a dyn HostProbe>) -> Self {
        self.host = host.filter(|_| self.root.is_live());
        self
    }

    /// The live host probe, when the root is the live `/`.
    pub fn live(&self) -> Option<&'a dyn HostProbe> {
        self.host
    }

    /// The parsed input `T`, loaded on first use.
    pub fn get<T: Source>(&self) -> Rc<T> {
        let key = TypeId::of::<T>();
        let cached = self.cache.borrow().get(&key).cloned();
        if let Some(any) = cached {
            if let Ok(t) = any.downcast::<T>() {
                return t;
            }
        }
        // Not holding the borrow while loading: a source may load others.
        let value = Rc::new(T::load(self));
        self.cache
            .borrow_mut()
            .insert(key, value.clone() as Rc<dyn Any>);
        value
    }

    /// Records a problem with an input (shown in the report's warnings).
    pub fn warn(&self, d: Diagnostic) {
        log::warn!("{d}");
        self.warnings.borrow_mut().push(d);
    }

    /// Reads a text file, turning read errors and truncation into warnings.
    /// `None` when the file is absent or unreadable.
    pub fn read_text(&self, device_path: &str) -> Option<TextFile> {
        match self.root.read_text(device_path) {
            Ok(Some(t)) => {
                if t.truncated {
                    self.warn(Diagnostic {
                        file: t.path.clone(),
                        line: None,
                        field: None,
                        message: format!(
                            "larger than the read limit of {} bytes; the rest was ignored",
                            self.root.limits().max_file_bytes
                        ),
                    });
                }
                if t.lossy {
                    self.warn(Diagnostic {
                        file: t.path.clone(),
                        line: None,
                        field: None,
                        message: "holds bytes that are not UTF-8; they were replaced".to_owned(),
                    });
                }
                Some(t)
            }
            Ok(None) => None,
            Err(e) => {
                self.warn(Diagnostic {
                    file: crate::root::display_path(device_path),
                    line: None,
                    field: None,
                    message: e.to_string(),
                });
                None
            }
        }
    }

    /// The regular files of a drop-in directory, sorted by name (hidden files
    /// skipped), like [`Root::dir_files`], but an entry that is a FIFO, socket
    /// or device, or that cannot be resolved, becomes a warning: a FIFO in
    /// `/etc/profile.d` is never opened, yet the report says it is there.
    pub fn dir_files(&self, dir: &str) -> Result<Vec<String>, crate::root::RootError> {
        let Some(names) = self.root.read_dir(dir)? else {
            return Ok(Vec::new());
        };
        let base = crate::root::display_path(dir);
        let mut out = Vec::new();
        for name in names {
            if name.starts_with('.') {
                continue;
            }
            let path = crate::root::join(&base, &name);
            let problem = match self.root.metadata(&path) {
                Ok(Some(m)) if m.kind == crate::root::FileKind::File => {
                    out.push(path);
                    continue;
                }
                Ok(Some(m)) if m.kind == crate::root::FileKind::Other => {
                    "not a regular file (a FIFO, socket or device): not read".to_owned()
                }
                Ok(_) => continue,
                Err(e) => e.to_string(),
            };
            self.warn(Diagnostic {
                file: path,
                line: None,
                field: None,
                message: problem,
            });
        }
        Ok(out)
    }

    /// Starts a finding of check `id` with its catalogue severity and references.
    pub fn finding(&self, id: &str, title: impl Into<String>) -> FindingBuilder {
        let info = catalogue::lookup(id);
        FindingBuilder {
            f: Finding {
                check_id: id.to_owned(),
                severity: info.map_or(Severity::Medium, |i| i.default_severity),
                title: title.into(),
                evidence: Evidence::default(),
                remediation: String::new(),
                references: info.map(CheckInfo::references).unwrap_or_default(),
            },
        }
    }

    fn take_warnings(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }
}

/// Builds a [`Finding`] step by step.
#[derive(Debug, Clone)]
#[must_use]
pub struct FindingBuilder {
    f: Finding,
}

impl FindingBuilder {
    /// Sets the severity.
    pub fn severity(mut self, s: Severity) -> Self {
        self.f.severity = s;
        self
    }
    /// Sets the file and line.
    pub fn at(mut self, file: impl Into<String>, line: u32) -> Self {
        self.f.evidence.file = Some(file.into());
        self.f.evidence.line = Some(line);
        self
    }
    /// Sets the file alone (the finding is about the whole file, or about its absence).
    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.f.evidence.file = Some(file.into());
        self
    }
    /// Sets the value seen.
    pub fn observed(mut self, v: impl Into<String>) -> Self {
        self.f.evidence.observed = Some(v.into());
        self
    }
    /// Sets the value wanted.
    pub fn expected(mut self, v: impl Into<String>) -> Self {
        self.f.evidence.expected = Some(v.into());
        self
    }
    /// Sets the remediation.
    pub fn remediation(mut self, r: impl Into<String>) -> Self {
        self.f.remediation = r.into();
        self
    }
    /// Narrows the SSG references to the rule(s) this finding is about.
    pub fn ssg(mut self, rules: &[&str]) -> Self {
        self.f.references.ssg = rules.iter().map(|r| (*r).to_owned()).collect();
        self
    }
    /// The finding.
    pub fn build(self) -> Finding {
        self.f
    }
}

/// Runs the catalogue's checks against a root.
pub struct Auditor<'a> {
    config: &'a Config,
    clock: &'a dyn Clock,
    host: Option<&'a dyn HostProbe>,
}

impl<'a> Auditor<'a> {
    /// An auditor with a configuration and a clock.
    pub fn new(config: &'a Config, clock: &'a dyn Clock) -> Self {
        Auditor {
            config,
            clock,
            host: None,
        }
    }

    /// Uses live host facts (for `/`).
    pub fn with_host(mut self, host: &'a dyn HostProbe) -> Self {
        self.host = Some(host);
        self
    }

    /// Audits `root` with every check of the catalogue.
    pub fn run(&self, root: &Root) -> Report {
        self.run_checks(root, crate::checks::REGISTRY)
    }

    /// Audits `root` with the given checks (id, function).
    pub fn run_checks(&self, root: &Root, checks: &[(&'static str, CheckFn)]) -> Report {
        let started = self.clock.now();
        let ctx = AuditContext::new(root, self.config, self.clock).with_host(self.host);
        let mut findings = Vec::new();
        let mut results = Vec::new();
        for info in CATALOGUE {
            let Some((_, run)) = checks.iter().find(|(id, _)| *id == info.id) else {
                continue;
            };
            let settings = self.config.check(info.id);
            let mut result = CheckResult {
                id: info.id.to_owned(),
                title: info.title.to_owned(),
                status: CheckStatus::Pass,
                findings: 0,
                reason: None,
            };
            if settings.enabled == Some(false) {
                result.status = CheckStatus::Disabled;
                results.push(result);
                continue;
            }
            log::debug!("running {}", info.id);
            match run(&ctx) {
                CheckOutcome::Ran(mut fs) => {
                    if let Some(sev) = settings.severity {
                        for f in &mut fs {
                            f.severity = sev;
                        }
                    }
                    result.findings = fs.len();
                    if !fs.is_empty() {
                        result.status = CheckStatus::Fail;
                    }
                    findings.extend(fs);
                }
                CheckOutcome::NotApplicable(reason) => {
                    result.status = CheckStatus::NotApplicable;
                    result.reason = Some(reason);
                }
            }
            results.push(result);
        }
        let device = self.identity(&ctx);
        let finished = self.clock.now();
        Report {
            schema_version: SCHEMA_VERSION,
            agent: AgentInfo {
                name: "dha".to_owned(),
                version: crate::VERSION.to_owned(),
            },
            device,
            root: root.dir().display().to_string(),
            started: rfc3339_millis(started),
            finished: rfc3339_millis(finished),
            counts: SeverityCounts::of(&findings),
            findings,
            checks: results,
            warnings: ctx.take_warnings(),
        }
    }

    fn identity(&self, ctx: &AuditContext<'_>) -> DeviceIdentity {
        let hostname = if ctx.root.is_live() {
            self.host.and_then(HostProbe::hostname)
        } else {
            None
        }
        .or_else(|| {
            ctx.read_text("/etc/hostname").and_then(|t| {
                t.lines()
                    .map(|(_, l)| l.trim().to_owned())
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
            })
        });
        let os = ctx
            .read_text("/etc/os-release")
            .or_else(|| ctx.read_text("/usr/lib/os-release"));
        DeviceIdentity {
            hostname,
            os_release: os.map(|t| parse_os_release(&t)).unwrap_or_default(),
        }
    }
}

/// Parses `os-release(5)`: `KEY=value` lines, values optionally quoted.
pub fn parse_os_release(t: &TextFile) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for (_, line) in t.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        out.insert(k.to_owned(), v.replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    out
}
