//! FS-01, the mount part: `/tmp` and `/dev/shm` carry `nodev`, `nosuid`
//! and `noexec` (SSG `mount_option_tmp_*`, `mount_option_dev_shm_*`), so a
//! file anyone can drop there cannot be a device node, a SUID program or an
//! executable.
//!
//! Offline, the mount is what `/etc/fstab` says (fstab(5)); `/tmp` without
//! an fstab line is systemd's `tmp.mount` when a unit of that name is on the
//! unit search path (Debian 13 ships one; Debian 12 keeps it in
//! `/usr/share/systemd`, outside the path), else a plain directory of the
//! root filesystem, where no mount option can apply. `/dev/shm` without an
//! fstab line is mounted by systemd itself with `nosuid,nodev` only
//! (`mount_table` in systemd's src/shared/mount-setup.c). Live, the mount
//! table (`/proc/self/mounts`) says what is mounted now; it is reported when
//! it differs from what the configuration gives.

use crate::audit::AuditContext;
use crate::finding::{Finding, Severity};
use crate::parse::fstab::{self, FstabEntry};
use crate::parse::units::{self, UnitLookup};

const FS01: &str = "FS-01";
const FSTAB: &str = "/etc/fstab";
const FLAGS: [&str; 3] = ["nodev", "nosuid", "noexec"];

/// What the configuration gives a mount point.
struct Configured {
    /// Where it is configured (file, line); `None` with no line: not configured.
    file: String,
    line: Option<u32>,
    /// The options in force, or `None` when it is no mount at all.
    options: Option<Vec<String>>,
    /// Says how the options were found, for the report.
    how: String,
}

fn ssg_rule(target: &str, flag: &str) -> &'static str {
    match (target, flag) {
        ("/tmp", "nodev") => "mount_option_tmp_nodev",
        ("/tmp", "nosuid") => "mount_option_tmp_nosuid",
        ("/tmp", _) => "mount_option_tmp_noexec",
        (_, "nodev") => "mount_option_dev_shm_nodev",
        (_, "nosuid") => "mount_option_dev_shm_nosuid",
        _ => "mount_option_dev_shm_noexec",
    }
}

fn missing(options: &[String]) -> Vec<&'static str> {
    FLAGS
        .into_iter()
        .filter(|f| !fstab::has_flag(options, f))
        .collect()
}

fn configured(ctx: &AuditContext<'_>, fstab: &[FstabEntry], target: &str) -> Configured {
    if let Some(e) = fstab::mounted_at(fstab, target) {
        return Configured {
            file: FSTAB.to_owned(),
            line: Some(e.line),
            options: Some(e.options.clone()),
            how: format!("{FSTAB}:{}: {} {}", e.line, e.fstype, e.options.join(",")),
        };
    }
    if target == "/dev/shm" {
        return Configured {
            file: FSTAB.to_owned(),
            line: None,
            options: Some(vec!["nosuid".to_owned(), "nodev".to_owned()]),
            how: "not in /etc/fstab: systemd mounts it nosuid,nodev".to_owned(),
        };
    }
    if let UnitLookup::Found(u) = units::load_system_unit(ctx, "tmp.mount") {
        if let Some(d) = u.list("Mount", "Options").last() {
            return Configured {
                file: d.file.clone(),
                line: Some(d.line),
                options: Some(d.value.split(',').map(|s| s.trim().to_owned()).collect()),
                how: format!("{}:{}: tmp.mount Options={}", d.file, d.line, d.value),
            };
        }
        return Configured {
            file: u.fragment.clone(),
            line: None,
            options: Some(Vec::new()),
            how: format!("{}: tmp.mount without Options=", u.fragment),
        };
    }
    Configured {
        file: FSTAB.to_owned(),
        line: None,
        options: None,
        how: "no /etc/fstab line and no tmp.mount unit: /tmp is a directory of the root filesystem"
            .to_owned(),
    }
}

pub(super) fn findings(ctx: &AuditContext<'_>) -> Vec<Finding> {
    let fstab = ctx
        .read_text(FSTAB)
        .map(|t| fstab::parse(&t, &mut |d| ctx.warn(d)))
        .unwrap_or_default();
    let live = ctx.live().and_then(|h| h.mounts());
    let mut out = Vec::new();
    for target in ["/tmp", "/dev/shm"] {
        let c = configured(ctx, &fstab, target);
        let conf_missing = c.options.as_deref().map(missing);
        let rules_for = |m: &[&str]| m.iter().map(|f| ssg_rule(target, f)).collect::<Vec<_>>();
        let base = |title: String, m: &[&str]| {
            ctx.finding(FS01, title)
                .ssg(&rules_for(m))
                .expected("nodev,nosuid,noexec")
                .remediation(format!(
                    "mount {target} with nodev,nosuid,noexec: an /etc/fstab line such as \
                     `tmpfs {target} tmpfs nodev,nosuid,noexec,mode=1777 0 0`"
                ))
        };
        match &conf_missing {
            Some(m) if !m.is_empty() => {
                let b = base(format!("{target} is mounted without {}", m.join(",")), m)
                    .observed(c.how.clone());
                let b = match c.line {
                    Some(l) => b.at(&c.file, l),
                    None => b.file(&c.file),
                };
                out.push(b.build());
            }
            Some(_) => {}
            None => out.push(
                base(format!("{target} is not a separate mount"), &FLAGS)
                    .severity(Severity::Low)
                    .file(&c.file)
                    .observed(c.how.clone())
                    .build(),
            ),
        }
        let Some(mounts) = &live else {
            continue;
        };
        let now = mounts
            .iter()
            .rev()
            .find(|m| m.target.trim_end_matches('/') == target);
        let live_missing = now.map(|m| missing(&m.options));
        if live_missing == conf_missing {
            continue;
        }
        let observed = match now {
            Some(m) => format!(
                "mounted now: {} {} {} (/proc/self/mounts); configured: {}",
                m.source,
                m.fstype,
                m.options.join(","),
                c.how
            ),
            None => format!("not mounted now (/proc/self/mounts); configured: {}", c.how),
        };
        match &live_missing {
            Some(m) if !m.is_empty() => out.push(
                base(
                    format!("{target} is mounted now without {}", m.join(",")),
                    m,
                )
                .file("/proc/self/mounts")
                .observed(observed)
                .build(),
            ),
            Some(_) => {}
            None => out.push(
                base(format!("{target} is not mounted now"), &FLAGS)
                    .severity(Severity::Low)
                    .file("/proc/self/mounts")
                    .observed(observed)
                    .build(),
            ),
        }
    }
    out
}
