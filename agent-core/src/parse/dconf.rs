//! dconf system configuration (dconf(7)): profiles, keyfile databases and
//! their locks; values are read by [`crate::parse::gvariant`].
//!
//! How dconf decides what a session sees, and what this module models:
//! - A **profile** (`/etc/dconf/profile/NAME`, else in
//!   `$XDG_DATA_DIRS/dconf/profile`: `/usr/local/share` then `/usr/share`) lists
//!   databases, highest priority first: `user-db:user` (the user's own,
//!   writable), `system-db:NAME`, `file-db:PATH`, `service-db:PATH`. GNOME
//!   sessions use the profile `user` unless `DCONF_PROFILE` says otherwise;
//!   the GDM greeter uses `gdm`. Without any profile file dconf behaves as if
//!   the profile held only `user-db:user`: no system database is read.
//! - A **system database** `NAME` is compiled by `dconf update` from the
//!   keyfiles in `/etc/dconf/db/NAME.d/` into `/etc/dconf/db/NAME`. dconf
//!   update reads the regular files of that directory in reverse
//!   alphabetical order and keeps the first definition of a key, so the file
//!   sorting last wins; it ignores groups that start or end with `/` or
//!   contain `//`, keys that contain `/`, and values that are not valid
//!   GVariant text; a file GLib cannot load is skipped (older dconf) or stops
//!   the whole update (newer). Keyfiles are what dha audits; the compiled
//!   file is only checked for presence (see [`DconfDb::compiled`]).
//! - **Locks** (`/etc/dconf/db/NAME.d/locks/*`, one key or `dir/` path per
//!   line, lines not starting with `/` ignored): dconf(7) "no database listed
//!   above that one in the profile will be able to modify any of the keys that
//!   were locked". [`Dconf::resolve`] applies that rule.
//! - **Types.** dconf update parses values without a schema, so a bare `300`
//!   is an `int32`; GSettings then discards a value whose type differs from
//!   the schema's (`g_settings_schema_key_type_check`) and uses the default.
//!   [`GVariant`] (in [`crate::parse::gvariant`]) keeps the type so checks
//!   can say so.

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::parse::gvariant::{GVariant, parse_gvariant};
use crate::parse::keyfile::{KeyFile, parse_keyfile};
use crate::root::{FileKind, TextFile, join};
use std::collections::BTreeMap;
use std::fmt;

/// Where system databases live.
pub const DB_DIR: &str = "/etc/dconf/db";

/// Where profiles are searched, in order.
pub const PROFILE_DIRS: &[&str] = &[
    "/etc/dconf/profile",
    "/usr/local/share/dconf/profile",
    "/usr/share/dconf/profile",
];

/// The profiles dha reads: GNOME sessions' and the GDM greeter's.
pub const PROFILES: &[&str] = &["user", "gdm"];

/// One database line of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbSource {
    /// `user-db:NAME`: the user's own database, which the user can write.
    User(String),
    /// `system-db:NAME`: `/etc/dconf/db/NAME`, compiled from `NAME.d/`.
    System(String),
    /// `file-db:PATH`: a compiled database file dha does not read.
    File(String),
    /// `service-db:PATH`: a database written through the dconf service.
    Service(String),
}

impl fmt::Display for DbSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbSource::User(n) => write!(f, "user-db:{n}"),
            DbSource::System(n) => write!(f, "system-db:{n}"),
            DbSource::File(n) => write!(f, "file-db:{n}"),
            DbSource::Service(n) => write!(f, "service-db:{n}"),
        }
    }
}

/// A profile line with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEntry {
    /// The database.
    pub source: DbSource,
    /// 1-based line.
    pub line: u32,
}

/// A dconf profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DconfProfile {
    /// The profile name (`user`).
    pub name: String,
    /// The file it was read from.
    pub path: String,
    /// Its databases, highest priority first.
    pub entries: Vec<ProfileEntry>,
}

impl DconfProfile {
    /// The names of its system databases, in priority order.
    pub fn system_dbs(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match &e.source {
            DbSource::System(n) => Some(n.as_str()),
            _ => None,
        })
    }
}

/// Parses a profile file (dconf(7) "PROFILES").
pub fn parse_profile(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<ProfileEntry> {
    let mut out = Vec::new();
    for (n, line) in t.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((kind, name)) = line.split_once(':') else {
            warn(diag(
                t,
                n,
                None,
                "not a database line (TYPE:NAME); dconf ignores it",
            ));
            continue;
        };
        let name = name.trim();
        let source = match kind.trim() {
            "user-db" => DbSource::User(name.to_owned()),
            "system-db" => DbSource::System(name.to_owned()),
            "file-db" => DbSource::File(name.to_owned()),
            "service-db" => DbSource::Service(name.to_owned()),
            other => {
                warn(diag(
                    t,
                    n,
                    Some(other),
                    "unknown database type; dconf ignores the line",
                ));
                continue;
            }
        };
        let bad_name = match &source {
            // A system database name is a file name under /etc/dconf/db.
            DbSource::System(n) | DbSource::User(n) => {
                n.is_empty() || n.contains('/') || n == "." || n == ".."
            }
            DbSource::File(p) | DbSource::Service(p) => p.is_empty(),
        };
        if bad_name {
            warn(diag(t, n, Some(kind.trim()), "invalid database name"));
            continue;
        }
        out.push(ProfileEntry { source, line: n });
    }
    out
}

/// One lock line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The locked key (`/org/gnome/desktop/session/idle-delay`) or directory
    /// (`/org/gnome/desktop/session/`, which locks every key below it).
    pub path: String,
    /// The lock file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl Lock {
    /// True when this lock covers `key`.
    pub fn covers(&self, key: &str) -> bool {
        if self.path.ends_with('/') {
            key.starts_with(&self.path)
        } else {
            self.path == key
        }
    }
}

/// Parses a lock file: one dconf path per line. dconf update takes only lines
/// that start with `/` (after no trimming at all); anything else that is not
/// blank or a comment is reported, since the lock it was meant to be is missing.
pub fn parse_locks(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<Lock> {
    let mut out = Vec::new();
    for (n, line) in t.lines() {
        if line.starts_with('/') {
            out.push(Lock {
                path: line.trim_end().to_owned(),
                file: t.path.clone(),
                line: n,
            });
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        warn(diag(
            t,
            n,
            None,
            "lock line does not start with '/' (leading white space included): dconf ignores it",
        ));
    }
    out
}

/// A value as set in a keyfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DconfSetting {
    /// The database it belongs to.
    pub db: String,
    /// The keyfile.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The value as written.
    pub raw: String,
    /// The value parsed (only valid values are kept: dconf update skips the rest).
    pub value: GVariant,
}

/// One system database's sources: keyfiles and locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DconfDb {
    /// The database name (`local`).
    pub name: String,
    /// `/etc/dconf/db/NAME.d`.
    pub keyfile_dir: String,
    /// True when the keyfile directory exists.
    pub exists: bool,
    /// True when the compiled database `/etc/dconf/db/NAME` exists. When it
    /// does not, nothing in the keyfiles is in effect until `dconf update`
    /// runs (dha does not read the compiled GVDB file itself).
    pub compiled: bool,
    /// The keyfiles, sorted by name (later ones win).
    pub keyfiles: Vec<KeyFile>,
    /// The locks of `NAME.d/locks/*`.
    pub locks: Vec<Lock>,
}

impl DconfDb {
    /// The path of the directory of lock files.
    pub fn locks_dir(&self) -> String {
        join(&self.keyfile_dir, "locks")
    }

    /// The value of `key` (`/org/gnome/desktop/session/idle-delay`) in this
    /// database, as dconf update would compile it.
    pub fn value(&self, key: &str) -> Option<DconfSetting> {
        let (dir, name) = key.rsplit_once('/')?;
        let group = dir.strip_prefix('/')?;
        if !valid_group(group) {
            return None;
        }
        self.keyfiles
            .iter()
            .rev()
            .filter(|k| k.valid)
            .find_map(|k| {
                // Within a file the last line wins (GKeyFile replaces); a value
                // that is not GVariant text is skipped by dconf update.
                let e = k.get(group, name)?;
                let value = parse_gvariant(&e.value).ok()?;
                Some(DconfSetting {
                    db: self.name.clone(),
                    file: k.path.clone(),
                    line: e.line,
                    raw: e.value.clone(),
                    value,
                })
            })
    }

    /// The lock covering `key`, if any.
    pub fn lock(&self, key: &str) -> Option<&Lock> {
        self.locks.iter().find(|l| l.covers(key))
    }
}

/// dconf update's rule for group names (`dconf-update`: "ignoring invalid group name").
fn valid_group(group: &str) -> bool {
    !group.is_empty() && !group.starts_with('/') && !group.ends_with('/') && !group.contains("//")
}

/// What a key resolves to under a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The system-wide value a session gets (unless a user overrides it, see
    /// `user_can_override`); `None`: no system database sets it, the schema
    /// default applies.
    pub value: Option<DconfSetting>,
    /// The lock that stops databases above it from changing the key.
    pub lock: Option<&'a Lock>,
    /// True when a writable database (`user-db`, `service-db`) is consulted
    /// before the system value and no lock stops it, so the user can set
    /// the key to anything.
    pub user_can_override: bool,
    /// A `file-db` above the value (or above the lock) whose content dha
    /// cannot read: it may set the key too.
    pub unread_above: Option<&'a ProfileEntry>,
}

/// The dconf configuration of a root: profiles and system databases.
#[derive(Debug, Clone, Default)]
pub struct Dconf {
    present: bool,
    profiles: BTreeMap<String, DconfProfile>,
    dbs: BTreeMap<String, DconfDb>,
}

impl Source for Dconf {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let mut d = Dconf {
            present: false,
            ..Dconf::default()
        };
        for name in PROFILES {
            for dir in PROFILE_DIRS {
                let path = join(dir, name);
                if let Some(t) = read_regular(ctx, &path) {
                    let entries = parse_profile(&t, &mut warn);
                    d.profiles.insert(
                        (*name).to_owned(),
                        DconfProfile {
                            name: (*name).to_owned(),
                            path: t.path.clone(),
                            entries,
                        },
                    );
                    d.present = true;
                    break;
                }
            }
        }
        let mut names: Vec<String> = match ctx.root.read_dir(DB_DIR) {
            Ok(Some(v)) => v
                .into_iter()
                .filter_map(|n| n.strip_suffix(".d").map(str::to_owned))
                .filter(|n| !n.is_empty() && !n.starts_with('.'))
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => {
                warn(Diagnostic {
                    file: DB_DIR.to_owned(),
                    line: None,
                    field: None,
                    message: e.to_string(),
                });
                Vec::new()
            }
        };
        for p in d.profiles.values() {
            names.extend(p.system_dbs().map(str::to_owned));
        }
        names.sort();
        names.dedup();
        for name in names {
            let db = load_db(ctx, &name, &mut warn);
            // An empty /etc/dconf (a GTK library's dependency on a headless
            // image) is no GNOME configuration; a keyfile database is.
            d.present |= db.exists;
            d.dbs.insert(name, db);
        }
        d
    }
}

fn read_regular(ctx: &AuditContext<'_>, path: &str) -> Option<TextFile> {
    match ctx.root.metadata(path) {
        Ok(Some(m)) if m.kind == FileKind::File => ctx.read_text(path),
        _ => None,
    }
}

fn load_db(ctx: &AuditContext<'_>, name: &str, warn: &mut dyn FnMut(Diagnostic)) -> DconfDb {
    let keyfile_dir = join(DB_DIR, &format!("{name}.d"));
    let exists = matches!(ctx.root.metadata(&keyfile_dir), Ok(Some(m)) if m.kind == FileKind::Dir);
    let compiled = matches!(
        ctx.root.metadata(&join(DB_DIR, name)),
        Ok(Some(m)) if m.kind == FileKind::File
    );
    let mut db = DconfDb {
        name: name.to_owned(),
        keyfile_dir: keyfile_dir.clone(),
        exists,
        compiled,
        keyfiles: Vec::new(),
        locks: Vec::new(),
    };
    if !exists {
        return db;
    }
    for path in list_files(ctx, &keyfile_dir, warn) {
        let Some(t) = ctx.read_text(&path) else {
            continue;
        };
        let kf = parse_keyfile(&t, warn);
        // Report what dconf update would skip, so a typo is not silent.
        for (group, e) in kf.entries() {
            if !valid_group(group) {
                warn(Diagnostic {
                    file: kf.path.clone(),
                    line: Some(e.line),
                    field: Some(format!("[{group}]")),
                    message: "invalid dconf group name (leading or trailing '/' or '//'): dconf update ignores its keys".to_owned(),
                });
                continue;
            }
            if e.key.contains('/') {
                warn(Diagnostic {
                    file: kf.path.clone(),
                    line: Some(e.line),
                    field: Some(e.key.clone()),
                    message: "a dconf key name may not contain '/': dconf update ignores it"
                        .to_owned(),
                });
                continue;
            }
            if let Err(m) = parse_gvariant(&e.value) {
                warn(Diagnostic {
                    file: kf.path.clone(),
                    line: Some(e.line),
                    field: Some(e.key.clone()),
                    message: format!("{m}: dconf update skips this value"),
                });
            }
        }
        db.keyfiles.push(kf);
    }
    for path in list_files(ctx, &db.locks_dir(), warn) {
        if let Some(t) = ctx.read_text(&path) {
            db.locks.extend(parse_locks(&t, warn));
        }
    }
    db
}

fn list_files(ctx: &AuditContext<'_>, dir: &str, warn: &mut dyn FnMut(Diagnostic)) -> Vec<String> {
    match ctx.dir_files(dir) {
        Ok(v) => v,
        Err(e) => {
            warn(Diagnostic {
                file: dir.to_owned(),
                line: None,
                field: None,
                message: e.to_string(),
            });
            Vec::new()
        }
    }
}

impl Dconf {
    /// True when the root has dconf configuration: a profile, or a keyfile
    /// database directory under `/etc/dconf/db`.
    pub fn present(&self) -> bool {
        self.present
    }

    /// A profile by name (`user`, `gdm`), when a profile file exists.
    pub fn profile(&self, name: &str) -> Option<&DconfProfile> {
        self.profiles.get(name)
    }

    /// A system database by name.
    pub fn db(&self, name: &str) -> Option<&DconfDb> {
        self.dbs.get(name)
    }

    /// Every system database with a keyfile directory or named by a profile.
    pub fn dbs(&self) -> impl Iterator<Item = &DconfDb> {
        self.dbs.values()
    }

    /// Builds a configuration from parts (for tests).
    pub fn from_parts(profiles: Vec<DconfProfile>, dbs: Vec<DconfDb>) -> Dconf {
        Dconf {
            present: true,
            profiles: profiles.into_iter().map(|p| (p.name.clone(), p)).collect(),
            dbs: dbs.into_iter().map(|d| (d.name.clone(), d)).collect(),
        }
    }

    /// What `key` resolves to for sessions using `profile` (dconf(7) "LOCKS").
    pub fn resolve<'a>(&'a self, profile: &'a DconfProfile, key: &str) -> Resolved<'a> {
        let system = |e: &ProfileEntry| match &e.source {
            DbSource::System(n) => self.dbs.get(n),
            _ => None,
        };
        // The lowest-priority lock blocks every database above it.
        let mut lock: Option<(usize, &Lock)> = None;
        for (i, e) in profile.entries.iter().enumerate() {
            if let Some(l) = system(e).and_then(|db| db.lock(key)) {
                lock = Some((i, l));
            }
        }
        let start = lock.map_or(0, |(i, _)| i);
        let mut value = None;
        let mut value_at = profile.entries.len();
        for (i, e) in profile.entries.iter().enumerate().skip(start) {
            if let Some(v) = system(e).and_then(|db| db.value(key)) {
                value = Some(v);
                value_at = i;
                break;
            }
        }
        // A writable database counts when it sits below the lock (the lock
        // stops every database above it) and above the database that gives
        // the value (below that one, it is never consulted).
        let user_can_override = profile
            .entries
            .iter()
            .enumerate()
            .skip(start)
            .take(value_at.saturating_sub(start))
            .any(|(_, e)| matches!(e.source, DbSource::User(_) | DbSource::Service(_)));
        let unread_above = profile
            .entries
            .iter()
            .enumerate()
            .skip(start)
            .take(value_at.saturating_sub(start))
            .map(|(_, e)| e)
            .find(|e| matches!(e.source, DbSource::File(_)));
        Resolved {
            value,
            lock: lock.map(|(_, l)| l),
            user_can_override,
            unread_above,
        }
    }
}

fn diag(t: &TextFile, line: u32, field: Option<&str>, message: &str) -> Diagnostic {
    Diagnostic {
        file: t.path.clone(),
        line: Some(line),
        field: field.map(str::to_owned),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str, s: &str) -> TextFile {
        TextFile::from_bytes(path, s.as_bytes(), false)
    }

    #[test]
    fn profiles_and_locks() {
        let mut w = Vec::new();
        let p = parse_profile(
            &text(
                "/etc/dconf/profile/user",
                "# GNOME\nuser-db:user\nsystem-db:local\nfile-db:/usr/share/gdm/greeter-dconf-defaults\nbogus-db:x\nnonsense\nsystem-db:../x\n",
            ),
            &mut |d| w.push(d),
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].source, DbSource::System("local".to_owned()));
        assert_eq!(w.len(), 3, "{w:?}");
        let mut w = Vec::new();
        let l = parse_locks(
            &text(
                "/etc/dconf/db/local.d/locks/session",
                "# locks\n/org/gnome/desktop/session/idle-delay\n  /org/gnome/desktop/screensaver/lock-delay\n/org/gnome/desktop/screensaver/\n",
            ),
            &mut |d| w.push(d),
        );
        assert_eq!(l.len(), 2);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(3));
        assert!(l[1].covers("/org/gnome/desktop/screensaver/lock-enabled"));
        assert!(!l[0].covers("/org/gnome/desktop/session/idle-delay-x"));
    }

    fn db(name: &str, files: &[(&str, &str)], locks: &[&str]) -> DconfDb {
        let mut w = |_d: Diagnostic| {};
        DconfDb {
            name: name.to_owned(),
            keyfile_dir: format!("/etc/dconf/db/{name}.d"),
            exists: true,
            compiled: true,
            keyfiles: files
                .iter()
                .map(|(p, s)| parse_keyfile(&text(p, s), &mut w))
                .collect(),
            locks: locks
                .iter()
                .enumerate()
                .map(|(i, k)| Lock {
                    path: (*k).to_owned(),
                    file: format!("/etc/dconf/db/{name}.d/locks/l"),
                    line: u32::try_from(i).unwrap() + 1,
                })
                .collect(),
        }
    }

    fn profile(lines: &str) -> DconfProfile {
        DconfProfile {
            name: "user".to_owned(),
            path: "/etc/dconf/profile/user".to_owned(),
            entries: parse_profile(&text("/etc/dconf/profile/user", lines), &mut |_| {}),
        }
    }

    const IDLE: &str = "/org/gnome/desktop/session/idle-delay";

    #[test]
    fn later_keyfile_wins_and_invalid_files_and_values_are_skipped() {
        let d = db(
            "local",
            &[
                (
                    "/etc/dconf/db/local.d/00-a",
                    "[org/gnome/desktop/session]\nidle-delay=uint32 600\n",
                ),
                (
                    "/etc/dconf/db/local.d/10-b",
                    "[org/gnome/desktop/session]\nidle-delay=uint32 120\n",
                ),
                (
                    "/etc/dconf/db/local.d/20-broken",
                    "idle-delay=uint32 5\n[org/gnome/desktop/session]\nidle-delay=uint32 5\n",
                ),
                (
                    "/etc/dconf/db/local.d/30-badvalue",
                    "[org/gnome/desktop/session]\nidle-delay=forever\n",
                ),
                (
                    "/etc/dconf/db/local.d/40-badgroup",
                    "[/org/gnome/desktop/session]\nidle-delay=uint32 7\n",
                ),
            ],
            &[],
        );
        let v = d.value(IDLE).unwrap();
        assert_eq!(v.file, "/etc/dconf/db/local.d/10-b");
        assert_eq!(v.value.as_u32(), Some(120));
    }

    #[test]
    fn locks_follow_profile_order() {
        let site = db(
            "site",
            &[(
                "/etc/dconf/db/site.d/s",
                "[org/gnome/desktop/session]\nidle-delay=uint32 1800\n",
            )],
            &[],
        );
        let local = db(
            "local",
            &[(
                "/etc/dconf/db/local.d/l",
                "[org/gnome/desktop/session]\nidle-delay=uint32 300\n",
            )],
            &[IDLE],
        );
        let d = Dconf::from_parts(vec![], vec![site, local]);
        // site above local: local's lock stops site (and the user) from changing it.
        let p = profile("user-db:user\nsystem-db:site\nsystem-db:local\n");
        let r = d.resolve(&p, IDLE);
        assert_eq!(r.value.unwrap().value.as_u32(), Some(300));
        assert!(r.lock.is_some());
        assert!(!r.user_can_override);
        // local above site, no lock in site: local's value, locked.
        let p = profile("user-db:user\nsystem-db:local\nsystem-db:site\n");
        let r = d.resolve(&p, IDLE);
        assert_eq!(r.value.unwrap().value.as_u32(), Some(300));
        assert!(!r.user_can_override);
        // local not in the profile: site's value, unlocked.
        let p = profile("user-db:user\nsystem-db:site\n");
        let r = d.resolve(&p, IDLE);
        assert_eq!(r.value.unwrap().value.as_u32(), Some(1800));
        assert!(r.lock.is_none());
        assert!(r.user_can_override);
        // A user-db below the database that sets the key cannot override it.
        let p = profile("system-db:site\nuser-db:user\n");
        let r = d.resolve(&p, IDLE);
        assert!(!r.user_can_override);
        // A user-db between a lock-only database and the value can.
        let lock_only = db("lockonly", &[], &[IDLE]);
        let d2 = Dconf::from_parts(vec![], vec![lock_only, d.db("site").unwrap().clone()]);
        let p = profile("system-db:lockonly\nuser-db:user\nsystem-db:site\n");
        let r = d2.resolve(&p, IDLE);
        assert!(r.lock.is_some());
        assert!(r.user_can_override);
        // With no system value at all, any user-db can set the key.
        let p = profile("system-db:none\nuser-db:user\n");
        let r = d.resolve(&p, IDLE);
        assert!(r.value.is_none());
        assert!(r.user_can_override);
        // A file-db above an unlocked value may set it; above a lock it cannot.
        let p = profile("user-db:user\nfile-db:/usr/share/x\nsystem-db:site\n");
        assert!(d.resolve(&p, IDLE).unread_above.is_some());
        let p = profile("user-db:user\nfile-db:/usr/share/x\nsystem-db:local\n");
        assert!(d.resolve(&p, IDLE).unread_above.is_none());
    }
}
