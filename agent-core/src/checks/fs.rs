//! FS-01: world-writable files and directories without the sticky bit, the
//! SUID/SGID inventory against `[allow] suid`, and the mount options of
//! `/tmp` and `/dev/shm`.
//!
//! The tree walk ([`walk`]) starts at the root and never follows a symbolic
//! link; it skips `/proc`, `/sys`, `/dev` and `/run` (kernel and runtime
//! state, not the device's files) and, on the live `/`, every mount whose
//! filesystem is a pseudo or network filesystem ([`SKIPPED_FSTYPES`]); it
//! stops after `[limits] max_walk_entries` entries with a warning.

use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Diagnostic, Finding, Severity};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

mod mounts;
#[cfg(test)]
mod tests;

const FS01: &str = "FS-01";

/// Findings listed per kind (world-writable file, world-writable directory,
/// SUID/SGID); beyond it one finding counts the rest, so a tree with
/// thousands of them gives a readable report.
pub const MAX_FINDINGS_PER_KIND: usize = 100;

/// Directories never walked: kernel and runtime state, not files of the device.
pub const SKIPPED_DIRS: &[&str] = &["/proc", "/sys", "/dev", "/run"];

/// Filesystems whose mounts the live walk skips: pseudo filesystems (kernel
/// state) and network filesystems (another machine's files, and a walk that
/// could hang on an unreachable server). `fuse.*` is skipped too. `tmpfs` is
/// walked on purpose: a SUID or world-writable file dropped in `/tmp` is
/// exactly what FS-01 is for (`/run` and `/dev/shm` are skipped by path).
pub const SKIPPED_FSTYPES: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "securityfs",
    "cgroup",
    "cgroup2",
    "pstore",
    "bpf",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "efivarfs",
    "selinuxfs",
    "rpc_pipefs",
    "nsfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ceph",
    "glusterfs",
    "9p",
    "virtiofs",
    "afs",
    "fuse",
];

/// What the walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkResult {
    /// Regular files writable by others: (device path, mode).
    pub world_writable_files: Vec<(String, u32)>,
    /// Directories writable by others without the sticky bit: (device path, mode).
    pub open_dirs: Vec<(String, u32)>,
    /// Regular files with the SUID or SGID bit: (device path, mode, owner uid).
    pub suid_sgid: Vec<(String, u32, u32)>,
    /// Entries examined.
    pub entries: u64,
    /// True when the walk stopped at the entry limit.
    pub truncated: bool,
}

/// Walks the tree below `ctx.root` (see the module docs), skipping the
/// device paths in `skip` and their subtrees. Unreadable directories become
/// warnings. Never follows a symbolic link: entries are examined with
/// `lstat`, and only real directories are entered.
pub fn walk(ctx: &AuditContext<'_>, skip: &[String], max_entries: u64) -> WalkResult {
    let mut out = WalkResult::default();
    let base = ctx.root.dir().to_path_buf();
    // The root directory itself is judged too.
    if let Ok(md) = fs::symlink_metadata(&base) {
        judge(&mut out, "/", &md);
    }
    let mut stack: Vec<(PathBuf, String)> = vec![(base, String::new())];
    while let Some((host, device)) = stack.pop() {
        let rd = match fs::read_dir(&host) {
            Ok(rd) => rd,
            Err(e) => {
                ctx.warn(Diagnostic {
                    file: if device.is_empty() {
                        "/".to_owned()
                    } else {
                        device.clone()
                    },
                    line: None,
                    field: None,
                    message: format!("not walked: {e}"),
                });
                continue;
            }
        };
        // d_type from readdir: links, devices, FIFOs and sockets need no lstat.
        // At most the rest of the budget is read, so one directory with
        // millions of names is never held in memory whole.
        let budget = max_entries.saturating_sub(out.entries);
        let (read, cut) = take_capped(rd, budget);
        let mut entries: Vec<(std::ffi::OsString, Option<fs::FileType>)> = read
            .into_iter()
            .filter_map(|e| e.ok().map(|e| (e.file_name(), e.file_type().ok())))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut subdirs = Vec::new();
        for (name, ft) in entries {
            if out.entries >= max_entries {
                out.truncated = true;
                return out;
            }
            out.entries = out.entries.saturating_add(1);
            if ft.is_some_and(|t| !t.is_file() && !t.is_dir()) {
                continue;
            }
            let host_path = host.join(&name);
            // lstat: a symbolic link is never followed.
            let Ok(md) = fs::symlink_metadata(&host_path) else {
                continue;
            };
            let is_dir = md.is_dir();
            let mode = md.mode() & 0o7777;
            let notable = (md.is_file() && mode & 0o6002 != 0)
                || (is_dir && mode & 0o002 != 0 && mode & 0o1000 == 0);
            if !notable && !is_dir {
                continue;
            }
            let dev_path = format!("{device}/{}", name.to_string_lossy());
            if notable {
                judge(&mut out, &dev_path, &md);
            }
            if is_dir && !skip.contains(&dev_path) {
                subdirs.push((host_path, dev_path));
            }
        }
        if cut {
            // The budget ended inside this directory: the names read (an
            // arbitrary readdir prefix) were examined, the rest were not.
            out.truncated = true;
            return out;
        }
        // Reverse, so that the stack pops them in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    out
}

/// Takes at most `cap` items of `it` and tells whether more were left: one
/// item past the cap is pulled to know, never more.
fn take_capped<I: Iterator>(it: I, cap: u64) -> (Vec<I::Item>, bool) {
    let mut out = Vec::new();
    let mut it = it.peekable();
    while u64::try_from(out.len()).is_ok_and(|n| n < cap) {
        match it.next() {
            Some(x) => out.push(x),
            None => return (out, false),
        }
    }
    let more = it.peek().is_some();
    (out, more)
}

fn judge(out: &mut WalkResult, path: &str, md: &fs::Metadata) {
    let mode = md.mode() & 0o7777;
    let ft = md.file_type();
    if ft.is_file() {
        if mode & 0o002 != 0 {
            out.world_writable_files.push((path.to_owned(), mode));
        }
        if mode & 0o6000 != 0 {
            out.suid_sgid.push((path.to_owned(), mode, md.uid()));
        }
    } else if ft.is_dir() && mode & 0o002 != 0 && mode & 0o1000 == 0 {
        out.open_dirs.push((path.to_owned(), mode));
    }
}

/// The device paths the walk skips: [`SKIPPED_DIRS`] and, on the live `/`,
/// the mount points of [`SKIPPED_FSTYPES`].
pub fn skipped_paths(ctx: &AuditContext<'_>) -> Vec<String> {
    let mut skip: Vec<String> = SKIPPED_DIRS.iter().map(|s| (*s).to_owned()).collect();
    if let Some(mounts) = ctx.live().and_then(|h| h.mounts()) {
        for m in mounts {
            let pseudo =
                SKIPPED_FSTYPES.contains(&m.fstype.as_str()) || m.fstype.starts_with("fuse.");
            if pseudo && m.target != "/" {
                skip.push(m.target);
            }
        }
    }
    skip.sort();
    skip.dedup();
    skip
}

fn push_capped(
    out: &mut Vec<Finding>,
    all: Vec<Finding>,
    ctx: &AuditContext<'_>,
    what: &str,
    ssg: &str,
) {
    let n = all.len();
    out.extend(all.into_iter().take(MAX_FINDINGS_PER_KIND));
    if n > MAX_FINDINGS_PER_KIND {
        out.push(
            ctx.finding(
                FS01,
                format!("{} more {what} not listed", n - MAX_FINDINGS_PER_KIND),
            )
            .ssg(&[ssg])
            .file("/")
            .observed(format!(
                "{n} in all; the first {MAX_FINDINGS_PER_KIND} are listed"
            ))
            .build(),
        );
    }
}

/// FS-01.
pub fn fs01_permissions(ctx: &AuditContext<'_>) -> CheckOutcome {
    let skip = skipped_paths(ctx);
    let w = walk(ctx, &skip, ctx.config.limits.max_walk_entries);
    if w.truncated {
        ctx.warn(Diagnostic {
            file: "/".to_owned(),
            line: None,
            field: None,
            message: format!(
                "the FS-01 walk stopped after {} entries ([limits] max_walk_entries); the rest was not examined",
                w.entries
            ),
        });
    }
    let mut out = Vec::new();
    let files = w
        .world_writable_files
        .iter()
        .map(|(p, m)| {
            ctx.finding(FS01, "world-writable file")
                .ssg(&["file_permissions_unauthorized_world_writable"])
                .file(p)
                .observed(format!("mode {m:04o}"))
                .expected("not writable by others")
                .remediation(format!("chmod o-w {p}"))
                .build()
        })
        .collect();
    push_capped(
        &mut out,
        files,
        ctx,
        "world-writable files",
        "file_permissions_unauthorized_world_writable",
    );
    let dirs = w
        .open_dirs
        .iter()
        .map(|(p, m)| {
            ctx.finding(FS01, "world-writable directory without the sticky bit")
                .ssg(&["dir_perms_world_writable_sticky_bits"])
                .file(p)
                .observed(format!(
                    "mode {m:04o}: anyone may delete or replace others' files in it"
                ))
                .expected("the sticky bit (+t), or not writable by others")
                .remediation(format!("chmod +t {p} (or chmod o-w {p})"))
                .build()
        })
        .collect();
    push_capped(
        &mut out,
        dirs,
        ctx,
        "world-writable directories without the sticky bit",
        "dir_perms_world_writable_sticky_bits",
    );
    let allowed = &ctx.config.allow.suid;
    let suid = w
        .suid_sgid
        .iter()
        .filter(|(p, _, _)| !allowed.iter().any(|a| a == p))
        .map(|(p, m, uid)| {
            let suid = m & 0o4000 != 0;
            let (what, rule) = if suid {
                ("SUID", "file_permissions_unauthorized_suid")
            } else {
                ("SGID", "file_permissions_unauthorized_sgid")
            };
            let sev = if suid && *uid == 0 { Severity::High } else { Severity::Medium };
            ctx.finding(FS01, format!("{what} file not in the allow-list"))
                .severity(sev)
                .ssg(&[rule])
                .file(p)
                .observed(format!("mode {m:04o}, owner uid {uid}"))
                .expected("listed in [allow] suid, or no SUID/SGID bit")
                .remediation(format!(
                    "remove the bit (chmod u-s,g-s {p}) or, if the device needs it, add {p:?} to [allow] suid"
                ))
                .build()
        })
        .collect();
    push_capped(
        &mut out,
        suid,
        ctx,
        "SUID/SGID files",
        "file_permissions_unauthorized_suid",
    );
    out.extend(mounts::findings(ctx));
    CheckOutcome::Ran(out)
}
