//! The configuration files of PAM modules: `pwquality.conf(5)` (and its
//! `pwquality.conf.d`), `faillock.conf(5)` and `pwhistory.conf(5)`.
//!
//! All three share one syntax, parsed here as libpwquality's and Linux-PAM's
//! `read_config_file` do: text from the first `#` is a comment; the name ends
//! at the first blank or `=`; blanks and one `=` between name and value are
//! skipped; a bare name is a flag (value `""`). The modules' own arguments
//! override these files; checks combine the two.

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::{TextFile, join};

/// `/etc/security/pwquality.conf`.
pub const PWQUALITY_CONF: &str = "/etc/security/pwquality.conf";
/// `/etc/security/pwquality.conf.d`.
pub const PWQUALITY_CONF_D: &str = "/etc/security/pwquality.conf.d";
/// `/etc/security/faillock.conf`.
pub const FAILLOCK_CONF: &str = "/etc/security/faillock.conf";
/// `/etc/security/pwhistory.conf`.
pub const PWHISTORY_CONF: &str = "/etc/security/pwhistory.conf";

/// The settings libpwquality knows (pwquality.conf(5)). libpwquality stops
/// reading a file at the first name it does not know
/// (`PWQ_ERROR_UNKNOWN_SETTING`), so later lines of that file do not apply.
pub const PWQUALITY_KEYS: &[&str] = &[
    "difok",
    "minlen",
    "dcredit",
    "ucredit",
    "lcredit",
    "ocredit",
    "minclass",
    "maxrepeat",
    "maxsequence",
    "maxclassrepeat",
    "gecoscheck",
    "dictcheck",
    "usercheck",
    "usersubstr",
    "enforcing",
    "badwords",
    "dictpath",
    "retry",
    "enforce_for_root",
    "local_users_only",
];

/// The options of faillock.conf(5). pam_faillock logs an unknown name and
/// carries on with the next line.
pub const FAILLOCK_KEYS: &[&str] = &[
    "dir",
    "audit",
    "silent",
    "no_log_info",
    "local_users_only",
    "nodelay",
    "deny",
    "fail_interval",
    "unlock_time",
    "even_deny_root",
    "root_unlock_time",
    "admin_group",
];

/// The options of pwhistory.conf(5). Unknown names are logged and skipped.
pub const PWHISTORY_KEYS: &[&str] = &["debug", "enforce_for_root", "remember", "retry", "file"];

/// One `name = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfSetting {
    /// The name.
    pub key: String,
    /// The value (`""` for a bare flag).
    pub value: String,
    /// The file it is written in.
    pub file: String,
    /// Its 1-based line.
    pub line: u32,
}

/// What to do with a name the module does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownKey {
    /// Report it and keep reading (pam_faillock, pam_pwhistory).
    Skip,
    /// Report it and stop reading the file (libpwquality).
    Stop,
}

/// Parses one module configuration file. `known` lists the valid names.
pub fn parse_conf(
    t: &TextFile,
    known: &[&str],
    unknown: UnknownKey,
    warn: &mut dyn FnMut(Diagnostic),
) -> Vec<ConfSetting> {
    let mut out = Vec::new();
    for (n, raw) in t.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let end = line
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(line.len());
        let key = line.get(..end).unwrap_or(line);
        let rest = line.get(end..).unwrap_or("").trim_start();
        let value = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        if !known.contains(&key) {
            let stop = unknown == UnknownKey::Stop;
            warn(Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: Some(key.to_owned()),
                message: if stop {
                    "unknown setting; libpwquality stops reading this file here, so the lines after it do not apply".to_owned()
                } else {
                    "unknown setting, ignored by the module".to_owned()
                },
            });
            if stop {
                break;
            }
            continue;
        }
        out.push(ConfSetting {
            key: key.to_owned(),
            value: value.to_owned(),
            file: t.path.clone(),
            line: n,
        });
    }
    out
}

/// The settings of one module read from one or more files, in reading order;
/// a later setting of the same name overrides an earlier one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfValues {
    /// The files read, in order (empty when none exists).
    pub files: Vec<String>,
    /// Every setting, in reading order.
    pub settings: Vec<ConfSetting>,
}

impl ConfValues {
    /// The effective setting of a name (the last one read).
    pub fn get(&self, key: &str) -> Option<&ConfSetting> {
        self.settings.iter().rev().find(|s| s.key == key)
    }

    /// True when at least one file was read.
    pub fn present(&self) -> bool {
        !self.files.is_empty()
    }

    /// Reads one file into these values (nothing when it is absent).
    pub fn read(
        &mut self,
        ctx: &AuditContext<'_>,
        path: &str,
        known: &[&str],
        unknown: UnknownKey,
    ) {
        if let Some(t) = ctx.read_text(path) {
            self.files.push(t.path.clone());
            self.settings
                .extend(parse_conf(&t, known, unknown, &mut |d| ctx.warn(d)));
        }
    }
}

/// libpwquality's settings: `pwquality.conf.d/*.conf` in ASCII order, then
/// `pwquality.conf` (pwquality.conf(5): "The libpwquality library also first
/// reads all *.conf files from the /etc/security/pwquality.conf.d directory in
/// ASCII sorted order. The values of the same settings are overridden in the
/// order the files are parsed.").
#[derive(Debug, Clone, Default)]
pub struct PwqualityConf(pub ConfValues);

impl Source for PwqualityConf {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut v = ConfValues::default();
        match ctx.dir_files(PWQUALITY_CONF_D) {
            Ok(paths) => {
                // `dir_files` sorts by byte value, which is the C locale's order.
                for p in paths.iter().filter(|p| p.ends_with(".conf")) {
                    v.read(ctx, p, PWQUALITY_KEYS, UnknownKey::Stop);
                }
            }
            Err(e) => ctx.warn(Diagnostic {
                file: PWQUALITY_CONF_D.to_owned(),
                line: None,
                field: None,
                message: e.to_string(),
            }),
        }
        v.read(ctx, PWQUALITY_CONF, PWQUALITY_KEYS, UnknownKey::Stop);
        PwqualityConf(v)
    }
}

/// `/etc/security/faillock.conf` (the default file; a `conf=` module argument
/// names another, read with [`faillock_conf_at`]).
#[derive(Debug, Clone, Default)]
pub struct FaillockConf(pub ConfValues);

impl Source for FaillockConf {
    fn load(ctx: &AuditContext<'_>) -> Self {
        FaillockConf(faillock_conf_at(ctx, FAILLOCK_CONF))
    }
}

/// Reads a faillock configuration file at `path` (relative paths are taken
/// from `/`, as pam_faillock opens them from the root directory of a login).
pub fn faillock_conf_at(ctx: &AuditContext<'_>, path: &str) -> ConfValues {
    let mut v = ConfValues::default();
    v.read(ctx, &join("/", path), FAILLOCK_KEYS, UnknownKey::Skip);
    v
}

/// `/etc/security/pwhistory.conf` (Linux-PAM 1.5.3 and later).
#[derive(Debug, Clone, Default)]
pub struct PwhistoryConf(pub ConfValues);

impl Source for PwhistoryConf {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut v = ConfValues::default();
        v.read(ctx, PWHISTORY_CONF, PWHISTORY_KEYS, UnknownKey::Skip);
        PwhistoryConf(v)
    }
}

/// Parses an unsigned decimal the way the modules' `sscanf("%u")` /
/// `strtol` calls accept it (leading `+` allowed, trailing text refused).
pub fn parse_uint(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses a signed decimal (pwquality's credits may be negative).
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(d) if !d.starts_with('+') => parse_uint(d)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        Some(_) => None,
        None => parse_uint(s).and_then(|v| i64::try_from(v).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(s: &str, known: &[&str], unknown: UnknownKey) -> (Vec<ConfSetting>, Vec<Diagnostic>) {
        let t = TextFile::from_bytes("/etc/security/x.conf", s.as_bytes(), false);
        let mut w = Vec::new();
        let v = parse_conf(&t, known, unknown, &mut |d| w.push(d));
        (v, w)
    }

    #[test]
    fn parses_the_libpwquality_syntax() {
        let (v, w) = conf(
            "# minlen = 8\n  minlen = 14 # site policy\nminclass=3\ndcredit -1\nenforce_for_root\ndictcheck =1\n",
            PWQUALITY_KEYS,
            UnknownKey::Stop,
        );
        assert!(w.is_empty(), "{w:?}");
        let kv: Vec<_> = v
            .iter()
            .map(|s| (s.key.as_str(), s.value.as_str(), s.line))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("minlen", "14", 2),
                ("minclass", "3", 3),
                ("dcredit", "-1", 4),
                ("enforce_for_root", "", 5),
                ("dictcheck", "1", 6),
            ]
        );
    }

    #[test]
    fn unknown_settings_stop_libpwquality_but_not_faillock() {
        let (v, w) = conf(
            "minlen = 14\nminlenght = 20\nminclass = 4\n",
            PWQUALITY_KEYS,
            UnknownKey::Stop,
        );
        assert_eq!(v.len(), 1);
        assert_eq!(
            (w[0].line, w[0].field.as_deref()),
            (Some(2), Some("minlenght"))
        );
        let (v, w) = conf("denny = 3\ndeny = 4\n", FAILLOCK_KEYS, UnknownKey::Skip);
        assert_eq!(v.len(), 1);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn last_setting_wins_and_numbers_parse() {
        let (settings, _) = conf("deny = 3\ndeny=5\naudit\n", FAILLOCK_KEYS, UnknownKey::Skip);
        let v = ConfValues {
            files: vec!["/x".into()],
            settings,
        };
        assert_eq!(v.get("deny").unwrap().value, "5");
        assert_eq!(v.get("audit").unwrap().value, "");
        assert!(v.get("unlock_time").is_none());
        assert_eq!(parse_uint("+900"), Some(900));
        assert_eq!(parse_uint("9x"), None);
        assert_eq!(parse_uint(""), None);
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("--1"), None);
        assert_eq!(parse_uint("99999999999999999999999"), None);
    }
}
