//! sysctl values (`/proc/sys`), loaded modules (`/proc/modules`), mounts
//! (`/proc/self/mounts`).
//!
//! Every read is bounded ([`MAX_SYSCTL_BYTES`], [`MAX_TABLE_BYTES`]); a file
//! that cannot be read answers `None` ("not measurable"), never a guess.

use dha_core::live::Mount;
use dha_core::parse::fstab;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest value read from one `/proc/sys` file (the longest real ones,
/// such as `kernel.core_pattern`, are at most a page).
pub const MAX_SYSCTL_BYTES: u64 = 64 * 1024;

/// Largest `/proc/modules` or `/proc/self/mounts` read (thousands of
/// entries fit; a bigger table is cut and its last line dropped).
pub const MAX_TABLE_BYTES: u64 = 8 * 1024 * 1024;

/// Reads at most `max` bytes of `path`; `None` when it cannot be read.
/// The bool is true when the file was longer.
fn read_bounded(path: &Path, max: u64) -> Option<(String, bool)> {
    let f = File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut buf).ok()?;
    let cut = u64::try_from(buf.len()).unwrap_or(u64::MAX) > max;
    if cut {
        buf.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    Some((String::from_utf8_lossy(&buf).into_owned(), cut))
}

/// The `/proc/sys` path of a dotted sysctl name (`kernel.kptr_restrict` →
/// `/proc/sys/kernel/kptr_restrict`), or `None` for a name that could
/// leave `/proc/sys` or is not a plain name: empty components, `..`, `/`,
/// or characters outside `[A-Za-z0-9_-.]`.
pub fn sysctl_path(dotted: &str) -> Option<PathBuf> {
    if dotted.is_empty()
        || dotted.contains("..")
        || dotted.starts_with('.')
        || dotted.ends_with('.')
        || !dotted
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return None;
    }
    let mut p = PathBuf::from("/proc/sys");
    p.extend(dotted.split('.'));
    Some(p)
}

/// The value of a sysctl from `/proc/sys`, trimmed; `None` when absent,
/// unreadable (some are write-only) or the name is refused (see [`sysctl_path`]).
pub fn sysctl(dotted: &str) -> Option<String> {
    let p = sysctl_path(dotted)?;
    let (text, _) = read_bounded(&p, MAX_SYSCTL_BYTES)?;
    Some(text.trim().to_owned())
}

/// The module names of a `/proc/modules` text (the first field of each line).
pub fn parse_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The loaded modules' names; `None` when `/proc/modules` does not exist
/// (a kernel built without module support) or cannot be read.
pub fn loaded_modules() -> Option<Vec<String>> {
    let (text, cut) = read_bounded(Path::new("/proc/modules"), MAX_TABLE_BYTES)?;
    let text = if cut {
        text.rsplit_once('\n').map_or("", |(a, _)| a).to_owned()
    } else {
        text
    };
    Some(parse_modules(&text))
}

/// The mounts of a `/proc/self/mounts` text (fstab(5) format, octal
/// escapes such as `\040` decoded); malformed lines are skipped.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            fstab::parse_line(l, n).ok().flatten()
        })
        .map(|e| Mount {
            source: e.source,
            target: e.target,
            fstype: e.fstype,
            options: e.options,
        })
        .collect()
}

/// The mounted filesystems (`/proc/self/mounts`), in mount order.
pub fn mounts() -> Option<Vec<Mount>> {
    let (text, cut) = read_bounded(Path::new("/proc/self/mounts"), MAX_TABLE_BYTES)?;
    let text = if cut {
        log::warn!("/proc/self/mounts larger than {MAX_TABLE_BYTES} bytes; the rest was ignored");
        text.rsplit_once('\n').map_or("", |(a, _)| a).to_owned()
    } else {
        text
    };
    Some(parse_mounts(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_leave_proc_sys() {
        for bad in [
            "",
            "..",
            "kernel/../../etc/shadow",
            "kernel..x",
            ".kernel",
            "kernel.",
            "kernel.pid max",
            "net.ipv4.conf.eth0/100.rp_filter",
        ] {
            assert_eq!(sysctl_path(bad), None, "{bad:?}");
            assert_eq!(sysctl(bad), None, "{bad:?}");
        }
        assert_eq!(
            sysctl_path("kernel.yama.ptrace_scope").unwrap(),
            Path::new("/proc/sys/kernel/yama/ptrace_scope")
        );
    }

    #[test]
    fn sysctl_matches_proc_sys() {
        for (dotted, path) in [
            (
                "kernel.randomize_va_space",
                "/proc/sys/kernel/randomize_va_space",
            ),
            ("kernel.pid_max", "/proc/sys/kernel/pid_max"),
            (
                "net.ipv4.tcp_syncookies",
                "/proc/sys/net/ipv4/tcp_syncookies",
            ),
            ("fs.suid_dumpable", "/proc/sys/fs/suid_dumpable"),
        ] {
            let want = std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_owned());
            assert_eq!(sysctl(dotted), want, "{dotted}");
        }
        assert_eq!(sysctl("kernel.no_such_key_here"), None);
    }

    #[test]
    fn loaded_modules_match_proc_modules() {
        match std::fs::read_to_string("/proc/modules") {
            Ok(t) => {
                let want: Vec<String> = t
                    .lines()
                    .map(|l| l.split(' ').next().unwrap().to_owned())
                    .collect();
                assert_eq!(loaded_modules().unwrap(), want);
            }
            // A kernel without module support has no /proc/modules.
            Err(_) => assert_eq!(loaded_modules(), None),
        }
        assert_eq!(
            parse_modules("usb_storage 81920 0 - Live 0x0\next4 1 2 mbcache,jbd2, Live 0x0\n"),
            ["usb_storage", "ext4"]
        );
    }

    #[test]
    fn mounts_match_the_mount_table() {
        let m = mounts().unwrap();
        let raw = std::fs::read_to_string("/proc/self/mounts").unwrap();
        assert_eq!(m.len(), raw.lines().count());
        let root = m.iter().find(|m| m.target == "/").unwrap();
        assert!(!root.fstype.is_empty());
        let proc_ = m.iter().find(|m| m.target == "/proc").unwrap();
        assert_eq!(proc_.fstype, "proc");
        // Compare with findmnt, which reads the same table through libmount.
        let out = std::process::Command::new("findmnt")
            .args(["-n", "-o", "FSTYPE", "/proc"])
            .output();
        if let Ok(o) = out {
            if o.status.success() {
                assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "proc");
            }
        }
        let parsed = parse_mounts("/dev/sdb1 /media/My\\040Disk vfat rw,nosuid,nodev 0 0\n");
        assert_eq!(parsed[0].target, "/media/My Disk");
        assert_eq!(parsed[0].options, ["rw", "nosuid", "nodev"]);
    }
}
