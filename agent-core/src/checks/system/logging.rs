//! LOG-01: the audit daemon records something and keeps its log bounded
//! without silently dropping records; the journal survives a reboot; the
//! clock is synchronised (audit records need a trustworthy time).

use super::{q, warn_at};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::parse::auditd::{
    AUDIT_RULES, AUDITD_CONF, RULES_DIR, parse_auditd_conf, recording_rules,
};
use crate::parse::session::{read_keyfiles, systemd_dropins};
use crate::root::{FileKind, join};

/// journald's main configuration file, searched in these directories in
/// order (journald.conf(5), systemd's `CONF_PATHS`); the first found is read.
pub const JOURNALD_MAIN: &[&str] = &[
    "/etc/systemd/journald.conf",
    "/run/systemd/journald.conf",
    "/usr/local/lib/systemd/journald.conf",
    "/usr/lib/systemd/journald.conf",
];

/// journald's drop-in directories, highest priority first (systemd.syntax(7),
/// journald.conf(5) "CONFIGURATION DIRECTORIES AND PRECEDENCE").
pub const JOURNALD_DROPIN_DIRS: &[&str] = &[
    "/etc/systemd/journald.conf.d",
    "/run/systemd/journald.conf.d",
    "/usr/local/lib/systemd/journald.conf.d",
    "/usr/lib/systemd/journald.conf.d",
    "/lib/systemd/journald.conf.d",
];

/// Where units are enabled by the administrator (`systemctl enable` makes
/// `*.wants/` links here).
pub const UNIT_DIR: &str = "/etc/systemd/system";

/// The auditd programs (its presence means auditd is installed).
const AUDITD_BINARIES: &[&str] = &["/usr/sbin/auditd", "/sbin/auditd"];

/// Time synchronisation services: unit name and the process name it runs
/// (`comm`, at most 15 characters).
const TIME_SERVICES: &[(&str, &str)] = &[
    ("systemd-timesyncd.service", "systemd-timesyn"),
    ("chrony.service", "chronyd"),
    ("chronyd.service", "chronyd"),
    ("ntp.service", "ntpd"),
    ("ntpsec.service", "ntpd"),
    ("ntpd.service", "ntpd"),
    ("openntpd.service", "ntpd"),
];

/// LOG-01 (Lynis ACCT-9628..9634, TIME-3104; IEC 62443-4-2 CR 2.8–2.11,
/// CR 3.9, CR 6.1).
///
/// auditd (auditd.conf(5)): installed and enabled (medium); at least one
/// watch or syscall rule in `rules.d` or `audit.rules` (medium);
/// `max_log_file_action` is not `ignore`, `syslog` or `suspend` (the log
/// grows without bound or stops), `space_left_action` is not `ignore`,
/// `disk_full_action` is neither `ignore` nor `suspend`, and `num_logs` is
/// at least 2 when logs rotate.
///
/// journald: the effective `Storage=` (main file, then drop-ins by name,
/// journald.conf(5)) is `persistent`, or `auto` with `/var/log/journal`
/// present (medium otherwise: logs are lost at reboot).
///
/// Time: a synchronisation service (systemd-timesyncd, chrony, ntpd) is
/// enabled, and not masked (medium).
///
/// Live (root `/` with a process table): an enabled auditd or time service
/// that is not running is a medium finding.
pub fn log01_audit_logging(ctx: &AuditContext<'_>) -> CheckOutcome {
    let mut out = Vec::new();
    let wants = enabled_units(ctx);
    let auditd_enabled = auditd(ctx, &wants, &mut out);
    journald(ctx, &mut out);
    let time_units = time_sync(ctx, &wants, &mut out);
    live(ctx, auditd_enabled, &time_units, &mut out);
    CheckOutcome::Ran(out)
}

/// `(unit, link)` of every `*.wants` link under [`UNIT_DIR`], minus masked units.
fn enabled_units(ctx: &AuditContext<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(Some(dirs)) = ctx.root.read_dir(UNIT_DIR) else {
        return out;
    };
    for d in dirs.iter().filter(|d| d.ends_with(".wants")) {
        let dir = join(UNIT_DIR, d);
        if let Ok(Some(names)) = ctx.root.read_dir(&dir) {
            out.extend(names.into_iter().map(|n| {
                let link = join(&dir, &n);
                (n, link)
            }));
        }
    }
    out.retain(|(unit, _)| {
        !matches!(ctx.root.read_link(&join(UNIT_DIR, unit)), Ok(Some(t)) if t == "/dev/null")
    });
    out
}

fn is_enabled(wants: &[(String, String)], unit: &str) -> bool {
    wants.iter().any(|(u, _)| u == unit)
}

/// Returns whether auditd is enabled.
fn auditd(ctx: &AuditContext<'_>, wants: &[(String, String)], out: &mut Vec<Finding>) -> bool {
    let conf_present =
        matches!(ctx.root.metadata(AUDITD_CONF), Ok(Some(m)) if m.kind == FileKind::File);
    let installed = conf_present || AUDITD_BINARIES.iter().any(|b| ctx.root.exists(b));
    if !installed {
        out.push(
            ctx.finding("LOG-01", "the audit daemon is not installed: security events are not recorded")
                .file(AUDITD_CONF)
                .observed("no auditd, no /etc/audit/auditd.conf")
                .expected("auditd installed, enabled, with rules")
                .remediation("apt-get install auditd; add rules to /etc/audit/rules.d; systemctl enable --now auditd.")
                .ssg(&["service_auditd_enabled"])
                .build(),
        );
        return false;
    }
    let enabled = is_enabled(wants, "auditd.service");
    if !enabled {
        out.push(
            ctx.finding("LOG-01", "the audit daemon is not enabled")
                .file("/etc/systemd/system/multi-user.target.wants/auditd.service")
                .observed("no *.wants link to auditd.service (or it is masked)")
                .expected("auditd.service enabled")
                .remediation("systemctl enable --now auditd")
                .ssg(&["service_auditd_enabled"])
                .build(),
        );
    }
    if conf_present {
        if let Some(t) = ctx.read_text(AUDITD_CONF) {
            let conf = parse_auditd_conf(&t, &mut |d| ctx.warn(d));
            auditd_conf(ctx, &conf, out);
        }
    }
    let mut rules = 0usize;
    let files = ctx.dir_files(RULES_DIR).unwrap_or_default();
    for f in files.iter().filter(|f| f.ends_with(".rules")) {
        if let Some(t) = ctx.read_text(f) {
            rules = rules.saturating_add(recording_rules(&t).len());
        }
    }
    if rules == 0 {
        if let Some(t) = ctx.read_text(AUDIT_RULES) {
            rules = recording_rules(&t).len();
        }
    }
    if rules == 0 {
        out.push(
            ctx.finding("LOG-01", "the audit daemon has no rules: it records almost nothing")
                .file(RULES_DIR)
                .observed("no -w or -a rule in /etc/audit/rules.d/*.rules or /etc/audit/audit.rules")
                .expected("watches of the identity, sudoers, SSH and dha files and execve/privilege rules")
                .remediation("Add rules in /etc/audit/rules.d/*.rules (e.g. -w /etc/passwd -p wa -k identity) and run augenrules --load.")
                .ssg(&[])
                .build(),
        );
    }
    enabled
}

fn auditd_conf(
    ctx: &AuditContext<'_>,
    conf: &crate::parse::auditd::AuditdConf,
    out: &mut Vec<Finding>,
) {
    let path = conf.path.as_str();
    // (keyword, values refused, why, SSG rule).
    let rules: [(&str, &[&str], &str, &str); 3] = [
        (
            "max_log_file_action",
            &["ignore", "syslog", "suspend"],
            "when the log is full it grows without bound or stops recording",
            "auditd_data_retention_max_log_file_action",
        ),
        (
            "space_left_action",
            &["ignore"],
            "nobody is warned when the disk is nearly full",
            "auditd_data_retention_space_left_action",
        ),
        (
            "disk_full_action",
            &["ignore", "suspend"],
            "records are dropped when the disk is full",
            "auditd_data_disk_full_action",
        ),
    ];
    for (key, refused, why, ssg) in rules {
        if let Some((v, line)) = conf.get(key) {
            if refused.iter().any(|r| v.eq_ignore_ascii_case(r)) {
                out.push(
                    ctx.finding("LOG-01", format!("auditd {key} = {v}: {why}"))
                        .at(path, line)
                        .observed(format!("{key} = {}", q(v)))
                        .expected(format!("{key} other than {}", refused.join(", ")))
                        .remediation(format!(
                            "Set {key} = {} in {path}.",
                            if key == "max_log_file_action" {
                                "keep_logs (or rotate with num_logs ≥ 2)"
                            } else if key == "space_left_action" {
                                "email or exec"
                            } else {
                                "halt or single"
                            }
                        ))
                        .ssg(&[ssg])
                        .build(),
                );
            }
        }
    }
    let rotate = conf
        .get("max_log_file_action")
        .is_some_and(|(v, _)| v.eq_ignore_ascii_case("rotate"));
    if let Some((v, line)) = conf.get("num_logs") {
        match v.parse::<u32>() {
            Ok(n) if rotate && n < 2 => out.push(
                ctx.finding(
                    "LOG-01",
                    "auditd keeps a single log file when it rotates: old records are lost at once",
                )
                .severity(Severity::Low)
                .at(path, line)
                .observed(format!("num_logs = {n}"))
                .expected("num_logs of at least 2")
                .remediation(format!("Set num_logs = 5 in {path}."))
                .ssg(&["auditd_data_retention_num_logs"])
                .build(),
            ),
            Ok(_) => {}
            Err(_) => warn_at(
                ctx,
                path,
                Some(line),
                "num_logs",
                format!("{} is not a number", q(v)),
            ),
        }
    }
}

fn journald(ctx: &AuditContext<'_>, out: &mut Vec<Finding>) {
    let mut paths = Vec::new();
    let main = JOURNALD_MAIN
        .iter()
        .find(|p| matches!(ctx.root.metadata(p), Ok(Some(m)) if m.kind == FileKind::File));
    if let Some(m) = main {
        paths.push((*m).to_owned());
    }
    let dirs: Vec<String> = JOURNALD_DROPIN_DIRS
        .iter()
        .map(|d| (*d).to_owned())
        .collect();
    paths.extend(systemd_dropins(ctx, &dirs));
    let files = read_keyfiles(ctx, &paths, true, &mut |d| ctx.warn(d));
    let effective = files
        .iter()
        .rev()
        .find_map(|f| f.get("Journal", "Storage").map(|e| (f.path.as_str(), e)));
    let journal_dir =
        matches!(ctx.root.metadata("/var/log/journal"), Ok(Some(m)) if m.kind == FileKind::Dir);
    let (value, at) = match effective {
        Some((p, e)) => (e.value.to_ascii_lowercase(), Some((p, e.line))),
        None => ("auto".to_owned(), None),
    };
    let persistent = value == "persistent" || (value == "auto" && journal_dir);
    if persistent {
        return;
    }
    let f = ctx
        .finding(
            "LOG-01",
            "the journal is not kept on disk: logs are lost at reboot",
        )
        .observed(if value == "auto" {
            "Storage=auto (the default) and no /var/log/journal directory".to_owned()
        } else {
            format!("Storage={}", q(&value))
        })
        .expected("Storage=persistent")
        .remediation("Set Storage=persistent in /etc/systemd/journald.conf.d/50-persistent.conf.")
        .ssg(&["journald_storage"]);
    out.push(match at {
        Some((p, line)) => f.at(p, line).build(),
        None => f
            .file(main.copied().unwrap_or("/etc/systemd/journald.conf"))
            .build(),
    });
}

/// Returns the enabled time services (unit, process name).
fn time_sync(
    ctx: &AuditContext<'_>,
    wants: &[(String, String)],
    out: &mut Vec<Finding>,
) -> Vec<(&'static str, &'static str)> {
    let enabled: Vec<(&str, &str)> = TIME_SERVICES
        .iter()
        .copied()
        .filter(|(u, _)| is_enabled(wants, u))
        .collect();
    if enabled.is_empty() {
        out.push(
            ctx.finding("LOG-01", "no time synchronisation service is enabled: audit records may carry a wrong time")
                .file(UNIT_DIR)
                .observed("none of systemd-timesyncd, chrony, ntpd enabled (or masked)")
                .expected("systemd-timesyncd or chrony enabled, synchronising with the hospital's time server")
                .remediation("systemctl enable --now systemd-timesyncd (NTP= in /etc/systemd/timesyncd.conf), or install chrony.")
                .ssg(&["service_systemd-timesyncd_enabled", "service_chronyd_or_ntpd_enabled"])
                .build(),
        );
    }
    enabled
}

fn live(
    ctx: &AuditContext<'_>,
    auditd_enabled: bool,
    time_units: &[(&str, &str)],
    out: &mut Vec<Finding>,
) {
    let Some(procs) = ctx.live().and_then(|h| h.processes()) else {
        return;
    };
    let running = |name: &str| {
        procs.iter().any(|p| {
            !p.kernel_thread
                && (p.name == name
                    || p.exe
                        .as_deref()
                        .and_then(|e| e.rsplit('/').next())
                        .is_some_and(|b| b.starts_with(name)))
        })
    };
    let mut expect: Vec<(&str, &str, &str)> = Vec::new();
    if auditd_enabled {
        expect.push(("auditd.service", "auditd", "service_auditd_enabled"));
    }
    let time_ssg = |u: &str| {
        if u.starts_with("systemd-timesyncd") {
            "service_systemd-timesyncd_enabled"
        } else {
            "service_chronyd_or_ntpd_enabled"
        }
    };
    if !time_units.is_empty() && !time_units.iter().any(|(_, p)| running(p)) {
        if let Some((u, p)) = time_units.first() {
            expect.push((u, p, time_ssg(u)));
        }
    }
    for (unit, proc_name, ssg) in expect {
        if !running(proc_name) {
            out.push(
                ctx.finding("LOG-01", format!("{unit} is enabled but not running"))
                    .file("/proc")
                    .observed(format!("no process {}", q(proc_name)))
                    .expected(format!("{unit} running"))
                    .remediation(format!(
                        "systemctl start {unit}; see journalctl -u {unit} for why it stopped."
                    ))
                    .ssg(&[ssg])
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, locations};

    fn hardened() -> TestRoot {
        let t = TestRoot::new(&[
            (
                AUDITD_CONF,
                "max_log_file = 8\nnum_logs = 5\nmax_log_file_action = keep_logs\n\
                 space_left_action = email\ndisk_full_action = halt\n",
            ),
            (
                "/etc/audit/rules.d/10-identity.rules",
                "-w /etc/passwd -p wa -k identity\n",
            ),
            (
                "/etc/systemd/journald.conf",
                "[Journal]\nStorage=persistent\n",
            ),
        ]);
        t.link(
            "/etc/systemd/system/multi-user.target.wants/auditd.service",
            "/usr/lib/systemd/system/auditd.service",
        );
        t.link(
            "/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service",
            "/usr/lib/systemd/system/systemd-timesyncd.service",
        );
        t
    }

    #[test]
    fn a_configured_system_passes() {
        let r = hardened().audit("LOG-01", log01_audit_logging);
        assert!(r.findings.is_empty() && r.warnings.is_empty(), "{r:?}");
    }

    #[test]
    fn weak_settings_are_reported_at_their_lines() {
        let t = hardened();
        t.write(
            AUDITD_CONF,
            "max_log_file_action = IGNORE\nspace_left_action = ignore\n\
             disk_full_action = suspend\nnum_logs = x\n",
        );
        t.write("/etc/audit/rules.d/10-identity.rules", "-D\n-b 8192\n");
        t.write(
            "/etc/systemd/journald.conf.d/10-volatile.conf",
            "[Journal]\nStorage=volatile\n",
        );
        t.link("/etc/systemd/system/systemd-timesyncd.service", "/dev/null");
        let r = t.audit("LOG-01", log01_audit_logging);
        assert_eq!(
            locations(&r),
            [
                "/etc/audit/auditd.conf:1",
                "/etc/audit/auditd.conf:2",
                "/etc/audit/auditd.conf:3",
                "/etc/audit/rules.d",
                "/etc/systemd/journald.conf.d/10-volatile.conf:2",
                "/etc/systemd/system",
            ]
        );
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    }

    #[test]
    fn auto_storage_needs_the_journal_directory() {
        let t = hardened();
        t.write("/etc/systemd/journald.conf", "[Journal]\n#Storage=auto\n");
        let r = t.audit("LOG-01", log01_audit_logging);
        assert_eq!(locations(&r), ["/etc/systemd/journald.conf"]);
        t.mkdir("/var/log/journal", 0o2755);
        assert!(t.audit("LOG-01", log01_audit_logging).findings.is_empty());
    }

    #[test]
    fn no_auditd_at_all() {
        let t = TestRoot::new(&[]);
        let r = t.audit("LOG-01", log01_audit_logging);
        assert_eq!(
            locations(&r),
            [AUDITD_CONF, "/etc/systemd/journald.conf", UNIT_DIR]
        );
    }
}
