//! Login managers and session services, as the session checks read them:
//! GDM and LightDM configuration and systemd-logind's configuration, plus
//! [`systemd_dropins`], the drop-in rules of systemd configuration files.
//! dconf is in [`crate::parse::dconf`], console logins (getty units,
//! inittab) in [`crate::parse::console`], shell start-up files in
//! [`crate::parse::shell`].

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::parse::keyfile::{Entry, KeyFile, parse_keyfile, parse_systemd};
use crate::root::{FileKind, join};
use std::collections::BTreeMap;

/// GDM's configuration files: upstream and Red Hat read `/etc/gdm/custom.conf`;
/// Debian's gdm3 `/etc/gdm3/daemon.conf` and Ubuntu's `/etc/gdm3/custom.conf`.
/// All that exist are read; a weakness in any of them is reported.
pub const GDM_FILES: &[&str] = &[
    "/etc/gdm/custom.conf",
    "/etc/gdm3/custom.conf",
    "/etc/gdm3/daemon.conf",
];

/// GDM's configuration directories (their presence means GDM is installed).
pub const GDM_DIRS: &[&str] = &["/etc/gdm", "/etc/gdm3"];

/// LightDM's drop-in directories in the order it reads them (lightdm.conf(5),
/// `src/lightdm.c`); `/etc/lightdm/lightdm.conf` is read after them and wins.
pub const LIGHTDM_DIRS: &[&str] = &[
    "/usr/share/lightdm/lightdm.conf.d",
    "/usr/local/share/lightdm/lightdm.conf.d",
    "/etc/xdg/lightdm/lightdm.conf.d",
    "/etc/lightdm/lightdm.conf.d",
];

/// LightDM's main configuration file.
pub const LIGHTDM_CONF: &str = "/etc/lightdm/lightdm.conf";

/// logind's main configuration file, searched in these directories in order
/// (systemd's `CONF_PATHS("systemd")`); the first found is read.
pub const LOGIND_MAIN: &[&str] = &[
    "/etc/systemd/logind.conf",
    "/run/systemd/logind.conf",
    "/usr/local/lib/systemd/logind.conf",
    "/usr/lib/systemd/logind.conf",
];

/// logind's drop-in directories, highest priority first (logind.conf(5)
/// "CONFIGURATION DIRECTORIES AND PRECEDENCE"), with `/lib` for images whose
/// `/lib` is not merged into `/usr`.
pub const LOGIND_DROPIN_DIRS: &[&str] = &[
    "/etc/systemd/logind.conf.d",
    "/run/systemd/logind.conf.d",
    "/usr/local/lib/systemd/logind.conf.d",
    "/usr/lib/systemd/logind.conf.d",
    "/lib/systemd/logind.conf.d",
];

/// The logind binary: its presence means logind runs even without a configuration file.
pub const LOGIND_BINARIES: &[&str] = &[
    "/usr/lib/systemd/systemd-logind",
    "/lib/systemd/systemd-logind",
];

/// Parses the regular files among `paths`, in order, as GLib key files or
/// (when `systemd`) systemd files; absent files are skipped.
pub(crate) fn read_keyfiles(
    ctx: &AuditContext<'_>,
    paths: &[String],
    systemd: bool,
    warn: &mut dyn FnMut(Diagnostic),
) -> Vec<KeyFile> {
    let mut out = Vec::new();
    for p in paths {
        if !matches!(ctx.root.metadata(p), Ok(Some(m)) if m.kind == FileKind::File) {
            continue;
        }
        if let Some(t) = ctx.read_text(p) {
            out.push(if systemd {
                parse_systemd(&t, warn)
            } else {
                parse_keyfile(&t, warn)
            });
        }
    }
    out
}

/// The `*.conf` drop-ins of `dirs` (highest priority first) as systemd
/// applies them: sorted by file name whatever their directory, a name in a
/// higher-priority directory replacing the same name in a lower one, and a
/// link to `/dev/null` (or an empty file) masking that name. At most
/// `limits.max_included_files` are returned.
pub fn systemd_dropins(ctx: &AuditContext<'_>, dirs: &[String]) -> Vec<String> {
    let mut by_name: BTreeMap<String, Option<String>> = BTreeMap::new();
    for d in dirs {
        let names = match ctx.root.read_dir(d) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                ctx.warn(io_diag(d, &e.to_string()));
                continue;
            }
        };
        for n in names {
            if n.starts_with('.') || !n.ends_with(".conf") || by_name.contains_key(&n) {
                continue;
            }
            let p = join(d, &n);
            // The link target is read itself: an extracted image's /dev is empty.
            if matches!(ctx.root.read_link(&p), Ok(Some(t)) if t == "/dev/null") {
                by_name.insert(n, None);
                continue;
            }
            match ctx.root.metadata(&p) {
                Ok(Some(m)) if m.kind == FileKind::File && m.size == 0 => {
                    by_name.insert(n, None);
                }
                Ok(Some(m)) if m.kind == FileKind::File => {
                    by_name.insert(n, Some(p));
                }
                // A character device is /dev/null reached on a live system.
                Ok(Some(m)) if m.kind == FileKind::Other => {
                    by_name.insert(n, None);
                }
                _ => {}
            }
        }
    }
    let cap = usize::try_from(ctx.config.limits.max_included_files).unwrap_or(usize::MAX);
    let files: Vec<String> = by_name.into_values().flatten().collect();
    if files.len() > cap {
        ctx.warn(io_diag(
            dirs.first().map_or("/", String::as_str),
            &format!("more than {cap} drop-ins (limits.max_included_files); the rest were ignored"),
        ));
    }
    files.into_iter().take(cap).collect()
}

fn io_diag(path: &str, message: &str) -> Diagnostic {
    Diagnostic {
        file: path.to_owned(),
        line: None,
        field: None,
        message: message.to_owned(),
    }
}

/// GDM's configuration.
#[derive(Debug, Clone, Default)]
pub struct Gdm {
    /// True when a GDM configuration directory exists.
    pub present: bool,
    /// The configuration files that exist, parsed.
    pub files: Vec<KeyFile>,
}

impl Source for Gdm {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let paths: Vec<String> = GDM_FILES.iter().map(|p| (*p).to_owned()).collect();
        Gdm {
            present: GDM_DIRS.iter().any(|d| ctx.root.exists(d)),
            files: read_keyfiles(ctx, &paths, false, &mut warn),
        }
    }
}

/// One effective LightDM seat setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSetting {
    /// The seat section, `[SeatDefaults]` normalised to `Seat:*`.
    pub seat: String,
    /// The file.
    pub file: String,
    /// The entry.
    pub entry: Entry,
}

/// LightDM's configuration, in the order LightDM reads it.
#[derive(Debug, Clone, Default)]
pub struct LightDm {
    /// True when any LightDM configuration exists.
    pub present: bool,
    /// The files, in reading order (later ones win).
    pub files: Vec<KeyFile>,
}

impl LightDm {
    /// The effective value of `key` in each seat section (`[Seat:*]`,
    /// `[Seat:NAME]`, or the deprecated `[SeatDefaults]`, which LightDM reads
    /// as `[Seat:*]`): the last assignment in reading order.
    pub fn seat_settings(&self, key: &str) -> Vec<SeatSetting> {
        let mut last: BTreeMap<String, SeatSetting> = BTreeMap::new();
        for f in &self.files {
            for (group, e) in f.entries() {
                let seat = if group == "SeatDefaults" {
                    "Seat:*"
                } else if group.starts_with("Seat:") {
                    group
                } else {
                    continue;
                };
                if e.key == key {
                    last.insert(
                        seat.to_owned(),
                        SeatSetting {
                            seat: seat.to_owned(),
                            file: f.path.clone(),
                            entry: e.clone(),
                        },
                    );
                }
            }
        }
        last.into_values().collect()
    }

    /// The effective entry of `key` in `group` over all files, with its file.
    pub fn get(&self, group: &str, key: &str) -> Option<(&str, &Entry)> {
        self.files
            .iter()
            .rev()
            .find_map(|f| f.get(group, key).map(|e| (f.path.as_str(), e)))
    }
}

impl Source for LightDm {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let mut paths = Vec::new();
        let mut present = ctx.root.exists("/etc/lightdm");
        for d in LIGHTDM_DIRS {
            match ctx.dir_files(d) {
                Ok(v) => {
                    present |= !v.is_empty();
                    paths.extend(v.into_iter().filter(|p| p.ends_with(".conf")));
                }
                Err(e) => warn(io_diag(d, &e.to_string())),
            }
        }
        paths.push(LIGHTDM_CONF.to_owned());
        LightDm {
            present,
            files: read_keyfiles(ctx, &paths, false, &mut warn),
        }
    }
}

/// systemd-logind's configuration: the main file, then the drop-ins.
#[derive(Debug, Clone, Default)]
pub struct Logind {
    /// True when logind is installed or configured.
    pub present: bool,
    /// The files in the order logind applies them (later ones win).
    pub files: Vec<KeyFile>,
}

impl Logind {
    /// The effective `[Login]` entry of `key`, with its file.
    pub fn get(&self, key: &str) -> Option<(&str, &Entry)> {
        self.files
            .iter()
            .rev()
            .find_map(|f| f.get("Login", key).map(|e| (f.path.as_str(), e)))
    }

    /// The file an administrator edits: the main file in `/etc`.
    pub fn main_path(&self) -> &'static str {
        "/etc/systemd/logind.conf"
    }
}

impl Source for Logind {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let mut paths = Vec::new();
        if let Some(main) = LOGIND_MAIN
            .iter()
            .find(|p| matches!(ctx.root.metadata(p), Ok(Some(m)) if m.kind == FileKind::File))
        {
            paths.push((*main).to_owned());
        }
        let dirs: Vec<String> = LOGIND_DROPIN_DIRS.iter().map(|d| (*d).to_owned()).collect();
        paths.extend(systemd_dropins(ctx, &dirs));
        let files = read_keyfiles(ctx, &paths, true, &mut warn);
        Logind {
            present: !files.is_empty() || LOGIND_BINARIES.iter().any(|b| ctx.root.exists(b)),
            files,
        }
    }
}
