//! `passwd(5)`, `shadow(5)`, `group(5)` and `gshadow(5)`.
//!
//! Each parser keeps the line number of every entry (for evidence) and turns a
//! malformed line into a [`Diagnostic`] naming the file, line and field, never
//! a panic. Password hashes are kept only as far as the checks need them and
//! never copied into findings ([`HashKind`] describes them instead).

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::TextFile;
use std::collections::HashMap;

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// 1-based line number.
    pub line: u32,
    /// Login name.
    pub name: String,
    /// Password field (`x` when shadowed).
    pub password: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// GECOS comment.
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell (empty means `/bin/sh`).
    pub shell: String,
}

/// One line of `/etc/shadow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    /// 1-based line number.
    pub line: u32,
    /// Login name.
    pub name: String,
    /// The encrypted password field, as stored.
    pub password: String,
    /// Date of last change, in days since the epoch (`None` when empty; 0 forces a change).
    pub last_change: Option<i64>,
    /// Minimum password age in days.
    pub min_days: Option<i64>,
    /// Maximum password age in days.
    pub max_days: Option<i64>,
    /// Warning period in days.
    pub warn_days: Option<i64>,
    /// Inactivity period in days.
    pub inactive_days: Option<i64>,
    /// Account expiration date in days since the epoch.
    pub expire: Option<i64>,
}

impl ShadowEntry {
    /// What the password field holds.
    pub fn hash_kind(&self) -> HashKind {
        HashKind::of(&self.password)
    }

    /// True when the account expiration date (field 8) has passed on day
    /// `today` (days since the epoch), so that no login is possible.
    /// shadow(5): 0 "should not be used as it is interpreted as either an
    /// account with no expiration, or as an expiration on Jan 1, 1970", so
    /// only a positive date counts.
    pub fn is_expired(&self, today: i64) -> bool {
        self.expire.is_some_and(|e| e > 0 && e <= today)
    }
}

/// What a shadow password field holds, without the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashKind {
    /// Empty field: no password needed.
    Empty,
    /// Starts with `!` or `*`: the password cannot be used (locked or never set).
    Locked,
    /// yescrypt (`$y$`).
    Yescrypt,
    /// gost-yescrypt (`$gy$`).
    GostYescrypt,
    /// SHA-512 crypt (`$6$`), with its `rounds=` (5000 when absent).
    Sha512 {
        /// Rounds.
        rounds: u32,
    },
    /// SHA-256 crypt (`$5$`), with its rounds.
    Sha256 {
        /// Rounds.
        rounds: u32,
    },
    /// bcrypt (`$2a$`, `$2b$`, `$2y$`) with its cost.
    Bcrypt {
        /// Cost (log2 rounds).
        cost: u32,
    },
    /// MD5 crypt (`$1$`): weak.
    Md5,
    /// Traditional DES crypt (13 characters): weak.
    Des,
    /// Anything else, with the prefix seen (e.g. `$7$`, `$sha1$`).
    Other(String),
}

impl HashKind {
    /// Classifies a password field.
    pub fn of(field: &str) -> HashKind {
        if field.is_empty() {
            return HashKind::Empty;
        }
        if field.starts_with('!') || field.starts_with('*') {
            return HashKind::Locked;
        }
        let rounds_of = |rest: &str, default: u32| {
            rest.strip_prefix("rounds=")
                .and_then(|r| r.split('$').next())
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(default)
        };
        if let Some(rest) = field.strip_prefix("$6$") {
            return HashKind::Sha512 {
                rounds: rounds_of(rest, 5000),
            };
        }
        if let Some(rest) = field.strip_prefix("$5$") {
            return HashKind::Sha256 {
                rounds: rounds_of(rest, 5000),
            };
        }
        if field.starts_with("$y$") {
            return HashKind::Yescrypt;
        }
        if field.starts_with("$gy$") {
            return HashKind::GostYescrypt;
        }
        if field.starts_with("$1$") {
            return HashKind::Md5;
        }
        for p in ["$2a$", "$2b$", "$2y$"] {
            if let Some(rest) = field.strip_prefix(p) {
                let cost = rest.get(..2).and_then(|c| c.parse().ok()).unwrap_or(0);
                return HashKind::Bcrypt { cost };
            }
        }
        if field.len() == 13
            && field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '/')
        {
            return HashKind::Des;
        }
        let prefix: String = if field.starts_with('$') {
            let end = field
                .get(1..)
                .and_then(|s| s.find('$'))
                .map_or(field.len(), |i| i + 2);
            field.chars().take(end.min(8)).collect()
        } else {
            "unrecognised".to_owned()
        };
        HashKind::Other(prefix)
    }

    /// A description safe to put in a report (never the hash itself).
    pub fn describe(&self) -> String {
        match self {
            HashKind::Empty => "empty password field".to_owned(),
            HashKind::Locked => "locked".to_owned(),
            HashKind::Yescrypt => "yescrypt ($y$)".to_owned(),
            HashKind::GostYescrypt => "gost-yescrypt ($gy$)".to_owned(),
            HashKind::Sha512 { rounds } => format!("SHA-512 crypt ($6$), {rounds} rounds"),
            HashKind::Sha256 { rounds } => format!("SHA-256 crypt ($5$), {rounds} rounds"),
            HashKind::Bcrypt { cost } => format!("bcrypt, cost {cost}"),
            HashKind::Md5 => "MD5 crypt ($1$)".to_owned(),
            HashKind::Des => "DES crypt".to_owned(),
            HashKind::Other(p) => format!("unknown scheme ({p})"),
        }
    }
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// 1-based line number.
    pub line: u32,
    /// Group name.
    pub name: String,
    /// Password field.
    pub password: String,
    /// Group id.
    pub gid: u32,
    /// Member user names.
    pub members: Vec<String>,
}

/// One line of `/etc/gshadow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GshadowEntry {
    /// 1-based line number.
    pub line: u32,
    /// Group name.
    pub name: String,
    /// Encrypted group password.
    pub password: String,
    /// Administrators.
    pub admins: Vec<String>,
    /// Members.
    pub members: Vec<String>,
}

/// A parsed file: its path and entries (`None` for the file when absent).
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    /// The device path, when the file exists.
    pub path: Option<String>,
    /// The entries, in file order.
    pub entries: Vec<T>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            path: None,
            entries: Vec::new(),
        }
    }
}

impl<T> Parsed<T> {
    /// True when the file exists.
    pub fn present(&self) -> bool {
        self.path.is_some()
    }
    /// The path for evidence (the default path when absent).
    pub fn path_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.path.as_deref().unwrap_or(default)
    }
}

/// The account databases of a root, parsed once per audit.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    /// `/etc/passwd`.
    pub passwd: Parsed<PasswdEntry>,
    /// `/etc/shadow`.
    pub shadow: Parsed<ShadowEntry>,
    /// `/etc/group`.
    pub group: Parsed<GroupEntry>,
    /// `/etc/gshadow`.
    pub gshadow: Parsed<GshadowEntry>,
    users_by_name: HashMap<String, usize>,
    shadow_by_name: HashMap<String, usize>,
    groups_by_name: HashMap<String, usize>,
    groups_by_gid: HashMap<u32, usize>,
}

impl Accounts {
    /// Builds the accounts from parsed files, indexing them by name and id
    /// (the first entry wins, as in glibc's lookups), so that lookups stay O(1)
    /// on devices with many accounts.
    pub fn new(
        passwd: Parsed<PasswdEntry>,
        shadow: Parsed<ShadowEntry>,
        group: Parsed<GroupEntry>,
        gshadow: Parsed<GshadowEntry>,
    ) -> Accounts {
        fn index<T, K: std::hash::Hash + Eq>(v: &[T], key: impl Fn(&T) -> K) -> HashMap<K, usize> {
            let mut m = HashMap::with_capacity(v.len());
            for (i, e) in v.iter().enumerate() {
                m.entry(key(e)).or_insert(i);
            }
            m
        }
        Accounts {
            users_by_name: index(&passwd.entries, |e| e.name.clone()),
            shadow_by_name: index(&shadow.entries, |e| e.name.clone()),
            groups_by_name: index(&group.entries, |e| e.name.clone()),
            groups_by_gid: index(&group.entries, |e| e.gid),
            passwd,
            shadow,
            group,
            gshadow,
        }
    }
    /// The shadow entry of a user (the first, if the name is duplicated).
    pub fn shadow_of(&self, name: &str) -> Option<&ShadowEntry> {
        self.shadow_by_name
            .get(name)
            .and_then(|&i| self.shadow.entries.get(i))
    }
    /// The passwd entry of a user (the first, if the name is duplicated).
    pub fn user(&self, name: &str) -> Option<&PasswdEntry> {
        self.users_by_name
            .get(name)
            .and_then(|&i| self.passwd.entries.get(i))
    }
    /// The group entry of a group name (the first, if duplicated).
    pub fn group_named(&self, name: &str) -> Option<&GroupEntry> {
        self.groups_by_name
            .get(name)
            .and_then(|&i| self.group.entries.get(i))
    }
    /// The group entry of a gid (the first, if duplicated).
    pub fn group_by_gid(&self, gid: u32) -> Option<&GroupEntry> {
        self.groups_by_gid
            .get(&gid)
            .and_then(|&i| self.group.entries.get(i))
    }

    /// What authenticates `user`: the passwd field itself unless it is `x`,
    /// in which case the shadow entry (pam_unix `get_pwd_hash()` and glibc
    /// read `/etc/shadow` only for `x`). `None` when the field is `x` and
    /// there is no shadow entry: no password can then be verified.
    pub fn password_of(&self, user: &PasswdEntry) -> Option<HashKind> {
        if user.password == "x" {
            self.shadow_of(&user.name).map(ShadowEntry::hash_kind)
        } else {
            Some(HashKind::of(&user.password))
        }
    }

    /// True when `user` cannot log in with a password: the password is
    /// locked (`!`, `*`) or absent (`x` without a shadow entry), or the
    /// account has expired on day `today`.
    pub fn is_locked(&self, user: &PasswdEntry, today: i64) -> bool {
        let expired = self
            .shadow_of(&user.name)
            .is_some_and(|s| s.is_expired(today));
        expired || matches!(self.password_of(user), None | Some(HashKind::Locked))
    }
}

/// `/etc/shells` (shells(5)): the login shells users may have.
#[derive(Debug, Clone, Default)]
pub struct Shells {
    /// The device path, when the file exists.
    pub path: Option<String>,
    shells: std::collections::HashSet<String>,
}

impl Shells {
    /// The shells glibc's `getusershell(3)` returns when `/etc/shells`
    /// cannot be read: `/bin/sh` and `/bin/csh`.
    pub const DEFAULT: [&'static str; 2] = ["/bin/sh", "/bin/csh"];

    /// Parses the file as glibc's `initshells()` does: on each line, the
    /// first `/` before any `#` starts a shell, which ends at white space or
    /// `#`; lines without one are ignored.
    pub fn parse(t: &TextFile) -> Shells {
        let mut shells = std::collections::HashSet::new();
        for (_, line) in t.lines() {
            let Some(start) = line.find(['#', '/']) else {
                continue;
            };
            let Some(rest) = line.get(start..).filter(|r| r.starts_with('/')) else {
                continue;
            };
            let end = rest
                .find(|c: char| c == '#' || c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            if let Some(shell) = rest.get(..end) {
                shells.insert(shell.to_owned());
            }
        }
        Shells {
            path: Some(t.path.clone()),
            shells,
        }
    }

    /// True when the file exists.
    pub fn present(&self) -> bool {
        self.path.is_some()
    }

    /// True when `shell` is a valid login shell (the defaults of
    /// `getusershell(3)` when the file is absent).
    pub fn contains(&self, shell: &str) -> bool {
        if self.present() {
            self.shells.contains(shell)
        } else {
            Self::DEFAULT.contains(&shell)
        }
    }
}

impl Source for Shells {
    fn load(ctx: &AuditContext<'_>) -> Self {
        ctx.read_text("/etc/shells")
            .map(|t| Shells::parse(&t))
            .unwrap_or_default()
    }
}

impl Source for Accounts {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let load = |path: &str| ctx.read_text(path);
        let passwd = load("/etc/passwd").map(|t| (t.path.clone(), parse_passwd(&t, &mut warn)));
        let shadow = load("/etc/shadow").map(|t| (t.path.clone(), parse_shadow(&t, &mut warn)));
        let group = load("/etc/group").map(|t| (t.path.clone(), parse_group(&t, &mut warn)));
        let gshadow = load("/etc/gshadow").map(|t| (t.path.clone(), parse_gshadow(&t, &mut warn)));
        fn parsed<T>(x: Option<(String, Vec<T>)>) -> Parsed<T> {
            match x {
                Some((p, e)) => Parsed {
                    path: Some(p),
                    entries: e,
                },
                None => Parsed {
                    path: None,
                    entries: Vec::new(),
                },
            }
        }
        Accounts::new(
            parsed(passwd),
            parsed(shadow),
            parsed(group),
            parsed(gshadow),
        )
    }
}

/// Splits the non-comment, non-blank lines of a colon file into fields,
/// reporting lines with the wrong number of fields.
fn colon_lines<'t>(
    t: &'t TextFile,
    want: usize,
    warn: &mut dyn FnMut(Diagnostic),
) -> Vec<(u32, Vec<&'t str>)> {
    let mut out = Vec::new();
    for (n, line) in t.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        // NIS compat entries (`+`, `-`, `+@netgroup`) are not local accounts.
        if line.starts_with('+') || line.starts_with('-') {
            warn(diag(t, n, None, "NIS compat entry ignored"));
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() != want {
            warn(diag(
                t,
                n,
                None,
                &format!("malformed entry: {} fields, expected {want}", fields.len()),
            ));
            continue;
        }
        if fields.first().is_some_and(|f| f.is_empty()) {
            warn(diag(t, n, Some("name"), "empty name"));
            continue;
        }
        out.push((n, fields));
    }
    out
}

fn diag(t: &TextFile, line: u32, field: Option<&str>, msg: &str) -> Diagnostic {
    Diagnostic {
        file: t.path.clone(),
        line: Some(line),
        field: field.map(str::to_owned),
        message: msg.to_owned(),
    }
}

fn field(f: &[&str], i: usize) -> String {
    f.get(i).map_or_else(String::new, |s| (*s).to_owned())
}

fn id_field(
    t: &TextFile,
    n: u32,
    f: &[&str],
    i: usize,
    name: &str,
    warn: &mut dyn FnMut(Diagnostic),
) -> Option<u32> {
    let raw = f.get(i).copied().unwrap_or("");
    match raw.parse::<u32>() {
        Ok(v) => Some(v),
        Err(_) => {
            warn(diag(
                t,
                n,
                Some(name),
                &format!("{raw:?} is not a number from 0 to 4294967295"),
            ));
            None
        }
    }
}

/// Parses `/etc/passwd`.
pub fn parse_passwd(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<PasswdEntry> {
    let mut out = Vec::new();
    for (n, f) in colon_lines(t, 7, warn) {
        let (Some(uid), Some(gid)) = (
            id_field(t, n, &f, 2, "uid", warn),
            id_field(t, n, &f, 3, "gid", warn),
        ) else {
            continue;
        };
        out.push(PasswdEntry {
            line: n,
            name: field(&f, 0),
            password: field(&f, 1),
            uid,
            gid,
            gecos: field(&f, 4),
            home: field(&f, 5),
            shell: field(&f, 6),
        });
    }
    out
}

/// Parses `/etc/shadow`.
pub fn parse_shadow(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<ShadowEntry> {
    const NAMES: [&str; 9] = [
        "name",
        "password",
        "last_change",
        "min_days",
        "max_days",
        "warn_days",
        "inactive_days",
        "expire",
        "reserved",
    ];
    let mut out = Vec::new();
    for (n, f) in colon_lines(t, 9, warn) {
        let mut num = |i: usize| -> Option<i64> {
            let raw = f.get(i).copied().unwrap_or("").trim();
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    warn(diag(
                        t,
                        n,
                        NAMES.get(i).copied(),
                        &format!("{raw:?} is not a number"),
                    ));
                    None
                }
            }
        };
        out.push(ShadowEntry {
            line: n,
            name: field(&f, 0),
            password: field(&f, 1),
            last_change: num(2),
            min_days: num(3),
            max_days: num(4),
            warn_days: num(5),
            inactive_days: num(6),
            expire: num(7),
        });
    }
    out
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses `/etc/group`.
pub fn parse_group(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<GroupEntry> {
    let mut out = Vec::new();
    for (n, f) in colon_lines(t, 4, warn) {
        let Some(gid) = id_field(t, n, &f, 2, "gid", warn) else {
            continue;
        };
        out.push(GroupEntry {
            line: n,
            name: field(&f, 0),
            password: field(&f, 1),
            gid,
            members: list(f.get(3).copied().unwrap_or("")),
        });
    }
    out
}

/// Parses `/etc/gshadow`.
pub fn parse_gshadow(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<GshadowEntry> {
    colon_lines(t, 4, warn)
        .into_iter()
        .map(|(n, f)| GshadowEntry {
            line: n,
            name: field(&f, 0),
            password: field(&f, 1),
            admins: list(f.get(2).copied().unwrap_or("")),
            members: list(f.get(3).copied().unwrap_or("")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> TextFile {
        TextFile::from_bytes("/etc/x", s.as_bytes(), false)
    }

    #[test]
    fn passwd_parses_and_reports_bad_lines() {
        let t = text(
            "root:x:0:0:root:/root:/bin/bash\r\n# c\n\nbad:line\nu:x:abc:1::/h:/bin/sh\n+@nis\nlast:x:1000:1000::/home/last:/bin/bash",
        );
        let mut w = Vec::new();
        let e = parse_passwd(&t, &mut |d| w.push(d));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].shell, "/bin/bash");
        assert_eq!(e[1].line, 7);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].line, Some(4));
        assert!(
            w.iter()
                .any(|d| d.field.as_deref() == Some("uid") && d.line == Some(5))
        );
    }

    #[test]
    fn shadow_numbers_and_hash_kinds() {
        let t = text("root:$6$rounds=65536$salt$h:19000:1:90:7:30::\nu::x:::::: \n");
        let mut w = Vec::new();
        let e = parse_shadow(&t, &mut |d| w.push(d));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].max_days, Some(90));
        assert_eq!(e[0].hash_kind(), HashKind::Sha512 { rounds: 65536 });
        assert_eq!(e[1].hash_kind(), HashKind::Empty);
        assert_eq!(w[0].field.as_deref(), Some("last_change"));
        assert_eq!(HashKind::of("$y$j9T$a$b"), HashKind::Yescrypt);
        assert_eq!(HashKind::of("$1$abc$def"), HashKind::Md5);
        assert_eq!(HashKind::of("abcdefghijklm"), HashKind::Des);
        assert_eq!(HashKind::of("!$6$x$y"), HashKind::Locked);
        assert_eq!(HashKind::of("$2b$12$abc"), HashKind::Bcrypt { cost: 12 });
        assert_eq!(HashKind::of("$6$salt$h"), HashKind::Sha512 { rounds: 5000 });
        assert!(matches!(HashKind::of("$7$x"), HashKind::Other(_)));
        assert!(!HashKind::of("$6$secret$HASH").describe().contains("HASH"));
    }

    #[test]
    fn shells_follow_glibc_initshells() {
        let t = text(
            "# /etc/shells\n/bin/sh\n  /bin/bash # comment\nbash\n#/bin/zsh\nx /usr/bin/dash\n",
        );
        let s = Shells::parse(&t);
        assert!(s.contains("/bin/sh") && s.contains("/bin/bash") && s.contains("/usr/bin/dash"));
        assert!(!s.contains("bash") && !s.contains("/bin/zsh") && !s.contains("/bin/csh"));
        let absent = Shells::default();
        assert!(absent.contains("/bin/csh") && !absent.contains("/bin/bash"));
    }

    #[test]
    fn password_source_and_lock_state() {
        let p = parse_passwd(
            &text(
                "a:x:1:1::/:/bin/sh\nb:x:2:2::/:/bin/sh\nc:*:3:3::/:/bin/sh\nd:x:4:4::/:/bin/sh\ne:x:5:5::/:/bin/sh\n",
            ),
            &mut |_| {},
        );
        let sh = parse_shadow(
            &text(
                "a:$y$j9T$s$h:20000:::::0:\nb:!$y$j9T$s$h:20000::::::\ne:$y$j9T$s$h:20000:::::20786:\n",
            ),
            &mut |_| {},
        );
        let acc = Accounts::new(
            Parsed {
                path: Some("/etc/passwd".into()),
                entries: p.clone(),
            },
            Parsed {
                path: Some("/etc/shadow".into()),
                entries: sh,
            },
            Parsed::default(),
            Parsed::default(),
        );
        let today = 20786;
        assert_eq!(acc.password_of(&p[0]), Some(HashKind::Yescrypt));
        assert!(!acc.is_locked(&p[0], today), "expire 0 is not an expiry");
        assert!(acc.is_locked(&p[1], today));
        assert!(acc.is_locked(&p[2], today), "* in passwd itself");
        assert_eq!(acc.password_of(&p[3]), None);
        assert!(acc.is_locked(&p[3], today), "x without shadow entry");
        assert!(acc.is_locked(&p[4], today), "expired today");
        assert!(!acc.is_locked(&p[4], today - 1));
    }

    #[test]
    fn group_members() {
        let t = text("sudo:x:27:alice, bob\nshadow:x:42:\n");
        let e = parse_group(&t, &mut |_| {});
        assert_eq!(e[0].members, vec!["alice", "bob"]);
        assert!(e[1].members.is_empty());
    }
}
